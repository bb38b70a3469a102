//! cim's reference route: registers and logs users in, issues session tokens, assigns
//! servers, and serves presence, groups and the push API for app backends (spec §14).
//!
//! The route is stateless: everything lives in the [`Store`] and [`Registry`], so any number
//! of routes can run side by side. It is off the message path: clients talk to servers.
#![forbid(unsafe_code)]

mod assign;
mod cors;
mod error;
mod grpc;
mod grpc_health;
mod http;
mod limits;
mod ops;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use cim_backend::listener::{self, ListenerLimits};
use cim_backend::messaging::{
    KnownUsers, MessagePath, Outgoing, Rejection, accept_and_push, answer_oversized,
};
use cim_backend::{
    Fanout, MessageIds, Registry, Stores, TokenKeys, UserRecord, now_ms, verify_password_bounded,
};
use cim_core::ErrorCode;
use cim_core::wire;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use assign::{Assigner, Strategy};
pub use cors::parse_origin;
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
    /// Address of the admin endpoints, /metrics (Prometheus) and /healthz: for the operator's
    /// network, not the clients'.
    #[arg(long, env = "CIM_ROUTE_ADMIN_LISTEN", default_value = "127.0.0.1:8085")]
    pub admin_listen: SocketAddr,
    /// Most HTTP connections open at once; when full, the one idle for longest is closed to
    /// make room. Silent, idle and slowly dripping connections are closed after 10 s.
    #[arg(long, env = "CIM_ROUTE_MAX_CONNECTIONS", value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,
    /// Most gRPC connections open at once.
    #[arg(long, env = "CIM_ROUTE_GRPC_MAX_CONNECTIONS", value_name = "N", default_value_t = 256)]
    pub grpc_max_connections: usize,
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
    /// Shared secret of the app backend's HS256 JWTs, enabling JWT login (32 random bytes
    /// or more, e.g. from `openssl rand -hex 32`).
    #[arg(long, env = "CIM_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Whether anyone may create an account with Register
    /// [default: closed when --jwt-secret is set, since accounts then come from the app
    /// backend; open otherwise].
    #[arg(long, env = "CIM_REGISTRATION", value_enum)]
    pub registration: Option<Registration>,
    /// Let a JWT whose `sub` names an account created by Register log in to it. Only for an
    /// app backend that owns those names too (a migration from passwords to its own logins):
    /// otherwise whoever registers an app user's id first could read that user's messages.
    #[arg(long, env = "CIM_JWT_LOGIN_TO_PASSWORD_ACCOUNTS")]
    pub jwt_login_to_password_accounts: bool,
    /// Largest body of a pushed message, in bytes: set it to the servers' --max-body-size
    /// (the same CIM_MAX_BODY_SIZE), so that a Push takes what a Send takes (spec §14.3).
    #[arg(long, env = "CIM_MAX_BODY_SIZE", default_value_t = cim_core::defaults::MAX_BODY_SIZE,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(cim_core::defaults::MAX_BODY_SIZE_LIMIT)))]
    pub max_body_size: u32,
    /// Origins (scheme://host[:port]) of web pages that may call this API from a browser
    /// (CORS, spec §14.4), comma-separated or the flag repeated [default: none; pages served
    /// from the route's own origin need none].
    #[arg(long = "cors-origin", env = "CIM_CORS_ORIGINS", value_name = "ORIGIN", value_delimiter = ',',
          value_parser = cors::parse_origin)]
    pub cors_origins: Vec<String>,
    /// Rate limits of logins and registrations.
    #[command(flatten)]
    pub limits: LimitOptions,
}

/// Rate limits on the credential paths (spec CIM-16-4, CIM-16-7), counted in the store so that
/// all routes of a deployment count together.
#[derive(Clone, Debug, clap::Args)]
pub struct LimitOptions {
    /// Failed logins of one user name in 5 minutes, after which its logins are refused with
    /// 429 until the 5 minutes are over (0: no limit).
    #[arg(long, env = "CIM_LOGIN_FAILURES_PER_USER", value_name = "N", default_value_t = 10)]
    pub login_failures_per_user: u64,
    /// Failed logins from one address (an IPv6 /64) in 5 minutes, whatever the names, after
    /// which its logins are refused with 429 until the 5 minutes are over (0: no limit).
    #[arg(long, env = "CIM_LOGIN_FAILURES_PER_ADDRESS", value_name = "N", default_value_t = 50)]
    pub login_failures_per_address: u64,
    /// Registrations from one address (an IPv6 /64) in 10 minutes (0: no limit).
    #[arg(long, env = "CIM_REGISTRATIONS_PER_ADDRESS", value_name = "N", default_value_t = 30)]
    pub registrations_per_address: u64,
    /// Header in which a reverse proxy in front of the route passes the client's address
    /// (its last entry is used), e.g. x-forwarded-for. Set it only behind such a proxy: anyone
    /// can send the header [default: the address of the connection].
    #[arg(long, env = "CIM_CLIENT_ADDRESS_HEADER", value_name = "NAME")]
    pub client_address_header: Option<String>,
}

/// Whether Register creates accounts (spec CIM-14.4-35).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Registration {
    /// Anyone may register a user name and password.
    Open,
    /// Register fails with FORBIDDEN; accounts come from JWT logins.
    Closed,
}

impl RouteOptions {
    /// Puts every listener on a free port of 127.0.0.1 (tests, several routes on one host).
    pub fn listen_on_free_ports(&mut self) {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        (self.http_listen, self.grpc_listen, self.admin_listen) = (any, any, any);
    }

    /// The defaults, as `cim-route` with no flags would use.
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            options: RouteOptions,
        }
        <Wrapper as clap::Parser>::parse_from(["cim-route"]).options
    }

    /// Refuses an API key or JWT secret that anybody could know (spec §16): one from our
    /// documents or tests, a placeholder, or a pattern.
    fn check_secrets(&self) -> anyhow::Result<()> {
        use cim_backend::secret::{check_secret, explain_weak_secret};
        let configured =
            [("--api-key (CIM_API_KEY)", &self.api_key), ("--jwt-secret (CIM_JWT_SECRET)", &self.jwt_secret)];
        for (option, secret) in configured {
            if let Some(secret) = secret
                && let Err(weakness) = check_secret(secret)
            {
                anyhow::bail!("{}", explain_weak_secret(option, &weakness));
            }
        }
        Ok(())
    }

    /// The registration policy in force: as configured, else closed when JWT logins are on.
    pub fn registration(&self) -> Registration {
        self.registration.unwrap_or(if self.jwt_secret.is_some() {
            Registration::Closed
        } else {
            Registration::Open
        })
    }

    fn token_lifetime_ms(&self) -> u64 {
        self.token_lifetime_secs.saturating_mul(1000)
    }
}

/// The route's counters.
#[derive(Default)]
struct Metrics {
    /// Calls by binding, endpoint and outcome (HTTP status or gRPC code).
    requests: cim_backend::prometheus::LabeledCounters,
    /// Call latency by binding and endpoint.
    latency: cim_backend::prometheus::LabeledHistograms,
    logins: AtomicU64,
    pushes: AtomicU64,
    /// Calls refused by a rate limit.
    rate_limited: AtomicU64,
    /// Calls refused because password hashing was saturated.
    hashing_busy: AtomicU64,
}

impl Metrics {
    /// Counts a call of `endpoint` (a path template or gRPC method: never what a caller typed,
    /// which would let anyone make labels without end) over `binding`, ended with `outcome`.
    fn observe(&self, binding: &str, endpoint: &str, outcome: &str, elapsed: Duration) {
        let labels =
            format!("binding=\"{binding}\",endpoint=\"{}\"", cim_backend::prometheus::label_value(endpoint));
        self.requests.inc(&format!("{labels},code=\"{outcome}\""));
        self.latency.observe(&labels, elapsed);
    }

    fn render(&self) -> String {
        let mut out = String::new();
        self.requests.render(
            &mut out,
            "cim_route_requests_total",
            "Calls, by binding, endpoint and HTTP status or gRPC code.",
        );
        self.latency.render(
            &mut out,
            "cim_route_request_duration_seconds",
            "Time to answer a call, by binding and endpoint.",
        );
        cim_backend::prometheus::build_info(&mut out, "cim_route", env!("CARGO_PKG_VERSION"));
        cim_backend::prometheus::process_metrics(&mut out);
        out + &self.counters()
    }

    fn counters(&self) -> String {
        let counter = |name: &str, help: &str, value: &AtomicU64| {
            format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n", value.load(Ordering::Relaxed))
        };
        [
            counter("cim_route_logins_total", "Successful logins.", &self.logins),
            counter("cim_route_pushes_total", "Messages accepted through the push API.", &self.pushes),
            counter(
                "cim_route_rate_limited_total",
                "Calls refused by a rate limit (429).",
                &self.rate_limited,
            ),
            counter(
                "cim_route_hashing_busy_total",
                "Logins and registrations refused because password hashing was saturated (503).",
                &self.hashing_busy,
            ),
        ]
        .concat()
    }
}

/// Shared by every request.
pub(crate) struct Route {
    options: RouteOptions,
    store: Stores,
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
        let user = self.store.accounts.user(name).await?;
        // An unknown user, and an account of a JWT login (no password logs in to it, spec
        // CIM-5.3-5), are checked against a dummy hash: every refusal takes as long.
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = verify_password_bounded(password.to_owned(), hash).await.inspect_err(|_| {
            self.metrics.hashing_busy.fetch_add(1, Ordering::Relaxed);
        })?;
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
        if let Some(user) = self.store.accounts.user(&user_id).await? {
            return self.jwt_may_use(user);
        }
        // First login of an app user: create the account, without a password.
        let user = UserRecord::new(user_id.clone(), user_id.clone(), None);
        match self.store.accounts.create_user(user.clone()).await {
            Ok(()) => Ok(user),
            // Created meanwhile, by another login of the same app user or by a Register.
            Err(cim_backend::StoreError::AlreadyExists(_)) => match self.store.accounts.user(&user_id).await?
            {
                Some(user) => self.jwt_may_use(user),
                None => Err(ApiError::new(ErrorCode::UNAVAILABLE, "the account vanished; try again")),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a verified JWT may log in to `user` (spec CIM-5.3-4): an account of a JWT login
    /// always, one created by Register only if the operator allowed it.
    fn jwt_may_use(&self, user: UserRecord) -> Result<UserRecord, ApiError> {
        if user.password_hash.is_none() || self.options.jwt_login_to_password_accounts {
            return Ok(user);
        }
        tracing::warn!(user = %user.user_id, "refused a JWT login to an account created by Register");
        Err(ApiError::new(
            ErrorCode::INVALID_CREDENTIALS,
            "this user id belongs to an account created by Register, which a JWT cannot log in to",
        ))
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
        if self.store.accounts.user(from).await?.is_none() {
            return Err(ApiError::new(ErrorCode::NOT_FOUND, format!("no user {from}")));
        }
        let max_body_size = self.options.max_body_size as usize;
        let result = if body.len() > max_body_size {
            // Dedupe before the body size, as for a Send (CIM-7.1-12, CIM-14.3-3).
            let to_everyone = matches!(to.kind, Some(wire::recipient::Kind::Everyone(_)));
            let detail = format!("body of {} bytes; the maximum is {max_body_size}", body.len());
            answer_oversized(&self.store, from, client_msg_id, to_everyone, detail).await
        } else {
            let message = Outgoing {
                sender: from.to_owned(),
                client_msg_id: client_msg_id.to_owned(),
                to,
                content_type,
                body,
            };
            let path = MessagePath {
                store: &self.store,
                fanout: self.fanout.as_deref(),
                ids: &self.message_ids,
                known_users: &self.known_users,
            };
            accept_and_push(path, message, None).await
        };
        let ack = result.map_err(|Rejection { code, message, retry_after }| {
            let error = ApiError::new(code, message);
            match retry_after.as_secs() {
                0 => error,
                seconds => error.retry_after(seconds),
            }
        })?;
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
    admin_addr: SocketAddr,
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

    /// Where /metrics and /healthz are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
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

/// A gRPC server whose connections and calls are bounded (spec §16): what one client may have
/// in flight, how long a call may take, how long a connection may live.
pub(crate) fn grpc_server_builder() -> tonic::transport::Server {
    tonic::transport::Server::builder()
        .timeout(Duration::from_secs(30))
        .concurrency_limit_per_connection(64)
        .max_concurrent_streams(64)
        .http2_keepalive_interval(Some(Duration::from_secs(60)))
        .max_connection_age(Duration::from_secs(30 * 60))
        .max_connection_age_grace(Duration::from_secs(30))
}

/// Starts a route on `store` and `registry`, issuing tokens with `keys`. `fanout`, when
/// given, is how pushes and logouts reach sessions (the server in the same process).
pub async fn start(
    options: RouteOptions,
    store: impl Into<Stores>,
    registry: Arc<dyn Registry>,
    keys: TokenKeys,
    fanout: Option<Arc<dyn Fanout>>,
) -> anyhow::Result<RunningRoute> {
    let store: Stores = store.into();
    options.check_secrets()?;
    if options.jwt_secret.as_ref().is_some_and(|jwt| keys.is_secret(jwt.as_bytes())) {
        anyhow::bail!(
            "--jwt-secret must differ from the token secret: the app backend holds the one, only routes and servers the other"
        );
    }
    let listener = TcpListener::bind(options.http_listen)
        .await
        .with_context(|| format!("cannot bind {} for the route API", options.http_listen))?;
    let http_addr = listener.local_addr()?;
    let grpc_listener = TcpListener::bind(options.grpc_listen)
        .await
        .with_context(|| format!("cannot bind {} for the route's gRPC API", options.grpc_listen))?;
    let grpc_addr = grpc_listener.local_addr()?;
    let admin_listener = TcpListener::bind(options.admin_listen)
        .await
        .with_context(|| format!("cannot bind {} for the route's admin endpoints", options.admin_listen))?;
    let admin_addr = admin_listener.local_addr()?;
    tracing::info!(http = %http_addr, grpc = %grpc_addr, admin = %admin_addr, strategy = ?options.strategy, store = %store.describe(), registry = %registry.describe(), "cim-route listening");
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
    let health = grpc_health::service(route.clone());
    let http_limits = ListenerLimits::new(route.options.max_connections);
    let grpc_limits = ListenerLimits::new(route.options.grpc_max_connections);
    let admin = http::admin_router(route.clone());
    let app = http::router(route.clone());
    let http = tokio::spawn(listener::serve_http(listener, app, http_limits, "route HTTP API"));
    // Scrapers and probes: a few connections at a time.
    let admin = tokio::spawn(listener::serve_http(
        admin_listener,
        admin,
        ListenerLimits::new(64),
        "route admin endpoints",
    ));
    let grpc = tokio::spawn(async move {
        let incoming = listener::guarded(grpc_listener, grpc_limits, "route gRPC API");
        let server = grpc_server_builder()
            .layer(grpc::ObserveLayer(route))
            .layer(tower::util::MapResponseLayer::new(grpc::coded_failures::<tonic::body::Body>))
            .add_service(service)
            .add_service(health)
            .add_service(reflection);
        if let Err(e) = server.serve_with_incoming(incoming).await {
            tracing::error!(error = %e, "route gRPC API stopped");
        }
    });
    Ok(RunningRoute { http_addr, grpc_addr, admin_addr, tasks: vec![http, grpc, admin] })
}
