//! §14 and §5.3: the route's HTTP/JSON binding: accounts, login, logout, presence, groups,
//! Push, Servers, Health, JWT logins, error bodies.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::case::{Case, Cx, Stop, User, check, expect_deliver, fail};
use crate::route::{Answer, RouteError};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("route.register", "Register answers 201 with the user_id; bad names, short passwords and taken names fail with their codes",
            covers: ["CIM-14.4-8", "CIM-14.4-9", "CIM-14.4-10", "CIM-14.1-5", "CIM-14.6-1", "CIM-14.6-3"], tags: ["route"], budget: 30, register),
        crate::case!("route.login", "Login answers every field of §14.4, and refuses bad credentials alike",
            covers: ["CIM-14.4-11", "CIM-14.4-12", "CIM-14.2-1", "CIM-14.2-5", "CIM-14.2-7", "CIM-5.1-2", "CIM-5.1-3"], tags: ["route", "login"], budget: 30, login),
        crate::case!("route.login-fields", "Login with a bad device_id, both or neither credential fails with INVALID_FIELD",
            covers: ["CIM-14.4-13"], tags: ["route", "login"], budget: 20, login_fields),
        crate::case!("route.login-transports", "Login asking only for transports no server offers, or unknown ones, fails with UNAVAILABLE",
            covers: ["CIM-14.2-8", "CIM-14.2-2"], tags: ["route", "login"], budget: 20, login_transports),
        crate::case!("route.token-claims", "A reference-format token names the user, device, a fresh login id and the expiry",
            covers: ["CIM-5.1-1", "CIM-5.5-2", "CIM-5.5-3"], tags: ["route", "token"], budget: 20, token_claims),
        crate::case!("route.credentials", "Calls for a user need a valid bearer token, with the scheme in any case",
            covers: ["CIM-14.1-1", "CIM-14.4-7"], tags: ["route", "security"], budget: 20, credentials),
        crate::case!("route.logout", "Logout answers 204 without a body and ends every device's session with all_devices",
            covers: ["CIM-14.4-14", "CIM-14.2-4"], tags: ["route", "goaway"], budget: 20, logout),
        crate::case!("route.json", "The JSON binding: UTF-8 JSON objects, proto field names, nulls as empty, unknown members ignored, type errors refused",
            covers: ["CIM-14.4-1", "CIM-14.4-2", "CIM-14.4-3", "CIM-14.4-4", "CIM-14.4-5"], tags: ["route", "json"], budget: 20, json_binding),
        crate::case!("route.users-by-prefix", "UsersByPrefix returns matching users in byte order, at most limit",
            covers: ["CIM-14.4-17", "CIM-14.4-18"], tags: ["route"], budget: 30, users_by_prefix),
        crate::case!("route.users-by-name", "UsersByName returns the users of exactly that name, and none for a prefix of it",
            covers: ["CIM-14.4-39", "CIM-14.4-40"], tags: ["route"], budget: 20, users_by_name),
        crate::case!("route.online", "OnlineUsers lists users with an open session, a page at a time",
            covers: ["CIM-14.4-15", "CIM-14.4-16", "CIM-14.7-1", "CIM-14.7-2", "CIM-14.7-4"], tags: ["route", "presence"], budget: 30, online),
        crate::case!("route.groups", "CreateGroup, JoinGroup, LeaveGroup, GroupMembers and MyGroups as §14.4 says",
            covers: ["CIM-14.4-19", "CIM-14.4-20", "CIM-14.4-23", "CIM-14.4-25", "CIM-14.4-26", "CIM-14.4-28", "CIM-14.4-38"], tags: ["route", "groups"], budget: 30, groups),
        crate::case!("route.group-errors", "Group calls fail with INVALID_FIELD, NOT_FOUND, ALREADY_EXISTS and FORBIDDEN where §14.4 says",
            covers: ["CIM-14.4-21", "CIM-14.4-22", "CIM-14.4-24", "CIM-14.4-27", "CIM-14.6-3"], tags: ["route", "groups"], budget: 30, group_errors),
        crate::case!("route.push", "Push with the API key sends as the named user, text or base64, deduplicated",
            covers: ["CIM-14.4-29", "CIM-14.4-30", "CIM-14.3-1", "CIM-14.1-2"], tags: ["route", "push", "needs-api-key"], budget: 30, push),
        crate::case!("route.push-dedupe-first", "A Push repeating an accepted client_msg_id is a duplicate even with a body over the limit",
            covers: ["CIM-14.3-3"], tags: ["route", "push", "dedupe", "needs-api-key"], budget: 20, push_dedupe_first),
        crate::case!("route.push-errors", "Push with a bad recipient, body or sender fails with its code",
            covers: ["CIM-14.4-31", "CIM-14.3-2"], tags: ["route", "push", "needs-api-key"], budget: 20, push_errors),
        crate::case!("route.servers", "Servers with the API key lists every server with its internal endpoint",
            covers: ["CIM-14.4-32", "CIM-14.1-2"], tags: ["route", "needs-api-key"], budget: 20, servers),
        crate::case!("route.health", "Health answers without credentials with ok, version and checks",
            covers: ["CIM-14.4-33"], tags: ["route"], budget: 20, health),
        crate::case!("route.rate-limit", "A route that rate-limits answers RATE_LIMITED with Retry-After",
            covers: ["CIM-14.6-4"], tags: ["route", "limits"], budget: 60, rate_limit),
        crate::case!("route.jwt-login", "A JWT login takes the user from sub and refuses bad algorithms, signatures and times",
            covers: ["CIM-5.3-1", "CIM-5.3-2", "CIM-5.3-7"], tags: ["route", "login", "needs-jwt-secret"], budget: 30, jwt_login),
        crate::case!("route.jwt-accounts-apart", "A JWT never logs in to a registered account, nor a password to a JWT's account",
            covers: ["CIM-5.3-4", "CIM-5.3-5"], tags: ["route", "login", "security", "needs-jwt-secret"], budget: 30, jwt_accounts_apart),
        crate::case!("route.register-names", "Register refuses the user names . and ..",
            covers: ["CIM-14.4-36"], tags: ["route", "security"], budget: 20, register_dot_names),
        crate::case!("route.slow-request", "A connection that sends no request head, or drips one, is closed within 60 seconds",
            covers: ["CIM-16-8"], tags: ["route", "robustness", "security", "slow"], budget: 90, slow_request),
        crate::case!("route.http-errors", "Unknown paths, wrong methods and oversized bodies get the JSON error body, 401 a WWW-Authenticate",
            covers: ["CIM-14.6-9", "CIM-14.6-1", "CIM-14.6-10", "CIM-14.4-5"], tags: ["route", "json"], budget: 20, http_errors),
        crate::case!("route.content-type", "A request body that is not sent as application/json is refused before it is acted on",
            covers: ["CIM-14.4-37"], tags: ["route", "json", "security"], budget: 20, content_type),
        crate::case!("route.cors-closed", "Pages of an origin the operator did not allow, and Push and Servers from any page, get no CORS permission",
            covers: ["CIM-14.4-43", "CIM-14.4-44", "CIM-14.4-45"], tags: ["route", "security", "cors"], budget: 20, cors_closed),
    ]
}

fn env(e: RouteError) -> Stop {
    Stop::Error(format!("the route did not answer: {e}"))
}

/// The answer must be `status` with error `code` (a registry name), and an error body as
/// §14.6 says: a JSON object with the numeric code and a message.
fn refused(
    requirement: &'static str,
    answer: &Answer,
    status: u16,
    code: &str,
    what: &str,
) -> Result<(), Stop> {
    let want = crate::spec::code(code);
    check(
        requirement,
        answer.status == status && answer.code() == Some(u64::from(want)),
        format!("{what}: HTTP {status} with code {want} ({code})"),
        || format!("HTTP {} {}", answer.status, answer.text),
    )?;
    check(
        "CIM-14.6-1",
        answer.body.get("message").is_some_and(Value::is_string),
        "an error body with code and message",
        || answer.text.clone(),
    )
}

async fn call(cx: &Cx, method: &str, path: &str, token: Option<&str>, body: Value) -> Result<Answer, Stop> {
    cx.route.call(method, path, token, Some(&body)).await.map_err(env)
}

async fn register(cx: &mut Cx) -> Result<(), Stop> {
    let name = cx.name("reg");
    let answer =
        call(cx, "POST", "/v1/register", None, json!({"user_name": name, "password": "password-1"})).await?;
    let user_id = answer.body.get("user_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    check("CIM-14.4-8", answer.status == 201 && !user_id.is_empty(), "201 with a user_id", || {
        format!("HTTP {} {}", answer.status, answer.text)
    })?;
    check("CIM-14.1-5", user_id.len() <= 128, "a user_id of 1..=128 bytes", || {
        format!("{} bytes", user_id.len())
    })?;
    let again =
        call(cx, "POST", "/v1/register", None, json!({"user_name": name, "password": "password-2"})).await?;
    refused("CIM-14.4-10", &again, 409, "ALREADY_EXISTS", "a taken user name")?;
    // Names are compared byte for byte: another case is another user.
    let upper = name.to_uppercase();
    let other =
        call(cx, "POST", "/v1/register", None, json!({"user_name": upper, "password": "password-1"})).await?;
    check("CIM-14.4-10", other.status == 201, "201: user names differing in case are two users", || {
        format!("HTTP {} {}", other.status, other.text)
    })?;
    let long = "n".repeat(65);
    for (bad, what) in [
        ("", "an empty name"),
        (long.as_str(), "a name of 65 bytes"),
        ("a b", "a space"),
        ("zoë", "a non-ASCII letter"),
        ("a/b", "a slash"),
    ] {
        let answer =
            call(cx, "POST", "/v1/register", None, json!({"user_name": bad, "password": "password-1"}))
                .await?;
        refused("CIM-14.4-9", &answer, 400, "INVALID_FIELD", what)?;
    }
    let answer =
        call(cx, "POST", "/v1/register", None, json!({"user_name": cx.name("short"), "password": "1234567"}))
            .await?;
    refused("CIM-14.4-9", &answer, 400, "INVALID_FIELD", "a password of 7 bytes")
}

async fn login(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let answer = call(
        cx,
        "POST",
        "/v1/login",
        None,
        json!({"user_name": alice.name, "password": alice.password, "device_id": "d1"}),
    )
    .await?;
    check("CIM-14.4-12", answer.status == 200, "200", || format!("HTTP {} {}", answer.status, answer.text))?;
    let b = &answer.body;
    let has = |key: &str| b.get(key).is_some();
    let server = b.get("server").cloned().unwrap_or(Value::Null);
    let server_has = |key: &str| server.get(key).is_some();
    check(
        "CIM-14.4-12",
        ["user_id", "user_name", "token", "token_expires_at_ms", "server"].iter().all(|k| has(k))
            && ["server_id", "tcp_endpoint", "ws_url", "tcp_tls", "connections", "draining"]
                .iter()
                .all(|k| server_has(k)),
        "user_id, user_name, token, token_expires_at_ms and server with server_id, tcp_endpoint, ws_url, tcp_tls, connections, draining",
        || answer.text.clone(),
    )?;
    check(
        "CIM-14.2-1",
        b["user_id"] == json!(alice.id) && server["draining"] == json!(false),
        "the user's id and a server that is not draining",
        || answer.text.clone(),
    )?;
    check(
        "CIM-14.2-7",
        server.get("internal_endpoint").and_then(Value::as_str).is_none_or(str::is_empty),
        "no internal_endpoint",
        || answer.text.clone(),
    )?;
    let token = b["token"].as_str().unwrap_or_default();
    check("CIM-5.1-2", !token.is_empty() && token.len() <= 4096, "a token of at most 4096 bytes", || {
        format!("{} bytes", token.len())
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let expires = b["token_expires_at_ms"].as_u64().unwrap_or(0);
    check("CIM-5.1-3", expires > now, "token_expires_at_ms in the future", || {
        format!("{expires}, now {now}")
    })?;
    let wrong = call(
        cx,
        "POST",
        "/v1/login",
        None,
        json!({"user_name": alice.name, "password": "not-the-password", "device_id": "d1"}),
    )
    .await?;
    refused("CIM-14.2-5", &wrong, 401, "INVALID_CREDENTIALS", "a wrong password")?;
    let unknown = call(
        cx,
        "POST",
        "/v1/login",
        None,
        json!({"user_name": cx.name("nobody"), "password": "whatever-1", "device_id": "d1"}),
    )
    .await?;
    refused("CIM-14.2-5", &unknown, 401, "INVALID_CREDENTIALS", "an unknown user name")?;
    check(
        "CIM-14.2-5",
        wrong.body.get("message") == unknown.body.get("message"),
        "the same message for both",
        || format!("{} / {}", wrong.text, unknown.text),
    )?;
    let tcp = call(cx, "POST", "/v1/login", None, json!({"user_name": alice.name, "password": alice.password, "device_id": "d1", "transports": ["tcp", "websocket"]})).await?;
    check("CIM-14.4-11", tcp.status == 200, "200 for a Login listing transports", || {
        format!("HTTP {} {}", tcp.status, tcp.text)
    })
}

async fn login_fields(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let long = "d".repeat(129);
    let bodies = [
        (json!({"user_name": alice.name, "password": alice.password, "device_id": ""}), "an empty device_id"),
        (
            json!({"user_name": alice.name, "password": alice.password, "device_id": long}),
            "a device_id of 129 bytes",
        ),
        (json!({"user_name": alice.name, "password": alice.password}), "no device_id"),
        (json!({"jwt": "a.b.c", "user_name": alice.name, "device_id": "d1"}), "jwt together with user_name"),
        (
            json!({"jwt": "a.b.c", "password": alice.password, "device_id": "d1"}),
            "jwt together with password",
        ),
        (json!({"device_id": "d1"}), "neither jwt nor user_name"),
        (json!({"jwt": "", "user_name": "", "device_id": "d1"}), "jwt and user_name both empty"),
    ];
    for (body, what) in bodies {
        let answer = call(cx, "POST", "/v1/login", None, body).await?;
        refused("CIM-14.4-13", &answer, 400, "INVALID_FIELD", what)?;
    }
    // An empty member is an absent one (CIM-14.4-3): this is a password login.
    let body = json!({"jwt": "", "user_name": alice.name, "password": alice.password, "device_id": "d1"});
    let answer = call(cx, "POST", "/v1/login", None, body).await?;
    check(
        "CIM-14.4-3",
        answer.status == 200,
        "200: an empty jwt beside a password is a password login",
        || format!("HTTP {} {}", answer.status, answer.text),
    )
}

async fn login_transports(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    for transports in [json!(["carrier-pigeon"]), json!(["websocket_tls", "tcp_tls", "quic"])] {
        let answer = call(cx, "POST", "/v1/login", None, json!({"user_name": alice.name, "password": alice.password, "device_id": "d1", "transports": transports})).await?;
        // A deployment with TLS endpoints may well offer the second list.
        if answer.status == 200 && transports.as_array().is_some_and(|t| t.len() > 1) {
            continue;
        }
        let requirement =
            if transports.as_array().is_some_and(|t| t.len() == 1) { "CIM-14.2-8" } else { "CIM-14.2-2" };
        refused(requirement, &answer, 503, "UNAVAILABLE", &format!("transports {transports}"))?;
    }
    Ok(())
}

async fn token_claims(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let first = cx.login(&alice, "phone").await?;
    let second = cx.login(&alice, "phone").await?;
    let parts: Vec<&str> = first.token.split('.').collect();
    if parts.len() != 3 || parts[0] != "v1" {
        return Err(Stop::NotApplicable("the route's tokens are not in the reference format of §5.5".into()));
    }
    let claims = |token: &str| -> Option<Value> {
        let payload = token.split('.').nth(1)?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    };
    let (Some(a), Some(b)) = (claims(&first.token), claims(&second.token)) else {
        return Err(fail(
            "CIM-5.5-2",
            "a payload that is base64url JSON",
            first.token.chars().take(40).collect::<String>(),
        ));
    };
    check(
        "CIM-5.5-2",
        a["sub"] == json!(alice.id)
            && a["dev"] == json!("phone")
            && a["lid"].is_string()
            && a["iat"].is_u64()
            && a["exp"].as_u64() == Some(first.token_expires_at_ms),
        "sub, dev, lid, integer iat, and exp equal to token_expires_at_ms",
        || a.to_string(),
    )?;
    let (lid_a, lid_b) = (a["lid"].as_str().unwrap_or_default(), b["lid"].as_str().unwrap_or_default());
    // 128 bits are at least 22 characters of base64 or 32 of hex.
    check(
        "CIM-5.5-3",
        lid_a != lid_b && lid_a.len() >= 22,
        "a new lid of at least 128 bits for each login",
        || format!("{lid_a:?} and {lid_b:?}"),
    )?;
    if let Some(secret) = cx.target.token_secret.clone() {
        use hmac::Mac as _;
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
            return Ok(());
        };
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        let expected = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        check(
            "CIM-5.1-1",
            expected == parts[2],
            "a signature made with the deployment's token secret",
            || "another signature".into(),
        )?;
    }
    Ok(())
}

async fn credentials(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let none = cx.route.call_raw("GET", "/v1/groups", &[], None).await.map_err(env)?;
    refused("CIM-14.1-1", &none, 401, "UNAUTHENTICATED", "no Authorization header")?;
    let garbage = cx
        .route
        .call_raw("GET", "/v1/groups", &[("authorization", "Bearer not-a-token")], None)
        .await
        .map_err(env)?;
    refused("CIM-14.1-1", &garbage, 401, "UNAUTHENTICATED", "a token that is not one")?;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let header = format!("{scheme} {}", login.token);
        let answer =
            cx.route.call_raw("GET", "/v1/groups", &[("authorization", &header)], None).await.map_err(env)?;
        check("CIM-14.4-7", answer.status == 200, format!("200 with the scheme written {scheme:?}"), || {
            format!("HTTP {} {}", answer.status, answer.text)
        })?;
    }
    Ok(())
}

async fn logout(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut phone = cx.open(&alice, "phone").await?;
    let mut laptop = cx.open(&alice, "laptop").await?;
    let answer = cx
        .route
        .call_raw(
            "POST",
            "/v1/logout",
            &[("authorization", &format!("Bearer {}", phone.login.token))],
            Some(r#"{"all_devices": true}"#.into()),
        )
        .await
        .map_err(env)?;
    check("CIM-14.4-14", answer.status == 204 && answer.text.is_empty(), "204 without a body", || {
        format!("HTTP {} {:?}", answer.status, answer.text)
    })?;
    let wait = cx.wait(std::time::Duration::from_secs(5));
    for session in [&mut phone, &mut laptop] {
        let reason = crate::case::expect_go_away(
            &mut session.conn,
            "CIM-14.2-4",
            &format!("GoAway LOGGED_OUT on the {} session", session.device),
            wait,
        )
        .await?;
        check("CIM-14.2-4", reason == 4, "GoAway reason LOGGED_OUT (4)", || format!("reason {reason}"))?;
    }
    Ok(())
}

async fn json_binding(cx: &mut Cx) -> Result<(), Stop> {
    let name = cx.name("json");
    // Unknown members are ignored; a null member is its empty value.
    let answer = call(
        cx,
        "POST",
        "/v1/register",
        None,
        json!({"user_name": name, "password": "password-1", "nickname": "x", "extra": null}),
    )
    .await?;
    check("CIM-14.4-4", answer.status == 201, "201: unknown members ignored", || {
        format!("HTTP {} {}", answer.status, answer.text)
    })?;
    check(
        "CIM-14.4-1",
        answer.content_type.starts_with("application/json"),
        "Content-Type: application/json",
        || answer.content_type.clone(),
    )?;
    let login = call(
        cx,
        "POST",
        "/v1/login",
        None,
        json!({"user_name": name, "password": "password-1", "device_id": "d1", "transports": null}),
    )
    .await?;
    check("CIM-14.4-3", login.status == 200, "200: a null transports is the empty list", || {
        format!("HTTP {} {}", login.status, login.text)
    })?;
    check(
        "CIM-14.4-2",
        login.body["token_expires_at_ms"].is_u64()
            && login.body["server"]["tcp_tls"].is_boolean()
            && login.body.get("tokenExpiresAtMs").is_none(),
        "field names of route.proto, 64-bit numbers as JSON numbers, booleans as booleans",
        || login.text.clone(),
    )?;
    let token = login.body["token"].as_str().unwrap_or_default().to_owned();
    // A Logout without a body is the empty object.
    let logout = cx
        .route
        .call_raw("POST", "/v1/logout", &[("authorization", &format!("Bearer {token}"))], None)
        .await
        .map_err(env)?;
    check("CIM-14.4-3", logout.status == 204, "204 for a Logout without a body", || {
        format!("HTTP {} {}", logout.status, logout.text)
    })?;
    let bad = [
        ("not json at all".to_owned(), "a body that is not JSON"),
        ("[1, 2]".to_owned(), "a JSON array"),
        (json!({"user_name": 5, "password": "password-1"}).to_string(), "user_name as a number"),
        (
            json!({"user_name": cx.name("typed"), "password": ["password-1"]}).to_string(),
            "password as a list",
        ),
    ];
    for (body, what) in bad {
        let answer = cx.route.call_raw("POST", "/v1/register", &[], Some(body)).await.map_err(env)?;
        refused("CIM-14.4-5", &answer, 400, "INVALID_FIELD", what)?;
    }
    Ok(())
}

async fn users_by_prefix(cx: &mut Cx) -> Result<(), Stop> {
    let mut users: Vec<User> = Vec::new();
    for short in ["ub", "ua", "uc-1", "uc-2"] {
        users.push(cx.user(short).await?);
    }
    let names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    let token = cx.login(&users[0], "d1").await?.token;
    let prefix = cx.name("u");
    let answer =
        call(cx, "GET", &format!("/v1/users?prefix={prefix}&limit=3"), Some(&token), Value::Null).await?;
    let got: Vec<String> = answer.body["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["user_name"].as_str().map(str::to_owned))
        .collect();
    let mut want: Vec<String> = names.clone();
    want.sort();
    want.truncate(3);
    check(
        "CIM-14.4-18",
        got == want,
        format!("the first 3 names with the prefix in byte order: {want:?}"),
        || answer.text.clone(),
    )?;
    check(
        "CIM-14.4-17",
        answer.status == 200
            && answer.body["users"][0].get("online").is_some()
            && answer.body["users"][0].get("user_id").is_some(),
        "200 with users holding user_id, user_name and online",
        || answer.text.clone(),
    )?;
    let bad =
        call(cx, "GET", &format!("/v1/users?prefix={prefix}&limit=many"), Some(&token), Value::Null).await?;
    refused("CIM-14.4-5", &bad, 400, "INVALID_FIELD", "a limit that is not a number")
}

async fn users_by_name(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    // A longer name that starts with alice's: a prefix match would return it too.
    let _alicia = cx.user("alice2").await?;
    let token = cx.login(&alice, "d1").await?.token;
    let answer =
        call(cx, "GET", &format!("/v1/users/by-name/{}", alice.name), Some(&token), Value::Null).await?;
    check(
        "CIM-14.4-39",
        answer.status == 200 && answer.body["users"][0].get("online").is_some(),
        "200 with users holding user_id, user_name and online",
        || format!("HTTP {} {}", answer.status, answer.text),
    )?;
    let found: Vec<(&str, &str)> = answer.body["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| Some((u["user_id"].as_str()?, u["user_name"].as_str()?)))
        .collect();
    check(
        "CIM-14.4-40",
        found == [(alice.id.as_str(), alice.name.as_str())],
        format!("exactly alice: [({:?}, {:?})]", alice.id, alice.name),
        || answer.text.clone(),
    )?;
    let nobody =
        call(cx, "GET", &format!("/v1/users/by-name/{}", cx.name("nobody")), Some(&token), Value::Null)
            .await?;
    check(
        "CIM-14.4-40",
        nobody.status == 200 && nobody.body["users"].as_array().is_some_and(Vec::is_empty),
        "200 with an empty list for a name nobody has",
        || format!("HTTP {} {}", nobody.status, nobody.text),
    )?;
    let anonymous = call(cx, "GET", &format!("/v1/users/by-name/{}", alice.name), None, Value::Null).await?;
    refused("CIM-14.1-1", &anonymous, 401, "UNAUTHENTICATED", "UsersByName without a token")
}

async fn online(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let a = cx.open(&alice, "d1").await?;
    let _b = cx.open(&bob, "d1").await?;
    // Walk every page, one user at a time, until alice and bob have both been seen.
    let mut seen = Vec::new();
    let mut page_token = String::new();
    for _ in 0..10_000 {
        let answer = call(
            cx,
            "GET",
            &format!("/v1/online?page_size=1&page_token={page_token}"),
            Some(&a.login.token),
            Value::Null,
        )
        .await?;
        check(
            "CIM-14.4-15",
            answer.status == 200 && answer.body.get("total_online").is_some_and(Value::is_u64),
            "200 with users, next_page_token and total_online",
            || answer.text.clone(),
        )?;
        let users = answer.body["users"].as_array().cloned().unwrap_or_default();
        check("CIM-14.7-1", users.len() <= 1, "at most page_size (1) users", || {
            format!("{} users", users.len())
        })?;
        for user in &users {
            check("CIM-14.4-16", user["online"] == json!(true), "online true for every listed user", || {
                user.to_string()
            })?;
            seen.push(user["user_id"].as_str().unwrap_or_default().to_owned());
        }
        page_token = answer.body["next_page_token"].as_str().unwrap_or_default().to_owned();
        if page_token.is_empty() {
            break;
        }
    }
    check(
        "CIM-14.7-2",
        seen.contains(&alice.id) && seen.contains(&bob.id),
        "every online user on some page, with next_page_token set until the last",
        || format!("{} users seen", seen.len()),
    )?;
    let bad =
        call(cx, "GET", "/v1/online?page_token=%00%01garbage", Some(&a.login.token), Value::Null).await?;
    refused("CIM-14.7-4", &bad, 400, "INVALID_FIELD", "a page token the route did not issue")
}

async fn groups(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let carol = cx.user("carol").await?;
    let a = cx.login(&alice, "d1").await?;
    let b = cx.login(&bob, "d1").await?;
    let c = cx.login(&carol, "d1").await?;
    let group = cx.name("team");
    // Alice cannot make bob a member: he has to join himself, and nothing is created.
    let imposed = call(
        cx,
        "POST",
        "/v1/groups",
        Some(&a.token),
        json!({"group_id": group, "member_user_ids": [bob.id, bob.id, alice.id]}),
    )
    .await?;
    refused("CIM-14.4-38", &imposed, 403, "FORBIDDEN", "a CreateGroup that lists another user")?;
    let created = call(
        cx,
        "POST",
        "/v1/groups",
        Some(&a.token),
        json!({"group_id": group, "member_user_ids": [alice.id, alice.id]}),
    )
    .await?;
    check(
        "CIM-14.4-19",
        created.status == 201 && created.body["group"]["group_id"] == json!(group),
        "201 with the group (the refused CreateGroup created nothing)",
        || created.text.clone(),
    )?;
    check(
        "CIM-14.4-20",
        created.body["group"]["member_count"] == json!(1),
        "1 member: the caller, listed twice, counted once",
        || created.text.clone(),
    )?;
    let joined = call(cx, "POST", &format!("/v1/groups/{group}/join"), Some(&b.token), Value::Null).await?;
    check(
        "CIM-14.4-23",
        joined.status == 200 && joined.body["group"]["member_count"] == json!(2),
        "200 with 2 members after bob joins",
        || joined.text.clone(),
    )?;
    let joined = call(cx, "POST", &format!("/v1/groups/{group}/join"), Some(&c.token), Value::Null).await?;
    check(
        "CIM-14.4-23",
        joined.status == 200 && joined.body["group"]["member_count"] == json!(3),
        "200 with 3 members after carol joins",
        || joined.text.clone(),
    )?;
    let again = call(cx, "POST", &format!("/v1/groups/{group}/join"), Some(&c.token), Value::Null).await?;
    check(
        "CIM-14.4-25",
        again.status == 200 && again.body["group"]["member_count"] == json!(3),
        "joining again changes nothing",
        || again.text.clone(),
    )?;
    let members =
        call(cx, "GET", &format!("/v1/groups/{group}/members"), Some(&c.token), Value::Null).await?;
    let mut ids: Vec<&str> = members.body["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["user_id"].as_str())
        .collect();
    ids.sort();
    let mut want = vec![alice.id.as_str(), bob.id.as_str(), carol.id.as_str()];
    want.sort();
    check("CIM-14.4-26", members.status == 200 && ids == want, format!("200 with members {want:?}"), || {
        members.text.clone()
    })?;
    let left = call(cx, "POST", &format!("/v1/groups/{group}/leave"), Some(&c.token), Value::Null).await?;
    check(
        "CIM-14.4-23",
        left.status == 200 && left.body["group"]["member_count"] == json!(2),
        "200 with 2 members after carol leaves",
        || left.text.clone(),
    )?;
    let left_again =
        call(cx, "POST", &format!("/v1/groups/{group}/leave"), Some(&c.token), Value::Null).await?;
    check(
        "CIM-14.4-25",
        left_again.status == 200 && left_again.body["group"]["member_count"] == json!(2),
        "leaving again changes nothing",
        || left_again.text.clone(),
    )?;
    let mine = call(cx, "GET", "/v1/groups", Some(&a.token), Value::Null).await?;
    let listed = mine.body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|g| g["group_id"] == json!(group) && g["member_count"] == json!(2));
    check("CIM-14.4-28", mine.status == 200 && listed, "200 with the group and its member_count", || {
        mine.text.clone()
    })
}

async fn group_errors(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let carol = cx.user("carol").await?;
    let a = cx.login(&alice, "d1").await?;
    let c = cx.login(&carol, "d1").await?;
    let long = "g".repeat(129);
    for (bad, what) in [
        ("", "an empty id"),
        (".", "\".\""),
        ("..", "\"..\""),
        ("a b", "a space"),
        (long.as_str(), "129 bytes"),
    ] {
        let answer =
            call(cx, "POST", "/v1/groups", Some(&a.token), json!({"group_id": bad, "member_user_ids": []}))
                .await?;
        refused("CIM-14.4-21", &answer, 400, "INVALID_FIELD", &format!("group_id with {what}"))?;
    }
    let group = cx.name("g");
    let nobody = cx.name("nobody");
    let answer = call(
        cx,
        "POST",
        "/v1/groups",
        Some(&a.token),
        json!({"group_id": group, "member_user_ids": [nobody]}),
    )
    .await?;
    refused("CIM-14.4-22", &answer, 404, "NOT_FOUND", "a member who does not exist")?;
    // Nothing was created: the same id is free.
    let created =
        call(cx, "POST", "/v1/groups", Some(&a.token), json!({"group_id": group, "member_user_ids": []}))
            .await?;
    check("CIM-14.4-22", created.status == 201, "201: the failed CreateGroup created nothing", || {
        format!("HTTP {} {}", created.status, created.text)
    })?;
    let taken =
        call(cx, "POST", "/v1/groups", Some(&c.token), json!({"group_id": group, "member_user_ids": []}))
            .await?;
    refused("CIM-14.4-22", &taken, 409, "ALREADY_EXISTS", "a taken group_id")?;
    let missing = cx.name("missing");
    for path in [format!("/v1/groups/{missing}/join"), format!("/v1/groups/{missing}/leave")] {
        let answer = call(cx, "POST", &path, Some(&a.token), Value::Null).await?;
        refused("CIM-14.4-24", &answer, 404, "NOT_FOUND", "a group that does not exist")?;
    }
    let answer =
        call(cx, "GET", &format!("/v1/groups/{missing}/members"), Some(&a.token), Value::Null).await?;
    refused("CIM-14.4-24", &answer, 404, "NOT_FOUND", "members of a group that does not exist")?;
    let answer = call(cx, "GET", &format!("/v1/groups/{group}/members"), Some(&c.token), Value::Null).await?;
    refused("CIM-14.4-27", &answer, 403, "FORBIDDEN", "members asked by a non-member")
}

fn api_key(cx: &Cx) -> Result<String, Stop> {
    cx.target
        .api_key
        .clone()
        .ok_or_else(|| Stop::NotApplicable("needs the deployment's API key (--api-key)".into()))
}

async fn push_call(cx: &Cx, key: Option<&str>, body: Value) -> Result<Answer, Stop> {
    let headers: Vec<(&str, &str)> = key.map(|k| ("x-cim-api-key", k)).into_iter().collect();
    cx.route.call_raw("POST", "/v1/push", &headers, Some(body.to_string())).await.map_err(env)
}

async fn push(cx: &mut Cx) -> Result<(), Stop> {
    let key = api_key(cx)?;
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let mut b = cx.open(&bob, "d1").await?;
    let id = cx.client_msg_id();
    let body = json!({"to": {"user_id": bob.id}, "from_user_id": alice.id, "content_type": "text/plain", "body": "build is green", "client_msg_id": id});
    let unauthorised = push_call(cx, None, body.clone()).await?;
    refused("CIM-14.1-2", &unauthorised, 401, "UNAUTHENTICATED", "Push without an API key")?;
    let wrong = push_call(cx, Some("not-the-key"), body.clone()).await?;
    refused("CIM-14.1-2", &wrong, 401, "UNAUTHENTICATED", "Push with a wrong API key")?;
    let answer = push_call(cx, Some(&key), body.clone()).await?;
    check(
        "CIM-14.4-29",
        answer.status == 200
            && answer.body["message_id"].is_string()
            && answer.body["sent_at_ms"].is_u64()
            && answer.body["duplicate"] == json!(false)
            && answer.body["live_only"] == json!(false),
        "200 with message_id, sent_at_ms, duplicate false and live_only false",
        || answer.text.clone(),
    )?;
    let wait = cx.answer_wait();
    let d = expect_deliver(&mut b.conn, "CIM-14.3-1", "the pushed message, as if alice had sent it", wait)
        .await?;
    check(
        "CIM-14.3-1",
        d.from_user_id == alice.id
            && d.body.as_ref() == b"build is green"
            && answer.body["message_id"] == json!(d.message_id),
        "from alice, the body as given, the message_id of the PushResponse",
        || format!("{d:?}"),
    )?;
    let again = push_call(cx, Some(&key), body).await?;
    check(
        "CIM-14.3-1",
        again.body["duplicate"] == json!(true) && again.body["message_id"] == answer.body["message_id"],
        "a repeated client_msg_id is a duplicate",
        || again.text.clone(),
    )?;
    let binary = [0u8, 159, 146, 150, 255];
    let id = cx.client_msg_id();
    let answer = push_call(cx, Some(&key), json!({"to": {"user_id": bob.id}, "from_user_id": alice.id, "content_type": "application/octet-stream", "body_base64": STANDARD.encode(binary), "client_msg_id": id})).await?;
    check("CIM-14.4-29", answer.status == 200, "200 for a body_base64 Push", || answer.text.clone())?;
    let d = expect_deliver(&mut b.conn, "CIM-14.4-30", "the base64 message", wait).await?;
    check("CIM-14.4-30", d.body.as_ref() == binary, "the bytes body_base64 encodes", || {
        format!("{:?}", d.body)
    })
}

async fn push_dedupe_first(cx: &mut Cx) -> Result<(), Stop> {
    let key = api_key(cx)?;
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let id = cx.client_msg_id();
    let push = |body: &str| json!({"to": {"user_id": bob.id}, "from_user_id": alice.id, "content_type": "text/plain", "body": body, "client_msg_id": id});
    let first = push_call(cx, Some(&key), push("short")).await?;
    check("CIM-14.3-1", first.status == 200, "200 for a Push", || first.text.clone())?;
    // Larger than any server's max_body_size may be (§10.1).
    let again = push_call(cx, Some(&key), push(&"x".repeat(61_441))).await?;
    check(
        "CIM-14.3-3",
        again.status == 200
            && again.body["duplicate"] == json!(true)
            && again.body["message_id"] == first.body["message_id"],
        "200, duplicate true with the first message_id (deduplication before the body size)",
        || again.text.clone(),
    )?;
    let other = cx.client_msg_id();
    let big = json!({"to": {"user_id": bob.id}, "from_user_id": alice.id, "content_type": "text/plain", "body": "x".repeat(61_441), "client_msg_id": other});
    let refused_big = push_call(cx, Some(&key), big).await?;
    refused("CIM-14.3-1", &refused_big, 413, "BODY_TOO_LARGE", "a new Push with a body over the limit")
}

async fn push_errors(cx: &mut Cx) -> Result<(), Stop> {
    let key = api_key(cx)?;
    let alice = cx.user("alice").await?;
    let base = |to: Value, id: &str| json!({"to": to, "from_user_id": alice.id, "content_type": "text/plain", "body": "x", "client_msg_id": id});
    let bads = [
        (base(json!({}), "p1"), "an empty to"),
        (base(json!({"user_id": alice.id, "group_id": "g"}), "p2"), "two recipients"),
        (base(json!({"everyone": false}), "p3"), "everyone false"),
        (
            json!({"to": {"user_id": alice.id}, "from_user_id": alice.id, "content_type": "text/plain", "client_msg_id": "p4"}),
            "no body",
        ),
        (
            json!({"to": {"user_id": alice.id}, "from_user_id": alice.id, "body": "x", "body_base64": "eA==", "client_msg_id": "p5"}),
            "body and body_base64",
        ),
        (
            json!({"to": {"user_id": alice.id}, "from_user_id": alice.id, "body_base64": "***", "client_msg_id": "p6"}),
            "body_base64 that is not base64",
        ),
    ];
    for (body, what) in bads {
        let answer = push_call(cx, Some(&key), body).await?;
        refused("CIM-14.4-31", &answer, 400, "INVALID_FIELD", what)?;
    }
    let nobody = cx.name("nobody");
    let answer = push_call(
        cx,
        Some(&key),
        json!({"to": {"user_id": alice.id}, "from_user_id": nobody, "body": "x", "client_msg_id": "p7"}),
    )
    .await?;
    refused("CIM-14.3-2", &answer, 404, "NOT_FOUND", "a from_user_id that names no user")
}

async fn servers(cx: &mut Cx) -> Result<(), Stop> {
    let key = api_key(cx)?;
    let none = cx.route.call_raw("GET", "/v1/servers", &[], None).await.map_err(env)?;
    refused("CIM-14.1-2", &none, 401, "UNAUTHENTICATED", "Servers without an API key")?;
    let answer =
        cx.route.call_raw("GET", "/v1/servers", &[("x-cim-api-key", &key)], None).await.map_err(env)?;
    let list = answer.body["servers"].as_array().cloned().unwrap_or_default();
    check(
        "CIM-14.4-32",
        answer.status == 200
            && !list.is_empty()
            && list.iter().all(|s| {
                s.get("internal_endpoint").is_some_and(Value::is_string) && s.get("server_id").is_some()
            }),
        "200 with servers, each with server_id and internal_endpoint",
        || answer.text.clone(),
    )
}

async fn health(cx: &mut Cx) -> Result<(), Stop> {
    let answer = cx.route.call_raw("GET", "/healthz", &[], None).await.map_err(env)?;
    let ok = answer.body["ok"].as_bool();
    check(
        "CIM-14.4-33",
        answer.body["version"].is_string() && answer.body["checks"].is_array() && ok.is_some(),
        "a body with ok, version and checks",
        || answer.text.clone(),
    )?;
    check(
        "CIM-14.4-33",
        (answer.status == 200) == (ok == Some(true)) && matches!(answer.status, 200 | 503),
        "200 when ok, 503 when not",
        || format!("HTTP {} {}", answer.status, answer.text),
    )
}

fn jwt(secret: &str, header: &Value, claims: &Value) -> String {
    use hmac::Mac as _;
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { return signed };
    mac.update(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

async fn jwt_login(cx: &mut Cx) -> Result<(), Stop> {
    let secret = cx
        .target
        .jwt_secret
        .clone()
        .ok_or_else(|| Stop::NotApplicable("needs the app backend's JWT secret (--jwt-secret)".into()))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let sub = cx.name("jwt-user");
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let good = jwt(&secret, &hs256, &json!({"sub": sub, "name": sub, "exp": now + 600}));
    let answer = call(cx, "POST", "/v1/login", None, json!({"jwt": good, "device_id": "d1"})).await?;
    check(
        "CIM-5.3-2",
        answer.status == 200 && answer.body["user_id"] == json!(sub),
        format!("200 with user_id {sub:?}, the JWT's sub"),
        || answer.text.clone(),
    )?;
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
        URL_SAFE_NO_PAD.encode(json!({"sub": sub, "exp": now + 600}).to_string())
    );
    let bads = [
        (unsigned, "alg none"),
        (
            jwt(&secret, &json!({"alg": "HS512", "typ": "JWT"}), &json!({"sub": sub, "exp": now + 600})),
            "alg HS512",
        ),
        (
            jwt("another-secret-another-secret-xx", &hs256, &json!({"sub": sub, "exp": now + 600})),
            "another secret",
        ),
        (jwt(&secret, &hs256, &json!({"sub": sub})), "no exp"),
        (jwt(&secret, &hs256, &json!({"sub": sub, "exp": now - 600})), "exp in the past"),
        (jwt(&secret, &hs256, &json!({"sub": sub, "exp": now + 600, "nbf": now + 300})), "nbf in the future"),
    ];
    for (token, what) in bads {
        let answer = call(cx, "POST", "/v1/login", None, json!({"jwt": token, "device_id": "d1"})).await?;
        refused("CIM-5.3-1", &answer, 401, "INVALID_CREDENTIALS", &format!("a JWT with {what}"))?;
    }
    Ok(())
}

async fn rate_limit(cx: &mut Cx) -> Result<(), Stop> {
    cx.transcript.expect_rate_limits();
    // Failed logins are what a route would limit first; they are also cheap for it.
    let nobody = cx.name("nobody");
    let body = json!({"user_name": nobody, "password": "not-a-password", "device_id": "d1"}).to_string();
    for _ in 0..300 {
        let answer = cx.route.call_raw("POST", "/v1/login", &[], Some(body.clone())).await.map_err(env)?;
        if answer.status == 429 || answer.code() == Some(u64::from(crate::spec::code("RATE_LIMITED"))) {
            refused("CIM-14.6-4", &answer, 429, "RATE_LIMITED", "a rate-limited call")?;
            let retry_after = answer.retry_after;
            return check(
                "CIM-14.6-4",
                retry_after.as_deref().is_some_and(|s| s.parse::<u64>().is_ok()),
                "a Retry-After header of whole seconds",
                || format!("{retry_after:?}"),
            );
        }
    }
    Err(Stop::NotApplicable("the route did not rate-limit 300 failed logins in a row".into()))
}

async fn jwt_accounts_apart(cx: &mut Cx) -> Result<(), Stop> {
    let secret = cx
        .target
        .jwt_secret
        .clone()
        .ok_or_else(|| Stop::NotApplicable("needs the app backend's JWT secret (--jwt-secret)".into()))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    // An account a JWT login created has no password: none logs in to it, not even an empty one.
    let sub = cx.name("app-user");
    let token = jwt(&secret, &hs256, &json!({"sub": sub, "exp": now + 600}));
    let answer = call(cx, "POST", "/v1/login", None, json!({"jwt": token, "device_id": "d1"})).await?;
    let user_id = answer.body["user_id"].as_str().unwrap_or_default().to_owned();
    check("CIM-5.3-2", answer.status == 200, "the JWT login succeeds", || answer.text.clone())?;
    for password in ["", "password-1", &sub] {
        let answer = call(
            cx,
            "POST",
            "/v1/login",
            None,
            json!({"user_name": user_id, "password": password, "device_id": "d1"}),
        )
        .await?;
        refused(
            "CIM-5.3-5",
            &answer,
            401,
            "INVALID_CREDENTIALS",
            "a password login to a JWT login's account",
        )?;
    }
    // A registered account is not entered with a JWT naming it: whoever registered the name
    // first would read that app user's messages.
    let name = cx.name("squatter");
    let registered =
        call(cx, "POST", "/v1/register", None, json!({"user_name": name, "password": "password-1"})).await?;
    if registered.status == 403 {
        cx.note("Register is closed on this route; only the JWT side was checked");
        return Ok(());
    }
    let registered_id = registered.body["user_id"].as_str().unwrap_or_default().to_owned();
    check("CIM-14.4-8", registered.status == 201, "201 for a new user name", || registered.text.clone())?;
    let token = jwt(&secret, &hs256, &json!({"sub": registered_id, "exp": now + 600}));
    let answer = call(cx, "POST", "/v1/login", None, json!({"jwt": token, "device_id": "d1"})).await?;
    let entered = answer.status == 200 && answer.body["user_id"] == json!(registered_id);
    check(
        "CIM-5.3-4",
        !entered,
        format!("a JWT whose sub is {registered_id:?} does not log in to the account Register created"),
        || answer.text.clone(),
    )?;
    refused("CIM-5.3-4", &answer, 401, "INVALID_CREDENTIALS", "a JWT naming a registered account")
}

async fn register_dot_names(cx: &mut Cx) -> Result<(), Stop> {
    for dots in [".", ".."] {
        let answer =
            call(cx, "POST", "/v1/register", None, json!({"user_name": dots, "password": "password-1"}))
                .await?;
        if answer.status == 403 {
            return Err(Stop::NotApplicable("Register is closed on this route".into()));
        }
        refused("CIM-14.4-36", &answer, 400, "INVALID_FIELD", &format!("the user name {dots:?}"))?;
    }
    Ok(())
}

async fn content_type(cx: &mut Cx) -> Result<(), Stop> {
    for (content_type, what) in [
        (Some("text/plain"), "text/plain, as a cross-site form or fetch sends it"),
        (Some("application/x-www-form-urlencoded"), "a form's type"),
        (None, "no Content-Type"),
    ] {
        let name = cx.name("ctype");
        let body = json!({"user_name": name, "password": "password-1"}).to_string();
        let headers: Vec<(&str, &str)> = content_type.map(|t| ("content-type", t)).into_iter().collect();
        let answer = if content_type.is_none() {
            cx.route.call_without_content_type("POST", "/v1/register", body).await.map_err(env)?
        } else {
            cx.route.call_raw("POST", "/v1/register", &headers, Some(body)).await.map_err(env)?
        };
        refused("CIM-14.4-37", &answer, 400, "INVALID_FIELD", &format!("a JSON body sent with {what}"))?;
        // Refused before acting: the account does not exist.
        let again = call(
            cx,
            "POST",
            "/v1/login",
            None,
            json!({"user_name": name, "password": "password-1", "device_id": "d1"}),
        )
        .await?;
        check(
            "CIM-14.4-37",
            again.status == 401,
            format!("no account was created by the request with {what}"),
            || format!("a login as {name} answered HTTP {}", again.status),
        )?;
    }
    let name = cx.name("ctype");
    let body = json!({"user_name": name, "password": "password-1"}).to_string();
    let answer = cx
        .route
        .call_raw("POST", "/v1/register", &[("content-type", "application/json; charset=utf-8")], Some(body))
        .await
        .map_err(env)?;
    if answer.status == 403 {
        return Ok(()); // registration closed: the refusals above are what counts
    }
    check(
        "CIM-14.4-37",
        answer.status == 201,
        "application/json with a charset parameter is accepted",
        || format!("HTTP {} {}", answer.status, answer.text),
    )
}

async fn slow_request(cx: &mut Cx) -> Result<(), Stop> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let Some(authority) = cx.target.route.strip_prefix("http://") else {
        return Err(Stop::NotApplicable("needs a route URL of the form http://host:port".into()));
    };
    let authority = authority.trim_end_matches('/').to_owned();
    let connect = || async {
        tokio::net::TcpStream::connect(&authority)
            .await
            .map_err(|e| Stop::Error(format!("cannot connect to {authority}: {e}")))
    };
    let mut silent = connect().await?;
    let mut dripping = connect().await?;
    cx.note(format!(
        "opened two connections to {authority}: one sends nothing, one a request head a byte every 500 ms"
    ));
    let limit = cx.wait(std::time::Duration::from_secs(65));
    let started = std::time::Instant::now();
    let head = format!("GET /healthz HTTP/1.1\r\nHost: {authority}\r\nX-Slow: ");
    let drip = async {
        let mut bytes = head.bytes().chain(std::iter::repeat(b'a'));
        loop {
            let byte = bytes.next().unwrap_or(b'a');
            if dripping.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            // A closed connection shows on the read side; skip anything it answered.
            let mut buf = [0u8; 512];
            if let Ok(Ok(0) | Err(_)) =
                tokio::time::timeout(std::time::Duration::from_millis(1), dripping.read(&mut buf)).await
            {
                return;
            }
        }
    };
    let dripped = tokio::time::timeout(limit, drip).await.is_ok();
    cx.note(format!("the dripping connection was closed after {:?}", started.elapsed()));
    check("CIM-16-8", dripped, "a connection dripping its request head is closed within 60 s", || {
        format!("still open after {:?}", started.elapsed())
    })?;
    let wait = limit.saturating_sub(started.elapsed());
    let mut buf = [0u8; 512];
    let closed = async {
        loop {
            match silent.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let closed = tokio::time::timeout(wait, closed).await.is_ok();
    check("CIM-16-8", closed, "a connection that sends nothing is closed within 60 s", || {
        format!("still open after {:?}", started.elapsed())
    })
}

async fn http_errors(cx: &mut Cx) -> Result<(), Stop> {
    let unknown = cx.route.call_raw("GET", "/v1/no-such-operation", &[], None).await.map_err(env)?;
    refused("CIM-14.6-9", &unknown, 404, "NOT_FOUND", "a path the route does not serve")?;
    let wrong = cx.route.call_raw("GET", "/v1/register", &[], None).await.map_err(env)?;
    check(
        "CIM-14.6-9",
        wrong.status == 405 && wrong.code() == Some(u64::from(crate::spec::code("INVALID_FIELD"))),
        "405 with code INVALID_FIELD for GET on Register",
        || format!("HTTP {} {}", wrong.status, wrong.text),
    )?;
    check("CIM-14.6-9", wrong.allow.is_some(), "an Allow header with the 405", || "none".into())?;
    // Far over any body an operation takes (a Push of the largest message is under 90 kB):
    // announced, not sent, since a route may rightly answer and close before reading it.
    let head = oversized_request_answer(cx).await?;
    check(
        "CIM-14.6-1",
        head.starts_with("HTTP/1.1 4") && head.contains("\"code\""),
        "a request announcing a 4 MiB body refused with a JSON error body (413 BODY_TOO_LARGE)",
        || head.chars().take(300).collect(),
    )?;
    // A JSON array is not read member by member as the operation's fields.
    let array = json!([cx.name("arr"), "password-1"]).to_string();
    let answer = cx.route.call_raw("POST", "/v1/register", &[], Some(array)).await.map_err(env)?;
    refused(
        "CIM-14.4-5",
        &answer,
        400,
        "INVALID_FIELD",
        "a JSON array of the right types as a Register body",
    )?;
    let anonymous = cx.route.call_raw("GET", "/v1/groups", &[], None).await.map_err(env)?;
    check(
        "CIM-14.6-10",
        anonymous.www_authenticate.as_deref().is_some_and(|v| v.to_ascii_lowercase().starts_with("bearer")),
        "WWW-Authenticate: Bearer with the 401",
        || format!("{:?}", anonymous.www_authenticate),
    )
}

/// What the route answers, in the first few kilobytes, to a Register whose headers announce a
/// body of 4 MiB that never comes.
async fn oversized_request_answer(cx: &Cx) -> Result<String, Stop> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let Some(authority) = cx.target.route.strip_prefix("http://") else {
        return Err(Stop::NotApplicable("needs a route URL of the form http://host:port".into()));
    };
    let authority = authority.trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| Stop::Error(format!("cannot connect to {authority}: {e}")))?;
    let request = format!(
        "POST /v1/register HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
        4 << 20
    );
    stream.write_all(request.as_bytes()).await.map_err(|e| Stop::Error(e.to_string()))?;
    cx.note(format!("POST /v1/register announcing a body of {} bytes, sending one", 4 << 20));
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        while answer.len() < 8192 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if String::from_utf8_lossy(&answer).contains("\"message\"") {
                        break;
                    }
                }
            }
        }
    };
    let _ = tokio::time::timeout(cx.answer_wait(), read).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    cx.note(format!("-> {}", text.lines().next().unwrap_or("no answer")));
    Ok(text)
}

/// An origin no operator allows: the `.invalid` top-level domain cannot exist (RFC 2606).
const FOREIGN_ORIGIN: &str = "https://cim-conformance.invalid";

async fn cors_closed(cx: &mut Cx) -> Result<(), Stop> {
    let preflight = |path: &'static str| {
        let headers = [("origin", FOREIGN_ORIGIN), ("access-control-request-method", "POST")];
        let route = &cx.route;
        async move { route.call_raw("OPTIONS", path, &headers, None).await.map_err(env) }
    };
    for path in ["/v1/login", "/v1/register", "/v1/push", "/v1/servers"] {
        let answer = preflight(path).await?;
        refused(
            "CIM-14.4-45",
            &answer,
            403,
            "FORBIDDEN",
            &format!("a preflight of {path} from {FOREIGN_ORIGIN}"),
        )?;
        check(
            "CIM-14.4-44",
            answer.allow_credentials.is_none(),
            "no Access-Control-Allow-Credentials",
            || {
                format!(
                    "Access-Control-Allow-Credentials: {}",
                    answer.allow_credentials.as_deref().unwrap_or_default()
                )
            },
        )?;
        check(
            "CIM-14.4-43",
            answer.allow_origin.is_none(),
            format!("no Access-Control-Allow-Origin for {FOREIGN_ORIGIN}"),
            || format!("Access-Control-Allow-Origin: {}", answer.allow_origin.as_deref().unwrap_or_default()),
        )?;
    }
    // A request a page may send without asking first: its answer must not be readable there.
    let name = cx.name("cors");
    let body = json!({"user_name": name, "password": "password-1", "device_id": "d1"}).to_string();
    let answer = cx
        .route
        .call_raw(
            "POST",
            "/v1/login",
            &[("origin", FOREIGN_ORIGIN), ("content-type", "application/json")],
            Some(body),
        )
        .await
        .map_err(env)?;
    check(
        "CIM-14.4-43",
        answer.allow_origin.is_none(),
        format!("no Access-Control-Allow-Origin on a login answer to {FOREIGN_ORIGIN}"),
        || format!("Access-Control-Allow-Origin: {}", answer.allow_origin.as_deref().unwrap_or_default()),
    )
}
