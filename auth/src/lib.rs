//! Who may do what in cim: the session tokens a route issues and servers check, password
//! hashing, the app backend's JWTs, checks that refuse weak secrets, and the signatures that
//! let servers know an internal call comes from their own deployment.
#![forbid(unsafe_code)]

mod internal_auth;
pub mod jwt;
mod password;
pub mod secret;
mod token;

pub use internal_auth::{INTERNAL_AUTH_METADATA, InternalAuth, InternalAuthError, SignCalls, VerifyCalls};
pub use password::{
    HashingError, hash_password, hash_password_bounded, verify_password, verify_password_bounded,
};
pub use token::{
    CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, TokenClaims, TokenError, TokenKeys, token_names_account,
};

use cim_store::{UserRecord, now_ms, random_bytes};
