//! `cim` as a user runs it: `cim up` in one process, register/listen/send from others.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod support;

use support::{CIM, cim, up};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn two_shells_exchange_a_private_message_through_cim_up() {
    let up = up();
    for user in ["alice", "bob"] {
        let out = cim(&up, &["register", "--user", user, "--password", &format!("{user}-password")]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), format!("registered {user}"));
    }
    let mut listener = Command::new(CIM)
        .args([
            "listen",
            "--user",
            "alice",
            "--password",
            "alice-password",
            "--json",
            "--count",
            "1",
            "--timeout",
            "30",
        ])
        .env("CIM_ROUTE", &up.route)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("listen starts");
    // Wait until the listener is connected, so the message arrives live.
    let stderr = listener.stderr.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("connected") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20)).expect("listener connects");

    let sent =
        cim(&up, &["send", "--user", "bob", "--password", "bob-password", "--to", "alice", "hi", "alice"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert!(text(&sent.stdout).starts_with("sent ("));

    let out = listener.wait_with_output().expect("listen exits after --count 1");
    assert!(out.status.success());
    let mut line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).expect("one JSON line");
    assert_eq!(line["type"], "message");
    assert_eq!(line["from_user_id"], "bob");
    assert_eq!(line["text"], "hi alice");
    assert_eq!(line["to_kind"], "user");
    assert_eq!(line["to"], "alice");
    assert_eq!(line["seq"], 1);
    // The shape scripts rely on, with what changes from run to run blanked out.
    assert_eq!(line["message_id"].as_str().map(str::len), Some(26), "a ULID");
    assert!(line["sent_at_ms"].as_u64().is_some_and(|ms| ms > 1_700_000_000_000));
    line["message_id"] = "[ulid]".into();
    line["sent_at_ms"] = "[ms]".into();
    insta::assert_snapshot!("listen_json_message", serde_json::to_string_pretty(&line).expect("json"));
}

#[test]
fn exit_codes_tell_what_went_wrong() {
    let up = up();
    assert!(cim(&up, &["register", "--user", "carol", "--password", "carol-password"]).status.success());
    let taken = cim(&up, &["register", "--user", "carol", "--password", "carol-password"]);
    assert_eq!(taken.status.code(), Some(5));
    assert!(text(&taken.stderr).contains("ALREADY_EXISTS"));
    let wrong = cim(&up, &["send", "--user", "carol", "--password", "nope-nope", "--to", "carol", "x"]);
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
    let unknown =
        cim(&up, &["send", "--user", "carol", "--password", "carol-password", "--to", "nobody", "x"]);
    assert_eq!(unknown.status.code(), Some(5));
    assert!(text(&unknown.stderr).contains("no user is named nobody"), "{}", text(&unknown.stderr));
    let timeout = cim(
        &up,
        &["listen", "--user", "carol", "--password", "carol-password", "--count", "1", "--timeout", "0.5"],
    );
    assert_eq!(timeout.status.code(), Some(6));
    let unreachable = Command::new(CIM)
        .args([
            "send",
            "--route",
            "http://127.0.0.1:1",
            "--user",
            "carol",
            "--password",
            "x",
            "--to",
            "y",
            "z",
        ])
        .output()
        .expect("runs");
    assert_eq!(unreachable.status.code(), Some(4));
    let usage = Command::new(CIM).args(["send", "--to", "x"]).env_clear().output().expect("runs");
    assert_eq!(usage.status.code(), Some(2));
    // Without --password the terminal is asked; without a terminal, a usage error, not a hang.
    let no_password = Command::new(CIM)
        .args(["send", "--route", "http://127.0.0.1:1", "--user", "carol", "--to", "y", "z"])
        .env_remove("CIM_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(no_password.status.code(), Some(2), "{}", text(&no_password.stderr));
    assert!(text(&no_password.stderr).contains("--password"), "{}", text(&no_password.stderr));
}

#[test]
fn a_saved_login_stands_in_for_the_password() {
    let up = up();
    let state = std::env::temp_dir().join(format!("cim-session-test-{}", std::process::id()));
    let run = |args: &[&str]| {
        Command::new(CIM)
            .args(args)
            .env("CIM_ROUTE", &up.route)
            .env("XDG_STATE_HOME", &state)
            .env_remove("CIM_PASSWORD")
            .stdin(Stdio::null())
            .output()
            .expect("cim runs")
    };
    assert!(run(&["register", "--user", "erin", "--password", "erin-password"]).status.success());
    // Without a saved session and without a terminal, no password is a usage error.
    assert_eq!(run(&["users", "--user", "erin"]).status.code(), Some(2));
    let saved = run(&["login", "--user", "erin", "--password", "erin-password", "--save"]);
    assert!(saved.status.success(), "{}", text(&saved.stderr));
    let sent = run(&["send", "--user", "erin", "--to", "erin", "to", "myself"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let users = run(&["users", "--user", "erin", "--json"]);
    assert!(users.status.success() && text(&users.stdout).contains("\"erin\""), "{}", text(&users.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let file = state.join("cim/sessions/erin.json");
        let mode = std::fs::metadata(&file).expect("saved").permissions().mode();
        assert_eq!(mode & 0o077, 0, "only its owner may read a saved session");
    }
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn help_texts_document_every_option() {
    // Every subcommand, found from the help itself, so a new one cannot go unsnapshotted.
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let out = Command::new(CIM).args(&path).arg("--help").env_clear().output().expect("runs");
        assert!(out.status.success(), "cim {} --help", path.join(" "));
        let help = text(&out.stdout);
        let name = if path.is_empty() { "help_cim".to_owned() } else { format!("help_{}", path.join("_")) };
        insta::assert_snapshot!(name, help);
        seen += 1;
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
    }
    assert!(seen >= 15, "only {seen} help texts found");
}

/// The names listed under `Commands:` in a help text (but `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn scriptable_commands_answer_in_json() {
    let up = up();
    let registered = cim(&up, &["register", "--user", "dora", "--password", "dora-password", "--json"]);
    let registered: serde_json::Value = serde_json::from_slice(&registered.stdout).expect("json");
    assert_eq!(registered["user_name"], "dora");
    assert!(cim(&up, &["register", "--user", "dan", "--password", "dan-password"]).status.success());
    let as_dora = ["--user", "dora", "--password", "dora-password"];

    let login = cim(&up, &[&["login"][..], &as_dora, &["--json"]].concat());
    let login: serde_json::Value = serde_json::from_slice(&login.stdout).expect("json");
    assert!(login["token"].as_str().is_some_and(|t| t.len() > 20), "{login}");
    assert!(login["server_id"].as_str().is_some_and(|s| !s.is_empty()), "{login}");
    let token = cim(&up, &[&["login"][..], &as_dora].concat());
    assert_eq!(text(&token.stdout).lines().count(), 1, "just the token");

    let users = cim(&up, &[&["users"][..], &as_dora, &["--prefix", "d", "--json"]].concat());
    let names: Vec<String> = text(&users.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["user_name"].to_string())
        .collect();
    assert_eq!(names, ["\"dan\"", "\"dora\""]);

    // Dora cannot put dan in a group; he joins it himself.
    let refused = cim(&up, &[&["groups"][..], &as_dora, &["create", "#crew", "dan"]].concat());
    assert_eq!(refused.status.code(), Some(5), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("join"), "{}", text(&refused.stderr));
    let created = cim(&up, &[&["groups"][..], &as_dora, &["create", "#crew"]].concat());
    assert_eq!(text(&created.stdout).trim(), "#crew (1 member)", "{}", text(&created.stderr));
    let as_dan = ["--user", "dan", "--password", "dan-password"];
    let joined = cim(&up, &[&["groups"][..], &as_dan, &["join", "crew"]].concat());
    assert_eq!(text(&joined.stdout).trim(), "#crew (2 members)", "{}", text(&joined.stderr));
    let groups = cim(&up, &[&["groups"][..], &as_dora, &["--json"]].concat());
    assert_eq!(text(&groups.stdout).trim(), r#"{"group_id":"crew","member_count":2}"#);
    let members = cim(&up, &[&["groups"][..], &as_dora, &["members", "crew"]].concat());
    assert_eq!(text(&members.stdout), "dan\ndora\n");
    let unknown = cim(&up, &[&["groups"][..], &as_dora, &["join", "nope"]].concat());
    assert_eq!(unknown.status.code(), Some(5), "{}", text(&unknown.stderr));

    let completions = Command::new(CIM).args(["completions", "bash"]).output().expect("runs");
    assert!(text(&completions.stdout).contains("_cim()"), "a bash completion function");
}

#[test]
fn output_cut_short_by_the_reader_ends_quietly() {
    // `cim completions bash | head -5`, at its hardest: the reader is gone before the first
    // write, which then fails with a broken pipe.
    let mut child = Command::new(CIM)
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    assert!(out.status.success(), "exit {:?}: {}", out.status, text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"), "{}", text(&out.stderr));
}
