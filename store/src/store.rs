//! The `Store` trait, one backend that keeps everything, and [`Stores`], the handle the route
//! and servers hold: one part per concern, so that a part can be replaced alone.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{AccountStore, GroupStore, InboxStore, PresenceStore, RateStore};

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

/// A backend that keeps all of a deployment's data: accounts, presence, inboxes, groups and
/// rate counters. Implementations: [`MemoryStore`](crate::MemoryStore) here, Redis with the
/// cluster.
#[async_trait]
pub trait Store: AccountStore + PresenceStore + InboxStore + GroupStore + RateStore {
    /// One line for logs and `/healthz`: `memory`, `redis://…`.
    fn describe(&self) -> String;
    /// Whether the backend answers.
    async fn health(&self) -> Result<(), StoreError>;
}

/// What the route and servers keep, one handle per concern (spec §8, §9, §10, §14). Usually
/// every part is the same [`Store`]; a test replaces one part (say a faulty inbox) with
/// [`with_inbox`](Self::with_inbox) and keeps the rest. Cloning copies five `Arc`s.
#[derive(Clone)]
pub struct Stores {
    /// Accounts and ended logins.
    pub accounts: Arc<dyn AccountStore>,
    /// Connected sessions.
    pub presence: Arc<dyn PresenceStore>,
    /// Inboxes and dedupe records.
    pub inbox: Arc<dyn InboxStore>,
    /// Groups.
    pub groups: Arc<dyn GroupStore>,
    /// Rate counters.
    pub rates: Arc<dyn RateStore>,
    backend: Arc<dyn Store>,
}

impl Stores {
    /// Every part from one backend.
    pub fn new(backend: Arc<dyn Store>) -> Self {
        Self {
            accounts: backend.clone(),
            presence: backend.clone(),
            inbox: backend.clone(),
            groups: backend.clone(),
            rates: backend.clone(),
            backend,
        }
    }

    /// The same, with `inbox` in place of the backend's inboxes.
    #[must_use]
    pub fn with_inbox(mut self, inbox: Arc<dyn InboxStore>) -> Self {
        self.inbox = inbox;
        self
    }

    /// The backend's one line for logs and `/healthz`.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Whether the backend answers.
    pub async fn health(&self) -> Result<(), StoreError> {
        self.backend.health().await
    }
}

impl<S: Store> From<Arc<S>> for Stores {
    fn from(backend: Arc<S>) -> Self {
        Self::new(backend)
    }
}

impl From<Arc<dyn Store>> for Stores {
    fn from(backend: Arc<dyn Store>) -> Self {
        Self::new(backend)
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").field("backend", &self.describe()).finish_non_exhaustive()
    }
}
