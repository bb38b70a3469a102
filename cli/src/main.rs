//! `cim`: run a node with `cim up`, or talk to one from a shell.

/// `println!` that ends the process quietly once standard output is closed, as when the output
/// is piped into `head`, instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(error) = writeln!(std::io::stdout().lock(), $($arg)*)
            && error.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }};
}

mod chat;
mod commands;
mod directory;
mod history;
mod session;
mod style;
mod up;
mod web;

use std::process::ExitCode;

/// mimalloc gives freed memory back; see the workspace Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Subcommand;

/// cim: instant messaging, protocol first.
///
/// `cim up` runs a whole node (route + server, in memory) on this machine. The other
/// commands log in to a node and send or receive messages, for people and for scripts.
#[derive(clap::Parser)]
#[command(name = "cim", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(flatten)]
    config: cim_backend::config_file::ConfigFileArg,
    #[command(flatten)]
    logs: cim_backend::logging::LogArgs,
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  other failure (cannot bind a port, …)
  2  usage error
  3  authentication failed (wrong user name or password)
  4  route or server unreachable
  5  request refused (unknown recipient, name taken, …)
  6  listen --count not reached before --timeout";

#[derive(Subcommand)]
enum Command {
    /// Run a route and a server in this process, with in-memory storage.
    Up(Box<up::UpArgs>),
    /// Chat: log in and type messages; `:all` lists the commands.
    Chat(chat::ChatArgs),
    /// Serve the web chat page for a route elsewhere (`cim up` serves it for its own).
    Web(web::WebArgs),
    /// Create an account.
    Register(commands::RegisterArgs),
    /// Log in and print a session token.
    Login(directory::LoginArgs),
    /// Send one message and wait until the server has stored it.
    Send(commands::SendArgs),
    /// Print messages as they arrive.
    Listen(commands::ListenArgs),
    /// List users: by name prefix, or those online.
    Users(directory::UsersArgs),
    /// List, create, join and leave groups.
    Groups(directory::GroupsArgs),
    /// Print the local chat history `cim chat` keeps.
    History(directory::HistoryArgs),
    /// Print a new random secret (32 bytes, hex) for --token-secret, --jwt-secret or --api-key.
    Secret,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = cim_backend::config_file::parse_with_config_file();
    let default_level = if matches!(cli.command, Command::Up(_) | Command::Web(_)) { "info" } else { "warn" };
    cim_backend::logging::init(&cli.logs, default_level);
    let result = match cli.command {
        Command::Up(args) => {
            up::run(*args).await.map_err(|e| commands::Failure { exit: 1, message: format!("{e:#}") })
        }
        Command::Chat(args) => chat::run(args).await,
        Command::Web(args) => {
            web::run(args).await.map_err(|e| commands::Failure { exit: 1, message: format!("{e:#}") })
        }
        Command::Register(account) => commands::register(account).await,
        Command::Login(args) => directory::login(args).await,
        Command::Users(args) => directory::users(args).await,
        Command::Groups(args) => directory::groups(args).await,
        Command::History(args) => directory::history(args),
        Command::Secret => {
            say!("{}", cim_backend::secret::generate_secret());
            Ok(())
        }
        Command::Completions { shell } => {
            // Written in one piece through `say!`, which ends quietly when the reader has gone
            // (`cim completions bash | head`); clap_complete's own writes panic there.
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "cim", &mut script);
            say!("{}", String::from_utf8_lossy(&script).trim_end());
            Ok(())
        }
        Command::Send(args) => commands::send(args).await,
        Command::Listen(args) => commands::listen(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.exit)
        }
    }
}
