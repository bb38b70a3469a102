//! What the dedupe records of `lua.rs` need from Rust: the digest of a client message id, and
//! the day a record is filed under.

use sha2::{Digest, Sha256};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The 16 bytes a client message id is known by: the first 16 of its SHA-256, the first cut to
/// 6 bits (it picks one of 64 fields) and the next five to 4 (each picks one of 16 fields one
/// level down, `lua.rs`). Any id, whatever its length, costs a fixed-size record.
pub(crate) fn digest(client_msg_id: &str) -> [u8; 16] {
    let hash = Sha256::digest(client_msg_id.as_bytes());
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&hash[..16]);
    cut_to_levels(&mut digest);
    digest
}

/// Cuts the bytes that name fields to the bits each level uses.
pub(crate) fn cut_to_levels(digest: &mut [u8; 16]) {
    digest[0] &= 63;
    for byte in &mut digest[1..6] {
        *byte &= 15;
    }
}

/// The day new records are filed under, as the scripts take it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Day {
    /// Days since the Unix epoch.
    pub(crate) number: u64,
    /// The same as 8 hex digits, the head of every field value of that day.
    pub(crate) hex: String,
    /// The first byte of this day's field names, and of yesterday's.
    pub(crate) parity: &'static str,
    pub(crate) previous_parity: &'static str,
    /// When a dedupe hash written today may expire (ms since the epoch): two days after today
    /// begins, so that a record written at its end is kept 24 hours, plus a minute for clocks
    /// that differ between servers.
    pub(crate) expire_at_ms: u64,
}

impl Day {
    pub(crate) fn at(now_ms: u64) -> Self {
        let number = now_ms / DAY_MS;
        let parity = |n: u64| if n.is_multiple_of(2) { "0" } else { "1" };
        Self {
            number,
            hex: format!("{number:08x}"),
            parity: parity(number),
            previous_parity: parity(number + 1),
            expire_at_ms: (number + 2) * DAY_MS + 60_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_fixed_size_and_pick_one_of_64_fields() {
        let long = "x".repeat(4096);
        for id in ["", "c1", long.as_str()] {
            let digest = digest(id);
            assert!(digest[0] < 64 && digest[1..6].iter().all(|&b| b < 16), "{id}");
        }
        assert_ne!(digest("c1"), digest("c2"));
        assert_eq!(digest("c1"), digest("c1"), "the same on every server");
    }

    #[test]
    fn days_alternate_parity_and_expire_two_days_on() {
        let today = Day::at(3 * DAY_MS + 5);
        assert_eq!(
            (today.number, today.hex.as_str(), today.parity, today.previous_parity),
            (3, "00000003", "1", "0")
        );
        assert_eq!(Day::at(4 * DAY_MS).parity, "0");
        assert_eq!(today.expire_at_ms, 5 * DAY_MS + 60_000);
    }
}
