//! The backend suite over the in-memory implementations.

use std::sync::Arc;

use cim_backend::{MemoryRegistry, MemoryStore, Registry, Store, testsuite};

#[tokio::test]
async fn memory_store_passes_the_backend_suite() {
    testsuite::store_suite(|| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> }).await;
}

#[tokio::test]
async fn memory_registry_passes_the_backend_suite() {
    testsuite::registry_suite(|| async { Arc::new(MemoryRegistry::new()) as Arc<dyn Registry> }).await;
}

#[tokio::test]
async fn a_full_inbox_trims_its_oldest_entries() {
    use cim_backend::{Accepted, NewMessage};
    use cim_core::wire;
    let store = MemoryStore::with_inbox_cap(2);
    for i in 0..3 {
        let message = NewMessage {
            sender: "a".into(),
            client_msg_id: format!("c{i}"),
            recipients: vec!["b".into()],
            to: wire::Recipient::default(),
            content_type: String::new(),
            body: Default::default(),
            message_id: format!("m{i}"),
            sent_at_ms: 0,
        };
        assert!(matches!(store.accept_message(message).await, Ok(Accepted::Stored { .. })));
    }
    let head = store.inbox_head("b").await.expect("memory never fails");
    assert_eq!((head.first_seq, head.next_seq), (2, 4));
}
