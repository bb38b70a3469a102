//! The `Registry` trait: which servers exist, where they listen, how loaded they are.

use async_trait::async_trait;
use cim_core::wire::ServerInfo;
use tokio::sync::watch;

/// Why a registry call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The backend cannot be reached; routes keep serving from the last known list.
    #[error("registry unavailable: {0}")]
    Unavailable(String),
    /// Another live server already uses this id.
    #[error("server id {0} is already registered")]
    Duplicate(String),
}

/// Server discovery (spec §15). Implementations: [`MemoryRegistry`](crate::MemoryRegistry)
/// here, ZooKeeper with the cluster.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// One line for logs and `/healthz`.
    fn describe(&self) -> String;
    /// Announces a server; it stays registered while this registry handle lives.
    async fn register(&self, server: ServerInfo) -> Result<(), RegistryError>;
    /// Updates a registered server's load or draining flag.
    async fn update(&self, server: ServerInfo) -> Result<(), RegistryError>;
    /// Removes a server (on shutdown).
    async fn deregister(&self, server_id: &str) -> Result<(), RegistryError>;
    /// The servers known now, by id.
    async fn servers(&self) -> Result<Vec<ServerInfo>, RegistryError>;
    /// The list, updated whenever it changes.
    fn watch(&self) -> watch::Receiver<Vec<ServerInfo>>;
}
