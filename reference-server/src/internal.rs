//! The internal push service other servers (and routes) call (spec §15.2).

use std::sync::Arc;

use cim_backend::Fanout;
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
        let pushes = batch.pushes.len() as u32;
        // Only this server's sessions: the sender already reached the others.
        self.0.push(batch.pushes).await;
        Ok(Response::new(wire::PushBatchResult { delivered: pushes, gone_user_ids: Vec::new() }))
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

pub(crate) async fn serve(listener: TcpListener, hub: Arc<Hub>) {
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let server = tonic::transport::Server::builder().add_service(InternalPushServer::new(Service(hub)));
    if let Err(e) = server.serve_with_incoming(incoming).await {
        tracing::error!(error = %e, "internal push service stopped");
    }
}
