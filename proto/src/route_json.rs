//! The route's HTTP/JSON API (spec §14.4) as types: what the reference route writes and reads
//! and what the SDK reads and writes, described once.
//!
//! Every field has a default, so that a member left out reads as its default (CIM-14.4-3) and
//! members a newer route adds are ignored. The conformance harness keeps its own reading of
//! this JSON on purpose, as an independent check of the spec's text.

use serde::{Deserialize, Serialize};

use crate::v1 as wire;

/// `POST /v1/register`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegisterRequest {
    /// The account's name.
    pub user_name: String,
    /// Its password.
    pub password: String,
}

/// The answer to a registration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Registered {
    /// The new account's id.
    pub user_id: String,
}

/// `POST /v1/login`: `jwt`, or `user_name` and `password`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginRequest {
    /// A built-in account's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Its password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A JWT of the application's backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
    /// The device logging in.
    pub device_id: String,
    /// Transports the client can use (`tcp`, `websocket`, `tcp+tls`, `websocket+tls`); empty
    /// means any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<String>,
}

/// A long-connection server, as the route describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerInfo {
    /// Server id.
    pub server_id: String,
    /// `host:port` for TCP.
    pub tcp_endpoint: String,
    /// `ws://` or `wss://` URL; empty without WebSocket.
    pub ws_url: String,
    /// Whether TCP needs TLS.
    pub tcp_tls: bool,
    /// Reported connections.
    pub connections: u64,
    /// Whether it is draining.
    pub draining: bool,
    /// The internal push endpoint: only in the answer to `GET /v1/servers` (API key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_endpoint: Option<String>,
}

impl ServerInfo {
    /// As a login shows it: without the internal endpoint.
    pub fn public(server: &wire::ServerInfo) -> Self {
        Self {
            server_id: server.server_id.clone(),
            tcp_endpoint: server.tcp_endpoint.clone(),
            ws_url: server.ws_url.clone(),
            tcp_tls: server.tcp_tls,
            connections: server.connections,
            draining: server.draining,
            internal_endpoint: None,
        }
    }

    /// As an operator sees it, with the internal endpoint.
    pub fn internal(server: &wire::ServerInfo) -> Self {
        Self { internal_endpoint: Some(server.internal_endpoint.clone()), ..Self::public(server) }
    }
}

/// A successful login.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Login {
    /// The user's id: what messages are addressed to.
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// Session token for the server's Hello.
    pub token: String,
    /// When the token expires, ms since the Unix epoch.
    pub token_expires_at_ms: u64,
    /// The assigned server.
    pub server: ServerInfo,
}

/// `POST /v1/logout`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogoutRequest {
    /// End every session of the user, not only the caller's.
    pub all_devices: bool,
}

/// Query of `GET /v1/online`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    /// From the previous page; empty for the first.
    pub page_token: String,
    /// Users per page; 0 for the route's default.
    pub page_size: u32,
}

/// Query of `GET /v1/users`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrefixQuery {
    /// Start of the names.
    pub prefix: String,
    /// Most users; 0 for the route's default.
    pub limit: u32,
}

/// A user as the route lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserInfo {
    /// Id.
    pub user_id: String,
    /// Name.
    pub user_name: String,
    /// Whether any session is open.
    pub online: bool,
}

impl From<&wire::UserInfo> for UserInfo {
    fn from(user: &wire::UserInfo) -> Self {
        Self { user_id: user.user_id.clone(), user_name: user.user_name.clone(), online: user.online }
    }
}

/// A page of online users.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OnlinePage {
    /// Users of this page.
    pub users: Vec<UserInfo>,
    /// Pass to the next call; empty on the last page.
    pub next_page_token: String,
    /// Users online in all.
    pub total_online: u64,
}

/// Users found by prefix or by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Users {
    /// The users.
    pub users: Vec<UserInfo>,
}

/// A group's members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Members {
    /// The members.
    pub members: Vec<UserInfo>,
}

/// `POST /v1/groups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateGroupRequest {
    /// The new group's id.
    pub group_id: String,
    /// Who else is in it: only the caller may be listed (CIM-14.4-38).
    pub member_user_ids: Vec<String>,
}

/// A group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupInfo {
    /// Id.
    pub group_id: String,
    /// Members.
    pub member_count: u64,
}

impl From<&wire::GroupInfo> for GroupInfo {
    fn from(group: &wire::GroupInfo) -> Self {
        Self { group_id: group.group_id.clone(), member_count: group.member_count.into() }
    }
}

/// The answer to creating, joining or leaving a group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupReply {
    /// The group as it is now.
    pub group: GroupInfo,
}

/// The caller's groups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Groups {
    /// The groups.
    pub groups: Vec<GroupInfo>,
}

/// Who a pushed message is for: exactly one of the three.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushTarget {
    /// A user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// A group's members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Everyone online (live only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub everyone: Option<bool>,
}

/// `POST /v1/push` (API key): a message in a user's name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushRequest {
    /// Who it is for.
    pub to: PushTarget,
    /// The sender, an existing user.
    pub from_user_id: String,
    /// Body type.
    pub content_type: String,
    /// The body as text, or
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// the body as standard base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// Dedupe key, in the sender's namespace.
    pub client_msg_id: String,
}

/// The answer to a push: what a SendAck says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushReply {
    /// The message's id.
    pub message_id: String,
    /// When it was accepted, ms since the Unix epoch.
    pub sent_at_ms: u64,
    /// Accepted before under the same client_msg_id.
    pub duplicate: bool,
    /// Sent to everyone: delivered live, stored nowhere.
    pub live_only: bool,
}

impl From<&wire::SendAck> for PushReply {
    fn from(ack: &wire::SendAck) -> Self {
        Self {
            message_id: ack.message_id.clone(),
            sent_at_ms: ack.sent_at_ms,
            duplicate: ack.duplicate,
            live_only: ack.live_only,
        }
    }
}

/// `GET /v1/servers` (API key).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Servers {
    /// Every registered server, with its internal endpoint.
    pub servers: Vec<ServerInfo>,
}

/// `GET /healthz`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Health {
    /// Whether the route can serve.
    pub ok: bool,
    /// The route's version.
    pub version: String,
    /// What was checked, and how it went.
    pub checks: Vec<String>,
}

/// The body of every failed answer (CIM-14.6-1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    /// Registry code.
    pub code: u32,
    /// Its name in the registry.
    pub name: String,
    /// For people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_shows_no_internal_endpoint_and_servers_do() {
        let server = wire::ServerInfo {
            server_id: "s1".into(),
            internal_endpoint: "10.0.0.1:9002".into(),
            ..Default::default()
        };
        let login = serde_json::to_value(ServerInfo::public(&server)).expect("json");
        assert!(login.get("internal_endpoint").is_none(), "{login}");
        let listed = serde_json::to_value(ServerInfo::internal(&server)).expect("json");
        assert_eq!(listed["internal_endpoint"], "10.0.0.1:9002");
    }

    #[test]
    fn members_left_out_read_as_defaults_and_unknown_ones_are_ignored() {
        let login: LoginRequest = serde_json::from_str(r#"{"jwt":"x","added_later":1}"#).expect("parses");
        assert_eq!(login, LoginRequest { jwt: Some("x".into()), ..Default::default() });
        let page: OnlinePage = serde_json::from_str("{}").expect("parses");
        assert_eq!(page, OnlinePage::default());
    }
}
