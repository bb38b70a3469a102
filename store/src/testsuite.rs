//! The backend test suite: what every `Store` and `Registry` must do, written against the
//! traits only. Each implementation runs it from its own tests:
//!
//! ```ignore
//! #[tokio::test]
//! async fn memory_store_passes_the_suite() {
//!     cim_store::testsuite::store_suite(|| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> }).await;
//! }
//! ```
//!
//! Every check starts from a fresh backend from `make`, so implementations that share a
//! server (Redis) must hand out an empty keyspace each time.
#![allow(clippy::unwrap_used, missing_docs)]

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use cim_core::wire::{self, recipient};

use crate::{
    Accepted, InboxLimits, NewMessage, RateCount, Registry, SessionRecord, Store, StoreError, UserRecord,
};

fn user(id: &str) -> UserRecord {
    UserRecord::new(id, id, Some("$argon2id$x".into()))
}

fn session(user: &str, id: &str, server: &str) -> SessionRecord {
    SessionRecord {
        session_id: id.into(),
        user_id: user.into(),
        device_id: format!("{id}-device"),
        server_id: server.into(),
        connected_at_ms: 1,
        expires_at_ms: 0,
    }
}

fn message(sender: &str, client_msg_id: &str, recipients: &[&str], text: &str) -> NewMessage {
    NewMessage {
        sender: sender.into(),
        client_msg_id: client_msg_id.into(),
        recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        to: wire::Recipient {
            kind: Some(recipient::Kind::UserId(recipients.first().copied().unwrap_or("").into())),
        },
        content_type: "text/plain".into(),
        body: Bytes::copy_from_slice(text.as_bytes()),
        message_id: id(&format!("{sender}-{client_msg_id}")),
        sent_at_ms: 42,
    }
}

/// The message id the suite gives `name`: a ULID of time 42 (the suite's `sent_at_ms`), as
/// the message path makes them, with bits of its own.
fn id(name: &str) -> String {
    // FNV-1a, 128 bits: different names, different ids.
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in name.bytes() {
        hash = (hash ^ u128::from(byte)).wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    cim_core::ulid::encode(42, hash)
}

/// Runs every store check, each on a fresh store from `make`.
pub async fn store_suite<F, Fut>(make: F)
where
    F: Fn(InboxLimits) -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let make = || make(InboxLimits::default());
    accounts(make().await).await;
    presence(make().await).await;
    presence_lapses_unless_refreshed(make().await).await;
    logins(make().await).await;
    inbox_append_read_and_dedupe(make().await).await;
    inbox_acks_trim_per_device(make().await).await;
    concurrent_accepts_keep_inboxes_contiguous(make().await).await;
    batches_keep_order_and_dedupe(make().await).await;
    groups(make().await).await;
    rate_counters(make().await).await;
}

/// The checks of inbox limits and retention, each on a fresh store from `make` with the
/// limits it needs.
pub async fn inbox_limits_suite<F, Fut>(make: F)
where
    F: Fn(InboxLimits) -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let limits = InboxLimits { max_entries: 4, max_entries_per_sender: 2, ..InboxLimits::default() };
    full_inboxes_refuse_senders_and_drop_nothing(make(limits).await).await;
    a_batch_fills_an_inbox_message_by_message(make(limits).await).await;
    let limits = InboxLimits { max_entries: 2, max_entries_per_sender: 2, retention_ms: 300 };
    entries_past_retention_leave_unread_and_free_room(make(limits).await).await;
}

/// A full inbox, in all or from one sender, refuses new messages and keeps every entry a
/// device has not acknowledged (spec CIM-8.3-7, CIM-8.3-10).
async fn full_inboxes_refuse_senders_and_drop_nothing(store: Arc<dyn Store>) {
    // The limits are 4 entries, 2 from one sender.
    for i in 0..2 {
        assert!(matches!(
            store.accept_message(message("spammer", &format!("s{i}"), &["bob"], "spam")).await,
            Ok(Accepted::Stored { .. })
        ));
    }
    let refused = store.accept_message(message("spammer", "s2", &["bob"], "spam")).await;
    assert_eq!(refused, Err(StoreError::InboxFull("bob".into())), "one sender holds at most its share");
    for i in 0..2 {
        assert!(matches!(
            store.accept_message(message("friend", &format!("f{i}"), &["bob"], "hi")).await,
            Ok(Accepted::Stored { .. })
        ));
    }
    let refused = store.accept_message(message("carol", "c0", &["bob"], "hello")).await;
    assert_eq!(refused, Err(StoreError::InboxFull("bob".into())), "the inbox holds at most 4");
    // A message for several inboxes is refused whole when one is full, and stored in none.
    let refused = store.accept_message(message("dave", "d0", &["alice", "bob"], "hi all")).await;
    assert_eq!(refused, Err(StoreError::InboxFull("bob".into())));
    assert!(store.read_inbox("alice", 0, 10).await.unwrap().is_empty(), "nothing stored for alice");
    // Nothing was dropped to make room: the four entries are all there, in order.
    let held: Vec<String> =
        store.read_inbox("bob", 0, 10).await.unwrap().into_iter().map(|d| d.message_id).collect();
    assert_eq!(held, [id("spammer-s0"), id("spammer-s1"), id("friend-f0"), id("friend-f1")]);
    // Once bob's device has read the spam, there is room, and the refused message was not
    // remembered as accepted: sent again with the same id, it is stored.
    store.ack_inbox("bob", "phone", 0).await.unwrap();
    let head = store.inbox_head("bob").await.unwrap();
    store.ack_inbox("bob", "phone", head.first_seq + 1).await.unwrap();
    assert!(matches!(
        store.accept_message(message("spammer", "s2", &["bob"], "spam")).await,
        Ok(Accepted::Stored { .. })
    ));
    assert!(matches!(
        store.accept_message(message("dave", "d0", &["alice", "bob"], "hi all")).await,
        Ok(Accepted::Stored { .. })
    ));
    assert_eq!(
        store.accept_message(message("carol", "c0", &["bob"], "hello")).await,
        Err(StoreError::InboxFull("bob".into())),
        "full again"
    );
}

/// A batch (a connection's Sends handed over together) meets a full inbox as the same
/// messages one by one would: those that fit are stored, the rest refused, in order.
async fn a_batch_fills_an_inbox_message_by_message(store: Arc<dyn Store>) {
    // The limits are 4 entries, 2 from one sender.
    let batch = (0..4).map(|i| message("spammer", &format!("s{i}"), &["bob"], "spam")).collect();
    let answers = store.accept_messages(batch).await;
    assert!(
        matches!(answers[0], Ok(Accepted::Stored { .. }))
            && matches!(answers[1], Ok(Accepted::Stored { .. }))
    );
    assert_eq!(
        answers[2..],
        [Err(StoreError::InboxFull("bob".into())), Err(StoreError::InboxFull("bob".into()))]
    );
    let batch = vec![
        message("friend", "f0", &["bob"], "hi"),
        message("spammer", "s0", &["bob"], "spam"),
        message("friend", "f1", &["alice", "bob"], "hi"),
        message("friend", "f2", &["alice", "bob"], "hi"),
        message("friend", "f3", &["alice"], "hi"),
    ];
    let answers = store.accept_messages(batch).await;
    assert!(matches!(answers[0], Ok(Accepted::Stored { .. })));
    assert!(matches!(answers[1], Ok(Accepted::Duplicate { .. })), "a duplicate whatever the inbox holds");
    assert!(matches!(answers[2], Ok(Accepted::Stored { .. })));
    assert_eq!(answers[3], Err(StoreError::InboxFull("bob".into())), "refused whole");
    assert!(matches!(answers[4], Ok(Accepted::Stored { .. })), "another inbox still has room");
    let held: Vec<String> =
        store.read_inbox("bob", 0, 10).await.unwrap().into_iter().map(|d| d.message_id).collect();
    assert_eq!(held, [id("spammer-s0"), id("spammer-s1"), id("friend-f0"), id("friend-f1")]);
    let alice: Vec<String> =
        store.read_inbox("alice", 0, 10).await.unwrap().into_iter().map(|d| d.message_id).collect();
    assert_eq!(alice, [id("friend-f1"), id("friend-f3")], "nothing of the refused message");
}

/// Entries older than the retention period leave the inbox unread, so a device that had not
/// acknowledged them resumes to a GAP, and their room is free again (spec CIM-8.3-7).
async fn entries_past_retention_leave_unread_and_free_room(store: Arc<dyn Store>) {
    // The limit is 2 entries, kept 300 ms.
    for i in 0..2 {
        store.accept_message(message("alice", &format!("old{i}"), &["bob"], "old")).await.unwrap();
    }
    let first = store.inbox_head("bob").await.unwrap().first_seq;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match store.accept_message(message("alice", "new", &["bob"], "new")).await {
            Ok(Accepted::Stored { .. }) => break,
            Err(StoreError::InboxFull(_)) => {}
            other => panic!("{other:?}"),
        }
        assert!(std::time::Instant::now() < deadline, "the expired entries never made room");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let left: Vec<String> =
        store.read_inbox("bob", 0, 10).await.unwrap().into_iter().map(|d| d.message_id).collect();
    assert_eq!(left, [id("alice-new")], "the expired entries are gone, unread");
    let head = store.inbox_head("bob").await.unwrap();
    assert!(head.first_seq > first + 1, "the oldest retained entry moved past them: a resume there is a GAP");
}

async fn rate_counters(store: Arc<dyn Store>) {
    assert_eq!(store.rate_count("login:alice").await.unwrap(), RateCount::default());
    for n in 1..=3 {
        let hit = store.rate_hit("login:alice", 60_000).await.unwrap();
        assert_eq!(hit.count, n);
        assert!(hit.resets_in_ms > 0 && hit.resets_in_ms <= 60_000, "{hit:?}");
    }
    assert_eq!(store.rate_count("login:alice").await.unwrap().count, 3);
    store.rate_undo("login:alice").await.unwrap();
    assert_eq!(store.rate_count("login:alice").await.unwrap().count, 2, "an attempt taken back");
    store.rate_undo("nothing-counted").await.unwrap();
    assert_eq!(store.rate_count("nothing-counted").await.unwrap().count, 0, "never below zero");
    assert_eq!(store.rate_count("login:bob").await.unwrap().count, 0, "counters are apart");
    // A window ends and the count starts over.
    store.rate_hit("short", 50).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while store.rate_count("short").await.unwrap().count > 0 {
        assert!(std::time::Instant::now() < deadline, "the window never ended");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(store.rate_hit("short", 50).await.unwrap().count, 1);
}

async fn accounts(store: Arc<dyn Store>) {
    store.health().await.unwrap();
    let alice = user("alice");
    store.create_user(alice.clone()).await.unwrap();
    store.create_user(user("alicia")).await.unwrap();
    store.create_user(user("bob")).await.unwrap();
    assert!(matches!(store.create_user(user("alice")).await, Err(StoreError::AlreadyExists(_))));
    assert_eq!(store.user("alice").await.unwrap(), Some(alice.clone()), "hash and generation kept");
    assert_eq!(store.user("nobody").await.unwrap(), None);
    // An account of a JWT login has no password, and stays without one.
    let app_user = UserRecord::new("app-7", "Seven", None);
    store.create_user(app_user.clone()).await.unwrap();
    assert_eq!(store.user("app-7").await.unwrap(), Some(app_user));
    assert_ne!(user("alice").generation, alice.generation, "each account its own generation");
    let names: Vec<String> =
        store.users_by_prefix("ali", 10).await.unwrap().into_iter().map(|u| u.user_name).collect();
    assert_eq!(names, ["alice", "alicia"]);
    assert_eq!(store.users_by_prefix("ali", 1).await.unwrap().len(), 1);
    assert!(store.users_by_prefix("zzz", 10).await.unwrap().is_empty());
}

async fn presence(store: Arc<dyn Store>) {
    for (u, s, srv) in
        [("alice", "s1", "srv-a"), ("alice", "s2", "srv-b"), ("bob", "s3", "srv-a"), ("carol", "s4", "srv-b")]
    {
        store.add_session(session(u, s, srv)).await.unwrap();
    }
    let alice: Vec<String> =
        store.sessions_of("alice").await.unwrap().into_iter().map(|s| s.session_id).collect();
    assert_eq!(alice, ["s1", "s2"], "oldest first");
    let page = store.online_users(None, 2).await.unwrap();
    assert_eq!(page.user_ids, ["alice", "bob"]);
    assert_eq!(page.total, 3);
    let next = store.online_users(page.next_after.as_deref(), 2).await.unwrap();
    assert_eq!(next.user_ids, ["carol"]);
    assert_eq!(next.next_after, None);
    store.remove_session("alice", "s1").await.unwrap();
    assert_eq!(store.sessions_of("alice").await.unwrap().len(), 1);
    assert_eq!(store.remove_server_sessions("srv-b").await.unwrap(), 2);
    assert!(store.sessions_of("alice").await.unwrap().is_empty());
    assert_eq!(store.online_users(None, 10).await.unwrap().user_ids, ["bob"]);
}

async fn presence_lapses_unless_refreshed(store: Arc<dyn Store>) {
    let now = crate::now_ms();
    let mut lapsing = session("dora", "d1", "srv-gone");
    lapsing.expires_at_ms = now + 60_000;
    store.add_session(lapsing.clone()).await.unwrap();
    let mut kept = session("eve", "e1", "srv-a");
    kept.expires_at_ms = now + 60_000;
    store.add_session(kept.clone()).await.unwrap();
    assert_eq!(store.online_users(None, 10).await.unwrap().user_ids, ["dora", "eve"]);
    // srv-a refreshes its session; srv-gone's record is left to lapse.
    kept.expires_at_ms = now + 120_000;
    store.refresh_sessions(vec![kept]).await.unwrap();
    lapsing.expires_at_ms = now.saturating_sub(1);
    store.add_session(lapsing).await.unwrap();
    assert!(store.sessions_of("dora").await.unwrap().is_empty(), "a lapsed record is not a session");
    assert_eq!(store.online_users(None, 10).await.unwrap().user_ids, ["eve"]);
    let eve = store.sessions_of("eve").await.unwrap();
    assert_eq!(eve.first().map(|s| s.expires_at_ms), Some(now + 120_000));
}

async fn logins(store: Arc<dyn Store>) {
    assert!(!store.is_login_ended("l1").await.unwrap());
    store.end_login("l1", u64::MAX).await.unwrap();
    assert!(store.is_login_ended("l1").await.unwrap());
    assert!(!store.is_login_ended("l2").await.unwrap());
    // Logout of all devices: tokens issued until then are refused, later ones are not.
    store.create_user(user("alice")).await.unwrap();
    assert!(!store.user("alice").await.unwrap().unwrap().logged_out_since(1));
    store.log_out_everywhere("alice", 1_000).await.unwrap();
    store.log_out_everywhere("alice", 500).await.unwrap();
    let alice = store.user("alice").await.unwrap().unwrap();
    assert!(alice.logged_out_since(1_000) && !alice.logged_out_since(1_001), "never moves back");
    store.log_out_everywhere("nobody", 1_000).await.unwrap();
    assert_eq!(store.user("nobody").await.unwrap(), None, "no account made up");
}

async fn inbox_append_read_and_dedupe(store: Arc<dyn Store>) {
    let head = store.inbox_head("bob").await.unwrap();
    assert_ne!(head.epoch, 0, "epochs are never 0");
    assert_eq!(head.first_seq, head.next_seq, "a new inbox is empty");
    let first = head.next_seq;

    let stored = store.accept_message(message("alice", "c1", &["bob", "carol"], "hi")).await.unwrap();
    let Accepted::Stored { entries } = stored else { panic!("stored") };
    assert_eq!(entries[0], ("bob".to_owned(), first));
    store.accept_message(message("alice", "c2", &["bob"], "again")).await.unwrap();
    let again = store.accept_message(message("alice", "c1", &["bob", "carol"], "hi")).await.unwrap();
    assert_eq!(again, Accepted::Duplicate { message_id: id("alice-c1"), sent_at_ms: 42 });
    // The record can be read without sending: a resend refused for another reason is still
    // answered as the duplicate it is (spec CIM-7.1-12).
    assert_eq!(store.accepted_before("alice", "c1").await.unwrap(), Some((id("alice-c1"), 42)));
    assert_eq!(store.accepted_before("alice", "c9").await.unwrap(), None);
    assert_eq!(store.accepted_before("carol", "c1").await.unwrap(), None, "per sender");
    // Dedupe is per sender: another user may reuse the id.
    let other = store.accept_message(message("carol", "c1", &["bob"], "from carol")).await.unwrap();
    assert!(matches!(other, Accepted::Stored { .. }));

    let entries = store.read_inbox("bob", first, 10).await.unwrap();
    let texts: Vec<&[u8]> = entries.iter().map(|d| d.body.as_ref()).collect();
    assert_eq!(texts, [&b"hi"[..], b"again", b"from carol"]);
    let seqs: Vec<u64> = entries.iter().map(|d| d.seq).collect();
    assert_eq!(seqs, [first, first + 1, first + 2], "contiguous");
    assert_eq!(entries[0].from_user_id, "alice");
    assert_eq!(entries[0].message_id, id("alice-c1"));
    assert_eq!(store.read_inbox("bob", first + 1, 1).await.unwrap()[0].body.as_ref(), b"again");
    assert_eq!(store.inbox_head("bob").await.unwrap().next_seq, first + 3);
    assert_eq!(store.read_inbox("carol", 1, 10).await.unwrap().len(), 1);
    // A broadcast keeps only the dedupe record.
    let live = store.accept_message(message("alice", "b1", &[], "all")).await.unwrap();
    assert_eq!(live, Accepted::Stored { entries: vec![] });
    assert!(matches!(
        store.accept_message(message("alice", "b1", &[], "all")).await.unwrap(),
        Accepted::Duplicate { .. }
    ));
}

async fn inbox_acks_trim_per_device(store: Arc<dyn Store>) {
    let first = store.inbox_head("bob").await.unwrap().next_seq;
    for i in 0..4 {
        store.accept_message(message("alice", &format!("m{i}"), &["bob"], "x")).await.unwrap();
    }
    store.ack_inbox("bob", "phone", first - 1).await.unwrap();
    store.ack_inbox("bob", "laptop", first - 1).await.unwrap();
    store.ack_inbox("bob", "phone", first + 3).await.unwrap();
    assert_eq!(store.inbox_head("bob").await.unwrap().first_seq, first, "the laptop has not read anything");
    store.ack_inbox("bob", "laptop", first + 1).await.unwrap();
    store.ack_inbox("bob", "phone", first).await.unwrap(); // never moves back
    let head = store.inbox_head("bob").await.unwrap();
    assert_eq!(head.first_seq, first + 2, "entries both devices acked are trimmed");
    let left: Vec<u64> = store.read_inbox("bob", 0, 10).await.unwrap().iter().map(|d| d.seq).collect();
    assert_eq!(left, [first + 2, first + 3]);
}

/// Accepts in flight together, as a server's connections make them, number each inbox without
/// gaps or repeats, and a client message id sent twice at once is stored once.
async fn concurrent_accepts_keep_inboxes_contiguous(store: Arc<dyn Store>) {
    let bob = store.inbox_head("bob").await.unwrap().next_seq;
    let carol = store.inbox_head("carol").await.unwrap().next_seq;
    // Ten senders with 20 ids each; sender s0 sends each of its ids twice, with two message ids.
    let mut sends = Vec::new();
    for sender in 0..10 {
        for n in 0..20 {
            let copies = if sender == 0 { 2 } else { 1 };
            for copy in 0..copies {
                let mut message = message(&format!("s{sender}"), &format!("c{n}"), &["bob", "carol"], "x");
                message.message_id = id(&format!("s{sender}-c{n}-{copy}"));
                sends.push(message);
            }
        }
    }
    let answers = futures_util::future::join_all(sends.into_iter().map(|message| {
        let store = store.clone();
        async move { (message.message_id.clone(), store.accept_message(message).await.unwrap()) }
    }))
    .await;
    let (mut bob_seqs, mut carol_seqs, mut stored_ids, mut duplicate_ids) = (vec![], vec![], vec![], vec![]);
    for (message_id, answer) in answers {
        match answer {
            Accepted::Stored { entries } => {
                assert_eq!(entries.len(), 2, "{message_id}: both inboxes");
                assert_eq!((entries[0].0.as_str(), entries[1].0.as_str()), ("bob", "carol"));
                bob_seqs.push(entries[0].1);
                carol_seqs.push(entries[1].1);
                stored_ids.push(message_id);
            }
            Accepted::Duplicate { message_id: original, .. } => {
                assert_ne!(original, message_id, "a duplicate names the stored copy");
                duplicate_ids.push(original);
            }
        }
    }
    assert_eq!((stored_ids.len(), duplicate_ids.len()), (200, 20));
    for original in &duplicate_ids {
        assert!(stored_ids.contains(original), "{original} was stored");
    }
    bob_seqs.sort_unstable();
    carol_seqs.sort_unstable();
    assert_eq!(bob_seqs, (bob..bob + 200).collect::<Vec<_>>(), "bob's inbox has no gap or repeat");
    assert_eq!(carol_seqs, (carol..carol + 200).collect::<Vec<_>>(), "carol's inbox has no gap or repeat");
    let read: Vec<u64> = store.read_inbox("bob", bob, 500).await.unwrap().iter().map(|d| d.seq).collect();
    assert_eq!(read, (bob..bob + 200).collect::<Vec<_>>());
}

/// A connection's Sends handed over together are stored in order, one answer each; a
/// client message id repeated in the batch, or sent before, is a duplicate; batches of
/// several connections at once keep inboxes contiguous (spec CIM-9.2-1, CIM-7.1-12).
async fn batches_keep_order_and_dedupe(store: Arc<dyn Store>) {
    let bob = store.inbox_head("bob").await.unwrap().next_seq;
    store.accept_message(message("alice", "c0", &["bob"], "before")).await.unwrap();
    let batch = vec![
        message("alice", "c1", &["bob"], "one"),
        message("alice", "c0", &["bob"], "before"),
        message("alice", "c2", &["bob", "carol"], "two"),
        message("alice", "c1", &["bob"], "one"),
        message("alice", "b1", &[], "live"),
        message("alice", "c3", &["bob"], "three"),
    ];
    let answers: Vec<Accepted> = store.accept_messages(batch).await.into_iter().map(Result::unwrap).collect();
    let carol = match &answers[2] {
        Accepted::Stored { entries } => entries[1].1,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        answers,
        [
            Accepted::Stored { entries: vec![("bob".into(), bob + 1)] },
            Accepted::Duplicate { message_id: id("alice-c0"), sent_at_ms: 42 },
            Accepted::Stored { entries: vec![("bob".into(), bob + 2), ("carol".into(), carol)] },
            Accepted::Duplicate { message_id: id("alice-c1"), sent_at_ms: 42 },
            Accepted::Stored { entries: vec![] },
            Accepted::Stored { entries: vec![("bob".into(), bob + 3)] },
        ]
    );
    let texts: Vec<Vec<u8>> =
        store.read_inbox("bob", bob, 10).await.unwrap().into_iter().map(|d| d.body.to_vec()).collect();
    assert_eq!(texts, [&b"before"[..], b"one", b"two", b"three"]);
    // Ten connections' batches at once, 20 messages each.
    let start = bob + 4;
    let batches = (0..10).map(|sender| {
        let store = store.clone();
        let batch =
            (0..20).map(|n| message(&format!("s{sender}"), &format!("c{n}"), &["bob"], "x")).collect();
        async move { store.accept_messages(batch).await }
    });
    let mut seqs = Vec::new();
    for answers in futures_util::future::join_all(batches).await {
        let mine: Vec<u64> = answers
            .into_iter()
            .map(|answer| match answer {
                Ok(Accepted::Stored { entries }) => entries[0].1,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "one connection's messages in order: {mine:?}");
        seqs.extend(mine);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (start..start + 200).collect::<Vec<_>>(), "no gap or repeat");
}

async fn groups(store: Arc<dyn Store>) {
    for u in ["alice", "bob", "carol"] {
        store.create_user(user(u)).await.unwrap();
    }
    let group = store.create_group("team", "alice", &["bob".into()]).await.unwrap();
    assert_eq!(group.members, ["alice", "bob"]);
    assert!(matches!(store.create_group("team", "bob", &[]).await, Err(StoreError::AlreadyExists(_))));
    assert!(matches!(
        store.create_group("x", "alice", &["nobody".into()]).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.join_group("team", "carol").await.unwrap().members, ["alice", "bob", "carol"]);
    assert_eq!(store.join_group("team", "carol").await.unwrap().members.len(), 3, "idempotent");
    assert_eq!(store.leave_group("team", "bob").await.unwrap().members, ["alice", "carol"]);
    assert_eq!(store.leave_group("team", "bob").await.unwrap().members.len(), 2, "idempotent");
    assert!(matches!(store.join_group("nope", "bob").await, Err(StoreError::NotFound(_))));
    assert_eq!(store.group("team").await.unwrap().map(|g| g.members.len()), Some(2));
    assert_eq!(store.group("nope").await.unwrap(), None);
    store.create_group("book-club", "carol", &[]).await.unwrap();
    let carols: Vec<String> =
        store.groups_of("carol").await.unwrap().into_iter().map(|g| g.group_id).collect();
    assert_eq!(carols, ["book-club", "team"]);
}

/// Runs every registry check on a fresh registry from `make`.
pub async fn registry_suite<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Registry>>,
{
    let registry = make().await;
    let mut watch = registry.watch();
    let server = |id: &str, connections: u64| wire::ServerInfo {
        server_id: id.into(),
        tcp_endpoint: format!("127.0.0.1:{}", 9000 + connections),
        ws_url: String::new(),
        tcp_tls: false,
        internal_endpoint: "127.0.0.1:9002".into(),
        connections,
        draining: false,
    };
    registry.register(server("b", 1)).await.unwrap();
    registry.register(server("a", 2)).await.unwrap();
    assert!(registry.register(server("a", 3)).await.is_err(), "ids are unique");
    let ids: Vec<String> = registry.servers().await.unwrap().into_iter().map(|s| s.server_id).collect();
    assert_eq!(ids, ["a", "b"]);
    registry.update(server("a", 7)).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            if watch.borrow_and_update().iter().any(|s| s.server_id == "a" && s.connections == 7) {
                break;
            }
            watch.changed().await.unwrap();
        }
    })
    .await
    .expect("the watch sees the update");
    registry.deregister("b").await.unwrap();
    let ids: Vec<String> = registry.servers().await.unwrap().into_iter().map(|s| s.server_id).collect();
    assert_eq!(ids, ["a"]);
}

/// A real `redis-server` on a free port, stopped on drop. Needs Debian's `redis-server`
/// (the README test command installs it).
pub struct RedisServer {
    child: Option<std::process::Child>,
    /// Where a durable server keeps its append-only file.
    dir: Option<std::path::PathBuf>,
    /// `redis://127.0.0.1:<port>`.
    pub url: String,
    /// The port.
    pub port: u16,
}

impl RedisServer {
    /// Starts one without persistence and waits until it accepts connections.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts one without persistence on `port`.
    pub fn start_on(port: u16) -> Self {
        let mut server = Self { child: None, dir: None, url: format!("redis://127.0.0.1:{port}"), port };
        server.restart();
        server
    }

    /// Starts one that writes every change to an append-only file before answering, so a
    /// [`stop`](Self::stop) (even `kill -9`) and [`restart`](Self::restart) lose nothing.
    pub fn start_durable() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("cim-redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("Redis data dir");
        let mut server = Self { child: None, dir: Some(dir), url: format!("redis://127.0.0.1:{port}"), port };
        server.restart();
        server
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    /// Freezes the server (`SIGSTOP`): connections stay open, calls go unanswered until
    /// [`thaw`](Self::thaw), and are carried out then.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (`SIGCONT`).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(pid) = self.pid() {
            let status = std::process::Command::new("kill").args([signal, &pid.to_string()]).status();
            assert!(status.is_ok_and(|s| s.success()), "kill {signal} {pid}");
        }
    }

    /// Kills the server (`SIGKILL`) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (with its data, if durable) and waits until
    /// it accepts connections.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let mut command = std::process::Command::new("redis-server");
        command.args(["--port", &port, "--bind", "127.0.0.1", "--save", ""]);
        match &self.dir {
            Some(dir) => {
                command.args(["--appendonly", "yes", "--appendfsync", "always", "--dir"]).arg(dir);
            }
            None => {
                command.args(["--appendonly", "no"]);
            }
        }
        let child = command
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server)");
        self.child = Some(child);
        wait_for_port(self.port, "redis-server", std::time::Duration::from_secs(10));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A real Redis Cluster of three masters (Debian's `redis-server` and `redis-cli`) on free
/// ports, stopped on drop.
pub struct RedisCluster {
    children: Vec<std::process::Child>,
    dir: std::path::PathBuf,
    /// Every node's `redis://127.0.0.1:<port>`, separated by commas.
    pub url: String,
    /// Every node's port, in the order of `url`.
    pub ports: Vec<u16>,
}

impl RedisCluster {
    /// Starts three nodes, joins them into a cluster covering every slot, and waits until
    /// the cluster reports itself ok.
    pub fn start() -> Self {
        // A node also listens on its port + 10000 for the cluster bus.
        let ports: Vec<u16> = (0..3)
            .map(|_| {
                loop {
                    let port = free_port();
                    if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
                        break port;
                    }
                }
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("cim-redis-cluster-{}-{}", std::process::id(), ports[0]));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("Redis Cluster dir");
        let mut cluster = Self { children: Vec::new(), dir, url: String::new(), ports: ports.clone() };
        for port in &ports {
            let child = std::process::Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf"), "--dir"])
                .arg(&cluster.dir)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("redis-server runs (apt-get install redis-server)");
            cluster.children.push(child);
            wait_for_port(*port, "redis-server (cluster node)", std::time::Duration::from_secs(10));
        }
        let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = std::process::Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("redis-cli runs (it comes with redis-server)");
        assert!(created.success(), "redis-cli --cluster create failed");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        for port in &ports {
            loop {
                let info = std::process::Command::new("redis-cli")
                    .args(["-p", &port.to_string(), "cluster", "info"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                if info.contains("cluster_state:ok") {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "the Redis Cluster did not become ok");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        cluster.url = ports.iter().map(|p| format!("redis://127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
        cluster
    }

    /// Every node's process id, in the order of `ports`.
    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().map(std::process::Child::id).collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until something accepts connections on `port`; panics after `limit`.
fn wait_for_port(port: u16, what: &str, limit: std::time::Duration) {
    let deadline = std::time::Instant::now() + limit;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "{what} did not start on port {port}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A port nothing listens on right now, for a process the test starts (and may restart).
///
/// It is taken below the kernel's ephemeral range: a port the kernel hands out for `bind(0)`
/// can meanwhile become the local end of some outgoing connection, and a server started on
/// it a moment later fails with "address in use". Each test process starts at its own place
/// in the range and never hands out a port twice.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u32, ephemeral_start.clamp(12_000, 65_535));
    let span = high - low;
    let start = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let port = low + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let Ok(port) = u16::try_from(port) else { continue };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below {high}");
}

/// A real ZooKeeper (Debian's `zookeeper` package) on a free port, stopped on drop.
pub struct ZooKeeperServer {
    child: Option<std::process::Child>,
    dir: std::path::PathBuf,
    /// `127.0.0.1:<port>`.
    pub hosts: String,
    /// The port.
    pub port: u16,
}

impl ZooKeeperServer {
    /// Starts one and waits until it accepts connections.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts one on `port`, with fresh data.
    pub fn start_on(port: u16) -> Self {
        let dir = std::env::temp_dir().join(format!("cim-zk-{}-{port}", std::process::id()));
        let mut server = Self { child: None, dir, hosts: format!("127.0.0.1:{port}"), port };
        server.wipe();
        server.restart();
        server
    }

    /// Kills the server and waits for it to exit; its data stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server and forgets its data: clients that come back find their sessions
    /// expired.
    pub fn wipe(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
        std::fs::create_dir_all(self.dir.join("data")).expect("ZooKeeper data dir");
    }

    /// Starts the server again on the same port, with the data it had.
    pub fn restart(&mut self) {
        self.stop();
        let config = self.dir.join("zoo.cfg");
        let text = format!(
            "tickTime=500\ndataDir={}\nclientPort={}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxSessionTimeout=10000\n",
            self.dir.join("data").display(),
            self.port,
        );
        std::fs::write(&config, text).expect("ZooKeeper config");
        let child = std::process::Command::new("java")
            .args([
                "-cp",
                "/etc/zookeeper/conf:/usr/share/java/*",
                "org.apache.zookeeper.server.ZooKeeperServerMain",
            ])
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("java runs ZooKeeper (apt-get install zookeeper)");
        self.child = Some(child);
        wait_for_port(self.port, "ZooKeeper", std::time::Duration::from_secs(30));
    }
}

impl Drop for ZooKeeperServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
