//! The transport to a server: TCP (varint-framed) or WebSocket (one message per frame).

use std::io;

use bytes::Bytes;
use cim_core::Framing;
use cim_core::client::ClientSession;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Which transport to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// Varint-framed TCP.
    #[default]
    Tcp,
    /// WebSocket, one binary message per frame.
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

/// An open connection.
pub(crate) enum Link {
    Tcp { stream: TcpStream, buf: Box<[u8]> },
    WebSocket(Box<WebSocketStream<MaybeTlsStream<TcpStream>>>),
}

impl Link {
    /// Opens `endpoint`: `tcp://host:port` or a `ws://` URL.
    pub(crate) async fn open(endpoint: &str) -> io::Result<Self> {
        if let Some(address) = endpoint.strip_prefix("tcp://") {
            let stream = TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            Ok(Self::Tcp { stream, buf: vec![0; 16 * 1024].into_boxed_slice() })
        } else if endpoint.starts_with("ws://") || endpoint.starts_with("wss://") {
            let (ws, _) = tokio_tungstenite::connect_async(endpoint).await.map_err(io::Error::other)?;
            Ok(Self::WebSocket(Box::new(ws)))
        } else {
            Err(io::Error::new(io::ErrorKind::InvalidInput, format!("unsupported endpoint {endpoint}")))
        }
    }

    /// The next bytes from the server; `None` when the connection closed.
    pub(crate) async fn read(&mut self) -> io::Result<Option<Bytes>> {
        match self {
            Self::Tcp { stream, buf } => {
                let n = stream.read(buf).await?;
                Ok((n > 0).then(|| Bytes::copy_from_slice(&buf[..n])))
            }
            Self::WebSocket(ws) => loop {
                match ws.next().await {
                    Some(Ok(Message::Binary(bytes))) => return Ok(Some(bytes)),
                    Some(Ok(Message::Close(_))) | None => return Ok(None),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(io::Error::other(e)),
                }
            },
        }
    }

    /// Writes everything the session wants to send.
    pub(crate) async fn write_from(
        &mut self,
        session: &mut ClientSession,
        now: std::time::Instant,
    ) -> io::Result<()> {
        match self {
            Self::Tcp { stream, .. } => {
                let mut out = Vec::new();
                while session.poll_transmit(now, &mut out) > 0 {}
                if !out.is_empty() {
                    stream.write_all(&out).await?;
                }
            }
            Self::WebSocket(ws) => {
                let mut out = Vec::new();
                let mut any = false;
                while session.poll_transmit(now, &mut out) > 0 {
                    ws.feed(Message::Binary(std::mem::take(&mut out).into()))
                        .await
                        .map_err(io::Error::other)?;
                    any = true;
                }
                if any {
                    ws.flush().await.map_err(io::Error::other)?;
                }
            }
        }
        Ok(())
    }

    /// Closes the connection politely.
    pub(crate) async fn close(self) {
        match self {
            Self::Tcp { mut stream, .. } => {
                let _ = stream.shutdown().await;
            }
            Self::WebSocket(mut ws) => {
                let _ = ws.close(None).await;
            }
        }
    }
}
