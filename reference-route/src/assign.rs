//! Choosing a server for a login.

use std::sync::atomic::{AtomicUsize, Ordering};

use cim_backend::random_bytes;
use cim_core::wire::ServerInfo;

/// How the route picks a server for a login.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// The same user lands on the same server while the server set is stable; when a server
    /// joins or leaves, only the users of its share move.
    #[default]
    ConsistentHash,
    /// Each login goes to the next server in turn.
    RoundRobin,
    /// A server at random.
    Random,
    /// The server with the fewest connections, as last reported.
    LeastLoaded,
}

/// Virtual nodes per server on the hash ring: enough to spread users evenly.
const VIRTUAL_NODES: u32 = 160;

/// Picks servers by a [`Strategy`].
#[derive(Debug, Default)]
pub struct Assigner {
    strategy: Strategy,
    next: AtomicUsize,
}

impl Assigner {
    /// An assigner using `strategy`.
    pub fn new(strategy: Strategy) -> Self {
        Self { strategy, next: AtomicUsize::new(0) }
    }

    /// The server for `user_id` among `servers`, ignoring draining ones.
    pub fn pick<'a>(&self, user_id: &str, servers: &'a [ServerInfo]) -> Option<&'a ServerInfo> {
        let live: Vec<&ServerInfo> = servers.iter().filter(|s| !s.draining).collect();
        if live.is_empty() {
            return None;
        }
        let index = match self.strategy {
            Strategy::ConsistentHash => return consistent_hash(user_id, &live),
            Strategy::RoundRobin => self.next.fetch_add(1, Ordering::Relaxed) % live.len(),
            Strategy::Random => usize::from(u16::from_le_bytes(random_bytes::<2>())) % live.len(),
            Strategy::LeastLoaded => {
                return live.into_iter().min_by_key(|s| (s.connections, s.server_id.clone()));
            }
        };
        live.get(index).copied()
    }
}

/// FNV-1a: stable across processes and versions, which the ring needs (std's hasher is not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Mixes FNV's weak low bits so that nearby keys spread over the ring.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn consistent_hash<'a>(user_id: &str, servers: &[&'a ServerInfo]) -> Option<&'a ServerInfo> {
    let key = mix(fnv1a(user_id.as_bytes()));
    // The first virtual node clockwise from the key; building the ring per login is cheap
    // for the handful of servers a deployment has.
    servers
        .iter()
        .flat_map(|server| {
            (0..VIRTUAL_NODES)
                .map(move |i| (mix(fnv1a(format!("{}#{i}", server.server_id).as_bytes())), *server))
        })
        .min_by_key(|(point, _)| point.wrapping_sub(key))
        .map(|(_, server)| server)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(n: usize) -> Vec<ServerInfo> {
        (0..n)
            .map(|i| ServerInfo {
                server_id: format!("s{i}"),
                connections: (n - i) as u64,
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn consistent_hash_is_stable_and_moves_few_users_when_a_server_leaves() {
        let assigner = Assigner::new(Strategy::ConsistentHash);
        let four = servers(4);
        let three: Vec<ServerInfo> = four[..3].to_vec();
        let users: Vec<String> = (0..2000).map(|i| format!("user{i}")).collect();
        let before: Vec<&str> =
            users.iter().map(|u| assigner.pick(u, &four).map_or("", |s| &s.server_id)).collect();
        let again: Vec<&str> =
            users.iter().map(|u| assigner.pick(u, &four).map_or("", |s| &s.server_id)).collect();
        assert_eq!(before, again, "deterministic");
        for id in ["s0", "s1", "s2", "s3"] {
            let share = before.iter().filter(|s| **s == id).count();
            assert!((300..700).contains(&share), "{id} got {share} of 2000");
        }
        let after: Vec<&str> =
            users.iter().map(|u| assigner.pick(u, &three).map_or("", |s| &s.server_id)).collect();
        let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
        let on_s3 = before.iter().filter(|s| **s == "s3").count();
        assert_eq!(moved, on_s3, "only the users of the departed server move");
    }

    #[test]
    fn other_strategies_and_draining_servers() {
        let mut list = servers(3);
        list[2].draining = true;
        let rr = Assigner::new(Strategy::RoundRobin);
        let picks: Vec<&str> = (0..4).map(|_| rr.pick("u", &list).map_or("", |s| &s.server_id)).collect();
        assert_eq!(picks, ["s0", "s1", "s0", "s1"]);
        let least = Assigner::new(Strategy::LeastLoaded);
        assert_eq!(least.pick("u", &list).map(|s| s.server_id.as_str()), Some("s1"), "s2 is draining");
        let random = Assigner::new(Strategy::Random);
        assert!((0..20).all(|_| random.pick("u", &list).is_some_and(|s| s.server_id != "s2")));
        assert!(Assigner::new(Strategy::ConsistentHash).pick("u", &[]).is_none());
    }
}
