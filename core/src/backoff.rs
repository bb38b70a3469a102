//! Reconnect delays: exponential with full jitter (spec §13).

use std::time::Duration;

use crate::SplitMix64;

/// Exponential backoff with "full jitter": attempt `n` waits a uniform random time in
/// `0..=min(cap, base * 2^n)`, which spreads a crowd of reconnecting clients evenly instead
/// of letting them stampede a recovering server in waves.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    /// A backoff starting at `base` and never waiting longer than `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self { base, cap, attempt: 0 }
    }

    /// The delay before the next attempt; each call counts one more failed attempt.
    pub fn next_delay(&mut self, rng: &mut SplitMix64) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.up_to(millis))
    }

    /// Upper bound of the next delay.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Failed attempts since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Back to the first step, after a connection succeeded.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_doubling_ceiling_up_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut rng = SplitMix64::new(7);
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            let ceiling = backoff.ceiling();
            ceilings.push(ceiling.as_millis());
            assert!(backoff.next_delay(&mut rng) <= ceiling);
        }
        assert_eq!(ceilings[..7], [500, 1000, 2000, 4000, 8000, 16000, 30000]);
        assert_eq!(ceilings[9], 30000);
        backoff.reset();
        assert_eq!(backoff.ceiling(), Duration::from_millis(500));
    }

    #[test]
    fn jitter_is_spread_not_constant() {
        let mut rng = SplitMix64::new(1);
        let delays: std::collections::BTreeSet<_> = (0..50)
            .map(|_| Backoff::new(Duration::from_secs(8), Duration::from_secs(8)).next_delay(&mut rng))
            .collect();
        assert!(delays.len() > 40, "full jitter draws distinct delays");
    }
}
