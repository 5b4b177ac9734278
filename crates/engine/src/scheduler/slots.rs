//! The scheduler's pure decisions, tested with a pinned clock: whether a due slot runs (on
//! time, as a catch-up, or skipped), the next slot after now, and when a schedule's newest
//! good backup is overdue.

use jiff::{SignedDuration, Timestamp};

use crate::cron::CronExpr;
use crate::run::Trigger;
use crate::schedule::Schedule;
use crate::time;

/// What to do with a schedule whose slot has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run { trigger: Trigger },
    Skip { reason: String },
}

/// Decides about one due slot (pure: tested with a pinned clock).
pub fn decide(
    schedule: &Schedule,
    slot: Timestamp,
    now: Timestamp,
    late_after: SignedDuration,
    busy: bool,
) -> Decision {
    let local =
        slot.to_zoned_datetime(time::zone(&schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC));
    let slot_text = local.strftime("%H:%M on %Y-%m-%d").to_string();
    if busy {
        return Decision::Skip {
            reason: format!(
                "the {slot_text} slot was skipped: the previous backup is still running"
            ),
        };
    }
    let late = now.duration_since(slot) > late_after;
    match (late, schedule.catch_up) {
        (false, _) => Decision::Run {
            trigger: Trigger::Scheduled,
        },
        (true, true) => Decision::Run {
            trigger: Trigger::CatchUp { slot: slot_text },
        },
        (true, false) => Decision::Skip {
            reason: format!("the {slot_text} slot was missed and catch-up is off"),
        },
    }
}

/// The slot after `now` for a schedule (`None` when disabled or never again).
pub fn next_slot(schedule: &Schedule, now: Timestamp) -> Option<Timestamp> {
    if !schedule.is_active {
        return None;
    }
    let cron = CronExpr::parse(&schedule.cron_expression).ok()?;
    let tz = time::zone(&schedule.timezone).ok()?;
    cron.next_after(now, &tz)
}

/// When a schedule's newest good backup (or its creation) is overdue: more than `intervals`
/// of its own interval old. Returns the instant the gap started.
pub fn overdue_since(
    schedule: &Schedule,
    newest_success: Option<Timestamp>,
    now: Timestamp,
    intervals: i64,
) -> Option<Timestamp> {
    if !schedule.is_active {
        return None;
    }
    let since = newest_success.unwrap_or(schedule.created_at.timestamp());
    let cron = CronExpr::parse(&schedule.cron_expression).ok()?;
    let tz = time::zone(&schedule.timezone).ok()?;
    let mut slots = cron.iter_after(since, &tz);
    let first = slots.next()?;
    let second = slots.next()?;
    let interval = second.duration_since(first);
    let limit = since
        .checked_add(interval.checked_mul(intervals as i32)?)
        .ok()?;
    (now > limit && now > first).then_some(since)
}
