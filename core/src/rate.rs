//! Token bucket for the Send rate limit (spec §10).

use std::time::{Duration, Instant};

/// Allows `per_second` Sends sustained and `burst` at once.
#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    per_second: u32,
    burst: u32,
    /// Tokens in millis of a token, so refills need no floating point.
    milli_tokens: u64,
    refilled_at: Option<Instant>,
}

impl TokenBucket {
    pub(crate) fn new(per_second: u32, burst: u32) -> Self {
        let burst = burst.max(1);
        Self { per_second, burst, milli_tokens: u64::from(burst) * 1000, refilled_at: None }
    }

    /// Takes one token, or says how long until one is available.
    pub(crate) fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        if self.per_second == 0 {
            return Ok(()); // 0 means "no rate limit"
        }
        self.refill(now);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            return Ok(());
        }
        let missing = 1000 - self.milli_tokens;
        let per_ms = u64::from(self.per_second); // milli-tokens gained per millisecond
        Err(Duration::from_millis(missing.div_ceil(per_ms)))
    }

    fn refill(&mut self, now: Instant) {
        let last = *self.refilled_at.get_or_insert(now);
        let elapsed_ms = u64::try_from(now.saturating_duration_since(last).as_millis()).unwrap_or(u64::MAX);
        if elapsed_ms == 0 {
            return;
        }
        let max = u64::from(self.burst) * 1000;
        self.milli_tokens =
            self.milli_tokens.saturating_add(elapsed_ms.saturating_mul(self.per_second.into())).min(max);
        self.refilled_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_sustained_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10, 3);
        for _ in 0..3 {
            assert_eq!(bucket.try_take(t0), Ok(()));
        }
        assert_eq!(bucket.try_take(t0), Err(Duration::from_millis(100)));
        assert_eq!(bucket.try_take(t0 + Duration::from_millis(99)), Err(Duration::from_millis(1)));
        assert_eq!(bucket.try_take(t0 + Duration::from_millis(100)), Ok(()));
        // A long pause refills to the burst, not beyond.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.try_take(later), Ok(()));
        }
        assert!(bucket.try_take(later).is_err());
    }
}
