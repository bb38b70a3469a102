//! The `Store` trait: accounts, presence, logins, inboxes and groups.

use async_trait::async_trait;
use bytes::Bytes;
use cim_core::wire;

/// Why a store call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The user name or group id is taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The user or group does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The caller may not do this (e.g. not a member).
    #[error("{0}")]
    Forbidden(String),
    /// The backend cannot be reached or failed before it did anything; the call may be
    /// retried.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The backend failed or timed out while the call was under way: it may or may not have
    /// taken effect. Only calls that are safe to repeat (a message accept, deduplicated by its
    /// client message id) report this; the caller repeats them to learn the outcome.
    #[error("store failed mid-call, outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// A recipient's inbox holds as many entries as the store allows, in all or from this
    /// sender (spec CIM-8.3-10); the message was stored nowhere.
    #[error("the inbox of {0} is full")]
    InboxFull(String),
}

/// How much an inbox may hold (spec §8.3). Entries leave an inbox when every known device has
/// acknowledged them, or unread when they are older than the retention period; a full inbox
/// refuses new messages rather than drop old ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InboxLimits {
    /// Most entries one inbox holds.
    pub max_entries: u64,
    /// Most entries of one sender in another user's inbox, so that one sender cannot fill it.
    pub max_entries_per_sender: u64,
    /// How long an entry is kept when some device has not acknowledged it, in ms.
    pub retention_ms: u64,
}

impl Default for InboxLimits {
    /// 100,000 entries, 10,000 of them from one sender, kept 7 days.
    fn default() -> Self {
        Self { max_entries: 100_000, max_entries_per_sender: 10_000, retention_ms: 7 * 24 * 60 * 60 * 1000 }
    }
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Stable id; in the reference route equal to the user name.
    pub user_id: String,
    /// Display and login name.
    pub user_name: String,
    /// PHC string of the password hash of an account created by Register; `None` for an
    /// account created by a JWT login, whose identity is the app backend's (spec §5.3): no
    /// password ever logs in to it, and no JWT to an account that has one.
    pub password_hash: Option<String>,
    /// Chosen at random when the account is created. Tokens name it, so that an account
    /// created again under the same id, after the store lost the first, does not accept the
    /// first one's tokens (spec CIM-5.2-10).
    pub generation: u64,
    /// When the user last logged out of all devices (ms since the Unix epoch; 0 for never):
    /// tokens issued until then are refused (spec CIM-14.2-10).
    pub logged_out_at_ms: u64,
}

impl UserRecord {
    /// A new account's record, with a fresh generation.
    pub fn new(
        user_id: impl Into<String>,
        user_name: impl Into<String>,
        password_hash: Option<String>,
    ) -> Self {
        let generation = u64::from_le_bytes(crate::random_bytes::<8>()).max(1);
        Self {
            user_id: user_id.into(),
            user_name: user_name.into(),
            password_hash,
            generation,
            logged_out_at_ms: 0,
        }
    }

    /// Whether a token issued at `issued_at_ms` predates a Logout of all devices.
    pub fn logged_out_since(&self, issued_at_ms: u64) -> bool {
        issued_at_ms <= self.logged_out_at_ms
    }
}

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

/// A message to accept: dedupe it and append it to every recipient's inbox, atomically.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMessage {
    /// The authenticated sender.
    pub sender: String,
    /// The sender's dedupe key.
    pub client_msg_id: String,
    /// Users whose inboxes get the message; empty for a live-only broadcast (only the
    /// dedupe record is kept).
    pub recipients: Vec<String>,
    /// The original recipient, as delivered.
    pub to: wire::Recipient,
    /// Body type.
    pub content_type: String,
    /// Opaque body.
    pub body: Bytes,
    /// Server message id chosen for it (used unless it is a duplicate).
    pub message_id: String,
    /// Acceptance time, ms since the Unix epoch (the time in `message_id`).
    pub sent_at_ms: u64,
}

/// What became of a [`NewMessage`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Stored: one inbox entry per recipient.
    Stored {
        /// `(recipient, seq)` of each entry, in recipient order.
        entries: Vec<(String, u64)>,
    },
    /// This client message id was accepted before: nothing stored now.
    Duplicate {
        /// The original message id.
        message_id: String,
        /// The original acceptance time.
        sent_at_ms: u64,
    },
}

pub use cim_core::server::InboxHead;

/// What a rate counter has seen in its current window (see [`Store::rate_hit`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateCount {
    /// Events counted in the window so far.
    pub count: u64,
    /// Milliseconds until the window ends and the count starts over; 0 without a window.
    pub resets_in_ms: u64,
}

/// A named group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    /// Its id.
    pub group_id: String,
    /// Members, ascending.
    pub members: Vec<String>,
}

/// Everything the route and servers keep about users (spec §8, §9, §14). Implementations:
/// [`MemoryStore`](crate::MemoryStore) here, Redis with the cluster.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// One line for logs and `/healthz`: `memory`, `redis://…`.
    fn describe(&self) -> String;
    /// Whether the backend answers.
    async fn health(&self) -> Result<(), StoreError>;
    /// Inbox entries held in all, for `/metrics`, if the backend can count them cheaply.
    async fn inbox_entries(&self) -> Option<u64> {
        None
    }

    /// Creates an account; `AlreadyExists` if the id is taken.
    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError>;
    /// The account with this id.
    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Accounts whose name starts with `prefix`, by name, at most `limit`.
    async fn users_by_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<UserRecord>, StoreError>;

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

    /// Ends every login of `user_id` issued until `at_ms` (Logout of all devices): sets the
    /// account's `logged_out_at_ms`, never moving it back. Nothing for an unknown user.
    async fn log_out_everywhere(&self, user_id: &str, at_ms: u64) -> Result<(), StoreError>;
    /// Marks a login as ended (logout) until `until_ms`, when its token expires anyway.
    async fn end_login(&self, login_id: &str, until_ms: u64) -> Result<(), StoreError>;
    /// Whether the login was ended.
    async fn is_login_ended(&self, login_id: &str) -> Result<bool, StoreError>;

    /// Dedupes and stores a message in every recipient's inbox, all or nothing.
    async fn accept_message(&self, message: NewMessage) -> Result<Accepted, StoreError>;
    /// The message id and time under which `sender` had `client_msg_id` accepted, if it is
    /// still remembered for dedupe; read only.
    async fn accepted_before(
        &self,
        sender: &str,
        client_msg_id: &str,
    ) -> Result<Option<(String, u64)>, StoreError>;
    /// The inbox's epoch and bounds (creating it if needed).
    async fn inbox_head(&self, user_id: &str) -> Result<InboxHead, StoreError>;
    /// Entries from `from_seq` on, ascending, at most `limit`.
    async fn read_inbox(
        &self,
        user_id: &str,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<wire::Deliver>, StoreError>;
    /// Records the device's acknowledged position (never moving it back) and trims entries
    /// every known device has acknowledged.
    async fn ack_inbox(&self, user_id: &str, device_id: &str, up_to_seq: u64) -> Result<(), StoreError>;

    /// The count of the rate counter `key` in its current window (0 when none is running).
    /// Counters live in the store so that every route of a deployment counts together.
    async fn rate_count(&self, key: &str) -> Result<RateCount, StoreError>;
    /// Counts one event on the rate counter `key`, starting a window of `window_ms` when
    /// none is running, and returns the count with this event.
    async fn rate_hit(&self, key: &str, window_ms: u64) -> Result<RateCount, StoreError>;
    /// Takes back one event counted by [`rate_hit`](Self::rate_hit) in the window still
    /// running, if any: an attempt counted up front that turned out not to count.
    async fn rate_undo(&self, key: &str) -> Result<(), StoreError>;

    /// Creates a group with `creator` and `members`; `AlreadyExists` or `NotFound` (a member).
    async fn create_group(
        &self,
        group_id: &str,
        creator: &str,
        members: &[String],
    ) -> Result<GroupRecord, StoreError>;
    /// Adds the user (idempotent); `NotFound` for an unknown group.
    async fn join_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError>;
    /// Removes the user (idempotent); `NotFound` for an unknown group.
    async fn leave_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError>;
    /// The group, if it exists.
    async fn group(&self, group_id: &str) -> Result<Option<GroupRecord>, StoreError>;
    /// Groups the user belongs to, by id.
    async fn groups_of(&self, user_id: &str) -> Result<Vec<GroupRecord>, StoreError>;
}
