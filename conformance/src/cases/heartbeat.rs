//! §6: heartbeat negotiation, Ping and Pong, dead-peer detection.

use std::time::{Duration, Instant};

use cim_proto::v1::{Frame, frame::Body};

use crate::case::{Case, Cx, Stop, check, fail};
use crate::frames::{self, frame, hello};
use crate::wire::Event;

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("server.heartbeat.pong", "A Ping gets a Pong with the same nonce",
            covers: ["CIM-6.2-3"], tags: ["heartbeat"], budget: 20, pong),
        crate::case!("server.heartbeat.unmatched-pong", "A Pong that answers no Ping is ignored",
            covers: ["CIM-6.2-5"], tags: ["heartbeat"], budget: 20, unmatched_pong),
        crate::case!("server.heartbeat.negotiation", "The server honours the client's interval within 5000..=300000 and keeps the timeout at least twice it",
            covers: ["CIM-6.1-1", "CIM-6.1-2", "CIM-6.1-3"], tags: ["heartbeat"], budget: 20, negotiation),
        crate::case!("server.heartbeat.defaults", "Without a requested interval the server uses 30000 and 75000 ms",
            covers: ["CIM-6.1-4"], tags: ["heartbeat"], budget: 20, defaults),
        crate::case!("server.heartbeat.dead-peer", "A silent client gets HEARTBEAT_TIMEOUT after heartbeat_timeout_ms, not before",
            covers: ["CIM-6.3-2", "CIM-6.3-3"], tags: ["heartbeat", "slow"], budget: 60, dead_peer),
        crate::case!("server.heartbeat.websocket-pings-do-not-count", "A client that sends only WebSocket pings gets HEARTBEAT_TIMEOUT",
            covers: ["CIM-6.3-6"], tags: ["heartbeat", "websocket", "slow"], budget: 60, websocket_pings_do_not_count),
        crate::case!("server.heartbeat.any-frame-counts", "Frames other than Ping keep a session alive",
            covers: ["CIM-6.3-1", "CIM-6.3-3"], tags: ["heartbeat", "slow"], budget: 60, any_frame_counts),
    ]
}

async fn pong(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut session = cx.open(&alice, "d1").await?;
    session.conn.auto_pong = false;
    let wait = cx.answer_wait();
    for nonce in [0, 1, u64::MAX] {
        session.conn.send(&frames::ping(nonce)).await;
        crate::case::expect_pong(&mut session.conn, nonce, wait).await?;
    }
    Ok(())
}

async fn unmatched_pong(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut session = cx.open(&alice, "d1").await?;
    session.conn.send(&frames::pong(424_242)).await;
    session.conn.send(&frames::ping(5)).await;
    session.conn.auto_pong = false;
    let wait = cx.answer_wait();
    match session.conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Pong(p)) }) if p.nonce == 5 => Ok(()),
        other => Err(fail(
            "CIM-6.2-5",
            "the unmatched Pong ignored: Pong {nonce: 5} for the next Ping",
            other.describe(),
        )),
    }
}

async fn welcome_for(cx: &mut Cx, interval_ms: u32) -> Result<cim_proto::v1::Welcome, Stop> {
    let alice = cx.user(&format!("hb{interval_ms}")).await?;
    let login = cx.login(&alice, "d1").await?;
    let mut h = hello(&login.token, "d1");
    h.heartbeat_interval_ms = interval_ms;
    Ok(cx.open_with(login, "d1", &frame(Body::Hello(h))).await?.welcome)
}

/// The bounds every Welcome's heartbeat fields keep (CIM-6.1-1, CIM-6.1-2).
pub(super) fn heartbeat_bounds(w: &cim_proto::v1::Welcome) -> Result<(), Stop> {
    check(
        "CIM-6.1-1",
        (5000..=300_000).contains(&w.heartbeat_interval_ms),
        "heartbeat_interval_ms in 5000..=300000",
        || format!("{}", w.heartbeat_interval_ms),
    )?;
    check(
        "CIM-6.1-2",
        u64::from(w.heartbeat_timeout_ms) >= 2 * u64::from(w.heartbeat_interval_ms),
        "heartbeat_timeout_ms at least twice the interval",
        || format!("interval {}, timeout {}", w.heartbeat_interval_ms, w.heartbeat_timeout_ms),
    )
}

async fn negotiation(cx: &mut Cx) -> Result<(), Stop> {
    for (asked, want) in [(1_000, 5_000), (12_000, 12_000), (400_000, 300_000)] {
        let w = welcome_for(cx, asked).await?;
        heartbeat_bounds(&w)?;
        check(
            "CIM-6.1-3",
            w.heartbeat_interval_ms == want,
            format!("interval {want} for a requested {asked}"),
            || format!("{}", w.heartbeat_interval_ms),
        )?;
    }
    Ok(())
}

async fn defaults(cx: &mut Cx) -> Result<(), Stop> {
    let w = welcome_for(cx, 0).await?;
    check(
        "CIM-6.1-4",
        w.heartbeat_interval_ms == 30_000 && w.heartbeat_timeout_ms == 75_000,
        "interval 30000 and timeout 75000 (unless the operator configured others)",
        || format!("interval {}, timeout {}", w.heartbeat_interval_ms, w.heartbeat_timeout_ms),
    )
}

/// A session asking for the shortest interval, so that its timeout comes soon.
async fn short_heartbeat_session(cx: &mut Cx) -> Result<(crate::wire::Conn, Duration), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut h = hello(&login.token, "d1");
    h.heartbeat_interval_ms = 5_000;
    let session = cx.open_with(login, "d1", &frame(Body::Hello(h))).await?;
    let timeout = Duration::from_millis(u64::from(session.welcome.heartbeat_timeout_ms.max(1)));
    if timeout > Duration::from_secs(30) {
        return Err(Stop::Skip(format!(
            "the server's heartbeat timeout is {} ms even for a 5000 ms interval; too long to wait for",
            timeout.as_millis()
        )));
    }
    Ok((session.conn, timeout))
}

async fn dead_peer(cx: &mut Cx) -> Result<(), Stop> {
    let (mut conn, timeout) = short_heartbeat_session(cx).await?;
    // Stay silent: server Pings go unanswered too.
    conn.auto_pong = false;
    let started = Instant::now();
    let wait = timeout + cx.wait(Duration::from_secs(5));
    let found = conn
        .find(wait, |f| match &f.body {
            Some(Body::Error(e)) => Some(e.clone()),
            _ => None,
        })
        .await;
    let took = started.elapsed();
    let want = crate::spec::code("HEARTBEAT_TIMEOUT");
    match found {
        Ok(e) if e.code == want => {}
        Ok(e) => return Err(fail("CIM-6.3-2", "Error HEARTBEAT_TIMEOUT", format!("Error {}", e.code))),
        Err(event) => {
            return Err(fail(
                "CIM-6.3-2",
                format!("Error HEARTBEAT_TIMEOUT within {} ms of silence", timeout.as_millis()),
                event.describe(),
            ));
        }
    }
    // Some slack for the welcome round trip and timer granularity.
    check(
        "CIM-6.3-3",
        took + Duration::from_millis(250) >= timeout,
        format!("no timeout before {} ms of silence", timeout.as_millis()),
        || format!("timed out after {} ms", took.as_millis()),
    )?;
    check(
        "CIM-11.1-1",
        conn.closes_within(cx.answer_wait()).await,
        "the connection closed after the fatal Error",
        || "still open".into(),
    )
}

async fn websocket_pings_do_not_count(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect_websocket(&login).await?;
    let mut h = hello(&login.token, "d1");
    h.heartbeat_interval_ms = 5_000;
    conn.send(&frame(Body::Hello(h))).await;
    let welcome = crate::case::expect_welcome(&mut conn, cx.answer_wait()).await?;
    let timeout = Duration::from_millis(u64::from(welcome.heartbeat_timeout_ms.max(1)));
    if timeout > Duration::from_secs(30) {
        return Err(Stop::Skip(format!(
            "a heartbeat timeout of {} ms is too long to wait for",
            timeout.as_millis()
        )));
    }
    // No cim frame at all, a WebSocket ping every second instead.
    conn.auto_pong = false;
    let deadline = Instant::now() + timeout + cx.wait(Duration::from_secs(5));
    let want = crate::spec::code("HEARTBEAT_TIMEOUT");
    while Instant::now() < deadline {
        conn.send_ws_ping().await;
        match conn
            .find(Duration::from_secs(1), |f| match &f.body {
                Some(Body::Error(e)) => Some(e.code),
                _ => None,
            })
            .await
        {
            Ok(code) if code == want => return Ok(()),
            Ok(code) => return Err(fail("CIM-6.3-6", "Error HEARTBEAT_TIMEOUT", format!("Error {code}"))),
            Err(Event::Timeout) => {}
            Err(event) => {
                return Err(fail("CIM-6.3-6", "Error HEARTBEAT_TIMEOUT before the close", event.describe()));
            }
        }
    }
    Err(fail(
        "CIM-6.3-6",
        format!("Error HEARTBEAT_TIMEOUT within {} ms without a cim frame", timeout.as_millis()),
        "the session stayed open on WebSocket pings alone",
    ))
}

async fn any_frame_counts(cx: &mut Cx) -> Result<(), Stop> {
    let (mut conn, timeout) = short_heartbeat_session(cx).await?;
    conn.auto_pong = false;
    // Only unsolicited Pongs, well within the timeout each, for 1.5 timeouts.
    let started = Instant::now();
    let mut nonce = 1_000;
    while started.elapsed() < timeout.mul_f64(1.5) {
        conn.send(&frames::pong(nonce)).await;
        nonce += 1;
        let found = conn
            .find(timeout / 4, |f| match &f.body {
                Some(Body::Error(e)) => Some(e.clone()),
                _ => None,
            })
            .await;
        match found {
            Ok(e) => {
                return Err(fail(
                    "CIM-6.3-1",
                    "the session kept open: every frame shows the client is alive",
                    format!("Error {} {:?}", e.code, e.message),
                ));
            }
            Err(Event::Timeout) => {}
            Err(other) => return Err(fail("CIM-6.3-1", "the session kept open", other.describe())),
        }
    }
    Ok(())
}
