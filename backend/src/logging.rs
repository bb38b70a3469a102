//! Log setup shared by the binaries: `CIM_LOG` filters (`info`, `cim_server=debug`), and the
//! format is human or JSON lines.

/// How logs are written (to stderr).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The `--log-format` flag; flatten it into a binary's arguments.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LogArgs {
    /// Log format (the level comes from CIM_LOG, e.g. `debug` or `cim_server=debug`).
    #[arg(long, env = "CIM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
}

/// Installs the global subscriber; `default_level` applies when `CIM_LOG` is unset.
pub fn init(args: &LogArgs, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CIM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let result = match args.log_format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    // Already installed (a test, an embedding program): keep theirs.
    drop(result);
}
