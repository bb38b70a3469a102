//! The route tried as an attacker would: each test reproduces an attack on the reference route
//! and checks that it now fails, with the code the spec gives.

mod support;

use cim_core::ErrorCode;
use serde_json::json;
use support::{jwt, start};

#[tokio::test]
async fn a_registered_name_does_not_capture_the_app_user_of_the_same_id() {
    let secret = cim_backend::secret::generate_secret();
    let jwt_secret = secret.clone();
    let route = start(move |o| {
        o.jwt_secret = Some(jwt_secret);
        o.registration = Some(cim_route::Registration::Open);
    })
    .await;
    // The attacker registers the id of an app user who has not logged in yet...
    assert_eq!(route.register("appuser8", "attacker-password").await.status, 201);
    // ...the app user logs in with the app's JWT: refused, not let into the attacker's account.
    let answer = route.login_jwt(&jwt(&secret, "appuser8")).await;
    assert_eq!(
        (answer.status, answer.code()),
        (401, Some(u64::from(ErrorCode::INVALID_CREDENTIALS.0))),
        "{answer:?}"
    );

    // The other way round: an app user's account takes no password, not even an empty one.
    assert_eq!(route.login_jwt(&jwt(&secret, "appuser9")).await.status, 200);
    for password in ["", "appuser9", "attacker-password"] {
        assert_eq!(route.login("appuser9", password).await.status, 401, "password {password:?}");
    }
    assert_eq!(route.register("appuser9", "attacker-password").await.status, 409, "and its id is taken");
}

#[tokio::test]
async fn the_operator_may_let_jwts_into_registered_accounts() {
    let secret = cim_backend::secret::generate_secret();
    let jwt_secret = secret.clone();
    let route = start(move |o| {
        o.jwt_secret = Some(jwt_secret);
        o.registration = Some(cim_route::Registration::Open);
        o.jwt_login_to_password_accounts = true;
    })
    .await;
    assert_eq!(route.register("migrated", "old-password").await.status, 201);
    let answer = route.login_jwt(&jwt(&secret, "migrated")).await;
    assert_eq!((answer.status, answer.body["user_id"].as_str()), (200, Some("migrated")));
}

#[tokio::test]
async fn registration_is_closed_by_default_beside_jwt_logins_and_can_be_closed_without() {
    let route = start(|o| o.jwt_secret = Some(cim_backend::secret::generate_secret())).await;
    let answer = route.register("someone", "password-1").await;
    assert_eq!((answer.status, answer.code()), (403, Some(u64::from(ErrorCode::FORBIDDEN.0))), "{answer:?}");
    assert_eq!(route.login("someone", "password-1").await.status, 401, "nothing was created");

    let route = start(|o| o.registration = Some(cim_route::Registration::Closed)).await;
    assert_eq!(route.register("someone", "password-1").await.status, 403);
    let route = start(|_| {}).await;
    assert_eq!(route.register("someone", "password-1").await.status, 201, "open without a JWT secret");
}

#[tokio::test]
async fn dot_names_are_refused() {
    let route = start(|_| {}).await;
    for name in [".", ".."] {
        let answer = route.register(name, "password-1").await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, Some(u64::from(ErrorCode::INVALID_FIELD.0))),
            "{name}"
        );
    }
    assert_eq!(route.register("a.b", "password-1").await.status, 201, "dots inside a name are fine");
}

#[tokio::test]
async fn json_sent_as_text_or_untyped_is_refused_before_it_is_acted_on() {
    let route = start(|_| {}).await;
    let body = json!({"user_name": "csrf", "password": "password-1"}).to_string();
    for content_type in
        ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data"]
    {
        let answer = route.post_as("/v1/register", content_type, body.clone()).await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, Some(u64::from(ErrorCode::INVALID_FIELD.0))),
            "{content_type}"
        );
    }
    let untyped = route.http.post(route.url("/v1/register")).body(body.clone()).send().await.expect("answer");
    assert_eq!(untyped.status().as_u16(), 400, "no Content-Type");
    assert_eq!(route.login("csrf", "password-1").await.status, 401, "no account was created");
    assert_eq!(route.post_as("/v1/register", "application/json; charset=utf-8", body).await.status, 201);
}

#[tokio::test]
async fn weak_api_keys_and_jwt_secrets_are_refused_at_start() {
    let any = "127.0.0.1:0".parse().expect("address");
    for (what, weak) in [
        ("the README's old example", "change-me-to-32-or-more-random-bytes"),
        ("32 times a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("too short", "k"),
    ] {
        for field in ["api-key", "jwt-secret"] {
            let mut options = cim_route::RouteOptions::defaults();
            (options.http_listen, options.grpc_listen, options.admin_listen) = (any, any, any);
            if field == "api-key" {
                options.api_key = Some(weak.into());
            } else {
                options.jwt_secret = Some(weak.into());
            }
            let started = cim_route::start(
                options,
                std::sync::Arc::new(cim_backend::MemoryStore::new()),
                std::sync::Arc::new(cim_backend::MemoryRegistry::new()),
                cim_backend::TokenKeys::generate(),
                None,
            )
            .await;
            let error = started.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(field), "{what} as --{field}: {error:?}");
            assert!(weak.len() < 8 || !error.contains(weak), "the error repeats the secret: {error}");
        }
    }
}

#[tokio::test]
async fn password_guessing_is_cut_off_per_user_name_and_per_address() {
    let route = start(|o| {
        o.limits.login_failures_per_user = 5;
        // Every attempt counts, the refused ones too: 5 guesses, 2 refused, then 7 others.
        o.limits.login_failures_per_address = 14;
    })
    .await;
    assert_eq!(route.register("alice", "alice-password").await.status, 201);
    for guess in 0..5 {
        assert_eq!(route.login("alice", &format!("guess-{guess}")).await.status, 401);
    }
    let limited = route.login("alice", "guess-5").await;
    assert_eq!(
        (limited.status, limited.code()),
        (429, Some(u64::from(ErrorCode::RATE_LIMITED.0))),
        "{limited:?}"
    );
    let seconds: u64 =
        limited.retry_after.as_deref().and_then(|s| s.parse().ok()).expect("Retry-After in seconds");
    assert!((1..=300).contains(&seconds), "{seconds}");
    // Even the right password waits: otherwise the next guess could still be the one.
    assert_eq!(route.login("alice", "alice-password").await.status, 429);

    // Other names from the same address, until the address has failed too often itself.
    for n in 0..7 {
        assert_eq!(route.login(&format!("nobody{n}"), "whatever-password").await.status, 401, "{n}");
    }
    let limited = route.login("nobody-else", "whatever-password").await;
    assert_eq!(limited.status, 429, "the address is cut off: {limited:?}");

    // Someone at another address is not: the limit is the attacker's, not everyone's.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().expect("address"))
        .build()
        .expect("client");
    assert_eq!(route.register("bob", "bob-password").await.status, 201);
    let body = json!({"user_name": "bob", "password": "bob-password", "device_id": "d1"});
    let answer =
        support::answer(elsewhere.post(route.url("/v1/login")).json(&body).send().await.expect("answer"))
            .await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn mass_registration_from_one_address_is_cut_off() {
    let route = start(|o| o.limits.registrations_per_address = 10).await;
    for n in 0..10 {
        assert_eq!(route.register(&format!("bulk{n}"), "password-1").await.status, 201, "{n}");
    }
    let limited = route.register("bulk10", "password-1").await;
    assert_eq!(
        (limited.status, limited.code()),
        (429, Some(u64::from(ErrorCode::RATE_LIMITED.0))),
        "{limited:?}"
    );
    assert!(limited.retry_after.is_some());
    assert_eq!(route.login("bulk10", "password-1").await.status, 401, "nothing was created");
}

/// Opens `n` TCP connections to `addr` that send nothing.
async fn silent_connections(addr: std::net::SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut open = Vec::with_capacity(n);
    for _ in 0..n {
        open.push(tokio::net::TcpStream::connect(addr).await.expect("connects"));
    }
    open
}

/// Whether the route closed `stream` (EOF or reset) within `limit`, whatever it sent before
/// (an HTTP/2 server starts with its settings).
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, closed).await.is_ok()
}

#[tokio::test]
async fn thousands_of_idle_connections_do_not_keep_users_out() {
    let route = start(|_| {}).await;
    let addr = route.route.http_addr();
    // Three times the listener's limit, silent; and some that drip a request a byte at a time.
    let mut silent = silent_connections(addr, 3_000).await;
    let mut drips = Vec::new();
    for _ in 0..100 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
        tokio::io::AsyncWriteExt::write_all(&mut stream, b"P").await.expect("writes");
        drips.push(stream);
    }
    // A newcomer still registers and logs in at once.
    let started = std::time::Instant::now();
    assert_eq!(route.register("newcomer", "password-1").await.status, 201);
    assert_eq!(route.login("newcomer", "password-1").await.status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());

    // The silent and the dripping are closed: the oldest to make room, the rest by the
    // 10-second header timeout.
    let limit = std::time::Duration::from_secs(15);
    assert!(closed_within(&mut silent[2_999], limit).await, "a silent connection stays open");
    for stream in drips.iter_mut().take(3) {
        for _ in 0..5 {
            let _ = tokio::io::AsyncWriteExt::write_all(stream, b"O").await;
        }
        assert!(closed_within(stream, limit).await, "a dripping connection stays open");
    }
    assert_eq!(route.login("newcomer", "password-1").await.status, 200, "and the route still serves");
}

#[tokio::test]
async fn idle_grpc_connections_do_not_keep_clients_out() {
    let route = start(|o| o.grpc_max_connections = 50).await;
    let addr = route.route.grpc_addr();
    let mut silent = silent_connections(addr, 200).await;
    let mut client =
        cim_proto::v1::route_client::RouteClient::connect(format!("http://{addr}")).await.expect("connects");
    let health = client.health(cim_proto::v1::HealthRequest {}).await.expect("a gRPC call gets through");
    assert!(health.into_inner().ok);
    // The first silent ones were closed to make room.
    assert!(closed_within(&mut silent[0], std::time::Duration::from_secs(15)).await);
}

#[tokio::test]
async fn a_token_of_an_account_that_no_longer_exists_is_refused() {
    let route = start(|_| {}).await;
    // Signed by the deployment, for a user the store does not hold (it lost its data).
    let token = route.keys.issue(&cim_backend::TokenKeys::new_claims("ghost", "d1", 60_000));
    let answer = support::answer(
        route.http.get(route.url("/v1/groups")).bearer_auth(&token).send().await.expect("answer"),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (401, Some(u64::from(ErrorCode::UNAUTHENTICATED.0))),
        "{answer:?}"
    );
    // And a name whose sessions still live cannot be registered anew.
    use cim_backend::PresenceStore;
    let session = cim_backend::SessionRecord {
        session_id: "s1".into(),
        user_id: "alice".into(),
        device_id: "d1".into(),
        server_id: "s1".into(),
        connected_at_ms: cim_backend::now_ms(),
        expires_at_ms: 0,
    };
    route.store.add_session(session).await.expect("memory");
    assert_eq!(route.register("alice", "newcomer-password").await.status, 409, "alice is still connected");
}

#[tokio::test]
async fn a_concurrent_flood_from_one_address_is_cut_off_before_it_is_hashed() {
    let route = start(|o| o.limits.login_failures_per_address = 10).await;
    let names: Vec<String> = (0..40).map(|n| format!("victim{n}")).collect();
    let answers =
        futures_util::future::join_all(names.iter().map(|name| route.login(name, "wrong-password"))).await;
    let hashed = answers.iter().filter(|a| a.status == 401).count();
    let limited = answers.iter().filter(|a| a.status == 429).count();
    // Counted when they start, not when their hash is done: all forty at once get no more than
    // the ten guesses the address is allowed.
    assert!(hashed <= 10, "{hashed} guesses were hashed");
    assert_eq!(hashed + limited, 40, "{answers:?}");
}

#[tokio::test]
async fn a_body_that_dribbles_in_is_given_up_and_the_http_layer_answers_in_json() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let route = start(|_| {}).await;
    // A complete head, then a body one byte at a time: given up after 10 s with a coded answer.
    let mut stream = tokio::net::TcpStream::connect(route.route.http_addr()).await.expect("connects");
    let head = "POST /v1/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("writes");
    let started = std::time::Instant::now();
    let drip = async {
        loop {
            if stream.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(12), drip).await;
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(3), stream.read(&mut answer))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("\"code\":1008"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(13), "took {:?}", started.elapsed());

    // The HTTP layer's own refusals carry the JSON error body too.
    let unknown =
        support::answer(route.http.get(route.url("/v1/nothing-here")).send().await.expect("answer")).await;
    assert_eq!((unknown.status, unknown.code()), (404, Some(u64::from(ErrorCode::NOT_FOUND.0))));
    let wrong = route.http.get(route.url("/v1/register")).send().await.expect("answer");
    assert!(wrong.headers().contains_key("allow"));
    let wrong = support::answer(wrong).await;
    assert_eq!((wrong.status, wrong.code()), (405, Some(u64::from(ErrorCode::INVALID_FIELD.0))));
    let array = route.post("/v1/register", json!(["arr_1", "password123"])).await;
    assert_eq!(
        (array.status, array.code()),
        (400, Some(u64::from(ErrorCode::INVALID_FIELD.0))),
        "an array is no object"
    );
    let anonymous = route.http.get(route.url("/v1/groups")).send().await.expect("answer");
    assert_eq!(
        anonymous.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"cim\"")
    );
    assert_eq!(route.register("querier", "password-1").await.status, 201);
    let token = route.login("querier", "password-1").await.body["token"].as_str().expect("token").to_owned();
    let bad_query = support::answer(
        route
            .http
            .get(route.url("/v1/online?page_size=lots"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!((bad_query.status, bad_query.code()), (400, Some(u64::from(ErrorCode::INVALID_FIELD.0))));
    let message = bad_query.body["message"].as_str().unwrap_or_default();
    assert!(!message.contains("invalid digit"), "the parser's words leak: {message}");
}
