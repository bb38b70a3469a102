//! What a case is, how it ends, and the context it runs in.

use std::sync::Arc;
use std::time::Duration;

use cim_proto::v1::{Error as ErrorFrame, Frame, SendAck, Welcome, frame::Body};
use futures_util::future::BoxFuture;

use crate::route::{Login, Route, RouteError};
use crate::spec;
use crate::transcript::{Direction, Transcript};
use crate::wire::{Conn, Event, OwnUsers};

/// A case's code.
pub type CaseFn = for<'a> fn(&'a mut Cx) -> BoxFuture<'a, Result<(), Stop>>;

/// One conformance case.
pub struct Case {
    /// Stable id, e.g. `server.handshake.unsupported-version`.
    pub id: &'static str,
    /// One line saying what it checks.
    pub title: &'static str,
    /// The requirement ids it checks.
    pub covers: &'static [&'static str],
    /// Free tags for selection (`robustness`, `slow`, `websocket`, …).
    pub tags: &'static [&'static str],
    /// The longest the case may take at `--timeout-scale 1`, beyond which it is an error.
    pub budget: Duration,
    /// The code.
    pub run: CaseFn,
}

/// Declares a case from an `async fn(&mut Cx) -> Result<(), Stop>`.
#[macro_export]
macro_rules! case {
    ($id:literal, $title:literal, covers: [$($req:literal),* $(,)?], tags: [$($tag:literal),* $(,)?], budget: $secs:literal, $fun:path) => {
        $crate::case::Case {
            id: $id,
            title: $title,
            covers: &[$($req),*],
            tags: &[$($tag),*],
            budget: ::std::time::Duration::from_secs($secs),
            run: |cx| ::std::boxed::Box::pin($fun(cx)),
        }
    };
}

/// A failed check: the requirement it belongs to and what differed.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The requirement the check enforces.
    pub requirement: &'static str,
    /// What the spec asks for, in this situation.
    pub expected: String,
    /// What the implementation did.
    pub actual: String,
}

/// How a case ended other than by passing.
#[derive(Clone, Debug)]
pub enum Stop {
    /// A check failed.
    Fail(Failure),
    /// The implementation does not offer what the case needs (a transport, Push, …).
    NotApplicable(String),
    /// Not run, for a reason the harness gives.
    Skip(String),
    /// The harness or the environment failed; nothing is known about conformance.
    Error(String),
}

/// A failed check of `requirement`.
pub fn fail(requirement: &'static str, expected: impl Into<String>, actual: impl Into<String>) -> Stop {
    Stop::Fail(Failure { requirement, expected: expected.into(), actual: actual.into() })
}

/// Fails `requirement` unless `condition` holds.
pub fn check(
    requirement: &'static str,
    condition: bool,
    expected: impl Into<String>,
    actual: impl FnOnce() -> String,
) -> Result<(), Stop> {
    if condition { Ok(()) } else { Err(fail(requirement, expected, actual())) }
}

/// How client cases reach their driver (spec/v1/driver.md §1).
#[derive(Clone, Debug)]
pub enum Driver {
    /// A command the harness starts once per case, speaking over its standard streams.
    Command(Vec<String>),
    /// A driver started by hand connects here once per case and speaks over the connection.
    Listen(Arc<tokio::net::TcpListener>),
}

/// What the harness is pointed at.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// Base URL of the route's HTTP/JSON binding.
    pub route: String,
    /// URL of the route's gRPC binding (`http://host:port`), for the gRPC cases.
    pub route_grpc: Option<String>,
    /// `host:port` used instead of the `tcp_endpoint` the route assigns.
    pub server: Option<String>,
    /// WebSocket URL used instead of the `ws_url` the route assigns.
    pub ws: Option<String>,
    /// API key for Push and Servers, when the tester has the deployment's.
    pub api_key: Option<String>,
    /// The app backend's JWT secret, when the deployment accepts JWT logins and the tester
    /// has it.
    pub jwt_secret: Option<String>,
    /// Open sessions over WebSocket instead of TCP.
    pub over_websocket: bool,
    /// Client mode: how the harness reaches the driver of each case (spec/v1/driver.md).
    pub driver: Option<Driver>,
    /// The deployment's token secret, when it uses the reference token format (§5.5) and the
    /// tester shares it: cases then mint tokens (expired, malformed but signed).
    pub token_secret: Option<String>,
}

/// A user the case created.
#[derive(Clone, Debug)]
pub struct User {
    /// The user name.
    pub name: String,
    /// Its password.
    pub password: String,
    /// The user_id the route gave it.
    pub id: String,
}

/// A connection after Welcome.
pub struct Session {
    /// The connection.
    pub conn: Conn,
    /// The Welcome it got.
    pub welcome: Welcome,
    /// The login it used.
    pub login: Login,
    /// Its device.
    pub device: String,
}

/// The context of one running case.
pub struct Cx {
    /// The case's id.
    pub case_id: &'static str,
    /// The deployment under test.
    pub target: Arc<Target>,
    /// The route client, recording into the transcript.
    pub route: Route,
    /// The case's transcript.
    pub transcript: Transcript,
    prefix: String,
    own_users: OwnUsers,
    scale: f64,
    rng: u64,
    conns: u32,
}

impl Cx {
    /// A context for case `case_id`, whose user and group names start with `prefix`.
    pub fn new(case_id: &'static str, target: Arc<Target>, prefix: String, scale: f64, seed: u64) -> Self {
        let transcript = Transcript::default();
        let route = Route::new(&target.route, &transcript);
        Self {
            case_id,
            target,
            route,
            transcript,
            prefix,
            own_users: OwnUsers::default(),
            scale,
            rng: seed,
            conns: 0,
        }
    }

    /// `base` stretched by `--timeout-scale`.
    pub fn wait(&self, base: Duration) -> Duration {
        base.mul_f64(self.scale)
    }

    /// The usual wait for an answer: 3 s, scaled.
    pub fn answer_wait(&self) -> Duration {
        self.wait(Duration::from_secs(3))
    }

    /// A name unique to this case and run.
    pub fn name(&self, short: &str) -> String {
        format!("{}{short}", self.prefix)
    }

    /// The next value of the case's seeded generator (splitmix64).
    pub fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A fresh client message id (26 characters, 128 random bits).
    pub fn client_msg_id(&mut self) -> String {
        format!("cf{:016x}{:08x}", self.random(), self.random() as u32)
    }

    /// A note in the transcript.
    pub fn note(&self, text: impl Into<String>) {
        self.transcript.push("case", Direction::Note, text);
    }

    /// Registers a user named `short` (made unique).
    pub async fn user(&mut self, short: &str) -> Result<User, Stop> {
        let name = self.name(short);
        let password = format!("pw-{:016x}", self.random());
        let id = self.route.register(&name, &password).await.map_err(|e| match e {
            RouteError::Status { status: 403, .. } => Stop::Error(
                "the route's registration is closed, and the harness creates its users with Register: \
                 run it against a route with open registration (cim up --registration open)"
                    .into(),
            ),
            RouteError::Status { status: 429, .. } => Stop::Error(
                "the route limits registrations per address, and the harness registers hundreds of users \
                 from one: run it against a route without that limit \
                 (cim up --registrations-per-address 0 --login-failures-per-address 0)"
                    .into(),
            ),
            e => route_error("Register", &e),
        })?;
        self.own_users.insert(&id);
        Ok(User { name, password, id })
    }

    /// Logs `user` in on `device`.
    pub async fn login(&mut self, user: &User, device: &str) -> Result<Login, Stop> {
        self.route.login(&user.name, &user.password, device).await.map_err(|e| route_error("Login", &e))
    }

    /// Opens a connection to the server a login was assigned (or the one given on the command
    /// line), over the transport the run uses.
    pub async fn connect(&mut self, login: &Login) -> Result<Conn, Stop> {
        if self.target.over_websocket {
            self.connect_websocket(login).await
        } else {
            self.connect_tcp(login).await
        }
    }

    /// A WebSocket connection for a login, whatever the run's transport.
    pub async fn connect_websocket(&mut self, login: &Login) -> Result<Conn, Stop> {
        self.conns += 1;
        let label = format!("c{}", self.conns);
        let url = self.target.ws.clone().unwrap_or_else(|| login.server.ws_url.clone());
        if url.is_empty() {
            return Err(Stop::NotApplicable("the assigned server offers no WebSocket transport".into()));
        }
        let mut conn = Conn::websocket(&url, &label, &self.transcript)
            .await
            .map_err(|e| Stop::Error(format!("cannot connect to {url}: {e}")))?;
        conn.pass_over_broadcasts_not_from(&self.own_users);
        Ok(conn)
    }

    /// A TCP connection for a login, whatever the run's transport.
    pub async fn connect_tcp(&mut self, login: &Login) -> Result<Conn, Stop> {
        self.conns += 1;
        let label = format!("c{}", self.conns);
        let addr = self.target.server.clone().unwrap_or_else(|| login.server.tcp_endpoint.clone());
        if addr.is_empty() {
            return Err(Stop::NotApplicable("the assigned server offers no TCP transport".into()));
        }
        let mut conn = Conn::tcp(&addr, &label, &self.transcript)
            .await
            .map_err(|e| Stop::Error(format!("cannot connect to {addr}: {e}")))?;
        conn.pass_over_broadcasts_not_from(&self.own_users);
        Ok(conn)
    }

    /// Logs in, connects and completes the handshake with a plain Hello.
    pub async fn open(&mut self, user: &User, device: &str) -> Result<Session, Stop> {
        let login = self.login(user, device).await?;
        let frame = crate::frames::frame(Body::Hello(crate::frames::hello(&login.token, device)));
        self.open_with(login, device, &frame).await
    }

    /// Connects with a login and sends `hello`, expecting Welcome.
    pub async fn open_with(&mut self, login: Login, device: &str, hello: &Frame) -> Result<Session, Stop> {
        let mut conn = self.connect(&login).await?;
        conn.send(hello).await;
        let wait = self.answer_wait();
        let welcome = expect_welcome(&mut conn, wait).await?;
        Ok(Session { conn, welcome, login, device: device.to_owned() })
    }

    /// A new session for an existing login and device, resuming from a point.
    pub async fn reopen(
        &mut self,
        login: &Login,
        device: &str,
        epoch: u64,
        last_acked_seq: u64,
    ) -> Result<Session, Stop> {
        let hello = crate::frames::hello_resume(&login.token, device, epoch, last_acked_seq);
        self.open_with(login.clone(), device, &hello).await
    }
}

fn route_error(call: &str, error: &RouteError) -> Stop {
    Stop::Error(format!("the route's {call} failed, so the case cannot set up: {error}"))
}

/// The next frame must be Welcome: what a valid Hello gets (§4.2, §4.4).
pub async fn expect_welcome(conn: &mut Conn, wait: Duration) -> Result<Welcome, Stop> {
    match conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Welcome(welcome)) }) => Ok(welcome),
        other => {
            Err(fail("CIM-4.2-2", "Welcome in answer to a valid Hello offering version 1", other.describe()))
        }
    }
}

/// The next frame must be a fatal Error with `code`, and the connection must then close
/// (CIM-11.1-1).
pub async fn expect_fatal(
    conn: &mut Conn,
    requirement: &'static str,
    code: &str,
    wait: Duration,
) -> Result<ErrorFrame, Stop> {
    let want = spec::code(code);
    let error = match conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Error(error)) })
            if error.code == want && error.client_msg_id.is_empty() =>
        {
            error
        }
        other => {
            return Err(fail(
                requirement,
                format!("Error {code} ({want}) without client_msg_id, then the connection closes"),
                other.describe(),
            ));
        }
    };
    if !conn.closes_within(wait).await {
        return Err(fail(
            "CIM-11.1-1",
            format!("the connection closed right after Error {code}"),
            format!("still open {} ms later", wait.as_millis()),
        ));
    }
    Ok(error)
}

/// The Send `client_msg_id` must be rejected with `code`, the connection staying open.
pub async fn expect_rejection(
    conn: &mut Conn,
    requirement: &'static str,
    code: &str,
    client_msg_id: &str,
    wait: Duration,
) -> Result<ErrorFrame, Stop> {
    let want = spec::code(code);
    let found = conn
        .find(wait, |frame| match &frame.body {
            Some(Body::Error(e)) if e.client_msg_id == client_msg_id || e.client_msg_id.is_empty() => {
                Some(e.clone())
            }
            Some(Body::SendAck(a)) if a.client_msg_id == client_msg_id => Some(ErrorFrame {
                code: 0,
                message: format!("SendAck {{message_id: {:?}}}", a.message_id),
                ..Default::default()
            }),
            _ => None,
        })
        .await;
    match found {
        Ok(error) if error.code == want && error.client_msg_id == client_msg_id => Ok(error),
        Ok(error) if error.code == 0 => Err(fail(
            requirement,
            format!("Error {code} carrying client_msg_id {client_msg_id:?}"),
            error.message,
        )),
        Ok(error) => Err(fail(
            requirement,
            format!("Error {code} ({want}) carrying client_msg_id {client_msg_id:?}"),
            format!(
                "Error {} {} carrying {:?}",
                error.code,
                spec::code_name(error.code).unwrap_or("?"),
                error.client_msg_id
            ),
        )),
        Err(event) => Err(fail(
            requirement,
            format!("Error {code} carrying client_msg_id {client_msg_id:?}"),
            event.describe(),
        )),
    }
}

/// The SendAck for `client_msg_id` (skipping other frames, which stay pending).
pub async fn expect_ack(
    conn: &mut Conn,
    requirement: &'static str,
    client_msg_id: &str,
    wait: Duration,
) -> Result<SendAck, Stop> {
    let found = conn
        .find(wait, |frame| match &frame.body {
            Some(Body::SendAck(a)) if a.client_msg_id == client_msg_id => Some(Ok(a.clone())),
            Some(Body::Error(e)) if e.client_msg_id == client_msg_id || e.client_msg_id.is_empty() => {
                Some(Err(e.clone()))
            }
            _ => None,
        })
        .await;
    match found {
        Ok(Ok(ack)) => Ok(ack),
        Ok(Err(error)) => Err(fail(
            requirement,
            format!("SendAck for {client_msg_id:?}"),
            format!(
                "Error {} {} {:?}",
                error.code,
                spec::code_name(error.code).unwrap_or("?"),
                error.message
            ),
        )),
        Err(event) => Err(fail(requirement, format!("SendAck for {client_msg_id:?}"), event.describe())),
    }
}

/// The next Deliver of an inbox entry (skipping other frames, which stay pending).
///
/// Deliveries to everyone (seq 0) are passed over: other cases running against the same
/// deployment broadcast too. Cases about broadcast look for their message by id.
pub async fn expect_deliver(
    conn: &mut Conn,
    requirement: &'static str,
    what: &str,
    wait: Duration,
) -> Result<cim_proto::v1::Deliver, Stop> {
    let found = conn
        .find(wait, |frame| match &frame.body {
            Some(Body::Deliver(d)) if d.seq != 0 => Some(Ok(d.clone())),
            Some(Body::Error(e)) if e.client_msg_id.is_empty() => Some(Err(e.clone())),
            Some(Body::GoAway(_)) => Some(Err(ErrorFrame { message: "GoAway".into(), ..Default::default() })),
            _ => None,
        })
        .await;
    match found {
        Ok(Ok(deliver)) => Ok(deliver),
        Ok(Err(error)) => {
            Err(fail(requirement, what.to_owned(), format!("Error {} {:?}", error.code, error.message)))
        }
        Err(event) => Err(fail(requirement, what.to_owned(), event.describe())),
    }
}

/// A Pong with `nonce` must come within `wait` (CIM-6.2-3), skipping other frames.
pub async fn expect_pong(conn: &mut Conn, nonce: u64, wait: Duration) -> Result<(), Stop> {
    let got = conn
        .find(wait, |f| match &f.body {
            Some(Body::Pong(p)) => Some(p.nonce),
            _ => None,
        })
        .await;
    match got {
        Ok(n) if n == nonce => Ok(()),
        Ok(n) => Err(fail("CIM-6.2-3", format!("Pong {{nonce: {nonce}}}"), format!("Pong {{nonce: {n}}}"))),
        Err(event) => Err(fail("CIM-6.2-3", format!("Pong {{nonce: {nonce}}}"), event.describe())),
    }
}

/// The reason of the next GoAway (skipping other frames, which stay pending).
pub async fn expect_go_away(
    conn: &mut Conn,
    requirement: &'static str,
    what: &str,
    wait: Duration,
) -> Result<i32, Stop> {
    conn.find(wait, |f| match &f.body {
        Some(Body::GoAway(g)) => Some(g.reason),
        _ => None,
    })
    .await
    .map_err(|event| fail(requirement, what.to_owned(), event.describe()))
}

/// No Deliver of an inbox entry arrives within `wait` (broadcasts pass, as for
/// [`expect_deliver`]).
pub async fn expect_no_deliver(
    conn: &mut Conn,
    requirement: &'static str,
    what: &str,
    wait: Duration,
) -> Result<(), Stop> {
    match conn
        .find(wait, |frame| {
            matches!(&frame.body, Some(Body::Deliver(d)) if d.seq != 0).then(|| frame.clone())
        })
        .await
    {
        Ok(frame) => Err(fail(requirement, what.to_owned(), crate::transcript::describe(&frame))),
        Err(_) => Ok(()),
    }
}
