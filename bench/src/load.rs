//! The load side: lean clients that drive `cim_core`'s `ClientSession` straight over TCP,
//! one task each, with per-thread buffers, so that tens of thousands fit in one process and
//! the load costs the shared CPU as little as it can.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cim_core::client::{ClientConfig, ClientEvent, ClientSession, LoginFailure, LoginGrant, Request};
use cim_core::{Framing, wire};
use cim_sdk::{Credentials, ErrorKind, RouteClient};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};

thread_local! {
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; 64 * 1024]);
    static WRITE_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

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

/// Runs one client until the phase becomes [`Phase::Stopping`] or the session closes.
/// `setup` is released at the first Welcome, so that a semaphore bounds the logins and
/// handshakes in progress.
pub(crate) async fn run_client<B: Behaviour>(
    device: Device<'_>,
    behaviour: &mut B,
    stats: &ConnectionStats,
    mut phase: watch::Receiver<Phase>,
    mut setup: Option<OwnedSemaphorePermit>,
) {
    let mut config = ClientConfig::new("bench", Framing::LengthPrefixed, device.seed);
    config.client_name = "cim-bench".into();
    config.heartbeat_interval = device.heartbeat;
    let mut session = ClientSession::new(config);
    let credentials = Credentials::Jwt(jwt_for(&device.user, device.jwt_secret));
    let mut stream: Option<TcpStream> = None;
    let mut connected = false;
    session.connect(Instant::now());
    let mut seen_phase = Phase::Setup;
    loop {
        let now = Instant::now();
        if let Some(s) = &mut stream
            && write_out(&mut session, s, now).await.is_err()
        {
            stream = None;
            session.handle_transport_closed(Instant::now());
        }
        let mut busy = false;
        while let Some(request) = session.poll_request() {
            busy = true;
            match request {
                Request::Login { id } => {
                    let result = login(device.route, &credentials, stats).await;
                    session.handle_login_result(Instant::now(), id, result);
                }
                Request::Connect { endpoint } => match TcpStream::connect(&endpoint).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        stream = Some(s);
                        session.handle_connected(Instant::now());
                    }
                    Err(_) => session.handle_transport_closed(Instant::now()),
                },
                Request::Close => stream = None,
                _ => {}
            }
        }
        while let Some(event) = session.poll_event() {
            busy = true;
            match &event {
                ClientEvent::Connected { .. } => {
                    connected = true;
                    stats.connected.fetch_add(1, Ordering::Relaxed);
                    stats.connects.fetch_add(1, Ordering::Relaxed);
                    drop(setup.take());
                }
                ClientEvent::Disconnected { .. } | ClientEvent::Closed(_) if connected => {
                    connected = false;
                    stats.connected.fetch_sub(1, Ordering::Relaxed);
                    stats.disconnects.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
            behaviour.on_event(now, &event, &mut session);
        }
        let current = *phase.borrow_and_update();
        if current != seen_phase {
            seen_phase = current;
            if current == Phase::Stopping {
                break;
            }
            behaviour.on_phase(now, current, &mut session);
            continue;
        }
        if busy {
            continue; // what the requests and events produced goes out first
        }
        if session.state() == cim_core::client::ConnectionState::Closed {
            break;
        }
        let wake = match (session.poll_timeout(), behaviour.wake_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        tokio::select! {
            changed = phase.changed() => if changed.is_err() { break },
            readable = readable(&stream) => {
                let now = Instant::now();
                match readable.and_then(|()| read_into(&mut session, stream.as_ref(), now)) {
                    Ok(true) => {}
                    Ok(false) | Err(_) => {
                        stream = None;
                        session.handle_transport_closed(now);
                    }
                }
            }
            () = deadline(wake) => {
                let now = Instant::now();
                session.handle_timeout(now);
                if behaviour.wake_at().is_some_and(|at| at <= now) {
                    behaviour.on_wake(now, &mut session);
                }
            }
        }
    }
    if connected {
        stats.connected.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn login(
    route: &RouteClient,
    credentials: &Credentials,
    stats: &ConnectionStats,
) -> Result<LoginGrant, LoginFailure> {
    match route.login(credentials, "bench").await {
        Ok(login) => {
            Ok(LoginGrant { user_id: login.user_id, token: login.token, endpoint: login.server.tcp_endpoint })
        }
        Err(e) => {
            stats.login_failures.fetch_add(1, Ordering::Relaxed);
            let message = e.to_string();
            match (e.kind(), e) {
                (ErrorKind::Authentication, _) => Err(LoginFailure::Rejected { message }),
                (_, cim_sdk::Error::Route { retry_after: Some(retry_after), .. }) => {
                    Err(LoginFailure::RetryAfter { message, retry_after })
                }
                _ => Err(LoginFailure::Unavailable { message }),
            }
        }
    }
}

async fn readable(stream: &Option<TcpStream>) -> io::Result<()> {
    match stream {
        Some(s) => s.readable().await,
        None => std::future::pending().await,
    }
}

async fn deadline(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Reads what is there; false when the peer closed.
fn read_into(session: &mut ClientSession, stream: Option<&TcpStream>, now: Instant) -> io::Result<bool> {
    let Some(stream) = stream else { return Ok(false) };
    READ_BUF.with_borrow_mut(|buf| match stream.try_read(buf) {
        Ok(0) => Ok(false),
        Ok(n) => {
            // A protocol error makes the session ask for Close; nothing else to do here.
            let _ = session.handle_input(now, &buf[..n]);
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(true),
        Err(e) => Err(e),
    })
}

/// Writes every frame the session has queued: straight from a per-thread buffer, waiting
/// only when the socket does not take it all.
async fn write_out(session: &mut ClientSession, stream: &mut TcpStream, now: Instant) -> io::Result<()> {
    let rest = WRITE_BUF.with_borrow_mut(|buf| -> io::Result<Option<Vec<u8>>> {
        buf.clear();
        while session.poll_transmit(now, buf) > 0 {}
        if buf.is_empty() {
            return Ok(None);
        }
        let written = match stream.try_write(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        Ok((written < buf.len()).then(|| buf[written..].to_vec()))
    })?;
    match rest {
        Some(rest) => stream.write_all(&rest).await,
        None => Ok(()),
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
