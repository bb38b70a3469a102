//! The Rust SDK against a node (route + server) started in-process.

mod support;

use std::time::Duration;

use cim_sdk::{Client, ClientOptions, Credentials, Error, Event, ResumeOutcome, Target, Transport};
use support::{NodeExt, drain_messages, next_message, start_node};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn register_login_and_one_to_one() {
    let node = start_node().await;
    let alice = node.user("alice", "alice-laptop").await;
    let mut bob = node.user("bob", "bob-phone").await;
    let ack = alice.send_to_user("bob", "hi bob").await.expect("stored");
    assert!(!ack.duplicate);
    assert_eq!(ack.message_id.len(), 26);
    let message = next_message(&mut bob, WAIT).await;
    assert_eq!(message.text(), "hi bob");
    assert_eq!(message.from, "alice");
    assert_eq!(message.to, Target::User("bob".into()));
    assert_eq!(message.message_id, ack.message_id);
    assert_eq!(message.seq, 1);
}

#[tokio::test]
async fn wrong_password_and_duplicate_registration_are_route_errors() {
    let node = start_node().await;
    cim_sdk::register(&node.url(), "carol", "password-carol").await.expect("registered");
    let again = cim_sdk::register(&node.url(), "carol", "password-carol").await;
    assert_eq!(again.err().and_then(|e| e.code()), Some(cim_core::ErrorCode::ALREADY_EXISTS));
    let wrong =
        Client::login(&node.url(), Credentials::password("carol", "nope-nope"), ClientOptions::new("d"))
            .await;
    assert!(matches!(wrong, Err(Error::Route { code: cim_core::ErrorCode::INVALID_CREDENTIALS, .. })));
    let unknown =
        Client::login(&node.url(), Credentials::password("nobody", "whatever1"), ClientOptions::new("d"))
            .await;
    assert!(matches!(unknown, Err(Error::Route { code: cim_core::ErrorCode::INVALID_CREDENTIALS, .. })));
}

#[tokio::test]
async fn unknown_recipient_is_refused_with_its_code() {
    let node = start_node().await;
    let alice = node.user("alice", "a").await;
    let error = alice.send_to_user("nobody", "hello?").await.expect_err("refused");
    assert_eq!(error.code(), Some(cim_core::ErrorCode::UNKNOWN_RECIPIENT));
}

#[tokio::test]
async fn offline_user_gets_messages_on_login() {
    let node = start_node().await;
    cim_sdk::register(&node.url(), "dave", "password-dave").await.expect("registered");
    let alice = node.user("alice", "a").await;
    for i in 0..3 {
        alice.send_to_user("dave", &format!("while you were out {i}")).await.expect("stored");
    }
    let mut dave = node.login("dave", "dave-phone", Transport::Tcp).await;
    let texts: Vec<String> =
        drain_messages(&mut dave, Duration::from_millis(500)).await.iter().map(|m| m.text()).collect();
    assert_eq!(texts, ["while you were out 0", "while you were out 1", "while you were out 2"]);
}

#[tokio::test]
async fn group_and_broadcast_over_websocket_too() {
    let node = start_node().await;
    let alice = node.user("alice", "a").await;
    let _ = cim_sdk::register(&node.url(), "erin", "password-erin").await;
    let mut bob = node.user("bob", "b").await;
    let mut erin = node.login("erin", "e", Transport::WebSocket).await;
    assert_eq!(erin.status().transport, Transport::WebSocket);
    alice.create_group("team").await.expect("group");
    for member in [&bob, &erin] {
        member.join_group("team").await.expect("joined");
    }
    alice.send_to_group("team", "stand-up in 5").await.expect("stored");
    let ack = alice.broadcast("lunch?").await.expect("sent");
    assert!(ack.live_only);
    for client in [&mut bob, &mut erin] {
        let group = next_message(client, WAIT).await;
        assert_eq!((group.text(), group.to.clone()), ("stand-up in 5".into(), Target::Group("team".into())));
        let all = next_message(client, WAIT).await;
        assert_eq!((all.text(), all.seq, all.to.clone()), ("lunch?".into(), 0, Target::Everyone));
    }
}

#[tokio::test]
async fn two_devices_of_one_user_both_receive() {
    let node = start_node().await;
    let alice = node.user("alice", "a").await;
    let mut phone = node.user("bob", "bob-phone").await;
    let mut laptop = node.login("bob", "bob-laptop", Transport::WebSocket).await;
    alice.send_to_user("bob", "to all your devices").await.expect("stored");
    assert_eq!(next_message(&mut phone, WAIT).await.text(), "to all your devices");
    assert_eq!(next_message(&mut laptop, WAIT).await.text(), "to all your devices");
}

#[tokio::test]
async fn restarted_client_resumes_without_repeats() {
    let node = start_node().await;
    let alice = node.user("alice", "a").await;
    let mut bob = node.user("bob", "bob-phone").await;
    alice.send_to_user("bob", "one").await.expect("stored");
    assert_eq!(next_message(&mut bob, WAIT).await.text(), "one");
    // Taking the message acknowledged it; the resume point moves once its ack is written.
    let deadline = tokio::time::Instant::now() + WAIT;
    let resume = loop {
        let resume = bob.status().resume;
        if resume.is_some_and(|r| r.last_acked_seq == 1) {
            break resume;
        }
        assert!(tokio::time::Instant::now() < deadline, "resume point stays at {resume:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    bob.close().await;
    alice.send_to_user("bob", "two").await.expect("stored");
    let options = ClientOptions::new("bob-phone").resume(resume);
    let mut bob = Client::login(&node.url(), Credentials::password("bob", "password-bob"), options)
        .await
        .expect("login");
    let mut resumed = None;
    let mut texts = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(500), bob.next_event()).await {
        match event {
            Event::Connected { resume, .. } => resumed = Some(resume),
            Event::Message(message) => texts.push(message.text()),
            _ => {}
        }
    }
    assert_eq!(resumed, Some(ResumeOutcome::Resumed));
    assert_eq!(texts, ["two"]);
}

#[tokio::test]
async fn a_message_the_application_never_took_comes_again_after_a_crash() {
    let node = start_node().await;
    let alice = node.user("alice", "a").await;
    let mut bob = node.user("bob", "bob-phone").await;
    alice.send_to_user("bob", "read").await.expect("stored");
    assert_eq!(next_message(&mut bob, WAIT).await.text(), "read");
    alice.send_to_user("bob", "arrived, never read").await.expect("stored");
    // The client has it, queued for the application, which never takes it.
    let waited = tokio::time::timeout(WAIT, async {
        while bob.events_waiting() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "the second message reached the client");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let resume = bob.status().resume;
    assert_eq!(resume.map(|r| r.last_acked_seq), Some(1), "only what the application took");
    drop(bob); // the process dies with the message still queued
    let options = ClientOptions::new("bob-phone").resume(resume);
    let mut bob = Client::login(&node.url(), Credentials::password("bob", "password-bob"), options)
        .await
        .expect("login");
    assert_eq!(next_message(&mut bob, WAIT).await.text(), "arrived, never read");
}

#[tokio::test]
async fn metrics_and_health_report_the_traffic() {
    let node = start_node().await;
    let alice = node.user("alice", "a").await;
    let mut bob = node.user("bob", "b").await;
    alice.send_to_user("bob", "counted").await.expect("stored");
    next_message(&mut bob, WAIT).await;
    let _ = alice.send_to_user("nobody", "refused").await;
    cim_sdk::register(&node.url(), "carol", "password-carol").await.expect("registered");
    alice.send_to_user("carol", "waits in the inbox").await.expect("stored");
    let admin = node.server.admin_addr();
    // Bob's entry goes once his ack lands (every known device read it); Carol's stays.
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = reqwest::get(format!("http://{admin}/metrics"))
            .await
            .expect("served")
            .text()
            .await
            .expect("text");
        if metrics.lines().any(|l| l == "cim_store_inbox_entries 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for line in [
        "cim_server_sessions 2",
        "cim_server_messages_accepted_total 2",
        "cim_server_deliveries_total 1",
        "cim_server_errors_total{code=\"3000\",name=\"UNKNOWN_RECIPIENT\"} 1",
        "cim_store_inbox_entries 1",
        "cim_server_send_to_ack_seconds_count 3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "missing {line:?} in\n{metrics}");
    }
    let health: serde_json::Value =
        reqwest::get(format!("http://{admin}/healthz")).await.expect("served").json().await.expect("json");
    assert_eq!(health["ok"], true);
    let route_health: serde_json::Value =
        reqwest::get(format!("{}/healthz", node.url())).await.expect("served").json().await.expect("json");
    assert_eq!(route_health["ok"], true);
    let route_admin = node.route.admin_addr();
    let route_metrics = reqwest::get(format!("http://{route_admin}/metrics"))
        .await
        .expect("served")
        .text()
        .await
        .expect("text");
    for wanted in [
        "cim_route_logins_total 2",
        "cim_route_requests_total{binding=\"http\",endpoint=\"POST /v1/login\",code=\"200\"} 2",
        "cim_route_request_duration_seconds_count{binding=\"http\",endpoint=\"POST /v1/login\"} 2",
        "cim_route_build_info{version=",
        "process_resident_memory_bytes ",
    ] {
        assert!(route_metrics.contains(wanted), "missing {wanted:?} in\n{route_metrics}");
    }
    // The clients' port does not show them.
    let public = reqwest::get(format!("{}/metrics", node.url())).await.expect("answered");
    assert_eq!(public.status(), 404);
}
