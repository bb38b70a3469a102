//! Inboxes: accepting a message exactly once and keeping it until every device has it
//! (spec §8).

use async_trait::async_trait;
use bytes::Bytes;
use cim_core::wire;

use crate::StoreError;

pub use cim_core::server::InboxHead;

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
    /// Server message id chosen for it (used unless it is a duplicate): a ULID whose time is
    /// `sent_at_ms` ([`cim_core::ulid`]), which a store may keep as its 16 bytes.
    pub message_id: String,
    /// Acceptance time, ms since the Unix epoch (the time in `message_id`).
    pub sent_at_ms: u64,
}

impl NewMessage {
    /// The Deliver of this message as inbox entry `seq` (0 for a stored form without one).
    pub fn deliver(&self, seq: u64) -> wire::Deliver {
        wire::Deliver {
            seq,
            message_id: self.message_id.clone(),
            from_user_id: self.sender.clone(),
            to: Some(self.to.clone()),
            content_type: self.content_type.clone(),
            body: self.body.clone(),
            sent_at_ms: self.sent_at_ms,
        }
    }
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

/// Every user's inbox and the senders' dedupe records: the message path.
#[async_trait]
pub trait InboxStore: Send + Sync + 'static {
    /// Dedupes and stores a message in every recipient's inbox, all or nothing.
    async fn accept_message(&self, message: NewMessage) -> Result<Accepted, StoreError>;
    /// [`accept_message`](Self::accept_message) for each of `messages`, in order: the
    /// Sends of one connection, which a store may take in one batch (spec CIM-9.2-1: they
    /// are processed in the order received). One answer per message, in the same order.
    async fn accept_messages(&self, messages: Vec<NewMessage>) -> Vec<Result<Accepted, StoreError>> {
        let mut answers = Vec::with_capacity(messages.len());
        for message in messages {
            answers.push(self.accept_message(message).await);
        }
        answers
    }
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
    /// Inbox entries held in all, for `/metrics`, if the backend can count them cheaply.
    async fn inbox_entries(&self) -> Option<u64> {
        None
    }
}
