//! The route's HTTP/JSON API (spec §14.4) through `RouteClient` and raw HTTP.

mod support;

use std::time::Duration;

use cim_core::ErrorCode;
use cim_sdk::{Client, ClientOptions, Credentials, RouteClient};
use serde_json::{Value, json};
use support::{NodeExt, next_message, start_node};

async fn token_of(route: &RouteClient, user: &str) -> String {
    let _ = route.register(user, &format!("password-{user}")).await;
    route
        .login(&Credentials::password(user, format!("password-{user}")), "test-device")
        .await
        .expect("login")
        .token
}

async fn raw(
    method: reqwest::Method,
    url: String,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("route answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn register_validates_names_and_passwords() {
    let node = start_node().await;
    let route = RouteClient::new(&node.url()).expect("url");
    for (user, password) in [
        ("", "long-enough"),
        ("bad name", "long-enough"),
        ("ok", "short"),
        (&"x".repeat(65)[..], "long-enough"),
    ] {
        let error = route.register(user, password).await.expect_err("invalid");
        assert_eq!(error.code(), Some(ErrorCode::INVALID_FIELD), "{user:?}/{password:?}");
    }
    let (status, body) =
        raw(reqwest::Method::POST, format!("{}/v1/register", node.url()), &[], Some(json!([1, 2]))).await;
    assert_eq!(
        (status, body["code"].as_u64(), body["name"].as_str()),
        (400, Some(1008), Some("INVALID_FIELD"))
    );
}

#[tokio::test]
async fn online_users_page_through_everyone_once() {
    let node = start_node().await;
    let mut clients = Vec::new();
    for i in 0..5 {
        clients.push(node.user(&format!("user{i}"), "d").await);
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = clients[0].online_users(&page_token, 2).await.expect("page");
        assert!(page.users.len() <= 2);
        assert_eq!(page.total_online, 5);
        seen.extend(page.users.into_iter().map(|u| u.user_id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, ["user0", "user1", "user2", "user3", "user4"]);
    let bad = clients[0].online_users("!!not-a-token!!", 2).await.expect_err("refused");
    assert_eq!(bad.code(), Some(ErrorCode::INVALID_FIELD));
    let route = RouteClient::new(&node.url()).expect("url");
    let unauthenticated = route.online_users("v1.bogus.token", "", 2).await.expect_err("refused");
    assert_eq!(unauthenticated.code(), Some(ErrorCode::UNAUTHENTICATED));
}

#[tokio::test]
async fn users_by_prefix_like_the_old_pu_command() {
    let node = start_node().await;
    let route = RouteClient::new(&node.url()).expect("url");
    for user in ["anna", "andrew", "bert"] {
        route.register(user, &format!("password-{user}")).await.expect("registered");
    }
    let token = token_of(&route, "bert").await;
    let found: Vec<String> =
        route.users_by_prefix(&token, "an", 10).await.expect("ok").into_iter().map(|u| u.user_name).collect();
    assert_eq!(found, ["andrew", "anna"]);
    assert_eq!(route.users_by_prefix(&token, "", 1).await.expect("ok").len(), 1);
}

#[tokio::test]
async fn a_name_is_looked_up_exactly_to_find_the_id_to_send_to() {
    let node = start_node().await;
    let route = RouteClient::new(&node.url()).expect("url");
    for user in ["ann", "anna"] {
        route.register(user, &format!("password-{user}")).await.expect("registered");
    }
    let token = token_of(&route, "ann").await;
    let found: Vec<String> =
        route.users_by_name(&token, "ann").await.expect("ok").into_iter().map(|u| u.user_name).collect();
    assert_eq!(found, ["ann"], "not anna, whose name only starts with it");
    assert_eq!(route.user_id_of(&token, "anna").await.expect("one anna"), "anna");
    let nobody = route.user_id_of(&token, "annabel").await.expect_err("nobody");
    assert_eq!(nobody.code(), Some(ErrorCode::NOT_FOUND));
    assert!(route.users_by_name(&token, "..").await.expect("never a name").is_empty());
}

#[tokio::test]
async fn groups_create_join_leave_members() {
    let node = start_node().await;
    let route = RouteClient::new(&node.url()).expect("url");
    let alice = token_of(&route, "alice").await;
    let bob = token_of(&route, "bob").await;
    let carol = token_of(&route, "carol").await;
    // Nobody is made a member by someone else: bob joins himself.
    assert_eq!(
        route.create_group(&alice, "team", &["bob".into()]).await.expect_err("bob did not agree").code(),
        Some(ErrorCode::FORBIDDEN)
    );
    assert_eq!(route.create_group(&alice, "team", &["alice".into()]).await.expect("created").member_count, 1);
    assert_eq!(route.join_group(&bob, "team").await.expect("joined").member_count, 2);
    assert_eq!(
        route.create_group(&bob, "team", &[]).await.expect_err("taken").code(),
        Some(ErrorCode::ALREADY_EXISTS)
    );
    assert_eq!(
        route.create_group(&bob, "other", &["nobody".into()]).await.expect_err("unknown member").code(),
        Some(ErrorCode::NOT_FOUND)
    );
    assert_eq!(
        route.group_members(&carol, "team").await.expect_err("not a member").code(),
        Some(ErrorCode::FORBIDDEN)
    );
    assert_eq!(route.join_group(&carol, "team").await.expect("joined").member_count, 3);
    assert_eq!(route.join_group(&carol, "team").await.expect("idempotent").member_count, 3);
    assert_eq!(route.group_members(&carol, "team").await.expect("member").len(), 3);
    assert_eq!(route.leave_group(&bob, "team").await.expect("left").member_count, 2);
    assert_eq!(
        route.join_group(&bob, "nope").await.expect_err("no group").code(),
        Some(ErrorCode::NOT_FOUND)
    );
    let mine: Vec<String> =
        route.my_groups(&carol).await.expect("ok").into_iter().map(|g| g.group_id).collect();
    assert_eq!(mine, ["team"]);
}

#[tokio::test]
async fn push_api_needs_the_key_and_reaches_live_sessions() {
    let node = start_node().await;
    let mut bob = node.user("bob", "b").await;
    node.user("alice", "a").await;
    let push = |key: &'static str, body: Value| {
        let url = format!("{}/v1/push", node.url());
        async move { raw(reqwest::Method::POST, url, &[("x-cim-api-key", key)], Some(body)).await }
    };
    let message = json!({ "to": { "user_id": "bob" }, "from_user_id": "alice", "content_type": "text/plain",
                          "body": "from the backend", "client_msg_id": "job-1" });
    let (status, body) = push("wrong-key", message.clone()).await;
    assert_eq!((status, body["name"].as_str()), (401, Some("UNAUTHENTICATED")));
    let (status, body) = push(&support::API_KEY, message.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicate"], false);
    let delivered = next_message(&mut bob, Duration::from_secs(10)).await;
    assert_eq!((delivered.text(), delivered.from.as_str()), ("from the backend".into(), "alice"));
    let (_, again) = push(&support::API_KEY, message).await;
    assert_eq!((again["duplicate"].as_bool(), &again["message_id"]), (Some(true), &body["message_id"]));
    let both = json!({ "to": { "user_id": "bob", "everyone": true }, "from_user_id": "alice", "body": "x", "client_msg_id": "j2" });
    assert_eq!(push(&support::API_KEY, both).await.0, 400);
    let (status, body) = raw(
        reqwest::Method::GET,
        format!("{}/v1/servers", node.url()),
        &[("x-cim-api-key", support::API_KEY.as_str())],
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["servers"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn logout_ends_the_session_and_the_token() {
    let node = start_node().await;
    let mut bob = node.user("bob", "bob-phone").await;
    bob.logout(false).await.expect("logged out");
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match bob.next_event().await {
                Some(cim_sdk::Event::Closed { reason, .. }) => return reason,
                Some(_) => continue,
                None => return "stream ended".into(),
            }
        }
    })
    .await
    .expect("the session ends");
    assert!(closed.contains("LOGGED_OUT"), "{closed}");
    let again = bob.my_groups().await.expect_err("token no longer works");
    assert_eq!(again.code(), Some(ErrorCode::UNAUTHENTICATED));
}

#[tokio::test]
async fn jwt_login_from_the_app_backend() {
    let mut options = cim_node::NodeOptions::in_memory().on_free_ports();
    let jwt_secret = cim_backend::secret::generate_secret();
    options.route.jwt_secret = Some(jwt_secret.clone());
    let node = cim_node::Node::start(options).await.expect("node starts");
    let route = &node.route;
    let exp = cim_backend::now_ms() / 1000 + 600;
    let jwt = cim_backend::jwt::sign_hs256(
        &format!(r#"{{"sub":"app-user-7","exp":{exp}}}"#),
        jwt_secret.as_bytes(),
    );
    let client =
        Client::login(&route.url(), Credentials::Jwt(jwt), ClientOptions::new("web")).await.expect("login");
    assert_eq!(client.user_id(), "app-user-7");
    let forged =
        cim_backend::jwt::sign_hs256(&format!(r#"{{"sub":"admin","exp":{exp}}}"#), b"guessed-secret");
    let refused = Client::login(&route.url(), Credentials::Jwt(forged), ClientOptions::new("web")).await;
    assert_eq!(refused.err().and_then(|e| e.code()), Some(ErrorCode::INVALID_CREDENTIALS));
}
