//! The transport to a server: TCP (varint-framed) or WebSocket (one message per frame),
//! each plain or over TLS.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use cim_core::Framing;
use cim_core::client::ClientSession;
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// Which transport to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// Varint-framed TCP (with TLS when the server offers it).
    #[default]
    Tcp,
    /// WebSocket, one binary message per frame (`wss://` when the server offers it).
    WebSocket,
}

impl Transport {
    pub(crate) fn framing(self) -> Framing {
        match self {
            Self::Tcp => Framing::LengthPrefixed,
            Self::WebSocket => Framing::Message,
        }
    }
}

thread_local! {
    /// Where plain TCP reads land before the session takes them, and frames wait to be
    /// written: one buffer per thread, not per connection, so that an idle connection holds
    /// none (a load generator holds tens of thousands).
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; 64 * 1024]);
    static WRITE_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// An open connection.
pub(crate) enum Link {
    Tcp(TcpStream),
    Tls(Box<Stream<TlsStream<TcpStream>>>),
    WebSocket(Box<WebSocketStream<TcpStream>>),
    SecureWebSocket(Box<WebSocketStream<TlsStream<TcpStream>>>),
}

pub(crate) struct Stream<S> {
    stream: S,
    buf: Box<[u8]>,
    /// Frames to write, kept between writes.
    out: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream<S> {
    fn new(stream: S) -> Self {
        Self { stream, buf: vec![0; 16 * 1024].into_boxed_slice(), out: Vec::new() }
    }

    async fn read(&mut self) -> io::Result<Incoming> {
        let n = self.stream.read(&mut self.buf).await?;
        Ok(if n > 0 { Incoming::Bytes(Bytes::copy_from_slice(&self.buf[..n])) } else { Incoming::Closed })
    }

    async fn write_from(&mut self, session: &mut ClientSession, now: std::time::Instant) -> io::Result<()> {
        self.out.clear();
        while session.poll_transmit(now, &mut self.out) > 0 {}
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await?;
        }
        Ok(())
    }
}

/// What a read from the server brought.
pub(crate) enum Incoming {
    /// Plain TCP has bytes to read: [`Link::read_ready`] feeds them to the session.
    Ready,
    /// Bytes of the stream (TCP) or one binary message (WebSocket).
    Bytes(Bytes),
    /// A WebSocket text message, which is not a frame.
    Text,
    /// The connection closed.
    Closed,
}

async fn ws_read<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) -> io::Result<Incoming> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(bytes))) => return Ok(Incoming::Bytes(bytes)),
            Some(Ok(Message::Text(_))) => return Ok(Incoming::Text),
            Some(Ok(Message::Close(_))) | None => return Ok(Incoming::Closed),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Err(e)) => return Err(io::Error::other(e)),
        }
    }
}

async fn ws_write<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    session: &mut ClientSession,
    now: std::time::Instant,
) -> io::Result<()> {
    let mut out = Vec::new();
    let mut any = false;
    while session.poll_transmit(now, &mut out) > 0 {
        ws.feed(Message::Binary(std::mem::take(&mut out).into())).await.map_err(io::Error::other)?;
        any = true;
    }
    if any {
        ws.flush().await.map_err(io::Error::other)?;
    }
    Ok(())
}

/// Writes every frame the session has queued: from the thread's buffer straight to the
/// socket, copying only what the socket does not take at once.
async fn write_tcp(
    stream: &mut TcpStream,
    session: &mut ClientSession,
    now: std::time::Instant,
) -> io::Result<()> {
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

/// `host:port` and the host alone, from the authority part of an endpoint.
fn authority(rest: &str) -> (&str, &str) {
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once(':').map_or(authority, |(host, _)| host);
    (authority, host.trim_start_matches('[').trim_end_matches(']'))
}

async fn tls(
    tls: &Arc<rustls::ClientConfig>,
    authority: &str,
    host: &str,
) -> io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(host.to_owned()).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{host} is not a valid TLS server name"))
    })?;
    let tcp = TcpStream::connect(authority).await?;
    tcp.set_nodelay(true)?;
    TlsConnector::from(tls.clone()).connect(name, tcp).await
}

impl Link {
    /// Opens `endpoint`: `tcp://host:port`, `tls://host:port`, or a `ws://`/`wss://` URL.
    pub(crate) async fn open(endpoint: &str, tls_config: &Arc<rustls::ClientConfig>) -> io::Result<Self> {
        let unsupported =
            || io::Error::new(io::ErrorKind::InvalidInput, format!("unsupported endpoint {endpoint}"));
        let (scheme, rest) = endpoint.split_once("://").ok_or_else(unsupported)?;
        let (authority, host) = authority(rest);
        match scheme {
            "tcp" => {
                let stream = TcpStream::connect(authority).await?;
                stream.set_nodelay(true)?;
                Ok(Self::Tcp(stream))
            }
            "tls" => Ok(Self::Tls(Box::new(Stream::new(tls(tls_config, authority, host).await?)))),
            "ws" => {
                let stream = TcpStream::connect(authority).await?;
                stream.set_nodelay(true)?;
                let (ws, _) =
                    tokio_tungstenite::client_async(endpoint, stream).await.map_err(io::Error::other)?;
                Ok(Self::WebSocket(Box::new(ws)))
            }
            "wss" => {
                let stream = tls(tls_config, authority, host).await?;
                let (ws, _) =
                    tokio_tungstenite::client_async(endpoint, stream).await.map_err(io::Error::other)?;
                Ok(Self::SecureWebSocket(Box::new(ws)))
            }
            _ => Err(unsupported()),
        }
    }

    /// Waits until the server sent something: for plain TCP only until bytes can be read
    /// ([`Incoming::Ready`]), otherwise the bytes or message themselves.
    pub(crate) async fn readable(&mut self) -> io::Result<Incoming> {
        match self {
            Self::Tcp(stream) => stream.readable().await.map(|()| Incoming::Ready),
            Self::Tls(stream) => stream.read().await,
            Self::WebSocket(ws) => ws_read(ws).await,
            Self::SecureWebSocket(ws) => ws_read(ws).await,
        }
    }

    /// After [`Incoming::Ready`]: reads what is there into the session. False when the
    /// server closed the connection.
    pub(crate) fn read_ready(
        &mut self,
        session: &mut ClientSession,
        now: std::time::Instant,
    ) -> io::Result<bool> {
        let Self::Tcp(stream) = self else { return Ok(true) };
        READ_BUF.with_borrow_mut(|buf| match stream.try_read(buf) {
            Ok(0) => Ok(false),
            Ok(n) => {
                // A protocol error makes the session ask for Close: nothing else to do here.
                let _ = session.handle_input(now, &buf[..n]);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(true),
            Err(e) => Err(e),
        })
    }

    /// Writes everything the session wants to send.
    pub(crate) async fn write_from(
        &mut self,
        session: &mut ClientSession,
        now: std::time::Instant,
    ) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => write_tcp(stream, session, now).await,
            Self::Tls(stream) => stream.write_from(session, now).await,
            Self::WebSocket(ws) => ws_write(ws, session, now).await,
            Self::SecureWebSocket(ws) => ws_write(ws, session, now).await,
        }
    }

    /// Closes the connection politely.
    pub(crate) async fn close(self) {
        match self {
            Self::Tcp(mut stream) => {
                let _ = stream.shutdown().await;
            }
            Self::Tls(mut stream) => {
                let _ = stream.stream.shutdown().await;
            }
            Self::WebSocket(mut ws) => {
                let _ = WebSocketStream::close(&mut ws, None).await;
            }
            Self::SecureWebSocket(mut ws) => {
                let _ = WebSocketStream::close(&mut ws, None).await;
            }
        }
    }
}

/// A TLS client configuration trusting the web's roots plus `extra_roots`.
pub(crate) fn tls_config(
    extra_roots: &[rustls_pki_types::CertificateDer<'static>],
) -> io::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for root in extra_roots {
        roots.add(root.clone()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    }
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}
