//! How the processes of one deployment recognise each other on the internal push service
//! (spec §15.2): every call carries a short-lived signature under a key derived from the
//! token secret, which only the deployment's routes and servers hold.
//!
//! Without it, anyone who reaches a server's internal port can deliver a message "from"
//! anybody to any session, or end a user's sessions.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tonic::metadata::MetadataValue;
use tonic::{Request, Status};

use crate::now_ms;

type HmacSha256 = Hmac<Sha256>;

/// The gRPC metadata key that carries the signature.
pub const INTERNAL_AUTH_METADATA: &str = "x-cim-internal-auth";

/// What the internal key is derived with, so that it differs from the token key itself.
const KEY_LABEL: &[u8] = b"cim internal push v1";

/// How far a signature's time may be from the receiver's clock (clock skew, as for tokens).
const MAX_SKEW_MS: u64 = 60_000;

/// The key of a deployment's internal calls.
#[derive(Clone)]
pub struct InternalAuth {
    key: [u8; 32],
}

impl std::fmt::Debug for InternalAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InternalAuth(..)") // never print the key
    }
}

/// Why an internal call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InternalAuthError {
    /// The call carries no signature.
    #[error("missing {INTERNAL_AUTH_METADATA}")]
    Missing,
    /// Not of the form `v1.<ms>.<signature>`.
    #[error("malformed {INTERNAL_AUTH_METADATA}")]
    Malformed,
    /// The signature does not verify: the caller does not hold this deployment's secret.
    #[error("{INTERNAL_AUTH_METADATA} does not verify")]
    BadSignature,
    /// Signed more than a minute away from now.
    #[error("{INTERNAL_AUTH_METADATA} is stale")]
    Stale,
}

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

impl InternalAuth {
    /// The internal key of the deployment whose token secret is `token_secret`:
    /// HMAC-SHA256(token secret, "cim internal push v1").
    pub fn derive(token_secret: &[u8]) -> Self {
        let mut mac = mac(token_secret);
        mac.update(KEY_LABEL);
        Self { key: mac.finalize().into_bytes().into() }
    }

    /// The metadata value for a call made at `now_ms`: `v1.<now_ms>.<signature>`, the
    /// signature being the base64url HMAC-SHA256 of `v1.<now_ms>` under the internal key.
    pub fn sign(&self, now_ms: u64) -> String {
        let signed = format!("v1.{now_ms}");
        let mut mac = mac(&self.key);
        mac.update(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// Checks a metadata value received at `now_ms`.
    pub fn verify(&self, value: Option<&str>, now_ms: u64) -> Result<(), InternalAuthError> {
        let value = value.ok_or(InternalAuthError::Missing)?;
        let (signed, signature) = value.rsplit_once('.').ok_or(InternalAuthError::Malformed)?;
        let signed_at: u64 =
            signed.strip_prefix("v1.").and_then(|ms| ms.parse().ok()).ok_or(InternalAuthError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| InternalAuthError::Malformed)?;
        let mut mac = mac(&self.key);
        mac.update(signed.as_bytes());
        if !bool::from(mac.finalize().into_bytes().as_slice().ct_eq(&signature)) {
            return Err(InternalAuthError::BadSignature);
        }
        if signed_at.abs_diff(now_ms) > MAX_SKEW_MS {
            return Err(InternalAuthError::Stale);
        }
        Ok(())
    }

    /// A tonic interceptor that signs every outgoing call.
    pub fn signer(&self) -> SignCalls {
        SignCalls(self.clone())
    }

    /// A tonic interceptor that refuses incoming calls without a valid signature, with
    /// status UNAUTHENTICATED and `cim-error-code` 2000.
    pub fn verifier(&self) -> VerifyCalls {
        VerifyCalls(self.clone())
    }
}

/// Signs outgoing internal calls; see [`InternalAuth::signer`].
#[derive(Clone, Debug)]
pub struct SignCalls(InternalAuth);

impl tonic::service::Interceptor for SignCalls {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let value = MetadataValue::try_from(self.0.sign(now_ms()))
            .map_err(|_| Status::internal("cannot sign an internal call"))?;
        request.metadata_mut().insert(INTERNAL_AUTH_METADATA, value);
        Ok(request)
    }
}

/// Verifies incoming internal calls; see [`InternalAuth::verifier`].
#[derive(Clone, Debug)]
pub struct VerifyCalls(InternalAuth);

impl tonic::service::Interceptor for VerifyCalls {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let value = request.metadata().get(INTERNAL_AUTH_METADATA).and_then(|v| v.to_str().ok());
        match self.0.verify(value, now_ms()) {
            Ok(()) => Ok(request),
            Err(error) => {
                tracing::warn!(%error, "refused an internal call that does not come from this deployment");
                let mut status = Status::unauthenticated(error.to_string());
                status.metadata_mut().insert("cim-error-code", cim_core::ErrorCode::UNAUTHENTICATED.0.into());
                Err(status)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_same_secret_only() {
        let ours = InternalAuth::derive(b"the deployment's token secret, 32+ bytes");
        let theirs = InternalAuth::derive(b"somebody else's token secret, 32+ bytes!");
        let value = ours.sign(1_000_000);
        assert_eq!(ours.verify(Some(&value), 1_000_500), Ok(()));
        assert_eq!(theirs.verify(Some(&value), 1_000_500), Err(InternalAuthError::BadSignature));
        assert_eq!(ours.verify(None, 1_000_500), Err(InternalAuthError::Missing));
        assert_eq!(ours.verify(Some("v1.x.y"), 0), Err(InternalAuthError::Malformed));
        assert_eq!(ours.verify(Some(&value), 1_000_000 + MAX_SKEW_MS + 1), Err(InternalAuthError::Stale));
        let (_, signature) = value.rsplit_once('.').expect("three parts");
        let moved = format!("v1.2000000.{signature}");
        assert_eq!(ours.verify(Some(&moved), 2_000_000), Err(InternalAuthError::BadSignature));
    }

    #[test]
    fn the_spec_example_holds() {
        let secret: Vec<u8> = (0u8..32).collect();
        let auth = InternalAuth::derive(&secret);
        assert_eq!(
            auth.key.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "28ec367705dbd91444a87147f5bd81d569be51b7d4d6ff5bd2e6504bcf8809bc"
        );
        assert_eq!(
            auth.sign(1_700_000_000_000),
            "v1.1700000000000.8JiJeQMUSpPPZ06G-T_C7u2rtC1blAtjASKFwMdq67I"
        );
    }

    #[test]
    fn the_internal_key_is_not_the_token_secret() {
        let secret = b"the deployment's token secret, 32+ bytes";
        assert_ne!(InternalAuth::derive(secret).key.as_slice(), &secret[..32]);
    }
}
