//! The sessions connected to this server, by user: where pushes and GoAways are handed to
//! connection tasks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use cim_backend::{Fanout, SessionRecord};
use cim_core::wire;
use tokio::sync::Notify;

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

/// What a connection task takes out of its inbox at once.
pub(crate) enum Mail {
    /// Commands, oldest first.
    Commands(VecDeque<Command>),
    /// The queue overflowed: the session is a slow consumer.
    Overflowed,
}

/// An open session as the hub and its connection task share it: who it is, for presence,
/// and the queue of commands for the task. One allocation per session; the queue, unlike a
/// channel, holds no memory until a command arrives and gives it back once drained.
pub(crate) struct Session {
    pub(crate) user_id: String,
    pub(crate) device_id: String,
    pub(crate) session_id: String,
    pub(crate) connected_at_ms: u64,
    queue: Mutex<Queue>,
    ready: Notify,
}

#[derive(Default)]
struct Queue {
    commands: VecDeque<Command>,
    overflowed: bool,
}

impl Session {
    pub(crate) fn new(user_id: String, device_id: String, session_id: String, connected_at_ms: u64) -> Self {
        Self {
            user_id,
            device_id,
            session_id,
            connected_at_ms,
            queue: Mutex::default(),
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn post(&self, command: Command) {
        {
            let mut queue = self.lock();
            if queue.overflowed {
                return;
            }
            if queue.commands.len() >= COMMAND_QUEUE {
                queue.overflowed = true;
                queue.commands = VecDeque::new();
            } else {
                queue.commands.push_back(command);
            }
        }
        self.ready.notify_one();
    }

    /// Waits for commands and takes all of them. Cancel-safe: a command posted meanwhile
    /// leaves a permit in `ready`, so the next call sees it.
    pub(crate) async fn next(&self) -> Mail {
        loop {
            {
                let mut queue = self.lock();
                if queue.overflowed {
                    return Mail::Overflowed;
                }
                if !queue.commands.is_empty() {
                    return Mail::Commands(std::mem::take(&mut queue.commands));
                }
            }
            self.ready.notified().await;
        }
    }

    /// Its presence record on `server_id`.
    fn record(&self, server_id: &str, expires_at_ms: u64) -> SessionRecord {
        SessionRecord {
            session_id: self.session_id.clone(),
            user_id: self.user_id.clone(),
            device_id: self.device_id.clone(),
            server_id: server_id.to_owned(),
            connected_at_ms: self.connected_at_ms,
            expires_at_ms,
        }
    }
}

/// Connected sessions by user.
#[derive(Default)]
pub(crate) struct Hub {
    users: Mutex<HashMap<String, Vec<Arc<Session>>>>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Arc<Session>>>> {
        self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn add(&self, session: Arc<Session>) {
        self.lock().entry(session.user_id.clone()).or_default().push(session);
    }

    /// The presence records of every session here, for the periodic refresh.
    pub(crate) fn presence(&self, server_id: &str, expires_at_ms: u64) -> Vec<SessionRecord> {
        self.lock().values().flatten().map(|s| s.record(server_id, expires_at_ms)).collect()
    }

    pub(crate) fn remove(&self, user_id: &str, session_id: &str) {
        let mut users = self.lock();
        if let Some(sessions) = users.get_mut(user_id) {
            sessions.retain(|s| s.session_id != session_id);
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
        for session in self.lock().values().flatten() {
            session.post(Command::GoAway(reason, message.to_owned()));
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
            let targets: Box<dyn Iterator<Item = &Arc<Session>>> = if broadcast {
                Box::new(users.values().flatten())
            } else {
                Box::new(users.get(&push.user_id).into_iter().flatten())
            };
            for session in targets.filter(|s| s.session_id != push.except_session_id) {
                session.post(Command::Deliver(deliver.clone()));
            }
        }
    }

    async fn end_sessions(&self, user_id: &str, session_id: Option<&str>, reason: wire::GoAwayReason) -> u32 {
        let users = self.lock();
        let mut ended = 0;
        for session in users.get(user_id).into_iter().flatten() {
            if session_id.is_none_or(|id| id == session.session_id) {
                session.post(Command::GoAway(reason, String::new()));
                ended += 1;
            }
        }
        ended
    }
}
