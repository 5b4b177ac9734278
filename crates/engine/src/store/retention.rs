//! What retention reads and records: the runs it may delete, and their deletion.

use crate::error::{Error, ErrorCode, Result};
use std::collections::HashMap;

use crate::retention::{
    decide, plan, AppliedDeletion, RetentionDecision, RetentionPolicy, RunRecord,
};
use crate::store::Store;
use crate::time;
use jiff::Timestamp;

/// What retention reads of a schedule: its policy and zone, its runs, their file names.
struct Inputs {
    policy: RetentionPolicy,
    runs: Vec<RunRecord>,
    filenames: HashMap<i64, Option<String>>,
    zone: jiff::tz::TimeZone,
}

impl Store {
    async fn retention_inputs(&self, schedule_id: i64) -> Result<Inputs> {
        let schedule = self.get_schedule(schedule_id).await?;
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            bool,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, created_at, status, deleted_at, verification, pinned, filename FROM runs \
             WHERE schedule_id = ? ORDER BY id",
        )
        .bind(schedule_id)
        .fetch_all(self.pool())
        .await?;
        let mut runs = Vec::with_capacity(rows.len());
        let mut filenames = HashMap::with_capacity(rows.len());
        for (id, created_at, status, deleted_at, verification, pinned, filename) in rows {
            filenames.insert(id, filename);
            runs.push(RunRecord {
                id,
                created_at: time::from_stored(&created_at)?,
                status,
                deleted: deleted_at.is_some(),
                verified: verification.as_deref() == Some("verified"),
                pinned,
            });
        }
        Ok(Inputs {
            policy: RetentionPolicy {
                retention_days: schedule.retention_days,
                max_backups: schedule.max_backups,
                verified_only: schedule.verify_after_backup,
                gfs: schedule.gfs,
            },
            runs,
            filenames,
            zone: time::zone(&schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
        })
    }

    /// What retention would delete now, and why (nothing is changed).
    pub async fn preview_retention(
        &self,
        schedule_id: i64,
        now: Timestamp,
    ) -> Result<Vec<AppliedDeletion>> {
        let inputs = self.retention_inputs(schedule_id).await?;
        Ok(plan(inputs.policy, &inputs.runs, now, &inputs.zone)
            .into_iter()
            .map(|d| AppliedDeletion {
                run_id: d.run_id,
                filename: inputs.filenames.get(&d.run_id).cloned().flatten(),
                reason: d.reason,
                outcome: "preview".into(),
                destination: None,
            })
            .collect())
    }

    /// Every good backup of the schedule, newest first, kept or deleted by `policy` (the saved
    /// one when `None`: the schedule editor previews its unsaved values) and why.
    pub async fn retention_decisions(
        &self,
        schedule_id: i64,
        policy: Option<RetentionPolicy>,
        now: Timestamp,
        thai: bool,
    ) -> Result<Vec<RetentionDecision>> {
        let inputs = self.retention_inputs(schedule_id).await?;
        let policy = policy.unwrap_or(inputs.policy);
        let created: HashMap<i64, Timestamp> =
            inputs.runs.iter().map(|r| (r.id, r.created_at)).collect();
        Ok(decide(policy, &inputs.runs, now, &inputs.zone)
            .into_iter()
            .map(|d| RetentionDecision {
                run_id: d.run_id,
                filename: inputs.filenames.get(&d.run_id).cloned().flatten(),
                created_at: created
                    .get(&d.run_id)
                    .map(|t| time::rfc3339(&t.to_zoned_datetime(inputs.zone.clone())))
                    .unwrap_or_default(),
                keep: d.keep,
                reason: if thai { d.reason_th } else { d.reason },
            })
            .collect())
    }

    /// Applies retention to one schedule's backups. Call only after a successful run of it.
    /// Deletes only files the history recorded (and their manifests); records each deletion.
    pub async fn apply_retention(
        &self,
        schedule_id: i64,
        now: Timestamp,
    ) -> Result<Vec<AppliedDeletion>> {
        let Inputs {
            policy, runs, zone, ..
        } = self.retention_inputs(schedule_id).await?;
        let mut out = Vec::new();
        for d in plan(policy, &runs, now, &zone) {
            let (filename, path): (Option<String>, Option<String>) =
                sqlx::query_as("SELECT filename, file_path FROM runs WHERE id = ?")
                    .bind(d.run_id)
                    .fetch_one(self.pool())
                    .await?;
            let outcome = remove_backup_file(path.as_deref())?;
            let reason = if outcome == "missing" {
                format!("{} (the file was already gone)", d.reason)
            } else {
                d.reason.clone()
            };
            sqlx::query("UPDATE runs SET deleted_at = ?, deletion_reason = ? WHERE id = ?")
                .bind(time::to_stored(now))
                .bind(&reason)
                .bind(d.run_id)
                .execute(self.pool())
                .await?;
            out.push(AppliedDeletion {
                run_id: d.run_id,
                filename,
                reason,
                outcome: outcome.into(),
                destination: None,
            });
        }
        Ok(out)
    }

    /// Keeps a backup for ever (retention skips it) or lets retention have it again.
    pub async fn set_pinned(&self, run_id: i64, pinned: bool) -> Result<()> {
        let (status, deleted_at) = self.backup_state(run_id).await?;
        if pinned && (status != "success" || deleted_at.is_some()) {
            return Err(Error::invalid(
                "run_id",
                format!(
                    "history entry {run_id} has no backup file to keep (it is {status}{})",
                    if deleted_at.is_some() {
                        ", deleted"
                    } else {
                        ""
                    }
                ),
            ));
        }
        sqlx::query("UPDATE runs SET pinned = ? WHERE id = ?")
            .bind(pinned)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes one backup's file (and its manifest) by hand and records it; its copies on
    /// destinations stay. A pinned backup must be unpinned first.
    pub async fn delete_backup(&self, run_id: i64, now: Timestamp) -> Result<AppliedDeletion> {
        let (status, deleted_at) = self.backup_state(run_id).await?;
        if status != "success" || deleted_at.is_some() {
            return Err(Error::invalid(
                "run_id",
                format!("history entry {run_id} has no backup file to delete"),
            ));
        }
        let (filename, path, pinned): (Option<String>, Option<String>, bool) =
            sqlx::query_as("SELECT filename, file_path, pinned FROM runs WHERE id = ?")
                .bind(run_id)
                .fetch_one(self.pool())
                .await?;
        if pinned {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "the backup {} is kept for ever",
                    filename.as_deref().unwrap_or("?")
                ),
            )
            .with_field("run_id")
            .with_hint("unpin it first (Keep for ever off), then delete it"));
        }
        let outcome = remove_backup_file(path.as_deref())?;
        let reason = "deleted by hand".to_owned();
        sqlx::query("UPDATE runs SET deleted_at = ?, deletion_reason = ? WHERE id = ?")
            .bind(time::to_stored(now))
            .bind(&reason)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(AppliedDeletion {
            run_id,
            filename,
            reason,
            outcome: outcome.into(),
            destination: None,
        })
    }

    /// A history entry's status and whether its file was deleted; not found names the id.
    async fn backup_state(&self, run_id: i64) -> Result<(String, Option<String>)> {
        sqlx::query_as("SELECT status, deleted_at FROM runs WHERE id = ?")
            .bind(run_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("there is no history entry with id {run_id}"))
                    .with_field("run_id")
            })
    }
}

/// Removes a backup file and its manifest: `deleted`, or `missing` when it was already gone.
fn remove_backup_file(path: Option<&str>) -> Result<&'static str> {
    let Some(path) = path else {
        return Ok("missing");
    };
    let path = std::path::Path::new(path);
    let _ = std::fs::remove_file(crate::manifest::path_for(path));
    match std::fs::remove_file(path) {
        Ok(()) => Ok("deleted"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok("missing"),
        Err(e) => Err(crate::error::io_error(e, "deleting a backup")),
    }
}
