//! `group`: members of one group, some sending to it; deliveries per second.

use cim_sdk::{Credentials, RouteClient};
use serde_json::json;

use super::{CommonArgs, SendArgs, measure, merge, repeat, users_prefix};
use crate::deploy::Deployment;
use crate::load::jwt_for;
use crate::report::Report;
use crate::worker::{Share, Work};

#[derive(Clone, Debug, clap::Args)]
pub(crate) struct GroupArgs {
    /// Members of the group, all online.
    #[arg(long, default_value_t = 500)]
    pub(crate) members: usize,
    /// How many members send to it.
    #[arg(long, default_value_t = 1)]
    pub(crate) senders: usize,
    #[command(flatten)]
    pub(crate) send: SendArgs,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

pub(crate) async fn run(args: GroupArgs) -> anyhow::Result<Report> {
    let common = &args.common;
    anyhow::ensure!(args.members >= 2, "a group needs at least 2 members");
    anyhow::ensure!(args.senders <= args.members, "--senders cannot exceed --members");
    let workers = common.workers.unwrap_or(1).max(1);
    let mut params = json!({
        "members": args.members, "senders": args.senders, "load_processes": workers, "window_s": common.timing.duration,
    });
    merge(&mut params, args.send.params());
    let plan = args.send.plan(args.senders);
    repeat("group", common, params, async |deployment, run| {
        let group = format!("{}-g", users_prefix(run));
        create_group(deployment, run, &group, args.members).await?;
        let jobs = common.jobs(deployment, run, workers, None, |index, parts| Work::Group {
            group: group.clone(),
            members: Share::of(args.members, parts, index),
            senders: args.senders,
            plan,
        });
        measure(common, deployment, jobs).await?.fan_out_figures("group messages acked/s")
    })
    .await
}

/// Logs every member in once (JWT logins create the accounts); the first creates the group and
/// the others join it.
async fn create_group(deployment: &Deployment, run: u32, group: &str, members: usize) -> anyhow::Result<()> {
    let users = users_prefix(run);
    let route = RouteClient::new(&deployment.routes[0])?;
    let names: Vec<String> = (0..members).map(|i| format!("{users}-m{i}")).collect();
    let mut tokens = Vec::with_capacity(members);
    for chunk in names.chunks(64) {
        let logins = chunk.iter().map(|name| {
            let route = &route;
            let credentials = Credentials::Jwt(jwt_for(name, &deployment.jwt_secret));
            async move { route.login(&credentials, "setup").await }
        });
        for login in futures_util::future::join_all(logins).await {
            tokens.push(login?.token);
        }
    }
    let (owner, others) = tokens.split_first().ok_or_else(|| anyhow::anyhow!("no member logged in"))?;
    route.create_group(owner, group, &[]).await?;
    // Every member joins by their own call: nobody is added by someone else.
    for chunk in others.chunks(64) {
        let joins = chunk.iter().map(|token| route.join_group(token, group));
        for joined in futures_util::future::join_all(joins).await {
            joined?;
        }
    }
    Ok(())
}
