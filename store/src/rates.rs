//! Rate counters shared by every route of a deployment (spec §14.4).

use async_trait::async_trait;

use crate::StoreError;

/// What a rate counter has seen in its current window (see [`RateStore::rate_hit`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateCount {
    /// Events counted in the window so far.
    pub count: u64,
    /// Milliseconds until the window ends and the count starts over; 0 without a window.
    pub resets_in_ms: u64,
}

/// Fixed-window counters, kept in the store so that every route of a deployment counts
/// together.
#[async_trait]
pub trait RateStore: Send + Sync + 'static {
    /// The count of the rate counter `key` in its current window (0 when none is running).
    async fn rate_count(&self, key: &str) -> Result<RateCount, StoreError>;
    /// Counts one event on the rate counter `key`, starting a window of `window_ms` when
    /// none is running, and returns the count with this event.
    async fn rate_hit(&self, key: &str, window_ms: u64) -> Result<RateCount, StoreError>;
    /// Takes back one event counted by [`rate_hit`](Self::rate_hit) in the window still
    /// running, if any: an attempt counted up front that turned out not to count.
    async fn rate_undo(&self, key: &str) -> Result<(), StoreError>;
}
