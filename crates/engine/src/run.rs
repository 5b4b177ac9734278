//! A run's facts shared by the modules that make, record and report it: why it started
//! ([`Trigger`]), how it ended ([`RunOutcome`], [`RunError`]) and what became of its copies
//! ([`CopyOutcome`]). Kept apart so that the backup, the copies, the store and the notices
//! can all name them without depending on each other.

use serde::Serialize;

use crate::artifact::FinishedFile;
use crate::dump::DumpReport;
use crate::error::Error;

/// Why a run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    Manual,
    Scheduled,
    /// A slot missed while the machine was off or asleep, run once afterwards.
    CatchUp {
        slot: String,
    },
}

impl Trigger {
    pub fn as_str(&self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Scheduled => "scheduled",
            Trigger::CatchUp { .. } => "catch-up",
        }
    }

    /// What the history says about it ("catch-up of the 02:00 on 2026-02-03 slot").
    pub fn note(&self) -> Option<String> {
        match self {
            Trigger::CatchUp { slot } => Some(format!("catch-up of the {slot} slot")),
            _ => None,
        }
    }
}

/// The outcome of a run, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub run_id: i64,
    pub status: String,
    pub file: Option<FinishedFile>,
    pub error: Option<Error>,
    pub duration_seconds: f64,
    pub report: Option<DumpReport>,
    /// Old backups retention deleted after this success.
    pub retention: Vec<crate::retention::AppliedDeletion>,
    /// With `verify_after_backup`: `verified` or `verify_failed: …`.
    pub verification: Option<String>,
    /// One per destination in the schedule's `copy_to`, in order.
    pub copies: Vec<CopyOutcome>,
    /// A success that looks wrong: much smaller than the schedule's recent good backups.
    pub warning: Option<String>,
    /// A schedule of several databases: each database's part, in the order made (`file` is
    /// then None: each part has its own).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartOutcome>,
}

impl RunOutcome {
    /// A run that made no file (yet): skipped, failed, cancelled, or a run of several
    /// databases before its parts.
    pub fn without_file(run_id: i64, status: &str, error: Option<Error>, duration: f64) -> Self {
        RunOutcome {
            run_id,
            status: status.into(),
            file: None,
            error,
            duration_seconds: duration,
            report: None,
            retention: Vec::new(),
            verification: None,
            copies: Vec::new(),
            warning: None,
            parts: Vec::new(),
        }
    }
}

/// One database's backup within a run of several.
#[derive(Debug, Clone, Serialize)]
pub struct PartOutcome {
    /// The part's own history id (restore and verify take it).
    pub run_id: i64,
    pub database: String,
    /// `success`, `failed` or `cancelled`.
    pub status: String,
    pub file: Option<FinishedFile>,
    pub error: Option<Error>,
}

/// How many of a schedule's previous good backups the size check looks at, and how many it
/// needs before it says anything (one or two earlier sizes are too few to call a drop).
pub const SIZE_CHECK_OF: usize = 5;
pub const SIZE_CHECK_NEEDS: usize = 3;

/// The warning for a backup of `size` bytes when it is under half the median of `previous`
/// (the schedule's last good backups, newest first): the best early sign of a dump that
/// silently lost tables. `None` when it is not, or when there are too few to tell.
pub fn size_warning(previous: &[u64], size: u64) -> Option<String> {
    let mut sizes: Vec<u64> = previous.iter().copied().take(SIZE_CHECK_OF).collect();
    if sizes.len() < SIZE_CHECK_NEEDS {
        return None;
    }
    sizes.sort_unstable();
    let n = sizes.len();
    let median = if n % 2 == 1 {
        sizes[n / 2]
    } else {
        (sizes[n / 2 - 1] + sizes[n / 2]) / 2
    };
    (size.saturating_mul(2) < median).then(|| {
        format!(
            "possibly incomplete dump: {size} bytes is under half the median size ({median} bytes) of the last {n} good backups; check that every table is still there (Verify runs a test restore)"
        )
    })
}

/// What happened to one copy in a run (for the run's outcome and its notification).
#[derive(Debug, Clone, Serialize)]
pub struct CopyOutcome {
    pub destination: String,
    /// `uploaded`, `failed` or `cancelled`.
    pub status: String,
    pub size: Option<u64>,
    pub error: Option<Error>,
}

/// The error recorded on a failed run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RunError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub hint: Option<String>,
    /// The hint in Thai, looked up when the run is read (`hints::in_thai`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub hint_th: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::size_warning;

    #[test]
    fn a_backup_under_half_the_recent_median_is_flagged() {
        type Case<'a> = (&'a str, &'a [u64], u64, bool);
        let cases: [Case; 7] = [
            ("too few earlier backups", &[100, 100], 10, false),
            ("steady", &[100, 101, 99, 100, 102], 98, false),
            (
                "exactly half is not under half",
                &[100, 100, 100],
                50,
                false,
            ),
            ("just under half", &[100, 100, 100], 49, true),
            ("a collapse", &[1000, 990, 1010, 1005, 995], 12, true),
            (
                "one odd earlier backup does not move the median",
                &[100, 5, 100, 100, 100],
                60,
                false,
            ),
            ("growth is fine", &[100, 100, 100], 500, false),
        ];
        for (name, previous, size, warned) in cases {
            assert_eq!(
                size_warning(previous, size).is_some(),
                warned,
                "case `{name}`"
            );
        }
        let text = size_warning(&[1000, 1000, 1000], 10).expect("a warning");
        assert!(
            text.contains("possibly incomplete dump") && text.contains("median size (1000 bytes)"),
            "it says what and why: {text}"
        );
    }
}
