//! The server session's delivery state under a virtual clock: catching up from the store a
//! page at a time, pushes that skip ahead (held for the ones before them, then the store),
//! entries that left the inbox unread, the periodic
//! re-read with its epoch check, and batched acknowledgements (spec §8.3, §15.2).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cim_core::codec::{self, FrameDecoder};
use cim_core::server::{InboxRead, InboxRequest, ServerConfig, ServerEvent, ServerSession, WelcomeInfo};
use cim_core::wire::{self, frame::Body};
use cim_core::{ConnectionError, ErrorCode, Framing};
use support::FakeVerifier;

const PAGE: usize = 4;
const FIRST_REREAD: Duration = Duration::from_secs(3);
const REREAD: Duration = Duration::from_secs(30);
const ACK_DELAY: Duration = Duration::from_millis(50);
const EPOCH: u64 = 9;
const REORDER_WAIT: Duration = Duration::from_millis(20);
const REORDER_CAPACITY: usize = 8;

struct Device {
    now: Instant,
    session: ServerSession,
    decoder: FrameDecoder,
}

impl Device {
    /// A session welcomed at `next_seq`, its first inbox read not yet answered.
    fn welcomed_at(next_seq: u64) -> Self {
        let mut config = ServerConfig::new(Arc::new(FakeVerifier), Framing::LengthPrefixed);
        config.delivery.page_size = PAGE;
        config.delivery.first_reread = FIRST_REREAD;
        config.delivery.reread_interval = REREAD;
        config.delivery.ack_flush_delay = ACK_DELAY;
        config.delivery.reorder_wait = REORDER_WAIT;
        config.delivery.reorder_capacity = REORDER_CAPACITY;
        let now = Instant::now();
        let mut device = Self {
            now,
            session: ServerSession::new(Arc::new(config), now),
            decoder: FrameDecoder::new(u32::MAX),
        };
        device.write(Body::Hello(wire::Hello {
            versions: vec![1],
            token: "tok:bob".into(),
            device_id: "phone".into(),
            ..Default::default()
        }));
        assert!(matches!(device.events()[..], [ServerEvent::HelloVerified(_)]));
        let outcome = wire::ResumeOutcome::Resumed as i32;
        let info = WelcomeInfo {
            session_id: "s".into(),
            resume: wire::ResumeResult { outcome, epoch: EPOCH, next_seq },
            server_id: "srv".into(),
            server_time_ms: 0,
        };
        device.session.welcome(now, info).expect("verified");
        assert!(matches!(device.frames()[..], [Body::Welcome(_)]));
        device
    }

    /// Welcomed at `next_seq` with nothing stored from there on.
    fn caught_up_at(next_seq: u64) -> Self {
        let mut device = Self::welcomed_at(next_seq);
        assert_eq!(device.read_request().from_seq, next_seq);
        device.session.handle_inbox_read(InboxRead::Entries(Vec::new()));
        device
    }

    fn write(&mut self, body: Body) {
        let mut bytes = Vec::new();
        codec::encode_frame(&body, Framing::LengthPrefixed, &mut bytes);
        self.session.handle_input(self.now, &bytes).expect("valid frame");
    }

    fn ack(&mut self, up_to_seq: u64) {
        self.write(Body::DeliverAck(wire::DeliverAck { up_to_seq }));
    }

    /// Frames the server wrote, decoded.
    fn frames(&mut self) -> Vec<Body> {
        support::written(&mut self.session, &mut self.decoder)
    }

    /// Seqs of the Delivers the server wrote.
    fn delivered(&mut self) -> Vec<u64> {
        self.frames()
            .into_iter()
            .map(|body| match body {
                Body::Deliver(d) => d.seq,
                other => panic!("expected only Delivers, got {other:?}"),
            })
            .collect()
    }

    fn events(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    /// The one inbox read the session asks for now.
    fn read_request(&mut self) -> InboxRequest {
        match &self.events()[..] {
            [ServerEvent::ReadInbox(request)] => *request,
            other => panic!("expected one inbox read, got {other:?}"),
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.session.handle_timeout(self.now);
    }

    fn fatal_code(&mut self) -> ErrorCode {
        let frames = self.frames();
        let Some(Body::Error(error)) = frames.last() else {
            panic!("expected a fatal Error, got {frames:?}")
        };
        assert!(self.session.is_finished());
        ErrorCode(error.code)
    }
}

fn entries(seqs: std::ops::RangeInclusive<u64>) -> InboxRead {
    InboxRead::Entries(
        seqs.map(|seq| wire::Deliver {
            seq,
            message_id: format!("m{seq}"),
            from_user_id: "alice".into(),
            body: Bytes::from(format!("text {seq}")),
            ..Default::default()
        })
        .collect(),
    )
}

fn push(seq: u64) -> wire::Deliver {
    wire::Deliver { seq, message_id: format!("m{seq}"), from_user_id: "alice".into(), ..Default::default() }
}

#[test]
fn a_backlog_is_read_a_page_at_a_time_each_once_the_last_was_written() {
    let mut device = Device::welcomed_at(1);
    let first = device.read_request();
    assert_eq!((first.from_seq, first.limit, first.check_epoch), (1, PAGE, None));
    device.session.handle_inbox_read(entries(1..=4));
    assert!(!device.session.has_event(), "no second page while the first waits to be written");
    assert!(device.events().is_empty());
    assert_eq!(device.delivered(), [1, 2, 3, 4]);
    assert!(device.session.has_event());
    assert_eq!(device.read_request().from_seq, 5);
    device.session.handle_inbox_read(entries(5..=6));
    assert_eq!(device.delivered(), [5, 6]);
    assert!(!device.session.has_event(), "a short page ends the catch-up");
    assert!(device.events().is_empty());
}

#[test]
fn pushes_during_catch_up_wait_for_the_store() {
    let mut device = Device::welcomed_at(1);
    device.read_request();
    device.session.handle_push(device.now, push(1));
    device.session.handle_push(device.now, push(2));
    assert!(device.delivered().is_empty(), "the store's order comes first");
    assert!(device.events().is_empty(), "one read at a time");
    device.session.handle_inbox_read(entries(1..=2));
    assert_eq!(device.delivered(), [1, 2], "each once");
    device.session.handle_push(device.now, push(3));
    assert_eq!(device.delivered(), [3], "caught up: the next push goes straight out");
}

#[test]
fn a_push_ahead_of_its_turn_waits_for_the_push_before_it() {
    let mut device = Device::caught_up_at(1);
    device.session.handle_push(device.now, push(3));
    device.session.handle_push(device.now, push(2));
    assert!(device.delivered().is_empty(), "seq 1 has not come: 2 and 3 must wait");
    assert!(device.events().is_empty(), "no store read while the pushes may still come");
    assert_eq!(device.session.poll_timeout(), Some(device.now + REORDER_WAIT));
    device.session.handle_push(device.now, push(1));
    assert_eq!(device.delivered(), [1, 2, 3], "in seq order, each once");
    assert!(device.events().is_empty());
    assert_eq!(device.session.poll_timeout(), Some(device.now + FIRST_REREAD), "nothing held any more");
    device.session.handle_push(device.now, push(2));
    assert!(device.delivered().is_empty(), "old pushes are dropped");
    device.session.handle_push(device.now, push(6));
    device.session.handle_push(device.now, push(4));
    assert_eq!(device.delivered(), [4], "4 was next");
    device.session.handle_push(device.now, push(5));
    assert_eq!(device.delivered(), [5, 6], "6 waited for 5");
    assert!(device.events().is_empty());
}

#[test]
fn a_push_ahead_of_a_lost_one_sends_the_session_to_the_store_after_the_wait() {
    let mut device = Device::caught_up_at(1);
    device.session.handle_push(device.now, push(2));
    device.advance(REORDER_WAIT - Duration::from_millis(1));
    assert!(device.events().is_empty(), "still waiting for seq 1");
    device.advance(Duration::from_millis(1));
    assert_eq!(device.read_request().from_seq, 1, "the store has seq 1");
    device.session.handle_push(device.now, push(3));
    assert!(device.delivered().is_empty(), "the store's order comes first");
    device.session.handle_inbox_read(entries(1..=3));
    assert_eq!(device.delivered(), [1, 2, 3], "each once");
    device.session.handle_push(device.now, push(2));
    device.session.handle_push(device.now, push(1));
    assert!(device.delivered().is_empty(), "old pushes are dropped");
    assert!(device.events().is_empty());
}

#[test]
fn more_pushes_ahead_than_can_be_held_send_the_session_to_the_store_at_once() {
    let mut device = Device::caught_up_at(1);
    for seq in 2..2 + REORDER_CAPACITY as u64 {
        device.session.handle_push(device.now, push(seq));
    }
    assert!(device.events().is_empty(), "all held");
    device.session.handle_push(device.now, push(2 + REORDER_CAPACITY as u64));
    assert_eq!(device.read_request().from_seq, 1, "one too many: the store is read now");
    device.session.handle_push(device.now, push(1));
    assert!(device.delivered().is_empty(), "held pushes were given up for the store");
}

#[test]
fn live_only_broadcasts_go_out_whatever_the_cursor() {
    let mut device = Device::welcomed_at(5);
    device.session.handle_push(device.now, push(0));
    assert_eq!(device.delivered(), [0]);
}

#[test]
fn entries_that_left_the_inbox_unread_end_the_session_so_the_device_sees_a_gap() {
    let mut device = Device::welcomed_at(3);
    device.read_request();
    // Seqs 3 and 4 expired before they were delivered (CIM-8.3-12).
    device.session.handle_inbox_read(entries(5..=6));
    assert_eq!(device.fatal_code(), ErrorCode::UNAVAILABLE);
}

#[test]
fn a_failed_read_ends_the_session_so_the_device_resumes_later() {
    let mut device = Device::welcomed_at(1);
    device.read_request();
    device.session.handle_inbox_read(InboxRead::Failed("redis went away".into()));
    assert_eq!(device.fatal_code(), ErrorCode::UNAVAILABLE);
    assert!(matches!(device.session.error(), Some(ConnectionError::Local { .. })));
}

#[test]
fn the_periodic_reread_finds_what_no_push_brought() {
    let mut device = Device::caught_up_at(1);
    assert_eq!(device.session.poll_timeout(), Some(device.now + FIRST_REREAD), "before the heartbeat");
    device.advance(FIRST_REREAD);
    let request = device.read_request();
    assert_eq!((request.from_seq, request.check_epoch), (1, Some(EPOCH)));
    device.session.handle_inbox_read(entries(1..=1));
    assert_eq!(device.delivered(), [1]);
    device.ack(1);
    device.advance(ACK_DELAY);
    assert_eq!(device.events(), [ServerEvent::RecordAck { up_to_seq: 1 }]);
    device.write(Body::Ping(wire::Ping { nonce: 1 }));
    device.frames();
    device.advance(REREAD - ACK_DELAY);
    assert_eq!(device.read_request().from_seq, 2, "again every interval");
}

#[test]
fn an_inbox_that_started_over_ends_the_session_at_the_next_reread() {
    let mut device = Device::caught_up_at(1);
    device.advance(FIRST_REREAD);
    device.read_request();
    device.session.handle_inbox_read(InboxRead::EpochChanged);
    assert_eq!(device.fatal_code(), ErrorCode::UNAVAILABLE);
}

#[test]
fn acknowledgements_are_gathered_and_the_last_is_raised_when_the_session_ends() {
    let mut device = Device::caught_up_at(1);
    for seq in 1..=3 {
        device.session.handle_push(device.now, push(seq));
    }
    assert_eq!(device.delivered(), [1, 2, 3]);
    device.ack(1);
    device.advance(Duration::from_millis(10));
    device.ack(2);
    assert!(device.events().is_empty(), "gathered");
    assert_eq!(device.session.poll_timeout(), Some(device.now + ACK_DELAY - Duration::from_millis(10)));
    device.advance(ACK_DELAY - Duration::from_millis(10));
    assert_eq!(device.events(), [ServerEvent::RecordAck { up_to_seq: 2 }], "one write for both");
    device.ack(3);
    device.session.handle_transport_closed();
    assert_eq!(device.events(), [ServerEvent::RecordAck { up_to_seq: 3 }], "not lost with the connection");
}

#[test]
fn a_session_ended_by_an_error_still_raises_its_last_acknowledgement() {
    let mut device = Device::caught_up_at(1);
    device.session.handle_push(device.now, push(1));
    device.delivered();
    device.ack(1);
    device.session.reject(ErrorCode::SLOW_CONSUMER, "too slow");
    assert_eq!(device.events(), [ServerEvent::RecordAck { up_to_seq: 1 }]);
}
