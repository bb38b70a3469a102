//! This server's fan-out: its own sessions through its hub, every other server's through
//! the cluster's internal push service. Composed here, so that nothing below the server holds
//! its hub.

use std::sync::Arc;

use async_trait::async_trait;
use cim_backend::{ClusterFanout, Fanout};
use cim_core::wire;

use crate::hub::Hub;

pub(crate) struct ServerFanout {
    pub(crate) hub: Arc<Hub>,
    pub(crate) cluster: Arc<ClusterFanout>,
}

#[async_trait]
impl Fanout for ServerFanout {
    async fn push(&self, pushes: Vec<wire::Push>) {
        if self.cluster.has_peers() {
            self.hub.push_copies(&pushes);
            self.cluster.push(pushes).await;
        } else {
            // One server (`cim up`, or a cluster of one): the pushes go to the hub as they are.
            self.hub.push(pushes).await;
        }
    }

    async fn end_sessions(&self, user_id: &str, session_id: Option<&str>, reason: wire::GoAwayReason) -> u32 {
        self.hub.end_sessions(user_id, session_id, reason).await
            + self.cluster.end_sessions(user_id, session_id, reason).await
    }
}
