//! The Lua scripts of the message path, and the library they share.
//!
//! Every `redis.call` costs about a microsecond beyond the command itself, so the common case
//! is counted in calls: a new one-to-one message costs four (HMGET and HSET of its dedupe
//! record, XLEN and XADD of the inbox; no XLEN for the next messages to the same inbox in a
//! batch), plus the script call itself once per batch. Keys are passed in, never built in Lua.
//!
//! **Dedupe records** (spec §9.1) live in one hash per sender, `{u:<sender>}:dedupe`. A record
//! is 26 bytes: 10 bytes of the SHA-256 of the client message id, then the 16 bytes of the
//! message id (a ULID, which carries `sent_at`). Records are packed into field values, each
//! value an 8-hex-digit day number and up to 64 records. A field's name is the day's parity
//! (`0`/`1`) and the first 1–6 bytes of the digest (the first cut to 6 bits, the others to 4):
//! a sender's records of one day spread over 64 fields, and a field that fills up continues one
//! level down, in 16 fields under one more digest byte (4,096 records fit in the first level,
//! 65,536 more in the second). A lookup reads today's and yesterday's field of each
//! level with one HMGET. A field whose day is older than yesterday is dead and is replaced by
//! the next write to it, so records expire a day's worth at a time, without one expiry each:
//! every record is kept for at least 24 hours and at most about 72. The hash itself expires
//! two days after its last write. Small hashes stay listpack-encoded; large ones hold about
//! 30–40 bytes per record.
//!
//! **Inboxes** are streams, `{u:<user>}:inbox`, whose entry ids are `0-<seq>`: `XADD … 0-*`
//! numbers them 1, 2, 3… without a counter of our own. An entry's fields are `s` (sender),
//! `t` (when it was appended, ms; retention counts from there), then `d` with the Deliver itself (one-to-one, small group messages) or `r`
//! with the key of a body stored once for all recipients (`{u:<sender>}:msg:<id>`, expiring
//! after the retention period). Acknowledged entries are trimmed with `XTRIM MINID`, body and
//! all: nothing of a delivered one-to-one message outlives its acknowledgement but its dedupe
//! record.
//!
//! **Per-sender shares** (CIM-8.3-11) cost nothing while an inbox is short: an inbox of fewer
//! entries than one sender may hold cannot hold too many of one sender. Once it reaches that
//! many, `{u:<user>}:senders` counts entries per sender (built once by a scan), and is kept
//! until the inbox shrinks below half of it.

/// Shared by the scripts below. Each sets the upvalues it uses before calling.
const LIBRARY: &str = r"
-- NOW_TEXT is NOW as the caller wrote it: a Lua number passed to a command would be formatted
-- again (as a float, slowly) on every call.
local RETENTION, MAX_ENTRIES, MAX_PER_SENDER, NOW, NOW_TEXT = 0, 0, 0, 0, '0'
local RECORD, FULL = 26, 8 + 26 * 64
-- Inbox lengths this call has learnt (XLEN) and kept up to date since: a batch often holds
-- several messages for one inbox, and nothing else changes it while a script runs.
local SIZES = {}

-- Runs `command key args…` however many `args` there are, 1,000 at a time (`unpack` takes a
-- few thousand at most).
local function call_chunked(command, key, args)
  for from = 1, #args, 1000 do
    redis.call(command, key, unpack(args, from, math.min(from + 999, #args)))
  end
end

-- The message id (16 bytes) of record `rec` (10 bytes) in the packed value `v`, or nil.
local function dd_find(v, rec)
  local from = 9
  while true do
    local at = string.find(v, rec, from, true)
    if not at then return nil end
    if (at - 9) % RECORD == 0 then return string.sub(v, at + 10, at + 25) end
    from = at + 1
  end
end

-- Looks `digest` up in dedupe hash `key` for day `day` (whose fields start with `cur`) and the
-- day before (`prev`). Returns the message id bytes of a record, or nil and the field (and its
-- live value, if any) where a new record goes.
local function dd_lookup(key, digest, day, cur, prev)
  local rec = string.sub(digest, 7, 16)
  local in_cur, in_prev = true, true
  local field, value
  for level = 1, 6 do
    local path = string.sub(digest, 1, level)
    local fc, fp = cur .. path, prev .. path
    local values = redis.call('HMGET', key, fc, fp)
    local vc, vp = values[1], values[2]
    if vc and tonumber(string.sub(vc, 1, 8), 16) < day then vc = false end
    if vp and tonumber(string.sub(vp, 1, 8), 16) < day - 1 then vp = false end
    if in_cur and vc then
      local hit = dd_find(vc, rec)
      if hit then return hit end
    end
    if in_prev and vp then
      local hit = dd_find(vp, rec)
      if hit then return hit end
    end
    if in_cur and (not vc or #vc < FULL or level == 6) then
      field, value, in_cur = fc, vc, false
    end
    in_prev = in_prev and vp and #vp >= FULL
    if not in_cur and not in_prev then return nil, field, value end
  end
  return nil, field, value
end

-- Adds a record (`rec_id`: 10 digest bytes and 16 id bytes) where `dd_lookup` said.
local function dd_insert(key, field, value, day_hex, rec_id, expire_at)
  if value then
    redis.call('HSET', key, field, value .. rec_id)
  else
    redis.call('HSET', key, field, day_hex .. rec_id)
    redis.call('PEXPIREAT', key, expire_at)
  end
end

local function seq_of(id) return tonumber(string.sub(id, 3)) end

-- The seq of the last entry ever appended to `inbox`, 0 for none.
local function last_seq(inbox)
  if redis.call('EXISTS', inbox) == 0 then return 0 end
  local info = redis.call('XINFO', 'STREAM', inbox)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return seq_of(info[i + 1]) end
  end
  return 0
end

-- Entries were removed from `inbox`: `entries` as XRANGE gives them (sender in field 2).
-- Counts them out of the per-sender counts, dropped once the inbox is short again.
local function removed(inbox, senders, entries)
  if #entries == 0 or redis.call('EXISTS', senders) == 0 then return end
  local counts = {}
  for _, e in ipairs(entries) do
    local s = e[2][2]
    counts[s] = (counts[s] or 0) + 1
  end
  if redis.call('XLEN', inbox) * 2 < MAX_PER_SENDER then
    redis.call('DEL', senders)
    return
  end
  for s, n in pairs(counts) do
    if redis.call('HINCRBY', senders, s, -n) <= 0 then redis.call('HDEL', senders, s) end
  end
end

-- Removes every entry up to `seq`. Returns how many.
local function trim_through(inbox, senders, seq)
  local gone = {}
  if redis.call('EXISTS', senders) == 1 then
    gone = redis.call('XRANGE', inbox, '-', '0-' .. seq)
  end
  local n = redis.call('XTRIM', inbox, 'MINID', '0-' .. (seq + 1))
  removed(inbox, senders, gone)
  return n
end

-- Forgets the oldest entries past the retention period (read or not), up to 100. Returns the
-- inbox's length.
local function sweep(inbox, senders)
  local last = nil
  for _, e in ipairs(redis.call('XRANGE', inbox, '-', '+', 'COUNT', 100)) do
    if tonumber(e[2][4]) >= NOW - RETENTION then break end
    last = seq_of(e[1])
  end
  if last then trim_through(inbox, senders, last) end
  return redis.call('XLEN', inbox)
end

-- How many entries of `sender` the inbox holds, counting them all first if nobody has yet.
local function held_by(inbox, senders, sender)
  if redis.call('EXISTS', senders) == 0 then
    local counts = {}
    for _, e in ipairs(redis.call('XRANGE', inbox, '-', '+')) do
      local s = e[2][2]
      counts[s] = (counts[s] or 0) + 1
    end
    local args = {}
    for s, n in pairs(counts) do
      table.insert(args, s)
      table.insert(args, n)
    end
    call_chunked('HSET', senders, args)
  end
  return tonumber(redis.call('HGET', senders, sender) or '0')
end

-- The inbox's length if it has room for one more entry of `sender`, else nil.
local function room(inbox, senders, sender)
  local size = SIZES[inbox] or redis.call('XLEN', inbox)
  if size >= MAX_ENTRIES then size = sweep(inbox, senders) end
  SIZES[inbox] = size
  if size >= MAX_ENTRIES then return nil end
  if size >= MAX_PER_SENDER and held_by(inbox, senders, sender) >= MAX_PER_SENDER then
    size = sweep(inbox, senders)
    SIZES[inbox] = size
    if size >= MAX_PER_SENDER and held_by(inbox, senders, sender) >= MAX_PER_SENDER then return nil end
  end
  return size
end

-- Appends an entry to an inbox of length `size` (as `room` said); returns its seq. A new
-- inbox gets its epoch.
local function append(inbox, meta, senders, size, sender, kind, payload, epoch)
  local seq = seq_of(redis.call('XADD', inbox, '0-*', 's', sender, 't', NOW_TEXT, kind, payload))
  SIZES[inbox] = size + 1
  if seq == 1 then redis.call('HSETNX', meta, 'epoch', epoch) end
  if (size + 1) * 2 >= MAX_PER_SENDER and redis.call('EXISTS', senders) == 1 then
    redis.call('HINCRBY', senders, sender, 1)
  end
  return seq
end
";

/// The batch accept of a standalone Redis: for each message of a batch in turn, atomically,
/// dedupes, checks every recipient's inbox for room, stores the body once if it is shared,
/// and appends to every inbox.
///
/// ARGV: retention, the inbox limit, the per-sender limit, now, epoch, day, day as 8 hex
/// digits, today's and yesterday's parity, the dedupe hash's expiry; then per message: dedupe
/// key, digest (16 bytes), message id (16 bytes), sender, entry kind (`d`, `r`, or
/// empty for a broadcast), payload, shared body (for `r`), recipient count, and per recipient
/// its inbox, meta and senders keys. Returns one array per message: `{0, id bytes}` for a
/// duplicate, `{2, i}` when recipient `i` (from 1) has no room (nothing stored, no dedupe
/// record kept), `{1, seq…}` otherwise.
const ACCEPT_BATCH: &str = r"
RETENTION, MAX_ENTRIES, MAX_PER_SENDER, NOW = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
NOW_TEXT = ARGV[4]
local epoch, day, day_hex, cur, prev, expire_at = ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local results = {}
local i = 11
while i <= #ARGV do
  local dedupe, digest, id, sender, kind, payload, body =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local count = tonumber(ARGV[i + 7])
  local first = i + 8
  i = first + 3 * count
  local hit, field, value = dd_lookup(dedupe, digest, day, cur, prev)
  if hit then
    table.insert(results, {0, hit})
  else
    local sizes, full = {}, nil
    for r = 1, count do
      local at = first + 3 * (r - 1)
      local size = room(ARGV[at], ARGV[at + 2], sender)
      if not size then
        full = r
        break
      end
      sizes[r] = size
    end
    if full then
      table.insert(results, {2, full})
    else
      dd_insert(dedupe, field, value, day_hex, string.sub(digest, 7, 16) .. id, expire_at)
      if kind == 'r' then redis.call('SET', payload, body, 'PX', RETENTION) end
      local result = {1}
      for r = 1, count do
        local at = first + 3 * (r - 1)
        table.insert(result, append(ARGV[at], ARGV[at + 1], ARGV[at + 2], sizes[r], sender, kind, payload, epoch))
      end
      table.insert(results, result)
    end
  end
end
return results
";

/// Looks a dedupe record up. KEYS: the dedupe hash; ARGV: digest, day, today's and
/// yesterday's parity. Returns the message id bytes or nil.
const SEEN: &str = r"
local hit = dd_lookup(KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4])
return hit
";

/// Redis Cluster, step one, on the sender's slot, for several messages of one sender in
/// order: dedupe each, store its shared body if it has one, and note it as pending until its
/// appends are done (`COMPLETE`). KEYS: the dedupe hash, the pending hash; ARGV: day, day hex,
/// today's and yesterday's parity, expiry, retention, then per message its digest, id bytes,
/// body key and body (both empty without a shared body). Returns per message `{1}` when
/// reserved, `{0, id bytes, pending}` for a duplicate: `pending` 1 when the first try's
/// appends may not all be done (it is still in flight, or was interrupted), and the pending
/// record then says that a retry is at work, so that the first try leaves its markers.
const RESERVE: &str = r"
local dedupe, pending, day, day_hex, cur, prev, expire_at, retention =
  KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
-- The pending records this call writes (id, state, …), and where each id's state is.
local results, fresh, state_at = {}, {}, {}
for i = 7, #ARGV, 4 do
  local digest, id, body_key, body = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local hit, field, value = dd_lookup(dedupe, digest, day, cur, prev)
  if hit then
    local in_flight = 0
    if state_at[hit] then
      in_flight = 1
      fresh[state_at[hit]] = 'r'
    elseif redis.call('HEXISTS', pending, hit) == 1 then
      in_flight = 1
      redis.call('HSET', pending, hit, 'r')
    end
    table.insert(results, {0, hit, in_flight})
  else
    dd_insert(dedupe, field, value, day_hex, string.sub(digest, 7, 16) .. id, expire_at)
    if body_key ~= '' then redis.call('SET', body_key, body, 'PX', retention) end
    table.insert(fresh, id)
    table.insert(fresh, '')
    state_at[id] = #fresh
    table.insert(results, {1})
  end
end
if #fresh > 0 then
  call_chunked('HSET', pending, fresh)
  redis.call('PEXPIREAT', pending, expire_at)
end
return results
";

/// Redis Cluster, after step two, on the sender's slot: the sends `ARGV` (id bytes) have all
/// their entries appended. KEYS: the pending hash. Returns per send 1 when no retry touched
/// it (its `appended` markers can go), else 0.
const COMPLETE: &str = r"
local pending = KEYS[1]
local states = redis.call('HMGET', pending, unpack(ARGV))
redis.call('HDEL', pending, unpack(ARGV))
local clean = {}
for i = 1, #ARGV do
  if states[i] == '' then clean[i] = 1 else clean[i] = 0 end
end
return clean
";

/// Redis Cluster, before step one, on a recipient's slot: how many of `n` more entries of
/// the sender the inbox has room for. Racing senders may pass the limits by a few.
/// KEYS: inbox, senders; ARGV: sender, retention, the limits, now, n.
const ROOM: &str = r"
RETENTION, MAX_ENTRIES, MAX_PER_SENDER, NOW = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local inbox, senders, sender, n = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[6])
local size = room(inbox, senders, sender)
if not size then return 0 end
local fit = math.min(n, MAX_ENTRIES - size)
if size + fit > MAX_PER_SENDER then
  local held
  if size * 2 < MAX_PER_SENDER then
    -- A short inbox keeps no counts (`append` would not update them): count, keep nothing.
    held = 0
    for _, e in ipairs(redis.call('XRANGE', inbox, '-', '+')) do
      if e[2][2] == sender then held = held + 1 end
    end
  else
    held = held_by(inbox, senders, sender)
  end
  fit = math.min(fit, MAX_PER_SENDER - held)
end
if fit < 0 then return 0 end
return fit
";

/// Redis Cluster, step two, on a recipient's slot: append entries in order, each once.
/// `appended` remembers the messages appended lately, so that the retry of a send
/// interrupted between the steps does not append twice. KEYS: inbox, meta, senders,
/// appended; ARGV: epoch, dedupe window, the per-sender limit, now, then per entry
/// `message id|sender`, sent_at, sender, kind and payload. Returns each entry's seq (also of
/// an entry appended before, while among the newest), or 0 for one appended before and no
/// longer found.
const APPEND: &str = r"
MAX_PER_SENDER, NOW, NOW_TEXT = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[4]
local inbox, meta, senders, appended = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local epoch, window = ARGV[1], tonumber(ARGV[2])
local seqs, added, marks, newest = {}, {}, {}, nil
for i = 5, #ARGV, 5 do
  local member, sent_at, sender, kind, payload = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local seq = 0
  if added[member] or redis.call('ZSCORE', appended, member) then
    -- Appended before: by a retry racing this very send, or by an earlier try. Its entry,
    -- if still held, is among the newest.
    local message_id = string.match(member, '^([^|]*)|')
    for _, e in ipairs(redis.call('XREVRANGE', inbox, '+', '-', 'COUNT', 256)) do
      if e[2][2] == sender and string.find(e[2][6], message_id, 1, true) then
        seq = seq_of(e[1])
        break
      end
    end
  else
    seq = append(inbox, meta, senders, SIZES[inbox] or redis.call('XLEN', inbox), sender, kind, payload, epoch)
    added[member] = true
    table.insert(marks, sent_at)
    table.insert(marks, member)
    if not newest or sent_at > newest then newest = sent_at end
  end
  table.insert(seqs, seq)
end
if newest then
  call_chunked('ZADD', appended, marks)
  redis.call('ZREMRANGEBYSCORE', appended, '-inf', newest - window)
  redis.call('PEXPIRE', appended, window)
end
return seqs
";

/// An inbox's epoch, first retained seq and next seq. KEYS: meta, inbox; ARGV: the epoch of a
/// new inbox.
const HEAD: &str = r"
local meta, inbox = KEYS[1], KEYS[2]
redis.call('HSETNX', meta, 'epoch', ARGV[1])
local epoch = redis.call('HGET', meta, 'epoch')
local next_seq = last_seq(inbox) + 1
local first = redis.call('XRANGE', inbox, '-', '+', 'COUNT', 1)
local first_seq = next_seq
if first[1] then first_seq = seq_of(first[1][1]) end
return {epoch, first_seq, next_seq}
";

/// A device acknowledges entries up to a seq; entries every known device acknowledged are
/// trimmed. KEYS: positions, inbox, senders; ARGV: device, seq, the per-sender limit.
/// Returns the lowest position.
const ACK: &str = r"
local positions, inbox, senders = KEYS[1], KEYS[2], KEYS[3]
local device, up_to = ARGV[1], tonumber(ARGV[2])
MAX_PER_SENDER = tonumber(ARGV[3])
local current = redis.call('HGET', positions, device)
-- Not past the newest entry: what was never delivered cannot be acknowledged. With none left
-- (all trimmed), a position does not move, as there is nothing to trim.
local newest = redis.call('XREVRANGE', inbox, '+', '-', 'COUNT', 1)
local last = tonumber(current or '0')
if newest[1] then last = seq_of(newest[1][1]) end
if up_to > last then up_to = last end
-- A device becomes known with its first ack, even of 0, and never moves back.
if not current or up_to > tonumber(current) then redis.call('HSET', positions, device, up_to) end
local lowest = nil
for _, value in ipairs(redis.call('HVALS', positions)) do
  local seq = tonumber(value)
  if lowest == nil or seq < lowest then lowest = seq end
end
if lowest and lowest > 0 then trim_through(inbox, senders, lowest) end
return lowest
";

/// Removes entries past the retention period found while reading. KEYS: inbox, senders;
/// ARGV: the per-sender limit, then the entries' seqs.
const FORGET: &str = r"
local inbox, senders = KEYS[1], KEYS[2]
MAX_PER_SENDER = tonumber(ARGV[1])
local gone = {}
for k = 2, #ARGV do
  local entry = redis.call('XRANGE', inbox, '0-' .. ARGV[k], '0-' .. ARGV[k])
  if entry[1] then
    redis.call('XDEL', inbox, '0-' .. ARGV[k])
    table.insert(gone, entry[1])
  end
end
removed(inbox, senders, gone)
return #gone
";

/// An `EVALSHA` of `script` with `keys` declared (a Redis Cluster routes the call by them; the
/// standalone message path declares none and passes its keys among the arguments), room made
/// for `args` more arguments of about `bytes` bytes in all. A `redis::ScriptInvocation` keeps
/// each argument in a vector of its own and copies them all into a command to send; this
/// writes them once.
pub(crate) fn evalsha(script: &redis::Script, keys: &[&str], args: usize, bytes: usize) -> redis::Cmd {
    let mut command = redis::Cmd::with_capacity(3 + keys.len() + args, 64 + bytes + 24 * args);
    command.arg("EVALSHA").arg(script.get_hash()).arg(keys.len());
    for key in keys {
        command.arg(*key);
    }
    command
}

/// Runs `command`, an [`evalsha`] of `script`, loading the script first if this Redis does
/// not have it (after a restart or a `SCRIPT FLUSH`).
pub(crate) async fn run<T: redis::FromRedisValue>(
    script: &redis::Script,
    command: &redis::Cmd,
    connection: &mut impl redis::aio::ConnectionLike,
) -> redis::RedisResult<T> {
    match command.query_async(connection).await {
        Err(error) if error.kind() == redis::ErrorKind::NoScriptError => {
            script.load_async(connection).await?;
            command.query_async(connection).await
        }
        answer => answer,
    }
}

/// The scripts, each with the library in front.
pub(crate) struct Scripts {
    pub(crate) accept_batch: redis::Script,
    pub(crate) seen: redis::Script,
    pub(crate) reserve: redis::Script,
    pub(crate) room: redis::Script,
    pub(crate) append: redis::Script,
    pub(crate) complete: redis::Script,
    pub(crate) head: redis::Script,
    pub(crate) ack: redis::Script,
    pub(crate) forget: redis::Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let script = |body: &str| redis::Script::new(&format!("{LIBRARY}{body}"));
        Self {
            accept_batch: script(ACCEPT_BATCH),
            seen: script(SEEN),
            reserve: script(RESERVE),
            room: script(ROOM),
            append: script(APPEND),
            complete: script(COMPLETE),
            head: script(HEAD),
            ack: script(ACK),
            forget: script(FORGET),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The dedupe records' layout, with days and digests chosen by the test.

    use cim_store::testsuite::RedisServer;
    use redis::aio::MultiplexedConnection;

    use super::Scripts;
    use crate::dedupe::Day;

    const DAY_MS: u64 = 24 * 60 * 60 * 1000;

    struct Dedupe {
        scripts: Scripts,
        conn: MultiplexedConnection,
    }

    impl Dedupe {
        async fn new(redis: &RedisServer) -> Self {
            let client = redis::Client::open(redis.url.as_str()).expect("url");
            Self {
                scripts: Scripts::new(),
                conn: client.get_multiplexed_async_connection().await.expect("redis"),
            }
        }

        /// Reserves `digest` for message id `id` on day `day`; returns the id of an earlier
        /// record if there is one.
        async fn reserve(&mut self, day: u64, digest: [u8; 16], id: [u8; 16]) -> Option<Vec<u8>> {
            let day = Day::at(day * DAY_MS);
            let answer: Vec<Vec<redis::Value>> = self
                .scripts
                .reserve
                .key("{u:a}:dedupe")
                .key("{u:a}:pending")
                .arg(day.number)
                .arg(&day.hex)
                .arg(day.parity)
                .arg(day.previous_parity)
                .arg(day.expire_at_ms)
                .arg(1000)
                .arg(&digest[..])
                .arg(&id[..])
                .arg("")
                .arg("")
                .invoke_async(&mut self.conn)
                .await
                .expect("reserve");
            match answer.as_slice() {
                [one] => match one.as_slice() {
                    [redis::Value::Int(1)] => None,
                    [redis::Value::Int(0), seen, _] => Some(redis::from_redis_value(seen).expect("bytes")),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            }
        }

        async fn seen(&mut self, day: u64, digest: [u8; 16]) -> Option<Vec<u8>> {
            let day = Day::at(day * DAY_MS);
            self.scripts
                .seen
                .key("{u:a}:dedupe")
                .arg(&digest[..])
                .arg(day.number)
                .arg(day.parity)
                .arg(day.previous_parity)
                .invoke_async(&mut self.conn)
                .await
                .expect("seen")
        }
    }

    /// A digest with first byte `field` (of 64) and the rest from `n`.
    fn digest(field: u8, n: u64) -> [u8; 16] {
        let mut digest = [0u8; 16];
        digest[0] = field;
        // Spread `n` over the bytes the deeper levels use, and over the record's own.
        let spread = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        digest[1..9].copy_from_slice(&spread.to_be_bytes());
        digest[9..15].copy_from_slice(&n.to_be_bytes()[2..]);
        crate::dedupe::cut_to_levels(&mut digest);
        digest
    }

    /// Days from now on: a hash that expires in the past is gone at once.
    fn today() -> u64 {
        cim_store::now_ms() / DAY_MS
    }

    fn id(n: u64) -> [u8; 16] {
        u128::from(n).to_be_bytes()
    }

    #[tokio::test]
    async fn a_full_field_continues_a_level_down_and_every_record_is_found() {
        let redis = RedisServer::start();
        let mut dedupe = Dedupe::new(&redis).await;
        // 64 records fill a field; 1,200 with one first byte take three levels.
        for n in 0..1200 {
            assert_eq!(dedupe.reserve(today(), digest(7, n), id(n)).await, None, "{n} is new");
        }
        let fields: Vec<Vec<u8>> =
            redis::cmd("HKEYS").arg("{u:a}:dedupe").query_async(&mut dedupe.conn).await.expect("hkeys");
        // A field's name: the day's parity, then one byte per level.
        let deepest = fields.iter().filter(|field| field.len() == 4).count();
        assert!(deepest > 0, "the third level holds records");
        for n in 0..1200 {
            assert_eq!(dedupe.seen(today(), digest(7, n)).await, Some(id(n).to_vec()), "{n} is found");
            assert_eq!(dedupe.reserve(today(), digest(7, n), id(n + 1000)).await, Some(id(n).to_vec()));
        }
        assert_eq!(dedupe.seen(today(), digest(7, 1200)).await, None);
        assert_eq!(dedupe.seen(today(), digest(8, 0)).await, None, "another field");
    }

    #[tokio::test]
    async fn records_are_kept_the_next_day_and_replaced_the_day_after() {
        let redis = RedisServer::start();
        let mut dedupe = Dedupe::new(&redis).await;
        for n in 0..100 {
            dedupe.reserve(today(), digest(1, n), id(n)).await;
        }
        assert_eq!(dedupe.seen(today(), digest(1, 5)).await, Some(id(5).to_vec()));
        assert_eq!(dedupe.seen(today() + 1, digest(1, 5)).await, Some(id(5).to_vec()), "24 hours later");
        // A server whose clock is a day behind still finds them.
        assert_eq!(dedupe.seen(today() - 1, digest(1, 5)).await, Some(id(5).to_vec()));
        assert_eq!(dedupe.seen(today() + 2, digest(1, 5)).await, None, "gone after the next day");
        // The next write to the dead field replaces it whole.
        assert_eq!(dedupe.reserve(today() + 2, digest(1, 5), id(500)).await, None);
        let value: Vec<u8> = redis::cmd("HGET")
            .arg("{u:a}:dedupe")
            .arg(&[Day::at((today() + 2) * DAY_MS).parity.as_bytes()[0], 1][..])
            .query_async(&mut dedupe.conn)
            .await
            .expect("hget");
        assert_eq!(value.len(), 8 + 26, "one record, under the new day: {:?}", &value[..8]);
        assert_eq!(&value[..8], format!("{:08x}", today() + 2).as_bytes());
        let ttl: i64 =
            redis::cmd("PTTL").arg("{u:a}:dedupe").query_async(&mut dedupe.conn).await.expect("pttl");
        assert!(ttl > 0, "the hash expires");
    }

    /// The layout's reason to be: a day of one sender's records costs Redis less than 64
    /// bytes each, where one hash field per record costs about 90.
    #[tokio::test]
    async fn a_record_costs_less_than_64_bytes() {
        let redis = RedisServer::start();
        let mut dedupe = Dedupe::new(&redis).await;
        let records = 10_000;
        for n in 0..records {
            let field = (n % 64) as u8;
            dedupe.reserve(today(), digest(field, n), id(n)).await;
        }
        let bytes: u64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("{u:a}:dedupe")
            .arg("SAMPLES")
            .arg(0)
            .query_async(&mut dedupe.conn)
            .await
            .expect("memory usage");
        let per_record = bytes / records;
        assert!(per_record < 64, "{per_record} bytes per record");
    }
}
