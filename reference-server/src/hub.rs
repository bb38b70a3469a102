//! The sessions connected to this server, by user: where pushes and GoAways are handed to
//! connection tasks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use cim_backend::{Fanout, SessionRecord};
use cim_core::wire;
use tokio::sync::{Notify, mpsc};

/// What the hub tells a connection task.
#[derive(Debug)]
pub(crate) enum Command {
    /// A new inbox entry, or a live broadcast (seq 0).
    Deliver(wire::Deliver),
    /// End the session with a GoAway.
    GoAway(wire::GoAwayReason, String),
}

/// Room for commands per connection. A session that falls this far behind is a slow consumer:
/// it is closed and catches up from its inbox after reconnecting (spec §10.4).
pub(crate) const COMMAND_QUEUE: usize = 1024;

/// A connection task's mailbox.
#[derive(Clone)]
pub(crate) struct Mailbox {
    pub(crate) session_id: String,
    tx: mpsc::Sender<Command>,
    /// Tells the task its mailbox overflowed.
    overflow: Arc<Notify>,
}

impl Mailbox {
    pub(crate) fn new(session_id: String) -> (Self, mpsc::Receiver<Command>, Arc<Notify>) {
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let overflow = Arc::new(Notify::new());
        (Self { session_id, tx, overflow: overflow.clone() }, rx, overflow)
    }

    fn post(&self, command: Command) {
        if self.tx.try_send(command).is_err() {
            self.overflow.notify_one();
        }
    }
}

/// Connected sessions by user.
#[derive(Default)]
pub(crate) struct Hub {
    users: Mutex<HashMap<String, Vec<Mailbox>>>,
    /// The presence records of the sessions here, by session id, refreshed periodically.
    presence: Mutex<HashMap<String, SessionRecord>>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Mailbox>>> {
        self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn add(&self, user_id: &str, mailbox: Mailbox) {
        self.lock().entry(user_id.to_owned()).or_default().push(mailbox);
    }

    /// Keeps a session's presence record for the periodic refresh.
    pub(crate) fn remember(&self, record: SessionRecord) {
        self.presence.lock().unwrap_or_else(|p| p.into_inner()).insert(record.session_id.clone(), record);
    }

    /// The presence records of every session here.
    pub(crate) fn presence(&self) -> Vec<SessionRecord> {
        self.presence.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    pub(crate) fn remove(&self, user_id: &str, session_id: &str) {
        self.presence.lock().unwrap_or_else(|p| p.into_inner()).remove(session_id);
        let mut users = self.lock();
        if let Some(sessions) = users.get_mut(user_id) {
            sessions.retain(|m| m.session_id != session_id);
            if sessions.is_empty() {
                users.remove(user_id);
            }
        }
    }

    /// Whether a session of `user_id` is here.
    pub(crate) fn holds(&self, user_id: &str) -> bool {
        self.lock().contains_key(user_id)
    }

    pub(crate) fn session_count(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Sends GoAway to every session (shutdown).
    pub(crate) fn go_away_all(&self, reason: wire::GoAwayReason, message: &str) {
        for mailbox in self.lock().values().flatten() {
            mailbox.post(Command::GoAway(reason, message.to_owned()));
        }
    }
}

#[async_trait]
impl Fanout for Hub {
    async fn push(&self, pushes: Vec<wire::Push>) {
        let users = self.lock();
        for push in pushes {
            let Some(deliver) = push.deliver else { continue };
            let broadcast = deliver.seq == 0 && push.user_id.is_empty();
            let targets: Box<dyn Iterator<Item = &Mailbox>> = if broadcast {
                Box::new(users.values().flatten())
            } else {
                Box::new(users.get(&push.user_id).into_iter().flatten())
            };
            for mailbox in targets.filter(|m| m.session_id != push.except_session_id) {
                mailbox.post(Command::Deliver(deliver.clone()));
            }
        }
    }

    async fn end_sessions(&self, user_id: &str, session_id: Option<&str>, reason: wire::GoAwayReason) -> u32 {
        let users = self.lock();
        let mut ended = 0;
        for mailbox in users.get(user_id).into_iter().flatten() {
            if session_id.is_none_or(|id| id == mailbox.session_id) {
                mailbox.post(Command::GoAway(reason, String::new()));
                ended += 1;
            }
        }
        ended
    }
}
