//! `cim` as a user runs it: `cim up` in one process, register/listen/send from others.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CIM: &str = env!("CARGO_BIN_EXE_cim");

/// `cim up` on free ports; killed on drop.
struct Up {
    child: Child,
    route: String,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn up() -> Up {
    let mut child = Command::new(CIM)
        .args([
            "up",
            "--route-listen",
            "127.0.0.1:0",
            "--route-grpc-listen",
            "127.0.0.1:0",
            "--server-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--ws-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--internal-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cim up starts");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.trim().strip_prefix("route") {
                let url = rest.split_whitespace().next().unwrap_or_default().to_owned();
                let _ = tx.send(url);
            }
        }
    });
    let route = rx.recv_timeout(Duration::from_secs(20)).expect("cim up prints its route URL");
    Up { child, route }
}

fn cim(up: &Up, args: &[&str]) -> std::process::Output {
    Command::new(CIM)
        .args(args)
        .env("CIM_ROUTE", &up.route)
        .env_remove("CIM_USER")
        .env_remove("CIM_PASSWORD")
        .output()
        .expect("cim runs")
}

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
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).expect("one JSON line");
    assert_eq!(line["type"], "message");
    assert_eq!(line["from"], "bob");
    assert_eq!(line["text"], "hi alice");
    assert_eq!(line["to"]["user"], "alice");
    assert_eq!(line["seq"], 1);
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
    assert!(text(&unknown.stderr).contains("UNKNOWN_RECIPIENT"));
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
}

#[test]
fn help_texts_document_every_option() {
    for args in [
        &["--help"][..],
        &["up", "--help"],
        &["register", "--help"],
        &["send", "--help"],
        &["listen", "--help"],
    ] {
        let out = Command::new(CIM).args(args).env_clear().output().expect("runs");
        assert!(out.status.success());
        let name = format!("help_{}", args[..args.len() - 1].join("_")).trim_end_matches('_').to_owned();
        insta::assert_snapshot!(if name == "help" { "help_cim".to_owned() } else { name }, text(&out.stdout));
    }
}
