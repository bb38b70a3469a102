//! The in-memory `Registry`: the servers of one process.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use cim_core::wire::ServerInfo;
use tokio::sync::watch;

use crate::registry::{Registry, RegistryError};

/// Servers registered in this process; the route of `cim up` reads what its server wrote.
pub struct MemoryRegistry {
    servers: Mutex<BTreeMap<String, ServerInfo>>,
    changes: watch::Sender<Vec<ServerInfo>>,
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self { servers: Mutex::new(BTreeMap::new()), changes: watch::Sender::new(Vec::new()) }
    }

    fn change(
        &self,
        edit: impl FnOnce(&mut BTreeMap<String, ServerInfo>) -> Result<(), RegistryError>,
    ) -> Result<(), RegistryError> {
        let mut servers = self.servers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        edit(&mut servers)?;
        let list: Vec<ServerInfo> = servers.values().cloned().collect();
        self.changes.send_replace(list);
        Ok(())
    }
}

impl Default for MemoryRegistry {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Registry for MemoryRegistry {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    async fn register(&self, server: ServerInfo) -> Result<(), RegistryError> {
        self.change(|servers| {
            if servers.contains_key(&server.server_id) {
                return Err(RegistryError::Duplicate(server.server_id));
            }
            servers.insert(server.server_id.clone(), server);
            Ok(())
        })
    }

    async fn update(&self, server: ServerInfo) -> Result<(), RegistryError> {
        self.change(|servers| {
            servers.insert(server.server_id.clone(), server);
            Ok(())
        })
    }

    async fn deregister(&self, server_id: &str) -> Result<(), RegistryError> {
        self.change(|servers| {
            servers.remove(server_id);
            Ok(())
        })
    }

    async fn servers(&self) -> Result<Vec<ServerInfo>, RegistryError> {
        Ok(self.changes.borrow().clone())
    }

    fn watch(&self) -> watch::Receiver<Vec<ServerInfo>> {
        self.changes.subscribe()
    }
}
