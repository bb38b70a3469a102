//! Client and server sessions together, in virtual time.

mod support;

use std::time::Duration;

use cim_core::ErrorCode;
use cim_core::client::{ClientEvent, CloseReason, ConnectionState};
use cim_core::wire::{self, GoAwayReason, ResumeOutcome, recipient};
use support::{World, texts};

fn connected_world(users: &[&str]) -> World {
    let mut world = World::new(1);
    for user in users {
        world.add_client(user, &format!("{user}-phone"));
    }
    let n = users.len();
    assert!(world.drive_until(Duration::from_secs(5), |w| { (0..n).all(|c| w.is_connected(c)) }));
    world
}

fn resume_outcomes(events: &[ClientEvent]) -> Vec<ResumeOutcome> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Connected { resume, .. } => Some(*resume),
            _ => None,
        })
        .collect()
}

fn disconnect_errors(events: &[ClientEvent]) -> Vec<(Option<ErrorCode>, Duration)> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Disconnected { error, retry_in } => Some((error.code(), *retry_in)),
            _ => None,
        })
        .collect()
}

#[test]
fn handshake_connects_with_a_fresh_inbox() {
    let world = connected_world(&["alice"]);
    match &world.clients[0].events[..] {
        [ClientEvent::Connected { user_id, resume, session_id, .. }] => {
            assert_eq!(user_id, "alice");
            assert_eq!(*resume, ResumeOutcome::Fresh);
            assert!(!session_id.is_empty());
        }
        other => panic!("unexpected events {other:?}"),
    }
}

#[test]
fn messages_whose_pushes_were_lost_arrive_with_the_periodic_reread() {
    let mut world = connected_world(&["alice", "bob"]);
    world.faults.lose_pushes = true;
    world.send_text(0, "bob", "first");
    world.send_text(0, "bob", "second");
    world.drive_for(Duration::from_secs(1));
    assert!(world.clients[1].received.is_empty(), "no push reached bob");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 2));
    assert_eq!(texts(&world.clients[1].received), ["first", "second"]);
    // Pushes work again: the next one skips ahead of nothing and goes straight out.
    world.faults.lose_pushes = false;
    world.send_text(0, "bob", "third");
    assert!(world.drive_until(Duration::from_millis(100), |w| w.clients[1].received.len() == 3));
}

#[test]
fn pushes_that_overtake_each_other_still_arrive_in_order() {
    let mut world = connected_world(&["alice", "bob"]);
    world.faults.reorder_pushes = true;
    let texts_sent: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    for text in &texts_sent {
        world.send_text(0, "bob", text);
    }
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 20));
    assert_eq!(texts(&world.clients[1].received), texts_sent);
    let seqs: Vec<u64> = world.clients[1].received.iter().map(|d| d.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}

#[test]
fn one_to_one_messages_arrive_in_order_and_are_acked() {
    let mut world = connected_world(&["alice", "bob"]);
    let ids: Vec<String> = (0..5).map(|i| world.send_text(0, "bob", &format!("hi {i}"))).collect();
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 5));
    assert_eq!(texts(&world.clients[1].received), ["hi 0", "hi 1", "hi 2", "hi 3", "hi 4"]);
    let acked: Vec<_> = world.clients[0].acked.iter().map(|a| a.client_msg_id.clone()).collect();
    assert_eq!(acked, ids);
    let seqs: Vec<u64> = world.clients[1].received.iter().map(|d| d.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(world.clients[1].received.iter().all(|d| d.from_user_id == "alice"));
    // The acks reach the server: bob's resume point moved.
    world.drive_for(Duration::from_secs(1));
    assert_eq!(world.clients[1].session.resume_point().map(|p| p.last_acked_seq), Some(5));
}

#[test]
fn websocket_framing_carries_the_same_conversation() {
    let mut world = World::websocket(5);
    world.add_client("alice", "a");
    world.add_client("bob", "b");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.is_connected(0) && w.is_connected(1)));
    for i in 0..3 {
        world.send_text(0, "bob", &format!("ws {i}"));
    }
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 3));
    assert_eq!(texts(&world.clients[1].received), ["ws 0", "ws 1", "ws 2"]);
    assert_eq!(world.clients[0].acked.len(), 3);
}

#[test]
fn idle_connection_survives_on_heartbeats() {
    let mut world = connected_world(&["alice"]);
    world.drive_for(Duration::from_secs(600));
    assert!(world.is_connected(0));
    assert!(disconnect_errors(&world.clients[0].events).is_empty());
    assert!(world.clients[0].session.rtt().is_some(), "pings were answered");
}

#[test]
fn partition_is_detected_by_heartbeat_timeout_and_healed_by_reconnect() {
    let mut world = connected_world(&["alice", "bob"]);
    world.faults.partitioned = true;
    assert!(world.drive_until(Duration::from_secs(120), |w| !w.is_connected(0)));
    let errors = disconnect_errors(&world.clients[0].events);
    assert_eq!(errors[0].0, Some(ErrorCode::HEARTBEAT_TIMEOUT));
    // Dead-peer detection took the heartbeat timeout, not less, not much more.
    let detected = world.elapsed();
    assert!(detected >= Duration::from_secs(25) && detected <= Duration::from_secs(40), "{detected:?}");
    world.faults.partitioned = false;
    assert!(world.drive_until(Duration::from_secs(60), |w| w.is_connected(0) && w.is_connected(1)));
    assert_eq!(resume_outcomes(&world.clients[0].events).last(), Some(&ResumeOutcome::Resumed));
}

#[test]
fn reconnect_backoff_grows_with_full_jitter_up_to_the_cap() {
    let mut world = connected_world(&["alice"]);
    world.faults.partitioned = true;
    world.kill_connections_of(0);
    world.drive_for(Duration::from_secs(600));
    let retries: Vec<Duration> =
        disconnect_errors(&world.clients[0].events).into_iter().map(|(_, d)| d).collect();
    assert!(retries.len() >= 15, "kept retrying: {}", retries.len());
    for (attempt, delay) in retries.iter().enumerate() {
        let ceiling =
            Duration::from_millis(500).saturating_mul(1 << attempt.min(20)).min(Duration::from_secs(30));
        assert!(*delay <= ceiling, "attempt {attempt}: {delay:?} > {ceiling:?}");
    }
    let late: Vec<_> = retries[8..].to_vec();
    assert!(late.iter().any(|d| *d > Duration::from_secs(5)), "delays grow: {late:?}");
    assert!(late.iter().collect::<std::collections::BTreeSet<_>>().len() > late.len() / 2, "jittered");
    world.faults.partitioned = false;
    assert!(world.drive_until(Duration::from_secs(60), |w| w.is_connected(0)));
}

#[test]
fn offline_recipient_gets_everything_on_first_connect() {
    let mut world = connected_world(&["alice"]);
    world.add_client("bob", "bob-phone");
    world.clients[1].session.close(world.now); // bob's app is not running yet
    world.send_text(0, "bob", "one");
    world.send_text(0, "bob", "two");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[0].acked.len() == 2));
    let bob = world.add_client("bob", "bob-phone");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[bob].received.len() == 2));
    assert_eq!(texts(&world.clients[bob].received), ["one", "two"]);
}

#[test]
fn resume_after_reconnect_loses_nothing_and_repeats_nothing() {
    let mut world = connected_world(&["alice", "bob"]);
    for i in 0..3 {
        world.send_text(0, "bob", &format!("before {i}"));
    }
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 3));
    world.faults.partitioned = true;
    world.kill_connections_of(1);
    world.faults.partitioned = false;
    for i in 0..3 {
        world.send_text(0, "bob", &format!("after {i}"));
    }
    assert!(
        world.drive_until(Duration::from_secs(60), |w| w.clients[1].received.len() >= 6 && w.is_connected(1))
    );
    world.drive_for(Duration::from_secs(5));
    assert_eq!(
        texts(&world.clients[1].received),
        ["before 0", "before 1", "before 2", "after 0", "after 1", "after 2"]
    );
    assert_eq!(resume_outcomes(&world.clients[1].events), [ResumeOutcome::Fresh, ResumeOutcome::Resumed]);
}

#[test]
fn unacked_sends_are_retransmitted_after_reconnect_and_deduped() {
    let mut world = connected_world(&["alice", "bob"]);
    world.faults.latency = Duration::from_millis(50);
    world.send_text(0, "bob", "x");
    // Let the Send reach the server and be stored, then cut alice off before the SendAck lands.
    world.drive_for(Duration::from_millis(60));
    world.kill_connections_of(0);
    assert!(world.drive_until(Duration::from_secs(60), |w| w.clients[0].acked.len() == 1));
    let ack = &world.clients[0].acked[0];
    assert!(ack.duplicate, "the retransmission was recognised: {ack:?}");
    world.drive_for(Duration::from_secs(2));
    assert_eq!(texts(&world.clients[1].received), ["x"]);
}

#[test]
fn lost_inbox_is_reported_as_an_epoch_change() {
    let mut world = connected_world(&["alice", "bob"]);
    world.send_text(0, "bob", "old");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 1));
    world.lose_inbox("bob");
    world.kill_connections_of(1);
    assert!(world.drive_until(Duration::from_secs(60), |w| w.is_connected(1)));
    let discontinuity = world.clients[1].events.iter().find_map(|e| match e {
        ClientEvent::InboxDiscontinuity { outcome, epoch } => Some((*outcome, *epoch)),
        _ => None,
    });
    assert_eq!(discontinuity, Some((ResumeOutcome::EpochChanged, 2)));
    world.send_text(0, "bob", "new");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 2));
    assert_eq!(world.clients[1].received[1].seq, 1, "numbering restarts in the new epoch");
}

#[test]
fn trimmed_unread_entries_are_reported_as_a_gap() {
    let mut world = connected_world(&["alice", "bob"]);
    world.send_text(0, "bob", "read");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 1));
    world.faults.partitioned = true;
    world.kill_connections_of(1);
    world.faults.partitioned = false;
    world.clients[1].session.close(world.now);
    for text in ["lost 1", "lost 2", "kept"] {
        world.send_text(0, "bob", text);
    }
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[0].acked.len() == 4));
    world.trim_inbox("bob", 3);
    let resume = world.clients[1].session.resume_point();
    let bob = world.add_client_with("bob", "bob-phone", |c| c.resume = resume);
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[bob].received.len() == 1));
    assert_eq!(texts(&world.clients[bob].received), ["kept"]);
    assert!(
        world.clients[bob]
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::InboxDiscontinuity { outcome: ResumeOutcome::Gap, .. }))
    );
}

#[test]
fn group_and_broadcast_reach_the_others() {
    let mut world = connected_world(&["alice", "bob", "carol"]);
    world.add_group("team", &["alice", "bob", "carol"]);
    world.send_to(0, recipient::Kind::GroupId("team".into()), "to the team");
    world.send_to(0, recipient::Kind::Everyone(wire::Everyone {}), "to all");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 2
        && w.clients[2].received.len() == 2));
    for c in [1, 2] {
        assert_eq!(texts(&world.clients[c].received), ["to the team", "to all"]);
        assert_eq!(world.clients[c].received[1].seq, 0, "broadcast is live only");
    }
    assert!(world.clients[0].received.is_empty(), "the sender gets no copy");
    assert_eq!(world.clients[0].acked.iter().map(|a| a.live_only).collect::<Vec<_>>(), [false, true]);
}

#[test]
fn refused_sends_fail_without_blocking_later_ones() {
    let mut world = connected_world(&["alice", "bob"]);
    world.add_group("closed", &["bob"]);
    let forbidden = world.send_to(0, recipient::Kind::GroupId("closed".into()), "let me in");
    let unknown = world.send_text(0, "nobody", "hello?");
    world.send_text(0, "bob", "fine");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.clients[1].received.len() == 1));
    let failures: Vec<_> = world.clients[0]
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::SendFailed { client_msg_id, code, .. } => Some((client_msg_id.clone(), *code)),
            _ => None,
        })
        .collect();
    assert_eq!(failures, [(forbidden, ErrorCode::FORBIDDEN), (unknown, ErrorCode::UNKNOWN_RECIPIENT)]);
    assert_eq!(world.clients[0].session.unacked().count(), 0);
}

#[test]
fn rejected_login_closes_the_session() {
    let mut world = World::new(3);
    let c = world.add_client("eve", "e");
    world.clients[c].reject_login = true;
    assert!(
        world
            .drive_until(Duration::from_secs(5), |w| w.clients[c].session.state() == ConnectionState::Closed)
    );
    assert!(matches!(&world.clients[c].events[..], [ClientEvent::Closed(CloseReason::LoginRejected { .. })]));
}

#[test]
fn go_away_shutdown_moves_the_client_and_it_resumes() {
    let mut world = connected_world(&["alice"]);
    world.go_away_all(GoAwayReason::Shutdown);
    assert!(
        world.drive_until(Duration::from_secs(60), |w| { resume_outcomes(&w.clients[0].events).len() == 2 })
    );
    assert!(world.is_connected(0));
    assert_eq!(resume_outcomes(&world.clients[0].events)[1], ResumeOutcome::Resumed);
}

#[test]
fn go_away_session_replaced_stops_the_client_for_good() {
    let mut world = connected_world(&["alice"]);
    world.go_away_all(GoAwayReason::SessionReplaced);
    world.drive_for(Duration::from_secs(120));
    assert_eq!(world.clients[0].session.state(), ConnectionState::Closed);
    assert!(matches!(
        world.clients[0].events.last(),
        Some(ClientEvent::Closed(CloseReason::GoAway { reason: GoAwayReason::SessionReplaced, .. }))
    ));
    assert_eq!(world.connection_count(), 0);
}

#[test]
fn server_enforces_rate_limit_and_client_retries_later() {
    let mut world = World::new(9).with_server_config(|c| {
        c.limits.sends_per_second = 10;
        c.limits.send_burst = 2;
    });
    world.add_client("alice", "a");
    world.add_client("bob", "b");
    assert!(world.drive_until(Duration::from_secs(5), |w| w.is_connected(0) && w.is_connected(1)));
    for i in 0..10 {
        world.send_text(0, "bob", &format!("m{i}"));
    }
    assert!(world.drive_until(Duration::from_secs(30), |w| w.clients[1].received.len() == 10));
    assert_eq!(world.clients[0].acked.len(), 10);
    assert!(
        world.elapsed() >= Duration::from_millis(700),
        "10 sends at 10/s with a burst of 2 take most of a second: {:?}",
        world.elapsed()
    );
    let mut got = texts(&world.clients[1].received);
    got.sort();
    let mut want: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(got, want);
}
