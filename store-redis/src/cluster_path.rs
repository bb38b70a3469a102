//! The Redis Cluster message path: a sender's dedupe records and a recipient's inbox live in
//! different slots, so a message is accepted in steps, each one script call per slot for all
//! the messages a connection handed over together (not one per message):
//!
//! 1. **room**, read only, per recipient: how many of the batch's entries for it fit. A
//!    message refused for a full inbox leaves no dedupe record, unless it was accepted
//!    before, which makes it a duplicate whatever the inbox holds;
//! 2. **reserve**, per sender: the dedupe records, in order, and shared bodies;
//! 3. **append**, per recipient: its entries, in order. `appended` marks what was appended,
//!    so that a retry of a send interrupted between the steps appends what is missing and
//!    nothing twice;
//! 4. **complete**, per sender, in the background once every append of a send is done: the
//!    send is no longer pending, and unless a retry came meanwhile its markers go (a marker
//!    is needed only while a retry may find the send pending). A retry that finds its send
//!    complete is a plain duplicate and appends nothing; one that finds it pending appends
//!    again, with the markers' help. Markers left by an interrupted send lapse after a day.
//!
//! Order holds where the spec needs it (CIM-9.2-1): one call appends a recipient's entries
//! in the order of the Sends.

use std::collections::HashMap;
use std::hash::Hash;

use futures_util::future::join_all;

use super::dedupe::Day;
use super::{APPENDED_MS, Entry, RedisStore, StoredMessage, duplicate, lua, outcome_unknown, unavailable};
use cim_store::{Accepted, NewMessage, StoreError, now_ms};

/// Where one message is on its way through the steps.
enum Progress {
    /// Answered (refused, or a failed step).
    Done(Result<Accepted, StoreError>),
    /// Waiting for a step; `original` is the first acceptance of a duplicate.
    Going { message: StoredMessage, original: Option<(String, u64)> },
}

impl RedisStore {
    /// Accepts a connection's messages, in order, over a Redis Cluster.
    pub(crate) async fn accept_on_cluster(&self, news: Vec<NewMessage>) -> Vec<Result<Accepted, StoreError>> {
        let day = Day::at(now_ms());
        let mut progress: Vec<Progress> = news
            .iter()
            .map(|new| match self.stored(new.clone()) {
                Ok(message) => Progress::Going { message, original: None },
                Err(error) => Progress::Done(Err(error)),
            })
            .collect();
        self.refuse_without_room(&mut progress, &day).await;
        self.reserve(&mut progress, &day).await;
        // A duplicate may be the retry of a send whose appends a crash interrupted: append
        // again under the original id and time (what the sender was told); appends already
        // done are recognised.
        for (slot, new) in progress.iter_mut().zip(news) {
            if let Progress::Going { message, original: Some((message_id, sent_at_ms)) } = slot {
                let original = NewMessage { message_id: message_id.clone(), sent_at_ms: *sent_at_ms, ..new };
                match self.stored(original) {
                    Ok(stored) => *message = stored,
                    Err(error) => *slot = Progress::Done(Err(error)),
                }
            }
        }
        self.append(progress).await
    }

    /// Step 1: answers the messages some recipient's inbox has no room for.
    async fn refuse_without_room(&self, progress: &mut [Progress], day: &Day) {
        // The entries wanted per (recipient, sender), and each message's pairs in the order
        // of its recipients.
        let mut wanted = Groups::new();
        let mut pairs: Vec<Vec<usize>> = vec![Vec::new(); progress.len()];
        for (i, slot) in progress.iter().enumerate() {
            if let Progress::Going { message, .. } = slot {
                for recipient in &message.recipients {
                    pairs[i].push(wanted.add((recipient.clone(), message.sender.clone()), i));
                }
            }
        }
        let wanted = wanted.into_vec();
        if wanted.is_empty() {
            return;
        }
        let now = now_ms();
        let rooms = wanted.iter().map(|((recipient, sender), messages)| {
            let (inbox, senders) = (self.user_key(recipient, "inbox"), self.user_key(recipient, "senders"));
            let mut command = lua::evalsha(&self.scripts.room, &[&inbox, &senders], 6, sender.len() + 64);
            command
                .arg(sender)
                .arg(self.limits.retention_ms)
                .arg(self.limits.max_entries)
                .arg(self.limits.max_entries_per_sender)
                .arg(now)
                .arg(messages.len());
            let mut conn = self.conn();
            async move { lua::run::<u64>(&self.scripts.room, &command, &mut conn).await }
        });
        let mut left: Vec<u64> = match futures_util::future::try_join_all(rooms).await {
            Ok(rooms) => rooms,
            Err(error) => {
                let error = unavailable(error);
                for slot in progress.iter_mut() {
                    if matches!(slot, Progress::Going { .. }) {
                        *slot = Progress::Done(Err(error.clone()));
                    }
                }
                return;
            }
        };
        for (slot, pairs) in progress.iter_mut().zip(pairs) {
            let Progress::Going { message, .. } = slot else { continue };
            let Some(full) =
                pairs.iter().find(|&&pair| left[pair] == 0).map(|&pair| wanted[pair].0.0.clone())
            else {
                for pair in pairs {
                    left[pair] -= 1;
                }
                continue;
            };
            *slot = Progress::Done(match self.seen(&message.sender, &message.digest, day).await {
                Ok(Some(seen)) => Ok(seen),
                Ok(None) => Err(StoreError::InboxFull(full)),
                Err(error) => Err(error),
            });
        }
    }

    /// Step 2: the dedupe records, one call per sender; marks the duplicates.
    async fn reserve(&self, progress: &mut [Progress], day: &Day) {
        let mut by_sender = Groups::new();
        for (i, slot) in progress.iter().enumerate() {
            if let Progress::Going { message, .. } = slot {
                by_sender.add(message.sender.clone(), i);
            }
        }
        let by_sender = by_sender.into_vec();
        let calls = by_sender.iter().map(|(sender, indexes)| {
            let (dedupe, pending) = (self.user_key(sender, "dedupe"), self.user_key(sender, "pending"));
            let bytes: usize =
                indexes.iter().map(|&i| going(&progress[i]).map_or(0, StoredMessage::size)).sum();
            let mut command =
                lua::evalsha(&self.scripts.reserve, &[&dedupe, &pending], 6 + 4 * indexes.len(), bytes);
            command
                .arg(day.number)
                .arg(&day.hex)
                .arg(day.parity)
                .arg(day.previous_parity)
                .arg(day.expire_at_ms)
                .arg(self.limits.retention_ms);
            for message in indexes.iter().filter_map(|&i| going(&progress[i])) {
                let (body_key, body) = match &message.entry {
                    Entry::Shared { key, body } => (key.as_bytes(), body.as_slice()),
                    _ => (&b""[..], &b""[..]),
                };
                command.arg(&message.digest[..]).arg(&message.id_bytes[..]).arg(body_key).arg(body);
            }
            let mut conn = self.conn();
            async move { lua::run::<Vec<redis::Value>>(&self.scripts.reserve, &command, &mut conn).await }
        });
        let answers = join_all(calls).await;
        for ((_, indexes), answer) in by_sender.iter().zip(answers) {
            let results = match answer {
                Ok(results) if results.len() == indexes.len() => results,
                Ok(_) => {
                    let error = StoreError::Unavailable("unexpected answer from the reserve script".into());
                    finish_all(progress, indexes, &Err(error));
                    continue;
                }
                Err(error) => {
                    finish_all(progress, indexes, &Err(outcome_unknown(error)));
                    continue;
                }
            };
            for (&i, result) in indexes.iter().zip(results) {
                let Progress::Going { original, .. } = &mut progress[i] else { continue };
                let parts = match result {
                    redis::Value::Array(parts) => parts,
                    _ => Vec::new(),
                };
                match parts.first() {
                    Some(redis::Value::Int(1)) => {}
                    Some(redis::Value::Int(0)) => match duplicate(parts.get(1)) {
                        // The first try may not have appended everywhere: append again.
                        Ok(Accepted::Duplicate { message_id, sent_at_ms })
                            if matches!(parts.get(2), Some(redis::Value::Int(1))) =>
                        {
                            *original = Some((message_id, sent_at_ms));
                        }
                        // The first try completed: nothing to append.
                        answer => progress[i] = Progress::Done(answer),
                    },
                    _ => {
                        let error =
                            StoreError::Unavailable("unexpected answer from the reserve script".into());
                        progress[i] = Progress::Done(Err(error));
                    }
                }
            }
        }
    }

    /// Step 3: the entries, one call per recipient; the answers in order.
    async fn append(&self, progress: Vec<Progress>) -> Vec<Result<Accepted, StoreError>> {
        // Per recipient, the messages for it in order; per message, its marker and time.
        let mut by_recipient = Groups::new();
        let mut markers: Vec<Option<(String, u64)>> = Vec::with_capacity(progress.len());
        for (i, slot) in progress.iter().enumerate() {
            markers.push(match slot {
                Progress::Going { message, original } => {
                    for recipient in &message.recipients {
                        by_recipient.add(recipient.clone(), i);
                    }
                    let (message_id, sent_at_ms) = match original {
                        Some((id, at)) => (id.clone(), *at),
                        None => cim_core::ulid::from_bytes(message.id_bytes),
                    };
                    Some((format!("{message_id}|{}", message.sender), sent_at_ms))
                }
                Progress::Done(_) => None,
            });
        }
        let by_recipient = by_recipient.into_vec();
        let epoch = Self::new_epoch();
        let now = now_ms();
        let calls = by_recipient.iter().map(|(recipient, indexes)| {
            let keys = ["inbox", "meta", "senders", "appended"].map(|kind| self.user_key(recipient, kind));
            let messages: Vec<(&StoredMessage, &(String, u64))> =
                indexes.iter().filter_map(|&i| Some((going(&progress[i])?, markers[i].as_ref()?))).collect();
            let bytes: usize =
                messages.iter().map(|(m, (member, _))| m.entry.payload().len() + member.len()).sum();
            let mut command = lua::evalsha(
                &self.scripts.append,
                &[&keys[0], &keys[1], &keys[2], &keys[3]],
                4 + 5 * messages.len(),
                bytes,
            );
            command.arg(epoch).arg(APPENDED_MS).arg(self.limits.max_entries_per_sender).arg(now);
            for (message, (member, sent_at_ms)) in &messages {
                command
                    .arg(member)
                    .arg(*sent_at_ms)
                    .arg(&message.sender)
                    .arg(message.entry.kind())
                    .arg(message.entry.payload());
            }
            let mut conn = self.conn();
            async move { lua::run::<Vec<u64>>(&self.scripts.append, &command, &mut conn).await }
        });
        let answers = join_all(calls).await;
        // Each message's seqs, or the error of a recipient's call.
        let mut seqs: HashMap<(usize, &str), Result<u64, StoreError>> = HashMap::new();
        for ((recipient, indexes), answer) in by_recipient.iter().zip(answers) {
            let answer = match answer {
                Ok(found) if found.len() == indexes.len() => Ok(found),
                Ok(_) => Err(StoreError::Unavailable("unexpected answer from the append script".into())),
                Err(error) => Err(outcome_unknown(error)),
            };
            match answer {
                Ok(found) => {
                    for (&i, seq) in indexes.iter().zip(found) {
                        seqs.insert((i, recipient.as_str()), Ok(seq));
                    }
                }
                Err(error) => {
                    for &i in indexes {
                        seqs.insert((i, recipient.as_str()), Err(error.clone()));
                    }
                }
            }
        }
        let mut answers = Vec::with_capacity(progress.len());
        // Sends whose every append is done, with their marker if this was their first try.
        let mut completed: Vec<(&StoredMessage, Option<&str>)> = Vec::new();
        for (i, slot) in progress.iter().enumerate() {
            answers.push(match slot {
                Progress::Done(answer) => answer.clone(),
                Progress::Going { message, original } => {
                    let entries: Result<Vec<(String, u64)>, StoreError> = message
                        .recipients
                        .iter()
                        .map(|r| {
                            let seq = seqs.get(&(i, r.as_str())).cloned().unwrap_or(Ok(0));
                            seq.map(|seq| (r.clone(), seq))
                        })
                        .collect();
                    if entries.is_ok() {
                        let first_try = original.is_none();
                        let marker =
                            markers[i].as_ref().filter(|_| first_try).map(|(member, _)| member.as_str());
                        completed.push((message, marker));
                    }
                    match (entries, original) {
                        (Err(error), _) => Err(error),
                        (Ok(_), Some((message_id, sent_at_ms))) => Ok(Accepted::Duplicate {
                            message_id: message_id.clone(),
                            sent_at_ms: *sent_at_ms,
                        }),
                        // Seq 0: appended by an earlier try; nothing to push (the entry is in
                        // the inbox, or already acknowledged).
                        (Ok(entries), None) => Ok(Accepted::Stored {
                            entries: entries.into_iter().filter(|(_, seq)| *seq > 0).collect(),
                        }),
                    }
                }
            });
        }
        self.complete_in_background(&completed);
        answers
    }

    /// Step 4, without holding up the answers: the sends are no longer pending, and the
    /// markers of those no retry touched go. If this never runs (a crash), the sends stay
    /// pending and their markers stay for a day: a retry then appends what is missing.
    fn complete_in_background(&self, completed: &[(&StoredMessage, Option<&str>)]) {
        let mut by_sender = Groups::new();
        for &(message, marker) in completed {
            by_sender.add(message.sender.as_str(), (message, marker));
        }
        for (sender, sends) in by_sender.into_vec() {
            for sends in sends.chunks(COMPLETE_CHUNK) {
                let pending = self.user_key(sender, "pending");
                let mut command =
                    lua::evalsha(&self.scripts.complete, &[&pending], sends.len(), 16 * sends.len());
                // Per send, its marker and the recipients' marker sets (none for a retry:
                // its markers may serve yet another try, and lapse by themselves).
                let mut markers: Vec<(String, Vec<String>)> = Vec::with_capacity(sends.len());
                for (message, marker) in sends {
                    command.arg(&message.id_bytes[..]);
                    markers.push(match marker {
                        Some(member) => {
                            let keys =
                                message.recipients.iter().map(|r| self.user_key(r, "appended")).collect();
                            ((*member).to_owned(), keys)
                        }
                        None => (String::new(), Vec::new()),
                    });
                }
                let script = self.scripts.complete.clone();
                let conn = self.conn();
                tokio::spawn(drop_markers(script, command, conn, markers));
            }
        }
    }
}

/// Sends completed with one call at most.
const COMPLETE_CHUNK: usize = 500;

/// Runs `complete` (a COMPLETE call), then removes the markers of the sends it found clean.
async fn drop_markers(
    script: redis::Script,
    complete: redis::Cmd,
    mut conn: super::Connection,
    markers: Vec<(String, Vec<String>)>,
) {
    let clean = match lua::run::<Vec<u64>>(&script, &complete, &mut conn).await {
        Ok(clean) => clean,
        Err(error) => {
            tracing::debug!("completing sends: {error}");
            return;
        }
    };
    // Per marker set, the members to remove.
    let mut removals = Groups::new();
    for ((member, keys), clean) in markers.into_iter().zip(clean) {
        if clean != 1 {
            continue;
        }
        for key in keys {
            removals.add(key, member.clone());
        }
    }
    let calls = removals.into_vec().into_iter().map(|(key, members)| {
        let mut conn = conn.clone();
        async move { redis::cmd("ZREM").arg(key).arg(members).query_async::<()>(&mut conn).await }
    });
    for result in join_all(calls).await {
        if let Err(error) = result {
            tracing::debug!("dropping append markers: {error}");
        }
    }
}

/// Items grouped by key: the groups in the order their keys first came, each group's items
/// in the order they came.
struct Groups<K, T> {
    groups: Vec<(K, Vec<T>)>,
    index: HashMap<K, usize>,
}

impl<K: Eq + Hash + Clone, T> Groups<K, T> {
    fn new() -> Self {
        Self { groups: Vec::new(), index: HashMap::new() }
    }

    /// Adds `item` under `key`; returns the group's position.
    fn add(&mut self, key: K, item: T) -> usize {
        let at = *self.index.entry(key.clone()).or_insert_with(|| {
            self.groups.push((key, Vec::new()));
            self.groups.len() - 1
        });
        self.groups[at].1.push(item);
        at
    }

    fn into_vec(self) -> Vec<(K, Vec<T>)> {
        self.groups
    }
}

fn going(slot: &Progress) -> Option<&StoredMessage> {
    match slot {
        Progress::Going { message, .. } => Some(message),
        Progress::Done(_) => None,
    }
}

fn finish_all(progress: &mut [Progress], indexes: &[usize], answer: &Result<Accepted, StoreError>) {
    for &i in indexes {
        progress[i] = Progress::Done(answer.clone());
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use cim_core::wire::{self, recipient};
    use cim_store::InboxStore;
    use cim_store::testsuite::RedisCluster;

    use super::*;

    fn message(client_msg_id: &str, message_id: u128, sent_at_ms: u64) -> NewMessage {
        NewMessage {
            sender: "alice".into(),
            client_msg_id: client_msg_id.into(),
            recipients: vec!["bob".into(), "carol".into()],
            to: wire::Recipient { kind: Some(recipient::Kind::GroupId("g".into())) },
            content_type: "text/plain".into(),
            body: Bytes::from_static(b"hi"),
            message_id: cim_core::ulid::encode(sent_at_ms, message_id),
            sent_at_ms,
        }
    }

    async fn held(store: &RedisStore, user: &str) -> Vec<String> {
        store.read_inbox(user, 0, 10).await.expect("read").into_iter().map(|d| d.message_id).collect()
    }

    /// A server that died after step 2 (the dedupe record written, nothing appended): the
    /// client's retry is answered as a duplicate of the first try, and the entries are
    /// appended then, once, under the first try's id.
    #[tokio::test]
    async fn a_retry_after_an_interrupted_send_appends_once() {
        let cluster = RedisCluster::start();
        let store = RedisStore::connect(&cluster.url, "t:").await.expect("cluster");
        let first = message("c1", 1, 1_000);
        let original = first.message_id.clone();
        let mut progress =
            vec![Progress::Going { message: store.stored(first).expect("stored"), original: None }];
        store.reserve(&mut progress, &Day::at(now_ms())).await;
        assert!(held(&store, "bob").await.is_empty(), "interrupted before appending");

        let duplicate = Accepted::Duplicate { message_id: original.clone(), sent_at_ms: 1_000 };
        for retry in [2, 3] {
            let answers = store.accept_messages(vec![message("c1", retry, 2_000)]).await;
            assert_eq!(answers, [Ok(duplicate.clone())], "retry {retry}");
            assert_eq!(held(&store, "bob").await, std::slice::from_ref(&original), "retry {retry}: once");
            assert_eq!(held(&store, "carol").await, std::slice::from_ref(&original), "retry {retry}: once");
        }
        // Once read and acknowledged, a late retry appends nothing again.
        store.ack_inbox("bob", "phone", 1).await.expect("ack");
        assert!(held(&store, "bob").await.is_empty());
        assert_eq!(store.accept_messages(vec![message("c1", 4, 3_000)]).await, [Ok(duplicate)]);
        assert!(held(&store, "bob").await.is_empty(), "not appended again after the ack");
    }

    /// A send that completes leaves nothing behind but its dedupe record: no marker, nothing
    /// pending. A retry then is a plain duplicate and appends nothing.
    #[tokio::test]
    async fn a_completed_send_leaves_no_marker() {
        let cluster = RedisCluster::start();
        let store = RedisStore::connect(&cluster.url, "t:").await.expect("cluster");
        let answers = store.accept_messages(vec![message("c1", 1, 1_000), message("c2", 2, 1_001)]).await;
        assert!(answers.iter().all(|a| matches!(a, Ok(Accepted::Stored { entries }) if entries.len() == 2)));
        let count = |command: &'static str, key: String| {
            let mut conn = store.conn();
            async move { redis::cmd(command).arg(key).query_async::<u64>(&mut conn).await.expect(command) }
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let markers = count("ZCARD", store.user_key("bob", "appended")).await
                + count("ZCARD", store.user_key("carol", "appended")).await;
            let pending = count("HLEN", store.user_key("alice", "pending")).await;
            if (markers, pending) == (0, 0) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{markers} markers, {pending} pending left");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let retry = store.accept_messages(vec![message("c1", 3, 2_000)]).await;
        assert!(matches!(retry.as_slice(), [Ok(Accepted::Duplicate { .. })]));
        assert_eq!(held(&store, "bob").await.len(), 2, "nothing appended again");
    }
}
