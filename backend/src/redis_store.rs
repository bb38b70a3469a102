//! The Redis `Store`: state shared by every route and server of a cluster.
//!
//! Key layout (all under a prefix, `cim:` by default):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `user:{id}` | hash | `name`, `hash` (password) |
//! | `users` | zset (score 0) | user names, for prefix search |
//! | `sessions:{user}` | hash | session id → JSON record |
//! | `online` | zset (score 0) | users with at least one session |
//! | `server-sessions:{server}` | set | `user\nsession` of a server's sessions |
//! | `ended:{login}` | string, expiring | logins ended by logout |
//! | `dedupe:{sender}` | hash, expiring | client message id → `message id|sent_at` |
//! | `msg:{message id}` | string, expiring | the Deliver (without seq), protobuf |
//! | `inbox:{user}` | zset | message ids scored by seq |
//! | `inbox-meta:{user}` | hash | `epoch`, `next` |
//! | `inbox-pos:{user}` | hash | device → acknowledged seq |
//! | `group:{id}` / `user-groups:{user}` | set | members / group ids |
//!
//! The message path is one round trip: a Lua script dedupes and appends to every
//! recipient's inbox atomically. Scripts compute keys from the prefix, so this store runs on
//! standalone Redis (Redis Cluster needs hash tags per user; see the notes on issue 4).

use async_trait::async_trait;
use cim_core::wire;
use prost::Message;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::store::{
    Accepted, GroupRecord, InboxHead, NewMessage, OnlinePage, SessionRecord, Store, StoreError, UserRecord,
};
use crate::{DEFAULT_INBOX_CAP, now_ms};

/// How long a message body outlives its acceptance (inbox retention, spec §8.3).
const RETENTION_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// How long client message ids are remembered for dedupe (spec §9.1).
const DEDUPE_MS: u64 = 24 * 60 * 60 * 1000;

const ACCEPT: &str = r"
local prefix, sender, client_msg_id, message_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local sent_at, body, retention, cap, dedupe_ms, epoch = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[9], ARGV[10]
local dedupe = prefix .. 'dedupe:' .. sender
local seen = redis.call('HGET', dedupe, client_msg_id)
if seen then return {0, seen} end
redis.call('HSET', dedupe, client_msg_id, message_id .. '|' .. sent_at)
redis.call('PEXPIRE', dedupe, dedupe_ms)
local result = {1}
if #ARGV > 10 then
  redis.call('SET', prefix .. 'msg:' .. message_id, body, 'PX', retention)
end
for i = 11, #ARGV do
  local user = ARGV[i]
  local meta = prefix .. 'inbox-meta:' .. user
  redis.call('HSETNX', meta, 'epoch', epoch)
  redis.call('HSETNX', meta, 'next', 1)
  local seq = redis.call('HINCRBY', meta, 'next', 1) - 1
  local inbox = prefix .. 'inbox:' .. user
  redis.call('ZADD', inbox, seq, message_id)
  local size = redis.call('ZCARD', inbox)
  if size > cap then redis.call('ZREMRANGEBYRANK', inbox, 0, size - cap - 1) end
  table.insert(result, seq)
end
return result
";

const HEAD: &str = r"
local meta, inbox, epoch = KEYS[1], KEYS[2], ARGV[1]
redis.call('HSETNX', meta, 'epoch', epoch)
redis.call('HSETNX', meta, 'next', 1)
local values = redis.call('HMGET', meta, 'epoch', 'next')
local first = redis.call('ZRANGE', inbox, 0, 0, 'WITHSCORES')
local first_seq = values[2]
if first[2] then first_seq = first[2] end
return {values[1], first_seq, values[2]}
";

const ACK: &str = r"
local positions, inbox, meta, device, up_to = KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2])
local next_seq = tonumber(redis.call('HGET', meta, 'next') or '1')
if up_to > next_seq - 1 then up_to = next_seq - 1 end
local current = redis.call('HGET', positions, device)
-- A device becomes known with its first ack, even of 0, and never moves back.
if not current or up_to > tonumber(current) then redis.call('HSET', positions, device, up_to) end
local lowest = nil
for _, value in ipairs(redis.call('HVALS', positions)) do
  local seq = tonumber(value)
  if lowest == nil or seq < lowest then lowest = seq end
end
if lowest then redis.call('ZREMRANGEBYSCORE', inbox, '-inf', lowest) end
return lowest
";

const CREATE_GROUP: &str = r"
local prefix, group, creator = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', prefix .. 'group:' .. group) == 1 then return 'exists' end
for i = 4, #ARGV do
  if redis.call('EXISTS', prefix .. 'user:' .. ARGV[i]) == 0 then return 'missing:' .. ARGV[i] end
end
for i = 3, #ARGV do
  redis.call('SADD', prefix .. 'group:' .. group, ARGV[i])
  redis.call('SADD', prefix .. 'user-groups:' .. ARGV[i], group)
end
return 'ok'
";

/// State in Redis, through one multiplexed connection that reconnects by itself.
pub struct RedisStore {
    url: String,
    prefix: String,
    connection: ConnectionManager,
    inbox_cap: usize,
    accept: redis::Script,
    head: redis::Script,
    ack: redis::Script,
    create_group: redis::Script,
}

/// Fail fast while Redis is away: a call gets an error within about two seconds (the
/// caller answers UNAVAILABLE, which clients retry) instead of waiting on a long reconnect
/// schedule, and the manager keeps trying to reconnect in the background.
fn manager_config() -> redis::aio::ConnectionManagerConfig {
    redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(std::time::Duration::from_secs(1))
        .set_response_timeout(std::time::Duration::from_secs(2))
        .set_number_of_retries(2)
        .set_factor(100)
        .set_max_delay(500)
}

fn unavailable(error: redis::RedisError) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port`), with keys under `prefix`. Fails with a clear
    /// message when Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?;
        let unreachable =
            |reason: String| StoreError::Unavailable(format!("cannot reach Redis at {url}: {reason}"));
        // One plain attempt first: it fails fast, with the real reason (connection refused…).
        let probe = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            client.get_multiplexed_async_connection(),
        );
        match probe.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(unreachable(e.to_string().to_lowercase())),
            Err(_) => return Err(unreachable("timed out".into())),
        }
        let connection = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            ConnectionManager::new_with_config(client, manager_config()),
        )
        .await
        .map_err(|_| unreachable("timed out".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
        Ok(Self {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            connection,
            inbox_cap: DEFAULT_INBOX_CAP,
            accept: redis::Script::new(ACCEPT),
            head: redis::Script::new(HEAD),
            ack: redis::Script::new(ACK),
            create_group: redis::Script::new(CREATE_GROUP),
        })
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// A new inbox's epoch: the wall clock, so an inbox recreated after data loss never
    /// reuses an old epoch.
    fn new_epoch() -> u64 {
        now_ms().max(1)
    }

    async fn group_record(&self, group_id: &str) -> Result<Option<GroupRecord>, StoreError> {
        let mut members: Vec<String> =
            self.conn().smembers(self.key("group", group_id)).await.map_err(unavailable)?;
        if members.is_empty() {
            return Ok(None);
        }
        members.sort();
        Ok(Some(GroupRecord { group_id: group_id.to_owned(), members }))
    }
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
impl Store for RedisStore {
    fn describe(&self) -> String {
        format!("redis {}", self.url)
    }

    async fn health(&self) -> Result<(), StoreError> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }

    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError> {
        let key = self.key("user", &user.user_id);
        let created: bool = self.conn().hset_nx(&key, "name", &user.user_name).await.map_err(unavailable)?;
        if !created {
            return Err(StoreError::AlreadyExists(format!("user {}", user.user_id)));
        }
        let mut conn = self.conn();
        redis::pipe()
            .hset(&key, "hash", &user.password_hash)
            .zadd(format!("{}users", self.prefix), &user.user_name, 0)
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        let (name, hash): (Option<String>, Option<String>) =
            self.conn().hget(self.key("user", user_id), &["name", "hash"]).await.map_err(unavailable)?;
        Ok(name.map(|user_name| UserRecord {
            user_id: user_id.to_owned(),
            user_name,
            password_hash: hash.unwrap_or_default(),
        }))
    }

    async fn users_by_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<UserRecord>, StoreError> {
        let names: Vec<String> = redis::cmd("ZRANGEBYLEX")
            .arg(format!("{}users", self.prefix))
            .arg(format!("[{prefix}"))
            .arg(format!("[{prefix}\u{10ffff}"))
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let mut users = Vec::with_capacity(names.len());
        for name in names {
            if let Some(user) = self.user(&name).await? {
                users.push(user);
            }
        }
        Ok(users)
    }

    async fn add_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        self.refresh_sessions(vec![session]).await
    }

    async fn refresh_sessions(&self, sessions: Vec<SessionRecord>) -> Result<(), StoreError> {
        // One round trip for a whole server's sessions.
        let mut pipe = redis::pipe();
        for session in &sessions {
            pipe.hset(self.key("sessions", &session.user_id), &session.session_id, session_json(session))
                .ignore()
                .zadd(format!("{}online", self.prefix), &session.user_id, 0)
                .ignore()
                .sadd(
                    self.key("server-sessions", &session.server_id),
                    format!("{}\n{}", session.user_id, session.session_id),
                )
                .ignore();
        }
        pipe.query_async::<()>(&mut self.conn()).await.map_err(unavailable)
    }

    async fn remove_session(&self, user_id: &str, session_id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let key = self.key("sessions", user_id);
        let record: Option<String> = conn.hget(&key, session_id).await.map_err(unavailable)?;
        let mut pipe = redis::pipe();
        pipe.hdel(&key, session_id);
        if let Some(session) = record.as_deref().and_then(session_from_json) {
            pipe.srem(self.key("server-sessions", &session.server_id), format!("{user_id}\n{session_id}"));
        }
        pipe.query_async::<()>(&mut conn).await.map_err(unavailable)?;
        let left: u64 = conn.hlen(&key).await.map_err(unavailable)?;
        if left == 0 {
            let _: () = conn.zrem(format!("{}online", self.prefix), user_id).await.map_err(unavailable)?;
        }
        Ok(())
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let records: Vec<String> =
            self.conn().hvals(self.key("sessions", user_id)).await.map_err(unavailable)?;
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
        let key = format!("{}online", self.prefix);
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
        let mut pipe = redis::pipe();
        for user in &user_ids {
            pipe.hvals(self.key("sessions", user));
        }
        let records: Vec<Vec<String>> = pipe.query_async(&mut self.conn()).await.map_err(unavailable)?;
        let now = now_ms();
        let mut live = Vec::with_capacity(user_ids.len());
        for (user, records) in user_ids.into_iter().zip(records) {
            if records.iter().filter_map(|r| session_from_json(r)).any(|s| s.is_live(now)) {
                live.push(user);
            } else {
                self.sessions_of(&user).await?;
            }
        }
        let user_ids = live;
        Ok(OnlinePage { user_ids, next_after, total })
    }

    async fn remove_server_sessions(&self, server_id: &str) -> Result<u64, StoreError> {
        let key = self.key("server-sessions", server_id);
        let members: Vec<String> = self.conn().smembers(&key).await.map_err(unavailable)?;
        for member in &members {
            if let Some((user, session)) = member.split_once('\n') {
                self.remove_session(user, session).await?;
            }
        }
        let _: () = self.conn().del(&key).await.map_err(unavailable)?;
        Ok(members.len() as u64)
    }

    async fn end_login(&self, login_id: &str, until_ms: u64) -> Result<(), StoreError> {
        // No token lives longer than a year; Redis refuses absurd expiries.
        let ttl = until_ms.saturating_sub(now_ms()).clamp(1, 366 * 24 * 60 * 60 * 1000);
        let _: () = self.conn().pset_ex(self.key("ended", login_id), 1, ttl).await.map_err(unavailable)?;
        Ok(())
    }

    async fn is_login_ended(&self, login_id: &str) -> Result<bool, StoreError> {
        self.conn().exists(self.key("ended", login_id)).await.map_err(unavailable)
    }

    async fn accept_message(&self, message: NewMessage) -> Result<Accepted, StoreError> {
        let body = wire::Deliver {
            seq: 0,
            message_id: message.message_id.clone(),
            from_user_id: message.sender.clone(),
            to: Some(message.to.clone()),
            content_type: message.content_type.clone(),
            body: message.body.clone(),
            sent_at_ms: message.sent_at_ms,
        }
        .encode_to_vec();
        let mut invocation = self.accept.prepare_invoke();
        invocation
            .arg(&self.prefix)
            .arg(&message.sender)
            .arg(&message.client_msg_id)
            .arg(&message.message_id)
            .arg(message.sent_at_ms)
            .arg(body)
            .arg(RETENTION_MS)
            .arg(self.inbox_cap)
            .arg(DEDUPE_MS)
            .arg(Self::new_epoch());
        for recipient in &message.recipients {
            invocation.arg(recipient);
        }
        let result: Vec<redis::Value> =
            invocation.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        let as_u64 = |v: &redis::Value| redis::from_redis_value::<u64>(v).ok();
        match result.first().and_then(as_u64) {
            Some(0) => {
                let seen: String =
                    result.get(1).and_then(|v| redis::from_redis_value(v).ok()).unwrap_or_default();
                let (message_id, sent_at) = seen.split_once('|').unwrap_or((&seen, "0"));
                Ok(Accepted::Duplicate {
                    message_id: message_id.to_owned(),
                    sent_at_ms: sent_at.parse().unwrap_or(0),
                })
            }
            Some(_) => {
                let seqs = result[1..].iter().filter_map(as_u64);
                Ok(Accepted::Stored { entries: message.recipients.iter().cloned().zip(seqs).collect() })
            }
            None => Err(StoreError::Unavailable("unexpected answer from the accept script".into())),
        }
    }

    async fn inbox_head(&self, user_id: &str) -> Result<InboxHead, StoreError> {
        let (epoch, first_seq, next_seq): (u64, u64, u64) = self
            .head
            .key(self.key("inbox-meta", user_id))
            .key(self.key("inbox", user_id))
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
        let entries: Vec<(String, u64)> = self
            .conn()
            .zrangebyscore_limit_withscores(self.key("inbox", user_id), from_seq, "+inf", 0, limit as isize)
            .await
            .map_err(unavailable)?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = entries.iter().map(|(id, _)| self.key("msg", id)).collect();
        let bodies: Vec<Option<Vec<u8>>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await.map_err(unavailable)?;
        let mut out = Vec::with_capacity(entries.len());
        for ((_, seq), body) in entries.into_iter().zip(bodies) {
            // A body past retention is gone; the entry goes with it (the client sees a gap).
            let Some(body) = body else { continue };
            if let Ok(mut deliver) = wire::Deliver::decode(body.as_slice()) {
                deliver.seq = seq;
                out.push(deliver);
            }
        }
        Ok(out)
    }

    async fn ack_inbox(&self, user_id: &str, device_id: &str, up_to_seq: u64) -> Result<(), StoreError> {
        let _: Option<u64> = self
            .ack
            .key(self.key("inbox-pos", user_id))
            .key(self.key("inbox", user_id))
            .key(self.key("inbox-meta", user_id))
            .arg(device_id)
            .arg(up_to_seq)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn create_group(
        &self,
        group_id: &str,
        creator: &str,
        members: &[String],
    ) -> Result<GroupRecord, StoreError> {
        let mut invocation = self.create_group.prepare_invoke();
        invocation.arg(&self.prefix).arg(group_id).arg(creator);
        for member in members {
            invocation.arg(member);
        }
        let outcome: String = invocation.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        match outcome.as_str() {
            "ok" => self
                .group_record(group_id)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("group {group_id}"))),
            "exists" => Err(StoreError::AlreadyExists(format!("group {group_id}"))),
            missing => Err(StoreError::NotFound(format!("user {}", missing.trim_start_matches("missing:")))),
        }
    }

    async fn join_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError> {
        if self.group_record(group_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("group {group_id}")));
        }
        let mut conn = self.conn();
        redis::pipe()
            .sadd(self.key("group", group_id), user_id)
            .sadd(self.key("user-groups", user_id), group_id)
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)?;
        self.group_record(group_id).await?.ok_or_else(|| StoreError::NotFound(format!("group {group_id}")))
    }

    async fn leave_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError> {
        if self.group_record(group_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("group {group_id}")));
        }
        let mut conn = self.conn();
        redis::pipe()
            .srem(self.key("group", group_id), user_id)
            .srem(self.key("user-groups", user_id), group_id)
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)?;
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
            self.conn().smembers(self.key("user-groups", user_id)).await.map_err(unavailable)?;
        ids.sort();
        let mut groups = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(group) = self.group_record(&id).await? {
                groups.push(group);
            }
        }
        Ok(groups)
    }
}
