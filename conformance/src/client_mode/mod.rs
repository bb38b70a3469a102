//! Client mode: the harness plays the route and the server, and steers the client under test
//! through a driver process (spec/v1/driver.md).

use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cim_proto::v1::{Frame, Hello, Limits, ResumeResult, Welcome, frame::Body};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::case::{Cx, Driver, Stop, fail};
use crate::transcript::{Direction, Transcript};
use crate::wire::{Conn, Event};

mod route;
mod tls;

pub use route::{IssuedLogin, OnlinePage, Refusal};
pub use tls::Certificate;

/// How the route tells the client to reach the harness's server (`ServerInfo`), and so what the
/// server expects on a new connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// `tcp_endpoint`, plain.
    Tcp,
    /// `tcp_endpoint` with `tcp_tls`, presenting this certificate.
    Tls(Certificate),
    /// `ws_url` with the `ws` scheme, and no TCP endpoint.
    WebSocket,
    /// `ws_url` with the `wss` scheme, presenting this certificate.
    SecureWebSocket(Certificate),
}

impl Offer {
    fn certificate(self) -> Option<Certificate> {
        match self {
            Self::Tls(c) | Self::SecureWebSocket(c) => Some(c),
            Self::Tcp | Self::WebSocket => None,
        }
    }

    fn is_websocket(self) -> bool {
        matches!(self, Self::WebSocket | Self::SecureWebSocket(_))
    }
}

/// Why no connection came to be.
#[derive(Debug)]
pub enum AcceptFailure {
    /// The client did not connect in time.
    NoConnection,
    /// It connected, but the TLS or WebSocket handshake did not complete; the text says why.
    Handshake(String),
}

impl std::fmt::Display for AcceptFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoConnection => f.write_str("no connection"),
            Self::Handshake(why) => write!(f, "a connection whose handshake failed: {why}"),
        }
    }
}

/// A byte stream from the driver.
type DriverStream = Box<dyn AsyncRead + Unpin + Send>;

/// Starts the driver command with the route's URL in its environment.
fn spawn(
    command: &[String],
    route_url: &str,
    detailed_logs: bool,
) -> Result<(Child, ChildStdin, tokio::process::ChildStdout, tokio::process::ChildStderr), Stop> {
    let (program, args) =
        command.split_first().ok_or_else(|| Stop::Error("an empty driver command".into()))?;
    let mut process = Command::new(program);
    process.args(args).env("CIM_CONFORMANCE_ROUTE", route_url);
    if detailed_logs {
        process.env("CIM_CONFORMANCE_LOG", "1");
    }
    let mut child = process
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Stop::Error(format!("cannot start the driver {program:?}: {e}")))?;
    match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
        (Some(stdin), Some(stdout), Some(stderr)) => Ok((child, stdin, stdout, stderr)),
        _ => Err(Stop::Error("the driver's standard streams are not available".into())),
    }
}

/// The route, the server's listener and the driver of one client case.
pub struct ClientHarness {
    transcript: Transcript,
    server: TcpListener,
    route: Arc<route::RouteState>,
    route_task: tokio::task::JoinHandle<()>,
    offer: Offer,
    tls: Option<tls::TlsServer>,
    /// The TLS versions the last ClientHello offered.
    pub client_hello_versions: Option<Vec<u16>>,
    /// The driver's process, when the harness started it.
    process: Option<Child>,
    /// Where commands go: the process's standard input, or the driver's connection.
    commands: Box<dyn AsyncWrite + Unpin + Send + Sync>,
    events: mpsc::UnboundedReceiver<Value>,
    /// Set when the driver's event stream ends.
    ended: tokio::sync::watch::Receiver<bool>,
    logs: Arc<Mutex<Vec<String>>>,
    conns: u32,
    /// The epoch the harness's server gives every inbox.
    pub epoch: u64,
}

impl Drop for ClientHarness {
    fn drop(&mut self) {
        self.route_task.abort();
        // Spec DRV-1-5: a driver still running after its case is ended. (A driver that
        // connected sees its connection close when `commands` drops.)
        if let Some(process) = &mut self.process {
            let _ = process.start_kill();
        }
    }
}

impl ClientHarness {
    /// Starts the route and the server's listener on free ports, then the driver, and waits
    /// for its `ready`. The route offers plain TCP until [`offer`](Self::offer) says otherwise.
    pub async fn start(cx: &Cx) -> Result<Self, Stop> {
        Self::start_with(cx, false).await
    }

    /// Like [`start`](Self::start), asking the driver for the client's most detailed logs
    /// (spec DRV-1-6).
    pub async fn start_logging(cx: &Cx) -> Result<Self, Stop> {
        Self::start_with(cx, true).await
    }

    async fn start_with(cx: &Cx, detailed_logs: bool) -> Result<Self, Stop> {
        let driver = cx.target.driver.clone().ok_or_else(|| {
            Stop::Skip("client cases need a driver (cim-conformance client -- <command>, or --listen)".into())
        })?;
        let transcript = cx.transcript.clone();
        // A driver that connects may run on another machine: the route and the server listen
        // where it reached the harness.
        let host = match &driver {
            Driver::Listen(listener) => listener.local_addr().map_err(|e| Stop::Error(e.to_string()))?.ip(),
            Driver::Command(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        };
        let listen = || async move {
            TcpListener::bind((host, 0))
                .await
                .map_err(|e| Stop::Error(format!("cannot listen on {host}: {e}")))
        };
        let (server, route_listener) = (listen().await?, listen().await?);
        let route_url =
            format!("http://{}", route_listener.local_addr().map_err(|e| Stop::Error(e.to_string()))?);
        let route = Arc::new(route::RouteState::default());
        let route_task = tokio::spawn(route::serve(route_listener, route.clone(), transcript.clone()));

        let (process, commands, events_in, logs_in): (
            Option<Child>,
            Box<dyn AsyncWrite + Unpin + Send + Sync>,
            DriverStream,
            Option<DriverStream>,
        ) = match &driver {
            Driver::Command(command) => {
                let (child, stdin, stdout, stderr) = spawn(command, &route_url, detailed_logs)?;
                (Some(child), Box::new(stdin), Box::new(stdout), Some(Box::new(stderr)))
            }
            Driver::Listen(listener) => {
                let addr = listener.local_addr().map_err(|e| Stop::Error(e.to_string()))?;
                // Within the case's budget: a driver connects again as soon as its last case ends.
                let wait = cx.wait(Duration::from_secs(10));
                let (stream, peer) = tokio::time::timeout(wait, listener.accept())
                    .await
                    .map_err(|_| {
                        Stop::Error(format!("no driver connected to {addr} within {} s", wait.as_secs()))
                    })?
                    .map_err(|e| Stop::Error(format!("cannot accept a driver on {addr}: {e}")))?;
                transcript.push("driver", Direction::Note, format!("a driver connected from {peer}"));
                let (read, mut write) = stream.into_split();
                let start =
                    json!({"cmd": "start", "route": route_url, "case": cx.case_id, "log": detailed_logs});
                transcript.push("driver", Direction::Out, start.to_string());
                let _ = write.write_all(format!("{start}\n").as_bytes()).await;
                (None, Box::new(write), Box::new(read), None)
            }
        };
        let (tx, events) = mpsc::unbounded_channel();
        let (ended_tx, ended) = tokio::sync::watch::channel(false);
        let logs = Arc::new(Mutex::new(Vec::new()));
        let out_transcript = transcript.clone();
        let kept = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(events_in).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                out_transcript.push("driver", Direction::In, line.clone());
                match serde_json::from_str::<Value>(&line) {
                    // Spec DRV-1-9: a connected driver's logs come as events.
                    Ok(value) if value["event"] == "log" => {
                        let text = value["message"].as_str().unwrap_or_default().to_owned();
                        kept.lock().unwrap_or_else(PoisonError::into_inner).push(text);
                    }
                    Ok(value) if value.get("event").is_some() => {
                        let _ = tx.send(value);
                    }
                    _ => out_transcript.push("driver", Direction::Note, "not an event line (spec DRV-1-4)"),
                }
            }
            let _ = ended_tx.send(true);
        });
        if let Some(stderr) = logs_in {
            let err_transcript = transcript.clone();
            let kept = logs.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    err_transcript.push("driver", Direction::Note, format!("stderr: {line}"));
                    kept.lock().unwrap_or_else(PoisonError::into_inner).push(line);
                }
            });
        }
        let mut harness = Self {
            transcript,
            server,
            route,
            route_task,
            offer: Offer::Tcp,
            tls: None,
            client_hello_versions: None,
            process,
            commands,
            events,
            ended,
            logs,
            conns: 0,
            epoch: 0x00c1_f00d,
        };
        harness.offer(Offer::Tcp)?;
        match harness.event(cx.wait(Duration::from_secs(10)), |e| e["event"] == "ready").await {
            Some(_) => Ok(harness),
            None => Err(Stop::Error(
                "the driver did not write {\"event\":\"ready\"} within 10 s (spec DRV-1-2)".into(),
            )),
        }
    }

    /// Sets what the route's Login offers from now on, and what the server expects.
    pub fn offer(&mut self, offer: Offer) -> Result<(), Stop> {
        let addr = self.server.local_addr().map_err(|e| Stop::Error(e.to_string()))?;
        self.tls = match offer.certificate() {
            Some(certificate) => Some(
                tls::TlsServer::new(certificate, addr.ip())
                    .map_err(|e| Stop::Error(format!("cannot make a TLS certificate: {e}")))?,
            ),
            None => None,
        };
        let (tcp_endpoint, tcp_tls, ws_url) = match offer {
            Offer::Tcp => (addr.to_string(), false, String::new()),
            Offer::Tls(_) => (addr.to_string(), true, String::new()),
            Offer::WebSocket => (String::new(), false, format!("ws://{addr}/")),
            Offer::SecureWebSocket(_) => (String::new(), false, format!("wss://{addr}/")),
        };
        self.route.set_server(json!({"server_id": "cim-conformance", "tcp_endpoint": tcp_endpoint, "ws_url": ws_url, "tcp_tls": tcp_tls, "connections": 0, "draining": false}));
        self.offer = offer;
        Ok(())
    }

    /// Makes the route hand out `user_id` for every user name.
    pub fn issue_user_id(&self, user_id: &str) {
        self.route.set_user_id(user_id);
    }

    /// Writes a command line to the driver.
    pub async fn command(&mut self, command: Value) {
        let line = format!("{command}\n");
        self.transcript.push("driver", Direction::Out, command.to_string());
        let _ = self.commands.write_all(line.as_bytes()).await;
        let _ = self.commands.flush().await;
    }

    /// The next event `pick` accepts within `wait`, skipping others. An `unsupported` event
    /// ends the case as n/a.
    pub async fn event(&mut self, wait: Duration, mut pick: impl FnMut(&Value) -> bool) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv()).await.ok()??;
            if pick(&event) {
                return Some(event);
            }
        }
    }

    /// Like [`event`](Self::event), failing `requirement` when nothing comes.
    pub async fn expect_event(
        &mut self,
        requirement: &'static str,
        what: &str,
        wait: Duration,
        pick: impl FnMut(&Value) -> bool,
    ) -> Result<Value, Stop> {
        let mut unsupported = None;
        let mut pick = pick;
        let found = self
            .event(wait, |e| {
                if e["event"] == "unsupported" {
                    unsupported = Some(e.to_string());
                    return true;
                }
                pick(e)
            })
            .await;
        if let Some(line) = unsupported {
            return Err(Stop::NotApplicable(format!("the driver cannot do what the case needs: {line}")));
        }
        found.ok_or_else(|| {
            fail(requirement, what.to_owned(), format!("no such event within {} ms", wait.as_millis()))
        })
    }

    /// Tells the driver to log in, with the transport and trusted certificate the offer needs;
    /// returns nothing (the login is seen by the route).
    pub async fn login(&mut self, user_name: &str, device_id: &str) {
        let mut command = json!({"cmd": "login", "user_name": user_name, "password": "conformance-pw", "device_id": device_id});
        if self.offer.is_websocket() {
            command["transport"] = json!("websocket");
        }
        if let Some(tls) = &self.tls {
            command["trust_pem"] = json!(tls.trusted_pem);
        }
        self.command(command).await;
    }

    /// Makes the route refuse the next Logins, in order.
    pub fn refuse_logins(&self, refusals: impl IntoIterator<Item = Refusal>) {
        self.route.refuse(refusals);
    }

    /// Login calls the route received, answered or refused.
    pub fn login_requests(&self) -> u32 {
        self.route.login_requests()
    }

    /// The logins the route has answered so far.
    pub fn logins(&self) -> Vec<IssuedLogin> {
        self.route.logins()
    }

    /// Makes the route answer the next OnlineUsers requests with `pages`, in order.
    pub fn script_online(&self, pages: impl IntoIterator<Item = OnlinePage>) {
        self.route.script_online(pages);
    }

    /// The `page_token` of each OnlineUsers request so far.
    pub fn online_requests(&self) -> Vec<String> {
        self.route.online_requests()
    }

    /// The driver's logs so far: its standard error, or the `log` events of a driver that
    /// connected.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits up to `wait` for the driver to finish: `Some(true)` when its process exited
    /// successfully or, for a driver that connected, its event stream ended; `Some(false)`
    /// when its process failed; `None` while it still runs.
    pub async fn driver_finished(&mut self, wait: Duration) -> Option<bool> {
        match &mut self.process {
            Some(process) => {
                let status = tokio::time::timeout(wait, process.wait()).await.ok()?.ok()?;
                Some(status.success())
            }
            None => {
                let mut ended = self.ended.clone();
                tokio::time::timeout(wait, ended.wait_for(|ended| *ended)).await.ok()?.ok()?;
                Some(true)
            }
        }
    }

    /// The client's next connection to the server, within `wait`.
    pub async fn accept(&mut self, wait: Duration) -> Option<Conn> {
        self.accept_offered(wait).await.ok()
    }

    /// The client's next connection, with the TLS and WebSocket handshakes of the offer done.
    pub async fn accept_offered(&mut self, wait: Duration) -> Result<Conn, AcceptFailure> {
        let (stream, peer) = tokio::time::timeout(wait, self.server.accept())
            .await
            .map_err(|_| AcceptFailure::NoConnection)?
            .map_err(|_| AcceptFailure::NoConnection)?;
        let _ = stream.set_nodelay(true);
        self.conns += 1;
        let label = format!("c{}", self.conns);
        let handshake = |what: String| {
            self.transcript.push(&label, Direction::Note, what.clone());
            AcceptFailure::Handshake(what)
        };
        let stream: crate::wire::Stream = match &self.tls {
            None => Box::new(stream),
            Some(tls) => {
                match tls::peek_opening(&stream, Duration::from_secs(5)).await {
                    Ok(tls::Opening::ClientHello(versions)) => {
                        let names: Vec<String> = versions.iter().map(|v| tls::version_name(*v)).collect();
                        self.transcript.push(
                            &label,
                            Direction::Note,
                            format!("ClientHello offers {}", names.join(", ")),
                        );
                        self.client_hello_versions = Some(versions);
                    }
                    Ok(tls::Opening::NotTls(bytes)) => {
                        return Err(handshake(format!("the client spoke without TLS: {bytes}")));
                    }
                    Err(e) => return Err(handshake(e)),
                }
                match tokio::time::timeout(Duration::from_secs(5), tls.acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => Box::new(tls_stream),
                    Ok(Err(e)) => return Err(handshake(format!("the TLS handshake failed: {e}"))),
                    Err(_) => return Err(handshake("the TLS handshake did not finish within 5 s".into())),
                }
            }
        };
        let secure = if self.tls.is_some() { "over TLS " } else { "" };
        if self.offer.is_websocket() {
            let what = format!("{secure}from {peer}");
            Conn::accepted_websocket(stream, &what, &label, &self.transcript, Duration::from_secs(5))
                .await
                .map_err(|e| handshake(format!("the WebSocket handshake failed: {e}")))
        } else {
            Ok(Conn::accepted(
                stream,
                &format!("a TCP connection {secure}from {peer}"),
                &label,
                &self.transcript,
            ))
        }
    }

    /// Accepts the next connection and reads its first frame, which must be a Hello.
    pub async fn accept_hello(&mut self, wait: Duration) -> Result<(Conn, Hello), Stop> {
        let mut conn = self.accept_offered(wait).await.map_err(|failure| {
            fail("CIM-4.1-1", "a connection from the client, then Hello", failure.to_string())
        })?;
        conn.auto_pong = false;
        match conn.next(wait).await {
            Event::Frame(Frame { body: Some(Body::Hello(hello)) }) => Ok((conn, hello)),
            other => Err(fail("CIM-4.1-1", "Hello as the first frame", other.describe())),
        }
    }

    /// A Welcome for `hello`, with short heartbeats and the harness's epoch.
    pub fn welcome(&self, hello: &Hello, next_seq: u64, outcome: i32) -> Frame {
        let user = self.logins().last().map(|l| l.user_id.clone()).unwrap_or_default();
        let _ = hello;
        Frame {
            body: Some(Body::Welcome(Welcome {
                version: 1,
                session_id: format!("cf-session-{}", self.conns),
                user_id: user,
                heartbeat_interval_ms: 30_000,
                heartbeat_timeout_ms: 75_000,
                limits: Some(Limits {
                    max_frame_size: 65_536,
                    max_body_size: 61_440,
                    max_in_flight: 64,
                    sends_per_second: 100,
                    send_burst: 200,
                }),
                resume: Some(ResumeResult { outcome, epoch: self.epoch, next_seq }),
                server_time_ms: 0,
                server_id: "cim-conformance".into(),
            })),
        }
    }

    /// Whether the client opens another connection within `wait`.
    pub async fn reconnects_within(&mut self, wait: Duration) -> bool {
        self.accept(wait).await.is_some()
    }
}
