//! The standalone message path: accepts from every connection of a process, many messages per
//! script call.
//!
//! Messages queue here, and one task sends whatever has queued as one script call: under light
//! load a batch is one message and adds no wait; under heavy load batches grow while the
//! previous ones are in flight. That is one round trip and one script invocation per batch
//! instead of per message. Redis's work per message stays (about 27 µs on the benchmark
//! machine, most of it the script's calls; see BENCHMARKS.md). A caller is answered only after
//! the script that holds its message has returned, so nothing is acknowledged before it is
//! stored.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{Connection, DEDUPE_MS, duplicate, outcome_unknown};
use cim_store::{Accepted, InboxLimits, NewMessage, StoreError};

/// Dedupes, checks every recipient's inbox for room, stores the body and appends to every
/// recipient's inbox, for each message of a batch in turn, atomically. Keys are computed from
/// the prefix, which only a standalone Redis allows.
///
/// ARGV: prefix, retention, the inbox limit, the per-sender limit, dedupe_ms, epoch, then per
/// message: sender, client message id, message id, sent_at, body, recipient count and the
/// recipients. Returns one array per message: `{0, "message id|sent_at"}` for a duplicate,
/// `{2, recipient}` when that recipient's inbox is full (nothing stored, no dedupe record
/// kept), `{1, seq…}` otherwise.
///
/// An inbox's `meta` hash counts its entries (`size`) and those of each sender (`s:<sender>`);
/// the acknowledgement script counts them down as it trims.
const ACCEPT_BATCH: &str = r"
local prefix, retention, max_entries, max_per_sender, dedupe_ms, epoch = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
local function key(user, kind) return prefix .. '{u:' .. user .. '}:' .. kind end
local function release(meta, field)
  if redis.call('HINCRBY', meta, field, -1) <= 0 then redis.call('HDEL', meta, field) end
end
-- Forgets the oldest entries of a full inbox whose body expired (past the retention period).
local function sweep(user)
  local meta, inbox = key(user, 'meta'), key(user, 'inbox')
  for _, member in ipairs(redis.call('ZRANGE', inbox, 0, 99)) do
    local message_id, owner = string.match(member, '^([^|]*)|(.*)$')
    if not message_id or redis.call('EXISTS', key(owner, 'msg:' .. message_id)) == 1 then return end
    redis.call('ZREM', inbox, member)
    release(meta, 'size')
    release(meta, 's:' .. owner)
  end
end
-- Every redis.call below is paid per message: the common case (a new message to an existing
-- inbox) makes six, plus one PEXPIRE per sender and batch.
local expired = {}
local results = {}
local i = 7
while i <= #ARGV do
  local sender, client_msg_id, message_id, sent_at, body = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local count = tonumber(ARGV[i + 5])
  local first = i + 6
  i = first + count
  local dedupe = key(sender, 'dedupe')
  if redis.call('HSETNX', dedupe, client_msg_id, message_id .. '|' .. sent_at) == 0 then
    table.insert(results, {0, redis.call('HGET', dedupe, client_msg_id)})
  else
    -- Room in every inbox, counted as taken; on the first full one, given back everywhere.
    local mine = 's:' .. sender
    local full = nil
    local taken = first - 1
    for j = first, first + count - 1 do
      local meta = key(ARGV[j], 'meta')
      local size = redis.call('HINCRBY', meta, 'size', 1)
      local held = redis.call('HINCRBY', meta, mine, 1)
      taken = j
      if size > max_entries or held > max_per_sender then
        sweep(ARGV[j])
        local now = redis.call('HMGET', meta, 'size', mine)
        size, held = tonumber(now[1] or '0'), tonumber(now[2] or '0')
      end
      if size > max_entries or held > max_per_sender then
        full = ARGV[j]
        break
      end
    end
    if full then
      for j = first, taken do
        local meta = key(ARGV[j], 'meta')
        release(meta, 'size')
        release(meta, mine)
      end
      -- Not accepted: a later send of the same id must be stored, not called a duplicate.
      redis.call('HDEL', dedupe, client_msg_id)
      table.insert(results, {2, full})
    else
      if not expired[sender] then
        redis.call('PEXPIRE', dedupe, dedupe_ms)
        expired[sender] = true
      end
      local result = {1}
      if count > 0 then
        redis.call('SET', key(sender, 'msg:' .. message_id), body, 'PX', retention)
      end
      local member = message_id .. '|' .. sender
      for j = first, first + count - 1 do
        local user = ARGV[j]
        local meta = key(user, 'meta')
        local next = redis.call('HINCRBY', meta, 'next', 1)
        if next == 1 then
          -- A new inbox: numbered from 1, in a new epoch.
          redis.call('HSETNX', meta, 'epoch', epoch)
          next = redis.call('HINCRBY', meta, 'next', 1)
        end
        local seq = next - 1
        redis.call('ZADD', key(user, 'inbox'), seq, member)
        table.insert(result, seq)
      end
      table.insert(results, result)
    end
  end
end
return results
";

/// Messages in one script call at most. A script blocks Redis while it runs; 256 messages
/// take about 7 ms.
const MAX_BATCH: usize = 256;

/// Body bytes in one script call at most, so a batch of large messages stays a short script.
const MAX_BATCH_BYTES: usize = 1 << 20;

/// Script calls in flight at once: while Redis runs one, the next batch is on the wire.
const MAX_IN_FLIGHT: usize = 2;

/// Messages waiting for a batch at most; senders wait beyond it.
const QUEUE: usize = 16 * 1024;

/// One message waiting for its batch.
struct Pending {
    message: NewMessage,
    body: Vec<u8>,
    reply: oneshot::Sender<Result<Accepted, StoreError>>,
}

/// The handle the store keeps; its task ends when the store is dropped.
pub(super) struct AcceptBatcher {
    queue: mpsc::Sender<Pending>,
}

/// What a batch needs besides its messages.
#[derive(Clone)]
pub(super) struct BatchTarget {
    pub(super) connection: Connection,
    pub(super) prefix: String,
    pub(super) limits: InboxLimits,
}

impl AcceptBatcher {
    /// Starts the batching task on the current Tokio runtime.
    pub(super) fn start(target: BatchTarget) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(receiver, target));
        Self { queue }
    }

    /// Accepts `message` (whose stored form is `body`) in the next batch.
    pub(super) async fn accept(&self, message: NewMessage, body: Vec<u8>) -> Result<Accepted, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the Redis accept queue has stopped".into());
        self.queue.send(Pending { message, body, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(mut queue: mpsc::Receiver<Pending>, target: BatchTarget) {
    let script = Arc::new(redis::Script::new(ACCEPT_BATCH));
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        // Waiting for a slot is when the batch grows.
        let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
        let mut bytes = first.body.len();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            let Ok(next) = queue.try_recv() else { break };
            bytes += next.body.len();
            batch.push(next);
        }
        let (script, target) = (script.clone(), target.clone());
        tokio::spawn(async move {
            let _permit = permit;
            flush(batch, &script, target).await;
        });
    }
}

/// Runs one batch's script and answers each of its callers.
async fn flush(batch: Vec<Pending>, script: &redis::Script, mut target: BatchTarget) {
    let mut invocation = script.prepare_invoke();
    invocation
        .arg(&target.prefix)
        .arg(target.limits.retention_ms)
        .arg(target.limits.max_entries)
        .arg(target.limits.max_entries_per_sender)
        .arg(DEDUPE_MS)
        .arg(super::RedisStore::new_epoch());
    let mut replies = Vec::with_capacity(batch.len());
    let mut recipients = Vec::with_capacity(batch.len());
    for Pending { message, body, reply } in batch {
        invocation
            .arg(&message.sender)
            .arg(&message.client_msg_id)
            .arg(&message.message_id)
            .arg(message.sent_at_ms)
            .arg(body)
            .arg(message.recipients.len());
        for recipient in &message.recipients {
            invocation.arg(recipient);
        }
        replies.push(reply);
        recipients.push(message.recipients);
    }
    let answer = match invocation.invoke_async::<Vec<redis::Value>>(&mut target.connection).await {
        Ok(results) if results.len() == replies.len() => Ok(results),
        Ok(results) => Err(StoreError::Unavailable(format!(
            "the accept script answered {} results for {} messages",
            results.len(),
            replies.len()
        ))),
        // The script may have run although its answer was lost: the callers learn the
        // outcome by sending again (spec CIM-7.2-9).
        Err(error) => Err(outcome_unknown(error)),
    };
    let results = match answer {
        Ok(results) => results,
        Err(error) => {
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
            return;
        }
    };
    for ((result, reply), recipients) in results.into_iter().zip(replies).zip(recipients) {
        // A caller that went away (its connection closed) still had its message stored.
        let _ = reply.send(outcome(result, recipients));
    }
}

/// One message's answer from the script.
fn outcome(result: redis::Value, recipients: Vec<String>) -> Result<Accepted, StoreError> {
    let parts: Vec<redis::Value> = redis::from_redis_value(&result)
        .map_err(|_| StoreError::Unavailable("unexpected answer from the accept script".into()))?;
    let as_u64 = |v: &redis::Value| redis::from_redis_value::<u64>(v).ok();
    match parts.first().and_then(as_u64) {
        Some(0) => Ok(duplicate(parts.get(1))),
        Some(2) => {
            let full: String = parts.get(1).and_then(|v| redis::from_redis_value(v).ok()).unwrap_or_default();
            Err(StoreError::InboxFull(full))
        }
        Some(_) => {
            let seqs = parts[1..].iter().filter_map(as_u64);
            Ok(Accepted::Stored { entries: recipients.into_iter().zip(seqs).collect() })
        }
        None => Err(StoreError::Unavailable("unexpected answer from the accept script".into())),
    }
}
