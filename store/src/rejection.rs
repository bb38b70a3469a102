//! What a sender is told when the store did not take its message.

use std::time::Duration;

use cim_core::{ErrorCode, Rejection};

use crate::StoreError;

/// How long a sender waits before sending again after the store failed.
const STORE_RETRY_AFTER: Duration = Duration::from_secs(1);

impl From<StoreError> for Rejection {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::InboxFull(user) => Self::new(
                ErrorCode::INBOX_FULL,
                format!("the inbox of {user} is full; send it again once they have read some of it"),
            ),
            // The store may have stored it: the answer to the same Send again tells (CIM-7.2-9).
            StoreError::OutcomeUnknown(why) => Self {
                retry_after: STORE_RETRY_AFTER,
                ..Self::new(
                    ErrorCode::OUTCOME_UNKNOWN,
                    format!(
                        "the store failed while storing it ({why}); send it again with the same client_msg_id"
                    ),
                )
            },
            error => Self {
                retry_after: STORE_RETRY_AFTER,
                ..Self::new(ErrorCode::UNAVAILABLE, format!("not stored: {error}"))
            },
        }
    }
}
