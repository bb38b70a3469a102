//! The HTTP/JSON binding of the route API (spec §14.4): JSON in, an operation, JSON out.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use cim_backend::TokenClaims;
use cim_core::ErrorCode;
use cim_core::wire::{self, recipient};
use cim_proto::route_json::{
    CreateGroupRequest, GroupInfo, GroupReply, Groups, Health, Login, LoginRequest, LogoutRequest, Members,
    OnlinePage, PageQuery, PrefixQuery, PushReply, PushRequest, RegisterRequest, Registered, ServerInfo,
    Servers, UserInfo, Users,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Route;
use crate::error::ApiError;
use crate::limits::Source;
use crate::ops::{LoginCredentials, LoginInput};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router(route: Arc<Route>) -> Router {
    Router::new()
        .route("/v1/register", post(register))
        .route("/v1/login", post(login))
        .route("/v1/logout", post(logout))
        .route("/v1/online", get(online))
        .route("/v1/users", get(users_by_prefix))
        .route("/v1/users/by-name/{user_name}", get(users_by_name))
        .route("/v1/groups", post(create_group).get(my_groups))
        .route("/v1/groups/{group_id}/join", post(join_group))
        .route("/v1/groups/{group_id}/leave", post(leave_group))
        .route("/v1/groups/{group_id}/members", get(group_members))
        .route("/v1/push", post(push))
        .route("/v1/servers", get(servers))
        .route("/healthz", get(health))
        // Counted by the template a request matched: what a caller puts in the path never
        // becomes a label.
        .route_layer(axum::middleware::from_fn_with_state(route.clone(), observe))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BODY))
        .layer(axum::middleware::from_fn(bounded_body))
        .layer(axum::middleware::map_response(coded_failures))
        .layer(axum::middleware::from_fn_with_state(route.clone(), crate::cors::cors))
        .with_state(route)
}

/// The admin endpoints (on their own listener): `/metrics` and `/healthz`.
pub(crate) fn admin_router(route: Arc<Route>) -> Router {
    Router::new().route("/metrics", get(metrics)).route("/healthz", get(health)).with_state(route)
}

/// Counts each call of a route and how long it took to answer.
async fn observe(
    State(route): State<Arc<Route>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let endpoint = request.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
    let endpoint = format!("{} {}", request.method(), endpoint.as_deref().unwrap_or("other"));
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    route.metrics.observe("http", &endpoint, response.status().as_str(), started.elapsed());
    response
}

/// The largest request body: a Push of the largest message body in base64, with room to spare.
const MAX_REQUEST_BODY: usize = 256 * 1024;

/// Longest a request body may take to arrive once its head has.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads the request body before the operation sees it: refused at once when its announced
/// length is over the limit, cut off when it grows past it, and given up when it dribbles in
/// slower than [`BODY_TIMEOUT`], so that no body holds a connection (and its place) for long.
async fn bounded_body(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = request.into_parts();
    let announced = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        ApiError::new(
            ErrorCode::BODY_TOO_LARGE,
            format!("the request body is larger than {MAX_REQUEST_BODY} bytes"),
        )
        .into_response()
    };
    if announced.is_some_and(|length| length > MAX_REQUEST_BODY as u64) {
        return too_large();
    }
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_REQUEST_BODY)).await {
        Ok(Ok(bytes)) => {
            next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
        }
        Ok(Err(_)) => too_large(),
        Err(_) => ApiError::invalid("the request body did not arrive in time").into_response(),
    }
}

/// Gives every failure the HTTP layer answers by itself (an unknown path, a method a path does
/// not take, a body over the limit) the JSON body of spec CIM-14.6-1 and a message of ours, not
/// the parser's; and every 401 its `WWW-Authenticate` (RFC 9110 §11.6.1).
async fn coded_failures(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let mut response = if (status.is_client_error() || status.is_server_error()) && !is_json {
        let error = match status {
            StatusCode::NOT_FOUND => ApiError::new(ErrorCode::NOT_FOUND, "no such operation; see spec §14.4"),
            StatusCode::METHOD_NOT_ALLOWED => ApiError::invalid("this operation takes another HTTP method"),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                ErrorCode::BODY_TOO_LARGE,
                format!("the request body is larger than {MAX_REQUEST_BODY} bytes"),
            ),
            s if s.is_server_error() => ApiError::new(ErrorCode::INTERNAL, "the route failed"),
            _ => ApiError::invalid("the request is malformed"),
        };
        let allow = response.headers().get(axum::http::header::ALLOW).cloned();
        let mut coded = error.into_response();
        // Keep the HTTP status the layer chose (405 stays 405) and what it said is allowed.
        *coded.status_mut() = status;
        if let Some(allow) = allow {
            coded.headers_mut().insert(axum::http::header::ALLOW, allow);
        }
        coded
    } else {
        response
    };
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"cim\""),
        );
    }
    response
}

/// Removes members whose value is `null`, at any depth: a null member holds its empty value
/// (spec CIM-14.4-3), which is what an absent member gets from `#[serde(default)]` (found by
/// cim-conformance route.json).
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.retain(|_, v| !v.is_null());
            members.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// A JSON body: absent means `{}` (spec CIM-14.4-3), anything malformed is INVALID_FIELD
/// (CIM-14.4-5), and so is a body not sent as `application/json` (CIM-14.4-37): a browser
/// posts `text/plain` or untyped bodies across sites without asking first.
fn parse<T: DeserializeOwned + Default>(headers: &HeaderMap, body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let media_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim());
    if !media_type.is_some_and(|t| t.eq_ignore_ascii_case("application/json")) {
        return Err(ApiError::invalid("send the request body as JSON with Content-Type: application/json"));
    }
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("malformed JSON body: {e}")))?;
    // A JSON array would be read member by member in field order: ["alice", "pw"] as a Register.
    if !value.is_object() {
        return Err(ApiError::invalid("the request body must be a JSON object (spec CIM-14.4-5)"));
    }
    drop_nulls(&mut value);
    serde_json::from_value(value).map_err(|e| ApiError::invalid(format!("malformed JSON body: {e}")))
}

fn query<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    // The parser's own words ("invalid digit found in string") say nothing to a caller.
    query.map(|Query(q)| q).map_err(|_| {
        ApiError::invalid("a query parameter does not parse: page_size and limit are whole numbers")
    })
}

fn reply(status: StatusCode, body: impl Serialize) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn caller(route: &Route, headers: &HeaderMap) -> ApiResult<TokenClaims> {
    let value = headers.get("authorization").and_then(|v| v.to_str().ok());
    route.authenticate(crate::ops::bearer_token(value)?).await
}

fn api_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-cim-api-key").and_then(|v| v.to_str().ok())
}

/// Where a call comes from, for the rate limits.
fn source(route: &Route, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<Source> {
    let forwarded =
        route.options.limits.client_address_header.as_deref().and_then(|h| headers.get(h)?.to_str().ok());
    Source::of(peer, forwarded)
}

async fn register(
    State(route): State<Arc<Route>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let request: RegisterRequest = parse(&headers, &body)?;
    let source = source(&route, Some(peer), &headers);
    let user_id = route.register(request.user_name, request.password, source).await?;
    Ok(reply(StatusCode::CREATED, Registered { user_id }))
}

async fn login(
    State(route): State<Arc<Route>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let request: LoginRequest = parse(&headers, &body)?;
    let source = source(&route, Some(peer), &headers);
    // An empty member is an absent one (CIM-14.4-3): `"jwt": ""` beside a password is a
    // password login.
    let present = |value: Option<String>| value.filter(|v| !v.is_empty());
    let credentials = match (present(request.jwt), present(request.user_name), present(request.password)) {
        (Some(jwt), None, None) => LoginCredentials::Jwt(jwt),
        (None, Some(user_name), password) => {
            LoginCredentials::Password { user_name, password: password.unwrap_or_default() }
        }
        (Some(_), _, _) => {
            return Err(ApiError::invalid("give either jwt or user_name and password, not both"));
        }
        (None, None, _) => return Err(ApiError::invalid("give jwt, or user_name and password")),
    };
    let transports = crate::Transports::parse(&request.transports);
    let login =
        route.login(LoginInput { credentials, device_id: request.device_id, transports, source }).await?;
    let answer = Login {
        user_id: login.user.user_id,
        user_name: login.user.user_name,
        token: login.token,
        token_expires_at_ms: login.expires_at_ms,
        server: ServerInfo::public(&login.server),
    };
    Ok(reply(StatusCode::OK, answer))
}

async fn logout(State(route): State<Arc<Route>>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let claims = caller(&route, &headers).await?;
    let request: LogoutRequest = parse(&headers, &body)?;
    route.logout(&claims, request.all_devices).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn online(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    page: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Response> {
    caller(&route, &headers).await?;
    let page = query(page)?;
    let result = route.online_users(&page.page_token, page.page_size).await?;
    let page = OnlinePage {
        users: users(&result.users),
        next_page_token: result.next_page_token,
        total_online: result.total_online,
    };
    Ok(reply(StatusCode::OK, page))
}

async fn users_by_prefix(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    params: Result<Query<PrefixQuery>, QueryRejection>,
) -> ApiResult<Response> {
    caller(&route, &headers).await?;
    let params = query(params)?;
    let found = route.users_by_prefix(&params.prefix, params.limit).await?;
    Ok(reply(StatusCode::OK, Users { users: users(&found) }))
}

async fn users_by_name(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    Path(user_name): Path<String>,
) -> ApiResult<Response> {
    caller(&route, &headers).await?;
    let found = route.users_by_name(&user_name).await?;
    Ok(reply(StatusCode::OK, Users { users: users(&found) }))
}

async fn create_group(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let claims = caller(&route, &headers).await?;
    let request: CreateGroupRequest = parse(&headers, &body)?;
    let group = route.create_group(&claims, &request.group_id, &request.member_user_ids).await?;
    Ok(reply(StatusCode::CREATED, GroupReply { group: GroupInfo::from(&group) }))
}

async fn join_group(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> ApiResult<Response> {
    let claims = caller(&route, &headers).await?;
    let group = route.join_group(&claims, &group_id).await?;
    Ok(reply(StatusCode::OK, GroupReply { group: GroupInfo::from(&group) }))
}

async fn leave_group(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> ApiResult<Response> {
    let claims = caller(&route, &headers).await?;
    let group = route.leave_group(&claims, &group_id).await?;
    Ok(reply(StatusCode::OK, GroupReply { group: GroupInfo::from(&group) }))
}

async fn group_members(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> ApiResult<Response> {
    let claims = caller(&route, &headers).await?;
    let members = route.group_members(&claims, &group_id).await?;
    Ok(reply(StatusCode::OK, Members { members: users(&members) }))
}

async fn my_groups(State(route): State<Arc<Route>>, headers: HeaderMap) -> ApiResult<Response> {
    let claims = caller(&route, &headers).await?;
    let groups = route.my_groups(&claims).await?.iter().map(GroupInfo::from).collect();
    Ok(reply(StatusCode::OK, Groups { groups }))
}

async fn push(State(route): State<Arc<Route>>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    route.check_api_key(api_key(&headers))?;
    let request: PushRequest = parse(&headers, &body)?;
    let to = match (request.to.user_id, request.to.group_id, request.to.everyone) {
        (Some(user), None, None) => recipient::Kind::UserId(user),
        (None, Some(group), None) => recipient::Kind::GroupId(group),
        (None, None, Some(true)) => recipient::Kind::Everyone(wire::Everyone {}),
        _ => return Err(ApiError::invalid("to must hold exactly one of user_id, group_id, everyone: true")),
    };
    let body = match (request.body, request.body_base64) {
        (Some(text), None) => Bytes::from(text.into_bytes()),
        (None, Some(encoded)) => {
            Bytes::from(STANDARD.decode(encoded).map_err(|_| ApiError::invalid("body_base64 is not base64"))?)
        }
        _ => return Err(ApiError::invalid("give exactly one of body and body_base64")),
    };
    let to = wire::Recipient { kind: Some(to) };
    let ack = route
        .push_message(&request.from_user_id, &request.client_msg_id, to, request.content_type, body)
        .await?;
    Ok(reply(StatusCode::OK, PushReply::from(&ack)))
}

async fn servers(State(route): State<Arc<Route>>, headers: HeaderMap) -> ApiResult<Response> {
    route.check_api_key(api_key(&headers))?;
    let servers = route.servers().await?.iter().map(ServerInfo::internal).collect();
    Ok(reply(StatusCode::OK, Servers { servers }))
}

async fn health(State(route): State<Arc<Route>>) -> Response {
    let (ok, checks) = route.health().await;
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    reply(status, Health { ok, version: env!("CARGO_PKG_VERSION").to_owned(), checks })
}

async fn metrics(State(route): State<Arc<Route>>) -> Response {
    ([("content-type", "text/plain; version=0.0.4")], route.metrics.render()).into_response()
}

fn users(users: &[wire::UserInfo]) -> Vec<UserInfo> {
    users.iter().map(UserInfo::from).collect()
}
