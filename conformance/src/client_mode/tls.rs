//! TLS for the server the harness plays: a certificate made for each case, and the versions a
//! client's ClientHello offers, read before the handshake consumes it.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsAcceptor;

/// The certificate the harness's server presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// Names the server's IP, and the client is told to trust it.
    Valid,
    /// Trusted, but names another host.
    WrongName,
    /// Names the server's IP, but the client is told to trust a different certificate.
    Untrusted,
}

/// A TLS server identity and the certificate the client under test is told to trust.
pub(super) struct TlsServer {
    /// PEM of the certificate the client should trust, as a user configures a private CA.
    pub(super) trusted_pem: String,
    /// Completes handshakes as the harness's server.
    pub(super) acceptor: TlsAcceptor,
}

impl TlsServer {
    /// Makes fresh self-signed certificates for `certificate`, for a server at `ip`.
    pub(super) fn new(certificate: Certificate, ip: std::net::IpAddr) -> Result<Self, String> {
        let names = match certificate {
            Certificate::WrongName => vec!["wrong-host.invalid".to_owned()],
            Certificate::Valid | Certificate::Untrusted => vec![ip.to_string()],
        };
        let served = rcgen::generate_simple_self_signed(names).map_err(|e| e.to_string())?;
        let trusted_pem = match certificate {
            Certificate::Untrusted => rcgen::generate_simple_self_signed(vec![ip.to_string()])
                .map_err(|e| e.to_string())?
                .cert
                .pem(),
            Certificate::Valid | Certificate::WrongName => served.cert.pem(),
        };
        let chain: Vec<CertificateDer<'static>> = vec![served.cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(served.signing_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| e.to_string())?;
        Ok(Self { trusted_pem, acceptor: TlsAcceptor::from(Arc::new(config)) })
    }
}

/// What the first bytes of a connection said.
#[derive(Debug)]
pub(super) enum Opening {
    /// A TLS ClientHello offering these versions (0x0303 is TLS 1.2, 0x0304 TLS 1.3).
    ClientHello(Vec<u16>),
    /// Something else; the text shows it.
    NotTls(String),
}

/// Reads the client's first TLS record without consuming it, so that the handshake can
/// still run on the stream.
pub(super) async fn peek_opening(stream: &TcpStream, wait: Duration) -> Result<Opening, String> {
    let deadline = Instant::now() + wait;
    let mut buf = vec![0u8; 5 + 16 * 1024];
    loop {
        let n = timeout_at(deadline, stream.peek(&mut buf))
            .await
            .map_err(|_| "the client sent nothing".to_owned())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the client closed the connection without a word".into());
        }
        if buf[0] != 0x16 {
            return Ok(Opening::NotTls(crate::transcript::hex(&buf[..n.min(16)])));
        }
        if n >= 5 {
            let need = 5 + usize::from(u16::from_be_bytes([buf[3], buf[4]]));
            if n >= need {
                return Ok(match offered_versions(&buf[..need]) {
                    Some(versions) => Opening::ClientHello(versions),
                    None => Opening::NotTls(format!(
                        "a TLS record that is not a ClientHello: {}",
                        crate::transcript::hex(&buf[..n.min(16)])
                    )),
                });
            }
        }
        if Instant::now() >= deadline {
            return Err("the ClientHello did not arrive whole".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The versions a ClientHello record offers: its supported_versions extension (RFC 8446
/// §4.2.1) without GREASE values, or else its legacy version.
fn offered_versions(record: &[u8]) -> Option<Vec<u16>> {
    let u16_at = |bytes: &[u8], at: usize| Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
    let handshake = record.get(5..)?;
    if *handshake.first()? != 1 {
        return None;
    }
    let body = handshake.get(4..)?;
    let legacy = u16_at(body, 0)?;
    let mut at = 2 + 32;
    at += 1 + usize::from(*body.get(at)?);
    at += 2 + usize::from(u16_at(body, at)?);
    at += 1 + usize::from(*body.get(at)?);
    let Some(extensions_len) = u16_at(body, at) else { return Some(vec![legacy]) };
    at += 2;
    let end = at + usize::from(extensions_len);
    while at + 4 <= end {
        let (kind, len) = (u16_at(body, at)?, usize::from(u16_at(body, at + 2)?));
        at += 4;
        if kind == 43 {
            let data = body.get(at..at + len)?;
            let listed = data.get(1..1 + usize::from(*data.first()?))?;
            let grease = |v: &u16| v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff;
            return Some(
                listed
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .filter(|v| !grease(v))
                    .collect(),
            );
        }
        at += len;
    }
    Some(vec![legacy])
}

/// A TLS version's name.
pub(super) fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_hello(extensions: &[u8]) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend([7u8; 32]);
        body.push(0); // session id
        body.extend([0, 2, 0x13, 0x01]); // one cipher suite
        body.extend([1, 0]); // null compression
        body.extend((extensions.len() as u16).to_be_bytes());
        body.extend(extensions);
        let mut handshake = vec![1];
        handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
        handshake.extend(body);
        let mut record = vec![0x16, 0x03, 0x01];
        record.extend((handshake.len() as u16).to_be_bytes());
        record.extend(handshake);
        record
    }

    #[test]
    fn supported_versions_win_over_the_legacy_version_and_grease_is_dropped() {
        // server_name (empty), then supported_versions: GREASE, TLS 1.3, TLS 1.2.
        let extensions = [0, 0, 0, 0, 0, 43, 0, 7, 6, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03];
        assert_eq!(offered_versions(&client_hello(&extensions)), Some(vec![0x0304, 0x0303]));
    }

    #[test]
    fn without_supported_versions_the_legacy_version_is_offered() {
        assert_eq!(offered_versions(&client_hello(&[])), Some(vec![0x0303]));
    }

    #[test]
    fn a_record_that_is_not_a_client_hello_is_refused() {
        let mut record = client_hello(&[]);
        record[5] = 2; // server_hello
        assert_eq!(offered_versions(&record), None);
        assert_eq!(offered_versions(&record[..20]), None);
    }
}
