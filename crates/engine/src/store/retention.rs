//! What retention reads and records: the runs it may delete, and their deletion.

use crate::error::Result;
use crate::retention::{plan, AppliedDeletion, RetentionPolicy, RunRecord};
use crate::store::Store;
use crate::time;
use jiff::Timestamp;

impl Store {
    async fn retention_inputs(
        &self,
        schedule_id: i64,
    ) -> Result<(RetentionPolicy, Vec<RunRecord>)> {
        let schedule = self.get_schedule(schedule_id).await?;
        type Row = (i64, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, created_at, status, deleted_at, verification FROM runs WHERE schedule_id = ? ORDER BY id",
        )
        .bind(schedule_id)
        .fetch_all(self.pool())
        .await?;
        let mut runs = Vec::with_capacity(rows.len());
        for (id, created_at, status, deleted_at, verification) in rows {
            runs.push(RunRecord {
                id,
                created_at: time::from_stored(&created_at)?,
                status,
                deleted: deleted_at.is_some(),
                verified: verification.as_deref() == Some("verified"),
            });
        }
        Ok((
            RetentionPolicy {
                retention_days: schedule.retention_days,
                max_backups: schedule.max_backups,
                verified_only: schedule.verify_after_backup,
            },
            runs,
        ))
    }

    /// What retention would delete now, and why (nothing is changed).
    pub async fn preview_retention(
        &self,
        schedule_id: i64,
        now: Timestamp,
    ) -> Result<Vec<AppliedDeletion>> {
        self.preview_retention_with(schedule_id, None, now).await
    }

    /// Like [`Store::preview_retention`], with another policy than the saved one (the schedule
    /// editor previews its unsaved values).
    pub async fn preview_retention_with(
        &self,
        schedule_id: i64,
        policy: Option<RetentionPolicy>,
        now: Timestamp,
    ) -> Result<Vec<AppliedDeletion>> {
        let (saved, runs) = self.retention_inputs(schedule_id).await?;
        let policy = policy.unwrap_or(saved);
        let mut out = Vec::new();
        for d in plan(policy, &runs, now) {
            let filename: Option<String> =
                sqlx::query_scalar("SELECT filename FROM runs WHERE id = ?")
                    .bind(d.run_id)
                    .fetch_one(self.pool())
                    .await?;
            out.push(AppliedDeletion {
                run_id: d.run_id,
                filename,
                reason: d.reason,
                outcome: "preview".into(),
                destination: None,
            });
        }
        Ok(out)
    }

    /// Applies retention to one schedule's backups. Call only after a successful run of it.
    /// Deletes only files the history recorded (and their manifests); records each deletion.
    pub async fn apply_retention(
        &self,
        schedule_id: i64,
        now: Timestamp,
    ) -> Result<Vec<AppliedDeletion>> {
        let (policy, runs) = self.retention_inputs(schedule_id).await?;
        let mut out = Vec::new();
        for d in plan(policy, &runs, now) {
            let (filename, path): (Option<String>, Option<String>) =
                sqlx::query_as("SELECT filename, file_path FROM runs WHERE id = ?")
                    .bind(d.run_id)
                    .fetch_one(self.pool())
                    .await?;
            let outcome = match &path {
                Some(path) => {
                    let path = std::path::Path::new(path);
                    let _ = std::fs::remove_file(crate::manifest::path_for(path));
                    match std::fs::remove_file(path) {
                        Ok(()) => "deleted",
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "missing",
                        Err(e) => return Err(crate::error::io_error(e, "deleting an old backup")),
                    }
                }
                None => "missing",
            };
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
}
