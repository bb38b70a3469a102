//! The backend suite over a real Redis started on a free port.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use cim_store::testsuite::{self, RedisCluster, RedisServer};
use cim_store::{AccountStore, GroupStore, Store, StoreError};
use cim_store_redis::RedisStore;

#[tokio::test]
async fn redis_store_passes_the_backend_suite() {
    let redis = RedisServer::start();
    let next = AtomicU32::new(0);
    testsuite::store_suite(|limits| {
        // A fresh keyspace per check: a prefix of its own.
        let prefix = format!("t{}:", next.fetch_add(1, Ordering::Relaxed));
        let url = redis.url.clone();
        async move {
            Arc::new(RedisStore::connect_with(&url, &prefix, limits).await.expect("redis")) as Arc<dyn Store>
        }
    })
    .await;
    testsuite::inbox_limits_suite(|limits| {
        let prefix = format!("t{}:", next.fetch_add(1, Ordering::Relaxed));
        let url = redis.url.clone();
        async move {
            Arc::new(RedisStore::connect_with(&url, &prefix, limits).await.expect("redis")) as Arc<dyn Store>
        }
    })
    .await;
}

#[tokio::test]
async fn unreachable_redis_names_the_reason() {
    let port = testsuite::free_port();
    let started = std::time::Instant::now();
    let error = RedisStore::connect(&format!("redis://127.0.0.1:{port}"), "x:").await.err().expect("refused");
    let StoreError::Unavailable(message) = &error else { panic!("unavailable") };
    assert!(message.starts_with(&format!("cannot reach Redis at redis://127.0.0.1:{port}: ")), "{message}");
    assert!(message.contains("refused"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "fails fast");
}

#[tokio::test]
async fn redis_store_passes_the_backend_suite_on_a_redis_cluster() {
    let cluster = RedisCluster::start();
    let next = AtomicU32::new(0);
    let make = |limits| {
        let prefix = format!("t{}:", next.fetch_add(1, Ordering::Relaxed));
        let url = cluster.url.clone();
        async move {
            let store = RedisStore::connect_with(&url, &prefix, limits).await.expect("redis cluster");
            assert!(store.is_cluster(), "detected as a cluster");
            Arc::new(store) as Arc<dyn Store>
        }
    };
    testsuite::store_suite(make).await;
    testsuite::inbox_limits_suite(make).await;
}

#[tokio::test]
async fn any_single_node_of_a_cluster_is_enough_to_connect() {
    let cluster = RedisCluster::start();
    let first = cluster.url.split(',').next().expect("a node").to_owned();
    let store = RedisStore::connect(&first, "one:").await.expect("redis cluster");
    assert!(store.is_cluster());
    assert!(store.describe().starts_with("redis cluster "), "{}", store.describe());
    // Users land in different slots, on different nodes: a group and a message span them.
    for user in ["ann", "ben", "cat", "dan"] {
        let record = cim_store::UserRecord::new(user, user, Some("$argon2id$x".into()));
        store.create_user(record).await.expect("created");
    }
    let members: Vec<String> = ["ben", "cat", "dan"].iter().map(|s| s.to_string()).collect();
    store.create_group("crew", "ann", &members).await.expect("group");
    assert_eq!(store.groups_of("dan").await.expect("groups").len(), 1);
}

/// A Redis that lost its scripts (restarted, or `SCRIPT FLUSH`) gets them again on the next
/// call: nothing fails for it.
#[tokio::test]
async fn messages_are_accepted_after_redis_forgets_the_scripts() {
    use cim_store::{Accepted, InboxStore, NewMessage};
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url, "f:").await.expect("redis");
    let message = |n: u64| NewMessage {
        sender: "alice".into(),
        client_msg_id: format!("c{n}"),
        recipients: vec!["bob".into()],
        to: cim_core::wire::Recipient { kind: Some(cim_core::wire::recipient::Kind::UserId("bob".into())) },
        content_type: "text/plain".into(),
        body: bytes::Bytes::from_static(b"hi"),
        message_id: cim_core::ulid::encode(1_000 + n, u128::from(n)),
        sent_at_ms: 1_000 + n,
    };
    let client = redis::Client::open(redis.url.as_str()).expect("url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    for n in 1..=3 {
        let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut conn).await.expect("flush");
        let answers = store.accept_messages(vec![message(n)]).await;
        match answers.as_slice() {
            [Ok(Accepted::Stored { entries })] => assert_eq!(entries, &[("bob".to_owned(), n)]),
            other => panic!("message {n}: {other:?}"),
        }
    }
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut conn).await.expect("flush");
    assert!(matches!(store.accept_message(message(2)).await, Ok(Accepted::Duplicate { .. })));
}
