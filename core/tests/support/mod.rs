//! A deterministic world for testing the client and server sessions together: a virtual
//! clock, in-memory links with latency and fault knobs, and a small in-memory server
//! application (login, inboxes, dedupe, fan-out) built on `ServerSession`.
//!
//! Nothing here sleeps or reads the real clock: `drive_until` jumps the clock to the next
//! deadline, so a 75-second heartbeat timeout costs microseconds.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cim_core::client::{ClientConfig, ClientEvent, ClientSession, LoginFailure, LoginGrant, Request};
use cim_core::server::{
    Identity, InboxHead, InboxRead, InboxRequest, ServerConfig, ServerEvent, ServerSession, TokenVerifier,
    WelcomeInfo, decide_resume,
};
use cim_core::wire::{self, recipient};
use cim_core::{ErrorCode, Framing, SplitMix64};

/// Tokens are `tok:<user>` or `tok:<user>@<device>`; anything else is refused.
pub struct FakeVerifier;

impl TokenVerifier for FakeVerifier {
    fn verify(&self, token: &str) -> Result<Identity, ErrorCode> {
        let subject = token.strip_prefix("tok:").ok_or(ErrorCode::UNAUTHENTICATED)?;
        let (user, device) = match subject.split_once('@') {
            Some((user, device)) => (user, Some(device.to_owned())),
            None => (subject, None),
        };
        if user.is_empty() {
            return Err(ErrorCode::UNAUTHENTICATED);
        }
        Ok(Identity {
            user_id: user.to_owned(),
            device_id: device,
            login_id: None,
            account_generation: None,
            issued_at_ms: None,
        })
    }
}

/// Bytes in flight in one direction, each chunk due at a time.
#[derive(Default)]
struct Pipe {
    chunks: VecDeque<(Instant, Vec<u8>)>,
}

/// One transport between a client and the server.
struct SimConnection {
    id: u64,
    client: usize,
    session: ServerSession,
    to_server: Pipe,
    to_client: Pipe,
    /// The user and device, once the Hello was verified.
    user: Option<(String, String)>,
}

/// One stored inbox entry.
#[derive(Clone, Debug)]
struct Entry {
    deliver: wire::Deliver,
}

#[derive(Default)]
struct UserState {
    epoch: u64,
    /// `entries[i]` has seq `first_seq + i`.
    entries: Vec<Entry>,
    first_seq: u64,
    /// client_msg_id -> (message_id, sent_at_ms): the dedupe table.
    sent: HashMap<String, (String, u64)>,
    /// device -> acked seq.
    positions: HashMap<String, u64>,
}

impl UserState {
    fn next_seq(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }
}

/// A client as the application sees it: its session plus what it has observed.
pub struct SimClient {
    pub user: String,
    pub session: ClientSession,
    pub received: Vec<wire::Deliver>,
    pub acked: Vec<wire::SendAck>,
    pub events: Vec<ClientEvent>,
    /// Reject logins (wrong password) when set.
    pub reject_login: bool,
}

/// Fault knobs.
#[derive(Clone, Debug)]
pub struct Faults {
    /// One-way latency of every chunk.
    pub latency: Duration,
    /// Probability that a step kills one live connection (the transport drops; bytes in
    /// flight are lost both ways).
    pub kill_probability: f64,
    /// While true, links deliver nothing and new connections fail.
    pub partitioned: bool,
    /// Stored messages are not pushed to the recipients' sessions (a sender's stale route,
    /// a server that died mid-push): only the store has them.
    pub lose_pushes: bool,
    /// Pushes reach the sessions in shuffled order, a step late (two senders' connections or
    /// two servers pushing into one inbox at once).
    pub reorder_pushes: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(5),
            kill_probability: 0.0,
            partitioned: false,
            lose_pushes: false,
            reorder_pushes: false,
        }
    }
}

pub struct World {
    pub now: Instant,
    pub start: Instant,
    pub faults: Faults,
    pub clients: Vec<SimClient>,
    server_config: Arc<ServerConfig>,
    connections: Vec<SimConnection>,
    users: BTreeMap<String, UserState>,
    groups: BTreeMap<String, Vec<String>>,
    next_connection: u64,
    next_message: u64,
    rng: SplitMix64,
    /// TCP-like (length-prefixed) or WebSocket-like (one frame per message) links.
    pub framing: Framing,
    /// Connections killed by faults, for reporting.
    pub kills: u32,
    /// Pushes held back by [`Faults::reorder_pushes`]: connection id and entry.
    late_pushes: Vec<(u64, wire::Deliver)>,
}

impl World {
    pub fn new(seed: u64) -> Self {
        let start = Instant::now();
        let mut server_config = ServerConfig::new(Arc::new(FakeVerifier), Framing::LengthPrefixed);
        server_config.heartbeat_interval = Duration::from_secs(10);
        server_config.heartbeat_timeout = Duration::from_secs(25);
        Self {
            now: start,
            start,
            faults: Faults::default(),
            clients: Vec::new(),
            server_config: Arc::new(server_config),
            connections: Vec::new(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            next_connection: 0,
            next_message: 0,
            rng: SplitMix64::new(seed),
            framing: Framing::LengthPrefixed,
            kills: 0,
            late_pushes: Vec::new(),
        }
    }

    /// The same world over WebSocket-like links.
    pub fn websocket(seed: u64) -> Self {
        Self::new(seed).with_framing(Framing::Message)
    }

    pub fn with_framing(mut self, framing: Framing) -> Self {
        self.framing = framing;
        self.with_server_config(|_| {})
    }

    pub fn with_server_config(mut self, edit: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig::new(Arc::new(FakeVerifier), self.framing);
        config.heartbeat_interval = self.server_config.heartbeat_interval;
        config.heartbeat_timeout = self.server_config.heartbeat_timeout;
        edit(&mut config);
        self.server_config = Arc::new(config);
        self
    }

    /// Adds a client for `user` on its own device; returns its index.
    pub fn add_client(&mut self, user: &str, device: &str) -> usize {
        self.add_client_with(user, device, |_| {})
    }

    pub fn add_client_with(
        &mut self,
        user: &str,
        device: &str,
        edit: impl FnOnce(&mut ClientConfig),
    ) -> usize {
        self.users.entry(user.to_owned()).or_insert_with(|| UserState {
            epoch: 1,
            first_seq: 1,
            ..Default::default()
        });
        let mut config = ClientConfig::new(device, self.framing, self.rng.next_u64());
        edit(&mut config);
        let mut session = ClientSession::new(config);
        session.connect(self.now);
        self.clients.push(SimClient {
            user: user.to_owned(),
            session,
            received: Vec::new(),
            acked: Vec::new(),
            events: Vec::new(),
            reject_login: false,
        });
        self.clients.len() - 1
    }

    pub fn add_group(&mut self, group: &str, members: &[&str]) {
        self.groups.insert(group.to_owned(), members.iter().map(|m| (*m).to_owned()).collect());
    }

    /// Sends a text message from client `from` to user `to`.
    pub fn send_text(&mut self, from: usize, to: &str, text: &str) -> String {
        self.send_to(from, recipient::Kind::UserId(to.to_owned()), text)
    }

    pub fn send_to(&mut self, from: usize, to: recipient::Kind, text: &str) -> String {
        let now = self.now;
        let recipient = wire::Recipient { kind: Some(to) };
        self.clients[from]
            .session
            .send(now, recipient, "text/plain", Bytes::copy_from_slice(text.as_bytes()))
            .expect("valid send")
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Kills every live connection of client `c` (as if the network reset it).
    pub fn kill_connections_of(&mut self, c: usize) {
        let ids: Vec<u64> =
            self.connections.iter().filter(|conn| conn.client == c).map(|conn| conn.id).collect();
        for id in ids {
            self.kill(id);
        }
    }

    /// Resets the user's inbox: a new epoch, all entries lost (as after a store failure).
    pub fn lose_inbox(&mut self, user: &str) {
        if let Some(state) = self.users.get_mut(user) {
            state.epoch += 1;
            state.first_seq = 1;
            state.entries.clear();
            state.positions.clear();
        }
    }

    /// Trims the user's inbox up to and including `seq`, acked or not.
    pub fn trim_inbox(&mut self, user: &str, seq: u64) {
        if let Some(state) = self.users.get_mut(user) {
            while state.first_seq <= seq && !state.entries.is_empty() {
                state.entries.remove(0);
                state.first_seq += 1;
            }
        }
    }

    pub fn is_connected(&self, c: usize) -> bool {
        self.clients[c].session.state() == cim_core::client::ConnectionState::Connected
    }

    /// Runs everything that is due now, repeatedly, until nothing changes.
    pub fn step(&mut self) {
        for _ in 0..64 {
            if !self.step_once() {
                return;
            }
        }
    }

    /// Advances the clock to the next deadline and runs what is due; returns false when
    /// nothing is scheduled any more.
    pub fn advance(&mut self) -> bool {
        self.step();
        let Some(next) = self.next_deadline() else {
            return false;
        };
        self.now = self.now.max(next);
        self.maybe_kill();
        self.step();
        true
    }

    /// Drives until `done` holds or `limit` of virtual time passes; returns whether it held.
    pub fn drive_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = self.now + limit;
        self.step();
        while !done(self) {
            if self.now >= end {
                return false;
            }
            let next = self.next_deadline().map_or(end, |t| t.min(end));
            self.now = self.now.max(next);
            self.maybe_kill();
            self.step();
        }
        true
    }

    /// Drives for exactly `duration` of virtual time.
    pub fn drive_for(&mut self, duration: Duration) {
        self.drive_until(duration, |_| false);
    }

    fn next_deadline(&self) -> Option<Instant> {
        let clients = self.clients.iter().filter_map(|c| c.session.poll_timeout());
        let servers = self.connections.iter().filter_map(|c| c.session.poll_timeout());
        let pipes = if self.faults.partitioned {
            None
        } else {
            self.connections
                .iter()
                .flat_map(|c| c.to_server.chunks.front().into_iter().chain(c.to_client.chunks.front()))
                .map(|(at, _)| *at)
                .min()
        };
        clients.chain(servers).chain(pipes).min().map(|t| t.max(self.now))
    }

    fn maybe_kill(&mut self) {
        if self.faults.kill_probability <= 0.0 || self.connections.is_empty() {
            return;
        }
        let roll = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if roll < self.faults.kill_probability {
            let index = self.rng.up_to(self.connections.len() as u64 - 1) as usize;
            let id = self.connections[index].id;
            self.kill(id);
            self.kills += 1;
        }
    }

    fn kill(&mut self, id: u64) {
        let Some(index) = self.connections.iter().position(|c| c.id == id) else {
            return;
        };
        let mut conn = self.connections.remove(index);
        conn.session.handle_transport_closed();
        self.clients[conn.client].session.handle_transport_closed(self.now);
    }

    fn step_once(&mut self) -> bool {
        let mut progressed = false;
        for c in 0..self.clients.len() {
            progressed |= self.drive_client(c);
        }
        progressed |= self.deliver_pipes();
        progressed |= self.push_late();
        for index in 0..self.connections.len() {
            progressed |= self.drive_server_connection(index);
        }
        progressed |= self.reap_finished();
        progressed
    }

    /// Hands the pushes held back by [`Faults::reorder_pushes`] to their sessions, shuffled.
    fn push_late(&mut self) -> bool {
        let mut pushes = std::mem::take(&mut self.late_pushes);
        if pushes.is_empty() {
            return false;
        }
        for i in (1..pushes.len()).rev() {
            let j = self.rng.up_to(i as u64) as usize;
            pushes.swap(i, j);
        }
        let now = self.now;
        for (id, deliver) in pushes {
            if let Some(conn) = self.connections.iter_mut().find(|c| c.id == id) {
                conn.session.handle_push(now, deliver);
            }
        }
        true
    }

    fn drive_client(&mut self, c: usize) -> bool {
        let now = self.now;
        let mut progressed = false;
        self.clients[c].session.handle_timeout(now);
        progressed |= self.flush_client(c);
        while let Some(request) = self.clients[c].session.poll_request() {
            progressed = true;
            match request {
                Request::Login { id } => {
                    let client = &mut self.clients[c];
                    let result = if self.faults.partitioned {
                        Err(LoginFailure::Unavailable { message: "route unreachable".into() })
                    } else if client.reject_login {
                        Err(LoginFailure::Rejected { message: "wrong password".into() })
                    } else {
                        Ok(LoginGrant {
                            user_id: client.user.clone(),
                            token: format!("tok:{}", client.user),
                            endpoint: "sim".into(),
                        })
                    };
                    client.session.handle_login_result(now, id, result);
                }
                Request::Connect { .. } => {
                    if self.faults.partitioned {
                        self.clients[c].session.handle_transport_closed(now);
                    } else {
                        let id = self.next_connection;
                        self.next_connection += 1;
                        self.connections.push(SimConnection {
                            id,
                            client: c,
                            session: ServerSession::new(self.server_config.clone(), now),
                            to_server: Pipe::default(),
                            to_client: Pipe::default(),
                            user: None,
                        });
                        self.clients[c].session.handle_connected(now);
                    }
                }
                Request::Close => {
                    if let Some(index) = self.connections.iter().position(|conn| conn.client == c) {
                        // The client's last bytes (an Error frame) still reach the server.
                        let mut conn = self.connections.remove(index);
                        for (_, bytes) in conn.to_server.chunks.drain(..) {
                            let _ = conn.session.handle_input(now, &bytes);
                        }
                        conn.session.handle_transport_closed();
                    }
                }
                _ => {}
            }
        }
        let client = &mut self.clients[c];
        while let Some(event) = client.session.poll_event() {
            progressed = true;
            match &event {
                ClientEvent::Message(deliver) => client.received.push(deliver.clone()),
                ClientEvent::Acked(ack) => client.acked.push(ack.clone()),
                _ => {}
            }
            client.events.push(event);
        }
        // Acks for polled messages go out in this same step.
        progressed |= self.flush_client(c);
        progressed
    }

    /// Moves what client `c` wants to write onto its connection's pipe.
    fn flush_client(&mut self, c: usize) -> bool {
        let (now, framing, latency) = (self.now, self.framing, self.faults.latency);
        let session = &mut self.clients[c].session;
        let chunks = drain(framing, |buf| session.poll_transmit(now, buf));
        let progressed = !chunks.is_empty();
        if let Some(conn) = self.connections.iter_mut().find(|conn| conn.client == c) {
            conn.to_server.chunks.extend(chunks.into_iter().map(|chunk| (now + latency, chunk)));
        }
        progressed
    }

    fn deliver_pipes(&mut self) -> bool {
        if self.faults.partitioned {
            return false;
        }
        let now = self.now;
        let mut progressed = false;
        for conn in &mut self.connections {
            while conn.to_server.chunks.front().is_some_and(|(at, _)| *at <= now) {
                let Some((_, bytes)) = conn.to_server.chunks.pop_front() else {
                    break;
                };
                let _ = conn.session.handle_input(now, &bytes);
                progressed = true;
            }
            while conn.to_client.chunks.front().is_some_and(|(at, _)| *at <= now) {
                let Some((_, bytes)) = conn.to_client.chunks.pop_front() else {
                    break;
                };
                // An error here is the client's to act on: it asks for Close itself.
                // An error here is the client's to act on: it asks for Close itself.
                let _ = self.clients[conn.client].session.handle_input(now, &bytes);
                progressed = true;
            }
        }
        progressed
    }

    fn drive_server_connection(&mut self, index: usize) -> bool {
        let now = self.now;
        let mut progressed = false;
        self.connections[index].session.handle_timeout(now);
        while let Some(event) = self.connections[index].session.poll_event() {
            progressed = true;
            match event {
                ServerEvent::HelloVerified(hello) => self.on_hello(index, hello),
                ServerEvent::Send(send) => self.on_send(index, send),
                ServerEvent::SendTooLarge { client_msg_id, to_everyone, detail } => {
                    self.on_send_too_large(index, client_msg_id, to_everyone, detail);
                }
                ServerEvent::ReadInbox(request) => {
                    let read = self.read_inbox(index, request);
                    self.connections[index].session.handle_inbox_read(read);
                }
                ServerEvent::RecordAck { up_to_seq } => {
                    if let Some((user, device)) = &self.connections[index].user
                        && let Some(state) = self.users.get_mut(user)
                    {
                        let position = state.positions.entry(device.clone()).or_default();
                        *position = (*position).max(up_to_seq);
                    }
                }
                _ => {}
            }
        }
        for conn in &mut self.connections {
            let chunks = drain(self.framing, |buf| conn.session.poll_transmit(buf));
            if !chunks.is_empty() {
                conn.to_client
                    .chunks
                    .extend(chunks.into_iter().map(|chunk| (now + self.faults.latency, chunk)));
                progressed = true;
            }
        }
        progressed
    }

    fn on_hello(&mut self, index: usize, hello: cim_core::server::HelloInfo) {
        let now_ms = self.elapsed().as_millis() as u64;
        let Some(state) = self.users.get(&hello.user_id) else {
            self.connections[index].session.reject(ErrorCode::UNAUTHENTICATED, "unknown user");
            return;
        };
        let head = InboxHead { epoch: state.epoch, first_seq: state.first_seq, next_seq: state.next_seq() };
        let resume = match decide_resume(hello.resume.as_ref(), &head) {
            Ok(resume) => resume,
            Err(refused) => {
                self.connections[index].session.reject(refused.code, refused.message);
                return;
            }
        };
        let conn = &mut self.connections[index];
        conn.user = Some((hello.user_id.clone(), hello.device_id.clone()));
        let info = WelcomeInfo {
            session_id: format!("s{}", conn.id),
            resume: wire::ResumeResult {
                outcome: resume.outcome as i32,
                epoch: state.epoch,
                next_seq: resume.next_seq,
            },
            server_id: "sim-1".into(),
            server_time_ms: now_ms,
        };
        conn.session.welcome(self.now, info).expect("verified session");
    }

    /// Answers a session's inbox read, as a store would.
    fn read_inbox(&self, index: usize, request: InboxRequest) -> InboxRead {
        let state = self.connections[index].user.as_ref().and_then(|(user, _)| self.users.get(user));
        let Some(state) = state else {
            return InboxRead::Failed("no such user".into());
        };
        if request.check_epoch.is_some_and(|epoch| epoch != state.epoch) {
            return InboxRead::EpochChanged;
        }
        let entries = state.entries.iter().map(|entry| &entry.deliver);
        InboxRead::Entries(
            entries.filter(|d| d.seq >= request.from_seq).take(request.limit).cloned().collect(),
        )
    }

    fn on_send_too_large(&mut self, index: usize, client_msg_id: String, to_everyone: bool, detail: String) {
        let Some((sender, _)) = self.connections[index].user.clone() else {
            return;
        };
        let accepted = self.users.get(&sender).and_then(|state| state.sent.get(&client_msg_id).cloned());
        let session = &mut self.connections[index].session;
        match accepted {
            Some((message_id, sent_at_ms)) => session.ack_send(wire::SendAck {
                client_msg_id,
                message_id,
                sent_at_ms,
                duplicate: true,
                live_only: to_everyone,
            }),
            None => session.reject_send(client_msg_id, ErrorCode::BODY_TOO_LARGE, detail, Duration::ZERO),
        }
    }

    fn on_send(&mut self, index: usize, send: wire::Send) {
        let now = self.now;
        let Some((sender, _)) = self.connections[index].user.clone() else {
            return;
        };
        let sent_at_ms = self.elapsed().as_millis() as u64;
        let sender_state = self.users.get_mut(&sender).expect("sender exists");
        if let Some((message_id, sent_at_ms)) = sender_state.sent.get(&send.client_msg_id).cloned() {
            self.connections[index].session.ack_send(wire::SendAck {
                client_msg_id: send.client_msg_id,
                message_id,
                sent_at_ms,
                duplicate: true,
                live_only: false,
            });
            return;
        }
        let recipients: Vec<String> = match send.to.as_ref().and_then(|to| to.kind.clone()) {
            Some(recipient::Kind::UserId(user)) => vec![user],
            Some(recipient::Kind::GroupId(group)) => match self.groups.get(&group) {
                Some(members) if members.contains(&sender) => {
                    members.iter().filter(|m| **m != sender).cloned().collect()
                }
                Some(_) => {
                    let session = &mut self.connections[index].session;
                    session.reject_send(
                        send.client_msg_id,
                        ErrorCode::FORBIDDEN,
                        "not a member",
                        Duration::ZERO,
                    );
                    return;
                }
                None => Vec::new(),
            },
            Some(recipient::Kind::Everyone(_)) => {
                self.broadcast(index, &sender, send, sent_at_ms);
                return;
            }
            None => Vec::new(),
        };
        if recipients.is_empty() || recipients.iter().any(|r| !self.users.contains_key(r)) {
            let session = &mut self.connections[index].session;
            session.reject_send(
                send.client_msg_id,
                ErrorCode::UNKNOWN_RECIPIENT,
                "no such recipient",
                Duration::ZERO,
            );
            return;
        }
        self.next_message += 1;
        let message_id = format!("{:026}", self.next_message);
        for user in &recipients {
            let state = self.users.get_mut(user).expect("checked above");
            let deliver = wire::Deliver {
                seq: state.next_seq(),
                message_id: message_id.clone(),
                from_user_id: sender.clone(),
                to: send.to.clone(),
                content_type: send.content_type.clone(),
                body: send.body.clone(),
                sent_at_ms,
            };
            state.entries.push(Entry { deliver: deliver.clone() });
            if self.faults.lose_pushes {
                continue;
            }
            for conn in &mut self.connections {
                if conn.user.as_ref().is_some_and(|(u, _)| u == user) {
                    if self.faults.reorder_pushes {
                        self.late_pushes.push((conn.id, deliver.clone()));
                    } else {
                        conn.session.handle_push(now, deliver.clone());
                    }
                }
            }
        }
        let sender_state = self.users.get_mut(&sender).expect("sender exists");
        sender_state.sent.insert(send.client_msg_id.clone(), (message_id.clone(), sent_at_ms));
        self.connections[index].session.ack_send(wire::SendAck {
            client_msg_id: send.client_msg_id,
            message_id,
            sent_at_ms,
            duplicate: false,
            live_only: false,
        });
    }

    fn broadcast(&mut self, index: usize, sender: &str, send: wire::Send, sent_at_ms: u64) {
        let now = self.now;
        self.next_message += 1;
        let message_id = format!("{:026}", self.next_message);
        let deliver = wire::Deliver {
            seq: 0,
            message_id: message_id.clone(),
            from_user_id: sender.to_owned(),
            to: send.to.clone(),
            content_type: send.content_type.clone(),
            body: send.body.clone(),
            sent_at_ms,
        };
        for conn in &mut self.connections {
            if conn.user.as_ref().is_some_and(|(u, _)| u != sender) {
                conn.session.handle_push(now, deliver.clone());
            }
        }
        self.connections[index].session.ack_send(wire::SendAck {
            client_msg_id: send.client_msg_id,
            message_id,
            sent_at_ms,
            duplicate: false,
            live_only: true,
        });
    }

    fn reap_finished(&mut self) -> bool {
        let now = self.now;
        let finished: Vec<u64> =
            self.connections.iter().filter(|c| c.session.is_finished()).map(|c| c.id).collect();
        for id in &finished {
            let Some(index) = self.connections.iter().position(|c| c.id == *id) else {
                continue;
            };
            let conn = self.connections.remove(index);
            // Whatever the server wrote last (an Error, a GoAway) reaches the client first.
            let client = &mut self.clients[conn.client].session;
            for (_, bytes) in conn.to_client.chunks {
                let _ = client.handle_input(now, &bytes);
            }
            client.handle_transport_closed(now);
        }
        !finished.is_empty()
    }

    /// Sends GoAway on every connection (a server shutting down).
    pub fn go_away_all(&mut self, reason: wire::GoAwayReason) {
        for conn in &mut self.connections {
            conn.session.go_away(reason, "test", Duration::from_millis(100));
        }
    }

    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }
}

/// Everything a session wants to write, as transport chunks: one chunk of concatenated
/// frames on a stream, one chunk per frame (a WebSocket message) on a message transport.
fn drain(framing: Framing, mut poll: impl FnMut(&mut Vec<u8>) -> usize) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut buf = Vec::new();
    while poll(&mut buf) > 0 {
        if framing == Framing::Message {
            chunks.push(std::mem::take(&mut buf));
        }
    }
    if !buf.is_empty() {
        chunks.push(buf);
    }
    chunks
}

/// Every frame `session` wants to write now, decoded as the client would.
pub fn written(session: &mut ServerSession, decoder: &mut cim_core::FrameDecoder) -> Vec<wire::frame::Body> {
    let mut bytes = Vec::new();
    while session.poll_transmit(&mut bytes) > 0 {}
    let mut out = Vec::new();
    decoder.decode(&bytes, &mut out).expect("the server writes valid frames");
    out
}

/// Bodies of received messages, as text.
pub fn texts(messages: &[wire::Deliver]) -> Vec<String> {
    messages.iter().map(|d| String::from_utf8_lossy(&d.body).into_owned()).collect()
}
