//! `cim-bench`: how many connections a cim server holds, how many messages it moves and
//! how fast, and how many logins the route takes — against `cim up` or a Redis + ZooKeeper
//! cluster it starts itself, or against a deployment you run.
//!
//! Each scenario runs its clients in separate load processes (`cim-bench worker`), opens a
//! measured window on all of them at once, and reads the servers' memory and CPU from
//! `/proc` around it. BENCHMARKS.md has the figures and the commands behind them.

mod deploy;
mod load;
mod procfs;
mod redis_stats;
mod report;
mod runner;
mod scenario;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Benchmarks of cim: connections, throughput, latency, logins.
///
/// By default each run spawns `cim up` (built next to cim-bench) with Send rate limits off,
/// and a fresh one for every --runs. --spawn cluster starts redis-server, ZooKeeper, one
/// cim-route and --servers cim-servers instead; --route measures a deployment you run.
/// Build everything with `cargo build --release -p cim -p cim-server -p cim-route -p cim-bench`,
/// or use scripts/bench, which does that first.
#[derive(Parser)]
#[command(name = "cim-bench", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

const EXAMPLES: &str = "\
Examples:
  cim-bench connect -n 19000 --runs 5          memory per idle connection in one server
  cim-bench connect -n 100000 --servers 6      100k connections over six cim up processes
  cim-bench p2p --pairs 100                    acked one-to-one messages/s, closed loop
  cim-bench p2p --pairs 100 --rate 50000       latency at 50k messages/s, open loop
  cim-bench group --members 1000               group deliveries/s
  cim-bench broadcast --clients 2000           live broadcast deliveries/s
  cim-bench login --spawn cluster              JWT logins/s through the route over Redis
  cim-bench store --redis-cluster              Redis cost per message, three masters";

#[derive(Subcommand)]
enum Scenario {
    /// Hold idle connections with heartbeats; server memory per connection, heartbeat CPU.
    Connect(scenario::connect::ConnectArgs),
    /// Pairs of clients sending one-to-one; acked messages/s and send→deliver latency.
    P2p(scenario::p2p::P2pArgs),
    /// One group, some members sending to it; deliveries/s.
    Group(scenario::group::GroupArgs),
    /// Live-only broadcast to everyone online; deliveries/s.
    Broadcast(scenario::broadcast::BroadcastArgs),
    /// JWT logins through the route (token issue and server assignment); logins/s.
    Login(scenario::login::LoginArgs),
    /// The Redis store alone, no servers or clients; Redis CPU and memory per message.
    Store(scenario::store::StoreArgs),
    /// A load process, started by the others (reads its job on stdin).
    #[command(hide = true)]
    Worker,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cfg!(debug_assertions) && !matches!(cli.scenario, Scenario::Worker) {
        eprintln!("warning: this is a debug build of cim-bench; its figures mean little (use --release)");
    }
    let result = match cli.scenario {
        Scenario::Worker => worker::main(),
        scenario => coordinate(scenario),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn coordinate(scenario: Scenario) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (report, json) = match scenario {
            Scenario::Connect(args) => (scenario::connect::run(args.clone()).await?, args.common.timing.json),
            Scenario::P2p(args) => (scenario::p2p::run(args.clone()).await?, args.common.timing.json),
            Scenario::Group(args) => (scenario::group::run(args.clone()).await?, args.common.timing.json),
            Scenario::Broadcast(args) => {
                (scenario::broadcast::run(args.clone()).await?, args.common.timing.json)
            }
            Scenario::Login(args) => (scenario::login::run(args.clone()).await?, args.common.timing.json),
            Scenario::Store(args) => (scenario::store::run(args.clone()).await?, args.timing.json),
            Scenario::Worker => anyhow::bail!("the worker runs without a coordinator"),
        };
        if json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.table());
        }
        Ok(())
    })
}
