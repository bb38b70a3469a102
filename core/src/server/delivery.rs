//! Which inbox entries a session delivers, in which order, and when it asks the store
//! (spec §8.3, §15.2): the delivery cursor, catching up from the store, the periodic re-read
//! and the batching of acknowledgements.
//!
//! The store is the truth; pushes are a shortcut. A session delivers a pushed entry when it is
//! the very next one and nothing is waiting in the store before it. Pushes of one inbox can
//! arrive out of order (two senders' connections, or two servers, store into it together and
//! push independently), so an entry ahead of the next is held for a moment
//! ([`DeliveryConfig::reorder_wait`]) for the ones before it; if they do not come as pushes in
//! that time, the session reads them from the store, one page at a time, as it does for
//! anything else it may have missed.

use std::time::{Duration, Instant};

use crate::wire;

/// How a session reads its inbox. Shared by every session of a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Entries asked for per inbox read.
    pub page_size: usize,
    /// Longest a DeliverAck waits before the session asks for it to be recorded: a busy
    /// receiver acknowledges nearly every message, and each record is a store write. A lost
    /// record costs a redelivery, which the client's dedupe absorbs, never a message.
    pub ack_flush_delay: Duration,
    /// When, after Welcome, the inbox is read again without a push: just after a sender's
    /// cached route to this user has surely expired (spec §15.5), so that nothing sent on a
    /// stale route waits for the periodic re-read.
    pub first_reread: Duration,
    /// How often the inbox is read again after that (CIM-15.2-4): a push can be lost (a
    /// server died mid-push), the inbox cannot.
    pub reread_interval: Duration,
    /// Longest a pushed entry waits for the pushes of the entries before it before the session
    /// reads them from the store instead. Zero reads at once.
    pub reorder_wait: Duration,
    /// Most pushed entries held while they wait; one more sends the session to the store.
    pub reorder_capacity: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            page_size: 128,
            ack_flush_delay: Duration::from_millis(50),
            first_reread: Duration::from_millis(2500),
            reread_interval: crate::defaults::HEARTBEAT_INTERVAL,
            // Pushes of one store batch reach the hub microseconds apart, but a push from
            // another server waits for its PushBatch: tens of milliseconds behind a local one
            // under load (a group of 1,000 over two servers: 20 ms cost 18% more server
            // CPU per delivery than 100 ms). A push that is really lost costs this much delay.
            reorder_wait: Duration::from_millis(100),
            reorder_capacity: 64,
        }
    }
}

/// A read the session needs from the store, raised as
/// [`ServerEvent::ReadInbox`](super::ServerEvent::ReadInbox); answer it with
/// [`ServerSession::handle_inbox_read`](super::ServerSession::handle_inbox_read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InboxRequest {
    /// Read entries with seq ≥ this.
    pub from_seq: u64,
    /// At most this many.
    pub limit: usize,
    /// If set, first check that the inbox still has this epoch and answer
    /// [`InboxRead::EpochChanged`] if not: an inbox the store lost starts again in a new
    /// epoch, and its sessions learn of it by resuming (CIM-8.1-6).
    pub check_epoch: Option<u64>,
}

/// The store's answer to an [`InboxRequest`].
#[derive(Clone, Debug, PartialEq)]
pub enum InboxRead {
    /// The entries from `from_seq` on, in order, at most `limit`.
    Entries(Vec<wire::Deliver>),
    /// The inbox is in another epoch than the one asked to check.
    EpochChanged,
    /// The store could not answer.
    Failed(String),
}

/// Why delivery cannot go on: the session must end so that the device resumes.
pub(crate) struct Broken(pub(crate) &'static str);

/// The delivery state of one open session.
#[derive(Debug, Default)]
pub(crate) struct Delivery {
    /// Seq of the next inbox entry to deliver; 0 until the session is welcomed.
    next_seq: u64,
    epoch: u64,
    /// Entries at or after `next_seq` may be in the store without having been pushed here.
    catching_up: bool,
    check_epoch: bool,
    read_pending: bool,
    reread_at: Option<Instant>,
    /// Highest DeliverAck not yet handed out for recording, and when it will be.
    unrecorded_ack: Option<u64>,
    ack_due_at: Option<Instant>,
    /// Pushed entries ahead of `next_seq`, waiting for the ones before them. Boxed and only
    /// while there are some: an idle session carries one pointer.
    held: Option<Box<Held>>,
}

/// Pushed entries that arrived ahead of their turn.
#[derive(Debug)]
struct Held {
    /// By seq, ascending; none below `next_seq` at the time each was held.
    entries: Vec<wire::Deliver>,
    /// When the wait for the missing entries ends and the store is read.
    until: Instant,
}

/// What to do with a pushed entry.
pub(crate) enum PushVerdict {
    /// Deliver it now (and then whatever [`Delivery::take_held`] hands out).
    Deliver(wire::Deliver),
    /// Kept until the entries before it come, or the store is read.
    Held,
    /// Dropped: already delivered, or the store will supply it.
    Skip,
}

impl Delivery {
    /// Starts at `next_seq` of inbox epoch `epoch`, reading the store first.
    pub(crate) fn start(&mut self, now: Instant, config: &DeliveryConfig, epoch: u64, next_seq: u64) {
        self.next_seq = next_seq;
        self.epoch = epoch;
        self.read_from_store();
        self.reread_at = Some(now + config.first_reread);
    }

    /// A pushed entry (seq 0: a live-only broadcast, always delivered).
    pub(crate) fn on_push(
        &mut self,
        now: Instant,
        config: &DeliveryConfig,
        entry: wire::Deliver,
    ) -> PushVerdict {
        let seq = entry.seq;
        if seq == 0 || (seq == self.next_seq && !self.catching_up) {
            return PushVerdict::Deliver(entry);
        }
        if seq < self.next_seq || self.catching_up {
            return PushVerdict::Skip;
        }
        // Ahead of its turn: the entries in between are on their way as pushes, or only the
        // store has them.
        let held_now = self.held.as_ref().map_or(0, |held| held.entries.len());
        if held_now >= config.reorder_capacity || config.reorder_wait.is_zero() {
            self.read_from_store();
            return PushVerdict::Skip;
        }
        let held = self
            .held
            .get_or_insert_with(|| Box::new(Held { entries: Vec::new(), until: now + config.reorder_wait }));
        match held.entries.binary_search_by_key(&seq, |e| e.seq) {
            Ok(_) => {}
            Err(at) => held.entries.insert(at, entry),
        }
        PushVerdict::Held
    }

    /// The held entry that is next in turn, if any; call after each delivery until `None`.
    pub(crate) fn take_held(&mut self) -> Option<wire::Deliver> {
        let held = self.held.as_mut()?;
        while held.entries.first().is_some_and(|e| e.seq < self.next_seq) {
            held.entries.remove(0);
        }
        let next = match held.entries.first() {
            Some(first) if first.seq == self.next_seq && !self.catching_up => Some(held.entries.remove(0)),
            _ => None,
        };
        if held.entries.is_empty() {
            self.held = None;
        }
        next
    }

    /// Gives up on pushes: the store supplies what comes next (held entries included).
    fn read_from_store(&mut self) {
        self.catching_up = true;
        self.held = None;
    }

    /// An inbox entry was handed to the client.
    pub(crate) fn delivered(&mut self, seq: u64) {
        if seq != 0 {
            self.next_seq = self.next_seq.max(seq + 1);
        }
    }

    /// The next read to ask the store for, if one is due. `idle` says whether what was read
    /// before has been written out: one page at a time is held, not the whole backlog.
    pub(crate) fn poll_read(&mut self, config: &DeliveryConfig, idle: bool) -> Option<InboxRequest> {
        if !self.catching_up || self.read_pending || !idle {
            return None;
        }
        self.read_pending = true;
        let check_epoch = std::mem::take(&mut self.check_epoch).then_some(self.epoch);
        Some(InboxRequest { from_seq: self.next_seq, limit: config.page_size, check_epoch })
    }

    /// The store answered the read. Returns the entries read; those that are
    /// [next](Self::is_next) in turn are to be delivered.
    pub(crate) fn on_read(
        &mut self,
        config: &DeliveryConfig,
        read: InboxRead,
    ) -> Result<Vec<wire::Deliver>, Broken> {
        if !std::mem::take(&mut self.read_pending) {
            return Ok(Vec::new()); // not asked for: ignore
        }
        let entries = match read {
            InboxRead::Entries(entries) => entries,
            InboxRead::EpochChanged => {
                return Err(Broken("the inbox was lost and starts again; reconnect to resume"));
            }
            InboxRead::Failed(_) => return Err(Broken("inbox unavailable")),
        };
        // Entries this session was still to deliver left the inbox unread (they passed the
        // retention period): skipping them would hide the loss. The device hears of it as a
        // GAP when it resumes (CIM-8.3-12).
        if entries.first().is_some_and(|first| first.seq > self.next_seq) {
            return Err(Broken("messages you had not received expired from your inbox; reconnect to resume"));
        }
        self.catching_up = entries.len() >= config.page_size;
        Ok(entries)
    }

    /// Whether `seq` is the entry to deliver next.
    pub(crate) fn is_next(&self, seq: u64) -> bool {
        seq == self.next_seq
    }

    /// A DeliverAck up to `seq` arrived (already checked against what was delivered).
    pub(crate) fn on_ack(&mut self, now: Instant, config: &DeliveryConfig, seq: u64) {
        self.unrecorded_ack = Some(self.unrecorded_ack.map_or(seq, |a| a.max(seq)));
        self.ack_due_at.get_or_insert(now + config.ack_flush_delay);
    }

    /// The acknowledgement to record, if one waits and its time has come.
    pub(crate) fn take_due_ack(&mut self, now: Instant) -> Option<u64> {
        if self.ack_due_at.is_some_and(|at| at <= now) { self.take_ack() } else { None }
    }

    /// The acknowledgement to record, if one waits, before its time (the session is ending).
    pub(crate) fn take_ack(&mut self) -> Option<u64> {
        self.ack_due_at = None;
        self.unrecorded_ack.take()
    }

    /// Starts the periodic re-read if it is due, or the read of what held entries wait for.
    pub(crate) fn on_timeout(&mut self, now: Instant, config: &DeliveryConfig) {
        if self.held.as_ref().is_some_and(|held| held.until <= now) {
            self.read_from_store();
        }
        if self.reread_at.is_some_and(|at| at <= now) {
            self.read_from_store();
            self.check_epoch = true;
            self.reread_at = Some(now + config.reread_interval.max(Duration::from_secs(1)));
        }
    }

    /// The earliest time [`on_timeout`](Self::on_timeout) or [`take_due_ack`](Self::take_due_ack) has
    /// work; `reading` says whether the session still reads its inbox.
    pub(crate) fn next_timeout(&self, reading: bool) -> Option<Instant> {
        let reread = self.reread_at.filter(|_| reading);
        let held = self.held.as_ref().map(|held| held.until).filter(|_| reading);
        [reread, held, self.ack_due_at].into_iter().flatten().min()
    }

    /// Whether a read would be asked for once the session is idle.
    pub(crate) fn wants_read(&self) -> bool {
        self.catching_up && !self.read_pending
    }
}
