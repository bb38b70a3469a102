//! Two servers and a route in one process, sharing a store and a registry: messages cross
//! servers through the internal push service.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cim_backend::{ClusterFanout, MemoryRegistry, MemoryStore, Registry, Store, TokenKeys};
use cim_sdk::{Client, ClientOptions, Credentials, Target};
use support::next_message;

const WAIT: Duration = Duration::from_secs(10);

/// Servers with these ids and a round-robin route, in this process, over one memory store
/// and registry.
async fn cluster(ids: &[&str]) -> (Vec<cim_server::RunningServer>, cim_route::RunningRoute) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let registry: Arc<dyn Registry> = Arc::new(MemoryRegistry::new());
    let keys = TokenKeys::generate();
    let mut servers = Vec::new();
    for id in ids {
        let mut options = cim_server::ServerOptions::defaults();
        options.listen_on_free_ports();
        options.server_id = Some((*id).into());
        servers.push(
            cim_server::start(options, store.clone(), registry.clone(), keys.clone()).await.expect("server"),
        );
    }
    let mut route_options = cim_route::RouteOptions::defaults();
    route_options.listen_on_free_ports();
    route_options.strategy = cim_route::Strategy::RoundRobin;
    let fanout = Arc::new(ClusterFanout::for_route(store.clone(), registry.clone(), keys.internal_auth()));
    let route = cim_route::start(route_options, store, registry, keys, Some(fanout)).await.expect("route");
    (servers, route)
}

async fn login_as(route_url: &str, user: &str, device: &str) -> Client {
    let _ = cim_sdk::register(route_url, user, &format!("password-{user}")).await;
    Client::login(
        route_url,
        Credentials::password(user, format!("password-{user}")),
        ClientOptions::new(device),
    )
    .await
    .expect("login")
}

/// A server's `/metrics` text.
async fn metrics(server: &cim_server::RunningServer) -> String {
    reqwest::get(format!("http://{}/metrics", server.admin_addr()))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// The value of the series `series` (name and labels) in a `/metrics` text.
fn counter(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{series} missing from /metrics"))
}

/// A server's route-cache counters: (hits, misses).
async fn route_cache(server: &cim_server::RunningServer) -> (u64, u64) {
    let text = metrics(server).await;
    let outcome =
        |outcome: &str| counter(&text, &format!("cim_server_route_cache_total{{outcome=\"{outcome}\"}}"));
    (outcome("hit"), outcome("miss"))
}

/// A server's counters of what it sent to other servers: (PushBatch calls, pushes).
async fn pushes_sent(server: &cim_server::RunningServer) -> (u64, u64) {
    let text = metrics(server).await;
    (counter(&text, "cim_server_push_batches_sent_total"), counter(&text, "cim_server_pushes_sent_total"))
}

#[tokio::test]
async fn messages_cross_servers() {
    let (servers, route) = cluster(&["s1", "s2"]).await;
    let login = |user: &'static str| {
        let url = route.url();
        async move { login_as(&url, user, "d").await }
    };
    let alice = login("alice").await;
    let mut bob = login("bob").await;
    let mut carol = login("carol").await;
    assert_ne!(alice.status().server_id, bob.status().server_id, "round robin spreads them");

    alice.send_to_user("bob", "across servers").await.expect("stored");
    assert_eq!(next_message(&mut bob, WAIT).await.text(), "across servers");

    alice.create_group("team").await.expect("group");
    for member in [&bob, &carol] {
        member.join_group("team").await.expect("joined");
    }
    alice.send_to_group("team", "to the team").await.expect("stored");
    for client in [&mut bob, &mut carol] {
        let message = next_message(client, WAIT).await;
        assert_eq!(
            (message.text(), message.to.clone()),
            ("to the team".into(), Target::Group("team".into()))
        );
    }
    bob.broadcast("hello everyone").await.expect("sent");
    assert_eq!(next_message(&mut carol, WAIT).await.text(), "hello everyone");
    assert_eq!(servers.iter().map(|s| s.session_count()).sum::<usize>(), 3);
}

#[tokio::test]
async fn a_departed_servers_sessions_leave_presence() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let registry: Arc<dyn Registry> = Arc::new(MemoryRegistry::new());
    let keys = TokenKeys::generate();
    let mut options = cim_server::ServerOptions::defaults();
    options.listen_on_free_ports();
    let survivor = cim_server::start(options, store.clone(), registry.clone(), keys).await.expect("server");
    // A session recorded for a server that then vanishes from the registry.
    let ghost = cim_core::wire::ServerInfo { server_id: "ghost".into(), ..Default::default() };
    registry.register(ghost).await.expect("registered");
    store
        .add_session(cim_backend::SessionRecord {
            session_id: "s".into(),
            user_id: "zed".into(),
            device_id: "d".into(),
            server_id: "ghost".into(),
            connected_at_ms: 0,
            expires_at_ms: 0,
        })
        .await
        .expect("memory");
    // The survivor must have seen the ghost alive before it can see it leave (the registry's
    // watch shows only the latest list): wait until it counts two servers.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !metrics(&survivor).await.lines().any(|l| l == "cim_server_registry_servers 2") {
        assert!(tokio::time::Instant::now() < deadline, "the survivor never saw the ghost");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    registry.deregister("ghost").await.expect("gone");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !store.sessions_of("zed").await.expect("memory").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the ghost's session was not cleaned up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(survivor);
}

/// Alice sends bob 20 messages from `sender`, her server; bob gets them in order. Asserts
/// that `sender` read bob's route from the store at most twice.
async fn twenty_messages_read_the_route_from_the_cache(
    sender: &cim_server::RunningServer,
    alice: &Client,
    bob: &mut Client,
) {
    let before = route_cache(sender).await;
    for k in 0..20 {
        alice.send_to_user("bob", &format!("m{k}")).await.expect("acked");
    }
    for k in 0..20 {
        assert_eq!(next_message(bob, WAIT).await.text(), format!("m{k}"));
    }
    let (hits, misses) = route_cache(sender).await;
    assert!(
        misses - before.1 <= 2,
        "at most a couple of store reads for 20 messages, got {}",
        misses - before.1
    );
    assert!(hits - before.0 >= 18, "the rest from the cache, got {}", hits - before.0);
}

#[tokio::test]
async fn a_busy_conversation_reads_the_route_from_the_cache() {
    let (servers, route) = cluster(&["s1", "s2"]).await;
    let alice = login_as(&route.url(), "alice", "d").await;
    let mut bob = login_as(&route.url(), "bob", "d").await;
    assert_ne!(alice.status().server_id, bob.status().server_id);
    let sender = &servers[usize::from(alice.status().server_id == "s2")];
    twenty_messages_read_the_route_from_the_cache(sender, &alice, &mut bob).await;
    let (batches, pushes) = pushes_sent(sender).await;
    assert!(pushes >= 20, "each message pushed to bob's server, got {pushes} pushes");
    assert!((1..=pushes).contains(&batches), "{pushes} pushes in {batches} batches");
}

#[tokio::test]
async fn a_recipient_on_the_senders_own_server_is_found_in_the_cache_too() {
    let (servers, route) = cluster(&["s1", "s2"]).await;
    let alice = login_as(&route.url(), "alice", "d").await;
    let _elsewhere = login_as(&route.url(), "carol", "d").await;
    let mut bob = login_as(&route.url(), "bob", "d").await;
    assert_eq!(alice.status().server_id, bob.status().server_id, "round robin: s1, s2, s1");
    let sender = &servers[usize::from(alice.status().server_id == "s2")];
    // "No other server holds bob" is cached like any other answer.
    twenty_messages_read_the_route_from_the_cache(sender, &alice, &mut bob).await;
    let (_, pushes) = pushes_sent(sender).await;
    assert_eq!(pushes, 0, "nothing to push to the other server");
}

#[tokio::test]
async fn a_recipient_who_moves_or_adds_a_device_elsewhere_still_gets_everything() {
    let (_servers, route) = cluster(&["s1", "s2", "s3"]).await;
    let url = route.url();
    let alice = login_as(&url, "alice", "d").await;
    let mut bob = login_as(&url, "bob", "phone").await;
    let bob_server = bob.status().server_id;
    alice.send_to_user("bob", "first").await.expect("acked");
    assert_eq!(next_message(&mut bob, WAIT).await.text(), "first");
    // Alice's server now caches bob's route. Bob adds a device on another server...
    let mut laptop = login_as(&url, "bob", "laptop").await;
    assert_ne!(laptop.status().server_id, bob_server, "round robin puts it elsewhere");
    alice.send_to_user("bob", "second").await.expect("acked");
    assert_eq!(next_message(&mut bob, WAIT).await.text(), "second");
    // The laptop is a new device, so it starts at the oldest retained entry (FRESH). That may still
    // be "first": the phone's ack of it reaches the store within 50 ms, and trimming acknowledged
    // entries is the server's choice (CIM-8.3-8). What must arrive despite the cached route is
    // "second".
    let mut got = next_message(&mut laptop, WAIT).await.text();
    if got == "first" {
        got = next_message(&mut laptop, WAIT).await.text();
    }
    assert_eq!(got, "second", "reached despite the cached route");
    // ...and the phone leaves its server and comes back on another.
    bob.close().await;
    let mut phone = login_as(&url, "bob", "phone").await;
    alice.send_to_user("bob", "third").await.expect("acked");
    assert_eq!(next_message(&mut laptop, WAIT).await.text(), "third");
    // (It may first replay what it had not acknowledged before closing.)
    let mut got = next_message(&mut phone, WAIT).await.text();
    while got != "third" {
        assert!(["first", "second"].contains(&got.as_str()), "unexpected {got}");
        got = next_message(&mut phone, WAIT).await.text();
    }
}
