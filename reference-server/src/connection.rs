//! One client connection past the transport: the `ServerSession` and the server's side of
//! every event it raises (handshake, messages, acks), whatever the transport.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cim_backend::messaging::{MessagePath, Outgoing, accept_and_push_all, answer_oversized};
use cim_backend::{SessionRecord, StoreError, now_ms, random_bytes};
use cim_core::server::{
    HelloInfo, InboxRead, InboxRequest, ServerEvent, ServerSession, WelcomeInfo, decide_resume,
};
use cim_core::wire::{self, GoAwayReason};
use cim_core::{ErrorCode, Rejection, defaults};

use crate::hub::{HubCommand, LiveSession};
use crate::metrics::Metrics;
use crate::{Context, OverLimit};

/// Sends of one connection stored together at most: the default in-flight limit
/// (spec Appendix A).
const MAX_SENDS_TOGETHER: usize = defaults::MAX_IN_FLIGHT as usize;

/// I/O glue around a `ServerSession`: the core decides what to deliver, when to read the
/// inbox and when to record acknowledgements; this answers its events from the store, the
/// hub and the message path, and keeps the server's metrics.
pub(crate) struct Connection {
    ctx: Arc<Context>,
    pub(crate) session: ServerSession,
    /// The session, once the handshake passed; shared with the hub.
    identity: Option<Arc<LiveSession>>,
    /// Whether to take the hub's commands: until the session is open, or the queue overflowed.
    pub(crate) listening: bool,
    /// The session's delivery and ack counters as last added to the metrics.
    reported: (u64, u64),
}

impl Connection {
    pub(crate) fn new(ctx: Arc<Context>, now: Instant) -> Self {
        ctx.metrics.connections.fetch_add(1, Ordering::Relaxed);
        Metrics::add(&ctx.metrics.connections_total, 1);
        Self {
            session: ServerSession::new(ctx.session_config.clone(), now),
            ctx,
            identity: None,
            listening: false,
            reported: (0, 0),
        }
    }

    /// How long the peer may take to accept our bytes before it is dropped.
    pub(crate) fn write_timeout(&self) -> Duration {
        Duration::from_secs(self.ctx.options.write_timeout_secs)
    }

    /// The hub's side of this session, while its commands are wanted.
    pub(crate) fn hub_session(&self) -> Option<&LiveSession> {
        self.identity.as_deref().filter(|_| self.listening)
    }

    /// Handles `first` and every later event the session raised, in order.
    pub(crate) async fn process_events(&mut self, first: ServerEvent) {
        let mut next = Some(first);
        while let Some(event) = next.take().or_else(|| self.session.poll_event()) {
            match event {
                ServerEvent::HelloVerified(hello) => self.on_hello(hello).await,
                ServerEvent::Send(send) => {
                    // The Sends that arrived together are stored together, in order: one
                    // store batch and one write of their SendAcks instead of one each.
                    let mut sends = vec![send];
                    while sends.len() < MAX_SENDS_TOGETHER {
                        match self.session.poll_event() {
                            Some(ServerEvent::Send(send)) => sends.push(send),
                            other => {
                                next = other;
                                break;
                            }
                        }
                    }
                    self.on_sends(sends).await;
                }
                ServerEvent::SendTooLarge { client_msg_id, to_everyone, detail } => {
                    self.on_send_too_large(client_msg_id, to_everyone, detail).await;
                }
                ServerEvent::ReadInbox(request) => {
                    let read = self.read_inbox(request).await;
                    self.session.handle_inbox_read(read);
                }
                ServerEvent::RecordAck { up_to_seq } => self.record_ack(up_to_seq).await,
                _ => {}
            }
        }
    }

    /// Adds what the session delivered and was acknowledged since the last call to the metrics.
    pub(crate) fn report_metrics(&mut self) {
        let now = (self.session.deliveries(), self.session.acks_received());
        Metrics::add(&self.ctx.metrics.deliveries, now.0 - self.reported.0);
        Metrics::add(&self.ctx.metrics.acks, now.1 - self.reported.1);
        self.reported = now;
    }

    /// Bytes from the transport (one stream chunk, or one WebSocket message).
    pub(crate) fn input(&mut self, now: Instant, bytes: &[u8]) {
        let before = self.session.frames_received();
        let had_failed = self.session.error().is_some();
        // A protocol error is answered by the session itself (an Error frame, then close);
        // here it is only counted, once.
        if let Err(cim_core::ConnectionError::Local { code, .. }) = self.session.handle_input(now, bytes)
            && !had_failed
        {
            self.ctx.metrics.error(code);
        }
        Metrics::add(&self.ctx.metrics.frames_in, self.session.frames_received() - before);
    }

    /// A command from the hub.
    pub(crate) fn on_command(&mut self, command: HubCommand) {
        match command {
            HubCommand::Deliver(deliver) => self.session.handle_push(Instant::now(), deliver),
            HubCommand::GoAway(reason, message) => {
                let spread = Duration::from_millis(u64::from(random_bytes::<2>()[0]) * 8);
                self.session.go_away(reason, message, spread);
            }
        }
    }

    /// The hub could not post to this session: it does not read fast enough.
    pub(crate) fn on_overflow(&mut self) {
        self.listening = false;
        self.fail(ErrorCode::SLOW_CONSUMER, "the session's send queue overflowed");
    }

    /// The server is shutting down: GoAway, with reconnects spread over two seconds.
    pub(crate) fn on_shutdown(&mut self) {
        if self.session.is_open() {
            let spread = Duration::from_millis(u64::from(u16::from_le_bytes(random_bytes::<2>())) % 2000);
            self.session.go_away(GoAwayReason::Shutdown, "server shutting down", spread);
        } else if self.identity.is_none() {
            self.fail(ErrorCode::SHUTTING_DOWN, "server shutting down");
        }
    }

    /// A WebSocket text message: not a frame (CIM-3.2-2).
    pub(crate) fn reject_text_message(&mut self) {
        self.fail(ErrorCode::MALFORMED_FRAME, "text messages are not frames; send binary messages");
    }

    pub(crate) fn reject_oversized_message(&mut self) {
        let max = self.ctx.session_config.limits.max_frame_size;
        self.fail(
            ErrorCode::FRAME_TOO_LARGE,
            &format!("a WebSocket message far over the frame limit of {max} bytes"),
        );
    }

    fn fail(&mut self, code: ErrorCode, message: &str) {
        self.ctx.metrics.error(code);
        self.session.reject(code, message);
    }

    /// Answers the session's inbox read from the store.
    async fn read_inbox(&self, request: InboxRequest) -> InboxRead {
        let Some(id) = &self.identity else { return InboxRead::Failed("no session".into()) };
        let store = &self.ctx.store;
        if let Some(epoch) = request.check_epoch {
            match store.inbox.inbox_head(&id.user_id).await {
                Ok(head) if head.epoch != epoch => return InboxRead::EpochChanged,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "inbox check failed; closing the session so it resumes later");
                    return InboxRead::Failed(e.to_string());
                }
            }
        }
        match store.inbox.read_inbox(&id.user_id, request.from_seq, request.limit).await {
            Ok(entries) => InboxRead::Entries(entries),
            Err(e) => {
                tracing::warn!(error = %e, "inbox read failed; closing the session so it resumes later");
                InboxRead::Failed(e.to_string())
            }
        }
    }

    async fn on_hello(&mut self, hello: HelloInfo) {
        if let Err(Rejection { code, message, .. }) = self.admit(&hello).await {
            self.fail(code, &message);
        }
    }

    /// Checks the login, the device limit and the resume point, then welcomes (spec §4.3-7).
    async fn admit(&mut self, hello: &HelloInfo) -> Result<(), Rejection> {
        let ctx = self.ctx.clone();
        let store = &ctx.store;
        let unavailable =
            |e: StoreError| Rejection::new(ErrorCode::UNAVAILABLE, format!("store unavailable: {e}"));
        if ctx.is_draining() {
            return Err(Rejection::new(ErrorCode::SHUTTING_DOWN, "server shutting down"));
        }
        if let Some(login) = &hello.login_id
            && store.accounts.is_login_ended(login).await.map_err(unavailable)?
        {
            return Err(Rejection::new(ErrorCode::UNAUTHENTICATED, "this login has ended"));
        }
        // The token's account may be gone (a store that lost its data) or created again by
        // someone else since: neither may be entered with it (CIM-5.2-10).
        let account = store.accounts.user(&hello.user_id).await.map_err(unavailable)?;
        if !cim_backend::token_names_account(hello.account_generation, account.as_ref()) {
            return Err(Rejection::new(
                ErrorCode::UNAUTHENTICATED,
                "the account of this token no longer exists",
            ));
        }
        if let (Some(account), Some(issued_at)) = (&account, hello.issued_at_ms)
            && account.logged_out_since(issued_at)
        {
            return Err(Rejection::new(
                ErrorCode::UNAUTHENTICATED,
                "this login ended with a Logout of all devices",
            ));
        }
        let head = store.inbox.inbox_head(&hello.user_id).await.map_err(unavailable)?;
        let resume = decide_resume(hello.resume.as_ref(), &head)?;
        self.make_room(hello).await?;

        let session_id = hex(&random_bytes::<12>());
        let connected_at_ms = now_ms();
        let session = Arc::new(LiveSession::new(
            hello.user_id.clone(),
            hello.device_id.clone(),
            session_id.clone(),
            connected_at_ms,
        ));
        // Join the hub before reading the inbox, so no entry falls between replay and pushes.
        ctx.hub.add(session.clone());
        self.identity = Some(session);
        self.listening = true;
        let record = SessionRecord {
            session_id: session_id.clone(),
            user_id: hello.user_id.clone(),
            device_id: hello.device_id.clone(),
            server_id: ctx.server_id.clone(),
            connected_at_ms,
            expires_at_ms: connected_at_ms + cim_backend::PRESENCE_TTL.as_millis() as u64,
        };
        store.presence.add_session(record).await.map_err(unavailable)?;
        // The resume point acknowledges what precedes it (CIM-8.4-10) and makes the device known.
        store
            .inbox
            .ack_inbox(&hello.user_id, &hello.device_id, resume.next_seq - 1)
            .await
            .map_err(unavailable)?;
        let info = WelcomeInfo {
            session_id,
            resume: wire::ResumeResult {
                outcome: resume.outcome as i32,
                epoch: head.epoch,
                next_seq: resume.next_seq,
            },
            server_id: ctx.server_id.clone(),
            server_time_ms: now_ms(),
        };
        self.session
            .welcome(Instant::now(), info)
            .map_err(|e| Rejection::new(ErrorCode::INTERNAL, e.to_string()))?;
        ctx.metrics.sessions.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(user = %hello.user_id, device = %hello.device_id, ?resume, "session open");
        Ok(())
    }

    /// Enforces one session per device and the per-user limit (spec §9.3).
    async fn make_room(&self, hello: &HelloInfo) -> Result<(), Rejection> {
        let ctx = &self.ctx;
        let sessions = ctx
            .store
            .presence
            .sessions_of(&hello.user_id)
            .await
            .map_err(|e| Rejection::new(ErrorCode::UNAVAILABLE, format!("store unavailable: {e}")))?;
        let mut others = Vec::new();
        for session in sessions {
            if session.device_id == hello.device_id {
                ctx.fanout
                    .end_sessions(&hello.user_id, Some(&session.session_id), GoAwayReason::SessionReplaced)
                    .await;
                let _ = ctx.store.presence.remove_session(&hello.user_id, &session.session_id).await;
            } else {
                others.push(session);
            }
        }
        let max = ctx.options.max_sessions_per_user.max(1);
        if others.len() < max {
            return Ok(());
        }
        match ctx.options.over_limit {
            OverLimit::Reject => Err(Rejection::new(
                ErrorCode::TOO_MANY_SESSIONS,
                format!("{} sessions already; the limit is {max}", others.len()),
            )),
            OverLimit::KickOldest => {
                for oldest in &others[..=others.len() - max] {
                    ctx.fanout
                        .end_sessions(&hello.user_id, Some(&oldest.session_id), GoAwayReason::SessionReplaced)
                        .await;
                    let _ = ctx.store.presence.remove_session(&hello.user_id, &oldest.session_id).await;
                }
                Ok(())
            }
        }
    }

    async fn on_sends(&mut self, sends: Vec<wire::Send>) {
        let started = Instant::now();
        let Some(id) = &self.identity else { return };
        let client_msg_ids: Vec<String> = sends.iter().map(|send| send.client_msg_id.clone()).collect();
        let messages = sends
            .into_iter()
            .map(|send| Outgoing {
                sender: id.user_id.clone(),
                client_msg_id: send.client_msg_id,
                to: send.to.unwrap_or_default(),
                content_type: send.content_type,
                body: send.body,
            })
            .collect();
        let ctx = &self.ctx;
        let path = MessagePath {
            store: &ctx.store,
            fanout: Some(ctx.fanout.as_ref()),
            ids: &ctx.message_ids,
            known_users: &ctx.known_users,
        };
        let results = accept_and_push_all(path, messages, Some(&id.session_id)).await;
        for (client_msg_id, result) in client_msg_ids.into_iter().zip(results) {
            self.answer_send(started, client_msg_id, result);
        }
    }

    /// A Send over the body limit: a duplicate if it was accepted before, refused otherwise.
    async fn on_send_too_large(&mut self, client_msg_id: String, to_everyone: bool, detail: String) {
        let started = Instant::now();
        let Some(id) = &self.identity else { return };
        let store = &self.ctx.store;
        let result = answer_oversized(store, &id.user_id, &client_msg_id, to_everyone, detail).await;
        self.answer_send(started, client_msg_id, result);
    }

    fn answer_send(
        &mut self,
        started: Instant,
        client_msg_id: String,
        result: Result<wire::SendAck, Rejection>,
    ) {
        let metrics = &self.ctx.metrics;
        metrics.send_to_ack.observe(started.elapsed());
        match result {
            Ok(ack) => {
                let counter =
                    if ack.duplicate { &metrics.messages_duplicate } else { &metrics.messages_accepted };
                Metrics::add(counter, 1);
                self.session.ack_send(ack);
            }
            Err(Rejection { code, message, retry_after }) => {
                metrics.error(code);
                self.session.reject_send(client_msg_id, code, message, retry_after);
            }
        }
    }

    /// Records how far the device acknowledged its inbox.
    async fn record_ack(&self, up_to_seq: u64) {
        let Some(id) = &self.identity else { return };
        if let Err(e) = self.ctx.store.inbox.ack_inbox(&id.user_id, &id.device_id, up_to_seq).await {
            tracing::warn!(user = %id.user_id, error = %e, "could not record an inbox ack");
        }
    }

    /// Forgets the session in the hub and the store. Call once, when the connection ends.
    pub(crate) async fn finish(&mut self) {
        self.ctx.metrics.connections.fetch_sub(1, Ordering::Relaxed);
        if let Some(error) = self.session.error()
            && let Some(code) = error.code()
        {
            tracing::debug!(%error, code = code.0, "connection ended with an error");
        }
        // Closing raises the acknowledgement not yet recorded, if any.
        self.session.handle_transport_closed();
        while let Some(event) = self.session.poll_event() {
            if let ServerEvent::RecordAck { up_to_seq } = event {
                self.record_ack(up_to_seq).await;
            }
        }
        self.report_metrics();
        let Some(id) = self.identity.take() else { return };
        self.ctx.metrics.sessions.fetch_sub(1, Ordering::Relaxed);
        self.ctx.hub.remove(&id.user_id, &id.session_id);
        if let Err(e) = self.ctx.store.presence.remove_session(&id.user_id, &id.session_id).await {
            tracing::warn!(user = %id.user_id, error = %e, "could not remove the session from presence");
        }
    }
}

/// Limits every connection is held to, checked against the protocol's bounds.
pub(crate) fn check_limits(limits: &cim_core::server::ServerLimits) -> anyhow::Result<()> {
    limits.validate()?;
    if limits.max_frame_size < defaults::MAX_FRAME_SIZE {
        anyhow::bail!("max frame size must be at least {}", defaults::MAX_FRAME_SIZE);
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
