//! The Redis `Store`: state shared by every route and server of a cluster, on a standalone
//! Redis or a Redis Cluster (detected when connecting).
//!
//! Key layout (all under a prefix, `cim:` by default). Everything of one user carries the
//! hash tag `{u:<user>}`, so it lives in one Redis Cluster slot and one script can touch it:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{u:<user>}:account` | hash | `name`, `gen` (generation), `hash` (password accounts only) |
//! | `users` | zset (score 0) | `name\0user id`, for prefix search by name |
//! | `{u:<user>}:sessions` | hash | session id → JSON record (with its expiry) |
//! | `online` | zset (score 0) | users with at least one session |
//! | `{s:<server>}:sessions` | set | `user\nsession` of a server's sessions |
//! | `ended:<login>` | string, expiring | logins ended by logout |
//! | `rate:<counter>` | string, expiring | a rate counter's count in its current window |
//! | `{u:<sender>}:dedupe` | hash, expiring | client message ids accepted lately, packed (`lua.rs`) |
//! | `{u:<sender>}:msg:<message id>` | string, expiring | a body shared by a group's inboxes: the Deliver (without seq), protobuf |
//! | `{u:<user>}:inbox` | stream | entries `0-<seq>`: sender, sent_at, the Deliver or its shared body's key |
//! | `{u:<user>}:meta` | hash | `epoch` |
//! | `{u:<user>}:senders` | hash | entries per sender, while the inbox is long (`lua.rs`) |
//! | `{u:<user>}:pos` | hash | device → acknowledged seq |
//! | `{u:<user>}:appended` | zset, expiring | markers of sends appended and not yet complete (Redis Cluster only) |
//! | `{u:<sender>}:pending` | hash, expiring | id → `` or `r` (a retry came): sends reserved, not yet appended everywhere (Redis Cluster only) |
//! | `{g:<group>}:members` / `{u:<user>}:groups` | set | members / group ids |
//!
//! The message path on a standalone Redis is one round trip: a Lua script dedupes, checks for
//! room and appends to every recipient's inbox atomically, for a batch of messages from all
//! connections at once (`batcher`). On a Redis Cluster the recipients' inboxes live on other
//! nodes, so it takes two: a script on the sender's slot dedupes (and stores a shared body),
//! then one script per recipient (sent together) appends, idempotently, so a send retried
//! after a crash between the two steps completes the appends without doubling any.
#![forbid(unsafe_code)]

use std::time::Duration;

use async_trait::async_trait;
use cim_core::wire;
use futures_util::future::try_join_all;
use prost::Message;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;

use cim_store::now_ms;
use cim_store::{
    Accepted, AccountStore, GroupRecord, GroupStore, InboxHead, InboxLimits, InboxStore, NewMessage,
    OnlinePage, PresenceStore, RateCount, RateStore, SessionRecord, Store, StoreError, UserRecord,
};

mod batcher;
mod cluster_path;
mod dedupe;
mod lua;

use batcher::{AcceptBatcher, BatchTarget};
use dedupe::Day;

/// How long a Redis Cluster inbox remembers the messages appended to it, so that a retried
/// send appends once (spec §9.1: the dedupe window).
const APPENDED_MS: u64 = 24 * 60 * 60 * 1000;

/// A Deliver up to this size is stored in each recipient's inbox entry; a larger one for
/// several recipients is stored once, and the entries name it.
const INLINE_BODY: usize = 256;

/// Creates an account unless its id is taken, all its fields at once: a password account is
/// never seen without its hash (it would pass for an account of a JWT login).
/// Logout of all devices: the account's `out` time only moves forward, and only an existing
/// account gets one.
const LOG_OUT_EVERYWHERE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local out = tonumber(redis.call('HGET', KEYS[1], 'out') or '0')
if tonumber(ARGV[1]) > out then redis.call('HSET', KEYS[1], 'out', ARGV[1]) end
return 1
";

const CREATE_USER: &str = r"
if redis.call('HSETNX', KEYS[1], 'name', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'gen', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'hash', ARGV[3]) end
return 1
";

/// Counts one event on a rate counter, starting its window with the first.
const RATE_HIT: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

/// Takes back one event of a rate counter whose window still runs.
const RATE_UNDO: &str = r"
if redis.call('PTTL', KEYS[1]) > 0 and tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
end
return 1
";

/// A rate counter's count and time left, without counting.
const RATE_COUNT: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return {0, 0} end
return {count, ttl}
";

/// Creates a group's member set unless the group exists.
const CREATE_GROUP: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SADD', KEYS[1], unpack(ARGV))
return 1
";

/// One multiplexed connection that reconnects by itself, to a standalone Redis or a cluster.
#[derive(Clone)]
enum Connection {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl redis::aio::ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Self::Standalone(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Standalone(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Standalone(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// State in Redis.
pub struct RedisStore {
    url: String,
    keys: Keys,
    connection: Connection,
    limits: InboxLimits,
    /// The standalone message path; `None` on a Redis Cluster.
    batcher: Option<AcceptBatcher>,
    scripts: lua::Scripts,
    create_user: redis::Script,
    log_out_everywhere: redis::Script,
    create_group: redis::Script,
    rate_hit: redis::Script,
    rate_undo: redis::Script,
    rate_count: redis::Script,
}

/// Key names, under a prefix.
#[derive(Clone, Debug)]
struct Keys {
    prefix: String,
}

impl Keys {
    /// A key of `user`'s, in the user's slot.
    fn user(&self, user: &str, kind: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + user.len() + kind.len() + 5);
        self.write_user(&mut key, user, kind);
        key
    }

    /// [`user`](Self::user), written over `key` (which keeps its allocation).
    fn write_user(&self, key: &mut String, user: &str, kind: &str) {
        key.clear();
        key.push_str(&self.prefix);
        key.push_str("{u:");
        key.push_str(user);
        key.push_str("}:");
        key.push_str(kind);
    }
}

/// A message as the scripts take it.
struct StoredMessage {
    sender: String,
    recipients: Vec<String>,
    digest: [u8; 16],
    id_bytes: [u8; 16],
    entry: Entry,
}

impl StoredMessage {
    /// Bytes it adds to a script call, roughly.
    fn size(&self) -> usize {
        self.entry.payload().len() + self.entry.shared_body().len() + 64 * (1 + self.recipients.len())
    }
}

/// What an inbox entry holds besides its sender and time.
enum Entry {
    /// A broadcast: no entry, only the dedupe record.
    None,
    /// The Deliver itself.
    Inline(Vec<u8>),
    /// The key of a body stored once, and the body.
    Shared { key: String, body: Vec<u8> },
}

impl Entry {
    fn kind(&self) -> &'static str {
        match self {
            Self::None => "",
            Self::Inline(_) => "d",
            Self::Shared { .. } => "r",
        }
    }

    fn payload(&self) -> &[u8] {
        match self {
            Self::None => b"",
            Self::Inline(deliver) => deliver,
            Self::Shared { key, .. } => key.as_bytes(),
        }
    }

    fn shared_body(&self) -> &[u8] {
        match self {
            Self::Shared { body, .. } => body,
            _ => b"",
        }
    }
}

/// Fail fast while Redis is away: a call gets an error within about two seconds (the
/// caller answers UNAVAILABLE, which clients retry) instead of waiting on a long reconnect
/// schedule, and the manager keeps trying to reconnect in the background.
fn manager_config() -> redis::aio::ConnectionManagerConfig {
    redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(1))
        .set_response_timeout(Duration::from_secs(2))
        .set_number_of_retries(2)
        .set_factor(100)
        .set_max_delay(500)
}

fn unavailable(error: redis::RedisError) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

/// A failed call that changes state: refused connections never reached Redis, anything else
/// (a timeout, a connection lost mid-call) may have been carried out.
fn outcome_unknown(error: redis::RedisError) -> StoreError {
    if error.is_connection_refusal() {
        StoreError::Unavailable(error.to_string())
    } else {
        StoreError::OutcomeUnknown(error.to_string())
    }
}

/// Presence records refreshed together (see `refresh_sessions`).
const REFRESH_CHUNK: usize = 256;

impl RedisStore {
    /// Refreshes one chunk of presence records, its commands in flight together.
    async fn refresh_chunk(&self, sessions: &[SessionRecord]) -> Result<(), StoreError> {
        let online = self.global_key("online");
        let writes = sessions.iter().map(|session| {
            let mut conn = self.conn();
            let sessions_key = self.user_key(&session.user_id, "sessions");
            let server_key = self.server_key(&session.server_id);
            let online = online.clone();
            async move {
                let _: () = conn.hset(sessions_key, &session.session_id, session_json(session)).await?;
                let _: () = conn.zadd(online, &session.user_id, 0).await?;
                conn.sadd::<_, _, ()>(server_key, format!("{}\n{}", session.user_id, session.session_id))
                    .await
            }
        });
        try_join_all(writes).await.map_err(unavailable)?;
        Ok(())
    }

    /// Connects to `url` (`redis://host:port`; for a Redis Cluster any node, or several
    /// separated by commas), with keys under `prefix`. Fails with a clear message when Redis
    /// cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, prefix, InboxLimits::default()).await
    }

    /// [`connect`](Self::connect), with inboxes bounded by `limits`.
    pub async fn connect_with(url: &str, prefix: &str, limits: InboxLimits) -> Result<Self, StoreError> {
        let unreachable =
            |reason: String| StoreError::Unavailable(format!("cannot reach Redis at {url}: {reason}"));
        let seeds: Vec<&str> = url.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        let first = *seeds.first().ok_or_else(|| unreachable("no address given".into()))?;
        let client =
            redis::Client::open(first).map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?;
        // One plain attempt first: it fails fast, with the real reason (connection refused…),
        // and tells a cluster node from a standalone server.
        let probe = async {
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("INFO").arg("cluster").query_async::<String>(&mut conn).await
        };
        let info = match tokio::time::timeout(Duration::from_secs(5), probe).await {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => return Err(unreachable(e.to_string().to_lowercase())),
            Err(_) => return Err(unreachable("timed out".into())),
        };
        let connection = if info.contains("cluster_enabled:1") {
            let cluster = redis::cluster::ClusterClientBuilder::new(seeds)
                .connection_timeout(Duration::from_secs(1))
                .response_timeout(Duration::from_secs(2))
                .retries(2)
                .build()
                .map_err(|e| unreachable(e.to_string()))?;
            let connection = tokio::time::timeout(Duration::from_secs(5), cluster.get_async_connection())
                .await
                .map_err(|_| unreachable("timed out".into()))?
                .map_err(|e| unreachable(e.to_string()))?;
            Connection::Cluster(connection)
        } else {
            let manager = ConnectionManager::new_with_config(client, manager_config());
            let connection = tokio::time::timeout(Duration::from_secs(5), manager)
                .await
                .map_err(|_| unreachable("timed out".into()))?
                .map_err(|e| unreachable(e.to_string()))?;
            Connection::Standalone(connection)
        };
        let keys = Keys { prefix: prefix.to_owned() };
        let scripts = lua::Scripts::new();
        let batcher = match &connection {
            Connection::Standalone(_) => Some(AcceptBatcher::start(BatchTarget {
                connection: connection.clone(),
                keys: keys.clone(),
                limits,
                script: scripts.accept_batch.clone(),
            })),
            Connection::Cluster(_) => None,
        };
        Ok(Self {
            url: url.to_owned(),
            keys,
            connection,
            limits,
            batcher,
            scripts,
            create_user: redis::Script::new(CREATE_USER),
            log_out_everywhere: redis::Script::new(LOG_OUT_EVERYWHERE),
            rate_hit: redis::Script::new(RATE_HIT),
            rate_undo: redis::Script::new(RATE_UNDO),
            rate_count: redis::Script::new(RATE_COUNT),
            create_group: redis::Script::new(CREATE_GROUP),
        })
    }

    /// Whether this store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.connection, Connection::Cluster(_))
    }

    /// A key of `user`'s, in the user's slot.
    fn user_key(&self, user: &str, kind: &str) -> String {
        self.keys.user(user, kind)
    }

    fn group_key(&self, group: &str) -> String {
        format!("{}{{g:{group}}}:members", self.keys.prefix)
    }

    fn server_key(&self, server: &str) -> String {
        format!("{}{{s:{server}}}:sessions", self.keys.prefix)
    }

    fn global_key(&self, name: &str) -> String {
        format!("{}{name}", self.keys.prefix)
    }

    fn conn(&self) -> Connection {
        self.connection.clone()
    }

    /// A new inbox's epoch: the wall clock, so an inbox recreated after data loss never
    /// reuses an old epoch.
    fn new_epoch() -> u64 {
        now_ms().max(1)
    }

    async fn group_record(&self, group_id: &str) -> Result<Option<GroupRecord>, StoreError> {
        let mut members: Vec<String> =
            self.conn().smembers(self.group_key(group_id)).await.map_err(unavailable)?;
        if members.is_empty() {
            return Ok(None);
        }
        members.sort();
        Ok(Some(GroupRecord { group_id: group_id.to_owned(), members }))
    }

    /// The acceptance of a client message id (by its digest) that `sender` sent before.
    async fn seen(&self, sender: &str, digest: &[u8; 16], day: &Day) -> Result<Option<Accepted>, StoreError> {
        let seen: Option<Vec<u8>> = self
            .scripts
            .seen
            .key(self.user_key(sender, "dedupe"))
            .arg(&digest[..])
            .arg(day.number)
            .arg(day.parity)
            .arg(day.previous_parity)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        seen.map(|bytes| duplicate(Some(&redis::Value::BulkString(bytes)))).transpose()
    }

    /// Removes the entries `seqs` of `user`'s inbox (past the retention period).
    async fn forget(&self, user: &str, seqs: &[u64]) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        let mut invocation = self.scripts.forget.prepare_invoke();
        invocation
            .key(self.user_key(user, "inbox"))
            .key(self.user_key(user, "senders"))
            .arg(self.limits.max_entries_per_sender)
            .arg(seqs);
        invocation.invoke_async::<()>(&mut self.conn()).await.map_err(unavailable)
    }

    /// The message as the scripts take it.
    fn stored(&self, message: NewMessage) -> Result<StoredMessage, StoreError> {
        let id_bytes = cim_core::ulid::to_bytes(&message.message_id).ok_or_else(|| {
            StoreError::Unavailable(format!("message id {} is not a ULID", message.message_id))
        })?;
        let deliver = || message.deliver(0).encode_to_vec();
        let entry = match message.recipients.len() {
            0 => Entry::None,
            1 => Entry::Inline(deliver()),
            _ => {
                let body = deliver();
                if body.len() <= INLINE_BODY {
                    Entry::Inline(body)
                } else {
                    let key = self.user_key(&message.sender, &format!("msg:{}", message.message_id));
                    Entry::Shared { key, body }
                }
            }
        };
        Ok(StoredMessage {
            digest: dedupe::digest(&message.client_msg_id),
            sender: message.sender,
            recipients: message.recipients,
            id_bytes,
            entry,
        })
    }
}

/// The answer for a client message id seen before: the 16 bytes of its message id.
fn duplicate(seen: Option<&redis::Value>) -> Result<Accepted, StoreError> {
    let bytes: Vec<u8> = seen.and_then(|v| redis::from_redis_value(v).ok()).unwrap_or_default();
    let bytes: [u8; 16] = bytes
        .try_into()
        .map_err(|_| StoreError::Unavailable("a dedupe record without a message id".into()))?;
    let (message_id, sent_at_ms) = cim_core::ulid::from_bytes(bytes);
    Ok(Accepted::Duplicate { message_id, sent_at_ms })
}

fn session_json(session: &SessionRecord) -> String {
    serde_json::json!({
        "session_id": session.session_id, "user_id": session.user_id, "device_id": session.device_id,
        "server_id": session.server_id, "connected_at_ms": session.connected_at_ms,
        "expires_at_ms": session.expires_at_ms,
    })
    .to_string()
}

fn session_from_json(text: &str) -> Option<SessionRecord> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let field = |name: &str| value[name].as_str().map(str::to_owned);
    Some(SessionRecord {
        session_id: field("session_id")?,
        user_id: field("user_id")?,
        device_id: field("device_id")?,
        server_id: field("server_id")?,
        connected_at_ms: value["connected_at_ms"].as_u64().unwrap_or(0),
        expires_at_ms: value["expires_at_ms"].as_u64().unwrap_or(0),
    })
}

#[async_trait]
impl AccountStore for RedisStore {
    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError> {
        let created: u64 = self
            .create_user
            .key(self.user_key(&user.user_id, "account"))
            .arg(&user.user_name)
            .arg(user.generation)
            .arg(user.password_hash.as_deref().unwrap_or(""))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if created == 0 {
            return Err(StoreError::AlreadyExists(format!("user {}", user.user_id)));
        }
        let member = format!("{}\0{}", user.user_name, user.user_id);
        let _: () = self.conn().zadd(self.global_key("users"), member, 0).await.map_err(unavailable)?;
        Ok(())
    }

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        let (name, hash, generation, out): (Option<String>, Option<String>, Option<u64>, Option<u64>) = self
            .conn()
            .hget(self.user_key(user_id, "account"), &["name", "hash", "gen", "out"])
            .await
            .map_err(unavailable)?;
        Ok(name.map(|user_name| UserRecord {
            user_id: user_id.to_owned(),
            user_name,
            password_hash: hash.filter(|h| !h.is_empty()),
            generation: generation.unwrap_or(0),
            logged_out_at_ms: out.unwrap_or(0),
        }))
    }

    async fn log_out_everywhere(&self, user_id: &str, at_ms: u64) -> Result<(), StoreError> {
        let _: u64 = self
            .log_out_everywhere
            .key(self.user_key(user_id, "account"))
            .arg(at_ms)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn users_by_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<UserRecord>, StoreError> {
        let members: Vec<String> = redis::cmd("ZRANGEBYLEX")
            .arg(self.global_key("users"))
            .arg(format!("[{prefix}"))
            .arg(format!("[{prefix}\u{10ffff}"))
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        // `name\0id`; accounts created before ids and names could differ hold the name only.
        let ids = members.iter().map(|member| member.split_once('\0').map_or(member.as_str(), |(_, id)| id));
        let users = try_join_all(ids.map(|id| self.user(id))).await?;
        Ok(users.into_iter().flatten().collect())
    }

    async fn end_login(&self, login_id: &str, until_ms: u64) -> Result<(), StoreError> {
        // No token lives longer than a year; Redis refuses absurd expiries.
        let ttl = until_ms.saturating_sub(now_ms()).clamp(1, 366 * 24 * 60 * 60 * 1000);
        let key = self.global_key(&format!("ended:{login_id}"));
        let _: () = self.conn().pset_ex(key, 1, ttl).await.map_err(unavailable)?;
        Ok(())
    }

    async fn is_login_ended(&self, login_id: &str) -> Result<bool, StoreError> {
        self.conn().exists(self.global_key(&format!("ended:{login_id}"))).await.map_err(unavailable)
    }
}

#[async_trait]
impl PresenceStore for RedisStore {
    async fn add_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        self.refresh_sessions(vec![session]).await
    }

    async fn refresh_sessions(&self, sessions: Vec<SessionRecord>) -> Result<(), StoreError> {
        // Keys in many slots: separate commands, in flight together on the multiplexed
        // connection (pipelined on the wire without a cross-slot pipeline) — a chunk at a
        // time, since each command in flight holds a few KB: all of a server's sessions at
        // once made every refresh a memory spike of ~4 KB per connection.
        for chunk in sessions.chunks(REFRESH_CHUNK) {
            self.refresh_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn remove_session(&self, user_id: &str, session_id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let key = self.user_key(user_id, "sessions");
        let record: Option<String> = conn.hget(&key, session_id).await.map_err(unavailable)?;
        let _: () = conn.hdel(&key, session_id).await.map_err(unavailable)?;
        if let Some(session) = record.as_deref().and_then(session_from_json) {
            let _: () = conn
                .srem(self.server_key(&session.server_id), format!("{user_id}\n{session_id}"))
                .await
                .map_err(unavailable)?;
        }
        let left: u64 = conn.hlen(&key).await.map_err(unavailable)?;
        if left == 0 {
            let _: () = conn.zrem(self.global_key("online"), user_id).await.map_err(unavailable)?;
        }
        Ok(())
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let records: Vec<String> =
            self.conn().hvals(self.user_key(user_id, "sessions")).await.map_err(unavailable)?;
        let (mut sessions, lapsed): (Vec<SessionRecord>, Vec<SessionRecord>) =
            records.iter().filter_map(|r| session_from_json(r)).partition(|s| s.is_live(now_ms()));
        for session in lapsed {
            // Its server stopped refreshing it: gone without saying goodbye.
            self.remove_session(user_id, &session.session_id).await?;
        }
        sessions.sort_by(|a, b| (a.connected_at_ms, &a.session_id).cmp(&(b.connected_at_ms, &b.session_id)));
        Ok(sessions)
    }

    async fn online_users(&self, after: Option<&str>, limit: usize) -> Result<OnlinePage, StoreError> {
        let key = self.global_key("online");
        let start = after.map_or_else(|| "-".to_owned(), |after| format!("({after}"));
        let mut user_ids: Vec<String> = redis::cmd("ZRANGEBYLEX")
            .arg(&key)
            .arg(start)
            .arg("+")
            .arg("LIMIT")
            .arg(0)
            .arg(limit.saturating_add(1))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let total: u64 = self.conn().zcard(&key).await.map_err(unavailable)?;
        let next_after = if user_ids.len() > limit {
            user_ids.truncate(limit);
            user_ids.last().cloned()
        } else {
            None
        };
        // Leave out (and forget) users whose every session lapsed: a page may come out short.
        let sessions = try_join_all(user_ids.iter().map(|user| self.sessions_of(user))).await?;
        let user_ids =
            user_ids.into_iter().zip(sessions).filter(|(_, s)| !s.is_empty()).map(|(u, _)| u).collect();
        Ok(OnlinePage { user_ids, next_after, total })
    }

    async fn remove_server_sessions(&self, server_id: &str) -> Result<u64, StoreError> {
        let key = self.server_key(server_id);
        let members: Vec<String> = self.conn().smembers(&key).await.map_err(unavailable)?;
        for member in &members {
            if let Some((user, session)) = member.split_once('\n') {
                self.remove_session(user, session).await?;
            }
        }
        let _: () = self.conn().del(&key).await.map_err(unavailable)?;
        Ok(members.len() as u64)
    }
}

#[async_trait]
impl InboxStore for RedisStore {
    async fn accept_message(&self, message: NewMessage) -> Result<Accepted, StoreError> {
        let mut answers = self.accept_messages(vec![message]).await;
        answers.pop().unwrap_or_else(|| Err(StoreError::Unavailable("no answer from the store".into())))
    }

    async fn accept_messages(&self, messages: Vec<NewMessage>) -> Vec<Result<Accepted, StoreError>> {
        match &self.batcher {
            Some(batcher) => batcher.accept_all(messages.into_iter().map(|m| self.stored(m)).collect()).await,
            None => self.accept_on_cluster(messages).await,
        }
    }

    async fn accepted_before(
        &self,
        sender: &str,
        client_msg_id: &str,
    ) -> Result<Option<(String, u64)>, StoreError> {
        let seen = self.seen(sender, &dedupe::digest(client_msg_id), &Day::at(now_ms())).await?;
        Ok(match seen {
            Some(Accepted::Duplicate { message_id, sent_at_ms }) => Some((message_id, sent_at_ms)),
            _ => None,
        })
    }

    async fn inbox_head(&self, user_id: &str) -> Result<InboxHead, StoreError> {
        let (epoch, first_seq, next_seq): (u64, u64, u64) = self
            .scripts
            .head
            .key(self.user_key(user_id, "meta"))
            .key(self.user_key(user_id, "inbox"))
            .arg(Self::new_epoch())
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(InboxHead { epoch, first_seq, next_seq })
    }

    async fn read_inbox(
        &self,
        user_id: &str,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<wire::Deliver>, StoreError> {
        let entries: Vec<(String, Vec<Vec<u8>>)> = redis::cmd("XRANGE")
            .arg(self.user_key(user_id, "inbox"))
            .arg(format!("0-{}", from_seq.max(1)))
            .arg("+")
            .arg("COUNT")
            .arg(limit.max(1))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let oldest_ms = now_ms().saturating_sub(self.limits.retention_ms);
        let mut read = Vec::with_capacity(entries.len());
        let mut shared = Vec::new();
        for (id, fields) in entries {
            let seq = id.strip_prefix("0-").and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            let sent_at = fields.get(3).and_then(|t| std::str::from_utf8(t).ok()?.parse::<u64>().ok());
            let (Some(sent_at), Some(kind), Some(payload)) = (sent_at, fields.get(4), fields.get(5)) else {
                continue;
            };
            let expired = sent_at < oldest_ms;
            if kind.as_slice() == b"r" && !expired {
                shared.push(read.len());
            }
            read.push((seq, expired, kind.as_slice() == b"r", payload.clone()));
        }
        if !shared.is_empty() {
            // Shared bodies, by key; MGET over many slots: a cluster connection splits it.
            let keys: Vec<&[u8]> = shared.iter().map(|&i| read[i].3.as_slice()).collect();
            let bodies: Vec<Option<Vec<u8>>> =
                redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await.map_err(unavailable)?;
            for (&i, body) in shared.iter().zip(bodies) {
                match body {
                    Some(body) => read[i].3 = body,
                    None => read[i].1 = true,
                }
            }
        }
        let mut out = Vec::with_capacity(read.len());
        let mut expired = Vec::new();
        for (seq, gone, _, deliver) in read {
            // An entry past retention leaves the inbox unread, and the session that wanted it
            // learns of the gap (spec CIM-8.3-12).
            if gone {
                expired.push(seq);
                continue;
            }
            if let Ok(mut deliver) = wire::Deliver::decode(deliver.as_slice()) {
                deliver.seq = seq;
                out.push(deliver);
            }
        }
        self.forget(user_id, &expired).await?;
        Ok(out)
    }

    async fn ack_inbox(&self, user_id: &str, device_id: &str, up_to_seq: u64) -> Result<(), StoreError> {
        let _: Option<u64> = self
            .scripts
            .ack
            .key(self.user_key(user_id, "pos"))
            .key(self.user_key(user_id, "inbox"))
            .key(self.user_key(user_id, "senders"))
            .arg(device_id)
            .arg(up_to_seq)
            .arg(self.limits.max_entries_per_sender)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl GroupStore for RedisStore {
    async fn create_group(
        &self,
        group_id: &str,
        creator: &str,
        members: &[String],
    ) -> Result<GroupRecord, StoreError> {
        for (member, user) in members.iter().zip(try_join_all(members.iter().map(|m| self.user(m))).await?) {
            if user.is_none() {
                return Err(StoreError::NotFound(format!("user {member}")));
            }
        }
        let mut everyone: Vec<&str> =
            std::iter::once(creator).chain(members.iter().map(String::as_str)).collect();
        everyone.sort_unstable();
        everyone.dedup();
        let created: u64 = self
            .create_group
            .key(self.group_key(group_id))
            .arg(&everyone)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if created == 0 {
            return Err(StoreError::AlreadyExists(format!("group {group_id}")));
        }
        let links = everyone.iter().map(|user| {
            let mut conn = self.conn();
            let key = self.user_key(user, "groups");
            async move { conn.sadd::<_, _, ()>(key, group_id).await }
        });
        try_join_all(links).await.map_err(unavailable)?;
        self.group_record(group_id).await?.ok_or_else(|| StoreError::NotFound(format!("group {group_id}")))
    }

    async fn join_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError> {
        if self.group_record(group_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("group {group_id}")));
        }
        let mut conn = self.conn();
        let _: () = conn.sadd(self.group_key(group_id), user_id).await.map_err(unavailable)?;
        let _: () = conn.sadd(self.user_key(user_id, "groups"), group_id).await.map_err(unavailable)?;
        self.group_record(group_id).await?.ok_or_else(|| StoreError::NotFound(format!("group {group_id}")))
    }

    async fn leave_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError> {
        if self.group_record(group_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("group {group_id}")));
        }
        let mut conn = self.conn();
        let _: () = conn.srem(self.group_key(group_id), user_id).await.map_err(unavailable)?;
        let _: () = conn.srem(self.user_key(user_id, "groups"), group_id).await.map_err(unavailable)?;
        // The last member leaving empties the set, and an empty set is no group in Redis:
        // report the (empty) group rather than NotFound.
        Ok(self
            .group_record(group_id)
            .await?
            .unwrap_or_else(|| GroupRecord { group_id: group_id.to_owned(), members: Vec::new() }))
    }

    async fn group(&self, group_id: &str) -> Result<Option<GroupRecord>, StoreError> {
        self.group_record(group_id).await
    }

    async fn groups_of(&self, user_id: &str) -> Result<Vec<GroupRecord>, StoreError> {
        let mut ids: Vec<String> =
            self.conn().smembers(self.user_key(user_id, "groups")).await.map_err(unavailable)?;
        ids.sort();
        let groups = try_join_all(ids.iter().map(|id| self.group_record(id))).await?;
        Ok(groups.into_iter().flatten().collect())
    }
}

#[async_trait]
impl RateStore for RedisStore {
    async fn rate_count(&self, key: &str) -> Result<RateCount, StoreError> {
        let (count, resets_in_ms): (u64, u64) = self
            .rate_count
            .key(self.global_key(&format!("rate:{key}")))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(RateCount { count, resets_in_ms })
    }

    async fn rate_hit(&self, key: &str, window_ms: u64) -> Result<RateCount, StoreError> {
        let (count, resets_in_ms): (u64, u64) = self
            .rate_hit
            .key(self.global_key(&format!("rate:{key}")))
            .arg(window_ms.max(1))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(RateCount { count, resets_in_ms })
    }

    async fn rate_undo(&self, key: &str) -> Result<(), StoreError> {
        let _: u64 = self
            .rate_undo
            .key(self.global_key(&format!("rate:{key}")))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl Store for RedisStore {
    fn describe(&self) -> String {
        let kind = if self.is_cluster() { "redis cluster" } else { "redis" };
        format!("{kind} {}", self.url)
    }

    async fn health(&self) -> Result<(), StoreError> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }
}
