//! The loop that runs a `cim_core` [`ClientSession`] over the network: it does what the
//! session asks (log in, connect, write, close), feeds it what the server sends and its
//! timers, and hands its events to a [`Host`]. Every client built on this crate runs this one
//! loop: the SDK's [`Client`](crate::Client) (whose host queues events for the application)
//! and `cim-bench`'s load clients (whose host reacts to them at once). Use it directly when
//! you need the session itself, as a load generator does.
//!
//! The order of the work is the session's contract: after every input, write what it
//! produced, then carry out its requests, then take its events, until none is left; only
//! then wait for the next input.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use cim_core::Retry;
use cim_core::client::{
    ClientEvent, ClientSession, ConnectionState, Delivery, LoginFailure, LoginGrant, Request,
};

use crate::link::{Incoming, Link};
use crate::route::{Credentials, Login, RouteClient};
use crate::{Error, Transport};

/// A login under way, as the host started it.
pub type LoginFuture = Pin<Box<dyn Future<Output = Result<LoginGrant, LoginFailure>> + Send>>;

type Opening = Pin<Box<dyn Future<Output = Result<Link, String>> + Send>>;
type LoggingIn = Pin<Box<dyn Future<Output = (u64, Result<LoginGrant, LoginFailure>)> + Send>>;

/// Whether the loop goes on after an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep running.
    Continue,
    /// Stop now, without closing the session politely (the connection is dropped).
    Stop,
}

/// What the loop needs from its owner: how to log in, what to do with the session's events,
/// and what else to wait for besides the server and the session's timers.
pub trait Host: Send {
    /// Input from the owner (a command, a phase change).
    type Input: Send;

    /// Starts a login for the session's `Request::Login`; the loop goes on while it runs.
    fn login(&mut self) -> LoginFuture;

    /// One event of the session. A message comes with its [`Delivery`]: pass it to
    /// [`ClientSession::processed`] once the message is handled, now or later.
    fn on_event(
        &mut self,
        now: Instant,
        event: ClientEvent,
        delivery: Option<Delivery>,
        session: &mut ClientSession,
    );

    /// Waits for the next input. The loop drops this future whenever something else comes
    /// first and asks again, so it must be cancel safe.
    fn input(&mut self) -> impl Future<Output = Self::Input> + Send + '_;

    /// Handles an input.
    fn on_input(&mut self, now: Instant, input: Self::Input, session: &mut ClientSession) -> Flow;

    /// When [`on_wake`](Self::on_wake) is due, if ever.
    fn wake_at(&self) -> Option<Instant> {
        None
    }

    /// [`wake_at`](Self::wake_at) has passed.
    fn on_wake(&mut self, _now: Instant, _session: &mut ClientSession) {}

    /// Whether to stop reading from the server for now (the application is behind).
    fn holds_reads(&self) -> bool {
        false
    }

    /// The session has nothing more to do until the next input (e.g. to publish its state).
    fn idle(&mut self, _session: &ClientSession) {}
}

/// A session, its connection and its host.
pub struct Driver<H: Host> {
    session: ClientSession,
    host: H,
    tls: Arc<rustls::ClientConfig>,
    link: Option<Link>,
    login: Option<LoggingIn>,
    opening: Option<Opening>,
}

impl<H: Host> Driver<H> {
    /// A driver for `session` (not yet connected), trusting the web's root certificates for
    /// TLS endpoints.
    pub fn new(session: ClientSession, host: H) -> Result<Self, Error> {
        // One configuration for every such driver: a load generator makes tens of thousands.
        static WEB_ROOTS: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
        let tls = match WEB_ROOTS.get() {
            Some(tls) => tls.clone(),
            None => {
                let tls = crate::link::tls_config(&[]).map_err(|e| Error::InvalidInput(e.to_string()))?;
                WEB_ROOTS.get_or_init(|| tls).clone()
            }
        };
        Ok(Self::with_tls(session, host, tls))
    }

    pub(crate) fn with_tls(session: ClientSession, host: H, tls: Arc<rustls::ClientConfig>) -> Self {
        Self { session, host, tls, link: None, login: None, opening: None }
    }

    /// Connects the session and runs until it is closed or the host says stop; gives the
    /// host and the session back.
    pub async fn run(mut self) -> (H, ClientSession) {
        self.session.connect(Instant::now());
        loop {
            self.drain().await;
            if self.session.state() == ConnectionState::Closed {
                break;
            }
            if self.wait().await == Flow::Stop {
                break;
            }
        }
        if let Some(link) = self.link.take() {
            link.close().await;
        }
        (self.host, self.session)
    }

    /// Waits for one input and hands it to the session or the host.
    async fn wait(&mut self) -> Flow {
        let wake = match (self.session.poll_timeout(), self.host.wake_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let reading = self.link.is_some() && !self.host.holds_reads();
        let Self { session, host, link, login, opening, .. } = self;
        tokio::select! {
            input = host.input() => return host.on_input(Instant::now(), input, session),
            incoming = readable(link), if reading => {
                let now = Instant::now();
                let open = match (incoming, link.as_mut()) {
                    (Ok(Incoming::Ready), Some(link)) => link.read_ready(session, now).unwrap_or(false),
                    (Ok(Incoming::Bytes(bytes)), _) => {
                        // A protocol error makes the session ask for Close: nothing else to do.
                        let _ = session.handle_input(now, &bytes);
                        true
                    }
                    (Ok(Incoming::Text), _) => {
                        let _ = session.handle_text_message(now);
                        true
                    }
                    _ => false,
                };
                if !open {
                    *link = None;
                    session.handle_transport_closed(now);
                }
            }
            result = pending(login) => {
                let (id, result) = result;
                *login = None;
                session.handle_login_result(Instant::now(), id, result);
            }
            opened = pending(opening) => {
                *opening = None;
                let now = Instant::now();
                match opened {
                    Ok(opened) => {
                        *link = Some(opened);
                        session.handle_connected(now);
                    }
                    Err(message) => {
                        tracing::debug!(%message, "connect failed");
                        session.handle_transport_closed(now);
                    }
                }
            }
            () = deadline(wake) => {
                let now = Instant::now();
                session.handle_timeout(now);
                if host.wake_at().is_some_and(|at| at <= now) {
                    host.on_wake(now, session);
                }
            }
        }
        Flow::Continue
    }

    /// Does everything the session asks, in the order its contract gives.
    async fn drain(&mut self) {
        loop {
            let now = Instant::now();
            if let Some(link) = &mut self.link
                && link.write_from(&mut self.session, now).await.is_err()
            {
                self.link = None;
                self.session.handle_transport_closed(now);
                continue;
            }
            let mut progressed = false;
            while let Some(request) = self.session.poll_request() {
                progressed = true;
                self.on_request(request).await;
            }
            while let Some((event, delivery)) = self.session.poll_event_deferred() {
                progressed = true;
                self.host.on_event(now, event, delivery, &mut self.session);
            }
            if !progressed {
                self.host.idle(&self.session);
                break;
            }
        }
    }

    async fn on_request(&mut self, request: Request) {
        match request {
            Request::Login { id } => {
                let login = self.host.login();
                self.login = Some(Box::pin(async move { (id, login.await) }));
            }
            Request::Connect { endpoint } => {
                tracing::debug!(%endpoint, "connecting");
                let tls = self.tls.clone();
                self.opening = Some(Box::pin(async move {
                    Link::open(&endpoint, &tls).await.map_err(|e| format!("{endpoint}: {e}"))
                }));
            }
            Request::Close => {
                if let Some(link) = self.link.take() {
                    link.close().await;
                }
            }
            _ => {}
        }
    }
}

/// What a login at the route means for the session: the grant to connect with, or why not,
/// classed by the error's retry rule (spec §16) so that the session knows whether to retry.
pub async fn log_in(
    route: &RouteClient,
    credentials: &Credentials,
    device_id: &str,
    transport: Transport,
) -> Result<(Login, LoginGrant), LoginFailure> {
    match route.login(credentials, device_id).await {
        Ok(login) => {
            let grant = grant(&login, transport)?;
            Ok((login, grant))
        }
        Err(e) => Err(login_failure(e)),
    }
}

/// A route error as a login failure of the session.
fn login_failure(error: Error) -> LoginFailure {
    match error {
        Error::Route { code, message, .. } if code.retry() == Retry::No => LoginFailure::Rejected { message },
        Error::Route { message, retry_after: Some(retry_after), .. } => {
            LoginFailure::RetryAfter { message, retry_after }
        }
        e => LoginFailure::Unavailable { message: e.to_string() },
    }
}

/// The endpoint of the assigned server for `transport`, as the session's grant.
pub(crate) fn grant(login: &Login, transport: Transport) -> Result<LoginGrant, LoginFailure> {
    let endpoint = match transport {
        Transport::Tcp if !login.server.tcp_endpoint.is_empty() => {
            let scheme = if login.server.tcp_tls { "tls" } else { "tcp" };
            Some(format!("{scheme}://{}", login.server.tcp_endpoint))
        }
        Transport::WebSocket if !login.server.ws_url.is_empty() => Some(login.server.ws_url.clone()),
        _ => None,
    }
    .ok_or_else(|| LoginFailure::Unavailable {
        message: format!("server {} offers no {transport:?} endpoint", login.server.server_id),
    })?;
    Ok(LoginGrant { user_id: login.user_id.clone(), token: login.token.clone(), endpoint })
}

async fn readable(link: &mut Option<Link>) -> std::io::Result<Incoming> {
    match link {
        Some(link) => link.readable().await,
        None => std::future::pending().await,
    }
}

/// The output of a future that may not be there (then never).
async fn pending<T, F: Future<Output = T> + Unpin>(future: &mut Option<F>) -> T {
    match future {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

async fn deadline(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
