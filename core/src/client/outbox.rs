//! Sends the application made that the server has not answered yet (spec §7.2, §9.2).

use std::collections::VecDeque;

use crate::wire;

/// Unanswered Sends in the order the application made them. The first `in_flight` entries
/// are on the wire; the rest wait for window space or a connection. After a reconnect every
/// entry is sent again, in order, with its original id, so the server's dedupe turns a
/// retransmission of an accepted message into a duplicate SendAck.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    entries: VecDeque<wire::Send>,
    in_flight: usize,
}

impl Outbox {
    pub(crate) fn push(&mut self, send: wire::Send) {
        self.entries.push_back(send);
    }

    /// Whether an entry waits and the window has room for it.
    pub(crate) fn can_send(&self, window: usize) -> bool {
        self.in_flight < window && self.in_flight < self.entries.len()
    }

    /// The next entry to put on the wire, if the window allows one.
    pub(crate) fn next_to_send(&mut self, window: usize) -> Option<&wire::Send> {
        if self.in_flight >= window {
            return None;
        }
        let send = self.entries.get(self.in_flight)?;
        self.in_flight += 1;
        Some(send)
    }

    /// Removes the entry the server answered, if it is in flight.
    pub(crate) fn answer(&mut self, client_msg_id: &str) -> Option<wire::Send> {
        let index = self.position_in_flight(client_msg_id)?;
        self.in_flight -= 1;
        self.entries.remove(index)
    }

    /// Puts a rejected-but-retryable entry back at the head of the waiting part.
    pub(crate) fn requeue(&mut self, client_msg_id: &str) -> bool {
        let Some(index) = self.position_in_flight(client_msg_id) else {
            return false;
        };
        let Some(send) = self.entries.remove(index) else {
            return false;
        };
        self.in_flight -= 1;
        self.entries.insert(self.in_flight, send);
        true
    }

    /// The connection is gone: everything becomes unsent again.
    pub(crate) fn connection_lost(&mut self) {
        self.in_flight = 0;
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|send| send.client_msg_id.as_str())
    }

    fn position_in_flight(&self, client_msg_id: &str) -> Option<usize> {
        self.entries.iter().take(self.in_flight).position(|send| send.client_msg_id == client_msg_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(id: &str) -> wire::Send {
        wire::Send { client_msg_id: id.into(), ..Default::default() }
    }

    fn sent_ids(outbox: &mut Outbox, window: usize) -> Vec<String> {
        std::iter::from_fn(|| outbox.next_to_send(window).map(|s| s.client_msg_id.clone())).collect()
    }

    #[test]
    fn window_limits_what_goes_out_and_answers_open_it() {
        let mut outbox = Outbox::default();
        for id in ["a", "b", "c"] {
            outbox.push(send(id));
        }
        assert_eq!(sent_ids(&mut outbox, 2), ["a", "b"]);
        assert!(outbox.answer("c").is_none(), "c is not on the wire yet");
        assert_eq!(outbox.answer("a").map(|s| s.client_msg_id), Some("a".into()));
        assert_eq!(sent_ids(&mut outbox, 2), ["c"]);
    }

    #[test]
    fn lost_connection_resends_everything_in_order() {
        let mut outbox = Outbox::default();
        for id in ["a", "b", "c"] {
            outbox.push(send(id));
        }
        assert_eq!(sent_ids(&mut outbox, 8).len(), 3);
        outbox.answer("b");
        outbox.connection_lost();
        assert_eq!(sent_ids(&mut outbox, 8), ["a", "c"]);
    }

    #[test]
    fn requeued_entry_goes_out_again_before_later_ones() {
        let mut outbox = Outbox::default();
        for id in ["a", "b", "c"] {
            outbox.push(send(id));
        }
        assert_eq!(sent_ids(&mut outbox, 2), ["a", "b"]);
        assert!(outbox.requeue("a"));
        assert_eq!(outbox.ids().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(sent_ids(&mut outbox, 3), ["a", "c"]);
    }
}
