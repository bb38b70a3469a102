//! Choosing backends from the command line: `--redis` for the store and `--zookeeper` for
//! the registry; without them, in-memory ones.

use std::sync::Arc;

use crate::{MemoryRegistry, MemoryStore, RedisStore, Registry, Store, ZooKeeperRegistry};

/// The backend flags every binary shares.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct BackendArgs {
    /// Redis holding accounts, sessions, inboxes and groups (`redis://host:port`; for a
    /// Redis Cluster any node or several, comma-separated: it is detected)
    /// [default: in memory, lost on exit].
    #[arg(long, env = "CIM_REDIS", value_name = "URL")]
    pub redis: Option<String>,
    /// Prefix of every Redis key, to share one Redis between deployments.
    #[arg(long, env = "CIM_REDIS_PREFIX", default_value = "cim:")]
    pub redis_prefix: String,
    /// ZooKeeper ensemble where servers register (`host:port,host:port`)
    /// [default: in memory, this process only].
    #[arg(long, env = "CIM_ZOOKEEPER", value_name = "HOSTS")]
    pub zookeeper: Option<String>,
    /// ZooKeeper path under which this deployment registers.
    #[arg(long, env = "CIM_ZOOKEEPER_ROOT", default_value = "/cim")]
    pub zookeeper_root: String,
    /// ZooKeeper session timeout: a server killed without deregistering stays listed (and
    /// is offered to logins) for about this long.
    #[arg(long, env = "CIM_ZOOKEEPER_SESSION_TIMEOUT_SECS", value_name = "SECS", default_value_t = 6)]
    pub zookeeper_session_timeout_secs: u64,
}

impl BackendArgs {
    /// Connects to the chosen store; the error is one line a person can act on.
    pub async fn store(&self) -> Result<Arc<dyn Store>, String> {
        match &self.redis {
            Some(url) => {
                let store = RedisStore::connect(url, &self.redis_prefix).await.map_err(startup_error)?;
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

    /// Connects to the chosen registry of servers.
    pub async fn registry(&self) -> Result<Arc<dyn Registry>, String> {
        match &self.zookeeper {
            Some(hosts) => {
                let registry = ZooKeeperRegistry::connect_with(
                    hosts,
                    &self.zookeeper_root,
                    std::time::Duration::from_secs(self.zookeeper_session_timeout_secs.max(1)),
                )
                .await
                .map_err(|e| match e {
                    crate::RegistryError::Unavailable(message) => message,
                    e => e.to_string(),
                })?;
                tracing::info!(registry = %registry.describe(), "registry: ZooKeeper");
                Ok(Arc::new(registry))
            }
            None => {
                tracing::warn!(
                    "no --zookeeper: the registry is in memory, only servers in this process are known"
                );
                Ok(Arc::new(MemoryRegistry::new()))
            }
        }
    }
}

/// A store that cannot be opened, as one line: the reason, without the error's category.
fn startup_error(error: crate::StoreError) -> String {
    match error {
        crate::StoreError::Unavailable(message) => strip_os_error(&message),
        e => e.to_string(),
    }
}

/// `connection refused (os error 111)` → `connection refused`.
fn strip_os_error(message: &str) -> String {
    match message.rfind(" (os error ") {
        Some(at) if message.ends_with(')') => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}
