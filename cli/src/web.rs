//! The web chat (`web/chat`: a page on the TypeScript SDK), served by `cim up` and `cim web`
//! from a listener of its own. Its three files are compiled into the binary, so nothing needs
//! to be installed beside it. The page's origin is not the route's: the route allows it by
//! CORS, as it would allow a web app of yours.

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

const INDEX: &str = include_str!("../../web/chat/index.html");
const SCRIPT: &str = include_str!("../../web/chat/dist/chat.js");
const STYLE: &str = include_str!("../../web/chat/chat.css");

/// Options of `cim web`.
#[derive(clap::Args, Debug)]
pub(crate) struct WebArgs {
    /// Base URL of the route the page logs in at; the route must allow the page's origin
    /// (`cim-route --cors-origin http://127.0.0.1:8080`).
    #[arg(long, env = "CIM_ROUTE", default_value = "http://127.0.0.1:8083", value_parser = parse_route_url)]
    route: String,
    /// Address to serve the page on.
    #[arg(long, env = "CIM_WEB_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

/// `cim web`: serves the page for a route elsewhere (a cluster's) until Ctrl-C.
pub(crate) async fn run(args: WebArgs) -> anyhow::Result<()> {
    let web = WebChat::bind(args.listen).await?;
    say!("web chat for the route {}: {}", args.route, web.url());
    say!("the route must allow its origin: --cors-origin {}", web.origins().join(","));
    let task = web.serve(&args.route);
    cim_backend::process::shutdown_signal().await;
    task.abort();
    Ok(())
}

/// The page's listener, bound before the route starts so that the route can be told its origin.
pub(crate) struct WebChat {
    listener: TcpListener,
    addr: SocketAddr,
}

impl WebChat {
    pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr).await.with_context(|| {
            format!("cannot bind {addr} for the web chat (choose another with --web-listen)")
        })?;
        let addr = listener.local_addr()?;
        Ok(Self { listener, addr })
    }

    /// Where to open the page.
    pub(crate) fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The origins a browser may give the page: its address, and `localhost` for a loopback one.
    pub(crate) fn origins(&self) -> Vec<String> {
        let mut origins = vec![format!("http://{}", self.addr)];
        if self.addr.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", self.addr.port()));
        }
        origins
    }

    /// Serves the page, logging in at `route_url`, until the task is dropped.
    pub(crate) fn serve(self, route_url: &str) -> tokio::task::JoinHandle<()> {
        // A page and two files: a few connections at a time are plenty.
        let limits = cim_backend::listener::ListenerLimits::new(64);
        tokio::spawn(cim_backend::listener::serve_http(self.listener, router(route_url), limits, "web chat"))
    }
}

fn router(route_url: &str) -> Router {
    let index = INDEX.replace("%CIM_ROUTE%", &escape_html(route_url));
    // Only the node's own files run, and the page talks to nothing but the route and servers.
    let policy = format!(
        "default-src 'self'; connect-src 'self' {route_url} ws: wss:; img-src 'self' data:; frame-ancestors 'none'"
    );
    let file = move |content_type: &'static str, body: String| {
        let policy = policy.clone();
        move || async move { with_headers(body, content_type, &policy) }
    };
    Router::new()
        .route("/", get(file("text/html; charset=utf-8", index)))
        .route("/chat.js", get(file("text/javascript; charset=utf-8", SCRIPT.to_owned())))
        .route("/chat.css", get(file("text/css; charset=utf-8", STYLE.to_owned())))
}

fn with_headers(body: String, content_type: &'static str, policy: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, CONTENT_TYPE, content_type);
    set(headers, CONTENT_SECURITY_POLICY, policy);
    set(headers, X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, REFERRER_POLICY, "no-referrer");
    set(headers, CACHE_CONTROL, "no-cache");
    response
}

/// A route URL as it may appear in the page and its policy: http(s), nothing that could end
/// the attribute or the header's directive.
fn parse_route_url(text: &str) -> Result<String, String> {
    let text = text.trim_end_matches('/');
    let plain = text.strip_prefix("http://").or_else(|| text.strip_prefix("https://"));
    match plain {
        Some(rest)
            if !rest.is_empty() && !rest.contains(|c: char| c.is_whitespace() || ";,'\"<>".contains(c)) =>
        {
            Ok(text.to_owned())
        }
        _ => Err(format!("{text:?} is not a route URL such as http://127.0.0.1:8083")),
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_urls_that_could_break_out_of_the_page_or_policy_are_refused() {
        assert_eq!(parse_route_url("http://127.0.0.1:8083/").as_deref(), Ok("http://127.0.0.1:8083"));
        for bad in [
            "127.0.0.1:8083",
            "http://x; script-src *",
            "http://x\"><script>",
            "javascript:alert(1)",
            "http://",
        ] {
            assert!(parse_route_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn the_page_names_its_route_and_forbids_other_sources() {
        let web = WebChat::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("binds");
        let url = web.url();
        let task = web.serve("http://127.0.0.1:8083");
        let response = reqwest::get(&url).await.expect("the page answers");
        let policy = response.headers()[CONTENT_SECURITY_POLICY].to_str().expect("ascii").to_owned();
        assert!(
            policy.starts_with("default-src 'self'; connect-src 'self' http://127.0.0.1:8083 ws: wss:"),
            "{policy}"
        );
        let page = response.text().await.expect("text");
        assert!(page.contains(r#"content="http://127.0.0.1:8083""#), "{page}");
        assert!(!page.contains("%CIM_ROUTE%"));
        for (path, kind) in [("chat.js", "text/javascript"), ("chat.css", "text/css")] {
            let response = reqwest::get(format!("{url}{path}")).await.expect("answers");
            assert_eq!(response.status(), 200);
            assert!(response.headers()[CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with(kind)));
        }
        assert_eq!(reqwest::get(format!("{url}other")).await.expect("answers").status(), 404);
        task.abort();
    }
}
