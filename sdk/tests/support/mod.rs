//! A node (route + server on in-memory backends) started in-process on free ports.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use cim_backend::{MemoryRegistry, MemoryStore, Store, TokenKeys};
use cim_route::RunningRoute;
use cim_sdk::{Client, ClientOptions, Credentials, Event, Message, Transport};
use cim_server::RunningServer;

/// The API key of every node these tests start: generated, as an operator's must be.
pub static API_KEY: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);

pub struct Node {
    pub route: RunningRoute,
    pub server: RunningServer,
    pub store: Arc<dyn Store>,
}

pub async fn start_node() -> Node {
    start_node_with(|_| {}).await
}

pub async fn start_node_with(edit: impl FnOnce(&mut cim_server::ServerOptions)) -> Node {
    start_node_on(Arc::new(MemoryStore::new()), edit).await
}

pub async fn start_node_on(store: Arc<dyn Store>, edit: impl FnOnce(&mut cim_server::ServerOptions)) -> Node {
    let registry = Arc::new(MemoryRegistry::new());
    let keys = TokenKeys::generate();
    let mut options = cim_server::ServerOptions::defaults();
    let any = "127.0.0.1:0".parse().expect("address");
    options.tcp_listen = any;
    options.ws_listen = any;
    options.admin_listen = any;
    options.internal_listen = any;
    edit(&mut options);
    let server = cim_server::start(options, store.clone(), registry.clone(), keys.clone())
        .await
        .expect("server starts");
    let mut route_options = cim_route::RouteOptions::defaults();
    route_options.http_listen = any;
    route_options.grpc_listen = any;
    route_options.admin_listen = any;
    route_options.api_key = Some(API_KEY.clone());
    let route = cim_route::start(route_options, store.clone(), registry, keys, Some(server.fanout()))
        .await
        .expect("route starts");
    Node { route, server, store }
}

impl Node {
    pub fn url(&self) -> String {
        self.route.url()
    }

    /// Registers `user` (password `password-<user>`) and logs in from `device`.
    pub async fn user(&self, user: &str, device: &str) -> Client {
        let _ = cim_sdk::register(&self.url(), user, &format!("password-{user}")).await;
        self.login(user, device, Transport::Tcp).await
    }

    pub async fn login(&self, user: &str, device: &str, transport: Transport) -> Client {
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
