//! The internal push service other servers (and routes) call (spec §15.2).

use std::sync::Arc;

use std::time::Duration;

use cim_backend::listener::{self, ListenerLimits};
use cim_backend::{Fanout, InternalAuth};
use cim_core::wire;
use cim_proto::v1::internal_push_server::{InternalPush, InternalPushServer};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

use crate::hub::Hub;

struct Service(Arc<Hub>);

#[tonic::async_trait]
impl InternalPush for Service {
    async fn push(
        &self,
        request: Request<wire::PushBatch>,
    ) -> Result<Response<wire::PushBatchResult>, Status> {
        let batch = request.into_inner();
        // Users addressed here who have no session here (any more): the sender's cached
        // route to them is stale (spec §15.5).
        let mut gone_user_ids: Vec<String> = batch
            .pushes
            .iter()
            .filter(|p| !p.user_id.is_empty() && !self.0.holds(&p.user_id))
            .map(|p| p.user_id.clone())
            .collect();
        gone_user_ids.sort();
        gone_user_ids.dedup();
        let delivered =
            batch.pushes.iter().filter(|p| p.user_id.is_empty() || self.0.holds(&p.user_id)).count();
        let delivered = u32::try_from(delivered).unwrap_or(u32::MAX);
        // Only this server's sessions: the sender already reached the others.
        self.0.push(batch.pushes).await;
        Ok(Response::new(wire::PushBatchResult { delivered, gone_user_ids }))
    }

    async fn end_sessions(
        &self,
        request: Request<wire::EndSessionsRequest>,
    ) -> Result<Response<wire::EndSessionsResult>, Status> {
        let request = request.into_inner();
        let reason = wire::GoAwayReason::try_from(request.reason).unwrap_or(wire::GoAwayReason::Shutdown);
        let session = (!request.session_id.is_empty()).then_some(request.session_id.as_str());
        let ended = self.0.end_sessions(&request.user_id, session, reason).await;
        Ok(Response::new(wire::EndSessionsResult { ended }))
    }
}

/// Connections the internal push service accepts at once: one per other server and route of
/// the deployment, with room to spare.
const INTERNAL_MAX_CONNECTIONS: usize = 256;

/// Serves the internal push service to callers that sign with `auth` (spec §15.2).
pub(crate) async fn serve(listener: TcpListener, hub: Arc<Hub>, auth: InternalAuth) {
    let incoming =
        listener::guarded(listener, ListenerLimits::new(INTERNAL_MAX_CONNECTIONS), "internal push");
    let service = InternalPushServer::with_interceptor(Service(hub), auth.verifier());
    // Other servers and routes keep one channel each; calls are batches of pushes.
    let server = tonic::transport::Server::builder()
        .timeout(Duration::from_secs(10))
        .http2_keepalive_interval(Some(Duration::from_secs(60)))
        .add_service(service);
    if let Err(e) = server.serve_with_incoming(incoming).await {
        tracing::error!(error = %e, "internal push service stopped");
    }
}
