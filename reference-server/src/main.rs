//! `cim-server`: one long-connection server of a cim deployment.

use std::process::ExitCode;

/// mimalloc gives freed memory back; see the workspace Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// cim's long-connection server: clients connect here (TCP or WebSocket) with the token
/// the route gave them, and their messages flow through it.
///
/// In a cluster every server and route shares one Redis (--redis) and one ZooKeeper
/// (--zookeeper); the server registers there and deregisters on SIGTERM, which also sends
/// GoAway to its clients and drains them. Without those flags it uses in-memory backends,
/// which only make sense with a route in the same process (see `cim up`).
#[derive(clap::Parser)]
#[command(name = "cim-server", version)]
struct Cli {
    #[command(flatten)]
    config: cim_backend::config_file::ConfigFileArg,
    #[command(flatten)]
    server: cim_server::ServerOptions,
    #[command(flatten)]
    node: cim_backend::process::NodeArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = cim_backend::config_file::parse_with_config_file();
    let cim_backend::process::Node { store, registry, keys } = match cli.node.open().await {
        Ok(node) => node,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
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
