//! The sessions connected to this server, by user: where pushes and GoAways are handed to
//! connection tasks.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use cim_backend::{Fanout, IdMap, SessionRecord};
use cim_core::wire;

/// What the hub tells a connection task.
#[derive(Debug)]
pub(crate) enum HubCommand {
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
    Commands(VecDeque<HubCommand>),
    /// The queue overflowed: the session is a slow consumer.
    Overflowed,
}

/// An open session as the hub and its connection task share it: who it is, for presence,
/// and the queue of commands for the task. One allocation per session; the queue, unlike a
/// channel, holds no memory until a command arrives and gives it back once drained, and the
/// task waits on it by polling, with no future of its own.
pub(crate) struct LiveSession {
    pub(crate) user_id: String,
    pub(crate) device_id: String,
    pub(crate) session_id: String,
    pub(crate) connected_at_ms: u64,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    commands: VecDeque<HubCommand>,
    overflowed: bool,
    /// The connection task, while it waits for commands.
    waiting: Option<Waker>,
}

impl LiveSession {
    pub(crate) fn new(user_id: String, device_id: String, session_id: String, connected_at_ms: u64) -> Self {
        Self { user_id, device_id, session_id, connected_at_ms, queue: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn post(&self, command: HubCommand) {
        let waiting = {
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
            queue.waiting.take()
        };
        // Woken outside the lock, so the task does not run into it.
        if let Some(task) = waiting {
            task.wake();
        }
    }

    /// Takes every queued command, or registers the task to be woken by the next one.
    pub(crate) fn poll_mail(&self, cx: &mut Context<'_>) -> Poll<Mail> {
        let mut queue = self.lock();
        if queue.overflowed {
            return Poll::Ready(Mail::Overflowed);
        }
        if !queue.commands.is_empty() {
            return Poll::Ready(Mail::Commands(std::mem::take(&mut queue.commands)));
        }
        match &mut queue.waiting {
            Some(task) if task.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Its presence record on `server_id`.
    pub(crate) fn record(&self, server_id: &str, expires_at_ms: u64) -> SessionRecord {
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
    users: Mutex<IdMap<String, Vec<Arc<LiveSession>>>>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, IdMap<String, Vec<Arc<LiveSession>>>> {
        self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn add(&self, session: Arc<LiveSession>) {
        self.lock().entry(session.user_id.clone()).or_default().push(session);
    }

    /// Every session here, for the periodic presence refresh.
    pub(crate) fn sessions(&self) -> Vec<Arc<LiveSession>> {
        self.lock().values().flatten().cloned().collect()
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
            session.post(HubCommand::GoAway(reason, message.to_owned()));
        }
    }

    /// [`Fanout::push`] for pushes that also go elsewhere: each session reached gets a copy,
    /// and pushes for users with no session here cost nothing (in a group spread over
    /// several servers, many of them).
    pub(crate) fn push_copies(&self, pushes: &[wire::Push]) {
        let users = self.lock();
        for push in pushes {
            let Some(deliver) = &push.deliver else { continue };
            for session in targets(&users, push, deliver.seq) {
                session.post(HubCommand::Deliver(deliver.clone()));
            }
        }
    }
}

/// The sessions here that `push`, whose Deliver has inbox seq `seq`, is for.
fn targets<'a>(
    users: &'a IdMap<String, Vec<Arc<LiveSession>>>,
    push: &'a wire::Push,
    seq: u64,
) -> impl Iterator<Item = &'a Arc<LiveSession>> {
    let broadcast = seq == 0 && push.user_id.is_empty();
    let sessions: Box<dyn Iterator<Item = &'a Arc<LiveSession>>> = if broadcast {
        Box::new(users.values().flatten())
    } else {
        Box::new(users.get(&push.user_id).into_iter().flatten())
    };
    sessions.filter(|s| s.session_id != push.except_session_id)
}

#[async_trait]
impl Fanout for Hub {
    async fn push(&self, pushes: Vec<wire::Push>) {
        let users = self.lock();
        for mut push in pushes {
            let Some(mut deliver) = push.deliver.take() else { continue };
            // Each session but the last gets a copy; the last (the only one, for most pushes)
            // takes the original.
            let mut targets = targets(&users, &push, deliver.seq).peekable();
            while let Some(session) = targets.next() {
                let deliver =
                    if targets.peek().is_some() { deliver.clone() } else { std::mem::take(&mut deliver) };
                session.post(HubCommand::Deliver(deliver));
            }
        }
    }

    async fn end_sessions(&self, user_id: &str, session_id: Option<&str>, reason: wire::GoAwayReason) -> u32 {
        let users = self.lock();
        let mut ended = 0;
        for session in users.get(user_id).into_iter().flatten() {
            if session_id.is_none_or(|id| id == session.session_id) {
                session.post(HubCommand::GoAway(reason, String::new()));
                ended += 1;
            }
        }
        ended
    }
}
