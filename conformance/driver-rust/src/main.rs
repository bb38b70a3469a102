//! The conformance driver of the Rust SDK (spec/v1/driver.md): JSON-line commands on stdin
//! become calls of `cim_sdk::Client`, and what the client reports becomes event lines on
//! stdout. It decides nothing itself: every behaviour the harness sees is the SDK's.

use bytes::Bytes;
use cim_sdk::{Client, ClientOptions, Credentials, Error, Event, Target};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// What the command loop hands to the task that owns the client.
enum ToClient {
    Send { reference: String, to: Target, content_type: String, body: Bytes },
    Close,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let route = std::env::var("CIM_CONFORMANCE_ROUTE").unwrap_or_default();
    let (out, mut lines_out) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(event) = lines_out.recv().await {
            let _ = stdout.write_all(format!("{event}\n").as_bytes()).await;
            let _ = stdout.flush().await;
        }
    });
    let _ = out.send(json!({"event": "ready"}));
    let mut client: Option<mpsc::UnboundedSender<ToClient>> = None;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(command) = serde_json::from_str::<Value>(&line) else {
            let _ = out.send(json!({"event": "unsupported", "cmd": "", "message": "not a JSON object"}));
            continue;
        };
        let text = |key: &str| command.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        match command.get("cmd").and_then(Value::as_str).unwrap_or_default() {
            "login" => {
                let (tx, rx) = mpsc::unbounded_channel();
                client = Some(tx);
                let credentials =
                    Credentials::Password { user: text("user_name"), password: text("password") };
                tokio::spawn(run_client(route.clone(), credentials, text("device_id"), rx, out.clone()));
            }
            "send" => {
                let Some(to) = target(&command["to"]) else {
                    let _ = out.send(json!({"event": "unsupported", "cmd": "send", "message": "to must be user_id, group_id or everyone"}));
                    continue;
                };
                let send = ToClient::Send {
                    reference: text("ref"),
                    to,
                    content_type: text("content_type"),
                    body: Bytes::from(text("body").into_bytes()),
                };
                match &client {
                    Some(client) => {
                        let _ = client.send(send);
                    }
                    None => {
                        let _ = out.send(
                            json!({"event": "unsupported", "cmd": "send", "message": "send before login"}),
                        );
                    }
                }
            }
            "close" => {
                if let Some(client) = &client {
                    let _ = client.send(ToClient::Close);
                }
                break;
            }
            other => {
                let _ = out.send(json!({"event": "unsupported", "cmd": other, "message": "this driver does not know the command"}));
            }
        }
    }
    // Let the client's task report its close, then stop writing.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(out);
    let _ = writer.await;
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

/// Logs in, then owns the client: its events go out as lines, sends come in from the loop.
async fn run_client(
    route: String,
    credentials: Credentials,
    device: String,
    mut commands: mpsc::UnboundedReceiver<ToClient>,
    out: mpsc::UnboundedSender<Value>,
) {
    // Sends given before the session is up wait here, as an application's would.
    let mut client = match Client::login(&route, credentials, ClientOptions::new(device)).await {
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
                let line = match event {
                    Event::Connected { session_id, .. } => json!({"event": "connected", "session_id": session_id}),
                    Event::Message(m) => json!({
                        "event": "message", "message_id": m.message_id, "from_user_id": m.from, "seq": m.seq,
                        "content_type": m.content_type, "body": String::from_utf8_lossy(&m.body),
                    }),
                    Event::InboxDiscontinuity { outcome, .. } => {
                        let reason = if format!("{outcome:?}").contains("Epoch") { "epoch_changed" } else { "gap" };
                        json!({"event": "messages_lost", "reason": reason})
                    }
                    Event::Disconnected { reason, .. } => json!({"event": "disconnected", "message": reason}),
                    Event::Closed { reason } => json!({"event": "closed", "message": reason}),
                    other => json!({"event": "note", "message": format!("{other:?}")}),
                };
                let _ = out.send(line);
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
                Some(ToClient::Close) | None => {
                    client.close().await;
                    let _ = out.send(json!({"event": "closed", "message": "closed by the driver"}));
                    break;
                }
            },
        }
    }
}
