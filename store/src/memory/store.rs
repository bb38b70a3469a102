//! The in-memory `Store`: everything in one process, gone when it exits.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use cim_core::wire;

use crate::IdMap;
use crate::{
    Accepted, AccountStore, GroupRecord, GroupStore, InboxHead, InboxLimits, InboxStore, NewMessage,
    OnlinePage, PresenceStore, RateCount, RateStore, SessionRecord, Store, StoreError, UserRecord,
};

/// Above this many rate counters, those whose window has ended are swept out.
const RATE_COUNTERS_SWEEP: usize = 100_000;

/// Client message ids remembered per sender for dedupe (spec §9.1 asks for 24 hours; an
/// in-memory store bounds by count instead).
const DEDUPE_PER_SENDER: usize = 100_000;

/// All state in one process. Every call takes one short lock and never awaits while holding
/// it. A restart starts new inbox epochs, which clients see as `EPOCH_CHANGED`.
pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// Epoch of every inbox this store creates: the creation time, so that a restarted
    /// process never reuses one.
    epoch: u64,
    limits: InboxLimits,
}

#[derive(Default)]
struct Inner {
    users: BTreeMap<String, UserRecord>,
    /// user -> sessions, oldest first.
    sessions: BTreeMap<String, Vec<SessionRecord>>,
    ended_logins: HashMap<String, u64>,
    inboxes: IdMap<String, Inbox>,
    dedupe: IdMap<String, Dedupe>,
    groups: BTreeMap<String, BTreeSet<String>>,
    /// Rate counters: key -> (count, when the window ends in ms).
    rates: HashMap<String, (u64, u64)>,
}

impl Inner {
    /// Drops the user's session records whose server stopped refreshing them.
    fn forget_lapsed(&mut self, user_id: &str) {
        let now = crate::now_ms();
        if let Some(sessions) = self.sessions.get_mut(user_id) {
            sessions.retain(|s| s.is_live(now));
            if sessions.is_empty() {
                self.sessions.remove(user_id);
            }
        }
    }
}

struct Inbox {
    first_seq: u64,
    /// The entries, each with when it was appended (ms since the Unix epoch).
    entries: VecDeque<(u64, wire::Deliver)>,
    /// device -> acknowledged seq.
    positions: IdMap<String, u64>,
    /// sender -> entries of theirs held, for the per-sender limit.
    per_sender: IdMap<String, u64>,
}

impl Inbox {
    fn new() -> Self {
        Self {
            first_seq: 1,
            entries: VecDeque::new(),
            positions: IdMap::default(),
            per_sender: IdMap::default(),
        }
    }

    fn next_seq(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }

    fn pop_front(&mut self) -> bool {
        let Some((_, entry)) = self.entries.pop_front() else { return false };
        self.first_seq += 1;
        if let Some(count) = self.per_sender.get_mut(&entry.from_user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_sender.remove(&entry.from_user_id);
            }
        }
        true
    }

    fn trim_to(&mut self, up_to_seq: u64) {
        while self.first_seq <= up_to_seq && self.pop_front() {}
    }

    /// Drops the entries appended before `oldest_ms`, read or not: past the retention period
    /// (spec CIM-8.3-7). Devices behind them learn of it as a GAP.
    fn expire(&mut self, oldest_ms: u64) {
        while self.entries.front().is_some_and(|(at, _)| *at < oldest_ms) && self.pop_front() {}
    }

    /// Whether one more entry from `sender` stays within `limits`.
    fn has_room_for(&self, sender: &str, limits: &InboxLimits) -> bool {
        (self.entries.len() as u64) < limits.max_entries
            && self.per_sender.get(sender).copied().unwrap_or(0) < limits.max_entries_per_sender
    }
}

#[derive(Default)]
struct Dedupe {
    /// client message id -> (message id, sent_at); the key is shared with `order`.
    ids: IdMap<Arc<str>, (String, u64)>,
    order: VecDeque<Arc<str>>,
}

impl MemoryStore {
    /// An empty store with the default inbox limits.
    pub fn new() -> Self {
        Self::with_limits(InboxLimits::default())
    }

    /// An empty store whose inboxes hold what `limits` allow.
    pub fn with_limits(limits: InboxLimits) -> Self {
        let epoch = SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_millis() as u64).max(1);
        Self { inner: Mutex::new(Inner::default()), epoch, limits }
    }

    /// Before this time (ms), entries are past the retention period.
    fn retained_since(&self) -> u64 {
        crate::now_ms().saturating_sub(self.limits.retention_ms)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind, still consistent enough to
        // serve: keep going rather than poisoning every later call.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

fn group_record(group_id: &str, members: &BTreeSet<String>) -> GroupRecord {
    GroupRecord { group_id: group_id.to_owned(), members: members.iter().cloned().collect() }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.users.contains_key(&user.user_id) {
            return Err(StoreError::AlreadyExists(format!("user {}", user.user_id)));
        }
        inner.users.insert(user.user_id.clone(), user);
        Ok(())
    }

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.lock().users.get(user_id).cloned())
    }

    async fn log_out_everywhere(&self, user_id: &str, at_ms: u64) -> Result<(), StoreError> {
        if let Some(user) = self.lock().users.get_mut(user_id) {
            user.logged_out_at_ms = user.logged_out_at_ms.max(at_ms);
        }
        Ok(())
    }

    async fn users_by_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<UserRecord>, StoreError> {
        let inner = self.lock();
        let mut users: Vec<UserRecord> =
            inner.users.values().filter(|u| u.user_name.starts_with(prefix)).cloned().collect();
        users.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        users.truncate(limit);
        Ok(users)
    }

    async fn end_login(&self, login_id: &str, until_ms: u64) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        inner.ended_logins.retain(|_, until| *until > now);
        inner.ended_logins.insert(login_id.to_owned(), until_ms);
        Ok(())
    }

    async fn is_login_ended(&self, login_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().ended_logins.contains_key(login_id))
    }
}

#[async_trait]
impl PresenceStore for MemoryStore {
    async fn add_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let sessions = inner.sessions.entry(session.user_id.clone()).or_default();
        sessions.retain(|s| s.session_id != session.session_id);
        sessions.push(session);
        Ok(())
    }

    async fn remove_session(&self, user_id: &str, session_id: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if let Some(sessions) = inner.sessions.get_mut(user_id) {
            sessions.retain(|s| s.session_id != session_id);
            if sessions.is_empty() {
                inner.sessions.remove(user_id);
            }
        }
        Ok(())
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let mut inner = self.lock();
        inner.forget_lapsed(user_id);
        Ok(inner.sessions.get(user_id).cloned().unwrap_or_default())
    }

    async fn online_users(&self, after: Option<&str>, limit: usize) -> Result<OnlinePage, StoreError> {
        let mut inner = self.lock();
        let now = crate::now_ms();
        inner.sessions.retain(|_, sessions| {
            sessions.retain(|s| s.is_live(now));
            !sessions.is_empty()
        });
        let range = match after {
            Some(after) => {
                inner.sessions.range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            }
            None => inner.sessions.range::<str, _>(..),
        };
        let mut user_ids: Vec<String> = range.take(limit.saturating_add(1)).map(|(u, _)| u.clone()).collect();
        let next_after = if user_ids.len() > limit {
            user_ids.truncate(limit);
            user_ids.last().cloned()
        } else {
            None
        };
        Ok(OnlinePage { user_ids, next_after, total: inner.sessions.len() as u64 })
    }

    async fn remove_server_sessions(&self, server_id: &str) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let mut removed = 0;
        inner.sessions.retain(|_, sessions| {
            let before = sessions.len();
            sessions.retain(|s| s.server_id != server_id);
            removed += (before - sessions.len()) as u64;
            !sessions.is_empty()
        });
        Ok(removed)
    }
}

#[async_trait]
impl InboxStore for MemoryStore {
    async fn inbox_entries(&self) -> Option<u64> {
        Some(self.lock().inboxes.values().map(|inbox| inbox.entries.len() as u64).sum())
    }

    async fn accept_message(&self, message: NewMessage) -> Result<Accepted, StoreError> {
        let retained_since = self.retained_since();
        let now = crate::now_ms();
        let mut guard = self.lock();
        let inner = &mut *guard;
        // Looked up before any key is copied: the sender and the recipients are nearly always
        // known already, and this runs once per message under the store's one lock.
        let dedupe = match inner.dedupe.get_mut(&message.sender) {
            Some(dedupe) => dedupe,
            None => inner.dedupe.entry(message.sender.clone()).or_default(),
        };
        let client_msg_id: Arc<str> = Arc::from(message.client_msg_id.as_str());
        match dedupe.ids.entry(client_msg_id.clone()) {
            Entry::Occupied(seen) => {
                let (message_id, sent_at_ms) = seen.get();
                return Ok(Accepted::Duplicate { message_id: message_id.clone(), sent_at_ms: *sent_at_ms });
            }
            Entry::Vacant(slot) => {
                // Room in every inbox, or in none: a message is stored for all its recipients
                // or refused to its sender (spec CIM-8.3-10), never stored for some; refused,
                // it leaves no dedupe record, so that a later send of it is stored.
                for recipient in &message.recipients {
                    if let Some(inbox) = inner.inboxes.get_mut(recipient) {
                        inbox.expire(retained_since);
                        if !inbox.has_room_for(&message.sender, &self.limits) {
                            return Err(StoreError::InboxFull(recipient.clone()));
                        }
                    }
                }
                slot.insert((message.message_id.clone(), message.sent_at_ms));
            }
        }
        if dedupe.order.len() >= DEDUPE_PER_SENDER
            && let Some(oldest) = dedupe.order.pop_front()
        {
            dedupe.ids.remove(&oldest);
        }
        dedupe.order.push_back(client_msg_id);

        let mut entries = Vec::with_capacity(message.recipients.len());
        for recipient in &message.recipients {
            let inbox = match inner.inboxes.get_mut(recipient) {
                Some(inbox) => inbox,
                None => inner.inboxes.entry(recipient.clone()).or_insert_with(Inbox::new),
            };
            let seq = inbox.next_seq();
            inbox.entries.push_back((now, message.deliver(seq)));
            match inbox.per_sender.get_mut(&message.sender) {
                Some(count) => *count += 1,
                None => {
                    inbox.per_sender.insert(message.sender.clone(), 1);
                }
            }
            entries.push((recipient.clone(), seq));
        }
        Ok(Accepted::Stored { entries })
    }

    async fn accepted_before(
        &self,
        sender: &str,
        client_msg_id: &str,
    ) -> Result<Option<(String, u64)>, StoreError> {
        let inner = self.lock();
        Ok(inner.dedupe.get(sender).and_then(|dedupe| dedupe.ids.get(client_msg_id)).cloned())
    }

    async fn inbox_head(&self, user_id: &str) -> Result<InboxHead, StoreError> {
        let retained_since = self.retained_since();
        let mut inner = self.lock();
        let inbox = inner.inboxes.entry(user_id.to_owned()).or_insert_with(Inbox::new);
        inbox.expire(retained_since);
        Ok(InboxHead { epoch: self.epoch, first_seq: inbox.first_seq, next_seq: inbox.next_seq() })
    }

    async fn read_inbox(
        &self,
        user_id: &str,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<wire::Deliver>, StoreError> {
        let retained_since = self.retained_since();
        let mut inner = self.lock();
        let Some(inbox) = inner.inboxes.get_mut(user_id) else { return Ok(Vec::new()) };
        inbox.expire(retained_since);
        let skip = from_seq.saturating_sub(inbox.first_seq) as usize;
        Ok(inbox.entries.iter().skip(skip).take(limit).map(|(_, entry)| entry.clone()).collect())
    }

    async fn ack_inbox(&self, user_id: &str, device_id: &str, up_to_seq: u64) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let inbox = inner.inboxes.entry(user_id.to_owned()).or_insert_with(Inbox::new);
        let position = inbox.positions.entry(device_id.to_owned()).or_default();
        *position = (*position).max(up_to_seq.min(inbox.first_seq + inbox.entries.len() as u64 - 1));
        if let Some(lowest) = inbox.positions.values().min().copied() {
            inbox.trim_to(lowest);
        }
        Ok(())
    }
}

#[async_trait]
impl GroupStore for MemoryStore {
    async fn create_group(
        &self,
        group_id: &str,
        creator: &str,
        members: &[String],
    ) -> Result<GroupRecord, StoreError> {
        let mut inner = self.lock();
        if inner.groups.contains_key(group_id) {
            return Err(StoreError::AlreadyExists(format!("group {group_id}")));
        }
        if let Some(unknown) = members.iter().find(|m| !inner.users.contains_key(*m)) {
            return Err(StoreError::NotFound(format!("user {unknown}")));
        }
        let mut set: BTreeSet<String> = members.iter().cloned().collect();
        set.insert(creator.to_owned());
        let record = group_record(group_id, &set);
        inner.groups.insert(group_id.to_owned(), set);
        Ok(record)
    }

    async fn join_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError> {
        let mut inner = self.lock();
        let members = inner
            .groups
            .get_mut(group_id)
            .ok_or_else(|| StoreError::NotFound(format!("group {group_id}")))?;
        members.insert(user_id.to_owned());
        Ok(group_record(group_id, members))
    }

    async fn leave_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError> {
        let mut inner = self.lock();
        let members = inner
            .groups
            .get_mut(group_id)
            .ok_or_else(|| StoreError::NotFound(format!("group {group_id}")))?;
        members.remove(user_id);
        Ok(group_record(group_id, members))
    }

    async fn group(&self, group_id: &str) -> Result<Option<GroupRecord>, StoreError> {
        Ok(self.lock().groups.get(group_id).map(|members| group_record(group_id, members)))
    }

    async fn groups_of(&self, user_id: &str) -> Result<Vec<GroupRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .groups
            .iter()
            .filter(|(_, members)| members.contains(user_id))
            .map(|(id, members)| group_record(id, members))
            .collect())
    }
}

#[async_trait]
impl RateStore for MemoryStore {
    async fn rate_count(&self, key: &str) -> Result<RateCount, StoreError> {
        let now = crate::now_ms();
        Ok(match self.lock().rates.get(key) {
            Some(&(count, ends)) if ends > now => RateCount { count, resets_in_ms: ends - now },
            _ => RateCount::default(),
        })
    }

    async fn rate_hit(&self, key: &str, window_ms: u64) -> Result<RateCount, StoreError> {
        let now = crate::now_ms();
        let mut inner = self.lock();
        if inner.rates.len() >= RATE_COUNTERS_SWEEP {
            inner.rates.retain(|_, (_, ends)| *ends > now);
        }
        let (count, ends) = match inner.rates.get_mut(key) {
            Some(counter) => counter,
            None => inner.rates.entry(key.to_owned()).or_insert((0, 0)),
        };
        if *ends <= now {
            (*count, *ends) = (0, now + window_ms.max(1));
        }
        *count += 1;
        Ok(RateCount { count: *count, resets_in_ms: *ends - now })
    }

    async fn rate_undo(&self, key: &str) -> Result<(), StoreError> {
        let now = crate::now_ms();
        if let Some((count, ends)) = self.lock().rates.get_mut(key)
            && *ends > now
        {
            *count = count.saturating_sub(1);
        }
        Ok(())
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    async fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
