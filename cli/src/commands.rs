//! Scriptable commands: `register`, `send`, `listen`.

use std::time::Duration;

use cim_core::ErrorCode;
use cim_sdk::{Client, ClientOptions, Credentials, Event, Message, Target, Transport};
use serde_json::json;

/// How to reach the route and who to be.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct Account {
    /// Base URL of the route's HTTP API.
    #[arg(long, env = "CIM_ROUTE", default_value = "http://127.0.0.1:8083")]
    pub(crate) route: String,
    /// User name.
    #[arg(long, short, env = "CIM_USER")]
    pub(crate) user: String,
    /// Password of the user [default: the session `cim login --save` kept, where one serves;
    /// else asked for on the terminal].
    #[arg(long, short, env = "CIM_PASSWORD", hide_env_values = true)]
    pub(crate) password: Option<String>,
}

impl Account {
    /// How to log in, and as which device: the password when given; else the saved session
    /// of this user at this route (`cim login --save`), made for its own device, unless
    /// another device was asked for; else the password, asked for.
    pub(crate) fn credentials(
        &self,
        device: Option<&str>,
        default_device: &str,
    ) -> Result<(Credentials, String), Failure> {
        if self.password.is_none()
            && let Some((saved_device, login)) = crate::session::load(&self.route, &self.user)
            && device.is_none_or(|d| d == saved_device)
        {
            return Ok((Credentials::Session(Box::new(login)), saved_device));
        }
        let device = device.unwrap_or(default_device).to_owned();
        Ok((Credentials::password(&self.user, self.password()?), device))
    }

    /// The password as given, else read from the terminal without echo. Scripts without a
    /// terminal must give it: they get a usage error rather than a hang.
    pub(crate) fn password(&self) -> Result<String, Failure> {
        use std::io::IsTerminal as _;
        if let Some(password) = &self.password {
            return Ok(password.clone());
        }
        if !std::io::stdin().is_terminal() {
            return Err(Failure {
                exit: 2,
                message: "no password: give --password or CIM_PASSWORD (no terminal to ask on)".into(),
            });
        }
        rpassword::prompt_password(format!("password for {}: ", self.user))
            .map_err(|e| Failure { exit: 2, message: format!("cannot read the password: {e}") })
    }
}

/// Where and how a command connects.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ConnectionArgs {
    /// This client's device id: each device has its own inbox position, and a new session of
    /// the same device replaces the old one [default: cim-<command>].
    #[arg(long, env = "CIM_DEVICE")]
    device: Option<String>,
    /// Transport to the server.
    #[arg(long, value_enum, default_value_t = TransportArg::Tcp)]
    transport: TransportArg,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum TransportArg {
    Tcp,
    Websocket,
}

/// A command's failure, with the exit code that tells scripts what kind it is.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: u8,
    pub(crate) message: String,
}

/// Exit codes (also in `cim --help`).
pub(crate) mod exit {
    /// The credentials were refused.
    pub(crate) const AUTH: u8 = 3;
    /// The route or server could not be reached.
    pub(crate) const UNREACHABLE: u8 = 4;
    /// The request was refused (unknown recipient, name taken, …).
    pub(crate) const REFUSED: u8 = 5;
    /// `listen --count` did not get its messages before `--timeout`.
    pub(crate) const TIMEOUT: u8 = 6;
}

impl From<cim_sdk::Error> for Failure {
    fn from(error: cim_sdk::Error) -> Self {
        let exit = match &error {
            cim_sdk::Error::Unreachable { .. } | cim_sdk::Error::Timeout(_) => exit::UNREACHABLE,
            e if matches!(
                e.code(),
                Some(ErrorCode::INVALID_CREDENTIALS | ErrorCode::UNAUTHENTICATED | ErrorCode::TOKEN_EXPIRED)
            ) =>
            {
                exit::AUTH
            }
            cim_sdk::Error::Closed(reason) if reason.contains("login refused") => exit::AUTH,
            _ => exit::REFUSED,
        };
        Self { exit, message: error.to_string() }
    }
}

impl ConnectionArgs {
    /// The device id, or `default`.
    pub(crate) fn device_or(&self, default: &str) -> String {
        self.device.clone().unwrap_or_else(|| default.to_owned())
    }

    /// The transport.
    pub(crate) fn transport(&self) -> Transport {
        match self.transport {
            TransportArg::Tcp => Transport::Tcp,
            TransportArg::Websocket => Transport::WebSocket,
        }
    }
}

async fn connect(account: &Account, connection: &ConnectionArgs, command: &str) -> Result<Client, Failure> {
    let (credentials, device) =
        account.credentials(connection.device.as_deref(), &format!("cim-{command}"))?;
    let transport = connection.transport();
    Ok(Client::login(&account.route, credentials, ClientOptions::new(device).transport(transport)).await?)
}

/// Options of `cim register`.
#[derive(clap::Args, Debug)]
pub(crate) struct RegisterArgs {
    #[command(flatten)]
    account: Account,
    /// Print the new user as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn register(args: RegisterArgs) -> Result<(), Failure> {
    let account = &args.account;
    let user_id = cim_sdk::register(&account.route, &account.user, &account.password()?).await?;
    if args.json {
        say!("{}", json!({ "user_id": user_id, "user_name": account.user }));
    } else {
        say!("registered {user_id}");
    }
    Ok(())
}

/// Options of `cim send`.
#[derive(clap::Args, Debug)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    account: Account,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Recipient: a user name, `#group` for a group, or `*` for everyone online (live only).
    #[arg(long)]
    to: String,
    /// Print the server's acknowledgement as JSON.
    #[arg(long)]
    json: bool,
    /// The message text.
    #[arg(required = true, num_args = 1..)]
    text: Vec<String>,
}

pub(crate) fn parse_target(to: &str) -> Result<Target, Failure> {
    let target = match to {
        "*" => Target::Everyone,
        group if group.starts_with('#') => Target::Group(group[1..].to_owned()),
        user => Target::User(user.to_owned()),
    };
    match &target {
        Target::User(id) | Target::Group(id) if id.is_empty() => {
            Err(Failure { exit: 2, message: "--to needs a user name, #group or *".into() })
        }
        _ => Ok(target),
    }
}

pub(crate) async fn send(args: SendArgs) -> Result<(), Failure> {
    let target = parse_target(&args.to)?;
    let client = connect(&args.account, &args.connection, "send").await?;
    let text = args.text.join(" ");
    let result = async {
        // --to takes a name; the message goes to that user's id (spec CIM-14.4-41).
        let target = match target {
            Target::User(name) => Target::User(client.user_id_of(&name).await?),
            other => other,
        };
        client.send(target, "text/plain", text.into_bytes().into()).await
    }
    .await;
    client.close().await;
    let ack = result?;
    if args.json {
        let line = json!({
            "message_id": ack.message_id, "sent_at_ms": ack.sent_at_ms,
            "duplicate": ack.duplicate, "live_only": ack.live_only,
        });
        say!("{line}");
    } else if ack.live_only {
        say!("sent to everyone online ({})", ack.message_id);
    } else {
        say!("sent ({})", ack.message_id);
    }
    Ok(())
}

/// Options of `cim listen`.
#[derive(clap::Args, Debug)]
pub(crate) struct ListenArgs {
    #[command(flatten)]
    account: Account,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// One JSON object per message (and per connection change), for scripts.
    #[arg(long)]
    json: bool,
    /// Exit after this many messages.
    #[arg(long)]
    count: Option<u64>,
    /// Exit after this many seconds (with code 6 if --count was not reached).
    #[arg(long)]
    timeout: Option<f64>,
}

/// `to_kind` and `to`, as the Python and Kotlin SDKs name them: one vocabulary for scripts.
fn target_fields(target: &Target) -> (&'static str, &str) {
    match target {
        Target::User(user) => ("user", user),
        Target::Group(group) => ("group", group),
        Target::Everyone => ("everyone", ""),
    }
}

pub(crate) fn message_json(message: &Message) -> serde_json::Value {
    let (to_kind, to) = target_fields(&message.to);
    json!({
        "type": "message",
        "seq": message.seq,
        "message_id": message.message_id,
        "from_user_id": message.from,
        "to_kind": to_kind,
        "to": to,
        "content_type": message.content_type,
        "text": message.text(),
        "sent_at_ms": message.sent_at_ms,
    })
}

fn message_line(message: &Message) -> String {
    match &message.to {
        Target::Group(group) => format!("[#{group}] {}: {}", message.from, message.text()),
        Target::Everyone => format!("[all] {}: {}", message.from, message.text()),
        Target::User(_) => format!("{}: {}", message.from, message.text()),
    }
}

pub(crate) async fn listen(args: ListenArgs) -> Result<(), Failure> {
    let mut client = connect(&args.account, &args.connection, "listen").await?;
    let deadline = args.timeout.map(|s| tokio::time::Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut received = 0u64;
    if !args.json {
        eprintln!("listening as {} (Ctrl-C to stop)", client.user_id());
    }
    let outcome = loop {
        if args.count.is_some_and(|count| received >= count) {
            break Ok(());
        }
        let next = async {
            match deadline {
                Some(at) => tokio::time::timeout_at(at, client.next_event()).await.ok(),
                None => Some(client.next_event().await),
            }
        };
        let event = tokio::select! {
            event = next => event,
            _ = tokio::signal::ctrl_c() => break Ok(()),
        };
        let Some(event) = event else {
            break if args.count.is_some() {
                Err(Failure {
                    exit: exit::TIMEOUT,
                    message: format!("only {received} messages before the timeout"),
                })
            } else {
                Ok(())
            };
        };
        match event {
            Some(Event::Message(message)) => {
                received += 1;
                if args.json {
                    say!("{}", message_json(&message));
                } else {
                    say!("{}", message_line(&message));
                }
            }
            Some(Event::Closed { reason, .. }) => {
                break Err(Failure { exit: exit::REFUSED, message: reason });
            }
            Some(other) => {
                if let Some(line) = status_line(&other, args.json) {
                    eprintln!("{line}");
                }
            }
            None => break Ok(()),
        }
    };
    client.close().await;
    outcome
}

fn status_line(event: &Event, json: bool) -> Option<String> {
    let (kind, text) = match event {
        Event::Connected { server_id, resume, .. } => {
            ("connected", format!("connected to {server_id} ({resume:?})"))
        }
        Event::Disconnected { reason, retry_in, .. } => (
            "disconnected",
            format!("disconnected: {reason}; reconnecting in {:.1}s", retry_in.as_secs_f64()),
        ),
        Event::InboxDiscontinuity { outcome, .. } => {
            ("discontinuity", format!("messages may have been missed ({})", outcome.as_str()))
        }
        _ => return None,
    };
    Some(if json { json!({ "type": kind, "detail": text }).to_string() } else { text })
}
