//! The standalone message path: accepts from every connection of a process, many messages per
//! script call.
//!
//! Messages queue here, and one task sends whatever has queued as one script call: under light
//! load a batch is one message and adds no wait; under heavy load batches grow while the
//! previous ones are in flight. That is one round trip and one script invocation per batch
//! instead of per message; the script's work per message is in `lua.rs`. A caller is answered
//! only after the script that holds its message has returned, so nothing is acknowledged
//! before it is stored.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::dedupe::Day;
use super::lua;
use super::{Connection, Keys, StoredMessage, outcome_unknown};
use cim_store::{Accepted, InboxLimits, StoreError, now_ms};

/// Messages in one script call at most. A script blocks Redis while it runs; 256 messages
/// take about 7 ms.
const MAX_BATCH: usize = 256;

/// Body bytes in one script call at most, so a batch of large messages stays a short script.
const MAX_BATCH_BYTES: usize = 1 << 20;

/// Script calls in flight at once: while Redis runs one, the next batch is on the wire.
const MAX_IN_FLIGHT: usize = 2;

/// Messages waiting for a batch at most; senders wait beyond it.
const QUEUE: usize = 16 * 1024;

/// One message waiting for its batch.
struct Pending {
    message: StoredMessage,
    reply: oneshot::Sender<Result<Accepted, StoreError>>,
}

/// The handle the store keeps; its task ends when the store is dropped.
pub(super) struct AcceptBatcher {
    queue: mpsc::Sender<Pending>,
}

/// What a batch needs besides its messages.
#[derive(Clone)]
pub(super) struct BatchTarget {
    pub(super) connection: Connection,
    pub(super) keys: Keys,
    pub(super) limits: InboxLimits,
    pub(super) script: redis::Script,
}

impl AcceptBatcher {
    /// Starts the batching task on the current Tokio runtime.
    pub(super) fn start(target: BatchTarget) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(receiver, target));
        Self { queue }
    }

    /// Accepts `messages` in order, queued one after the other before any answer is awaited,
    /// so that they share batches. One answer per message, in order.
    pub(super) async fn accept_all(
        &self,
        messages: Vec<Result<StoredMessage, StoreError>>,
    ) -> Vec<Result<Accepted, StoreError>> {
        let mut answers = Vec::with_capacity(messages.len());
        for message in messages {
            let answer = match message {
                Ok(message) => {
                    let (reply, answer) = oneshot::channel();
                    match self.queue.send(Pending { message, reply }).await {
                        Ok(()) => Ok(answer),
                        Err(_) => Err(stopped()),
                    }
                }
                Err(error) => Err(error),
            };
            answers.push(answer);
        }
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            outcomes.push(match answer {
                Ok(answer) => answer.await.unwrap_or_else(|_| Err(stopped())),
                Err(error) => Err(error),
            });
        }
        outcomes
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the Redis accept queue has stopped".into())
}

async fn run(mut queue: mpsc::Receiver<Pending>, target: BatchTarget) {
    let target = Arc::new(target);
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        // Waiting for a slot is when the batch grows.
        let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
        let mut bytes = first.message.size();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            let Ok(next) = queue.try_recv() else { break };
            bytes += next.message.size();
            batch.push(next);
        }
        let target = target.clone();
        tokio::spawn(async move {
            let _permit = permit;
            flush(batch, &target).await;
        });
    }
}

/// Runs one batch's script and answers each of its callers.
async fn flush(batch: Vec<Pending>, target: &BatchTarget) {
    let now = now_ms();
    let day = Day::at(now);
    let recipients_in_all: usize = batch.iter().map(|p| p.message.recipients.len()).sum();
    let bytes: usize = batch.iter().map(|p| p.message.size()).sum();
    let mut command = lua::evalsha(&target.script, &[], 10 + 8 * batch.len() + 3 * recipients_in_all, bytes);
    command
        .arg(target.limits.retention_ms)
        .arg(target.limits.max_entries)
        .arg(target.limits.max_entries_per_sender)
        .arg(now)
        .arg(super::RedisStore::new_epoch())
        .arg(day.number)
        .arg(&day.hex)
        .arg(day.parity)
        .arg(day.previous_parity)
        .arg(day.expire_at_ms);
    // Keys are written into one buffer and copied into the command: no String per key.
    let mut key = String::with_capacity(64);
    let mut replies = Vec::with_capacity(batch.len());
    let mut recipients = Vec::with_capacity(batch.len());
    for Pending { message, reply } in batch {
        target.keys.write_user(&mut key, &message.sender, "dedupe");
        command
            .arg(key.as_str())
            .arg(&message.digest[..])
            .arg(&message.id_bytes[..])
            .arg(&message.sender)
            .arg(message.entry.kind())
            .arg(message.entry.payload())
            .arg(message.entry.shared_body())
            .arg(message.recipients.len());
        for recipient in &message.recipients {
            for kind in ["inbox", "meta", "senders"] {
                target.keys.write_user(&mut key, recipient, kind);
                command.arg(key.as_str());
            }
        }
        replies.push(reply);
        recipients.push(message.recipients);
    }
    let mut connection = target.connection.clone();
    let answer = match lua::run::<Vec<redis::Value>>(&target.script, &command, &mut connection).await {
        Ok(results) if results.len() == replies.len() => Ok(results),
        Ok(results) => Err(StoreError::Unavailable(format!(
            "the accept script answered {} results for {} messages",
            results.len(),
            replies.len()
        ))),
        // The script may have run although its answer was lost: the callers learn the
        // outcome by sending again (spec CIM-7.2-9).
        Err(error) => Err(outcome_unknown(error)),
    };
    let results = match answer {
        Ok(results) => results,
        Err(error) => {
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
            return;
        }
    };
    for ((result, reply), recipients) in results.into_iter().zip(replies).zip(recipients) {
        // A caller that went away (its connection closed) still had its message stored.
        let _ = reply.send(outcome(result, recipients));
    }
}

/// One message's answer from the script.
fn outcome(result: redis::Value, recipients: Vec<String>) -> Result<Accepted, StoreError> {
    let unexpected = || StoreError::Unavailable("unexpected answer from the accept script".into());
    let redis::Value::Array(parts) = result else { return Err(unexpected()) };
    let as_u64 = |v: &redis::Value| match v {
        redis::Value::Int(n) => u64::try_from(*n).ok(),
        _ => None,
    };
    match parts.first().and_then(as_u64) {
        Some(0) => super::duplicate(parts.get(1)),
        Some(2) => {
            let index = parts.get(1).and_then(as_u64).ok_or_else(unexpected)?;
            let full = usize::try_from(index).ok().and_then(|i| recipients.get(i.checked_sub(1)?));
            Err(StoreError::InboxFull(full.cloned().ok_or_else(unexpected)?))
        }
        Some(1) => {
            let seqs: Vec<u64> = parts[1..].iter().filter_map(as_u64).collect();
            if seqs.len() != recipients.len() {
                return Err(unexpected());
            }
            Ok(Accepted::Stored { entries: recipients.into_iter().zip(seqs).collect() })
        }
        _ => Err(unexpected()),
    }
}
