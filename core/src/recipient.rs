//! What makes a recipient addressable (spec §7.1): one rule for the client, which refuses to
//! queue a Send without one, and the server, which refuses such a Send.

use crate::wire::{self, recipient};

/// Whether `to` names someone: a non-empty user or group id, or everyone.
pub(crate) fn is_addressable(to: &wire::Recipient) -> bool {
    match &to.kind {
        Some(recipient::Kind::UserId(id) | recipient::Kind::GroupId(id)) => !id.is_empty(),
        Some(recipient::Kind::Everyone(_)) => true,
        None => false,
    }
}
