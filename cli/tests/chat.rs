//! `cim chat` driven under a pseudo-terminal against `cim up`: two people chat privately, in a
//! group and to everyone, and every built-in command is used and its output checked.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::pty::Terminal;
use support::{CIM, Up, cim, up};

/// Each expectation waits at most this long.
const WAIT: Duration = Duration::from_secs(15);

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cim-chat-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("data dir");
    dir
}

/// `cim chat` for `user` in a terminal, its history under `data`, with `extra` arguments.
fn chat(up: &Up, user: &str, data: &Path, extra: &[&str]) -> Terminal {
    let password = format!("{user}-password");
    let data = data.display().to_string();
    let mut args = vec!["chat", "--user", user, "--password", &password];
    args.extend_from_slice(extra);
    let mut terminal = Terminal::spawn(
        CIM,
        &args,
        &[("CIM_ROUTE", &up.route), ("XDG_DATA_HOME", &data), ("NO_COLOR", "1"), ("TERM", "xterm")],
    );
    sees(&mut terminal, &format!("logged in as {user}"));
    terminal
}

fn register(up: &Up, user: &str) {
    let out = cim(up, &["register", "--user", user, "--password", &format!("{user}-password")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Types `line` and waits for `expected` in what follows.
fn says(terminal: &mut Terminal, line: &str, expected: &str) {
    terminal.type_line(line);
    if let Err(e) = terminal.expect(expected, WAIT) {
        panic!("after typing {line:?}: {e}");
    }
}

fn sees(terminal: &mut Terminal, expected: &str) {
    if let Err(e) = terminal.expect(expected, WAIT) {
        panic!("{e}");
    }
}

#[test]
fn two_people_chat_and_use_every_command() {
    let up = up();
    register(&up, "bob");
    // Alice has no account yet: --register makes one.
    let data = data_dir("alice");
    let mut alice = chat(&up, "alice", &data, &["--register"]);
    let out = cim(&up, &["groups", "--user", "alice", "--password", "alice-password", "create", "team"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "#team (1 member)");
    // Nobody is made a member by someone else: bob joins himself.
    let out = cim(&up, &["groups", "--user", "bob", "--password", "bob-password", "join", "team"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "#team (2 members)");
    let mut bob = chat(&up, "bob", &data_dir("bob"), &[]);

    // Privately, both ways and both forms.
    alice.type_line("@bob hello bob");
    sees(&mut bob, "alice: hello bob");
    bob.type_line("alice;;hi alice");
    sees(&mut alice, "bob: hi alice");
    // In a group, and to everyone, with an emoji alias.
    alice.type_line("#team standup at ten");
    sees(&mut bob, "[#team] alice: standup at ten");
    bob.type_line("hello everyone :wave:");
    sees(&mut alice, "[all] bob: hello everyone 👋");

    // Every command.
    says(&mut alice, ":all", ":delay <message> <seconds>");
    says(&mut alice, ":help delay", "send <message> (any form) after <seconds>");
    says(&mut alice, ":olu", "online (2): alice, bob");
    says(&mut alice, ":pu b", "bob (online)");
    says(&mut alice, ":info", "state      connected");
    says(&mut alice, ":emoji 2", "page 2 of 3");
    says(&mut alice, ":q standup", "alice → #team: standup at ten");
    says(&mut alice, ":groups", "#team (2 members)");
    says(&mut alice, ":leave team", "left #team");
    says(&mut alice, ":join #team", "joined #team (2 members)");
    says(&mut alice, ":delay @bob see you later 1", "will send in 1s");
    sees(&mut bob, "alice: see you later");
    says(&mut alice, ":nope", "unknown command :nope; :all lists the commands");
    says(&mut alice, ":pu", "usage: :pu <prefix>");
    says(&mut alice, "@bob", "usage: @name text");
    alice.type_line(":q!");
    assert_eq!(alice.wait_exit(WAIT), Some(0), "quits");

    // What alice's chat wrote down, outside the chat.
    let history = Command::new(CIM)
        .args(["history", "--user", "alice", "--grep", "hello"])
        .env("XDG_DATA_HOME", &data)
        .output()
        .expect("cim history runs");
    let history = String::from_utf8_lossy(&history.stdout).into_owned();
    assert!(history.contains("alice → bob: hello bob"), "{history}");
    assert!(history.contains("bob → *: hello everyone 👋"), "{history}");
    assert!(!history.contains("standup"), "--grep filters: {history}");
    // A later chat of alice's finds what the first one wrote down.
    let mut alice_again = chat(&up, "alice", &data, &[]);
    says(&mut alice_again, ":q hi alice", "bob → alice: hi alice");

    // Bob's device logs in again elsewhere: this chat is replaced, says so and ends.
    let kicker = cim(
        &up,
        &["send", "--user", "bob", "--password", "bob-password", "--device", "cim-chat", "--to", "bob", "hi"],
    );
    assert!(kicker.status.success(), "{}", String::from_utf8_lossy(&kicker.stderr));
    sees(&mut bob, "session ended: server ended the session (GO_AWAY_REASON_SESSION_REPLACED)");
    assert_eq!(bob.wait_exit(WAIT), Some(5), "the refused-session exit code");

    // The node goes away: the chat says so in one line and keeps trying.
    drop(up);
    sees(&mut alice_again, "connection lost (");
    sees(&mut alice_again, "reconnecting in");
}

#[test]
fn a_wrong_password_ends_the_chat_with_the_auth_exit_code() {
    let up = up();
    register(&up, "carol");
    let out = Command::new(CIM)
        .args(["chat", "--user", "carol", "--password", "wrong"])
        .env("CIM_ROUTE", &up.route)
        .output()
        .expect("cim chat runs");
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn quitting_gives_the_terminal_back_in_its_normal_mode() {
    let up = up();
    register(&up, "erin");
    let data = data_dir("erin").display().to_string();
    // The chat, then what the terminal's line discipline looks like afterwards.
    let script = "\"$0\" chat --user erin --password erin-password; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo";
    let mut terminal = Terminal::spawn(
        "sh",
        &["-c", script, CIM],
        &[("CIM_ROUTE", &up.route), ("XDG_DATA_HOME", &data), ("NO_COLOR", "1"), ("TERM", "xterm")],
    );
    sees(&mut terminal, "logged in as erin");
    terminal.type_line(":q!");
    sees(&mut terminal, "\nicanon");
    sees(&mut terminal, "\necho");
    assert_eq!(terminal.wait_exit(WAIT), Some(0));
}
