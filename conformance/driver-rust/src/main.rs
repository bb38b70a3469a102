//! The conformance driver of the Rust SDK (spec/v1/driver.md): JSON-line commands on stdin
//! become calls of `cim_sdk::Client`, and what the client reports becomes event lines on
//! stdout. It decides nothing itself: every behaviour the harness sees is the SDK's.

use bytes::Bytes;
use cim_sdk::{Client, ClientOptions, Credentials, Error, Event, Target, Transport};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the command loop hands to the task that owns the client.
enum ToClient {
    Send { reference: String, to: Target, content_type: String, body: Bytes },
    OnlineUsers,
}

/// Event lines, written in order by one task.
type Out = mpsc::UnboundedSender<Value>;

/// The client of the last `login`, owned by its task.
struct Running {
    commands: mpsc::UnboundedSender<ToClient>,
    close: tokio::sync::oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    /// Closes the client, even one still logging in, and waits until its task has reported it.
    async fn close(self) {
        let _ = self.close.send(());
        let mut task = self.task;
        if tokio::time::timeout(std::time::Duration::from_secs(3), &mut task).await.is_err() {
            task.abort();
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let logs = LogSink::default();
    match std::env::var("CIM_CONFORMANCE_CONNECT") {
        // Spec DRV-1-7: one connection per case, until the harness is gone.
        Ok(harness) => {
            install_logging(logs.clone());
            while let Ok(stream) = tokio::net::TcpStream::connect(&harness).await {
                let (read, write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                // Spec DRV-1-8: the first line says where the route is and whether to log.
                let Ok(Some(first)) = lines.next_line().await else { continue };
                let start: Value = serde_json::from_str(&first).unwrap_or_default();
                let route = text(&start, "route");
                let log = start["log"] == Value::Bool(true);
                serve(lines, write, route, log.then(|| logs.clone())).await;
            }
        }
        Err(_) => {
            // Spec DRV-1-6: the SDK's most detailed logs, on standard error.
            if std::env::var_os("CIM_CONFORMANCE_LOG").is_some() {
                tracing_subscriber::fmt()
                    .with_writer(std::io::stderr)
                    .with_max_level(tracing::Level::TRACE)
                    .init();
            }
            let route = std::env::var("CIM_CONFORMANCE_ROUTE").unwrap_or_default();
            let lines = BufReader::new(tokio::io::stdin()).lines();
            serve(lines, tokio::io::stdout(), route, None).await;
        }
    }
}

/// Speaks the driver contract over one stream of command lines and one of event lines, until
/// `close` or the end of the commands. With `logs`, log lines go out as `log` events.
async fn serve<R, W>(mut lines: tokio::io::Lines<R>, mut sink: W, route: String, logs: Option<LogSink>)
where
    R: tokio::io::AsyncBufRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (out, mut lines_out) = mpsc::unbounded_channel::<Value>();
    if let Some(logs) = &logs {
        logs.forward_to(Some(out.clone()));
    }
    let writer = tokio::spawn(async move {
        while let Some(event) = lines_out.recv().await {
            let _ = sink.write_all(format!("{event}\n").as_bytes()).await;
            let _ = sink.flush().await;
        }
    });
    let _ = out.send(json!({"event": "ready"}));
    let mut client: Option<Running> = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(command) = serde_json::from_str::<Value>(&line) else {
            unsupported(&out, "", "not a JSON object");
            continue;
        };
        let cmd = command.get("cmd").and_then(Value::as_str).unwrap_or_default();
        match cmd {
            "login" => {
                let Some(options) = options(&command, &out) else { continue };
                // Spec DRV-3-4: a new login ends the client of the last one, as an app does
                // when its user logs out and someone else logs in.
                if let Some(running) = client.take() {
                    running.close().await;
                }
                let credentials = Credentials::Password {
                    user: text(&command, "user_name"),
                    password: text(&command, "password"),
                };
                let (commands, rx) = mpsc::unbounded_channel();
                let (close, closing) = tokio::sync::oneshot::channel();
                let task =
                    tokio::spawn(run_client(route.clone(), credentials, options, (rx, closing), out.clone()));
                client = Some(Running { commands, close, task });
            }
            "send" | "online_users" => {
                let Some(running) = &client else {
                    unsupported(&out, cmd, &format!("{cmd} before login"));
                    continue;
                };
                let message = if cmd == "online_users" {
                    ToClient::OnlineUsers
                } else {
                    let Some(to) = target(&command["to"]) else {
                        unsupported(&out, cmd, "to must be user_id, group_id or everyone");
                        continue;
                    };
                    ToClient::Send {
                        reference: text(&command, "ref"),
                        to,
                        content_type: text(&command, "content_type"),
                        body: Bytes::from(text(&command, "body").into_bytes()),
                    }
                };
                let _ = running.commands.send(message);
            }
            "close" => break,
            other => unsupported(&out, other, "this driver does not know the command"),
        }
    }
    if let Some(running) = client.take() {
        running.close().await;
    }
    if let Some(logs) = &logs {
        logs.forward_to(None);
    }
    drop(out);
    let _ = writer.await;
}

/// Where log lines go while a connected case asked for them (spec DRV-1-9): `log` events on
/// its connection; nowhere otherwise.
#[derive(Clone, Default)]
struct LogSink(std::sync::Arc<std::sync::Mutex<Option<Out>>>);

impl LogSink {
    fn forward_to(&self, out: Option<Out>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = out;
    }
}

impl std::io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Some(out) = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref() {
            for line in String::from_utf8_lossy(bytes).lines().filter(|l| !l.is_empty()) {
                let _ = out.send(json!({"event": "log", "message": line}));
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn install_logging(sink: LogSink) {
    tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .init();
}

fn text(command: &Value, key: &str) -> String {
    command.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn unsupported(out: &Out, cmd: &str, message: &str) {
    let _ = out.send(json!({"event": "unsupported", "cmd": cmd, "message": message}));
}

/// The client options a `login` asks for, or `None` after answering `unsupported`.
fn options(command: &Value, out: &Out) -> Option<ClientOptions> {
    let mut options = ClientOptions::new(text(command, "device_id"));
    match command.get("transport").and_then(Value::as_str) {
        None | Some("tcp") => {}
        Some("websocket") => options = options.transport(Transport::WebSocket),
        Some(other) => {
            unsupported(out, "login", &format!("no transport {other:?}"));
            return None;
        }
    }
    if let Some(pem) = command.get("trust_pem").and_then(Value::as_str) {
        match options.trust_pem(pem.as_bytes()) {
            Ok(trusting) => options = trusting,
            Err(error) => {
                unsupported(out, "login", &error.to_string());
                return None;
            }
        }
    }
    Some(options)
}

fn target(to: &Value) -> Option<Target> {
    if let Some(user) = to.get("user_id").and_then(Value::as_str) {
        Some(Target::User(user.to_owned()))
    } else if let Some(group) = to.get("group_id").and_then(Value::as_str) {
        Some(Target::Group(group.to_owned()))
    } else if to.get("everyone") == Some(&Value::Bool(true)) {
        Some(Target::Everyone)
    } else {
        None
    }
}

fn code_of(error: &Error) -> u32 {
    match error {
        Error::Route { code, .. } | Error::Rejected { code, .. } => code.0,
        _ => 0,
    }
}

/// The line for an event of the client.
fn event_line(event: Event) -> Value {
    match event {
        Event::Connected { session_id, .. } => json!({"event": "connected", "session_id": session_id}),
        Event::Message(m) => json!({
            "event": "message", "message_id": m.message_id, "from_user_id": m.from, "seq": m.seq,
            "content_type": m.content_type, "body": String::from_utf8_lossy(&m.body),
        }),
        Event::InboxDiscontinuity { outcome, .. } => {
            json!({"event": "messages_lost", "reason": outcome.as_str()})
        }
        Event::Disconnected { reason, .. } => json!({"event": "disconnected", "message": reason}),
        Event::Closed { reason, .. } => json!({"event": "closed", "message": reason}),
        other => json!({"event": "note", "message": format!("{other:?}")}),
    }
}

/// Logs in, then owns the client: its events go out as lines, commands come in from the loop.
async fn run_client(
    route: String,
    credentials: Credentials,
    options: ClientOptions,
    (mut commands, mut closing): (mpsc::UnboundedReceiver<ToClient>, tokio::sync::oneshot::Receiver<()>),
    out: Out,
) {
    // Sends given before the session is up wait in the channel, as an application's would.
    let login = tokio::select! {
        login = Client::login(&route, credentials, options) => login,
        _ = &mut closing => {
            let _ = out.send(json!({"event": "closed", "message": "closed by the driver while logging in"}));
            return;
        }
    };
    let mut client = match login {
        Ok(client) => client,
        Err(error) => {
            let _ = out.send(
                json!({"event": "login_failed", "code": code_of(&error), "message": error.to_string()}),
            );
            return;
        }
    };
    loop {
        tokio::select! {
            event = client.next_event() => {
                let Some(event) = event else { break };
                let _ = out.send(event_line(event));
            }
            command = commands.recv() => match command {
                Some(ToClient::Send { reference, to, content_type, body }) => {
                    let ack = client.start_send(to, &content_type, body);
                    let out = out.clone();
                    tokio::spawn(async move {
                        let line = match ack.await {
                            Ok(ack) => json!({"event": "sent", "ref": reference, "message_id": ack.message_id, "duplicate": ack.duplicate}),
                            Err(error) => json!({"event": "send_failed", "ref": reference, "code": code_of(&error), "message": error.to_string()}),
                        };
                        let _ = out.send(line);
                    });
                }
                Some(ToClient::OnlineUsers) => {
                    let sender = client.sender();
                    let out = out.clone();
                    tokio::spawn(async move {
                        let line = match sender.all_online_users(100).await {
                            Ok(users) => {
                                let ids: Vec<String> = users.into_iter().map(|u| u.user_id).collect();
                                json!({"event": "online_users", "user_ids": ids})
                            }
                            Err(error) => json!({"event": "call_failed", "cmd": "online_users", "code": code_of(&error), "message": error.to_string()}),
                        };
                        let _ = out.send(line);
                    });
                }
                None => break,
            },
            _ = &mut closing => {
                client.close().await;
                let _ = out.send(json!({"event": "closed", "message": "closed by the driver"}));
                break;
            }
        }
    }
}
