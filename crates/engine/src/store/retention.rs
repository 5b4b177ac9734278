//! What retention reads and records: the runs it may delete, and their deletion.

use crate::error::{Error, ErrorCode, Result};
use std::collections::HashMap;

use crate::retention::{
    decide, plan, AppliedDeletion, RetentionDecision, RetentionPolicy, RunRecord,
};
use crate::store::Store;
use crate::time;
use jiff::Timestamp;

/// What retention reads of a schedule: its policy and zone, its runs (one series per
/// database: a schedule of several databases keeps each database's backups by the same
/// rules, so one database's failures never push another's good backups out), their file
/// names.
struct Inputs {
    policy: RetentionPolicy,
    series: Vec<Vec<RunRecord>>,
    filenames: HashMap<i64, Option<String>>,
    zone: jiff::tz::TimeZone,
}

impl Inputs {
    fn plan(&self, now: Timestamp) -> Vec<crate::retention::Deletion> {
        self.series
            .iter()
            .flat_map(|runs| plan(self.policy, runs, now, &self.zone))
            .collect()
    }
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
            Option<String>,
        );
        // Files only: an entry of several databases has none (its parts have).
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, created_at, status, deleted_at, verification, pinned, filename, database \
             FROM runs WHERE schedule_id = ? AND NOT is_group ORDER BY id",
        )
        .bind(schedule_id)
        .fetch_all(self.pool())
        .await?;
        let mut runs = Vec::with_capacity(rows.len());
        let mut filenames = HashMap::with_capacity(rows.len());
        for (id, created_at, status, deleted_at, verification, pinned, filename, database) in rows {
            filenames.insert(id, filename);
            runs.push((
                database,
                RunRecord {
                    id,
                    created_at: time::from_stored(&created_at)?,
                    status,
                    deleted: deleted_at.is_some(),
                    verified: verification.as_deref() == Some("verified"),
                    pinned,
                },
            ));
        }
        Ok(Inputs {
            policy: RetentionPolicy {
                retention_days: schedule.retention_days,
                max_backups: schedule.max_backups,
                verified_only: schedule.verify_after_backup,
                gfs: schedule.gfs,
            },
            series: crate::retention::series_by(runs),
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
        Ok(inputs
            .plan(now)
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
        let created: HashMap<i64, Timestamp> = inputs
            .series
            .iter()
            .flatten()
            .map(|r| (r.id, r.created_at))
            .collect();
        let mut decisions: Vec<_> = inputs
            .series
            .iter()
            .flat_map(|runs| decide(policy, runs, now, &inputs.zone))
            .collect();
        // Newest first across the databases, as the history shows them.
        decisions.sort_by_key(|d| std::cmp::Reverse((created.get(&d.run_id).copied(), d.run_id)));
        Ok(decisions
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
        let inputs = self.retention_inputs(schedule_id).await?;
        let mut out = Vec::new();
        for d in inputs.plan(now) {
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
            self.mark_deleted(d.run_id, &reason, now).await?;
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

    /// Keeps a backup for ever (retention skips it) or lets retention have it again. An entry
    /// of several databases pins (or unpins) each of its databases' backups.
    pub async fn set_pinned(&self, run_id: i64, pinned: bool) -> Result<()> {
        let (status, deleted_at, is_group) = self.backup_state(run_id).await?;
        let has_file = if is_group {
            !self.live_parts(run_id).await?.is_empty()
        } else {
            status == "success" && deleted_at.is_none()
        };
        if pinned && !has_file {
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
        sqlx::query("UPDATE runs SET pinned = ? WHERE id = ? OR part_of = ?")
            .bind(pinned)
            .bind(run_id)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes one backup's file (and its manifest) by hand and records it; its copies on
    /// destinations stay. A pinned backup must be unpinned first. An entry of several
    /// databases deletes each of its databases' files.
    pub async fn delete_backup(&self, run_id: i64, now: Timestamp) -> Result<AppliedDeletion> {
        let (status, deleted_at, is_group) = self.backup_state(run_id).await?;
        let files = if is_group {
            self.live_parts(run_id).await?
        } else if status == "success" && deleted_at.is_none() {
            vec![run_id]
        } else {
            Vec::new()
        };
        if files.is_empty() {
            return Err(Error::invalid(
                "run_id",
                format!("history entry {run_id} has no backup file to delete"),
            ));
        }
        let mut found = Vec::with_capacity(files.len());
        for id in files {
            let (filename, path, pinned): (Option<String>, Option<String>, bool) =
                sqlx::query_as("SELECT filename, file_path, pinned FROM runs WHERE id = ?")
                    .bind(id)
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
            found.push((id, filename, path));
        }
        let reason = "deleted by hand".to_owned();
        let mut outcome = "deleted";
        let mut names = Vec::new();
        for (id, filename, path) in found {
            if remove_backup_file(path.as_deref())? == "missing" {
                outcome = "missing";
            }
            self.mark_deleted(id, &reason, now).await?;
            names.extend(filename);
        }
        Ok(AppliedDeletion {
            run_id,
            filename: (!names.is_empty()).then(|| names.join(", ")),
            reason,
            outcome: outcome.into(),
            destination: None,
        })
    }

    /// Records a backup's file as deleted; the entry of several databases it is a part of is
    /// deleted with its last file.
    async fn mark_deleted(&self, run_id: i64, reason: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE runs SET deleted_at = ?, deletion_reason = ? WHERE id = ?")
            .bind(time::to_stored(now))
            .bind(reason)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "UPDATE runs SET deleted_at = ?, deletion_reason = ? \
             WHERE id = (SELECT part_of FROM runs WHERE id = ?) AND deleted_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM runs p WHERE p.part_of = runs.id \
               AND p.status = 'success' AND p.deleted_at IS NULL)",
        )
        .bind(time::to_stored(now))
        .bind(reason)
        .bind(run_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A history entry's status, whether its file was deleted, and whether it is an entry of
    /// several databases; not found names the id.
    async fn backup_state(&self, run_id: i64) -> Result<(String, Option<String>, bool)> {
        sqlx::query_as("SELECT status, deleted_at, is_group FROM runs WHERE id = ?")
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
