//! What cim's reference route and server run on: the message path (resolve, store, push) and
//! the fan-out to other servers, the choice of backends from the command line, and process
//! plumbing (config files, logging, listeners with limits, Prometheus text).
//!
//! The parts below it are crates of their own: `cim-store` (the Store and Registry traits,
//! in memory, and their test suite), `cim-store-redis`, `cim-registry-zookeeper` and
//! `cim-auth` (tokens, passwords, JWTs, secrets, internal-call signatures). They are
//! re-exported here so that the route and server name one crate; a crate that needs only the
//! traits depends on `cim-store` and compiles neither Redis, ZooKeeper, tonic nor argon2.
#![forbid(unsafe_code)]

mod choice;
mod cluster_fanout;
pub mod config_file;
mod fanout;
pub mod listener;
pub mod logging;
mod message_id;
pub mod messaging;
pub mod process;
pub mod prometheus;

pub use choice::BackendArgs;
pub use cim_auth::{
    CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, HashingError, INTERNAL_AUTH_METADATA, InternalAuth,
    InternalAuthError, SignCalls, TokenClaims, TokenError, TokenKeys, VerifyCalls, hash_password,
    hash_password_bounded, jwt, secret, token_names_account, verify_password, verify_password_bounded,
};
pub use cim_registry_zookeeper::ZooKeeperRegistry;
#[cfg(feature = "testsuite")]
pub use cim_store::testsuite;
pub use cim_store::{
    Accepted, GroupRecord, IdMap, IdSet, InboxHead, InboxLimits, MemoryRegistry, MemoryStore, NewMessage,
    OnlinePage, PRESENCE_REFRESH, PRESENCE_TTL, RateCount, Registry, RegistryError, SessionRecord, Store,
    StoreError, UserRecord, now_ms, random_bytes,
};
pub use cim_store_redis::RedisStore;
pub use cluster_fanout::{ClusterFanout, ROUTE_CACHE_TTL, RouteCacheStats};
pub use fanout::Fanout;
pub use message_id::MessageIds;
