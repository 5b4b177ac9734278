//! The history: one entry per run of a schedule (or a manual backup), with its file, size,
//! status, duration and, on failure, the error code, message and hint.
//!
//! The backup engine writes entries; this module reads them the way the original spec's
//! `GET /backup/history` shows them.

use jiff::tz::TimeZone;
use jiff::ZonedDateTime;
use serde::Serialize;
use sqlx::Row;

use crate::error::{Error, Result};
use crate::store::Store;
use crate::time;

/// The error recorded on a failed run.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub hint: Option<String>,
}

/// One history entry. Times are RFC 3339 in the machine's zone.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: i64,
    pub schedule_id: Option<i64>,
    pub schedule_name: String,
    pub backup_type: String,
    pub tenant_id: Option<i64>,
    /// `manual`, `scheduled` or `catch-up`.
    pub trigger: String,
    /// `running`, `success`, `failed`, `interrupted`, `cancelled` or `skipped`.
    pub status: String,
    pub filename: Option<String>,
    pub file_size: Option<i64>,
    pub checksum_sha256: Option<String>,
    pub duration_seconds: Option<f64>,
    pub error: Option<RunError>,
    #[serde(serialize_with = "time::serialize")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: ZonedDateTime,
    #[serde(serialize_with = "time::serialize_opt")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub finished_at: Option<ZonedDateTime>,
    #[serde(serialize_with = "time::serialize_opt")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub deleted_at: Option<ZonedDateTime>,
    pub deletion_reason: Option<String>,
    /// "catch-up of the 02:00 … slot", why a slot was skipped, retries.
    pub note: Option<String>,
    /// What happened to the notification: `sent` or `failed: …`.
    pub notification: Option<String>,
    /// Restore verification: `verified` or `verify_failed: …` (None: not verified).
    pub verification: Option<String>,
    /// Its copies on the schedule's destinations, each with its own status.
    pub copies: Vec<crate::destination::copies::CopyRecord>,
}

impl RunError {
    /// The error a row records in `error_code`, `error_message`, `error_hint` (runs, copies).
    pub(crate) fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Option<RunError>> {
        let code: Option<String> = row.try_get("error_code")?;
        Ok(match code {
            Some(code) => Some(RunError {
                code,
                message: row
                    .try_get::<Option<String>, _>("error_message")?
                    .unwrap_or_default(),
                hint: row.try_get("error_hint")?,
            }),
            None => None,
        })
    }
}

fn from_row(row: &sqlx::sqlite::SqliteRow, tz: &TimeZone) -> Result<Run> {
    let zoned = |col: &str| -> Result<Option<ZonedDateTime>> {
        let text: Option<String> = row.try_get(col)?;
        text.map(|t| time::from_stored(&t).map(|ts| ts.to_zoned_datetime(tz.clone())))
            .transpose()
    };
    let error = RunError::from_row(row)?;
    Ok(Run {
        id: row.try_get("id")?,
        schedule_id: row.try_get("schedule_id")?,
        schedule_name: row.try_get("schedule_name")?,
        backup_type: row.try_get("backup_type")?,
        tenant_id: row.try_get("tenant_id")?,
        trigger: row.try_get("trigger")?,
        status: row.try_get("status")?,
        filename: row.try_get("filename")?,
        file_size: row.try_get("file_size")?,
        checksum_sha256: row.try_get("checksum_sha256")?,
        duration_seconds: row.try_get("duration_seconds")?,
        error,
        created_at: zoned("created_at")?
            .ok_or_else(|| Error::new(crate::ErrorCode::Store, "run without created_at"))?,
        finished_at: zoned("finished_at")?,
        deleted_at: zoned("deleted_at")?,
        deletion_reason: row.try_get("deletion_reason")?,
        note: row.try_get("note")?,
        notification: row.try_get("notification")?,
        verification: row.try_get("verification")?,
        copies: Vec::new(),
    })
}

impl Store {
    /// Records a slot that did not run (still running, or missed with catch-up off).
    pub async fn record_skipped(
        &self,
        schedule: &crate::schedule::Schedule,
        now: jiff::Timestamp,
        reason: &str,
    ) -> Result<i64> {
        let done = sqlx::query(
            "INSERT INTO runs (schedule_id, schedule_name, backup_type, tenant_id, trigger, status, note, created_at, finished_at) \
             VALUES (?, ?, ?, ?, 'scheduled', 'skipped', ?, ?, ?)",
        )
        .bind(schedule.id)
        .bind(&schedule.name)
        .bind(schedule.backup_type.as_str())
        .bind(schedule.tenant_id)
        .bind(reason)
        .bind(time::to_stored(now))
        .bind(time::to_stored(now))
        .execute(self.pool())
        .await?;
        Ok(done.last_insert_rowid())
    }

    /// Start-up recovery: runs left `running` by a crash, a power loss or `kill -9` become
    /// `interrupted`, and their partial files are removed. A run whose partial file is still
    /// locked belongs to a live process and is left alone. Returns the ids it changed.
    pub async fn recover_interrupted(&self, now: jiff::Timestamp) -> Result<Vec<i64>> {
        type Running = (i64, Option<String>, Option<i64>, Option<String>);
        let running: Vec<Running> = sqlx::query_as(
            "SELECT id, file_path, schedule_id, lock_path FROM runs WHERE status = 'running'",
        )
        .fetch_all(self.pool())
        .await?;
        let mut changed = Vec::new();
        for (id, path, schedule_id, lock) in running {
            // A live run holds its lock from start to end (and its partial file while writing).
            if lock
                .as_deref()
                .is_some_and(|l| crate::paths::lock_held(std::path::Path::new(l)))
            {
                continue;
            }
            if let Some(path) = &path {
                let path = std::path::Path::new(path);
                if crate::artifact::partial_in_use(path) {
                    continue;
                }
                if path
                    .to_string_lossy()
                    .ends_with(crate::artifact::PARTIAL_SUFFIX)
                {
                    let _ = std::fs::remove_file(path);
                }
            }
            if let Some(lock) = &lock {
                let _ = std::fs::remove_file(lock);
            }
            let done = sqlx::query(
                "UPDATE runs SET status = 'interrupted', file_path = NULL, file_size = NULL, finished_at = ?, \
                 error_code = 'Interrupted', error_message = 'the backup was interrupted (the app or computer stopped during the run)', \
                 error_hint = 'the next scheduled run will make a new backup', lock_path = NULL WHERE id = ? AND status = 'running'",
            )
            .bind(time::to_stored(now))
            .bind(id)
            .execute(self.pool())
            .await?;
            if done.rows_affected() == 1 {
                changed.push(id);
                if let Some(schedule_id) = schedule_id {
                    sqlx::query(
                        "UPDATE schedules SET failed_count = failed_count + 1 WHERE id = ?",
                    )
                    .bind(schedule_id)
                    .execute(self.pool())
                    .await?;
                }
            }
        }
        self.recover_interrupted_copies(now).await?;
        Ok(changed)
    }

    /// The history, newest first, optionally only one schedule's runs (deleted schedules too).
    pub async fn list_history(&self, schedule_id: Option<i64>) -> Result<Vec<Run>> {
        if let Some(id) = schedule_id {
            if id <= 0 {
                return Err(Error::invalid(
                    "schedule_id",
                    format!("schedule_id must be a positive number, not {id}"),
                ));
            }
        }
        let rows = sqlx::query(
            "SELECT * FROM runs WHERE (?1 IS NULL OR schedule_id = ?1) ORDER BY created_at DESC, id DESC",
        )
        .bind(schedule_id)
        .fetch_all(self.pool())
        .await?;
        let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let mut runs: Vec<Run> = rows
            .iter()
            .map(|row| from_row(row, &tz))
            .collect::<Result<_>>()?;
        let mut copies = self.copies(None).await?;
        if !copies.is_empty() {
            for run in &mut runs {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    copies.into_iter().partition(|c| c.run_id == run.id);
                run.copies = mine;
                copies = rest;
            }
        }
        Ok(runs)
    }
}
