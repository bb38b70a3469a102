//! A refusal with a registry code: of one Send, of a Hello, of a route call.

use std::time::Duration;

use crate::ErrorCode;

/// Why something was refused: a registry code, an explanation for people and, when the
/// caller may try again, how long to wait first.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// Registry code (spec Appendix B).
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// How long to wait before trying again, when the code allows it.
    pub retry_after: Duration,
}

impl Rejection {
    /// A refusal that names no wait.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: Duration::ZERO }
    }

    /// The same refusal, with a wait before trying again.
    #[must_use]
    pub fn retry_after(self, wait: Duration) -> Self {
        Self { retry_after: wait, ..self }
    }
}
