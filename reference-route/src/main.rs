//! `cim-route`: the route of a cim deployment.

use std::process::ExitCode;

use cim_backend::TokenKeys;

/// cim's route: users register and log in here and are assigned a server; app backends
/// push messages here. Stateless: run as many as you like against one store.
///
/// Without --redis it keeps state in memory; until the ZooKeeper registry lands, servers and routes in separate processes do not see each other, so in-memory backends, which only make sense
/// together with a server in the same process (see `cim up`).
#[derive(clap::Parser)]
#[command(name = "cim-route", version)]
struct Cli {
    #[command(flatten)]
    config: cim_backend::config_file::ConfigFileArg,
    #[command(flatten)]
    route: cim_route::RouteOptions,
    /// Secret shared with the servers to sign session tokens (at least 32 bytes).
    #[arg(long, env = "CIM_TOKEN_SECRET", hide_env_values = true)]
    token_secret: String,
    #[command(flatten)]
    backends: cim_backend::BackendArgs,
    #[command(flatten)]
    logs: cim_backend::logging::LogArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = cim_backend::config_file::parse_with_config_file();
    cim_backend::logging::init(&cli.logs, "info");
    if let Err(message) = cim_backend::process::check_token_secret(&cli.token_secret) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let (store, registry) = match (cli.backends.store().await, cli.backends.registry().await) {
        (Ok(store), Ok(registry)) => (store, registry),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let keys = TokenKeys::new(cli.token_secret.into_bytes());
    // Pushes and logouts reach sessions through the servers' internal push service.
    let fanout = cim_backend::ClusterFanout::new("", None, store.clone(), registry.clone());
    let route =
        match cim_route::start(cli.route, store, registry, keys, Some(std::sync::Arc::new(fanout))).await {
            Ok(route) => route,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        };
    cim_backend::process::shutdown_signal().await;
    route.shutdown();
    ExitCode::SUCCESS
}
