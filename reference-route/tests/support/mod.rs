//! A route on in-memory backends with one (unreachable) server registered, and a raw HTTP
//! client for poking at it.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::Arc;

use cim_backend::{MemoryRegistry, MemoryStore, Registry, TokenKeys};
use cim_proto::v1 as pb;
use serde_json::Value;

pub struct TestRoute {
    pub route: cim_route::RunningRoute,
    pub store: Arc<MemoryStore>,
    pub keys: TokenKeys,
    pub http: reqwest::Client,
}

/// A route with `edit` applied to its options; listeners on free ports.
pub async fn start(edit: impl FnOnce(&mut cim_route::RouteOptions)) -> TestRoute {
    let registry = Arc::new(MemoryRegistry::new());
    let server =
        pb::ServerInfo { server_id: "s1".into(), tcp_endpoint: "127.0.0.1:9".into(), ..Default::default() };
    registry.register(server).await.expect("registered");
    let mut options = cim_route::RouteOptions::defaults();
    options.listen_on_free_ports();
    edit(&mut options);
    let store = Arc::new(MemoryStore::new());
    let keys = TokenKeys::generate();
    let route =
        cim_route::start(options, store.clone(), registry, keys.clone(), None).await.expect("route starts");
    TestRoute { route, store, keys, http: reqwest::Client::new() }
}

/// An HTTP answer: status and JSON body (`Null` when there is none).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn code(&self) -> Option<u64> {
        self.body["code"].as_u64()
    }
}

impl TestRoute {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.route.url())
    }

    /// A POST of `body` as `application/json`.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.post_as(path, "application/json", body.to_string()).await
    }

    /// A POST of `body` with the given content type.
    pub async fn post_as(&self, path: &str, content_type: &str, body: String) -> Answer {
        let request = self.http.post(self.url(path)).header("content-type", content_type).body(body);
        answer(request.send().await.expect("the route answers")).await
    }

    pub async fn register(&self, name: &str, password: &str) -> Answer {
        self.post("/v1/register", serde_json::json!({"user_name": name, "password": password})).await
    }

    pub async fn login(&self, name: &str, password: &str) -> Answer {
        self.post(
            "/v1/login",
            serde_json::json!({"user_name": name, "password": password, "device_id": "d1"}),
        )
        .await
    }

    pub async fn login_jwt(&self, jwt: &str) -> Answer {
        self.post("/v1/login", serde_json::json!({"jwt": jwt, "device_id": "d1"})).await
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, body, retry_after }
}

/// An HS256 JWT for `sub`, valid for ten minutes.
pub fn jwt(secret: &str, sub: &str) -> String {
    let exp = cim_backend::now_ms() / 1000 + 600;
    cim_backend::jwt::sign_hs256(&format!(r#"{{"sub":"{sub}","exp":{exp}}}"#), secret.as_bytes())
}
