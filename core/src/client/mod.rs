//! The client side: one logical session that outlives its connections.

mod inbox;
mod outbox;
mod types;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use types::{
    ClientConfig, ClientEvent, CloseReason, ConnectionState, LoginFailure, LoginGrant, Request, SendError,
};

use crate::codec::{self, Inbound, frame_name};
use crate::rate::TokenBucket;
use crate::wire::{self, GoAwayReason, ResumeOutcome, frame::Body};
use crate::{Backoff, ConnectionError, ErrorCode, PROTOCOL_VERSION, Retry, SplitMix64, defaults, millis_u32};
use inbox::{Inbox, Verdict};
use outbox::Outbox;

/// Which inbox entry a message handed out by [`ClientSession::poll_event_deferred`] is: pass
/// it to [`ClientSession::processed`] when the application has processed the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The epoch the entry was received in.
    epoch: Option<u64>,
    /// Its seq; 0 for a broadcast, which has no place in the inbox.
    seq: u64,
}

#[derive(Debug)]
enum State {
    Idle,
    LoggingIn {
        id: u64,
    },
    /// Asked the driver for a transport; Hello goes out once it is up.
    Connecting {
        deadline: Instant,
    },
    /// Hello sent, waiting for Welcome.
    Handshaking {
        deadline: Instant,
    },
    Connected(ConnectedState),
    /// Transport closing or closed; the next login is due at `until`.
    Waiting {
        until: Instant,
    },
    Closed,
}

/// Facts about the current connection, from Welcome.
#[derive(Debug)]
struct ConnectedState {
    heartbeat_interval: Duration,
    heartbeat_timeout: Duration,
    last_sent: Instant,
    last_received: Instant,
    /// Nonce and send time of the Ping awaiting its Pong.
    ping: Option<(u64, Instant)>,
    max_in_flight: usize,
    /// GoAway received: send nothing new, wait for the server to close.
    going_away: bool,
    /// The server's Send rate limit, mirrored.
    rate: TokenBucket,
}

/// An event as queued, with what is needed to acknowledge it when the application polls it.
#[derive(Debug)]
enum Queued {
    Event(ClientEvent),
    /// A message, with the inbox epoch it was numbered in.
    Message {
        epoch: Option<u64>,
        deliver: wire::Deliver,
    },
}

/// The client side of cim (spec §4–§13), sans IO: login, connection, handshake, heartbeats,
/// the outbox of unacknowledged Sends, inbox position and dedupe, and reconnects with
/// backoff, across as many connections as it takes.
///
/// Drive it like this: call [`connect`](Self::connect) once; then, after every `handle_*`
/// call (and after [`send`](Self::send)), drain in this order:
/// 1. [`poll_transmit`](Self::poll_transmit) until it returns 0, writing the bytes;
/// 2. [`poll_request`](Self::poll_request) until `None`, doing what each asks (log in, open or
///    close a transport) and reporting back through the matching `handle_*`;
/// 3. [`poll_event`](Self::poll_event) until `None`, handing events to the application;
/// 4. [`poll_timeout`](Self::poll_timeout), and call [`handle_timeout`](Self::handle_timeout)
///    when it passes.
pub struct ClientSession {
    config: ClientConfig,
    state: State,
    rng: SplitMix64,
    backoff: Backoff,
    inbound: Inbound,
    outgoing: VecDeque<Body>,
    requests: VecDeque<Request>,
    events: VecDeque<Queued>,
    outbox: Outbox,
    inbox: Inbox,
    grant: Option<LoginGrant>,
    next_request_id: u64,
    next_ping_nonce: u64,
    limits: wire::Limits,
    last_rtt: Option<Duration>,
    /// GoAway's reconnect_after, applied when the server then closes.
    go_away_wait: Duration,
    /// The outbox sends nothing new until then (a rate limit or a retryable refusal).
    outbox_hold: Option<Instant>,
    /// Fatal error of the current connection; sticky until the next one starts.
    connection_error: Option<ConnectionError>,
}

impl ClientSession {
    /// A session that does nothing until [`connect`](Self::connect).
    pub fn new(config: ClientConfig) -> Self {
        Self {
            rng: SplitMix64::new(config.seed),
            backoff: Backoff::new(config.backoff_base, config.backoff_cap),
            inbound: Inbound::new(config.framing, config.max_frame_size),
            inbox: Inbox::new(config.resume, config.dedupe_window),
            state: State::Idle,
            outgoing: VecDeque::new(),
            requests: VecDeque::new(),
            events: VecDeque::new(),
            outbox: Outbox::default(),
            grant: None,
            next_request_id: 0,
            next_ping_nonce: 1,
            limits: default_limits(),
            last_rtt: None,
            go_away_wait: Duration::ZERO,
            outbox_hold: None,
            connection_error: None,
            config,
        }
    }

    /// Starts the first login. Does nothing if already started.
    pub fn connect(&mut self, _now: Instant) {
        if matches!(self.state, State::Idle) {
            self.start_login();
        }
    }

    /// Queues a message and returns its client message id. It goes out as soon as the
    /// session is connected and the window allows, and again after every reconnect until
    /// the server answers it with [`ClientEvent::Acked`] or [`ClientEvent::SendFailed`].
    pub fn send(
        &mut self,
        now: Instant,
        to: wire::Recipient,
        content_type: impl Into<String>,
        body: Bytes,
    ) -> Result<String, SendError> {
        let id = format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
        self.send_with_id(now, id.clone(), to, content_type, body)?;
        Ok(id)
    }

    /// Like [`send`](Self::send) with an id the caller chose (unique among this user's
    /// messages: it is the dedupe key).
    pub fn send_with_id(
        &mut self,
        now: Instant,
        client_msg_id: String,
        to: wire::Recipient,
        content_type: impl Into<String>,
        body: Bytes,
    ) -> Result<(), SendError> {
        if matches!(self.state, State::Closed) {
            return Err(SendError::Closed);
        }
        if client_msg_id.is_empty() || client_msg_id.len() > defaults::MAX_CLIENT_MSG_ID_LEN {
            return Err(SendError::InvalidClientMsgId);
        }
        if !crate::recipient::is_addressable(&to) {
            return Err(SendError::InvalidRecipient);
        }
        if body.len() > self.limits.max_body_size as usize {
            return Err(SendError::BodyTooLarge { len: body.len(), max: self.limits.max_body_size });
        }
        let send = wire::Send { client_msg_id, to: Some(to), content_type: content_type.into(), body };
        let len = send_frame_len(&send);
        if len > self.limits.max_frame_size as usize {
            return Err(SendError::FrameTooLarge { len, max: self.limits.max_frame_size });
        }
        self.outbox.push(send);
        self.fill_window(now);
        Ok(())
    }

    /// Ends the session for good.
    pub fn close(&mut self, _now: Instant) {
        if matches!(self.state, State::Closed) {
            return;
        }
        if matches!(self.state, State::Connecting { .. } | State::Handshaking { .. } | State::Connected(_)) {
            self.requests.push_back(Request::Close);
        }
        self.finish(CloseReason::Requested);
    }

    /// The route answered the login request `id`.
    pub fn handle_login_result(&mut self, now: Instant, id: u64, result: Result<LoginGrant, LoginFailure>) {
        if !matches!(self.state, State::LoggingIn { id: current } if current == id) {
            return; // stale
        }
        match result {
            Ok(grant) => {
                self.requests.push_back(Request::Connect { endpoint: grant.endpoint.clone() });
                self.grant = Some(grant);
                self.state = State::Connecting { deadline: now + self.config.handshake_timeout };
            }
            Err(LoginFailure::Rejected { message }) => self.finish(CloseReason::LoginRejected { message }),
            Err(LoginFailure::Unavailable { message }) => {
                self.retry_later(
                    now,
                    ConnectionError::local(ErrorCode::UNAVAILABLE, message),
                    Duration::ZERO,
                );
            }
            Err(LoginFailure::RetryAfter { message, retry_after }) => {
                self.retry_later(now, ConnectionError::local(ErrorCode::UNAVAILABLE, message), retry_after);
            }
        }
    }

    /// The transport asked for by [`Request::Connect`] is up: the Hello goes out.
    pub fn handle_connected(&mut self, now: Instant) {
        let State::Connecting { deadline } = self.state else {
            return;
        };
        let Some(grant) = &self.grant else { return };
        self.connection_error = None;
        self.inbound = Inbound::new(self.config.framing, self.config.max_frame_size);
        self.outgoing.clear();
        self.outgoing.push_back(Body::Hello(wire::Hello {
            versions: vec![PROTOCOL_VERSION],
            token: grant.token.clone(),
            device_id: self.config.device_id.clone(),
            resume: self.inbox.resume_point(),
            client_name: self.config.client_name.clone(),
            // 0 or at least the default (CIM-4.3-4).
            max_frame_size: self.config.max_frame_size.max(defaults::MAX_FRAME_SIZE),
            heartbeat_interval_ms: self.config.heartbeat_interval.map_or(0, millis_u32),
        }));
        self.state = State::Handshaking { deadline: deadline.max(now) };
    }

    /// Bytes read from the transport: any chunk of the stream on a length-prefixed
    /// transport, exactly one message on a message transport (WebSocket).
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), ConnectionError> {
        self.check_connection()?;
        let (mut frames, result) = self.inbound.read(bytes);
        let outcome = self.handle_decoded(now, &mut frames, result);
        self.inbound.recycle(frames);
        outcome
    }

    /// A WebSocket text message arrived. It is not a frame (CIM-3.2-2): the session answers
    /// MALFORMED_FRAME and ends the connection.
    pub fn handle_text_message(&mut self, now: Instant) -> Result<(), ConnectionError> {
        self.check_connection()?;
        if matches!(self.state, State::Handshaking { .. } | State::Connected(_)) {
            let detail = "a WebSocket text message is not a frame; frames travel in binary messages";
            self.protocol_violation(now, ErrorCode::MALFORMED_FRAME, detail.to_owned());
        }
        self.check_connection()
    }

    /// The transport closed (or could not be opened).
    pub fn handle_transport_closed(&mut self, now: Instant) {
        self.outgoing.clear();
        match &self.state {
            State::Connecting { .. } | State::Handshaking { .. } => {
                self.retry_later(now, ConnectionError::TransportClosed, Duration::ZERO);
            }
            State::Connected(link) => {
                let error = self.connection_error.clone().unwrap_or(ConnectionError::TransportClosed);
                if link.going_away {
                    self.login_after_go_away(now, error);
                } else {
                    self.retry_later(now, error, Duration::ZERO);
                }
            }
            State::Idle | State::LoggingIn { .. } | State::Waiting { .. } | State::Closed => {}
        }
    }

    /// Call when `now` reaches [`poll_timeout`](Self::poll_timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.outbox_hold.is_some_and(|until| now >= until) {
            self.outbox_hold = None;
            self.fill_window(now);
        }
        match &mut self.state {
            State::Connecting { deadline } | State::Handshaking { deadline } if now >= *deadline => {
                self.connection_failed(now, ErrorCode::HANDSHAKE_TIMEOUT, "no Welcome in time".into());
            }
            State::Connected(link) => {
                if now >= link.last_received + link.heartbeat_timeout {
                    let detail = format!("nothing received for {:?}", link.heartbeat_timeout);
                    self.connection_failed(now, ErrorCode::HEARTBEAT_TIMEOUT, detail);
                } else if now >= link.last_sent + link.heartbeat_interval && link.ping.is_none() {
                    let nonce = self.next_ping_nonce;
                    self.next_ping_nonce += 1;
                    link.ping = Some((nonce, now));
                    self.outgoing.push_back(Body::Ping(wire::Ping { nonce }));
                }
            }
            State::Waiting { until } if now >= *until => self.start_login(),
            _ => {}
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let state_timeout = match &self.state {
            State::Connecting { deadline } | State::Handshaking { deadline } => Some(*deadline),
            State::Connected(link) => {
                let dead_at = link.last_received + link.heartbeat_timeout;
                if link.ping.is_some() {
                    Some(dead_at)
                } else {
                    Some(dead_at.min(link.last_sent + link.heartbeat_interval))
                }
            }
            State::Waiting { until } => Some(*until),
            State::Idle | State::LoggingIn { .. } | State::Closed => None,
        };
        let hold = self.outbox_hold.filter(|_| matches!(self.state, State::Connected(_)));
        match (state_timeout, hold) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Appends frames to write to `buf`: all that are due on a length-prefixed transport,
    /// one (a WebSocket message) on a message transport. Returns how many.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> usize {
        if let Some(up_to_seq) = self.inbox_ack_due() {
            self.outgoing.push_back(Body::DeliverAck(wire::DeliverAck { up_to_seq }));
        }
        let count = codec::write_queued(&mut self.outgoing, self.config.framing, buf);
        if count > 0
            && let State::Connected(link) = &mut self.state
        {
            link.last_sent = now;
        }
        count
    }

    /// The next thing the driver must do.
    pub fn poll_request(&mut self) -> Option<Request> {
        self.requests.pop_front()
    }

    /// The next event for the application. Polling a message is what acknowledges it: call
    /// this when the application takes the event, not to move events into a queue of your
    /// own (use [`poll_event_deferred`](Self::poll_event_deferred) for that).
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        let (event, delivery) = self.poll_event_deferred()?;
        if let Some(delivery) = delivery {
            self.processed(delivery);
        }
        Some(event)
    }

    /// The next event, without counting a message as processed: for an embedder that queues
    /// events before the application takes them. A message comes with its [`Delivery`], to
    /// pass to [`processed`](Self::processed) once the application has it; until then it is
    /// neither acknowledged nor part of the resume point, so a crash in between has the
    /// server deliver it again (spec CIM-8.3-1).
    pub fn poll_event_deferred(&mut self) -> Option<(ClientEvent, Option<Delivery>)> {
        Some(match self.events.pop_front()? {
            Queued::Event(event) => (event, None),
            Queued::Message { epoch, deliver } => {
                let delivery = Delivery { epoch, seq: deliver.seq };
                (ClientEvent::Message(deliver), Some(delivery))
            }
        })
    }

    /// The application has processed the message of `delivery`: it counts for the resume
    /// point and the next DeliverAck. Processing out of order is fine: the position only
    /// moves forward.
    pub fn processed(&mut self, delivery: Delivery) {
        self.inbox.processed(delivery.epoch, delivery.seq);
    }

    /// Where this device is in its inbox; store it to resume after a restart
    /// ([`ClientConfig::resume`]).
    pub fn resume_point(&self) -> Option<wire::ResumePoint> {
        self.inbox.resume_point()
    }

    /// The session's state.
    pub fn state(&self) -> ConnectionState {
        match self.state {
            State::Idle => ConnectionState::Idle,
            State::LoggingIn { .. } => ConnectionState::LoggingIn,
            State::Connecting { .. } | State::Handshaking { .. } => ConnectionState::Connecting,
            State::Connected(_) => ConnectionState::Connected,
            State::Waiting { .. } => ConnectionState::Reconnecting,
            State::Closed => ConnectionState::Closed,
        }
    }

    /// Round-trip time of the last answered Ping.
    pub fn rtt(&self) -> Option<Duration> {
        self.last_rtt
    }

    /// Ids of messages sent but not yet answered, in send order.
    pub fn unacked(&self) -> impl Iterator<Item = &str> {
        self.outbox.ids()
    }

    /// The limits in force (the server's, once connected; the protocol defaults before).
    pub fn limits(&self) -> &wire::Limits {
        &self.limits
    }

    /// The login that the current or last connection used.
    pub fn grant(&self) -> Option<&LoginGrant> {
        self.grant.as_ref()
    }

    fn handle_decoded(
        &mut self,
        now: Instant,
        decoded: &mut Vec<Body>,
        result: Result<(), codec::DecodeError>,
    ) -> Result<(), ConnectionError> {
        if !decoded.is_empty()
            && let State::Connected(link) = &mut self.state
        {
            link.last_received = now;
        }
        for body in decoded.drain(..) {
            let live = matches!(self.state, State::Handshaking { .. } | State::Connected(_));
            if self.connection_error.is_some() || !live {
                break; // nothing after a fatal error is processed (spec §11.1)
            }
            self.handle_frame(now, body);
        }
        if let Err(error) = result
            && self.connection_error.is_none()
        {
            self.protocol_violation(now, error.code(), error.to_string());
        }
        self.check_connection()
    }

    fn handle_frame(&mut self, now: Instant, body: Body) {
        let handshaking = matches!(self.state, State::Handshaking { .. });
        match body {
            Body::Welcome(welcome) if handshaking => self.handle_welcome(now, welcome),
            Body::Error(error) if error.client_msg_id.is_empty() => self.handle_fatal_error(now, error),
            Body::GoAway(go_away) => self.handle_go_away(now, go_away),
            _ if handshaking => {
                let detail = format!("{} before Welcome", frame_name(&body));
                self.protocol_violation(now, ErrorCode::UNEXPECTED_FRAME, detail);
            }
            Body::Ping(ping) => self.outgoing.push_back(Body::Pong(wire::Pong { nonce: ping.nonce })),
            Body::Pong(pong) => {
                if let State::Connected(link) = &mut self.state
                    && let Some((nonce, sent_at)) = link.ping
                    && nonce == pong.nonce
                {
                    link.ping = None;
                    self.last_rtt = Some(now.saturating_duration_since(sent_at));
                }
            }
            Body::SendAck(ack) => {
                if self.outbox.answer(&ack.client_msg_id).is_some() {
                    self.events.push_back(Queued::Event(ClientEvent::Acked(ack)));
                    self.fill_window(now);
                }
            }
            Body::Error(error) => self.handle_send_error(now, error),
            Body::Deliver(deliver) => match self.inbox.receive(&deliver) {
                Verdict::Fresh => {
                    self.events.push_back(Queued::Message { epoch: self.inbox.epoch(), deliver })
                }
                Verdict::Duplicate => {}
                Verdict::OutOfSequence { expected } => {
                    let detail = format!("Deliver with seq {} where {expected} was due", deliver.seq);
                    self.protocol_violation(now, ErrorCode::INVALID_FIELD, detail);
                }
            },
            Body::Hello(_) | Body::Welcome(_) | Body::Send(_) | Body::DeliverAck(_) => {
                let detail = format!("{} from a server", frame_name(&body));
                self.protocol_violation(now, ErrorCode::UNEXPECTED_FRAME, detail);
            }
        }
    }

    fn handle_welcome(&mut self, now: Instant, welcome: wire::Welcome) {
        if welcome.version != PROTOCOL_VERSION {
            let detail = format!("server chose version {}, which was not offered", welcome.version);
            return self.protocol_violation(now, ErrorCode::INVALID_FIELD, detail);
        }
        let Some(resume) =
            welcome.resume.filter(|_| !welcome.session_id.is_empty() && !welcome.user_id.is_empty())
        else {
            let detail = "Welcome needs session_id, user_id and resume".to_owned();
            return self.protocol_violation(now, ErrorCode::INVALID_FIELD, detail);
        };
        self.limits = merge_limits(welcome.limits);
        let interval = match welcome.heartbeat_interval_ms {
            0 => defaults::HEARTBEAT_INTERVAL,
            ms => Duration::from_millis(ms.into()),
        };
        let timeout = match welcome.heartbeat_timeout_ms {
            0 => defaults::HEARTBEAT_TIMEOUT,
            ms => Duration::from_millis(ms.into()),
        }
        .max(interval * 2);
        self.state = State::Connected(ConnectedState {
            heartbeat_interval: interval,
            heartbeat_timeout: timeout,
            last_sent: now,
            last_received: now,
            ping: None,
            max_in_flight: self.limits.max_in_flight as usize,
            going_away: false,
            rate: TokenBucket::new(self.limits.sends_per_second, self.limits.send_burst),
        });
        self.backoff.reset();
        let sent_epoch = self.inbox.resume_point().map(|point| point.epoch);
        self.inbox.connected(&resume);
        let outcome = ResumeOutcome::try_from(resume.outcome).unwrap_or(ResumeOutcome::Unspecified);
        self.events.push_back(Queued::Event(ClientEvent::Connected {
            user_id: welcome.user_id,
            session_id: welcome.session_id,
            server_id: welcome.server_id,
            resume: outcome,
        }));
        // The application hears of a discontinuity before any entry after it (CIM-8.4-11..13).
        let discontinuity = match (sent_epoch, outcome) {
            (Some(epoch), _) if epoch != resume.epoch => Some(ResumeOutcome::EpochChanged),
            (_, ResumeOutcome::EpochChanged) => Some(ResumeOutcome::EpochChanged),
            (Some(_), ResumeOutcome::Gap | ResumeOutcome::Unspecified) => Some(ResumeOutcome::Gap),
            (None, ResumeOutcome::Gap) => Some(ResumeOutcome::Gap),
            _ => None,
        };
        if let Some(outcome) = discontinuity {
            let event = ClientEvent::InboxDiscontinuity { outcome, epoch: resume.epoch };
            self.events.push_back(Queued::Event(event));
        }
        self.fill_window(now);
    }

    fn handle_send_error(&mut self, now: Instant, error: wire::Error) {
        let code = ErrorCode(error.code);
        if code.retry() == Retry::After {
            // Transient (rate, window, a backend): hold the outbox, then send it again.
            if self.outbox.requeue(&error.client_msg_id) {
                let wait = Duration::from_millis(error.retry_after_ms.into()).max(MIN_SEND_RETRY);
                let until = now + wait;
                self.outbox_hold = Some(self.outbox_hold.map_or(until, |held| held.max(until)));
            }
            return;
        }
        if self.outbox.answer(&error.client_msg_id).is_some() {
            self.events.push_back(Queued::Event(ClientEvent::SendFailed {
                client_msg_id: error.client_msg_id,
                code,
                message: error.message,
            }));
            self.fill_window(now);
        }
    }

    fn handle_fatal_error(&mut self, now: Instant, error: wire::Error) {
        let code = ErrorCode(error.code);
        let remote = ConnectionError::Remote { code, message: error.message };
        self.connection_error = Some(remote.clone());
        self.requests.push_back(Request::Close);
        if code.retry() == Retry::No {
            self.finish(CloseReason::Fatal(remote));
        } else {
            self.retry_later(now, remote, Duration::from_millis(error.retry_after_ms.into()));
        }
    }

    fn handle_go_away(&mut self, now: Instant, go_away: wire::GoAway) {
        let reason = GoAwayReason::try_from(go_away.reason).unwrap_or(GoAwayReason::Unspecified);
        match reason {
            GoAwayReason::SessionReplaced | GoAwayReason::LoggedOut => {
                self.requests.push_back(Request::Close);
                self.finish(CloseReason::GoAway { reason, message: go_away.message });
            }
            _ => {
                self.go_away_wait = Duration::from_millis(go_away.reconnect_after_ms.into());
                if let State::Connected(link) = &mut self.state {
                    // The server still answers what is in flight, then closes (spec §12).
                    link.going_away = true;
                } else {
                    let error =
                        ConnectionError::Remote { code: ErrorCode::SHUTTING_DOWN, message: go_away.message };
                    self.requests.push_back(Request::Close);
                    self.login_after_go_away(now, error);
                }
            }
        }
    }

    /// Waits `reconnect_after_ms` plus uniform jitter of as much again (CIM-12.2-7); with no
    /// such hint, the normal backoff.
    fn login_after_go_away(&mut self, now: Instant, error: ConnectionError) {
        let wait = self.go_away_wait;
        if wait.is_zero() {
            return self.retry_later(now, error, Duration::ZERO);
        }
        let jitter = Duration::from_millis(self.rng.up_to(millis_u64(wait)));
        self.wait_then_login(now, error, wait + jitter);
    }

    /// We detected a violation by the server: report it, close, try again later.
    fn protocol_violation(&mut self, now: Instant, code: ErrorCode, detail: String) {
        self.outgoing.push_back(Body::Error(wire::Error {
            code: code.0,
            message: detail.clone(),
            client_msg_id: String::new(),
            retry_after_ms: 0,
        }));
        self.connection_failed(now, code, detail);
    }

    /// The connection is unusable: close it and schedule the next attempt.
    fn connection_failed(&mut self, now: Instant, code: ErrorCode, detail: String) {
        let error = ConnectionError::local(code, detail);
        self.connection_error = Some(error.clone());
        self.requests.push_back(Request::Close);
        self.retry_later(now, error, Duration::ZERO);
    }

    /// Schedules the next login after the backoff delay (and no sooner than `at_least`).
    fn retry_later(&mut self, now: Instant, error: ConnectionError, at_least: Duration) {
        let retry_in = self.backoff.next_delay(&mut self.rng).max(at_least);
        self.wait_then_login(now, error, retry_in);
    }

    fn wait_then_login(&mut self, now: Instant, error: ConnectionError, retry_in: Duration) {
        self.outbox.connection_lost();
        self.outbox_hold = None;
        if self.connection_error.is_none() {
            self.connection_error = Some(error.clone());
        }
        self.state = State::Waiting { until: now + retry_in };
        self.events.push_back(Queued::Event(ClientEvent::Disconnected { error, retry_in }));
    }

    fn finish(&mut self, reason: CloseReason) {
        self.outbox.connection_lost();
        self.state = State::Closed;
        self.events.push_back(Queued::Event(ClientEvent::Closed(reason)));
    }

    fn start_login(&mut self) {
        let id = self.next_request_id;
        self.next_request_id += 1;
        self.state = State::LoggingIn { id };
        self.requests.push_back(Request::Login { id });
    }

    fn fill_window(&mut self, now: Instant) {
        let State::Connected(link) = &mut self.state else { return };
        if link.going_away || self.outbox_hold.is_some() {
            return;
        }
        let window = link.max_in_flight;
        while self.outbox.can_send(window) {
            // Pace to the announced rate, so the server never has to refuse (and reorder).
            if let Err(wait) = link.rate.try_take(now) {
                self.outbox_hold = Some(now + wait);
                return;
            }
            let Some(send) = self.outbox.next_to_send(window) else { return };
            // Queued before a Welcome that announced smaller limits: it can never go out.
            let too_large = (send.body.len() > self.limits.max_body_size as usize)
                .then(|| SendError::BodyTooLarge { len: send.body.len(), max: self.limits.max_body_size })
                .or_else(|| {
                    let len = send_frame_len(send);
                    (len > self.limits.max_frame_size as usize)
                        .then_some(SendError::FrameTooLarge { len, max: self.limits.max_frame_size })
                });
            if let Some(error) = too_large {
                let client_msg_id = send.client_msg_id.clone();
                self.outbox.answer(&client_msg_id);
                let (code, message) = (error.code(), error.to_string());
                self.events.push_back(Queued::Event(ClientEvent::SendFailed {
                    client_msg_id,
                    code,
                    message,
                }));
                continue;
            }
            self.outgoing.push_back(Body::Send(send.clone()));
        }
    }

    fn inbox_ack_due(&mut self) -> Option<u64> {
        matches!(self.state, State::Connected(_)).then(|| self.inbox.take_ack()).flatten()
    }

    fn check_connection(&self) -> Result<(), ConnectionError> {
        match &self.connection_error {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

/// The encoded size of a Frame carrying `send` (field 5 of Frame), without building it.
fn send_frame_len(send: &wire::Send) -> usize {
    use prost::Message as _;
    let inner = send.encoded_len();
    prost::encoding::key_len(5) + prost::encoding::encoded_len_varint(inner as u64) + inner
}

/// Shortest wait before resending a Send the server refused for a transient reason.
const MIN_SEND_RETRY: Duration = Duration::from_millis(100);

/// Welcome's limits with absent or zero fields replaced by the defaults (CIM-10.1-2).
fn merge_limits(announced: Option<wire::Limits>) -> wire::Limits {
    let defaults = default_limits();
    let Some(limits) = announced else { return defaults };
    let or = |value: u32, default: u32| if value == 0 { default } else { value };
    wire::Limits {
        max_frame_size: or(limits.max_frame_size, defaults.max_frame_size),
        max_body_size: or(limits.max_body_size, defaults.max_body_size),
        max_in_flight: or(limits.max_in_flight, defaults.max_in_flight),
        sends_per_second: or(limits.sends_per_second, defaults.sends_per_second),
        send_burst: or(limits.send_burst, defaults.send_burst),
    }
}

fn default_limits() -> wire::Limits {
    wire::Limits {
        max_frame_size: defaults::MAX_FRAME_SIZE,
        max_body_size: defaults::MAX_BODY_SIZE,
        max_in_flight: defaults::MAX_IN_FLIGHT,
        sends_per_second: defaults::SENDS_PER_SECOND,
        send_burst: defaults::SEND_BURST,
    }
}

fn millis_u64(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
