//! Client cases on what a client keeps between frames: heartbeat defaults, resume points per
//! user, backoff after a Welcome, ids and page tokens it must not interpret, and tokens it
//! must not log.

use std::time::{Duration, Instant};

use cim_proto::v1::{Error as ErrorFrame, frame::Body};
use serde_json::json;

use super::client::{IDS, connected, deliver, welcome_with, welcomed};
use crate::case::{Case, Cx, Stop, check, fail};
use crate::client_mode::{ClientHarness, OnlinePage};
use crate::frames::{self, frame};
use crate::wire::Event;

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("client.heartbeat.zero-means-default", "Heartbeat values of 0 in Welcome are taken as 30000 and 75000 ms",
            covers: ["CIM-6.1-5"], tags: ["client", "heartbeat", "slow"], budget: 60, zero_means_default),
        crate::case!("client.resume.per-user", "A resume point obtained for one user is not presented for another",
            covers: ["CIM-8.4-4"], tags: ["client", "resume"], budget: 40, resume_per_user),
        crate::case!("client.reconnect.reset-on-welcome", "A Welcome resets the count of failed attempts, and so the backoff",
            covers: ["CIM-13.1-3"], tags: ["client", "reconnect", "slow"], budget: 60, reset_on_welcome),
        crate::case!("client.ids.opaque", "User ids are passed and reported exactly as given, never derived from names",
            covers: ["CIM-14.1-6"], tags: ["client", "ids"], budget: 30, opaque_ids),
        crate::case!("client.route.online-pages", "Page tokens go back unchanged, and only an empty one ends the listing",
            covers: ["CIM-14.7-5", "CIM-14.7-6"], tags: ["client", "route"], budget: 30, online_pages),
        crate::case!("client.secrets.token-not-logged", "No token appears whole in the client's logs or its Error messages",
            covers: ["CIM-5.4-1"], tags: ["client", "token"], budget: 40, token_not_logged),
    ]
}

async fn zero_means_default(cx: &mut Cx) -> Result<(), Stop> {
    let (harness, mut conn, hello) = connected(cx).await?;
    conn.send(&welcome_with(&harness, &hello, |w| {
        w.heartbeat_interval_ms = 0;
        w.heartbeat_timeout_ms = 0;
    }))
    .await;
    // 30 s of the client's silence before its first Ping; the harness stays silent too, and a
    // client that took the timeout as 0 would hang up at once.
    let welcomed = Instant::now();
    let quiet = Duration::from_secs(25);
    match conn.find(quiet, |f| matches!(f.body, Some(Body::Ping(_))).then_some(())).await {
        Ok(()) => {
            return Err(fail(
                "CIM-6.1-5",
                "no Ping before 30000 ms of silence",
                format!("a Ping after {} ms", welcomed.elapsed().as_millis()),
            ));
        }
        Err(Event::Timeout) => {}
        Err(other) => {
            return Err(fail(
                "CIM-6.1-5",
                "the connection kept for 75000 ms without a frame",
                format!("{} after {} ms", other.describe(), welcomed.elapsed().as_millis()),
            ));
        }
    }
    let left = Duration::from_secs(30).saturating_sub(welcomed.elapsed()) + cx.wait(Duration::from_secs(6));
    conn.find(left, |f| matches!(f.body, Some(Body::Ping(_))).then_some(()))
        .await
        .map_err(|event| fail("CIM-6.1-5", "a Ping about 30000 ms after Welcome", event.describe()))
}

async fn resume_per_user(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, mut conn) = welcomed(cx).await?;
    for (i, id) in IDS.iter().take(3).enumerate() {
        conn.send(&deliver(i as u64 + 1, id, &format!("for alice {i}"))).await;
    }
    for _ in 0..3 {
        harness
            .expect_event("CIM-8.2-5", "alice's entries handed over", cx.answer_wait(), |e| {
                e["event"] == "message"
            })
            .await?;
    }
    let _ = conn
        .find(cx.wait(Duration::from_secs(2)), |f| {
            matches!(&f.body, Some(Body::DeliverAck(a)) if a.up_to_seq >= 3).then_some(())
        })
        .await;
    // Alice logs out, Bob logs in on the same device (spec DRV-3-4).
    harness.login("bob", "d1").await;
    let until = Instant::now() + cx.wait(Duration::from_secs(10));
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let (_conn, hello) = harness.accept_hello(left).await?;
        let bob = harness.logins().iter().any(|l| l.user_name == "bob" && l.token == hello.token);
        if !bob {
            continue;
        }
        let alices = hello.resume.as_ref().is_some_and(|r| r.epoch == harness.epoch && r.last_acked_seq > 0);
        return check("CIM-8.4-4", !alices, "bob's Hello without alice's resume point", || {
            format!("{:?}", hello.resume)
        });
    }
}

async fn reset_on_welcome(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, conn, _hello) = connected(cx).await?;
    drop(conn);
    // Five attempts in a row fail before Welcome: the backoff bound grows to 16 s at base 500 ms.
    for _ in 1..5 {
        let conn = harness.accept(cx.wait(Duration::from_secs(20))).await;
        if conn.is_none() {
            return Err(fail("CIM-13.1-1", "another attempt after a failed one", "none within 20 s"));
        }
    }
    // Two sessions that each end right after Welcome: a client that reset its count waits at
    // most its base delay before each new attempt; one that did not draws from up to 30 s.
    for _round in 0..2 {
        let (mut conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(20))).await?;
        conn.send(&harness.welcome(&hello, 1, if hello.resume.is_some() { 2 } else { 1 })).await;
        harness
            .expect_event("DRV-4-1", "a connected event", cx.answer_wait(), |e| e["event"] == "connected")
            .await?;
        conn.shutdown().await;
        drop(conn);
        let dropped = Instant::now();
        let back = harness.accept(cx.wait(Duration::from_secs(10))).await;
        let waited = dropped.elapsed();
        check(
            "CIM-13.1-3",
            back.is_some() && waited <= cx.wait(Duration::from_secs(3)),
            "a new attempt within 3 s of losing a welcomed session",
            || format!("after {} ms", waited.as_millis()),
        )?;
        let Some(mut retry) = back else { break };
        // Let that attempt fail at once, then serve the next one.
        retry.shutdown().await;
    }
    Ok(())
}

async fn opaque_ids(cx: &mut Cx) -> Result<(), Stop> {
    let mut harness = ClientHarness::start(cx).await?;
    let own_id = "u:Ålice/0042 #δ";
    harness.issue_user_id(own_id);
    harness.login("alice", "d1").await;
    let (mut conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(10))).await?;
    conn.send(&harness.welcome(&hello, 1, 1)).await;
    let senders = ["Bob", "bob", "bob ", "alice"];
    for (seq, from) in (1u64..).zip(senders) {
        let mut entry = deliver(seq, IDS[seq as usize - 1], "hi");
        if let Some(Body::Deliver(d)) = entry.body.as_mut() {
            d.from_user_id = from.into();
            d.to = Some(frames::to_user(own_id));
        }
        conn.send(&entry).await;
    }
    for from in senders {
        let event = harness
            .expect_event("CIM-14.1-6", &format!("the message from {from:?}"), cx.answer_wait(), |e| {
                e["event"] == "message"
            })
            .await?;
        check(
            "CIM-14.1-6",
            event["from_user_id"] == from,
            format!("from_user_id {from:?}, exactly"),
            || event["from_user_id"].to_string(),
        )?;
    }
    harness.command(json!({"cmd": "send", "ref": "r", "to": {"user_id": "Bob "}, "content_type": "text/plain", "body": "hi"})).await;
    let to = conn
        .find(cx.answer_wait(), |f| match &f.body {
            Some(Body::Send(s)) => Some(s.to.clone()),
            _ => None,
        })
        .await
        .map_err(|event| fail("CIM-7.1-1", "the Send", event.describe()))?;
    check("CIM-14.1-6", to == Some(frames::to_user("Bob ")), "Send.to.user_id \"Bob \", exactly", || {
        format!("{to:?}")
    })
}

async fn online_pages(cx: &mut Cx) -> Result<(), Stop> {
    let (mut harness, _conn) = welcomed(cx).await?;
    // A short page, an empty page and the last: only the empty token ends the listing. The
    // tokens hold characters a query string must escape.
    let tokens = ["p/1+ =?&~é", "p2%41"];
    harness.script_online([
        OnlinePage { user_ids: vec!["u1".into()], next_page_token: tokens[0].into() },
        OnlinePage { user_ids: vec![], next_page_token: tokens[1].into() },
        OnlinePage { user_ids: vec!["u2".into(), "u3".into()], next_page_token: String::new() },
    ]);
    harness.command(json!({"cmd": "online_users"})).await;
    let listed = harness
        .expect_event("CIM-14.7-6", "the listing", cx.wait(Duration::from_secs(5)), |e| {
            e["event"] == "online_users" || e["event"] == "call_failed"
        })
        .await?;
    let requests = harness.online_requests();
    check(
        "CIM-14.7-5",
        requests == ["", tokens[0], tokens[1]],
        format!("page tokens \"\", {:?} and {:?}, as handed out", tokens[0], tokens[1]),
        || format!("{requests:?}"),
    )?;
    check("CIM-14.7-6", listed["user_ids"] == json!(["u1", "u2", "u3"]), "u1, u2 and u3 listed", || {
        listed.to_string()
    })
}

async fn token_not_logged(cx: &mut Cx) -> Result<(), Stop> {
    let mut harness = ClientHarness::start_logging(cx).await?;
    harness.login("alice", "d1").await;
    let (mut conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(10))).await?;
    conn.send(&harness.welcome(&hello, 1, 1)).await;
    harness
        .expect_event("DRV-4-1", "a connected event", cx.answer_wait(), |e| e["event"] == "connected")
        .await?;
    conn.send(&deliver(1, IDS[0], "hi")).await;
    // The token is refused: the client logs in again and presents a second one.
    let refused = ErrorFrame {
        code: crate::spec::code("UNAUTHENTICATED"),
        message: "token refused by cim-conformance".into(),
        client_msg_id: String::new(),
        retry_after_ms: 0,
    };
    conn.send(&frame(Body::Error(refused))).await;
    let _ = conn.closes_within(cx.answer_wait()).await;
    let (mut conn, hello) = harness.accept_hello(cx.wait(Duration::from_secs(15))).await?;
    let (next_seq, outcome) = if hello.resume.is_some() { (2, 2) } else { (1, 1) };
    conn.send(&harness.welcome(&hello, next_seq, outcome)).await;
    // Something the client refuses, so that it writes an Error of its own.
    conn.send_payload(&[0xff; 8], "8 bytes that are not a frame").await;
    let error_messages: Vec<String> = {
        let mut messages = Vec::new();
        while let Ok(message) = conn
            .find(cx.answer_wait(), |f| match &f.body {
                Some(Body::Error(e)) => Some(e.message.clone()),
                _ => None,
            })
            .await
        {
            messages.push(message);
        }
        messages
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = harness.logs();
    cx.note(format!("the driver logged {} lines", logs.len()));
    for login in harness.logins() {
        let token = &login.token;
        let logged = logs.iter().find(|line| line.contains(token.as_str()));
        check("CIM-5.4-1", logged.is_none(), "no log line with a whole token", || {
            format!("{:?}", logged.unwrap_or(&String::new()))
        })?;
        let sent = error_messages.iter().find(|m| m.contains(token.as_str()));
        check("CIM-5.4-1", sent.is_none(), "no Error.message with a whole token", || format!("{sent:?}"))?;
    }
    Ok(())
}
