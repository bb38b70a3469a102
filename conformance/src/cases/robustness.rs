//! Robustness: mutated fields, truncated and oversized frames, bad varints, slow drip, floods
//! and a client that never reads. Whatever arrives, the server answers or ends the connection
//! with a fatal Error, and keeps serving everyone else (§11.1).

use std::time::{Duration, Instant};

use cim_proto::v1::{Frame, frame::Body};

use crate::case::{Case, Cx, Stop, User, check, expect_ack, expect_welcome, fail};
use crate::frames::{self, frame, hello};
use crate::wire::{Event, Raw, encode, prefixed};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("server.robustness.mutated-hello", "Every field of Hello given a wrong wire type, a bad varint, bad UTF-8 or a huge length",
            covers: ["CIM-11.1-9", "CIM-11.1-10"], tags: ["robustness", "fuzz"], budget: 90, mutated_hello),
        crate::case!("server.robustness.mutated-send", "Every field of Send mutated on an open session",
            covers: ["CIM-11.1-9", "CIM-11.1-10", "CIM-7.2-2"], tags: ["robustness", "fuzz"], budget: 90, mutated_send),
        crate::case!("server.robustness.truncated-frames", "Frames cut at every length, then the connection closed",
            covers: ["CIM-3.1-5", "CIM-11.1-10"], tags: ["robustness", "tcp"], budget: 60, truncated_frames),
        crate::case!("server.robustness.slow-drip", "A Hello written one byte at a time is still a Hello",
            covers: ["CIM-11.1-9"], tags: ["robustness", "tcp", "slow"], budget: 30, slow_drip),
        crate::case!("server.robustness.ping-flood", "Ten thousand Pings in one write are each answered",
            covers: ["CIM-6.2-3", "CIM-11.1-9"], tags: ["robustness", "flood"], budget: 60, ping_flood),
        crate::case!("server.robustness.never-reads", "A client that floods and never reads does not slow others down",
            covers: ["CIM-11.1-10"], tags: ["robustness", "flood", "slow"], budget: 60, never_reads),
        crate::case!("server.robustness.error-from-client", "An Error from the client, with or without client_msg_id, with a known or unknown code, ends the connection",
            covers: ["CIM-11.1-3", "CIM-11.2-2"], tags: ["robustness", "errors"], budget: 20, error_from_client),
        crate::case!("server.robustness.nothing-after-fatal", "Frames after one that ends the connection are not processed",
            covers: ["CIM-11.1-4", "CIM-11.1-1"], tags: ["robustness", "errors"], budget: 20, nothing_after_fatal),
    ]
}

/// The server still answers a fresh login and handshake promptly.
async fn still_serving(cx: &mut Cx, user: &User, requirement: &'static str) -> Result<(), Stop> {
    let login = cx.login(user, "health").await?;
    let mut conn = cx.connect(&login).await?;
    conn.send(&frame(Body::Hello(hello(&login.token, "health")))).await;
    let wait = cx.answer_wait();
    expect_welcome(&mut conn, wait).await.map(drop).map_err(|stop| match stop {
        Stop::Fail(f) => fail(requirement, "the server keeps serving other connections", f.actual),
        other => other,
    })
}

/// What may follow a mutated frame: an answer or a fatal Error, never silence or a crash.
async fn answered_or_ended(conn: &mut crate::wire::Conn, wait: Duration, what: &str) -> Result<(), Stop> {
    match conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Error(e)) }) if e.client_msg_id.is_empty() => {
            if conn.closes_within(wait).await {
                Ok(())
            } else {
                Err(fail(
                    "CIM-11.1-1",
                    format!("the connection closed after the fatal Error for {what}"),
                    "still open",
                ))
            }
        }
        Event::Frame(_) => Ok(()),
        Event::Closed => Err(fail(
            "CIM-11.1-9",
            format!("a fatal Error before the connection ends, for {what}"),
            "closed without an Error",
        )),
        other => Err(fail("CIM-11.1-9", format!("an answer or a fatal Error for {what}"), other.describe())),
    }
}

/// Mutations of one field: (description, bytes of the field).
fn field_mutations(field: u32) -> Vec<(String, Raw)> {
    let mut huge_varint = Vec::new();
    crate::wire::put_varint(u64::from(field) << 3, &mut huge_varint);
    huge_varint.extend_from_slice(&[0xff; 10]);
    huge_varint.push(0x01);
    let mut long_len = Vec::new();
    crate::wire::put_varint((u64::from(field) << 3) | 2, &mut long_len);
    crate::wire::put_varint(1 << 30, &mut long_len);
    long_len.extend_from_slice(b"short");
    vec![
        (format!("field {field} as a varint of u64::MAX"), Raw::new().varint(field, u64::MAX)),
        (format!("field {field} as bytes \\xff\\xfe"), Raw::new().bytes(field, &[0xff, 0xfe])),
        (format!("field {field} as 4 KiB of bytes"), Raw::new().bytes(field, &[b'z'; 4096])),
        (format!("field {field} as fixed32"), Raw::new().fixed32(field, 0xdead_beef)),
        (format!("field {field} with an 11-byte varint"), Raw::new().verbatim(&huge_varint)),
        (format!("field {field} with a length of 2^30"), Raw::new().verbatim(&long_len)),
        (
            format!("field {field} as a nested message of garbage"),
            Raw::new().bytes(field, &[0x0a, 0x05, 0x01]),
        ),
    ]
}

async fn mutated_hello(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    let base = |skip: u32| {
        let mut raw = Raw::new();
        if skip != 1 {
            raw = raw.varint(1, 1);
        }
        if skip != 2 {
            raw = raw.bytes(2, login.token.as_bytes());
        }
        if skip != 3 {
            raw = raw.bytes(3, b"d1");
        }
        raw
    };
    for field in 1..=8 {
        for (what, mutation) in field_mutations(field) {
            let hello = base(field).verbatim(mutation.as_bytes());
            let mut conn = cx.connect(&login).await?;
            conn.send_payload(&Raw::new().message(1, &hello).into_bytes(), &format!("Hello with {what}"))
                .await;
            answered_or_ended(&mut conn, wait, &format!("a Hello with {what}")).await?;
        }
    }
    still_serving(cx, &alice, "CIM-11.1-10").await
}

async fn mutated_send(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let wait = cx.answer_wait();
    let mut session = cx.open(&alice, "d1").await?;
    for field in 1..=5 {
        for (what, mutation) in field_mutations(field) {
            let id = cx.client_msg_id();
            let mut send = Raw::new();
            if field != 1 {
                send = send.bytes(1, id.as_bytes());
            }
            if field != 2 {
                send = send.message(2, &Raw::new().bytes(1, alice.id.as_bytes()));
            }
            if field != 4 {
                send = send.bytes(4, b"mutant");
            }
            let send = send.verbatim(mutation.as_bytes());
            session
                .conn
                .send_payload(&Raw::new().message(5, &send).into_bytes(), &format!("Send with {what}"))
                .await;
            // An answer to this Send (SendAck or rejection) keeps the session; a fatal Error
            // ends it, and the next mutation gets a new one.
            let answer = session
                .conn
                .find(wait, |f| match &f.body {
                    Some(Body::SendAck(_)) => Some(true),
                    Some(Body::Error(e)) => Some(!e.client_msg_id.is_empty()),
                    _ => None,
                })
                .await;
            match answer {
                Ok(true) => {}
                Ok(false) => {
                    if !session.conn.closes_within(wait).await {
                        return Err(fail(
                            "CIM-11.1-1",
                            "the connection closed after the fatal Error",
                            "still open",
                        ));
                    }
                    session = cx.open(&alice, "d1").await?;
                }
                Err(event) => {
                    return Err(fail(
                        "CIM-7.2-2",
                        format!("an answer to a Send with {what}, or a fatal Error"),
                        event.describe(),
                    ));
                }
            }
        }
    }
    still_serving(cx, &alice, "CIM-11.1-10").await
}

async fn truncated_frames(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let whole = prefixed(&encode(&frame(Body::Hello(hello(&login.token, "d1")))));
    let step = (whole.len() / 12).max(1);
    for cut in (1..whole.len()).step_by(step) {
        let mut conn = cx.connect(&login).await?;
        if conn.is_websocket() {
            return Err(Stop::NotApplicable("a WebSocket message cannot be cut short".into()));
        }
        conn.send_bytes(&whole[..cut], &format!("the first {cut} of {} bytes of a Hello", whole.len())).await;
        conn.shutdown().await;
        // Nothing to check but that the server is not confused; the Welcome must not come,
        // since the Hello never completed.
        if let Event::Frame(Frame { body: Some(Body::Welcome(_)) }) =
            conn.next(Duration::from_millis(300)).await
        {
            return Err(fail(
                "CIM-3.1-5",
                "no Welcome for a Hello cut off by the end of the connection",
                "Welcome",
            ));
        }
    }
    still_serving(cx, &alice, "CIM-11.1-10").await
}

async fn slow_drip(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect(&login).await?;
    if conn.is_websocket() {
        return Err(Stop::NotApplicable("WebSocket messages arrive whole".into()));
    }
    let bytes = prefixed(&encode(&frame(Body::Hello(hello(&login.token, "d1")))));
    // At most ~3 s in all, well within any handshake timeout the spec allows.
    let pause = Duration::from_millis((3000 / bytes.len() as u64).clamp(1, 20));
    cx.note(format!("writing {} bytes one at a time, {} ms apart", bytes.len(), pause.as_millis()));
    for byte in &bytes {
        conn.send_bytes(std::slice::from_ref(byte), "one byte").await;
        tokio::time::sleep(pause).await;
    }
    let wait = cx.answer_wait();
    expect_welcome(&mut conn, wait).await.map(drop).map_err(|stop| match stop {
        Stop::Fail(f) => fail("CIM-11.1-9", "Welcome for a Hello that arrived a byte at a time", f.actual),
        other => other,
    })
}

async fn ping_flood(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut session = cx.open(&alice, "d1").await?;
    session.conn.auto_pong = false;
    let count = 10_000u64;
    if session.conn.is_websocket() {
        for nonce in 0..count {
            session.conn.send(&frames::ping(nonce)).await;
        }
    } else {
        let mut burst = Vec::new();
        for nonce in 0..count {
            burst.extend(prefixed(&encode(&frames::ping(nonce))));
        }
        session.conn.send_bytes(&burst, &format!("{count} Pings in one write")).await;
    }
    let wait = cx.wait(Duration::from_secs(10));
    let mut next = 0;
    while next < count {
        match session.conn.next(wait).await {
            Event::Frame(Frame { body: Some(Body::Pong(p)) }) => {
                check(
                    "CIM-6.2-3",
                    p.nonce == next,
                    format!("Pong {{nonce: {next}}}, the Pongs in the order of the Pings"),
                    || format!("Pong {{nonce: {}}}", p.nonce),
                )?;
                next += 1;
            }
            Event::Frame(Frame { body: Some(Body::Error(e)) })
                if e.code == crate::spec::code("SLOW_CONSUMER") =>
            {
                return Err(Stop::Skip(
                    "the server ended the flood with SLOW_CONSUMER, which it may (CIM-10.4-1)".into(),
                ));
            }
            Event::Frame(_) => {}
            other => {
                return Err(fail(
                    "CIM-6.2-3",
                    format!("{count} Pongs"),
                    format!("{next} Pongs, then {}", other.describe()),
                ));
            }
        }
    }
    Ok(())
}

async fn never_reads(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let mut flooder = cx.open(&alice, "d1").await?;
    let is_ws = flooder.conn.is_websocket();
    // Pings whose Pongs are never read fill the server's send queue for this connection.
    let mut burst = Vec::new();
    for nonce in 0..2_000 {
        burst.extend(prefixed(&encode(&frames::ping(nonce))));
    }
    let flood = async {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(4) {
            if is_ws {
                flooder.conn.send(&frames::ping(1)).await;
            } else {
                let write = flooder.conn.send_bytes(&burst, "2000 Pings (never read)");
                // A server that stops reading makes the write block: that is fine.
                if tokio::time::timeout(Duration::from_millis(500), write).await.is_err() {
                    break;
                }
            }
        }
    };
    let others = async {
        let mut a = cx.open(&bob, "d1").await?;
        let wait = cx.answer_wait();
        for i in 0..5 {
            let id = cx.client_msg_id();
            let started = Instant::now();
            a.conn.send(&frames::send(&id, frames::to_user(&bob.id), &format!("still there? {i}"))).await;
            expect_ack(&mut a.conn, "CIM-11.1-10", &id, wait).await?;
            check(
                "CIM-11.1-10",
                started.elapsed() < Duration::from_secs(1),
                "other sessions answered promptly",
                || format!("a SendAck took {} ms", started.elapsed().as_millis()),
            )?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Ok::<(), Stop>(())
    };
    let ((), result) = tokio::join!(flood, others);
    result
}

async fn error_from_client(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let wait = cx.answer_wait();
    for (code, client_msg_id) in [
        (crate::spec::code("INTERNAL"), ""),
        (crate::spec::code("INTERNAL"), "m-1"),
        (5999, ""),
        (1999, ""),
        (64_000, ""),
    ] {
        let mut session = cx.open(&alice, "d1").await?;
        session.conn.send(&frames::error(code, client_msg_id)).await;
        check(
            "CIM-11.1-3",
            session.conn.closes_within(wait).await,
            format!(
                "the connection closed after the client's Error {code} (client_msg_id {client_msg_id:?})"
            ),
            || "still open".into(),
        )?;
    }
    Ok(())
}

async fn nothing_after_fatal(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let mut listener = cx.open(&bob, "d1").await?;
    let mut session = cx.open(&alice, "d1").await?;
    let id = cx.client_msg_id();
    let mut bytes = prefixed(&[0x0f, 0x01]);
    bytes.extend(prefixed(&encode(&frames::send(&id, frames::to_user(&bob.id), "after the end"))));
    if session.conn.is_websocket() {
        session.conn.send_payload(&[0x0f, 0x01], "a malformed frame").await;
        session.conn.send(&frames::send(&id, frames::to_user(&bob.id), "after the end")).await;
    } else {
        session.conn.send_bytes(&bytes, "a malformed frame and a Send in one write").await;
    }
    let wait = cx.answer_wait();
    crate::case::expect_fatal(&mut session.conn, "CIM-3.4-1", "MALFORMED_FRAME", wait).await?;
    crate::case::expect_no_deliver(
        &mut listener.conn,
        "CIM-11.1-4",
        "no Deliver of a Send that followed a fatal error",
        cx.wait(Duration::from_secs(1)),
    )
    .await
}
