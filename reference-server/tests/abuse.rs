//! Bad input against a running server: every case gets its registry code, and the server
//! keeps serving everyone else.

mod support;

use std::time::Duration;

use cim_backend::{AccountStore, InboxStore, PresenceStore, TokenClaims};
use cim_core::ErrorCode;
use cim_core::wire::{self, frame::Body};
use support::{WAIT, hello, send_to, start};

#[tokio::test]
async fn malformed_frame_is_refused_and_the_server_stays_up() {
    let server = start(|_| {}).await;
    let mut raw = server.raw().await;
    raw.send_bytes(&[0x03, 0x0a, 0x05, 0x01]).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::MALFORMED_FRAME);
    server.still_serves().await;
}

#[tokio::test]
async fn oversized_frame_is_refused_from_its_length_alone() {
    let server = start(|_| {}).await;
    let mut raw = server.raw().await;
    let mut prefix = Vec::new();
    prost::encoding::encode_varint(10 * 1024 * 1024, &mut prefix);
    raw.send_bytes(&prefix).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::FRAME_TOO_LARGE);
    let mut raw = server.raw().await;
    raw.send_bytes(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::BAD_LENGTH_PREFIX);
    server.still_serves().await;
}

#[tokio::test]
async fn bad_expired_and_foreign_tokens_are_refused() {
    let server = start(|_| {}).await;
    let mut raw = server.raw().await;
    raw.send(hello("v1.forged.token", "d", None)).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::UNAUTHENTICATED);

    let expired = server.keys.issue(&TokenClaims {
        sub: "alice".into(),
        dev: "d".into(),
        lid: "l".into(),
        iat: 0,
        exp: cim_backend::now_ms() - 5 * 60_000,
        acc: None,
    });
    let mut raw = server.raw().await;
    raw.send(hello(&expired, "d", None)).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::TOKEN_EXPIRED);

    // A token is bound to the device it was issued for.
    let mut raw = server.raw().await;
    raw.send(hello(&server.token("alice", "alice-phone"), "mallory-laptop", None)).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::UNAUTHENTICATED);

    // A token of a login that ended is refused.
    let token = server.token("alice", "d2");
    let claims = server.keys.verify(&token, cim_backend::now_ms()).expect("valid");
    server.store.end_login(&claims.lid, u64::MAX).await.expect("memory");
    let mut raw = server.raw().await;
    raw.send(hello(&token, "d2", None)).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::UNAUTHENTICATED);
    server.still_serves().await;
}

#[tokio::test]
async fn frames_before_the_handshake_are_unexpected() {
    let server = start(|_| {}).await;
    let mut raw = server.raw().await;
    raw.send(send_to("bob", "m1", "too early")).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::UNEXPECTED_FRAME);
    server.still_serves().await;
}

#[tokio::test]
async fn the_sender_is_always_the_authenticated_user() {
    let server = start(|_| {}).await;
    let (mut bob, _) = server.session("bob", "bob-1", None).await;
    let (mut alice, _) = server.session("alice", "alice-1", None).await;
    // Nothing in a Send names a sender; whatever the body claims, the server says "alice".
    alice.send(send_to("bob", "m1", "from: carol (really!)")).await;
    assert!(matches!(alice.recv().await, Some(Body::SendAck(_))));
    match bob.recv().await {
        Some(Body::Deliver(deliver)) => assert_eq!(deliver.from_user_id, "alice"),
        other => panic!("expected a Deliver, got {other:?}"),
    }
}

#[tokio::test]
async fn a_flood_over_the_rate_limit_is_refused_per_message() {
    let server = start(|o| {
        o.sends_per_second = 5;
        o.send_burst = 5;
    })
    .await;
    let (mut alice, _) = server.session("alice", "a", None).await;
    for i in 0..20 {
        alice.send(send_to("bob", &format!("m{i}"), "spam")).await;
    }
    let (mut acked, mut limited, mut wait) = (0, 0, 0);
    for _ in 0..20 {
        match alice.recv().await {
            Some(Body::SendAck(_)) => acked += 1,
            Some(Body::Error(e)) if e.code == ErrorCode::RATE_LIMITED.0 => {
                assert!(!e.client_msg_id.is_empty() && e.retry_after_ms > 0, "{e:?}");
                limited += 1;
                wait = e.retry_after_ms;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(acked, 5, "the burst gets through");
    assert_eq!(limited, 15);
    // The connection is still open and accepts Sends once the bucket refills, as the last
    // refusal said.
    tokio::time::sleep(Duration::from_millis(wait.into())).await;
    alice.send(send_to("bob", "later", "ok now")).await;
    assert!(matches!(alice.recv().await, Some(Body::SendAck(_))));
}

#[tokio::test]
async fn a_client_that_never_reads_is_disconnected_and_loses_nothing() {
    let server = start(|o| {
        o.sends_per_second = 0;
        o.write_timeout_secs = 1;
        o.max_body_size = 60_000;
        o.max_frame_size = 65_536;
    })
    .await;
    let (sleeper, _) = server.session("bob", "bob-1", None).await;
    let (mut alice, _) = server.session("alice", "a", None).await;
    let body = "x".repeat(60_000);
    let total = 400; // 24 MB: far more than the socket buffers hold
    for i in 0..total {
        alice.send(send_to("bob", &format!("m{i}"), &body)).await;
        assert!(matches!(alice.recv().await, Some(Body::SendAck(_))), "message {i} acked");
    }
    // The server gives up on bob within a few write timeouts...
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.server.session_count() > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.server.session_count(), 1, "bob's session was dropped");
    drop(sleeper);
    // ...but every message is in his inbox, for his next session.
    let head = server.store.inbox_head("bob").await.expect("memory");
    assert_eq!(head.next_seq - head.first_seq, total);
    server.still_serves().await;
}

#[tokio::test]
async fn a_connection_killed_mid_stream_resumes_with_nothing_lost_or_repeated() {
    let server = start(|o| o.sends_per_second = 0).await;
    let (mut bob, welcome) = server.session("bob", "bob-1", None).await;
    let epoch = welcome.resume.expect("resume").epoch;
    let (mut alice, _) = server.session("alice", "a", None).await;
    let total = 200;
    let sender = tokio::spawn(async move {
        for i in 0..total {
            alice.send(send_to("bob", &format!("m{i}"), &format!("message {i}"))).await;
            assert!(matches!(alice.recv().await, Some(Body::SendAck(_))));
        }
    });
    // Bob processes (and acks) some messages, then his connection dies mid-stream.
    let mut seen = Vec::new();
    while seen.len() < 50 {
        if let Some(Body::Deliver(deliver)) = bob.recv().await {
            seen.push(deliver.seq);
        }
    }
    bob.send(Body::DeliverAck(wire::DeliverAck { up_to_seq: 30 })).await;
    drop(bob);
    let last_processed = *seen.last().expect("some");
    sender.await.expect("alice sent everything");
    // He comes back with the position he really processed, not the one he acked.
    let resume = wire::ResumePoint { epoch, last_acked_seq: last_processed };
    let (mut bob, welcome) = server.session("bob", "bob-1", Some(resume)).await;
    assert_eq!(welcome.resume.map(|r| r.outcome), Some(wire::ResumeOutcome::Resumed as i32));
    while seen.len() < total as usize {
        match bob.recv().await {
            Some(Body::Deliver(deliver)) => seen.push(deliver.seq),
            other => panic!("expected the rest of the inbox, got {other:?}"),
        }
    }
    let expected: Vec<u64> = (1..=total).collect();
    assert_eq!(seen, expected, "every message once, in order");
    assert_eq!(bob.recv_within(Duration::from_millis(300)).await, None, "nothing after the last one");
}

#[tokio::test]
async fn a_new_session_of_the_same_device_replaces_the_old_one() {
    let server = start(|_| {}).await;
    let (mut first, _) = server.session("alice", "phone", None).await;
    let (_second, _) = server.session("alice", "phone", None).await;
    match first.recv().await {
        Some(Body::GoAway(go_away)) => assert_eq!(go_away.reason, wire::GoAwayReason::SessionReplaced as i32),
        other => panic!("expected GoAway, got {other:?}"),
    }
    assert_eq!(first.recv().await, None, "then the old connection closes");
}

#[tokio::test]
async fn over_the_device_limit_new_sessions_are_refused_by_default() {
    let server = start(|o| o.max_sessions_per_user = 2).await;
    let _one = server.session("alice", "d1", None).await;
    let _two = server.session("alice", "d2", None).await;
    let mut third = server.raw().await;
    third.send(hello(&server.token("alice", "d3"), "d3", None)).await;
    assert_eq!(third.expect_fatal().await, ErrorCode::TOO_MANY_SESSIONS);
}

#[tokio::test]
async fn over_the_device_limit_the_oldest_can_be_kicked_instead() {
    let server = start(|o| {
        o.max_sessions_per_user = 2;
        o.over_limit = cim_server::OverLimit::KickOldest;
    })
    .await;
    let (mut oldest, _) = server.session("alice", "d1", None).await;
    let _two = server.session("alice", "d2", None).await;
    let (_three, _) = server.session("alice", "d3", None).await;
    match oldest.recv().await {
        Some(Body::GoAway(go_away)) => assert_eq!(go_away.reason, wire::GoAwayReason::SessionReplaced as i32),
        other => panic!("expected GoAway, got {other:?}"),
    }
    let sessions = server.store.sessions_of("alice").await.expect("memory");
    let devices: Vec<&str> = sessions.iter().map(|s| s.device_id.as_str()).collect();
    assert_eq!(devices, ["d2", "d3"]);
}

#[tokio::test]
async fn shutdown_sends_go_away_and_drains() {
    let server = start(|o| o.drain_secs = 3).await;
    let (mut alice, _) = server.session("alice", "a", None).await;
    let shutdown = tokio::spawn(server.server.shutdown());
    match alice.recv().await {
        Some(Body::GoAway(go_away)) => assert_eq!(go_away.reason, wire::GoAwayReason::Shutdown as i32),
        other => panic!("expected GoAway, got {other:?}"),
    }
    assert_eq!(alice.recv().await, None, "the server closes after the GoAway");
    tokio::time::timeout(WAIT, shutdown).await.expect("shutdown finishes").expect("no panic");
}

#[tokio::test]
async fn a_connection_still_in_its_handshake_is_told_the_server_is_shutting_down() {
    let server = start(|o| o.drain_secs = 3).await;
    let mut raw = server.raw().await;
    // The connection's task is waiting for a Hello when the shutdown starts.
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.server.connection_count() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the connection was never accepted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let shutdown = tokio::spawn(server.server.shutdown());
    assert_eq!(raw.expect_fatal().await, ErrorCode::SHUTTING_DOWN);
    tokio::time::timeout(WAIT, shutdown).await.expect("shutdown finishes").expect("no panic");
}

#[tokio::test]
async fn a_silent_connection_is_dropped_after_the_handshake_timeout() {
    let server = start(|o| o.handshake_timeout_secs = 1).await;
    let mut raw = server.raw().await;
    let started = std::time::Instant::now();
    assert_eq!(raw.expect_fatal().await, ErrorCode::HANDSHAKE_TIMEOUT);
    assert!(started.elapsed() >= Duration::from_millis(900), "not before the timeout");
    server.still_serves().await;
}

#[tokio::test]
async fn a_session_that_stops_heartbeating_is_dropped() {
    let server = start(|o| {
        o.heartbeat_interval_secs = 5;
        o.heartbeat_timeout_secs = 10;
    })
    .await;
    let (mut silent, welcome) = server.session("alice", "a", None).await;
    assert_eq!((welcome.heartbeat_interval_ms, welcome.heartbeat_timeout_ms), (5_000, 10_000));
    let started = std::time::Instant::now();
    let mut code = None;
    while let Some(frame) = silent.recv_within(Duration::from_secs(15)).await {
        if let Body::Error(error) = frame {
            code = Some(ErrorCode(error.code));
        }
    }
    assert_eq!(code, Some(ErrorCode::HEARTBEAT_TIMEOUT));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(14), "{waited:?}");
    assert_eq!(server.server.session_count(), 0);
}

#[tokio::test]
async fn websocket_text_and_oversized_messages_get_their_codes() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = start(|_| {}).await;
    let url = format!("ws://{}/", server.server.ws_addr().expect("websocket on"));
    let fatal = |message: Message| {
        let url = url.clone();
        async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.expect("upgrade");
            ws.send(message).await.expect("sent");
            let mut code = None;
            while let Some(Ok(Message::Binary(bytes))) = ws.next().await {
                if let Ok(Body::Error(error)) = cim_core::codec::decode_frame(&bytes, u32::MAX) {
                    code = Some(ErrorCode(error.code));
                }
            }
            code
        }
    };
    assert_eq!(fatal(Message::Text("hello".into())).await, Some(ErrorCode::MALFORMED_FRAME));
    assert_eq!(fatal(Message::Binary(vec![0u8; 70_000].into())).await, Some(ErrorCode::FRAME_TOO_LARGE));
    // Over twice the limit the WebSocket layer refuses the message itself: still the Error
    // frame first (CIM-3.2-3), not a bare close.
    assert_eq!(fatal(Message::Binary(vec![0u8; 140_000].into())).await, Some(ErrorCode::FRAME_TOO_LARGE));
    // A header announcing 2^62 bytes, refused from the header alone.
    use tokio::io::AsyncWriteExt as _;
    let addr = server.server.ws_addr().expect("websocket on");
    let mut raw = upgraded_websocket(addr, Duration::ZERO).await;
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&(1u64 << 62).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    raw.write_all(&header).await.expect("header sent");
    assert_eq!(websocket_error(&mut raw).await, Some(ErrorCode::FRAME_TOO_LARGE));
    server.still_serves().await;
}

#[tokio::test]
async fn a_dripping_websocket_upgrade_uses_up_the_handshake_timeout() {
    let server = start(|o| o.handshake_timeout_secs = 2).await;
    let addr = server.server.ws_addr().expect("websocket on");
    let started = std::time::Instant::now();
    // The upgrade takes 1.5 s of the 2: the Hello has the rest, not 2 s more (spec §4.5).
    let mut raw = upgraded_websocket(addr, Duration::from_millis(1_500)).await;
    assert_eq!(websocket_error(&mut raw).await, Some(ErrorCode::HANDSHAKE_TIMEOUT));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1_900) && took < Duration::from_millis(3_000), "{took:?}");
    server.still_serves().await;
}

/// A WebSocket upgrade written by hand, its request spread over `drip`.
async fn upgraded_websocket(addr: std::net::SocketAddr, drip: Duration) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connects");
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let chunks: Vec<&[u8]> = request.as_bytes().chunks(8).collect();
    let pause = drip / u32::try_from(chunks.len()).expect("few chunks");
    for chunk in chunks {
        tcp.write_all(chunk).await.expect("request written");
        tokio::time::sleep(pause).await;
    }
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.expect("101 response");
        response.push(byte[0]);
    }
    assert!(response.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&response));
    tcp
}

/// The code of the first cim Error in the server's WebSocket messages, read by hand.
async fn websocket_error(tcp: &mut tokio::net::TcpStream) -> Option<ErrorCode> {
    use tokio::io::AsyncReadExt;
    loop {
        let mut head = [0u8; 2];
        tokio::time::timeout(WAIT, tcp.read_exact(&mut head)).await.ok()?.ok()?;
        let len = match head[1] & 0x7F {
            126 => {
                let mut n = [0u8; 2];
                tcp.read_exact(&mut n).await.ok()?;
                usize::from(u16::from_be_bytes(n))
            }
            127 => return None,
            n => usize::from(n),
        };
        let mut payload = vec![0u8; len];
        tcp.read_exact(&mut payload).await.ok()?;
        if head[0] & 0x0F == 0x2
            && let Ok(Body::Error(error)) = cim_core::codec::decode_frame(&payload, u32::MAX)
        {
            return Some(ErrorCode(error.code));
        }
        if head[0] & 0x0F == 0x8 {
            return None;
        }
    }
}

#[tokio::test]
async fn the_internal_push_service_refuses_callers_without_the_deployments_secret() {
    use cim_backend::InternalAuth;
    use cim_proto::v1::internal_push_client::InternalPushClient;

    let server = start(|_| {}).await;
    let (mut alice, _) = server.session("alice", "alice-1", None).await;
    let endpoint = format!("http://{}", server.server.info().internal_endpoint);
    let channel =
        tonic::transport::Endpoint::from_shared(endpoint).expect("url").connect().await.expect("connects");
    let injected = || wire::PushBatch {
        from_server_id: "mallory".into(),
        pushes: vec![wire::Push {
            user_id: String::new(),
            except_session_id: String::new(),
            deliver: Some(wire::Deliver {
                seq: 0,
                message_id: "01HZZZZZZZZZZZZZZZZZZZZZZZ".into(),
                from_user_id: "admin".into(),
                body: "your password expired, send it to me".into(),
                ..Default::default()
            }),
        }],
    };
    let end_alice = || wire::EndSessionsRequest {
        user_id: "alice".into(),
        session_id: String::new(),
        reason: wire::GoAwayReason::LoggedOut as i32,
    };

    let mut anonymous = InternalPushClient::new(channel.clone());
    let mut stranger = InternalPushClient::with_interceptor(
        channel.clone(),
        InternalAuth::derive(cim_backend::secret::generate_secret().as_bytes()).signer(),
    );
    assert_eq!(anonymous.push(injected()).await.expect_err("unsigned").code(), tonic::Code::Unauthenticated);
    assert_eq!(
        anonymous.end_sessions(end_alice()).await.expect_err("unsigned").code(),
        tonic::Code::Unauthenticated
    );
    assert_eq!(stranger.push(injected()).await.expect_err("wrong key").code(), tonic::Code::Unauthenticated);
    assert_eq!(
        stranger.end_sessions(end_alice()).await.expect_err("wrong key").code(),
        tonic::Code::Unauthenticated
    );

    // Nothing reached alice, and her session is still open.
    assert_eq!(alice.recv_within(Duration::from_millis(300)).await, None, "no injected Deliver, no GoAway");
    alice.send(Body::Ping(wire::Ping { nonce: 7 })).await;
    assert_eq!(alice.recv().await, Some(Body::Pong(wire::Pong { nonce: 7 })));

    // The deployment's own processes still get through.
    let mut colleague = InternalPushClient::with_interceptor(channel, server.keys.internal_auth().signer());
    colleague.push(injected()).await.expect("signed with the deployment's key");
    assert!(matches!(alice.recv().await, Some(Body::Deliver(_))));
}

#[tokio::test]
async fn a_full_server_tells_newcomers_and_keeps_serving_its_sessions() {
    let server = start(|o| o.max_connections = Some(3)).await;
    let (mut alice, _) = server.session("alice", "alice-1", None).await;
    let (_bob, _) = server.session("bob", "bob-1", None).await;
    let (_carol, _) = server.session("carol", "carol-1", None).await;
    let mut newcomer = server.raw().await;
    assert_eq!(newcomer.expect_fatal().await, ErrorCode::UNAVAILABLE, "told, not left hanging");
    alice.send(Body::Ping(wire::Ping { nonce: 3 })).await;
    assert_eq!(alice.recv().await, Some(Body::Pong(wire::Pong { nonce: 3 })));
}

/// What a fresh session of `user` is delivered until the inbox has nothing more.
async fn inbox_of(server: &support::TestServer, user: &str, device: &str) -> Vec<String> {
    let (mut session, welcome) = server.session(user, device, None).await;
    let resume = welcome.resume.expect("a resume result");
    let mut texts = Vec::new();
    for _ in resume.next_seq..server.store.inbox_head(user).await.expect("memory").next_seq {
        match session.recv().await {
            Some(Body::Deliver(deliver)) => texts.push(String::from_utf8_lossy(&deliver.body).into_owned()),
            other => panic!("expected a Deliver, got {other:?}"),
        }
    }
    texts
}

#[tokio::test]
async fn a_flood_cannot_push_acknowledged_messages_out_of_an_inbox() {
    let limits = cim_backend::InboxLimits { max_entries: 8, max_entries_per_sender: 5, ..Default::default() };
    let server = support::start_with_store(cim_backend::MemoryStore::with_limits(limits), |_| {}).await;
    server.store.create_user(cim_backend::UserRecord::new("mallory", "mallory", None)).await.expect("user");
    let (mut mallory, _) = server.session("mallory", "m", None).await;
    let (mut alice, _) = server.session("alice", "a", None).await;
    // Bob is away. Mallory floods him: his share is 5 entries, the rest is refused to him.
    for i in 0..12 {
        mallory.send(send_to("bob", &format!("spam-{i}"), &format!("spam {i}"))).await;
    }
    let (mut acked, mut refused) = (0, 0);
    for _ in 0..12 {
        match mallory.recv().await {
            Some(Body::SendAck(_)) => acked += 1,
            Some(Body::Error(e)) if e.code == ErrorCode::INBOX_FULL.0 && !e.client_msg_id.is_empty() => {
                refused += 1
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((acked, refused), (5, 7), "the sender is told; nothing is accepted and then lost");
    // A friend's message still gets in, and stays.
    alice.send(send_to("bob", "friend-1", "are we still on for tonight?")).await;
    assert!(matches!(alice.recv().await, Some(Body::SendAck(_))), "bob's inbox has room for others");
    let texts = inbox_of(&server, "bob", "bob-phone").await;
    assert_eq!(texts.len(), 6, "{texts:?}");
    assert!(texts.contains(&"are we still on for tonight?".to_owned()), "{texts:?}");
    assert!(texts.iter().filter(|t| t.starts_with("spam")).count() == 5);
}

#[tokio::test]
async fn entries_past_retention_are_reported_as_a_gap() {
    let limits = cim_backend::InboxLimits { retention_ms: 300, ..Default::default() };
    let server = support::start_with_store(cim_backend::MemoryStore::with_limits(limits), |_| {}).await;
    // Bob's phone has read everything so far, then goes away.
    let (bob, welcome) = server.session("bob", "bob-phone", None).await;
    let epoch = welcome.resume.expect("resume").epoch;
    drop(bob);
    let (mut alice, _) = server.session("alice", "a", None).await;
    alice.send(send_to("bob", "old", "this one expires unread")).await;
    assert!(matches!(alice.recv().await, Some(Body::SendAck(_))));
    // Past the retention period the entry is gone; the phone's resume says so.
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.store.read_inbox("bob", 0, 10).await.expect("memory").len() == 1 {
        assert!(tokio::time::Instant::now() < deadline, "the entry never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resume = wire::ResumePoint { epoch, last_acked_seq: 0 };
    let (_, welcome) = server.session("bob", "bob-phone", Some(resume)).await;
    let outcome = welcome.resume.expect("resume").outcome;
    assert_eq!(outcome, wire::ResumeOutcome::Gap as i32, "removed unread is reported, never silent");
}

#[tokio::test]
async fn tokens_of_vanished_or_recreated_accounts_are_refused() {
    let server = start(|_| {}).await;
    // An account the store no longer holds (a store restarted empty): its token still has a
    // good signature, and must not open a session.
    let mut raw = server.raw().await;
    raw.send(hello(&server.token("ghost", "d"), "d", None)).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::UNAUTHENTICATED);
    // A token issued for an earlier account of the same id: not this account's.
    let generation = server.store.user("alice").await.expect("memory").expect("alice").generation;
    let mut claims = cim_backend::TokenKeys::new_claims("alice", "d", 60_000);
    claims.acc = Some(generation.wrapping_add(1));
    let mut raw = server.raw().await;
    raw.send(hello(&server.keys.issue(&claims), "d", None)).await;
    assert_eq!(raw.expect_fatal().await, ErrorCode::UNAUTHENTICATED);
    claims.acc = Some(generation);
    let mut raw = server.raw().await;
    raw.send(hello(&server.keys.issue(&claims), "d", None)).await;
    assert!(matches!(raw.recv().await, Some(Body::Welcome(_))), "the account's own generation is welcome");
}
