//! Connection tasks: one loop for every transport (plain TCP, TLS, WebSocket), reading,
//! writing, timers, hub commands and shutdown.
//!
//! An idle plain-TCP connection holds no buffer: reads go through one buffer per worker
//! thread, and writes are encoded into a per-thread buffer and copied out only when the
//! socket cannot take them at once. TLS and WebSocket keep their libraries' buffers.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{self, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::Context;
use crate::connection::Connection;
use crate::hub::Mail;
use crate::metrics::Metrics;
use crate::shutdown::Registration;

thread_local! {
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; 16 * 1024]);
    static WRITE_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What a transport read.
pub(crate) enum Input {
    /// Data may be waiting: read it without blocking (plain TCP).
    Ready,
    /// These bytes arrived (one chunk, or one WebSocket message).
    Bytes(Bytes),
    /// A WebSocket text message: not a frame.
    Text,
    /// A WebSocket message over the bound the WebSocket layer reads (twice the frame limit),
    /// which it refused without reading it all: still a FRAME_TOO_LARGE (spec CIM-3.2-3).
    TooLarge,
    /// Nothing to hand on (a WebSocket ping); keep waiting.
    Nothing,
    /// The peer closed or the transport failed.
    Closed,
}

/// A transport as the connection loop sees it.
pub(crate) trait ConnectionIo: Send {
    /// Polls for input: a poll function, not a future, so that a waiting connection holds
    /// no future for it. Nothing is lost if another event is handled first.
    fn poll_input(&mut self, cx: &mut task::Context<'_>) -> Poll<Input>;
    /// Reads what [`Input::Ready`] announced, without blocking; false when the peer closed.
    fn read_ready(&mut self, conn: &mut Connection, now: Instant) -> bool;
    /// Writes every frame the session has queued.
    fn write(
        &mut self,
        conn: &mut Connection,
        metrics: &Metrics,
    ) -> impl Future<Output = io::Result<()>> + Send;
    /// Closes politely.
    fn close(&mut self) -> impl Future<Output = ()> + Send;
}

/// Plain TCP, read and written straight from per-thread buffers.
pub(crate) struct PlainTcp(pub(crate) TcpStream);

impl ConnectionIo for PlainTcp {
    fn poll_input(&mut self, cx: &mut task::Context<'_>) -> Poll<Input> {
        self.0.poll_read_ready(cx).map(|ready| match ready {
            Ok(()) => Input::Ready,
            Err(_) => Input::Closed,
        })
    }

    fn read_ready(&mut self, conn: &mut Connection, now: Instant) -> bool {
        READ_BUF.with_borrow_mut(|buf| match self.0.try_read(buf) {
            Ok(0) => false,
            Ok(n) => {
                conn.input(now, &buf[..n]);
                true
            }
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        })
    }

    async fn write(&mut self, conn: &mut Connection, metrics: &Metrics) -> io::Result<()> {
        let stream = &mut self.0;
        let rest = WRITE_BUF.with_borrow_mut(|buf| -> io::Result<Option<Vec<u8>>> {
            buf.clear();
            let frames = drain_frames(conn, buf);
            Metrics::add(&metrics.frames_out, frames);
            if buf.is_empty() {
                return Ok(None);
            }
            let written = match stream.try_write(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(e) => return Err(e),
            };
            let rest = (written < buf.len()).then(|| buf[written..].to_vec());
            if buf.capacity() > 256 * 1024 {
                *buf = Vec::new(); // do not keep a burst's worth of memory per thread
            }
            Ok(rest)
        })?;
        match rest {
            Some(rest) => Box::pin(with_timeout(conn.write_timeout(), stream.write_all(&rest))).await,
            None => Ok(()),
        }
    }

    async fn close(&mut self) {
        let _ = self.0.shutdown().await;
    }
}

/// Any byte stream (TLS over TCP): a read buffer per connection.
pub(crate) struct Stream<S> {
    stream: S,
    buf: Box<[u8]>,
}

impl<S> Stream<S> {
    pub(crate) fn new(stream: S) -> Self {
        Self { stream, buf: vec![0; 16 * 1024].into_boxed_slice() }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> ConnectionIo for Stream<S> {
    fn poll_input(&mut self, cx: &mut task::Context<'_>) -> Poll<Input> {
        let mut buf = ReadBuf::new(&mut self.buf);
        Pin::new(&mut self.stream).poll_read(cx, &mut buf).map(|read| match read {
            Ok(()) if buf.filled().is_empty() => Input::Closed,
            Ok(()) => Input::Bytes(Bytes::copy_from_slice(buf.filled())),
            Err(_) => Input::Closed,
        })
    }

    fn read_ready(&mut self, _conn: &mut Connection, _now: Instant) -> bool {
        true
    }

    async fn write(&mut self, conn: &mut Connection, metrics: &Metrics) -> io::Result<()> {
        let mut out = Vec::new();
        Metrics::add(&metrics.frames_out, drain_frames(conn, &mut out));
        if out.is_empty() {
            return Ok(());
        }
        let stream = &mut self.stream;
        with_timeout(conn.write_timeout(), async move {
            stream.write_all(&out).await?;
            stream.flush().await
        })
        .await
    }

    async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}

/// WebSocket: one binary message per frame.
pub(crate) struct WebSocket<S>(WebSocketStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin + Send> ConnectionIo for WebSocket<S> {
    fn poll_input(&mut self, cx: &mut task::Context<'_>) -> Poll<Input> {
        self.0.poll_next_unpin(cx).map(|message| match message {
            Some(Ok(Message::Binary(bytes))) => Input::Bytes(bytes),
            Some(Ok(Message::Text(_))) => Input::Text,
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Input::Nothing,
            Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(_))) => Input::TooLarge,
            Some(Ok(Message::Close(_)) | Err(_)) | None => Input::Closed,
        })
    }

    fn read_ready(&mut self, _conn: &mut Connection, _now: Instant) -> bool {
        true
    }

    async fn write(&mut self, conn: &mut Connection, metrics: &Metrics) -> io::Result<()> {
        let mut messages = Vec::new();
        let mut out = Vec::new();
        while conn.session.poll_transmit(&mut out) > 0 {
            messages.push(Message::Binary(std::mem::take(&mut out).into()));
        }
        if messages.is_empty() {
            return Ok(());
        }
        Metrics::add(&metrics.frames_out, messages.len() as u64);
        let ws = &mut self.0;
        with_timeout(conn.write_timeout(), async move {
            for message in messages {
                ws.feed(message).await.map_err(io::Error::other)?;
            }
            ws.flush().await.map_err(io::Error::other)
        })
        .await
    }

    async fn close(&mut self) {
        let _ = self.0.close(None).await;
    }
}

/// Accepts the WebSocket handshake on `stream` and wraps it.
pub(crate) async fn websocket<S: AsyncRead + AsyncWrite + Unpin + Send>(
    stream: S,
    ctx: &Context,
) -> Option<WebSocket<S>> {
    let max = ctx.session_config.limits.max_frame_size as usize;
    // Let oversized messages through to the session, up to a bound, so that the peer gets
    // FRAME_TOO_LARGE instead of a bare close (spec §3.2).
    let config = WebSocketConfig::default().max_message_size(Some(max * 2)).max_frame_size(Some(max * 2));
    match tokio_tungstenite::accept_async_with_config(stream, Some(config)).await {
        Ok(ws) => Some(WebSocket(ws)),
        Err(e) => {
            tracing::debug!(error = %e, "WebSocket handshake failed");
            None
        }
    }
}

fn drain_frames(conn: &mut Connection, buf: &mut Vec<u8>) -> u64 {
    let mut frames = 0;
    loop {
        let n = conn.session.poll_transmit(buf);
        if n == 0 {
            return frames;
        }
        frames += n as u64;
    }
}

async fn with_timeout(limit: Duration, write: impl Future<Output = io::Result<()>>) -> io::Result<()> {
    tokio::time::timeout(limit, write)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "peer does not read"))?
}

/// What woke a connection task: every source that was ready, so that none can starve the
/// others (a peer that floods input still gets its deliveries, timers and GoAway).
#[derive(Default)]
struct Wake {
    input: Option<Input>,
    mail: Option<Mail>,
    /// The session's timer is due.
    timer: bool,
    shutdown: bool,
}

/// Serves one connection until it ends.
///
/// While it waits, a connection holds one timer, the shutdown signal and nothing else: input
/// and hub commands are polled, not awaited through futures of their own, because every byte
/// of a waiting task is paid by each idle connection.
///
/// `accepted_at` is when the TCP connection was accepted: the handshake timeout runs from
/// there, through any TLS and WebSocket handshake, to the Hello (spec §4.5).
pub(crate) async fn serve<T: ConnectionIo>(mut transport: T, ctx: Arc<Context>, accepted_at: Instant) {
    let mut conn = Connection::new(ctx.clone(), accepted_at);
    let mut shutdown = Registration::default();
    let mut shutdown_seen = ctx.shutdown.is_started();
    if shutdown_seen {
        conn.on_shutdown();
    }
    // One timer for every deadline, reset only when the earliest one moves.
    let mut timer = pin!(tokio::time::sleep_until(tokio::time::Instant::now()));
    let mut timer_at = None;
    loop {
        // The handshake, the message path and the store calls run in futures of their own
        // (boxed): kept inline, their state would be part of every idle connection's task.
        if let Some(event) = conn.session.poll_event() {
            Box::pin(conn.process_events(event)).await;
        }
        conn.report_metrics();
        if transport.write(&mut conn, &ctx.metrics).await.is_err() {
            conn.session.handle_transport_closed();
            break;
        }
        if conn.session.is_finished() {
            break;
        }
        if conn.session.has_event() {
            continue; // the next inbox page, asked for once the last one was written
        }
        // Nothing is queued now: an idle connection holds no frame buffers while it waits
        // (a busy one reallocates them per wake, which costs far less than the message).
        conn.session.release_idle_buffers();
        let deadline = conn.session.poll_timeout();
        if let Some(at) = deadline
            && timer_at != Some(at)
        {
            timer.as_mut().reset(at.into());
            timer_at = Some(at);
        }
        let wake = poll_fn(|cx| {
            let mut wake = Wake::default();
            if let Poll::Ready(input) = transport.poll_input(cx) {
                wake.input = Some(input);
            }
            if let Some(Poll::Ready(mail)) = conn.hub_session().map(|session| session.poll_mail(cx)) {
                wake.mail = Some(mail);
            }
            wake.timer = deadline.is_some() && timer.as_mut().poll(cx).is_ready();
            if !shutdown_seen && ctx.shutdown.poll_started(&mut shutdown, cx).is_ready() {
                shutdown_seen = true;
                wake.shutdown = true;
            }
            let woken = wake.input.is_some() || wake.mail.is_some() || wake.timer || wake.shutdown;
            if woken { Poll::Ready(wake) } else { Poll::Pending }
        })
        .await;
        let now = Instant::now();
        let open = match wake.input {
            Some(Input::Ready) => transport.read_ready(&mut conn, now),
            Some(Input::Bytes(bytes)) => {
                conn.input(now, &bytes);
                true
            }
            Some(Input::Text) => {
                conn.reject_text_message();
                true
            }
            Some(Input::TooLarge) => {
                conn.reject_oversized_message();
                true
            }
            Some(Input::Nothing) | None => true,
            Some(Input::Closed) => false,
        };
        if !open {
            // Commands taken with it stay in the inbox, for the next session.
            conn.session.handle_transport_closed();
            continue;
        }
        match wake.mail {
            Some(Mail::Commands(commands)) => commands.into_iter().for_each(|c| conn.on_command(c)),
            Some(Mail::Overflowed) => conn.on_overflow(),
            None => {}
        }
        if wake.timer && conn.session.poll_timeout().is_some_and(|at| at <= now) {
            conn.session.handle_timeout(now);
        }
        if wake.shutdown {
            conn.on_shutdown();
        }
    }
    ctx.shutdown.forget(shutdown);
    transport.close().await;
    Box::pin(conn.finish()).await;
}
