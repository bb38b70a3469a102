//! Waking sessions: how a new inbox entry or a broadcast reaches connected devices.

use async_trait::async_trait;
use cim_core::wire;

/// Hands pushes to the sessions they are for (spec §15.2). A push is a wake-up, not the
/// record: the inbox holds the entry, so a lost push is repaired by the session's own
/// catch-up or by replay after a reconnect. Implementations: a server's local session table,
/// and (with the cluster) internal gRPC to the servers that hold the users' sessions.
#[async_trait]
pub trait Fanout: Send + Sync + 'static {
    /// Delivers each push to every session of its user (but `except_session_id`). A push with
    /// seq 0 and recipient `everyone` is a broadcast: `user_id` is empty and it goes to every
    /// session (but the sender's).
    async fn push(&self, pushes: Vec<wire::Push>);
    /// Ends sessions of `user_id` with a GoAway: one session, or all of them when
    /// `session_id` is `None`. Returns how many were ended.
    async fn end_sessions(&self, user_id: &str, session_id: Option<&str>, reason: wire::GoAwayReason) -> u32;
}
