//! Retention: which of a schedule's backups to delete, as a pure function of the policy, the
//! runs and `now`, so every rule is pinned by a table of cases (as rustic's `forget` is).
//!
//! The rules, chosen so that retention can never be what loses the last good backup:
//! - only successful, not yet deleted backups are candidates and count toward `max_backups`;
//!   failed, cancelled and interrupted runs never push a good backup out;
//! - the newest successful backup is never deleted;
//! - `retention_days` is measured from the newest successful backup (not from now), so a
//!   schedule that has been failing for weeks keeps its last good backups; if that backup is
//!   dated after `now` (the clock went back), `now` is the reference;
//! - the store applies the plan only after a successful run of that schedule, only to files the
//!   history recorded, and marks a file already gone from disk as such instead of failing.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// The spec's two limits; `None` is "no limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub retention_days: Option<i64>,
    pub max_backups: Option<i64>,
    /// With verification after each backup on, only verified backups count toward
    /// `max_backups`, and the newest verified one is kept too.
    pub verified_only: bool,
}

/// What retention needs to know about a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: i64,
    pub created_at: Timestamp,
    /// `success`, `failed`, `cancelled`, `interrupted`, `running`, `skipped`.
    pub status: String,
    /// Already deleted by an earlier retention pass (or found missing).
    pub deleted: bool,
    /// A test restore proved it.
    pub verified: bool,
}

/// One backup to delete and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deletion {
    pub run_id: i64,
    pub reason: String,
}

/// The backups `policy` deletes among `runs` at `now`, oldest first.
pub fn plan(policy: RetentionPolicy, runs: &[RunRecord], now: Timestamp) -> Vec<Deletion> {
    let mut good: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| r.status == "success" && !r.deleted)
        .collect();
    // Newest first; ties broken by id so the order is total.
    good.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let Some(newest) = good.first() else {
        return Vec::new();
    };
    let reference = newest.created_at.min(now);
    let counts = |r: &RunRecord| !policy.verified_only || r.verified;
    let newest_counted = good.iter().find(|r| counts(r)).map(|r| r.id);
    let mut out = Vec::new();
    // Backups newer than the one looked at that count toward max_backups.
    let mut counted_newer = 0i64;
    for (index, run) in good.iter().enumerate() {
        if index == 0 || Some(run.id) == newest_counted {
            counted_newer += i64::from(counts(run));
            continue;
        }
        let mut reasons = Vec::new();
        if let Some(max) = policy.max_backups.filter(|m| *m >= 1) {
            if counted_newer >= max {
                reasons.push(format!(
                    "more than max_backups ({max}) newer successful backups"
                ));
            }
        }
        if let Some(days) = policy.retention_days.filter(|d| *d >= 1) {
            let limit = reference
                .checked_sub(SignedDuration::from_hours(24 * days))
                .unwrap_or(Timestamp::MIN);
            if run.created_at < limit {
                reasons.push(format!(
                    "older than retention_days ({days}) before the newest backup"
                ));
            }
        }
        counted_newer += i64::from(counts(run));
        if !reasons.is_empty() {
            out.push(Deletion {
                run_id: run.id,
                reason: reasons.join("; "),
            });
        }
    }
    out.sort_by_key(|d| runs.iter().find(|r| r.id == d.run_id).map(|r| r.created_at));
    out
}

/// A deletion as previewed or applied: with the file and what happened to it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct AppliedDeletion {
    pub run_id: i64,
    pub filename: Option<String>,
    pub reason: String,
    /// `deleted`, `missing` (already gone from disk) or `preview`.
    pub outcome: String,
    /// The destination it was deleted from (None: the local folder).
    pub destination: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(day: i64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + day * 86_400).expect("valid")
    }

    /// Runs written as (day, status); ids are 1.. in order.
    fn runs(spec: &[(i64, &str)]) -> Vec<RunRecord> {
        spec.iter()
            .enumerate()
            .map(|(i, (day, status))| RunRecord {
                id: i as i64 + 1,
                created_at: t(*day),
                status: (*status).into(),
                deleted: false,
                verified: false,
            })
            .collect()
    }

    fn ids(policy: RetentionPolicy, runs: &[RunRecord], now: i64) -> Vec<i64> {
        plan(policy, runs, t(now))
            .into_iter()
            .map(|d| d.run_id)
            .collect()
    }

    const S: &str = "success";
    const F: &str = "failed";
    const C: &str = "cancelled";
    const I: &str = "interrupted";

    #[test]
    fn retention_table() {
        let none = RetentionPolicy::default();
        let max = |n| RetentionPolicy {
            max_backups: Some(n),
            retention_days: None,
            verified_only: false,
        };
        let days = |n| RetentionPolicy {
            max_backups: None,
            retention_days: Some(n),
            verified_only: false,
        };
        let both = |m, d| RetentionPolicy {
            max_backups: Some(m),
            retention_days: Some(d),
            verified_only: false,
        };
        #[rustfmt::skip]
        type Case<'a> = (&'a str, RetentionPolicy, Vec<(i64, &'a str)>, i64, Vec<i64>);
        let cases: Vec<Case> = vec![
            ("no runs", max(2), vec![], 10, vec![]),
            (
                "no policy keeps everything",
                none,
                vec![(1, S), (2, S), (3, S)],
                100,
                vec![],
            ),
            (
                "max 2 of 3",
                max(2),
                vec![(1, S), (2, S), (3, S)],
                4,
                vec![1],
            ),
            (
                "max 1 of 3",
                max(1),
                vec![(1, S), (2, S), (3, S)],
                4,
                vec![1, 2],
            ),
            (
                "max equal to count",
                max(3),
                vec![(1, S), (2, S), (3, S)],
                4,
                vec![],
            ),
            (
                "max larger than count",
                max(10),
                vec![(1, S), (2, S)],
                4,
                vec![],
            ),
            (
                "failures do not count toward max",
                max(2),
                vec![(1, S), (2, S), (3, F), (4, F), (5, F)],
                6,
                vec![],
            ),
            (
                "failures mixed in",
                max(2),
                vec![(1, S), (2, F), (3, S), (4, F), (5, S)],
                6,
                vec![1],
            ),
            (
                "cancelled and interrupted do not count",
                max(1),
                vec![(1, S), (2, C), (3, I)],
                4,
                vec![],
            ),
            (
                "failed newest run keeps the last good one",
                max(1),
                vec![(1, S), (2, S), (3, F)],
                4,
                vec![1],
            ),
            (
                "all failed: nothing to delete",
                max(1),
                vec![(1, F), (2, F), (3, F)],
                4,
                vec![],
            ),
            (
                "a single success is never deleted by max",
                max(1),
                vec![(1, S)],
                4,
                vec![],
            ),
            (
                "a single old success is never deleted by days",
                days(7),
                vec![(1, S)],
                400,
                vec![],
            ),
            (
                "days from the newest success, not from now",
                days(7),
                vec![(1, S), (5, S), (6, F), (30, F)],
                60,
                vec![],
            ),
            (
                "days: older than 7 days before newest",
                days(7),
                vec![(1, S), (5, S), (10, S)],
                10,
                vec![1],
            ),
            (
                "days: exactly 7 days is kept",
                days(7),
                vec![(3, S), (10, S)],
                10,
                vec![],
            ),
            (
                "days: just over 7 days is deleted",
                days(7),
                vec![(2, S), (10, S)],
                10,
                vec![1],
            ),
            (
                "days with failing weeks keeps good ones",
                days(7),
                vec![(1, S), (2, S), (3, F), (20, F), (40, F)],
                41,
                vec![],
            ),
            (
                "both: max deletes",
                both(2, 365),
                vec![(1, S), (2, S), (3, S)],
                4,
                vec![1],
            ),
            (
                "both: days deletes",
                both(10, 3),
                vec![(1, S), (2, S), (10, S)],
                10,
                vec![1, 2],
            ),
            (
                "both: union of reasons",
                both(2, 3),
                vec![(1, S), (8, S), (9, S), (10, S)],
                10,
                vec![1, 2],
            ),
            (
                "already deleted runs do not count",
                max(2),
                vec![(1, S), (2, S), (3, S)],
                4,
                vec![1],
            ),
            (
                "running runs do not count",
                max(1),
                vec![(1, S), (2, "running")],
                4,
                vec![],
            ),
            (
                "skipped runs do not count",
                max(1),
                vec![(1, S), (2, "skipped")],
                4,
                vec![],
            ),
            (
                "max 1 with failures after",
                max(1),
                vec![(1, S), (2, S), (3, S), (4, F), (5, F)],
                6,
                vec![1, 2],
            ),
            (
                "clock went back: measured from now, not the future",
                days(7),
                vec![(5, S), (20, S)],
                10,
                vec![],
            ),
            (
                "clock went back, old enough from now",
                days(7),
                vec![(1, S), (20, S)],
                30,
                vec![1],
            ),
            (
                "same timestamp ties by id",
                max(1),
                vec![(5, S), (5, S)],
                6,
                vec![1],
            ),
            (
                "spec daily example: 7 days, 10 max",
                both(10, 7),
                (1..=12).map(|d| (d, S)).collect(),
                12,
                vec![1, 2, 3, 4],
            ),
            (
                "spec weekly example: 30 days, 4 max",
                both(4, 30),
                (0..6).map(|w| (w * 7, S)).collect(),
                35,
                vec![1, 2],
            ),
            (
                "tenant example: 14 and 14",
                both(14, 14),
                (1..=20).map(|d| (d, S)).collect(),
                20,
                vec![1, 2, 3, 4, 5, 6],
            ),
            (
                "a failure between successes never makes an old one count twice",
                max(2),
                vec![(1, S), (2, F), (3, S), (4, S)],
                5,
                vec![1],
            ),
        ];
        for (name, policy, spec, now, expected) in cases {
            let mut records = runs(&spec);
            if name == "already deleted runs do not count" {
                records.push(RunRecord {
                    id: 99,
                    created_at: t(0),
                    status: S.into(),
                    deleted: true,
                    verified: false,
                });
            }
            assert_eq!(ids(policy, &records, now), expected, "case `{name}`");
        }
    }

    #[test]
    fn with_verification_only_verified_backups_fill_max_backups() {
        // Days 1-5 successes; 2 and 4 verified (4 is the newest verified), 5 the newest.
        let mut records = runs(&[(1, S), (2, S), (3, S), (4, S), (5, S)]);
        for r in records.iter_mut() {
            r.verified = r.id == 2 || r.id == 4;
        }
        let policy = RetentionPolicy {
            max_backups: Some(1),
            verified_only: true,
            ..RetentionPolicy::default()
        };
        assert_eq!(
            ids(policy, &records, 6),
            vec![1, 2, 3],
            "one verified backup (4) is kept besides the newest (5); older ones go"
        );
        let two = RetentionPolicy {
            max_backups: Some(2),
            verified_only: true,
            ..RetentionPolicy::default()
        };
        assert_eq!(
            ids(two, &records, 6),
            vec![1],
            "two verified backups (2 and 4) are kept; unverified 3 is newer than 2 and stays"
        );
        let unverified = runs(&[(1, S), (2, S), (3, S)]);
        assert_eq!(
            ids(policy, &unverified, 6),
            Vec::<i64>::new(),
            "with no verified backup yet, nothing counts, so max_backups deletes nothing"
        );
        let off = RetentionPolicy {
            max_backups: Some(1),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            ids(off, &records, 6),
            vec![1, 2, 3, 4],
            "verification off: every success counts"
        );
    }

    #[test]
    fn never_deletes_the_newest_success_whatever_the_policy() {
        let records = runs(&[(1, S), (2, S), (3, S), (4, F)]);
        for m in 1..5 {
            for d in 1..5 {
                let policy = RetentionPolicy {
                    max_backups: Some(m),
                    retention_days: Some(d),
                    verified_only: false,
                };
                let deleted = ids(policy, &records, 100);
                assert!(
                    !deleted.contains(&3),
                    "the newest success (id 3) survives max {m}, days {d}"
                );
            }
        }
    }

    #[test]
    fn reasons_say_why() {
        let policy = RetentionPolicy {
            max_backups: Some(1),
            retention_days: Some(1),
            verified_only: false,
        };
        let plan = plan(policy, &runs(&[(1, S), (10, S)]), t(10));
        assert_eq!(plan.len(), 1, "one deletion");
        assert!(
            plan[0].reason.contains("max_backups (1)")
                && plan[0].reason.contains("retention_days (1)"),
            "{}",
            plan[0].reason
        );
    }
}
