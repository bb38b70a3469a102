//! Listeners that an attacker cannot fill: a connection limit per listener, timeouts on slow
//! and silent connections, and accept errors met with back-off (spec §16).
//!
//! Every connection costs a file descriptor, and a process has a fixed number of them (20,000
//! here): a route that lets thousands of idle or slowly dripping connections stay open runs out
//! of descriptors, and in `cim up` takes the server down with it. So each listener has a
//! limit. Reaching it does not lock newcomers out: the connection idle for longest is closed to
//! make room, and a connection that is handling a request is never chosen.
//!
//! [`serve_http`] serves an axum router over HTTP/1.1; hyper's header-read timeout bounds a
//! silent connection, one between requests, and one that drips its request head. [`guarded`]
//! wraps a listener for tonic, where idle time is measured on the socket.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt as _;

/// The limits of one listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenerLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// HTTP: longest a connection may take to send a request head, counted from when the
    /// server starts waiting for it (at accept, and after each response). gRPC: longest a
    /// new connection may take to send the HTTP/2 preface.
    pub header_timeout: Duration,
    /// gRPC: longest a connection may go without a byte either way.
    pub idle_timeout: Duration,
}

impl ListenerLimits {
    /// Limits for a listener of `max_connections`, with the default timeouts (10 s for a
    /// request head, 5 minutes of silence on gRPC).
    pub fn new(max_connections: usize) -> Self {
        Self {
            max_connections: max_connections.max(1),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
        }
    }
}

/// How long after the start of the process; a clock the connections share cheaply.
fn ms_since(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// One connection as the listener sees it.
struct TrackedConnection {
    /// Requests it is handling (HTTP), never closed to make room while above 0.
    busy: AtomicUsize,
    /// When it last did something, in ms since the listener started.
    active_at: AtomicU64,
    /// Asked to close, to make room.
    closing: AtomicBool,
    close: Notify,
}

/// The open connections of one listener.
struct Connections {
    started: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<TrackedConnection>>>,
    limits: ListenerLimits,
    what: &'static str,
}

impl Connections {
    fn new(limits: ListenerLimits, what: &'static str) -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            limits,
            what,
        })
    }

    fn open(&self) -> MutexGuard<'_, HashMap<u64, Arc<TrackedConnection>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> u64 {
        ms_since(self.started)
    }

    /// Admits a new connection, closing the one idle for longest when the listener is full.
    /// `None` when it is full of busy connections: the newcomer is turned away.
    fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut open = self.open();
        let live = open.values().filter(|c| !c.closing.load(Ordering::Relaxed)).count();
        if live >= self.limits.max_connections {
            let idlest = open
                .values()
                .filter(|c| !c.closing.load(Ordering::Relaxed) && c.busy.load(Ordering::Relaxed) == 0)
                .min_by_key(|c| c.active_at.load(Ordering::Relaxed))?;
            idlest.closing.store(true, Ordering::Relaxed);
            idlest.close.notify_one();
            tracing::debug!(
                listener = self.what,
                "connection limit reached: closing the connection idle for longest"
            );
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(TrackedConnection {
            busy: AtomicUsize::new(0),
            active_at: AtomicU64::new(self.now()),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        open.insert(id, connection.clone());
        Some(Admitted { id, connection, connections: self.clone() })
    }
}

/// A connection's place in its listener; gives it up when dropped.
struct Admitted {
    id: u64,
    connection: Arc<TrackedConnection>,
    connections: Arc<Connections>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.connections.open().remove(&self.id);
    }
}

/// Accepts the next connection, backing off while accepting fails (out of file descriptors,
/// typically) instead of spinning, and saying so at most once a second.
async fn accept(
    listener: &TcpListener,
    what: &str,
    backoff: &mut Duration,
    said_at: &mut Option<Instant>,
) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => {
                *backoff = Duration::ZERO;
                return accepted;
            }
            Err(error) => {
                if said_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                    tracing::warn!(listener = what, %error, "cannot accept connections; backing off");
                    *said_at = Some(Instant::now());
                }
                *backoff = (*backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                tokio::time::sleep(*backoff).await;
            }
        }
    }
}

/// Serves `app` over HTTP/1.1 on `listener` under `limits`, until the task is dropped.
/// Handlers can take the peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve_http(
    listener: TcpListener,
    app: axum::Router,
    limits: ListenerLimits,
    what: &'static str,
) {
    let connections = Connections::new(limits, what);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let (mut backoff, mut said_at) = (Duration::ZERO, None);
    loop {
        let (stream, peer) = accept(&listener, what, &mut backoff, &mut said_at).await;
        let Some(admitted) = connections.admit() else {
            tracing::debug!(listener = what, "every connection is busy: turning a new one away");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let http = http.clone();
        tokio::spawn(async move {
            let state = admitted.connection.clone();
            let started = admitted.connections.started;
            let service =
                hyper::service::service_fn(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    let state = state.clone();
                    state.busy.fetch_add(1, Ordering::Relaxed);
                    let app = app.clone();
                    async move {
                        let response = app.oneshot(request.map(axum::body::Body::new)).await;
                        state.active_at.store(ms_since(started), Ordering::Relaxed);
                        state.busy.fetch_sub(1, Ordering::Relaxed);
                        response
                    }
                });
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(listener = what, %peer, %error, "connection ended");
                    }
                }
                () = admitted.connection.close.notified() => {
                    connection.as_mut().graceful_shutdown();
                    // Idle: it closes at once. Otherwise it finishes its response first.
                    let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
                }
            }
            drop(admitted);
        });
    }
}

/// The connections of `listener` under `limits`, for `tonic`'s `serve_with_incoming`: each is
/// closed when it sends no HTTP/2 preface within the header timeout, when it goes silent for
/// the idle timeout, or when the listener needs its place.
pub fn guarded(
    listener: TcpListener,
    limits: ListenerLimits,
    what: &'static str,
) -> impl futures_util::Stream<Item = io::Result<GuardedStream>> {
    let connections = Connections::new(limits, what);
    futures_util::stream::unfold(
        (listener, connections, Duration::ZERO, None),
        move |(listener, connections, mut backoff, mut said_at)| async move {
            loop {
                let (stream, peer) = accept(&listener, what, &mut backoff, &mut said_at).await;
                let Some(admitted) = connections.admit() else { continue };
                let _ = stream.set_nodelay(true);
                let guarded = GuardedStream::new(stream, peer, admitted);
                return Some((Ok(guarded), (listener, connections, backoff, said_at)));
            }
        },
    )
}

/// Bytes of the HTTP/2 client preface (RFC 9113 §3.4).
const PREFACE_LEN: u64 = 24;

/// A TCP connection that ends itself when it is too slow to start, silent for too long, or
/// asked to make room.
pub struct GuardedStream {
    stream: TcpStream,
    peer: SocketAddr,
    admitted: Admitted,
    /// Bytes read so far, up to the preface.
    read: u64,
    deadline: Pin<Box<tokio::time::Sleep>>,
    closed: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl GuardedStream {
    fn new(stream: TcpStream, peer: SocketAddr, admitted: Admitted) -> Self {
        let limits = admitted.connections.limits;
        let connection = admitted.connection.clone();
        let closed = Box::pin(async move { connection.close.notified().await });
        let deadline = Box::pin(tokio::time::sleep(limits.header_timeout.min(limits.idle_timeout)));
        Self { stream, peer, admitted, read: 0, deadline, closed }
    }

    /// Something moved: push the deadline back (once the preface is in).
    fn active(&mut self) {
        let connections = &self.admitted.connections;
        self.admitted.connection.active_at.store(connections.now(), Ordering::Relaxed);
        if self.read >= PREFACE_LEN {
            let at = tokio::time::Instant::now() + connections.limits.idle_timeout;
            self.deadline.as_mut().reset(at);
        }
    }

    /// An error when the connection should end: too slow, silent, or asked to make room.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.closed.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "closed to make room for another"));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let why = if self.read < PREFACE_LEN { "no HTTP/2 preface in time" } else { "idle for too long" };
            tracing::debug!(listener = self.admitted.connections.what, peer = %self.peer, why, "closing a connection");
            return Err(io::Error::new(io::ErrorKind::TimedOut, why));
        }
        Ok(())
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let n = (buf.filled().len() - before) as u64;
                if n > 0 {
                    self.read = (self.read + n).min(PREFACE_LEN);
                    self.active();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.check(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = written
            && n > 0
            && self.read >= PREFACE_LEN
        {
            self.active();
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for GuardedStream {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        <TcpStream as tonic::transport::server::Connected>::connect_info(&self.stream)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    fn limits(max_connections: usize) -> ListenerLimits {
        ListenerLimits {
            max_connections,
            header_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(600),
        }
    }

    async fn listener() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("address");
        (listener, addr)
    }

    #[tokio::test]
    async fn a_connection_without_a_preface_in_time_ends() {
        let (listener, addr) = listener().await;
        let incoming = guarded(listener, limits(10), "test");
        tokio::pin!(incoming);
        let _client = TcpStream::connect(addr).await.expect("connects");
        let mut accepted = incoming.next().await.expect("one").expect("accepted");
        let mut buf = [0u8; 8];
        let read = tokio::time::timeout(Duration::from_secs(5), accepted.read(&mut buf)).await;
        assert!(matches!(read, Ok(Err(ref e)) if e.kind() == io::ErrorKind::TimedOut), "{read:?}");
    }

    #[tokio::test]
    async fn a_connection_silent_for_the_idle_timeout_ends_and_an_active_one_does_not() {
        let (listener, addr) = listener().await;
        let incoming = guarded(listener, limits(10), "test");
        tokio::pin!(incoming);
        let mut client = TcpStream::connect(addr).await.expect("connects");
        client.write_all(&[b'x'; PREFACE_LEN as usize]).await.expect("preface");
        let mut accepted = incoming.next().await.expect("one").expect("accepted");
        let mut buf = [0u8; 64];
        let _ = accepted.read(&mut buf).await.expect("the preface");
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            client.write_all(b"y").await.expect("writes");
            assert!(accepted.read(&mut buf).await.is_ok(), "active, so still open");
        }
        let read = tokio::time::timeout(Duration::from_secs(5), accepted.read(&mut buf)).await;
        assert!(matches!(read, Ok(Err(ref e)) if e.kind() == io::ErrorKind::TimedOut), "{read:?}");
    }

    #[tokio::test]
    async fn a_full_listener_closes_the_connection_idle_for_longest() {
        let (listener, addr) = listener().await;
        let incoming = guarded(listener, ListenerLimits::new(2), "test");
        tokio::pin!(incoming);
        let mut accepted = Vec::new();
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(addr).await.expect("connects"));
            accepted.push(incoming.next().await.expect("one").expect("accepted"));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut buf = [0u8; 8];
        let read = tokio::time::timeout(Duration::from_secs(5), accepted[0].read(&mut buf)).await;
        assert!(matches!(read, Ok(Err(ref e)) if e.kind() == io::ErrorKind::ConnectionAborted), "{read:?}");
    }
}
