//! `cim chat`: log in and chat, with line editing, history and the old client's commands.
//!
//! Reading the keyboard blocks, so a thread runs the line editor (reedline) and hands each
//! line over; the async side sends, prints incoming messages above the prompt (through the
//! editor's external printer, so what is being typed is not garbled) and runs the commands.
//! Without a terminal (input from a pipe) lines are read plainly and output is printed as is.

mod emoji;
mod input;

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal};
use std::time::Duration;

use cim_sdk::{Client, ClientOptions, ConnectionState, Credentials, Event, Message, ResumeOutcome, Target};
use reedline::{ExternalPrinter, Prompt, PromptEditMode, PromptHistorySearch, Reedline, Signal};
use tokio::sync::mpsc;

use crate::commands::{self, ConnectionArgs, Failure};
use crate::history::{Entry, History};
use crate::style::Style;
use input::{COMMANDS, Input, MESSAGE_FORMS};

/// Options of `cim chat`.
#[derive(clap::Args, Debug)]
pub(crate) struct ChatArgs {
    /// Base URL of the route's HTTP API.
    #[arg(long, env = "CIM_ROUTE", default_value = "http://127.0.0.1:8083")]
    route: String,
    /// User name (not needed with --token).
    #[arg(long, short, env = "CIM_USER", required_unless_present = "token")]
    user: Option<String>,
    /// Password [default: asked for, without echo].
    #[arg(long, short, env = "CIM_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// A JWT from your application's backend instead of a user name and password.
    #[arg(long, env = "CIM_TOKEN", hide_env_values = true, conflicts_with_all = ["user", "password"])]
    token: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Create the account first if it does not exist yet (with --user and the password).
    #[arg(long, conflicts_with = "token")]
    register: bool,
    /// Keep no local history of this chat.
    #[arg(long)]
    no_history: bool,
}

/// What the keyboard thread hands over.
enum Line {
    Text(String),
    /// Ctrl-D, or the terminal went away.
    End,
}

/// Where output goes: above the prompt while the editor runs, else plain stdout.
struct Screen {
    printer: Option<ExternalPrinter<String>>,
    style: Style,
}

impl Screen {
    fn line(&mut self, text: impl Into<String>) {
        let text = text.into();
        if let Some(printer) = &self.printer {
            match printer.sender().try_send(text) {
                Ok(()) => return,
                Err(e) => {
                    // The editor is gone (or hopelessly behind): print plainly from now on.
                    self.printer = None;
                    println!("{}", e.into_inner());
                    return;
                }
            }
        }
        println!("{text}");
    }

    fn notice(&mut self, text: &str) {
        let text = self.style.notice(text);
        self.line(text);
    }

    fn error(&mut self, text: &str) {
        let text = self.style.error(text);
        self.line(text);
    }
}

/// The chat's state besides the client.
struct Chat {
    screen: Screen,
    history: Option<History>,
    user: String,
    /// Outcomes of sends in flight: (recipient, text, result).
    acks: mpsc::UnboundedSender<(Target, String, Result<cim_sdk::SendAck, cim_sdk::Error>)>,
    /// Messages of `:delay` whose time has come.
    delayed: mpsc::UnboundedSender<(Target, String)>,
    connected_once: bool,
    /// Sends not yet acknowledged: quitting waits for them.
    in_flight: usize,
}

fn credentials(args: &ChatArgs) -> Result<Credentials, Failure> {
    if let Some(token) = &args.token {
        return Ok(Credentials::Jwt(token.clone()));
    }
    let user = args.user.clone().unwrap_or_default();
    let password = match &args.password {
        Some(password) => password.clone(),
        None => rpassword::prompt_password(format!("password for {user}: "))
            .map_err(|e| Failure { exit: 2, message: format!("cannot read the password: {e}") })?,
    };
    Ok(Credentials::password(user, password))
}

/// Runs `cim chat` until `:q!`, Ctrl-D or the session is ended for good.
pub(crate) async fn run(args: ChatArgs) -> Result<(), Failure> {
    let credentials = credentials(&args)?;
    if let (true, Credentials::Password { user, password }) = (args.register, &credentials) {
        match cim_sdk::register(&args.route, user, password).await {
            Ok(_) => println!("registered {user}"),
            Err(e) if e.code() == Some(cim_core::ErrorCode::ALREADY_EXISTS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let options =
        ClientOptions::new(args.connection.device_or("cim-chat")).transport(args.connection.transport());
    let mut client = Client::login(&args.route, credentials, options).await?;
    let user = client.user_id();
    let style = Style::for_stdout();

    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    // The editor reads the next line only once the last one is handled: after `:q!` it must
    // not take the terminal into raw mode again.
    let (resume, resume_rx) = std::sync::mpsc::channel::<()>();
    let printer = if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        let printer = ExternalPrinter::<String>::new(4096);
        let mut editor =
            Reedline::create().with_external_printer(printer.clone()).with_ansi_colors(style.colored());
        // Lines typed earlier, kept next to the chat history (up-arrow and Ctrl-R find them).
        if let Ok(path) = History::of(&user).map(|h| h.path().with_extension("lines"))
            && let Ok(lines) = reedline::FileBackedHistory::with_file(1000, path)
        {
            editor = editor.with_history(Box::new(lines));
        }
        let prompt = ChatPrompt(user.clone());
        std::thread::spawn(move || edit_lines(editor, &prompt, &lines_tx, &resume_rx));
        Some(printer)
    } else {
        std::thread::spawn(move || read_plain_lines(&lines_tx));
        None
    };

    let (acks_tx, mut acks) = mpsc::unbounded_channel();
    let (delayed_tx, mut delayed) = mpsc::unbounded_channel();
    let history = if args.no_history { None } else { History::of(&user).ok() };
    let mut chat = Chat {
        screen: Screen { printer, style },
        history,
        user: user.clone(),
        acks: acks_tx,
        delayed: delayed_tx,
        connected_once: false,
        in_flight: 0,
    };
    let status = client.status();
    chat.screen.notice(&format!(
        "logged in as {user} on {} — type a message, :all lists the commands, :q! quits",
        status.server_id
    ));

    let outcome = loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(Line::Text(line)) => {
                    if !chat.on_line(&client, &line).await {
                        break Ok(());
                    }
                    let _ = resume.send(());
                }
                Some(Line::End) | None => break Ok(()),
            },
            event = client.next_event() => match event {
                Some(Event::Closed { reason, .. }) => {
                    break Err(Failure { exit: commands::exit::REFUSED, message: format!("session ended: {reason}") });
                }
                Some(event) => chat.on_event(event),
                None => break Ok(()),
            },
            Some((to, text, result)) = acks.recv() => chat.on_ack(to, text, result),
            Some((to, text)) = delayed.recv() => chat.send(&client, to, text),
        }
    };
    // Give the terminal back before the last words, which go straight to it.
    if chat.screen.printer.take().is_some() {
        let _ = crossterm::terminal::disable_raw_mode();
        println!();
    }
    // Don't lose what was just typed: wait (a little) for the last acknowledgements.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while chat.in_flight > 0 {
        match tokio::time::timeout_at(deadline, acks.recv()).await {
            Ok(Some((to, text, result))) => chat.on_ack(to, text, result),
            _ => {
                chat.screen
                    .error(&format!("{} message(s) were not acknowledged before quitting", chat.in_flight));
                break;
            }
        }
    }
    client.close().await;
    outcome
}

/// The prompt: `alice> `.
struct ChatPrompt(String);

impl Prompt for ChatPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }

    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }

    fn render_prompt_indicator(&self, _mode: PromptEditMode) -> Cow<'_, str> {
        Cow::Borrowed("> ")
    }

    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed("::: ")
    }

    fn render_prompt_history_search_indicator(&self, search: PromptHistorySearch) -> Cow<'_, str> {
        Cow::Owned(format!("(search: {}) ", search.term))
    }
}

/// The keyboard thread at a terminal: one line at a time until Ctrl-D or the chat is gone.
fn edit_lines(
    mut editor: Reedline,
    prompt: &ChatPrompt,
    lines: &mpsc::UnboundedSender<Line>,
    resume: &std::sync::mpsc::Receiver<()>,
) {
    loop {
        match editor.read_line(prompt) {
            Ok(Signal::Success(line)) => {
                if lines.send(Line::Text(line)).is_err() || resume.recv().is_err() {
                    return;
                }
            }
            // Ctrl-C clears the line, as in a shell; Ctrl-D leaves.
            Ok(Signal::CtrlC) => {}
            Ok(_) | Err(_) => {
                let _ = lines.send(Line::End);
                return;
            }
        }
    }
}

/// Input from a pipe: plain lines until its end.
fn read_plain_lines(lines: &mpsc::UnboundedSender<Line>) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if lines.send(Line::Text(line)).is_err() {
            return;
        }
    }
    let _ = lines.send(Line::End);
}

/// `name`, `#group` or `*`, as history and output write a recipient.
fn target_text(to: &Target) -> String {
    match to {
        Target::User(user) => user.clone(),
        Target::Group(group) => format!("#{group}"),
        Target::Everyone => "*".to_owned(),
    }
}

impl Chat {
    fn remember(&mut self, entry: Entry) {
        if let Some(history) = &self.history
            && let Err(e) = history.append(&entry)
        {
            self.screen.error(&format!("cannot write the history ({}): {e}", history.path().display()));
            self.history = None;
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Message(message) => self.on_message(message),
            Event::Connected { server_id, resume, .. } => {
                if self.connected_once {
                    let how = match resume {
                        ResumeOutcome::Resumed => "resumed where it left off",
                        ResumeOutcome::Fresh => "fresh inbox",
                        ResumeOutcome::EpochChanged => "the inbox was reset",
                        ResumeOutcome::Gap => "some messages expired meanwhile",
                        _ => "connected",
                    };
                    self.screen.notice(&format!("reconnected to {server_id} ({how})"));
                }
                self.connected_once = true;
            }
            Event::Disconnected { reason, retry_in, .. } => self.screen.notice(&format!(
                "connection lost ({reason}); reconnecting in {:.1}s",
                retry_in.as_secs_f64()
            )),
            Event::InboxDiscontinuity { outcome, .. } => {
                self.screen.notice(&format!("some messages may be missing ({})", outcome.as_str()));
            }
            Event::Closed { .. } => {}
            _ => {}
        }
    }

    fn on_message(&mut self, message: Message) {
        let style = self.screen.style;
        let from = style.name(&message.from);
        let line = match &message.to {
            Target::Group(group) => {
                format!("{} {from}: {}", style.place(&format!("[#{group}]")), message.text())
            }
            Target::Everyone => format!("{} {from}: {}", style.place("[all]"), message.text()),
            Target::User(_) => format!("{from}: {}", message.text()),
        };
        self.screen.line(line);
        self.remember(Entry {
            at_ms: message.sent_at_ms,
            direction: "in".into(),
            from: message.from.clone(),
            to: target_text(&message.to),
            text: message.text(),
            message_id: message.message_id.clone(),
        });
    }

    fn on_ack(&mut self, to: Target, text: String, result: Result<cim_sdk::SendAck, cim_sdk::Error>) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match result {
            Ok(ack) => self.remember(Entry {
                at_ms: ack.sent_at_ms,
                direction: "out".into(),
                from: self.user.clone(),
                to: target_text(&to),
                text,
                message_id: ack.message_id,
            }),
            Err(e) => self.screen.error(&format!("not sent to {}: {e}", target_text(&to))),
        }
    }

    /// Sends without waiting: the acknowledgement comes back through `acks`.
    fn send(&mut self, client: &Client, to: Target, text: String) {
        let text = emoji::expand(&text);
        let pending = client.start_send(to.clone(), "text/plain", text.clone().into_bytes().into());
        let acks = self.acks.clone();
        self.in_flight += 1;
        tokio::spawn(async move {
            let _ = acks.send((to, text, pending.await));
        });
    }

    /// Handles one typed line; `false` to quit.
    async fn on_line(&mut self, client: &Client, line: &str) -> bool {
        match input::parse(line) {
            Input::Nothing => {}
            Input::Quit => return false,
            Input::Message { to, text } => self.send(client, to, text),
            Input::Delay { input, seconds } => {
                if let Input::Message { to, text } = *input {
                    self.screen.notice(&format!("will send in {seconds}s"));
                    let delayed = self.delayed.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                        let _ = delayed.send((to, text));
                    });
                }
            }
            Input::ListCommands | Input::Help(None) => self.list_commands(),
            Input::Help(Some(name)) => match input::find_command(&name) {
                Some(command) => self.screen.line(format!("{} — {}", command.usage, command.help)),
                None => self.screen.error(&format!("no command {name}; :all lists them")),
            },
            Input::Usage(command) => {
                self.screen.error(&format!("usage: {} — {}", command.usage, command.help))
            }
            Input::Unknown(name) => {
                self.screen.error(&format!("unknown command {name}; :all lists the commands"))
            }
            Input::Emoji(page) => self.show_emoji(page),
            Input::Info => self.show_info(client),
            Input::SearchHistory(keyword) => self.search(&keyword),
            Input::OnlineUsers => self.online_users(client).await,
            Input::UsersByPrefix(prefix) => self.users_by_prefix(client, &prefix).await,
            Input::Groups => self.groups(client).await,
            Input::Join(group) => match client.join_group(&group).await {
                Ok(info) => self.screen.notice(&format!("joined #{group} ({} members)", info.member_count)),
                Err(e) => self.screen.error(&format!("cannot join #{group}: {e}")),
            },
            Input::Leave(group) => match client.leave_group(&group).await {
                Ok(_) => self.screen.notice(&format!("left #{group}")),
                Err(e) => self.screen.error(&format!("cannot leave #{group}: {e}")),
            },
        }
        true
    }

    fn list_commands(&mut self) {
        self.screen.line("messages:");
        for form in MESSAGE_FORMS.lines() {
            self.screen.line(format!("  {form}"));
        }
        self.screen.line("commands:");
        for command in COMMANDS {
            self.screen.line(format!("  {:<28} {}", command.usage, command.help));
        }
    }

    fn show_emoji(&mut self, page: usize) {
        let Some(aliases) = emoji::page(page) else {
            self.screen.error(&format!("there are {} pages of emoji", emoji::pages()));
            return;
        };
        for row in aliases.chunks(5) {
            let row: Vec<String> = row.iter().map(|(alias, emoji)| format!("{emoji} :{alias}:")).collect();
            self.screen.line(format!("  {}", row.join("   ")));
        }
        self.screen.notice(&format!("page {page} of {} — :emoji <page> for another", emoji::pages()));
    }

    fn show_info(&mut self, client: &Client) {
        let status = client.status();
        let state = match status.state {
            ConnectionState::Connected => "connected".to_owned(),
            other => format!("{other:?}").to_lowercase(),
        };
        let rtt = status
            .rtt
            .map_or("not measured yet".to_owned(), |rtt| format!("{:.1} ms", rtt.as_secs_f64() * 1e3));
        self.screen.line(format!("user       {}", status.user_id));
        self.screen.line(format!("server     {}", status.server_id));
        self.screen.line(format!("transport  {:?}", status.transport));
        self.screen.line(format!("state      {state}"));
        self.screen.line(format!("rtt        {rtt}"));
        let history = match &self.history {
            Some(history) => history.path().display().to_string(),
            None => "off".to_owned(),
        };
        self.screen.line(format!("history    {history}"));
    }

    fn search(&mut self, keyword: &str) {
        let Some(history) = &self.history else {
            self.screen.error("no local history (--no-history)");
            return;
        };
        match history.search(keyword) {
            Ok(found) if found.is_empty() => {
                self.screen.notice(&format!("no message contains \"{keyword}\""))
            }
            Ok(found) => {
                for entry in found {
                    self.screen.line(crate::history::line(&entry));
                }
            }
            Err(e) => self.screen.error(&format!("cannot read the history: {e}")),
        }
    }

    async fn online_users(&mut self, client: &Client) {
        match client.online_users("", 200).await {
            Ok(page) => {
                let names: Vec<String> = page.users.iter().map(|u| u.user_name.clone()).collect();
                let more = if page.next_page_token.is_empty() { String::new() } else { ", …".to_owned() };
                self.screen.line(format!("online ({}): {}{more}", page.total_online, names.join(", ")));
            }
            Err(e) => self.screen.error(&format!("cannot list online users: {e}")),
        }
    }

    async fn users_by_prefix(&mut self, client: &Client, prefix: &str) {
        match client.users_by_prefix(prefix, 50).await {
            Ok(users) if users.is_empty() => {
                self.screen.notice(&format!("no user name starts with \"{prefix}\""))
            }
            Ok(users) => {
                let names: Vec<String> = users
                    .iter()
                    .map(|u| if u.online { format!("{} (online)", u.user_name) } else { u.user_name.clone() })
                    .collect();
                self.screen.line(names.join(", "));
            }
            Err(e) => self.screen.error(&format!("cannot search users: {e}")),
        }
    }

    async fn groups(&mut self, client: &Client) {
        match client.my_groups().await {
            Ok(groups) if groups.is_empty() => self.screen.notice("you are in no group; :join <group>"),
            Ok(groups) => {
                let groups: Vec<String> =
                    groups.iter().map(|g| format!("#{} ({} members)", g.group_id, g.member_count)).collect();
                self.screen.line(groups.join(", "));
            }
            Err(e) => self.screen.error(&format!("cannot list groups: {e}")),
        }
    }
}
