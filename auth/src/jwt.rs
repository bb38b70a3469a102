//! Verifying JWTs issued by an application's own backend (HS256, spec §5.3).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a JWT was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not three base64url parts with JSON header and claims.
    #[error("malformed JWT")]
    Malformed,
    /// Not `alg: HS256`.
    #[error("JWT algorithm {0} is not accepted; use HS256")]
    Algorithm(String),
    /// The signature does not verify with the shared secret.
    #[error("JWT signature does not verify")]
    BadSignature,
    /// Missing `sub` or `exp`, past `exp`, or before `nbf`.
    #[error("JWT is not valid now: {0}")]
    Invalid(&'static str),
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    /// Seconds since the Unix epoch, as JWTs count.
    exp: Option<u64>,
    nbf: Option<u64>,
}

/// The user (`sub`) of a valid HS256 JWT at `now_ms`, allowing `skew_ms` either way.
pub fn verify_hs256(jwt: &str, secret: &[u8], now_ms: u64, skew_ms: u64) -> Result<String, JwtError> {
    let mut parts = jwt.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let signed_len = header.len() + 1 + claims.len();
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed);
    let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
    if header.alg != "HS256" {
        return Err(JwtError::Algorithm(header.alg));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| JwtError::BadSignature)?;
    mac.update(&jwt.as_bytes()[..signed_len]);
    if !bool::from(mac.finalize().into_bytes().as_slice().ct_eq(&decode(signature)?)) {
        return Err(JwtError::BadSignature);
    }
    let claims: Claims = serde_json::from_slice(&decode(claims)?).map_err(|_| JwtError::Malformed)?;
    let sub = claims.sub.filter(|s| !s.is_empty()).ok_or(JwtError::Invalid("no sub"))?;
    let exp_ms = claims.exp.ok_or(JwtError::Invalid("no exp"))?.saturating_mul(1000);
    if now_ms > exp_ms.saturating_add(skew_ms) {
        return Err(JwtError::Invalid("expired"));
    }
    if let Some(nbf) = claims.nbf
        && now_ms.saturating_add(skew_ms) < nbf.saturating_mul(1000)
    {
        return Err(JwtError::Invalid("not yet valid"));
    }
    Ok(sub)
}

/// Signs an HS256 JWT: for tests and for app backends written in Rust.
pub fn sign_hs256(claims_json: &str, secret: &[u8]) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims_json)
    );
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";

    #[test]
    fn valid_jwt_gives_its_subject() {
        let jwt = sign_hs256(r#"{"sub":"carol","exp":2000}"#, SECRET);
        assert_eq!(verify_hs256(&jwt, SECRET, 1_000_000, 0), Ok("carol".to_owned()));
    }

    #[test]
    fn bad_jwts_are_refused() {
        let expired = sign_hs256(r#"{"sub":"carol","exp":1}"#, SECRET);
        assert_eq!(verify_hs256(&expired, SECRET, 5_000, 0), Err(JwtError::Invalid("expired")));
        let early = sign_hs256(r#"{"sub":"carol","exp":99,"nbf":50}"#, SECRET);
        assert_eq!(verify_hs256(&early, SECRET, 10_000, 0), Err(JwtError::Invalid("not yet valid")));
        let no_exp = sign_hs256(r#"{"sub":"carol"}"#, SECRET);
        assert_eq!(verify_hs256(&no_exp, SECRET, 0, 0), Err(JwtError::Invalid("no exp")));
        let good = sign_hs256(r#"{"sub":"carol","exp":2000}"#, SECRET);
        assert_eq!(verify_hs256(&good, b"other", 0, 0), Err(JwtError::BadSignature));
        let none_alg =
            format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(b"{}"));
        assert_eq!(verify_hs256(&none_alg, SECRET, 0, 0), Err(JwtError::Algorithm("none".into())));
        assert_eq!(verify_hs256("a.b", SECRET, 0, 0), Err(JwtError::Malformed));
    }
}
