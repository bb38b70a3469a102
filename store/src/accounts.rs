//! Accounts and the logins issued to them (spec §5, §14.2).

use async_trait::async_trait;

use crate::StoreError;

/// An account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Stable id; in the reference route equal to the user name.
    pub user_id: String,
    /// Display and login name.
    pub user_name: String,
    /// PHC string of the password hash of an account created by Register; `None` for an
    /// account created by a JWT login, whose identity is the app backend's (spec §5.3): no
    /// password ever logs in to it, and no JWT to an account that has one.
    pub password_hash: Option<String>,
    /// Chosen at random when the account is created. Tokens name it, so that an account
    /// created again under the same id, after the store lost the first, does not accept the
    /// first one's tokens (spec CIM-5.2-10).
    pub generation: u64,
    /// When the user last logged out of all devices (ms since the Unix epoch; 0 for never):
    /// tokens issued until then are refused (spec CIM-14.2-10).
    pub logged_out_at_ms: u64,
}

impl UserRecord {
    /// A new account's record, with a fresh generation.
    pub fn new(
        user_id: impl Into<String>,
        user_name: impl Into<String>,
        password_hash: Option<String>,
    ) -> Self {
        let generation = u64::from_le_bytes(crate::random_bytes::<8>()).max(1);
        Self {
            user_id: user_id.into(),
            user_name: user_name.into(),
            password_hash,
            generation,
            logged_out_at_ms: 0,
        }
    }

    /// Whether a token issued at `issued_at_ms` predates a Logout of all devices.
    pub fn logged_out_since(&self, issued_at_ms: u64) -> bool {
        issued_at_ms <= self.logged_out_at_ms
    }
}

/// Accounts, and which logins have ended.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates an account; `AlreadyExists` if the id is taken.
    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError>;
    /// The account with this id.
    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Accounts whose name starts with `prefix`, by name, at most `limit`.
    async fn users_by_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<UserRecord>, StoreError>;

    /// Ends every login of `user_id` issued until `at_ms` (Logout of all devices): sets the
    /// account's `logged_out_at_ms`, never moving it back. Nothing for an unknown user.
    async fn log_out_everywhere(&self, user_id: &str, at_ms: u64) -> Result<(), StoreError>;
    /// Marks a login as ended (logout) until `until_ms`, when its token expires anyway.
    async fn end_login(&self, login_id: &str, until_ms: u64) -> Result<(), StoreError>;
    /// Whether the login was ended.
    async fn is_login_ended(&self, login_id: &str) -> Result<bool, StoreError>;
}
