//! Client cases: the harness plays route and server, the client runs inside a driver
//! (spec/v1/driver.md). Ids start with `client.`; `cim-conformance client` runs only these.

use std::time::{Duration, Instant};

use cim_proto::v1::{Deliver, Error as ErrorFrame, Frame, GoAway, Hello, SendAck, frame::Body};
use serde_json::json;

use crate::case::{Case, Cx, Stop, check, fail};
use crate::client_mode::{ClientHarness, Offer};
use crate::frames::{self, frame};
use crate::wire::{Conn, Event};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("client.handshake.hello", "The client's first frame is a Hello with version 1, its device and the token as issued",
            covers: ["CIM-4.1-1", "CIM-4.2-1", "CIM-4.3-1", "CIM-4.3-4", "CIM-5.1-4", "CIM-3.1-1"], tags: ["client", "handshake"], budget: 30, hello),
        crate::case!("client.handshake.waits-for-welcome", "Before Welcome the client sends nothing but its Hello",
            covers: ["CIM-4.1-2"], tags: ["client", "handshake"], budget: 30, waits_for_welcome),
        crate::case!("client.handshake.unexpected-before-welcome", "A Deliver before Welcome gets UNEXPECTED_FRAME",
            covers: ["CIM-4.1-5"], tags: ["client", "handshake"], budget: 30, unexpected_before_welcome),
        crate::case!("client.handshake.wrong-version", "A Welcome with a version the client did not offer gets INVALID_FIELD",
            covers: ["CIM-4.2-5"], tags: ["client", "handshake"], budget: 30, wrong_version),
        crate::case!("client.handshake.incomplete-welcome", "A Welcome without resume gets INVALID_FIELD",
            covers: ["CIM-4.4-6"], tags: ["client", "handshake"], budget: 30, incomplete_welcome),
        crate::case!("client.heartbeat.pong", "The client answers a Ping with a Pong of the same nonce",
            covers: ["CIM-6.2-3"], tags: ["client", "heartbeat"], budget: 30, client_pong),
        crate::case!("client.send.acked", "A message is sent with a valid id and reported sent only after its SendAck",
            covers: ["CIM-7.1-1", "CIM-7.2-7", "CIM-7.2-6"], tags: ["client", "messaging"], budget: 30, send_acked),
        crate::case!("client.deliver.in-order-once", "Entries reach the application in order and once, and are acknowledged",
            covers: ["CIM-8.2-5", "CIM-9.1-7", "CIM-8.3-1", "CIM-7.4-6"], tags: ["client", "inbox"], budget: 30, deliver_in_order_once),
        crate::case!("client.deliver.acked-promptly", "Processed entries are acknowledged within a second",
            covers: ["CIM-8.3-2"], tags: ["client", "inbox"], budget: 30, acked_promptly),
        crate::case!("client.resume.after-loss", "After a lost connection the client reconnects and resumes from what it processed",
            covers: ["CIM-8.4-1", "CIM-8.4-2", "CIM-6.3-4"], tags: ["client", "resume"], budget: 40, resume_after_loss),
        crate::case!("client.retransmit", "A Send unanswered when the connection drops is sent again, unchanged, on the next session",
            covers: ["CIM-13.2-1", "CIM-9.2-3"], tags: ["client", "resume"], budget: 40, retransmit),
        crate::case!("client.fatal-error.no-retry", "After a fatal Error whose retry is No the client closes and does not reconnect",
            covers: ["CIM-11.1-2", "CIM-11.3-4"], tags: ["client", "errors"], budget: 30, fatal_no_retry),
        crate::case!("client.framing.malformed", "A frame that is not protobuf gets MALFORMED_FRAME",
            covers: ["CIM-3.4-1"], tags: ["client", "framing"], budget: 30, client_malformed),
        crate::case!("client.framing.unknown-frame", "A Frame with a body the client does not know gets UNKNOWN_FRAME",
            covers: ["CIM-3.4-2"], tags: ["client", "framing"], budget: 30, client_unknown_frame),
        crate::case!("client.framing.bad-prefix", "A length prefix of more than 5 bytes gets BAD_LENGTH_PREFIX",
            covers: ["CIM-3.1-3"], tags: ["client", "framing"], budget: 30, client_bad_prefix),
        crate::case!("client.framing.too-large", "A length prefix over 65536 gets FRAME_TOO_LARGE",
            covers: ["CIM-3.1-4", "CIM-10.2-1"], tags: ["client", "framing"], budget: 30, client_too_large),
        crate::case!("client.framing.unknown-fields", "Unknown fields in Welcome and Deliver are ignored",
            covers: ["CIM-3.4-3", "CIM-3.1-2"], tags: ["client", "framing"], budget: 30, client_unknown_fields),
        crate::case!("client.handshake.second-welcome", "A second Welcome, or a Hello, from the server gets UNEXPECTED_FRAME",
            covers: ["CIM-4.1-8"], tags: ["client", "handshake"], budget: 30, second_welcome),
        crate::case!("client.heartbeat.unmatched-pong", "A Pong that answers no Ping is ignored",
            covers: ["CIM-6.2-5"], tags: ["client", "heartbeat"], budget: 30, client_unmatched_pong),
        crate::case!("client.errors.stray-error", "An Error for a message not in flight neither closes the connection nor surfaces",
            covers: ["CIM-11.1-7", "CIM-11.1-8", "CIM-7.2-8"], tags: ["client", "errors"], budget: 30, stray_error),
        crate::case!("client.errors.rejected-not-retried", "A Send rejected with a code whose retry is No is reported and not sent again",
            covers: ["CIM-11.3-1", "CIM-11.1-7"], tags: ["client", "errors"], budget: 30, rejected_not_retried),
        crate::case!("client.errors.outcome-unknown", "A Send answered OUTCOME_UNKNOWN is sent again unchanged, not reported failed",
            covers: ["CIM-7.2-11", "CIM-7.2-12"], tags: ["client", "errors"], budget: 30, outcome_unknown),
        crate::case!("client.resume.epoch-changed", "A new epoch is reported to the application before any entry of it",
            covers: ["CIM-8.4-11"], tags: ["client", "resume"], budget: 40, epoch_changed),
        crate::case!("client.resume.gap", "A GAP outcome, or an outcome the client does not know, is reported before any entry",
            covers: ["CIM-8.4-12", "CIM-8.4-13"], tags: ["client", "resume"], budget: 40, gap),
        crate::case!("client.goaway.shutdown", "After GoAway SHUTDOWN the client sends nothing more there, waits, logs in again and reconnects",
            covers: ["CIM-12.2-1", "CIM-12.2-3", "CIM-12.2-7"], tags: ["client", "goaway"], budget: 40, goaway_shutdown),
        crate::case!("client.goaway.unknown-reason", "A GoAway reason the client does not know is taken as SHUTDOWN",
            covers: ["CIM-12.2-6"], tags: ["client", "goaway"], budget: 40, goaway_unknown_reason),
        crate::case!("client.handshake.welcome-timeout", "Without Welcome or Error within 10 s the client closes and connects again",
            covers: ["CIM-4.5-3"], tags: ["client", "handshake", "slow"], budget: 40, welcome_timeout),
        crate::case!("client.token.relogin", "After UNAUTHENTICATED the client logs in again and presents a new token",
            covers: ["CIM-5.2-8"], tags: ["client", "token"], budget: 40, relogin),
        crate::case!("client.heartbeat.ping", "The client sends a Ping once the heartbeat interval passes without a frame from it",
            covers: ["CIM-6.2-1"], tags: ["client", "heartbeat", "slow"], budget: 40, client_ping),
        crate::case!("client.heartbeat.dead-peer", "A client that hears nothing for heartbeat_timeout_ms closes and reconnects",
            covers: ["CIM-6.3-4", "CIM-6.3-1"], tags: ["client", "heartbeat", "slow"], budget: 60, client_dead_peer),
        crate::case!("client.deliver.opaque-fields", "An empty content_type is text/plain and a message_id of any form is handed over",
            covers: ["CIM-7.1-11", "CIM-7.5-5"], tags: ["client", "inbox"], budget: 30, opaque_fields),
        crate::case!("client.deliver.not-behind-resume-point", "An entry at or below the processed seq is not handed over again",
            covers: ["CIM-9.1-6"], tags: ["client", "inbox"], budget: 30, not_behind),
        crate::case!("client.limits.in-flight", "The client keeps at most max_in_flight Sends unanswered",
            covers: ["CIM-10.3-1", "CIM-10.1-2"], tags: ["client", "limits"], budget: 30, in_flight),
        crate::case!("client.errors.nothing-after-fatal", "Frames after one the client ends the connection for are not processed",
            covers: ["CIM-11.1-4", "CIM-11.1-1", "CIM-11.1-5", "CIM-11.2-1", "CIM-11.2-3"], tags: ["client", "errors"], budget: 30, nothing_after_fatal),
        crate::case!("client.errors.unknown-codes", "Unknown fatal codes are retried by their range: 5xxx after a delay, 1xxx not",
            covers: ["CIM-11.2-2", "CIM-3.4-4"], tags: ["client", "errors"], budget: 40, unknown_codes),
        crate::case!("client.errors.retry-after", "After a fatal Error with retry_after_ms the client waits at least that long",
            covers: ["CIM-11.3-3"], tags: ["client", "errors"], budget: 40, retry_after),
        crate::case!("client.goaway.token-expired", "After GoAway TOKEN_EXPIRED the client logs in again before reconnecting",
            covers: ["CIM-12.2-4"], tags: ["client", "goaway"], budget: 40, goaway_token_expired),
        crate::case!("client.reconnect.backoff", "A client whose connections keep failing backs off instead of storming",
            covers: ["CIM-13.1-1"], tags: ["client", "reconnect"], budget: 30, backoff),
        crate::case!("client.route.login-refused", "A refused login is reported with its registry code; requests are JSON with the proto's names",
            covers: ["CIM-14.6-5", "CIM-14.4-1", "CIM-14.4-2", "CIM-14.4-6"], tags: ["client", "route"], budget: 30, login_refused),
        crate::case!("client.route.relogin-retried", "A relogin refused with an unknown 5xxx code is retried",
            covers: ["CIM-14.6-6"], tags: ["client", "route"], budget: 40, relogin_retried),
        crate::case!("client.route.retry-after", "A relogin refused with RATE_LIMITED is not repeated before Retry-After",
            covers: ["CIM-14.6-8"], tags: ["client", "route"], budget: 40, relogin_retry_after),
        crate::case!("client.route.no-retry", "A relogin refused with INVALID_CREDENTIALS is not repeated",
            covers: ["CIM-14.6-7"], tags: ["client", "route"], budget: 40, relogin_no_retry),
        crate::case!("client.goaway.replaced", "After GoAway SESSION_REPLACED the client does not reconnect",
            covers: ["CIM-12.2-5", "CIM-13.2-2"], tags: ["client", "goaway"], budget: 30, goaway_replaced),
    ]
}

/// The message id of every SendAck the harness gives.
const ACKED_ID: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

/// A SendAck for `client_msg_id`, with the message id [`ACKED_ID`].
fn ack(client_msg_id: &str) -> Frame {
    frame(Body::SendAck(SendAck {
        client_msg_id: client_msg_id.into(),
        message_id: ACKED_ID.into(),
        sent_at_ms: 1,
        duplicate: false,
        live_only: false,
    }))
}

/// The driver logged in, the client connected and sent its Hello.
pub(super) async fn connected(cx: &Cx) -> Result<(ClientHarness, Conn, Hello), Stop> {
    connected_via(cx, Offer::Tcp).await
}

/// …over what the route offers.
pub(super) async fn connected_via(cx: &Cx, offer: Offer) -> Result<(ClientHarness, Conn, Hello), Stop> {
    let mut harness = ClientHarness::start(cx).await?;
    harness.offer(offer)?;
    harness.login("alice", "d1").await;
    let (conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(10))).await?;
    Ok((harness, conn, hello))
}

/// …and welcomed, with a fresh inbox.
pub(super) async fn welcomed(cx: &Cx) -> Result<(ClientHarness, Conn), Stop> {
    welcomed_via(cx, Offer::Tcp).await.map(|(harness, conn, _)| (harness, conn))
}

/// …over what the route offers; also returns the Hello.
pub(super) async fn welcomed_via(cx: &Cx, offer: Offer) -> Result<(ClientHarness, Conn, Hello), Stop> {
    let (mut harness, mut conn, hello) = connected_via(cx, offer).await?;
    conn.send(&harness.welcome(&hello, 1, 1)).await;
    harness
        .expect_event("DRV-4-1", "a connected event", cx.wait(Duration::from_secs(5)), |e| {
            e["event"] == "connected"
        })
        .await?;
    Ok((harness, conn, hello))
}

async fn hello(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, _conn, hello) = connected(cx).await?;
    check("CIM-4.2-1", hello.versions.contains(&1), "Hello.versions containing 1", || {
        format!("{:?}", hello.versions)
    })?;
    check(
        "CIM-4.3-1",
        hello.device_id == "d1",
        "device_id \"d1\", the device the driver logged in with",
        || format!("{:?}", hello.device_id),
    )?;
    check(
        "CIM-4.3-4",
        hello.max_frame_size == 0 || hello.max_frame_size >= 65_536,
        "max_frame_size 0 or at least 65536",
        || format!("{}", hello.max_frame_size),
    )?;
    let issued = harness.logins().last().map(|l| l.token.clone()).unwrap_or_default();
    check("CIM-5.1-4", hello.token == issued, "Hello.token exactly as the route issued it", || {
        "another token".into()
    })
}

async fn waits_for_welcome(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn, _hello) = connected(cx).await?;
    // A send while the handshake is pending must wait for Welcome.
    harness.command(json!({"cmd": "send", "ref": "early", "to": {"user_id": "bob"}, "content_type": "text/plain", "body": "hi"})).await;
    match conn.next(cx.wait(Duration::from_millis(1500))).await {
        Event::Timeout | Event::Closed => Ok(()),
        Event::Frame(Frame { body: Some(Body::Error(e)) }) if e.client_msg_id.is_empty() => Ok(()),
        other => {
            Err(fail("CIM-4.1-2", "nothing but Hello (or a fatal Error) before Welcome", other.describe()))
        }
    }
}

pub(super) async fn expect_client_fatal(
    conn: &mut Conn,
    requirement: &'static str,
    code: &str,
    wait: Duration,
) -> Result<(), Stop> {
    let want = crate::spec::code(code);
    match conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Error(e)) }) if e.code == want => {}
        other => {
            return Err(fail(
                requirement,
                format!("Error {code} ({want}), then the connection closes"),
                other.describe(),
            ));
        }
    }
    check(
        "CIM-11.1-1",
        conn.closes_within(wait).await,
        format!("the connection closed after Error {code}"),
        || "still open".into(),
    )
}

async fn unexpected_before_welcome(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn, _hello) = connected(cx).await?;
    let deliver = Deliver {
        seq: 1,
        message_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
        from_user_id: "bob".into(),
        to: Some(frames::to_user("alice")),
        content_type: "text/plain".into(),
        body: b"early".to_vec().into(),
        sent_at_ms: 1,
    };
    conn.send(&frame(Body::Deliver(deliver))).await;
    expect_client_fatal(&mut conn, "CIM-4.1-5", "UNEXPECTED_FRAME", cx.answer_wait()).await
}

async fn wrong_version(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, mut conn, hello) = connected(cx).await?;
    let mut welcome = harness.welcome(&hello, 1, 1);
    if let Some(Body::Welcome(w)) = welcome.body.as_mut() {
        w.version = 4_000_000;
    }
    conn.send(&welcome).await;
    expect_client_fatal(&mut conn, "CIM-4.2-5", "INVALID_FIELD", cx.answer_wait()).await
}

async fn incomplete_welcome(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, mut conn, hello) = connected(cx).await?;
    let mut welcome = harness.welcome(&hello, 1, 1);
    if let Some(Body::Welcome(w)) = welcome.body.as_mut() {
        w.resume = None;
    }
    conn.send(&welcome).await;
    expect_client_fatal(&mut conn, "CIM-4.4-6", "INVALID_FIELD", cx.answer_wait()).await
}

async fn client_pong(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn) = welcomed(cx).await?;
    for nonce in [7, u64::MAX] {
        conn.send(&frames::ping(nonce)).await;
        crate::case::expect_pong(&mut conn, nonce, cx.answer_wait()).await?;
    }
    Ok(())
}

async fn next_send(
    conn: &mut Conn,
    requirement: &'static str,
    wait: Duration,
) -> Result<cim_proto::v1::Send, Stop> {
    conn.find(wait, |f| match &f.body {
        Some(Body::Send(s)) => Some(s.clone()),
        _ => None,
    })
    .await
    .map_err(|event| fail(requirement, "a Send for the driver's send command", event.describe()))
}

async fn send_acked(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    harness.command(json!({"cmd": "send", "ref": "m1", "to": {"user_id": "bob"}, "content_type": "text/plain", "body": "hello bob"})).await;
    let send = next_send(&mut conn, "CIM-7.1-1", cx.answer_wait()).await?;
    check(
        "CIM-7.1-1",
        (1..=64).contains(&send.client_msg_id.len()),
        "a client_msg_id of 1..=64 bytes",
        || format!("{:?}", send.client_msg_id),
    )?;
    // Not reported sent before the SendAck.
    let early = harness.event(Duration::from_millis(700), |e| e["event"] == "sent").await;
    check("CIM-7.2-7", early.is_none(), "no sent event before the SendAck", || format!("{early:?}"))?;
    // An ack for another id first: matched by id, not order (CIM-7.2-6, CIM-7.2-8).
    let stray = SendAck {
        client_msg_id: "not-in-flight".into(),
        message_id: "01ARZ3NDEKTSV4RRFFQ69G5FAA".into(),
        sent_at_ms: 1,
        duplicate: false,
        live_only: false,
    };
    conn.send(&frame(Body::SendAck(stray))).await;
    conn.send(&ack(&send.client_msg_id)).await;
    let sent = harness
        .expect_event("CIM-7.2-7", "a sent event after the SendAck", cx.answer_wait(), |e| {
            e["event"] == "sent" || e["event"] == "send_failed"
        })
        .await?;
    check(
        "CIM-7.2-6",
        sent["event"] == "sent" && sent["message_id"] == ACKED_ID,
        "sent with the SendAck's message_id",
        || sent.to_string(),
    )
}

pub(super) fn deliver(seq: u64, message_id: &str, text: &str) -> Frame {
    frame(Body::Deliver(Deliver {
        seq,
        message_id: message_id.into(),
        from_user_id: "bob".into(),
        to: Some(frames::to_user("alice")),
        content_type: "text/plain".into(),
        body: text.as_bytes().to_vec().into(),
        sent_at_ms: 1_700_000_000_000,
    }))
}

pub(super) const IDS: [&str; 4] = [
    "01HF0000000000000000000001",
    "01HF0000000000000000000002",
    "01HF0000000000000000000003",
    "01HF0000000000000000000004",
];

async fn deliver_in_order_once(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    for (i, id) in IDS.iter().take(3).enumerate() {
        conn.send(&deliver(i as u64 + 1, id, &format!("m{}", i + 1))).await;
    }
    // The same message again under a new seq: a copy the application must not see twice.
    conn.send(&deliver(4, IDS[0], "m1 again")).await;
    let wait = cx.answer_wait();
    for id in IDS.iter().take(3) {
        let event = harness
            .expect_event("CIM-8.2-5", &format!("message {id}"), wait, |e| e["event"] == "message")
            .await?;
        check(
            "CIM-8.2-5",
            event["message_id"] == *id,
            format!("message {id}, in the order delivered"),
            || event.to_string(),
        )?;
    }
    let again = harness.event(Duration::from_millis(800), |e| e["event"] == "message").await;
    check("CIM-9.1-7", again.is_none(), "a message id already handed over is not handed over again", || {
        format!("{again:?}")
    })?;
    // Acknowledged, never beyond what was delivered.
    let ack = conn
        .find(cx.wait(Duration::from_secs(3)), |f| match &f.body {
            Some(Body::DeliverAck(a)) if a.up_to_seq >= 3 => Some(a.up_to_seq),
            _ => None,
        })
        .await
        .map_err(|event| {
            fail("CIM-8.3-1", "a DeliverAck covering the processed entries", event.describe())
        })?;
    check("CIM-8.3-1", ack <= 4, "no acknowledgement beyond the entries delivered", || {
        format!("up_to_seq {ack}")
    })
}

async fn acked_promptly(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn) = welcomed(cx).await?;
    conn.send(&deliver(1, IDS[0], "ack me")).await;
    let started = Instant::now();
    conn.find(cx.wait(Duration::from_millis(1500)), |f| {
        matches!(&f.body, Some(Body::DeliverAck(a)) if a.up_to_seq >= 1).then_some(())
    })
    .await
    .map_err(|event| fail("CIM-8.3-2", "a DeliverAck within 1 s of the entry", event.describe()))?;
    check("CIM-8.3-2", started.elapsed() <= cx.wait(Duration::from_millis(1200)), "within 1 s", || {
        format!("{} ms", started.elapsed().as_millis())
    })
}

async fn resume_after_loss(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    for (i, id) in IDS.iter().take(3).enumerate() {
        conn.send(&deliver(i as u64 + 1, id, &format!("m{}", i + 1))).await;
    }
    for _ in 0..3 {
        harness
            .expect_event("CIM-8.2-5", "the three messages", cx.answer_wait(), |e| e["event"] == "message")
            .await?;
    }
    drop(conn);
    // Backoff (base 500 ms, doubling) and perhaps a new login: allow 15 s.
    let (_conn, hello) =
        harness.accept_hello(cx.wait(Duration::from_secs(15))).await.map_err(|stop| match stop {
            Stop::Fail(f) => {
                fail("CIM-6.3-4", "a new connection and Hello after the connection was lost", f.actual)
            }
            other => other,
        })?;
    let resume = hello.resume.unwrap_or_default();
    check(
        "CIM-8.4-2",
        resume.epoch == harness.epoch,
        format!("Hello.resume with the epoch {} of the Welcome", harness.epoch),
        || format!("{:?}", hello.resume),
    )?;
    check("CIM-8.4-1", resume.last_acked_seq == 3, "last_acked_seq 3, the last entry processed", || {
        format!("{}", resume.last_acked_seq)
    })
}

async fn retransmit(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    harness.command(json!({"cmd": "send", "ref": "m1", "to": {"user_id": "bob"}, "content_type": "text/plain", "body": "first"})).await;
    harness.command(json!({"cmd": "send", "ref": "m2", "to": {"user_id": "bob"}, "content_type": "text/plain", "body": "second"})).await;
    let first = next_send(&mut conn, "CIM-7.1-1", cx.answer_wait()).await?;
    let second = next_send(&mut conn, "CIM-7.1-1", cx.answer_wait()).await?;
    // Neither answered: the connection drops.
    drop(conn);
    let (mut again, hello) = harness.accept_hello(cx.wait(Duration::from_secs(15))).await?;
    again.send(&harness.welcome(&hello, 1, 2)).await;
    let wait = cx.answer_wait();
    let resent_first = next_send(&mut again, "CIM-13.2-1", wait).await?;
    let resent_second = next_send(&mut again, "CIM-13.2-1", wait).await?;
    check(
        "CIM-13.2-1",
        resent_first == first && resent_second == second,
        "both Sends again, unchanged (id, recipient, content_type, body)",
        || format!("{resent_first:?} / {resent_second:?}"),
    )?;
    check("CIM-9.2-3", resent_first.client_msg_id == first.client_msg_id, "in their original order", || {
        "another order".into()
    })
}

async fn fatal_no_retry(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    let error = ErrorFrame {
        code: crate::spec::code("INVALID_FIELD"),
        message: "sent by cim-conformance".into(),
        client_msg_id: String::new(),
        retry_after_ms: 0,
    };
    conn.send(&frame(Body::Error(error))).await;
    check(
        "CIM-11.1-2",
        conn.closes_within(cx.answer_wait()).await,
        "the client closes the connection",
        || "still open".into(),
    )?;
    let back = harness.reconnects_within(cx.wait(Duration::from_secs(4))).await;
    check("CIM-11.3-4", !back, "no new connection after a fatal Error whose retry is No", || {
        "the client reconnected".into()
    })
}

async fn goaway_replaced(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    conn.send(&frame(Body::GoAway(GoAway {
        reason: 2,
        message: "replaced by cim-conformance".into(),
        reconnect_after_ms: 0,
    })))
    .await;
    drop(conn);
    let back = harness.reconnects_within(cx.wait(Duration::from_secs(4))).await;
    check("CIM-12.2-5", !back, "no new connection after GoAway SESSION_REPLACED", || {
        "the client reconnected".into()
    })
}

async fn client_malformed(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn) = welcomed(cx).await?;
    conn.send_payload(&[0x0f, 0x01], "a field with wire type 7").await;
    expect_client_fatal(&mut conn, "CIM-3.4-1", "MALFORMED_FRAME", cx.answer_wait()).await
}

async fn client_unknown_frame(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn) = welcomed(cx).await?;
    conn.send_payload(
        &crate::wire::Raw::new().bytes(42, b"x").into_bytes(),
        "a Frame whose body is field 42",
    )
    .await;
    expect_client_fatal(&mut conn, "CIM-3.4-2", "UNKNOWN_FRAME", cx.answer_wait()).await
}

async fn client_bad_prefix(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn) = welcomed(cx).await?;
    conn.send_bytes(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01], "a 6-byte length prefix").await;
    expect_client_fatal(&mut conn, "CIM-3.1-3", "BAD_LENGTH_PREFIX", cx.answer_wait()).await
}

async fn client_too_large(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn, hello) = connected(cx).await?;
    let limit = if hello.max_frame_size == 0 { 65_536 } else { u64::from(hello.max_frame_size) };
    let mut prefix = Vec::new();
    crate::wire::put_varint(limit + 1, &mut prefix);
    conn.send_bytes(&prefix, "a length prefix one over the client's maximum frame size, and no frame").await;
    expect_client_fatal(&mut conn, "CIM-3.1-4", "FRAME_TOO_LARGE", cx.answer_wait()).await
}

async fn client_unknown_fields(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn, hello) = connected(cx).await?;
    // Field 99 of the Welcome message: append it inside the Welcome's bytes.
    let Some(Body::Welcome(w)) = harness.welcome(&hello, 1, 1).body else {
        return Err(Stop::Error("no welcome".into()));
    };
    use prost::Message as _;
    let mut inner = w.encode_to_vec();
    inner.extend(crate::wire::Raw::new().varint(99, 7).bytes(100, b"later").into_bytes());
    let welcome = crate::wire::Raw::new().bytes(2, &inner).into_bytes();
    // Sent with a padded (5-byte) length prefix, which a receiver accepts (CIM-3.1-2).
    let bytes = crate::wire::padded_prefixed(&welcome);
    conn.send_bytes(&bytes, "Welcome with fields 99 and 100, behind a 5-byte prefix").await;
    harness
        .expect_event("CIM-3.4-3", "connected: unknown fields of Welcome ignored", cx.answer_wait(), |e| {
            e["event"] == "connected"
        })
        .await?;
    let Some(Body::Deliver(d)) = deliver(1, IDS[0], "with extras").body else {
        return Err(Stop::Error("no deliver".into()));
    };
    let mut inner = d.encode_to_vec();
    inner.extend(crate::wire::Raw::new().bytes(50, b"x").into_bytes());
    conn.send_payload(&crate::wire::Raw::new().bytes(7, &inner).into_bytes(), "Deliver with field 50").await;
    harness
        .expect_event("CIM-3.4-3", "the message: unknown fields of Deliver ignored", cx.answer_wait(), |e| {
            e["event"] == "message"
        })
        .await
        .map(drop)
}

async fn second_welcome(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, mut conn, hello) = connected(cx).await?;
    let welcome = harness.welcome(&hello, 1, 1);
    conn.send(&welcome).await;
    conn.send(&welcome).await;
    expect_client_fatal(&mut conn, "CIM-4.1-8", "UNEXPECTED_FRAME", cx.answer_wait()).await?;
    // A driver that connects serves one harness at a time (spec DRV-1-7).
    drop((harness, conn));
    let (_harness, mut conn) = welcomed(cx).await?;
    conn.send(&frame(Body::Hello(frames::hello("t", "d")))).await;
    expect_client_fatal(&mut conn, "CIM-4.1-8", "UNEXPECTED_FRAME", cx.answer_wait()).await
}

/// The connection is still open and the client still answers Pings.
async fn still_open(conn: &mut Conn, requirement: &'static str, wait: Duration) -> Result<(), Stop> {
    conn.send(&frames::ping(4242)).await;
    conn.find(wait, |f| matches!(&f.body, Some(Body::Pong(p)) if p.nonce == 4242).then_some(()))
        .await
        .map_err(|event| fail(requirement, "the connection kept open (a Pong for a Ping)", event.describe()))
}

async fn client_unmatched_pong(cx: &mut Cx) -> Result<(), Stop> {
    let (_harness, mut conn) = welcomed(cx).await?;
    conn.send(&frames::pong(987_654_321)).await;
    still_open(&mut conn, "CIM-6.2-5", cx.answer_wait()).await
}

async fn stray_error(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    let stray = ErrorFrame {
        code: crate::spec::code("UNKNOWN_RECIPIENT"),
        message: "not yours".into(),
        client_msg_id: "never-sent".into(),
        retry_after_ms: 0,
    };
    conn.send(&frame(Body::Error(stray))).await;
    conn.send(&ack("never-sent-either")).await;
    still_open(&mut conn, "CIM-11.1-7", cx.answer_wait()).await?;
    let surfaced = harness
        .event(Duration::from_millis(500), |e| e["event"] == "sent" || e["event"] == "send_failed")
        .await;
    check(
        "CIM-11.1-8",
        surfaced.is_none(),
        "nothing reported for an Error or SendAck of no message in flight",
        || format!("{surfaced:?}"),
    )
}

async fn rejected_not_retried(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    harness.command(json!({"cmd": "send", "ref": "m1", "to": {"user_id": "nobody"}, "content_type": "text/plain", "body": "hello?"})).await;
    let send = next_send(&mut conn, "CIM-7.1-1", cx.answer_wait()).await?;
    let reject = ErrorFrame {
        code: crate::spec::code("UNKNOWN_RECIPIENT"),
        message: "no such user".into(),
        client_msg_id: send.client_msg_id.clone(),
        retry_after_ms: 0,
    };
    conn.send(&frame(Body::Error(reject))).await;
    let failed = harness
        .expect_event("CIM-11.3-1", "send_failed for the rejected message", cx.answer_wait(), |e| {
            e["event"] == "send_failed" || e["event"] == "sent"
        })
        .await?;
    check(
        "CIM-11.3-1",
        failed["event"] == "send_failed" && failed["code"] == 3000,
        "send_failed with code 3000",
        || failed.to_string(),
    )?;
    still_open(&mut conn, "CIM-11.1-7", cx.answer_wait()).await?;
    let again = conn
        .find(Duration::from_millis(800), |f| {
            matches!(&f.body, Some(Body::Send(s)) if s.client_msg_id == send.client_msg_id).then_some(())
        })
        .await;
    check("CIM-11.3-1", again.is_err(), "the rejected Send not sent again", || "sent again".into())
}

async fn outcome_unknown(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    harness.command(json!({"cmd": "send", "ref": "m1", "to": {"user_id": "bob"}, "content_type": "text/plain", "body": "did it arrive?"})).await;
    let send = next_send(&mut conn, "CIM-7.1-1", cx.answer_wait()).await?;
    let code = crate::spec::code("OUTCOME_UNKNOWN");
    let pause: u32 = 300;
    conn.send(&frame(Body::Error(ErrorFrame {
        code,
        message: "outcome unknown, from cim-conformance".into(),
        client_msg_id: send.client_msg_id.clone(),
        retry_after_ms: pause,
    })))
    .await;
    let answered = Instant::now();
    // Any Send: the driver was asked for one message, so the next Send is the retry or a defect.
    let resent = conn
        .find(cx.wait(Duration::from_millis(u64::from(pause) + 3_000)), |f| match &f.body {
            Some(Body::Send(s)) => Some(s.clone()),
            _ => None,
        })
        .await
        .map_err(|event| {
            let want = format!("the Send again on the same connection, after retry_after_ms ({pause} ms)");
            fail("CIM-7.2-11", want, event.describe())
        })?;
    let waited = answered.elapsed();
    // Some slack for timer granularity; the harness's clock starts before the client's.
    check(
        "CIM-7.2-11",
        waited + Duration::from_millis(50) >= Duration::from_millis(u64::from(pause)),
        format!("no retry before retry_after_ms ({pause} ms)"),
        || format!("sent again after {} ms", waited.as_millis()),
    )?;
    check("CIM-7.2-11", resent == send, "the same client_msg_id, recipient, content_type and body", || {
        format!("{resent:?}, first sent as {send:?}")
    })?;
    conn.send(&ack(&send.client_msg_id)).await;
    // The first of sent and send_failed: a send_failed from OUTCOME_UNKNOWN comes before sent.
    let outcome = harness
        .expect_event("CIM-7.2-11", "a sent event after the SendAck of the retry", cx.answer_wait(), |e| {
            e["event"] == "sent" || e["event"] == "send_failed"
        })
        .await?;
    check(
        "CIM-7.2-12",
        outcome["event"] == "sent" && outcome["message_id"] == ACKED_ID,
        "sent with the SendAck's message_id, never send_failed for OUTCOME_UNKNOWN",
        || outcome.to_string(),
    )?;
    let failed = harness.event(Duration::from_millis(500), |e| e["event"] == "send_failed").await;
    check("CIM-7.2-12", failed.is_none(), "no send_failed for a message reported sent", || {
        format!("{failed:?}")
    })
}

/// A first session that processed entry 1, then a new connection whose Welcome says `outcome`
/// with `epoch`; entry `next_seq` follows. Returns the events after the Welcome.
async fn resumed_with(cx: &Cx, outcome: i32, epoch_delta: u64) -> Result<Vec<serde_json::Value>, Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    conn.send(&deliver(1, IDS[0], "before")).await;
    harness
        .expect_event("CIM-8.2-5", "the first message", cx.answer_wait(), |e| e["event"] == "message")
        .await?;
    drop(conn);
    let (mut conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(15))).await?;
    harness.epoch = harness.epoch.wrapping_add(epoch_delta);
    conn.send(&harness.welcome(&hello, 1, outcome)).await;
    conn.send(&deliver(1, IDS[1], "after")).await;
    let mut events = Vec::new();
    while let Some(event) =
        harness.event(cx.answer_wait(), |e| e["event"] == "message" || e["event"] == "messages_lost").await
    {
        let done = event["event"] == "message";
        events.push(event);
        if done {
            break;
        }
    }
    Ok(events)
}

fn lost_before_message(events: &[serde_json::Value]) -> bool {
    let lost = events.iter().position(|e| e["event"] == "messages_lost");
    let message = events.iter().position(|e| e["event"] == "message");
    matches!((lost, message), (Some(l), Some(m)) if l < m)
}

async fn epoch_changed(cx: &mut Cx) -> Result<(), Stop> {
    let events = resumed_with(cx, 3, 17).await?;
    check(
        "CIM-8.4-11",
        lost_before_message(&events),
        "messages_lost before the first message of the new epoch",
        || format!("{events:?}"),
    )
}

async fn gap(cx: &mut Cx) -> Result<(), Stop> {
    let events = resumed_with(cx, 4, 0).await?;
    check(
        "CIM-8.4-12",
        lost_before_message(&events),
        "messages_lost before the first message after GAP",
        || format!("{events:?}"),
    )?;
    let events = resumed_with(cx, 77, 0).await?;
    check(
        "CIM-8.4-13",
        lost_before_message(&events),
        "an unknown outcome taken as GAP: messages_lost first",
        || format!("{events:?}"),
    )
}

async fn goaway_then(cx: &Cx, reason: i32) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    let logins = harness.logins().len();
    let pause = 600;
    conn.send(&frame(Body::GoAway(GoAway {
        reason,
        message: "moving you".into(),
        reconnect_after_ms: pause,
    })))
    .await;
    let sent_at = Instant::now();
    // The rule binds a client that has received the GoAway: give it time to read it before
    // asking for the Send (asked at once, a client may rightly send before its read loop saw
    // the GoAway; the Python driver did, once, on a busy machine).
    tokio::time::sleep(cx.wait(Duration::from_millis(100))).await;
    harness.command(json!({"cmd": "send", "ref": "m1", "to": {"user_id": "bob"}, "content_type": "text/plain", "body": "after goaway"})).await;
    let on_old =
        conn.find(Duration::from_millis(400), |f| matches!(f.body, Some(Body::Send(_))).then_some(())).await;
    check("CIM-12.2-1", on_old.is_err(), "no Send on a connection that received GoAway", || "a Send".into())?;
    drop(conn);
    let (_again, _hello) =
        harness.accept_hello(cx.wait(Duration::from_secs(15))).await.map_err(|stop| match stop {
            Stop::Fail(f) => fail("CIM-12.2-3", "a new connection after GoAway", f.actual),
            other => other,
        })?;
    let waited = sent_at.elapsed();
    check(
        "CIM-12.2-3",
        harness.logins().len() > logins,
        "a new login at the route before connecting again",
        || "no new login".into(),
    )?;
    check(
        "CIM-12.2-7",
        waited >= Duration::from_millis(u64::from(pause)),
        format!("at least reconnect_after_ms ({pause} ms) before the next connection"),
        || format!("{} ms", waited.as_millis()),
    )
}

async fn goaway_shutdown(cx: &mut Cx) -> Result<(), Stop> {
    goaway_then(cx, 1).await
}

async fn goaway_unknown_reason(cx: &mut Cx) -> Result<(), Stop> {
    goaway_then(cx, 99).await.map_err(|stop| match stop {
        Stop::Fail(f) => fail(
            "CIM-12.2-6",
            "an unknown reason handled as SHUTDOWN",
            format!("{}: {}", f.requirement, f.actual),
        ),
        other => other,
    })
}

pub(super) fn welcome_with(
    harness: &ClientHarness,
    hello: &Hello,
    edit: impl FnOnce(&mut cim_proto::v1::Welcome),
) -> Frame {
    let mut welcome = harness.welcome(hello, 1, 1);
    if let Some(Body::Welcome(w)) = welcome.body.as_mut() {
        edit(w);
    }
    welcome
}

async fn welcome_timeout(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn, _hello) = connected(cx).await?;
    let started = Instant::now();
    check(
        "CIM-4.5-3",
        conn.closes_within(cx.wait(Duration::from_secs(13))).await,
        "the client closes within 10 s without Welcome",
        || "still open after 13 s".into(),
    )?;
    check("CIM-4.5-3", started.elapsed() >= Duration::from_millis(9_500), "not before 10 s", || {
        format!("closed after {} ms", started.elapsed().as_millis())
    })?;
    check(
        "CIM-4.5-3",
        harness.reconnects_within(cx.wait(Duration::from_secs(15))).await,
        "a new connection (§13)",
        || "none".into(),
    )
}

async fn relogin(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn, hello) = connected(cx).await?;
    let first = hello.token.clone();
    let error = ErrorFrame {
        code: crate::spec::code("UNAUTHENTICATED"),
        message: "token refused by cim-conformance".into(),
        client_msg_id: String::new(),
        retry_after_ms: 0,
    };
    conn.send(&frame(Body::Error(error))).await;
    let _ = conn.closes_within(cx.answer_wait()).await;
    let (_conn, again) = harness.accept_hello(cx.wait(Duration::from_secs(15))).await?;
    check(
        "CIM-5.2-8",
        again.token != first && harness.logins().len() >= 2,
        "a new login and its new token",
        || format!("{} logins; same token: {}", harness.logins().len(), again.token == first),
    )
}

async fn client_ping(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, mut conn, hello) = connected(cx).await?;
    conn.send(&welcome_with(&harness, &hello, |w| {
        w.heartbeat_interval_ms = 5_000;
        w.heartbeat_timeout_ms = 12_500;
    }))
    .await;
    let started = Instant::now();
    conn.find(cx.wait(Duration::from_secs(7)), |f| matches!(f.body, Some(Body::Ping(_))).then_some(()))
        .await
        .map_err(|event| {
            fail("CIM-6.2-1", "a Ping within the 5000 ms interval (and some slack)", event.describe())
        })?;
    check(
        "CIM-6.2-1",
        started.elapsed() >= Duration::from_millis(2_000),
        "not a Ping storm: the first after some of the interval",
        || format!("after {} ms", started.elapsed().as_millis()),
    )
}

async fn client_dead_peer(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn, hello) = connected(cx).await?;
    conn.send(&welcome_with(&harness, &hello, |w| {
        w.heartbeat_interval_ms = 5_000;
        w.heartbeat_timeout_ms = 10_000;
    }))
    .await;
    // The first 8 s the harness answers Pings: the client must stay (CIM-6.3-1). Then silence.
    conn.auto_pong = true;
    let alive = conn.closes_within(Duration::from_secs(8)).await;
    check("CIM-6.3-1", !alive, "the connection kept while the server answers", || "closed".into())?;
    conn.auto_pong = false;
    let silent = Instant::now();
    let closed = conn.closes_within(cx.wait(Duration::from_secs(14))).await;
    check("CIM-6.3-4", closed, "the client closes after 10000 ms without a frame", || {
        "still open after 14 s of silence".into()
    })?;
    check(
        "CIM-6.3-4",
        harness.reconnects_within(cx.wait(Duration::from_secs(15))).await,
        "and reconnects",
        || format!("no new connection (closed after {} ms of silence)", silent.elapsed().as_millis()),
    )
}

async fn opaque_fields(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    let mut odd = deliver(1, "not-a-ulid:42", "plain");
    if let Some(Body::Deliver(d)) = odd.body.as_mut() {
        d.content_type = String::new();
    }
    conn.send(&odd).await;
    let event = harness
        .expect_event("CIM-7.5-5", "the message with message_id \"not-a-ulid:42\"", cx.answer_wait(), |e| {
            e["event"] == "message"
        })
        .await?;
    check("CIM-7.5-5", event["message_id"] == "not-a-ulid:42", "the message_id as given", || {
        event.to_string()
    })?;
    check(
        "CIM-7.1-11",
        event["content_type"] == "text/plain",
        "an empty content_type read as text/plain",
        || event.to_string(),
    )
}

async fn not_behind(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    conn.send(&deliver(1, IDS[0], "one")).await;
    conn.send(&deliver(2, IDS[1], "two")).await;
    for _ in 0..2 {
        harness
            .expect_event("CIM-8.2-5", "messages 1 and 2", cx.answer_wait(), |e| e["event"] == "message")
            .await?;
    }
    // seq 2 again, with another message: behind what the client processed.
    conn.send(&deliver(2, IDS[2], "two again")).await;
    let again = harness.event(Duration::from_millis(800), |e| e["event"] == "message").await;
    check("CIM-9.1-6", again.is_none(), "no entry at or below the processed seq handed over", || {
        format!("{again:?}")
    })
}

async fn in_flight(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn, hello) = connected(cx).await?;
    // A Welcome without limits except max_in_flight 2: the rest are the defaults (CIM-10.1-2).
    conn.send(&welcome_with(&harness, &hello, |w| {
        w.limits = Some(cim_proto::v1::Limits { max_in_flight: 2, ..Default::default() });
    }))
    .await;
    harness
        .expect_event("DRV-4-1", "a connected event", cx.answer_wait(), |e| e["event"] == "connected")
        .await?;
    for i in 0..5 {
        harness.command(json!({"cmd": "send", "ref": format!("m{i}"), "to": {"user_id": "bob"}, "content_type": "text/plain", "body": format!("m{i}")})).await;
    }
    let first = next_send(&mut conn, "CIM-10.1-2", cx.answer_wait()).await?;
    let _second = next_send(&mut conn, "CIM-10.1-2", cx.answer_wait()).await?;
    let third =
        conn.find(Duration::from_millis(800), |f| matches!(f.body, Some(Body::Send(_))).then_some(())).await;
    check("CIM-10.3-1", third.is_err(), "no third Send while two are unanswered (max_in_flight 2)", || {
        "a third Send".into()
    })?;
    conn.send(&ack(&first.client_msg_id)).await;
    next_send(&mut conn, "CIM-10.3-1", cx.answer_wait()).await.map(drop)
}

async fn nothing_after_fatal(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    let mut bytes = crate::wire::prefixed(&[0x0f, 0x01]);
    bytes.extend(crate::wire::prefixed(&crate::wire::encode(&deliver(1, IDS[0], "after the end"))));
    conn.send_bytes(&bytes, "a malformed frame and a Deliver in one write").await;
    expect_client_fatal(&mut conn, "CIM-3.4-1", "MALFORMED_FRAME", cx.answer_wait()).await?;
    let processed = harness.event(Duration::from_millis(800), |e| e["event"] == "message").await;
    check("CIM-11.1-4", processed.is_none(), "no message from a frame after the fatal one", || {
        format!("{processed:?}")
    })
}

async fn fatal_then_reconnects(cx: &Cx, code: u32, retry_after_ms: u32) -> Result<(bool, Duration), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    conn.send(&frame(Body::Error(ErrorFrame {
        code,
        message: "sent by cim-conformance".into(),
        client_msg_id: String::new(),
        retry_after_ms,
    })))
    .await;
    let sent = Instant::now();
    let _ = conn.closes_within(cx.answer_wait()).await;
    let back = harness.reconnects_within(cx.wait(Duration::from_secs(8))).await;
    Ok((back, sent.elapsed()))
}

async fn unknown_codes(cx: &mut Cx) -> Result<(), Stop> {
    let (back, _) = fatal_then_reconnects(cx, 5999, 0).await?;
    check("CIM-11.2-2", back, "a reconnect after unknown code 5999 (retry After)", || "no reconnect".into())?;
    let (back, _) = fatal_then_reconnects(cx, 1999, 0).await?;
    check("CIM-11.2-2", !back, "no reconnect after unknown code 1999 (retry No)", || "reconnected".into())
}

async fn retry_after(cx: &mut Cx) -> Result<(), Stop> {
    let (back, after) = fatal_then_reconnects(cx, crate::spec::code("UNAVAILABLE"), 2_000).await?;
    check(
        "CIM-11.3-3",
        !back || after >= Duration::from_millis(2_000),
        "no new connection before retry_after_ms (2000 ms)",
        || format!("reconnected after {} ms", after.as_millis()),
    )?;
    check("CIM-11.3-3", back, "a reconnect after UNAVAILABLE (retry After)", || {
        "no reconnect within 8 s".into()
    })
}

async fn goaway_token_expired(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    let logins = harness.logins().len();
    conn.send(&frame(Body::GoAway(GoAway {
        reason: 3,
        message: "token expired".into(),
        reconnect_after_ms: 0,
    })))
    .await;
    drop(conn);
    let (_conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(15))).await?;
    let newest = harness.logins().last().map(|l| l.token.clone()).unwrap_or_default();
    check(
        "CIM-12.2-4",
        harness.logins().len() > logins && hello.token == newest,
        "a new login, and its token in the next Hello",
        || format!("{} logins before, {} after", logins, harness.logins().len()),
    )
}

async fn backoff(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, conn, _hello) = connected(cx).await?;
    drop(conn);
    // Every connection closes at once, without Welcome.
    let started = Instant::now();
    let mut attempts = 0;
    while started.elapsed() < Duration::from_secs(4) {
        let Some(conn) = harness.accept(Duration::from_millis(500)).await else { continue };
        attempts += 1;
        drop(conn);
    }
    // Full jitter from 500 ms doubling: a handful of attempts in 4 s; a client without
    // backoff makes hundreds.
    check("CIM-13.1-1", attempts <= 12, "at most a dozen attempts in 4 s of failures", || {
        format!("{attempts} attempts")
    })
}

use crate::client_mode::Refusal;

async fn login_refused(cx: &mut Cx) -> Result<(), Stop> {
    let mut harness = ClientHarness::start(cx).await?;
    harness.refuse_logins([Refusal {
        status: 401,
        code: crate::spec::code("INVALID_CREDENTIALS"),
        retry_after: None,
    }]);
    harness.login("alice", "d1").await;
    let failed = harness
        .expect_event("CIM-14.6-5", "login_failed with code 6002", cx.answer_wait(), |e| {
            e["event"] == "login_failed"
        })
        .await?;
    check("CIM-14.6-5", failed["code"] == 6002, "the registry code of the answer", || failed.to_string())?;
    // A successful login whose answer has a member from a later version (CIM-14.4-6).
    harness.login("alice", "d1").await;
    harness.accept_hello(cx.wait(Duration::from_secs(10))).await.map(drop)
}

/// Welcomed, then GoAway SHUTDOWN while the route refuses the next logins as given.
async fn relogin_after(cx: &Cx, refusals: Vec<Refusal>) -> Result<(ClientHarness, Instant, u32), Stop> {
    let (harness, mut conn) = welcomed(cx).await?;
    let before = harness.login_requests();
    harness.refuse_logins(refusals);
    conn.send(&frame(Body::GoAway(GoAway {
        reason: 1,
        message: "moving you".into(),
        reconnect_after_ms: 0,
    })))
    .await;
    drop(conn);
    Ok((harness, Instant::now(), before))
}

async fn relogin_retried(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, _, _) =
        relogin_after(cx, vec![Refusal { status: 503, code: 5999, retry_after: None }]).await?;
    harness.accept_hello(cx.wait(Duration::from_secs(20))).await.map(drop).map_err(|stop| match stop {
        Stop::Fail(f) => {
            fail("CIM-14.6-6", "the login retried after code 5999 (retry After), then a connection", f.actual)
        }
        other => other,
    })
}

async fn relogin_retry_after(cx: &mut Cx) -> Result<(), Stop> {
    let refusal = Refusal { status: 429, code: crate::spec::code("RATE_LIMITED"), retry_after: Some(2) };
    let (mut harness, started, _) = relogin_after(cx, vec![refusal]).await?;
    harness.accept_hello(cx.wait(Duration::from_secs(20))).await?;
    check(
        "CIM-14.6-8",
        started.elapsed() >= Duration::from_secs(2),
        "no retry before Retry-After (2 s)",
        || format!("connected {} ms after GoAway", started.elapsed().as_millis()),
    )
}

async fn relogin_no_retry(cx: &mut Cx) -> Result<(), Stop> {
    let refusal = Refusal { status: 401, code: crate::spec::code("INVALID_CREDENTIALS"), retry_after: None };
    let (harness, _, before) = relogin_after(cx, vec![refusal]).await?;
    tokio::time::sleep(cx.wait(Duration::from_secs(4))).await;
    let requests = harness.login_requests() - before;
    check(
        "CIM-14.6-7",
        requests == 1,
        "one Login call after GoAway: no automatic retry after INVALID_CREDENTIALS",
        || format!("{requests} Login calls"),
    )
}
