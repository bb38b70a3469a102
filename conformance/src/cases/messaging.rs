//! §7 and §9: Send and SendAck, validation, groups, broadcast, message ids, dedupe, ordering,
//! multiple devices, flow control.

use std::time::Duration;

use cim_proto::v1::{Recipient, Send, frame::Body, recipient};

use crate::case::{
    Case, Cx, Session, Stop, check, expect_ack, expect_deliver, expect_fatal, expect_no_deliver,
    expect_rejection, fail,
};
use crate::frames::{self, frame};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("server.send.one-to-one", "A message to a user is acked, then delivered with every field as sent",
            covers: ["CIM-7.2-2", "CIM-7.2-3", "CIM-8.2-3", "CIM-7.4-5", "CIM-7.5-1", "CIM-7.5-3", "CIM-7.2-1"], tags: ["messaging"], budget: 20, one_to_one),
        crate::case!("server.send.to-self", "A message to oneself is stored in one's own inbox",
            covers: ["CIM-7.1-9"], tags: ["messaging"], budget: 20, to_self),
        crate::case!("server.send.unknown-recipient", "A Send to a user or group that does not exist is rejected with UNKNOWN_RECIPIENT, the session staying open",
            covers: ["CIM-7.1-8", "CIM-7.3-1", "CIM-7.2-4", "CIM-11.1-6"], tags: ["messaging", "errors"], budget: 20, unknown_recipient),
        crate::case!("server.send.not-a-member", "A Send to a group the sender is not in is rejected with FORBIDDEN and not delivered",
            covers: ["CIM-7.3-2", "CIM-7.2-4"], tags: ["messaging", "groups", "errors"], budget: 20, not_a_member),
        crate::case!("server.send.group", "A group message reaches every other member and none of the sender's devices",
            covers: ["CIM-7.3-3", "CIM-7.3-4", "CIM-8.2-3"], tags: ["messaging", "groups"], budget: 20, group),
        crate::case!("server.send.group-membership-at-acceptance", "A member who joins after a group message does not receive it",
            covers: ["CIM-7.3-3"], tags: ["messaging", "groups"], budget: 20, group_membership_at_acceptance),
        crate::case!("server.send.everyone", "A message to everyone is live only: seq 0, live_only, never stored or replayed",
            covers: ["CIM-7.4-1", "CIM-7.4-3", "CIM-7.4-4", "CIM-7.4-5"], tags: ["messaging", "broadcast"], budget: 20, everyone),
        crate::case!("server.send.everyone-reaches-all", "A message to everyone reaches every open session but the sender's",
            covers: ["CIM-7.4-2"], tags: ["messaging", "broadcast"], budget: 20, everyone_reaches_all),
        crate::case!("server.send.client-msg-id-too-long", "A client_msg_id of 65 bytes is rejected with INVALID_CLIENT_MSG_ID, the session staying open",
            covers: ["CIM-7.1-3"], tags: ["messaging", "errors"], budget: 20, client_msg_id_too_long),
        crate::case!("server.send.client-msg-id-empty", "An empty client_msg_id gets a fatal INVALID_CLIENT_MSG_ID",
            covers: ["CIM-7.1-4", "CIM-11.1-13"], tags: ["messaging", "errors"], budget: 20, client_msg_id_empty),
        crate::case!("server.send.no-recipient", "A Send without a recipient, or with an empty user or group, gets a fatal INVALID_FIELD",
            covers: ["CIM-7.1-5"], tags: ["messaging", "errors"], budget: 20, no_recipient),
        crate::case!("server.send.content-type-too-long", "A content_type of 256 bytes gets a fatal INVALID_FIELD",
            covers: ["CIM-7.1-6"], tags: ["messaging", "errors"], budget: 20, content_type_too_long),
        crate::case!("server.send.body-size", "A body of max_body_size is accepted; one byte more is rejected with BODY_TOO_LARGE and not delivered",
            covers: ["CIM-7.1-7", "CIM-7.2-4"], tags: ["messaging", "limits"], budget: 20, body_size),
        crate::case!("server.send.message-ids-unique", "Every accepted message gets its own message_id",
            covers: ["CIM-7.5-2"], tags: ["messaging"], budget: 20, message_ids_unique),
        crate::case!("server.send.message-ids-increase", "Message ids increase in the order messages are accepted",
            covers: ["CIM-7.5-4"], tags: ["messaging"], budget: 20, message_ids_increase),
        crate::case!("server.send.check-order", "A Send with several faults is rejected for the first in the order of §7.1",
            covers: ["CIM-7.1-12"], tags: ["messaging", "errors"], budget: 20, check_order),
        crate::case!("server.dedupe.before-later-checks", "A resend of an accepted message is a duplicate though its sender left the group or its body is now too large",
            covers: ["CIM-7.1-12", "CIM-9.1-3"], tags: ["dedupe", "groups", "errors"], budget: 20, dedupe_before_later_checks),
        crate::case!("server.dedupe.same-session", "A repeated client_msg_id is acked as a duplicate with the original id and time, and delivered once",
            covers: ["CIM-9.1-1", "CIM-9.1-2", "CIM-9.1-3", "CIM-9.1-5"], tags: ["dedupe"], budget: 20, dedupe_same_session),
        crate::case!("server.dedupe.other-device", "A client_msg_id used on one device is a duplicate on another device of the user",
            covers: ["CIM-9.1-2", "CIM-9.1-4"], tags: ["dedupe", "devices"], budget: 20, dedupe_other_device),
        crate::case!("server.dedupe.concurrent", "The same client_msg_id sent at once from two sessions is accepted once",
            covers: ["CIM-9.1-4", "CIM-9.1-5"], tags: ["dedupe", "devices"], budget: 20, dedupe_concurrent),
        crate::case!("server.dedupe.broadcast", "A repeated Send to everyone is a duplicate with live_only set",
            covers: ["CIM-9.1-3"], tags: ["dedupe", "broadcast"], budget: 20, dedupe_broadcast),
        crate::case!("server.order.pipelined", "Sends pipelined on one connection are answered and delivered in order",
            covers: ["CIM-9.2-1", "CIM-9.2-2", "CIM-8.1-1", "CIM-8.2-2"], tags: ["ordering"], budget: 30, pipelined),
        crate::case!("server.devices.replaced", "A second session of the same device ends the first with GoAway SESSION_REPLACED",
            covers: ["CIM-9.3-2", "CIM-12.1-1", "CIM-12.1-2", "CIM-12.1-8"], tags: ["devices", "goaway"], budget: 20, replaced),
        crate::case!("server.devices.replaced-closes", "A replaced session is closed within 5 s of its GoAway",
            covers: ["CIM-12.1-4"], tags: ["devices", "goaway"], budget: 20, replaced_closes),
        crate::case!("server.devices.every-session", "Every open session of a user receives every entry, each from its own start",
            covers: ["CIM-9.3-1"], tags: ["devices"], budget: 20, every_session),
        crate::case!("server.devices.session-limit", "Past the sessions a user may have, a Hello is refused with TOO_MANY_SESSIONS or the oldest session is replaced",
            covers: ["CIM-9.3-3"], tags: ["devices", "limits"], budget: 30, session_limit),
        crate::case!("server.limits.largest-deliver", "A Deliver of a body of max_body_size fits the 65536 bytes a client may ask for",
            covers: ["CIM-10.2-3"], tags: ["limits"], budget: 20, largest_deliver),
        crate::case!("server.limits.rate", "Sends beyond the burst are rejected with RATE_LIMITED and a retry_after_ms",
            covers: ["CIM-10.3-3", "CIM-10.3-4"], tags: ["limits", "flow-control"], budget: 30, rate),
    ]
}

/// Whether `id` is a canonical ULID (Crockford base32, upper case, 26 characters), and its time.
fn ulid_time(id: &str) -> Option<u64> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    if id.len() != 26 {
        return None;
    }
    let mut digits = Vec::with_capacity(26);
    for b in id.bytes() {
        digits.push(ALPHABET.iter().position(|&a| a == b)? as u64);
    }
    if digits[0] > 7 {
        return None;
    }
    Some(digits[..10].iter().fold(0, |t, d| (t << 5) | d))
}

async fn pair(cx: &mut Cx) -> Result<(crate::case::User, crate::case::User, Session, Session), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let bob_session = cx.open(&bob, "d1").await?;
    let alice_session = cx.open(&alice, "d1").await?;
    Ok((alice, bob, alice_session, bob_session))
}

async fn one_to_one(cx: &mut Cx) -> Result<(), Stop> {
    let (alice, bob, mut a, mut b) = pair(cx).await?;
    let id = cx.client_msg_id();
    let body = vec![0u8, 1, 2, 250, 255];
    a.conn.send(&frames::send_bytes(&id, frames::to_user(&bob.id), "application/x-test", body.clone())).await;
    let wait = cx.answer_wait();
    let ack = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    check("CIM-7.4-5", !ack.live_only && !ack.duplicate, "live_only false and duplicate false", || {
        format!("{ack:?}")
    })?;
    let time = ulid_time(&ack.message_id);
    check("CIM-7.5-1", time.is_some(), "a message_id that is a canonical ULID", || {
        format!("{:?}", ack.message_id)
    })?;
    check("CIM-7.5-3", time == Some(ack.sent_at_ms), "the ULID's time equal to sent_at_ms", || {
        format!("ULID time {time:?}, sent_at_ms {}", ack.sent_at_ms)
    })?;
    let d = expect_deliver(&mut b.conn, "CIM-7.2-1", "the message in bob's session", wait).await?;
    check(
        "CIM-7.2-3",
        d.message_id == ack.message_id && d.sent_at_ms == ack.sent_at_ms,
        "Deliver with the SendAck's message_id and sent_at_ms",
        || {
            format!(
                "Deliver {:?} at {}, SendAck {:?} at {}",
                d.message_id, d.sent_at_ms, ack.message_id, ack.sent_at_ms
            )
        },
    )?;
    let to_bob = Some(frames::to_user(&bob.id));
    check(
        "CIM-8.2-3",
        d.from_user_id == alice.id
            && d.to == to_bob
            && d.content_type == "application/x-test"
            && d.body.as_ref() == body.as_slice(),
        "from_user_id, to, content_type and body as sent",
        || format!("{d:?}"),
    )
}

async fn to_self(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut a1 = cx.open(&alice, "d1").await?;
    let mut a2 = cx.open(&alice, "d2").await?;
    let id = cx.client_msg_id();
    a1.conn.send(&frames::send(&id, frames::to_user(&alice.id), "note to self")).await;
    let wait = cx.answer_wait();
    let ack = expect_ack(&mut a1.conn, "CIM-7.1-9", &id, wait).await?;
    for session in [&mut a1, &mut a2] {
        let d = expect_deliver(
            &mut session.conn,
            "CIM-7.1-9",
            "the message in the sender's own inbox, on each device",
            wait,
        )
        .await?;
        check("CIM-7.1-9", d.message_id == ack.message_id, "the note to self", || format!("{d:?}"))?;
    }
    Ok(())
}

async fn assert_open(session: &mut Session, requirement: &'static str, wait: Duration) -> Result<(), Stop> {
    session.conn.send(&frames::ping(99)).await;
    session.conn.auto_pong = false;
    let got = session
        .conn
        .find(wait, |f| match &f.body {
            Some(Body::Pong(p)) if p.nonce == 99 => Some(()),
            _ => None,
        })
        .await;
    session.conn.auto_pong = true;
    got.map_err(|event| fail(requirement, "the session still open (a Pong for a Ping)", event.describe()))
}

async fn unknown_recipient(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut a = cx.open(&alice, "d1").await?;
    let wait = cx.answer_wait();
    let nobody = cx.name("nobody");
    let id = cx.client_msg_id();
    a.conn.send(&frames::send(&id, frames::to_user(&nobody), "hello?")).await;
    expect_rejection(&mut a.conn, "CIM-7.1-8", "UNKNOWN_RECIPIENT", &id, wait).await?;
    let id = cx.client_msg_id();
    let no_group = cx.name("no-group");
    a.conn.send(&frames::send(&id, frames::to_group(&no_group), "hello?")).await;
    expect_rejection(&mut a.conn, "CIM-7.3-1", "UNKNOWN_RECIPIENT", &id, wait).await?;
    assert_open(&mut a, "CIM-7.1-8", wait).await
}

/// A new group of `owner` that `members` joined, each by their own call (CIM-14.4-38).
async fn group_of(cx: &mut Cx, owner: &Session, members: &[&Session]) -> Result<String, Stop> {
    let group = cx.name("team");
    cx.route
        .create_group(&owner.login.token, &group, &[])
        .await
        .map_err(|e| Stop::Error(format!("CreateGroup failed: {e}")))?;
    for member in members {
        cx.route
            .join_group(&member.login.token, &group)
            .await
            .map_err(|e| Stop::Error(format!("JoinGroup failed: {e}")))?;
    }
    Ok(group)
}

async fn not_a_member(cx: &mut Cx) -> Result<(), Stop> {
    let (alice, bob, mut a, mut b) = pair(cx).await?;
    let carol = cx.user("carol").await?;
    let c = cx.open(&carol, "d1").await?;
    let group = group_of(cx, &c, &[&b]).await?;
    let _ = (alice, bob);
    let id = cx.client_msg_id();
    a.conn.send(&frames::send(&id, frames::to_group(&group), "let me in")).await;
    let wait = cx.answer_wait();
    expect_rejection(&mut a.conn, "CIM-7.3-2", "FORBIDDEN", &id, wait).await?;
    expect_no_deliver(
        &mut b.conn,
        "CIM-7.2-4",
        "no Deliver of a rejected message",
        cx.wait(Duration::from_secs(1)),
    )
    .await
}

async fn group(cx: &mut Cx) -> Result<(), Stop> {
    let (alice, _bob, mut a, mut b) = pair(cx).await?;
    let carol = cx.user("carol").await?;
    let mut c = cx.open(&carol, "d1").await?;
    let mut a2 = cx.open(&alice, "d2").await?;
    let group = group_of(cx, &a, &[&b, &c]).await?;
    let id = cx.client_msg_id();
    a.conn.send(&frames::send(&id, frames::to_group(&group), "hi team")).await;
    let wait = cx.answer_wait();
    let ack = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    for session in [&mut b, &mut c] {
        let d = expect_deliver(
            &mut session.conn,
            "CIM-7.3-3",
            "the group message, on every other member's session",
            wait,
        )
        .await?;
        check(
            "CIM-8.2-3",
            d.message_id == ack.message_id
                && d.to == Some(frames::to_group(&group))
                && d.from_user_id == alice.id,
            "to the group, from alice, with the SendAck's message_id",
            || format!("{d:?}"),
        )?;
    }
    let quiet = cx.wait(Duration::from_secs(1));
    expect_no_deliver(&mut a.conn, "CIM-7.3-4", "no copy of the group message for its sender", quiet).await?;
    expect_no_deliver(
        &mut a2.conn,
        "CIM-7.3-4",
        "no copy of the group message on the sender's other device",
        quiet,
    )
    .await
}

async fn group_membership_at_acceptance(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, _bob, mut a, mut b) = pair(cx).await?;
    let dave = cx.user("dave").await?;
    let group = group_of(cx, &a, &[&b]).await?;
    let wait = cx.answer_wait();
    let first = cx.client_msg_id();
    a.conn.send(&frames::send(&first, frames::to_group(&group), "before dave")).await;
    expect_ack(&mut a.conn, "CIM-7.2-2", &first, wait).await?;
    expect_deliver(&mut b.conn, "CIM-7.3-3", "the first group message for bob", wait).await?;
    let mut d = cx.open(&dave, "d1").await?;
    cx.route
        .join_group(&d.login.token, &group)
        .await
        .map_err(|e| Stop::Error(format!("JoinGroup failed: {e}")))?;
    let second = cx.client_msg_id();
    a.conn.send(&frames::send(&second, frames::to_group(&group), "after dave")).await;
    let ack = expect_ack(&mut a.conn, "CIM-7.2-2", &second, wait).await?;
    let got =
        expect_deliver(&mut d.conn, "CIM-7.3-3", "the second group message for dave, a member by then", wait)
            .await?;
    check("CIM-7.3-3", got.message_id == ack.message_id, "only the message sent after dave joined", || {
        format!("{got:?}")
    })
}

async fn everyone(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, mut b) = pair(cx).await?;
    let id = cx.client_msg_id();
    a.conn.send(&frames::send(&id, frames::to_everyone(), "hello world")).await;
    let wait = cx.answer_wait();
    let ack = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    check("CIM-7.4-5", ack.live_only, "live_only true for a Send to everyone", || format!("{ack:?}"))?;
    // Other tests may broadcast at the same time: look for this message by id.
    let wanted = ack.message_id.clone();
    let found = b
        .conn
        .find(wait, |f| match &f.body {
            Some(Body::Deliver(d)) if d.message_id == wanted => Some(d.clone()),
            _ => None,
        })
        .await
        .map_err(|event| fail("CIM-7.4-2", "the broadcast on bob's open session", event.describe()))?;
    check("CIM-7.4-4", found.seq == 0, "seq 0", || format!("seq {}", found.seq))?;
    let twice = b
        .conn
        .find(cx.wait(Duration::from_millis(700)), |f| match &f.body {
            Some(Body::Deliver(d)) if d.message_id == wanted => Some(()),
            _ => None,
        })
        .await;
    check("CIM-7.4-3", twice.is_err(), "the broadcast once on a session", || "twice".into())?;
    // A session opened later sees neither a replay nor an inbox entry of it.
    let mut late = cx.open(&bob, "d2").await?;
    let replay = late
        .conn
        .find(cx.wait(Duration::from_secs(1)), |f| match &f.body {
            Some(Body::Deliver(d)) if d.message_id == wanted => Some(d.seq),
            _ => None,
        })
        .await;
    match replay {
        Ok(0) => Err(fail(
            "CIM-7.4-3",
            "no broadcast on a session opened after it was accepted",
            "delivered with seq 0",
        )),
        Ok(seq) => Err(fail(
            "CIM-7.4-1",
            "the broadcast in no inbox",
            format!("replayed from the inbox with seq {seq}"),
        )),
        Err(_) => Ok(()),
    }
}

async fn everyone_reaches_all(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, mut b) = pair(cx).await?;
    let mut b2 = cx.open(&bob, "d2").await?;
    let id = cx.client_msg_id();
    a.conn.send(&frames::send(&id, frames::to_everyone(), "to all")).await;
    let wait = cx.answer_wait();
    let ack = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    let wanted = ack.message_id.clone();
    for session in [&mut b, &mut b2] {
        session
            .conn
            .find(wait, |f| match &f.body {
                Some(Body::Deliver(d)) if d.message_id == wanted => Some(()),
                _ => None,
            })
            .await
            .map_err(|event| fail("CIM-7.4-2", "the broadcast on every open session", event.describe()))?;
    }
    let own = a
        .conn
        .find(cx.wait(Duration::from_millis(700)), |f| match &f.body {
            Some(Body::Deliver(d)) if d.message_id == wanted => Some(()),
            _ => None,
        })
        .await;
    check("CIM-7.4-2", own.is_err(), "no copy on the session that sent it", || {
        "delivered to its sender".into()
    })
}

async fn client_msg_id_too_long(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, _b) = pair(cx).await?;
    let id = "i".repeat(65);
    a.conn.send(&frames::send(&id, frames::to_user(&bob.id), "long id")).await;
    let wait = cx.answer_wait();
    expect_rejection(&mut a.conn, "CIM-7.1-3", "INVALID_CLIENT_MSG_ID", &id, wait).await?;
    assert_open(&mut a, "CIM-7.1-3", wait).await?;
    let ok = "j".repeat(64);
    a.conn.send(&frames::send(&ok, frames::to_user(&bob.id), "64-byte id")).await;
    expect_ack(&mut a.conn, "CIM-7.1-3", &ok, wait).await.map(drop)
}

async fn client_msg_id_empty(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, _b) = pair(cx).await?;
    a.conn.send(&frames::send("", frames::to_user(&bob.id), "no id")).await;
    let wait = cx.answer_wait();
    expect_fatal(&mut a.conn, "CIM-7.1-4", "INVALID_CLIENT_MSG_ID", wait).await.map(drop)
}

async fn no_recipient(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let wait = cx.answer_wait();
    let recipients = [
        None,
        Some(Recipient { kind: None }),
        Some(Recipient { kind: Some(recipient::Kind::UserId(String::new())) }),
        Some(Recipient { kind: Some(recipient::Kind::GroupId(String::new())) }),
    ];
    for to in recipients {
        let mut a = cx.open(&alice, "d1").await?;
        let id = cx.client_msg_id();
        let send = Send {
            client_msg_id: id,
            to,
            content_type: "text/plain".into(),
            body: b"to whom".to_vec().into(),
        };
        a.conn.send(&frame(Body::Send(send))).await;
        expect_fatal(&mut a.conn, "CIM-7.1-5", "INVALID_FIELD", wait).await?;
    }
    Ok(())
}

async fn content_type_too_long(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, _b) = pair(cx).await?;
    let id = cx.client_msg_id();
    a.conn.send(&frames::send_bytes(&id, frames::to_user(&bob.id), &"t".repeat(256), b"x".to_vec())).await;
    let wait = cx.answer_wait();
    expect_fatal(&mut a.conn, "CIM-7.1-6", "INVALID_FIELD", wait).await.map(drop)
}

async fn body_size(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, mut b) = pair(cx).await?;
    let max = a.welcome.limits.as_ref().map_or(0, |l| l.max_body_size);
    let max = if max == 0 { 61_440 } else { max } as usize;
    let wait = cx.answer_wait();
    let big = cx.client_msg_id();
    a.conn
        .send(&frames::send_bytes(
            &big,
            frames::to_user(&bob.id),
            "application/octet-stream",
            vec![7; max + 1],
        ))
        .await;
    expect_rejection(&mut a.conn, "CIM-7.1-7", "BODY_TOO_LARGE", &big, wait).await?;
    let fits = cx.client_msg_id();
    a.conn
        .send(&frames::send_bytes(&fits, frames::to_user(&bob.id), "application/octet-stream", vec![8; max]))
        .await;
    let ack = expect_ack(&mut a.conn, "CIM-7.1-7", &fits, wait).await?;
    let d = expect_deliver(&mut b.conn, "CIM-7.2-1", "the message of max_body_size", wait).await?;
    check(
        "CIM-7.2-4",
        d.message_id == ack.message_id,
        "only the message that fits delivered, not the rejected one",
        || format!("Deliver of {} bytes", d.body.len()),
    )
}

async fn send_many(
    cx: &mut Cx,
    from: &mut Session,
    to: &str,
    count: usize,
) -> Result<Vec<cim_proto::v1::SendAck>, Stop> {
    let ids: Vec<String> = (0..count).map(|_| cx.client_msg_id()).collect();
    for (i, id) in ids.iter().enumerate() {
        from.conn.send(&frames::send(id, frames::to_user(to), &format!("message {i}"))).await;
    }
    let wait = cx.answer_wait();
    let mut acks = Vec::new();
    for id in &ids {
        acks.push(expect_ack(&mut from.conn, "CIM-7.2-2", id, wait).await?);
    }
    Ok(acks)
}

async fn message_ids_unique(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, _b) = pair(cx).await?;
    let acks = send_many(cx, &mut a, &bob.id, 30).await?;
    let mut seen = std::collections::BTreeSet::new();
    for ack in &acks {
        check("CIM-7.5-2", seen.insert(ack.message_id.clone()), "a message_id no other message has", || {
            format!("{:?} twice", ack.message_id)
        })?;
    }
    Ok(())
}

async fn message_ids_increase(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, _b) = pair(cx).await?;
    let acks = send_many(cx, &mut a, &bob.id, 30).await?;
    for pair in acks.windows(2) {
        check(
            "CIM-7.5-4",
            pair[0].message_id < pair[1].message_id,
            "message ids in increasing string order",
            || format!("{:?} then {:?}", pair[0].message_id, pair[1].message_id),
        )?;
    }
    Ok(())
}

async fn check_order(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, _bob, mut a, _b) = pair(cx).await?;
    // Too long an id and an unknown recipient and too large a body: the id is checked first.
    let max = a.welcome.limits.as_ref().map_or(0, |l| l.max_body_size);
    let max = if max == 0 { 61_440 } else { max } as usize;
    let wait = cx.answer_wait();
    let long_id = "k".repeat(65);
    let nobody = cx.name("nobody");
    a.conn
        .send(&frames::send_bytes(&long_id, frames::to_user(&nobody), "text/plain", vec![b'x'; max + 1]))
        .await;
    expect_rejection(&mut a.conn, "CIM-7.1-12", "INVALID_CLIENT_MSG_ID", &long_id, wait).await?;
    // The body size before the recipient's existence.
    let id = cx.client_msg_id();
    a.conn.send(&frames::send_bytes(&id, frames::to_user(&nobody), "text/plain", vec![b'x'; max + 1])).await;
    expect_rejection(&mut a.conn, "CIM-7.1-12", "BODY_TOO_LARGE", &id, wait).await.map(drop)
}

async fn dedupe_before_later_checks(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, mut b) = pair(cx).await?;
    let group = group_of(cx, &a, &[&b]).await?;
    let wait = cx.answer_wait();
    let id = cx.client_msg_id();
    a.conn.send(&frames::send(&id, frames::to_group(&group), "bye all")).await;
    let first = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    cx.route
        .leave_group(&a.login.token, &group)
        .await
        .map_err(|e| Stop::Error(format!("LeaveGroup failed: {e}")))?;
    // The SendAck was lost, say: the client sends it again after leaving.
    a.conn.send(&frames::send(&id, frames::to_group(&group), "bye all")).await;
    let again = expect_ack(&mut a.conn, "CIM-7.1-12", &id, wait).await?;
    check(
        "CIM-9.1-3",
        again.duplicate && again.message_id == first.message_id && again.sent_at_ms == first.sent_at_ms,
        "the duplicate SendAck of the original (deduplication before permission), not FORBIDDEN",
        || format!("first {first:?}, then {again:?}"),
    )?;
    // Deduplication before the body size too: the server does not compare contents (§9.1).
    let max = a.welcome.limits.as_ref().map_or(0, |l| l.max_body_size);
    let max = if max == 0 { 61_440 } else { max } as usize;
    let id = cx.client_msg_id();
    a.conn.send(&frames::send(&id, frames::to_user(&bob.id), "short")).await;
    let first = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    a.conn.send(&frames::send_bytes(&id, frames::to_user(&bob.id), "text/plain", vec![b'x'; max + 1])).await;
    let again = expect_ack(&mut a.conn, "CIM-7.1-12", &id, wait).await?;
    check(
        "CIM-9.1-3",
        again.duplicate && again.message_id == first.message_id,
        "the duplicate SendAck of the original (deduplication before the body size), not BODY_TOO_LARGE",
        || format!("first {first:?}, then {again:?}"),
    )?;
    let group_message = expect_deliver(&mut b.conn, "CIM-7.3-3", "the group message", wait).await?;
    let direct = expect_deliver(&mut b.conn, "CIM-7.2-1", "the one-to-one message", wait).await?;
    check("CIM-9.1-2", group_message.seq + 1 == direct.seq, "each message once", || {
        format!("{group_message:?}, then {direct:?}")
    })?;
    expect_no_deliver(
        &mut b.conn,
        "CIM-9.1-2",
        "no second Deliver of either",
        cx.wait(Duration::from_secs(1)),
    )
    .await
}

async fn dedupe_same_session(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, mut b) = pair(cx).await?;
    let id = cx.client_msg_id();
    let wait = cx.answer_wait();
    a.conn.send(&frames::send(&id, frames::to_user(&bob.id), "once")).await;
    let first = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    a.conn.send(&frames::send(&id, frames::to_user(&bob.id), "once, again")).await;
    let second = expect_ack(&mut a.conn, "CIM-9.1-3", &id, wait).await?;
    check("CIM-9.1-3", second.duplicate, "duplicate true for the repeated client_msg_id", || {
        format!("{second:?}")
    })?;
    check(
        "CIM-9.1-3",
        second.message_id == first.message_id
            && second.sent_at_ms == first.sent_at_ms
            && second.live_only == first.live_only,
        "the original message_id, sent_at_ms and live_only",
        || format!("first {first:?}, then {second:?}"),
    )?;
    let d = expect_deliver(&mut b.conn, "CIM-7.2-1", "the message once", wait).await?;
    check("CIM-9.1-2", d.message_id == first.message_id, "the original message", || format!("{d:?}"))?;
    expect_no_deliver(
        &mut b.conn,
        "CIM-9.1-2",
        "no second Deliver of a duplicate",
        cx.wait(Duration::from_secs(1)),
    )
    .await
}

async fn dedupe_other_device(cx: &mut Cx) -> Result<(), Stop> {
    let (alice, bob, mut a, mut b) = pair(cx).await?;
    let mut a2 = cx.open(&alice, "d2").await?;
    let id = cx.client_msg_id();
    let wait = cx.answer_wait();
    a.conn.send(&frames::send(&id, frames::to_user(&bob.id), "from the phone")).await;
    let first = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    a2.conn.send(&frames::send(&id, frames::to_user(&bob.id), "from the laptop")).await;
    let second = expect_ack(&mut a2.conn, "CIM-9.1-4", &id, wait).await?;
    check(
        "CIM-9.1-4",
        second.duplicate && second.message_id == first.message_id,
        "a duplicate of the first device's message",
        || format!("{second:?}"),
    )?;
    expect_deliver(&mut b.conn, "CIM-7.2-1", "the message once", wait).await?;
    expect_no_deliver(&mut b.conn, "CIM-9.1-2", "no second Deliver", cx.wait(Duration::from_secs(1))).await
}

async fn dedupe_concurrent(cx: &mut Cx) -> Result<(), Stop> {
    let (alice, bob, mut a, mut b) = pair(cx).await?;
    let mut a2 = cx.open(&alice, "d2").await?;
    let wait = cx.answer_wait();
    for round in 0..10 {
        let id = cx.client_msg_id();
        let send = frames::send(&id, frames::to_user(&bob.id), &format!("race {round}"));
        tokio::join!(a.conn.send(&send), a2.conn.send(&send));
        let (x, y) = (
            expect_ack(&mut a.conn, "CIM-9.1-4", &id, wait).await?,
            expect_ack(&mut a2.conn, "CIM-9.1-4", &id, wait).await?,
        );
        check(
            "CIM-9.1-4",
            x.message_id == y.message_id && (x.duplicate != y.duplicate),
            "one acceptance and one duplicate, with one message_id",
            || format!("{x:?} and {y:?}"),
        )?;
        let d = expect_deliver(&mut b.conn, "CIM-9.1-5", "the raced message once", wait).await?;
        check("CIM-9.1-5", d.message_id == x.message_id, "the raced message", || format!("{d:?}"))?;
    }
    expect_no_deliver(&mut b.conn, "CIM-9.1-5", "each raced message once", cx.wait(Duration::from_secs(1)))
        .await
}

async fn dedupe_broadcast(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, _bob, mut a, _b) = pair(cx).await?;
    let id = cx.client_msg_id();
    let wait = cx.answer_wait();
    a.conn.send(&frames::send(&id, frames::to_everyone(), "hear ye")).await;
    let first = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    a.conn.send(&frames::send(&id, frames::to_everyone(), "hear ye")).await;
    let second = expect_ack(&mut a.conn, "CIM-9.1-3", &id, wait).await?;
    check(
        "CIM-9.1-3",
        second.duplicate && second.live_only && second.message_id == first.message_id,
        "a duplicate, live_only as the original",
        || format!("{first:?}, then {second:?}"),
    )
}

async fn pipelined(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, mut b) = pair(cx).await?;
    let count = 50;
    let ids: Vec<String> = (0..count).map(|_| cx.client_msg_id()).collect();
    let mut burst = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        burst.extend(crate::wire::prefixed(&crate::wire::encode(&frames::send(
            id,
            frames::to_user(&bob.id),
            &format!("{i}"),
        ))));
    }
    if a.conn.is_websocket() {
        for (i, id) in ids.iter().enumerate() {
            a.conn.send(&frames::send(id, frames::to_user(&bob.id), &format!("{i}"))).await;
        }
    } else {
        a.conn.send_bytes(&burst, &format!("{count} Sends in one write")).await;
    }
    let wait = cx.answer_wait();
    let mut acks = Vec::new();
    for id in &ids {
        acks.push(expect_ack(&mut a.conn, "CIM-9.2-1", id, wait).await?);
    }
    let first_seq = b.welcome.resume.as_ref().map_or(1, |r| r.next_seq);
    for (i, ack) in acks.iter().enumerate() {
        let d = expect_deliver(&mut b.conn, "CIM-8.2-1", &format!("message {i}"), wait).await?;
        check("CIM-9.2-2", d.message_id == ack.message_id, format!("message {i} in the order sent"), || {
            format!("{:?}", String::from_utf8_lossy(&d.body))
        })?;
        check("CIM-8.1-1", d.seq == first_seq + i as u64, format!("seq {}", first_seq + i as u64), || {
            format!("seq {}", d.seq)
        })?;
    }
    expect_no_deliver(&mut b.conn, "CIM-8.2-2", "no entry twice", cx.wait(Duration::from_millis(500))).await
}

async fn replaced(cx: &mut Cx) -> Result<(), Stop> {
    let (alice, _bob, mut old, _b) = pair(cx).await?;
    let _new = cx.open(&alice, "d1").await?;
    let wait = cx.answer_wait();
    let reason = crate::case::expect_go_away(
        &mut old.conn,
        "CIM-9.3-2",
        "GoAway SESSION_REPLACED on the older session of the device",
        wait,
    )
    .await?;
    check("CIM-9.3-2", reason == 2, "GoAway reason SESSION_REPLACED (2)", || format!("reason {reason}"))
}

async fn replaced_closes(cx: &mut Cx) -> Result<(), Stop> {
    let (alice, _bob, mut old, _b) = pair(cx).await?;
    let _new = cx.open(&alice, "d1").await?;
    let wait = cx.answer_wait();
    old.conn
        .find(wait, |f| matches!(f.body, Some(Body::GoAway(_))).then_some(()))
        .await
        .map_err(|event| fail("CIM-9.3-2", "GoAway SESSION_REPLACED", event.describe()))?;
    check(
        "CIM-12.1-4",
        old.conn.closes_within(cx.wait(Duration::from_secs(5))).await,
        "the connection closed within 5 s of GoAway",
        || "still open".into(),
    )
}

async fn every_session(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, mut b1) = pair(cx).await?;
    let acks = send_many(cx, &mut a, &bob.id, 3).await?;
    let mut b2 = cx.open(&bob, "d2").await?;
    let wait = cx.answer_wait();
    for session in [&mut b1, &mut b2] {
        for (i, ack) in acks.iter().enumerate() {
            let d = expect_deliver(
                &mut session.conn,
                "CIM-9.3-1",
                &format!("entry {i} on each of bob's sessions"),
                wait,
            )
            .await?;
            check("CIM-9.3-1", d.message_id == ack.message_id, format!("entry {i}"), || format!("{d:?}"))?;
        }
    }
    Ok(())
}

async fn rate(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut a = cx.open(&alice, "d1").await?;
    let limits = a.welcome.limits.unwrap_or_default();
    let (per_second, burst, in_flight) =
        (limits.sends_per_second, limits.send_burst.max(1), limits.max_in_flight.max(1));
    if per_second == 0 {
        return Err(Stop::NotApplicable("Welcome announces no sends_per_second".into()));
    }
    // Batches within the in-flight window, each answered before the next, until the bucket
    // must have run dry; no time passes to refill it but the round trips.
    let batch = in_flight.min(50) as usize;
    let total = burst as usize + 2 * batch;
    let wait = cx.answer_wait();
    let mut limited = None;
    let mut sent = 0;
    while sent < total && limited.is_none() {
        let ids: Vec<String> = (0..batch).map(|_| cx.client_msg_id()).collect();
        for id in &ids {
            a.conn.send(&frames::send(id, frames::to_user(&alice.id), "r")).await;
        }
        sent += batch;
        for id in &ids {
            let answer = a
                .conn
                .find(wait, |f| match &f.body {
                    Some(Body::SendAck(x)) if &x.client_msg_id == id => Some(None),
                    Some(Body::Error(e)) if &e.client_msg_id == id || e.client_msg_id.is_empty() => {
                        Some(Some(e.clone()))
                    }
                    _ => None,
                })
                .await
                .map_err(|event| fail("CIM-7.2-2", "an answer to every Send", event.describe()))?;
            if let Some(error) = answer {
                if error.code == crate::spec::code("RATE_LIMITED") && limited.is_none() {
                    limited = Some(error);
                } else if error.code != crate::spec::code("RATE_LIMITED") {
                    return Err(fail(
                        "CIM-10.3-3",
                        "SendAck or RATE_LIMITED",
                        format!("Error {} {:?}", error.code, error.message),
                    ));
                }
            }
        }
    }
    let Some(error) = limited else {
        return Err(fail(
            "CIM-10.3-3",
            format!("RATE_LIMITED once {burst} Sends (send_burst) were taken at once"),
            format!("{sent} Sends all accepted"),
        ));
    };
    let max_wait = 1000u32.div_ceil(per_second);
    check(
        "CIM-10.3-4",
        error.retry_after_ms > 0 && error.retry_after_ms <= max_wait,
        format!("retry_after_ms in 1..={max_wait}"),
        || format!("{}", error.retry_after_ms),
    )
}

async fn session_limit(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let wait = cx.answer_wait();
    let mut open: Vec<Session> = Vec::new();
    for n in 0..64 {
        let device = format!("dev{n}");
        let login = cx.login(&alice, &device).await?;
        let mut conn = cx.connect(&login).await?;
        conn.send(&frame(Body::Hello(frames::hello(&login.token, &device)))).await;
        match conn.next(wait).await {
            crate::wire::Event::Frame(cim_proto::v1::Frame { body: Some(Body::Welcome(welcome)) }) => {
                open.push(Session { conn, welcome, login, device });
            }
            crate::wire::Event::Frame(cim_proto::v1::Frame { body: Some(Body::Error(e)) })
                if e.code == crate::spec::code("TOO_MANY_SESSIONS") =>
            {
                check(
                    "CIM-11.1-1",
                    conn.closes_within(wait).await,
                    "the connection closed after TOO_MANY_SESSIONS",
                    || "still open".into(),
                )?;
                return Ok(());
            }
            other => {
                return Err(fail(
                    "CIM-9.3-3",
                    "Welcome, or Error TOO_MANY_SESSIONS past the limit",
                    other.describe(),
                ));
            }
        }
        // Replacing the oldest session is the other answer the spec allows.
        let oldest = &mut open[0];
        if let Ok(reason) = oldest
            .conn
            .find(Duration::from_millis(50), |f| match &f.body {
                Some(Body::GoAway(g)) => Some(g.reason),
                _ => None,
            })
            .await
        {
            return check(
                "CIM-9.3-3",
                reason == 2,
                "GoAway SESSION_REPLACED (2) to the oldest session",
                || format!("GoAway reason {reason}"),
            );
        }
    }
    Err(Stop::Skip(
        "64 sessions of one user were all accepted: the limit, if any, is higher than the harness tries"
            .into(),
    ))
}

async fn largest_deliver(cx: &mut Cx) -> Result<(), Stop> {
    let (_alice, bob, mut a, mut b) = pair(cx).await?;
    let max = a.welcome.limits.as_ref().map_or(0, |l| l.max_body_size);
    let max = if max == 0 { 61_440 } else { max } as usize;
    let id = cx.client_msg_id();
    // A long content type and a long id too, so the Deliver is as large as a Send can make it.
    let content_type = "c".repeat(255);
    let send = Send {
        client_msg_id: id.clone(),
        to: Some(frames::to_user(&bob.id)),
        content_type,
        body: vec![9; max].into(),
    };
    a.conn.send(&frame(Body::Send(send))).await;
    let wait = cx.answer_wait();
    expect_ack(&mut a.conn, "CIM-7.1-7", &id, wait).await?;
    // A Deliver over 65536 bytes is recorded as a violation of CIM-10.2-3 by the connection.
    let d = expect_deliver(&mut b.conn, "CIM-10.2-3", "the Deliver of the largest message", wait).await?;
    check("CIM-10.2-3", d.body.len() == max, format!("a body of {max} bytes"), || {
        format!("{} bytes", d.body.len())
    })
}
