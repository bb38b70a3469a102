//! `cim-route`: the route of a cim deployment.

use std::process::ExitCode;

/// mimalloc gives freed memory back; see the workspace Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// cim's route: users register and log in here and are assigned a server; app backends
/// push messages here. Stateless: run as many as you like against one store.
///
/// In a cluster every route and server shares one Redis (--redis) and one ZooKeeper
/// (--zookeeper), where the route finds the servers. Without those flags it uses in-memory
/// backends, which only make sense with a server in the same process (see `cim up`).
#[derive(clap::Parser)]
#[command(name = "cim-route", version)]
struct Cli {
    #[command(flatten)]
    config: cim_backend::config_file::ConfigFileArg,
    #[command(flatten)]
    route: cim_route::RouteOptions,
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
    // Pushes and logouts reach sessions through the servers' internal push service.
    let fanout =
        cim_backend::ClusterFanout::for_route(store.presence.clone(), registry.clone(), keys.internal_auth());
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
