//! Retention: which of a schedule's backups to delete, as a pure function of the policy, the
//! runs, `now` and the schedule's time zone, so every rule is pinned by a table of cases (as
//! rustic's `forget` is).
//!
//! The rules, chosen so that retention can never be what loses the last good backup:
//! - only successful, not yet deleted backups are candidates and count toward `max_backups`;
//!   failed, cancelled and interrupted runs never push a good backup out;
//! - the newest successful backup is never deleted, nor a pinned one ("keep for ever"; pinned
//!   backups are outside the rotation: they do not count toward `max_backups`);
//! - `retention_days` is measured from the newest successful backup (not from now), so a
//!   schedule that has been failing for weeks keeps its last good backups; if that backup is
//!   dated after `now` (the clock went back), `now` is the reference;
//! - `retention_days` and `max_backups` each delete what is beyond them; the grandfather-
//!   father-son rules (`keep_daily`, `keep_weekly`, `keep_monthly`, `keep_yearly`) each keep the
//!   newest backup of each of the last N days, weeks (ISO, Monday first), months and years that
//!   have one, in the schedule's time zone, whatever the other limits say. With GFS rules and
//!   neither limit, what no rule keeps is deleted (that is the point of GFS);
//! - the store applies the plan only after a successful run of that schedule, only to files the
//!   history recorded, and marks a file already gone from disk as such instead of failing.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Grandfather-father-son rules: how many days, weeks, months and years keep their newest
/// backup. `None` (or 0) turns a rule off.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gfs {
    pub keep_daily: Option<i64>,
    pub keep_weekly: Option<i64>,
    pub keep_monthly: Option<i64>,
    pub keep_yearly: Option<i64>,
}

impl Gfs {
    pub fn is_on(&self) -> bool {
        [
            self.keep_daily,
            self.keep_weekly,
            self.keep_monthly,
            self.keep_yearly,
        ]
        .iter()
        .any(|n| n.is_some_and(|n| n >= 1))
    }
}

/// The spec's two limits and the GFS rules; `None` is "no limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub retention_days: Option<i64>,
    pub max_backups: Option<i64>,
    /// With verification after each backup on, only verified backups count toward
    /// `max_backups`, and the newest verified one is kept too.
    pub verified_only: bool,
    pub gfs: Gfs,
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
    /// Kept for ever: retention never deletes it.
    pub pinned: bool,
}

/// One backup to delete and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deletion {
    pub run_id: i64,
    pub reason: String,
}

/// What retention decides for one good backup: kept or deleted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub run_id: i64,
    pub keep: bool,
    pub reason: String,
    /// The same reason in Thai (for the app's preview in Thai).
    pub reason_th: String,
}

/// `runs` split by `key` (the database a backup holds), each series in the order given:
/// a schedule of several databases keeps each database's backups by the same rules, so one
/// database's failures never push another's good backups out.
pub fn series_by<K: PartialEq>(
    runs: impl IntoIterator<Item = (K, RunRecord)>,
) -> Vec<Vec<RunRecord>> {
    let mut series: Vec<(K, Vec<RunRecord>)> = Vec::new();
    for (key, run) in runs {
        match series.iter().position(|(k, _)| *k == key) {
            Some(i) => series[i].1.push(run),
            None => series.push((key, vec![run])),
        }
    }
    series.into_iter().map(|(_, runs)| runs).collect()
}

/// The backups `policy` deletes among `runs` at `now` (GFS periods in `zone`), oldest first.
pub fn plan(
    policy: RetentionPolicy,
    runs: &[RunRecord],
    now: Timestamp,
    zone: &TimeZone,
) -> Vec<Deletion> {
    let mut out: Vec<Deletion> = decide(policy, runs, now, zone)
        .into_iter()
        .filter(|d| !d.keep)
        .map(|d| Deletion {
            run_id: d.run_id,
            reason: d.reason,
        })
        .collect();
    out.sort_by_key(|d| {
        runs.iter()
            .find(|r| r.id == d.run_id)
            .map(|r| (r.created_at, r.id))
    });
    out
}

/// The period (a day, an ISO week, a month, a year) a local time falls in, as text.
type PeriodOf = fn(&jiff::ZonedDateTime) -> String;

/// The GFS rule that keeps each run, by id: for each rule, the newest good backup of each of
/// its last N periods.
fn gfs_keeps(
    gfs: Gfs,
    good: &[&RunRecord],
    zone: &TimeZone,
) -> std::collections::HashMap<i64, (String, String)> {
    let mut kept = std::collections::HashMap::new();
    let rules: [(&str, Option<i64>, PeriodOf); 4] = [
        ("keep_daily", gfs.keep_daily, |z| {
            z.strftime("%Y-%m-%d").to_string()
        }),
        ("keep_weekly", gfs.keep_weekly, |z| {
            let week = z.date().iso_week_date();
            format!("week {} of {}", week.week(), week.year())
        }),
        ("keep_monthly", gfs.keep_monthly, |z| {
            z.strftime("%Y-%m").to_string()
        }),
        ("keep_yearly", gfs.keep_yearly, |z| {
            z.strftime("%Y").to_string()
        }),
    ];
    for (rule, count, period_of) in rules {
        let Some(count) = count.filter(|n| *n >= 1) else {
            continue;
        };
        let mut periods: Vec<String> = Vec::new();
        for run in good {
            let period = period_of(&run.created_at.to_zoned_datetime(zone.clone()));
            if periods.contains(&period) {
                continue;
            }
            if periods.len() as i64 >= count {
                break;
            }
            kept.entry(run.id).or_insert_with(|| {
                let thai = period.replace("week ", "สัปดาห์ที่ ").replace(" of ", " ปี ");
                (
                    format!("the newest of {period} ({rule} {count})"),
                    format!("ล่าสุดของ {thai} ({rule} {count})"),
                )
            });
            periods.push(period);
        }
    }
    kept
}

/// Every good (successful, not deleted) backup among `runs`, newest first, with whether
/// `policy` keeps it at `now` and why.
pub fn decide(
    policy: RetentionPolicy,
    runs: &[RunRecord],
    now: Timestamp,
    zone: &TimeZone,
) -> Vec<Decision> {
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
    let counts = |r: &RunRecord| !r.pinned && (!policy.verified_only || r.verified);
    let newest_counted = good.iter().find(|r| counts(r)).map(|r| r.id);
    let gfs = gfs_keeps(policy.gfs, &good, zone);
    let limits =
        policy.max_backups.is_some_and(|m| m >= 1) || policy.retention_days.is_some_and(|d| d >= 1);
    let mut out = Vec::new();
    // Backups newer than the one looked at that count toward max_backups.
    let mut counted_newer = 0i64;
    for (index, run) in good.iter().enumerate() {
        let keep = |(reason, reason_th): (String, String)| Decision {
            run_id: run.id,
            keep: true,
            reason,
            reason_th,
        };
        let both = |en: &str, th: &str| (en.to_owned(), th.to_owned());
        if index == 0 {
            counted_newer += i64::from(counts(run));
            out.push(keep(both(
                "the newest backup is always kept",
                "เก็บไว้เสมอ: ข้อมูลสำรองล่าสุด",
            )));
            continue;
        }
        if run.pinned {
            out.push(keep(both("pinned: kept for ever", "ปักหมุดไว้: เก็บตลอดไป")));
            continue;
        }
        if Some(run.id) == newest_counted {
            counted_newer += 1;
            out.push(keep(both(
                "the newest verified backup is always kept",
                "เก็บไว้เสมอ: ข้อมูลสำรองล่าสุดที่ตรวจสอบแล้ว",
            )));
            continue;
        }
        let mut reasons: Vec<(String, String)> = Vec::new();
        if let Some(max) = policy.max_backups.filter(|m| *m >= 1) {
            if counted_newer >= max {
                reasons.push((
                    format!("more than max_backups ({max}) newer successful backups"),
                    format!("มีข้อมูลสำรองที่ใหม่กว่าเกิน max_backups ({max})"),
                ));
            }
        }
        if let Some(days) = policy.retention_days.filter(|d| *d >= 1) {
            let limit = reference
                .checked_sub(SignedDuration::from_hours(24 * days))
                .unwrap_or(Timestamp::MIN);
            if run.created_at < limit {
                reasons.push((
                    format!("older than retention_days ({days}) before the newest backup"),
                    format!("เก่ากว่า retention_days ({days} วัน) นับจากข้อมูลสำรองล่าสุด"),
                ));
            }
        }
        if !limits && policy.gfs.is_on() {
            reasons.push(both("no GFS rule keeps it", "ไม่มีกฎ GFS ใดเก็บไว้"));
        }
        counted_newer += i64::from(counts(run));
        if let Some(why) = gfs.get(&run.id) {
            out.push(keep(why.clone()));
        } else if reasons.is_empty() {
            out.push(keep(both("within the limits", "อยู่ในขีดจำกัด")));
        } else {
            out.push(Decision {
                run_id: run.id,
                keep: false,
                reason: reasons
                    .iter()
                    .map(|(en, _)| en.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                reason_th: reasons
                    .iter()
                    .map(|(_, th)| th.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
    }
    out
}

/// What retention decides for one backup, as the editor's preview and `retention preview`
/// show it: kept or deleted, and why.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct RetentionDecision {
    pub run_id: i64,
    pub filename: Option<String>,
    /// When the backup was made (RFC 3339, in the schedule's zone).
    pub created_at: String,
    pub keep: bool,
    pub reason: String,
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
                pinned: false,
            })
            .collect()
    }

    fn ids(policy: RetentionPolicy, runs: &[RunRecord], now: i64) -> Vec<i64> {
        plan(policy, runs, t(now), &TimeZone::UTC)
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
            ..RetentionPolicy::default()
        };
        let days = |n| RetentionPolicy {
            max_backups: None,
            retention_days: Some(n),
            verified_only: false,
            ..RetentionPolicy::default()
        };
        let both = |m, d| RetentionPolicy {
            max_backups: Some(m),
            retention_days: Some(d),
            verified_only: false,
            ..RetentionPolicy::default()
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
                    pinned: false,
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
                    ..RetentionPolicy::default()
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
            ..RetentionPolicy::default()
        };
        let plan = plan(policy, &runs(&[(1, S), (10, S)]), t(10), &TimeZone::UTC);
        assert_eq!(plan.len(), 1, "one deletion");
        assert!(
            plan[0].reason.contains("max_backups (1)")
                && plan[0].reason.contains("retention_days (1)"),
            "{}",
            plan[0].reason
        );
    }
    #[test]
    fn gfs_table() {
        let gfs = |daily, weekly, monthly, yearly| RetentionPolicy {
            gfs: Gfs {
                keep_daily: daily,
                keep_weekly: weekly,
                keep_monthly: monthly,
                keep_yearly: yearly,
            },
            ..RetentionPolicy::default()
        };
        let daily = |days: std::ops::RangeInclusive<i64>| -> Vec<(i64, &str)> {
            days.map(|d| (d, S)).collect()
        };
        let except = |all: std::ops::RangeInclusive<i64>, kept: &[i64]| -> Vec<i64> {
            all.filter(|id| !kept.contains(id)).collect()
        };
        // Day 0 is Thursday 2026-01-01; run ids are day + 1.
        type Case<'a> = (&'a str, RetentionPolicy, Vec<(i64, &'a str)>, Vec<i64>);
        let cases: Vec<Case> = vec![
            (
                "keep_daily 3 alone keeps the last three days",
                gfs(Some(3), None, None, None),
                daily(0..=9),
                except(1..=10, &[8, 9, 10]),
            ),
            (
                "keep_weekly 3: the newest of each ISO week (Monday first)",
                gfs(None, Some(3), None, None),
                daily(0..=20),
                // Wed 21 Jan (week 4), Sun 18 Jan (week 3), Sun 11 Jan (week 2).
                except(1..=21, &[21, 18, 11]),
            ),
            (
                "keep_daily 1 and keep_monthly 2: the newest, and the newest of February",
                gfs(Some(1), None, Some(2), None),
                daily(0..=89),
                // 31 Mar (also March's newest) and 28 Feb.
                except(1..=90, &[90, 59]),
            ),
            (
                "keep_yearly 5 with one year of backups keeps one",
                gfs(None, None, None, Some(5)),
                daily(0..=30),
                except(1..=31, &[31]),
            ),
            (
                "retention_days 7 and keep_monthly 2: a week, plus January's newest",
                RetentionPolicy {
                    retention_days: Some(7),
                    ..gfs(None, None, Some(2), None)
                },
                daily(0..=40),
                // Days 33-40 are within 7 days of the newest (day 40); 30 is 31 January.
                except(1..=41, &[34, 35, 36, 37, 38, 39, 40, 41, 31]),
            ),
            (
                "GFS rules never delete failures, and failures fill no period",
                gfs(Some(2), None, None, None),
                vec![(1, S), (2, S), (3, F)],
                vec![],
            ),
        ];
        for (name, policy, spec, expected) in cases {
            let records = runs(&spec);
            let now = spec.last().map(|(d, _)| *d).unwrap_or(0) + 1;
            assert_eq!(ids(policy, &records, now), expected, "case `{name}`");
        }
    }

    #[test]
    fn gfs_periods_are_the_schedules_local_days() {
        let at = |text: &str| text.parse::<Timestamp>().expect("a time");
        // 10:00 and 20:00 UTC on 1 January: one day in UTC, two in Bangkok (17:00 and 03:00).
        let records = vec![
            RunRecord {
                id: 1,
                created_at: at("2026-01-01T10:00:00Z"),
                status: S.into(),
                deleted: false,
                verified: false,
                pinned: false,
            },
            RunRecord {
                id: 2,
                created_at: at("2026-01-01T20:00:00Z"),
                status: S.into(),
                deleted: false,
                verified: false,
                pinned: false,
            },
        ];
        let policy = RetentionPolicy {
            gfs: Gfs {
                keep_daily: Some(2),
                ..Gfs::default()
            },
            ..RetentionPolicy::default()
        };
        let now = at("2026-01-02T00:00:00Z");
        let utc: Vec<i64> = plan(policy, &records, now, &TimeZone::UTC)
            .iter()
            .map(|d| d.run_id)
            .collect();
        assert_eq!(utc, vec![1], "in UTC both are 1 January: the older goes");
        let bangkok = TimeZone::get("Asia/Bangkok").expect("the zone");
        assert!(
            plan(policy, &records, now, &bangkok).is_empty(),
            "in Bangkok they are two days, both kept"
        );
    }

    #[test]
    fn pinned_backups_are_kept_for_ever_and_outside_max_backups() {
        let mut records = runs(&[(0, S), (1, S), (2, S), (3, S), (4, S)]);
        records[1].pinned = true;
        let max1 = RetentionPolicy {
            max_backups: Some(1),
            retention_days: Some(1),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            ids(max1, &records, 10),
            vec![1, 3, 4],
            "the pinned backup (2) stays whatever the limits"
        );
        let mut records = runs(&[(0, S), (1, S), (2, S), (3, S), (4, S)]);
        records[3].pinned = true;
        let max2 = RetentionPolicy {
            max_backups: Some(2),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            ids(max2, &records, 10),
            vec![1, 2],
            "5 and 3 fill max_backups 2; the pinned 4 does not take a place"
        );
    }

    #[test]
    fn decisions_say_why_each_backup_is_kept() {
        let policy = RetentionPolicy {
            retention_days: Some(7),
            gfs: Gfs {
                keep_monthly: Some(2),
                ..Gfs::default()
            },
            ..RetentionPolicy::default()
        };
        let records = runs(&(0..=40).map(|d| (d, S)).collect::<Vec<_>>());
        let decisions = decide(policy, &records, t(41), &TimeZone::UTC);
        assert_eq!(decisions.len(), 41, "one decision per good backup");
        let of = |id: i64| decisions.iter().find(|d| d.run_id == id).expect("decided");
        assert_eq!(
            of(41).reason,
            "the newest backup is always kept",
            "the newest"
        );
        assert_eq!(
            of(31).reason,
            "the newest of 2026-01 (keep_monthly 2)",
            "31 January, kept by the monthly rule"
        );
        assert!(
            of(35).keep && of(35).reason == "within the limits",
            "within 7 days"
        );
        assert!(
            !of(10).keep && of(10).reason.contains("retention_days (7)"),
            "an old one goes, saying why: {}",
            of(10).reason
        );
    }
}
