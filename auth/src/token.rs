//! Session tokens in the reference format of spec §5.5: `v1.<payload>.<signature>`.
//!
//! The payload is base64url JSON claims; the signature is HMAC-SHA256 over `v1.<payload>`
//! with a secret the deployment's routes and servers share. Clients never look inside.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cim_core::ErrorCode;
use cim_core::server::{Identity, TokenVerifier};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{now_ms, random_bytes};

type HmacSha256 = Hmac<Sha256>;

/// Expired tokens are still accepted this long after `exp` (clock skew, spec §5.2).
pub const CLOCK_SKEW_MS: u64 = 60_000;

/// Default token lifetime.
pub const DEFAULT_TOKEN_LIFETIME_MS: u64 = 24 * 60 * 60 * 1000;

/// What a token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The user.
    pub sub: String,
    /// The device the login was for.
    pub dev: String,
    /// The login, for revocation at logout.
    pub lid: String,
    /// Issued at, ms since the Unix epoch.
    pub iat: u64,
    /// Expires at, ms since the Unix epoch.
    pub exp: u64,
    /// The generation of the user's account when the token was issued; absent in tokens
    /// issued before v1.0.1, which are then checked against the account's existence only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acc: Option<u64>,
}

/// Whether a token whose `acc` claim is `acc` still belongs to `account`, the account the
/// store now holds under the token's user id (spec CIM-5.2-10): it must exist, and be the
/// generation the token was issued for. Tokens without `acc` (issued before v1.0.1) need
/// only the account to exist.
pub fn token_names_account(acc: Option<u64>, account: Option<&crate::UserRecord>) -> bool {
    match (acc, account) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(generation), Some(account)) => account.generation == generation,
    }
}

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not of the form `v1.<payload>.<signature>`, or its claims do not parse.
    #[error("malformed token")]
    Malformed,
    /// The signature does not verify with this deployment's secret.
    #[error("token signature does not verify")]
    BadSignature,
    /// Past `exp` (plus skew).
    #[error("token expired")]
    Expired,
}

impl TokenError {
    /// The registry code a server answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Expired => ErrorCode::TOKEN_EXPIRED,
            Self::Malformed | Self::BadSignature => ErrorCode::UNAUTHENTICATED,
        }
    }
}

/// The shared secret, able to issue and verify tokens.
#[derive(Clone)]
pub struct TokenKeys {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)") // never print the secret
    }
}

impl TokenKeys {
    /// Keys from a secret; at least 32 bytes is recommended (spec §5.5).
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self { secret: secret.into() }
    }

    /// Whether `candidate` is this deployment's token secret (compared in constant time).
    pub fn is_secret(&self, candidate: &[u8]) -> bool {
        candidate.len() == self.secret.len() && bool::from(candidate.ct_eq(&self.secret))
    }

    /// The key that signs calls between this deployment's processes (spec §15.2).
    pub fn internal_auth(&self) -> crate::InternalAuth {
        crate::InternalAuth::derive(&self.secret)
    }

    /// Keys with a fresh random secret, for a single-process deployment.
    pub fn generate() -> Self {
        Self::new(random_bytes::<32>().to_vec())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length.
        HmacSha256::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// A signed token for `claims`.
    pub fn issue(&self, claims: &TokenClaims) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let signed = format!("v1.{}", URL_SAFE_NO_PAD.encode(json));
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signed}.{signature}")
    }

    /// The claims of a valid, unexpired token at `now_ms`.
    pub fn verify(&self, token: &str, now_ms: u64) -> Result<TokenClaims, TokenError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let payload = signed.strip_prefix("v1.").ok_or(TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        let expected = mac.finalize().into_bytes();
        if !bool::from(expected.as_slice().ct_eq(&signature)) {
            return Err(TokenError::BadSignature);
        }
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?;
        let claims: TokenClaims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        // Spec CIM-5.5-6: sub, dev and lid are non-empty; an empty sub would be a session
        // of no user (found by cim-conformance server.token.malformed-but-signed).
        if claims.sub.is_empty() || claims.dev.is_empty() || claims.lid.is_empty() {
            return Err(TokenError::Malformed);
        }
        if now_ms > claims.exp.saturating_add(CLOCK_SKEW_MS) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Claims for a new login of `user` on `device`, valid for `lifetime_ms` from now.
    pub fn new_claims(user: &str, device: &str, lifetime_ms: u64) -> TokenClaims {
        let now = now_ms();
        let lid: String = random_bytes::<16>().iter().map(|b| format!("{b:02x}")).collect();
        TokenClaims {
            sub: user.to_owned(),
            dev: device.to_owned(),
            lid,
            iat: now,
            exp: now + lifetime_ms,
            acc: None,
        }
    }
}

impl TokenVerifier for TokenKeys {
    fn verify(&self, token: &str) -> Result<Identity, ErrorCode> {
        let claims = Self::verify(self, token, now_ms()).map_err(|e| e.code())?;
        Ok(Identity {
            user_id: claims.sub,
            device_id: Some(claims.dev),
            login_id: Some(claims.lid),
            account_generation: claims.acc,
            issued_at_ms: Some(claims.iat),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> TokenClaims {
        TokenClaims { sub: "alice".into(), dev: "phone".into(), lid: "l1".into(), iat: 0, exp, acc: Some(7) }
    }

    #[test]
    fn issued_tokens_verify_and_round_trip_their_claims() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef".to_vec());
        let token = keys.issue(&claims(1_000));
        assert!(token.starts_with("v1."));
        assert_eq!(keys.verify(&token, 500), Ok(claims(1_000)));
    }

    #[test]
    fn tampering_another_secret_and_expiry_are_refused() {
        let keys = TokenKeys::new(b"secret-one-secret-one-secret-one".to_vec());
        let token = keys.issue(&claims(1_000));
        let other = TokenKeys::new(b"secret-two-secret-two-secret-two".to_vec());
        assert_eq!(other.verify(&token, 0), Err(TokenError::BadSignature));
        let forged_payload =
            URL_SAFE_NO_PAD.encode(br#"{"sub":"mallory","dev":"x","lid":"l","iat":0,"exp":9}"#);
        let (_, signature) = token.rsplit_once('.').expect("three parts");
        let forged = format!("v1.{forged_payload}.{signature}");
        assert_eq!(keys.verify(&forged, 0), Err(TokenError::BadSignature));
        assert_eq!(keys.verify(&token, 1_000 + CLOCK_SKEW_MS), Ok(claims(1_000)), "within the skew");
        assert_eq!(keys.verify(&token, 1_001 + CLOCK_SKEW_MS), Err(TokenError::Expired));
        for garbage in ["", "v1", "v1.x", "v2.a.b", "v1.!!.??"] {
            assert!(keys.verify(garbage, 0).is_err(), "{garbage}");
        }
        assert_eq!(TokenError::Expired.code(), ErrorCode::TOKEN_EXPIRED);
    }

    #[test]
    fn signed_tokens_without_a_user_device_or_login_id_are_malformed() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef".to_vec());
        for empty in [
            TokenClaims { sub: String::new(), ..claims(1_000) },
            TokenClaims { dev: String::new(), ..claims(1_000) },
            TokenClaims { lid: String::new(), ..claims(1_000) },
        ] {
            assert_eq!(keys.verify(&keys.issue(&empty), 0), Err(TokenError::Malformed), "{empty:?}");
        }
    }
}
