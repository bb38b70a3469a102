//! The sans-IO core of cim: the frame codec and the client and server session state
//! machines of protocol v1 (`spec/v1/protocol.md`).
//!
//! Nothing here reads a clock, touches a socket, spawns a task or draws global randomness:
//! every time-dependent call takes `now`, bytes go in through `handle_*` and come out through
//! `poll_*` into buffers the caller owns, and randomness comes from a seed. The same code runs
//! under tokio in the reference server and the SDKs, and under a virtual clock in tests.
#![forbid(unsafe_code)]

mod backoff;
pub mod client;
pub mod codec;
mod error;
mod error_code;
mod rate;
mod recipient;
mod rejection;
mod rng;
pub mod server;
pub mod ulid;

pub use backoff::Backoff;
pub use codec::{DecodeError, FrameDecoder, Framing};
pub use error::ConnectionError;
pub use error_code::{ErrorCode, Retry};
pub use rejection::Rejection;
pub use rng::SplitMix64;

/// The generated wire types (`cim.v1`), re-exported so users need no direct `cim-proto` dependency.
pub use cim_proto::v1 as wire;

/// The protocol version this crate implements (spec §4.2).
pub const PROTOCOL_VERSION: u32 = 1;

/// Milliseconds for a wire field, saturating.
pub(crate) fn millis_u32(duration: std::time::Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

/// Defaults of spec Appendix A.
pub mod defaults {
    use std::time::Duration;

    pub use crate::codec::DEFAULT_MAX_FRAME_SIZE as MAX_FRAME_SIZE;
    /// Largest `Send.body` unless the server announces otherwise.
    pub const MAX_BODY_SIZE: u32 = 32_768;
    /// Unanswered Sends a client may have outstanding.
    pub const MAX_IN_FLIGHT: u32 = 64;
    /// Sustained Sends per second.
    pub const SENDS_PER_SECOND: u32 = 100;
    /// Burst of Sends above the sustained rate.
    pub const SEND_BURST: u32 = 200;
    /// Interval after which an idle client sends a Ping.
    pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);
    /// Silence after which a peer is considered dead.
    pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(75);
    /// Bounds the server applies to a requested heartbeat interval.
    pub const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
    /// See [`MIN_HEARTBEAT_INTERVAL`].
    pub const MAX_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(300);
    /// Time allowed from connection to Welcome.
    pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Longest client message id, in bytes.
    pub const MAX_CLIENT_MSG_ID_LEN: usize = 64;
    /// Longest content type, in bytes.
    pub const MAX_CONTENT_TYPE_LEN: usize = 255;
    /// Largest `max_body_size` a server may announce.
    pub const MAX_BODY_SIZE_LIMIT: u32 = 61_440;
    /// Longest device id, in bytes.
    pub const MAX_DEVICE_ID_LEN: usize = 128;
    /// Longest session token, in bytes.
    pub const MAX_TOKEN_LEN: usize = 4096;
    /// Message ids a client remembers for dedupe across epochs.
    pub const DEDUPE_WINDOW: usize = 1024;
    /// First reconnect backoff step.
    pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
    /// Longest reconnect backoff.
    pub const BACKOFF_CAP: Duration = Duration::from_secs(30);
}
