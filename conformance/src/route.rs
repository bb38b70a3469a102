//! The route's HTTP/JSON binding (§14.4), as the harness uses it to create users and groups and
//! to log in. Written against the spec, not the reference route.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::transcript::{Direction, Transcript};

/// Why a route call failed.
#[derive(Debug)]
pub enum RouteError {
    /// No HTTP answer at all.
    Unreachable(String),
    /// An HTTP answer other than the expected status.
    Status {
        /// The HTTP status.
        status: u16,
        /// `code` of the error body, when it had one.
        code: Option<u32>,
        /// The body, shortened.
        body: String,
    },
    /// The expected status with a body that is not what §14.4 says.
    Shape(String),
}

impl std::fmt::Display for RouteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(why) => write!(f, "no answer: {why}"),
            Self::Status { status, body, .. } => write!(f, "HTTP {status}: {body}"),
            Self::Shape(why) => write!(f, "unexpected body: {why}"),
        }
    }
}

/// `server` of a LoginResponse.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServerInfo {
    /// Its id.
    pub server_id: String,
    /// `host:port` for TCP clients.
    pub tcp_endpoint: String,
    /// `ws://` or `wss://` URL.
    pub ws_url: String,
    /// Whether TCP needs TLS.
    pub tcp_tls: bool,
}

/// A successful Login.
#[derive(Clone, Debug, Deserialize)]
pub struct Login {
    /// The user's id.
    pub user_id: String,
    /// The session token.
    pub token: String,
    /// When servers stop accepting it.
    #[serde(default)]
    pub token_expires_at_ms: u64,
    /// The assigned server.
    pub server: ServerInfo,
}

/// An HTTP answer as the harness saw it.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// The Content-Type header.
    pub content_type: String,
    /// The body as text.
    pub text: String,
    /// The Retry-After header, if any.
    pub retry_after: Option<String>,
    /// The Allow header, if any.
    pub allow: Option<String>,
    /// The WWW-Authenticate header, if any.
    pub www_authenticate: Option<String>,
    /// The Access-Control-Allow-Origin header (CORS), if any.
    pub allow_origin: Option<String>,
    /// The Access-Control-Allow-Credentials header, if any.
    pub allow_credentials: Option<String>,
}

impl Answer {
    /// `code` of an error body.
    pub fn code(&self) -> Option<u64> {
        self.body.get("code").and_then(Value::as_u64)
    }
}

/// A client of one route's HTTP/JSON binding.
#[derive(Clone, Debug)]
pub struct Route {
    base: String,
    http: reqwest::Client,
    transcript: Transcript,
}

impl Route {
    /// A client of the route at `base` (e.g. `http://127.0.0.1:8083`).
    pub fn new(base: &str, transcript: &Transcript) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { base: base.trim_end_matches('/').to_owned(), http, transcript: transcript.clone() }
    }

    /// Any call: method, path, bearer token, body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, RouteError> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| ("authorization", a)).into_iter().collect();
        let body = body.filter(|b| !b.is_null()).map(Value::to_string);
        self.call_raw(method, path, &headers, body).await
    }

    /// A POST-like call whose body goes without any Content-Type header.
    pub async fn call_without_content_type(
        &self,
        method: &str,
        path: &str,
        body: String,
    ) -> Result<Answer, RouteError> {
        self.send(method, path, &[], Some(body), false).await
    }

    /// Any call with any headers and a body sent as it is (as JSON unless a header says
    /// otherwise).
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<Answer, RouteError> {
        self.send(method, path, headers, body, true).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
        json_by_default: bool,
    ) -> Result<Answer, RouteError> {
        let url = format!("{}{}", self.base, path);
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| RouteError::Unreachable(e.to_string()))?;
        let mut request = self.http.request(method.clone(), &url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            if json_by_default && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                request = request.header("content-type", "application/json");
            }
            request = request.body(body);
        }
        let response = request.send().await.map_err(|e| {
            self.transcript.push("route", Direction::Note, format!("{method} {path}: no answer: {e}"));
            RouteError::Unreachable(e.to_string())
        })?;
        let status = response.status().as_u16();
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let allow = header("allow");
        let www_authenticate = header("www-authenticate");
        let allow_origin = header("access-control-allow-origin");
        let allow_credentials = header("access-control-allow-credentials");
        let text = response.text().await.unwrap_or_default();
        self.transcript.push(
            "route",
            Direction::Note,
            format!("{method} {path} -> {status} {}", shorten(&text)),
        );
        if status == 429 {
            self.transcript.rate_limited();
        }
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let answer = Answer {
            status,
            body,
            content_type,
            text,
            retry_after,
            allow,
            www_authenticate,
            allow_origin,
            allow_credentials,
        };
        if status >= 400 && !matches!(path, "/healthz" | "/metrics") {
            self.check_error_body(&answer);
        }
        Ok(answer)
    }

    /// Every refusal carries code, name and message (CIM-14.6-1), with a code of the table of
    /// §14.6 answered with its status (CIM-14.6-3).
    fn check_error_body(&self, answer: &Answer) {
        use crate::case::Failure;
        let code = answer.code().and_then(|c| u32::try_from(c).ok());
        let name = code.and_then(crate::spec::code_name);
        let shaped = name.is_some()
            && answer.body.get("name").and_then(Value::as_str) == name
            && answer.body.get("message").is_some_and(Value::is_string);
        if !shaped {
            self.transcript.violation(
                "route",
                Failure {
                    requirement: "CIM-14.6-1",
                    expected: "an error body with code (a registry code), its name, and message".to_owned(),
                    actual: format!("HTTP {} {}", answer.status, shorten(&answer.text)),
                },
            );
            return;
        }
        let listed = name.and_then(|n| crate::spec::route_error_statuses().get(n)).copied();
        // A method its path does not take: 405 with INVALID_FIELD (CIM-14.6-9).
        let wrong_method = answer.status == 405 && name == Some("INVALID_FIELD");
        if listed != Some(answer.status) && !wrong_method {
            self.transcript.violation(
                "route",
                Failure {
                    requirement: "CIM-14.6-3",
                    expected: format!("a code of the table of §14.6, with its HTTP status ({listed:?})"),
                    actual: format!("HTTP {} with {}", answer.status, name.unwrap_or("?")),
                },
            );
        }
    }

    async fn expect(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        status: u16,
    ) -> Result<Value, RouteError> {
        let mut answer = self.call(method, path, token, body).await?;
        // A route that sheds load answers 503 with Retry-After; a client repeats the call after
        // it (spec §14.6), and so do the harness's set-up calls, a few times.
        for _ in 0..10 {
            let Some(seconds) = answer.retry_after.as_deref().and_then(|s| s.parse::<u64>().ok()) else {
                break;
            };
            if answer.status != 503 {
                break;
            }
            tokio::time::sleep(Duration::from_secs(seconds.min(5))).await;
            answer = self.call(method, path, token, body).await?;
        }
        if answer.status != status {
            let code = answer.body.get("code").and_then(Value::as_u64).and_then(|c| u32::try_from(c).ok());
            return Err(RouteError::Status {
                status: answer.status,
                code,
                body: shorten(&answer.body.to_string()),
            });
        }
        Ok(answer.body)
    }

    /// Register: the new user's id.
    pub async fn register(&self, user_name: &str, password: &str) -> Result<String, RouteError> {
        let body = json!({"user_name": user_name, "password": password});
        let answer = self.expect("POST", "/v1/register", None, Some(&body), 201).await?;
        answer
            .get("user_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| RouteError::Shape("no user_id".into()))
    }

    /// Login with a password.
    pub async fn login(&self, user_name: &str, password: &str, device_id: &str) -> Result<Login, RouteError> {
        let body = json!({"user_name": user_name, "password": password, "device_id": device_id});
        let answer = self.expect("POST", "/v1/login", None, Some(&body), 200).await?;
        serde_json::from_value(answer).map_err(|e| RouteError::Shape(e.to_string()))
    }

    /// CreateGroup with these other members.
    pub async fn create_group(
        &self,
        token: &str,
        group_id: &str,
        members: &[&str],
    ) -> Result<(), RouteError> {
        let body = json!({"group_id": group_id, "member_user_ids": members});
        self.expect("POST", "/v1/groups", Some(token), Some(&body), 201).await.map(drop)
    }

    /// JoinGroup.
    pub async fn join_group(&self, token: &str, group_id: &str) -> Result<(), RouteError> {
        self.expect("POST", &format!("/v1/groups/{group_id}/join"), Some(token), None, 200).await.map(drop)
    }

    /// LeaveGroup.
    pub async fn leave_group(&self, token: &str, group_id: &str) -> Result<(), RouteError> {
        self.expect("POST", &format!("/v1/groups/{group_id}/leave"), Some(token), None, 200).await.map(drop)
    }

    /// Logout.
    pub async fn logout(&self, token: &str, all_devices: bool) -> Result<(), RouteError> {
        let body = json!({"all_devices": all_devices});
        self.expect("POST", "/v1/logout", Some(token), Some(&body), 204).await.map(drop)
    }
}

fn shorten(text: &str) -> String {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if end < text.len() { format!("{}…", &text[..end]) } else { text.to_owned() }
}
