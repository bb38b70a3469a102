//! `cim up` as a child process on free ports, and `cim` commands against it.
#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod pty;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const CIM: &str = env!("CARGO_BIN_EXE_cim");

/// `cim up` on free ports; killed on drop.
pub struct Up {
    child: Child,
    pub route: String,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn up() -> Up {
    let mut child = Command::new(CIM)
        .args(["up", "--free-ports"])
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

pub fn cim(up: &Up, args: &[&str]) -> std::process::Output {
    Command::new(CIM)
        .args(args)
        .env("CIM_ROUTE", &up.route)
        .env_remove("CIM_USER")
        .env_remove("CIM_PASSWORD")
        .output()
        .expect("cim runs")
}
