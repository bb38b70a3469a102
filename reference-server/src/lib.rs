//! cim's reference long-connection server.
//!
//! Accepts clients over varint-framed TCP and WebSocket, runs one `cim_core` `ServerSession`
//! per connection, stores every message in its recipients' inboxes before acknowledging it,
//! and pushes it to the recipients' live sessions. [`start`] runs it inside any tokio
//! runtime (the `cim-server` binary, or `cim up` next to the route).
#![forbid(unsafe_code)]

mod admin;
mod connection;
mod fanout;
mod hub;
mod internal;
mod metrics;
mod shutdown;
mod transport;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use cim_backend::messaging::KnownUsers;
use cim_backend::{Fanout, MessageIds, PresenceStore, Registry, Stores, TokenKeys};
use cim_core::server::{DeliveryConfig, ServerConfig, ServerLimits};
use cim_core::{Framing, defaults, wire};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use metrics::Metrics;

/// What to do when a user already has the maximum number of sessions (spec §9.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OverLimit {
    /// Refuse the new session with TOO_MANY_SESSIONS (the old cim's behaviour).
    Reject,
    /// End the oldest session with GoAway SESSION_REPLACED.
    KickOldest,
}

/// Settings of a server. Every option also reads a `CIM_*` environment variable.
#[derive(Clone, Debug, clap::Args)]
pub struct ServerOptions {
    /// Address for TCP clients (varint-framed frames).
    #[arg(long = "listen", env = "CIM_SERVER_LISTEN", default_value = "127.0.0.1:9000")]
    pub tcp_listen: SocketAddr,
    /// Address for WebSocket clients (one binary message per frame).
    #[arg(long, env = "CIM_SERVER_WS_LISTEN", default_value = "127.0.0.1:9001")]
    pub ws_listen: SocketAddr,
    /// Do not offer WebSocket.
    #[arg(long, env = "CIM_SERVER_NO_WS")]
    pub no_ws: bool,
    /// Address of the internal push service other servers and routes call (gRPC).
    #[arg(long, env = "CIM_SERVER_INTERNAL_LISTEN", default_value = "127.0.0.1:9002")]
    pub internal_listen: SocketAddr,
    /// Address of the admin HTTP endpoints /metrics and /healthz.
    #[arg(long, env = "CIM_SERVER_ADMIN_LISTEN", default_value = "127.0.0.1:9090")]
    pub admin_listen: SocketAddr,
    /// Host name clients should use to reach this server, as announced to the route
    /// [default: the listen address's IP].
    #[arg(long, env = "CIM_SERVER_PUBLIC_HOST")]
    pub public_host: Option<String>,
    /// Unique id of this server in the cluster [default: server-<tcp port>].
    #[arg(long, env = "CIM_SERVER_ID")]
    pub server_id: Option<String>,
    /// Most sessions (devices) one user may have at once.
    #[arg(long, env = "CIM_MAX_SESSIONS_PER_USER", default_value_t = 8)]
    pub max_sessions_per_user: usize,
    /// What to do with a new session over that limit.
    #[arg(long, env = "CIM_OVER_LIMIT", value_enum, default_value_t = OverLimit::Reject)]
    pub over_limit: OverLimit,
    /// Largest frame accepted from clients, in bytes (at least 65536).
    #[arg(long, env = "CIM_MAX_FRAME_SIZE", default_value_t = defaults::MAX_FRAME_SIZE)]
    pub max_frame_size: u32,
    /// Largest message body, in bytes (at most 61440).
    #[arg(long, env = "CIM_MAX_BODY_SIZE", default_value_t = defaults::MAX_BODY_SIZE)]
    pub max_body_size: u32,
    /// Unanswered Sends a client may have in flight.
    #[arg(long, env = "CIM_MAX_IN_FLIGHT", default_value_t = defaults::MAX_IN_FLIGHT)]
    pub max_in_flight: u32,
    /// Sustained Sends per second per connection (0: unlimited).
    #[arg(long, env = "CIM_SENDS_PER_SECOND", default_value_t = defaults::SENDS_PER_SECOND)]
    pub sends_per_second: u32,
    /// Sends a connection may make at once after a pause.
    #[arg(long, env = "CIM_SEND_BURST", default_value_t = defaults::SEND_BURST)]
    pub send_burst: u32,
    /// Seconds between client heartbeats, unless a client asks for another interval.
    #[arg(long, env = "CIM_HEARTBEAT_INTERVAL_SECS", default_value_t = defaults::HEARTBEAT_INTERVAL.as_secs())]
    pub heartbeat_interval_secs: u64,
    /// Seconds of silence after which a client is considered dead.
    #[arg(long, env = "CIM_HEARTBEAT_TIMEOUT_SECS", default_value_t = defaults::HEARTBEAT_TIMEOUT.as_secs())]
    pub heartbeat_timeout_secs: u64,
    /// Seconds a new connection has to send its Hello.
    #[arg(long, env = "CIM_HANDSHAKE_TIMEOUT_SECS", default_value_t = defaults::HANDSHAKE_TIMEOUT.as_secs())]
    pub handshake_timeout_secs: u64,
    /// PEM certificate chain: serve TLS on the TCP listener and wss:// on the WebSocket one.
    #[arg(long, env = "CIM_TLS_CERT", requires = "tls_key", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "CIM_TLS_KEY", requires = "tls_cert", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// Seconds a client may take to accept our bytes before it is dropped as a slow consumer.
    #[arg(long, env = "CIM_WRITE_TIMEOUT_SECS", default_value_t = 10)]
    pub write_timeout_secs: u64,
    /// Seconds to let sessions drain after GoAway on shutdown.
    #[arg(long, env = "CIM_DRAIN_SECS", default_value_t = 5)]
    pub drain_secs: u64,
    /// Most client connections open at once; beyond it new ones are told UNAVAILABLE and
    /// closed [default: the process's open-file limit less 1024, kept for the store, the
    /// other listeners and, in `cim up`, the route].
    #[arg(long, env = "CIM_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
}

impl ServerOptions {
    /// Puts every listener on a free port of 127.0.0.1 (tests, several servers on one host).
    pub fn listen_on_free_ports(&mut self) {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        (self.tcp_listen, self.ws_listen, self.admin_listen, self.internal_listen) = (any, any, any, any);
    }

    /// The defaults, as `cim-server` with no flags would use.
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            options: ServerOptions,
        }
        <Wrapper as clap::Parser>::parse_from(["cim-server"]).options
    }

    /// The connection limit in force.
    fn max_connections(&self) -> usize {
        self.max_connections.unwrap_or_else(|| {
            cim_backend::process::open_file_limit().map_or(16_384, |n| n.saturating_sub(1024).max(64))
        })
    }

    fn limits(&self) -> ServerLimits {
        ServerLimits {
            max_frame_size: self.max_frame_size,
            max_body_size: self.max_body_size,
            max_in_flight: self.max_in_flight,
            sends_per_second: self.sends_per_second,
            send_burst: self.send_burst,
        }
    }
}

/// Shared by every connection of a server.
pub(crate) struct Context {
    pub(crate) options: ServerOptions,
    pub(crate) session_config: Arc<ServerConfig>,
    pub(crate) store: Stores,
    pub(crate) hub: Arc<hub::Hub>,
    pub(crate) fanout: Arc<dyn Fanout>,
    /// The same fan-out, for its route-cache counters.
    pub(crate) cluster: Arc<cim_backend::ClusterFanout>,
    pub(crate) message_ids: MessageIds,
    pub(crate) known_users: Arc<KnownUsers>,
    pub(crate) server_id: String,
    pub(crate) metrics: Arc<Metrics>,
    /// Shared by every listener's context.
    pub(crate) shutdown: Arc<shutdown::Shutdown>,
}

impl Context {
    pub(crate) fn is_draining(&self) -> bool {
        self.shutdown.is_draining()
    }
}

/// A server that is running; [`shutdown`](Self::shutdown) stops it gracefully.
pub struct RunningServer {
    ctx: Arc<Context>,
    registry: Arc<dyn Registry>,
    info: wire::ServerInfo,
    tcp_addr: SocketAddr,
    ws_addr: Option<SocketAddr>,
    admin_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// Where TCP clients connect.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// Where WebSocket clients connect, if offered.
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        self.ws_addr
    }

    /// Where /metrics and /healthz are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// This server's registry entry.
    pub fn info(&self) -> &wire::ServerInfo {
        &self.info
    }

    /// Pushes to this server's sessions: what a route in the same process uses for its
    /// push API.
    pub fn fanout(&self) -> Arc<dyn Fanout> {
        self.ctx.fanout.clone()
    }

    /// The server's counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.ctx.metrics.clone()
    }

    /// Sessions connected now.
    pub fn session_count(&self) -> usize {
        self.ctx.hub.session_count()
    }

    /// Client connections open now, handshakes included.
    pub fn connection_count(&self) -> usize {
        usize::try_from(self.ctx.metrics.connections.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Leaves the registry, sends GoAway to every session, waits for them to drain (up to
    /// the drain time), then stops.
    pub async fn shutdown(self) {
        self.ctx.shutdown.drain();
        let _ = self.registry.deregister(&self.info.server_id).await;
        self.ctx.shutdown.start();
        self.ctx.hub.go_away_all(wire::GoAwayReason::Shutdown, "server shutting down");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(self.ctx.options.drain_secs);
        while self.ctx.metrics.connections.load(Ordering::Relaxed) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for task in self.tasks {
            task.abort();
        }
    }
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("cannot bind {addr} for {what}"))
}

/// Starts a server on `store`, registered in `registry`, verifying tokens with `keys`.
pub async fn start(
    options: ServerOptions,
    store: impl Into<Stores>,
    registry: Arc<dyn Registry>,
    keys: TokenKeys,
) -> anyhow::Result<RunningServer> {
    let store: Stores = store.into();
    let limits = options.limits();
    connection::check_limits(&limits)?;
    let tcp = bind(options.tcp_listen, "TCP clients").await?;
    let ws = if options.no_ws { None } else { Some(bind(options.ws_listen, "WebSocket clients").await?) };
    let admin = bind(options.admin_listen, "the admin endpoints").await?;
    let internal = bind(options.internal_listen, "the internal push service").await?;
    let internal_addr = internal.local_addr()?;
    let tcp_addr = tcp.local_addr()?;
    let ws_addr = ws.as_ref().map(TcpListener::local_addr).transpose()?;
    let admin_addr = admin.local_addr()?;

    let internal_auth = keys.internal_auth();
    let mut session_config = ServerConfig::new(Arc::new(keys), Framing::LengthPrefixed);
    session_config.limits = limits;
    session_config.heartbeat_interval = Duration::from_secs(options.heartbeat_interval_secs);
    session_config.heartbeat_timeout = Duration::from_secs(options.heartbeat_timeout_secs);
    session_config.handshake_timeout = Duration::from_secs(options.handshake_timeout_secs);
    session_config.delivery = DeliveryConfig {
        first_reread: cim_backend::ROUTE_CACHE_TTL + Duration::from_millis(500),
        reread_interval: Duration::from_secs(options.heartbeat_interval_secs.max(1)),
        ..DeliveryConfig::default()
    };
    let ws_session_config = ServerConfig { framing: Framing::Message, ..session_config.clone() };

    let tls = match (&options.tls_cert, &options.tls_key) {
        (Some(cert), Some(key)) => Some(load_tls(cert, key)?),
        _ => None,
    };
    let server_id = options.server_id.clone().unwrap_or_else(|| format!("server-{}", tcp_addr.port()));
    let host = options.public_host.clone().unwrap_or_else(|| tcp_addr.ip().to_string());
    let info = wire::ServerInfo {
        server_id: server_id.clone(),
        tcp_endpoint: format!("{host}:{}", tcp_addr.port()),
        ws_url: ws_addr
            .map(|a| format!("{}://{host}:{}/", if tls.is_some() { "wss" } else { "ws" }, a.port()))
            .unwrap_or_default(),
        tcp_tls: tls.is_some(),
        internal_endpoint: format!("{host}:{}", internal_addr.port()),
        connections: 0,
        draining: false,
    };
    registry
        .register(info.clone())
        .await
        .with_context(|| format!("cannot register in {}", registry.describe()))?;

    let hub = Arc::new(hub::Hub::default());
    let cluster = Arc::new(cim_backend::ClusterFanout::for_server(
        server_id.clone(),
        store.presence.clone(),
        registry.clone(),
        internal_auth.clone(),
    ));
    let fanout: Arc<dyn Fanout> =
        Arc::new(fanout::ServerFanout { hub: hub.clone(), cluster: cluster.clone() });
    let metrics = Arc::new(Metrics::default());
    let known_users = Arc::new(KnownUsers::default());
    let make_ctx = |session_config: ServerConfig| {
        Arc::new(Context {
            options: options.clone(),
            session_config: Arc::new(session_config),
            store: store.clone(),
            hub: hub.clone(),
            fanout: fanout.clone(),
            cluster: cluster.clone(),
            message_ids: MessageIds::new(),
            known_users: known_users.clone(),
            server_id: server_id.clone(),
            metrics: metrics.clone(),
            shutdown: Arc::default(),
        })
    };
    let ctx = make_ctx(session_config);
    // WebSocket connections differ only in framing; they share hub, metrics and shutdown.
    let ws_ctx = Arc::new(Context {
        session_config: Arc::new(ws_session_config),
        message_ids: MessageIds::new(),
        ..clone_context(&ctx)
    });

    let mut tasks = vec![tokio::spawn(accept_loop(tcp, ctx.clone(), Listener::Tcp, tls.clone()))];
    if let Some(ws) = ws {
        tasks.push(tokio::spawn(accept_loop(ws, ws_ctx, Listener::WebSocket, tls)));
    }
    tasks.push(tokio::spawn(admin::serve(admin, ctx.clone())));
    tasks.push(tokio::spawn(internal::serve(internal, hub.clone(), internal_auth)));
    tasks.push(tokio::spawn(refresh_presence(ctx.clone())));
    tasks.push(tokio::spawn(report_load(ctx.clone(), registry.clone(), info.clone())));
    tasks.push(tokio::spawn(forget_departed_servers(
        store.presence.clone(),
        registry.watch(),
        server_id.clone(),
        metrics.clone(),
    )));
    tracing::info!(%server_id, tcp = %tcp_addr, ws = ?ws_addr, admin = %admin_addr, store = %store.describe(), registry = %registry.describe(), "cim-server listening");
    Ok(RunningServer { ctx, registry, info, tcp_addr, ws_addr, admin_addr, tasks })
}

fn clone_context(ctx: &Context) -> Context {
    Context {
        options: ctx.options.clone(),
        session_config: ctx.session_config.clone(),
        store: ctx.store.clone(),
        hub: ctx.hub.clone(),
        fanout: ctx.fanout.clone(),
        cluster: ctx.cluster.clone(),
        message_ids: MessageIds::new(),
        known_users: ctx.known_users.clone(),
        server_id: ctx.server_id.clone(),
        metrics: ctx.metrics.clone(),
        shutdown: ctx.shutdown.clone(),
    }
}

/// Which protocol a listener speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listener {
    Tcp,
    WebSocket,
}

/// Reads a PEM certificate chain and key into a TLS acceptor (ring, TLS 1.2 and 1.3).
fn load_tls(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the TLS key {}", key.display()))?;
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .context("the TLS certificate and key do not fit together")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// What a client connecting to a full server reads before the connection closes.
fn server_full_frame() -> Vec<u8> {
    let error = wire::Error {
        code: cim_core::ErrorCode::UNAVAILABLE.0,
        message: "this server has no room for another connection; log in again to be given another".into(),
        ..Default::default()
    };
    let mut out = Vec::new();
    cim_core::codec::encode_frame(&wire::frame::Body::Error(error), Framing::LengthPrefixed, &mut out);
    out
}

async fn accept_loop(listener: TcpListener, ctx: Arc<Context>, kind: Listener, tls: Option<TlsAcceptor>) {
    let max_connections = ctx.options.max_connections();
    let full = server_full_frame();
    let mut said_full_at: Option<std::time::Instant> = None;
    loop {
        let accepted = listener.accept().await;
        // Connections past the limit are turned away at once: the file descriptors they would
        // hold are the store's, the internal service's and the route's (in `cim up`).
        if let Ok((stream, _)) = &accepted
            && ctx.metrics.connections.load(Ordering::Relaxed) >= max_connections as i64
        {
            if kind == Listener::Tcp && tls.is_none() {
                let _ = stream.try_write(&full);
            }
            Metrics::add(&ctx.metrics.connections_refused, 1);
            if said_full_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                tracing::warn!(max_connections, "connection limit reached: turning new connections away");
                said_full_at = Some(std::time::Instant::now());
            }
            continue;
        }
        match accepted {
            // A plain TCP connection gets a task of its own kind: the TLS and WebSocket
            // handshakes' state would otherwise make every connection's task as large as
            // theirs (kilobytes, for as long as it is connected).
            Ok((stream, _peer)) if kind == Listener::Tcp && tls.is_none() => {
                let _ = stream.set_nodelay(true);
                let task =
                    transport::serve(transport::PlainTcp(stream), ctx.clone(), std::time::Instant::now());
                // What each idle connection costs before any buffer: see BENCHMARKS.md.
                tracing::trace!(task_bytes = size_of_val(&task), "connection accepted");
                tokio::spawn(task);
            }
            Ok((stream, _peer)) => {
                tokio::spawn(serve_accepted(stream, ctx.clone(), kind, tls.clone()));
            }
            Err(e) => {
                // Out of file descriptors, typically: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Runs the TLS and WebSocket handshakes a listener needs, then serves the connection.
async fn serve_accepted(stream: TcpStream, ctx: Arc<Context>, kind: Listener, tls: Option<TlsAcceptor>) {
    let _ = stream.set_nodelay(true);
    // One bound from accept to Hello, whatever handshakes come first (spec §4.5): a
    // handshake that drips in uses up the Hello's time too.
    let accepted_at = std::time::Instant::now();
    let deadline = tokio::time::Instant::from_std(accepted_at + ctx.session_config.handshake_timeout);
    let handshakes = async {
        match (kind, tls) {
            (Listener::Tcp, None) => {
                transport::serve(transport::PlainTcp(stream), ctx.clone(), accepted_at).await
            }
            (Listener::Tcp, Some(tls)) => {
                let Ok(Ok(stream)) = tokio::time::timeout_at(deadline, tls.accept(stream)).await else {
                    return;
                };
                transport::serve(transport::Stream::new(stream), ctx.clone(), accepted_at).await;
            }
            (Listener::WebSocket, None) => {
                let Ok(Some(ws)) =
                    tokio::time::timeout_at(deadline, transport::websocket(stream, &ctx)).await
                else {
                    return;
                };
                transport::serve(ws, ctx.clone(), accepted_at).await;
            }
            (Listener::WebSocket, Some(tls)) => {
                let Ok(Ok(stream)) = tokio::time::timeout_at(deadline, tls.accept(stream)).await else {
                    return;
                };
                let Ok(Some(ws)) =
                    tokio::time::timeout_at(deadline, transport::websocket(stream, &ctx)).await
                else {
                    return;
                };
                transport::serve(ws, ctx.clone(), accepted_at).await;
            }
        }
    };
    handshakes.await;
}

/// When a server leaves the registry (its process died and its ephemeral node went), its
/// sessions are removed from presence, so that nothing is pushed to it and device limits do
/// not count them. Every server does this; removal is idempotent.
async fn forget_departed_servers(
    presence: Arc<dyn PresenceStore>,
    mut watch: watch::Receiver<Vec<wire::ServerInfo>>,
    own_id: String,
    metrics: Arc<Metrics>,
) {
    let mut known: std::collections::BTreeSet<String> =
        watch.borrow_and_update().iter().map(|s| s.server_id.clone()).collect();
    let seen = |servers: &std::collections::BTreeSet<String>| {
        metrics.registry_servers.store(i64::try_from(servers.len()).unwrap_or(i64::MAX), Ordering::Relaxed);
    };
    seen(&known);
    while watch.changed().await.is_ok() {
        let now: std::collections::BTreeSet<String> =
            watch.borrow_and_update().iter().map(|s| s.server_id.clone()).collect();
        seen(&now);
        for gone in known.difference(&now).filter(|id| **id != own_id) {
            match presence.remove_server_sessions(gone).await {
                Ok(removed) => {
                    tracing::info!(server = %gone, removed, "server left the registry; its sessions are gone")
                }
                Err(e) => {
                    tracing::warn!(server = %gone, error = %e, "could not clean up a departed server's sessions")
                }
            }
        }
        known = now;
    }
}

/// Presence records built and written at once. Building all of them first would make a
/// burst of a few hundred bytes per connection every refresh period, which the allocator may
/// keep as resident memory.
const PRESENCE_CHUNK: usize = 256;

/// Refreshes the presence records of this server's sessions before they lapse (spec §15.5):
/// batched store writes, a chunk of sessions at a time.
async fn refresh_presence(ctx: Arc<Context>) {
    let mut ticker = tokio::time::interval(cim_backend::PRESENCE_REFRESH);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let expires_at_ms = cim_backend::now_ms() + cim_backend::PRESENCE_TTL.as_millis() as u64;
        let sessions = ctx.hub.sessions();
        for chunk in sessions.chunks(PRESENCE_CHUNK) {
            let records = chunk.iter().map(|s| s.record(&ctx.server_id, expires_at_ms)).collect();
            if let Err(e) = ctx.store.presence.refresh_sessions(records).await {
                tracing::warn!(error = %e, "could not refresh presence; sessions lapse in {:?} unless a later refresh succeeds", cim_backend::PRESENCE_TTL);
                break;
            }
        }
    }
}

/// Keeps the registry's connection count fresh, for least-loaded assignment.
async fn report_load(ctx: Arc<Context>, registry: Arc<dyn Registry>, mut info: wire::ServerInfo) {
    let mut ticker = tokio::time::interval(Duration::from_secs(2));
    loop {
        ticker.tick().await;
        let connections = ctx.hub.session_count() as u64;
        if connections != info.connections && !ctx.is_draining() {
            info.connections = connections;
            if let Err(e) = registry.update(info.clone()).await {
                tracing::warn!(error = %e, "could not report load to the registry");
            }
        }
    }
}
