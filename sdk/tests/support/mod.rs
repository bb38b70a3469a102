//! A node (route + server on in-memory backends) started in-process on free ports.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use cim_backend::{MemoryStore, Store};
use cim_sdk::{Client, ClientOptions, Credentials, Event, Message, Transport};

/// The API key of every node these tests start: generated, as an operator's must be.
pub static API_KEY: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);

pub use cim_node::Node;

pub async fn start_node() -> Node {
    start_node_with(|_| {}).await
}

pub async fn start_node_with(edit: impl FnOnce(&mut cim_server::ServerOptions)) -> Node {
    start_node_on(Arc::new(MemoryStore::new()), edit).await
}

pub async fn start_node_on(store: Arc<dyn Store>, edit: impl FnOnce(&mut cim_server::ServerOptions)) -> Node {
    let mut options = cim_node::NodeOptions::in_memory().on_free_ports().with_store(store);
    options.route.api_key = Some(API_KEY.clone());
    edit(&mut options.server);
    Node::start(options).await.expect("node starts")
}

/// What the tests do with a node.
#[allow(async_fn_in_trait)]
pub trait NodeExt {
    /// Registers `user` (password `password-<user>`) and logs in from `device`.
    async fn user(&self, user: &str, device: &str) -> Client;
    async fn login(&self, user: &str, device: &str, transport: Transport) -> Client;
}

impl NodeExt for Node {
    /// Registers `user` (password `password-<user>`) and logs in from `device`.
    async fn user(&self, user: &str, device: &str) -> Client {
        let _ = cim_sdk::register(&self.url(), user, &format!("password-{user}")).await;
        self.login(user, device, Transport::Tcp).await
    }

    async fn login(&self, user: &str, device: &str, transport: Transport) -> Client {
        Client::login(
            &self.url(),
            Credentials::password(user, format!("password-{user}")),
            ClientOptions::new(device).transport(transport),
        )
        .await
        .expect("login")
    }
}

/// The next message, skipping other events; panics after `limit`.
pub async fn next_message(client: &mut Client, limit: Duration) -> Message {
    tokio::time::timeout(limit, async {
        loop {
            match client.next_event().await {
                Some(Event::Message(message)) => return message,
                Some(_) => continue,
                None => panic!("client closed while waiting for a message"),
            }
        }
    })
    .await
    .expect("a message in time")
}

/// Messages arriving within `quiet` of each other, until none does.
pub async fn drain_messages(client: &mut Client, quiet: Duration) -> Vec<Message> {
    let mut out = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(quiet, client.next_event()).await {
        if let Event::Message(message) = event {
            out.push(message);
        }
    }
    out
}
