//! Frames on the wire, encoded and framed here rather than through cim-core, so that a bug in the
//! core cannot hide itself from the cases. `Raw` writes protobuf field by field for the frames that
//! the generated types cannot express: wrong wire types, invalid UTF-8, unknown fields.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cim_proto::v1::Frame;
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::case::Failure;
use crate::transcript::{Direction, Transcript, describe, hex};

/// The largest frame the harness reads from an implementation: the limit a client that sends
/// `Hello.max_frame_size` 0 may rely on (§10.2).
pub const MAX_FRAME: usize = 65_536;

/// Appends `value` as an unsigned LEB128 varint in its shortest form.
pub fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// `payload` behind a length prefix padded to the full 5 bytes: valid framing that is not the
/// shortest form (CIM-3.1-2).
pub fn padded_prefixed(payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![
        (len & 0x7f) as u8 | 0x80,
        ((len >> 7) & 0x7f) as u8 | 0x80,
        ((len >> 14) & 0x7f) as u8 | 0x80,
        ((len >> 21) & 0x7f) as u8 | 0x80,
        (len >> 28) as u8,
    ];
    out.extend_from_slice(payload);
    out
}

/// A frame's protobuf bytes.
pub fn encode(frame: &Frame) -> Vec<u8> {
    frame.encode_to_vec()
}

/// A frame as TCP carries it: the shortest varint length, then the bytes (§3.1).
pub fn prefixed(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 5);
    put_varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

/// Protobuf written field by field.
#[derive(Clone, Debug, Default)]
pub struct Raw(Vec<u8>);

impl Raw {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// A varint field.
    pub fn varint(mut self, field: u32, value: u64) -> Self {
        put_varint(u64::from(field) << 3, &mut self.0);
        put_varint(value, &mut self.0);
        self
    }

    /// A length-delimited field (string, bytes or message).
    pub fn bytes(mut self, field: u32, value: &[u8]) -> Self {
        put_varint((u64::from(field) << 3) | 2, &mut self.0);
        put_varint(value.len() as u64, &mut self.0);
        self.0.extend_from_slice(value);
        self
    }

    /// A nested message.
    pub fn message(self, field: u32, inner: &Self) -> Self {
        self.bytes(field, &inner.0)
    }

    /// A 32-bit fixed field.
    pub fn fixed32(mut self, field: u32, value: u32) -> Self {
        put_varint((u64::from(field) << 3) | 5, &mut self.0);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Bytes appended as they are.
    pub fn verbatim(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// The encoded message.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The encoded message, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What the harness saw next on a connection.
#[derive(Debug)]
pub enum Event {
    /// A frame.
    Frame(Frame),
    /// The implementation closed the connection (or reset it) at a frame boundary.
    Closed,
    /// Nothing arrived in time.
    Timeout,
    /// The implementation sent something that is not a valid frame; the text says what.
    Invalid(String),
}

impl Event {
    /// The event in a failure's "actual" line.
    pub fn describe(&self) -> String {
        match self {
            Self::Frame(frame) => describe(frame),
            Self::Closed => "the connection closed".to_owned(),
            Self::Timeout => "nothing".to_owned(),
            Self::Invalid(what) => format!("invalid bytes: {what}"),
        }
    }
}

/// The user ids a case has created, shared with its connections.
#[derive(Clone, Default)]
pub struct OwnUsers(Arc<Mutex<HashSet<String>>>);

impl OwnUsers {
    /// Adds a user id.
    pub fn insert(&self, user_id: &str) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(user_id.to_owned());
    }

    /// Whether `user_id` is one of the case's.
    pub fn contains(&self, user_id: &str) -> bool {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(user_id)
    }
}

/// A byte stream the harness speaks over: TCP, or TLS over TCP.
pub trait Duplex: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Duplex for T {}

/// A connection's byte stream, whatever carries it.
pub type Stream = Box<dyn Duplex>;

enum Io {
    /// Varint-framed frames on a byte stream.
    Stream(Stream),
    /// One frame per binary message.
    Ws(Box<tokio_tungstenite::WebSocketStream<Stream>>),
}

/// One connection to the implementation under test, recorded in the case's transcript.
pub struct Conn {
    label: String,
    io: Io,
    buf: Vec<u8>,
    /// Frames read while looking for another one, handed out first.
    pending: std::collections::VecDeque<Frame>,
    transcript: Transcript,
    closed: bool,
    seen: Seen,
    /// Whether Pings from the implementation are answered and hidden from the case.
    pub auto_pong: bool,
    /// When set, broadcasts (Deliver with seq 0) from users not in this set are passed over:
    /// cases run side by side on one deployment, and a broadcast reaches every open session,
    /// so another case's may arrive anywhere in this one's exchange.
    own_users: Option<OwnUsers>,
}

impl Conn {
    /// Opens a TCP connection.
    pub async fn tcp(addr: &str, label: &str, transcript: &Transcript) -> std::io::Result<Self> {
        let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        transcript.push(label, Direction::Note, format!("connected over TCP to {addr}"));
        Ok(Self::new(label, Io::Stream(Box::new(stream)), transcript))
    }

    /// A connection the harness accepted, playing the server: `stream` is TCP, or TLS over
    /// it; `what` says which, for the transcript.
    pub fn accepted(stream: Stream, what: &str, label: &str, transcript: &Transcript) -> Self {
        transcript.push(label, Direction::Note, format!("accepted {what}"));
        let mut conn = Self::new(label, Io::Stream(stream), transcript);
        // Rules on what a server sends do not apply to what a client sends.
        conn.seen.peer_is_client = true;
        conn
    }

    /// A WebSocket connection the harness accepted, playing the server: completes the
    /// WebSocket handshake on `stream` within `wait`.
    pub async fn accepted_websocket(
        stream: Stream,
        what: &str,
        label: &str,
        transcript: &Transcript,
        wait: Duration,
    ) -> std::io::Result<Self> {
        let ws = tokio::time::timeout(wait, tokio_tungstenite::accept_async(stream))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no WebSocket handshake"))?
            .map_err(std::io::Error::other)?;
        transcript.push(label, Direction::Note, format!("accepted a WebSocket connection {what}"));
        let mut conn = Self::new(label, Io::Ws(Box::new(ws)), transcript);
        conn.seen.peer_is_client = true;
        Ok(conn)
    }

    /// Opens a WebSocket connection to a `ws://` URL.
    pub async fn websocket(url: &str, label: &str, transcript: &Transcript) -> std::io::Result<Self> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let request = url.into_client_request().map_err(std::io::Error::other)?;
        let uri = request.uri();
        if uri.scheme_str() != Some("ws") {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{url}: the harness speaks ws:// only; put wss:// behind a TLS-terminating proxy"),
            ));
        }
        let addr = format!("{}:{}", uri.host().unwrap_or_default(), uri.port_u16().unwrap_or(80));
        let connect = async {
            let tcp = TcpStream::connect(&addr).await?;
            tcp.set_nodelay(true)?;
            let stream: Stream = Box::new(tcp);
            tokio_tungstenite::client_async(request, stream).await.map_err(std::io::Error::other)
        };
        let (ws, _) = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
        transcript.push(label, Direction::Note, format!("connected over WebSocket to {url}"));
        Ok(Self::new(label, Io::Ws(Box::new(ws)), transcript))
    }

    fn new(label: &str, io: Io, transcript: &Transcript) -> Self {
        Self {
            label: label.to_owned(),
            io,
            buf: Vec::new(),
            pending: Default::default(),
            transcript: transcript.clone(),
            closed: false,
            seen: Seen::default(),
            auto_pong: true,
            own_users: None,
        }
    }

    /// Passes over broadcasts from senders not in `own` (the case's users, as it creates
    /// them); they are still checked and written to the transcript.
    pub fn pass_over_broadcasts_not_from(&mut self, own: &OwnUsers) {
        self.own_users = Some(own.clone());
    }

    fn is_foreign_broadcast(&self, frame: &Frame) -> bool {
        match (&self.own_users, &frame.body) {
            (Some(own), Some(cim_proto::v1::frame::Body::Deliver(d))) => {
                d.seq == 0 && !own.contains(&d.from_user_id)
            }
            _ => false,
        }
    }

    /// The connection's name in the transcript.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether this is a WebSocket connection.
    pub fn is_websocket(&self) -> bool {
        matches!(self.io, Io::Ws(_))
    }

    /// Writes a frame. A failed write is recorded, and shows as `Event::Closed` afterwards.
    pub async fn send(&mut self, frame: &Frame) {
        self.transcript.push(&self.label, Direction::Out, describe(frame));
        let payload = encode(frame);
        self.write_frame_bytes(&payload).await;
    }

    /// Writes one frame's bytes with this transport's framing.
    pub async fn send_payload(&mut self, payload: &[u8], what: &str) {
        self.transcript.push(&self.label, Direction::Out, format!("{what}: {}", hex(payload)));
        self.write_frame_bytes(payload).await;
    }

    /// Writes bytes as they are (TCP), or as one binary message (WebSocket).
    pub async fn send_bytes(&mut self, bytes: &[u8], what: &str) {
        self.transcript.push(&self.label, Direction::Out, format!("{what}: {}", hex(bytes)));
        let result = match &mut self.io {
            Io::Stream(stream) => stream.write_all(bytes).await.map_err(|e| e.to_string()),
            Io::Ws(ws) => ws.send(WsMessage::Binary(bytes.to_vec().into())).await.map_err(|e| e.to_string()),
        };
        self.note_write(result);
    }

    /// Sends a WebSocket text message (an error on a cim connection, §3.2).
    pub async fn send_ws_text(&mut self, text: &str) {
        self.transcript.push(&self.label, Direction::Out, format!("WebSocket text message {text:?}"));
        if let Io::Ws(ws) = &mut self.io {
            let result = ws.send(WsMessage::Text(text.to_owned().into())).await.map_err(|e| e.to_string());
            self.note_write(result);
        }
    }

    /// Sends a WebSocket ping control frame (nothing on TCP).
    pub async fn send_ws_ping(&mut self) {
        self.transcript.push(&self.label, Direction::Out, "WebSocket ping control frame");
        if let Io::Ws(ws) = &mut self.io {
            let result = ws.send(WsMessage::Ping(Vec::new().into())).await.map_err(|e| e.to_string());
            self.note_write(result);
        }
    }

    async fn write_frame_bytes(&mut self, payload: &[u8]) {
        let result = match &mut self.io {
            Io::Stream(stream) => stream.write_all(&prefixed(payload)).await.map_err(|e| e.to_string()),
            Io::Ws(ws) => {
                ws.send(WsMessage::Binary(payload.to_vec().into())).await.map_err(|e| e.to_string())
            }
        };
        self.note_write(result);
    }

    fn note_write(&mut self, result: Result<(), String>) {
        if let Err(error) = result {
            self.transcript.push(&self.label, Direction::Note, format!("write failed: {error}"));
        }
    }

    /// Half-closes (TCP) or closes (WebSocket) the harness's side.
    pub async fn shutdown(&mut self) {
        self.transcript.push(&self.label, Direction::Note, "harness closes its side");
        match &mut self.io {
            Io::Stream(stream) => {
                let _ = stream.shutdown().await;
            }
            Io::Ws(ws) => {
                let _ = SinkExt::close(&mut **ws).await;
            }
        }
    }

    /// The next frame, or what happened instead, waiting at most `wait`. Pings are answered
    /// with Pongs and skipped while `auto_pong` is set.
    pub async fn next(&mut self, wait: Duration) -> Event {
        if let Some(frame) = self.pending.pop_front() {
            return Event::Frame(frame);
        }
        self.next_from_wire(wait).await
    }

    /// The first frame, within `wait`, that `pick` accepts; frames it does not accept are kept
    /// for later calls. The error is what ended the wait (never `Event::Frame`).
    pub async fn find<T>(
        &mut self,
        wait: Duration,
        mut pick: impl FnMut(&Frame) -> Option<T>,
    ) -> Result<T, Event> {
        if let Some(pos) = self.pending.iter().position(|f| pick(f).is_some())
            && let Some(found) = self.pending.remove(pos).and_then(|frame| pick(&frame))
        {
            return Ok(found);
        }
        let deadline = Instant::now() + wait;
        loop {
            match self.next_from_wire(deadline.saturating_duration_since(Instant::now())).await {
                Event::Frame(frame) => match pick(&frame) {
                    Some(found) => return Ok(found),
                    None => self.pending.push_back(frame),
                },
                other => return Err(other),
            }
        }
    }

    /// Frames read but not yet handed out.
    pub fn pending(&self) -> impl Iterator<Item = &Frame> {
        self.pending.iter()
    }

    async fn next_from_wire(&mut self, wait: Duration) -> Event {
        let deadline = Instant::now() + wait;
        loop {
            let event = self.read_event(deadline).await;
            match &event {
                Event::Frame(frame) => {
                    self.transcript.push(&self.label, Direction::In, describe(frame));
                    for failure in self.seen.check(frame) {
                        self.transcript.violation(&self.label, failure);
                    }
                    if let (true, Some(cim_proto::v1::frame::Body::Ping(ping))) =
                        (self.auto_pong, &frame.body)
                    {
                        let pong = crate::frames::pong(ping.nonce);
                        self.send(&pong).await;
                        continue;
                    }
                    if self.is_foreign_broadcast(frame) {
                        self.transcript.push(
                            &self.label,
                            Direction::Note,
                            "another case's broadcast: passed over",
                        );
                        continue;
                    }
                }
                Event::Closed => {
                    self.transcript.push(&self.label, Direction::Note, "closed by the implementation")
                }
                Event::Timeout => {}
                Event::Invalid(what) => {
                    self.transcript.push(&self.label, Direction::Note, format!("invalid: {what}"))
                }
            }
            return event;
        }
    }

    async fn read_event(&mut self, deadline: Instant) -> Event {
        if self.closed {
            return Event::Closed;
        }
        match &mut self.io {
            Io::Stream(_) => self.read_stream(deadline).await,
            Io::Ws(ws) => loop {
                let message = match timeout_at(deadline, ws.next()).await {
                    Err(_) => return Event::Timeout,
                    Ok(None | Some(Err(_))) => {
                        self.closed = true;
                        return Event::Closed;
                    }
                    Ok(Some(Ok(message))) => message,
                };
                match message {
                    WsMessage::Binary(bytes) if bytes.len() > MAX_FRAME => {
                        self.transcript.violation(&self.label, oversized(bytes.len()));
                        return Event::Invalid(format!(
                            "a binary message of {} bytes, over {MAX_FRAME}",
                            bytes.len()
                        ));
                    }
                    WsMessage::Binary(bytes) => {
                        let event = decode(&bytes);
                        if matches!(event, Event::Invalid(_)) && carries_length_prefix(&bytes) {
                            self.transcript.violation(
                                &self.label,
                                Failure {
                                    requirement: "CIM-3.2-1",
                                    expected: "each frame as one binary message without a length prefix"
                                        .into(),
                                    actual: format!("a length-prefixed frame: {}", hex(&bytes)),
                                },
                            );
                        }
                        return event;
                    }
                    WsMessage::Text(text) => {
                        return Event::Invalid(format!("a WebSocket text message {:?}", text.as_str()));
                    }
                    WsMessage::Close(_) => {
                        self.closed = true;
                        return Event::Closed;
                    }
                    WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => {}
                }
            },
        }
    }

    async fn read_stream(&mut self, deadline: Instant) -> Event {
        let Io::Stream(stream) = &mut self.io else { return Event::Closed };
        loop {
            match parse_prefix(&self.buf) {
                Prefix::Bad => {
                    return Event::Invalid(format!(
                        "a length prefix of more than 5 bytes: {}",
                        hex(&self.buf)
                    ));
                }
                Prefix::Complete { len, .. } if len > MAX_FRAME as u64 => {
                    self.transcript.violation(&self.label, oversized(len as usize));
                    return Event::Invalid(format!("a length prefix of {len} bytes, over {MAX_FRAME}"));
                }
                Prefix::Complete { len, header } if self.buf.len() as u64 >= header as u64 + len => {
                    let mut shortest = Vec::new();
                    put_varint(len, &mut shortest);
                    if shortest.len() != header {
                        self.transcript.violation(
                            &self.label,
                            Failure {
                                requirement: "CIM-3.1-1",
                                expected: "each length prefix in its shortest form".to_owned(),
                                actual: format!("a {header}-byte prefix for a frame of {len} bytes"),
                            },
                        );
                    }
                    let end = header + len as usize;
                    let event = decode(&self.buf[header..end]);
                    self.buf.drain(..end);
                    return event;
                }
                Prefix::Complete { .. } | Prefix::Incomplete => {}
            }
            let mut chunk = [0u8; 16 * 1024];
            match timeout_at(deadline, stream.read(&mut chunk)).await {
                Err(_) => return Event::Timeout,
                Ok(Ok(0) | Err(_)) => {
                    self.closed = true;
                    if !self.buf.is_empty() {
                        let left = hex(&self.buf);
                        self.buf.clear();
                        return Event::Invalid(format!("the connection closed inside a frame, after {left}"));
                    }
                    return Event::Closed;
                }
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Writes `bytes` and returns whatever comes back within `wait` (TCP only; for probes that
    /// are not cim frames, such as a TLS ClientHello).
    pub async fn raw_exchange(&mut self, bytes: &[u8], wait: Duration) -> Vec<u8> {
        self.transcript.push(&self.label, Direction::Out, format!("raw: {}", hex(bytes)));
        let Io::Stream(stream) = &mut self.io else { return Vec::new() };
        if stream.write_all(bytes).await.is_err() {
            return Vec::new();
        }
        let mut answer = vec![0u8; 4096];
        let n = match tokio::time::timeout(wait, stream.read(&mut answer)).await {
            Ok(Ok(n)) => n,
            _ => 0,
        };
        answer.truncate(n);
        self.transcript.push(&self.label, Direction::In, format!("raw: {}", hex(&answer)));
        answer
    }

    /// Reads and discards until the connection closes or `wait` passes; true when it closed.
    pub async fn closes_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Event::Closed => return true,
                Event::Timeout => return false,
                Event::Frame(_) | Event::Invalid(_) => {}
            }
        }
    }
}

/// Whether a WebSocket message that is not a frame is a varint prefix followed by exactly one
/// frame: the TCP framing used where it does not belong (§3.2).
fn carries_length_prefix(message: &[u8]) -> bool {
    match parse_prefix(message) {
        Prefix::Complete { len, header } => {
            header as u64 + len == message.len() as u64 && Frame::decode(&message[header..]).is_ok()
        }
        Prefix::Bad | Prefix::Incomplete => false,
    }
}

/// The harness never sends `Hello.max_frame_size` above 65536, so no frame may be larger.
fn oversized(len: usize) -> Failure {
    Failure {
        requirement: "CIM-10.2-3",
        expected: format!("frames of at most {MAX_FRAME} bytes, as Hello.max_frame_size allows"),
        actual: format!("a frame of {len} bytes"),
    }
}

/// What an implementation sent so far on one connection, for the rules every frame obeys.
#[derive(Default)]
struct Seen {
    peer_is_client: bool,
    welcome: bool,
    go_away: bool,
    fatal: bool,
}

impl Seen {
    fn check(&mut self, frame: &Frame) -> Vec<Failure> {
        use cim_proto::v1::frame::Body;
        let mut out = Vec::new();
        if self.peer_is_client {
            return client_rules(frame, &mut self.fatal);
        }
        let mut breach = |requirement, expected: &str| {
            out.push(Failure { requirement, expected: expected.to_owned(), actual: describe(frame) });
        };
        if self.fatal {
            breach("CIM-11.1-1", "nothing after a fatal Error");
        }
        match &frame.body {
            Some(Body::Welcome(_)) if self.welcome => {
                breach("CIM-4.1-9", "at most one Welcome on a connection")
            }
            Some(Body::Welcome(_)) => self.welcome = true,
            Some(Body::Error(error)) => {
                let code = error.code;
                if crate::spec::code_name(code).is_none() {
                    breach("CIM-11.2-1", "an Error code from the registry of §11.2");
                }
                if (6000..7000).contains(&code) {
                    breach("CIM-11.2-3", "no Error frame with a code of 6000–6999");
                }
                let may_carry = (3000..4000).contains(&code)
                    || code == crate::spec::code("FORBIDDEN")
                    || code == crate::spec::code("UNAVAILABLE")
                    || code == crate::spec::code("OUTCOME_UNKNOWN");
                if !error.client_msg_id.is_empty() && !may_carry {
                    breach(
                        "CIM-11.1-6",
                        "client_msg_id only in Errors of 3000–3999, FORBIDDEN, UNAVAILABLE and OUTCOME_UNKNOWN",
                    );
                }
                self.fatal |= error.client_msg_id.is_empty();
            }
            Some(Body::GoAway(_)) if self.go_away => {
                breach("CIM-12.1-8", "at most one GoAway on a connection")
            }
            Some(Body::GoAway(_)) => self.go_away = true,
            Some(Body::Deliver(deliver)) => {
                if self.go_away {
                    breach("CIM-12.1-2", "no Deliver after GoAway");
                }
                let to_everyone = matches!(
                    deliver.to.as_ref().and_then(|t| t.kind.as_ref()),
                    Some(cim_proto::v1::recipient::Kind::Everyone(_))
                );
                if to_everyone != (deliver.seq == 0) {
                    breach("CIM-7.4-4", "seq 0 in every Deliver to everyone and only there");
                }
            }
            _ => {}
        }
        if !self.welcome && !matches!(frame.body, Some(Body::Welcome(_) | Body::Error(_) | Body::GoAway(_))) {
            breach("CIM-4.1-4", "only Welcome, Error or GoAway before Welcome");
        }
        out
    }
}

/// Rules every frame a client sends obeys.
fn client_rules(frame: &Frame, fatal: &mut bool) -> Vec<Failure> {
    use cim_proto::v1::frame::Body;
    let mut out = Vec::new();
    let mut breach = |requirement, expected: &str| {
        out.push(Failure { requirement, expected: expected.to_owned(), actual: describe(frame) });
    };
    if *fatal {
        breach("CIM-11.1-1", "nothing after a fatal Error");
    }
    match &frame.body {
        Some(Body::Error(error)) => {
            if !error.client_msg_id.is_empty() {
                breach("CIM-11.1-5", "no client_msg_id in an Error a client sends");
            }
            if crate::spec::code_name(error.code).is_none() {
                breach("CIM-11.2-1", "an Error code from the registry of §11.2");
            }
            if (6000..7000).contains(&error.code) {
                breach("CIM-11.2-3", "no Error frame with a code of 6000–6999");
            }
            *fatal = true;
        }
        Some(Body::DeliverAck(ack)) if ack.up_to_seq == 0 => {
            breach("CIM-7.4-6", "no DeliverAck with up_to_seq 0")
        }
        _ => {}
    }
    out
}

enum Prefix {
    Incomplete,
    Bad,
    Complete { len: u64, header: usize },
}

fn parse_prefix(buf: &[u8]) -> Prefix {
    let mut value = 0u64;
    for (i, byte) in buf.iter().enumerate().take(5) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Prefix::Complete { len: value, header: i + 1 };
        }
    }
    if buf.len() >= 5 { Prefix::Bad } else { Prefix::Incomplete }
}

fn decode(bytes: &[u8]) -> Event {
    match Frame::decode(bytes) {
        Ok(frame) => Event::Frame(frame),
        Err(error) => Event::Invalid(format!("not a protobuf Frame ({error}): {}", hex(bytes))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_like_the_spec_says() {
        let mut out = Vec::new();
        put_varint(300, &mut out);
        assert_eq!(out, [0xac, 0x02]);
        assert!(matches!(parse_prefix(&out), Prefix::Complete { len: 300, header: 2 }));
        assert!(matches!(parse_prefix(&[0x80, 0x80]), Prefix::Incomplete));
        assert!(matches!(parse_prefix(&[0x80; 5]), Prefix::Bad));
        // A padded prefix is valid framing (CIM-3.1-2).
        assert!(matches!(parse_prefix(&[0x81, 0x80, 0x00]), Prefix::Complete { len: 1, header: 3 }));
    }

    #[test]
    fn raw_fields_decode_as_the_generated_types() {
        let hello = Raw::new().varint(1, 1).bytes(3, b"dev");
        let frame = Raw::new().message(1, &hello).into_bytes();
        let Event::Frame(frame) = decode(&frame) else { panic!("not decoded") };
        let Some(cim_proto::v1::frame::Body::Hello(hello)) = frame.body else { panic!("not a Hello") };
        assert_eq!((hello.versions, hello.device_id.as_str()), (vec![1], "dev"));
    }
}
