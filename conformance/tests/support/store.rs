//! A store that passes everything to a real one, except for one deliberate fault.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cim_backend::{
    Accepted, GroupRecord, InboxHead, NewMessage, OnlinePage, RateCount, SessionRecord, Store, StoreError,
    UserRecord,
};
use cim_core::wire;

/// The faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMutant {
    /// Acknowledges messages without appending them to any inbox.
    SkipsInboxWrite,
    /// Forgets client message ids: every Send is new.
    NoDedupe,
    /// Reads inbox entries newest first.
    ReversedInbox,
    /// Gives the inbox a new epoch whenever it is asked for it.
    EpochEveryTime,
    /// Applies a device's acknowledgement to every device of the user.
    SharedAcks,
}

/// The store with its fault.
pub struct MutantStore {
    inner: Arc<dyn Store>,
    mutant: StoreMutant,
    counter: AtomicU64,
    /// Every device that had a session, per user (for `SharedAcks`).
    devices: Mutex<HashMap<String, HashSet<String>>>,
}

impl MutantStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Store>, mutant: StoreMutant) -> Self {
        Self { inner, mutant, counter: AtomicU64::new(1), devices: Mutex::default() }
    }
}

#[async_trait]
impl Store for MutantStore {
    fn describe(&self) -> String {
        format!("mutant {:?} of {}", self.mutant, self.inner.describe())
    }
    async fn health(&self) -> Result<(), StoreError> {
        self.inner.health().await
    }
    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError> {
        self.inner.create_user(user).await
    }
    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.inner.user(user_id).await
    }
    async fn users_by_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<UserRecord>, StoreError> {
        self.inner.users_by_prefix(prefix, limit).await
    }
    async fn add_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        if let Ok(mut devices) = self.devices.lock() {
            devices.entry(session.user_id.clone()).or_default().insert(session.device_id.clone());
        }
        self.inner.add_session(session).await
    }
    async fn remove_session(&self, user_id: &str, session_id: &str) -> Result<(), StoreError> {
        self.inner.remove_session(user_id, session_id).await
    }
    async fn refresh_sessions(&self, sessions: Vec<SessionRecord>) -> Result<(), StoreError> {
        self.inner.refresh_sessions(sessions).await
    }
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.sessions_of(user_id).await
    }
    async fn online_users(&self, after: Option<&str>, limit: usize) -> Result<OnlinePage, StoreError> {
        self.inner.online_users(after, limit).await
    }
    async fn remove_server_sessions(&self, server_id: &str) -> Result<u64, StoreError> {
        self.inner.remove_server_sessions(server_id).await
    }
    async fn log_out_everywhere(&self, user_id: &str, at_ms: u64) -> Result<(), StoreError> {
        self.inner.log_out_everywhere(user_id, at_ms).await
    }
    async fn end_login(&self, login_id: &str, until_ms: u64) -> Result<(), StoreError> {
        self.inner.end_login(login_id, until_ms).await
    }
    async fn is_login_ended(&self, login_id: &str) -> Result<bool, StoreError> {
        self.inner.is_login_ended(login_id).await
    }
    async fn accept_message(&self, mut message: NewMessage) -> Result<Accepted, StoreError> {
        match self.mutant {
            StoreMutant::SkipsInboxWrite => {
                message.recipients.clear();
                self.inner.accept_message(message).await.map(|accepted| match accepted {
                    Accepted::Stored { .. } => Accepted::Stored { entries: Vec::new() },
                    other => other,
                })
            }
            StoreMutant::NoDedupe => {
                message.client_msg_id =
                    format!("{}#{}", message.client_msg_id, self.counter.fetch_add(1, Ordering::Relaxed));
                self.inner.accept_message(message).await
            }
            _ => self.inner.accept_message(message).await,
        }
    }
    async fn accepted_before(
        &self,
        sender: &str,
        client_msg_id: &str,
    ) -> Result<Option<(String, u64)>, StoreError> {
        match self.mutant {
            StoreMutant::NoDedupe => Ok(None),
            _ => self.inner.accepted_before(sender, client_msg_id).await,
        }
    }
    async fn inbox_head(&self, user_id: &str) -> Result<InboxHead, StoreError> {
        let mut head = self.inner.inbox_head(user_id).await?;
        if self.mutant == StoreMutant::EpochEveryTime {
            head.epoch = head.epoch.wrapping_add(self.counter.fetch_add(1, Ordering::Relaxed));
        }
        Ok(head)
    }
    async fn read_inbox(
        &self,
        user_id: &str,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<wire::Deliver>, StoreError> {
        let mut entries = self.inner.read_inbox(user_id, from_seq, limit).await?;
        if self.mutant == StoreMutant::ReversedInbox {
            entries.reverse();
        }
        Ok(entries)
    }
    async fn ack_inbox(&self, user_id: &str, device_id: &str, up_to_seq: u64) -> Result<(), StoreError> {
        if self.mutant == StoreMutant::SharedAcks {
            let devices: Vec<String> = self
                .devices
                .lock()
                .map(|d| d.get(user_id).into_iter().flatten().cloned().collect())
                .unwrap_or_default();
            for device in devices {
                self.inner.ack_inbox(user_id, &device, up_to_seq).await?;
            }
        }
        self.inner.ack_inbox(user_id, device_id, up_to_seq).await
    }
    async fn create_group(
        &self,
        group_id: &str,
        creator: &str,
        members: &[String],
    ) -> Result<GroupRecord, StoreError> {
        self.inner.create_group(group_id, creator, members).await
    }
    async fn join_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError> {
        self.inner.join_group(group_id, user_id).await
    }
    async fn leave_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError> {
        self.inner.leave_group(group_id, user_id).await
    }
    async fn group(&self, group_id: &str) -> Result<Option<GroupRecord>, StoreError> {
        self.inner.group(group_id).await
    }
    async fn groups_of(&self, user_id: &str) -> Result<Vec<GroupRecord>, StoreError> {
        self.inner.groups_of(user_id).await
    }
    async fn rate_count(&self, key: &str) -> Result<RateCount, StoreError> {
        self.inner.rate_count(key).await
    }
    async fn rate_hit(&self, key: &str, window_ms: u64) -> Result<RateCount, StoreError> {
        self.inner.rate_hit(key, window_ms).await
    }
    async fn rate_undo(&self, key: &str) -> Result<(), StoreError> {
        self.inner.rate_undo(key).await
    }
}
