//! Named groups and their members (spec §10).

use async_trait::async_trait;

use crate::StoreError;

/// A named group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    /// Its id.
    pub group_id: String,
    /// Members, ascending.
    pub members: Vec<String>,
}

/// Groups.
#[async_trait]
pub trait GroupStore: Send + Sync + 'static {
    /// Creates a group with `creator` and `members`; `AlreadyExists` or `NotFound` (a member).
    async fn create_group(
        &self,
        group_id: &str,
        creator: &str,
        members: &[String],
    ) -> Result<GroupRecord, StoreError>;
    /// Adds the user (idempotent); `NotFound` for an unknown group.
    async fn join_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError>;
    /// Removes the user (idempotent); `NotFound` for an unknown group.
    async fn leave_group(&self, group_id: &str, user_id: &str) -> Result<GroupRecord, StoreError>;
    /// The group, if it exists.
    async fn group(&self, group_id: &str) -> Result<Option<GroupRecord>, StoreError>;
    /// Groups the user belongs to, by id.
    async fn groups_of(&self, user_id: &str) -> Result<Vec<GroupRecord>, StoreError>;
}
