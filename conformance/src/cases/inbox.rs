//! §8: the inbox, delivery from next_seq, acknowledgements, resume and epochs.

use std::time::Duration;

use cim_proto::v1::frame::Body;

use crate::case::{
    Case, Cx, Session, Stop, User, check, expect_ack, expect_deliver, expect_fatal, expect_no_deliver, fail,
};
use crate::frames;

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("server.inbox.replay-then-live", "Entries stored while offline are replayed from next_seq, then new ones follow live, in one numbered stream",
            covers: ["CIM-8.1-1", "CIM-8.2-1", "CIM-8.2-4", "CIM-8.4-5"], tags: ["inbox"], budget: 20, replay_then_live),
        crate::case!("server.inbox.resume", "A resume point in the current epoch gets RESUMED and the entries after it",
            covers: ["CIM-8.4-6", "CIM-8.2-1", "CIM-8.1-2", "CIM-8.3-3"], tags: ["inbox", "resume"], budget: 20, resume),
        crate::case!("server.inbox.resume-records-ack", "A RESUMED resume point counts as the device's acknowledgement",
            covers: ["CIM-8.4-10"], tags: ["inbox", "resume"], budget: 20, resume_records_ack),
        crate::case!("server.inbox.epoch-zero-is-fresh", "A resume point with epoch 0 gets FRESH",
            covers: ["CIM-8.4-5"], tags: ["inbox", "resume"], budget: 20, epoch_zero),
        crate::case!("server.inbox.epoch-changed", "A resume point from another epoch gets EPOCH_CHANGED with the current epoch",
            covers: ["CIM-8.4-8", "CIM-8.1-4"], tags: ["inbox", "resume"], budget: 20, epoch_changed),
        crate::case!("server.inbox.resume-ahead", "A resume point past the highest seq gets INVALID_FIELD",
            covers: ["CIM-8.4-9"], tags: ["inbox", "resume", "errors"], budget: 20, resume_ahead),
        crate::case!("server.inbox.ack-ahead", "A DeliverAck past the highest seq sent gets INVALID_FIELD",
            covers: ["CIM-8.3-4"], tags: ["inbox", "errors"], budget: 20, ack_ahead),
        crate::case!("server.inbox.old-ack-ignored", "A DeliverAck at or below the acknowledged position is ignored",
            covers: ["CIM-8.3-5"], tags: ["inbox"], budget: 20, old_ack_ignored),
        crate::case!("server.inbox.acks-per-device", "One device's DeliverAck does not acknowledge entries for another device",
            covers: ["CIM-8.3-6", "CIM-8.3-7"], tags: ["inbox", "devices"], budget: 20, acks_per_device),
        crate::case!("server.inbox.new-device", "A new device gets what some known device has not acknowledged, and nothing every device has",
            covers: ["CIM-8.4-14", "CIM-8.4-15"], tags: ["inbox", "devices"], budget: 30, new_device),
    ]
}

/// Bob offline, alice sends `count` messages to him; returns their message ids in order.
async fn fill_inbox(cx: &mut Cx, count: usize) -> Result<(User, Vec<String>), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let mut a = cx.open(&alice, "d1").await?;
    let wait = cx.answer_wait();
    let mut ids = Vec::new();
    for i in 0..count {
        let id = cx.client_msg_id();
        a.conn.send(&frames::send(&id, frames::to_user(&bob.id), &format!("stored {i}"))).await;
        ids.push(expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?.message_id);
    }
    Ok((bob, ids))
}

/// Reads `ids.len()` Delivers and checks they are those messages with consecutive seqs from
/// `first`; returns the last seq.
async fn expect_entries(
    cx: &Cx,
    session: &mut Session,
    requirement: &'static str,
    first: u64,
    ids: &[String],
) -> Result<u64, Stop> {
    let wait = cx.answer_wait();
    let mut seq = first;
    for (i, id) in ids.iter().enumerate() {
        let d = expect_deliver(&mut session.conn, requirement, &format!("entry {} (seq {seq})", i + 1), wait)
            .await?;
        check(
            requirement,
            d.seq == seq && &d.message_id == id,
            format!("seq {seq} holding message {id}"),
            || format!("seq {} holding message {}", d.seq, d.message_id),
        )?;
        seq += 1;
    }
    Ok(seq - 1)
}

fn resume_of(session: &Session) -> (i32, u64, u64) {
    session.welcome.resume.as_ref().map_or((0, 0, 0), |r| (r.outcome, r.epoch, r.next_seq))
}

async fn replay_then_live(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 5).await?;
    let mut b = cx.open(&bob, "d1").await?;
    let (outcome, _, next) = resume_of(&b);
    check("CIM-8.4-5", outcome == 1, "outcome FRESH for a Hello without resume", || {
        format!("outcome {outcome}")
    })?;
    let last = expect_entries(cx, &mut b, "CIM-8.2-1", next, &ids).await?;
    // A new message while bob is online arrives without anything else happening.
    let alice = cx.user("carol").await?;
    let mut a = cx.open(&alice, "d1").await?;
    let id = cx.client_msg_id();
    let wait = cx.answer_wait();
    a.conn.send(&frames::send(&id, frames::to_user(&bob.id), "live")).await;
    let ack = expect_ack(&mut a.conn, "CIM-7.2-2", &id, wait).await?;
    let d = expect_deliver(&mut b.conn, "CIM-8.2-4", "the new entry, live", wait).await?;
    check(
        "CIM-8.1-1",
        d.seq == last + 1 && d.message_id == ack.message_id,
        format!("seq {} for the live entry", last + 1),
        || format!("seq {} ({})", d.seq, d.message_id),
    )
}

async fn resume(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 5).await?;
    let mut b = cx.open(&bob, "d1").await?;
    let (_, epoch, next) = resume_of(&b);
    expect_entries(cx, &mut b, "CIM-8.2-1", next, &ids).await?;
    // Processed and acknowledged the first three only.
    b.conn.send(&frames::deliver_ack(next + 2)).await;
    drop(b);
    let login = cx.login(&bob, "d1").await?;
    let mut again = cx.reopen(&login, "d1", epoch, next + 2).await?;
    let (outcome, epoch2, next2) = resume_of(&again);
    check(
        "CIM-8.4-6",
        outcome == 2 && epoch2 == epoch && next2 == next + 3,
        format!("RESUMED (2), epoch {epoch}, next_seq {}", next + 3),
        || format!("outcome {outcome}, epoch {epoch2}, next_seq {next2}"),
    )?;
    expect_entries(cx, &mut again, "CIM-8.1-2", next + 3, &ids[3..]).await?;
    expect_no_deliver(&mut again.conn, "CIM-8.2-2", "nothing more", cx.wait(Duration::from_millis(500))).await
}

async fn resume_records_ack(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 4).await?;
    let mut b = cx.open(&bob, "d1").await?;
    let (_, epoch, next) = resume_of(&b);
    expect_entries(cx, &mut b, "CIM-8.2-1", next, &ids).await?;
    drop(b);
    // Resume at the last entry without having sent a DeliverAck, then resume from an earlier
    // point: the first resume recorded the position, so the earlier point is behind it and the
    // entries in between are still there (nothing is trimmed before retention), so RESUMED.
    let login = cx.login(&bob, "d1").await?;
    let last = next + ids.len() as u64 - 1;
    let again = cx.reopen(&login, "d1", epoch, last).await?;
    let (outcome, _, next2) = resume_of(&again);
    check(
        "CIM-8.4-10",
        outcome == 2 && next2 == last + 1,
        format!("RESUMED with next_seq {}", last + 1),
        || format!("outcome {outcome}, next_seq {next2}"),
    )
}

async fn epoch_zero(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, _ids) = fill_inbox(cx, 1).await?;
    let login = cx.login(&bob, "d1").await?;
    let b = cx.reopen(&login, "d1", 0, 5).await?;
    let (outcome, epoch, _) = resume_of(&b);
    check("CIM-8.4-5", outcome == 1 && epoch != 0, "FRESH with the current epoch", || {
        format!("outcome {outcome}, epoch {epoch}")
    })
}

async fn epoch_changed(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 2).await?;
    let first = cx.open(&bob, "d1").await?;
    let (_, epoch, next) = resume_of(&first);
    drop(first);
    let stale = epoch.wrapping_add(0x5bd1_e995) | 1;
    let login = cx.login(&bob, "d1").await?;
    let mut b = cx.reopen(&login, "d1", stale, 1).await?;
    let (outcome, epoch2, next2) = resume_of(&b);
    check(
        "CIM-8.4-8",
        outcome == 3 && epoch2 == epoch && next2 == next,
        format!("EPOCH_CHANGED (3), epoch {epoch}, next_seq {next}"),
        || format!("outcome {outcome}, epoch {epoch2}, next_seq {next2}"),
    )?;
    check("CIM-8.1-4", epoch2 != 0, "a non-zero epoch", || "epoch 0".into())?;
    expect_entries(cx, &mut b, "CIM-8.2-1", next2, &ids).await.map(drop)
}

async fn resume_ahead(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 2).await?;
    let first = cx.open(&bob, "d1").await?;
    let (_, epoch, next) = resume_of(&first);
    drop(first);
    let login = cx.login(&bob, "d1").await?;
    let mut conn = cx.connect(&login).await?;
    conn.send(&frames::hello_resume(&login.token, "d1", epoch, next + ids.len() as u64 + 10)).await;
    let wait = cx.answer_wait();
    expect_fatal(&mut conn, "CIM-8.4-9", "INVALID_FIELD", wait).await.map(drop)
}

async fn ack_ahead(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 2).await?;
    let mut b = cx.open(&bob, "d1").await?;
    let (_, _, next) = resume_of(&b);
    expect_entries(cx, &mut b, "CIM-8.2-1", next, &ids).await?;
    b.conn.send(&frames::deliver_ack(next + ids.len() as u64 + 5)).await;
    let wait = cx.answer_wait();
    expect_fatal(&mut b.conn, "CIM-8.3-4", "INVALID_FIELD", wait).await.map(drop)
}

async fn old_ack_ignored(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 3).await?;
    let mut b = cx.open(&bob, "d1").await?;
    let (_, _, next) = resume_of(&b);
    expect_entries(cx, &mut b, "CIM-8.2-1", next, &ids).await?;
    for up_to in [next + 2, next + 1, next + 2, next] {
        b.conn.send(&frames::deliver_ack(up_to)).await;
    }
    b.conn.send(&frames::ping(3)).await;
    b.conn.auto_pong = false;
    let wait = cx.answer_wait();
    let got = b
        .conn
        .find(wait, |f| match &f.body {
            Some(Body::Pong(p)) if p.nonce == 3 => Some(Ok(())),
            Some(Body::Error(e)) => Some(Err(e.clone())),
            _ => None,
        })
        .await;
    match got {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(fail(
            "CIM-8.3-5",
            "old DeliverAcks ignored without error",
            format!("Error {} {:?}", e.code, e.message),
        )),
        Err(event) => {
            Err(fail("CIM-8.3-5", "old DeliverAcks ignored; Pong for the Ping after them", event.describe()))
        }
    }
}

/// Acknowledges up to `last` and waits for it to take effect: a Pong after the DeliverAck,
/// then a second, since the spec does not bound when a server records an acknowledgement.
async fn acknowledge(cx: &Cx, session: &mut Session, last: u64) {
    session.conn.send(&frames::deliver_ack(last)).await;
    session.conn.send(&frames::ping(7)).await;
    let _ =
        session.conn.find(cx.answer_wait(), |f| matches!(f.body, Some(Body::Pong(_))).then_some(())).await;
    tokio::time::sleep(cx.wait(Duration::from_secs(1))).await;
}

async fn new_device(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 3).await?;
    // The phone is known from its Welcome on and reads the entries without acknowledging them.
    let mut phone = cx.open(&bob, "phone").await?;
    let (_, _, first) = resume_of(&phone);
    let last = expect_entries(cx, &mut phone, "CIM-8.2-1", first, &ids).await?;
    let mut laptop = cx.open(&bob, "laptop").await?;
    let (outcome, _, next) = resume_of(&laptop);
    check(
        "CIM-8.4-14",
        outcome == 1 && next == first,
        format!("FRESH with next_seq {first}: the phone has not acknowledged those entries"),
        || format!("outcome {outcome}, next_seq {next}"),
    )?;
    expect_entries(cx, &mut laptop, "CIM-8.4-14", first, &ids).await?;
    // Both acknowledge everything: a third device starts after it, with nothing to read.
    acknowledge(cx, &mut phone, last).await;
    acknowledge(cx, &mut laptop, last).await;
    let mut tablet = cx.open(&bob, "tablet").await?;
    let (outcome, _, next) = resume_of(&tablet);
    check(
        "CIM-8.4-14",
        outcome == 1 && next == last + 1,
        format!("FRESH with next_seq {}: every known device acknowledged up to {last}", last + 1),
        || format!("outcome {outcome}, next_seq {next}"),
    )?;
    expect_no_deliver(
        &mut tablet.conn,
        "CIM-8.4-14",
        "no entry every device acknowledged",
        cx.wait(Duration::from_secs(1)),
    )
    .await?;
    // The tablet is known from its Welcome: an entry it has not acknowledged waits for it, so a
    // fourth device gets it even once the phone and the laptop have acknowledged it.
    let carol = cx.user("carol").await?;
    let mut c = cx.open(&carol, "d1").await?;
    let id = cx.client_msg_id();
    let wait = cx.answer_wait();
    c.conn.send(&frames::send(&id, frames::to_user(&bob.id), "one more")).await;
    let one_more = expect_ack(&mut c.conn, "CIM-7.2-2", &id, wait).await?.message_id;
    for session in [&mut phone, &mut laptop] {
        let seq = expect_entries(cx, session, "CIM-8.2-4", last + 1, std::slice::from_ref(&one_more)).await?;
        acknowledge(cx, session, seq).await;
    }
    let watch = cx.open(&bob, "watch").await?;
    let (outcome, _, next) = resume_of(&watch);
    check(
        "CIM-8.4-15",
        outcome == 1 && next == last + 1,
        format!(
            "FRESH with next_seq {}: the tablet, known since its Welcome, has not acknowledged it",
            last + 1
        ),
        || format!("outcome {outcome}, next_seq {next}"),
    )
}

async fn acks_per_device(cx: &mut Cx) -> Result<(), Stop> {
    let (bob, ids) = fill_inbox(cx, 3).await?;
    // The laptop becomes known to the inbox: it sees the entries and acknowledges none.
    let mut laptop = cx.open(&bob, "laptop").await?;
    let (_, epoch, next) = resume_of(&laptop);
    expect_entries(cx, &mut laptop, "CIM-8.2-1", next, &ids).await?;
    drop(laptop);
    // The phone acknowledges them all.
    let mut phone = cx.open(&bob, "phone").await?;
    let last = expect_entries(cx, &mut phone, "CIM-8.2-1", next, &ids).await?;
    phone.conn.send(&frames::deliver_ack(last)).await;
    // A Ping after the DeliverAck is answered once the acknowledgement was processed.
    phone.conn.send(&frames::ping(1)).await;
    let wait = cx.answer_wait();
    let _ = phone.conn.find(wait, |f| matches!(f.body, Some(Body::Pong(_))).then_some(())).await;
    // The laptop resumes from before the entries: they are all still there for it.
    let login = cx.login(&bob, "laptop").await?;
    let mut again = cx.reopen(&login, "laptop", epoch, next - 1).await?;
    let (outcome, _, next2) = resume_of(&again);
    check(
        "CIM-8.3-7",
        outcome == 2 && next2 == next,
        format!(
            "RESUMED with next_seq {next}: the phone's acknowledgement removed nothing the laptop still needs"
        ),
        || format!("outcome {outcome}, next_seq {next2}"),
    )?;
    expect_entries(cx, &mut again, "CIM-8.3-6", next, &ids).await.map(drop)
}
