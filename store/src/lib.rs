//! What a cim deployment keeps, one trait per concern: accounts ([`AccountStore`]), presence
//! ([`PresenceStore`]), inboxes ([`InboxStore`]), groups ([`GroupStore`]) and rate counters
//! ([`RateStore`]); a backend that keeps them all ([`Store`]) and the handle the route and
//! servers hold ([`Stores`]); the servers behind [`Registry`]; their in-memory
//! implementations; and (feature `testsuite`) the suite every implementation must pass.
//!
//! Nothing here talks to Redis or ZooKeeper: `cim-store-redis` and `cim-registry-zookeeper`
//! implement the traits, so that a user of the traits compiles neither.
#![forbid(unsafe_code)]

mod accounts;
mod groups;
mod inbox;
mod memory;
mod presence;
mod rates;
mod registry;
mod rejection;
mod store;
#[cfg(feature = "testsuite")]
pub mod testsuite;

pub use accounts::{AccountStore, UserRecord};
pub use groups::{GroupRecord, GroupStore};
pub use inbox::{Accepted, InboxHead, InboxLimits, InboxStore, NewMessage};
pub use memory::{MemoryRegistry, MemoryStore};
pub use presence::{OnlinePage, PresenceStore, SessionRecord};
pub use rates::{RateCount, RateStore};
pub use registry::{Registry, RegistryError};
pub use store::{Store, StoreError, Stores};

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
