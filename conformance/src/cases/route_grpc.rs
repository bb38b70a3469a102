//! §14.5 and §14.6: the route's gRPC binding behaves as its HTTP/JSON binding, with registry
//! codes in the trailing metadata.

use cim_proto::v1::route_client::RouteClient;
use cim_proto::v1::{LoginRequest, MyGroupsRequest, Password, RegisterRequest, login_request};
use serde_json::json;
use tonic::transport::Channel;

use crate::case::{Case, Cx, Stop, check, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("route.grpc.accounts", "Register and Login over gRPC behave as over HTTP, on the same accounts",
            covers: ["CIM-14.5-1", "CIM-14.5-2", "CIM-14.1-3"], tags: ["route", "grpc", "needs-grpc"], budget: 30, accounts),
        crate::case!("route.grpc.error-codes", "Every failed gRPC call carries its registry code in cim-error-code and the status of §14.6",
            covers: ["CIM-14.6-2", "CIM-14.5-2"], tags: ["route", "grpc", "needs-grpc"], budget: 30, error_codes),
        crate::case!("route.grpc.undecodable-and-unknown", "A request that is not the method's message gets INVALID_ARGUMENT with INVALID_FIELD, an unknown method UNIMPLEMENTED with NOT_FOUND",
            covers: ["CIM-14.6-11", "CIM-14.6-2"], tags: ["route", "grpc", "needs-grpc", "robustness"], budget: 20, undecodable_and_unknown),
    ]
}

/// Calls `method` with `body` as the request message's bytes; the status it fails with.
async fn raw_call(cx: &Cx, method: &'static str, body: Vec<u8>) -> Result<tonic::Status, Stop> {
    let url = cx
        .target
        .route_grpc
        .clone()
        .ok_or_else(|| Stop::NotApplicable("needs the route's gRPC URL (--route-grpc)".into()))?;
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .map_err(|e| Stop::Error(format!("{url}: {e}")))?
        .connect()
        .await
        .map_err(|e| Stop::Error(format!("cannot reach the route's gRPC binding at {url}: {e}")))?;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Stop::Error(format!("{url}: {e}")))?;
    cx.note(format!("gRPC {method} with the bytes {}", crate::transcript::hex(&body)));
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(method);
    match grpc.unary(tonic::Request::new(body), path, cim_proto::raw::RawCodec).await {
        Ok(_) => Err(fail("CIM-14.6-11", format!("{method} refused"), "answered OK")),
        Err(status) => Ok(status),
    }
}

async fn undecodable_and_unknown(cx: &mut Cx) -> Result<(), Stop> {
    // A field tag whose varint never ends: no protobuf message at all.
    let garbage = raw_call(cx, "/cim.v1.Route/Register", vec![0xFF, 0xFF, 0xFF]).await?;
    refused(
        "CIM-14.6-11",
        &garbage,
        tonic::Code::InvalidArgument,
        "INVALID_FIELD",
        "a request that does not decode",
    )?;
    let unknown = raw_call(cx, "/cim.v1.Route/NoSuchMethod", Vec::new()).await?;
    refused(
        "CIM-14.6-11",
        &unknown,
        tonic::Code::Unimplemented,
        "NOT_FOUND",
        "a method the route does not have",
    )
}

async fn client(cx: &Cx) -> Result<RouteClient<Channel>, Stop> {
    let url = cx
        .target
        .route_grpc
        .clone()
        .ok_or_else(|| Stop::NotApplicable("needs the route's gRPC URL (--route-grpc)".into()))?;
    RouteClient::connect(url.clone())
        .await
        .map_err(|e| Stop::Error(format!("cannot reach the route's gRPC binding at {url}: {e}")))
}

/// The registry code in a failed call's trailing metadata.
fn cim_code(status: &tonic::Status) -> Option<u32> {
    status.metadata().get("cim-error-code")?.to_str().ok()?.parse().ok()
}

fn refused(
    requirement: &'static str,
    status: &tonic::Status,
    grpc: tonic::Code,
    code: &str,
    what: &str,
) -> Result<(), Stop> {
    let want = crate::spec::code(code);
    check(
        "CIM-14.6-2",
        cim_code(status) == Some(want) && !status.message().is_empty(),
        format!("{what}: cim-error-code {want} ({code}) and a message"),
        || format!("{:?} {:?} cim-error-code {:?}", status.code(), status.message(), cim_code(status)),
    )?;
    check(requirement, status.code() == grpc, format!("{what}: gRPC status {grpc:?}"), || {
        format!("{:?}", status.code())
    })
}

fn password_login(user_name: &str, password: &str, device_id: &str) -> LoginRequest {
    LoginRequest {
        credentials: Some(login_request::Credentials::Password(Password {
            user_name: user_name.into(),
            password: password.into(),
        })),
        device_id: device_id.into(),
        transports: Vec::new(),
    }
}

async fn accounts(cx: &mut Cx) -> Result<(), Stop> {
    let mut grpc = client(cx).await?;
    let name = cx.name("grpc");
    let registered = grpc
        .register(RegisterRequest { user_name: name.clone(), password: "password-1".into() })
        .await
        .map_err(|s| fail("CIM-14.5-1", "Register over gRPC", format!("{s:?}")))?
        .into_inner();
    check("CIM-14.5-1", !registered.user_id.is_empty(), "a user_id", || format!("{registered:?}"))?;
    // An account made over gRPC logs in over HTTP, and one made over HTTP over gRPC.
    let http = cx
        .route
        .call(
            "POST",
            "/v1/login",
            None,
            Some(&json!({"user_name": name, "password": "password-1", "device_id": "d1"})),
        )
        .await
        .map_err(|e| Stop::Error(e.to_string()))?;
    check(
        "CIM-14.1-3",
        http.status == 200 && http.body["user_id"] == json!(registered.user_id),
        "the gRPC account logs in over HTTP",
        || http.text.clone(),
    )?;
    let alice = cx.user("alice").await?;
    let login = grpc
        .login(password_login(&alice.name, &alice.password, "d1"))
        .await
        .map_err(|s| fail("CIM-14.1-3", "the HTTP account logs in over gRPC", format!("{s:?}")))?
        .into_inner();
    check(
        "CIM-14.5-2",
        login.user_id == alice.id
            && !login.token.is_empty()
            && login.server.as_ref().is_some_and(|s| s.internal_endpoint.is_empty()),
        "the same user_id, a token and a server without internal_endpoint",
        || format!("user_id {:?}", login.user_id),
    )?;
    // The rules of §14.4 hold for gRPC too: a taken name and a bad one.
    let taken = grpc.register(RegisterRequest { user_name: name, password: "password-2".into() }).await;
    let Err(status) = taken else {
        return Err(fail("CIM-14.5-2", "ALREADY_EXISTS for a taken user name", "accepted"));
    };
    refused("CIM-14.5-2", &status, tonic::Code::AlreadyExists, "ALREADY_EXISTS", "a taken user name")?;
    let bad = grpc.register(RegisterRequest { user_name: "a b".into(), password: "password-1".into() }).await;
    let Err(status) = bad else {
        return Err(fail("CIM-14.5-2", "INVALID_FIELD for a user name with a space", "accepted"));
    };
    refused("CIM-14.5-2", &status, tonic::Code::InvalidArgument, "INVALID_FIELD", "a user name with a space")
}

async fn error_codes(cx: &mut Cx) -> Result<(), Stop> {
    let mut grpc = client(cx).await?;
    let alice = cx.user("alice").await?;
    let wrong = grpc.login(password_login(&alice.name, "not-the-password", "d1")).await;
    let Err(status) = wrong else {
        return Err(fail("CIM-14.5-2", "INVALID_CREDENTIALS for a wrong password", "accepted"));
    };
    refused("CIM-14.5-2", &status, tonic::Code::Unauthenticated, "INVALID_CREDENTIALS", "a wrong password")?;
    let anonymous = grpc.my_groups(MyGroupsRequest {}).await;
    let Err(status) = anonymous else {
        return Err(fail("CIM-14.1-1", "UNAUTHENTICATED without a token", "accepted"));
    };
    refused(
        "CIM-14.5-2",
        &status,
        tonic::Code::Unauthenticated,
        "UNAUTHENTICATED",
        "MyGroups without a token",
    )?;
    let short = grpc.login(password_login(&alice.name, &alice.password, "")).await;
    let Err(status) = short else {
        return Err(fail("CIM-14.5-2", "INVALID_FIELD for an empty device_id", "accepted"));
    };
    refused("CIM-14.5-2", &status, tonic::Code::InvalidArgument, "INVALID_FIELD", "an empty device_id")
}
