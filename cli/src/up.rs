//! `cim up`: a route and a server in one process, on in-memory backends.

use std::net::SocketAddr;
use std::sync::Arc;

use cim_backend::{MemoryRegistry, MemoryStore, TokenKeys};

/// Options of `cim up`.
#[derive(clap::Args, Debug)]
pub(crate) struct UpArgs {
    /// Address of the route's HTTP API.
    #[arg(long, env = "CIM_ROUTE_LISTEN", default_value = "127.0.0.1:8083")]
    route_listen: SocketAddr,
    /// Address of the route's gRPC API.
    #[arg(long, env = "CIM_ROUTE_GRPC_LISTEN", default_value = "127.0.0.1:8084")]
    route_grpc_listen: SocketAddr,
    /// Address of the route's /metrics and /healthz.
    #[arg(long, env = "CIM_ROUTE_ADMIN_LISTEN", default_value = "127.0.0.1:8085")]
    route_admin_listen: SocketAddr,
    /// Address for TCP clients.
    #[arg(long, env = "CIM_SERVER_LISTEN", default_value = "127.0.0.1:9000")]
    server_listen: SocketAddr,
    /// Address for WebSocket clients.
    #[arg(long, env = "CIM_SERVER_WS_LISTEN", default_value = "127.0.0.1:9001")]
    ws_listen: SocketAddr,
    /// Address of the server's internal push service.
    #[arg(long, env = "CIM_SERVER_INTERNAL_LISTEN", default_value = "127.0.0.1:9002")]
    internal_listen: SocketAddr,
    /// Address of the server's /metrics and /healthz.
    #[arg(long, env = "CIM_SERVER_ADMIN_LISTEN", default_value = "127.0.0.1:9090")]
    admin_listen: SocketAddr,
    /// Key app backends present (X-Cim-Api-Key) to push messages [default: push disabled].
    #[arg(long, env = "CIM_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Shared secret of the app backend's HS256 JWTs, enabling JWT login (32 random bytes or
    /// more: `cim secret` prints one).
    #[arg(long, env = "CIM_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Whether anyone may create an account with Register [default: closed with
    /// --jwt-secret, open without].
    #[arg(long, env = "CIM_REGISTRATION", value_enum)]
    registration: Option<cim_route::Registration>,
    /// Most sessions (devices) one user may have at once.
    #[arg(long, env = "CIM_MAX_SESSIONS_PER_USER", default_value_t = 8)]
    max_sessions_per_user: usize,
    /// What to do with a new session over that limit.
    #[arg(long, env = "CIM_OVER_LIMIT", value_enum, default_value_t = cim_server::OverLimit::Reject)]
    over_limit: cim_server::OverLimit,
    /// Rate limits of logins and registrations.
    #[command(flatten)]
    limits: cim_route::LimitOptions,
    /// Most client connections the server holds at once [default: the process's open-file
    /// limit less what the route's listeners may hold and 1024 more].
    #[arg(long, env = "CIM_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,
    /// Sustained Sends per second per connection (0: unlimited).
    #[arg(long, env = "CIM_SENDS_PER_SECOND", default_value_t = 100)]
    sends_per_second: u32,
}

pub(crate) async fn run(args: UpArgs) -> anyhow::Result<()> {
    let store = Arc::new(MemoryStore::new());
    let registry = Arc::new(MemoryRegistry::new());
    let keys = TokenKeys::generate();
    let mut server_options = cim_server::ServerOptions::defaults();
    server_options.tcp_listen = args.server_listen;
    server_options.ws_listen = args.ws_listen;
    server_options.admin_listen = args.admin_listen;
    server_options.internal_listen = args.internal_listen;
    server_options.max_sessions_per_user = args.max_sessions_per_user;
    server_options.over_limit = args.over_limit;
    server_options.sends_per_second = args.sends_per_second;
    // The route shares this process's file descriptors: leave it room for its listeners.
    let route_defaults = cim_route::RouteOptions::defaults();
    server_options.max_connections = args.max_connections.or_else(|| {
        let reserved = 1024 + route_defaults.max_connections + route_defaults.grpc_max_connections;
        cim_backend::process::open_file_limit().map(|n| n.saturating_sub(reserved).max(64))
    });
    let server = cim_server::start(server_options, store.clone(), registry.clone(), keys.clone()).await?;
    let mut route_options = cim_route::RouteOptions::defaults();
    route_options.http_listen = args.route_listen;
    route_options.grpc_listen = args.route_grpc_listen;
    route_options.admin_listen = args.route_admin_listen;
    route_options.api_key = args.api_key;
    route_options.jwt_secret = args.jwt_secret;
    route_options.registration = args.registration;
    route_options.limits = args.limits;
    let route = cim_route::start(route_options, store, registry, keys, Some(server.fanout())).await?;

    let url = route.url();
    let route_flag = if url == "http://127.0.0.1:8083" { String::new() } else { format!(" --route {url}") };
    say!("cim is up: route and server in one process, in memory (everything is lost on exit)");
    say!();
    say!("  route     {url}    gRPC {}", route.grpc_addr());
    say!("  server    tcp {}    websocket {}", server.tcp_addr(), server.info().ws_url);
    say!(
        "  metrics   http://{}/metrics (server)    http://{}/metrics (route)",
        server.admin_addr(),
        route.admin_addr()
    );
    say!();
    say!("Chat from two other shells (type `@bob hi`, or `:all` for the commands):");
    say!("  cim chat{route_flag} --user alice --password alice-password --register");
    say!("  cim chat{route_flag} --user bob --password bob-password --register");
    say!();
    say!("Or from scripts:");
    say!("  cim listen{route_flag} --user alice --password alice-password --json");
    say!("  cim send{route_flag} --user bob --password bob-password --to alice \"hi alice\"");
    say!();
    say!("Ctrl-C stops it.");
    cim_backend::process::shutdown_signal().await;
    say!("stopping: GoAway to every session, then drain");
    route.shutdown();
    server.shutdown().await;
    Ok(())
}
