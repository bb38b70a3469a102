//! Two servers and a route in one process, sharing a store and a registry: messages cross
//! servers through the internal push service.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cim_backend::{ClusterFanout, MemoryRegistry, MemoryStore, Registry, Store, TokenKeys};
use cim_sdk::{Client, ClientOptions, Credentials, Target};
use support::next_message;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn messages_cross_servers() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let registry: Arc<dyn Registry> = Arc::new(MemoryRegistry::new());
    let keys = TokenKeys::generate();
    let any = "127.0.0.1:0".parse().expect("address");
    let mut servers = Vec::new();
    for id in ["s1", "s2"] {
        let mut options = cim_server::ServerOptions::defaults();
        (options.tcp_listen, options.ws_listen, options.admin_listen, options.internal_listen) =
            (any, any, any, any);
        options.server_id = Some(id.into());
        servers.push(
            cim_server::start(options, store.clone(), registry.clone(), keys.clone()).await.expect("server"),
        );
    }
    let mut route_options = cim_route::RouteOptions::defaults();
    (route_options.http_listen, route_options.grpc_listen) = (any, any);
    route_options.strategy = cim_route::Strategy::RoundRobin;
    let fanout = Arc::new(ClusterFanout::new("", None, store.clone(), registry.clone()));
    let route =
        cim_route::start(route_options, store.clone(), registry, keys, Some(fanout)).await.expect("route");
    let login = |user: &'static str| {
        let url = route.url();
        async move {
            let _ = cim_sdk::register(&url, user, &format!("password-{user}")).await;
            Client::login(
                &url,
                Credentials::password(user, format!("password-{user}")),
                ClientOptions::new("d"),
            )
            .await
            .expect("login")
        }
    };
    let alice = login("alice").await;
    let mut bob = login("bob").await;
    let mut carol = login("carol").await;
    assert_ne!(alice.status().server_id, bob.status().server_id, "round robin spreads them");

    alice.send_to_user("bob", "across servers").await.expect("stored");
    assert_eq!(next_message(&mut bob, WAIT).await.text(), "across servers");

    let (route_client, token) = alice.route();
    route_client.create_group(&token, "team", &["bob".into(), "carol".into()]).await.expect("group");
    alice.send_to_group("team", "to the team").await.expect("stored");
    for client in [&mut bob, &mut carol] {
        let message = next_message(client, WAIT).await;
        assert_eq!(
            (message.text(), message.to.clone()),
            ("to the team".into(), Target::Group("team".into()))
        );
    }
    bob.broadcast("hello everyone").await.expect("sent");
    assert_eq!(next_message(&mut carol, WAIT).await.text(), "hello everyone");
    assert_eq!(servers.iter().map(|s| s.session_count()).sum::<usize>(), 3);
}

#[tokio::test]
async fn a_departed_servers_sessions_leave_presence() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let registry: Arc<dyn Registry> = Arc::new(MemoryRegistry::new());
    let keys = TokenKeys::generate();
    let any = "127.0.0.1:0".parse().expect("address");
    let mut options = cim_server::ServerOptions::defaults();
    (options.tcp_listen, options.ws_listen, options.admin_listen, options.internal_listen) =
        (any, any, any, any);
    let survivor = cim_server::start(options, store.clone(), registry.clone(), keys).await.expect("server");
    // A session recorded for a server that then vanishes from the registry.
    let ghost = cim_core::wire::ServerInfo { server_id: "ghost".into(), ..Default::default() };
    registry.register(ghost).await.expect("registered");
    store
        .add_session(cim_backend::SessionRecord {
            session_id: "s".into(),
            user_id: "zed".into(),
            device_id: "d".into(),
            server_id: "ghost".into(),
            connected_at_ms: 0,
            expires_at_ms: 0,
        })
        .await
        .expect("memory");
    // The survivor must have seen the ghost alive before it can see it leave.
    tokio::time::sleep(Duration::from_millis(200)).await;
    registry.deregister("ghost").await.expect("gone");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !store.sessions_of("zed").await.expect("memory").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the ghost's session was not cleaned up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(survivor);
}
