//! cim's reference route: registers and logs users in, issues session tokens, assigns
//! servers, and serves presence, groups and the push API for app backends (spec §14).
//!
//! The route is stateless: everything lives in the [`Store`] and [`Registry`], so any number
//! of routes can run side by side. It is off the message path: clients talk to servers.
#![forbid(unsafe_code)]

mod assign;
mod error;
mod grpc;
mod http;
mod ops;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use bytes::Bytes;
use cim_backend::messaging::{KnownUsers, MessagePath, Outgoing, accept_and_push};
use cim_backend::{
    Fanout, MessageIds, Registry, Store, TokenKeys, UserRecord, now_ms, verify_password_bounded,
};
use cim_core::ErrorCode;
use cim_core::wire;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use assign::{Assigner, Strategy};
pub use error::ApiError;

/// Settings of a route. Every option also reads a `CIM_*` environment variable.
#[derive(Clone, Debug, clap::Args)]
pub struct RouteOptions {
    /// Address of the HTTP/JSON API.
    #[arg(long = "listen", env = "CIM_ROUTE_LISTEN", default_value = "127.0.0.1:8083")]
    pub http_listen: SocketAddr,
    /// Address of the gRPC API (service cim.v1.Route, with reflection).
    #[arg(long, env = "CIM_ROUTE_GRPC_LISTEN", default_value = "127.0.0.1:8084")]
    pub grpc_listen: SocketAddr,
    /// How logins are spread over servers.
    #[arg(long, env = "CIM_STRATEGY", value_enum, default_value_t = Strategy::ConsistentHash)]
    pub strategy: Strategy,
    /// Lifetime of session tokens, in seconds.
    #[arg(long, env = "CIM_TOKEN_LIFETIME_SECS", default_value_t = 24 * 60 * 60)]
    pub token_lifetime_secs: u64,
    /// Key that app backends present in X-Cim-Api-Key for /v1/push and /v1/servers
    /// [default: those calls are refused].
    #[arg(long, env = "CIM_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Shared secret of the app backend's HS256 JWTs, enabling JWT login.
    #[arg(long, env = "CIM_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
}

impl RouteOptions {
    /// The defaults, as `cim-route` with no flags would use.
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            options: RouteOptions,
        }
        <Wrapper as clap::Parser>::parse_from(["cim-route"]).options
    }

    fn token_lifetime_ms(&self) -> u64 {
        self.token_lifetime_secs.saturating_mul(1000)
    }
}

/// The route's counters.
#[derive(Default)]
struct Metrics {
    logins: AtomicU64,
    pushes: AtomicU64,
}

impl Metrics {
    fn render(&self) -> String {
        format!(
            "# HELP cim_route_logins_total Successful logins.\n# TYPE cim_route_logins_total counter\ncim_route_logins_total {}\n\
             # HELP cim_route_pushes_total Messages accepted through the push API.\n# TYPE cim_route_pushes_total counter\ncim_route_pushes_total {}\n",
            self.logins.load(Ordering::Relaxed),
            self.pushes.load(Ordering::Relaxed)
        )
    }
}

/// Shared by every request.
pub(crate) struct Route {
    options: RouteOptions,
    store: Arc<dyn Store>,
    registry: Arc<dyn Registry>,
    keys: TokenKeys,
    assigner: Assigner,
    /// Wakes sessions after a push or logout; `None` for a route without servers in reach.
    fanout: Option<Arc<dyn Fanout>>,
    message_ids: MessageIds,
    known_users: KnownUsers,
    metrics: Metrics,
}

/// Whether `name` is 1..=`max` bytes of `A-Z a-z 0-9 _ . -` (spec §14.4).
pub(crate) fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The transports a login asked for.
pub(crate) struct Transports {
    tcp: bool,
    websocket: bool,
    tcp_tls: bool,
    websocket_tls: bool,
}

impl Transports {
    pub(crate) fn parse(names: &[String]) -> Self {
        if names.is_empty() {
            return Self { tcp: true, websocket: true, tcp_tls: true, websocket_tls: true };
        }
        let mut wanted = Self { tcp: false, websocket: false, tcp_tls: false, websocket_tls: false };
        for name in names {
            match name.as_str() {
                "tcp" => wanted.tcp = true,
                "websocket" => wanted.websocket = true,
                "tcp_tls" => wanted.tcp_tls = true,
                "websocket_tls" => wanted.websocket_tls = true,
                // Unknown names match no server (spec §14.2).
                _ => {}
            }
        }
        wanted
    }

    pub(crate) fn offered_by(&self, server: &wire::ServerInfo) -> bool {
        let tcp = !server.tcp_endpoint.is_empty();
        let tcp_usable = if server.tcp_tls { self.tcp_tls } else { self.tcp };
        (tcp && tcp_usable)
            || (server.ws_url.starts_with("ws://") && self.websocket)
            || (server.ws_url.starts_with("wss://") && self.websocket_tls)
    }
}

impl Route {
    async fn user_from_password(&self, name: &str, password: &str) -> Result<UserRecord, ApiError> {
        let user = self.store.user(name).await?;
        // An unknown user is checked against a dummy hash, so both refusals take as long.
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let ok = verify_password_bounded(password.to_owned(), hash).await;
        match user {
            Some(user) if ok => Ok(user),
            _ => Err(ApiError::new(ErrorCode::INVALID_CREDENTIALS, "wrong user name or password")),
        }
    }

    async fn user_from_jwt(&self, jwt: &str) -> Result<UserRecord, ApiError> {
        let secret = self.options.jwt_secret.as_deref().ok_or_else(|| {
            ApiError::new(ErrorCode::INVALID_CREDENTIALS, "JWT login is not enabled on this route")
        })?;
        let user_id =
            cim_backend::jwt::verify_hs256(jwt, secret.as_bytes(), now_ms(), cim_backend::CLOCK_SKEW_MS)
                .map_err(|e| ApiError::new(ErrorCode::INVALID_CREDENTIALS, e.to_string()))?;
        if !valid_name(&user_id, 64) {
            return Err(ApiError::new(ErrorCode::INVALID_CREDENTIALS, "JWT sub is not a valid user id"));
        }
        if let Some(user) = self.store.user(&user_id).await? {
            return Ok(user);
        }
        // First login of an app user: create the account, without a password.
        let user = UserRecord { user_id: user_id.clone(), user_name: user_id, password_hash: String::new() };
        match self.store.create_user(user.clone()).await {
            Ok(()) | Err(cim_backend::StoreError::AlreadyExists(_)) => Ok(user),
            Err(e) => Err(e.into()),
        }
    }

    /// Accepts a message as if `from` had sent it (spec §14.3), then wakes the recipients.
    pub(crate) async fn push_message(
        &self,
        from: &str,
        client_msg_id: &str,
        to: wire::Recipient,
        content_type: String,
        body: Bytes,
    ) -> Result<wire::SendAck, ApiError> {
        if client_msg_id.is_empty() || client_msg_id.len() > 64 {
            return Err(ApiError::new(
                ErrorCode::INVALID_CLIENT_MSG_ID,
                "client_msg_id must be 1 to 64 bytes",
            ));
        }
        if content_type.len() > 255 {
            return Err(ApiError::invalid("content_type longer than 255 bytes"));
        }
        if body.len() > 61_440 {
            return Err(ApiError::new(ErrorCode::BODY_TOO_LARGE, "body over 61440 bytes"));
        }
        if self.store.user(from).await?.is_none() {
            return Err(ApiError::new(ErrorCode::NOT_FOUND, format!("no user {from}")));
        }
        let message = Outgoing {
            sender: from.to_owned(),
            client_msg_id: client_msg_id.to_owned(),
            to,
            content_type,
            body,
        };
        let path = MessagePath {
            store: self.store.as_ref(),
            fanout: self.fanout.as_deref(),
            ids: &self.message_ids,
            known_users: &self.known_users,
        };
        let ack = accept_and_push(path, message, "").await.map_err(|r| ApiError::new(r.code, r.message))?;
        if !ack.duplicate {
            self.metrics.pushes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(ack)
    }

    async fn health(&self) -> (bool, Vec<String>) {
        let store = self.store.health().await;
        let registry = self.registry.servers().await;
        let checks = vec![
            match &store {
                Ok(()) => format!("store: {} ok", self.store.describe()),
                Err(e) => format!("store: {} failing: {e}", self.store.describe()),
            },
            match &registry {
                Ok(servers) => {
                    format!("registry: {} ok, {} servers", self.registry.describe(), servers.len())
                }
                Err(e) => format!("registry: {} failing: {e}", self.registry.describe()),
            },
        ];
        (store.is_ok() && registry.is_ok(), checks)
    }
}

/// A route that is running.
pub struct RunningRoute {
    http_addr: SocketAddr,
    grpc_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningRoute {
    /// Where the HTTP/JSON API listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Where the gRPC API listens.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The API's base URL, `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Stops serving.
    pub fn shutdown(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Starts a route on `store` and `registry`, issuing tokens with `keys`. `fanout`, when
/// given, is how pushes and logouts reach sessions (the server in the same process).
pub async fn start(
    options: RouteOptions,
    store: Arc<dyn Store>,
    registry: Arc<dyn Registry>,
    keys: TokenKeys,
    fanout: Option<Arc<dyn Fanout>>,
) -> anyhow::Result<RunningRoute> {
    let listener = TcpListener::bind(options.http_listen)
        .await
        .with_context(|| format!("cannot bind {} for the route API", options.http_listen))?;
    let http_addr = listener.local_addr()?;
    let grpc_listener = TcpListener::bind(options.grpc_listen)
        .await
        .with_context(|| format!("cannot bind {} for the route's gRPC API", options.grpc_listen))?;
    let grpc_addr = grpc_listener.local_addr()?;
    tracing::info!(http = %http_addr, grpc = %grpc_addr, strategy = ?options.strategy, store = %store.describe(), registry = %registry.describe(), "cim-route listening");
    let route = Arc::new(Route {
        assigner: Assigner::new(options.strategy),
        options,
        store,
        registry,
        keys,
        fanout,
        message_ids: MessageIds::new(),
        known_users: KnownUsers::default(),
        metrics: Metrics::default(),
    });
    let (service, reflection) = grpc::services(route.clone())?;
    let app = http::router(route);
    let http = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "route HTTP API stopped");
        }
    });
    let grpc = tokio::spawn(async move {
        let incoming = tonic::transport::server::TcpIncoming::from(grpc_listener);
        let server = tonic::transport::Server::builder().add_service(service).add_service(reflection);
        if let Err(e) = server.serve_with_incoming(incoming).await {
            tracing::error!(error = %e, "route gRPC API stopped");
        }
    });
    Ok(RunningRoute { http_addr, grpc_addr, tasks: vec![http, grpc] })
}
