//! `broadcast`: senders send live-only messages to everyone online; deliveries per second.

use serde_json::json;

use super::{CommonArgs, SendArgs, measure, merge, repeat};
use crate::report::Report;
use crate::worker::{Share, Work};

#[derive(Clone, Debug, clap::Args)]
pub(crate) struct BroadcastArgs {
    /// Clients online (senders included).
    #[arg(long, default_value_t = 1000)]
    pub(crate) clients: usize,
    /// How many of them send.
    #[arg(long, default_value_t = 1)]
    pub(crate) senders: usize,
    #[command(flatten)]
    pub(crate) send: SendArgs,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

pub(crate) async fn run(args: BroadcastArgs) -> anyhow::Result<Report> {
    let common = &args.common;
    anyhow::ensure!(args.senders <= args.clients, "--senders cannot exceed --clients");
    let workers = common.workers.unwrap_or(1).max(1);
    let mut params = json!({
        "clients": args.clients, "senders": args.senders, "load_processes": workers, "window_s": common.timing.duration,
    });
    merge(&mut params, args.send.params());
    let plan = args.send.plan(args.senders);
    repeat("broadcast", common, params, async |deployment, run| {
        let jobs = common.jobs(deployment, run, workers, None, |index, parts| Work::Broadcast {
            clients: Share::of(args.clients, parts, index),
            senders: args.senders,
            plan,
        });
        measure(common, deployment, jobs).await?.fan_out_figures("broadcasts acked/s")
    })
    .await
}
