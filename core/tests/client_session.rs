//! `ClientSession` against a scripted server.

use std::time::{Duration, Instant};

use bytes::Bytes;
use cim_core::client::{
    ClientConfig, ClientEvent, ClientSession, CloseReason, ConnectionState, LoginFailure, LoginGrant,
    Request, SendError,
};
use cim_core::codec::{self, FrameDecoder};
use cim_core::wire::{self, frame::Body, recipient};
use cim_core::{ConnectionError, ErrorCode, Framing};

struct Script {
    now: Instant,
    client: ClientSession,
    decoder: FrameDecoder,
}

impl Script {
    /// A client that has logged in and sent its Hello.
    fn handshaking() -> Self {
        let now = Instant::now();
        let mut client = ClientSession::new(ClientConfig::new("dev-1", Framing::LengthPrefixed, 42));
        client.connect(now);
        let Some(Request::Login { id }) = client.poll_request() else { panic!("login first") };
        let grant =
            LoginGrant { user_id: "alice".into(), token: "t0k".into(), endpoint: "127.0.0.1:9000".into() };
        client.handle_login_result(now, id, Ok(grant));
        assert_eq!(client.poll_request(), Some(Request::Connect { endpoint: "127.0.0.1:9000".into() }));
        client.handle_connected(now);
        let mut script = Self { now, client, decoder: FrameDecoder::new(u32::MAX) };
        let frames = script.written();
        let [Body::Hello(hello)] = &frames[..] else { panic!("Hello first, got {frames:?}") };
        assert_eq!(hello.versions, [1]);
        assert_eq!(hello.token, "t0k");
        assert_eq!(hello.device_id, "dev-1");
        assert_eq!(hello.resume, None, "first connection has no resume point");
        script
    }

    fn connected() -> Self {
        let mut script = Self::handshaking();
        script.feed(Body::Welcome(welcome(1))).expect("valid welcome");
        assert!(matches!(script.events()[..], [ClientEvent::Connected { .. }]));
        script
    }

    fn feed(&mut self, body: Body) -> Result<(), ConnectionError> {
        let mut bytes = Vec::new();
        codec::encode_frame(&body, Framing::LengthPrefixed, &mut bytes);
        self.client.handle_input(self.now, &bytes)
    }

    fn written(&mut self) -> Vec<Body> {
        let mut bytes = Vec::new();
        while self.client.poll_transmit(self.now, &mut bytes) > 0 {}
        let mut out = Vec::new();
        self.decoder.decode(&bytes, &mut out).expect("client writes valid frames");
        out
    }

    fn events(&mut self) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    fn requests(&mut self) -> Vec<Request> {
        std::iter::from_fn(|| self.client.poll_request()).collect()
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
    }
}

fn welcome(version: u32) -> wire::Welcome {
    wire::Welcome {
        version,
        session_id: "s1".into(),
        user_id: "alice".into(),
        heartbeat_interval_ms: 10_000,
        heartbeat_timeout_ms: 25_000,
        limits: Some(wire::Limits {
            max_frame_size: 65_536,
            max_body_size: 8,
            max_in_flight: 2,
            sends_per_second: 0,
            send_burst: 0,
        }),
        resume: Some(wire::ResumeResult {
            outcome: wire::ResumeOutcome::Fresh as i32,
            epoch: 9,
            next_seq: 1,
        }),
        server_time_ms: 0,
        server_id: "srv".into(),
    }
}

fn to_bob() -> wire::Recipient {
    wire::Recipient { kind: Some(recipient::Kind::UserId("bob".into())) }
}

fn sent_error(frames: &[Body]) -> Option<ErrorCode> {
    frames.iter().find_map(|f| match f {
        Body::Error(e) => Some(ErrorCode(e.code)),
        _ => None,
    })
}

#[test]
fn welcome_with_a_version_not_offered_is_refused() {
    let mut script = Script::handshaking();
    let result = script.feed(Body::Welcome(welcome(2)));
    assert_eq!(result.err().and_then(|e| e.code()), Some(ErrorCode::INVALID_FIELD));
    assert_eq!(sent_error(&script.written()), Some(ErrorCode::INVALID_FIELD));
    assert_eq!(script.requests(), [Request::Close]);
}

#[test]
fn deliver_before_welcome_is_unexpected_and_sticky() {
    let mut script = Script::handshaking();
    let result = script.feed(Body::Deliver(wire::Deliver { seq: 1, ..Default::default() }));
    assert_eq!(result.err().and_then(|e| e.code()), Some(ErrorCode::UNEXPECTED_FRAME));
    assert_eq!(sent_error(&script.written()), Some(ErrorCode::UNEXPECTED_FRAME));
    assert_eq!(script.requests(), [Request::Close]);
    let again = script.feed(Body::Welcome(welcome(1)));
    assert_eq!(again.err().and_then(|e| e.code()), Some(ErrorCode::UNEXPECTED_FRAME));
    assert!(!script.events().iter().any(|e| matches!(e, ClientEvent::Connected { .. })));
}

#[test]
fn client_only_frames_from_the_server_are_unexpected() {
    for body in [
        Body::Hello(wire::Hello::default()),
        Body::Send(wire::Send::default()),
        Body::DeliverAck(wire::DeliverAck::default()),
    ] {
        let mut script = Script::connected();
        let result = script.feed(body);
        assert_eq!(result.err().and_then(|e| e.code()), Some(ErrorCode::UNEXPECTED_FRAME));
    }
}

#[test]
fn fatal_error_that_cannot_be_retried_closes_the_session() {
    let mut script = Script::handshaking();
    let error = wire::Error {
        code: ErrorCode::UNSUPPORTED_VERSION.0,
        message: "v1 only".into(),
        ..Default::default()
    };
    let _ = script.feed(Body::Error(error));
    assert!(script.written().is_empty(), "an Error is not answered");
    assert_eq!(script.requests(), [Request::Close]);
    assert!(matches!(script.events().last(), Some(ClientEvent::Closed(CloseReason::Fatal(_)))));
    assert_eq!(script.client.state(), ConnectionState::Closed);
}

#[test]
fn expired_token_leads_to_a_new_login() {
    let mut script = Script::handshaking();
    let error = wire::Error { code: ErrorCode::TOKEN_EXPIRED.0, ..Default::default() };
    let _ = script.feed(Body::Error(error));
    assert_eq!(script.requests(), [Request::Close]);
    let Some(ClientEvent::Disconnected { retry_in, .. }) = script.events().pop() else { panic!("retry") };
    script.advance(retry_in);
    assert!(matches!(script.requests()[..], [Request::Login { id: 1 }]));
}

#[test]
fn a_login_refused_with_retry_after_is_not_repeated_sooner() {
    let mut script = Script::handshaking();
    let error = wire::Error { code: ErrorCode::TOKEN_EXPIRED.0, ..Default::default() };
    let _ = script.feed(Body::Error(error));
    let Some(ClientEvent::Disconnected { retry_in, .. }) = script.events().pop() else { panic!("retry") };
    script.advance(retry_in);
    let [Request::Close, Request::Login { id }] = script.requests()[..] else { panic!("a new login") };
    let refused =
        LoginFailure::RetryAfter { message: "slow down".into(), retry_after: Duration::from_secs(30) };
    script.client.handle_login_result(script.now, id, Err(refused));
    let Some(ClientEvent::Disconnected { retry_in, .. }) = script.events().pop() else { panic!("waits") };
    assert!(retry_in >= Duration::from_secs(30), "{retry_in:?}");
    script.advance(Duration::from_secs(29));
    assert!(script.requests().is_empty(), "no login before Retry-After");
    script.advance(retry_in - Duration::from_secs(29));
    assert!(matches!(script.requests()[..], [Request::Login { .. }]));
}

#[test]
fn local_checks_refuse_bad_sends_before_the_wire() {
    let mut script = Script::connected();
    let now = script.now;
    let big = script.client.send(now, to_bob(), "", Bytes::from_static(b"123456789"));
    assert_eq!(big, Err(SendError::BodyTooLarge { len: 9, max: 8 }));
    let no_one = script.client.send(now, wire::Recipient::default(), "", Bytes::new());
    assert_eq!(no_one, Err(SendError::InvalidRecipient));
    let long_id = script.client.send_with_id(now, "x".repeat(65), to_bob(), "", Bytes::new());
    assert_eq!(long_id, Err(SendError::InvalidClientMsgId));
    assert!(script.written().is_empty());
}

#[test]
fn sends_whose_frame_would_pass_the_announced_maximum_never_reach_the_wire() {
    // Queued during the handshake under the default limits, then Welcome announces less.
    let mut script = Script::handshaking();
    let now = script.now;
    let long = wire::Recipient { kind: Some(recipient::Kind::UserId("b".repeat(1_100))) };
    let early = script.client.send(now, long.clone(), "", Bytes::from_static(b"1234")).expect("fits for now");
    let mut small = welcome(1);
    if let Some(limits) = small.limits.as_mut() {
        limits.max_frame_size = 1_024;
    }
    script.feed(Body::Welcome(small)).expect("valid welcome");
    let failed = script.events().into_iter().find_map(|e| match e {
        ClientEvent::SendFailed { client_msg_id, code, .. } => Some((client_msg_id, code)),
        _ => None,
    });
    assert_eq!(failed, Some((early, ErrorCode::FRAME_TOO_LARGE)));
    // Once the limit is known, the same send is refused at once.
    let refused = script.client.send(now, long, "", Bytes::from_static(b"1234"));
    assert!(matches!(refused, Err(SendError::FrameTooLarge { max: 1_024, .. })), "{refused:?}");
    assert!(!script.written().iter().any(|f| matches!(f, Body::Send(_))));
}

#[test]
fn a_websocket_text_message_ends_the_connection_with_malformed_frame() {
    let mut script = Script::connected();
    let now = script.now;
    assert!(script.client.handle_text_message(now).is_err());
    assert_eq!(sent_error(&script.written()), Some(ErrorCode::MALFORMED_FRAME));
    assert_eq!(script.requests(), [Request::Close]);
}

#[test]
fn in_flight_window_holds_back_sends_until_acks_arrive() {
    let mut script = Script::connected();
    let now = script.now;
    let ids: Vec<String> = (0..3)
        .map(|_| script.client.send(now, to_bob(), "", Bytes::from_static(b"x")).expect("valid"))
        .collect();
    let sent: Vec<String> = script
        .written()
        .into_iter()
        .filter_map(|f| if let Body::Send(s) = f { Some(s.client_msg_id) } else { None })
        .collect();
    assert_eq!(sent, ids[..2], "window of 2");
    // An ack for something never sent changes nothing.
    script
        .feed(Body::SendAck(wire::SendAck { client_msg_id: "bogus".into(), ..Default::default() }))
        .expect("ok");
    assert!(script.written().is_empty());
    script
        .feed(Body::SendAck(wire::SendAck { client_msg_id: ids[0].clone(), ..Default::default() }))
        .expect("ok");
    assert!(matches!(&script.written()[..], [Body::Send(s)] if s.client_msg_id == ids[2]));
    assert!(matches!(&script.events()[..], [ClientEvent::Acked(a)] if a.client_msg_id == ids[0]));
}

#[test]
fn idle_client_pings_and_declares_a_silent_server_dead() {
    let mut script = Script::connected();
    script.advance(Duration::from_secs(10));
    let [Body::Ping(ping)] = script.written()[..] else { panic!("expected a Ping") };
    script.now += Duration::from_millis(40);
    script.feed(Body::Pong(wire::Pong { nonce: ping.nonce })).expect("ok");
    assert_eq!(script.client.rtt(), Some(Duration::from_millis(40)));
    // Now the server goes silent: pings go unanswered until the timeout.
    script.advance(Duration::from_secs(10));
    assert!(matches!(script.written()[..], [Body::Ping(_)]));
    script.advance(Duration::from_secs(15));
    assert_eq!(script.client.state(), ConnectionState::Reconnecting);
    assert_eq!(script.requests(), [Request::Close]);
    let events = script.events();
    assert!(matches!(
        events.last(),
        Some(ClientEvent::Disconnected {
            error: ConnectionError::Local { code: ErrorCode::HEARTBEAT_TIMEOUT, .. },
            ..
        })
    ));
}

#[test]
fn messages_are_acked_cumulatively_once_polled() {
    let mut script = Script::connected();
    for seq in 1..=3 {
        let deliver = wire::Deliver { seq, message_id: format!("m{seq}"), ..Default::default() };
        script.feed(Body::Deliver(deliver)).expect("ok");
    }
    assert!(script.written().is_empty(), "nothing acked before the application has it");
    assert_eq!(script.events().len(), 3);
    assert_eq!(script.written(), [Body::DeliverAck(wire::DeliverAck { up_to_seq: 3 })]);
    assert_eq!(script.client.resume_point(), Some(wire::ResumePoint { epoch: 9, last_acked_seq: 3 }));
}

#[test]
fn welcome_timeout_triggers_a_retry() {
    let mut script = Script::handshaking();
    script.advance(Duration::from_secs(10));
    assert_eq!(script.requests(), [Request::Close]);
    assert!(matches!(
        script.events()[..],
        [ClientEvent::Disconnected {
            error: ConnectionError::Local { code: ErrorCode::HANDSHAKE_TIMEOUT, .. },
            ..
        }]
    ));
}

#[test]
fn skipped_sequence_number_is_a_protocol_violation() {
    let mut script = Script::connected();
    script
        .feed(Body::Deliver(wire::Deliver { seq: 1, message_id: "a".into(), ..Default::default() }))
        .expect("ok");
    let result =
        script.feed(Body::Deliver(wire::Deliver { seq: 3, message_id: "c".into(), ..Default::default() }));
    assert_eq!(result.err().and_then(|e| e.code()), Some(ErrorCode::INVALID_FIELD));
    assert_eq!(script.events().iter().filter(|e| matches!(e, ClientEvent::Message(_))).count(), 1);
}

#[test]
fn server_ping_is_answered() {
    let mut script = Script::connected();
    script.feed(Body::Ping(wire::Ping { nonce: 77 })).expect("ok");
    assert_eq!(script.written(), [Body::Pong(wire::Pong { nonce: 77 })]);
}

#[test]
fn welcome_without_resume_or_ids_is_invalid() {
    for edit in [
        (|w: &mut wire::Welcome| w.resume = None) as fn(&mut wire::Welcome),
        |w| w.session_id.clear(),
        |w| w.user_id.clear(),
    ] {
        let mut script = Script::handshaking();
        let mut bad = welcome(1);
        edit(&mut bad);
        let result = script.feed(Body::Welcome(bad));
        assert_eq!(result.err().and_then(|e| e.code()), Some(ErrorCode::INVALID_FIELD));
        assert_eq!(sent_error(&script.written()), Some(ErrorCode::INVALID_FIELD));
    }
}

/// A client that has a resume point in epoch 9 from an earlier run.
fn resuming() -> Script {
    let now = Instant::now();
    let mut config = ClientConfig::new("dev-1", Framing::LengthPrefixed, 42);
    config.resume = Some(wire::ResumePoint { epoch: 9, last_acked_seq: 4 });
    let mut client = ClientSession::new(config);
    client.connect(now);
    let Some(Request::Login { id }) = client.poll_request() else { panic!("login first") };
    let grant = LoginGrant { user_id: "alice".into(), token: "t".into(), endpoint: "e".into() };
    client.handle_login_result(now, id, Ok(grant));
    client.poll_request();
    client.handle_connected(now);
    let mut script = Script { now, client, decoder: FrameDecoder::new(u32::MAX) };
    let [Body::Hello(hello)] = &script.written()[..] else { panic!("Hello") };
    assert_eq!(hello.resume, Some(wire::ResumePoint { epoch: 9, last_acked_seq: 4 }));
    script
}

fn discontinuities(events: &[ClientEvent]) -> Vec<wire::ResumeOutcome> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::InboxDiscontinuity { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect()
}

#[test]
fn new_epoch_is_reported_even_when_the_server_says_resumed() {
    let mut script = resuming();
    let mut w = welcome(1);
    w.resume =
        Some(wire::ResumeResult { outcome: wire::ResumeOutcome::Resumed as i32, epoch: 10, next_seq: 1 });
    script.feed(Body::Welcome(w)).expect("valid");
    assert_eq!(discontinuities(&script.events()), [wire::ResumeOutcome::EpochChanged]);
}

#[test]
fn unknown_resume_outcome_is_treated_as_a_gap() {
    let mut script = resuming();
    let mut w = welcome(1);
    w.resume = Some(wire::ResumeResult { outcome: 99, epoch: 9, next_seq: 7 });
    script.feed(Body::Welcome(w)).expect("valid");
    assert_eq!(discontinuities(&script.events()), [wire::ResumeOutcome::Gap]);
    assert_eq!(script.client.resume_point(), Some(wire::ResumePoint { epoch: 9, last_acked_seq: 6 }));
}

#[test]
fn resumed_inbox_is_no_discontinuity() {
    let mut script = resuming();
    let mut w = welcome(1);
    w.resume =
        Some(wire::ResumeResult { outcome: wire::ResumeOutcome::Resumed as i32, epoch: 9, next_seq: 5 });
    script.feed(Body::Welcome(w)).expect("valid");
    assert!(discontinuities(&script.events()).is_empty());
}

#[test]
fn go_away_waits_its_hint_plus_jitter_and_logs_in_again() {
    let mut script = Script::connected();
    let go_away = wire::GoAway {
        reason: 42, // unknown: treated as SHUTDOWN
        message: "draining".into(),
        reconnect_after_ms: 2_000,
    };
    script.feed(Body::GoAway(go_away)).expect("valid");
    let now = script.now;
    assert!(script.client.send(now, to_bob(), "", Bytes::from_static(b"x")).is_ok());
    assert!(script.written().is_empty(), "no Send after GoAway");
    script.client.handle_transport_closed(now);
    let Some(ClientEvent::Disconnected { retry_in, .. }) = script.events().pop() else {
        panic!("disconnected")
    };
    assert!(retry_in >= Duration::from_secs(2) && retry_in <= Duration::from_secs(4), "{retry_in:?}");
    script.advance(retry_in);
    assert!(matches!(script.requests()[..], [Request::Login { .. }]));
}
