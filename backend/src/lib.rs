//! What cim's reference route and server run on as processes: the choice of backends from the
//! command line, config files, logging, listeners with limits and timeouts, Prometheus text.
//!
//! Every other job is a crate of its own: `cim-store` (the Store and Registry traits, in
//! memory, and their test suite), `cim-store-redis`, `cim-registry-zookeeper`, `cim-auth`
//! (tokens, passwords, JWTs, secrets, internal-call signatures) and `cim-messaging` (the
//! message path and the fan-out to other servers). They are re-exported here so that the route
//! and server name one crate; a crate that needs only the traits depends on `cim-store` and
//! compiles neither Redis, ZooKeeper, tonic nor argon2.
#![forbid(unsafe_code)]

mod choice;
pub mod config_file;
pub mod listener;
pub mod logging;
pub mod process;
pub mod prometheus;

pub use choice::BackendArgs;
pub use cim_auth::{
    CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, HashingError, INTERNAL_AUTH_METADATA, InternalAuth,
    InternalAuthError, SignCalls, TokenClaims, TokenError, TokenKeys, VerifyCalls, hash_password,
    hash_password_bounded, jwt, secret, token_names_account, verify_password, verify_password_bounded,
};
/// The message path and fan-out (`cim-messaging`).
pub use cim_messaging as messaging;
pub use cim_messaging::{ClusterFanout, Fanout, MessageIds, PushStats, ROUTE_CACHE_TTL, RouteCacheStats};
pub use cim_registry_zookeeper::ZooKeeperRegistry;
#[cfg(feature = "testsuite")]
pub use cim_store::testsuite;
pub use cim_store::{
    Accepted, AccountStore, GroupRecord, GroupStore, IdMap, IdSet, InboxHead, InboxLimits, InboxStore,
    MemoryRegistry, MemoryStore, NewMessage, OnlinePage, PRESENCE_REFRESH, PRESENCE_TTL, PresenceStore,
    RateCount, RateStore, Registry, RegistryError, SessionRecord, Store, StoreError, Stores, UserRecord,
    now_ms, random_bytes,
};
pub use cim_store_redis::RedisStore;
