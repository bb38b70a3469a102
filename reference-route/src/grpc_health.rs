//! `grpc.health.v1.Health` on the route's gRPC port, so that grpc_health_probe and Kubernetes
//! gRPC probes work (spec §14.5). The answer is the route's own health check, the one `Health`
//! and `GET /healthz` give: the store and the registry answer.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::Route;

/// How often `Watch` looks again; it sends only changes.
const WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// The service names a health check may ask about: the server as a whole, and the route API.
const SERVICES: [&str; 2] = ["", "cim.v1.Route"];

pub(crate) struct RouteHealth(pub(crate) Arc<Route>);

/// The health service, ready for a tonic server.
pub(crate) fn service(route: Arc<Route>) -> HealthServer<RouteHealth> {
    HealthServer::new(RouteHealth(route))
}

async fn status_of(route: &Route) -> ServingStatus {
    if route.health().await.0 { ServingStatus::Serving } else { ServingStatus::NotServing }
}

fn known(service: &str) -> Result<(), Status> {
    if SERVICES.contains(&service) {
        Ok(())
    } else {
        // What the health protocol prescribes for a service the server does not know.
        let mut status =
            Status::not_found(format!("no service {service:?} here; ask for \"\" or \"cim.v1.Route\""));
        status.metadata_mut().insert("cim-error-code", cim_core::ErrorCode::NOT_FOUND.0.into());
        Err(status)
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Health for RouteHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        known(&request.get_ref().service)?;
        Ok(Response::new(HealthCheckResponse { status: status_of(&self.0).await as i32 }))
    }

    type WatchStream = WatchStream;

    async fn watch(&self, request: Request<HealthCheckRequest>) -> Result<Response<WatchStream>, Status> {
        known(&request.get_ref().service)?;
        let route = self.0.clone();
        // The current status at once, then each change.
        let changes = futures_util::stream::unfold((route, None), |(route, last)| async move {
            loop {
                if last.is_some() {
                    tokio::time::sleep(WATCH_INTERVAL).await;
                }
                let now = status_of(&route).await;
                if last != Some(now) {
                    return Some((Ok(HealthCheckResponse { status: now as i32 }), (route, Some(now))));
                }
            }
        });
        Ok(Response::new(Box::pin(changes)))
    }
}
