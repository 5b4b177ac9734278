//! The runs table (history): what ran, when, how it ended.

use crate::error::{Error, Result};
use crate::history::{HistoryFilter, Run};
use crate::run::RunError;
use crate::schedule::Schedule;
use crate::store::Store;
use crate::time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use sqlx::Row;
use std::path::{Path, PathBuf};

/// SQLite takes at most 32,766 parameters; lists of ids are queried in chunks of this many.
pub(super) const ID_CHUNK: usize = 500;

/// `{head} (?, ?, …) {tail}` with one chunk's ids bound.
pub(super) fn id_listing<'a>(
    head: &str,
    chunk: &[i64],
    tail: &str,
) -> sqlx::QueryBuilder<'a, sqlx::Sqlite> {
    let mut sql = sqlx::QueryBuilder::new(head);
    sql.push(" (");
    let mut list = sql.separated(", ");
    for id in chunk {
        list.push_bind(*id);
    }
    sql.push(") ").push(tail);
    sql
}

/// A condition on the run bound next: it is a history entry, not a part of one (only an
/// entry counts in its schedule's successes and failures).
const ENTRY: &str = "NOT EXISTS (SELECT 1 FROM runs WHERE id = ? AND part_of IS NOT NULL)";

pub(super) fn from_row(row: &sqlx::sqlite::SqliteRow, tz: &TimeZone) -> Result<Run> {
    let zoned = |col: &str| -> Result<Option<ZonedDateTime>> {
        let text: Option<String> = row.try_get(col)?;
        text.map(|t| time::from_stored(&t).map(|ts| ts.to_zoned_datetime(tz.clone())))
            .transpose()
    };
    let error = run_error(row)?;
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
        pinned: row.try_get("pinned")?,
        note_th: row
            .try_get::<Option<String>, _>("note")?
            .as_deref()
            .and_then(crate::hints::note_in_thai),
        note: row.try_get("note")?,
        notification: row.try_get("notification")?,
        verification: row.try_get("verification")?,
        copies: Vec::new(),
        database: row.try_get("database")?,
        parts: Vec::new(),
    })
}

impl Store {
    /// Records a slot that did not run (still running, or missed with catch-up off).
    pub async fn record_skipped(
        &self,
        schedule: &crate::schedule::Schedule,
        trigger: &str,
        now: jiff::Timestamp,
        reason: &str,
    ) -> Result<i64> {
        let done = sqlx::query(
            "INSERT INTO runs (schedule_id, schedule_name, backup_type, tenant_id, trigger, status, note, created_at, finished_at) \
             VALUES (?, ?, ?, ?, ?, 'skipped', ?, ?, ?)",
        )
        .bind(schedule.id)
        .bind(&schedule.name)
        .bind(schedule.backup_type.as_str())
        .bind(schedule.tenant_id)
        .bind(trigger)
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
                    sqlx::query(&format!(
                        "UPDATE schedules SET failed_count = failed_count + 1 WHERE id = ? AND {ENTRY}"
                    ))
                    .bind(schedule_id)
                    .bind(id)
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
        self.history_page(&HistoryFilter {
            schedule_id,
            ..HistoryFilter::default()
        })
        .await
    }

    /// History entries, newest first, as `filter` says: of one schedule, with one status,
    /// made within dates, whose file name has a part, after the entry `before_id` in this
    /// order, at most `limit` (all when None).
    pub async fn history_page(&self, filter: &HistoryFilter) -> Result<Vec<Run>> {
        if let Some(id) = filter.schedule_id {
            if id <= 0 {
                return Err(Error::invalid(
                    "schedule_id",
                    format!("schedule_id must be a positive number, not {id}"),
                ));
            }
        }
        // Only the conditions asked for, so SQLite can use the schedule's index (an
        // `?1 IS NULL OR …` condition makes it scan the whole table).
        // A run of several databases is one entry; its parts come with it (`attach_parts`).
        let mut sql = sqlx::QueryBuilder::new("SELECT * FROM runs WHERE part_of IS NULL");
        if let Some(id) = filter.schedule_id {
            sql.push(" AND schedule_id = ").push_bind(id);
        }
        if let Some(status) = &filter.status {
            sql.push(" AND status = ").push_bind(status.clone());
        }
        if let Some(from) = filter.from {
            sql.push(" AND created_at >= ")
                .push_bind(time::to_stored(from));
        }
        if let Some(until) = filter.until {
            sql.push(" AND created_at < ")
                .push_bind(time::to_stored(until));
        }
        if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
            // The admin's text is matched literally: % and _ are not wildcards here.
            let escaped = search
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            // The entry's own file, or one of its parts' files.
            let pattern = format!("%{escaped}%");
            sql.push(" AND (filename LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR (is_group AND id IN (SELECT part_of FROM runs WHERE part_of IS NOT NULL AND filename LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')))");
        }
        if let Some(before) = filter.before_id {
            sql.push(" AND (created_at, id) < (SELECT created_at, id FROM runs WHERE id = ")
                .push_bind(before)
                .push(")");
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(filter.limit.map_or(-1, i64::from));
        let rows = sql.build().fetch_all(self.pool()).await?;
        let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let mut runs: Vec<Run> = rows
            .iter()
            .map(|row| from_row(row, &tz))
            .collect::<Result<_>>()?;
        let (Some(first), Some(last)) = (
            runs.iter().map(|r| r.id).min(),
            runs.iter().map(|r| r.id).max(),
        ) else {
            return Ok(runs);
        };
        let mut by_run: std::collections::HashMap<i64, Vec<crate::history::CopyRecord>> =
            std::collections::HashMap::new();
        for copy in self.copies_of_runs(first, last).await? {
            by_run.entry(copy.run_id).or_default().push(copy);
        }
        for run in &mut runs {
            run.copies = by_run.remove(&run.id).unwrap_or_default();
        }
        self.attach_parts(&mut runs).await?;
        Ok(runs)
    }

    /// The runs with these ids, with their copies, newest first (ids not found are left out).
    pub async fn runs_with_ids(&self, ids: &[i64]) -> Result<Vec<Run>> {
        let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let mut runs = Vec::with_capacity(ids.len());
        let mut by_run: std::collections::HashMap<i64, Vec<crate::history::CopyRecord>> =
            std::collections::HashMap::new();
        for chunk in ids.chunks(ID_CHUNK) {
            let mut sql = id_listing("SELECT * FROM runs WHERE id IN", chunk, "");
            for row in sql.build().fetch_all(self.pool()).await? {
                runs.push(from_row(&row, &tz)?);
            }
            let mut sql = id_listing("SELECT * FROM copies WHERE run_id IN", chunk, "ORDER BY id");
            for row in sql.build().fetch_all(self.pool()).await? {
                let copy = super::copies::record_from_row(&row)?;
                by_run.entry(copy.run_id).or_default().push(copy);
            }
        }
        for run in &mut runs {
            run.copies = by_run.remove(&run.id).unwrap_or_default();
        }
        runs.sort_by(|a, b| {
            (b.created_at.timestamp(), b.id).cmp(&(a.created_at.timestamp(), a.id))
        });
        self.attach_parts(&mut runs).await?;
        Ok(runs)
    }

    /// What the dashboard shows of each schedule's history, read by index without loading the
    /// whole history: its newest success and last finished run (ids), and the sizes of its
    /// last `sizes` good backups, oldest first. And the newest `failures` failed or
    /// interrupted runs of any schedule.
    pub async fn recent_runs(&self, sizes: u32, failures: u32) -> Result<RecentRuns> {
        // `+r.status` in the last-finished lookup: see `run_summaries`.
        let latest: Vec<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT s.id, \
               (SELECT r.id FROM runs r WHERE r.schedule_id = s.id AND r.status = 'success' \
                AND r.part_of IS NULL ORDER BY r.created_at DESC, r.id DESC LIMIT 1), \
               (SELECT r.id FROM runs r WHERE r.schedule_id = s.id AND r.part_of IS NULL \
                AND +r.status IN ('success', 'failed', 'interrupted') \
                ORDER BY r.created_at DESC, r.id DESC LIMIT 1) \
             FROM schedules s",
        )
        .fetch_all(self.pool())
        .await?;
        let mut recent = RecentRuns::default();
        for (schedule, success, finished) in latest {
            recent
                .newest_success
                .extend(success.map(|id| (schedule, id)));
            recent
                .last_finished
                .extend(finished.map(|id| (schedule, id)));
        }
        // One row per schedule with its sizes joined (a row costs more than its bytes here).
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT schedule_id, group_concat(file_size, ',' ORDER BY created_at, id) FROM ( \
               SELECT schedule_id, file_size, created_at, id, ROW_NUMBER() OVER \
                 (PARTITION BY schedule_id ORDER BY created_at DESC, id DESC) AS n \
               FROM runs WHERE status = 'success' AND schedule_id IS NOT NULL \
               AND file_size IS NOT NULL AND part_of IS NULL) \
             WHERE n <= ? GROUP BY schedule_id",
        )
        .bind(i64::from(sizes))
        .fetch_all(self.pool())
        .await?;
        for (schedule, joined) in rows {
            let sizes = joined
                .split(',')
                .filter_map(|size| size.parse::<i64>().ok())
                .map(|size| size.max(0) as u64)
                .collect();
            recent.sizes.insert(schedule, sizes);
        }
        recent.failures = sqlx::query_scalar(
            "SELECT id FROM runs WHERE status IN ('failed', 'interrupted') AND part_of IS NULL \
             ORDER BY created_at DESC, id DESC LIMIT ?",
        )
        .bind(i64::from(failures))
        .fetch_all(self.pool())
        .await?;
        Ok(recent)
    }

    /// Records a run as started (`running`), with the lock file that proves it alive.
    pub async fn start_run(
        &self,
        schedule: &Schedule,
        trigger: &str,
        note: Option<String>,
        now: Timestamp,
        lock_path: &Path,
    ) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO runs (schedule_id, schedule_name, backup_type, tenant_id, trigger, note, status, created_at, lock_path) \
             VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
        )
        .bind(schedule.id)
        .bind(&schedule.name)
        .bind(schedule.backup_type.as_str())
        .bind(schedule.tenant_id)
        .bind(trigger)
        .bind(note)
        .bind(time::to_stored(now))
        .bind(lock_path.display().to_string())
        .execute(self.pool())
        .await?
        .last_insert_rowid())
    }

    pub async fn set_run_note(&self, run_id: i64, note: &str) -> Result<()> {
        sqlx::query("UPDATE runs SET note = ? WHERE id = ?")
            .bind(note)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The file a running backup writes (its partial name until it is whole), and the
    /// database it holds.
    pub async fn set_run_file(
        &self,
        run_id: i64,
        filename: &str,
        path: &Path,
        database: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE runs SET filename = ?, file_path = ?, database = ? WHERE id = ?")
            .bind(filename)
            .bind(path.display().to_string())
            .bind(database)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A run that ended with its backup whole; the schedule's success count and last run.
    pub async fn finish_run_success(
        &self,
        run_id: i64,
        schedule_id: i64,
        file: &crate::artifact::FinishedFile,
        (duration, finished_at): (f64, Timestamp),
        (warnings, details): (&str, &str),
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE runs SET status = 'success', filename = ?, file_path = ?, file_size = ?, checksum_sha256 = ?, \
             duration_seconds = ?, finished_at = ?, warnings = ?, details = ?, lock_path = NULL WHERE id = ?",
        )
        .bind(&file.filename)
        .bind(file.path.display().to_string())
        .bind(file.size as i64)
        .bind(&file.sha256)
        .bind(duration)
        .bind(time::to_stored(finished_at))
        .bind(warnings)
        .bind(details)
        .bind(run_id)
        .execute(self.pool())
        .await?;
        self.count_success(schedule_id, run_id, now).await
    }

    /// A success of run `run_id` in its schedule's count and last run, when the run is a
    /// history entry (a part of one does not count on its own).
    pub(super) async fn count_success(
        &self,
        schedule_id: i64,
        run_id: i64,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(&format!(
            "UPDATE schedules SET last_run_at = ?, success_count = success_count + 1 WHERE id = ? AND {ENTRY}"
        ))
        .bind(time::to_stored(now))
        .bind(schedule_id)
        .bind(run_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A run that failed or was cancelled (`status`); only failures count as failed.
    pub async fn finish_run_failed(
        &self,
        run_id: i64,
        schedule_id: i64,
        status: &str,
        (duration, finished_at): (f64, Timestamp),
        err: &Error,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE runs SET status = ?, file_path = NULL, file_size = NULL, duration_seconds = ?, finished_at = ?, \
             error_code = ?, error_message = ?, error_hint = ?, lock_path = NULL WHERE id = ?",
        )
        .bind(status)
        .bind(duration)
        .bind(time::to_stored(finished_at))
        .bind(err.code.to_string())
        .bind(&err.message)
        .bind(&err.hint)
        .bind(run_id)
        .execute(self.pool())
        .await?;
        let column = if status == "failed" {
            "failed_count = failed_count + 1,"
        } else {
            ""
        };
        sqlx::query(&format!(
            "UPDATE schedules SET {column} last_run_at = ? WHERE id = ? AND {ENTRY}"
        ))
        .bind(time::to_stored(now))
        .bind(schedule_id)
        .bind(run_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The backup file and checksum a history entry recorded, for restore.
    pub async fn run_file(&self, run_id: i64) -> Result<(PathBuf, Option<String>)> {
        type Row = (String, Option<String>, Option<String>, Option<String>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT status, file_path, checksum_sha256, deleted_at FROM runs WHERE id = ?",
        )
        .bind(run_id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Err(Error::not_found(format!(
                "there is no history entry {run_id}"
            ))),
            Some((status, _, _, _)) if status != "success" => Err(Error::invalid(
                "history_id",
                format!("history entry {run_id} is `{status}`, not a successful backup"),
            )),
            Some((_, _, _, Some(_))) => Err(Error::invalid(
                "history_id",
                format!("the backup of entry {run_id} was deleted"),
            )),
            Some((_, Some(path), checksum, None)) => Ok((PathBuf::from(path), checksum)),
            Some(_) => Err(Error::invalid(
                "history_id",
                format!("history entry {run_id} has no file"),
            )),
        }
    }

    /// The schedule a run belonged to (None when the schedule was deleted).
    pub async fn run_schedule_id(&self, run_id: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT schedule_id FROM runs WHERE id = ?")
                .bind(run_id)
                .fetch_optional(self.pool())
                .await?
                .flatten(),
        )
    }

    /// The outcome of a run's test restore.
    pub async fn set_verification(&self, run_id: i64, status: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE runs SET verification = ?, verified_at = ? WHERE id = ?")
            .bind(status)
            .bind(time::to_stored(now))
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// How the run's notification went (`sent`, or `failed: …`).
    pub async fn set_notification(&self, run_id: i64, status: &str) -> Result<()> {
        sqlx::query("UPDATE runs SET notification = ? WHERE id = ?")
            .bind(status)
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// What a restore needs of a run: (status, file path, SHA-256, deleted at, manifest).
    #[allow(clippy::type_complexity)]
    pub async fn run_backup(
        &self,
        run_id: i64,
    ) -> Result<
        Option<(
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        )>,
    > {
        Ok(sqlx::query_as(
            "SELECT status, file_path, checksum_sha256, deleted_at, details FROM runs WHERE id = ?",
        )
        .bind(run_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The sizes of the schedule's good backups made before `run_id`, newest first.
    pub async fn sizes_before(
        &self,
        schedule_id: i64,
        run_id: i64,
        limit: usize,
    ) -> Result<Vec<u64>> {
        let sizes: Vec<i64> = sqlx::query_scalar(
            "SELECT file_size FROM runs WHERE schedule_id = ? AND status = 'success' AND id < ? \
             AND file_size IS NOT NULL AND part_of IS NULL ORDER BY id DESC LIMIT ?",
        )
        .bind(schedule_id)
        .bind(run_id)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        Ok(sizes.into_iter().map(|s| s.max(0) as u64).collect())
    }

    /// Adds to a run's note (after what is there, on a new line).
    pub async fn add_run_note(&self, run_id: i64, note: &str) -> Result<()> {
        sqlx::query(
            "UPDATE runs SET note = CASE WHEN note IS NULL OR note = '' THEN ? ELSE note || char(10) || ? END \
             WHERE id = ?",
        )
        .bind(note)
        .bind(note)
        .bind(run_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The size of the schedule's newest successful backup still on disk.
    pub async fn last_success_size(&self, schedule_id: i64) -> Result<Option<u64>> {
        let size: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT file_size FROM runs WHERE schedule_id = ? AND status = 'success' \
             AND part_of IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(schedule_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(size.flatten().map(|s| s.max(0) as u64))
    }

    /// Runs of a schedule left `running` by a task that panicked (their lock released): they
    /// become `failed` with `err`, their partial files removed, the schedule's failures
    /// counted. Returns their ids.
    pub async fn fail_abandoned_runs(
        &self,
        schedule_id: i64,
        err: &Error,
        now: Timestamp,
    ) -> Result<Vec<i64>> {
        let running: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, file_path, lock_path FROM runs WHERE schedule_id = ? AND status = 'running'",
        )
        .bind(schedule_id)
        .fetch_all(self.pool())
        .await?;
        let mut failed = Vec::new();
        for (id, path, lock) in running {
            if lock
                .as_deref()
                .is_some_and(|l| crate::paths::lock_held(Path::new(l)))
            {
                continue;
            }
            if let Some(path) = path.filter(|p| p.ends_with(crate::artifact::PARTIAL_SUFFIX)) {
                let _ = std::fs::remove_file(path);
            }
            self.finish_run_failed(id, schedule_id, "failed", (0.0, now), err, now)
                .await?;
            failed.push(id);
        }
        Ok(failed)
    }

    /// The runs in progress now, in any process: (run id, schedule id, schedule name,
    /// started at).
    pub async fn running_runs(&self) -> Result<Vec<(i64, Option<i64>, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, schedule_id, schedule_name, created_at FROM runs WHERE status = 'running' \
             AND part_of IS NULL ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// One history entry, with its copies.
    pub async fn get_run(&self, run_id: i64) -> Result<Run> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(run_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| Error::not_found(format!("there is no history entry {run_id}")))?;
        let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let mut run = from_row(&row, &tz)?;
        run.copies = self.copies(Some(run_id)).await?;
        let mut runs = vec![run];
        self.attach_parts(&mut runs).await?;
        Ok(runs.remove(0))
    }

    /// For every schedule in one query (the metrics, every scheduler tick): its newest
    /// success's time, and its last finished run's status, duration and size. `+r.status`
    /// keeps SQLite off the `runs_by_status` index for the second lookup: with it, each
    /// schedule's lookup walked every success and failure of all schedules (10,000 schedules
    /// and 100,000 runs: 40 s; `examples/app_scale.rs`), without it, only its own runs.
    #[allow(clippy::type_complexity)]
    pub async fn run_summaries(
        &self,
    ) -> Result<
        Vec<(
            i64,
            Option<String>,
            Option<String>,
            Option<f64>,
            Option<i64>,
        )>,
    > {
        Ok(sqlx::query_as(
            "SELECT s.id, \
               (SELECT MAX(r.created_at) FROM runs r WHERE r.schedule_id = s.id AND r.status = 'success' \
                AND r.part_of IS NULL), \
               l.status, l.duration_seconds, l.file_size \
             FROM schedules s LEFT JOIN runs l ON l.id = \
               (SELECT MAX(r.id) FROM runs r WHERE r.schedule_id = s.id AND +r.status IN ('success', 'failed') \
                AND r.part_of IS NULL) \
             ORDER BY s.id",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

/// Ids and sizes from [`Store::recent_runs`], by schedule id.
#[derive(Debug, Default)]
pub struct RecentRuns {
    pub newest_success: std::collections::HashMap<i64, i64>,
    pub last_finished: std::collections::HashMap<i64, i64>,
    pub sizes: std::collections::HashMap<i64, Vec<u64>>,
    pub failures: Vec<i64>,
}

/// The error a row records in `error_code`, `error_message`, `error_hint` (runs, copies).
pub(crate) fn run_error(row: &sqlx::sqlite::SqliteRow) -> Result<Option<RunError>> {
    let code: Option<String> = row.try_get("error_code")?;
    Ok(match code {
        Some(code) => {
            let hint: Option<String> = row.try_get("error_hint")?;
            Some(RunError {
                code,
                message: row
                    .try_get::<Option<String>, _>("error_message")?
                    .unwrap_or_default(),
                hint_th: hint.as_deref().and_then(crate::hints::in_thai),
                hint,
            })
        }
        None => None,
    })
}
