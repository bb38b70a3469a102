//! A proxy in front of a server's TCP port that breaks the protocol in one deliberate way, so
//! that the server seen through it is a mutant.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cim_proto::v1::{Frame, Pong, SendAck, frame::Body};
use prost::Message as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireMutant {
    /// Answers UNEXPECTED_FRAME with INVALID_FIELD and the other way round.
    WrongErrorCodes,
    /// Takes any frame before Welcome without complaint.
    AcceptsFramesBeforeWelcome,
    /// Never times a silent client out.
    IgnoresHeartbeats,
    /// Swaps consecutive Delivers.
    ReordersDeliveries,
    /// Sends a Pong after its fatal Errors.
    TalksAfterFatalError,
    /// Answers each Send at once, before the store has it, with an id of its own.
    AcksBeforeStoring,
    /// Says FRESH where it resumed.
    WrongResumeOutcome,
}

/// The running proxy.
pub struct Proxy {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Default)]
struct State {
    welcomed: bool,
    acked_early: HashSet<String>,
}

impl Proxy {
    /// Listens on a free port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr, mutant: WireMutant) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        relay(client, server, mutant).await;
                    }
                });
            }
        });
        Self { addr, task }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn prefixed(frame: &Frame) -> Vec<u8> {
    let payload = frame.encode_to_vec();
    let mut out = Vec::with_capacity(payload.len() + 5);
    let mut len = payload.len() as u64;
    while len >= 0x80 {
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(&payload);
    out
}

/// One frame as read: its bytes with the prefix, and the Frame if they decode.
type RawFrame = (Vec<u8>, Option<Frame>);

/// Not length-prefixed frames at all.
struct NotFrames;

/// Splits complete frames off `buf`: `Ok(Some((frame bytes with prefix, decoded)))`, `Ok(None)`
/// when more bytes are needed, `Err(NotFrames)` when the bytes are not length-prefixed frames at all.
fn next_frame(buf: &mut Vec<u8>) -> Result<Option<RawFrame>, NotFrames> {
    let mut len = 0u64;
    for i in 0..5 {
        let Some(&byte) = buf.get(i) else { return Ok(None) };
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if len > 1 << 20 {
                return Err(NotFrames);
            }
            let end = i + 1 + len as usize;
            if buf.len() < end {
                return Ok(None);
            }
            let bytes: Vec<u8> = buf.drain(..end).collect();
            let frame = Frame::decode(&bytes[i + 1..]).ok();
            return Ok(Some((bytes, frame)));
        }
    }
    Err(NotFrames)
}

async fn relay(client: TcpStream, server: TcpStream, mutant: WireMutant) {
    let state = Arc::new(Mutex::new(State::default()));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // Bounded, so that a client that does not read holds the server back as it would directly.
    let (to_client, mut client_queue) = mpsc::channel::<Vec<u8>>(256);
    let writer = tokio::spawn(async move {
        while let Some(bytes) = client_queue.recv().await {
            if client_write.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = client_write.shutdown().await;
    });

    let upstream_state = state.clone();
    // Only the server's side may end the client's connection: early acks must not keep it open.
    let early_acks = to_client.downgrade();
    let client_to_server = async move {
        let mut buf = Vec::new();
        let mut inspect = true;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let filtering = mutant == WireMutant::AcceptsFramesBeforeWelcome
                && upstream_state.lock().is_ok_and(|s| !s.welcomed);
            if !filtering {
                // Bytes go up as they come; frames are only looked at.
                if server_write.write_all(&chunk[..n]).await.is_err() {
                    break;
                }
                if mutant != WireMutant::AcksBeforeStoring || !inspect {
                    continue;
                }
            }
            buf.extend_from_slice(&chunk[..n]);
            loop {
                match next_frame(&mut buf) {
                    Ok(None) => break,
                    Err(NotFrames) => {
                        if filtering {
                            let _ = server_write.write_all(&buf).await;
                        }
                        buf.clear();
                        inspect = false;
                        break;
                    }
                    Ok(Some((bytes, frame))) => {
                        let forward = match early_acks.upgrade() {
                            Some(sender) => upstream(mutant, &upstream_state, frame.as_ref(), &sender),
                            None => true,
                        };
                        if filtering && forward && server_write.write_all(&bytes).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let _ = server_write.shutdown().await;
    };

    let downstream_state = state.clone();
    let server_to_client = async move {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut held: Option<Vec<u8>> = None;
        loop {
            let read = if held.is_some() {
                match tokio::time::timeout(Duration::from_millis(100), server_read.read(&mut chunk)).await {
                    Ok(r) => r,
                    Err(_) => {
                        if let Some(bytes) = held.take() {
                            let _ = to_client.send(bytes).await;
                        }
                        continue;
                    }
                }
            } else {
                server_read.read(&mut chunk).await
            };
            let n = match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            while let Ok(Some((bytes, frame))) = next_frame(&mut buf) {
                for out in downstream(mutant, &downstream_state, bytes, frame, &mut held) {
                    let _ = to_client.send(out).await;
                }
            }
        }
        if let Some(bytes) = held.take() {
            let _ = to_client.send(bytes).await;
        }
        if mutant == WireMutant::IgnoresHeartbeats {
            // The server closed; this mutant keeps the client's connection open regardless.
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        drop(to_client);
    };
    tokio::join!(client_to_server, server_to_client);
    let _ = writer.await;
}

/// A client frame on its way up: whether to forward it.
fn upstream(
    mutant: WireMutant,
    state: &Mutex<State>,
    frame: Option<&Frame>,
    to_client: &mpsc::Sender<Vec<u8>>,
) -> bool {
    let Ok(mut state) = state.lock() else { return true };
    match (mutant, frame.and_then(|f| f.body.as_ref())) {
        (WireMutant::AcceptsFramesBeforeWelcome, Some(body)) if !state.welcomed => {
            matches!(body, Body::Hello(_))
        }
        (WireMutant::AcksBeforeStoring, Some(Body::Send(send)))
            if state.welcomed && !send.client_msg_id.is_empty() =>
        {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let ack = SendAck {
                client_msg_id: send.client_msg_id.clone(),
                message_id: fake_ulid(now, state.acked_early.len() as u64),
                sent_at_ms: now,
                duplicate: false,
                live_only: false,
            };
            state.acked_early.insert(send.client_msg_id.clone());
            let _ = to_client.try_send(prefixed(&Frame { body: Some(Body::SendAck(ack)) }));
            true
        }
        _ => true,
    }
}

/// A server frame on its way down: what the client gets instead.
fn downstream(
    mutant: WireMutant,
    state: &Mutex<State>,
    bytes: Vec<u8>,
    frame: Option<Frame>,
    held: &mut Option<Vec<u8>>,
) -> Vec<Vec<u8>> {
    let Some(mut frame) = frame else { return vec![bytes] };
    let Ok(mut state) = state.lock() else { return vec![bytes] };
    match (mutant, frame.body.as_mut()) {
        (_, Some(Body::Welcome(_))) if !state.welcomed => {
            state.welcomed = true;
            if mutant == WireMutant::WrongResumeOutcome
                && let Some(Body::Welcome(w)) = frame.body.as_mut()
                && let Some(resume) = w.resume.as_mut()
                && resume.outcome == 2
            {
                resume.outcome = 1;
                return vec![prefixed(&frame)];
            }
            vec![bytes]
        }
        (WireMutant::WrongErrorCodes, Some(Body::Error(e))) => {
            e.code = match e.code {
                1004 => 1008,
                1008 => 1004,
                other => other,
            };
            vec![prefixed(&frame)]
        }
        (WireMutant::IgnoresHeartbeats, Some(Body::Error(e))) if e.code == 1007 => Vec::new(),
        (WireMutant::TalksAfterFatalError, Some(Body::Error(e))) if e.client_msg_id.is_empty() => {
            vec![bytes, prefixed(&Frame { body: Some(Body::Pong(Pong { nonce: 1 })) })]
        }
        (WireMutant::ReordersDeliveries, Some(Body::Deliver(d))) if d.seq != 0 => match held.take() {
            Some(earlier) => vec![bytes, earlier],
            None => {
                *held = Some(bytes);
                Vec::new()
            }
        },
        (WireMutant::AcksBeforeStoring, Some(Body::SendAck(a)))
            if state.acked_early.remove(&a.client_msg_id) =>
        {
            Vec::new()
        }
        _ => vec![bytes],
    }
}

/// A well-formed ULID for `ms` that is not the server's.
fn fake_ulid(ms: u64, n: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut out = String::with_capacity(26);
    for i in (0..10).rev() {
        out.push(ALPHABET[((ms >> (5 * i)) & 31) as usize] as char);
    }
    for i in (0..16).rev() {
        out.push(ALPHABET[(((n ^ 0x1f2e_3d4c) >> (5 * (i % 12))) & 31) as usize] as char);
    }
    out
}
