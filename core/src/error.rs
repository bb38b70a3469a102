//! Why a connection ended. Caller misuse has its own types next to the calls that can fail.

use crate::ErrorCode;

/// Why a connection ended: the peer broke the protocol, reported an error, went silent, or
/// the transport closed. Sticky: once a session has failed, every later input reports the
/// same error again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// This side detected a problem (a protocol violation by the peer, a timeout), sent an
    /// `Error` frame with `code` and closes the connection.
    #[error("{code}: {detail}")]
    Local {
        /// The code sent to the peer.
        code: ErrorCode,
        /// What exactly was wrong.
        detail: String,
    },
    /// The peer sent a fatal `Error` frame.
    #[error("peer reported {code}: {message}")]
    Remote {
        /// The code the peer sent.
        code: ErrorCode,
        /// The peer's message.
        message: String,
    },
    /// The transport closed without an `Error` frame.
    #[error("connection closed by the transport")]
    TransportClosed,
}

impl ConnectionError {
    /// The registry code, if the error carried one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Local { code, .. } | Self::Remote { code, .. } => Some(*code),
            Self::TransportClosed => None,
        }
    }

    pub(crate) fn local(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Local { code, detail: detail.into() }
    }
}
