//! The deployment under test: one the user runs (`--route`), or one this process starts
//! and stops (`--spawn embedded|cluster`) from the real binaries built next to it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use cim_backend::testsuite::{RedisServer, ZooKeeperServer, free_port};
use cim_sdk::{Credentials, RouteClient};

use crate::load::jwt_for;

/// Token secret of spawned deployments (route and servers must share it).
static TOKEN_SECRET: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);
/// JWT secret of spawned deployments.
pub(crate) static SPAWNED_JWT_SECRET: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);

/// What `--spawn` starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Spawn {
    /// `cim up`: route and server in one process, in memory (several with `--servers`).
    Embedded,
    /// `redis-server`, ZooKeeper, one `cim-route` and `--servers` `cim-server`s.
    Cluster,
}

/// Where the load goes, as every scenario takes it.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct TargetArgs {
    /// Start this deployment for the run, and stop it after.
    #[arg(long, value_enum, default_value_t = Spawn::Embedded, conflicts_with = "route")]
    pub(crate) spawn: Spawn,
    /// Server processes to spawn (`cim up`s when embedded, `cim-server`s in the cluster).
    #[arg(long, default_value_t = 1)]
    pub(crate) servers: usize,
    /// Use the deployment whose route is here instead of spawning one; it must accept JWT
    /// logins (--jwt-secret) and should not rate-limit Sends (--sends-per-second 0).
    #[arg(long, value_name = "URL")]
    pub(crate) route: Option<String>,
    /// The route's JWT secret, for `--route`.
    #[arg(long, env = "CIM_JWT_SECRET", hide_env_values = true, requires = "route")]
    pub(crate) jwt_secret: Option<String>,
    /// Server processes to measure memory and CPU of, for `--route`.
    #[arg(long = "server-pid", value_name = "PID", requires = "route")]
    pub(crate) server_pids: Vec<u32>,
    /// Where spawned processes write their logs [default: a temporary directory, removed after].
    #[arg(long, value_name = "DIR")]
    pub(crate) logs: Option<PathBuf>,
}

/// A running deployment.
pub(crate) struct Deployment {
    /// Route URLs; a client uses `routes[i % len]` (one per node when embedded).
    pub(crate) routes: Vec<String>,
    pub(crate) jwt_secret: String,
    /// The server processes, whose memory and CPU the scenarios report.
    pub(crate) server_pids: Vec<u32>,
    /// The route processes (the same as the servers when embedded).
    pub(crate) route_pids: Vec<u32>,
    /// The Redis server of a spawned cluster.
    pub(crate) redis_pid: Option<u32>,
    /// Its port.
    pub(crate) redis_port: Option<u16>,
    /// For reports: "cim up ×1", "Redis + ZooKeeper, route + 2 servers", or the route URL.
    pub(crate) description: String,
    children: Vec<(String, Child)>,
    logs: PathBuf,
    keep_logs: bool,
    _redis: Option<RedisServer>,
    _zookeeper: Option<ZooKeeperServer>,
}

impl Deployment {
    /// Spawns or names the deployment, and waits until it accepts logins.
    pub(crate) async fn start(args: &TargetArgs) -> anyhow::Result<Self> {
        let deployment = match &args.route {
            Some(route) => Self {
                routes: vec![route.trim_end_matches('/').to_owned()],
                jwt_secret: args
                    .jwt_secret
                    .clone()
                    .context("--route needs --jwt-secret (or CIM_JWT_SECRET)")?,
                server_pids: args.server_pids.clone(),
                route_pids: Vec::new(),
                redis_pid: None,
                redis_port: None,
                description: format!("external, route {route}"),
                children: Vec::new(),
                logs: PathBuf::new(),
                keep_logs: true,
                _redis: None,
                _zookeeper: None,
            },
            None => Self::spawn(args)?,
        };
        deployment.wait_ready().await?;
        Ok(deployment)
    }

    fn spawn(args: &TargetArgs) -> anyhow::Result<Self> {
        if args.servers == 0 {
            bail!("--servers must be at least 1");
        }
        let keep_logs = args.logs.is_some();
        let logs = args.logs.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("cim-bench-{}-{}", std::process::id(), free_port()))
        });
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        let mut deployment = Self {
            routes: Vec::new(),
            jwt_secret: SPAWNED_JWT_SECRET.to_owned(),
            server_pids: Vec::new(),
            route_pids: Vec::new(),
            redis_pid: None,
            redis_port: None,
            description: String::new(),
            children: Vec::new(),
            logs,
            keep_logs,
            _redis: None,
            _zookeeper: None,
        };
        match args.spawn {
            Spawn::Embedded => {
                let cim = binary("cim")?;
                for n in 1..=args.servers {
                    let route = free_port();
                    let mut command = Command::new(&cim);
                    command.arg("up");
                    command.args(["--route-listen", &format!("127.0.0.1:{route}"), "--free-ports"]);
                    command.args(["--jwt-secret", SPAWNED_JWT_SECRET.as_str(), "--sends-per-second", "0"]);
                    command.args(["--max-sessions-per-user", "1000"]);
                    command.args(["--max-connections", &connection_limit()]);
                    let pid = deployment.run(&format!("cim-up-{n}"), command)?;
                    deployment.server_pids.push(pid);
                    deployment.route_pids.push(pid);
                    deployment.routes.push(format!("http://127.0.0.1:{route}"));
                }
                deployment.description = format!("embedded: cim up ×{}", args.servers);
            }
            Spawn::Cluster => {
                let redis = RedisServer::start();
                let zookeeper = ZooKeeperServer::start();
                let backend = |command: &mut Command| {
                    command.args(["--token-secret", TOKEN_SECRET.as_str(), "--redis", &redis.url]);
                    command.args(["--zookeeper", &zookeeper.hosts]);
                };
                let route = free_port();
                let mut command = Command::new(binary("cim-route")?);
                command.args(["--listen", &format!("127.0.0.1:{route}")]);
                command.args(["--grpc-listen", &format!("127.0.0.1:{}", free_port())]);
                command.args(["--admin-listen", &format!("127.0.0.1:{}", free_port())]);
                command.args(["--strategy", "round-robin", "--jwt-secret", SPAWNED_JWT_SECRET.as_str()]);
                backend(&mut command);
                let pid = deployment.run("cim-route", command)?;
                deployment.route_pids.push(pid);
                deployment.routes.push(format!("http://127.0.0.1:{route}"));
                for n in 1..=args.servers {
                    let mut command = Command::new(binary("cim-server")?);
                    command.args(["--server-id", &format!("s{n}")]);
                    command.args(["--listen", &format!("127.0.0.1:{}", free_port())]);
                    command.args(["--ws-listen", &format!("127.0.0.1:{}", free_port())]);
                    command.args(["--internal-listen", &format!("127.0.0.1:{}", free_port())]);
                    command.args(["--admin-listen", &format!("127.0.0.1:{}", free_port())]);
                    command.args(["--sends-per-second", "0", "--max-sessions-per-user", "1000"]);
                    command.args(["--max-connections", &connection_limit()]);
                    backend(&mut command);
                    let pid = deployment.run(&format!("cim-server-s{n}"), command)?;
                    deployment.server_pids.push(pid);
                }
                deployment.description =
                    format!("cluster: Redis + ZooKeeper, cim-route + {} cim-server", args.servers);
                deployment.redis_pid = redis.pid();
                deployment.redis_port = Some(redis.port);
                deployment._redis = Some(redis);
                deployment._zookeeper = Some(zookeeper);
            }
        }
        Ok(deployment)
    }

    /// Starts a child with its output in the log directory; returns its pid.
    fn run(&mut self, name: &str, mut command: Command) -> anyhow::Result<u32> {
        let log = std::fs::File::create(self.logs.join(format!("{name}.log")))?;
        command.env("CIM_LOG", std::env::var("CIM_LOG").unwrap_or_else(|_| "warn".into()));
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let pid = child.id();
        self.children.push((name.to_owned(), child));
        Ok(pid)
    }

    /// Waits until every route logs a probe user in (which needs a server to assign).
    async fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        for route in &self.routes {
            let client = RouteClient::new(route)?;
            let credentials = Credentials::Jwt(jwt_for("cim-bench-probe", &self.jwt_secret));
            loop {
                match client.login(&credentials, "probe").await {
                    Ok(_) => break,
                    Err(e) if e.kind() == cim_sdk::ErrorKind::Authentication => {
                        bail!("{route} refused the bench's JWT: {e} (is --jwt-secret the route's?)")
                    }
                    Err(e) if Instant::now() > deadline => {
                        self.print_log_tails();
                        bail!("{route} did not accept a login within 60 s: {e}")
                    }
                    Err(_) => {
                        self.check_children()?;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
        Ok(())
    }

    /// Fails if a spawned process has exited.
    pub(crate) fn check_children(&self) -> anyhow::Result<()> {
        for (name, child) in &self.children {
            if std::fs::metadata(format!("/proc/{}", child.id())).is_err() || is_zombie(child.id()) {
                self.print_log_tails();
                bail!("{name} exited; its log is above");
            }
        }
        Ok(())
    }

    fn print_log_tails(&self) {
        for (name, _) in &self.children {
            let text = std::fs::read_to_string(self.logs.join(format!("{name}.log"))).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("---- {name} (last lines) ----");
            for line in &lines[lines.len().saturating_sub(15)..] {
                eprintln!("{line}");
            }
        }
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !self.keep_logs && !self.logs.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.logs);
        }
    }
}

fn is_zombie(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
}

/// A binary of this workspace, looked for next to this one: `cargo build --release` puts
/// them all in one directory.
fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let path = dir.join(name);
    if path.is_file() {
        return Ok(path);
    }
    bail!(
        "`{name}` is not next to cim-bench in {}; build them together with \
         `cargo build --release -p cim -p cim-server -p cim-route -p cim-bench`, or run scripts/bench",
        dir.display()
    )
}

/// The client connections a spawned server may hold: all its file descriptors but a few. A
/// benchmark measures how many connections a process holds, so the server's default reserve
/// (room for a route in the same process) would only cut the figure short.
fn connection_limit() -> String {
    cim_backend::process::open_file_limit().map_or(100_000, |n| n.saturating_sub(256)).to_string()
}
