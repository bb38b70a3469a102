//! The `cim-conformance` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use cim_conformance::case::{Driver, Target};
use cim_conformance::report::{Report, console, html, json, junit};
use cim_conformance::runner::{self, RunOptions};
use cim_conformance::{cases, coverage, select, spec};
use clap::{Args, Parser, Subcommand, ValueEnum};

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

const EXIT_CODES: &str = "\
Exit codes:
  0  every case passed, or ended warn, info, n/a, skip or xfail
  1  a case failed (warn counts with --strict), or an expected failure passed (stale entry)
  2  usage error: bad flags, unreadable files
  3  the harness or environment failed (verdict error), and nothing failed
  4  the deployment could not be reached at all

Verdicts: pass; fail (a MUST not met); warn (a SHOULD not met); info (a MAY not taken up);
n/a (the implementation does not offer what the case needs); skip; xfail and xpass (listed in
--expected-failures and failing, or passing); error (the harness or environment failed).";

/// Checks a cim deployment against spec/v1, clause by clause.
///
/// Every case names the requirement ids it checks. Failures quote the requirement, show
/// expected and actual, the frames both ways, and the command that reruns only that case.
#[derive(Parser, Debug)]
#[command(name = "cim-conformance", version, after_long_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server cases against a running deployment (its route and servers).
    ///
    /// The harness registers its own users through the route (names start with `cf`), so it
    /// can run against a deployment that is in use. Example, against `cim up`:
    ///
    ///   cim-conformance server --route http://127.0.0.1:8083
    #[command(after_long_help = EXIT_CODES)]
    Server(Box<ServerArgs>),
    /// Run the client cases against a client, steered through a driver program.
    ///
    /// The harness plays the route and the server. It starts the driver once per case with
    /// CIM_CONFORMANCE_ROUTE set, and speaks JSON lines with it as spec/v1/driver.md says.
    /// Example, with the driver built on the Rust SDK:
    ///
    ///   cim-conformance client -- cargo run -q -p cim-conformance-driver
    #[command(after_long_help = EXIT_CODES)]
    Client(Box<ClientArgs>),
    /// List the cases, with the requirements they cover and their tags.
    List {
        /// One JSON object per case, in a JSON array.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        selection: Selection,
    },
    /// Print a requirement (with the cases that cover it) or a case (with the requirements it
    /// checks).
    Explain {
        /// A requirement id (`CIM-8.4-6`) or a case id (`server.inbox.resume`).
        id: String,
    },
    /// Requirement coverage of the catalog, per section of the spec.
    Coverage {
        /// Only requirements that bind this role (repeatable) [default: every role].
        #[arg(long, value_enum)]
        role: Vec<RoleArg>,
        /// Exit 1 when a MUST or MUST NOT is neither covered by a case nor listed in
        /// untestable.toml with a reason, or when the catalog has other problems.
        #[arg(long)]
        check: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone)]
struct Selection {
    /// Run only cases matching a pattern: a case id or glob (`server.inbox.*`), a requirement
    /// id or glob (`CIM-8.4-*`), or a tag (`robustness`). Repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    run: Vec<String>,
    /// Leave out cases matching a pattern (same forms as --run).
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RoleArg {
    /// Long-connection servers.
    Server,
    /// Clients and SDKs.
    Client,
    /// The route.
    Route,
}

impl RoleArg {
    fn role(self) -> spec::Role {
        match self {
            Self::Server => spec::Role::Server,
            Self::Client => spec::Role::Client,
            Self::Route => spec::Role::Route,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TransportArg {
    /// Length-prefixed frames over TCP.
    Tcp,
    /// One binary WebSocket message per frame.
    Websocket,
}

#[derive(Args, Debug)]
struct ServerArgs {
    /// Base URL of the route's HTTP/JSON API.
    #[arg(long, env = "CIM_ROUTE", default_value = "http://127.0.0.1:8083")]
    route: String,
    /// URL of the route's gRPC binding (e.g. http://127.0.0.1:8084): enables the gRPC cases.
    #[arg(long, env = "CIM_ROUTE_GRPC")]
    route_grpc: Option<String>,
    /// Connect to this `host:port` instead of the tcp_endpoint the route assigns.
    #[arg(long)]
    server: Option<String>,
    /// Connect to this WebSocket URL instead of the ws_url the route assigns.
    #[arg(long)]
    ws: Option<String>,
    /// The deployment's API key (X-Cim-Api-Key): enables the Push and Servers cases.
    #[arg(long, env = "CIM_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// The app backend's JWT secret, if the deployment accepts JWT logins: enables the JWT
    /// login cases.
    #[arg(long, env = "CIM_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The deployment's token secret, if it uses the reference token format (§5.5): enables
    /// the cases that need tokens the route would never issue (expired, malformed but signed).
    #[arg(long, env = "CIM_TOKEN_SECRET", hide_env_values = true)]
    token_secret: Option<String>,
    /// The transport sessions use (cases about one transport use it regardless).
    #[arg(long, value_enum, default_value_t = TransportArg::Tcp)]
    transport: TransportArg,
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Debug)]
struct ClientArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    run: RunArgs,
    /// Instead of starting a driver, wait at this address for drivers started by hand (on a
    /// phone, in an emulator): one connects for each case, as spec/v1/driver.md §1.2 says.
    /// The harness's route and server listen on the same IP. Runs one case at a time.
    #[arg(long, value_name = "IP:PORT", conflicts_with = "command")]
    listen: Option<std::net::SocketAddr>,
    /// The driver command and its arguments.
    #[arg(last = true, required_unless_present = "listen", value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// A file of cases expected to fail, one id per line with an optional `# reason`. They
    /// are reported xfail; one that passes is reported xpass, a stale entry.
    #[arg(long, value_name = "FILE")]
    expected_failures: Option<PathBuf>,
    /// Seed of every random choice (ids, mutations, --shuffle order). Printed in every report
    /// and rerun command. [default: random]
    #[arg(long)]
    seed: Option<u64>,
    /// Run the cases in an order drawn from the seed.
    #[arg(long)]
    shuffle: bool,
    /// Cases to run at once; each case has its own users.
    #[arg(short = 'j', long, default_value_t = 4)]
    jobs: usize,
    /// Multiply every wait and time budget, for slow machines or networks.
    #[arg(long, default_value_t = 1.0)]
    timeout_scale: f64,
    /// Count warn (a SHOULD not met) as fail.
    #[arg(long)]
    strict: bool,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print only problems and the summary, no line per case.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Server(args) => server(*args),
        Command::Client(args) => client(*args),
        Command::List { json, selection } => list(json, &selection),
        Command::Explain { id } => explain(&id),
        Command::Coverage { role, check, json } => coverage_command(&role, check, json),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn server(args: ServerArgs) -> ExitCode {
    let mut rerun = format!("cim-conformance server --route {}", args.route);
    if let Some(grpc) = &args.route_grpc {
        rerun.push_str(&format!(" --route-grpc {grpc}"));
    }
    if let Some(server) = &args.server {
        rerun.push_str(&format!(" --server {server}"));
    }
    if let Some(ws) = &args.ws {
        rerun.push_str(&format!(" --ws {ws}"));
    }
    if matches!(args.transport, TransportArg::Websocket) {
        rerun.push_str(" --transport websocket");
    }
    for (flag, given, variable) in [
        ("--api-key", args.api_key.is_some(), "CIM_API_KEY"),
        ("--jwt-secret", args.jwt_secret.is_some(), "CIM_JWT_SECRET"),
        ("--token-secret", args.token_secret.is_some(), "CIM_TOKEN_SECRET"),
    ] {
        if given {
            rerun.push_str(&format!(" {flag} \"${variable}\""));
        }
    }
    let target = Target {
        route: args.route.clone(),
        route_grpc: args.route_grpc.clone(),
        server: args.server.clone(),
        ws: args.ws.clone(),
        api_key: args.api_key.clone(),
        jwt_secret: args.jwt_secret.clone(),
        token_secret: args.token_secret.clone(),
        over_websocket: matches!(args.transport, TransportArg::Websocket),
        driver: None,
    };
    let route = args.route.clone();
    run_mode(Mode::Server, target, &args.selection, &args.run, rerun, Some(&route))
}

fn client(args: ClientArgs) -> ExitCode {
    if let Some(listen) = args.listen {
        if listen.ip().is_unspecified() {
            return usage_error(
                "--listen needs the address drivers connect to (such as 192.168.1.10:7700), not an unspecified one",
            );
        }
        let rerun = format!("cim-conformance client --listen {listen}");
        return run_mode(
            Mode::ClientListen(listen),
            Target::default(),
            &args.selection,
            &args.run,
            rerun,
            None,
        );
    }
    let shown: Vec<String> = args.command.iter().map(|a| shell_quoted(a)).collect();
    let rerun = "cim-conformance client".to_owned();
    let target = Target { driver: Some(Driver::Command(args.command.clone())), ..Target::default() };
    run_mode(Mode::Client(shown.join(" ")), target, &args.selection, &args.run, rerun, None)
}

/// `arg` as a POSIX shell reads it back: bare when that is safe, else in single quotes.
fn shell_quoted(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

enum Mode {
    Server,
    /// With the driver command as shown.
    Client(String),
    /// Drivers connect to this address.
    ClientListen(std::net::SocketAddr),
}

fn run_mode(
    mode: Mode,
    target: Target,
    selection: &Selection,
    run_args: &RunArgs,
    rerun: String,
    route: Option<&str>,
) -> ExitCode {
    if !(run_args.timeout_scale > 0.0 && run_args.timeout_scale.is_finite()) {
        return usage_error("--timeout-scale must be a positive number");
    }
    let expected_failures = match &run_args.expected_failures {
        None => Default::default(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| select::parse_expected_failures(&t))
        {
            Ok(entries) => entries,
            Err(e) => return usage_error(&format!("{}: {e}", path.display())),
        },
    };
    let catalog = cases::catalog();
    let is_client_case = |id: &str| id.starts_with("client.");
    let selected: Vec<&cim_conformance::case::Case> =
        select::select(catalog, &selection.run, &selection.skip)
            .into_iter()
            .filter(|c| is_client_case(c.id) == !matches!(mode, Mode::Server))
            .collect();
    if selected.is_empty() {
        return usage_error("no case matches --run/--skip; `cim-conformance list` shows them");
    }
    let seed = run_args.seed.unwrap_or_else(|| {
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        u64::from_le_bytes(bytes) >> 12
    });
    let (mode_name, described, roles) = match &mode {
        Mode::Server => {
            ("server", route.unwrap_or_default().to_owned(), vec![spec::Role::Server, spec::Role::Route])
        }
        Mode::Client(command) => ("client", command.clone(), vec![spec::Role::Client]),
        Mode::ClientListen(addr) => {
            ("client", format!("drivers connecting to {addr}"), vec![spec::Role::Client])
        }
    };
    let rerun = if run_args.timeout_scale == 1.0 {
        rerun
    } else {
        format!("{rerun} --timeout-scale {}", run_args.timeout_scale)
    };
    let rerun_tail = match &mode {
        Mode::Client(command) => format!(" -- {command}"),
        Mode::Server | Mode::ClientListen(_) => String::new(),
    };
    let listen = match mode {
        Mode::ClientListen(addr) => Some(addr),
        Mode::Server | Mode::Client(_) => None,
    };
    let mut options = RunOptions {
        target,
        seed,
        shuffle: run_args.shuffle,
        // Connected drivers take the cases in turn.
        jobs: if listen.is_some() { 1 } else { run_args.jobs },
        timeout_scale: run_args.timeout_scale,
        strict: run_args.strict,
        expected_failures,
        rerun_base: rerun,
        rerun_tail,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    if let Some(route) = route
        && let Err(why) = runtime.block_on(reachable(route))
    {
        eprintln!("error: cannot reach the route at {route}: {why}");
        return ExitCode::from(4);
    }
    if let Some(addr) = listen {
        match runtime.block_on(tokio::net::TcpListener::bind(addr)) {
            Ok(listener) => options.target.driver = Some(Driver::Listen(std::sync::Arc::new(listener))),
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return ExitCode::from(3);
            }
        }
        say!(
            "waiting for drivers at {addr}: start one with CIM_CONFORMANCE_CONNECT={addr} (spec/v1/driver.md §1.2)"
        );
    }
    let style = console::Style::detect();
    let total = selected.len();
    say!(
        "cim-conformance {}: {total} {mode_name} cases against {described} (seed {seed}, -j {})",
        env!("CARGO_PKG_VERSION"),
        options.jobs.max(1)
    );
    let mut done = 0;
    let quiet = run_args.quiet;
    let run = runtime.block_on(runner::run(catalog, &selected, &options, |result| {
        done += 1;
        if !quiet {
            say!("{}", console::progress_line(style, done, total, result));
        }
    }));
    let covering: Vec<&cim_conformance::case::Case> = selected
        .iter()
        .copied()
        .filter(|c| {
            run.results.iter().any(|r| {
                r.id == c.id
                    && !matches!(
                        r.verdict,
                        cim_conformance::verdict::Verdict::Skip
                            | cim_conformance::verdict::Verdict::NotApplicable
                    )
            })
        })
        .collect();
    let coverage = coverage::by_section(&covering, &roles);
    let report = Report::new(mode_name, described, seed, run_args.strict, &run, coverage);
    print!("{}", console::summary(style, &report, selection.run.is_empty()));
    for (path, text) in [
        (&run_args.json, run_args.json.as_ref().map(|_| json::render(&report))),
        (&run_args.junit, run_args.junit.as_ref().map(|_| junit::render(&report))),
        (&run_args.html, run_args.html.as_ref().map(|_| html::render(&report))),
    ] {
        if let (Some(path), Some(text)) = (path, text) {
            match std::fs::write(path, text) {
                Ok(()) => say!("wrote {}", path.display()),
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
    }
    ExitCode::from(runner::exit_code(&run))
}

/// Any HTTP answer from the route's Health operation means it is there.
async fn reachable(route: &str) -> Result<(), String> {
    let url = format!("{}/healthz", route.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    client.get(&url).send().await.map(drop).map_err(|e| {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            text = format!("{text}: {inner}");
            source = inner.source();
        }
        text
    })
}

fn list(as_json: bool, selection: &Selection) -> ExitCode {
    let selected = select::select(cases::catalog(), &selection.run, &selection.skip);
    if as_json {
        let list: Vec<serde_json::Value> = selected
            .iter()
            .map(|c| serde_json::json!({"id": c.id, "title": c.title, "covers": c.covers, "tags": c.tags, "budget_secs": c.budget.as_secs()}))
            .collect();
        say!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
    } else {
        for case in &selected {
            say!("{:<48} {}", case.id, case.title);
            say!("{:<48} covers {}  [{}]", "", case.covers.join(" "), case.tags.join(", "));
        }
        say!("{} cases", selected.len());
    }
    ExitCode::SUCCESS
}

fn explain(id: &str) -> ExitCode {
    let catalog = cases::catalog();
    if let Some(requirement) = spec::requirement(id) {
        let roles: Vec<String> = requirement.roles.iter().map(|r| format!("{r:?}").to_lowercase()).collect();
        say!("{} ({}, binds {})", requirement.id, requirement.level, roles.join(", "));
        say!("  \"{}\"", requirement.text);
        say!("  spec/v1/protocol.md §{}", spec::section_of(&requirement.id));
        let covering: Vec<_> =
            catalog.iter().filter(|c| c.covers.contains(&requirement.id.as_str())).collect();
        if covering.is_empty() {
            let reasons: Vec<String> = [spec::Role::Server, spec::Role::Client, spec::Role::Route]
                .into_iter()
                .filter_map(|role| {
                    coverage::untestable(role)
                        .get(&requirement.id)
                        .map(|why| format!("  {}: {why}", coverage::role_name(role)))
                })
                .collect();
            if reasons.is_empty() {
                say!("\nNo case covers it yet.");
            } else {
                say!("\nNo case covers it, because:\n{}", reasons.join("\n"));
            }
        } else {
            say!("\nCovered by:");
            for case in &covering {
                say!("  {:<48} {}", case.id, case.title);
            }
            say!(
                "\nRun them:\n  cim-conformance server --route http://127.0.0.1:8083 --run {}",
                requirement.id
            );
        }
        return ExitCode::SUCCESS;
    }
    if let Some(case) = catalog.iter().find(|c| c.id == id) {
        say!("{}: {}", case.id, case.title);
        say!("  tags: {}", case.tags.join(", "));
        say!("\nChecks:");
        for req in case.covers {
            match spec::requirement(req) {
                Some(r) => say!("  {} ({}): \"{}\"", r.id, r.level, r.text),
                None => say!("  {req} (not in the spec)"),
            }
        }
        say!("\nRun it:\n  cim-conformance server --route http://127.0.0.1:8083 --run {}", case.id);
        return ExitCode::SUCCESS;
    }
    usage_error(&format!(
        "{id} is neither a requirement id (CIM-4.2-3) nor a case id; `cim-conformance list` shows the cases"
    ))
}

fn coverage_command(roles: &[RoleArg], check: bool, as_json: bool) -> ExitCode {
    let catalog = cases::catalog();
    let roles: Vec<spec::Role> = if roles.is_empty() {
        vec![spec::Role::Server, spec::Role::Client, spec::Role::Route]
    } else {
        roles.iter().map(|r| r.role()).collect()
    };
    // Client cases speak for clients, the others for servers and routes.
    let with_client = roles.contains(&spec::Role::Client);
    let with_others = roles.iter().any(|r| *r != spec::Role::Client);
    let all: Vec<&cim_conformance::case::Case> = catalog
        .iter()
        .filter(|c| if c.id.starts_with("client.") { with_client } else { with_others })
        .collect();
    let sections = coverage::by_section(&all, &roles);
    let problems = coverage::catalog_problems(catalog);
    if as_json {
        let value = serde_json::json!({"sections": sections, "problems": problems});
        say!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
    } else {
        print!("{}", console::coverage_table(&sections, ""));
        for problem in &problems {
            say!("problem: {problem}");
        }
    }
    let missing: usize = sections.iter().map(|s| s.missing.len()).sum();
    if check && (missing > 0 || !problems.is_empty()) {
        eprintln!(
            "error: {missing} MUST/MUST NOT requirements are neither covered nor justified in conformance/untestable.toml; {} catalog problems",
            problems.len()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    #[test]
    fn rerun_commands_quote_arguments_as_a_shell_reads_them() {
        assert_eq!(super::shell_quoted("target/debug/cim-sdk-driver"), "target/debug/cim-sdk-driver");
        assert_eq!(super::shell_quoted(r#"echo "{}"; cat"#), r#"'echo "{}"; cat'"#);
        assert_eq!(super::shell_quoted("it's"), r"'it'\''s'");
        assert_eq!(super::shell_quoted(""), "''");
    }
}
