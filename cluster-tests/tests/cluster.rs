//! The cluster's promises (issue "Scale-out"), checked with one route and three servers as
//! child processes over a real Redis and ZooKeeper started on free ports.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cim_sdk::Client;
use support::{Cluster, Inboxes, assert_exactly_once, wait_connected_elsewhere};

/// UNAVAILABLE in the error registry (spec §11.2): retryable.
const UNAVAILABLE: u32 = cim_core::ErrorCode::UNAVAILABLE.0;
const OUTCOME_UNKNOWN: u32 = cim_core::ErrorCode::OUTCOME_UNKNOWN.0;
const WAIT: Duration = Duration::from_secs(20);

/// Sends `count` messages from each sender, the k-th to `receivers[k % len]`, each waiting
/// for its SendAck; `pause` between sends. Returns the acked bodies by receiver.
async fn send_load(
    senders: &[Arc<Client>],
    receivers: &[String],
    count: usize,
    pause: Duration,
) -> BTreeMap<String, Vec<String>> {
    let mut tasks = Vec::new();
    for sender in senders {
        let sender = sender.clone();
        let receivers = receivers.to_vec();
        tasks.push(tokio::spawn(async move {
            let me = sender.user_id();
            let mut acked = Vec::new();
            for k in 0..count {
                let to = &receivers[k % receivers.len()];
                let body = format!("{me}-{k}");
                match sender.send_to_user(to, &body).await {
                    Ok(_) => acked.push((to.clone(), body)),
                    Err(e) => panic!("{me} could not send {body}: {e}"),
                }
                tokio::time::sleep(pause).await;
            }
            acked
        }));
    }
    let mut by_receiver: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for task in tasks {
        for (to, body) in task.await.expect("sender task") {
            by_receiver.entry(to).or_default().push(body);
        }
    }
    by_receiver
}

/// Logs in `senders` and `receivers` (round robin spreads them over the servers); the
/// receivers' messages are collected into the returned inboxes.
async fn users(cluster: &Cluster, senders: &[&str], receivers: &[&str]) -> (Vec<Arc<Client>>, Inboxes) {
    let mut sending = Vec::new();
    for user in senders {
        sending.push(Arc::new(cluster.login(user).await));
    }
    let inboxes = Inboxes::default();
    for user in receivers {
        inboxes.collect(cluster.login(user).await);
    }
    (sending, inboxes)
}

async fn check_everything_arrived(inboxes: &Inboxes, acked: &BTreeMap<String, Vec<String>>) {
    for (user, bodies) in acked {
        let received = inboxes.wait_for(user, bodies.len(), WAIT).await;
        // A little longer, so that a duplicate arriving late is seen too.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let received = if received.len() >= bodies.len() { inboxes.of(user) } else { received };
        assert_exactly_once(user, bodies, &received);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_to_one_groups_broadcast_and_offline_delivery_across_servers() {
    let cluster = Cluster::start(3).await;
    let alice = cluster.login("alice").await;
    let bob = cluster.login("bob").await;
    let carol = cluster.login("carol").await;
    let servers: Vec<String> = [&alice, &bob, &carol].iter().map(|c| c.status().server_id).collect();
    let mut distinct = servers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "round robin puts them on three servers: {servers:?}");
    let _ = cim_sdk::register(cluster.route_url(), "dave", "password-dave").await;

    let inboxes = Inboxes::default();
    alice.create_group("team").await.expect("group created");
    for member in [&bob, &carol] {
        member.join_group("team").await.expect("joined");
    }
    inboxes.collect(bob);
    inboxes.collect(carol);

    alice.send_to_user("bob", "hello bob").await.expect("acked");
    alice.send_to_group("team", "hello team").await.expect("acked");
    alice.broadcast("hello everyone").await.expect("acked");
    alice.send_to_user("dave", "while you were away").await.expect("acked");

    let bob_got = inboxes.wait_for("bob", 3, WAIT).await;
    assert_eq!(bob_got, ["hello bob", "hello team", "hello everyone"]);
    let carol_got = inboxes.wait_for("carol", 2, WAIT).await;
    assert_eq!(carol_got, ["hello team", "hello everyone"]);

    // Dave was offline: the inbox kept it for him, whichever server he lands on.
    let dave = cluster.login("dave").await;
    inboxes.collect(dave);
    let dave_got = inboxes.wait_for("dave", 1, WAIT).await;
    assert_eq!(dave_got.first().map(String::as_str), Some("while you were away"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_runs_on_a_redis_cluster_too() {
    let cluster = Cluster::start_on_redis_cluster(3).await;
    let alice = cluster.login("alice").await;
    let receivers = ["bob", "carol", "dave"];
    let (senders, inboxes) = users(&cluster, &["erin"], &receivers).await;
    alice.create_group("crew").await.expect("group created");
    let route = cim_sdk::RouteClient::new(cluster.route_url()).expect("route URL");
    for member in receivers {
        // Everyone joins for themselves (spec CIM-14.4-38).
        let login = route
            .login(&cim_sdk::Credentials::password(member, format!("password-{member}")), "joining")
            .await
            .expect("login");
        route.join_group(&login.token, "crew").await.expect("joined");
    }
    alice.send_to_group("crew", "hello crew").await.expect("acked");
    for user in receivers {
        assert_eq!(inboxes.wait_for(user, 1, WAIT).await, ["hello crew"], "{user}");
    }
    let receivers: Vec<String> = receivers.iter().map(|r| r.to_string()).collect();
    let acked = send_load(&senders, &receivers, 30, Duration::ZERO).await;
    let mut expected = acked.clone();
    for bodies in expected.values_mut() {
        bodies.insert(0, "hello crew".into());
    }
    check_everything_arrived(&inboxes, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_servers_clients_reconnect_elsewhere_and_nothing_acked_is_lost() {
    let mut cluster = Cluster::start(3).await;
    let receivers = ["r1", "r2", "r3"];
    let (senders, inboxes) = users(&cluster, &["a1", "a2", "a3"], &receivers).await;
    let receivers: Vec<String> = receivers.iter().map(|r| r.to_string()).collect();
    let victim = senders[0].status().server_id;
    let on_victim: Vec<Arc<Client>> =
        senders.iter().filter(|c| c.status().server_id == victim).cloned().collect();

    let load = {
        let senders = senders.clone();
        let receivers = receivers.clone();
        tokio::spawn(async move { send_load(&senders, &receivers, 60, Duration::from_millis(20)).await })
    };
    // Let some traffic flow, then kill -9 the server a1 is on.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed_at = Instant::now();
    let index = cluster.index_of(&victim);
    cluster.kill_server(index);
    for client in &on_victim {
        let moved = wait_connected_elsewhere(client, &victim, Duration::from_secs(15)).await;
        assert!(moved.is_some(), "{} reconnected to another server within 15 s", client.user_id());
    }
    eprintln!("clients of {victim} reconnected after {:?}", killed_at.elapsed());

    let acked = tokio::time::timeout(Duration::from_secs(60), load).await.expect("load ends").expect("load");
    check_everything_arrived(&inboxes, &acked).await;
    // The dead server is gone from the route's list once its ZooKeeper session expires.
    let rest: Vec<String> = cluster.server_ids().into_iter().filter(|id| *id != victim).collect();
    cluster.wait_for_servers(&rest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_away_gives_clear_retryable_errors_and_nothing_acked_is_lost() {
    let mut cluster = Cluster::start(3).await;
    let (senders, inboxes) = users(&cluster, &["alice"], &["bob"]).await;
    let alice = senders[0].clone();
    for k in 0..5 {
        alice.send_to_user("bob", &format!("before-{k}")).await.expect("acked");
    }

    cluster.redis().stop();
    // The route: HTTP 503 with UNAVAILABLE from the registry.
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/v1/login", cluster.route_url()))
        .json(&serde_json::json!({ "user_name": "alice", "password": "password-alice", "device_id": "d2", "transports": ["tcp"] }))
        .send()
        .await
        .expect("the route answers");
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    assert_eq!(body["code"], UNAVAILABLE, "{body}");

    // The server refuses the send with a retryable code, UNAVAILABLE (not stored) or
    // OUTCOME_UNKNOWN (a call cut off by the stop); the SDK holds it and retries.
    let alice_server = cluster.index_of(&alice.status().server_id);
    let refused = async |cluster: &Cluster| {
        cluster.errors_sent(alice_server, UNAVAILABLE).await
            + cluster.errors_sent(alice_server, OUTCOME_UNKNOWN).await
    };
    let refused_before = refused(&cluster).await;
    let pending = {
        let alice = alice.clone();
        tokio::spawn(async move { alice.send_to_user("bob", "during").await })
    };
    let deadline = Instant::now() + WAIT;
    while refused(&cluster).await == refused_before {
        assert!(Instant::now() < deadline, "the server refused the send with UNAVAILABLE");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!pending.is_finished(), "a refused send is not acked");

    cluster.redis().restart();
    tokio::time::timeout(WAIT, pending)
        .await
        .expect("acked once Redis is back")
        .expect("task")
        .expect("acked");
    for k in 0..5 {
        alice.send_to_user("bob", &format!("after-{k}")).await.expect("acked");
    }
    let mut acked: Vec<String> = (0..5).map(|k| format!("before-{k}")).collect();
    acked.push("during".into());
    acked.extend((0..5).map(|k| format!("after-{k}")));
    check_everything_arrived(&inboxes, &BTreeMap::from([("bob".to_owned(), acked)])).await;
    // And the route logs people in again, and they chat.
    let carol = cluster.login("carol").await;
    carol.send_to_user("bob", "from carol").await.expect("acked");
    assert_eq!(inboxes.wait_for("bob", 12, WAIT).await.last().map(String::as_str), Some("from carol"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_the_store_may_have_taken_is_outcome_unknown_and_delivered_once() {
    let mut cluster = Cluster::start(3).await;
    let (senders, inboxes) = users(&cluster, &["alice"], &["bob"]).await;
    let alice = senders[0].clone();
    alice.send_to_user("bob", "before").await.expect("acked");
    let alice_server = cluster.index_of(&alice.status().server_id);
    let unknown_before = cluster.errors_sent(alice_server, OUTCOME_UNKNOWN).await;
    // Frozen, Redis takes the accept and answers nothing: the call times out, yet Redis
    // carries it out once it runs again. "Not stored" would be a lie.
    cluster.redis().freeze();
    let pending = {
        let alice = alice.clone();
        tokio::spawn(async move { alice.send_to_user("bob", "during").await })
    };
    let deadline = Instant::now() + WAIT;
    while cluster.errors_sent(alice_server, OUTCOME_UNKNOWN).await == unknown_before {
        assert!(Instant::now() < deadline, "the server answered OUTCOME_UNKNOWN");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!pending.is_finished(), "the SDK sends it again instead of reporting a failure");
    cluster.redis().thaw();
    tokio::time::timeout(WAIT, pending).await.expect("acked once Redis runs").expect("task").expect("acked");
    alice.send_to_user("bob", "after").await.expect("acked");
    // The first attempt was stored; the resend found it (duplicate), and bob reads it once.
    check_everything_arrived(
        &inboxes,
        &BTreeMap::from([("bob".to_owned(), vec!["before".into(), "during".into(), "after".into()])]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_away_leaves_chat_and_logins_working() {
    let mut cluster = Cluster::start(3).await;
    let (senders, inboxes) = users(&cluster, &["alice"], &["bob"]).await;
    let alice = senders[0].clone();
    alice.send_to_user("bob", "before").await.expect("acked");

    cluster.zookeeper.stop();
    alice.send_to_user("bob", "during").await.expect("acked");
    // A new login is assigned a server from the route's last known list.
    let carol = cluster.login("carol").await;
    carol.send_to_user("bob", "from carol").await.expect("acked");
    let mut expected = vec!["before".to_owned(), "during".into(), "from carol".into()];
    let got = inboxes.wait_for("bob", 3, WAIT).await;
    assert_eq!(got, expected);

    // ZooKeeper returns: every server is listed again and chat goes on.
    cluster.zookeeper.restart();
    cluster.wait_for_servers(&cluster.server_ids()).await;
    alice.send_to_user("bob", "after").await.expect("acked");
    expected.push("after".into());
    assert_eq!(inboxes.wait_for("bob", 4, WAIT).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_loses_nothing() {
    let mut cluster = Cluster::start(3).await;
    let receivers = ["r1", "r2", "r3"];
    let (senders, inboxes) = users(&cluster, &["a1", "a2", "a3"], &receivers).await;
    let receivers: Vec<String> = receivers.iter().map(|r| r.to_string()).collect();
    let load = {
        let senders = senders.clone();
        let receivers = receivers.clone();
        tokio::spawn(async move { send_load(&senders, &receivers, 150, Duration::from_millis(20)).await })
    };
    let all = cluster.server_ids();
    for index in 0..all.len() {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cluster.stop_server(index);
        cluster.start_server(index);
        cluster.wait_for_servers(&all).await;
    }
    assert!(!load.is_finished(), "the restarts happened under load (send more messages?)");
    let acked = tokio::time::timeout(Duration::from_secs(90), load).await.expect("load ends").expect("load");
    assert_eq!(acked.values().map(Vec::len).sum::<usize>(), 3 * 150);
    check_everything_arrived(&inboxes, &acked).await;
}
