//! What cim's reference route and server share: the [`Store`] and [`Registry`] traits with
//! their in-memory implementations, session tokens, passwords, app JWTs and message ids.
//!
//! Backends sit behind the traits so that the same route and server run on one process's
//! memory (`cim up`) or on Redis and ZooKeeper; the `testsuite` feature exposes the test
//! suite every implementation must pass.
#![forbid(unsafe_code)]

mod choice;
mod cluster_fanout;
pub mod config_file;
mod fanout;
mod internal_auth;
pub mod jwt;
pub mod listener;
pub mod logging;
mod memory;
mod message_id;
pub mod messaging;
mod password;
pub mod process;
pub mod prometheus;
mod redis_store;
mod registry;
pub mod secret;
mod store;
#[cfg(feature = "testsuite")]
pub mod testsuite;
mod token;
mod zookeeper_registry;

pub use choice::BackendArgs;
pub use cluster_fanout::{ClusterFanout, ROUTE_CACHE_TTL, RouteCacheStats};
pub use fanout::Fanout;
pub use internal_auth::{INTERNAL_AUTH_METADATA, InternalAuth, InternalAuthError, SignCalls, VerifyCalls};
pub use memory::{MemoryRegistry, MemoryStore};
pub use message_id::MessageIds;
pub use password::{
    HashingError, hash_password, hash_password_bounded, verify_password, verify_password_bounded,
};
pub use redis_store::RedisStore;
pub use registry::{Registry, RegistryError};
pub use store::{
    Accepted, GroupRecord, InboxHead, InboxLimits, NewMessage, OnlinePage, RateCount, SessionRecord, Store,
    StoreError, UserRecord,
};
pub use token::{
    CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, TokenClaims, TokenError, TokenKeys, token_names_account,
};
pub use zookeeper_registry::ZooKeeperRegistry;

/// A hash map on the message path, looked up several times per message. aHash, keyed at
/// random per map as std's `RandomState` is, so that colliding ids cannot be chosen in
/// advance; for short ids it is several times faster than std's SipHash, which took 8% of the
/// server's CPU at 200,000 messages/s.
pub type IdMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// A hash set on the message path; see [`IdMap`].
pub type IdSet<K> = std::collections::HashSet<K, ahash::RandomState>;

/// How long a session record lives without a refresh from its server (spec §15.5).
pub const PRESENCE_TTL: std::time::Duration = std::time::Duration::from_secs(30);
/// How often a server refreshes its sessions' records.
pub const PRESENCE_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Without OS randomness nothing here is safe to run (tokens, salts): fail loudly.
    getrandom::fill(&mut bytes)
        .unwrap_or_else(|e| panic!("the operating system's random source failed: {e}"));
    bytes
}
