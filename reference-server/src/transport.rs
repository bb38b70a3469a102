//! Connection tasks for each transport: read, write, timers, hub commands, shutdown.
//!
//! An idle TCP connection holds no buffer: reads go through one buffer per worker thread, and
//! writes are encoded into a per-thread buffer and copied out only when the socket cannot
//! take them at once.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::Context;
use crate::connection::Connection;
use crate::hub::Command;
use crate::metrics::Metrics;

thread_local! {
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; 16 * 1024]);
    static WRITE_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What woke a connection task.
enum Wake {
    Readable(io::Result<()>),
    Message(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Command(Option<Command>),
    Timeout,
    Overflow,
    Shutdown,
}

async fn next_command(commands: &mut Option<mpsc::Receiver<Command>>) -> Option<Command> {
    match commands {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn overflowed(overflow: &Option<Arc<Notify>>) {
    match overflow {
        Some(notify) => notify.notified().await,
        None => std::future::pending().await,
    }
}

async fn deadline(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Serves one varint-framed TCP connection until it ends.
pub(crate) async fn serve_tcp(mut stream: TcpStream, ctx: Arc<Context>) {
    let _ = stream.set_nodelay(true);
    let mut shutdown = ctx.shutdown.subscribe();
    let mut conn = Connection::new(ctx.clone(), Instant::now());
    if *shutdown.borrow_and_update() {
        conn.on_shutdown();
    }
    loop {
        conn.process_events().await;
        if write_tcp(&mut stream, &mut conn, &ctx.metrics).await.is_err() {
            conn.session.handle_transport_closed();
            break;
        }
        if conn.session.is_finished() {
            break;
        }
        if conn.wants_catch_up() {
            conn.catch_up().await;
            continue;
        }
        let wake = tokio::select! {
            ready = stream.readable() => Wake::Readable(ready),
            command = next_command(&mut conn.commands) => Wake::Command(command),
            () = deadline(conn.session.poll_timeout()) => Wake::Timeout,
            () = overflowed(&conn.overflow) => Wake::Overflow,
            _ = shutdown.changed() => Wake::Shutdown,
        };
        let now = Instant::now();
        match wake {
            Wake::Readable(Err(_)) => conn.session.handle_transport_closed(),
            Wake::Readable(Ok(())) => {
                let open = READ_BUF.with_borrow_mut(|buf| match stream.try_read(buf) {
                    Ok(0) => false,
                    Ok(n) => {
                        conn.input(now, &buf[..n]);
                        true
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
                    Err(_) => false,
                });
                if !open {
                    conn.session.handle_transport_closed();
                }
            }
            Wake::Message(_) => {}
            Wake::Command(Some(command)) => conn.on_command(command),
            Wake::Command(None) => {}
            Wake::Timeout => conn.session.handle_timeout(now),
            Wake::Overflow => conn.on_overflow(),
            Wake::Shutdown => conn.on_shutdown(),
        }
        if conn.session.error().is_some() && conn.session.is_finished() {
            // Flush the Error frame, if any, then close.
            let _ = write_tcp(&mut stream, &mut conn, &ctx.metrics).await;
            break;
        }
    }
    let _ = stream.shutdown().await;
    conn.finish().await;
}

/// Writes everything the session has queued.
async fn write_tcp(stream: &mut TcpStream, conn: &mut Connection, metrics: &Metrics) -> io::Result<()> {
    let rest = WRITE_BUF.with_borrow_mut(|buf| -> io::Result<Option<Vec<u8>>> {
        buf.clear();
        let mut frames = 0;
        loop {
            let n = conn.session.poll_transmit(buf);
            if n == 0 {
                break;
            }
            frames += n;
        }
        Metrics::add(&metrics.frames_out, frames as u64);
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
    if let Some(rest) = rest {
        tokio::time::timeout(conn.write_timeout(), stream.write_all(&rest))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "peer does not read"))??;
    }
    Ok(())
}

/// Serves one WebSocket connection (one binary message per frame) until it ends.
pub(crate) async fn serve_websocket(stream: TcpStream, ctx: Arc<Context>) {
    let _ = stream.set_nodelay(true);
    let max = ctx.session_config.limits.max_frame_size as usize;
    // Let oversized messages through to the session, up to a bound, so that the peer gets
    // FRAME_TOO_LARGE instead of a bare close (spec §3.2).
    let config = WebSocketConfig::default().max_message_size(Some(max * 2)).max_frame_size(Some(max * 2));
    let ws = match tokio_tungstenite::accept_async_with_config(stream, Some(config)).await {
        Ok(ws) => ws,
        Err(e) => {
            tracing::debug!(error = %e, "WebSocket handshake failed");
            return;
        }
    };
    let (mut sink, mut source) = ws.split();
    let mut shutdown = ctx.shutdown.subscribe();
    let mut conn = Connection::new(ctx.clone(), Instant::now());
    if *shutdown.borrow_and_update() {
        conn.on_shutdown();
    }
    loop {
        conn.process_events().await;
        let mut out = Vec::new();
        let mut failed = false;
        while conn.session.poll_transmit(&mut out) > 0 {
            Metrics::add(&ctx.metrics.frames_out, 1);
            let message = Message::Binary(std::mem::take(&mut out).into());
            if sink.feed(message).await.is_err() {
                failed = true;
                break;
            }
        }
        let flushed =
            tokio::time::timeout(Duration::from_secs(ctx.options.write_timeout_secs), sink.flush()).await;
        if failed || !matches!(flushed, Ok(Ok(()))) {
            conn.session.handle_transport_closed();
            break;
        }
        if conn.session.is_finished() {
            break;
        }
        if conn.wants_catch_up() {
            conn.catch_up().await;
            continue;
        }
        let wake = tokio::select! {
            message = source.next() => Wake::Message(message),
            command = next_command(&mut conn.commands) => Wake::Command(command),
            () = deadline(conn.session.poll_timeout()) => Wake::Timeout,
            () = overflowed(&conn.overflow) => Wake::Overflow,
            _ = shutdown.changed() => Wake::Shutdown,
        };
        let now = Instant::now();
        match wake {
            Wake::Message(Some(Ok(Message::Binary(bytes)))) => {
                conn.input(now, &bytes);
            }
            Wake::Message(Some(Ok(Message::Text(_)))) => conn.reject_text_message(),
            Wake::Message(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {}
            Wake::Message(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                conn.session.handle_transport_closed()
            }
            Wake::Readable(_) => {}
            Wake::Command(Some(command)) => conn.on_command(command),
            Wake::Command(None) => {}
            Wake::Timeout => conn.session.handle_timeout(now),
            Wake::Overflow => conn.on_overflow(),
            Wake::Shutdown => conn.on_shutdown(),
        }
    }
    let _ = sink.close().await;
    conn.finish().await;
}
