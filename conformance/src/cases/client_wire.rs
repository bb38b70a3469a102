//! Client cases on transports and frames: WebSocket, TLS, connections that end inside a
//! frame, the frame size the server allows, and a server that sends everything odd at once.

use std::time::Duration;

use cim_proto::v1::{Deliver, Frame, frame::Body};
use prost::Message as _;
use serde_json::json;

use super::client::{connected_via, deliver, expect_client_fatal, welcome_with, welcomed, welcomed_via};
use crate::case::{Case, Cx, Stop, check, fail};
use crate::client_mode::{AcceptFailure, Certificate, ClientHarness, Offer};
use crate::frames::{self, frame};
use crate::wire::{Conn, Event, put_varint};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("client.ws.binary-frames", "On WebSocket each frame is one binary message without a length prefix",
            covers: ["CIM-3.2-1"], tags: ["client", "websocket"], budget: 30, ws_binary_frames),
        crate::case!("client.ws.text-message", "A WebSocket text message gets MALFORMED_FRAME and the connection closes",
            covers: ["CIM-3.2-2"], tags: ["client", "websocket"], budget: 30, ws_text_message),
        crate::case!("client.ws.too-large", "A WebSocket message over the client's maximum frame size gets FRAME_TOO_LARGE",
            covers: ["CIM-3.2-3"], tags: ["client", "websocket"], budget: 30, ws_too_large),
        crate::case!("client.ws.ping", "On WebSocket the client sends cim Pings, not only WebSocket pings",
            covers: ["CIM-3.2-4"], tags: ["client", "websocket", "heartbeat", "slow"], budget: 40, ws_ping),
        crate::case!("client.tls.tcp", "When ServerInfo.tcp_tls is set the client speaks TLS 1.2 or later on TCP",
            covers: ["CIM-3.3-4", "CIM-3.3-2"], tags: ["client", "tls"], budget: 30, tls_tcp),
        crate::case!("client.tls.wss", "When ServerInfo.ws_url is wss:// the client speaks TLS on WebSocket",
            covers: ["CIM-3.3-4", "CIM-3.3-2"], tags: ["client", "tls", "websocket"], budget: 30, tls_wss),
        crate::case!("client.tls.wrong-name", "A trusted certificate that names another host is refused",
            covers: ["CIM-3.3-3"], tags: ["client", "tls"], budget: 30, tls_wrong_name),
        crate::case!("client.tls.untrusted", "A certificate for the right host from an untrusted issuer is refused",
            covers: ["CIM-3.3-3"], tags: ["client", "tls"], budget: 30, tls_untrusted),
        crate::case!("client.framing.truncated-at-close", "A frame or a length prefix cut off by the end of the connection is discarded",
            covers: ["CIM-3.1-5"], tags: ["client", "framing"], budget: 40, truncated_at_close),
        crate::case!("client.limits.frame-size", "After Welcome the client sends no frame larger than Limits.max_frame_size",
            covers: ["CIM-10.2-2"], tags: ["client", "limits"], budget: 30, frame_size),
        crate::case!("client.robustness.hostile-server", "Floods, huge and odd frames and garbage neither crash nor wedge the client",
            covers: ["CIM-11.1-9"], tags: ["client", "robustness"], budget: 60, hostile_server),
    ]
}

async fn ws_binary_frames(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn, hello) = welcomed_via(cx, Offer::WebSocket).await?;
    check(
        "CIM-3.2-1",
        conn.is_websocket() && hello.versions.contains(&1),
        "a Hello in one binary message",
        || format!("{hello:?}"),
    )?;
    harness.command(json!({"cmd": "send", "ref": "ws", "to": {"user_id": "bob"}, "content_type": "text/plain", "body": "over WebSocket"})).await;
    conn.find(cx.answer_wait(), |f| matches!(&f.body, Some(Body::Send(_))).then_some(()))
        .await
        .map(drop)
        .map_err(|event| {
            fail("CIM-3.2-1", "the Send as one binary message holding one frame", event.describe())
        })
}

async fn ws_text_message(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn, _) = welcomed_via(cx, Offer::WebSocket).await?;
    conn.send_ws_text("{\"deliver\": \"not a frame\"}").await;
    expect_client_fatal(&mut conn, "CIM-3.2-2", "MALFORMED_FRAME", cx.answer_wait()).await
}

async fn ws_too_large(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn, hello) = welcomed_via(cx, Offer::WebSocket).await?;
    let limit = if hello.max_frame_size == 0 { 65_536 } else { hello.max_frame_size as usize };
    // A well-formed Deliver one byte over the limit: only its size is wrong.
    let mut oversized = deliver(1, super::client::IDS[0], "");
    let mut body_len = limit;
    for _ in 0..4 {
        if let Some(Body::Deliver(d)) = oversized.body.as_mut() {
            d.body = vec![b'x'; body_len].into();
        }
        body_len = (body_len + limit + 1).saturating_sub(oversized.encoded_len());
    }
    let bytes = crate::wire::encode(&oversized);
    conn.send_bytes(
        &bytes,
        &format!("a Deliver of {} bytes in one binary message (limit {limit})", bytes.len()),
    )
    .await;
    expect_client_fatal(&mut conn, "CIM-3.2-3", "FRAME_TOO_LARGE", cx.answer_wait()).await
}

async fn ws_ping(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, mut conn, hello) = connected_via(cx, Offer::WebSocket).await?;
    conn.send(&welcome_with(&harness, &hello, |w| {
        w.heartbeat_interval_ms = 5_000;
        w.heartbeat_timeout_ms = 12_500;
    }))
    .await;
    conn.find(cx.wait(Duration::from_secs(7)), |f| matches!(f.body, Some(Body::Ping(_))).then_some(()))
        .await
        .map(drop)
        .map_err(|event| fail("CIM-3.2-4", "a cim Ping frame within the 5000 ms interval", event.describe()))
}

/// The client connected over TLS: every version its ClientHello offers is 1.2 or later.
fn check_tls_versions(harness: &ClientHarness) -> Result<(), Stop> {
    let versions = harness.client_hello_versions.clone().unwrap_or_default();
    check(
        "CIM-3.3-2",
        !versions.is_empty() && versions.iter().all(|v| *v >= 0x0303),
        "a ClientHello offering TLS 1.2 or later only",
        || format!("offered {versions:04x?}"),
    )
}

async fn tls_tcp(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, _conn, _hello) = connected_via(cx, Offer::Tls(Certificate::Valid)).await?;
    check_tls_versions(&harness)
}

async fn tls_wss(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, _conn, _hello) = connected_via(cx, Offer::SecureWebSocket(Certificate::Valid)).await?;
    check_tls_versions(&harness)
}

/// The client is offered TLS with a certificate it must refuse: it may try, and retry, but no
/// handshake completes and it never reports a session.
async fn refuses_certificate(cx: &mut Cx, certificate: Certificate, why: &str) -> Result<(), Stop> {
    let mut harness = ClientHarness::start(cx).await?;
    harness.offer(Offer::Tls(certificate))?;
    harness.login("alice", "d1").await;
    let mut attempts = 0;
    let until = tokio::time::Instant::now() + cx.wait(Duration::from_secs(4));
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match harness.accept_offered(left).await {
            Err(AcceptFailure::NoConnection) => break,
            Err(AcceptFailure::Handshake(_)) => attempts += 1,
            Ok(mut conn) => {
                let what = match conn.next(cx.answer_wait()).await {
                    Event::Frame(frame) => {
                        format!("a completed handshake, then {}", crate::transcript::describe(&frame))
                    }
                    other => format!("a completed handshake, then {}", other.describe()),
                };
                return Err(fail("CIM-3.3-3", format!("the handshake refused: {why}"), what));
            }
        }
    }
    check("CIM-3.3-4", attempts > 0, "a TLS connection attempt", || "no connection".into())?;
    let connected = harness.event(Duration::from_millis(200), |e| e["event"] == "connected").await;
    check("CIM-3.3-3", connected.is_none(), "no session reported", || format!("{connected:?}"))
}

async fn tls_wrong_name(cx: &mut Cx) -> Result<(), Stop> {
    refuses_certificate(
        cx,
        Certificate::WrongName,
        "the certificate names wrong-host.invalid, not the server's IP",
    )
    .await
}

async fn tls_untrusted(cx: &mut Cx) -> Result<(), Stop> {
    refuses_certificate(cx, Certificate::Untrusted, "nothing the client trusts issued the certificate").await
}

async fn truncated_at_close(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    conn.send(&deliver(1, super::client::IDS[0], "whole")).await;
    harness
        .expect_event("CIM-8.2-5", "the whole entry handed over", cx.answer_wait(), |e| {
            e["event"] == "message"
        })
        .await?;
    // Entry 2 loses its last bytes to the end of the connection.
    let cut = crate::wire::prefixed(&crate::wire::encode(&deliver(2, super::client::IDS[1], "cut short")));
    conn.send_bytes(&cut[..cut.len() - 3], "entry 2 without its last 3 bytes").await;
    conn.shutdown().await;
    drop(conn);
    let handed = harness.event(Duration::from_millis(800), |e| e["event"] == "message").await;
    check("CIM-3.1-5", handed.is_none(), "nothing of the cut-off entry handed over", || {
        format!("{handed:?}")
    })?;
    let (mut conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(10))).await?;
    let acked = hello.resume.as_ref().map_or(0, |r| r.last_acked_seq);
    check("CIM-3.1-5", acked <= 1, "a resume point that does not count the cut-off entry", || {
        format!("last_acked_seq {acked}")
    })?;
    // This time the connection ends inside a length prefix.
    let (next_seq, outcome) = if hello.resume.is_some() { (2, 2) } else { (1, 1) };
    conn.send(&harness.welcome(&hello, next_seq, outcome)).await;
    let mut prefix = Vec::new();
    put_varint(300, &mut prefix);
    conn.send_bytes(&prefix[..1], "the first byte of a two-byte length prefix").await;
    conn.shutdown().await;
    drop(conn);
    let (_conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(10))).await?;
    let acked = hello.resume.as_ref().map_or(0, |r| r.last_acked_seq);
    check("CIM-3.1-5", acked <= 1, "a client that reconnects as before", || format!("last_acked_seq {acked}"))
}

async fn frame_size(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn, hello) = connected_via(cx, Offer::Tcp).await?;
    let max_frame = 2_048u32;
    conn.send(&welcome_with(&harness, &hello, |w| {
        if let Some(limits) = w.limits.as_mut() {
            limits.max_frame_size = max_frame;
            limits.max_body_size = 1_024;
        }
    }))
    .await;
    harness
        .expect_event("DRV-4-1", "a connected event", cx.answer_wait(), |e| e["event"] == "connected")
        .await?;
    // A body within max_body_size, to a recipient whose id makes the frame too large.
    let recipient = "b".repeat(1_100);
    harness.command(json!({"cmd": "send", "ref": "big", "to": {"user_id": recipient}, "content_type": "text/plain", "body": "x".repeat(1_000)})).await;
    harness.command(json!({"cmd": "send", "ref": "small", "to": {"user_id": "bob"}, "content_type": "text/plain", "body": "fits"})).await;
    let until = tokio::time::Instant::now() + cx.wait(Duration::from_secs(2));
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match conn.next(left).await {
            Event::Frame(frame) => {
                let size = frame.encoded_len();
                check(
                    "CIM-10.2-2",
                    size <= max_frame as usize,
                    format!("frames of at most {max_frame} bytes"),
                    || format!("a frame of {size} bytes: {}", crate::transcript::describe(&frame)),
                )?;
            }
            Event::Timeout | Event::Closed => return Ok(()),
            Event::Invalid(what) => return Err(fail("CIM-3.1-1", "frames", what)),
        }
    }
}

/// Entry `seq` with a body of `size` bytes.
fn big_deliver(seq: u64, size: usize) -> Frame {
    frame(Body::Deliver(Deliver {
        seq,
        message_id: format!("01HF00000000000000000{seq:05}"),
        from_user_id: "bob".into(),
        to: Some(frames::to_user("alice")),
        content_type: "application/octet-stream".into(),
        body: vec![0xa5; size].into(),
        sent_at_ms: 1,
    }))
}

async fn hostile_server(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    // A flood of Pings, written without reading the Pongs.
    let mut burst = Vec::new();
    for nonce in 0..2_000u64 {
        burst.extend(crate::wire::prefixed(&crate::wire::encode(&frames::ping(nonce))));
    }
    conn.send_bytes(&burst, "2000 Pings in one write").await;
    // The largest entry Limits allow, then entries with odd but valid fields.
    conn.send(&big_deliver(1, 61_440)).await;
    let mut odd = deliver(2, super::client::IDS[1], "");
    if let Some(Body::Deliver(d)) = odd.body.as_mut() {
        d.from_user_id = "\u{1F600}".repeat(1_000);
        d.content_type = "x/".repeat(200);
        d.sent_at_ms = u64::MAX;
    }
    conn.send(&odd).await;
    harness
        .expect_event(
            "CIM-11.1-9",
            "the largest entry handed over after the flood",
            cx.wait(Duration::from_secs(10)),
            |e| e["event"] == "message" && e["seq"] == 1,
        )
        .await?;
    // Garbage in a well-formed length prefix: the client ends the connection, or not.
    conn.send_payload(&[0xff; 64], "64 bytes that are not a frame").await;
    let closed = conn.closes_within(cx.wait(Duration::from_secs(5))).await;
    check(
        "CIM-11.1-9",
        harness.driver_finished(Duration::ZERO).await.is_none(),
        "the driver still running",
        || "it ended".into(),
    )?;
    // Still working: a new session (or the old one) hands over the next entry.
    let mut conn: Conn = if closed {
        let (mut conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(10))).await?;
        conn.send(&harness.welcome(&hello, 3, 2)).await;
        conn
    } else {
        conn
    };
    conn.auto_pong = true;
    conn.send(&deliver(3, super::client::IDS[2], "still here")).await;
    harness
        .expect_event(
            "CIM-11.1-9",
            "a client that still hands over entries",
            cx.wait(Duration::from_secs(5)),
            |e| e["event"] == "message" && e["seq"] == 3,
        )
        .await?;
    harness.command(json!({"cmd": "close"})).await;
    let finished = harness.driver_finished(cx.wait(Duration::from_secs(5))).await;
    check("CIM-11.1-9", finished == Some(true), "the driver ends cleanly after close", || match finished {
        Some(_) => "it failed (a non-zero exit status)".into(),
        None => "it still runs 5 s later".into(),
    })
}
