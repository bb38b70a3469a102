//! `cim-server`: one long-connection server of a cim deployment.

use std::process::ExitCode;

use cim_backend::TokenKeys;

/// cim's long-connection server: clients connect here (TCP or WebSocket) with the token
/// the route gave them, and their messages flow through it.
///
/// Without --redis it keeps state in memory; until the ZooKeeper registry lands, servers and routes in separate processes do not see each other, so in-memory backends, which only make sense
/// together with a route in the same process (see `cim up`).
#[derive(clap::Parser)]
#[command(name = "cim-server", version)]
struct Cli {
    #[command(flatten)]
    config: cim_backend::config_file::ConfigFileArg,
    #[command(flatten)]
    server: cim_server::ServerOptions,
    /// Secret shared with the route to verify session tokens (at least 32 bytes).
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
    let server = match cim_server::start(cli.server, store, registry, keys).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    cim_backend::process::shutdown_signal().await;
    tracing::info!("shutting down: GoAway to every session, then drain");
    server.shutdown().await;
    ExitCode::SUCCESS
}
