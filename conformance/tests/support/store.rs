//! An inbox store that passes everything to a real one, except for one deliberate fault. The
//! rest of the deployment's store (accounts, presence, groups) is the real one, untouched.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cim_core::wire;
use cim_store::{Accepted, InboxHead, InboxStore, NewMessage, StoreError};

/// The faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMutant {
    /// Acknowledges messages without appending them to any inbox.
    SkipsInboxWrite,
    /// Forgets client message ids: every Send is new.
    NoDedupe,
    /// Reads inbox entries newest first.
    ReversedInbox,
    /// Gives the inbox a new epoch whenever it is asked for it.
    EpochEveryTime,
    /// Applies a device's acknowledgement to every device of the user that has acknowledged
    /// anything (the devices an inbox knows).
    SharedAcks,
}

/// The inbox with its fault.
pub struct MutantInbox {
    inner: Arc<dyn InboxStore>,
    mutant: StoreMutant,
    counter: AtomicU64,
    /// Every device that acknowledged something, per user (for `SharedAcks`).
    devices: Mutex<HashMap<String, HashSet<String>>>,
}

impl MutantInbox {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn InboxStore>, mutant: StoreMutant) -> Self {
        Self { inner, mutant, counter: AtomicU64::new(1), devices: Mutex::default() }
    }
}

#[async_trait]
impl InboxStore for MutantInbox {
    async fn accept_message(&self, mut message: NewMessage) -> Result<Accepted, StoreError> {
        match self.mutant {
            StoreMutant::SkipsInboxWrite => {
                message.recipients.clear();
                self.inner.accept_message(message).await.map(|accepted| match accepted {
                    Accepted::Stored { .. } => Accepted::Stored { entries: Vec::new() },
                    other => other,
                })
            }
            StoreMutant::NoDedupe => {
                message.client_msg_id =
                    format!("{}#{}", message.client_msg_id, self.counter.fetch_add(1, Ordering::Relaxed));
                self.inner.accept_message(message).await
            }
            _ => self.inner.accept_message(message).await,
        }
    }
    async fn accepted_before(
        &self,
        sender: &str,
        client_msg_id: &str,
    ) -> Result<Option<(String, u64)>, StoreError> {
        match self.mutant {
            StoreMutant::NoDedupe => Ok(None),
            _ => self.inner.accepted_before(sender, client_msg_id).await,
        }
    }
    async fn inbox_head(&self, user_id: &str) -> Result<InboxHead, StoreError> {
        let mut head = self.inner.inbox_head(user_id).await?;
        if self.mutant == StoreMutant::EpochEveryTime {
            head.epoch = head.epoch.wrapping_add(self.counter.fetch_add(1, Ordering::Relaxed));
        }
        Ok(head)
    }
    async fn read_inbox(
        &self,
        user_id: &str,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<wire::Deliver>, StoreError> {
        let mut entries = self.inner.read_inbox(user_id, from_seq, limit).await?;
        if self.mutant == StoreMutant::ReversedInbox {
            entries.reverse();
        }
        Ok(entries)
    }
    async fn ack_inbox(&self, user_id: &str, device_id: &str, up_to_seq: u64) -> Result<(), StoreError> {
        if self.mutant == StoreMutant::SharedAcks {
            let devices: Vec<String> = self
                .devices
                .lock()
                .map(|mut d| {
                    let known = d.entry(user_id.to_owned()).or_default();
                    known.insert(device_id.to_owned());
                    known.iter().cloned().collect()
                })
                .unwrap_or_default();
            for device in devices {
                self.inner.ack_inbox(user_id, &device, up_to_seq).await?;
            }
        }
        self.inner.ack_inbox(user_id, device_id, up_to_seq).await
    }
    async fn inbox_entries(&self) -> Option<u64> {
        self.inner.inbox_entries().await
    }
}
