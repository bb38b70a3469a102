//! The delivery promise under random faults (spec §9): every message acknowledged to its
//! sender reaches the recipient's application exactly once, in send order, whatever the
//! schedule of latency, dropped connections, partitions, pushes overtaking each other and
//! recipient restarts.

mod support;

use std::time::Duration;

use proptest::prelude::*;
use support::{World, texts};

#[derive(Clone, Debug)]
enum Op {
    /// Alice sends this many messages to Bob.
    Send(u8),
    /// Time passes.
    Wait(Duration),
    /// A connection drops, bytes in flight are lost.
    KillAlice,
    KillBob,
    /// Nothing gets through for a while; heartbeats must notice.
    Partition(Duration),
    /// Connections drop at random for a while.
    Flaky {
        per_step: f64,
        for_: Duration,
    },
    /// Bob's app restarts from the resume point it stored.
    RestartBob,
    /// Pushes overtake each other for a while (two servers pushing into one inbox).
    ReorderPushes(Duration),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..12).prop_map(Op::Send),
        3 => (0u64..3_000).prop_map(|ms| Op::Wait(Duration::from_millis(ms))),
        2 => Just(Op::KillAlice),
        2 => Just(Op::KillBob),
        1 => (1u64..90).prop_map(|s| Op::Partition(Duration::from_secs(s))),
        2 => ((0.05f64..0.6), (100u64..5_000)).prop_map(|(p, ms)| Op::Flaky {
            per_step: p,
            for_: Duration::from_millis(ms)
        }),
        1 => Just(Op::RestartBob),
        2 => (1u64..3_000).prop_map(|ms| Op::ReorderPushes(Duration::from_millis(ms))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn acked_messages_arrive_exactly_once_in_send_order(
        seed in any::<u64>(),
        latency_ms in 0u64..200,
        websocket in any::<bool>(),
        ops in prop::collection::vec(op(), 1..30),
    ) {
        let mut world = if websocket { World::websocket(seed) } else { World::new(seed) };
        world.faults.latency = Duration::from_millis(latency_ms);
        let alice = world.add_client("alice", "alice-1");
        let mut bob = world.add_client("bob", "bob-1");
        // What Bob's application saw, across restarts.
        let mut bob_seen: Vec<String> = Vec::new();
        let mut sent: Vec<String> = Vec::new();

        for op in ops {
            match op {
                Op::Send(n) => {
                    for _ in 0..n {
                        let text = format!("m{}", sent.len());
                        world.send_text(alice, "bob", &text);
                        sent.push(text);
                    }
                }
                Op::Wait(d) => world.drive_for(d),
                Op::KillAlice => world.kill_connections_of(alice),
                Op::KillBob => world.kill_connections_of(bob),
                Op::Partition(d) => {
                    world.faults.partitioned = true;
                    world.drive_for(d);
                    world.faults.partitioned = false;
                }
                Op::Flaky { per_step, for_ } => {
                    world.faults.kill_probability = per_step;
                    world.drive_for(for_);
                    world.faults.kill_probability = 0.0;
                }
                Op::ReorderPushes(d) => {
                    world.faults.reorder_pushes = true;
                    world.drive_for(d);
                    world.faults.reorder_pushes = false;
                }
                Op::RestartBob => {
                    let resume = world.clients[bob].session.resume_point();
                    bob_seen.extend(texts(&world.clients[bob].received));
                    let now = world.now;
                    world.clients[bob].session.close(now);
                    world.step();
                    bob = world.add_client_with("bob", "bob-1", |c| c.resume = resume);
                }
            }
            // At every point: nothing Bob saw is duplicated or out of order.
            let mut so_far = bob_seen.clone();
            so_far.extend(texts(&world.clients[bob].received));
            prop_assert!(is_in_order_without_duplicates(&so_far, &sent), "bob saw {:?}", so_far);
        }

        // Heal everything; every message must now be acked and delivered.
        let total = sent.len();
        let healed = world.drive_until(Duration::from_secs(600), |w| {
            w.clients[alice].acked.len() == total
                && w.clients[alice].session.unacked().count() == 0
        });
        prop_assert!(healed, "only {} of {} acked", world.clients[alice].acked.len(), total);
        let acked_ids: Vec<&str> = world.clients[alice].acked.iter().map(|a| a.message_id.as_str()).collect();
        let distinct: std::collections::BTreeSet<_> = acked_ids.iter().collect();
        prop_assert_eq!(distinct.len(), total, "one server message id per message");

        let delivered = world.drive_until(Duration::from_secs(600), |w| {
            bob_seen.len() + w.clients[bob].received.len() >= total
        });
        world.drive_for(Duration::from_secs(5)); // anything extra would show up now
        bob_seen.extend(texts(&world.clients[bob].received));
        prop_assert!(delivered, "bob saw {} of {}", bob_seen.len(), total);
        prop_assert_eq!(&bob_seen, &sent);
    }
}

/// Whether `seen` is a prefix-free subsequence of `sent`: every element at most once and in
/// `sent`'s order (later messages may still be on their way).
fn is_in_order_without_duplicates(seen: &[String], sent: &[String]) -> bool {
    let mut position = 0;
    for text in seen {
        match sent[position..].iter().position(|s| s == text) {
            Some(offset) => position += offset + 1,
            None => return false,
        }
    }
    true
}
