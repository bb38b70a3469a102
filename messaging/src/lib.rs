//! The message path shared by a server's `Send` and the route's Push (spec §7, §14.3):
//! resolve the recipients, store the message in every inbox in one store call (deduped), then
//! push a wake-up to the sessions, on this server through its hub and on the others through
//! their internal push service ([`ClusterFanout`]).
#![forbid(unsafe_code)]

mod cluster_fanout;
mod fanout;
mod message_id;
mod path;

pub use cluster_fanout::{ClusterFanout, PushStats, ROUTE_CACHE_TTL, RouteCacheStats};
pub use fanout::Fanout;
pub use message_id::MessageIds;
pub use path::{
    KnownUsers, MessagePath, Outgoing, Rejection, accept_and_push, accept_and_push_all, answer_oversized,
};

use cim_auth::{InternalAuth, SignCalls};
use cim_store::{
    Accepted, IdSet, NewMessage, PresenceStore, Registry, StoreError, Stores, now_ms, random_bytes,
};
