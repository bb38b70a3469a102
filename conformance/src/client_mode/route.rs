//! The route the harness plays in client mode: HTTP/1.1 and JSON (§14.4), one request per
//! connection. It answers Login with a token and the harness's server, pages through the
//! online users a case scripted, and answers anything else NOT_FOUND.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::case::Failure;
use crate::transcript::{Direction, Transcript};

/// A login the route has answered.
#[derive(Clone, Debug)]
pub struct IssuedLogin {
    /// The user name.
    pub user_name: String,
    /// The user id handed out.
    pub(super) user_id: String,
    /// The device.
    pub device_id: String,
    /// The token handed out.
    pub token: String,
}

/// How the route refuses the next Login: HTTP status, registry code and name, Retry-After.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// Registry code.
    pub code: u32,
    /// Seconds for a Retry-After header, if any.
    pub retry_after: Option<u32>,
}

/// One page of OnlineUsers the route answers, in the order scripted.
#[derive(Clone, Debug)]
pub struct OnlinePage {
    /// The user ids on the page.
    pub user_ids: Vec<String>,
    /// Its `next_page_token`.
    pub next_page_token: String,
}

/// What the route shares with the case.
#[derive(Default)]
pub(super) struct RouteState {
    /// The `ServerInfo` a Login hands out.
    pub(super) server: Mutex<Value>,
    /// The user id a Login hands out instead of the user name, if set.
    pub(super) user_id: Mutex<Option<String>>,
    pub(super) logins: Mutex<Vec<IssuedLogin>>,
    pub(super) refusals: Mutex<VecDeque<Refusal>>,
    pub(super) login_requests: AtomicU32,
    /// Pages not yet asked for, and the `page_token` each OnlineUsers request carried.
    pub(super) online_pages: Mutex<VecDeque<OnlinePage>>,
    pub(super) online_requests: Mutex<Vec<String>>,
    /// The `next_page_token` of the last page answered: what the next request must carry.
    pub(super) last_online_token: Mutex<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RouteState {
    pub(super) fn logins(&self) -> Vec<IssuedLogin> {
        lock(&self.logins).clone()
    }

    pub(super) fn refuse(&self, refusals: impl IntoIterator<Item = Refusal>) {
        lock(&self.refusals).extend(refusals);
    }

    pub(super) fn login_requests(&self) -> u32 {
        self.login_requests.load(Ordering::Relaxed)
    }

    pub(super) fn set_server(&self, server: Value) {
        *lock(&self.server) = server;
    }

    pub(super) fn set_user_id(&self, user_id: &str) {
        *lock(&self.user_id) = Some(user_id.to_owned());
    }

    pub(super) fn script_online(&self, pages: impl IntoIterator<Item = OnlinePage>) {
        lock(&self.online_pages).extend(pages);
    }

    pub(super) fn online_requests(&self) -> Vec<String> {
        lock(&self.online_requests).clone()
    }
}

/// A request as read: its request line, head (lower-cased) and JSON body.
struct Request {
    line: String,
    head: String,
    body: Value,
}

/// Serves until the listener fails; the case aborts the task when it ends.
pub(super) async fn serve(listener: TcpListener, state: Arc<RouteState>, transcript: Transcript) {
    let mut issued = 0u32;
    while let Ok((mut stream, _)) = listener.accept().await {
        let Some(request) = read_request(&mut stream).await else { continue };
        transcript.push("route", Direction::Note, format!("{} {}", request.line, request.body));
        let (status, answer, extra_headers) = answer(&request, &state, &transcript, &mut issued);
        let text = answer.to_string();
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}connection: close\r\n\r\n{text}",
            text.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, length) = loop {
        let n = read_some(stream, &mut chunk).await?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while buf.len() < head_end + length {
        let Some(n) = read_some(stream, &mut chunk).await else { break };
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    Some(Request {
        line: head.lines().next().unwrap_or_default().to_owned(),
        head: head.to_ascii_lowercase(),
        body: serde_json::from_slice(buf.get(head_end..).unwrap_or_default()).unwrap_or(Value::Null),
    })
}

/// Reads what arrives within 5 s; `None` at the end of the stream or on a timeout.
async fn read_some(stream: &mut TcpStream, chunk: &mut [u8]) -> Option<usize> {
    tokio::time::timeout(Duration::from_secs(5), stream.read(chunk)).await.ok()?.ok().filter(|n| *n > 0)
}

fn answer(
    request: &Request,
    state: &RouteState,
    transcript: &Transcript,
    issued: &mut u32,
) -> (&'static str, Value, String) {
    let line = &request.line;
    let body = &request.body;
    if line.starts_with("POST ") && !request.head.contains("content-type: application/json") {
        transcript.violation(
            "route",
            Failure {
                requirement: "CIM-14.4-1",
                expected: "a JSON request body sent with Content-Type: application/json".into(),
                actual: line.clone(),
            },
        );
    }
    if line.starts_with("POST /v1/login ") {
        if body.get("user_name").is_none() || body.get("device_id").is_none() {
            transcript.violation(
                "route",
                Failure {
                    requirement: "CIM-14.4-2",
                    expected: "members named as the fields of route.proto (user_name, password, device_id)"
                        .into(),
                    actual: body.to_string(),
                },
            );
        }
        state.login_requests.fetch_add(1, Ordering::Relaxed);
        if let Some(refusal) = lock(&state.refusals).pop_front() {
            return refused(&refusal);
        }
        *issued += 1;
        let user_name = body["user_name"].as_str().unwrap_or_default().to_owned();
        let user_id = lock(&state.user_id).clone().unwrap_or_else(|| user_name.clone());
        let token = format!("cf-token-{issued}-{}", "t".repeat(40));
        lock(&state.logins).push(IssuedLogin {
            user_name: user_name.clone(),
            user_id: user_id.clone(),
            device_id: body["device_id"].as_str().unwrap_or_default().to_owned(),
            token: token.clone(),
        });
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            + 3_600_000;
        let server = lock(&state.server).clone();
        let answer = json!({"user_id": user_id, "user_name": user_name, "token": token, "token_expires_at_ms": expires, "server": server});
        return ("200 OK", answer, String::new());
    }
    if let Some(query) = line.strip_prefix("GET /v1/online").and_then(|rest| rest.split(' ').next()) {
        return online_page(query, state, transcript);
    }
    (
        "404 Not Found",
        json!({"code": 6001, "name": "NOT_FOUND", "message": "the conformance route answers Login and OnlineUsers only"}),
        String::new(),
    )
}

fn refused(refusal: &Refusal) -> (&'static str, Value, String) {
    let extra_headers = refusal.retry_after.map(|s| format!("retry-after: {s}\r\n")).unwrap_or_default();
    let name = crate::spec::code_name(refusal.code).unwrap_or("UNKNOWN");
    let status = match refusal.status {
        401 => "401 Unauthorized",
        429 => "429 Too Many Requests",
        503 => "503 Service Unavailable",
        _ => "400 Bad Request",
    };
    (
        status,
        json!({"code": refusal.code, "name": name, "message": "refused by cim-conformance"}),
        extra_headers,
    )
}

/// The next scripted page, when the request carries the token the previous page handed out
/// (an empty one to start a listing).
fn online_page(query: &str, state: &RouteState, transcript: &Transcript) -> (&'static str, Value, String) {
    let page_token = query
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("page_token="))
        .map(percent_decode)
        .unwrap_or_default();
    lock(&state.online_requests).push(page_token.clone());
    let mut wanted = lock(&state.last_online_token);
    if page_token != *wanted {
        transcript.violation(
            "route",
            Failure {
                requirement: "CIM-14.7-5",
                expected: format!(
                    "page_token {:?}, the next_page_token of the page before, unchanged",
                    *wanted
                ),
                actual: format!("page_token {page_token:?}"),
            },
        );
        return invalid_field("page_token is not one this route issued");
    }
    let Some(page) = lock(&state.online_pages).pop_front() else {
        return invalid_field("the conformance route has no more pages scripted");
    };
    *wanted = page.next_page_token.clone();
    let users: Vec<Value> =
        page.user_ids.iter().map(|id| json!({"user_id": id, "user_name": id, "online": true})).collect();
    (
        "200 OK",
        json!({"users": users, "next_page_token": page.next_page_token, "total_online": 0}),
        String::new(),
    )
}

fn invalid_field(message: &str) -> (&'static str, Value, String) {
    let code = crate::spec::code("INVALID_FIELD");
    ("400 Bad Request", json!({"code": code, "name": "INVALID_FIELD", "message": message}), String::new())
}

/// Decodes %XX escapes and `+` (a space in a query string).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, byte) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_decoding_reads_escapes_and_plus() {
        assert_eq!(super::percent_decode("a%2Fb+c%3d%"), "a/b c=%");
        assert_eq!(super::percent_decode("%zz"), "%zz");
    }
}
