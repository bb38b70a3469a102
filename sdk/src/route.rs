//! The route's HTTP/JSON API (spec §14.4), as typed calls.

use std::time::Duration;

use cim_core::ErrorCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// How a user proves who they are at login.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A built-in account.
    Password {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// A JWT from the application's own backend (HS256).
    Jwt(String),
    /// The session of an earlier login, kept by the application (`cim login --save`): used
    /// as it is, without asking the route, until its token expires or the server refuses it;
    /// then the client ends with an authentication error and the user logs in again.
    Session(Box<Login>),
}

impl Credentials {
    /// Built-in account credentials.
    pub fn password(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Password { user: user.into(), password: password.into() }
    }
}

/// An earlier login as a login: itself while its token lasts, TOKEN_EXPIRED after.
fn session(login: &Login) -> Result<Login, Error> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(u64::MAX, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    if login.token_expires_at_ms <= now_ms {
        return Err(Error::Route {
            code: ErrorCode::TOKEN_EXPIRED,
            message: "the saved session has expired: log in again".into(),
            retry_after: None,
        });
    }
    Ok(login.clone())
}

use cim_proto::route_json::{
    CreateGroupRequest, ErrorBody, GroupReply, Groups, LoginRequest, LogoutRequest, Members, RegisterRequest,
    Registered, Users,
};
pub use cim_proto::route_json::{GroupInfo, Login, OnlinePage, ServerInfo, UserInfo};

/// A client of one route's HTTP API.
#[derive(Clone, Debug)]
pub struct RouteClient {
    base: String,
    http: reqwest::Client,
}

impl RouteClient {
    /// A client for the route at `base_url` (`http://127.0.0.1:8083`).
    pub fn new(base_url: &str) -> Result<Self, Error> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(Error::InvalidInput(format!(
                "route URL {base_url:?} must start with http:// or https://"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        Ok(Self { base, http })
    }

    /// The route's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Result<T, Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| Error::Unreachable {
            what: format!("the route at {}", self.base),
            message: e.to_string(),
        })?;
        let status = response.status();
        // Seconds only: the HTTP-date form is not used by cim routes (spec §14.6).
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            let text = if text.trim().is_empty() { "{}" } else { text.as_str() };
            return serde_json::from_str(text).map_err(|e| Error::Unreachable {
                what: format!("the route at {}", self.base),
                message: format!("unexpected answer: {e}"),
            });
        }
        // Without a registry code (a proxy, an unknown path), fall back on the status (spec §14.6).
        let error = serde_json::from_str::<ErrorBody>(&text).unwrap_or_else(|_| ErrorBody {
            code: match status.as_u16() {
                401 => ErrorCode::UNAUTHENTICATED.0,
                400..=499 => ErrorCode::INVALID_FIELD.0,
                _ => ErrorCode::UNAVAILABLE.0,
            },
            message: format!("HTTP {status}"),
            ..ErrorBody::default()
        });
        Err(Error::Route { code: ErrorCode(error.code), message: error.message, retry_after })
    }

    /// Creates a built-in account; returns its user id.
    pub async fn register(&self, user: &str, password: &str) -> Result<String, Error> {
        let body = RegisterRequest { user_name: user.to_owned(), password: password.to_owned() };
        let registered: Registered =
            self.call(reqwest::Method::POST, "/v1/register", None, Some(&body)).await?;
        Ok(registered.user_id)
    }

    /// Logs in from `device_id`.
    pub async fn login(&self, credentials: &Credentials, device_id: &str) -> Result<Login, Error> {
        let device_id = device_id.to_owned();
        let body = match credentials {
            Credentials::Password { user, password } => LoginRequest {
                user_name: Some(user.clone()),
                password: Some(password.clone()),
                device_id,
                ..LoginRequest::default()
            },
            Credentials::Jwt(jwt) => {
                LoginRequest { jwt: Some(jwt.clone()), device_id, ..LoginRequest::default() }
            }
            Credentials::Session(login) => return session(login),
        };
        self.call(reqwest::Method::POST, "/v1/login", None, Some(&body)).await
    }

    /// Ends this login (or all of the user's sessions).
    pub async fn logout(&self, token: &str, all_devices: bool) -> Result<(), Error> {
        let body = LogoutRequest { all_devices };
        self.call::<serde::de::IgnoredAny>(reqwest::Method::POST, "/v1/logout", Some(token), Some(&body))
            .await
            .map(|_| ())
    }

    /// One page of online users; pass `""` for the first.
    pub async fn online_users(
        &self,
        token: &str,
        page_token: &str,
        page_size: u32,
    ) -> Result<OnlinePage, Error> {
        let path = format!("/v1/online?page_token={}&page_size={page_size}", encode(page_token));
        self.call(reqwest::Method::GET, &path, Some(token), NO_BODY).await
    }

    /// Every online user, following the pages to the end (§14.7): each `next_page_token`
    /// goes back unchanged, and only an empty one ends the listing, however short a page is.
    /// A listing is not a snapshot: a user who connects or leaves meanwhile may be missed.
    pub async fn all_online_users(&self, token: &str, page_size: u32) -> Result<Vec<UserInfo>, Error> {
        let mut users = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self.online_users(token, &page_token, page_size).await?;
            users.extend(page.users);
            if page.next_page_token.is_empty() {
                return Ok(users);
            }
            page_token = page.next_page_token;
        }
    }

    /// Users whose name starts with `prefix`.
    pub async fn users_by_prefix(
        &self,
        token: &str,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<UserInfo>, Error> {
        let path = format!("/v1/users?prefix={}&limit={limit}", encode(prefix));
        Ok(self.call::<Users>(reqwest::Method::GET, &path, Some(token), NO_BODY).await?.users)
    }

    /// Users whose name is exactly `user_name` (spec §14.4, UsersByName), by user id. Several
    /// users can share a name: accounts created by JWT logins take theirs from the app backend.
    pub async fn users_by_name(&self, token: &str, user_name: &str) -> Result<Vec<UserInfo>, Error> {
        // `.` and `..` are never names (spec CIM-14.4-36) and would not survive in a path.
        if user_name.is_empty() || user_name == "." || user_name == ".." {
            return Ok(Vec::new());
        }
        let path = format!("/v1/users/by-name/{}", encode(user_name));
        Ok(self.call::<Users>(reqwest::Method::GET, &path, Some(token), NO_BODY).await?.users)
    }

    /// The id of the one user named `user_name`, which is what sending to a user takes (user
    /// ids are not names, spec CIM-14.1-6). Fails with NOT_FOUND when nobody has the name,
    /// and with [`Error::InvalidInput`] when several users share it: the choice is the
    /// application's user's (CIM-14.4-42), from [`users_by_name`](Self::users_by_name).
    pub async fn user_id_of(&self, token: &str, user_name: &str) -> Result<String, Error> {
        let mut users = self.users_by_name(token, user_name).await?;
        match users.len() {
            0 => Err(Error::Route {
                code: ErrorCode::NOT_FOUND,
                message: format!("no user is named {user_name}"),
                retry_after: None,
            }),
            1 => Ok(users.remove(0).user_id),
            n => Err(Error::InvalidInput(format!(
                "{n} users are named {user_name} ({}): choose one by its user id",
                users.iter().map(|u| u.user_id.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Creates a group with the caller as its member. Others join it themselves
    /// ([`join_group`](Self::join_group)): listing another user in `members` fails with
    /// FORBIDDEN (spec CIM-14.4-38), a user who does not exist with NOT_FOUND.
    pub async fn create_group(
        &self,
        token: &str,
        group_id: &str,
        members: &[String],
    ) -> Result<GroupInfo, Error> {
        let body = CreateGroupRequest { group_id: group_id.to_owned(), member_user_ids: members.to_vec() };
        Ok(self
            .call::<GroupReply>(reqwest::Method::POST, "/v1/groups", Some(token), Some(&body))
            .await?
            .group)
    }

    /// Joins a group.
    pub async fn join_group(&self, token: &str, group_id: &str) -> Result<GroupInfo, Error> {
        let path = format!("/v1/groups/{}/join", encode(group_id));
        Ok(self.call::<GroupReply>(reqwest::Method::POST, &path, Some(token), NO_BODY).await?.group)
    }

    /// Leaves a group.
    pub async fn leave_group(&self, token: &str, group_id: &str) -> Result<GroupInfo, Error> {
        let path = format!("/v1/groups/{}/leave", encode(group_id));
        Ok(self.call::<GroupReply>(reqwest::Method::POST, &path, Some(token), NO_BODY).await?.group)
    }

    /// Members of a group the caller belongs to.
    pub async fn group_members(&self, token: &str, group_id: &str) -> Result<Vec<UserInfo>, Error> {
        let path = format!("/v1/groups/{}/members", encode(group_id));
        Ok(self.call::<Members>(reqwest::Method::GET, &path, Some(token), NO_BODY).await?.members)
    }

    /// The caller's groups.
    pub async fn my_groups(&self, token: &str) -> Result<Vec<GroupInfo>, Error> {
        Ok(self.call::<Groups>(reqwest::Method::GET, "/v1/groups", Some(token), NO_BODY).await?.groups)
    }
}

/// No request body.
const NO_BODY: Option<&()> = None;

/// Percent-encodes a query or path value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
