//! The HTTP/JSON binding of the route API (spec §14.4).

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use cim_backend::{GroupRecord, TokenClaims, UserRecord, hash_password, now_ms};
use cim_core::ErrorCode;
use cim_core::wire::{self, recipient};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::json;

use crate::error::ApiError;
use crate::{Route, valid_name};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router(route: Arc<Route>) -> Router {
    Router::new()
        .route("/v1/register", post(register))
        .route("/v1/login", post(login))
        .route("/v1/logout", post(logout))
        .route("/v1/online", get(online))
        .route("/v1/users", get(users_by_prefix))
        .route("/v1/groups", post(create_group).get(my_groups))
        .route("/v1/groups/{group_id}/join", post(join_group))
        .route("/v1/groups/{group_id}/leave", post(leave_group))
        .route("/v1/groups/{group_id}/members", get(group_members))
        .route("/v1/push", post(push))
        .route("/v1/servers", get(servers))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .with_state(route)
}

/// A JSON body: absent means `{}`, anything malformed is INVALID_FIELD (spec §14.4-3, -5).
fn parse<T: DeserializeOwned + Default>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("malformed JSON body: {e}")))
}

fn json_response(status: StatusCode, body: impl Serialize) -> Response {
    (status, axum::Json(body)).into_response()
}

fn bearer(headers: &HeaderMap) -> ApiResult<&str> {
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::UNAUTHENTICATED, "missing Authorization: Bearer <token>"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::UNAUTHENTICATED, "Authorization must be Bearer <token>"));
    }
    Ok(token.trim())
}

impl Route {
    /// The claims of the caller's token, refusing ended logins.
    async fn caller(&self, headers: &HeaderMap) -> ApiResult<TokenClaims> {
        let claims = self
            .keys
            .verify(bearer(headers)?, now_ms())
            .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
        if self.store.is_login_ended(&claims.lid).await? {
            return Err(ApiError::new(ErrorCode::UNAUTHENTICATED, "this login has ended"));
        }
        Ok(claims)
    }

    fn check_api_key(&self, headers: &HeaderMap) -> ApiResult<()> {
        let given = headers.get("x-cim-api-key").and_then(|v| v.to_str().ok()).unwrap_or("");
        match &self.options.api_key {
            Some(key) if !given.is_empty() && constant_time_eq(given.as_bytes(), key.as_bytes()) => Ok(()),
            Some(_) => Err(ApiError::new(ErrorCode::UNAUTHENTICATED, "missing or wrong X-Cim-Api-Key")),
            None => Err(ApiError::new(
                ErrorCode::UNAUTHENTICATED,
                "this route has no API key configured (--api-key)",
            )),
        }
    }

    async fn user_infos(&self, ids: impl IntoIterator<Item = String>) -> ApiResult<Vec<UserInfo>> {
        let mut out = Vec::new();
        for user_id in ids {
            let online = !self.store.sessions_of(&user_id).await?.is_empty();
            let user_name = self.store.user(&user_id).await?.map_or_else(|| user_id.clone(), |u| u.user_name);
            out.push(UserInfo { user_id, user_name, online });
        }
        Ok(out)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Serialize)]
struct UserInfo {
    user_id: String,
    user_name: String,
    online: bool,
}

#[derive(Serialize)]
struct GroupInfo {
    group_id: String,
    member_count: usize,
}

impl From<GroupRecord> for GroupInfo {
    fn from(group: GroupRecord) -> Self {
        Self { group_id: group.group_id, member_count: group.members.len() }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RegisterRequest {
    user_name: String,
    password: String,
}

async fn register(State(route): State<Arc<Route>>, body: Bytes) -> ApiResult<Response> {
    let request: RegisterRequest = parse(&body)?;
    if !valid_name(&request.user_name, 64) {
        return Err(ApiError::invalid("user_name must be 1 to 64 of A-Z a-z 0-9 _ . -"));
    }
    if !(8..=1024).contains(&request.password.len()) {
        return Err(ApiError::invalid("password must be 8 to 1024 bytes"));
    }
    let name = request.user_name;
    let hash = tokio::task::spawn_blocking(move || hash_password(&request.password))
        .await
        .map_err(|_| ApiError::new(ErrorCode::INTERNAL, "password hashing failed"))?;
    route
        .store
        .create_user(UserRecord { user_id: name.clone(), user_name: name.clone(), password_hash: hash })
        .await?;
    tracing::info!(user = %name, "registered");
    Ok(json_response(StatusCode::CREATED, json!({ "user_id": name })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginRequest {
    user_name: Option<String>,
    password: Option<String>,
    jwt: Option<String>,
    device_id: String,
    transports: Vec<String>,
}

async fn login(State(route): State<Arc<Route>>, body: Bytes) -> ApiResult<Response> {
    let request: LoginRequest = parse(&body)?;
    if request.device_id.is_empty() || request.device_id.len() > 128 {
        return Err(ApiError::invalid("device_id must be 1 to 128 bytes"));
    }
    let user = match (&request.jwt, &request.user_name, &request.password) {
        (Some(jwt), None, None) => route.user_from_jwt(jwt).await?,
        (None, Some(name), password) => {
            route.user_from_password(name, password.as_deref().unwrap_or("")).await?
        }
        (Some(_), _, _) => {
            return Err(ApiError::invalid("give either jwt or user_name and password, not both"));
        }
        (None, None, _) => return Err(ApiError::invalid("give jwt, or user_name and password")),
    };
    let transports = crate::Transports::parse(&request.transports);
    let servers =
        route.registry.servers().await.map_err(|e| ApiError::new(ErrorCode::UNAVAILABLE, e.to_string()))?;
    let usable: Vec<wire::ServerInfo> = servers.into_iter().filter(|s| transports.offered_by(s)).collect();
    let server = route
        .assigner
        .pick(&user.user_id, &usable)
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorCode::UNAVAILABLE, "no server available; try again shortly"))?;
    let claims = cim_backend::TokenKeys::new_claims(
        &user.user_id,
        &request.device_id,
        route.options.token_lifetime_ms(),
    );
    let token = route.keys.issue(&claims);
    route.metrics.logins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(json_response(
        StatusCode::OK,
        json!({
            "user_id": user.user_id,
            "user_name": user.user_name,
            "token": token,
            "token_expires_at_ms": claims.exp,
            "server": {
                "server_id": server.server_id,
                "tcp_endpoint": server.tcp_endpoint,
                "ws_url": server.ws_url,
                "tcp_tls": server.tcp_tls,
                "connections": server.connections,
                "draining": server.draining,
            },
        }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogoutRequest {
    all_devices: bool,
}

async fn logout(State(route): State<Arc<Route>>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let claims = route.caller(&headers).await?;
    let request: LogoutRequest = parse(&body)?;
    route.store.end_login(&claims.lid, claims.exp + cim_backend::CLOCK_SKEW_MS).await?;
    let sessions = route.store.sessions_of(&claims.sub).await?;
    for session in sessions.iter().filter(|s| request.all_devices || s.device_id == claims.dev) {
        if let Some(fanout) = &route.fanout {
            fanout.end_sessions(&claims.sub, Some(&session.session_id), wire::GoAwayReason::LoggedOut).await;
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    page_token: String,
    page_size: u32,
}

async fn online(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Response> {
    route.caller(&headers).await?;
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("bad query parameters: {e}")))?;
    let size = match query.page_size {
        0 => 100,
        n => n.min(1000),
    } as usize;
    let after = if query.page_token.is_empty() {
        None
    } else {
        let bytes =
            URL_SAFE_NO_PAD.decode(&query.page_token).map_err(|_| ApiError::invalid("unknown page_token"))?;
        Some(String::from_utf8(bytes).map_err(|_| ApiError::invalid("unknown page_token"))?)
    };
    let page = route.store.online_users(after.as_deref(), size).await?;
    let users = route.user_infos(page.user_ids).await?;
    let next = page.next_after.map(|last| URL_SAFE_NO_PAD.encode(last)).unwrap_or_default();
    Ok(json_response(
        StatusCode::OK,
        json!({ "users": users, "next_page_token": next, "total_online": page.total }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PrefixQuery {
    prefix: String,
    limit: u32,
}

async fn users_by_prefix(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    query: Result<Query<PrefixQuery>, QueryRejection>,
) -> ApiResult<Response> {
    route.caller(&headers).await?;
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("bad query parameters: {e}")))?;
    let limit = match query.limit {
        0 => 20,
        n => n.min(100),
    } as usize;
    let users = route.store.users_by_prefix(&query.prefix, limit).await?;
    let infos = route.user_infos(users.into_iter().map(|u| u.user_id)).await?;
    Ok(json_response(StatusCode::OK, json!({ "users": infos })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateGroupRequest {
    group_id: String,
    member_user_ids: Vec<String>,
}

async fn create_group(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let claims = route.caller(&headers).await?;
    let request: CreateGroupRequest = parse(&body)?;
    if !valid_name(&request.group_id, 128) || request.group_id == "." || request.group_id == ".." {
        return Err(ApiError::invalid("group_id must be 1 to 128 of A-Z a-z 0-9 _ . - (not . or ..)"));
    }
    let group = route.store.create_group(&request.group_id, &claims.sub, &request.member_user_ids).await?;
    Ok(json_response(StatusCode::CREATED, json!({ "group": GroupInfo::from(group) })))
}

async fn join_group(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> ApiResult<Response> {
    let claims = route.caller(&headers).await?;
    let group = route.store.join_group(&group_id, &claims.sub).await?;
    Ok(json_response(StatusCode::OK, json!({ "group": GroupInfo::from(group) })))
}

async fn leave_group(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> ApiResult<Response> {
    let claims = route.caller(&headers).await?;
    let group = route.store.leave_group(&group_id, &claims.sub).await?;
    Ok(json_response(StatusCode::OK, json!({ "group": GroupInfo::from(group) })))
}

async fn group_members(
    State(route): State<Arc<Route>>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> ApiResult<Response> {
    let claims = route.caller(&headers).await?;
    let group = route
        .store
        .group(&group_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NOT_FOUND, format!("no group {group_id}")))?;
    if !group.members.contains(&claims.sub) {
        return Err(ApiError::new(ErrorCode::FORBIDDEN, "only members may list a group"));
    }
    let members = route.user_infos(group.members).await?;
    Ok(json_response(StatusCode::OK, json!({ "members": members })))
}

async fn my_groups(State(route): State<Arc<Route>>, headers: HeaderMap) -> ApiResult<Response> {
    let claims = route.caller(&headers).await?;
    let groups: Vec<GroupInfo> =
        route.store.groups_of(&claims.sub).await?.into_iter().map(GroupInfo::from).collect();
    Ok(json_response(StatusCode::OK, json!({ "groups": groups })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PushTarget {
    user_id: Option<String>,
    group_id: Option<String>,
    everyone: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PushRequest {
    to: PushTarget,
    from_user_id: String,
    content_type: String,
    body: Option<String>,
    body_base64: Option<String>,
    client_msg_id: String,
}

async fn push(State(route): State<Arc<Route>>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    route.check_api_key(&headers)?;
    let request: PushRequest = parse(&body)?;
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
    let ack = route
        .push_message(
            &request.from_user_id,
            &request.client_msg_id,
            wire::Recipient { kind: Some(to) },
            request.content_type,
            body,
        )
        .await?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "message_id": ack.message_id, "sent_at_ms": ack.sent_at_ms, "duplicate": ack.duplicate, "live_only": ack.live_only }),
    ))
}

async fn servers(State(route): State<Arc<Route>>, headers: HeaderMap) -> ApiResult<Response> {
    route.check_api_key(&headers)?;
    let servers =
        route.registry.servers().await.map_err(|e| ApiError::new(ErrorCode::UNAVAILABLE, e.to_string()))?;
    let list: Vec<serde_json::Value> = servers
        .into_iter()
        .map(|s| {
            json!({
                "server_id": s.server_id, "tcp_endpoint": s.tcp_endpoint, "ws_url": s.ws_url, "tcp_tls": s.tcp_tls,
                "internal_endpoint": s.internal_endpoint, "connections": s.connections, "draining": s.draining,
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, json!({ "servers": list })))
}

async fn health(State(route): State<Arc<Route>>) -> Response {
    let (ok, checks) = route.health().await;
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    json_response(status, json!({ "ok": ok, "version": env!("CARGO_PKG_VERSION"), "checks": checks }))
}

async fn metrics(State(route): State<Arc<Route>>) -> Response {
    ([("content-type", "text/plain; version=0.0.4")], route.metrics.render()).into_response()
}
