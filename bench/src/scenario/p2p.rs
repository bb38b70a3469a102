//! `p2p`: pairs of clients, one sending to the other; acknowledged messages per second and
//! send→deliver latency.

use serde_json::json;

use super::{CommonArgs, CostUnit, DELIVERY_LATENCY, SendArgs, measure, merge, repeat};
use crate::report::{Report, Run};
use crate::worker::{Share, Work};

#[derive(Clone, Debug, clap::Args)]
pub(crate) struct P2pArgs {
    /// Sender→receiver pairs.
    #[arg(long, default_value_t = 100)]
    pub(crate) pairs: usize,
    #[command(flatten)]
    pub(crate) send: SendArgs,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

pub(crate) async fn run(args: P2pArgs) -> anyhow::Result<Report> {
    let common = &args.common;
    let workers = common.workers.unwrap_or(1).max(1);
    let mut params =
        json!({ "pairs": args.pairs, "load_processes": workers, "window_s": common.timing.duration });
    merge(&mut params, args.send.params());
    let plan = args.send.plan(args.pairs);
    repeat("p2p", common, params, async |deployment, run| {
        let jobs = common.jobs(deployment, run, workers, None, |index, parts| Work::P2p {
            pairs: Share::of(args.pairs, parts, index),
            plan,
        });
        let m = measure(common, deployment, jobs).await?;
        let mut figures = Run::default();
        let acked = m.rate(|r| r.acked);
        figures.add("acked messages/s", "", acked);
        figures.add("deliveries/s", "", m.rate(|r| r.delivered));
        m.add_latency(&mut figures, &DELIVERY_LATENCY)?;
        figures.add("server CPU", "cores", m.server_cores());
        m.add_redis(&mut figures);
        m.add_costs(&mut figures, CostUnit::AckedMessage, acked);
        m.add_redis_memory(&mut figures, m.sum(|r| r.acked));
        m.add_failures(&mut figures);
        if args.send.rate.is_some() {
            figures.add("sends skipped (backlog full)", "", m.sum(|r| r.skipped) as f64);
        }
        Ok(figures)
    })
    .await
}
