//! `login`: JWT logins per second through the route: verify the app's JWT, find or create
//! the account, pick a server, issue a session token.

use serde_json::json;

use super::{CommonArgs, measure, repeat};
use crate::report::{Report, Run};
use crate::worker::Work;

#[derive(Clone, Debug, clap::Args)]
pub(crate) struct LoginArgs {
    /// Logins in progress at once, per load process.
    #[arg(long, default_value_t = 64)]
    pub(crate) concurrency: usize,
    /// Distinct users, logged in round-robin (each once before the window, which creates them).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) users: usize,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

const LOGIN_LATENCY: [&str; 6] =
    ["login p50", "login p90", "login p99", "login p99.9", "login max", "logins timed"];

pub(crate) async fn run(args: LoginArgs) -> anyhow::Result<Report> {
    let common = &args.common;
    let workers = common.workers.unwrap_or(1).max(1);
    let params = json!({
        "concurrency": args.concurrency, "users": args.users, "load_processes": workers, "window_s": common.timing.duration,
    });
    repeat("login", common, params, async |deployment, run| {
        let jobs = common.jobs(deployment, run, workers, None, |_, _| Work::Login {
            concurrency: args.concurrency,
            users: args.users,
        });
        let m = measure(common, deployment, jobs).await?;
        let mut figures = Run::default();
        figures.add("logins/s", "", m.rate(|r| r.logins));
        m.add_latency(&mut figures, &LOGIN_LATENCY)?;
        figures.add("failed logins in window", "", m.sum(|r| r.login_failures) as f64);
        figures.add("route CPU", "cores", m.route_cores());
        m.add_redis(&mut figures);
        Ok(figures)
    })
    .await
}
