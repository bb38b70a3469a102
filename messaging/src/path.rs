//! The message path shared by a server's `Send` and the route's push API (spec §7, §14.3):
//! resolve the recipients, store in every inbox (deduped), then push.

use std::sync::Mutex;

use bytes::Bytes;
use cim_core::ErrorCode;
pub use cim_core::Rejection;
use cim_core::wire::{self, recipient};

use crate::{Accepted, Fanout, IdSet, MessageIds, NewMessage, StoreError, Stores, now_ms};

/// A message someone sends: from a session, or pushed by an app backend in a user's name.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The authenticated sender.
    pub sender: String,
    /// The sender's dedupe key.
    pub client_msg_id: String,
    /// Who it is for.
    pub to: wire::Recipient,
    /// Body type.
    pub content_type: String,
    /// Opaque body.
    pub body: Bytes,
}

/// Users this process has found in the store. Accounts are never deleted, so one found once
/// exists for good: the message path asks the store only about users it has not seen, which
/// takes a store round trip off nearly every one-to-one message. Bounded: starts over when
/// full.
#[derive(Debug, Default)]
pub struct KnownUsers {
    users: Mutex<IdSet<String>>,
}

impl KnownUsers {
    /// Most users remembered before the set starts over.
    const CAPACITY: usize = 100_000;

    fn contains(&self, user_id: &str) -> bool {
        self.users.lock().unwrap_or_else(|p| p.into_inner()).contains(user_id)
    }

    fn insert(&self, user_id: &str) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if users.len() >= Self::CAPACITY {
            users.clear();
        }
        users.insert(user_id.to_owned());
    }

    /// Whether `user_id` has an account, asking the store only the first time.
    pub async fn exists(&self, store: &Stores, user_id: &str) -> Result<bool, StoreError> {
        if self.contains(user_id) {
            return Ok(true);
        }
        let exists = store.accounts.user(user_id).await?.is_some();
        if exists {
            self.insert(user_id);
        }
        Ok(exists)
    }
}

/// What the message path needs besides the message: where it is stored and pushed, how ids
/// are made, which users are known to exist.
#[derive(Clone, Copy)]
pub struct MessagePath<'a> {
    /// Where messages are stored.
    pub store: &'a Stores,
    /// Where pushes go (none: the recipients find the entries when they read their inbox).
    pub fanout: Option<&'a dyn Fanout>,
    /// Message ids.
    pub ids: &'a MessageIds,
    /// Recipients known to exist.
    pub known_users: &'a KnownUsers,
}

/// Stores `message` in every recipient's inbox and only then pushes it (a broadcast to every
/// session but `sender_session`, the sender's own when it comes from a session); the
/// returned `SendAck` is what the sender is told.
pub async fn accept_and_push(
    path: MessagePath<'_>,
    message: Outgoing,
    sender_session: Option<&str>,
) -> Result<wire::SendAck, Rejection> {
    let mut answers = accept_and_push_all(path, vec![message], sender_session).await;
    answers.pop().unwrap_or_else(|| Err(Rejection::new(ErrorCode::INTERNAL, "no answer")))
}

/// [`accept_and_push`] for the Sends of one connection, in the order received (spec
/// CIM-9.2-1): their recipients are resolved one by one, then they are stored together (a
/// store may take them in one batch), then pushed, in order. One answer per message.
pub async fn accept_and_push_all(
    path: MessagePath<'_>,
    messages: Vec<Outgoing>,
    sender_session: Option<&str>,
) -> Vec<Result<wire::SendAck, Rejection>> {
    let MessagePath { store, fanout, ids, known_users } = path;
    // Answers known before storing (refusals, duplicates of refused resends) stay in place;
    // the rest are stored together.
    let mut answers: Vec<Option<Result<wire::SendAck, Rejection>>> = Vec::with_capacity(messages.len());
    let mut to_store = Vec::new();
    let mut stored = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        match recipients(store, known_users, message).await {
            Ok((recipients, live_only)) => {
                let (message_id, sent_at_ms) = ids.next(now_ms());
                to_store.push(NewMessage {
                    sender: message.sender.clone(),
                    client_msg_id: message.client_msg_id.clone(),
                    recipients,
                    to: message.to.clone(),
                    content_type: message.content_type.clone(),
                    body: message.body.clone(),
                    message_id,
                    sent_at_ms,
                });
                stored.push((index, live_only));
                answers.push(None);
            }
            // Dedupe comes before existence and permission (CIM-7.1-12): the resend of a
            // message accepted before its sender left the group is a duplicate, not FORBIDDEN.
            // Asked only when a check fails, so the common path costs no extra store call.
            Err(refused) if matches!(refused.code, ErrorCode::UNKNOWN_RECIPIENT | ErrorCode::FORBIDDEN) => {
                let answer = match store.inbox.accepted_before(&message.sender, &message.client_msg_id).await
                {
                    Ok(Some((message_id, sent_at_ms))) => {
                        Ok(ack(message, message_id, sent_at_ms, true, false))
                    }
                    Ok(None) => Err(refused),
                    Err(error) => Err(error.into()),
                };
                answers.push(Some(answer));
            }
            Err(refused) => answers.push(Some(Err(refused))),
        }
    }
    let ids_and_times: Vec<(String, u64)> =
        to_store.iter().map(|m| (m.message_id.clone(), m.sent_at_ms)).collect();
    let outcomes = if to_store.is_empty() { Vec::new() } else { store.inbox.accept_messages(to_store).await };
    for (((index, live_only), outcome), (message_id, sent_at_ms)) in
        stored.into_iter().zip(outcomes).zip(ids_and_times)
    {
        let message = &messages[index];
        let answer = match outcome {
            Err(error) => Err(error.into()),
            Ok(Accepted::Duplicate { message_id, sent_at_ms }) => {
                Ok(ack(message, message_id, sent_at_ms, true, live_only))
            }
            Ok(Accepted::Stored { entries }) => {
                if let Some(fanout) = fanout {
                    push(fanout, message, &message_id, sent_at_ms, live_only, entries, sender_session).await;
                }
                Ok(ack(message, message_id, sent_at_ms, false, live_only))
            }
        };
        answers[index] = Some(answer);
    }
    answers
        .into_iter()
        .map(|answer| answer.unwrap_or_else(|| Err(Rejection::new(ErrorCode::INTERNAL, "no answer"))))
        .collect()
}

fn ack(
    message: &Outgoing,
    message_id: String,
    sent_at_ms: u64,
    duplicate: bool,
    live_only: bool,
) -> wire::SendAck {
    wire::SendAck {
        client_msg_id: message.client_msg_id.clone(),
        message_id,
        sent_at_ms,
        duplicate,
        live_only,
    }
}

/// Pushes a stored message to its recipients' sessions (all but `sender_session` for a
/// broadcast).
async fn push(
    fanout: &dyn Fanout,
    message: &Outgoing,
    message_id: &str,
    sent_at_ms: u64,
    live_only: bool,
    entries: Vec<(String, u64)>,
    sender_session: Option<&str>,
) {
    let deliver = |seq| wire::Deliver {
        seq,
        message_id: message_id.to_owned(),
        from_user_id: message.sender.clone(),
        to: Some(message.to.clone()),
        content_type: message.content_type.clone(),
        body: message.body.clone(),
        sent_at_ms,
    };
    let pushes = if live_only {
        vec![wire::Push {
            user_id: String::new(),
            // On the wire an empty id skips nobody (internal.proto, `Push`).
            except_session_id: sender_session.unwrap_or_default().to_owned(),
            deliver: Some(deliver(0)),
        }]
    } else {
        entries
            .into_iter()
            .map(|(user_id, seq)| wire::Push {
                user_id,
                except_session_id: String::new(),
                deliver: Some(deliver(seq)),
            })
            .collect()
    };
    fanout.push(pushes).await;
}

/// The answer to a Send whose body is over the limit: dedupe comes before the body size
/// (CIM-7.1-12), so the resend of a message accepted before is acknowledged as the duplicate
/// it is, and anything else is refused with BODY_TOO_LARGE and `detail`.
pub async fn answer_oversized(
    store: &Stores,
    sender: &str,
    client_msg_id: &str,
    to_everyone: bool,
    detail: String,
) -> Result<wire::SendAck, Rejection> {
    match store.inbox.accepted_before(sender, client_msg_id).await? {
        Some((message_id, sent_at_ms)) => Ok(wire::SendAck {
            client_msg_id: client_msg_id.to_owned(),
            message_id,
            sent_at_ms,
            duplicate: true,
            live_only: to_everyone,
        }),
        None => Err(Rejection::new(ErrorCode::BODY_TOO_LARGE, detail)),
    }
}

/// Who `message` is stored for, and whether it is live only (to everyone): the recipient's
/// existence and the sender's permission (spec §7.1, §7.3).
async fn recipients(
    store: &Stores,
    known_users: &KnownUsers,
    message: &Outgoing,
) -> Result<(Vec<String>, bool), Rejection> {
    let sender = &message.sender;
    match &message.to.kind {
        Some(recipient::Kind::UserId(user)) => {
            if !known_users.exists(store, user).await? {
                return Err(Rejection::new(ErrorCode::UNKNOWN_RECIPIENT, format!("no user {user}")));
            }
            Ok((vec![user.clone()], false))
        }
        Some(recipient::Kind::GroupId(group)) => {
            let Some(group) = store.groups.group(group).await? else {
                return Err(Rejection::new(ErrorCode::UNKNOWN_RECIPIENT, format!("no group {group}")));
            };
            if !group.members.iter().any(|m| m == sender) {
                return Err(Rejection::new(
                    ErrorCode::FORBIDDEN,
                    format!("{sender} is not a member of {}", group.group_id),
                ));
            }
            Ok((group.members.into_iter().filter(|m| m != sender).collect(), false))
        }
        Some(recipient::Kind::Everyone(_)) => Ok((Vec::new(), true)),
        None => Err(Rejection::new(ErrorCode::INVALID_FIELD, "no recipient")),
    }
}
