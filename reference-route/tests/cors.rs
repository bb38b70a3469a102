//! CORS (spec CIM-14.4-43 to -47): pages of allowed origins may call the API from a browser;
//! nothing is allowed by default, and Push and Servers never are.

mod support;

use cim_core::ErrorCode;
use support::start;

const PAGE: &str = "https://chat.example.com";

/// A browser's preflight of a POST from `origin` to `path`.
async fn preflight(route: &support::TestRoute, path: &str, origin: &str) -> reqwest::Response {
    route
        .http
        .request(reqwest::Method::OPTIONS, route.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("the route answers")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn forbidden(response: reqwest::Response) {
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    let answer = support::answer(response).await;
    assert_eq!((answer.status, answer.code()), (403, Some(u64::from(ErrorCode::FORBIDDEN.0))), "{answer:?}");
}

#[tokio::test]
async fn no_origin_is_allowed_by_default() {
    let route = start(|_| {}).await;
    forbidden(preflight(&route, "/v1/login", PAGE).await).await;
    // A request a browser sends without asking first gets no permission to be read either.
    let response = route
        .http
        .post(route.url("/v1/register"))
        .header("origin", PAGE)
        .header("content-type", "application/json")
        .body(r#"{"user_name":"eve","password":"password-1"}"#)
        .send()
        .await
        .expect("the route answers");
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn an_allowed_origin_may_call_the_api_and_only_it() {
    let route = start(|o| o.cors_origins = vec![PAGE.into()]).await;
    let response = preflight(&route, "/v1/login", PAGE).await;
    assert_eq!(response.status(), 204);
    assert_eq!(header(&response, "access-control-allow-origin"), Some(PAGE));
    assert!(header(&response, "access-control-allow-methods").is_some_and(|m| m.contains("POST")));
    let allowed_headers = header(&response, "access-control-allow-headers").unwrap_or_default();
    assert!(allowed_headers.contains("authorization") && allowed_headers.contains("content-type"));
    assert_eq!(header(&response, "vary"), Some("origin"));
    assert_eq!(header(&response, "access-control-allow-credentials"), None);

    // Answers to that origin, refusals included, may be read by its pages.
    let response = route
        .http
        .post(route.url("/v1/login"))
        .header("origin", PAGE)
        .header("content-type", "application/json")
        .body(r#"{"user_name":"nobody","password":"password-1","device_id":"web"}"#)
        .send()
        .await
        .expect("the route answers");
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "access-control-allow-origin"), Some(PAGE));

    // Another origin, even a near one, is not allowed.
    for other in ["https://evil.example.com", "http://chat.example.com", "https://chat.example.com:8443"] {
        forbidden(preflight(&route, "/v1/login", other).await).await;
    }
    // The app backend's calls are never for pages.
    forbidden(preflight(&route, "/v1/push", PAGE).await).await;
    forbidden(preflight(&route, "/v1/servers", PAGE).await).await;
}

#[test]
fn origins_are_checked_when_configured() {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        options: cim_route::RouteOptions,
    }
    let parse = |value: &str| {
        Wrapper::try_parse_from(["cim-route", "--cors-origin", value]).map(|w| w.options.cors_origins)
    };
    assert_eq!(
        parse("https://Chat.Example.com,http://127.0.0.1:8080").expect("two origins"),
        vec!["https://chat.example.com".to_owned(), "http://127.0.0.1:8080".to_owned()]
    );
    for bad in [
        "*",
        "null",
        "chat.example.com",
        "https://chat.example.com/",
        "https://chat.example.com/app",
        "ftp://x",
    ] {
        let error = parse(bad).expect_err(bad).to_string();
        assert!(error.contains("origin"), "{bad}: {error}");
    }
}
