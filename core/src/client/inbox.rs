//! The client's view of its inbox: position, epoch and dedupe (spec §8, §9.1).

use std::collections::{HashSet, VecDeque};

use crate::wire::{self, ResumeOutcome};

/// Where this device is in its user's inbox, and which messages it has already seen.
#[derive(Debug)]
pub(crate) struct Inbox {
    /// `None` until the first Welcome (or a stored resume point) tells the epoch.
    epoch: Option<u64>,
    /// Highest sequence handed to the application: the resume point.
    processed: u64,
    /// Highest sequence received, handed out or still queued for the application.
    received: u64,
    /// Highest sequence the server delivered on the current connection: a DeliverAck may
    /// not go beyond it (spec §8.3).
    delivered_on_connection: u64,
    /// Last DeliverAck sent on the current connection.
    acked_on_connection: u64,
    recent: RecentIds,
}

/// What to do with a Deliver.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// New: hand it to the application.
    Fresh,
    /// Already seen: drop it.
    Duplicate,
    /// The server skipped or repeated a sequence number on this session (CIM-8.2-6).
    OutOfSequence {
        /// The seq that was due.
        expected: u64,
    },
}

impl Inbox {
    pub(crate) fn new(resume: Option<wire::ResumePoint>, dedupe_window: usize) -> Self {
        let processed = resume.map_or(0, |r| r.last_acked_seq);
        Self {
            epoch: resume.map(|r| r.epoch),
            processed,
            received: processed,
            delivered_on_connection: 0,
            acked_on_connection: 0,
            recent: RecentIds::new(dedupe_window),
        }
    }

    pub(crate) fn resume_point(&self) -> Option<wire::ResumePoint> {
        self.epoch.map(|epoch| wire::ResumePoint { epoch, last_acked_seq: self.processed })
    }

    pub(crate) fn epoch(&self) -> Option<u64> {
        self.epoch
    }

    /// Applies the server's answer to our resume point at the start of a connection.
    pub(crate) fn connected(&mut self, result: &wire::ResumeResult) {
        let outcome = ResumeOutcome::try_from(result.outcome).unwrap_or(ResumeOutcome::Unspecified);
        let start = result.next_seq.saturating_sub(1);
        // Welcome's position is acknowledged by the Welcome itself (CIM-8.3-4, CIM-8.4-10).
        self.delivered_on_connection = start;
        self.acked_on_connection = start;
        if outcome == ResumeOutcome::Resumed && self.epoch == Some(result.epoch) {
            // Keep our own position: it may be ahead of what the server has recorded.
            return;
        }
        self.epoch = Some(result.epoch);
        self.processed = start;
        self.received = start;
    }

    /// Classifies a Deliver received on the current connection.
    pub(crate) fn receive(&mut self, deliver: &wire::Deliver) -> Verdict {
        if deliver.seq > 0 {
            let expected = self.delivered_on_connection + 1;
            if deliver.seq != expected {
                return Verdict::OutOfSequence { expected };
            }
            self.delivered_on_connection = deliver.seq;
            if deliver.seq <= self.received {
                return Verdict::Duplicate;
            }
            self.received = deliver.seq;
        }
        if !self.recent.insert(&deliver.message_id) {
            return Verdict::Duplicate;
        }
        Verdict::Fresh
    }

    /// The application took the message with `seq` of `epoch`.
    pub(crate) fn processed(&mut self, epoch: Option<u64>, seq: u64) {
        if seq > 0 && epoch == self.epoch {
            self.processed = self.processed.max(seq);
        }
    }

    /// The cumulative DeliverAck due on the current connection, if any.
    pub(crate) fn take_ack(&mut self) -> Option<u64> {
        let up_to = self.processed.min(self.delivered_on_connection);
        (up_to > self.acked_on_connection).then(|| {
            self.acked_on_connection = up_to;
            up_to
        })
    }
}

/// A bounded set of the most recent message ids.
#[derive(Debug)]
struct RecentIds {
    order: VecDeque<String>,
    set: HashSet<String>,
    capacity: usize,
}

impl RecentIds {
    fn new(capacity: usize) -> Self {
        Self { order: VecDeque::new(), set: HashSet::new(), capacity: capacity.max(1) }
    }

    /// False if `id` was already present.
    fn insert(&mut self, id: &str) -> bool {
        if id.is_empty() {
            return true; // no id, nothing to dedupe by
        }
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        self.order.push_back(id.to_owned());
        self.set.insert(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deliver(seq: u64, id: &str) -> wire::Deliver {
        wire::Deliver { seq, message_id: id.into(), ..Default::default() }
    }

    fn welcome(outcome: ResumeOutcome, epoch: u64, next_seq: u64) -> wire::ResumeResult {
        wire::ResumeResult { outcome: outcome as i32, epoch, next_seq }
    }

    #[test]
    fn duplicates_by_seq_and_by_id_are_dropped() {
        let mut inbox = Inbox::new(None, 4);
        inbox.connected(&welcome(ResumeOutcome::Fresh, 7, 1));
        assert_eq!(inbox.receive(&deliver(1, "m1")), Verdict::Fresh);
        assert_eq!(inbox.receive(&deliver(0, "b1")), Verdict::Fresh);
        assert_eq!(inbox.receive(&deliver(0, "b1")), Verdict::Duplicate);
        // Reconnect before the application took seq 1: it is replayed, and dropped.
        inbox.connected(&welcome(ResumeOutcome::Resumed, 7, 1));
        assert_eq!(inbox.receive(&deliver(1, "m1")), Verdict::Duplicate);
        // A new epoch renumbers, but the message id still betrays a re-delivery.
        inbox.connected(&welcome(ResumeOutcome::EpochChanged, 8, 1));
        assert_eq!(inbox.receive(&deliver(1, "m1")), Verdict::Duplicate);
        assert_eq!(inbox.receive(&deliver(2, "m2")), Verdict::Fresh);
    }

    #[test]
    fn skipped_or_repeated_seq_on_a_session_is_out_of_sequence() {
        let mut inbox = Inbox::new(None, 4);
        inbox.connected(&welcome(ResumeOutcome::Fresh, 1, 5));
        assert_eq!(inbox.receive(&deliver(6, "a")), Verdict::OutOfSequence { expected: 5 });
        assert_eq!(inbox.receive(&deliver(5, "a")), Verdict::Fresh);
        assert_eq!(inbox.receive(&deliver(5, "a")), Verdict::OutOfSequence { expected: 6 });
    }

    #[test]
    fn acks_never_exceed_what_this_connection_delivered() {
        let mut inbox = Inbox::new(None, 16);
        inbox.connected(&welcome(ResumeOutcome::Fresh, 1, 1));
        inbox.receive(&deliver(1, "a"));
        inbox.receive(&deliver(2, "b"));
        assert_eq!(inbox.take_ack(), None, "nothing processed yet");
        inbox.processed(Some(1), 1);
        assert_eq!(inbox.take_ack(), Some(1));
        assert_eq!(inbox.take_ack(), None);
        // Reconnect before the app took seq 2: the new connection resumes after 1 and
        // re-delivers 2 as a duplicate, which still allows acking it.
        inbox.connected(&welcome(ResumeOutcome::Resumed, 1, 2));
        inbox.processed(Some(1), 2);
        assert_eq!(inbox.take_ack(), None, "seq 2 not delivered on this connection yet");
        assert_eq!(inbox.receive(&deliver(2, "b")), Verdict::Duplicate);
        assert_eq!(inbox.take_ack(), Some(2));
        assert_eq!(inbox.resume_point(), Some(wire::ResumePoint { epoch: 1, last_acked_seq: 2 }));
    }

    #[test]
    fn recent_ids_forget_the_oldest() {
        let mut ids = RecentIds::new(2);
        assert!(ids.insert("a"));
        assert!(ids.insert("b"));
        assert!(ids.insert("c"));
        assert!(ids.insert("a"), "a was evicted");
        assert!(!ids.insert("c"));
    }
}
