//! The admin HTTP endpoints: `/metrics` (Prometheus) and `/healthz`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use cim_backend::listener::{self, ListenerLimits};
use tokio::net::TcpListener;

use crate::Context;

/// Connections the admin endpoints accept at once.
const ADMIN_MAX_CONNECTIONS: usize = 64;

pub(crate) async fn serve(listener: TcpListener, ctx: Arc<Context>) {
    let app = Router::new().route("/metrics", get(metrics)).route("/healthz", get(health)).with_state(ctx);
    // Scrapers and probes: a few connections at a time.
    listener::serve_http(listener, app, ListenerLimits::new(ADMIN_MAX_CONNECTIONS), "admin endpoints").await;
}

async fn metrics(State(ctx): State<Arc<Context>>) -> impl IntoResponse {
    let mut text = ctx.metrics.render();
    let routes = ctx.cluster.route_cache_stats();
    text.push_str(&format!(
        "# HELP cim_server_route_cache_total Lookups of which servers hold a recipient, by outcome.\n\
         # TYPE cim_server_route_cache_total counter\n\
         cim_server_route_cache_total{{outcome=\"hit\"}} {}\n\
         cim_server_route_cache_total{{outcome=\"miss\"}} {}\n",
        routes.hits, routes.misses
    ));
    let sent = ctx.cluster.push_stats();
    text.push_str(&format!(
        "# HELP cim_server_push_batches_sent_total PushBatch calls made to other servers.\n\
         # TYPE cim_server_push_batches_sent_total counter\n\
         cim_server_push_batches_sent_total {}\n\
         # HELP cim_server_pushes_sent_total Pushes sent to other servers, in those batches.\n\
         # TYPE cim_server_pushes_sent_total counter\n\
         cim_server_pushes_sent_total {}\n",
        sent.batches, sent.pushes
    ));
    if let Some(entries) = ctx.store.inbox.inbox_entries().await {
        text.push_str(&format!(
            "# HELP cim_store_inbox_entries Inbox entries held by the store, in all inboxes.\n\
             # TYPE cim_store_inbox_entries gauge\ncim_store_inbox_entries {entries}\n"
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], text)
}

async fn health(State(ctx): State<Arc<Context>>) -> impl IntoResponse {
    let store = ctx.store.health().await;
    let ok = store.is_ok() && !ctx.is_draining();
    let checks = vec![
        match store {
            Ok(()) => format!("store: {} ok", ctx.store.describe()),
            Err(e) => format!("store: {} failing: {e}", ctx.store.describe()),
        },
        format!("sessions: {}", ctx.hub.session_count()),
        format!("draining: {}", ctx.is_draining()),
    ];
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({ "ok": ok, "version": env!("CARGO_PKG_VERSION"), "checks": checks });
    (status, Json(body))
}
