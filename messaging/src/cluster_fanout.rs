//! Fan-out across servers (spec §15.2): local sessions directly, other servers' sessions
//! through their internal gRPC push service.
//!
//! A push is a wake-up, not the record: the entry is already in the inbox, so a push that
//! fails (a server just died, a network blip) is logged and dropped, and the session catches
//! up from the store on its next push, its periodic inbox re-read, or after it reconnects.
//!
//! Pushes to each other server go through one queue and one task per server, which sends
//! whatever has queued up as a single `PushBatch`: one call per message when traffic is light,
//! one call per several hundred when it is heavy, in order, over a long-lived channel.
//!
//! Which other servers hold a user's sessions is cached for [`ROUTE_CACHE_TTL`] so that a
//! busy conversation costs no store read per message (spec §15.5). An entry is dropped when a
//! server it names leaves the registry or answers that the user is gone from it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cim_core::wire;
use cim_proto::v1::internal_push_client::InternalPushClient;
use futures_util::future::join_all;
use tokio::sync::mpsc;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::{Fanout, InternalAuth, PresenceStore, Registry, SignCalls};

/// A client of another server's internal push service, every call signed (spec §15.2).
type PushClient = InternalPushClient<InterceptedService<Channel, SignCalls>>;

/// Delivers to the sessions of the other servers of the deployment, over their internal push
/// service. The sessions of the server it runs in are that server's to reach (its hub, which
/// this never holds); in a route, every server is another.
pub struct ClusterFanout {
    /// The server this runs in; `None` in a route.
    server_id: Option<String>,
    presence: Arc<dyn PresenceStore>,
    /// The registry's list, kept fresh by its watcher: no registry round trip per message.
    servers: tokio::sync::watch::Receiver<Vec<wire::ServerInfo>>,
    /// Long-lived channels to other servers, by internal endpoint.
    channels: Mutex<HashMap<String, Channel>>,
    /// A push queue per other server, by internal endpoint.
    queues: Mutex<HashMap<String, mpsc::Sender<wire::Push>>>,
    /// Other servers holding each recipient's sessions, as last read from the store.
    routes: Arc<Mutex<HashMap<String, CachedRoute>>>,
    route_hits: AtomicU64,
    route_misses: AtomicU64,
    /// What went to other servers, for `/metrics`.
    sent: Arc<SentCounters>,
    /// Signs the calls, so that other servers know they come from this deployment.
    auth: InternalAuth,
}

/// How often the route cache answered, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouteCacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that read the store.
    pub misses: u64,
}

/// What a fan-out sent to other servers, for `/metrics`: how well pushes travel together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushStats {
    /// `PushBatch` calls made.
    pub batches: u64,
    /// Pushes in them.
    pub pushes: u64,
}

#[derive(Debug, Default)]
struct SentCounters {
    batches: AtomicU64,
    pushes: AtomicU64,
}

/// How long a cached route is used before the store is read again (spec §15.5).
pub const ROUTE_CACHE_TTL: Duration = Duration::from_secs(2);

/// Pushes waiting for one server; beyond that they are dropped (they are only wake-ups).
const PUSH_QUEUE: usize = 8192;

/// At most this many pushes in one `PushBatch`.
const MAX_BATCH: usize = 512;

/// Above this many cached users, expired entries are swept out.
const ROUTE_CACHE_SWEEP: usize = 100_000;

struct CachedRoute {
    /// Server ids, sorted, without this server.
    servers: Vec<String>,
    read_at: Instant,
}

impl ClusterFanout {
    /// Fan-out from server `server_id` to the others, signing its calls with `auth` (the
    /// deployment's, from its token secret).
    pub fn for_server(
        server_id: impl Into<String>,
        presence: Arc<dyn PresenceStore>,
        registry: Arc<dyn Registry>,
        auth: InternalAuth,
    ) -> Self {
        Self::new(Some(server_id.into()), presence, registry, auth)
    }

    /// Fan-out for a route, which holds no sessions: every push goes to the servers.
    pub fn for_route(
        presence: Arc<dyn PresenceStore>,
        registry: Arc<dyn Registry>,
        auth: InternalAuth,
    ) -> Self {
        Self::new(None, presence, registry, auth)
    }

    fn new(
        server_id: Option<String>,
        presence: Arc<dyn PresenceStore>,
        registry: Arc<dyn Registry>,
        auth: InternalAuth,
    ) -> Self {
        let servers = registry.watch();
        Self {
            server_id,
            presence,
            servers,
            channels: Mutex::new(HashMap::new()),
            queues: Mutex::new(HashMap::new()),
            routes: Arc::new(Mutex::new(HashMap::new())),
            route_hits: AtomicU64::new(0),
            route_misses: AtomicU64::new(0),
            sent: Arc::default(),
            auth,
        }
    }

    /// The id of the server this runs in; `None` in a route.
    fn server_id(&self) -> Option<&str> {
        self.server_id.as_deref()
    }

    /// Whether any other live server is registered: with none (`cim up`, a cluster of one),
    /// there is nobody to push to.
    pub fn has_peers(&self) -> bool {
        let own = self.server_id();
        self.servers
            .borrow()
            .iter()
            .any(|s| Some(s.server_id.as_str()) != own && !s.internal_endpoint.is_empty())
    }

    /// Hits and misses of the route cache so far.
    pub fn route_cache_stats(&self) -> RouteCacheStats {
        RouteCacheStats {
            hits: self.route_hits.load(Ordering::Relaxed),
            misses: self.route_misses.load(Ordering::Relaxed),
        }
    }

    /// Batches and pushes sent to other servers so far.
    pub fn push_stats(&self) -> PushStats {
        PushStats {
            batches: self.sent.batches.load(Ordering::Relaxed),
            pushes: self.sent.pushes.load(Ordering::Relaxed),
        }
    }

    fn routes(&self) -> MutexGuard<'_, HashMap<String, CachedRoute>> {
        lock_routes(&self.routes)
    }

    /// The push queue to the server at `endpoint`, started on first use.
    fn queue(&self, server_id: &str, endpoint: &str) -> Option<mpsc::Sender<wire::Push>> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(queue) = queues.get(endpoint).filter(|q| !q.is_closed()) {
            return Some(queue.clone());
        }
        let channel = self.channel(endpoint)?;
        let (tx, rx) = mpsc::channel(PUSH_QUEUE);
        let peer = Peer {
            server_id: server_id.to_owned(),
            endpoint: endpoint.to_owned(),
            from_server_id: self.server_id().unwrap_or_default().to_owned(),
            client: self.client(channel),
            routes: self.routes.clone(),
            sent: self.sent.clone(),
        };
        tokio::spawn(peer.run(rx));
        queues.insert(endpoint.to_owned(), tx.clone());
        Some(tx)
    }

    /// The other live servers holding `user_id`'s sessions: from the cache while it is fresh
    /// and names only live servers, else from the store.
    async fn servers_of(&self, user_id: &str, peers: &BTreeMap<String, String>) -> Vec<String> {
        if let Some(route) = self.routes().get(user_id)
            && route.read_at.elapsed() < ROUTE_CACHE_TTL
            && route.servers.iter().all(|s| peers.contains_key(s))
        {
            self.route_hits.fetch_add(1, Ordering::Relaxed);
            return route.servers.clone();
        }
        self.route_misses.fetch_add(1, Ordering::Relaxed);
        let Ok(sessions) = self.presence.sessions_of(user_id).await else { return Vec::new() };
        let online = !sessions.is_empty();
        let mut servers: Vec<String> = sessions
            .into_iter()
            .map(|s| s.server_id)
            .filter(|id| Some(id.as_str()) != self.server_id() && peers.contains_key(id))
            .collect();
        servers.sort();
        servers.dedup();
        // Users online anywhere are cached, those on this server only too (no other server to
        // push to is an answer worth keeping: in a group, half the members of a two-server
        // deployment are local, and each message would read the store for every one of them).
        // Offline users are not: one who logs in must be found at once.
        if online {
            let mut routes = self.routes();
            if routes.len() >= ROUTE_CACHE_SWEEP {
                routes.retain(|_, r| r.read_at.elapsed() < ROUTE_CACHE_TTL);
            }
            routes.insert(
                user_id.to_owned(),
                CachedRoute { servers: servers.clone(), read_at: Instant::now() },
            );
        }
        servers
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

    fn client(&self, channel: Channel) -> PushClient {
        InternalPushClient::with_interceptor(channel, self.auth.signer())
    }

    /// Internal endpoints of the other live servers, by server id.
    fn peers(&self) -> BTreeMap<String, String> {
        self.servers
            .borrow()
            .iter()
            .filter(|s| Some(s.server_id.as_str()) != self.server_id() && !s.internal_endpoint.is_empty())
            .map(|s| (s.server_id.clone(), s.internal_endpoint.clone()))
            .collect()
    }
}

fn lock_routes(routes: &Mutex<HashMap<String, CachedRoute>>) -> MutexGuard<'_, HashMap<String, CachedRoute>> {
    routes.lock().unwrap_or_else(|p| p.into_inner())
}

/// The sending end of one other server's push queue.
struct Peer {
    server_id: String,
    endpoint: String,
    from_server_id: String,
    client: PushClient,
    routes: Arc<Mutex<HashMap<String, CachedRoute>>>,
    sent: Arc<SentCounters>,
}

impl Peer {
    /// Sends what has queued up, one batch at a time, until the fan-out is dropped.
    async fn run(mut self, mut queue: mpsc::Receiver<wire::Push>) {
        let mut pushes = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut pushes, MAX_BATCH).await > 0 {
            self.sent.batches.fetch_add(1, Ordering::Relaxed);
            self.sent.pushes.fetch_add(pushes.len() as u64, Ordering::Relaxed);
            let batch = wire::PushBatch {
                from_server_id: self.from_server_id.clone(),
                pushes: std::mem::take(&mut pushes),
            };
            match self.client.push(batch).await {
                Ok(result) => {
                    let gone = result.into_inner().gone_user_ids;
                    if !gone.is_empty() {
                        let mut routes = lock_routes(&self.routes);
                        for user in gone {
                            routes.remove(&user);
                        }
                    }
                }
                Err(status) => {
                    tracing::debug!(server = %self.server_id, endpoint = %self.endpoint, error = %status, "push to another server failed; its sessions catch up from the inbox");
                }
            }
        }
    }
}

#[async_trait]
impl Fanout for ClusterFanout {
    async fn push(&self, pushes: Vec<wire::Push>) {
        let peers = self.peers();
        if peers.is_empty() {
            return;
        }
        // Every recipient's route first, the uncached ones read from the store together rather
        // than one after another: a group's members enter the cache together and leave it
        // together, and a message that found them all expired waited for a read per member.
        let peers_ref = &peers;
        let routes = join_all(pushes.iter().map(|push| async move {
            if push.user_id.is_empty() { Vec::new() } else { self.servers_of(&push.user_id, peers_ref).await }
        }))
        .await;
        let mut batches: BTreeMap<&str, Vec<wire::Push>> = BTreeMap::new();
        for (push, servers) in pushes.into_iter().zip(routes) {
            if push.user_id.is_empty() {
                // A broadcast: every server.
                for server in peers.keys() {
                    batches.entry(server.as_str()).or_default().push(push.clone());
                }
                continue;
            }
            for server in servers {
                if let Some((id, _)) = peers.get_key_value(&server) {
                    batches.entry(id.as_str()).or_default().push(push.clone());
                }
            }
        }
        for (server, pushes) in batches {
            let Some(queue) = peers.get(server).and_then(|endpoint| self.queue(server, endpoint)) else {
                continue;
            };
            for push in pushes {
                // A full queue means that server is far behind or dying: drop the wake-up
                // rather than stall this server's senders; the inbox still has the entry.
                if let Err(mpsc::error::TrySendError::Full(_)) = queue.try_send(push) {
                    tracing::warn!(%server, "push queue full; dropping a wake-up (the session catches up from its inbox)");
                }
            }
        }
    }

    async fn end_sessions(&self, user_id: &str, session_id: Option<&str>, reason: wire::GoAwayReason) -> u32 {
        let mut ended = 0;
        let peers = self.peers();
        let sessions = self.presence.sessions_of(user_id).await.unwrap_or_default();
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
            match self.client(channel).end_sessions(request).await {
                Ok(response) => ended += response.into_inner().ended,
                Err(status) => {
                    tracing::debug!(%server, error = %status, "could not end sessions on another server")
                }
            }
        }
        ended
    }
}
