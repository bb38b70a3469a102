//! A reference deployment in this process (what `cim up` runs), optionally broken on purpose:
//! a mutant store under the server, or a mutant proxy in front of its TCP port.

#![allow(dead_code, unreachable_pub)]

pub mod proxy;
pub mod store;

use std::sync::{Arc, LazyLock};

use cim_backend::TokenKeys;
use cim_store::{MemoryStore, Stores};

/// How the deployment is broken, if at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// Not broken.
    None,
    /// Broken in its store.
    Store(store::StoreMutant),
    /// Broken on the wire, as seen through its TCP port.
    Wire(proxy::WireMutant),
}

/// The token secret of every test deployment, so that the harness can mint tokens.
pub static TOKEN_SECRET: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);
/// The API key of every test deployment.
pub static API_KEY: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);
/// The app backend's JWT secret of every test deployment.
pub static JWT_SECRET: LazyLock<String> = LazyLock::new(cim_backend::secret::generate_secret);

/// A route and a server on in-memory backends, on free ports of 127.0.0.1.
pub struct Deployment {
    node: cim_node::Node,
    proxy: Option<proxy::Proxy>,
}

impl Deployment {
    /// Starts it.
    pub async fn start(mutant: Mutant) -> Self {
        let memory = Arc::new(MemoryStore::new());
        let store = match mutant {
            Mutant::Store(m) => {
                Stores::from(memory.clone()).with_inbox(Arc::new(store::MutantInbox::new(memory, m)))
            }
            _ => Stores::from(memory),
        };
        let mut options = cim_node::NodeOptions::in_memory().on_free_ports().with_store(store);
        options.keys = TokenKeys::new(TOKEN_SECRET.as_bytes().to_vec());
        let route = &mut options.route;
        route.api_key = Some(API_KEY.to_owned());
        route.jwt_secret = Some(JWT_SECRET.to_owned());
        // The harness registers its users; with a JWT secret registration is closed unless opened.
        route.registration = Some(cim_route::Registration::Open);
        // One harness registers hundreds of users and fails many logins on purpose, all from
        // 127.0.0.1; the limit per user name stays on (route.rate-limit checks it).
        route.limits.registrations_per_address = 0;
        route.limits.login_failures_per_address = 0;
        let node = cim_node::Node::start(options).await.expect("node starts");
        let proxy = match mutant {
            Mutant::Wire(m) => Some(proxy::Proxy::start(node.server.tcp_addr(), m).await),
            _ => None,
        };
        Self { node, proxy }
    }

    /// The route's base URL.
    pub fn route_url(&self) -> String {
        self.node.url()
    }

    /// The route's gRPC URL.
    pub fn route_grpc_url(&self) -> String {
        format!("http://{}", self.node.route.grpc_addr())
    }

    /// Where the harness should connect over TCP: the proxy of a wire mutant, else the server.
    pub fn server_addr(&self) -> String {
        self.proxy.as_ref().map_or(self.node.server.tcp_addr(), |p| p.addr()).to_string()
    }

    /// Stops it.
    pub async fn stop(self) {
        self.node.shutdown().await;
    }
}
