//! The server side of one client connection.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod delivery;
mod resume;

pub use delivery::{DeliveryConfig, InboxRead, InboxRequest};
pub use resume::{InboxHead, ResumeDecision, decide_resume};

use crate::codec::{self, Framing, Inbound, frame_name};
use crate::rate::TokenBucket;
use crate::wire::{self, frame::Body, recipient};
use crate::{ConnectionError, ErrorCode, PROTOCOL_VERSION, defaults, millis_u32};
use delivery::{Delivery, PushVerdict};

/// Checks session tokens; supplied by the server (spec §5).
///
/// Verification must be cheap and local (a signature and an expiry check): it runs inline in
/// the handshake. Anything slower (presence, inbox state) happens after
/// [`ServerEvent::HelloVerified`], before the server calls [`ServerSession::welcome`].
pub trait TokenVerifier: Send + Sync {
    /// The user the token was issued to, or `UNAUTHENTICATED` / `TOKEN_EXPIRED`.
    fn verify(&self, token: &str) -> Result<Identity, ErrorCode>;
}

/// Who a verified token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The user every message of the session is sent as.
    pub user_id: String,
    /// The device the token was issued for, if it names one: a Hello from another device is
    /// refused (CIM-5.2-3).
    pub device_id: Option<String>,
    /// The login the token belongs to, for revocation checks (CIM-5.2-6).
    pub login_id: Option<String>,
    /// The generation of the account the token was issued for, if the token names one: an
    /// account re-created under the same id after data loss has another, and the server refuses
    /// the old account's tokens (CIM-5.2-10).
    pub account_generation: Option<u64>,
    /// When the token was issued (ms since the Unix epoch), if the verifier knows: a Logout of
    /// all devices ends every login issued until then (CIM-14.2-10).
    pub issued_at_ms: Option<u64>,
}

/// Limits one connection is held to (spec §10), announced in `Welcome`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest frame accepted from the client.
    pub max_frame_size: u32,
    /// Largest `Send.body`.
    pub max_body_size: u32,
    /// Most unanswered Sends.
    pub max_in_flight: u32,
    /// Sustained Sends per second; 0 disables the rate limit.
    pub sends_per_second: u32,
    /// Burst above the sustained rate.
    pub send_burst: u32,
}

impl ServerLimits {
    /// Checks the bounds of spec §10.1: a body of the maximum size fits in a frame with room
    /// to spare (CIM-10.1-3), and every Deliver fits the smallest frame a client may ask for
    /// (CIM-10.1-4).
    pub fn validate(&self) -> Result<(), LimitsError> {
        if self.max_body_size > defaults::MAX_BODY_SIZE_LIMIT {
            return Err(LimitsError::BodyOverProtocolLimit { max_body_size: self.max_body_size });
        }
        if u64::from(self.max_frame_size) < u64::from(self.max_body_size) + 1024 {
            return Err(LimitsError::FrameTooSmallForBody {
                max_frame_size: self.max_frame_size,
                max_body_size: self.max_body_size,
            });
        }
        if self.max_in_flight == 0 {
            return Err(LimitsError::NoSendInFlight);
        }
        Ok(())
    }
}

/// Limits a server may not announce (spec §10.1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitsError {
    /// A body over what any frame can carry (CIM-10.1-3).
    #[error(
        "max body size {max_body_size} exceeds the protocol's limit of {}",
        defaults::MAX_BODY_SIZE_LIMIT
    )]
    BodyOverProtocolLimit {
        /// The configured body limit.
        max_body_size: u32,
    },
    /// A body of the maximum size would not fit a frame with room to spare.
    #[error("max frame size {max_frame_size} must be at least max body size {max_body_size} + 1024")]
    FrameTooSmallForBody {
        /// The configured frame limit.
        max_frame_size: u32,
        /// The configured body limit.
        max_body_size: u32,
    },
    /// No Send could ever be outstanding.
    #[error("max in-flight must be at least 1")]
    NoSendInFlight,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_frame_size: defaults::MAX_FRAME_SIZE,
            max_body_size: defaults::MAX_BODY_SIZE,
            max_in_flight: defaults::MAX_IN_FLIGHT,
            sends_per_second: defaults::SENDS_PER_SECOND,
            send_burst: defaults::SEND_BURST,
        }
    }
}

/// Settings shared by every session of a server; hold it in an `Arc` so a session costs a
/// pointer, not a copy.
#[derive(Clone)]
pub struct ServerConfig {
    /// Checks the token in `Hello`.
    pub verifier: Arc<dyn TokenVerifier>,
    /// How frames are delimited on this listener.
    pub framing: Framing,
    /// Limits announced to and enforced on clients.
    pub limits: ServerLimits,
    /// Heartbeat interval when the client asks for none.
    pub heartbeat_interval: Duration,
    /// Silence after which the client is dead, for `heartbeat_interval`; scaled with it when
    /// a client asks for another interval.
    pub heartbeat_timeout: Duration,
    /// Time allowed for the client's Hello.
    pub handshake_timeout: Duration,
    /// How sessions read their inbox and batch acknowledgements.
    pub delivery: DeliveryConfig,
}

impl ServerConfig {
    /// Protocol defaults with the given verifier and framing.
    pub fn new(verifier: Arc<dyn TokenVerifier>, framing: Framing) -> Self {
        Self {
            verifier,
            framing,
            limits: ServerLimits::default(),
            heartbeat_interval: defaults::HEARTBEAT_INTERVAL,
            heartbeat_timeout: defaults::HEARTBEAT_TIMEOUT,
            handshake_timeout: defaults::HANDSHAKE_TIMEOUT,
            delivery: DeliveryConfig::default(),
        }
    }

    /// Interval and timeout for a client that asked for `requested_ms` (0: no preference).
    fn heartbeat_for(&self, requested_ms: u32) -> (Duration, Duration) {
        let interval = match requested_ms {
            0 => self.heartbeat_interval,
            ms => Duration::from_millis(ms.into()),
        }
        .clamp(defaults::MIN_HEARTBEAT_INTERVAL, defaults::MAX_HEARTBEAT_INTERVAL);
        // Keep the configured timeout/interval ratio, and never under 2x (spec §6).
        let ratio_permille = (self.heartbeat_timeout.as_millis() * 1000)
            .checked_div(self.heartbeat_interval.as_millis())
            .unwrap_or(2500)
            .max(2000);
        let timeout_ms = interval.as_millis() * ratio_permille / 1000;
        (interval, Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(u64::MAX)))
    }
}

/// What the server learns from a session; drained with [`ServerSession::poll_event`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A valid Hello with a verified token. Answer with [`ServerSession::welcome`] or
    /// [`ServerSession::reject`].
    HelloVerified(HelloInfo),
    /// A Send that passed the per-connection checks (id, window, rate, size, recipient).
    /// Store it, then answer with [`ServerSession::ack_send`] or [`ServerSession::reject_send`].
    Send(wire::Send),
    /// A Send that passed every per-connection check but the body size: its body is over
    /// `max_body_size` and has been dropped. Dedupe comes before the size (CIM-7.1-12): if
    /// `client_msg_id` was accepted before, answer with [`ServerSession::ack_send`] as the
    /// duplicate it is; otherwise with [`ServerSession::reject_send`] and
    /// [`ErrorCode::BODY_TOO_LARGE`], passing `detail` on.
    SendTooLarge {
        /// The Send's client message id.
        client_msg_id: String,
        /// Whether it was sent to everyone, which makes a duplicate's ack `live_only`.
        to_everyone: bool,
        /// Says how large the body was and what the limit is.
        detail: String,
    },
    /// The session needs entries of its user's inbox (catching up after Welcome, after a
    /// push that skipped ahead, or the periodic re-read). Answer with
    /// [`ServerSession::handle_inbox_read`]; the session asks for one page at a time, once
    /// the previous one was written out.
    ReadInbox(InboxRequest),
    /// The device processed its inbox up to and including `up_to_seq`: record it in the store
    /// (CIM-8.3-4). DeliverAcks are gathered for up to
    /// [`DeliveryConfig::ack_flush_delay`]; whatever is unrecorded when the session ends is
    /// raised then.
    RecordAck {
        /// Cumulative acknowledgement.
        up_to_seq: u64,
    },
}

/// The verified content of a client's Hello.
#[derive(Clone, Debug, PartialEq)]
pub struct HelloInfo {
    /// From the token, never from the client.
    pub user_id: String,
    /// The device's stable id.
    pub device_id: String,
    /// Where the device stopped reading, if it has read before.
    pub resume: Option<wire::ResumePoint>,
    /// Informational client name.
    pub client_name: String,
    /// The login the token belongs to, if the verifier knows it.
    pub login_id: Option<String>,
    /// The account generation the token names, if the verifier knows it.
    pub account_generation: Option<u64>,
    /// When the token was issued, if the verifier knows.
    pub issued_at_ms: Option<u64>,
}

/// What the server decided in answer to a Hello.
#[derive(Clone, Debug, PartialEq)]
pub struct WelcomeInfo {
    /// Unique id of this session.
    pub session_id: String,
    /// Outcome of the client's resume point.
    pub resume: wire::ResumeResult,
    /// This server's id.
    pub server_id: String,
    /// Wall clock, ms since the Unix epoch.
    pub server_time_ms: u64,
}

/// Caller misuse of a [`ServerSession`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerApiError {
    /// The session is not open (no Welcome yet, or closing).
    #[error("session is not open")]
    NotOpen,
    /// The Welcome lacks a session id, or its resume result has no outcome, a zero epoch or
    /// a zero next_seq (spec §4.4).
    #[error("Welcome needs a session id, a resume outcome, a non-zero epoch and next_seq >= 1")]
    InvalidResume,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitingHello,
    /// Hello verified; the server is preparing the Welcome.
    Verified,
    Open,
    /// GoAway sent: no new work, finish what is in flight.
    Draining,
    /// A fatal error was queued or received: flush and close.
    Closed,
}

/// The server side of one connection (spec §4–§12), sans IO.
///
/// Drive it like this: feed what the transport reads to [`handle_input`](Self::handle_input)
/// (stream chunks on TCP, one call per message on WebSocket), and call
/// [`handle_timeout`](Self::handle_timeout) when [`poll_timeout`](Self::poll_timeout) passes.
/// After each of those, drain in this order: [`poll_transmit`](Self::poll_transmit) until it
/// returns 0 (write the bytes), then [`poll_event`](Self::poll_event) until `None` (act on
/// them, answering through the methods they name), then look at
/// [`is_finished`](Self::is_finished) (close the transport) and `poll_timeout`.
pub struct ServerSession {
    config: Arc<ServerConfig>,
    phase: Phase,
    inbound: Inbound,
    outgoing: VecDeque<Body>,
    events: VecDeque<ServerEvent>,
    user_id: String,
    /// Deadline of the handshake, then of the heartbeat (`last_recv + heartbeat_timeout`).
    deadline: Instant,
    heartbeat_timeout: Duration,
    client_max_frame: u32,
    /// Hello.heartbeat_interval_ms, applied in Welcome.
    requested_heartbeat_ms: u32,
    in_flight: u32,
    rate: TokenBucket,
    /// Highest seq sent on this session (from Welcome: `next_seq - 1`); acks may not exceed it.
    highest_delivered: u64,
    /// Frames decoded so far, for metrics.
    frames_received: u64,
    /// DeliverAcks and Delivers so far, for metrics.
    acks_received: u64,
    deliveries: u64,
    delivery: Delivery,
    /// Highest seq acknowledged on this session; lower acks are ignored (CIM-8.3-5).
    acked: u64,
    error: Option<ConnectionError>,
}

impl ServerSession {
    /// A session for a connection accepted at `now`.
    pub fn new(config: Arc<ServerConfig>, now: Instant) -> Self {
        let limits = &config.limits;
        Self {
            phase: Phase::AwaitingHello,
            inbound: Inbound::new(config.framing, defaults::MAX_FRAME_SIZE),
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            user_id: String::new(),
            deadline: now + config.handshake_timeout,
            heartbeat_timeout: config.heartbeat_timeout,
            client_max_frame: defaults::MAX_FRAME_SIZE,
            requested_heartbeat_ms: 0,
            in_flight: 0,
            rate: TokenBucket::new(limits.sends_per_second, limits.send_burst),
            highest_delivered: 0,
            frames_received: 0,
            acks_received: 0,
            deliveries: 0,
            delivery: Delivery::default(),
            acked: 0,
            error: None,
            config,
        }
    }

    /// Frees the queues' buffers where they are empty. A driver calls this before it waits
    /// for the next input, so that an idle connection holds no memory for frames it is not
    /// exchanging: a handshake or a Ping leaves about 1.7 KB of queue capacity behind.
    pub fn release_idle_buffers(&mut self) {
        if self.outgoing.is_empty() {
            self.outgoing = VecDeque::new();
        }
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        self.inbound.release_buffer();
    }

    /// Bytes read from the transport: any chunk of the stream on a length-prefixed
    /// transport, exactly one message on a message transport (WebSocket).
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), ConnectionError> {
        self.check_alive()?;
        let (mut frames, result) = self.inbound.read(bytes);
        let outcome = self.handle_decoded(now, &mut frames, result);
        self.inbound.recycle(frames);
        outcome
    }

    fn handle_decoded(
        &mut self,
        now: Instant,
        decoded: &mut Vec<Body>,
        result: Result<(), codec::DecodeError>,
    ) -> Result<(), ConnectionError> {
        self.frames_received += decoded.len() as u64;
        if !decoded.is_empty() && self.phase != Phase::AwaitingHello {
            self.deadline = now + self.heartbeat_timeout;
        }
        for body in decoded.drain(..) {
            if self.error.is_some() {
                break; // nothing after a fatal error is processed (spec §11.1)
            }
            self.handle_frame(now, body);
        }
        if let Err(error) = result {
            self.fail(error.code(), error.to_string());
        }
        // With no flush delay configured, an acknowledgement is raised at once.
        if let Some(up_to_seq) = self.delivery.take_due_ack(now) {
            self.events.push_back(ServerEvent::RecordAck { up_to_seq });
        }
        self.check_alive()
    }

    /// The transport closed.
    pub fn handle_transport_closed(&mut self) {
        if self.error.is_none() {
            self.error = Some(ConnectionError::TransportClosed);
        }
        self.phase = Phase::Closed;
        self.raise_unrecorded_ack();
    }

    fn raise_unrecorded_ack(&mut self) {
        if let Some(up_to_seq) = self.delivery.take_ack() {
            self.events.push_back(ServerEvent::RecordAck { up_to_seq });
        }
    }

    /// Call when `now` reaches [`poll_timeout`](Self::poll_timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(up_to_seq) = self.delivery.take_due_ack(now) {
            self.events.push_back(ServerEvent::RecordAck { up_to_seq });
        }
        if self.phase == Phase::Open {
            self.delivery.on_timeout(now, &self.config.delivery);
        }
        if self.error.is_some() || now < self.deadline {
            return;
        }
        match self.phase {
            Phase::AwaitingHello => self.fail(ErrorCode::HANDSHAKE_TIMEOUT, "no Hello in time"),
            Phase::Verified => {} // the server itself is slow; its own deadline applies
            Phase::Open | Phase::Draining => {
                self.fail(ErrorCode::HEARTBEAT_TIMEOUT, "nothing received within the heartbeat timeout")
            }
            Phase::Closed => {}
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let deadline = match self.phase {
            Phase::AwaitingHello | Phase::Open | Phase::Draining if self.error.is_none() => {
                Some(self.deadline)
            }
            _ => None,
        };
        let delivery = self.delivery.next_timeout(self.phase == Phase::Open);
        [deadline, delivery].into_iter().flatten().min()
    }

    /// Appends frames to send to `buf`: every queued frame on a length-prefixed transport,
    /// one frame (one WebSocket message) on a message transport. Returns how many.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        codec::write_queued(&mut self.outgoing, self.config.framing, buf)
    }

    /// The next thing the server must act on.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        if self.phase != Phase::Open {
            return None;
        }
        // The next page only once the last one was written out (one page held at a time).
        let idle = self.outgoing.is_empty();
        self.delivery.poll_read(&self.config.delivery, idle).map(ServerEvent::ReadInbox)
    }

    /// Whether [`poll_event`](Self::poll_event) has something: a driver that wrote out
    /// everything checks this before it waits, because the next inbox page is asked for only
    /// then.
    pub fn has_event(&self) -> bool {
        !self.events.is_empty()
            || (self.phase == Phase::Open && self.outgoing.is_empty() && self.delivery.wants_read())
    }

    /// True once the connection should be closed: after a fatal error, a drained GoAway or
    /// the transport closing, with every queued frame handed out by `poll_transmit`.
    pub fn is_finished(&self) -> bool {
        let drained = self.phase == Phase::Draining && self.in_flight == 0;
        (self.phase == Phase::Closed || drained) && self.outgoing.is_empty()
    }

    /// Why the connection failed, if it did.
    pub fn error(&self) -> Option<&ConnectionError> {
        self.error.as_ref()
    }

    /// The session's user, once the Hello was verified.
    pub fn user_id(&self) -> Option<&str> {
        (self.phase != Phase::AwaitingHello).then_some(self.user_id.as_str())
    }

    /// Whether Welcome was sent and no GoAway or error since.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// Sends Welcome after [`ServerEvent::HelloVerified`].
    pub fn welcome(&mut self, now: Instant, info: WelcomeInfo) -> Result<(), ServerApiError> {
        if self.phase != Phase::Verified {
            return Err(ServerApiError::NotOpen);
        }
        let resume = &info.resume;
        let outcome = wire::ResumeOutcome::try_from(resume.outcome).unwrap_or_default();
        if outcome == wire::ResumeOutcome::Unspecified || resume.epoch == 0 || resume.next_seq == 0 {
            // CIM-4.4-4: a real outcome, a non-zero epoch and next_seq >= 1.
            return Err(ServerApiError::InvalidResume);
        }
        if info.session_id.is_empty() {
            return Err(ServerApiError::InvalidResume);
        }
        let (interval, timeout) = self.config.heartbeat_for(self.requested_heartbeat_ms);
        let limits = &self.config.limits;
        self.inbound.set_max_frame_size(limits.max_frame_size);
        self.heartbeat_timeout = timeout;
        self.deadline = now + timeout;
        self.phase = Phase::Open;
        self.highest_delivered = info.resume.next_seq.saturating_sub(1);
        self.acked = self.highest_delivered;
        self.delivery.start(now, &self.config.delivery, info.resume.epoch, info.resume.next_seq);
        self.outgoing.push_back(Body::Welcome(wire::Welcome {
            version: PROTOCOL_VERSION,
            session_id: info.session_id,
            user_id: self.user_id.clone(),
            heartbeat_interval_ms: millis_u32(interval),
            heartbeat_timeout_ms: millis_u32(timeout),
            limits: Some(wire::Limits {
                max_frame_size: limits.max_frame_size,
                max_body_size: limits.max_body_size,
                max_in_flight: limits.max_in_flight,
                // 0 configures no rate limit here, but reads as the default on the wire
                // (CIM-10.1-2): an unlimited server announces the largest value (CIM-10.1-5).
                sends_per_second: if limits.sends_per_second == 0 {
                    u32::MAX
                } else {
                    limits.sends_per_second
                },
                send_burst: if limits.sends_per_second == 0 { u32::MAX } else { limits.send_burst },
            }),
            resume: Some(info.resume),
            server_time_ms: info.server_time_ms,
            server_id: info.server_id,
        }));
        Ok(())
    }

    /// Ends the connection with a fatal error, e.g. to refuse a verified Hello
    /// (`TOO_MANY_SESSIONS`, `UNAVAILABLE`).
    pub fn reject(&mut self, code: ErrorCode, message: impl Into<String>) {
        self.fail(code, message);
    }

    /// Answers a Send with its SendAck, once the message is durably stored.
    pub fn ack_send(&mut self, ack: wire::SendAck) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.phase != Phase::Closed {
            self.outgoing.push_back(Body::SendAck(ack));
        }
    }

    /// Answers a Send with an error; the connection stays open. Only codes that may reject a
    /// single Send ([`ErrorCode::is_per_message`]) can; any other code ends the connection.
    pub fn reject_send(
        &mut self,
        client_msg_id: String,
        code: ErrorCode,
        message: impl Into<String>,
        retry_after: Duration,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if !code.is_per_message() {
            return self.fail(code, message);
        }
        self.queue_send_error(client_msg_id, code, message.into(), retry_after);
    }

    fn queue_send_error(
        &mut self,
        client_msg_id: String,
        code: ErrorCode,
        message: String,
        retry_after: Duration,
    ) {
        if self.phase != Phase::Closed {
            self.outgoing.push_back(Body::Error(wire::Error {
                code: code.0,
                message,
                client_msg_id,
                retry_after_ms: millis_u32(retry_after),
            }));
        }
    }

    /// A message pushed to this session: an inbox entry just stored for its user, or a
    /// live-only broadcast (seq 0). It is delivered now if it is the next entry in order and
    /// nothing waits in the store before it. An entry ahead of the next is held for up to
    /// [`DeliveryConfig::reorder_wait`] for the pushes of the ones before it (pushes of one
    /// inbox can overtake each other); if they do not come, or the entry is old, the session
    /// catches up from the store (raising [`ServerEvent::ReadInbox`]), which has them all. A
    /// session not open ignores it.
    pub fn handle_push(&mut self, now: Instant, deliver: wire::Deliver) {
        if self.phase != Phase::Open {
            return;
        }
        if let PushVerdict::Deliver(deliver) = self.delivery.on_push(now, &self.config.delivery, deliver) {
            self.deliver(deliver);
            while let Some(held) = self.delivery.take_held() {
                self.deliver(held);
            }
        }
    }

    /// The store's answer to the last [`ServerEvent::ReadInbox`]: delivers the entries that
    /// are next in order, or ends the session with UNAVAILABLE when the store failed, the
    /// inbox's epoch changed or entries the device had not received left it (the device
    /// resumes and learns which, CIM-8.1-6, CIM-8.3-12).
    pub fn handle_inbox_read(&mut self, read: InboxRead) {
        if self.phase != Phase::Open {
            return;
        }
        match self.delivery.on_read(&self.config.delivery, read) {
            Ok(entries) => {
                for entry in entries {
                    if self.delivery.is_next(entry.seq) {
                        self.deliver(entry);
                    }
                }
            }
            Err(broken) => self.fail(ErrorCode::UNAVAILABLE, broken.0),
        }
    }

    fn deliver(&mut self, deliver: wire::Deliver) {
        let seq = deliver.seq;
        let body = Body::Deliver(deliver);
        let len = codec::framed_len(&body, Framing::Message);
        if len > self.client_max_frame as usize {
            // Cannot happen with the bounds of §10.1 (CIM-10.1-4), which every server's limits
            // are checked against; left undelivered rather than breaking the frame limit.
            return;
        }
        self.highest_delivered = self.highest_delivered.max(seq);
        self.delivery.delivered(seq);
        self.deliveries += 1;
        self.outgoing.push_back(body);
    }

    /// Delivers queued so far (inbox entries and broadcasts), for metrics.
    pub fn deliveries(&self) -> u64 {
        self.deliveries
    }

    /// DeliverAcks received so far that moved the acknowledged position, for metrics.
    pub fn acks_received(&self) -> u64 {
        self.acks_received
    }

    /// Sends GoAway and starts draining: in-flight Sends are still answered, nothing new is
    /// accepted, and the session is finished once they are.
    pub fn go_away(
        &mut self,
        reason: wire::GoAwayReason,
        message: impl Into<String>,
        reconnect_after: Duration,
    ) {
        if matches!(self.phase, Phase::Closed | Phase::Draining) {
            return;
        }
        self.outgoing.push_back(Body::GoAway(wire::GoAway {
            reason: reason as i32,
            message: message.into(),
            reconnect_after_ms: millis_u32(reconnect_after),
        }));
        self.phase = Phase::Draining;
    }

    /// Frames received on this connection so far.
    pub fn frames_received(&self) -> u64 {
        self.frames_received
    }

    /// Unanswered Sends.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    fn check_alive(&self) -> Result<(), ConnectionError> {
        match &self.error {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Queues a fatal Error and closes (spec §11.1). Sticky.
    fn fail(&mut self, code: ErrorCode, detail: impl Into<String>) {
        if self.error.is_some() {
            return;
        }
        let detail = detail.into();
        self.outgoing.push_back(Body::Error(wire::Error {
            code: code.0,
            message: detail.clone(),
            client_msg_id: String::new(),
            retry_after_ms: 0,
        }));
        self.error = Some(ConnectionError::local(code, detail));
        self.phase = Phase::Closed;
        self.raise_unrecorded_ack();
    }

    fn handle_frame(&mut self, now: Instant, body: Body) {
        match (self.phase, body) {
            (_, Body::Error(error)) => {
                self.error =
                    Some(ConnectionError::Remote { code: ErrorCode(error.code), message: error.message });
                self.phase = Phase::Closed;
                self.raise_unrecorded_ack();
            }
            (Phase::AwaitingHello, Body::Hello(hello)) => self.handle_hello(hello),
            (Phase::Open | Phase::Draining, Body::Ping(ping)) => {
                self.outgoing.push_back(Body::Pong(wire::Pong { nonce: ping.nonce }));
            }
            (Phase::Open | Phase::Draining, Body::Pong(_)) => {}
            (Phase::Open, Body::Send(send)) => self.handle_send(now, send),
            // Left unanswered (CIM-12.1-5): the client sends it again on its next session.
            (Phase::Draining, Body::Send(_)) => {}
            (Phase::Open | Phase::Draining, Body::DeliverAck(ack)) => {
                if ack.up_to_seq > self.highest_delivered {
                    let detail = format!(
                        "DeliverAck up to {} but only {} was delivered",
                        ack.up_to_seq, self.highest_delivered
                    );
                    self.fail(ErrorCode::INVALID_FIELD, detail);
                } else if ack.up_to_seq > self.acked {
                    self.acked = ack.up_to_seq;
                    self.acks_received += 1;
                    self.delivery.on_ack(now, &self.config.delivery, ack.up_to_seq);
                }
            }
            (phase, body) => {
                let detail = format!("{} is not allowed {}", frame_name(&body), phase_name(phase));
                self.fail(ErrorCode::UNEXPECTED_FRAME, detail);
            }
        }
    }

    /// Checks in the order of spec §4.3 (CIM-4.3-7): versions, fields, token.
    fn handle_hello(&mut self, hello: wire::Hello) {
        if !hello.versions.contains(&PROTOCOL_VERSION) {
            let detail =
                format!("offered versions {:?}; this server speaks {PROTOCOL_VERSION}", hello.versions);
            return self.fail(ErrorCode::UNSUPPORTED_VERSION, detail);
        }
        if hello.device_id.is_empty() || hello.device_id.len() > defaults::MAX_DEVICE_ID_LEN {
            return self.fail(ErrorCode::INVALID_FIELD, "device_id must be 1 to 128 bytes");
        }
        if (1..defaults::MAX_FRAME_SIZE).contains(&hello.max_frame_size) {
            return self.fail(ErrorCode::INVALID_FIELD, "max_frame_size must be 0 or at least 65536");
        }
        if hello.token.is_empty() || hello.token.len() > defaults::MAX_TOKEN_LEN {
            return self.fail(ErrorCode::UNAUTHENTICATED, "token missing or longer than 4096 bytes");
        }
        let identity = match self.config.verifier.verify(&hello.token) {
            Ok(identity) => identity,
            Err(code) => return self.fail(code, "session token rejected"),
        };
        if identity.device_id.as_ref().is_some_and(|device| *device != hello.device_id) {
            return self.fail(ErrorCode::UNAUTHENTICATED, "the token was issued for another device");
        }
        self.client_max_frame = match hello.max_frame_size {
            0 => defaults::MAX_FRAME_SIZE,
            n => n,
        };
        self.requested_heartbeat_ms = hello.heartbeat_interval_ms;
        self.user_id = identity.user_id.clone();
        self.phase = Phase::Verified;
        self.events.push_back(ServerEvent::HelloVerified(HelloInfo {
            user_id: identity.user_id,
            device_id: hello.device_id,
            // Epoch 0 is never a real epoch: such a resume point counts as absent (CIM-8.4-5).
            resume: hello.resume.filter(|point| point.epoch != 0),
            client_name: hello.client_name,
            login_id: identity.login_id,
            account_generation: identity.account_generation,
            issued_at_ms: identity.issued_at_ms,
        }));
    }

    /// Checks in the order of spec §7.1 (CIM-7.1-12): id, recipient and content type (both
    /// fatal), window, rate. Dedupe comes next and is the server's, so a body over the limit
    /// goes to the server as [`ServerEvent::SendTooLarge`]; existence and permission are the
    /// server's too.
    fn handle_send(&mut self, now: Instant, send: wire::Send) {
        if send.client_msg_id.is_empty() {
            // Without an id the error cannot point at this Send, so it is fatal.
            return self.fail(ErrorCode::INVALID_CLIENT_MSG_ID, "Send without client_msg_id");
        }
        if send.client_msg_id.len() > defaults::MAX_CLIENT_MSG_ID_LEN {
            let id = send.client_msg_id;
            let detail = "client_msg_id longer than 64 bytes".to_owned();
            return self.queue_send_error(id, ErrorCode::INVALID_CLIENT_MSG_ID, detail, Duration::ZERO);
        }
        if !send.to.as_ref().is_some_and(crate::recipient::is_addressable) {
            return self
                .fail(ErrorCode::INVALID_FIELD, "Send needs a recipient: user_id, group_id or everyone");
        }
        if send.content_type.len() > defaults::MAX_CONTENT_TYPE_LEN {
            return self.fail(ErrorCode::INVALID_FIELD, "content_type longer than 255 bytes");
        }
        let limits = &self.config.limits;
        let rejection = if self.in_flight >= limits.max_in_flight {
            let detail = format!("{} Sends already unanswered", self.in_flight);
            Some((ErrorCode::IN_FLIGHT_EXCEEDED, detail, Duration::ZERO))
        } else if let Err(wait) = self.rate.try_take(now) {
            Some((ErrorCode::RATE_LIMITED, "too many Sends per second".to_owned(), wait))
        } else {
            None
        };
        if let Some((code, detail, wait)) = rejection {
            return self.queue_send_error(send.client_msg_id, code, detail, wait);
        }
        self.in_flight += 1;
        let event = if send.body.len() > limits.max_body_size as usize {
            let to_everyone = matches!(send.to.and_then(|to| to.kind), Some(recipient::Kind::Everyone(_)));
            let detail =
                format!("body of {} bytes; the maximum is {}", send.body.len(), limits.max_body_size);
            ServerEvent::SendTooLarge { client_msg_id: send.client_msg_id, to_everyone, detail }
        } else {
            ServerEvent::Send(send)
        };
        self.events.push_back(event);
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::AwaitingHello => "before Hello",
        Phase::Verified => "before Welcome",
        Phase::Open => "from a client",
        Phase::Draining => "after GoAway",
        Phase::Closed => "after the connection failed",
    }
}
