//! `connect`: idle connections with heartbeats; server memory per connection and the CPU
//! their heartbeats cost.

use serde_json::json;

use super::{CommonArgs, measure, repeat};
use crate::report::{Report, Run};
use crate::worker::{Share, Work};

/// Clients a load process holds at most: one open file each, under the 20,000 allowed.
pub(crate) const CLIENTS_PER_WORKER: usize = 18_000;

#[derive(Clone, Debug, clap::Args)]
pub(crate) struct ConnectArgs {
    /// Connections to open and hold.
    #[arg(long, short = 'n', default_value_t = 10_000)]
    pub(crate) connections: usize,
    /// Heartbeat interval the clients ask for, in seconds (the server allows 5 to 300).
    #[arg(long, default_value_t = 10)]
    pub(crate) heartbeat: u64,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

pub(crate) async fn run(args: ConnectArgs) -> anyhow::Result<Report> {
    let common = &args.common;
    let workers = common.workers.unwrap_or(args.connections.div_ceil(CLIENTS_PER_WORKER)).max(1);
    let params = json!({
        "connections": args.connections,
        "heartbeat_s": args.heartbeat,
        "servers": common.target.servers,
        "load_processes": workers,
        "window_s": common.timing.duration,
    });
    repeat("connect", common, params, async |deployment, run| {
        let jobs = common.jobs(deployment, run, workers, Some(args.heartbeat), |index, parts| Work::Idle {
            clients: Share::of(args.connections, parts, index),
        });
        let m = measure(common, deployment, jobs).await?;
        let mut figures = Run::default();
        figures.add("connections held", "", m.connected as f64);
        let connected = m.connected.max(1) as f64;
        // Read at the end of the window: what idle connections hold once their handshakes'
        // buffers are gone and heartbeats have run, not the peak of the connection storm.
        let rss_delta = m.final_servers.rss_bytes.saturating_sub(m.idle_servers.rss_bytes);
        figures.add("server memory per connection", "bytes", rss_delta as f64 / connected);
        figures.add("server memory with them", "MiB", m.final_servers.rss_bytes as f64 / (1024.0 * 1024.0));
        let peak = m.loaded_servers.rss_bytes.saturating_sub(m.idle_servers.rss_bytes);
        figures.add("server memory per connection just after connecting", "bytes", peak as f64 / connected);
        figures.add("server CPU holding them", "% of a core", m.server_cores() * 100.0);
        let heartbeats = connected * m.window.as_secs_f64() / args.heartbeat as f64;
        figures.add("server CPU per heartbeat", "µs", m.window_cpu.as_secs_f64() * 1e6 / heartbeats);
        m.add_redis(&mut figures);
        if let (Some(idle), Some((loaded, _))) = (m.redis_memory_idle, m.redis_memory) {
            // Sessions and presence: what a connected user costs Redis.
            figures.add("Redis memory per connection", "bytes", (loaded as f64 - idle as f64) / connected);
        }
        figures.add("disconnects in window", "", m.sum(|r| r.disconnects) as f64);
        if m.connected < m.expected {
            figures.add("clients that did not connect", "", (m.expected - m.connected) as f64);
        }
        Ok(figures)
    })
    .await
}
