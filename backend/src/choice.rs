//! Choosing backends from the command line: `--redis` for the store and `--zookeeper` for
//! the registry; without them, in-memory ones.

use std::sync::Arc;

use crate::process::StartError;
use crate::{InboxLimits, MemoryRegistry, MemoryStore, RedisStore, Registry, Store, ZooKeeperRegistry};

/// The backend flags every binary shares.
#[derive(clap::Args, Clone, Debug)]
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
    /// Most entries an inbox holds; beyond it senders are refused with INBOX_FULL, and nothing
    /// is dropped unread to make room.
    #[arg(long, env = "CIM_INBOX_LIMIT", value_name = "N", default_value_t = InboxLimits::default().max_entries)]
    pub inbox_limit: u64,
    /// Most entries of one sender in another user's inbox, so that no one can fill it.
    #[arg(long, env = "CIM_INBOX_LIMIT_PER_SENDER", value_name = "N", default_value_t = InboxLimits::default().max_entries_per_sender)]
    pub inbox_limit_per_sender: u64,
    /// Days an entry stays in an inbox when some device has not acknowledged it; then it is
    /// removed unread and that device's next resume reports a GAP.
    #[arg(long, env = "CIM_INBOX_RETENTION_DAYS", value_name = "DAYS", default_value_t = 7)]
    pub inbox_retention_days: u64,
}

impl BackendArgs {
    /// The inbox limits these flags set.
    pub fn inbox_limits(&self) -> InboxLimits {
        InboxLimits {
            max_entries: self.inbox_limit.max(1),
            max_entries_per_sender: self.inbox_limit_per_sender.max(1),
            retention_ms: self.inbox_retention_days.max(1).saturating_mul(24 * 60 * 60 * 1000),
        }
    }

    /// Connects to the chosen store; the error is one line a person can act on.
    pub async fn store(&self) -> Result<Arc<dyn Store>, StartError> {
        match &self.redis {
            Some(url) => {
                let store = RedisStore::connect_with(url, &self.redis_prefix, self.inbox_limits())
                    .await
                    .map_err(startup_error)?;
                tracing::info!(store = %store.describe(), "store: Redis");
                Ok(Arc::new(store))
            }
            None => {
                tracing::warn!(
                    "no --redis: accounts, sessions and inboxes are kept in memory and lost on exit"
                );
                Ok(Arc::new(MemoryStore::with_limits(self.inbox_limits())))
            }
        }
    }

    /// Connects to the chosen registry of servers.
    pub async fn registry(&self) -> Result<Arc<dyn Registry>, StartError> {
        match &self.zookeeper {
            Some(hosts) => {
                let registry = ZooKeeperRegistry::connect_with(
                    hosts,
                    &self.zookeeper_root,
                    std::time::Duration::from_secs(self.zookeeper_session_timeout_secs.max(1)),
                )
                .await
                .map_err(|e| {
                    StartError::Registry(match e {
                        crate::RegistryError::Unavailable(message) => message,
                        e => e.to_string(),
                    })
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
fn startup_error(error: crate::StoreError) -> StartError {
    StartError::Store(match error {
        crate::StoreError::Unavailable(message) => strip_os_error(&message),
        e => e.to_string(),
    })
}

/// `connection refused (os error 111)` → `connection refused`.
fn strip_os_error(message: &str) -> String {
    match message.rfind(" (os error ") {
        Some(at) if message.ends_with(')') => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}
