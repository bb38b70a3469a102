//! One cim node: a route and a server in one process, sharing one store, one registry and one
//! token secret. `cim up` runs one; every in-process test starts one instead of wiring the
//! two by hand.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let node = cim_node::Node::start(cim_node::NodeOptions::in_memory().on_free_ports()).await?;
//! println!("route at {}", node.url());
//! node.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;

use cim_backend::{MemoryRegistry, MemoryStore, Registry, Stores, TokenKeys};
use cim_route::{RouteOptions, RunningRoute};
use cim_server::{RunningServer, ServerOptions};

/// What a node is made of. Fields are public: change what you need, keep the rest.
pub struct NodeOptions {
    /// The server's options (its listeners, limits).
    pub server: ServerOptions,
    /// The route's options (its listeners, login rules).
    pub route: RouteOptions,
    /// The store both use.
    pub store: Stores,
    /// The registry both use.
    pub registry: Arc<dyn Registry>,
    /// The token secret both use.
    pub keys: TokenKeys,
}

impl NodeOptions {
    /// In memory, with the defaults of `cim-server` and `cim-route` (their usual ports) and a
    /// generated token secret: everything is lost when the node stops.
    pub fn in_memory() -> Self {
        Self {
            server: ServerOptions::defaults(),
            route: RouteOptions::defaults(),
            store: Stores::new(Arc::new(MemoryStore::new())),
            registry: Arc::new(MemoryRegistry::new()),
            keys: TokenKeys::generate(),
        }
    }

    /// Every listener on a free port of 127.0.0.1, so that nodes and tests never collide.
    #[must_use]
    pub fn on_free_ports(mut self) -> Self {
        self.server.listen_on_free_ports();
        self.route.listen_on_free_ports();
        self
    }

    /// Over `store` (a backend, or [`Stores`] with a part replaced) instead of a fresh
    /// memory store.
    #[must_use]
    pub fn with_store(self, store: impl Into<Stores>) -> Self {
        Self { store: store.into(), ..self }
    }
}

/// A running node.
pub struct Node {
    /// Its route.
    pub route: RunningRoute,
    /// Its server.
    pub server: RunningServer,
    /// The store both use.
    pub store: Stores,
    /// The registry both use.
    pub registry: Arc<dyn Registry>,
    /// The token secret both use.
    pub keys: TokenKeys,
}

impl Node {
    /// Starts the server, then the route, which pushes through the server's sessions.
    ///
    /// Both share this process's file descriptors: unless `options.server.max_connections`
    /// is set, the server leaves room for the route's listeners and 1024 more.
    pub async fn start(mut options: NodeOptions) -> anyhow::Result<Self> {
        if options.server.max_connections.is_none() {
            let route = &options.route;
            let reserved = 1024 + route.max_connections + route.grpc_max_connections;
            options.server.max_connections =
                cim_backend::process::open_file_limit().map(|n| n.saturating_sub(reserved).max(64));
        }
        let NodeOptions { server, route, store, registry, keys } = options;
        let server = cim_server::start(server, store.clone(), registry.clone(), keys.clone()).await?;
        let route =
            cim_route::start(route, store.clone(), registry.clone(), keys.clone(), Some(server.fanout()))
                .await?;
        Ok(Self { route, server, store, registry, keys })
    }

    /// The route's base URL, where clients log in.
    pub fn url(&self) -> String {
        self.route.url()
    }

    /// Stops taking logins, then sends GoAway to every session and waits for them to drain.
    pub async fn shutdown(self) {
        self.route.shutdown();
        self.server.shutdown().await;
    }
}
