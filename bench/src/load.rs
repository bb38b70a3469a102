//! The load side: lean clients, one task each, that run `cim_core`'s `ClientSession` in the
//! SDK's driver loop (`cim_sdk::driver`, per-thread buffers) and react to its events at once,
//! without the SDK client's queues, so that tens of thousands fit in one process and the load
//! costs the shared CPU as little as it can.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cim_core::client::{ClientConfig, ClientEvent, ClientSession, Delivery};
use cim_core::{Framing, wire};
use cim_sdk::driver::{Driver, Flow, Host, LoginFuture, log_in};
use cim_sdk::{Credentials, RouteClient, Transport};
use tokio::sync::{OwnedSemaphorePermit, watch};

/// Where a worker is in a run; every client task watches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Logging in and connecting.
    Setup,
    /// Sending (where the scenario sends).
    Running,
    /// Close and end.
    Stopping,
}

/// What a client does besides staying connected.
pub(crate) trait Behaviour: Send {
    /// An event of the session (connected, message, ack, …).
    fn on_event(&mut self, now: Instant, event: &ClientEvent, session: &mut ClientSession);
    /// The worker moved to `phase`.
    fn on_phase(&mut self, _now: Instant, _phase: Phase, _session: &mut ClientSession) {}
    /// When [`on_wake`](Self::on_wake) is due next.
    fn wake_at(&self) -> Option<Instant> {
        None
    }
    /// `wake_at` has passed.
    fn on_wake(&mut self, _now: Instant, _session: &mut ClientSession) {}
}

/// Counters every client of a worker adds to.
#[derive(Debug, Default)]
pub(crate) struct ConnectionStats {
    /// Sessions connected now.
    pub(crate) connected: AtomicU64,
    /// Welcomes received, reconnects included.
    pub(crate) connects: AtomicU64,
    /// Connections lost after a Welcome.
    pub(crate) disconnects: AtomicU64,
    /// Logins the route refused or failed.
    pub(crate) login_failures: AtomicU64,
}

/// One simulated device.
pub(crate) struct Device<'a> {
    pub(crate) route: &'a RouteClient,
    pub(crate) user: String,
    pub(crate) jwt_secret: &'a str,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) seed: u64,
}

/// Runs one client until the phase becomes [`Phase::Stopping`] or the session closes: the
/// SDK's driver loop, with this host. `setup` is released at the first Welcome, so that a
/// semaphore bounds the logins and handshakes in progress.
pub(crate) async fn run_client<B: Behaviour>(
    device: Device<'_>,
    behaviour: &mut B,
    stats: Arc<ConnectionStats>,
    phase: watch::Receiver<Phase>,
    setup: Option<OwnedSemaphorePermit>,
) {
    let mut config = ClientConfig::new("bench", Framing::LengthPrefixed, device.seed);
    config.client_name = "cim-bench".into();
    config.heartbeat_interval = device.heartbeat;
    let host = LoadHost {
        route: device.route.clone(),
        credentials: Credentials::Jwt(jwt_for(&device.user, device.jwt_secret)),
        behaviour,
        stats,
        phase,
        setup,
        connected: false,
    };
    let driver = match Driver::new(ClientSession::new(config), host) {
        Ok(driver) => driver,
        Err(e) => {
            eprintln!("cim-bench: cannot set up a client: {e}");
            return;
        }
    };
    let (host, _) = driver.run().await;
    if host.connected {
        host.stats.connected.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A load client's side of the driver loop: counts connections, hands events and phases to
/// the scenario's [`Behaviour`].
struct LoadHost<'a, B> {
    route: RouteClient,
    credentials: Credentials,
    behaviour: &'a mut B,
    stats: Arc<ConnectionStats>,
    phase: watch::Receiver<Phase>,
    setup: Option<OwnedSemaphorePermit>,
    connected: bool,
}

impl<B: Behaviour> Host for LoadHost<'_, B> {
    /// The new phase; `None` when the worker is gone.
    type Input = Option<Phase>;

    fn login(&mut self) -> LoginFuture {
        let (route, credentials, stats) = (self.route.clone(), self.credentials.clone(), self.stats.clone());
        Box::pin(async move {
            let result = log_in(&route, &credentials, "bench", Transport::Tcp).await;
            if result.is_err() {
                stats.login_failures.fetch_add(1, Ordering::Relaxed);
            }
            result.map(|(_, grant)| grant)
        })
    }

    fn on_event(
        &mut self,
        now: Instant,
        event: ClientEvent,
        delivery: Option<Delivery>,
        session: &mut ClientSession,
    ) {
        if let Some(delivery) = delivery {
            session.processed(delivery);
        }
        match &event {
            ClientEvent::Connected { .. } => {
                self.connected = true;
                self.stats.connected.fetch_add(1, Ordering::Relaxed);
                self.stats.connects.fetch_add(1, Ordering::Relaxed);
                drop(self.setup.take());
            }
            ClientEvent::Disconnected { .. } | ClientEvent::Closed(_) if self.connected => {
                self.connected = false;
                self.stats.connected.fetch_sub(1, Ordering::Relaxed);
                self.stats.disconnects.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        self.behaviour.on_event(now, &event, session);
    }

    async fn input(&mut self) -> Option<Phase> {
        self.phase.changed().await.ok().map(|()| *self.phase.borrow_and_update())
    }

    fn on_input(&mut self, now: Instant, phase: Option<Phase>, session: &mut ClientSession) -> Flow {
        match phase {
            None | Some(Phase::Stopping) => Flow::Stop,
            Some(phase) => {
                self.behaviour.on_phase(now, phase, session);
                Flow::Continue
            }
        }
    }

    fn wake_at(&self) -> Option<Instant> {
        self.behaviour.wake_at()
    }

    fn on_wake(&mut self, now: Instant, session: &mut ClientSession) {
        self.behaviour.on_wake(now, session);
    }
}

/// An HS256 JWT for `user`, valid for a day, as an app backend would issue.
pub(crate) fn jwt_for(user: &str, secret: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let claims = serde_json::json!({ "sub": user, "exp": now + 24 * 3600 });
    cim_backend::jwt::sign_hs256(&claims.to_string(), secret.as_bytes())
}

/// A message body stamped with its send time and the worker that sent it, padded to
/// `size` bytes, so a receiver in the same worker can measure send→deliver latency.
pub(crate) fn stamped_body(epoch: Instant, worker: u32, size: usize) -> bytes::Bytes {
    let mut body = Vec::with_capacity(size.max(STAMP_LEN));
    body.extend_from_slice(&nanos_since(epoch).to_le_bytes());
    body.extend_from_slice(&worker.to_le_bytes());
    body.resize(size.max(STAMP_LEN), b'x');
    body.into()
}

const STAMP_LEN: usize = 12;

/// The latency of a stamped body, if it was stamped by `worker`.
pub(crate) fn latency_of(epoch: Instant, worker: u32, body: &[u8]) -> Option<u64> {
    let sent = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
    let from = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?);
    (from == worker).then(|| nanos_since(epoch).saturating_sub(sent))
}

fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A recipient for `ClientSession::send`.
pub(crate) fn to_user(user: &str) -> wire::Recipient {
    wire::Recipient { kind: Some(wire::recipient::Kind::UserId(user.to_owned())) }
}

/// A group recipient.
pub(crate) fn to_group(group: &str) -> wire::Recipient {
    wire::Recipient { kind: Some(wire::recipient::Kind::GroupId(group.to_owned())) }
}

/// Everyone online.
pub(crate) fn to_everyone() -> wire::Recipient {
    wire::Recipient { kind: Some(wire::recipient::Kind::Everyone(wire::Everyone {})) }
}

/// A counter that only counts while the worker measures.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_only_in_the_worker_that_made_it() {
        let epoch = Instant::now();
        let body = stamped_body(epoch, 3, 64);
        assert_eq!(body.len(), 64);
        std::thread::sleep(Duration::from_millis(2));
        let latency = latency_of(epoch, 3, &body).expect("own stamp");
        assert!(latency >= 2_000_000, "{latency} ns");
        assert_eq!(latency_of(epoch, 4, &body), None);
        assert_eq!(latency_of(epoch, 3, b"short"), None);
        assert_eq!(stamped_body(epoch, 0, 1).len(), STAMP_LEN, "never shorter than the stamp");
    }
}
