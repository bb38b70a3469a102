//! `cim-bench worker`: one load process. It reads its [`Job`] as a JSON line on stdin, sets
//! up its clients, says `ready`, waits for `go`, measures for the job's window and prints
//! its [`WorkerResult`]. The coordinator runs several when one process's 20,000 open files
//! are not enough, and to keep its own work out of the measured processes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cim_core::client::{ClientEvent, ClientSession};
use cim_core::wire;
use cim_sdk::{Credentials, RouteClient};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{Semaphore, watch};

use crate::load::{self, Behaviour, ConnectionStats, Counter, Device, Phase};

/// What one worker does.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    /// This worker's index: stamps its message bodies.
    pub(crate) worker: u32,
    pub(crate) routes: Vec<String>,
    pub(crate) jwt_secret: String,
    /// Prefix of every user name, unique per run.
    pub(crate) users: String,
    /// Tokio worker threads.
    pub(crate) threads: usize,
    /// Logins and handshakes in progress at once.
    pub(crate) setup_concurrency: usize,
    /// Heartbeat interval the clients ask for [default: the server's].
    pub(crate) heartbeat_secs: Option<u64>,
    /// Running time before the window opens.
    pub(crate) warmup_ms: u64,
    /// The measured window.
    pub(crate) duration_ms: u64,
    pub(crate) work: Work,
}

/// A range of client indices, as a scenario spreads them over workers.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct Share {
    pub(crate) first: usize,
    pub(crate) count: usize,
}

impl Share {
    /// The `index`-th of `parts` near-equal shares of `total`.
    pub(crate) fn of(total: usize, parts: usize, index: usize) -> Self {
        let base = total / parts;
        let extra = total % parts;
        let first = index * base + index.min(extra);
        Self { first, count: base + usize::from(index < extra) }
    }

    fn indices(self) -> std::ops::Range<usize> {
        self.first..self.first + self.count
    }
}

/// How clients send.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct SendPlan {
    /// Closed loop: Sends kept unanswered per sender.
    pub(crate) window: usize,
    /// Open loop: Sends per second per sender, whatever the answers.
    pub(crate) rate: Option<f64>,
    pub(crate) body_size: usize,
}

/// The clients of a job.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Work {
    /// Connected clients that only keep their heartbeats (`{users}-c{i}`).
    Idle { clients: Share },
    /// Pairs `{users}-p{i}a` → `{users}-p{i}b`.
    P2p { pairs: Share, plan: SendPlan },
    /// Members `{users}-m{i}` of `group`; members below `senders` send to it.
    Group { group: String, members: Share, senders: usize, plan: SendPlan },
    /// Users `{users}-b{i}`; those below `senders` send to everyone.
    Broadcast { clients: Share, senders: usize, plan: SendPlan },
    /// Route logins of users `{users}-l{i % users}` by `concurrency` loops.
    Login { concurrency: usize, users: usize },
}

/// A worker's line on stdout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Report {
    Progress { connected: u64, login_failures: u64 },
    Ready { connected: u64, expected: u64 },
    Result(WorkerResult),
}

/// What a worker counted in the window.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct WorkerResult {
    pub(crate) window_secs: f64,
    pub(crate) connected: u64,
    pub(crate) disconnects: u64,
    pub(crate) login_failures: u64,
    pub(crate) sent: u64,
    pub(crate) acked: u64,
    pub(crate) send_failed: u64,
    pub(crate) delivered: u64,
    /// Open loop: Sends not made because the sender's backlog was full.
    pub(crate) skipped: u64,
    pub(crate) logins: u64,
    /// Send→deliver latency in ns (messages sent and received in this worker), V2, base64.
    pub(crate) latency: Option<String>,
}

impl WorkerResult {
    /// The latency histogram, decoded.
    pub(crate) fn latency_histogram(&self) -> anyhow::Result<Option<Histogram<u64>>> {
        let Some(encoded) = &self.latency else { return Ok(None) };
        let bytes = BASE64.decode(encoded)?;
        let histogram = Deserializer::new().deserialize(&mut bytes.as_slice())?;
        Ok(Some(histogram))
    }
}

/// Most Sends an open-loop sender keeps unanswered before it skips: past this the server is
/// saturated and the latency is queueing in the client.
const OPEN_LOOP_BACKLOG: u64 = 4096;

/// Shared by the tasks of a worker.
struct Shared {
    job: Job,
    routes: Vec<RouteClient>,
    epoch: Instant,
    stats: Arc<ConnectionStats>,
    measuring: AtomicBool,
    sent: Counter,
    acked: Counter,
    send_failed: Counter,
    delivered: Counter,
    skipped: Counter,
    logins: Counter,
    latency: Mutex<Histogram<u64>>,
}

impl Shared {
    fn record_latency(&self, nanos: u64) {
        if self.measuring.load(Ordering::Relaxed) {
            let mut histogram = self.latency.lock().unwrap_or_else(|p| p.into_inner());
            histogram.saturating_record(nanos.max(1));
        }
    }

    fn route(&self, index: usize) -> &RouteClient {
        &self.routes[index % self.routes.len()]
    }
}

/// A client of a scenario: sends to `to` by `plan` (if any), counts what arrives.
struct Peer {
    shared: Arc<Shared>,
    send: Option<(wire::Recipient, SendPlan)>,
    running: bool,
    /// Sends made and not yet answered.
    unanswered: u64,
    next_send_at: Option<Instant>,
    /// Where in the send interval this sender's sends fall, in [0, 1).
    spread: f64,
}

impl Peer {
    fn send_one(&mut self, now: Instant, session: &mut ClientSession) {
        let Some((to, plan)) = &self.send else { return };
        let body = load::stamped_body(self.shared.epoch, self.shared.job.worker, plan.body_size);
        if session.send(now, to.clone(), "", body).is_ok() {
            self.unanswered += 1;
            self.shared.sent.add(1);
        }
    }
}

impl Behaviour for Peer {
    fn on_event(&mut self, now: Instant, event: &ClientEvent, session: &mut ClientSession) {
        match event {
            ClientEvent::Message(deliver) => {
                self.shared.delivered.add(1);
                if let Some(nanos) =
                    load::latency_of(self.shared.epoch, self.shared.job.worker, &deliver.body)
                {
                    self.shared.record_latency(nanos);
                }
            }
            ClientEvent::Acked(_) | ClientEvent::SendFailed { .. } => {
                if matches!(event, ClientEvent::Acked(_)) {
                    self.shared.acked.add(1);
                } else {
                    self.shared.send_failed.add(1);
                }
                self.unanswered = self.unanswered.saturating_sub(1);
                let closed_loop = self.send.as_ref().is_some_and(|(_, plan)| plan.rate.is_none());
                if self.running && closed_loop {
                    self.send_one(now, session);
                }
            }
            _ => {}
        }
    }

    fn on_phase(&mut self, now: Instant, phase: Phase, session: &mut ClientSession) {
        self.running = phase == Phase::Running;
        let Some((_, plan)) = &self.send else { return };
        if !self.running {
            return;
        }
        match plan.rate {
            None => {
                for _ in 0..plan.window {
                    self.send_one(now, session);
                }
            }
            // Senders start spread evenly over one interval: all at once, they would arrive
            // in bursts and the latency would be the burst's queueing.
            Some(rate) => {
                let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
                self.next_send_at = Some(now + interval.mul_f64(self.spread));
            }
        }
    }

    fn wake_at(&self) -> Option<Instant> {
        self.next_send_at.filter(|_| self.running)
    }

    fn on_wake(&mut self, now: Instant, session: &mut ClientSession) {
        let Some((_, plan)) = &self.send else { return };
        let Some(rate) = plan.rate else { return };
        let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
        while let Some(at) = self.next_send_at.filter(|at| *at <= now) {
            if self.unanswered < OPEN_LOOP_BACKLOG {
                self.send_one(now, session);
            } else {
                self.shared.skipped.add(1);
            }
            self.next_send_at = Some(at + interval);
        }
    }
}

/// Entry point of `cim-bench worker`.
pub(crate) fn main() -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the job")?;
    let job: Job = serde_json::from_str(&line).context("parsing the job")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(job.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(run(job))
}

fn say(report: &Report) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    // The coordinator gone means the run is over: nothing to report to.
    if serde_json::to_writer(&mut out, report).is_err() || writeln!(out).is_err() || out.flush().is_err() {
        std::process::exit(0);
    }
}

async fn run(job: Job) -> anyhow::Result<()> {
    let routes = job.routes.iter().map(|r| RouteClient::new(r)).collect::<Result<Vec<_>, _>>()?;
    let shared = Arc::new(Shared {
        routes,
        epoch: Instant::now(),
        stats: Arc::default(),
        measuring: AtomicBool::new(false),
        sent: Counter::default(),
        acked: Counter::default(),
        send_failed: Counter::default(),
        delivered: Counter::default(),
        skipped: Counter::default(),
        logins: Counter::default(),
        // 1 ns to 10 min at 3 significant digits; anything longer is clamped.
        latency: Mutex::new(Histogram::new_with_bounds(1, 600_000_000_000, 3)?),
        job,
    });
    let (phase_tx, phase_rx) = watch::channel(Phase::Setup);
    let mut tasks = tokio::task::JoinSet::new();
    let expected = spawn_clients(&shared, &phase_rx, &mut tasks).await?;

    // Setup: report progress until every client is connected.
    let setup_limit = Duration::from_secs(60) + Duration::from_millis(expected * 10);
    let started = Instant::now();
    loop {
        let connected = shared.stats.connected.load(Ordering::Relaxed);
        if connected >= expected || started.elapsed() > setup_limit {
            say(&Report::Ready { connected, expected });
            break;
        }
        let login_failures = shared.stats.login_failures.load(Ordering::Relaxed);
        say(&Report::Progress { connected, login_failures });
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    match stdin.next_line().await? {
        Some(command) if command.trim() == "go" => {}
        _ => return Ok(()), // the coordinator gave up
    }
    let _ = phase_tx.send(Phase::Running);
    tokio::time::sleep(Duration::from_millis(shared.job.warmup_ms)).await;
    let before = snapshot(&shared);
    shared.measuring.store(true, Ordering::Relaxed);
    let window_start = Instant::now();
    tokio::time::sleep(Duration::from_millis(shared.job.duration_ms)).await;
    shared.measuring.store(false, Ordering::Relaxed);
    let window = window_start.elapsed();
    let after = snapshot(&shared);
    let _ = phase_tx.send(Phase::Stopping);

    let histogram = shared.latency.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let latency = if histogram.is_empty() {
        None
    } else {
        let mut bytes = Vec::new();
        V2Serializer::new().serialize(&histogram, &mut bytes)?;
        Some(BASE64.encode(bytes))
    };
    say(&Report::Result(WorkerResult {
        window_secs: window.as_secs_f64(),
        connected: before.connected.min(after.connected),
        disconnects: after.disconnects - before.disconnects,
        login_failures: after.login_failures - before.login_failures,
        sent: after.sent - before.sent,
        acked: after.acked - before.acked,
        send_failed: after.send_failed - before.send_failed,
        delivered: after.delivered - before.delivered,
        skipped: after.skipped - before.skipped,
        logins: after.logins - before.logins,
        latency,
    }));
    // Clients close their connections as they see Stopping; don't wait long for stragglers.
    let _ =
        tokio::time::timeout(Duration::from_secs(5), async { while tasks.join_next().await.is_some() {} })
            .await;
    Ok(())
}

#[derive(Clone, Copy)]
struct Snapshot {
    connected: u64,
    disconnects: u64,
    login_failures: u64,
    sent: u64,
    acked: u64,
    send_failed: u64,
    delivered: u64,
    skipped: u64,
    logins: u64,
}

fn snapshot(shared: &Shared) -> Snapshot {
    let stats = &shared.stats;
    Snapshot {
        connected: stats.connected.load(Ordering::Relaxed),
        disconnects: stats.disconnects.load(Ordering::Relaxed),
        login_failures: stats.login_failures.load(Ordering::Relaxed),
        sent: shared.sent.get(),
        acked: shared.acked.get(),
        send_failed: shared.send_failed.get(),
        delivered: shared.delivered.get(),
        skipped: shared.skipped.get(),
        logins: shared.logins.get(),
    }
}

/// Spawns the job's clients; returns how many connected clients make it ready.
async fn spawn_clients(
    shared: &Arc<Shared>,
    phase: &watch::Receiver<Phase>,
    tasks: &mut tokio::task::JoinSet<()>,
) -> anyhow::Result<u64> {
    let users = shared.job.users.clone();
    // (index, user, what it sends to and how)
    type Client = (usize, String, Option<(wire::Recipient, SendPlan)>);
    let mut clients: Vec<Client> = Vec::new();
    match &shared.job.work {
        Work::Idle { clients: share } => {
            clients.extend(share.indices().map(|i| (i, format!("{users}-c{i}"), None)));
        }
        Work::P2p { pairs, plan } => {
            for i in pairs.indices() {
                let receiver = format!("{users}-p{i}b");
                clients.push((2 * i, format!("{users}-p{i}a"), Some((load::to_user(&receiver), *plan))));
                clients.push((2 * i + 1, receiver, None));
            }
        }
        Work::Group { group, members, senders, plan } => {
            for i in members.indices() {
                let send = (i < *senders).then(|| (load::to_group(group), *plan));
                clients.push((i, format!("{users}-m{i}"), send));
            }
        }
        Work::Broadcast { clients: share, senders, plan } => {
            for i in share.indices() {
                let send = (i < *senders).then(|| (load::to_everyone(), *plan));
                clients.push((i, format!("{users}-b{i}"), send));
            }
        }
        Work::Login { concurrency, users: count } => {
            spawn_login_loops(shared, phase, tasks, *concurrency, *count).await?;
            return Ok(0);
        }
    }
    let expected = clients.len() as u64;
    let setup = Arc::new(Semaphore::new(shared.job.setup_concurrency.max(1)));
    for (index, user, send) in clients {
        let permit = setup.clone().acquire_owned().await?;
        let shared = shared.clone();
        let phase = phase.clone();
        tasks.spawn(async move {
            let device = Device {
                route: shared.route(index),
                user,
                jwt_secret: &shared.job.jwt_secret,
                heartbeat: shared.job.heartbeat_secs.map(Duration::from_secs),
                seed: (u64::from(shared.job.worker) << 40) ^ index as u64,
            };
            // Golden-ratio steps spread any number of senders evenly.
            let spread = (index as f64 * 0.618_034).fract();
            let mut peer = Peer {
                shared: shared.clone(),
                send,
                running: false,
                unanswered: 0,
                next_send_at: None,
                spread,
            };
            load::run_client(device, &mut peer, shared.stats.clone(), phase, Some(permit)).await;
        });
    }
    Ok(expected)
}

/// Logins, `concurrency` at a time: first every user once (so accounts exist), then, from
/// `go`, in a loop until the window ends.
async fn spawn_login_loops(
    shared: &Arc<Shared>,
    phase: &watch::Receiver<Phase>,
    tasks: &mut tokio::task::JoinSet<()>,
    concurrency: usize,
    users: usize,
) -> anyhow::Result<()> {
    let users = users.max(1);
    let credentials: Arc<Vec<Credentials>> = Arc::new(
        (0..users)
            .map(|i| {
                Credentials::Jwt(load::jwt_for(&format!("{}-l{i}", shared.job.users), &shared.job.jwt_secret))
            })
            .collect(),
    );
    let next = Arc::new(AtomicU64::new(0));
    let mut warmups = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (shared, credentials, next) = (shared.clone(), credentials.clone(), next.clone());
        warmups.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= credentials.len() {
                    return;
                }
                if shared.route(i).login(&credentials[i], "bench").await.is_err() {
                    shared.stats.login_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while warmups.join_next().await.is_some() {}
    for _ in 0..concurrency.max(1) {
        let (shared, credentials, next) = (shared.clone(), credentials.clone(), next.clone());
        let mut phase = phase.clone();
        tasks.spawn(async move {
            while *phase.borrow_and_update() == Phase::Setup {
                if phase.changed().await.is_err() {
                    return;
                }
            }
            while *phase.borrow() == Phase::Running {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize % credentials.len();
                let started = Instant::now();
                match shared.route(i).login(&credentials[i], "bench").await {
                    Ok(_) => {
                        shared.logins.add(1);
                        shared
                            .record_latency(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
                    }
                    Err(_) => {
                        shared.stats.login_failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    Ok(())
}
