//! `ServerSession` against a scripted client: send this frame, expect that one.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cim_core::codec::{self, FrameDecoder};
use cim_core::server::{InboxRead, ServerConfig, ServerEvent, ServerSession, WelcomeInfo};
use cim_core::wire::{self, frame::Body, recipient};
use cim_core::{ConnectionError, ErrorCode, Framing};
use support::FakeVerifier;

struct Script {
    now: Instant,
    session: ServerSession,
    decoder: FrameDecoder,
}

impl Script {
    fn new() -> Self {
        Self::with(|_| {})
    }

    fn with(edit: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig::new(Arc::new(FakeVerifier), Framing::LengthPrefixed);
        // Acks are raised at once, and no periodic re-read interferes: tests/delivery.rs
        // covers both.
        config.delivery.ack_flush_delay = Duration::ZERO;
        config.delivery.first_reread = Duration::from_secs(24 * 3600);
        config.delivery.reread_interval = Duration::from_secs(24 * 3600);
        edit(&mut config);
        let now = Instant::now();
        Self { now, session: ServerSession::new(Arc::new(config), now), decoder: FrameDecoder::new(u32::MAX) }
    }

    fn send(&mut self, body: Body) -> Result<(), ConnectionError> {
        let mut bytes = Vec::new();
        codec::encode_frame(&body, Framing::LengthPrefixed, &mut bytes);
        self.session.handle_input(self.now, &bytes)
    }

    fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ConnectionError> {
        self.session.handle_input(self.now, bytes)
    }

    /// Everything the server wants to write now.
    fn received(&mut self) -> Vec<Body> {
        support::written(&mut self.session, &mut self.decoder)
    }

    fn events(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.session.handle_timeout(self.now);
    }

    /// Completes the handshake for `alice`.
    fn open(&mut self) {
        self.open_with(|_| {});
    }

    /// Completes the handshake and lets `check` look at the Welcome.
    fn open_with(&mut self, check: impl FnOnce(&wire::Welcome)) {
        self.send(hello("tok:alice")).expect("valid hello");
        assert!(matches!(self.events()[..], [ServerEvent::HelloVerified(_)]));
        let resume = wire::ResumeResult { outcome: wire::ResumeOutcome::Fresh as i32, epoch: 1, next_seq: 1 };
        let info =
            WelcomeInfo { session_id: "s1".into(), resume, server_id: "srv".into(), server_time_ms: 0 };
        self.session.welcome(self.now, info).expect("verified");
        let [Body::Welcome(welcome)] = &self.received()[..] else { panic!("expected Welcome") };
        check(welcome);
        self.empty_inbox();
    }

    /// Answers the session's first inbox read: nothing stored.
    fn empty_inbox(&mut self) {
        assert!(matches!(self.events()[..], [ServerEvent::ReadInbox(_)]), "a new session reads its inbox");
        self.session.handle_inbox_read(InboxRead::Entries(Vec::new()));
    }
}

fn hello(token: &str) -> Body {
    Body::Hello(wire::Hello {
        versions: vec![1],
        token: token.into(),
        device_id: "d1".into(),
        ..Default::default()
    })
}

fn send_to_bob(id: &str, body: &[u8]) -> Body {
    Body::Send(wire::Send {
        client_msg_id: id.into(),
        to: Some(wire::Recipient { kind: Some(recipient::Kind::UserId("bob".into())) }),
        content_type: String::new(),
        body: Bytes::copy_from_slice(body),
    })
}

/// The single fatal error the server wrote, and that it wants the connection closed.
fn expect_fatal(script: &mut Script, code: ErrorCode) {
    let frames = script.received();
    match &frames[..] {
        [.., Body::Error(error)] => {
            assert_eq!(ErrorCode(error.code), code, "{error:?}");
            assert!(error.client_msg_id.is_empty(), "fatal errors name no Send");
        }
        other => panic!("expected a fatal {code}, got {other:?}"),
    }
    assert!(script.session.is_finished(), "connection must close after a fatal error");
    assert_eq!(script.session.error().and_then(ConnectionError::code), Some(code));
}

fn expect_send_error(script: &mut Script, id: &str, code: ErrorCode) -> wire::Error {
    match &script.received()[..] {
        [Body::Error(error)] if error.client_msg_id == id => {
            assert_eq!(ErrorCode(error.code), code, "{error:?}");
            assert!(!script.session.is_finished(), "a rejected Send keeps the connection open");
            error.clone()
        }
        other => panic!("expected {code} for {id}, got {other:?}"),
    }
}

#[test]
fn welcome_carries_user_heartbeat_and_limits() {
    let mut script = Script::new();
    script
        .send(Body::Hello(wire::Hello {
            versions: vec![7, 1],
            token: "tok:alice".into(),
            device_id: "d1".into(),
            heartbeat_interval_ms: 1,
            ..Default::default()
        }))
        .expect("valid");
    let [ServerEvent::HelloVerified(hello)] = &script.events()[..] else { panic!("no hello event") };
    assert_eq!(hello.user_id, "alice");
    let resume = wire::ResumeResult { outcome: 1, epoch: 1, next_seq: 1 };
    let info = WelcomeInfo { session_id: "s".into(), resume, server_id: "x".into(), server_time_ms: 5 };
    script.session.welcome(script.now, info).expect("verified");
    let [Body::Welcome(welcome)] = &script.received()[..] else { panic!("no welcome") };
    assert_eq!(welcome.version, 1);
    assert_eq!(welcome.user_id, "alice", "the user comes from the token");
    assert_eq!(welcome.heartbeat_interval_ms, 5_000, "a too-short interval is raised to the minimum");
    assert!(welcome.heartbeat_timeout_ms >= 2 * welcome.heartbeat_interval_ms);
    let limits = welcome.limits.expect("limits announced");
    assert_eq!(limits.max_frame_size, 65_536);
    assert_eq!(limits.max_in_flight, 64);
}

#[test]
fn anything_before_hello_is_unexpected() {
    let mut script = Script::new();
    let result = script.send(Body::Ping(wire::Ping { nonce: 1 }));
    assert!(matches!(result, Err(ConnectionError::Local { code: ErrorCode::UNEXPECTED_FRAME, .. })));
    expect_fatal(&mut script, ErrorCode::UNEXPECTED_FRAME);
    // Sticky: later input reports the same error and is not processed.
    let again = script.send(hello("tok:alice"));
    assert_eq!(again.err().and_then(|e| e.code()), Some(ErrorCode::UNEXPECTED_FRAME));
    assert!(script.events().is_empty());
}

#[test]
fn frames_before_welcome_are_unexpected() {
    let mut script = Script::new();
    script.send(hello("tok:alice")).expect("valid");
    let _ = script.send(send_to_bob("m1", b"early"));
    expect_fatal(&mut script, ErrorCode::UNEXPECTED_FRAME);
}

#[test]
fn second_hello_is_unexpected() {
    let mut script = Script::new();
    script.open();
    let _ = script.send(hello("tok:alice"));
    expect_fatal(&mut script, ErrorCode::UNEXPECTED_FRAME);
}

#[test]
fn server_only_frames_from_a_client_are_unexpected() {
    for body in [
        Body::Welcome(wire::Welcome::default()),
        Body::SendAck(wire::SendAck::default()),
        Body::Deliver(wire::Deliver::default()),
        Body::GoAway(wire::GoAway::default()),
    ] {
        let mut script = Script::new();
        script.open();
        let _ = script.send(body);
        expect_fatal(&mut script, ErrorCode::UNEXPECTED_FRAME);
    }
}

#[test]
fn unknown_version_bad_token_and_bad_device_are_refused() {
    let cases = [
        (
            wire::Hello {
                versions: vec![2, 3],
                token: "tok:a".into(),
                device_id: "d".into(),
                ..Default::default()
            },
            ErrorCode::UNSUPPORTED_VERSION,
        ),
        (
            wire::Hello {
                versions: vec![1],
                token: "forged".into(),
                device_id: "d".into(),
                ..Default::default()
            },
            ErrorCode::UNAUTHENTICATED,
        ),
        (
            wire::Hello {
                versions: vec![1],
                token: String::new(),
                device_id: "d".into(),
                ..Default::default()
            },
            ErrorCode::UNAUTHENTICATED,
        ),
        (
            wire::Hello {
                versions: vec![1],
                token: "x".repeat(4097),
                device_id: "d".into(),
                ..Default::default()
            },
            ErrorCode::UNAUTHENTICATED,
        ),
        (
            wire::Hello {
                versions: vec![1],
                token: "tok:a".into(),
                device_id: String::new(),
                ..Default::default()
            },
            ErrorCode::INVALID_FIELD,
        ),
        (
            wire::Hello {
                versions: vec![1],
                token: "tok:a".into(),
                device_id: "d".repeat(129),
                ..Default::default()
            },
            ErrorCode::INVALID_FIELD,
        ),
    ];
    for (hello, code) in cases {
        let mut script = Script::new();
        let _ = script.send(Body::Hello(hello));
        expect_fatal(&mut script, code);
        assert!(script.events().is_empty(), "no HelloVerified for a refused Hello");
    }
}

#[test]
fn malformed_oversized_and_unknown_frames_get_their_codes() {
    let mut script = Script::new();
    let _ = script.send_raw(&[0x03, 0x0a, 0x05, 0x01]);
    expect_fatal(&mut script, ErrorCode::MALFORMED_FRAME);

    let mut script = Script::new();
    let _ = script.send_raw(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect_fatal(&mut script, ErrorCode::BAD_LENGTH_PREFIX);

    let mut script = Script::new();
    let mut prefix = Vec::new();
    prost::encoding::encode_varint(65_537, &mut prefix);
    let _ = script.send_raw(&prefix);
    expect_fatal(&mut script, ErrorCode::FRAME_TOO_LARGE);

    let mut script = Script::new();
    let _ = script.send_raw(&[0x03, 0x98, 0x06, 0x01]);
    expect_fatal(&mut script, ErrorCode::UNKNOWN_FRAME);
}

#[test]
fn handshake_times_out_without_hello() {
    let mut script = Script::new();
    script.advance(Duration::from_secs(9));
    assert!(script.received().is_empty());
    script.advance(Duration::from_secs(1));
    expect_fatal(&mut script, ErrorCode::HANDSHAKE_TIMEOUT);
}

#[test]
fn silent_client_times_out_and_pings_keep_it_alive() {
    let mut script = Script::new();
    script.open();
    for nonce in 0..10 {
        script.advance(Duration::from_secs(30));
        script.send(Body::Ping(wire::Ping { nonce })).expect("open");
        assert_eq!(script.received(), [Body::Pong(wire::Pong { nonce })]);
    }
    script.advance(Duration::from_secs(74));
    assert!(!script.session.is_finished());
    script.advance(Duration::from_secs(1));
    expect_fatal(&mut script, ErrorCode::HEARTBEAT_TIMEOUT);
}

#[test]
fn valid_sends_become_events_and_acks_free_the_window() {
    let mut script = Script::with(|c| c.limits.max_in_flight = 2);
    script.open();
    script.send(send_to_bob("a", b"1")).expect("open");
    script.send(send_to_bob("b", b"2")).expect("open");
    script.send(send_to_bob("c", b"3")).expect("open");
    let events = script.events();
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[0], ServerEvent::Send(s) if s.client_msg_id == "a"));
    expect_send_error(&mut script, "c", ErrorCode::IN_FLIGHT_EXCEEDED);
    script.session.ack_send(wire::SendAck {
        client_msg_id: "a".into(),
        message_id: "m".into(),
        ..Default::default()
    });
    assert!(matches!(&script.received()[..], [Body::SendAck(ack)] if ack.client_msg_id == "a"));
    script.send(send_to_bob("c", b"3")).expect("open");
    assert!(matches!(&script.events()[..], [ServerEvent::Send(s)] if s.client_msg_id == "c"));
}

#[test]
fn per_message_checks_reject_only_that_send() {
    let mut script = Script::with(|c| c.limits.max_body_size = 4);
    script.open();
    script.send(send_to_bob("big", b"12345")).expect("open");
    // Dedupe comes before the size (CIM-7.1-12): the server decides, the body is dropped.
    let [ServerEvent::SendTooLarge { client_msg_id, to_everyone: false, detail }] = &script.events()[..]
    else {
        panic!("a SendTooLarge event")
    };
    assert_eq!(client_msg_id, "big");
    assert!(detail.contains("maximum is 4"), "{detail}");
    script.session.reject_send("big".into(), ErrorCode::BODY_TOO_LARGE, detail.clone(), Duration::ZERO);
    expect_send_error(&mut script, "big", ErrorCode::BODY_TOO_LARGE);
    script.send(send_to_bob(&"x".repeat(65), b"1")).expect("open");
    expect_send_error(&mut script, &"x".repeat(65), ErrorCode::INVALID_CLIENT_MSG_ID);
    script.send(send_to_bob("ok", b"1234")).expect("open");
    assert!(matches!(&script.events()[..], [ServerEvent::Send(_)]));
}

#[test]
fn send_without_recipient_or_with_a_huge_content_type_is_fatal() {
    let no_recipient = Body::Send(wire::Send { client_msg_id: "nobody".into(), ..Default::default() });
    let empty_user = Body::Send(wire::Send {
        client_msg_id: "empty".into(),
        to: Some(wire::Recipient { kind: Some(recipient::Kind::UserId(String::new())) }),
        ..Default::default()
    });
    let mut huge_type = send_to_bob("t", b"");
    if let Body::Send(send) = &mut huge_type {
        send.content_type = "x".repeat(256);
    }
    for body in [no_recipient, empty_user, huge_type] {
        let mut script = Script::new();
        script.open();
        let _ = script.send(body);
        expect_fatal(&mut script, ErrorCode::INVALID_FIELD);
    }
}

#[test]
fn rejecting_a_send_with_a_connection_level_code_ends_the_connection() {
    let mut script = Script::new();
    script.open();
    script.send(send_to_bob("a", b"")).expect("open");
    script.events();
    script.session.reject_send("a".into(), ErrorCode::INTERNAL, "oops", Duration::ZERO);
    expect_fatal(&mut script, ErrorCode::INTERNAL);
}

#[test]
fn send_without_id_is_fatal() {
    let mut script = Script::new();
    script.open();
    let _ = script.send(send_to_bob("", b"x"));
    expect_fatal(&mut script, ErrorCode::INVALID_CLIENT_MSG_ID);
}

#[test]
fn rate_limit_answers_with_retry_after() {
    let mut script = Script::with(|c| {
        c.limits.sends_per_second = 10;
        c.limits.send_burst = 2;
    });
    script.open();
    script.send(send_to_bob("a", b"")).expect("open");
    script.send(send_to_bob("b", b"")).expect("open");
    script.send(send_to_bob("c", b"")).expect("open");
    let error = expect_send_error(&mut script, "c", ErrorCode::RATE_LIMITED);
    assert_eq!(error.retry_after_ms, 100);
    script.now += Duration::from_millis(100);
    script.send(send_to_bob("c", b"")).expect("open");
    assert_eq!(script.events().len(), 3);
}

#[test]
fn a_server_without_a_rate_limit_announces_the_largest_rate_never_zero() {
    let mut script = Script::with(|c| {
        c.limits.sends_per_second = 0;
        c.limits.max_in_flight = 1000;
    });
    script.open_with(|welcome| {
        let limits = welcome.limits.expect("limits announced");
        // 0 would read as the default 100/s on the client (CIM-10.1-2, CIM-10.1-5).
        assert_eq!((limits.sends_per_second, limits.send_burst), (u32::MAX, u32::MAX));
    });
    // More than the default burst of 200, all at one instant.
    for i in 0..500 {
        script.send(send_to_bob(&format!("m{i}"), b"")).expect("never rate limited");
    }
    assert_eq!(script.events().len(), 500);
}

#[test]
fn deliver_ack_beyond_what_was_delivered_is_invalid() {
    let mut script = Script::new();
    script.open();
    script
        .session
        .handle_push(script.now, wire::Deliver { seq: 1, message_id: "m".into(), ..Default::default() });
    assert!(matches!(&script.received()[..], [Body::Deliver(d)] if d.seq == 1));
    script.send(Body::DeliverAck(wire::DeliverAck { up_to_seq: 1 })).expect("valid ack");
    assert_eq!(script.events(), [ServerEvent::RecordAck { up_to_seq: 1 }]);
    let _ = script.send(Body::DeliverAck(wire::DeliverAck { up_to_seq: 2 }));
    expect_fatal(&mut script, ErrorCode::INVALID_FIELD);
}

#[test]
fn go_away_drains_in_flight_sends_then_finishes() {
    let mut script = Script::new();
    script.open();
    script.send(send_to_bob("a", b"")).expect("open");
    assert_eq!(script.events().len(), 1);
    script.session.go_away(wire::GoAwayReason::Shutdown, "bye", Duration::from_secs(1));
    assert!(
        matches!(&script.received()[..], [Body::GoAway(g)] if g.reason == wire::GoAwayReason::Shutdown as i32)
    );
    assert!(!script.session.is_finished(), "one Send still in flight");
    script.session.handle_push(script.now, wire::Deliver { seq: 1, ..Default::default() });
    assert!(script.received().is_empty(), "no Deliver after GoAway");
    script.send(send_to_bob("late", b"")).expect("still readable");
    assert!(script.received().is_empty(), "a Send after GoAway is left unanswered");
    assert!(script.events().is_empty());
    script.session.ack_send(wire::SendAck { client_msg_id: "a".into(), ..Default::default() });
    assert!(matches!(&script.received()[..], [Body::SendAck(_)]));
    assert!(script.session.is_finished());
}

#[test]
fn deliver_too_large_for_the_client_is_refused() {
    let mut script = Script::new();
    script
        .send(Body::Hello(wire::Hello {
            versions: vec![1],
            token: "tok:alice".into(),
            device_id: "d".into(),
            max_frame_size: 65_536,
            ..Default::default()
        }))
        .expect("valid");
    script.events();
    let resume = wire::ResumeResult { outcome: 1, epoch: 1, next_seq: 1 };
    let info = WelcomeInfo { session_id: "s".into(), resume, server_id: "x".into(), server_time_ms: 0 };
    script.session.welcome(script.now, info).expect("verified");
    script.received();
    script.empty_inbox();
    let big = wire::Deliver { seq: 1, body: Bytes::from(vec![0u8; 65_536]), ..Default::default() };
    script.session.handle_push(script.now, big);
    assert!(script.received().is_empty(), "a Deliver over the client's frame limit is not sent");
    let fits = wire::Deliver { seq: 1, body: Bytes::from(vec![0u8; 61_440]), ..Default::default() };
    script.session.handle_push(script.now, fits);
    assert!(matches!(&script.received()[..], [Body::Deliver(d)] if d.seq == 1));
}

#[test]
fn small_client_frame_limit_is_invalid() {
    let mut script = Script::new();
    let hello = wire::Hello {
        versions: vec![1],
        token: "tok:alice".into(),
        device_id: "d".into(),
        max_frame_size: 64,
        ..Default::default()
    };
    let _ = script.send(Body::Hello(hello));
    expect_fatal(&mut script, ErrorCode::INVALID_FIELD);
}

#[test]
fn token_for_another_device_is_refused() {
    let mut script = Script::new();
    let _ = script.send(hello("tok:alice@other-device"));
    expect_fatal(&mut script, ErrorCode::UNAUTHENTICATED);
    let mut script = Script::new();
    script.send(hello("tok:alice@d1")).expect("same device");
    assert!(matches!(script.events()[..], [ServerEvent::HelloVerified(_)]));
}

#[test]
fn resume_point_with_epoch_zero_counts_as_absent() {
    let mut script = Script::new();
    let hello = wire::Hello {
        versions: vec![1],
        token: "tok:alice".into(),
        device_id: "d".into(),
        resume: Some(wire::ResumePoint { epoch: 0, last_acked_seq: 5 }),
        ..Default::default()
    };
    script.send(Body::Hello(hello)).expect("valid");
    let [ServerEvent::HelloVerified(info)] = &script.events()[..] else { panic!("verified") };
    assert_eq!(info.resume, None);
}

#[test]
fn acks_up_to_the_resume_point_are_allowed_and_stale_ones_ignored() {
    let mut script = Script::new();
    script.send(hello("tok:alice")).expect("valid");
    script.events();
    let resume = wire::ResumeResult { outcome: wire::ResumeOutcome::Resumed as i32, epoch: 1, next_seq: 11 };
    let info = WelcomeInfo { session_id: "s".into(), resume, server_id: "x".into(), server_time_ms: 0 };
    script.session.welcome(script.now, info).expect("verified");
    script.received();
    script.empty_inbox();
    script.send(Body::DeliverAck(wire::DeliverAck { up_to_seq: 10 })).expect("within next_seq - 1");
    assert!(script.events().is_empty(), "not beyond what the resume point already acknowledged");
    script.session.handle_push(script.now, wire::Deliver { seq: 11, ..Default::default() });
    script.received();
    script.send(Body::DeliverAck(wire::DeliverAck { up_to_seq: 11 })).expect("valid");
    script.send(Body::DeliverAck(wire::DeliverAck { up_to_seq: 0 })).expect("stale, ignored");
    assert_eq!(script.events(), [ServerEvent::RecordAck { up_to_seq: 11 }]);
}

#[test]
fn peer_error_closes_without_answer() {
    let mut script = Script::new();
    script.open();
    let result = script.send(Body::Error(wire::Error {
        code: 1004,
        message: "you erred".into(),
        ..Default::default()
    }));
    assert!(matches!(result, Err(ConnectionError::Remote { code: ErrorCode::UNEXPECTED_FRAME, .. })));
    assert!(script.received().is_empty(), "no error answers an error");
    assert!(script.session.is_finished());
}

#[test]
fn websocket_messages_are_whole_frames() {
    let config = ServerConfig::new(Arc::new(FakeVerifier), Framing::Message);
    let now = Instant::now();
    let mut session = ServerSession::new(Arc::new(config), now);
    let mut message = Vec::new();
    codec::encode_frame(&hello("tok:alice"), Framing::Message, &mut message);
    session.handle_input(now, &message).expect("valid");
    assert!(matches!(session.poll_event(), Some(ServerEvent::HelloVerified(_))));
    // A length prefix on WebSocket is garbage.
    let mut prefixed = Vec::new();
    codec::encode_frame(&Body::Ping(wire::Ping { nonce: 1 }), Framing::LengthPrefixed, &mut prefixed);
    let mut session = ServerSession::new(session_config_ws(), now);
    assert!(session.handle_input(now, &prefixed).is_err());
}

fn session_config_ws() -> Arc<ServerConfig> {
    Arc::new(ServerConfig::new(Arc::new(FakeVerifier), Framing::Message))
}

#[test]
fn welcome_without_a_real_resume_result_is_refused() {
    for resume in [
        wire::ResumeResult { outcome: 0, epoch: 1, next_seq: 1 },
        wire::ResumeResult { outcome: 1, epoch: 0, next_seq: 1 },
        wire::ResumeResult { outcome: 1, epoch: 1, next_seq: 0 },
    ] {
        let mut script = Script::new();
        script.send(hello("tok:alice")).expect("valid");
        script.events();
        let info =
            WelcomeInfo { session_id: "s".into(), resume, server_id: String::new(), server_time_ms: 0 };
        assert_eq!(
            script.session.welcome(script.now, info),
            Err(cim_core::server::ServerApiError::InvalidResume)
        );
        assert!(script.received().is_empty());
    }
}

#[test]
fn configured_heartbeat_is_kept_within_the_protocol_bounds() {
    let mut script = Script::with(|c| {
        c.heartbeat_interval = Duration::from_secs(1);
        c.heartbeat_timeout = Duration::from_secs(3);
    });
    script.open_with(|w| {
        assert_eq!(w.heartbeat_interval_ms, 5_000);
        assert_eq!(w.heartbeat_timeout_ms, 15_000, "the configured ratio is kept");
    });
}
