//! The registry suite over a real ZooKeeper started on a free port.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cim_core::wire::ServerInfo;
use cim_registry_zookeeper::ZooKeeperRegistry;
use cim_store::Registry;
use cim_store::testsuite::{self, ZooKeeperServer};

#[tokio::test]
async fn zookeeper_registry_passes_the_backend_suite() {
    let zk = ZooKeeperServer::start();
    let next = AtomicU32::new(0);
    testsuite::registry_suite(|| {
        let root = format!("/t{}", next.fetch_add(1, Ordering::Relaxed));
        let hosts = zk.hosts.clone();
        async move {
            Arc::new(ZooKeeperRegistry::connect(&hosts, &root).await.expect("zookeeper")) as Arc<dyn Registry>
        }
    })
    .await;
}

#[tokio::test]
async fn a_dead_servers_node_disappears_and_others_see_it() {
    let zk = ZooKeeperServer::start();
    let reader = ZooKeeperRegistry::connect(&zk.hosts, "/cim").await.expect("zookeeper");
    let server = ZooKeeperRegistry::connect(&zk.hosts, "/cim").await.expect("zookeeper");
    server.register(ServerInfo { server_id: "s1".into(), ..Default::default() }).await.expect("registered");
    let mut watch = reader.watch();
    let seen = |servers: &Vec<ServerInfo>| servers.iter().any(|s| s.server_id == "s1");
    tokio::time::timeout(Duration::from_secs(10), watch.wait_for(seen))
        .await
        .expect("in time")
        .expect("watch");
    // The server's process dies: its session closes and the ephemeral node goes with it.
    drop(server);
    tokio::time::timeout(Duration::from_secs(20), watch.wait_for(|s| !seen(s)))
        .await
        .expect("in time")
        .expect("watch");
    assert!(reader.servers().await.expect("listed").is_empty());
}

#[tokio::test]
async fn zookeeper_away_keeps_the_last_known_list() {
    let zk = ZooKeeperServer::start();
    let registry = ZooKeeperRegistry::connect(&zk.hosts, "/cim").await.expect("zookeeper");
    registry.register(ServerInfo { server_id: "s1".into(), ..Default::default() }).await.expect("registered");
    drop(zk);
    let servers =
        tokio::time::timeout(Duration::from_secs(30), registry.servers()).await.expect("answers in time");
    let ids: Vec<String> = servers.expect("last known list").into_iter().map(|s| s.server_id).collect();
    assert_eq!(ids, ["s1"]);
}

#[tokio::test]
async fn unreachable_zookeeper_is_a_clear_error() {
    let port = testsuite::free_port();
    let error =
        ZooKeeperRegistry::connect(&format!("127.0.0.1:{port}"), "/cim").await.err().expect("refused");
    assert!(error.to_string().contains(&format!("cannot reach ZooKeeper at 127.0.0.1:{port}")), "{error}");
}

#[tokio::test]
async fn an_expired_session_is_replaced_and_the_server_registered_again() {
    let mut zk = ZooKeeperServer::start();
    let server =
        ZooKeeperRegistry::connect_with(&zk.hosts, "/cim", Duration::from_secs(2)).await.expect("zookeeper");
    server.register(ServerInfo { server_id: "s1".into(), ..Default::default() }).await.expect("registered");
    // A ZooKeeper that comes back empty knows nothing of the old session: it has expired.
    zk.wipe();
    zk.restart();
    let reader = ZooKeeperRegistry::connect(&zk.hosts, "/cim").await.expect("zookeeper");
    let mut watch = reader.watch();
    tokio::time::timeout(Duration::from_secs(30), watch.wait_for(|s| s.iter().any(|s| s.server_id == "s1")))
        .await
        .expect("registered again in time")
        .expect("watch");
    // And the node belongs to the new session: it goes when the server does.
    drop(server);
    tokio::time::timeout(Duration::from_secs(20), watch.wait_for(|s| s.is_empty()))
        .await
        .expect("gone in time")
        .expect("watch");
}

#[tokio::test]
async fn an_ensemble_connect_string_reaches_whichever_member_answers() {
    let zk = ZooKeeperServer::start();
    // A member that is down comes first: the client moves on to the next.
    let hosts = format!("127.0.0.1:{},{}", testsuite::free_port(), zk.hosts);
    let registry = ZooKeeperRegistry::connect(&hosts, "/cim").await.expect("one member answers");
    registry.register(ServerInfo { server_id: "s1".into(), ..Default::default() }).await.expect("registered");
    let ids: Vec<String> =
        registry.servers().await.expect("listed").into_iter().map(|s| s.server_id).collect();
    assert_eq!(ids, ["s1"]);
    assert!(registry.describe().contains(&hosts), "{}", registry.describe());
}
