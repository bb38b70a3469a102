//! The gRPC binding of the route API (spec §14.5): service `cim.v1.Route`, with reflection.

use std::sync::Arc;

use cim_core::ErrorCode;
use cim_proto::v1::route_server::{Route as RouteService, RouteServer};
use cim_proto::v1::{self as pb, login_request};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use crate::error::ApiError;
use crate::limits::Source;
use crate::ops::{LoginCredentials, LoginInput};
use crate::{Route, Transports};

/// `Route` behind tonic.
pub(crate) struct GrpcRoute(pub(crate) Arc<Route>);

/// The service and its reflection, ready for a tonic server.
pub(crate) fn services(
    route: Arc<Route>,
) -> anyhow::Result<(
    RouteServer<GrpcRoute>,
    tonic_reflection::server::v1::ServerReflectionServer<impl tonic_reflection::server::v1::ServerReflection>,
)> {
    let reflection = tonic_reflection::server::Builder::configure()
        // Only the route's own API: the servers' internal push service is nobody else's
        // business, and listing it shows an attacker what to call.
        .register_encoded_file_descriptor_set(cim_proto::PUBLIC_DESCRIPTOR_SET)
        .build_v1()?;
    Ok((RouteServer::new(GrpcRoute(route)), reflection))
}

/// A failed call: the gRPC status of spec §14.6 and the registry code in `cim-error-code`.
fn status(error: ApiError) -> Status {
    let code = match error.code {
        ErrorCode::INVALID_FIELD | ErrorCode::INVALID_CLIENT_MSG_ID | ErrorCode::BODY_TOO_LARGE => {
            tonic::Code::InvalidArgument
        }
        ErrorCode::UNAUTHENTICATED | ErrorCode::TOKEN_EXPIRED | ErrorCode::INVALID_CREDENTIALS => {
            tonic::Code::Unauthenticated
        }
        ErrorCode::FORBIDDEN => tonic::Code::PermissionDenied,
        ErrorCode::NOT_FOUND | ErrorCode::UNKNOWN_RECIPIENT => tonic::Code::NotFound,
        ErrorCode::ALREADY_EXISTS => tonic::Code::AlreadyExists,
        ErrorCode::RATE_LIMITED | ErrorCode::INBOX_FULL => tonic::Code::ResourceExhausted,
        ErrorCode::UNAVAILABLE | ErrorCode::SHUTTING_DOWN | ErrorCode::OUTCOME_UNKNOWN => {
            tonic::Code::Unavailable
        }
        _ => tonic::Code::Internal,
    };
    let details = error_details(code, &error.message, error.code);
    let mut status = Status::with_details(code, error.message, details.into());
    status.metadata_mut().insert("cim-error-code", error.code.0.into());
    if let Some(seconds) = error.retry_after_secs {
        status.metadata_mut().insert("retry-after", seconds.into());
    }
    status
}

/// `google.rpc.Status` and `google.rpc.ErrorInfo`, the richer error model gRPC tools read
/// from `grpc-status-details-bin`: declared here rather than pulled in with a crate for two
/// messages.
mod rpc {
    use std::collections::HashMap;

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Status {
        #[prost(int32, tag = "1")]
        pub code: i32,
        #[prost(string, tag = "2")]
        pub message: String,
        #[prost(message, repeated, tag = "3")]
        pub details: Vec<Any>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Any {
        #[prost(string, tag = "1")]
        pub type_url: String,
        #[prost(bytes = "vec", tag = "2")]
        pub value: Vec<u8>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ErrorInfo {
        #[prost(string, tag = "1")]
        pub reason: String,
        #[prost(string, tag = "2")]
        pub domain: String,
        #[prost(map = "string, string", tag = "3")]
        pub metadata: HashMap<String, String>,
    }
}

/// The `grpc-status-details-bin` of a failure (spec §14.6): a `google.rpc.Status` holding one
/// `google.rpc.ErrorInfo` whose reason is the registry code's name, in the domain `cim`.
fn error_details(code: tonic::Code, message: &str, error: ErrorCode) -> Vec<u8> {
    use prost::Message as _;
    let info = rpc::ErrorInfo {
        reason: error.name().unwrap_or("UNKNOWN").to_owned(),
        domain: "cim".to_owned(),
        metadata: [("cim-error-code".to_owned(), error.0.to_string())].into(),
    };
    rpc::Status {
        code: code as i32,
        message: message.to_owned(),
        details: vec![rpc::Any {
            type_url: "type.googleapis.com/google.rpc.ErrorInfo".to_owned(),
            value: info.encode_to_vec(),
        }],
    }
    .encode_to_vec()
}

/// Gives a registry code to the failures tonic answers by itself, before any handler runs
/// (spec CIM-14.6-2): a request body that is not the method's message (tonic says INTERNAL;
/// it is the caller's fault, so INVALID_ARGUMENT with INVALID_FIELD), an unknown method
/// (UNIMPLEMENTED, kept for gRPC tools, with NOT_FOUND), a call over its time (UNAVAILABLE).
pub(crate) fn coded_failures<B>(
    mut response: tonic::codegen::http::Response<B>,
) -> tonic::codegen::http::Response<B> {
    let headers = response.headers_mut();
    if headers.contains_key("cim-error-code") {
        return response;
    }
    let Some(status) =
        headers.get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i32>().ok())
    else {
        return response;
    };
    let message = headers.get("grpc-message").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (grpc, error) = match tonic::Code::from_i32(status) {
        tonic::Code::Ok => return response,
        tonic::Code::Internal if message.contains("decode") => {
            (tonic::Code::InvalidArgument, ErrorCode::INVALID_FIELD)
        }
        tonic::Code::Unimplemented => (tonic::Code::Unimplemented, ErrorCode::NOT_FOUND),
        tonic::Code::DeadlineExceeded | tonic::Code::Cancelled | tonic::Code::Unavailable => {
            (tonic::Code::Unavailable, ErrorCode::UNAVAILABLE)
        }
        tonic::Code::ResourceExhausted => (tonic::Code::ResourceExhausted, ErrorCode::RATE_LIMITED),
        other => (other, ErrorCode::INTERNAL),
    };
    headers.insert("grpc-status", (grpc as i32).into());
    headers.insert("cim-error-code", error.0.into());
    if message.is_empty() {
        let explanation = match grpc {
            tonic::Code::Unimplemented => "cim.v1.Route has no such method",
            _ => "the call failed before the route could answer it",
        };
        headers.insert("grpc-message", tonic::codegen::http::HeaderValue::from_static(explanation));
    }
    response
}

/// Counts each gRPC call and how long it took to answer, by method.
#[derive(Clone)]
pub(crate) struct ObserveLayer(pub(crate) Arc<Route>);

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner, route: self.0.clone() }
    }
}

#[derive(Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    route: Arc<Route>,
}

type Http<B> = tonic::codegen::http::Request<B>;

impl<S, B, R> tower::Service<Http<B>> for Observe<S>
where
    S: tower::Service<Http<B>, Response = tonic::codegen::http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Http<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let route = self.route.clone();
        let started = std::time::Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await?;
            // A status in the headers is a failure answered at once; success comes in the
            // trailers, after the body.
            let code =
                response.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or("0").to_owned();
            // A method the route does not have is not a label: callers would make them at will.
            let method = if code == "12" { "unknown".to_owned() } else { method };
            route.metrics.observe("grpc", &method, &code, started.elapsed());
            Ok(response)
        })
    }
}

fn metadata_str<'a>(metadata: &'a MetadataMap, key: &str) -> Option<&'a str> {
    metadata.get(key).and_then(|v| v.to_str().ok())
}

impl GrpcRoute {
    async fn caller(&self, metadata: &MetadataMap) -> Result<cim_backend::TokenClaims, Status> {
        let token = crate::ops::bearer_token(metadata_str(metadata, "authorization")).map_err(status)?;
        self.0.authenticate(token).await.map_err(status)
    }

    /// Where a call comes from, for the rate limits.
    fn source<T>(&self, request: &Request<T>) -> Option<Source> {
        let forwarded = self
            .0
            .options
            .limits
            .client_address_header
            .as_deref()
            .and_then(|h| metadata_str(request.metadata(), h));
        Source::of(request.remote_addr(), forwarded)
    }
}

fn transport_names(transports: &[i32]) -> Vec<String> {
    transports
        .iter()
        .map(|t| match pb::Transport::try_from(*t) {
            Ok(pb::Transport::Tcp) => "tcp",
            Ok(pb::Transport::Websocket) => "websocket",
            Ok(pb::Transport::TcpTls) => "tcp_tls",
            Ok(pb::Transport::WebsocketTls) => "websocket_tls",
            _ => "unknown",
        })
        .map(str::to_owned)
        .collect()
}

#[tonic::async_trait]
impl RouteService for GrpcRoute {
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let source = self.source(&request);
        let request = request.into_inner();
        let user_id = self.0.register(request.user_name, request.password, source).await.map_err(status)?;
        Ok(Response::new(pb::RegisterResponse { user_id }))
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        let source = self.source(&request);
        let request = request.into_inner();
        let credentials = match request.credentials {
            Some(login_request::Credentials::Password(p)) => {
                LoginCredentials::Password { user_name: p.user_name, password: p.password }
            }
            Some(login_request::Credentials::Jwt(jwt)) => LoginCredentials::Jwt(jwt),
            None => return Err(status(ApiError::invalid("give a password or a jwt"))),
        };
        let transports = Transports::parse(&transport_names(&request.transports));
        let input = LoginInput { credentials, device_id: request.device_id, transports, source };
        let login = self.0.login(input).await.map_err(status)?;
        Ok(Response::new(pb::LoginResponse {
            user_id: login.user.user_id,
            user_name: login.user.user_name,
            token: login.token,
            token_expires_at_ms: login.expires_at_ms,
            server: Some(login.server),
        }))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let claims = self.caller(request.metadata()).await?;
        self.0.logout(&claims, request.into_inner().all_devices).await.map_err(status)?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn online_users(
        &self,
        request: Request<pb::OnlineUsersRequest>,
    ) -> Result<Response<pb::OnlineUsersResponse>, Status> {
        self.caller(request.metadata()).await?;
        let request = request.into_inner();
        Ok(Response::new(self.0.online_users(&request.page_token, request.page_size).await.map_err(status)?))
    }

    async fn users_by_prefix(
        &self,
        request: Request<pb::UsersByPrefixRequest>,
    ) -> Result<Response<pb::UsersByPrefixResponse>, Status> {
        self.caller(request.metadata()).await?;
        let request = request.into_inner();
        let users = self.0.users_by_prefix(&request.prefix, request.limit).await.map_err(status)?;
        Ok(Response::new(pb::UsersByPrefixResponse { users }))
    }

    async fn users_by_name(
        &self,
        request: Request<pb::UsersByNameRequest>,
    ) -> Result<Response<pb::UsersByNameResponse>, Status> {
        self.caller(request.metadata()).await?;
        let users = self.0.users_by_name(&request.into_inner().user_name).await.map_err(status)?;
        Ok(Response::new(pb::UsersByNameResponse { users }))
    }

    async fn create_group(
        &self,
        request: Request<pb::CreateGroupRequest>,
    ) -> Result<Response<pb::GroupResponse>, Status> {
        let claims = self.caller(request.metadata()).await?;
        let request = request.into_inner();
        let group = self
            .0
            .create_group(&claims, &request.group_id, &request.member_user_ids)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::GroupResponse { group: Some(group) }))
    }

    async fn join_group(
        &self,
        request: Request<pb::GroupMembershipRequest>,
    ) -> Result<Response<pb::GroupResponse>, Status> {
        let claims = self.caller(request.metadata()).await?;
        let group = self.0.join_group(&claims, &request.into_inner().group_id).await.map_err(status)?;
        Ok(Response::new(pb::GroupResponse { group: Some(group) }))
    }

    async fn leave_group(
        &self,
        request: Request<pb::GroupMembershipRequest>,
    ) -> Result<Response<pb::GroupResponse>, Status> {
        let claims = self.caller(request.metadata()).await?;
        let group = self.0.leave_group(&claims, &request.into_inner().group_id).await.map_err(status)?;
        Ok(Response::new(pb::GroupResponse { group: Some(group) }))
    }

    async fn group_members(
        &self,
        request: Request<pb::GroupMembersRequest>,
    ) -> Result<Response<pb::GroupMembersResponse>, Status> {
        let claims = self.caller(request.metadata()).await?;
        let members = self.0.group_members(&claims, &request.into_inner().group_id).await.map_err(status)?;
        Ok(Response::new(pb::GroupMembersResponse { members }))
    }

    async fn my_groups(
        &self,
        request: Request<pb::MyGroupsRequest>,
    ) -> Result<Response<pb::MyGroupsResponse>, Status> {
        let claims = self.caller(request.metadata()).await?;
        let groups = self.0.my_groups(&claims).await.map_err(status)?;
        Ok(Response::new(pb::MyGroupsResponse { groups }))
    }

    async fn push(&self, request: Request<pb::PushRequest>) -> Result<Response<pb::PushResponse>, Status> {
        self.0.check_api_key(metadata_str(request.metadata(), "x-cim-api-key")).map_err(status)?;
        let request = request.into_inner();
        let to = request
            .to
            .filter(|to| to.kind.is_some())
            .ok_or_else(|| status(ApiError::invalid("to is required")))?;
        let ack = self
            .0
            .push_message(
                &request.from_user_id,
                &request.client_msg_id,
                to,
                request.content_type,
                request.body,
            )
            .await
            .map_err(status)?;
        Ok(Response::new(pb::PushResponse {
            message_id: ack.message_id,
            sent_at_ms: ack.sent_at_ms,
            duplicate: ack.duplicate,
            live_only: ack.live_only,
        }))
    }

    async fn servers(
        &self,
        request: Request<pb::ServersRequest>,
    ) -> Result<Response<pb::ServersResponse>, Status> {
        self.0.check_api_key(metadata_str(request.metadata(), "x-cim-api-key")).map_err(status)?;
        Ok(Response::new(pb::ServersResponse { servers: self.0.servers().await.map_err(status)? }))
    }

    async fn health(
        &self,
        _request: Request<pb::HealthRequest>,
    ) -> Result<Response<pb::HealthResponse>, Status> {
        let (ok, checks) = self.0.health().await;
        Ok(Response::new(pb::HealthResponse { ok, version: env!("CARGO_PKG_VERSION").to_owned(), checks }))
    }
}
