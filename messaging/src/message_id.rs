//! Server message ids: ULIDs (spec §7.5), time ordered and unique.

use std::sync::Mutex;

use cim_core::ulid::encode;

use crate::random_bytes;

/// Makes ULIDs: 48 bits of milliseconds, then 80 random bits that count up within one
/// millisecond, so ids from one generator are strictly increasing.
pub struct MessageIds {
    last: Mutex<(u64, u128)>,
}

impl MessageIds {
    /// A generator.
    pub fn new() -> Self {
        Self { last: Mutex::new((0, 0)) }
    }

    /// The next id for a message accepted at `now_ms`, and the time it encodes (which is
    /// `now_ms` unless the clock went backwards, in which case the last time is kept).
    pub fn next(&self, now_ms: u64) -> (String, u64) {
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (ms, random) = if now_ms > last.0 {
            let bytes = random_bytes::<10>();
            let mut random = 0u128;
            for byte in bytes {
                random = (random << 8) | u128::from(byte);
            }
            // Leave headroom so the counter rarely overflows into the next millisecond.
            (now_ms, random >> 1)
        } else {
            (last.0, last.1 + 1)
        };
        *last = (ms, random);
        (encode(ms, random), ms)
    }
}

impl Default for MessageIds {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_chars_and_strictly_increasing() {
        let ids = MessageIds::new();
        let mut previous = String::new();
        for now in [5, 5, 5, 6, 6, 1_767_225_600_000] {
            let (id, ms) = ids.next(now);
            assert_eq!(id.len(), 26);
            assert_eq!(ms, now);
            assert!(id > previous, "{id} after {previous}");
            previous = id;
        }
    }
}
