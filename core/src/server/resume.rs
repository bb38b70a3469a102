//! Where a device starts reading its inbox when it says Hello (spec §8.4).

use crate::wire::{ResumeOutcome, ResumePoint};
use crate::{ErrorCode, Rejection};

/// The state of one user's inbox, as the store reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InboxHead {
    /// Current epoch (never 0).
    pub epoch: u64,
    /// Seq of the oldest retained entry, or `next_seq` when the inbox is empty.
    pub first_seq: u64,
    /// Seq the next appended entry gets.
    pub next_seq: u64,
}

/// The answer to a device's resume point: the outcome Welcome reports and the first seq the
/// session delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumeDecision {
    /// What Welcome tells the device (CIM-8.4-2..8).
    pub outcome: ResumeOutcome,
    /// The first entry the session delivers; everything before it counts as acknowledged by
    /// this device (CIM-8.4-10).
    pub next_seq: u64,
}

/// Decides where a device resumes, from its resume point (`None`, or epoch 0, for a device
/// that never read: FRESH) and the inbox's head.
///
/// A resume point at or past `next_seq` names entries that never existed: the device is
/// refused with `INVALID_FIELD` rather than silently moved back.
pub fn decide_resume(point: Option<&ResumePoint>, head: &InboxHead) -> Result<ResumeDecision, Rejection> {
    let (outcome, next_seq) = match point.filter(|point| point.epoch != 0) {
        None => (ResumeOutcome::Fresh, head.first_seq),
        Some(point) if point.epoch != head.epoch => (ResumeOutcome::EpochChanged, head.first_seq),
        Some(point) if point.last_acked_seq >= head.next_seq => {
            return Err(Rejection::new(ErrorCode::INVALID_FIELD, "resume point is ahead of the inbox"));
        }
        Some(point) if point.last_acked_seq + 1 < head.first_seq => (ResumeOutcome::Gap, head.first_seq),
        Some(point) => (ResumeOutcome::Resumed, point.last_acked_seq + 1),
    };
    Ok(ResumeDecision { outcome, next_seq })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: InboxHead = InboxHead { epoch: 7, first_seq: 10, next_seq: 20 };

    fn point(epoch: u64, last_acked_seq: u64) -> ResumePoint {
        ResumePoint { epoch, last_acked_seq }
    }

    fn decide(point: Option<ResumePoint>) -> Result<(ResumeOutcome, u64), ErrorCode> {
        decide_resume(point.as_ref(), &HEAD).map(|d| (d.outcome, d.next_seq)).map_err(|r| r.code)
    }

    #[test]
    fn a_device_that_never_read_starts_at_the_oldest_entry() {
        assert_eq!(decide(None), Ok((ResumeOutcome::Fresh, 10)));
        assert_eq!(decide(Some(point(0, 15))), Ok((ResumeOutcome::Fresh, 10)), "epoch 0 is no resume point");
    }

    #[test]
    fn another_epoch_starts_over_at_the_oldest_entry() {
        assert_eq!(decide(Some(point(6, 15))), Ok((ResumeOutcome::EpochChanged, 10)));
    }

    #[test]
    fn a_point_inside_the_inbox_resumes_after_it() {
        assert_eq!(decide(Some(point(7, 9))), Ok((ResumeOutcome::Resumed, 10)));
        assert_eq!(decide(Some(point(7, 15))), Ok((ResumeOutcome::Resumed, 16)));
        assert_eq!(decide(Some(point(7, 19))), Ok((ResumeOutcome::Resumed, 20)), "all read");
    }

    #[test]
    fn a_point_below_what_is_retained_is_a_gap() {
        assert_eq!(decide(Some(point(7, 8))), Ok((ResumeOutcome::Gap, 10)));
        assert_eq!(decide(Some(point(7, 0))), Ok((ResumeOutcome::Gap, 10)));
    }

    #[test]
    fn a_point_ahead_of_the_inbox_is_refused() {
        assert_eq!(decide(Some(point(7, 20))), Err(ErrorCode::INVALID_FIELD));
        assert_eq!(decide(Some(point(7, u64::MAX))), Err(ErrorCode::INVALID_FIELD));
    }
}
