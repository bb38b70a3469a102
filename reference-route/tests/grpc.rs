//! The gRPC binding: same operations and codes as HTTP, with the registry code in metadata.

use std::sync::Arc;

use cim_backend::{MemoryRegistry, MemoryStore, Registry, TokenKeys};
use cim_proto::v1::{self as pb, login_request, route_client::RouteClient};
use tonic::Request;

async fn route() -> (cim_route::RunningRoute, RouteClient<tonic::transport::Channel>) {
    let registry = Arc::new(MemoryRegistry::new());
    let server = pb::ServerInfo {
        server_id: "s1".into(),
        tcp_endpoint: "127.0.0.1:9".into(),
        internal_endpoint: "10.0.0.1:9002".into(),
        ..Default::default()
    };
    registry.register(server).await.expect("registered");
    let mut options = cim_route::RouteOptions::defaults();
    let any = "127.0.0.1:0".parse().expect("address");
    (options.http_listen, options.grpc_listen) = (any, any);
    options.api_key = Some("k".into());
    let route =
        cim_route::start(options, Arc::new(MemoryStore::new()), registry, TokenKeys::generate(), None)
            .await
            .expect("route starts");
    let client = RouteClient::connect(format!("http://{}", route.grpc_addr())).await.expect("gRPC connects");
    (route, client)
}

fn error_code(status: &tonic::Status) -> Option<u32> {
    status.metadata().get("cim-error-code")?.to_str().ok()?.parse().ok()
}

#[tokio::test]
async fn register_login_and_groups_over_grpc() {
    let (_route, mut client) = route().await;
    let registered = client
        .register(pb::RegisterRequest { user_name: "alice".into(), password: "alice-password".into() })
        .await
        .expect("registered");
    assert_eq!(registered.into_inner().user_id, "alice");
    let taken = client
        .register(pb::RegisterRequest { user_name: "alice".into(), password: "alice-password".into() })
        .await
        .expect_err("taken");
    assert_eq!((taken.code(), error_code(&taken)), (tonic::Code::AlreadyExists, Some(6000)));

    let password = |p: &str| pb::LoginRequest {
        credentials: Some(login_request::Credentials::Password(pb::Password {
            user_name: "alice".into(),
            password: p.into(),
        })),
        device_id: "grpc".into(),
        transports: vec![],
    };
    let wrong = client.login(password("nope-nope")).await.expect_err("refused");
    assert_eq!((wrong.code(), error_code(&wrong)), (tonic::Code::Unauthenticated, Some(6002)));
    let login = client.login(password("alice-password")).await.expect("login").into_inner();
    let server = login.server.expect("assigned");
    assert_eq!(server.server_id, "s1");
    assert!(server.internal_endpoint.is_empty(), "clients never see internal endpoints");

    let mut create =
        Request::new(pb::CreateGroupRequest { group_id: "team".into(), member_user_ids: vec![] });
    create.metadata_mut().insert("authorization", format!("Bearer {}", login.token).parse().expect("ascii"));
    let group = client.create_group(create).await.expect("created").into_inner().group.expect("group");
    assert_eq!((group.group_id.as_str(), group.member_count), ("team", 1));
    let anonymous = client.my_groups(pb::MyGroupsRequest {}).await.expect_err("needs a token");
    assert_eq!(error_code(&anonymous), Some(2000));

    let mut servers = Request::new(pb::ServersRequest {});
    servers.metadata_mut().insert("x-cim-api-key", "k".parse().expect("ascii"));
    let listed = client.servers(servers).await.expect("listed").into_inner().servers;
    assert_eq!(listed[0].internal_endpoint, "10.0.0.1:9002", "app backends do");
    let health = client.health(pb::HealthRequest {}).await.expect("answered").into_inner();
    assert!(health.ok);
}
