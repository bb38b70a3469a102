//! TLS on both transports, with a certificate the client was told to trust.

mod support;

use std::time::Duration;

use cim_sdk::{Client, ClientOptions, Credentials, Error, Transport};
use support::{next_message, start_node_with};

/// A self-signed certificate for 127.0.0.1, written as PEM files; returns (cert PEM, paths).
fn certificate(dir: &std::path::Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("certificate");
    let cert_pem = generated.cert.pem();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &cert_pem).expect("write cert");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("write key");
    (cert_pem, cert, key)
}

#[tokio::test]
async fn tls_tcp_and_secure_websocket_carry_messages() {
    let dir = std::env::temp_dir().join(format!("cim-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cert_pem, cert, key) = certificate(&dir);
    let node = start_node_with(|o| {
        o.tls_cert = Some(cert);
        o.tls_key = Some(key);
    })
    .await;
    assert!(node.server.info().tcp_tls);
    assert!(node.server.info().ws_url.starts_with("wss://"));
    for user in ["alice", "bob"] {
        cim_sdk::register(&node.url(), user, &format!("password-{user}")).await.expect("registered");
    }
    let login = |user: &'static str, transport| {
        let options =
            ClientOptions::new(format!("{user}-device")).transport(transport).trust_pem(cert_pem.as_bytes());
        let url = node.url();
        async move {
            Client::login(
                &url,
                Credentials::password(user, format!("password-{user}")),
                options.expect("pem"),
            )
            .await
        }
    };
    let alice = login("alice", Transport::Tcp).await.expect("TLS over TCP");
    let mut bob = login("bob", Transport::WebSocket).await.expect("secure WebSocket");
    alice.send_to_user("bob", "over TLS").await.expect("stored");
    assert_eq!(next_message(&mut bob, Duration::from_secs(10)).await.text(), "over TLS");

    // Without trusting the certificate the client never gets a session.
    let mut untrusting = ClientOptions::new("eve-device");
    untrusting.connect_timeout = Duration::from_secs(2);
    let refused =
        Client::login(&node.url(), Credentials::password("alice", "password-alice"), untrusting).await;
    assert!(matches!(refused, Err(Error::Timeout(_))), "{:?}", refused.err());
}
