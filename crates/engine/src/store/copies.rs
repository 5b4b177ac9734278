//! The copies table: which run was sent to which destination, and where it is now.

use crate::error::{Error, Result};
#[allow(unused_imports)]
use crate::history::CopyRecord;
use crate::store::Store;
use crate::time;
use jiff::Timestamp;
use sqlx::Row;
use std::path::Path;

pub(super) fn record_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<CopyRecord> {
    Ok(CopyRecord {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        destination: row.try_get("destination_name")?,
        object_path: row.try_get("object_path")?,
        status: row.try_get("status")?,
        size: row.try_get("size")?,
        duration_seconds: row.try_get("duration_seconds")?,
        error: super::runs::run_error(row)?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
        deleted_at: row.try_get("deleted_at")?,
        deletion_reason: row.try_get("deletion_reason")?,
    })
}

/// One copy as retention reads it (see [`Store::copies_on`]).
pub type CopyRow = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    bool,
    Option<String>,
);

impl Store {
    /// The copies of the given runs (all runs when `runs` is None), oldest first.
    pub async fn copies(&self, run_id: Option<i64>) -> Result<Vec<CopyRecord>> {
        let rows =
            sqlx::query("SELECT * FROM copies WHERE (?1 IS NULL OR run_id = ?1) ORDER BY id")
                .bind(run_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// The copies of the runs with ids from `first` to `last` (a page of the history).
    pub async fn copies_of_runs(&self, first: i64, last: i64) -> Result<Vec<CopyRecord>> {
        let rows = sqlx::query("SELECT * FROM copies WHERE run_id BETWEEN ? AND ? ORDER BY id")
            .bind(first)
            .bind(last)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Start-up recovery of copies: an upload left `uploading` by a killed process becomes
    /// `interrupted` (its partial object is removed at the next upload to that destination).
    pub(crate) async fn recover_interrupted_copies(&self, now: Timestamp) -> Result<usize> {
        let rows: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, lock_path FROM copies WHERE status = 'uploading'")
                .fetch_all(self.pool())
                .await?;
        let mut changed = 0;
        for (id, lock) in rows {
            if lock
                .as_deref()
                .is_some_and(|l| crate::paths::lock_held(Path::new(l)))
            {
                continue;
            }
            changed += sqlx::query(
                "UPDATE copies SET status = 'interrupted', finished_at = ?, error_code = 'Interrupted', \
                 error_message = 'the upload was interrupted (the app or computer stopped during it)', \
                 error_hint = 'the next run sends a new copy', lock_path = NULL WHERE id = ? AND status = 'uploading'",
            )
            .bind(time::to_stored(now))
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected() as usize;
        }
        Ok(changed)
    }

    /// Records a copy as started (`uploading`), with the run's lock file.
    pub async fn start_copy(
        &self,
        (run_id, schedule_id): (i64, i64),
        (destination_id, destination_name): (i64, &str),
        object_path: &str,
        lock_path: &Path,
        now: Timestamp,
    ) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO copies (run_id, schedule_id, destination_id, destination_name, object_path, status, lock_path, created_at) \
             VALUES (?, ?, ?, ?, ?, 'uploading', ?, ?)",
        )
        .bind(run_id)
        .bind(schedule_id)
        .bind(destination_id)
        .bind(destination_name)
        .bind(object_path)
        .bind(lock_path.display().to_string())
        .bind(time::to_stored(now))
        .execute(self.pool())
        .await?
        .last_insert_rowid())
    }

    /// A copy's end: `uploaded` with its size, or `failed`/`cancelled` with the error.
    pub async fn finish_copy(
        &self,
        copy_id: i64,
        status: &str,
        size: Option<u64>,
        (duration, finished): (f64, Timestamp),
        err: Option<&Error>,
    ) -> Result<()> {
        match err {
            None => {
                sqlx::query(
                    "UPDATE copies SET status = ?, size = ?, duration_seconds = ?, finished_at = ?, \
                     partial_path = NULL, lock_path = NULL WHERE id = ?",
                )
                .bind(status)
                .bind(size.map(|s| s as i64))
                .bind(duration)
                .bind(time::to_stored(finished))
                .bind(copy_id)
                .execute(self.pool())
                .await?;
            }
            Some(err) => {
                sqlx::query(
                    "UPDATE copies SET status = ?, duration_seconds = ?, finished_at = ?, error_code = ?, \
                     error_message = ?, error_hint = ?, lock_path = NULL WHERE id = ?",
                )
                .bind(status)
                .bind(duration)
                .bind(time::to_stored(finished))
                .bind(err.code.to_string())
                .bind(&err.message)
                .bind(&err.hint)
                .bind(copy_id)
                .execute(self.pool())
                .await?;
            }
        }
        Ok(())
    }

    /// Where an unfinished upload may have left a partial object (None once it is gone).
    pub async fn set_copy_partial(&self, copy_id: i64, partial: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE copies SET partial_path = ? WHERE id = ?")
            .bind(partial)
            .bind(copy_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Partial objects that interrupted uploads left on a destination: (copy id, path).
    pub async fn partial_uploads(&self, destination_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, partial_path FROM copies WHERE destination_id = ? AND partial_path IS NOT NULL \
             AND status IN ('interrupted', 'failed', 'cancelled')",
        )
        .bind(destination_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// A schedule's copies on one destination, for its retention: (copy id, run id, status,
    /// deleted at, the run's created at, verification, pinned, the database it holds).
    pub async fn copies_on(&self, schedule_id: i64, destination_id: i64) -> Result<Vec<CopyRow>> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.run_id, c.status, c.deleted_at, r.created_at, r.verification, r.pinned, \
             r.database \
             FROM copies c JOIN runs r ON r.id = c.run_id \
             WHERE c.schedule_id = ? AND c.destination_id = ? ORDER BY c.id",
        )
        .bind(schedule_id)
        .bind(destination_id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn copy_object(&self, copy_id: i64) -> Result<String> {
        Ok(
            sqlx::query_scalar("SELECT object_path FROM copies WHERE id = ?")
                .bind(copy_id)
                .fetch_one(self.pool())
                .await?,
        )
    }

    pub async fn mark_copy_deleted(
        &self,
        copy_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE copies SET deleted_at = ?, deletion_reason = ? WHERE id = ?")
            .bind(time::to_stored(now))
            .bind(reason)
            .bind(copy_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A run's uploaded copies that still exist (on `from` only, when given): (destination,
    /// object path), oldest first.
    pub async fn uploaded_copies(
        &self,
        run_id: i64,
        from: Option<&str>,
    ) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT destination_name, object_path FROM copies WHERE run_id = ? AND status = 'uploaded' \
             AND deleted_at IS NULL AND (?2 IS NULL OR destination_name = ?2 COLLATE NOCASE) ORDER BY id",
        )
        .bind(run_id)
        .bind(from)
        .fetch_all(self.pool())
        .await?)
    }

    /// Records a backup found on a destination as a history entry whose only copy is there
    /// (the day the computer died: history rebuilt from the manifests). Nothing is recorded
    /// when an entry with the same checksum exists; returns whether one was added.
    pub async fn import_remote_backup(
        &self,
        (destination_id, destination_name): (i64, &str),
        manifest: &crate::manifest::Manifest,
        manifest_json: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let known: Option<i64> =
            sqlx::query_scalar("SELECT id FROM runs WHERE checksum_sha256 = ? LIMIT 1")
                .bind(&manifest.sha256)
                .fetch_optional(self.pool())
                .await?;
        if known.is_some() {
            return Ok(false);
        }
        let created = time::from_stored(&manifest.started_at)
            .map(time::to_stored)
            .unwrap_or_else(|_| time::to_stored(now));
        let finished = time::from_stored(&manifest.finished_at)
            .map(time::to_stored)
            .unwrap_or_else(|_| created.clone());
        let backup_type = if manifest.backup_type == "tenant" {
            "tenant"
        } else {
            "full"
        };
        let name = manifest
            .schedule_name
            .clone()
            .unwrap_or_else(|| format!("{} (imported from {destination_name})", manifest.database));
        let mut tx = self.pool().begin().await?;
        let run_id = sqlx::query(
            "INSERT INTO runs (schedule_id, schedule_name, backup_type, tenant_id, trigger, status, filename, \
             file_size, checksum_sha256, duration_seconds, details, created_at, finished_at, deleted_at, \
             deletion_reason) VALUES (NULL, ?, ?, ?, 'imported', 'success', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&name)
        .bind(backup_type)
        .bind(manifest.tenant_id)
        .bind(&manifest.filename)
        .bind(manifest.file_size as i64)
        .bind(&manifest.sha256)
        .bind(manifest.duration_seconds)
        .bind(manifest_json)
        .bind(&created)
        .bind(&finished)
        .bind(time::to_stored(now))
        .bind(format!("imported: the backup is on `{destination_name}`, not on this computer"))
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        sqlx::query(
            "INSERT INTO copies (run_id, schedule_id, destination_id, destination_name, object_path, status, \
             size, created_at, finished_at) VALUES (?, NULL, ?, ?, ?, 'uploaded', ?, ?, ?)",
        )
        .bind(run_id)
        .bind(destination_id)
        .bind(destination_name)
        .bind(&manifest.filename)
        .bind(manifest.file_size as i64)
        .bind(&created)
        .bind(&finished)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
