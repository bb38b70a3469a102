//! A server on in-memory backends, and a raw frame-level client for poking at it.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cim_backend::{AccountStore, MemoryRegistry, MemoryStore, TokenKeys, UserRecord};
use cim_core::codec::{self, FrameDecoder};
use cim_core::wire::{self, frame::Body, recipient};
use cim_core::{ErrorCode, Framing};
use cim_server::{RunningServer, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub server: RunningServer,
    pub store: Arc<MemoryStore>,
    pub keys: TokenKeys,
}

pub async fn start(edit: impl FnOnce(&mut ServerOptions)) -> TestServer {
    start_with_store(MemoryStore::new(), edit).await
}

/// A server on `store` (an in-memory one with the limits a test needs).
pub async fn start_with_store(store: MemoryStore, edit: impl FnOnce(&mut ServerOptions)) -> TestServer {
    let store = Arc::new(store);
    let keys = TokenKeys::generate();
    let mut options = ServerOptions::defaults();
    options.listen_on_free_ports();
    edit(&mut options);
    let server = cim_server::start(options, store.clone(), Arc::new(MemoryRegistry::new()), keys.clone())
        .await
        .expect("server starts");
    for user in ["alice", "bob", "carol"] {
        let record = UserRecord::new(user, user, None);
        store.create_user(record).await.expect("new user");
    }
    TestServer { server, store, keys }
}

impl TestServer {
    pub fn token(&self, user: &str, device: &str) -> String {
        self.keys.issue(&TokenKeys::new_claims(user, device, 60_000))
    }

    pub async fn raw(&self) -> Raw {
        Raw::connect(&self.server.tcp_addr().to_string()).await
    }

    /// A connected, welcomed raw client.
    pub async fn session(
        &self,
        user: &str,
        device: &str,
        resume: Option<wire::ResumePoint>,
    ) -> (Raw, wire::Welcome) {
        let mut raw = self.raw().await;
        raw.send(hello(&self.token(user, device), device, resume)).await;
        match raw.recv().await {
            Some(Body::Welcome(welcome)) => (raw, welcome),
            other => panic!("expected Welcome, got {other:?}"),
        }
    }

    /// Whether the server still completes a handshake for a well-behaved client.
    pub async fn still_serves(&self) {
        let (mut raw, welcome) = self.session("carol", "carol-check", None).await;
        assert_eq!(welcome.user_id, "carol");
        raw.send(Body::Ping(wire::Ping { nonce: 9 })).await;
        assert_eq!(raw.recv().await, Some(Body::Pong(wire::Pong { nonce: 9 })));
    }
}

pub fn hello(token: &str, device: &str, resume: Option<wire::ResumePoint>) -> Body {
    Body::Hello(wire::Hello {
        versions: vec![1],
        token: token.into(),
        device_id: device.into(),
        resume,
        client_name: "raw-test".into(),
        max_frame_size: 0,
        heartbeat_interval_ms: 0,
    })
}

pub fn send_to(user: &str, id: &str, text: &str) -> Body {
    Body::Send(wire::Send {
        client_msg_id: id.into(),
        to: Some(wire::Recipient { kind: Some(recipient::Kind::UserId(user.into())) }),
        content_type: "text/plain".into(),
        body: Bytes::copy_from_slice(text.as_bytes()),
    })
}

/// A TCP client that speaks frames, nothing more.
pub struct Raw {
    pub stream: TcpStream,
    decoder: FrameDecoder,
    frames: std::collections::VecDeque<Body>,
}

impl Raw {
    pub async fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("server accepts");
        Self { stream, decoder: FrameDecoder::new(u32::MAX), frames: Default::default() }
    }

    pub async fn send(&mut self, body: Body) {
        let mut bytes = Vec::new();
        codec::encode_frame(&body, Framing::LengthPrefixed, &mut bytes);
        self.send_bytes(&bytes).await;
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        // The server may already have closed; what it said before is still readable.
        let _ = self.stream.write_all(bytes).await;
    }

    /// The next frame, or `None` when the server closed the connection (or after `WAIT`).
    pub async fn recv(&mut self) -> Option<Body> {
        self.recv_within(WAIT).await
    }

    pub async fn recv_within(&mut self, limit: Duration) -> Option<Body> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(frame) = self.frames.pop_front() {
                return Some(frame);
            }
            let mut buf = [0u8; 8192];
            let n = match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => return None,
            };
            let mut out = Vec::new();
            self.decoder.decode(&buf[..n], &mut out).expect("the server writes valid frames");
            self.frames.extend(out);
        }
    }

    /// Reads until a fatal Error arrives and the server closes; returns its code.
    pub async fn expect_fatal(&mut self) -> ErrorCode {
        let mut code = None;
        while let Some(frame) = self.recv().await {
            if let Body::Error(error) = frame
                && error.client_msg_id.is_empty()
            {
                code = Some(ErrorCode(error.code));
            }
        }
        code.expect("a fatal Error before the close")
    }
}
