//! [`Client`]: a logged-in user, and the task that drives its `ClientSession`.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cim_core::client::{
    ClientConfig, ClientEvent, ClientSession, CloseReason, ConnectionState, Delivery, SendError,
};
use cim_core::wire::{self, ResumeOutcome, recipient};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::driver::{Driver, Flow, Host, LoginFuture};
use crate::link::Transport;
use crate::route::{Credentials, GroupInfo, Login, OnlinePage, RouteClient, UserInfo};
use crate::{Discontinuity, Error, Event, Message, Target};

/// How a client connects.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// This installation's stable id; each device has its own inbox position.
    pub device_id: String,
    /// TCP or WebSocket.
    pub transport: Transport,
    /// Where to resume the inbox, from [`Client::status`] of an earlier run.
    pub resume: Option<wire::ResumePoint>,
    /// Heartbeat interval to ask the server for.
    pub heartbeat_interval: Option<Duration>,
    /// How long [`Client::login`] waits for the first connection.
    pub connect_timeout: Duration,
    /// Certificates to trust for TLS besides the web's root CAs (a private CA, a test
    /// certificate).
    pub extra_roots: Vec<rustls_pki_types::CertificateDer<'static>>,
}

impl ClientOptions {
    /// Defaults for `device_id`: TCP, no resume point, server-chosen heartbeats.
    pub fn new(device_id: impl Into<String>) -> Self {
        Self {
            device_id: device_id.into(),
            transport: Transport::Tcp,
            resume: None,
            heartbeat_interval: None,
            connect_timeout: Duration::from_secs(15),
            extra_roots: Vec::new(),
        }
    }

    /// Also trusts the certificates of a PEM file (a private CA or a self-signed server).
    pub fn trust_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        use rustls_pki_types::pem::PemObject;
        for certificate in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
            self.extra_roots
                .push(certificate.map_err(|e| Error::InvalidInput(format!("bad PEM certificate: {e}")))?);
        }
        Ok(self)
    }

    /// Uses `transport`.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Resumes from `point`.
    pub fn resume(mut self, point: Option<wire::ResumePoint>) -> Self {
        self.resume = point;
        self
    }
}

/// The client's state, for display and for storing the resume point.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Connection state.
    pub state: ConnectionState,
    /// The user.
    pub user_id: String,
    /// The current session's id, once connected.
    pub session_id: String,
    /// The server, once connected.
    pub server_id: String,
    /// Where this device is in its inbox: store it to resume after a restart.
    pub resume: Option<wire::ResumePoint>,
    /// Round-trip time of the last heartbeat.
    pub rtt: Option<Duration>,
    /// The transport in use.
    pub transport: Transport,
}

enum ClientCommand {
    Send {
        to: wire::Recipient,
        content_type: String,
        body: Bytes,
        reply: oneshot::Sender<Result<wire::SendAck, Error>>,
    },
    /// The application took the message of this delivery (see [`Events::next`]).
    Processed(Delivery),
    Close,
}

/// Events waiting for the application at most; past it, the client stops reading from its
/// server until the application catches up (the server then holds, or drops the connection
/// of, a reader that slow: spec §10.4).
const EVENT_QUEUE: usize = 1024;

/// An event on its way to the application, with the inbox entry it hands over, if any.
type Queued = (Event, Option<Delivery>);

/// A user logged in to cim: sends messages and receives events, reconnecting and resuming
/// its inbox by itself until [`close`](Self::close).
///
/// [`split`](Self::split) divides it into a [`ClientSender`] that any number of tasks share
/// and the [`Events`] that one task reads: what bindings to other languages build on.
pub struct Client {
    sender: ClientSender,
    events: Events,
}

/// The sending half of a [`Client`]: cheap to clone, usable from any task. The client closes
/// when [`close`](Self::close) is called, or when the last sender and the events are dropped.
#[derive(Clone)]
pub struct ClientSender {
    shared: std::sync::Arc<Shared>,
}

/// The events of a [`Client`], in order.
///
/// A message counts as processed, for the acknowledgement to the server and the resume point,
/// when [`next`](Self::next) (or [`try_next`](Self::try_next)) hands it over, not when it
/// arrives: a process that ends before it took a message gets it again after a restart with
/// its resume point (spec CIM-8.3-1).
pub struct Events {
    /// Events that arrived while [`Client::login`] waited for the session, not yet read.
    early: VecDeque<Queued>,
    events: mpsc::Receiver<Queued>,
    /// Keeps the client running while only the events are held; takes the acknowledgements.
    shared: std::sync::Arc<Shared>,
}

struct Shared {
    commands: mpsc::UnboundedSender<ClientCommand>,
    status: watch::Receiver<Status>,
    route: RouteClient,
    token: watch::Receiver<String>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = self.commands.send(ClientCommand::Close);
    }
}

impl Client {
    /// Logs in at the route at `route_url`, connects to the assigned server and waits for
    /// the session to be up.
    pub async fn login(
        route_url: &str,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<Self, Error> {
        let route = RouteClient::new(route_url)?;
        let tls =
            crate::link::tls_config(&options.extra_roots).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let login = route.login(&credentials, &options.device_id).await?;
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).map_err(|e| Error::InvalidInput(format!("no OS randomness: {e}")))?;
        let mut config = ClientConfig::new(
            options.device_id.clone(),
            options.transport.framing(),
            u64::from_le_bytes(seed),
        );
        config.client_name = concat!("cim-sdk-rust/", env!("CARGO_PKG_VERSION")).to_owned();
        config.resume = options.resume;
        config.heartbeat_interval = options.heartbeat_interval;
        let status = Status {
            state: ConnectionState::Idle,
            user_id: login.user_id.clone(),
            session_id: String::new(),
            server_id: String::new(),
            resume: options.resume,
            rtt: None,
            transport: options.transport,
        };
        let (status_tx, status) = watch::channel(status);
        let (token_tx, token) = watch::channel(login.token.clone());
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, mut events) = mpsc::channel(EVENT_QUEUE);
        let host = ClientHost {
            route: route.clone(),
            credentials,
            options: options.clone(),
            first_login: Some(login),
            commands: command_rx,
            pending: HashMap::new(),
            events: event_tx,
            backlog: VecDeque::new(),
            status: status_tx,
            token: token_tx,
        };
        let driver = Driver::with_tls(ClientSession::new(config), host, tls);
        let task = tokio::spawn(async move { driver.run().await.0.finish() });
        // Wait for the first Welcome (or a failure), keeping the events for the caller.
        let mut early = Vec::new();
        let outcome = tokio::time::timeout(options.connect_timeout, async {
            while let Some(queued) = events.recv().await {
                let done = match &queued.0 {
                    Event::Connected { .. } => Some(Ok(())),
                    Event::Closed { reason, .. } => Some(Err(Error::Closed(reason.clone()))),
                    _ => None,
                };
                early.push(queued);
                if let Some(done) = done {
                    return done;
                }
            }
            Err(Error::Closed("the client stopped".into()))
        })
        .await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                task.abort();
                return Err(Error::Timeout(format!("no session within {:?}", options.connect_timeout)));
            }
        }
        let shared = std::sync::Arc::new(Shared {
            commands,
            status,
            route,
            token,
            task: std::sync::Mutex::new(Some(task)),
        });
        Ok(Self {
            sender: ClientSender { shared: shared.clone() },
            events: Events { early: early.into(), events, shared },
        })
    }

    /// Divides the client into a sender to share between tasks and the events to read.
    pub fn split(self) -> (ClientSender, Events) {
        (self.sender, self.events)
    }

    /// The sending half, for a task that sends while this one reads events.
    pub fn sender(&self) -> ClientSender {
        self.sender.clone()
    }

    /// The next event; `None` once the client is closed and every event was read.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.next().await
    }

    /// The events as a stream (ends when the client is closed).
    pub fn events(&mut self) -> impl futures_util::Stream<Item = Event> + '_ {
        futures_util::stream::unfold(&mut self.events, |events| async move {
            events.next().await.map(|e| (e, events))
        })
    }

    /// The next event if one is waiting.
    pub fn try_next_event(&mut self) -> Option<Event> {
        self.events.try_next()
    }

    /// How many events wait to be taken.
    pub fn events_waiting(&self) -> usize {
        self.events.waiting()
    }

    /// Closes the connection and stops reconnecting. Unanswered sends fail with `Closed`.
    pub async fn close(self) {
        self.sender.close().await;
    }
}

/// A client is its sender plus its events: every call of [`ClientSender`] (sending, the
/// status, users and groups) is a call of the client.
impl std::ops::Deref for Client {
    type Target = ClientSender;

    fn deref(&self) -> &ClientSender {
        &self.sender
    }
}

impl ClientSender {
    /// The logged-in user's id.
    pub fn user_id(&self) -> String {
        self.shared.status.borrow().user_id.clone()
    }

    /// The client's current state.
    pub fn status(&self) -> Status {
        self.shared.status.borrow().clone()
    }

    /// The route this client logged in at, and the current token for its calls.
    fn route(&self) -> (&RouteClient, String) {
        (&self.shared.route, self.shared.token.borrow().clone())
    }

    /// The id of the one user named `user_name` (see [`RouteClient::user_id_of`]): send to
    /// users by id, never by name.
    pub async fn user_id_of(&self, user_name: &str) -> Result<String, Error> {
        let (route, token) = self.route();
        route.user_id_of(&token, user_name).await
    }

    /// Users whose name is exactly `user_name`: several when JWT accounts share a name.
    pub async fn users_by_name(&self, user_name: &str) -> Result<Vec<UserInfo>, Error> {
        let (route, token) = self.route();
        route.users_by_name(&token, user_name).await
    }

    /// Users whose name starts with `prefix`, at most `limit` (0: the route's default).
    pub async fn users_by_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<UserInfo>, Error> {
        let (route, token) = self.route();
        route.users_by_prefix(&token, prefix, limit).await
    }

    /// One page of online users; pass `""` for the first (see [`RouteClient::online_users`]).
    pub async fn online_users(&self, page_token: &str, page_size: u32) -> Result<OnlinePage, Error> {
        let (route, token) = self.route();
        route.online_users(&token, page_token, page_size).await
    }

    /// Every online user, following the pages to the end.
    pub async fn all_online_users(&self, page_size: u32) -> Result<Vec<UserInfo>, Error> {
        let (route, token) = self.route();
        route.all_online_users(&token, page_size).await
    }

    /// Creates a group with this user as its only member; others join it themselves.
    pub async fn create_group(&self, group_id: &str) -> Result<GroupInfo, Error> {
        let (route, token) = self.route();
        route.create_group(&token, group_id, &[]).await
    }

    /// Joins a group.
    pub async fn join_group(&self, group_id: &str) -> Result<GroupInfo, Error> {
        let (route, token) = self.route();
        route.join_group(&token, group_id).await
    }

    /// Leaves a group.
    pub async fn leave_group(&self, group_id: &str) -> Result<GroupInfo, Error> {
        let (route, token) = self.route();
        route.leave_group(&token, group_id).await
    }

    /// Members of a group this user belongs to.
    pub async fn group_members(&self, group_id: &str) -> Result<Vec<UserInfo>, Error> {
        let (route, token) = self.route();
        route.group_members(&token, group_id).await
    }

    /// This user's groups.
    pub async fn my_groups(&self) -> Result<Vec<GroupInfo>, Error> {
        let (route, token) = self.route();
        route.my_groups(&token).await
    }

    /// Ends this login at the route (every device's with `all_devices`); the sessions it
    /// ended are told with GoAway and the client closes.
    pub async fn logout(&self, all_devices: bool) -> Result<(), Error> {
        let (route, token) = self.route();
        route.logout(&token, all_devices).await
    }

    /// Sends a text message to one user and waits until the server has stored it.
    pub async fn send_to_user(&self, user_id: &str, text: &str) -> Result<wire::SendAck, Error> {
        self.send(Target::User(user_id.to_owned()), "text/plain", Bytes::copy_from_slice(text.as_bytes()))
            .await
    }

    /// Sends a text message to a group.
    pub async fn send_to_group(&self, group_id: &str, text: &str) -> Result<wire::SendAck, Error> {
        self.send(Target::Group(group_id.to_owned()), "text/plain", Bytes::copy_from_slice(text.as_bytes()))
            .await
    }

    /// Sends a text message to everyone online: live only, never stored.
    pub async fn broadcast(&self, text: &str) -> Result<wire::SendAck, Error> {
        self.send(Target::Everyone, "text/plain", Bytes::copy_from_slice(text.as_bytes())).await
    }

    /// Sends any body. Resolves once the server has stored the message in every recipient's
    /// inbox (or, for a broadcast, handed it to the live sessions); a message sent while the
    /// connection is down goes out after the reconnect.
    pub async fn send(&self, to: Target, content_type: &str, body: Bytes) -> Result<wire::SendAck, Error> {
        self.start_send(to, content_type, body).await
    }

    /// Queues a message now and returns its acknowledgement as a future that does not borrow
    /// the client: an interactive client keeps reading events (with `&mut self`) while its
    /// sends are in flight. Messages queued in turn are sent in that order.
    pub fn start_send(
        &self,
        to: Target,
        content_type: &str,
        body: Bytes,
    ) -> impl Future<Output = Result<wire::SendAck, Error>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let command = ClientCommand::Send {
            to: to.into_recipient(),
            content_type: content_type.to_owned(),
            body,
            reply,
        };
        let queued = self.shared.commands.send(command).map_err(|_| Error::Closed("client closed".into()));
        async move {
            queued?;
            answer.await.map_err(|_| Error::Closed("client closed".into()))?
        }
    }

    /// Closes the connection and stops reconnecting. Unanswered sends fail with `Closed`;
    /// the events end after `Closed`. Waits up to 5 s for the client to finish.
    pub async fn close(&self) {
        let _ = self.shared.commands.send(ClientCommand::Close);
        let task = self.shared.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(mut task) = task {
            let _ = tokio::time::timeout(Duration::from_secs(5), &mut task).await;
        }
    }
}

impl Events {
    /// The next event; `None` once the client is closed and every event was read. A message
    /// handed over here counts as processed.
    pub async fn next(&mut self) -> Option<Event> {
        let queued = match self.early.pop_front() {
            Some(queued) => queued,
            None => self.events.recv().await?,
        };
        Some(self.take(queued))
    }

    /// The next event if one is waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        let queued = self.early.pop_front().or_else(|| self.events.try_recv().ok())?;
        Some(self.take(queued))
    }

    /// How many events wait to be taken.
    pub fn waiting(&self) -> usize {
        self.early.len() + self.events.len()
    }

    /// Hands an event to the application, acknowledging the message it carries.
    fn take(&self, (event, delivery): Queued) -> Event {
        if let Some(delivery) = delivery {
            let _ = self.shared.commands.send(ClientCommand::Processed(delivery));
        }
        event
    }
}

/// What the application's side of a [`Client`] gives the driver loop.
enum Input {
    Command(Option<ClientCommand>),
    /// Room in the event queue for the oldest backlogged event (`None`: nobody reads them).
    Room(Option<mpsc::OwnedPermit<Queued>>),
}

/// The host behind a [`Client`]: logs in again when the session asks, queues events for the
/// application, answers sends, publishes the status.
struct ClientHost {
    route: RouteClient,
    credentials: Credentials,
    options: ClientOptions,
    /// The login done by [`Client::login`], used for the session's first login request.
    first_login: Option<Login>,
    commands: mpsc::UnboundedReceiver<ClientCommand>,
    pending: HashMap<String, oneshot::Sender<Result<wire::SendAck, Error>>>,
    events: mpsc::Sender<Queued>,
    /// Events the queue had no room for: while any wait, nothing more is read from the server.
    backlog: VecDeque<Queued>,
    status: watch::Sender<Status>,
    token: watch::Sender<String>,
}

/// A token as logs may show it (spec CIM-5.4-1): its first characters and its length.
fn token_hint(token: &str) -> String {
    let prefix: String = token.chars().take(6).collect();
    format!("{prefix}…({} bytes)", token.len())
}

impl Host for ClientHost {
    type Input = Input;

    fn login(&mut self) -> LoginFuture {
        let transport = self.options.transport;
        if let Some(login) = self.first_login.take() {
            return Box::pin(std::future::ready(crate::driver::grant(&login, transport)));
        }
        let route = self.route.clone();
        let credentials = self.credentials.clone();
        let device = self.options.device_id.clone();
        let token = self.token.clone();
        Box::pin(async move {
            let (login, grant) = crate::driver::log_in(&route, &credentials, &device, transport).await?;
            tracing::debug!(
                user_id = %login.user_id,
                server = %login.server.server_id,
                token = %token_hint(&login.token),
                "logged in again at the route"
            );
            token.send_replace(login.token);
            Ok(grant)
        })
    }

    fn input(&mut self) -> impl Future<Output = Input> + Send + '_ {
        // Room in the queue, looked for only while a backlog waits for it.
        let events = (!self.backlog.is_empty()).then(|| self.events.clone());
        let commands = &mut self.commands;
        async move {
            match events {
                Some(events) => tokio::select! {
                    command = commands.recv() => Input::Command(command),
                    room = events.reserve_owned() => Input::Room(room.ok()),
                },
                None => Input::Command(commands.recv().await),
            }
        }
    }

    fn on_input(&mut self, now: Instant, input: Input, session: &mut ClientSession) -> Flow {
        match input {
            Input::Command(Some(ClientCommand::Send { to, content_type, body, reply })) => {
                self.send(session, to, content_type, body, reply);
            }
            Input::Command(Some(ClientCommand::Processed(delivery))) => session.processed(delivery),
            Input::Command(Some(ClientCommand::Close) | None) => session.close(now),
            Input::Room(room) => match (room, self.backlog.pop_front()) {
                (Some(permit), Some(queued)) => {
                    permit.send(queued);
                }
                // Nobody reads the events any more.
                _ => self.backlog.clear(),
            },
        }
        Flow::Continue
    }

    fn holds_reads(&self) -> bool {
        !self.backlog.is_empty()
    }

    fn idle(&mut self, session: &ClientSession) {
        let state = session.state();
        let resume = session.resume_point();
        let rtt = session.rtt();
        self.status.send_if_modified(|s| {
            let changed = s.state != state || s.resume != resume || s.rtt != rtt;
            s.state = state;
            s.resume = resume;
            s.rtt = rtt;
            changed
        });
    }

    /// Not processed here: a message is processed when the application takes it.
    fn on_event(
        &mut self,
        _now: Instant,
        event: ClientEvent,
        delivery: Option<Delivery>,
        _: &mut ClientSession,
    ) {
        tracing::trace!(?event, "session event");
        let event = match event {
            ClientEvent::Connected { session_id, server_id, resume, .. } => {
                self.status.send_modify(|s| {
                    s.session_id = session_id.clone();
                    s.server_id = server_id.clone();
                });
                Event::Connected { session_id, server_id, resume }
            }
            ClientEvent::InboxDiscontinuity { outcome, epoch } => {
                let outcome = match outcome {
                    ResumeOutcome::EpochChanged => Discontinuity::EpochChanged,
                    _ => Discontinuity::Gap,
                };
                Event::InboxDiscontinuity { outcome, epoch }
            }
            ClientEvent::Message(deliver) => Event::Message(Message::from(deliver)),
            ClientEvent::Acked(ack) => {
                if let Some(reply) = self.pending.remove(&ack.client_msg_id) {
                    let _ = reply.send(Ok(ack));
                }
                return;
            }
            ClientEvent::SendFailed { client_msg_id, code, message } => {
                if let Some(reply) = self.pending.remove(&client_msg_id) {
                    let _ = reply.send(Err(Error::Rejected { code, message }));
                }
                return;
            }
            ClientEvent::Disconnected { error, retry_in } => {
                Event::Disconnected { reason: error.to_string(), code: error.code(), retry_in }
            }
            ClientEvent::Closed(reason) => {
                let code = match &reason {
                    CloseReason::Fatal(error) => error.code(),
                    _ => None,
                };
                Event::Closed { reason: describe_close(&reason), code }
            }
            _ => return,
        };
        self.enqueue((event, delivery));
    }
}

impl ClientHost {
    fn send(
        &mut self,
        session: &mut ClientSession,
        to: wire::Recipient,
        content_type: String,
        body: Bytes,
        reply: oneshot::Sender<Result<wire::SendAck, Error>>,
    ) {
        match session.send(Instant::now(), to, content_type, body) {
            Ok(id) => {
                self.pending.insert(id, reply);
            }
            Err(SendError::Closed) => {
                let _ = reply.send(Err(Error::Closed("client closed".into())));
            }
            Err(e) => {
                let _ = reply.send(Err(Error::Rejected { code: e.code(), message: e.to_string() }));
            }
        }
    }

    /// Queues an event for the application, behind any backlog.
    fn enqueue(&mut self, queued: Queued) {
        if !self.backlog.is_empty() {
            self.backlog.push_back(queued);
            return;
        }
        match self.events.try_send(queued) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(queued)) => self.backlog.push_back(queued),
            // Nobody reads the events any more: nothing to hand them to.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// The client stopped: sends still waiting for their acknowledgement fail.
    fn finish(mut self) {
        for (_, reply) in self.pending.drain() {
            let _ = reply.send(Err(Error::Closed("client closed".into())));
        }
    }
}

fn describe_close(reason: &CloseReason) -> String {
    match reason {
        CloseReason::Requested => "closed by the application".into(),
        CloseReason::LoginRejected { message } => format!("login refused: {message}"),
        CloseReason::GoAway { reason, message } if message.is_empty() => {
            format!("server ended the session ({})", reason.as_str_name())
        }
        CloseReason::GoAway { reason, message } => {
            format!("server ended the session ({}): {message}", reason.as_str_name())
        }
        CloseReason::Fatal(error) => format!("fatal error: {error}"),
        _ => "closed".into(),
    }
}

impl Target {
    fn into_recipient(self) -> wire::Recipient {
        let kind = match self {
            Self::User(user) => recipient::Kind::UserId(user),
            Self::Group(group) => recipient::Kind::GroupId(group),
            Self::Everyone => recipient::Kind::Everyone(wire::Everyone {}),
        };
        wire::Recipient { kind: Some(kind) }
    }
}

impl From<wire::Deliver> for Message {
    fn from(deliver: wire::Deliver) -> Self {
        let to = match deliver.to.and_then(|to| to.kind) {
            Some(recipient::Kind::GroupId(group)) => Target::Group(group),
            Some(recipient::Kind::Everyone(_)) => Target::Everyone,
            Some(recipient::Kind::UserId(user)) => Target::User(user),
            None => Target::User(String::new()),
        };
        Self {
            seq: deliver.seq,
            message_id: deliver.message_id,
            from: deliver.from_user_id,
            to,
            content_type: if deliver.content_type.is_empty() {
                "text/plain".into()
            } else {
                deliver.content_type
            },
            body: deliver.body,
            sent_at_ms: deliver.sent_at_ms,
        }
    }
}
