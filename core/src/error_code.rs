//! The error registry of spec §11.2, as an open set of codes.

use std::fmt;

/// A code from the error registry (spec §11.2).
///
/// Open by design: a code this build does not know, sent by a newer peer, still round-trips
/// and still tells whether it is fatal and whether to retry (from its range).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u32);

/// Whether a client may try again after an error with this code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Retrying the same thing fails the same way until something changes on the client side.
    No,
    /// Try again after a delay (backoff, or the `retry_after_ms` the peer gave).
    After,
    /// Log in again through the route, then retry.
    Relogin,
}

macro_rules! registry {
    ($( $(#[doc = $doc:literal])+ $name:ident = $code:literal, $retry:ident; )+) => {
        impl ErrorCode {
            $( $(#[doc = $doc])+ pub const $name: Self = Self($code); )+

            /// Every code the registry defines, in numeric order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$name),+];

            /// The registry name (`FRAME_TOO_LARGE`), or `None` for a code this build does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some(stringify!($name)),)+
                    _ => None,
                }
            }

            /// One-line meaning from the registry.
            pub fn description(self) -> &'static str {
                match self.0 {
                    $($code => concat!($($doc),+).trim_ascii(),)+
                    _ => "unknown error code",
                }
            }

            /// Whether and how a client should retry.
            pub fn retry(self) -> Retry {
                match self.0 {
                    $($code => Retry::$retry,)+
                    // Unknown codes: the range decides (spec §11.2).
                    c if (5000..6000).contains(&c) => Retry::After,
                    c if (2000..3000).contains(&c) => Retry::Relogin,
                    _ => Retry::No,
                }
            }
        }
    };
}

registry! {
    /// The frame could not be decoded as a protobuf `Frame`.
    MALFORMED_FRAME = 1000, No;
    /// The frame is longer than the receiver's maximum frame size.
    FRAME_TOO_LARGE = 1001, No;
    /// The length prefix is not a valid unsigned varint of at most 5 bytes.
    BAD_LENGTH_PREFIX = 1002, No;
    /// The frame has no body, or a body this version does not know.
    UNKNOWN_FRAME = 1003, No;
    /// The frame is not allowed in the current state of the connection.
    UNEXPECTED_FRAME = 1004, No;
    /// None of the versions offered in Hello is supported.
    UNSUPPORTED_VERSION = 1005, No;
    /// The handshake did not complete in time.
    HANDSHAKE_TIMEOUT = 1006, After;
    /// Nothing was received from the peer within the heartbeat timeout.
    HEARTBEAT_TIMEOUT = 1007, After;
    /// A required field is missing or has an invalid value.
    INVALID_FIELD = 1008, No;
    /// The session token is missing, malformed or its signature does not verify.
    UNAUTHENTICATED = 2000, Relogin;
    /// The session token has expired.
    TOKEN_EXPIRED = 2001, Relogin;
    /// The user may not do this, e.g. send to a group they are not a member of.
    FORBIDDEN = 2002, No;
    /// The recipient user or group does not exist.
    UNKNOWN_RECIPIENT = 3000, No;
    /// The message body is larger than the announced maximum body size.
    BODY_TOO_LARGE = 3001, No;
    /// The client already has the maximum number of unacknowledged Sends in flight.
    IN_FLIGHT_EXCEEDED = 3002, After;
    /// The client sends faster than the announced rate.
    RATE_LIMITED = 3003, After;
    /// The client message id is empty or longer than 64 bytes.
    INVALID_CLIENT_MSG_ID = 3004, No;
    /// An inbox of a recipient holds as many entries as the server allows, in all or from this sender.
    INBOX_FULL = 3005, No;
    /// The user already has the maximum number of sessions.
    TOO_MANY_SESSIONS = 4000, No;
    /// The peer does not read fast enough; its send queue overflowed.
    SLOW_CONSUMER = 4001, After;
    /// An unexpected failure inside the server.
    INTERNAL = 5000, After;
    /// A backend the server needs (store, registry, another server) is unavailable.
    UNAVAILABLE = 5001, After;
    /// The server is shutting down and accepts no new work.
    SHUTTING_DOWN = 5002, After;
    /// The store failed while storing the message: it may or may not be stored; send it again with the same client message id.
    OUTCOME_UNKNOWN = 5003, After;
    /// The user name or group id is already taken.
    ALREADY_EXISTS = 6000, No;
    /// The user, group or server named in a route call does not exist.
    NOT_FOUND = 6001, No;
    /// The user name or password is wrong, or the JWT does not verify.
    INVALID_CREDENTIALS = 6002, No;
}

impl ErrorCode {
    /// Whether the code may reject a single Send (an `Error` with `client_msg_id`, spec
    /// §11.1). Every code may also be fatal.
    pub fn is_per_message(self) -> bool {
        (3000..4000).contains(&self.0)
            || matches!(self, Self::FORBIDDEN | Self::UNAVAILABLE | Self::OUTCOME_UNKNOWN)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "error {}", self.0),
        }
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<u32> for ErrorCode {
    fn from(code: u32) -> Self {
        Self(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        assert!(ErrorCode::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn unknown_codes_round_trip_and_fall_back_to_their_range() {
        let code = ErrorCode::from(5999);
        assert_eq!(code.0, 5999);
        assert_eq!(code.name(), None);
        assert_eq!(code.retry(), Retry::After);
        assert_eq!(ErrorCode(2999).retry(), Retry::Relogin);
        assert_eq!(ErrorCode(1999).retry(), Retry::No);
        assert_eq!(code.to_string(), "error 5999");
    }

    #[test]
    fn known_codes_have_names_and_descriptions() {
        assert_eq!(ErrorCode::FRAME_TOO_LARGE.to_string(), "FRAME_TOO_LARGE (1001)");
        assert_eq!(ErrorCode::RATE_LIMITED.description(), "The client sends faster than the announced rate.");
    }
}
