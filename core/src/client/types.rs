//! What goes in and out of a [`ClientSession`](super::ClientSession) besides frames.

use std::time::Duration;

use crate::codec::Framing;
use crate::{ConnectionError, ErrorCode, defaults, wire};

/// Settings of a client session.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// This device's stable id (spec §4): each device has its own inbox position.
    pub device_id: String,
    /// Informational name sent in Hello.
    pub client_name: String,
    /// How frames are delimited on the transport the driver opens.
    pub framing: Framing,
    /// Largest frame this client accepts.
    pub max_frame_size: u32,
    /// Heartbeat interval to ask for; `None` lets the server choose.
    pub heartbeat_interval: Option<Duration>,
    /// Time allowed from asking for a transport to receiving Welcome.
    pub handshake_timeout: Duration,
    /// First reconnect backoff step.
    pub backoff_base: Duration,
    /// Longest reconnect backoff.
    pub backoff_cap: Duration,
    /// Where to resume the inbox, from an earlier run (see
    /// [`ClientSession::resume_point`](super::ClientSession::resume_point)).
    pub resume: Option<wire::ResumePoint>,
    /// Message ids remembered for dedupe.
    pub dedupe_window: usize,
    /// Seed for backoff jitter and generated message ids. Give each client its own (from
    /// the OS in production); a fixed seed makes a test reproducible.
    pub seed: u64,
}

impl ClientConfig {
    /// Protocol defaults for `device_id` on `framing`.
    pub fn new(device_id: impl Into<String>, framing: Framing, seed: u64) -> Self {
        Self {
            device_id: device_id.into(),
            client_name: concat!("cim-core/", env!("CARGO_PKG_VERSION")).to_owned(),
            framing,
            max_frame_size: defaults::MAX_FRAME_SIZE,
            heartbeat_interval: None,
            handshake_timeout: defaults::HANDSHAKE_TIMEOUT,
            backoff_base: defaults::BACKOFF_BASE,
            backoff_cap: defaults::BACKOFF_CAP,
            resume: None,
            dedupe_window: defaults::DEDUPE_WINDOW,
            seed,
        }
    }
}

/// Work the driver does for the session; drained with
/// [`ClientSession::poll_request`](super::ClientSession::poll_request).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// Log in at the route and report the result with
    /// [`handle_login_result`](super::ClientSession::handle_login_result) and this `id`.
    /// Credentials are the driver's business: the core never sees them.
    Login {
        /// Matches the result to this request.
        id: u64,
    },
    /// Open a transport to `endpoint` (from the login result), then call
    /// [`handle_connected`](super::ClientSession::handle_connected) or
    /// [`handle_transport_closed`](super::ClientSession::handle_transport_closed).
    Connect {
        /// The server endpoint the route assigned.
        endpoint: String,
    },
    /// Close the current transport, after writing what `poll_transmit` produced.
    Close,
}

/// A successful login at the route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginGrant {
    /// The user the route authenticated.
    pub user_id: String,
    /// The session token for Hello.
    pub token: String,
    /// The server to connect to.
    pub endpoint: String,
}

/// A failed login at the route.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginFailure {
    /// The route refused the credentials: retrying cannot help.
    Rejected {
        /// The route's explanation.
        message: String,
    },
    /// The route could not be reached or failed: retry with backoff.
    Unavailable {
        /// What went wrong.
        message: String,
    },
    /// The route asked to be called again no sooner than `retry_after`, as an answer with
    /// `Retry-After` does (spec CIM-14.6-8): retry with backoff, but not before.
    RetryAfter {
        /// What went wrong.
        message: String,
        /// The least wait before the next login.
        retry_after: Duration,
    },
}

/// The session's state, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Not started.
    Idle,
    /// Waiting for the route.
    LoggingIn,
    /// Waiting for the transport or the Welcome.
    Connecting,
    /// Welcome received.
    Connected,
    /// Waiting before the next attempt.
    Reconnecting,
    /// Ended for good.
    Closed,
}

impl ConnectionState {
    /// The state in snake case (`logging_in`): the name bindings to other languages show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::LoggingIn => "logging_in",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Closed => "closed",
        }
    }
}

/// What happened, for the application; drained with
/// [`ClientSession::poll_event`](super::ClientSession::poll_event).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Welcome received: the session is up (again).
    Connected {
        /// The authenticated user.
        user_id: String,
        /// The session's id.
        session_id: String,
        /// The server's id.
        server_id: String,
        /// What became of the resume point.
        resume: wire::ResumeOutcome,
    },
    /// The inbox did not continue where this device left off (spec §8.4): its epoch changed
    /// or entries were trimmed before this device read them. Messages may be missing.
    InboxDiscontinuity {
        /// `EpochChanged` or `Gap`.
        outcome: wire::ResumeOutcome,
        /// The epoch in force now.
        epoch: u64,
    },
    /// A message for this user. Inbox messages are acknowledged once this event is polled.
    Message(wire::Deliver),
    /// The server stored a message this client sent.
    Acked(wire::SendAck),
    /// The server refused a message for good.
    SendFailed {
        /// The id [`send`](super::ClientSession::send) returned.
        client_msg_id: String,
        /// Why.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// The connection is gone; the session tries again after `retry_in`.
    Disconnected {
        /// Why it ended.
        error: ConnectionError,
        /// Delay before the next login attempt.
        retry_in: Duration,
    },
    /// The session ended for good.
    Closed(CloseReason),
}

/// Why a session ended for good.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The application called [`close`](super::ClientSession::close).
    Requested,
    /// The route refused the credentials.
    LoginRejected {
        /// The route's explanation.
        message: String,
    },
    /// The server ended the session and asked not to reconnect (replaced, logged out).
    GoAway {
        /// The server's reason.
        reason: wire::GoAwayReason,
        /// The server's explanation.
        message: String,
    },
    /// An error that retrying cannot fix (e.g. no common protocol version).
    Fatal(ConnectionError),
}

/// Why [`send`](super::ClientSession::send) refused a message without sending it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The body is over the server's announced (or the default) maximum.
    #[error("message body of {len} bytes exceeds the maximum of {max}")]
    BodyTooLarge {
        /// Body length.
        len: usize,
        /// The limit.
        max: u32,
    },
    /// The Send frame would be over the server's announced (or the default) maximum frame
    /// size (CIM-10.2-2): a long recipient or content type with a body near its limit.
    #[error("message frame of {len} bytes exceeds the maximum frame size of {max}")]
    FrameTooLarge {
        /// Encoded frame length.
        len: usize,
        /// The limit.
        max: u32,
    },
    /// The client message id is empty or longer than 64 bytes.
    #[error("client message id must be 1 to 64 bytes")]
    InvalidClientMsgId,
    /// The recipient names no user or group.
    #[error("recipient must name a user, a group or everyone")]
    InvalidRecipient,
    /// The session is closed.
    #[error("session is closed")]
    Closed,
}

impl SendError {
    /// The registry code a server would answer with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BodyTooLarge { .. } => ErrorCode::BODY_TOO_LARGE,
            Self::FrameTooLarge { .. } => ErrorCode::FRAME_TOO_LARGE,
            Self::InvalidClientMsgId => ErrorCode::INVALID_CLIENT_MSG_ID,
            Self::InvalidRecipient => ErrorCode::INVALID_FIELD,
            Self::Closed => ErrorCode::SHUTTING_DOWN,
        }
    }
}
