//! A program in a pseudo-terminal, with just enough of a terminal emulator around it for a
//! line editor: the window has a size, and the queries for the cursor position and the
//! device attributes get answers. Everything the program writes is kept for `expect`.

use std::io::{Read, Write};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rexpect::process::PtyProcess;

pub struct Terminal {
    process: PtyProcess,
    input: std::fs::File,
    output: Arc<Mutex<Vec<u8>>>,
    /// How much of the output earlier expectations consumed.
    seen: usize,
}

/// What a terminal answers to the queries line editors send.
const ANSWERS: &[(&[u8], &[u8])] = &[
    // Cursor position report: top left.
    (b"\x1b[6n", b"\x1b[1;1R"),
    // Primary device attributes (also ends a keyboard-enhancement probe: not supported).
    (b"\x1b[c", b"\x1b[?1;2c"),
];

impl Terminal {
    /// Runs `program args…` in a 120×40 terminal in its normal (cooked, echoing) mode.
    pub fn spawn(program: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("stty cols 120 rows 40 echo icanon; exec \"$0\" \"$@\"")
            .arg(program)
            .args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        let process = PtyProcess::new(command).expect("a pty");
        let mut reader = process.get_file_handle().expect("pty output");
        let mut answerer = process.get_file_handle().expect("pty input");
        let input = process.get_file_handle().expect("pty input");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut scanned: usize = 0;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let mut all = sink.lock().unwrap_or_else(|p| p.into_inner());
                all.extend_from_slice(&buf[..n]);
                // Answer queries not yet answered (a query may straddle two reads).
                let from = scanned.saturating_sub(8);
                let mut answered_up_to = scanned;
                for (query, answer) in ANSWERS {
                    let mut at = from;
                    while let Some(pos) = find(&all[at..], query) {
                        let end = at + pos + query.len();
                        if end > scanned {
                            let _ = answerer.write_all(answer);
                        }
                        answered_up_to = answered_up_to.max(end);
                        at = end;
                    }
                }
                scanned = all.len().max(answered_up_to);
            }
        });
        Self { process, input, output, seen: 0 }
    }

    /// Waits until `text` appears after what earlier expectations matched.
    pub fn expect(&mut self, text: &str, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            {
                let all = self.output.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(pos) = find(&all[self.seen..], text.as_bytes()) {
                    self.seen += pos + text.len();
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    return Err(format!(
                        "{text:?} did not appear; the terminal shows since the last match: {:?}",
                        String::from_utf8_lossy(&all[self.seen..])
                    ));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `line` and Enter.
    pub fn type_line(&mut self, line: &str) {
        self.input.write_all(line.as_bytes()).expect("typed");
        self.input.write_all(b"\r").expect("typed");
        self.input.flush().expect("typed");
    }

    /// Waits for the program to exit; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.process.status() {
                match status {
                    rexpect::process::wait::WaitStatus::Exited(_, code) => return Some(code),
                    rexpect::process::wait::WaitStatus::StillAlive => {}
                    _ => return None,
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
