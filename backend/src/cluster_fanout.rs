//! Fan-out across servers (spec §15.2): local sessions directly, other servers' sessions
//! through their internal gRPC push service.
//!
//! A push is a wake-up, not the record: the entry is already in the inbox, so a push that
//! fails (a server just died, a network blip) is logged and dropped, and the session catches
//! up from the store on its next push or after it reconnects.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cim_core::wire;
use cim_proto::v1::internal_push_client::InternalPushClient;
use tonic::transport::{Channel, Endpoint};

use crate::{Fanout, Registry, Store};

/// Delivers to this process's sessions (if it has any) and to every other server's.
pub struct ClusterFanout {
    server_id: String,
    local: Option<Arc<dyn Fanout>>,
    store: Arc<dyn Store>,
    /// The registry's list, kept fresh by its watcher: no registry round trip per message.
    servers: tokio::sync::watch::Receiver<Vec<wire::ServerInfo>>,
    /// Long-lived channels to other servers, by internal endpoint.
    channels: Mutex<HashMap<String, Channel>>,
}

impl ClusterFanout {
    /// Fan-out for server `server_id` (empty for a route) with its local sessions in `local`.
    pub fn new(
        server_id: impl Into<String>,
        local: Option<Arc<dyn Fanout>>,
        store: Arc<dyn Store>,
        registry: Arc<dyn Registry>,
    ) -> Self {
        let servers = registry.watch();
        Self { server_id: server_id.into(), local, store, servers, channels: Mutex::new(HashMap::new()) }
    }

    fn channel(&self, endpoint: &str) -> Option<Channel> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(channel) = channels.get(endpoint) {
            return Some(channel.clone());
        }
        let channel = Endpoint::from_shared(format!("http://{endpoint}"))
            .ok()?
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(2))
            .connect_lazy();
        channels.insert(endpoint.to_owned(), channel.clone());
        Some(channel)
    }

    /// Internal endpoints of the other live servers, by server id.
    fn peers(&self) -> BTreeMap<String, String> {
        self.servers
            .borrow()
            .iter()
            .filter(|s| s.server_id != self.server_id && !s.internal_endpoint.is_empty())
            .map(|s| (s.server_id.clone(), s.internal_endpoint.clone()))
            .collect()
    }

    async fn send_batch(&self, server_id: &str, endpoint: &str, pushes: Vec<wire::Push>) {
        let Some(channel) = self.channel(endpoint) else { return };
        let batch = wire::PushBatch { from_server_id: self.server_id.clone(), pushes };
        if let Err(status) = InternalPushClient::new(channel).push(batch).await {
            tracing::debug!(server = %server_id, %endpoint, error = %status, "push to another server failed; its sessions catch up from the inbox");
        }
    }
}

#[async_trait]
impl Fanout for ClusterFanout {
    async fn push(&self, pushes: Vec<wire::Push>) {
        if let Some(local) = &self.local {
            local.push(pushes.clone()).await;
        }
        let peers = self.peers();
        if peers.is_empty() {
            return;
        }
        let mut batches: BTreeMap<&str, Vec<wire::Push>> = BTreeMap::new();
        for push in pushes {
            if push.user_id.is_empty() {
                // A broadcast: every server.
                for server in peers.keys() {
                    batches.entry(server.as_str()).or_default().push(push.clone());
                }
                continue;
            }
            let sessions = self.store.sessions_of(&push.user_id).await.unwrap_or_default();
            let mut servers: Vec<&str> = sessions
                .iter()
                .filter_map(|s| peers.get_key_value(&s.server_id).map(|(id, _)| id.as_str()))
                .collect();
            servers.dedup();
            for server in servers {
                batches.entry(server).or_default().push(push.clone());
            }
        }
        for (server, pushes) in batches {
            if let Some(endpoint) = peers.get(server) {
                self.send_batch(server, endpoint, pushes).await;
            }
        }
    }

    async fn end_sessions(&self, user_id: &str, session_id: Option<&str>, reason: wire::GoAwayReason) -> u32 {
        let mut ended = match &self.local {
            Some(local) => local.end_sessions(user_id, session_id, reason).await,
            None => 0,
        };
        let peers = self.peers();
        let sessions = self.store.sessions_of(user_id).await.unwrap_or_default();
        let mut servers: Vec<&String> = sessions
            .iter()
            .filter(|s| session_id.is_none_or(|id| id == s.session_id))
            .map(|s| &s.server_id)
            .filter(|id| peers.contains_key(*id))
            .collect();
        servers.sort();
        servers.dedup();
        for server in servers {
            let Some(channel) = peers.get(server).and_then(|endpoint| self.channel(endpoint)) else {
                continue;
            };
            let request = wire::EndSessionsRequest {
                user_id: user_id.to_owned(),
                session_id: session_id.unwrap_or_default().to_owned(),
                reason: reason as i32,
            };
            match InternalPushClient::new(channel).end_sessions(request).await {
                Ok(response) => ended += response.into_inner().ended,
                Err(status) => {
                    tracing::debug!(%server, error = %status, "could not end sessions on another server")
                }
            }
        }
        ended
    }
}
