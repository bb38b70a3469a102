//! One client connection past the transport: the `ServerSession` and the server's side of
//! every event it raises (handshake, messages, acks), whatever the transport.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cim_backend::messaging::{MessagePath, Outgoing, Rejection, accept_and_push, answer_oversized};
use cim_backend::{SessionRecord, StoreError, now_ms, random_bytes};
use cim_core::server::{HelloInfo, ServerEvent, ServerSession, WelcomeInfo};
use cim_core::wire::{self, GoAwayReason, ResumeOutcome};
use cim_core::{ErrorCode, defaults};

use crate::hub::{Command, Session};
use crate::metrics::Metrics;
use crate::{Context, OverLimit};

/// Inbox entries read per catch-up step.
const CATCH_UP_PAGE: usize = 128;

/// Longest a DeliverAck waits before it is written to the store. A lost ack costs a
/// redelivery (which the client's dedupe absorbs), never a message.
const ACK_FLUSH_DELAY: Duration = Duration::from_millis(50);

pub(crate) struct Connection {
    ctx: Arc<Context>,
    pub(crate) session: ServerSession,
    /// The session, once the handshake passed; shared with the hub.
    identity: Option<Arc<Session>>,
    /// Seq of the next inbox entry this session must deliver.
    next_deliver: u64,
    /// Entries at or after `next_deliver` are in the store but not yet delivered.
    catching_up: bool,
    /// The inbox epoch the session was welcomed in.
    epoch: u64,
    /// Whether the next catch-up first checks that the inbox still has that epoch.
    check_epoch: bool,
    /// Whether to take the hub's commands: until the session is open, or the queue overflowed.
    pub(crate) listening: bool,
    /// When the inbox is read again even without a push: a push can be lost (a sender's
    /// cached route missed this new session, a server died mid-push), the inbox cannot.
    pub(crate) reread_at: Option<Instant>,
    /// The highest DeliverAck not yet written to the store, and when it will be.
    pending_ack: Option<u64>,
    pub(crate) ack_flush_at: Option<Instant>,
}

impl Connection {
    pub(crate) fn new(ctx: Arc<Context>, now: Instant) -> Self {
        ctx.metrics.connections.fetch_add(1, Ordering::Relaxed);
        Metrics::add(&ctx.metrics.connections_total, 1);
        Self {
            session: ServerSession::new(ctx.session_config.clone(), now),
            ctx,
            identity: None,
            next_deliver: 0,
            catching_up: false,
            epoch: 0,
            check_epoch: false,
            listening: false,
            reread_at: None,
            pending_ack: None,
            ack_flush_at: None,
        }
    }

    /// How long the peer may take to accept our bytes before it is dropped.
    pub(crate) fn write_timeout(&self) -> Duration {
        Duration::from_secs(self.ctx.options.write_timeout_secs)
    }

    /// The hub's side of this session, while its commands are wanted.
    pub(crate) fn hub_session(&self) -> Option<&Session> {
        self.identity.as_deref().filter(|_| self.listening)
    }

    /// Whether entries wait in the store and the session's queue is drained.
    pub(crate) fn wants_catch_up(&self) -> bool {
        self.catching_up && self.session.is_open()
    }

    /// Handles `first` and every later event the session raised, in order.
    pub(crate) async fn process_events(&mut self, first: ServerEvent) {
        let mut next = Some(first);
        while let Some(event) = next.take().or_else(|| self.session.poll_event()) {
            match event {
                ServerEvent::HelloVerified(hello) => self.on_hello(hello).await,
                ServerEvent::Send(send) => self.on_send(send).await,
                ServerEvent::SendTooLarge { client_msg_id, to_everyone, detail } => {
                    self.on_send_too_large(client_msg_id, to_everyone, detail).await;
                }
                ServerEvent::DeliverAck { up_to_seq } => {
                    Metrics::add(&self.ctx.metrics.acks, 1);
                    // Written to the store at most every ACK_FLUSH_DELAY (and when the
                    // connection ends): a busy receiver acks nearly every message, and each
                    // write is a store round trip.
                    self.pending_ack = Some(self.pending_ack.map_or(up_to_seq, |a| a.max(up_to_seq)));
                    self.ack_flush_at.get_or_insert_with(|| Instant::now() + ACK_FLUSH_DELAY);
                }
                _ => {}
            }
        }
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
    pub(crate) fn on_command(&mut self, command: Command) {
        match command {
            Command::Deliver(deliver) => self.on_push(deliver),
            Command::GoAway(reason, message) => {
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

    /// Time for the periodic inbox re-read: once after the welcome, then every heartbeat
    /// interval (CIM-15.2-4).
    pub(crate) fn on_reread(&mut self, now: Instant) {
        self.catching_up = true;
        self.check_epoch = true;
        self.reread_at = Some(now + Duration::from_secs(self.ctx.options.heartbeat_interval_secs.max(1)));
    }

    /// Delivers the next page of stored entries.
    pub(crate) async fn catch_up(&mut self) {
        let Some(id) = self.identity.clone() else { return };
        if std::mem::take(&mut self.check_epoch) {
            // An inbox the store lost (a Redis restarted empty) starts again in a new epoch;
            // its sessions learn of it by resuming (CIM-8.1-6), and a session whose account
            // went with it meets the account check of its next Hello.
            match self.ctx.store.inbox_head(&id.user_id).await {
                Ok(head) if head.epoch != self.epoch => {
                    self.fail(
                        ErrorCode::UNAVAILABLE,
                        "the inbox was lost and starts again; reconnect to resume",
                    );
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "inbox check failed; closing the session so it resumes later");
                    self.fail(ErrorCode::UNAVAILABLE, "inbox unavailable");
                    return;
                }
            }
        }
        match self.ctx.store.read_inbox(&id.user_id, self.next_deliver, CATCH_UP_PAGE).await {
            Ok(entries) => {
                // Entries this session was still to be sent left the inbox unread (they
                // passed the retention period): skipping them would hide the loss. The client
                // hears of it as a GAP when it resumes (CIM-8.3-12).
                if entries.first().is_some_and(|first| first.seq > self.next_deliver) {
                    self.fail(
                        ErrorCode::UNAVAILABLE,
                        "messages you had not received expired from your inbox; reconnect to resume",
                    );
                    return;
                }
                let full_page = entries.len() == CATCH_UP_PAGE;
                for entry in entries {
                    if entry.seq == self.next_deliver {
                        self.deliver(entry);
                    }
                }
                self.catching_up = full_page;
            }
            Err(e) => {
                tracing::warn!(error = %e, "inbox read failed; closing the session so it resumes later");
                self.fail(ErrorCode::UNAVAILABLE, "inbox unavailable");
            }
        }
    }

    fn on_push(&mut self, deliver: wire::Deliver) {
        if deliver.seq == 0 {
            // Live-only broadcast: no sequence to keep.
            if self.session.deliver(deliver).is_ok() {
                Metrics::add(&self.ctx.metrics.deliveries, 1);
            }
        } else if deliver.seq == self.next_deliver && !self.catching_up {
            self.deliver(deliver);
        } else if deliver.seq > self.next_deliver {
            // Something in between has not reached us as a push: the store has it.
            self.catching_up = true;
        }
    }

    fn deliver(&mut self, deliver: wire::Deliver) {
        let seq = deliver.seq;
        match self.session.deliver(deliver) {
            Ok(()) => {
                self.next_deliver = seq + 1;
                Metrics::add(&self.ctx.metrics.deliveries, 1);
            }
            Err(e) => tracing::warn!(seq, error = %e, "could not deliver an inbox entry"),
        }
    }

    async fn on_hello(&mut self, hello: HelloInfo) {
        match self.admit(&hello).await {
            Ok(()) => {}
            Err((code, message)) => self.fail(code, &message),
        }
    }

    /// Checks the login, the device limit and the resume point, then welcomes (spec §4.3-7).
    async fn admit(&mut self, hello: &HelloInfo) -> Result<(), (ErrorCode, String)> {
        let ctx = self.ctx.clone();
        let store = &ctx.store;
        let unavailable = |e: StoreError| (ErrorCode::UNAVAILABLE, format!("store unavailable: {e}"));
        if ctx.is_draining() {
            return Err((ErrorCode::SHUTTING_DOWN, "server shutting down".into()));
        }
        if let Some(login) = &hello.login_id
            && store.is_login_ended(login).await.map_err(unavailable)?
        {
            return Err((ErrorCode::UNAUTHENTICATED, "this login has ended".into()));
        }
        // The token's account may be gone (a store that lost its data) or created again by
        // someone else since: neither may be entered with it (CIM-5.2-10).
        let account = store.user(&hello.user_id).await.map_err(unavailable)?;
        if !cim_backend::token_names_account(hello.account_generation, account.as_ref()) {
            return Err((ErrorCode::UNAUTHENTICATED, "the account of this token no longer exists".into()));
        }
        if let (Some(account), Some(issued_at)) = (&account, hello.issued_at_ms)
            && account.logged_out_since(issued_at)
        {
            return Err((ErrorCode::UNAUTHENTICATED, "this login ended with a Logout of all devices".into()));
        }
        let head = store.inbox_head(&hello.user_id).await.map_err(unavailable)?;
        let (outcome, next_seq) = match hello.resume {
            None => (ResumeOutcome::Fresh, head.first_seq),
            Some(point) if point.epoch != head.epoch => (ResumeOutcome::EpochChanged, head.first_seq),
            Some(point) if point.last_acked_seq >= head.next_seq => {
                return Err((ErrorCode::INVALID_FIELD, "resume point is ahead of the inbox".into()));
            }
            Some(point) if point.last_acked_seq + 1 < head.first_seq => (ResumeOutcome::Gap, head.first_seq),
            Some(point) => (ResumeOutcome::Resumed, point.last_acked_seq + 1),
        };
        self.make_room(hello).await?;

        let session_id = hex(&random_bytes::<12>());
        let connected_at_ms = now_ms();
        let session = Arc::new(Session::new(
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
        store.add_session(record).await.map_err(unavailable)?;
        // The resume point acknowledges what precedes it (CIM-8.4-10) and makes the device known.
        store.ack_inbox(&hello.user_id, &hello.device_id, next_seq - 1).await.map_err(unavailable)?;
        let info = WelcomeInfo {
            session_id,
            resume: wire::ResumeResult { outcome: outcome as i32, epoch: head.epoch, next_seq },
            server_id: ctx.server_id.clone(),
            server_time_ms: now_ms(),
        };
        self.session.welcome(Instant::now(), info).map_err(|e| (ErrorCode::INTERNAL, e.to_string()))?;
        ctx.metrics.sessions.fetch_add(1, Ordering::Relaxed);
        self.next_deliver = next_seq;
        self.epoch = head.epoch;
        self.catching_up = true;
        // Just after a sender's cached route to this user has surely expired (spec §15.5).
        self.reread_at = Some(Instant::now() + cim_backend::ROUTE_CACHE_TTL + Duration::from_millis(500));
        tracing::debug!(user = %hello.user_id, device = %hello.device_id, ?outcome, next_seq, "session open");
        Ok(())
    }

    /// Enforces one session per device and the per-user limit (spec §9.3).
    async fn make_room(&self, hello: &HelloInfo) -> Result<(), (ErrorCode, String)> {
        let ctx = &self.ctx;
        let sessions = ctx
            .store
            .sessions_of(&hello.user_id)
            .await
            .map_err(|e| (ErrorCode::UNAVAILABLE, format!("store unavailable: {e}")))?;
        let mut others = Vec::new();
        for session in sessions {
            if session.device_id == hello.device_id {
                ctx.fanout
                    .end_sessions(&hello.user_id, Some(&session.session_id), GoAwayReason::SessionReplaced)
                    .await;
                let _ = ctx.store.remove_session(&hello.user_id, &session.session_id).await;
            } else {
                others.push(session);
            }
        }
        let max = ctx.options.max_sessions_per_user.max(1);
        if others.len() < max {
            return Ok(());
        }
        match ctx.options.over_limit {
            OverLimit::Reject => Err((
                ErrorCode::TOO_MANY_SESSIONS,
                format!("{} sessions already; the limit is {max}", others.len()),
            )),
            OverLimit::KickOldest => {
                for oldest in &others[..=others.len() - max] {
                    ctx.fanout
                        .end_sessions(&hello.user_id, Some(&oldest.session_id), GoAwayReason::SessionReplaced)
                        .await;
                    let _ = ctx.store.remove_session(&hello.user_id, &oldest.session_id).await;
                }
                Ok(())
            }
        }
    }

    async fn on_send(&mut self, send: wire::Send) {
        let started = Instant::now();
        let Some(id) = &self.identity else { return };
        let client_msg_id = send.client_msg_id.clone();
        let message = Outgoing {
            sender: id.user_id.clone(),
            client_msg_id: send.client_msg_id,
            to: send.to.unwrap_or_default(),
            content_type: send.content_type,
            body: send.body,
        };
        let ctx = &self.ctx;
        let path = MessagePath {
            store: ctx.store.as_ref(),
            fanout: Some(ctx.fanout.as_ref()),
            ids: &ctx.message_ids,
            known_users: &ctx.known_users,
        };
        let result = accept_and_push(path, message, &id.session_id).await;
        self.answer_send(started, client_msg_id, result);
    }

    /// A Send over the body limit: a duplicate if it was accepted before, refused otherwise.
    async fn on_send_too_large(&mut self, client_msg_id: String, to_everyone: bool, detail: String) {
        let started = Instant::now();
        let Some(id) = &self.identity else { return };
        let store = self.ctx.store.as_ref();
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

    /// Writes the pending DeliverAck to the store.
    pub(crate) async fn flush_ack(&mut self) {
        self.ack_flush_at = None;
        let (Some(up_to_seq), Some(id)) = (self.pending_ack.take(), &self.identity) else { return };
        if let Err(e) = self.ctx.store.ack_inbox(&id.user_id, &id.device_id, up_to_seq).await {
            tracing::warn!(user = %id.user_id, error = %e, "could not record an inbox ack");
        }
    }

    /// Forgets the session in the hub and the store. Call once, when the connection ends.
    pub(crate) async fn finish(&mut self) {
        self.flush_ack().await;
        self.ctx.metrics.connections.fetch_sub(1, Ordering::Relaxed);
        if let Some(error) = self.session.error()
            && let Some(code) = error.code()
        {
            tracing::debug!(%error, code = code.0, "connection ended with an error");
        }
        let Some(id) = self.identity.take() else { return };
        self.ctx.metrics.sessions.fetch_sub(1, Ordering::Relaxed);
        self.ctx.hub.remove(&id.user_id, &id.session_id);
        if let Err(e) = self.ctx.store.remove_session(&id.user_id, &id.session_id).await {
            tracing::warn!(user = %id.user_id, error = %e, "could not remove the session from presence");
        }
    }
}

/// Limits every connection is held to, checked against the protocol's bounds.
pub(crate) fn check_limits(limits: &cim_core::server::ServerLimits) -> anyhow::Result<()> {
    limits.validate().map_err(anyhow::Error::msg)?;
    if limits.max_frame_size < defaults::MAX_FRAME_SIZE {
        anyhow::bail!("max frame size must be at least {}", defaults::MAX_FRAME_SIZE);
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
