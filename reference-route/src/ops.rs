//! The route's operations (spec §14), independent of the binding: HTTP/JSON and gRPC both
//! call these, so the two cannot drift apart.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cim_backend::{GroupRecord, TokenClaims, TokenKeys, UserRecord, hash_password_bounded, now_ms};
use cim_core::ErrorCode;
use cim_core::wire;

use crate::error::ApiError;
use crate::limits::{Counter, Source};
use crate::{Registration, Route, Transports, valid_name};

type Result<T> = std::result::Result<T, ApiError>;

/// How a login proves who it is.
pub(crate) enum LoginCredentials {
    Password { user_name: String, password: String },
    Jwt(String),
}

/// A login request, once decoded.
pub(crate) struct LoginInput {
    pub(crate) credentials: LoginCredentials,
    pub(crate) device_id: String,
    pub(crate) transports: Transports,
    /// Where the call comes from, for the rate limits; `None` when unknown.
    pub(crate) source: Option<Source>,
}

/// A successful login.
pub(crate) struct LoginOutput {
    pub(crate) user: UserRecord,
    pub(crate) token: String,
    pub(crate) expires_at_ms: u64,
    pub(crate) server: wire::ServerInfo,
}

fn group_info(group: GroupRecord) -> wire::GroupInfo {
    wire::GroupInfo { group_id: group.group_id, member_count: group.members.len() as u32 }
}

impl Route {
    pub(crate) async fn register(
        &self,
        user_name: String,
        password: String,
        source: Option<Source>,
    ) -> Result<String> {
        if self.options.registration() == Registration::Closed {
            return Err(ApiError::new(
                ErrorCode::FORBIDDEN,
                "registration is closed on this deployment: accounts come from the app's own logins",
            ));
        }
        if !valid_name(&user_name, 64) || user_name == "." || user_name == ".." {
            return Err(ApiError::invalid("user_name must be 1 to 64 of A-Z a-z 0-9 _ . - (not . or ..)"));
        }
        if !(8..=1024).contains(&password.len()) {
            return Err(ApiError::invalid("password must be 8 to 1024 bytes"));
        }
        if let Some(source) = source {
            self.count_against_limit(Counter::RegistrationsFrom(source)).await?;
        }
        // A name whose account the store lost while its sessions live on (a store restarted
        // empty) stays taken until they end: a newcomer must not inherit them.
        if !self.store.presence.sessions_of(&user_name).await?.is_empty() {
            return Err(ApiError::new(ErrorCode::ALREADY_EXISTS, format!("user {user_name} already exists")));
        }
        let hash = hash_password_bounded(password).await.inspect_err(|_| {
            self.metrics.hashing_busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })?;
        let user = UserRecord::new(user_name.clone(), user_name.clone(), Some(hash));
        self.store.accounts.create_user(user).await?;
        tracing::info!(user = %user_name, "registered");
        Ok(user_name)
    }

    pub(crate) async fn login(&self, input: LoginInput) -> Result<LoginOutput> {
        if input.device_id.is_empty() || input.device_id.len() > 128 {
            return Err(ApiError::invalid("device_id must be 1 to 128 bytes"));
        }
        let user = match input.credentials {
            LoginCredentials::Password { user_name, password } => {
                self.login_with_password(&user_name, &password, input.source).await?
            }
            LoginCredentials::Jwt(jwt) => {
                // Verifying a JWT is cheap: only failures count against the address.
                if let Some(source) = input.source {
                    self.refuse_over_limit(Counter::FailedLoginsFrom(source)).await?;
                }
                let user = self.user_from_jwt(&jwt).await;
                if let (Err(e), Some(source)) = (&user, input.source)
                    && e.code == ErrorCode::INVALID_CREDENTIALS
                {
                    self.record(Counter::FailedLoginsFrom(source)).await;
                }
                user?
            }
        };
        let servers = self
            .registry
            .servers()
            .await
            .map_err(|e| ApiError::new(ErrorCode::UNAVAILABLE, e.to_string()))?;
        let usable: Vec<wire::ServerInfo> =
            servers.into_iter().filter(|s| input.transports.offered_by(s)).collect();
        let mut server =
            self.assigner.pick(&user.user_id, &usable).cloned().ok_or_else(|| {
                ApiError::new(ErrorCode::UNAVAILABLE, "no server available; try again shortly")
            })?;
        server.internal_endpoint.clear(); // not for clients (spec §14.4)
        let mut claims =
            TokenKeys::new_claims(&user.user_id, &input.device_id, self.options.token_lifetime_ms());
        claims.acc = Some(user.generation);
        // Issued after the last Logout of all devices, even within its millisecond.
        if user.logged_out_since(claims.iat) {
            let lifetime = claims.exp - claims.iat;
            claims.iat = user.logged_out_at_ms + 1;
            claims.exp = claims.iat + lifetime;
        }
        let token = self.keys.issue(&claims);
        self.metrics.logins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(LoginOutput { user, token, expires_at_ms: claims.exp, server })
    }

    /// A password login under the limits of CIM-16-4. Every attempt counts, against its user
    /// name and its address, before its password is hashed, and is taken back if it succeeds:
    /// counted after the hash, a flood of concurrent guesses would all pass the check at
    /// once and keep the hashing queue full.
    async fn login_with_password(
        &self,
        user_name: &str,
        password: &str,
        source: Option<Source>,
    ) -> Result<UserRecord> {
        if let Some(source) = source {
            self.count_against_limit(Counter::FailedLoginsFrom(source)).await?;
        }
        self.count_against_limit(Counter::FailedLoginsOf(user_name)).await?;
        let user = self.user_from_password(user_name, password).await?;
        self.undo(Counter::FailedLoginsOf(user_name)).await;
        if let Some(source) = source {
            self.undo(Counter::FailedLoginsFrom(source)).await;
        }
        Ok(user)
    }

    /// The claims of a bearer token, refusing ended logins and tokens of accounts that are
    /// gone or were created again since (spec CIM-14.1-7).
    pub(crate) async fn authenticate(&self, token: &str) -> Result<TokenClaims> {
        let claims = self.keys.verify(token, now_ms()).map_err(|e| ApiError::new(e.code(), e.to_string()))?;
        if self.store.accounts.is_login_ended(&claims.lid).await? {
            return Err(ApiError::new(ErrorCode::UNAUTHENTICATED, "this login has ended"));
        }
        let account = self.store.accounts.user(&claims.sub).await?;
        if !cim_backend::token_names_account(claims.acc, account.as_ref()) {
            return Err(ApiError::new(
                ErrorCode::UNAUTHENTICATED,
                "the account of this token no longer exists",
            ));
        }
        if account.is_some_and(|account| account.logged_out_since(claims.iat)) {
            return Err(ApiError::new(
                ErrorCode::UNAUTHENTICATED,
                "this login ended with a Logout of all devices",
            ));
        }
        Ok(claims)
    }

    pub(crate) fn check_api_key(&self, given: Option<&str>) -> Result<()> {
        let given = given.unwrap_or("");
        match &self.options.api_key {
            Some(key) if !given.is_empty() && constant_time_eq(given.as_bytes(), key.as_bytes()) => Ok(()),
            Some(_) => Err(ApiError::new(ErrorCode::UNAUTHENTICATED, "missing or wrong API key")),
            None => Err(ApiError::new(
                ErrorCode::UNAUTHENTICATED,
                "this route has no API key configured (--api-key)",
            )),
        }
    }

    pub(crate) async fn logout(&self, claims: &TokenClaims, all_devices: bool) -> Result<()> {
        self.store.accounts.end_login(&claims.lid, claims.exp + cim_backend::CLOCK_SKEW_MS).await?;
        if all_devices {
            // Logins of other devices whose sessions are not open end too (CIM-14.2-10).
            self.store.accounts.log_out_everywhere(&claims.sub, now_ms()).await?;
        }
        let sessions = self.store.presence.sessions_of(&claims.sub).await?;
        for session in sessions.iter().filter(|s| all_devices || s.device_id == claims.dev) {
            if let Some(fanout) = &self.fanout {
                fanout
                    .end_sessions(&claims.sub, Some(&session.session_id), wire::GoAwayReason::LoggedOut)
                    .await;
            }
        }
        Ok(())
    }

    pub(crate) async fn user_infos(
        &self,
        ids: impl IntoIterator<Item = String>,
    ) -> Result<Vec<wire::UserInfo>> {
        let mut out = Vec::new();
        for user_id in ids {
            let online = !self.store.presence.sessions_of(&user_id).await?.is_empty();
            let user_name =
                self.store.accounts.user(&user_id).await?.map_or_else(|| user_id.clone(), |u| u.user_name);
            out.push(wire::UserInfo { user_id, user_name, online });
        }
        Ok(out)
    }

    /// One page of online users; page tokens carry the last user id (spec §14.7).
    pub(crate) async fn online_users(
        &self,
        page_token: &str,
        page_size: u32,
    ) -> Result<wire::OnlineUsersResponse> {
        let size = match page_size {
            0 => 100,
            n => n.min(1000),
        } as usize;
        let after = if page_token.is_empty() {
            None
        } else {
            let unknown = || ApiError::invalid("unknown page_token");
            let bytes = URL_SAFE_NO_PAD.decode(page_token).map_err(|_| unknown())?;
            Some(String::from_utf8(bytes).map_err(|_| unknown())?)
        };
        let page = self.store.presence.online_users(after.as_deref(), size).await?;
        Ok(wire::OnlineUsersResponse {
            users: self.user_infos(page.user_ids).await?,
            next_page_token: page.next_after.map(|last| URL_SAFE_NO_PAD.encode(last)).unwrap_or_default(),
            total_online: page.total,
        })
    }

    pub(crate) async fn users_by_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<wire::UserInfo>> {
        let limit = match limit {
            0 => 20,
            n => n.min(100),
        } as usize;
        let users = self.store.accounts.users_by_prefix(prefix, limit).await?;
        self.user_infos(users.into_iter().map(|u| u.user_id)).await
    }

    /// The users named exactly `user_name` (spec CIM-14.4-40), by user id. Exact matches sort
    /// first among the prefix matches, so the prefix search finds them all; at most 100.
    pub(crate) async fn users_by_name(&self, user_name: &str) -> Result<Vec<wire::UserInfo>> {
        if user_name.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids: Vec<String> = self
            .store
            .accounts
            .users_by_prefix(user_name, 100)
            .await?
            .into_iter()
            .filter(|u| u.user_name == user_name)
            .map(|u| u.user_id)
            .collect();
        ids.sort();
        self.user_infos(ids).await
    }

    pub(crate) async fn create_group(
        &self,
        claims: &TokenClaims,
        group_id: &str,
        members: &[String],
    ) -> Result<wire::GroupInfo> {
        if !valid_name(group_id, 128) || group_id == "." || group_id == ".." {
            return Err(ApiError::invalid("group_id must be 1 to 128 of A-Z a-z 0-9 _ . - (not . or ..)"));
        }
        // Nobody is made a member by someone else (CIM-14.4-38): otherwise one Send to a group
        // of strangers lands in all their inboxes. Unknown users are NOT_FOUND first (14.4-22).
        let others: Vec<&String> = members.iter().filter(|m| **m != claims.sub).collect();
        for other in &others {
            if self.store.accounts.user(other).await?.is_none() {
                return Err(ApiError::new(ErrorCode::NOT_FOUND, format!("no user {other}")));
            }
        }
        if let Some(other) = others.first() {
            return Err(ApiError::new(
                ErrorCode::FORBIDDEN,
                format!(
                    "{other} must join the group themselves (JoinGroup); nobody is added by someone else"
                ),
            ));
        }
        Ok(group_info(self.store.groups.create_group(group_id, &claims.sub, &[]).await?))
    }

    pub(crate) async fn join_group(&self, claims: &TokenClaims, group_id: &str) -> Result<wire::GroupInfo> {
        Ok(group_info(self.store.groups.join_group(group_id, &claims.sub).await?))
    }

    pub(crate) async fn leave_group(&self, claims: &TokenClaims, group_id: &str) -> Result<wire::GroupInfo> {
        Ok(group_info(self.store.groups.leave_group(group_id, &claims.sub).await?))
    }

    pub(crate) async fn group_members(
        &self,
        claims: &TokenClaims,
        group_id: &str,
    ) -> Result<Vec<wire::UserInfo>> {
        let group = self
            .store
            .groups
            .group(group_id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NOT_FOUND, format!("no group {group_id}")))?;
        if !group.members.contains(&claims.sub) {
            return Err(ApiError::new(ErrorCode::FORBIDDEN, "only members may list a group"));
        }
        self.user_infos(group.members).await
    }

    pub(crate) async fn my_groups(&self, claims: &TokenClaims) -> Result<Vec<wire::GroupInfo>> {
        Ok(self.store.groups.groups_of(&claims.sub).await?.into_iter().map(group_info).collect())
    }

    pub(crate) async fn servers(&self) -> Result<Vec<wire::ServerInfo>> {
        self.registry.servers().await.map_err(|e| ApiError::new(ErrorCode::UNAVAILABLE, e.to_string()))
    }
}

/// The token of an `authorization: Bearer <token>` value (scheme in any case, spec §14.4-7).
pub(crate) fn bearer_token(value: Option<&str>) -> Result<&str> {
    let value = value
        .ok_or_else(|| ApiError::new(ErrorCode::UNAUTHENTICATED, "missing authorization: Bearer <token>"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::UNAUTHENTICATED, "authorization must be Bearer <token>"));
    }
    Ok(token.trim())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
