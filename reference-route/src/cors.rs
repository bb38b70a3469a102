//! CORS: web pages of the origins the operator allows may call the API from a browser
//! (spec CIM-14.4-43 to CIM-14.4-47); no origin is allowed unless configured.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cim_core::ErrorCode;

use crate::Route;
use crate::error::ApiError;

/// Answers preflights itself and marks the answers to allowed origins; requests without an
/// `Origin` (apps, backends, same-origin pages) pass untouched.
pub(crate) async fn cors(State(route): State<Arc<Route>>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let allowed = origin.to_str().is_ok_and(|o| route.options.cors_origins.iter().any(|a| a == o));
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        // The API key of Push and Servers belongs to the app's backend, never to a page.
        let for_backend = matches!(request.uri().path(), "/v1/push" | "/v1/servers");
        if !allowed || for_backend {
            let why =
                if allowed { "Push and Servers are not for browsers" } else { "this origin is not allowed" };
            return ApiError::new(ErrorCode::FORBIDDEN, format!("{why} (CORS, spec §14.4)")).into_response();
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type"));
        headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        headers.insert(VARY, HeaderValue::from_static("origin"));
        return response;
    }
    let mut response = next.run(request).await;
    if allowed {
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(VARY, HeaderValue::from_static("origin"));
    }
    response
}

/// Checks an allowed origin as a browser writes it in `Origin`: `http` or `https`, a host and
/// perhaps a port, nothing after (a path or a trailing `/` would never match).
pub fn parse_origin(text: &str) -> Result<String, String> {
    if text == "*" || text == "null" {
        return Err(format!("{text} would let any page log in: name the origins of your pages"));
    }
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| format!("{text:?} is not an origin: it starts with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', '*']) || rest.chars().any(char::is_whitespace) {
        return Err(format!(
            "{text:?} is not an origin: scheme://host[:port] with nothing after (e.g. https://chat.example.com)"
        ));
    }
    Ok(text.to_ascii_lowercase())
}
