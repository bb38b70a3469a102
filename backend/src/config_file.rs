//! Optional TOML configuration files for the binaries, below flags and environment.
//!
//! A file holds `option = value` pairs named like the long flags (`listen = "0.0.0.0:9000"`,
//! `max-sessions-per-user = 4`; `_` works for `-`). Precedence, highest first: command-line
//! flags, `CIM_*` environment variables, the file, built-in defaults.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Command, CommandFactory, FromArgMatches};

/// The `--config` flag; flatten it into a binary's arguments.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ConfigFileArg {
    /// TOML file of options (`listen = "0.0.0.0:9000"`), below flags and CIM_* variables.
    #[arg(long = "config", env = "CIM_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Parses the process arguments into `T`, filling options left at their defaults from the
/// file named by `--config` / `CIM_CONFIG`. Exits with a clear message on any error, as
/// clap does.
pub fn parse_with_config_file<T: CommandFactory + FromArgMatches>() -> T {
    let args: Vec<OsString> = std::env::args_os().collect();
    match try_parse_with_config_file::<T>(args) {
        Ok(parsed) => parsed,
        Err(Failure::Clap(e)) => e.exit(),
        Err(Failure::File(message)) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    }
}

/// Why arguments could not be parsed.
#[derive(Debug)]
pub enum Failure {
    /// The command line itself (including `--help`).
    Clap(clap::Error),
    /// The configuration file.
    File(String),
}

/// [`parse_with_config_file`] on explicit arguments, without exiting.
pub fn try_parse_with_config_file<T: CommandFactory + FromArgMatches>(
    args: Vec<OsString>,
) -> Result<T, Failure> {
    let command = T::command();
    let matches = command.clone().try_get_matches_from(&args).map_err(Failure::Clap)?;
    let Some(path) = matches.get_one::<PathBuf>("config").cloned() else {
        return T::from_arg_matches(&matches).map_err(Failure::Clap);
    };
    let extra = file_args(&path, &command, &matches)?;
    let mut all = args;
    all.extend(extra);
    let matches = command.try_get_matches_from(all).map_err(Failure::Clap)?;
    T::from_arg_matches(&matches).map_err(Failure::Clap)
}

/// The deepest subcommand that was used, with its matches.
fn leaf<'a>(command: &'a Command, matches: &'a ArgMatches) -> (&'a Command, &'a ArgMatches) {
    match matches.subcommand() {
        Some((name, sub_matches)) => match command.find_subcommand(name) {
            Some(sub) => leaf(sub, sub_matches),
            None => (command, matches),
        },
        None => (command, matches),
    }
}

fn file_args(path: &Path, command: &Command, matches: &ArgMatches) -> Result<Vec<OsString>, Failure> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::File(format!("cannot read config file {shown}: {e}")))?;
    let table: toml::Table =
        text.parse().map_err(|e| Failure::File(format!("config file {shown} is not valid TOML: {e}")))?;
    let (command, matches) = leaf(command, matches);
    let mut extra = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let Some(arg) = command.get_arguments().find(|a| a.get_long() == Some(flag.as_str())) else {
            return Err(Failure::File(format!(
                "config file {shown}: unknown option {key:?} for `{}`",
                command.get_name()
            )));
        };
        let explicit = matches!(
            matches.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if explicit {
            continue;
        }
        let takes_value = arg.get_action().takes_values();
        let values = match value {
            toml::Value::Array(items) => items,
            other => vec![other],
        };
        for value in values {
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Boolean(b) if !takes_value => {
                    if b {
                        extra.push(OsString::from(format!("--{flag}")));
                    }
                    continue;
                }
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
                    value.to_string()
                }
                _ => {
                    return Err(Failure::File(format!(
                        "config file {shown}: {key} must be a string, number or boolean"
                    )));
                }
            };
            extra.push(OsString::from(format!("--{flag}={text}")));
        }
    }
    Ok(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser, Debug)]
    struct Demo {
        #[command(flatten)]
        config: ConfigFileArg,
        #[arg(long, default_value = "127.0.0.1:1")]
        listen: String,
        #[arg(long, env = "CIM_TEST_CONFIG_LIMIT", default_value_t = 8)]
        max_sessions: u32,
        #[arg(long)]
        no_ws: bool,
    }

    fn parse(file: &str, args: &[&str]) -> Result<Demo, Failure> {
        let dir = std::env::temp_dir().join(format!("cim-config-test-{}-{}", std::process::id(), file.len()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("cim.toml");
        std::fs::write(&path, file).expect("write");
        let mut all: Vec<OsString> = vec!["demo".into(), "--config".into(), path.into()];
        all.extend(args.iter().map(OsString::from));
        try_parse_with_config_file::<Demo>(all)
    }

    #[test]
    fn file_fills_defaults_but_flags_win() {
        let demo = parse("listen = \"0.0.0.0:9\"\nmax_sessions = 3\nno-ws = true\n", &[]).expect("parses");
        assert_eq!((demo.listen.as_str(), demo.max_sessions, demo.no_ws), ("0.0.0.0:9", 3, true));
        let demo =
            parse("listen = \"0.0.0.0:9\"\nmax_sessions = 3\n", &["--max-sessions", "5"]).expect("parses");
        assert_eq!((demo.listen.as_str(), demo.max_sessions), ("0.0.0.0:9", 5));
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_clear_errors() {
        let Err(Failure::File(message)) = parse("lisen = 1\n", &[]) else { panic!("refused") };
        assert!(message.contains("unknown option \"lisen\""), "{message}");
        let Err(Failure::File(message)) = parse("listen = \n", &[]) else { panic!("refused") };
        assert!(message.contains("not valid TOML"), "{message}");
    }
}
