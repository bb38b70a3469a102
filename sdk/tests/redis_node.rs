//! The same node on a real Redis: state outlives the processes that use it.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cim_backend::RedisStore;
use cim_backend::testsuite::RedisServer;
use support::{NodeExt, drain_messages, next_message, start_node_on};

#[tokio::test]
async fn chat_offline_delivery_and_groups_over_redis() {
    let redis = RedisServer::start();
    let store = Arc::new(RedisStore::connect(&redis.url, "node:").await.expect("redis"));
    let node = start_node_on(store, |_| {}).await;
    let alice = node.user("alice", "a").await;
    let mut bob = node.user("bob", "b").await;
    alice.send_to_user("bob", "hi over redis").await.expect("stored");
    assert_eq!(next_message(&mut bob, Duration::from_secs(10)).await.text(), "hi over redis");

    cim_sdk::register(&node.url(), "carol", "password-carol").await.expect("registered");
    alice.create_group("team").await.expect("group");
    bob.join_group("team").await.expect("bob joins");
    let route = cim_sdk::RouteClient::new(&node.url()).expect("route URL");
    // Carol, offline, joined earlier from another device of hers.
    let carols = route
        .login(&cim_sdk::Credentials::password("carol", "password-carol"), "carol-web")
        .await
        .expect("login");
    route.join_group(&carols.token, "team").await.expect("carol joins");
    alice.send_to_group("team", "meeting").await.expect("stored");
    assert_eq!(next_message(&mut bob, Duration::from_secs(10)).await.text(), "meeting");
    let mut carol = node.login("carol", "c", cim_sdk::Transport::Tcp).await;
    let texts: Vec<String> =
        drain_messages(&mut carol, Duration::from_millis(500)).await.iter().map(|m| m.text()).collect();
    assert_eq!(texts, ["meeting"], "offline member gets it from the Redis inbox");
}
