//! The coordinator's side of the worker processes: start them with their jobs, follow
//! their setup with a progress bar, start the window on all at once, collect results.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::worker::{Job, Report, WorkerResult};

/// Running workers.
pub(crate) struct Workers {
    children: Vec<(Child, ChildStdin)>,
    reports: mpsc::UnboundedReceiver<(usize, Report)>,
    /// Clients connected at `ready`, over all workers.
    pub(crate) connected: u64,
    /// Clients the jobs asked for.
    pub(crate) expected: u64,
}

impl Workers {
    /// Starts one worker per job and waits until each has set up its clients.
    pub(crate) async fn start(jobs: Vec<Job>, quiet: bool) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let (tx, reports) = mpsc::unbounded_channel();
        let mut children = Vec::new();
        for (index, job) in jobs.iter().enumerate() {
            let mut child = Command::new(&exe)
                .arg("worker")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .context("starting a worker process")?;
            let mut stdin = child.stdin.take().context("worker stdin")?;
            let stdout = child.stdout.take().context("worker stdout")?;
            stdin.write_all(format!("{}\n", serde_json::to_string(job)?).as_bytes()).await?;
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    match serde_json::from_str::<Report>(&line) {
                        Ok(report) => {
                            if tx.send((index, report)).is_err() {
                                return;
                            }
                        }
                        Err(e) => eprintln!("worker {index}: unexpected line {line:?}: {e}"),
                    }
                }
            });
            children.push((child, stdin));
        }
        drop(tx);
        let mut workers = Self { children, reports, connected: 0, expected: 0 };
        workers.wait_ready(quiet).await?;
        Ok(workers)
    }

    async fn wait_ready(&mut self, quiet: bool) -> anyhow::Result<()> {
        let count = self.children.len();
        let mut connected = vec![0u64; count];
        let mut expected = vec![0u64; count];
        let mut ready = vec![false; count];
        let bar = progress_bar(quiet, 0, "{spinner} setting up: {pos} clients connected {msg}");
        while !ready.iter().all(|r| *r) {
            let Some((index, report)) = self.reports.recv().await else {
                bail!("a worker exited during setup (its errors are above)");
            };
            match report {
                Report::Progress { connected: c, login_failures } => {
                    connected[index] = c;
                    if login_failures > 0 {
                        bar.set_message(format!("({login_failures} login failures, retried)"));
                    }
                }
                Report::Ready { connected: c, expected: e } => {
                    connected[index] = c;
                    expected[index] = e;
                    ready[index] = true;
                }
                Report::Result(_) => bail!("worker {index} reported a result before go"),
            }
            bar.set_position(connected.iter().sum());
        }
        bar.finish_and_clear();
        self.connected = connected.iter().sum();
        self.expected = expected.iter().sum();
        if self.connected < self.expected {
            eprintln!(
                "warning: only {} of {} clients connected within the setup time; measuring those",
                self.connected, self.expected
            );
        }
        Ok(())
    }

    /// Opens the window on every worker.
    pub(crate) async fn go(&mut self) -> anyhow::Result<()> {
        for (_, stdin) in &mut self.children {
            stdin.write_all(b"go\n").await.context("a worker exited before go")?;
            stdin.flush().await?;
        }
        Ok(())
    }

    /// Waits for every worker's result (they stop their clients after it).
    pub(crate) async fn results(mut self, limit: Duration) -> anyhow::Result<Vec<WorkerResult>> {
        let mut results: Vec<Option<WorkerResult>> = (0..self.children.len()).map(|_| None).collect();
        let deadline = tokio::time::Instant::now() + limit;
        while results.iter().any(Option::is_none) {
            match tokio::time::timeout_at(deadline, self.reports.recv()).await {
                Ok(Some((index, Report::Result(result)))) => results[index] = Some(result),
                Ok(Some(_)) => {}
                Ok(None) => bail!("a worker exited before reporting (its errors are above)"),
                Err(_) => bail!("workers did not report within {limit:?}"),
            }
        }
        for (child, stdin) in &mut self.children {
            drop(stdin.shutdown().await);
            let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        }
        Ok(results.into_iter().flatten().collect())
    }
}

/// A progress bar on stderr, hidden when `quiet` or when stderr is not a terminal.
pub(crate) fn progress_bar(quiet: bool, len: u64, template: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = if len == 0 { ProgressBar::new_spinner() } else { ProgressBar::new(len) };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
