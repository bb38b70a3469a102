//! Client mode: the harness plays the route and the server, and steers the client under test
//! through a driver process (spec/v1/driver.md).

use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cim_proto::v1::{Frame, Hello, Limits, ResumeResult, Welcome, frame::Body};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::case::{Cx, Stop, fail};
use crate::transcript::{Direction, Transcript};
use crate::wire::{Conn, Event};

/// A login the route the harness plays has answered.
#[derive(Clone, Debug)]
pub struct IssuedLogin {
    /// The user name.
    pub user_name: String,
    /// The device.
    pub device_id: String,
    /// The token handed out.
    pub token: String,
}

/// How the route refuses the next Login: HTTP status, registry code and name, Retry-After.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// Registry code.
    pub code: u32,
    /// Seconds for a Retry-After header, if any.
    pub retry_after: Option<u32>,
}

/// The route, the server's listener and the driver of one client case.
pub struct ClientHarness {
    transcript: Transcript,
    server: TcpListener,
    logins: Arc<Mutex<Vec<IssuedLogin>>>,
    refusals: Arc<Mutex<std::collections::VecDeque<Refusal>>>,
    login_requests: Arc<std::sync::atomic::AtomicU32>,
    route_task: tokio::task::JoinHandle<()>,
    driver: Child,
    stdin: ChildStdin,
    events: mpsc::UnboundedReceiver<Value>,
    conns: u32,
    /// The epoch the harness's server gives every inbox.
    pub epoch: u64,
}

impl Drop for ClientHarness {
    fn drop(&mut self) {
        self.route_task.abort();
        // Spec DRV-1-5: a driver still running after its case is ended.
        let _ = self.driver.start_kill();
    }
}

impl ClientHarness {
    /// Starts the route and the server's listener on free ports, then the driver, and waits
    /// for its `ready`.
    pub async fn start(cx: &Cx) -> Result<Self, Stop> {
        let command = cx.target.driver.clone().ok_or_else(|| {
            Stop::Skip("client cases need a driver command (cim-conformance client -- …)".into())
        })?;
        let transcript = cx.transcript.clone();
        let server =
            TcpListener::bind("127.0.0.1:0").await.map_err(|e| Stop::Error(format!("cannot listen: {e}")))?;
        let server_addr = server.local_addr().map_err(|e| Stop::Error(e.to_string()))?;
        let route =
            TcpListener::bind("127.0.0.1:0").await.map_err(|e| Stop::Error(format!("cannot listen: {e}")))?;
        let route_url = format!("http://{}", route.local_addr().map_err(|e| Stop::Error(e.to_string()))?);
        let logins = Arc::new(Mutex::new(Vec::new()));
        let refusals = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let login_requests = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let route_task = tokio::spawn(serve_route(
            route,
            server_addr.to_string(),
            logins.clone(),
            (refusals.clone(), login_requests.clone()),
            transcript.clone(),
        ));

        let (program, args) =
            command.split_first().ok_or_else(|| Stop::Error("an empty driver command".into()))?;
        let mut child = Command::new(program)
            .args(args)
            .env("CIM_CONFORMANCE_ROUTE", &route_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Stop::Error(format!("cannot start the driver {program:?}: {e}")))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(Stop::Error("the driver's standard streams are not available".into()));
        };
        let (tx, events) = mpsc::unbounded_channel();
        let out_transcript = transcript.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                out_transcript.push("driver", Direction::In, line.clone());
                match serde_json::from_str::<Value>(&line) {
                    Ok(value) if value.get("event").is_some() => {
                        let _ = tx.send(value);
                    }
                    _ => out_transcript.push("driver", Direction::Note, "not an event line (spec DRV-1-4)"),
                }
            }
        });
        let err_transcript = transcript.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                err_transcript.push("driver", Direction::Note, format!("stderr: {line}"));
            }
        });
        let mut harness = Self {
            transcript,
            server,
            logins,
            refusals,
            login_requests,
            route_task,
            driver: child,
            stdin,
            events,
            conns: 0,
            epoch: 0x00c1_f00d,
        };
        match harness.event(cx.wait(Duration::from_secs(10)), |e| e["event"] == "ready").await {
            Some(_) => Ok(harness),
            None => Err(Stop::Error(
                "the driver did not write {\"event\":\"ready\"} within 10 s (spec DRV-1-2)".into(),
            )),
        }
    }

    /// Writes a command line to the driver.
    pub async fn command(&mut self, command: Value) {
        let line = format!("{command}\n");
        self.transcript.push("driver", Direction::Out, command.to_string());
        let _ = self.stdin.write_all(line.as_bytes()).await;
        let _ = self.stdin.flush().await;
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

    /// Tells the driver to log in; returns nothing (the login is seen by the route).
    pub async fn login(&mut self, user_name: &str, device_id: &str) {
        self.command(json!({"cmd": "login", "user_name": user_name, "password": "conformance-pw", "device_id": device_id})).await;
    }

    /// Makes the route refuse the next Logins, in order.
    pub fn refuse_logins(&self, refusals: impl IntoIterator<Item = Refusal>) {
        self.refusals.lock().unwrap_or_else(PoisonError::into_inner).extend(refusals);
    }

    /// Login calls the route received, answered or refused.
    pub fn login_requests(&self) -> u32 {
        self.login_requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The logins the route has answered so far.
    pub fn logins(&self) -> Vec<IssuedLogin> {
        self.logins.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The client's next connection to the server, within `wait`.
    pub async fn accept(&mut self, wait: Duration) -> Option<Conn> {
        let (stream, _) = tokio::time::timeout(wait, self.server.accept()).await.ok()?.ok()?;
        self.conns += 1;
        Some(Conn::accepted(stream, &format!("c{}", self.conns), &self.transcript))
    }

    /// Accepts the next connection and reads its first frame, which must be a Hello.
    pub async fn accept_hello(&mut self, wait: Duration) -> Result<(Conn, Hello), Stop> {
        let mut conn = self
            .accept(wait)
            .await
            .ok_or_else(|| fail("CIM-4.1-1", "a connection from the client, then Hello", "no connection"))?;
        conn.auto_pong = false;
        match conn.next(wait).await {
            Event::Frame(Frame { body: Some(Body::Hello(hello)) }) => Ok((conn, hello)),
            other => Err(fail("CIM-4.1-1", "Hello as the first frame", other.describe())),
        }
    }

    /// A Welcome for `hello`, with short heartbeats and the harness's epoch.
    pub fn welcome(&self, hello: &Hello, next_seq: u64, outcome: i32) -> Frame {
        let user = self.logins().last().map(|l| l.user_name.clone()).unwrap_or_default();
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

/// The route: Login answers with a token and the harness's server; everything else is
/// NOT_FOUND. One request per connection.
async fn serve_route(
    listener: TcpListener,
    server: String,
    logins: Arc<Mutex<Vec<IssuedLogin>>>,
    (refusals, login_requests): (
        Arc<Mutex<std::collections::VecDeque<Refusal>>>,
        Arc<std::sync::atomic::AtomicU32>,
    ),
    transcript: Transcript,
) {
    let mut issued = 0u32;
    while let Ok((mut stream, _)) = listener.accept().await {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head_end, length) = loop {
            let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await
            else {
                break (0, 0);
            };
            if n == 0 {
                break (0, 0);
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length);
            }
        };
        if head_end == 0 {
            continue;
        }
        while buf.len() < head_end + length {
            let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await
            else {
                break;
            };
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let request_line = head.lines().next().unwrap_or_default().to_owned();
        let body: Value =
            serde_json::from_slice(buf.get(head_end..).unwrap_or_default()).unwrap_or(Value::Null);
        transcript.push("route", Direction::Note, format!("{request_line} {body}"));
        if request_line.starts_with("POST ")
            && !head.to_ascii_lowercase().contains("content-type: application/json")
        {
            transcript.violation(
                "route",
                crate::case::Failure {
                    requirement: "CIM-14.4-1",
                    expected: "a JSON request body sent with Content-Type: application/json".into(),
                    actual: request_line.clone(),
                },
            );
        }
        if request_line.starts_with("POST /v1/login ")
            && (body.get("user_name").is_none() || body.get("device_id").is_none())
        {
            transcript.violation(
                "route",
                crate::case::Failure {
                    requirement: "CIM-14.4-2",
                    expected: "members named as the fields of route.proto (user_name, password, device_id)"
                        .into(),
                    actual: body.to_string(),
                },
            );
        }
        let refusal = if request_line.starts_with("POST /v1/login ") {
            login_requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            refusals.lock().unwrap_or_else(PoisonError::into_inner).pop_front()
        } else {
            None
        };
        let mut extra_headers = String::new();
        let (status, answer) = if let Some(refusal) = refusal {
            if let Some(seconds) = refusal.retry_after {
                extra_headers = format!("retry-after: {seconds}\r\n");
            }
            let name = crate::spec::code_name(refusal.code).unwrap_or("UNKNOWN");
            let status = match refusal.status {
                401 => "401 Unauthorized",
                429 => "429 Too Many Requests",
                503 => "503 Service Unavailable",
                _ => "400 Bad Request",
            };
            (status, json!({"code": refusal.code, "name": name, "message": "refused by cim-conformance"}))
        } else if request_line.starts_with("POST /v1/login ") {
            issued += 1;
            let user_name = body["user_name"].as_str().unwrap_or_default().to_owned();
            let device_id = body["device_id"].as_str().unwrap_or_default().to_owned();
            let token = format!("cf-token-{issued}-{}", "t".repeat(40));
            logins.lock().unwrap_or_else(PoisonError::into_inner).push(IssuedLogin {
                user_name: user_name.clone(),
                device_id,
                token: token.clone(),
            });
            let expires = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
                + 3_600_000;
            let server = json!({"server_id": "cim-conformance", "tcp_endpoint": server, "ws_url": "", "tcp_tls": false, "connections": 0, "draining": false});
            (
                "200 OK",
                json!({"user_id": user_name, "user_name": user_name, "token": token, "token_expires_at_ms": expires, "server": server}),
            )
        } else {
            (
                "404 Not Found",
                json!({"code": 6001, "name": "NOT_FOUND", "message": "the conformance route answers Login only"}),
            )
        };
        let text = answer.to_string();
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}connection: close\r\n\r\n{text}",
            text.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }
}
