//! The gRPC binding: same operations and codes as HTTP, with the registry code in metadata.

use std::sync::Arc;

use cim_backend::{MemoryRegistry, MemoryStore, Registry, TokenKeys};
use cim_proto::v1::{self as pb, login_request, route_client::RouteClient};
use tonic::Request;

async fn route() -> (cim_route::RunningRoute, RouteClient<tonic::transport::Channel>, String) {
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
    (options.http_listen, options.grpc_listen, options.admin_listen) = (any, any, any);
    let api_key = cim_backend::secret::generate_secret();
    options.api_key = Some(api_key.clone());
    let route =
        cim_route::start(options, Arc::new(MemoryStore::new()), registry, TokenKeys::generate(), None)
            .await
            .expect("route starts");
    let client = RouteClient::connect(format!("http://{}", route.grpc_addr())).await.expect("gRPC connects");
    (route, client, api_key)
}

fn error_code(status: &tonic::Status) -> Option<u32> {
    status.metadata().get("cim-error-code")?.to_str().ok()?.parse().ok()
}

#[tokio::test]
async fn register_login_and_groups_over_grpc() {
    let (route, mut client, api_key) = route().await;
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
    servers.metadata_mut().insert("x-cim-api-key", api_key.parse().expect("ascii"));
    let listed = client.servers(servers).await.expect("listed").into_inner().servers;
    assert_eq!(listed[0].internal_endpoint, "10.0.0.1:9002", "app backends do");
    let health = client.health(pb::HealthRequest {}).await.expect("answered").into_inner();
    assert!(health.ok);

    // Every call is counted by method and code, with its latency, on the admin listener.
    let metrics = reqwest::get(format!("http://{}/metrics", route.admin_addr()))
        .await
        .expect("served")
        .text()
        .await
        .expect("text");
    for wanted in [
        "cim_route_requests_total{binding=\"grpc\",endpoint=\"/cim.v1.Route/Register\",code=\"0\"} 1",
        "cim_route_requests_total{binding=\"grpc\",endpoint=\"/cim.v1.Route/Register\",code=\"6\"} 1",
        "cim_route_request_duration_seconds_count{binding=\"grpc\",endpoint=\"/cim.v1.Route/Login\"} 2",
    ] {
        assert!(metrics.contains(wanted), "missing {wanted:?} in\n{metrics}");
    }
}

/// The reason of the `google.rpc.ErrorInfo` in a status's details.
fn error_info_reason(status: &tonic::Status) -> Option<String> {
    use prost::Message as _;
    #[derive(Clone, PartialEq, prost::Message)]
    struct RpcStatus {
        #[prost(message, repeated, tag = "3")]
        details: Vec<Any>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct Any {
        #[prost(string, tag = "1")]
        type_url: String,
        #[prost(bytes = "vec", tag = "2")]
        value: Vec<u8>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct ErrorInfo {
        #[prost(string, tag = "1")]
        reason: String,
        #[prost(string, tag = "2")]
        domain: String,
    }
    let details = RpcStatus::decode(status.details()).ok()?;
    let any =
        details.details.into_iter().find(|a| a.type_url == "type.googleapis.com/google.rpc.ErrorInfo")?;
    let info = ErrorInfo::decode(any.value.as_slice()).ok()?;
    (info.domain == "cim").then_some(info.reason)
}

/// A channel to the route's gRPC port.
async fn channel(addr: std::net::SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect()
        .await
        .expect("connects")
}

/// Sends bytes as the request message of `method`, whatever they are.
async fn raw_call(addr: std::net::SocketAddr, method: &'static str, body: Vec<u8>) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel(addr).await);
    grpc.ready().await.expect("ready");
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(method);
    grpc.unary(Request::new(body), path, cim_proto::raw::RawCodec).await.expect_err("refused")
}

#[tokio::test]
async fn every_failure_carries_its_code_and_error_info() {
    let (route, mut client, _) = route().await;
    let garbage = raw_call(route.grpc_addr(), "/cim.v1.Route/Register", vec![0xFF, 0xFF, 0xFF]).await;
    assert_eq!(
        (garbage.code(), error_code(&garbage)),
        (tonic::Code::InvalidArgument, Some(1008)),
        "{garbage:?}"
    );
    let unknown = raw_call(route.grpc_addr(), "/cim.v1.Route/NoSuchMethod", vec![]).await;
    assert_eq!(
        (unknown.code(), error_code(&unknown)),
        (tonic::Code::Unimplemented, Some(6001)),
        "{unknown:?}"
    );
    assert!(!unknown.message().is_empty(), "an explanation (CIM-14.6-2)");
    let wrong = client
        .login(pb::LoginRequest {
            credentials: Some(login_request::Credentials::Password(pb::Password {
                user_name: "nobody".into(),
                password: "nope-nope".into(),
            })),
            device_id: "grpc".into(),
            transports: vec![],
        })
        .await
        .expect_err("refused");
    assert_eq!(error_info_reason(&wrong).as_deref(), Some("INVALID_CREDENTIALS"), "{wrong:?}");
}

#[tokio::test]
async fn the_grpc_health_protocol_answers_for_probes() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let (route, _client, _) = route().await;
    let mut health = HealthClient::new(channel(route.grpc_addr()).await);
    for service in ["", "cim.v1.Route"] {
        let answer = health.check(HealthCheckRequest { service: service.into() }).await.expect("answered");
        assert_eq!(answer.into_inner().status, ServingStatus::Serving as i32, "{service:?}");
    }
    let unknown =
        health.check(HealthCheckRequest { service: "cim.v1.Nothing".into() }).await.expect_err("unknown");
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    let mut watch =
        health.watch(HealthCheckRequest { service: String::new() }).await.expect("watch").into_inner();
    let first = watch.message().await.expect("a status").expect("at once");
    assert_eq!(first.status, ServingStatus::Serving as i32);
}

#[tokio::test]
async fn reflection_shows_the_route_api_and_hides_the_internal_push_service() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

    let (route, _client, _) = route().await;
    let mut reflection = ServerReflectionClient::new(channel(route.grpc_addr()).await);
    // One question per stream: the reflection service ends a stream with an error status
    // when it does not know a symbol.
    let mut ask = async |request: MessageRequest| -> Result<MessageResponse, tonic::Status> {
        let request = ServerReflectionRequest { host: String::new(), message_request: Some(request) };
        let mut answers =
            reflection.server_reflection_info(futures_util::stream::iter([request])).await?.into_inner();
        let answer: ServerReflectionResponse =
            answers.message().await?.ok_or_else(|| tonic::Status::unknown("no answer"))?;
        answer.message_response.ok_or_else(|| tonic::Status::unknown("empty answer"))
    };
    let Ok(MessageResponse::ListServicesResponse(listed)) =
        ask(MessageRequest::ListServices(String::new())).await
    else {
        panic!("a service list")
    };
    let names: Vec<String> = listed.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"cim.v1.Route".to_owned()), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("Internal")), "{names:?}");
    for hidden in [
        MessageRequest::FileContainingSymbol("cim.v1.InternalPush".into()),
        MessageRequest::FileByFilename("cim/v1/internal.proto".into()),
    ] {
        let answer = ask(hidden.clone()).await;
        assert!(
            matches!(answer, Err(_) | Ok(MessageResponse::ErrorResponse(_))),
            "{hidden:?} must be unknown, got {answer:?}"
        );
    }
    let own = ask(MessageRequest::FileContainingSymbol("cim.v1.Route".into())).await;
    assert!(matches!(own, Ok(MessageResponse::FileDescriptorResponse(_))), "the route's own API: {own:?}");
}
