//! The backend suite over a real Redis started on a free port.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use cim_backend::testsuite::{self, RedisServer};
use cim_backend::{RedisStore, Store, StoreError};

#[tokio::test]
async fn redis_store_passes_the_backend_suite() {
    let redis = RedisServer::start();
    let next = AtomicU32::new(0);
    testsuite::store_suite(|| {
        // A fresh keyspace per check: a prefix of its own.
        let prefix = format!("t{}:", next.fetch_add(1, Ordering::Relaxed));
        let url = redis.url.clone();
        async move { Arc::new(RedisStore::connect(&url, &prefix).await.expect("redis")) as Arc<dyn Store> }
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
