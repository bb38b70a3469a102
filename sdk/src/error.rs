//! SDK errors.

use cim_core::ErrorCode;

/// What went wrong in an SDK call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The route refused the call (wrong password, name taken, …).
    #[error("route refused: {message} ({code})")]
    Route {
        /// Registry code.
        code: ErrorCode,
        /// The route's explanation.
        message: String,
        /// How long the route asked to wait before calling again (its `Retry-After`), if it
        /// said; a RATE_LIMITED call is not repeated sooner (spec CIM-14.6-8).
        retry_after: Option<std::time::Duration>,
    },
    /// The route or server could not be reached.
    #[error("cannot reach {what}: {message}")]
    Unreachable {
        /// What could not be reached.
        what: String,
        /// Why.
        message: String,
    },
    /// The server refused a message.
    #[error("message refused: {message} ({code})")]
    Rejected {
        /// Registry code.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// The argument cannot be sent as given.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The client is closed.
    #[error("client closed: {0}")]
    Closed(String),
    /// No answer in time.
    #[error("timed out: {0}")]
    Timeout(String),
}

/// What an [`Error`] means for the caller: the few kinds that bindings to other languages
/// turn into their own exception types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Wrong credentials, or a token no longer accepted.
    Authentication,
    /// The route or server cannot be reached or is overloaded; trying later may help.
    Unavailable,
    /// The request was refused (an unknown recipient, a name taken, …).
    Rejected,
    /// An argument cannot be sent as given.
    InvalidInput,
    /// The client is closed.
    Closed,
}

impl Error {
    /// The kind of failure, from the variant and the registry code's retry class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Route { code, .. }
                if [ErrorCode::INVALID_CREDENTIALS, ErrorCode::UNAUTHENTICATED, ErrorCode::TOKEN_EXPIRED]
                    .contains(code) =>
            {
                ErrorKind::Authentication
            }
            Self::Route { code, .. } if code.retry() == cim_core::Retry::After => ErrorKind::Unavailable,
            Self::Route { .. } | Self::Rejected { .. } => ErrorKind::Rejected,
            Self::Unreachable { .. } | Self::Timeout(_) => ErrorKind::Unavailable,
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::Closed(_) => ErrorKind::Closed,
        }
    }

    /// The registry code, when the error carries one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Route { code, .. } | Self::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}
