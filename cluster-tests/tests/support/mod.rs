//! A cluster of child processes: a durable `redis-server`, a ZooKeeper, one `cim-route` and
//! three `cim-server`s, each on fixed free ports so a stopped server comes back where it was.
//! Every process's output goes to a log file; a failing test prints their tails.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use cim_backend::testsuite::{RedisCluster, RedisServer, ZooKeeperServer, free_port};
use cim_sdk::{Client, ClientOptions, ConnectionState, Credentials, Event};

pub static TOKEN_SECRET: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);
pub static API_KEY: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);
/// The app backend's JWT secret the route accepts logins with.
pub static JWT_SECRET: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);
/// ZooKeeper session timeout of every process: how long a killed server stays listed.
const SESSION_TIMEOUT_SECS: &str = "2";

/// One server's fixed identity and ports, and its process while it runs.
struct ServerSlot {
    id: String,
    tcp: u16,
    ws: u16,
    internal: u16,
    admin: u16,
    child: Option<Child>,
    starts: u32,
}

/// The Redis a cluster runs on.
pub enum Redis {
    /// One durable server, which tests stop and restart.
    Standalone(RedisServer),
    /// A Redis Cluster of three masters.
    Cluster(RedisCluster),
}

impl Redis {
    fn url(&self) -> &str {
        match self {
            Self::Standalone(server) => &server.url,
            Self::Cluster(cluster) => &cluster.url,
        }
    }
}

pub struct Cluster {
    redis: Redis,
    pub zookeeper: ZooKeeperServer,
    logs: PathBuf,
    route: Child,
    route_url: String,
    route_grpc_url: String,
    servers: Vec<ServerSlot>,
    http: reqwest::Client,
}

impl Cluster {
    /// Starts Redis, ZooKeeper, the route and `servers` servers, and waits until the route
    /// lists every server.
    pub async fn start(servers: usize) -> Self {
        Self::start_on(Redis::Standalone(RedisServer::start_durable()), servers).await
    }

    /// Like [`start`](Self::start) over a Redis Cluster.
    pub async fn start_on_redis_cluster(servers: usize) -> Self {
        Self::start_on(Redis::Cluster(RedisCluster::start()), servers).await
    }

    async fn start_on(redis: Redis, servers: usize) -> Self {
        let zookeeper = ZooKeeperServer::start();
        let logs = std::env::temp_dir().join(format!("cim-cluster-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&logs).expect("log dir");
        let route_port = free_port();
        let route_url = format!("http://127.0.0.1:{route_port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_cluster-route"));
        command.args(["--listen", &format!("127.0.0.1:{route_port}")]);
        let route_grpc_url = format!("http://127.0.0.1:{}", free_port());
        command.args(["--grpc-listen", route_grpc_url.trim_start_matches("http://")]);
        command.args(["--admin-listen", &format!("127.0.0.1:{}", free_port())]);
        command.args([
            "--strategy",
            "round-robin",
            "--api-key",
            API_KEY.as_str(),
            "--jwt-secret",
            JWT_SECRET.as_str(),
            // The tests register users as well as log in with JWTs, many of them from one
            // address (the conformance run too).
            "--registration",
            "open",
            "--registrations-per-address",
            "0",
            "--login-failures-per-address",
            "0",
        ]);
        let route = spawn(command, &redis, &zookeeper, &logs, "route");
        let servers = (1..=servers)
            .map(|n| ServerSlot {
                id: format!("s{n}"),
                tcp: free_port(),
                ws: free_port(),
                internal: free_port(),
                admin: free_port(),
                child: None,
                starts: 0,
            })
            .collect();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("http client");
        let mut cluster = Self { redis, zookeeper, logs, route, route_url, route_grpc_url, servers, http };
        for index in 0..cluster.servers.len() {
            cluster.start_server(index);
        }
        cluster.wait_for_servers(&cluster.server_ids()).await;
        cluster
    }

    /// The standalone Redis, to stop and restart.
    pub fn redis(&mut self) -> &mut RedisServer {
        match &mut self.redis {
            Redis::Standalone(server) => server,
            Redis::Cluster(_) => panic!("this cluster runs on a Redis Cluster"),
        }
    }

    pub fn route_url(&self) -> &str {
        &self.route_url
    }

    /// The route's gRPC binding, `http://127.0.0.1:port`.
    pub fn route_grpc_url(&self) -> &str {
        &self.route_grpc_url
    }

    pub fn server_ids(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.id.clone()).collect()
    }

    pub fn index_of(&self, server_id: &str) -> usize {
        self.servers.iter().position(|s| s.id == server_id).expect("a server of this cluster")
    }

    /// Starts server `index` (again) on its ports, under its id.
    pub fn start_server(&mut self, index: usize) {
        let slot = &mut self.servers[index];
        assert!(slot.child.is_none(), "{} already runs", slot.id);
        slot.starts += 1;
        let mut command = Command::new(env!("CARGO_BIN_EXE_cluster-server"));
        command.args(["--server-id", &slot.id]);
        command.args(["--listen", &format!("127.0.0.1:{}", slot.tcp)]);
        command.args(["--ws-listen", &format!("127.0.0.1:{}", slot.ws)]);
        command.args(["--internal-listen", &format!("127.0.0.1:{}", slot.internal)]);
        command.args(["--admin-listen", &format!("127.0.0.1:{}", slot.admin)]);
        command.args(["--drain-secs", "3"]);
        let name = format!("{}-{}", slot.id, slot.starts);
        slot.child = Some(spawn(command, &self.redis, &self.zookeeper, &self.logs, &name));
    }

    /// `kill -9`: no GoAway, no deregistration; its ZooKeeper node lingers until the session
    /// times out.
    pub fn kill_server(&mut self, index: usize) {
        if let Some(mut child) = self.servers[index].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the graceful exit (deregister, GoAway, drain).
    pub fn stop_server(&mut self, index: usize) {
        let Some(mut child) = self.servers[index].child.take() else { return };
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -TERM runs");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    assert!(
                        status.success(),
                        "{} exits cleanly after SIGTERM: {status}",
                        self.servers[index].id
                    );
                    return;
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                _ => {
                    let _ = child.kill();
                    panic!("{} did not exit within 20 s of SIGTERM", self.servers[index].id);
                }
            }
        }
    }

    /// The server ids the route lists now (`None` while it cannot answer).
    pub async fn listed_servers(&self) -> Option<Vec<String>> {
        let response = self
            .http
            .get(format!("{}/v1/servers", self.route_url))
            .header("x-cim-api-key", API_KEY.as_str())
            .send()
            .await
            .ok()?;
        let body: serde_json::Value = response.json().await.ok()?;
        let mut ids: Vec<String> = body["servers"]
            .as_array()?
            .iter()
            .filter_map(|s| s["server_id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        Some(ids)
    }

    /// Waits until the route lists exactly `ids`.
    pub async fn wait_for_servers(&self, ids: &[String]) {
        let mut want = ids.to_vec();
        want.sort();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let listed = self.listed_servers().await;
            if listed.as_ref() == Some(&want) {
                return;
            }
            assert!(Instant::now() < deadline, "the route lists {listed:?}, not {want:?}, after 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Server `index`'s `/metrics`.
    pub async fn metrics(&self, index: usize) -> String {
        let url = format!("http://127.0.0.1:{}/metrics", self.servers[index].admin);
        match self.http.get(url).send().await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// How many errors with `code` server `index` has sent.
    pub async fn errors_sent(&self, index: usize, code: u32) -> u64 {
        let prefix = format!("cim_server_errors_total{{code=\"{code}\"");
        self.metrics(index)
            .await
            .lines()
            .filter(|line| line.starts_with(&prefix))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// Registers `user` (if new) and logs in a client for it.
    pub async fn login(&self, user: &str) -> Client {
        let password = format!("password-{user}");
        let _ = cim_sdk::register(&self.route_url, user, &password).await;
        tokio::time::timeout(
            Duration::from_secs(20),
            Client::login(&self.route_url, Credentials::password(user, password), ClientOptions::new("d")),
        )
        .await
        .unwrap_or_else(|_| panic!("{user} logs in within 20 s"))
        .unwrap_or_else(|e| panic!("{user} logs in: {e}"))
    }

    fn dump_logs(&self) {
        let Ok(entries) = std::fs::read_dir(&self.logs) else { return };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("---- last lines of {} ----", path.display());
            for line in &lines[lines.len().saturating_sub(30)..] {
                eprintln!("{line}");
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for slot in &mut self.servers {
            if let Some(mut child) = slot.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = self.route.kill();
        let _ = self.route.wait();
        if std::thread::panicking() {
            self.dump_logs();
        }
        let _ = std::fs::remove_dir_all(&self.logs);
    }
}

fn spawn(
    mut command: Command,
    redis: &Redis,
    zookeeper: &ZooKeeperServer,
    logs: &std::path::Path,
    name: &str,
) -> Child {
    let log = std::fs::File::create(logs.join(format!("{name}.log"))).expect("log file");
    let log_err = log.try_clone().expect("log file");
    command
        .args([
            "--token-secret",
            TOKEN_SECRET.as_str(),
            "--redis",
            redis.url(),
            "--zookeeper",
            &zookeeper.hosts,
        ])
        .args(["--zookeeper-session-timeout-secs", SESSION_TIMEOUT_SECS])
        .env("CIM_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .unwrap_or_else(|e| panic!("{name} starts: {e}"))
}

/// Every message each user received, by body, filled by a task per receiving client.
#[derive(Clone, Default)]
pub struct Inboxes {
    received: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl Inboxes {
    /// Reads `client`'s events until it closes, recording its messages.
    pub fn collect(&self, mut client: Client) -> tokio::task::JoinHandle<Client> {
        let received = self.received.clone();
        let user = client.user_id();
        tokio::spawn(async move {
            while let Some(event) = client.next_event().await {
                match event {
                    Event::Message(message) => received
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .entry(user.clone())
                        .or_default()
                        .push(message.text()),
                    Event::Closed { .. } => break,
                    _ => {}
                }
            }
            client
        })
    }

    pub fn of(&self, user: &str) -> Vec<String> {
        self.received.lock().unwrap_or_else(|p| p.into_inner()).get(user).cloned().unwrap_or_default()
    }

    /// Waits until `user` has received at least `count` messages.
    pub async fn wait_for(&self, user: &str, count: usize, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.of(user);
            if got.len() >= count || Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits until `client` is connected to a server other than `not_on`; returns that server.
pub async fn wait_connected_elsewhere(client: &Client, not_on: &str, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    loop {
        let status = client.status();
        if status.state == ConnectionState::Connected && status.server_id != not_on {
            return Some(status.server_id);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts every body in `acked` arrived exactly once in `received`, and nothing else did.
pub fn assert_exactly_once(user: &str, acked: &[String], received: &[String]) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for body in received {
        *counts.entry(body.as_str()).or_default() += 1;
    }
    let duplicated: Vec<&&str> = counts.iter().filter(|(_, n)| **n > 1).map(|(b, _)| b).collect();
    assert!(duplicated.is_empty(), "{user} received these more than once: {duplicated:?}");
    let missing: Vec<&String> = acked.iter().filter(|b| !counts.contains_key(b.as_str())).collect();
    assert!(missing.is_empty(), "{user} never received these acked messages: {missing:?}");
    assert_eq!(received.len(), acked.len(), "{user} received messages nobody had acked");
}
