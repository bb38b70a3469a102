//! The ZooKeeper `Registry`: servers announce themselves as ephemeral znodes.
//!
//! Layout (spec §15.4): `{root}/servers/{server id}`, an ephemeral node whose data is the
//! protobuf `ServerInfo`. A server that dies loses its ZooKeeper session and its node with
//! it. Readers watch the children and refresh the data every few seconds (connection counts
//! change without the children changing); while ZooKeeper is away they keep the last list.
//!
//! A ZooKeeper session that expires (ZooKeeper was away longer than the session timeout, or
//! was replaced by an empty one) cannot be revived: the registry opens a new session,
//! recreates the layout and registers this process's server again.
#![forbid(unsafe_code)]

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use cim_core::wire::ServerInfo;
use prost::Message;
use tokio::sync::watch;
use zookeeper_client as zk;

use cim_store::{Registry, RegistryError};

/// How often the list is read again even without a child event (for load updates).
const REFRESH: Duration = Duration::from_secs(2);

/// The ZooKeeper session timeout when none is given: how long a killed server stays listed.
pub(crate) const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(6);

/// Servers in a ZooKeeper ensemble.
pub struct ZooKeeperRegistry {
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// What the registry handle and its background tasks share.
struct Shared {
    hosts: String,
    root: String,
    session_timeout: Duration,
    /// The live session; replaced when one expires.
    client: RwLock<zk::Client>,
    /// The server this process registered, to register again in a new session.
    registered: Mutex<Option<ServerInfo>>,
    list: watch::Sender<Vec<ServerInfo>>,
}

fn unavailable(error: zk::Error) -> RegistryError {
    RegistryError::Unavailable(error.to_string())
}

impl ZooKeeperRegistry {
    /// Connects to `hosts` (`host:port,host:port`) with the default session timeout,
    /// creating `{root}/servers` if needed.
    pub async fn connect(hosts: &str, root: &str) -> Result<Self, RegistryError> {
        Self::connect_with(hosts, root, DEFAULT_SESSION_TIMEOUT).await
    }

    /// Like [`connect`](Self::connect) with a session timeout: a server that dies without
    /// deregistering stays listed for about this long.
    pub async fn connect_with(
        hosts: &str,
        root: &str,
        session_timeout: Duration,
    ) -> Result<Self, RegistryError> {
        let root = root.trim_end_matches('/').to_owned();
        let client = open_session(hosts, &root, session_timeout).await.map_err(|reason| {
            RegistryError::Unavailable(format!("cannot reach ZooKeeper at {hosts}: {reason}"))
        })?;
        let shared = Arc::new(Shared {
            hosts: hosts.to_owned(),
            root,
            session_timeout,
            client: RwLock::new(client),
            registered: Mutex::new(None),
            list: watch::Sender::new(Vec::new()),
        });
        // Start with a real list rather than an empty one.
        if let Ok(servers) = read_servers(&shared.client(), &shared.dir()).await {
            shared.list.send_replace(servers);
        }
        let tasks =
            vec![tokio::spawn(watch_servers(shared.clone())), tokio::spawn(keep_session(shared.clone()))];
        Ok(Self { shared, tasks })
    }
}

impl Drop for ZooKeeperRegistry {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Shared {
    fn client(&self) -> zk::Client {
        self.client.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn dir(&self) -> String {
        format!("{}/servers", self.root)
    }

    fn path(&self, server_id: &str) -> String {
        format!("{}/{server_id}", self.dir())
    }

    fn remember(&self, server: Option<ServerInfo>) {
        *self.registered.lock().unwrap_or_else(|p| p.into_inner()) = server;
    }

    fn registered(&self) -> Option<ServerInfo> {
        self.registered.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Creates this server's ephemeral node. A node of the same id left by an earlier
    /// process (killed, its session not yet expired) is waited out for up to twice the
    /// session timeout. A node owned by this session is a duplicate for a first
    /// registration, and taken over (`resume`) when registering again after a reconnect.
    async fn create_node(&self, server: &ServerInfo, resume: bool) -> Result<(), RegistryError> {
        let ephemeral = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
        let path = self.path(&server.server_id);
        let data = server.encode_to_vec();
        let deadline = tokio::time::Instant::now() + self.session_timeout * 2;
        let mut warned = false;
        loop {
            let client = self.client();
            match client.create(&path, &data, &ephemeral).await {
                Ok(_) => return Ok(()),
                Err(zk::Error::NodeExists) => {}
                Err(e) => return Err(unavailable(e)),
            }
            match client.check_stat(&path).await {
                Ok(Some(stat)) if stat.ephemeral_owner == client.session_id().0 => {
                    if !resume {
                        return Err(RegistryError::Duplicate(server.server_id.clone()));
                    }
                    client.set_data(&path, &data, None).await.map_err(unavailable)?;
                    return Ok(());
                }
                // Gone in between: try again at once.
                Ok(None) => continue,
                Ok(Some(_)) => {}
                Err(e) => return Err(unavailable(e)),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(RegistryError::Duplicate(server.server_id.clone()));
            }
            if !warned {
                tracing::warn!(
                    server = %server.server_id,
                    "another session holds this server id (a previous process?); waiting for it to expire"
                );
                warned = true;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Whether any member of the connect string accepts a TCP connection; if none does, the
/// first one's reason (`connection refused`).
async fn reachable(hosts: &str) -> Result<(), String> {
    // `host:port,host:port/chroot`, each possibly with a `tcp://` scheme.
    let hosts = hosts.replace("tcp://", "");
    let hosts = hosts.split('/').next().unwrap_or_default();
    let mut first_error = None;
    for host in hosts.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        match tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(host)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => {
                let reason = e.to_string().to_lowercase();
                let reason = reason.split(" (os error").next().unwrap_or(&reason).to_owned();
                first_error.get_or_insert(reason);
            }
            Err(_) => {
                first_error.get_or_insert_with(|| "timed out".to_owned());
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "no host given".to_owned()))
}

/// A session with the layout in place, or why not.
async fn open_session(hosts: &str, root: &str, session_timeout: Duration) -> Result<zk::Client, String> {
    // A quick look first: when no member even accepts a connection, say so at once rather
    // than let the client retry until its timeout.
    reachable(hosts).await?;
    let connect = zk::Client::connector().with_session_timeout(session_timeout).connect(hosts);
    let client = tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let persistent = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    for path in [root.to_owned(), format!("{root}/servers")] {
        match client.create(&path, &[], &persistent).await {
            Ok(_) | Err(zk::Error::NodeExists) => {}
            Err(e) => return Err(format!("cannot create {path}: {e}")),
        }
    }
    Ok(client)
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

async fn watch_servers(shared: Arc<Shared>) {
    let dir = shared.dir();
    loop {
        let client = shared.client();
        match client.get_and_watch_children(&dir).await {
            Ok((_, _, watcher)) => {
                if let Ok(servers) = read_servers(&client, &dir).await {
                    shared.list.send_if_modified(|current| {
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

/// Replaces an expired session with a new one and registers this server again in it.
async fn keep_session(shared: Arc<Shared>) {
    loop {
        let mut states = shared.client().state_watcher();
        loop {
            match states.peek_state() {
                zk::SessionState::Expired | zk::SessionState::Closed | zk::SessionState::AuthFailed => break,
                _ => {
                    states.changed().await;
                }
            }
        }
        tracing::warn!(hosts = %shared.hosts, "ZooKeeper session expired; opening a new one");
        let mut delay = Duration::from_millis(200);
        let client = loop {
            match open_session(&shared.hosts, &shared.root, shared.session_timeout).await {
                Ok(client) => break client,
                Err(reason) => {
                    tracing::warn!(hosts = %shared.hosts, %reason, "cannot open a ZooKeeper session yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        };
        *shared.client.write().unwrap_or_else(|p| p.into_inner()) = client;
        register_again(&shared).await;
    }
}

/// Registers this process's server in a new session, retrying until it is in (the old
/// session's node may linger until ZooKeeper expires it) or the server deregistered.
async fn register_again(shared: &Shared) {
    while let Some(server) = shared.registered() {
        match shared.create_node(&server, true).await {
            Ok(()) => {
                tracing::info!(server = %server.server_id, "registered again in a new ZooKeeper session");
                return;
            }
            Err(e) => {
                tracing::warn!(server = %server.server_id, error = %e, "cannot register again yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[async_trait]
impl Registry for ZooKeeperRegistry {
    fn describe(&self) -> String {
        format!("zookeeper {}{}", self.shared.hosts, self.shared.root)
    }

    async fn register(&self, server: ServerInfo) -> Result<(), RegistryError> {
        self.shared.create_node(&server, false).await?;
        self.shared.remember(Some(server));
        if let Ok(servers) = read_servers(&self.shared.client(), &self.shared.dir()).await {
            self.shared.list.send_replace(servers);
        }
        Ok(())
    }

    async fn update(&self, server: ServerInfo) -> Result<(), RegistryError> {
        self.shared.remember(Some(server.clone()));
        self.shared
            .client()
            .set_data(&self.shared.path(&server.server_id), &server.encode_to_vec(), None)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn deregister(&self, server_id: &str) -> Result<(), RegistryError> {
        self.shared.remember(None);
        match self.shared.client().delete(&self.shared.path(server_id), None).await {
            Ok(()) | Err(zk::Error::NoNode) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn servers(&self) -> Result<Vec<ServerInfo>, RegistryError> {
        let client = self.shared.client();
        if !matches!(client.state(), zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly) {
            // Don't make a login wait for a ZooKeeper that is away.
            return Ok(self.shared.list.borrow().clone());
        }
        match read_servers(&client, &self.shared.dir()).await {
            Ok(servers) => Ok(servers),
            // The last known list beats no list: logins keep working while ZooKeeper is away.
            Err(e) => {
                tracing::warn!(error = %e, "ZooKeeper unavailable; answering from the last known server list");
                Ok(self.shared.list.borrow().clone())
            }
        }
    }

    fn watch(&self) -> watch::Receiver<Vec<ServerInfo>> {
        self.shared.list.subscribe()
    }
}
