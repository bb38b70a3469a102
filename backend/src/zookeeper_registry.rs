//! The ZooKeeper `Registry`: servers announce themselves as ephemeral znodes.
//!
//! Layout: `{root}/servers/{server id}`, an ephemeral node whose data is the protobuf
//! `ServerInfo`. A server that dies loses its ZooKeeper session and its node with it. Readers
//! watch the children and refresh the data every few seconds (connection counts change
//! without the children changing); while ZooKeeper is away they keep the last list.

use std::time::Duration;

use async_trait::async_trait;
use cim_core::wire::ServerInfo;
use prost::Message;
use tokio::sync::watch;
use zookeeper_client as zk;

use crate::registry::{Registry, RegistryError};

/// How often the list is read again even without a child event (for load updates).
const REFRESH: Duration = Duration::from_secs(2);

/// Servers in a ZooKeeper ensemble.
pub struct ZooKeeperRegistry {
    hosts: String,
    root: String,
    client: zk::Client,
    list: watch::Sender<Vec<ServerInfo>>,
    watcher: tokio::task::JoinHandle<()>,
}

fn unavailable(error: zk::Error) -> RegistryError {
    RegistryError::Unavailable(error.to_string())
}

impl ZooKeeperRegistry {
    /// Connects to `hosts` (`host:port,host:port`), creating `{root}/servers` if needed.
    pub async fn connect(hosts: &str, root: &str) -> Result<Self, RegistryError> {
        let unreachable = |reason: String| {
            RegistryError::Unavailable(format!("cannot reach ZooKeeper at {hosts}: {reason}"))
        };
        let client = tokio::time::timeout(Duration::from_secs(5), zk::Client::connect(hosts))
            .await
            .map_err(|_| unreachable("timed out".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let root = root.trim_end_matches('/').to_owned();
        let persistent = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        for path in [root.clone(), format!("{root}/servers")] {
            match client.create(&path, &[], &persistent).await {
                Ok(_) | Err(zk::Error::NodeExists) => {}
                Err(e) => return Err(unreachable(format!("cannot create {path}: {e}"))),
            }
        }
        let list = watch::Sender::new(Vec::new());
        let watcher = tokio::spawn(watch_servers(client.clone(), format!("{root}/servers"), list.clone()));
        let registry = Self { hosts: hosts.to_owned(), root, client, list, watcher };
        // Start with a real list rather than an empty one.
        if let Ok(servers) = read_servers(&registry.client, &registry.dir()).await {
            registry.list.send_replace(servers);
        }
        Ok(registry)
    }

    fn dir(&self) -> String {
        format!("{}/servers", self.root)
    }

    fn path(&self, server_id: &str) -> String {
        format!("{}/{server_id}", self.dir())
    }
}

impl Drop for ZooKeeperRegistry {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

async fn read_servers(client: &zk::Client, dir: &str) -> Result<Vec<ServerInfo>, zk::Error> {
    let (mut children, _) = client.get_children(dir).await?;
    children.sort();
    let mut servers = Vec::with_capacity(children.len());
    for child in children {
        match client.get_data(&format!("{dir}/{child}")).await {
            Ok((data, _)) => {
                if let Ok(info) = ServerInfo::decode(data.as_slice()) {
                    servers.push(info);
                }
            }
            // Gone between listing and reading: skip it.
            Err(zk::Error::NoNode) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(servers)
}

async fn watch_servers(client: zk::Client, dir: String, list: watch::Sender<Vec<ServerInfo>>) {
    loop {
        match client.get_and_watch_children(&dir).await {
            Ok((_, _, watcher)) => {
                if let Ok(servers) = read_servers(&client, &dir).await {
                    list.send_if_modified(|current| {
                        let changed = *current != servers;
                        *current = servers;
                        changed
                    });
                }
                // Wake on a child change, or refresh for load updates.
                let _ = tokio::time::timeout(REFRESH, watcher.changed()).await;
            }
            Err(e) => {
                // ZooKeeper is away: keep serving the last known list.
                tracing::warn!(error = %e, "cannot read the server list from ZooKeeper; keeping the last one");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[async_trait]
impl Registry for ZooKeeperRegistry {
    fn describe(&self) -> String {
        format!("zookeeper {}{}", self.hosts, self.root)
    }

    async fn register(&self, server: ServerInfo) -> Result<(), RegistryError> {
        let ephemeral = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
        match self.client.create(&self.path(&server.server_id), &server.encode_to_vec(), &ephemeral).await {
            Ok(_) => {}
            Err(zk::Error::NodeExists) => return Err(RegistryError::Duplicate(server.server_id)),
            Err(e) => return Err(unavailable(e)),
        }
        if let Ok(servers) = read_servers(&self.client, &self.dir()).await {
            self.list.send_replace(servers);
        }
        Ok(())
    }

    async fn update(&self, server: ServerInfo) -> Result<(), RegistryError> {
        self.client
            .set_data(&self.path(&server.server_id), &server.encode_to_vec(), None)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn deregister(&self, server_id: &str) -> Result<(), RegistryError> {
        match self.client.delete(&self.path(server_id), None).await {
            Ok(()) | Err(zk::Error::NoNode) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn servers(&self) -> Result<Vec<ServerInfo>, RegistryError> {
        match read_servers(&self.client, &self.dir()).await {
            Ok(servers) => Ok(servers),
            // The last known list beats no list: logins keep working while ZooKeeper is away.
            Err(e) => {
                tracing::warn!(error = %e, "ZooKeeper unavailable; answering from the last known server list");
                Ok(self.list.borrow().clone())
            }
        }
    }

    fn watch(&self) -> watch::Receiver<Vec<ServerInfo>> {
        self.list.subscribe()
    }
}
