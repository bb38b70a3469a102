//! `store`: the Redis store alone, as `cim-server` drives it but without servers, route or
//! clients. Senders hand one-to-one messages over in batches (`accept_messages`, as a
//! connection's Sends are), each recipient acknowledges what it got every so often; the
//! figures are what Redis spends and keeps per message, over one Redis or over a Redis
//! Cluster of three masters (to compare the cost per Redis core of the two), and this
//! process's own CPU per message: the store's client side, which a `cim-server` pays too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use cim_backend::testsuite::{RedisCluster, RedisServer};
use cim_backend::{Accepted, InboxLimits, InboxStore, NewMessage, RedisStore, now_ms, random_bytes};
use cim_core::wire::{self, recipient};
use serde_json::json;

use super::Timing;
use crate::procfs::{self, ProcSample};
use crate::redis_stats;
use crate::report::{Report, Run};

#[derive(Clone, Debug, clap::Args)]
pub(crate) struct StoreArgs {
    /// Senders, each sending to a recipient of its own.
    #[arg(long, default_value_t = 100)]
    pub(crate) senders: usize,
    /// Messages per `accept_messages` call (the Sends of one connection decoded together;
    /// `cim-server` takes at most 64).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub(crate) batch: u64,
    /// A recipient acknowledges its inbox after this many messages (0: only at the end).
    #[arg(long, default_value_t = 32)]
    pub(crate) ack_every: u64,
    /// Message body size in bytes.
    #[arg(long, default_value_t = 64)]
    pub(crate) body_size: usize,
    /// A Redis Cluster of three masters instead of one Redis.
    #[arg(long)]
    pub(crate) redis_cluster: bool,
    #[command(flatten)]
    pub(crate) timing: Timing,
}

/// The Redis processes of one run, stopped on drop.
enum Redis {
    Single(RedisServer),
    Cluster(RedisCluster),
}

impl Redis {
    fn start(cluster: bool) -> Self {
        if cluster { Self::Cluster(RedisCluster::start()) } else { Self::Single(RedisServer::start()) }
    }

    fn url(&self) -> &str {
        match self {
            Self::Single(redis) => &redis.url,
            Self::Cluster(cluster) => &cluster.url,
        }
    }

    fn ports(&self) -> Vec<u16> {
        match self {
            Self::Single(redis) => vec![redis.port],
            Self::Cluster(cluster) => cluster.ports.clone(),
        }
    }

    fn pids(&self) -> Vec<u32> {
        match self {
            Self::Single(redis) => redis.pid().into_iter().collect(),
            Self::Cluster(cluster) => cluster.pids(),
        }
    }

    fn description(&self) -> &'static str {
        match self {
            Self::Single(_) => "the Redis store alone: one redis-server",
            Self::Cluster(_) => "the Redis store alone: a Redis Cluster of three masters",
        }
    }
}

/// What Redis and this process have spent and hold, at one moment.
struct Snapshot {
    at: Instant,
    accepted: u64,
    redis: ProcSample,
    client: ProcSample,
    script_usec: u64,
    used_memory: u64,
}

impl Snapshot {
    fn take(redis: &Redis, accepted: &AtomicU64) -> anyhow::Result<Self> {
        let samples: Vec<ProcSample> =
            redis.pids().into_iter().map(procfs::sample).collect::<anyhow::Result<_>>()?;
        let ports = redis.ports();
        let mut script_usec = 0;
        let mut used_memory = 0;
        for port in ports {
            script_usec += redis_stats::script_usec(port)?;
            used_memory += redis_stats::used_memory(port)?;
        }
        Ok(Self {
            at: Instant::now(),
            accepted: accepted.load(Ordering::Relaxed),
            redis: ProcSample::total(&samples),
            client: procfs::sample(std::process::id())?,
            script_usec,
            used_memory,
        })
    }
}

pub(crate) async fn run(args: StoreArgs) -> anyhow::Result<Report> {
    let params = json!({
        "senders": args.senders, "batch": args.batch, "ack_every": args.ack_every,
        "body_size": args.body_size, "window_s": args.timing.duration,
    });
    let mut runs = Vec::new();
    let mut description = "";
    for run in 1..=args.timing.runs {
        if !args.timing.json && args.timing.runs > 1 {
            eprintln!("run {run} of {} …", args.timing.runs);
        }
        let redis = Redis::start(args.redis_cluster);
        description = redis.description();
        runs.push(once(&args, &redis).await?);
    }
    Ok(Report::new("store", description.to_owned(), params, runs))
}

async fn once(args: &StoreArgs, redis: &Redis) -> anyhow::Result<Run> {
    let store = Arc::new(
        RedisStore::connect_with(redis.url(), "bench", InboxLimits::default())
            .await
            .context("connecting the store to the Redis it started")?,
    );
    let accepted = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let body = Bytes::from(vec![b'x'; args.body_size]);
    let mut tasks = Vec::new();
    for n in 0..args.senders {
        let sender = Sender {
            store: Arc::clone(&store),
            name: format!("s{n}"),
            recipient: format!("r{n}"),
            body: body.clone(),
            batch: args.batch,
            ack_every: args.ack_every,
        };
        let (accepted, failed, stop) = (Arc::clone(&accepted), Arc::clone(&failed), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move { sender.run(&accepted, &failed, &stop).await }));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.timing.warmup)).await;
    let start = Snapshot::take(redis, &accepted)?;
    tokio::time::sleep(Duration::from_secs_f64(args.timing.duration)).await;
    let end = Snapshot::take(redis, &accepted)?;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.context("a sender task failed")??;
    }
    // Every sender acknowledged all it sent before ending: what Redis holds now beyond the
    // start of the window is what messages leave behind (their dedupe records).
    let settled = redis.ports().into_iter().map(redis_stats::used_memory).sum::<anyhow::Result<u64>>()?;

    let window = end.at.duration_since(start.at).as_secs_f64().max(1e-9);
    let messages = end.accepted.saturating_sub(start.accepted);
    let per_message = |total: f64| if messages == 0 { 0.0 } else { total / messages as f64 };
    let redis_cpu = end.redis.cpu.saturating_sub(start.redis.cpu).as_secs_f64();
    let client_cpu = end.client.cpu.saturating_sub(start.client.cpu).as_secs_f64();
    let mut figures = Run::default();
    figures.add("accepted messages/s", "", messages as f64 / window);
    figures.add("Redis CPU", "cores", redis_cpu / window);
    figures.add("Redis CPU per accepted message", "µs", per_message(redis_cpu * 1e6));
    figures.add(
        "Redis scripts per accepted message",
        "µs",
        per_message(end.script_usec.saturating_sub(start.script_usec) as f64),
    );
    figures.add("store client CPU per accepted message", "µs", per_message(client_cpu * 1e6));
    figures.add(
        "Redis memory kept per accepted message",
        "B",
        per_message(settled as f64 - start.used_memory as f64),
    );
    figures.add("failed accepts", "", failed.load(Ordering::Relaxed) as f64);
    Ok(figures)
}

/// One sender and its recipient.
struct Sender {
    store: Arc<RedisStore>,
    name: String,
    recipient: String,
    body: Bytes,
    batch: u64,
    ack_every: u64,
}

impl Sender {
    async fn run(&self, accepted: &AtomicU64, failed: &AtomicU64, stop: &AtomicBool) -> anyhow::Result<()> {
        let mut sent = 0u64;
        let mut newest = 0u64;
        let mut unacked = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let batch: Vec<NewMessage> = (0..self.batch).map(|i| self.message(sent + i)).collect();
            sent += self.batch;
            for answer in self.store.accept_messages(batch).await {
                match answer {
                    Ok(Accepted::Stored { entries }) => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                        unacked += 1;
                        newest = entries.iter().map(|(_, seq)| *seq).max().unwrap_or(newest);
                    }
                    Ok(Accepted::Duplicate { .. }) | Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if self.ack_every > 0 && unacked >= self.ack_every {
                self.store.ack_inbox(&self.recipient, "d", newest).await?;
                unacked = 0;
            }
        }
        if newest > 0 {
            self.store.ack_inbox(&self.recipient, "d", newest).await?;
        }
        Ok(())
    }

    fn message(&self, n: u64) -> NewMessage {
        let sent_at_ms = now_ms();
        NewMessage {
            sender: self.name.clone(),
            client_msg_id: format!("{}-{n}", self.name),
            recipients: vec![self.recipient.clone()],
            to: wire::Recipient { kind: Some(recipient::Kind::UserId(self.recipient.clone())) },
            content_type: "text/plain".into(),
            body: self.body.clone(),
            message_id: cim_core::ulid::encode(sent_at_ms, u128::from_be_bytes(random_bytes())),
            sent_at_ms,
        }
    }
}
