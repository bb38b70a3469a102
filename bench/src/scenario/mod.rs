//! The scenarios, and what they share: target and timing flags, one measured run, and the
//! figures every run reports.

pub(crate) mod broadcast;
pub(crate) mod connect;
pub(crate) mod group;
pub(crate) mod login;
pub(crate) mod p2p;
pub(crate) mod store;

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::deploy::{Deployment, TargetArgs};
use crate::procfs::{self, ProcSample};
use crate::redis_stats;
use crate::report::{Report, Run};
use crate::runner::{Workers, progress_bar};
use crate::worker::{Job, SendPlan, Work, WorkerResult};

/// Flags every scenario takes.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct CommonArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) timing: Timing,
    /// Load processes [default: one, or one per 18,000 clients].
    #[arg(long)]
    pub(crate) workers: Option<usize>,
    /// Threads per load process.
    #[arg(long, default_value_t = 2)]
    pub(crate) threads: usize,
    /// Logins and handshakes in progress at once, per load process.
    #[arg(long, default_value_t = 200)]
    pub(crate) setup_concurrency: usize,
}

/// How a scenario is measured, and how its report is printed: every scenario takes these.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct Timing {
    /// Measure this many times (a fresh deployment each time when spawning); the table gives
    /// the median, min, max and spread (max − min over median).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) runs: u32,
    /// Seconds of load before the window opens.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) warmup: f64,
    /// Seconds the window lasts.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) duration: f64,
    /// Print the report as JSON on stdout instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
}

impl CommonArgs {
    /// One job per worker, the work of each from `work(index, workers)`.
    pub(crate) fn jobs(
        &self,
        deployment: &Deployment,
        run: u32,
        workers: usize,
        heartbeat_secs: Option<u64>,
        work: impl Fn(usize, usize) -> Work,
    ) -> Vec<Job> {
        (0..workers)
            .map(|index| Job {
                worker: index as u32,
                routes: deployment.routes.clone(),
                jwt_secret: deployment.jwt_secret.clone(),
                users: users_prefix(run),
                threads: self.threads,
                setup_concurrency: self.setup_concurrency,
                heartbeat_secs,
                warmup_ms: (self.timing.warmup * 1000.0) as u64,
                duration_ms: (self.timing.duration * 1000.0) as u64,
                work: work(index, workers),
            })
            .collect()
    }
}

/// User names of a run: unique per process and run, so runs against one `--route` never
/// share users.
pub(crate) fn users_prefix(run: u32) -> String {
    format!("b{}r{run}", std::process::id())
}

/// Adds `more`'s fields to a scenario's `params`.
pub(crate) fn merge(params: &mut serde_json::Value, more: serde_json::Value) {
    if let (Some(params), serde_json::Value::Object(more)) = (params.as_object_mut(), more) {
        params.extend(more);
    }
}

/// What one run measured.
pub(crate) struct Measured {
    pub(crate) results: Vec<WorkerResult>,
    pub(crate) connected: u64,
    pub(crate) expected: u64,
    /// Server processes before the clients connected.
    pub(crate) idle_servers: ProcSample,
    /// Server processes with every client connected, before the window.
    pub(crate) loaded_servers: ProcSample,
    /// Server processes at the end of the window.
    pub(crate) final_servers: ProcSample,
    /// Server CPU time spent in the window.
    pub(crate) window_cpu: Duration,
    /// Route CPU time spent in the window (the server's too when embedded).
    pub(crate) route_cpu: Duration,
    /// Redis CPU time spent in the window, for a spawned cluster.
    pub(crate) redis_cpu: Option<Duration>,
    /// Microseconds Redis spent in scripts in the window (`INFO commandstats`).
    pub(crate) redis_script_usec: Option<u64>,
    /// Redis's `used_memory` at the start of the window and after it (once the last
    /// acknowledgements are in).
    pub(crate) redis_memory: Option<(u64, u64)>,
    /// Redis's `used_memory` before the clients connected.
    pub(crate) redis_memory_idle: Option<u64>,
    pub(crate) window: Duration,
}

impl Measured {
    pub(crate) fn sum(&self, field: impl Fn(&WorkerResult) -> u64) -> u64 {
        self.results.iter().map(field).sum()
    }

    /// Per second of the window.
    pub(crate) fn rate(&self, field: impl Fn(&WorkerResult) -> u64) -> f64 {
        self.sum(field) as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Server cores busy in the window.
    pub(crate) fn server_cores(&self) -> f64 {
        self.window_cpu.as_secs_f64() / self.window.as_secs_f64().max(1e-9)
    }

    /// Route cores busy in the window.
    pub(crate) fn route_cores(&self) -> f64 {
        self.route_cpu.as_secs_f64() / self.window.as_secs_f64().max(1e-9)
    }

    /// Every worker's latency histogram, merged.
    pub(crate) fn latency(&self) -> anyhow::Result<Option<Histogram<u64>>> {
        let mut merged: Option<Histogram<u64>> = None;
        for result in &self.results {
            if let Some(h) = result.latency_histogram()? {
                match &mut merged {
                    Some(m) => m.add(&h)?,
                    None => merged = Some(h),
                }
            }
        }
        Ok(merged)
    }

    /// Adds latency percentiles in ms (nothing when no message was timed).
    pub(crate) fn add_latency(&self, run: &mut Run, what: &'static [&'static str; 6]) -> anyhow::Result<()> {
        let Some(h) = self.latency()? else { return Ok(()) };
        let ms = |v: u64| v as f64 / 1e6;
        run.add(what[0], "ms", ms(h.value_at_quantile(0.50)));
        run.add(what[1], "ms", ms(h.value_at_quantile(0.90)));
        run.add(what[2], "ms", ms(h.value_at_quantile(0.99)));
        run.add(what[3], "ms", ms(h.value_at_quantile(0.999)));
        run.add(what[4], "ms", ms(h.max()));
        run.add(what[5], "", h.len() as f64);
        Ok(())
    }

    /// Adds Redis's busy cores, for a spawned cluster.
    pub(crate) fn add_redis(&self, run: &mut Run) {
        if let Some(cpu) = self.redis_cpu {
            run.add("Redis CPU", "cores", cpu.as_secs_f64() / self.window.as_secs_f64().max(1e-9));
        }
    }

    /// What one `unit` (an acked message, a delivery) cost the server processes and, when
    /// there is one, Redis (its CPU, and its wall time in scripts), at `per_second` units.
    pub(crate) fn add_costs(&self, run: &mut Run, unit: CostUnit, per_second: f64) {
        let units = per_second * self.window.as_secs_f64();
        if units < 1.0 {
            return;
        }
        let (server, redis, scripts) = match unit {
            CostUnit::AckedMessage => (
                "server CPU per acked message",
                "Redis CPU per acked message",
                "Redis scripts per acked message",
            ),
            CostUnit::Delivery => {
                ("server CPU per delivery", "Redis CPU per delivery", "Redis scripts per delivery")
            }
        };
        run.add(server, "µs", self.window_cpu.as_secs_f64() * 1e6 / units);
        if let Some(cpu) = self.redis_cpu {
            run.add(redis, "µs", cpu.as_secs_f64() * 1e6 / units);
        }
        if let Some(usec) = self.redis_script_usec {
            run.add(scripts, "µs", usec as f64 / units);
        }
    }

    /// What Redis still holds per acked message after the window: dedupe records, and
    /// anything else that outlived delivery and acknowledgement.
    pub(crate) fn add_redis_memory(&self, run: &mut Run, acked: u64) {
        if let Some((start, end)) = self.redis_memory
            && acked > 0
        {
            run.add("Redis memory kept per acked message", "B", (end as f64 - start as f64) / acked as f64);
        }
    }

    /// The figures of a fan-out (group or broadcast): deliveries, per server core too,
    /// the senders' acked messages (`acked`), latency, CPU and failures.
    pub(crate) fn fan_out_figures(&self, acked: &'static str) -> anyhow::Result<Run> {
        let mut figures = Run::default();
        let deliveries = self.rate(|r| r.delivered);
        figures.add("deliveries/s", "", deliveries);
        figures.add(acked, "", self.rate(|r| r.acked));
        figures.add("deliveries per server core-second", "", deliveries / self.server_cores().max(1e-9));
        self.add_latency(&mut figures, &DELIVERY_LATENCY)?;
        figures.add("server CPU", "cores", self.server_cores());
        self.add_redis(&mut figures);
        self.add_costs(&mut figures, CostUnit::Delivery, deliveries);
        self.add_failures(&mut figures);
        Ok(figures)
    }

    /// Failures every scenario shows, so a fast run that lost its clients is not mistaken for
    /// a good one.
    pub(crate) fn add_failures(&self, run: &mut Run) {
        run.add("disconnects in window", "", self.sum(|r| r.disconnects) as f64);
        run.add("send failures in window", "", self.sum(|r| r.send_failed) as f64);
    }
}

/// What [`Measured::add_costs`] divides by.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CostUnit {
    AckedMessage,
    Delivery,
}

/// Send→deliver latency figure names.
pub(crate) const DELIVERY_LATENCY: [&str; 6] =
    ["latency p50", "latency p90", "latency p99", "latency p99.9", "latency max", "latencies timed"];

/// Starts the workers, opens the window, and samples the servers around it.
pub(crate) async fn measure(
    common: &CommonArgs,
    deployment: &Deployment,
    jobs: Vec<Job>,
) -> anyhow::Result<Measured> {
    let idle_servers = sample_servers(deployment)?;
    let redis_memory_idle = deployment.redis_port.map(redis_stats::used_memory).transpose()?;
    let workers_started = Workers::start(jobs, common.timing.json).await;
    deployment.check_children()?;
    let mut workers = workers_started?;
    // Let the last handshakes' garbage go before reading memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded_servers = sample_servers(deployment)?;
    let (connected, expected) = (workers.connected, workers.expected);
    let warmup = Duration::from_secs_f64(common.timing.warmup);
    let duration = Duration::from_secs_f64(common.timing.duration);
    let bar = progress_bar(
        common.timing.json,
        (warmup + duration).as_secs(),
        "{spinner} {msg} [{bar:30}] {pos}/{len} s",
    );
    bar.set_message("warming up");
    workers.go().await?;
    let started = tokio::time::Instant::now();
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let elapsed = started.elapsed();
                bar.set_position(elapsed.as_secs());
                if elapsed >= warmup {
                    bar.set_message("measuring");
                }
            }
        })
    };
    tokio::time::sleep_until(started + warmup).await;
    let cpu_start = sample_servers(deployment)?;
    let route_start = sample(&deployment.route_pids)?;
    let redis_start = deployment.redis_pid.map(procfs::sample).transpose()?;
    let redis_usec_start = deployment.redis_port.map(redis_stats::script_usec).transpose()?;
    let redis_memory_start = deployment.redis_port.map(redis_stats::used_memory).transpose()?;
    let window_start = tokio::time::Instant::now();
    tokio::time::sleep_until(started + warmup + duration).await;
    let cpu_end = sample_servers(deployment)?;
    let route_end = sample(&deployment.route_pids)?;
    let redis_end = deployment.redis_pid.map(procfs::sample).transpose()?;
    let redis_usec_end = deployment.redis_port.map(redis_stats::script_usec).transpose()?;
    let window = window_start.elapsed();
    let results = workers.results(Duration::from_secs(120)).await;
    // Servers record acknowledgements within 50 ms; give the last ones time to land.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let redis_memory_end = deployment.redis_port.map(redis_stats::used_memory).transpose()?;
    ticker.abort();
    bar.finish_and_clear();
    deployment.check_children()?;
    Ok(Measured {
        results: results?,
        connected,
        expected,
        idle_servers,
        loaded_servers,
        final_servers: cpu_end,
        window_cpu: cpu_end.cpu.saturating_sub(cpu_start.cpu),
        route_cpu: route_end.cpu.saturating_sub(route_start.cpu),
        redis_cpu: redis_start.zip(redis_end).map(|(a, b)| b.cpu.saturating_sub(a.cpu)),
        redis_script_usec: redis_usec_start.zip(redis_usec_end).map(|(a, b)| b.saturating_sub(a)),
        redis_memory: redis_memory_start.zip(redis_memory_end),
        redis_memory_idle,
        window,
    })
}

fn sample_servers(deployment: &Deployment) -> anyhow::Result<ProcSample> {
    sample(&deployment.server_pids)
}

fn sample(pids: &[u32]) -> anyhow::Result<ProcSample> {
    let samples = pids.iter().map(|pid| procfs::sample(*pid)).collect::<Result<Vec<_>, _>>()?;
    Ok(ProcSample::total(&samples))
}

/// Runs a scenario `common.timing.runs` times, each against a fresh deployment when spawning.
pub(crate) async fn repeat(
    scenario: &'static str,
    common: &CommonArgs,
    params: serde_json::Value,
    mut once: impl AsyncFnMut(&Deployment, u32) -> anyhow::Result<Run>,
) -> anyhow::Result<Report> {
    let mut runs = Vec::new();
    let mut description = String::new();
    for run in 1..=common.timing.runs {
        let deployment = Deployment::start(&common.target).await?;
        description = deployment.description.clone();
        if !common.timing.json && common.timing.runs > 1 {
            eprintln!("run {run} of {} …", common.timing.runs);
        }
        runs.push(once(&deployment, run).await?);
    }
    Ok(Report::new(scenario, description, params, runs))
}

/// The send flags of the throughput scenarios.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct SendArgs {
    /// Closed loop: Sends each sender keeps unanswered (the server allows 64 in flight; more
    /// wait in the client).
    #[arg(long, default_value_t = 32)]
    pub(crate) window: usize,
    /// Open loop instead: Sends per second over all senders, whatever the answers.
    #[arg(long, value_name = "PER_SEC")]
    pub(crate) rate: Option<f64>,
    /// Message body size in bytes (at least 12: the timestamp and worker id).
    #[arg(long, default_value_t = 64)]
    pub(crate) body_size: usize,
}

impl SendArgs {
    pub(crate) fn plan(&self, senders: usize) -> SendPlan {
        SendPlan {
            window: self.window,
            rate: self.rate.map(|total| total / senders.max(1) as f64),
            body_size: self.body_size,
        }
    }

    pub(crate) fn params(&self) -> serde_json::Value {
        match self.rate {
            Some(rate) => {
                serde_json::json!({ "mode": "open loop", "rate": rate, "body_size": self.body_size })
            }
            None => {
                serde_json::json!({ "mode": "closed loop", "window": self.window, "body_size": self.body_size })
            }
        }
    }
}
