//! `cim up`: a route and a server in one process, on in-memory backends.

use std::net::SocketAddr;

use anyhow::Context as _;

/// Options of `cim up`.
#[derive(clap::Args, Debug)]
pub(crate) struct UpArgs {
    /// Put every listener whose address is not given on a free port of 127.0.0.1 instead of
    /// its default (tests, several nodes on one host); the addresses are printed.
    #[arg(long)]
    free_ports: bool,
    /// Address of the route's HTTP API [default: 127.0.0.1:8083].
    #[arg(long, env = "CIM_ROUTE_LISTEN", value_name = "ADDR")]
    route_listen: Option<SocketAddr>,
    /// Address of the route's gRPC API [default: 127.0.0.1:8084].
    #[arg(long, env = "CIM_ROUTE_GRPC_LISTEN", value_name = "ADDR")]
    route_grpc_listen: Option<SocketAddr>,
    /// Address of the route's /metrics and /healthz [default: 127.0.0.1:8085].
    #[arg(long, env = "CIM_ROUTE_ADMIN_LISTEN", value_name = "ADDR")]
    route_admin_listen: Option<SocketAddr>,
    /// Address for TCP clients [default: 127.0.0.1:9000].
    #[arg(long, env = "CIM_SERVER_LISTEN", value_name = "ADDR")]
    server_listen: Option<SocketAddr>,
    /// Address for WebSocket clients [default: 127.0.0.1:9001].
    #[arg(long, env = "CIM_SERVER_WS_LISTEN", value_name = "ADDR")]
    ws_listen: Option<SocketAddr>,
    /// Address of the server's internal push service [default: 127.0.0.1:9002].
    #[arg(long, env = "CIM_SERVER_INTERNAL_LISTEN", value_name = "ADDR")]
    internal_listen: Option<SocketAddr>,
    /// Address of the server's /metrics and /healthz [default: 127.0.0.1:9090].
    #[arg(long, env = "CIM_SERVER_ADMIN_LISTEN", value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
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
    /// Origins (scheme://host[:port]) of web pages that may call the route from a browser
    /// (CORS), comma-separated or the flag repeated [default: none].
    #[arg(long = "cors-origin", env = "CIM_CORS_ORIGINS", value_name = "ORIGIN", value_delimiter = ',',
          value_parser = cim_route::parse_origin)]
    cors_origins: Vec<String>,
    /// Rate limits of logins and registrations.
    #[command(flatten)]
    limits: cim_route::LimitOptions,
    /// Most client connections the server holds at once [default: the process's open-file
    /// limit less what the route's listeners may hold and 1024 more].
    #[arg(long, env = "CIM_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,
    /// Sustained Sends per second per connection (0: unlimited).
    #[arg(long, env = "CIM_SENDS_PER_SECOND", default_value_t = cim_core::defaults::SENDS_PER_SECOND)]
    sends_per_second: u32,
    /// Address of the web chat page; the route allows its origin [default: 127.0.0.1:8080].
    #[arg(long, env = "CIM_WEB_LISTEN", value_name = "ADDR", conflicts_with = "no_web")]
    web_listen: Option<SocketAddr>,
    /// Serve no web chat page.
    #[arg(long)]
    no_web: bool,
}

/// Stops serving the page when `cim up` ends.
struct WebTask(tokio::task::JoinHandle<()>);

impl Drop for WebTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(crate) async fn run(args: UpArgs) -> anyhow::Result<()> {
    let mut options = cim_node::NodeOptions::in_memory();
    if args.free_ports {
        options = options.on_free_ports();
    }
    let server = &mut options.server;
    let set = |slot: &mut SocketAddr, given: Option<SocketAddr>| *slot = given.unwrap_or(*slot);
    set(&mut server.tcp_listen, args.server_listen);
    set(&mut server.ws_listen, args.ws_listen);
    set(&mut server.admin_listen, args.admin_listen);
    set(&mut server.internal_listen, args.internal_listen);
    server.max_sessions_per_user = args.max_sessions_per_user;
    server.over_limit = args.over_limit;
    server.sends_per_second = args.sends_per_second;
    server.max_connections = args.max_connections;
    let route = &mut options.route;
    set(&mut route.http_listen, args.route_listen);
    set(&mut route.grpc_listen, args.route_grpc_listen);
    set(&mut route.admin_listen, args.route_admin_listen);
    route.api_key = args.api_key;
    route.jwt_secret = args.jwt_secret;
    route.registration = args.registration;
    route.limits = args.limits;
    route.cors_origins = args.cors_origins;
    let web = match (args.no_web, args.web_listen) {
        (true, _) => None,
        (false, given) => {
            let port = if args.free_ports { 0 } else { 8080 };
            let addr = given.unwrap_or(SocketAddr::from(([127, 0, 0, 1], port)));
            let web = crate::web::WebChat::bind(addr).await.context("or start with --no-web")?;
            route.cors_origins.extend(web.origins());
            Some(web)
        }
    };
    let node = cim_node::Node::start(options).await?;
    let (route, server) = (&node.route, &node.server);

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
    let _web_task = web.map(|web| {
        say!("  web chat  {}    (open it in two browser windows)", web.url());
        WebTask(web.serve(&url))
    });
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
    node.shutdown().await;
    Ok(())
}
