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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub hint: Option<String>,
}
