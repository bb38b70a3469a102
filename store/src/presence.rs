//! Presence: which sessions are connected, and to which server (spec §9, §15.5).

use async_trait::async_trait;

use crate::StoreError;

/// A connected session, as recorded for presence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Unique id of the session.
    pub session_id: String,
    /// Its user.
    pub user_id: String,
    /// Its device.
    pub device_id: String,
    /// The server holding the connection.
    pub server_id: String,
    /// When it connected, ms since the Unix epoch.
    pub connected_at_ms: u64,
    /// When the record lapses unless its server refreshes it, ms since the Unix epoch;
    /// 0 for never (spec §15.5).
    pub expires_at_ms: u64,
}

impl SessionRecord {
    /// Whether the record still counts at `now_ms`.
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.expires_at_ms == 0 || self.expires_at_ms > now_ms
    }
}

/// One page of online users.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OnlinePage {
    /// User ids, ascending.
    pub user_ids: Vec<String>,
    /// Where the next page starts; `None` on the last page.
    pub next_after: Option<String>,
    /// Users online in all.
    pub total: u64,
}

/// The connected sessions of every user.
#[async_trait]
pub trait PresenceStore: Send + Sync + 'static {
    /// Records a connected session.
    async fn add_session(&self, session: SessionRecord) -> Result<(), StoreError>;
    /// Forgets a session.
    async fn remove_session(&self, user_id: &str, session_id: &str) -> Result<(), StoreError>;
    /// Records the sessions again with their new expiry: what a server does periodically
    /// for its live sessions so that they do not lapse.
    async fn refresh_sessions(&self, sessions: Vec<SessionRecord>) -> Result<(), StoreError> {
        for session in sessions {
            self.add_session(session).await?;
        }
        Ok(())
    }
    /// The user's live sessions, oldest first.
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError>;
    /// Users with a live session after `after` (exclusive), ascending, at most `limit`.
    async fn online_users(&self, after: Option<&str>, limit: usize) -> Result<OnlinePage, StoreError>;
    /// Forgets every session of a server that is gone; returns how many.
    async fn remove_server_sessions(&self, server_id: &str) -> Result<u64, StoreError>;
}
