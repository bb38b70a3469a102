//! The backend suite over the in-memory implementations.

use std::sync::Arc;

use cim_store::{MemoryRegistry, MemoryStore, Registry, Store, testsuite};

#[tokio::test]
async fn memory_store_passes_the_backend_suite() {
    testsuite::store_suite(
        |limits| async move { Arc::new(MemoryStore::with_limits(limits)) as Arc<dyn Store> },
    )
    .await;
}

#[tokio::test]
async fn memory_registry_passes_the_backend_suite() {
    testsuite::registry_suite(|| async { Arc::new(MemoryRegistry::new()) as Arc<dyn Registry> }).await;
}

#[tokio::test]
async fn memory_store_passes_the_inbox_limits_suite() {
    testsuite::inbox_limits_suite(|limits| async move {
        Arc::new(MemoryStore::with_limits(limits)) as Arc<dyn Store>
    })
    .await;
}
