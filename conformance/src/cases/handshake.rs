//! §4: frame order, version negotiation, Hello, Welcome, handshake timeout.

use std::time::{Duration, Instant};

use cim_proto::v1::{Frame, frame::Body};

use crate::case::{Case, Cx, Stop, check, expect_fatal, expect_welcome, fail};
use crate::frames::{self, frame, hello};
use crate::wire::Event;

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("server.handshake.welcome", "A valid Hello gets a Welcome whose every field is as §4.4, §6.1 and §10.1 say",
            covers: ["CIM-4.2-2", "CIM-4.4-1", "CIM-4.4-2", "CIM-4.4-3", "CIM-4.4-4", "CIM-4.1-4", "CIM-4.1-9", "CIM-3.1-1", "CIM-6.1-1", "CIM-6.1-2", "CIM-10.1-3", "CIM-10.1-4", "CIM-8.4-5"],
            tags: ["handshake"], budget: 20, welcome),
        crate::case!("server.handshake.welcome-informational", "Welcome carries server_time_ms, server_id and every limit",
            covers: ["CIM-4.4-5", "CIM-10.1-1", "CIM-10.1-5"], tags: ["handshake"], budget: 20, welcome_informational),
        crate::case!("server.handshake.highest-common-version", "Unknown and repeated versions in Hello are harmless; the server picks 1",
            covers: ["CIM-4.2-2"], tags: ["handshake", "version"], budget: 20, highest_common_version),
        crate::case!("server.handshake.unsupported-version", "A Hello without version 1 (or with no versions) gets UNSUPPORTED_VERSION",
            covers: ["CIM-4.2-3"], tags: ["handshake", "version"], budget: 20, unsupported_version),
        crate::case!("server.handshake.versions-checked-first", "A Hello without a common version gets UNSUPPORTED_VERSION whatever else is wrong with it",
            covers: ["CIM-4.2-4"], tags: ["handshake", "version"], budget: 20, versions_checked_first),
        crate::case!("server.handshake.frame-before-hello", "Any frame but Hello first gets UNEXPECTED_FRAME",
            covers: ["CIM-4.1-3"], tags: ["handshake", "state"], budget: 30, frame_before_hello),
        crate::case!("server.handshake.second-hello", "A second Hello gets UNEXPECTED_FRAME",
            covers: ["CIM-4.1-6"], tags: ["handshake", "state"], budget: 20, second_hello),
        crate::case!("server.handshake.server-only-frames", "Welcome, SendAck, Deliver or GoAway from a client get UNEXPECTED_FRAME",
            covers: ["CIM-4.1-7"], tags: ["handshake", "state"], budget: 30, server_only_frames),
        crate::case!("server.handshake.device-id", "An empty or 129-byte device_id gets INVALID_FIELD",
            covers: ["CIM-4.3-3"], tags: ["handshake"], budget: 20, device_id),
        crate::case!("server.handshake.max-frame-size", "Hello.max_frame_size 1..=65535 gets INVALID_FIELD; 65536 is accepted",
            covers: ["CIM-4.3-5"], tags: ["handshake", "limits"], budget: 20, max_frame_size),
        crate::case!("server.handshake.client-name", "Any client_name is accepted",
            covers: ["CIM-4.3-6"], tags: ["handshake"], budget: 20, client_name),
        crate::case!("server.handshake.check-order", "A Hello with several faults is refused for the first in the order of §4.3",
            covers: ["CIM-4.3-7"], tags: ["handshake"], budget: 20, check_order),
        crate::case!("server.handshake.session-ids", "Every session gets a session_id no other session had",
            covers: ["CIM-4.4-2"], tags: ["handshake"], budget: 20, session_ids),
        crate::case!("server.handshake.assigned-endpoints", "The server a Login assigns accepts connections on every endpoint it lists",
            covers: ["CIM-15.1-1"], tags: ["handshake", "route"], budget: 20, assigned_endpoints),
        crate::case!("server.handshake.timeout", "Silence after connecting gets HANDSHAKE_TIMEOUT within 10 s",
            covers: ["CIM-4.5-1", "CIM-4.5-2"], tags: ["handshake", "slow"], budget: 40, handshake_timeout),
        crate::case!("server.handshake.partial-hello-timeout", "Half a Hello, then silence, gets HANDSHAKE_TIMEOUT",
            covers: ["CIM-4.5-1"], tags: ["handshake", "slow", "robustness"], budget: 40, partial_hello_timeout),
    ]
}

fn hello_frame(token: &str, device: &str) -> Frame {
    frame(Body::Hello(hello(token, device)))
}

async fn welcome(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let session = cx.open(&alice, "d1").await?;
    let w = &session.welcome;
    check("CIM-4.2-2", w.version == 1, "Welcome.version 1, the only version offered", || {
        format!("version {}", w.version)
    })?;
    check("CIM-4.4-2", !w.session_id.is_empty(), "a non-empty session_id", || "an empty session_id".into())?;
    check(
        "CIM-4.4-3",
        w.user_id == session.login.user_id,
        format!("user_id {:?}, the user the token names", session.login.user_id),
        || format!("user_id {:?}", w.user_id),
    )?;
    let Some(resume) = &w.resume else {
        return Err(fail("CIM-4.4-4", "Welcome.resume present", "no resume"));
    };
    check(
        "CIM-4.4-4",
        resume.outcome != 0 && resume.epoch != 0 && resume.next_seq >= 1,
        "an outcome, a non-zero epoch and next_seq ≥ 1",
        || format!("outcome {}, epoch {}, next_seq {}", resume.outcome, resume.epoch, resume.next_seq),
    )?;
    check("CIM-8.4-5", resume.outcome == 1, "outcome FRESH (1) for a Hello without resume", || {
        format!("outcome {}", resume.outcome)
    })?;
    super::heartbeat::heartbeat_bounds(w)?;
    let limits = w.limits.unwrap_or_default();
    let (frame_size, body) =
        (effective(limits.max_frame_size, 65_536), effective(limits.max_body_size, 61_440));
    check(
        "CIM-10.1-3",
        frame_size >= body + 1024,
        "max_frame_size at least 1024 more than max_body_size",
        || format!("max_frame_size {frame_size}, max_body_size {body}"),
    )?;
    check("CIM-10.1-4", body <= 61_440, "max_body_size at most 61440", || format!("{body}"))?;
    Ok(())
}

/// A limit as the client must read it: 0 or absent is the default (CIM-10.1-2).
fn effective(value: u32, default: u32) -> u32 {
    if value == 0 { default } else { value }
}

async fn welcome_informational(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let session = cx.open(&alice, "d1").await?;
    let w = &session.welcome;
    check(
        "CIM-4.4-5",
        w.server_time_ms != 0 && !w.server_id.is_empty(),
        "server_time_ms and server_id set",
        || format!("server_time_ms {}, server_id {:?}", w.server_time_ms, w.server_id),
    )?;
    let l = w.limits.unwrap_or_default();
    // A server without a rate limit must say so with the largest value; 0 reads as 100/s.
    check(
        "CIM-10.1-5",
        l.sends_per_second != 0 && l.send_burst != 0,
        "sends_per_second and send_burst announced, 4294967295 when unlimited",
        || format!("sends_per_second {}, send_burst {}", l.sends_per_second, l.send_burst),
    )?;
    check(
        "CIM-10.1-1",
        l.max_frame_size != 0
            && l.max_body_size != 0
            && l.max_in_flight != 0
            && l.sends_per_second != 0
            && l.send_burst != 0,
        "every field of Welcome.limits set",
        || format!("{l:?}"),
    )
}

async fn highest_common_version(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut h = hello(&login.token, "d1");
    h.versions = vec![7, 1, 1, 4_000_000_000];
    let session = cx.open_with(login, "d1", &frame(Body::Hello(h))).await?;
    check("CIM-4.2-2", session.welcome.version == 1, "Welcome.version 1", || {
        format!("version {}", session.welcome.version)
    })
}

async fn unsupported_version(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    for versions in [vec![2, 99], vec![]] {
        let mut conn = cx.connect(&login).await?;
        let mut h = hello(&login.token, "d1");
        h.versions = versions;
        conn.send(&frame(Body::Hello(h))).await;
        expect_fatal(&mut conn, "CIM-4.2-3", "UNSUPPORTED_VERSION", wait).await?;
    }
    Ok(())
}

async fn versions_checked_first(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect(&login).await?;
    let mut h = hello("not-a-token", "");
    h.versions = vec![99];
    h.max_frame_size = 10;
    conn.send(&frame(Body::Hello(h))).await;
    let wait = cx.answer_wait();
    expect_fatal(&mut conn, "CIM-4.2-4", "UNSUPPORTED_VERSION", wait).await.map(drop)
}

async fn frame_before_hello(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    let firsts = [
        frames::ping(1),
        frames::pong(1),
        frames::send("m1", frames::to_user(&alice.id), "too early"),
        frames::deliver_ack(1),
    ];
    for first in &firsts {
        let mut conn = cx.connect(&login).await?;
        conn.send(first).await;
        expect_fatal(&mut conn, "CIM-4.1-3", "UNEXPECTED_FRAME", wait).await?;
    }
    Ok(())
}

async fn second_hello(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut session = cx.open(&alice, "d1").await?;
    let again = hello_frame(&session.login.token, "d1");
    session.conn.send(&again).await;
    let wait = cx.answer_wait();
    expect_fatal(&mut session.conn, "CIM-4.1-6", "UNEXPECTED_FRAME", wait).await.map(drop)
}

async fn server_only_frames(cx: &mut Cx) -> Result<(), Stop> {
    use cim_proto::v1::{Deliver, GoAway, SendAck, Welcome};
    let alice = cx.user("alice").await?;
    let wait = cx.answer_wait();
    let bodies = [
        Body::Welcome(Welcome {
            version: 1,
            session_id: "s".into(),
            user_id: "u".into(),
            ..Default::default()
        }),
        Body::SendAck(SendAck {
            client_msg_id: "m".into(),
            message_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
            ..Default::default()
        }),
        Body::Deliver(Deliver {
            seq: 1,
            message_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
            ..Default::default()
        }),
        Body::GoAway(GoAway { reason: 1, ..Default::default() }),
    ];
    for body in bodies {
        let mut session = cx.open(&alice, "d1").await?;
        session.conn.send(&frame(body)).await;
        expect_fatal(&mut session.conn, "CIM-4.1-7", "UNEXPECTED_FRAME", wait).await?;
    }
    Ok(())
}

async fn device_id(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    for device in [String::new(), "d".repeat(129)] {
        let mut conn = cx.connect(&login).await?;
        conn.send(&hello_frame(&login.token, &device)).await;
        expect_fatal(&mut conn, "CIM-4.3-3", "INVALID_FIELD", wait).await?;
    }
    Ok(())
}

async fn max_frame_size(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    for size in [1, 1000, 65_535] {
        let mut conn = cx.connect(&login).await?;
        let mut h = hello(&login.token, "d1");
        h.max_frame_size = size;
        conn.send(&frame(Body::Hello(h))).await;
        expect_fatal(&mut conn, "CIM-4.3-5", "INVALID_FIELD", wait).await?;
    }
    let mut h = hello(&login.token, "d1");
    h.max_frame_size = 65_536;
    let mut conn = cx.connect(&login).await?;
    conn.send(&frame(Body::Hello(h))).await;
    expect_welcome(&mut conn, wait).await.map(drop)
}

async fn client_name(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    for name in ["", "ünïcødé 🦀 client/1.0 (+https://example.invalid)", &"x".repeat(2000)] {
        let login = cx.login(&alice, "d1").await?;
        let mut h = hello(&login.token, "d1");
        h.client_name = name.to_owned();
        let mut conn = cx.connect(&login).await?;
        conn.send(&frame(Body::Hello(h))).await;
        let wait = cx.answer_wait();
        match conn.next(wait).await {
            Event::Frame(Frame { body: Some(Body::Welcome(_)) }) => {}
            other => {
                return Err(fail(
                    "CIM-4.3-6",
                    format!("Welcome for client_name of {} bytes", name.len()),
                    other.describe(),
                ));
            }
        }
    }
    Ok(())
}

async fn check_order(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    // device_id and max_frame_size come before the token…
    let mut conn = cx.connect(&login).await?;
    let mut h = hello("not-a-token", "");
    h.max_frame_size = 100;
    conn.send(&frame(Body::Hello(h))).await;
    expect_fatal(&mut conn, "CIM-4.3-7", "INVALID_FIELD", wait).await?;
    // …and the token before the resume point.
    let mut conn = cx.connect(&login).await?;
    conn.send(&frames::hello_resume("not-a-token", "d1", 1, u64::MAX)).await;
    expect_fatal(&mut conn, "CIM-4.3-7", "UNAUTHENTICATED", wait).await.map(drop)
}

async fn session_ids(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let mut seen = std::collections::BTreeSet::new();
    for (user, device) in [(&alice, "d1"), (&alice, "d2"), (&bob, "d1"), (&alice, "d1")] {
        let session = cx.open(user, device).await?;
        let id = session.welcome.session_id.clone();
        check("CIM-4.4-2", seen.insert(id.clone()), "a session_id no other session had", || {
            format!("{id:?} again")
        })?;
    }
    Ok(())
}

async fn handshake_timeout(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect(&login).await?;
    let started = Instant::now();
    let wait = cx.wait(Duration::from_secs(20));
    expect_fatal(&mut conn, "CIM-4.5-1", "HANDSHAKE_TIMEOUT", wait).await?;
    let took = started.elapsed();
    check(
        "CIM-4.5-2",
        took <= cx.wait(Duration::from_millis(10_500)),
        "HANDSHAKE_TIMEOUT within 10 s",
        || format!("after {} ms", took.as_millis()),
    )
}

async fn partial_hello_timeout(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect(&login).await?;
    if conn.is_websocket() {
        return Err(Stop::NotApplicable("a WebSocket message arrives whole or not at all".into()));
    }
    let whole = crate::wire::prefixed(&crate::wire::encode(&hello_frame(&login.token, "d1")));
    conn.send_bytes(&whole[..whole.len() / 2], "the first half of a Hello").await;
    let wait = cx.wait(Duration::from_secs(20));
    expect_fatal(&mut conn, "CIM-4.5-1", "HANDSHAKE_TIMEOUT", wait).await.map(drop)
}

async fn assigned_endpoints(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    let mut offered = 0;
    if !login.server.tcp_endpoint.is_empty() && !login.server.tcp_tls {
        offered += 1;
        let mut conn = cx.connect_tcp(&login).await.map_err(|stop| match stop {
            Stop::Error(why) => fail("CIM-15.1-1", "a connection to the assigned tcp_endpoint", why),
            other => other,
        })?;
        conn.send(&hello_frame(&login.token, "d1")).await;
        expect_welcome(&mut conn, wait).await?;
    }
    if login.server.ws_url.starts_with("ws://") {
        offered += 1;
        let mut conn = cx.connect_websocket(&login).await.map_err(|stop| match stop {
            Stop::Error(why) => fail("CIM-15.1-1", "a connection to the assigned ws_url", why),
            other => other,
        })?;
        conn.send(&hello_frame(&login.token, "d1")).await;
        expect_welcome(&mut conn, wait).await?;
    }
    if offered == 0 {
        return Err(Stop::NotApplicable(
            "the assigned server lists only TLS endpoints, which the harness does not speak yet".into(),
        ));
    }
    Ok(())
}
