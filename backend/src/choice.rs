//! Choosing backends from the command line: `--redis` for the store (and, with the cluster
//! work, `--zookeeper` for the registry); without them, in-memory ones.

use std::sync::Arc;

use crate::{MemoryRegistry, MemoryStore, RedisStore, Registry, Store};

/// The backend flags every binary shares.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct BackendArgs {
    /// Redis holding accounts, sessions, inboxes and groups (`redis://host:port`)
    /// [default: in memory, lost on exit].
    #[arg(long, env = "CIM_REDIS", value_name = "URL")]
    pub redis: Option<String>,
    /// Prefix of every Redis key, to share one Redis between deployments.
    #[arg(long, env = "CIM_REDIS_PREFIX", default_value = "cim:")]
    pub redis_prefix: String,
}

impl BackendArgs {
    /// Connects to the chosen store; the error is one line a person can act on.
    pub async fn store(&self) -> Result<Arc<dyn Store>, String> {
        match &self.redis {
            Some(url) => {
                let store = RedisStore::connect(url, &self.redis_prefix).await.map_err(|e| e.to_string())?;
                tracing::info!(store = %store.describe(), "store: Redis");
                Ok(Arc::new(store))
            }
            None => {
                tracing::warn!(
                    "no --redis: accounts, sessions and inboxes are kept in memory and lost on exit"
                );
                Ok(Arc::new(MemoryStore::new()))
            }
        }
    }

    /// The registry of servers. Only in memory until the ZooKeeper registry lands, so routes
    /// and servers in separate processes do not see each other yet.
    pub async fn registry(&self) -> Result<Arc<dyn Registry>, String> {
        tracing::warn!("registry in memory: only servers in this process are known");
        Ok(Arc::new(MemoryRegistry::new()))
    }
}
