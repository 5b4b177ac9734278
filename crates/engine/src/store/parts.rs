//! A run of several databases: one history entry (`is_group`) and one part per database,
//! each a run of its own (`part_of` = the entry) with its file, copies and verification, so
//! everything that works on one backup file (restore, verify, copies, retention) works on a
//! part unchanged. The entry alone counts in its schedule's successes and failures.

use std::path::Path;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::runs::{id_listing, ID_CHUNK};
use crate::error::Result;
use crate::history::Run;
use crate::schedule::Schedule;
use crate::store::Store;
use crate::time;

impl Store {
    /// Marks a started run as an entry of several databases.
    pub async fn set_run_group(&self, run_id: i64) -> Result<()> {
        sqlx::query("UPDATE runs SET is_group = 1 WHERE id = ?")
            .bind(run_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records the part of entry `group` that backs up `database` as started.
    pub async fn start_part(
        &self,
        group: i64,
        schedule: &Schedule,
        database: &str,
        trigger: &str,
        now: Timestamp,
        lock_path: &Path,
    ) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO runs (schedule_id, schedule_name, backup_type, tenant_id, trigger, status, \
             created_at, lock_path, part_of, database) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
        )
        .bind(schedule.id)
        .bind(&schedule.name)
        .bind(schedule.backup_type.as_str())
        .bind(schedule.tenant_id)
        .bind(trigger)
        .bind(time::to_stored(now))
        .bind(lock_path.display().to_string())
        .bind(group)
        .bind(database)
        .execute(self.pool())
        .await?
        .last_insert_rowid())
    }

    /// An entry of several databases whose every part succeeded: its size is theirs together;
    /// the schedule's success count and last run.
    pub async fn finish_group_success(
        &self,
        run_id: i64,
        schedule_id: i64,
        size: u64,
        (duration, finished_at): (f64, Timestamp),
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE runs SET status = 'success', file_size = ?, duration_seconds = ?, finished_at = ?, \
             lock_path = NULL WHERE id = ?",
        )
        .bind(size as i64)
        .bind(duration)
        .bind(time::to_stored(finished_at))
        .bind(run_id)
        .execute(self.pool())
        .await?;
        self.count_success(schedule_id, run_id, now).await
    }

    /// The parts of entry `group` whose backup file is still there (succeeded, not deleted).
    pub async fn live_parts(&self, group: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM runs WHERE part_of = ? AND status = 'success' AND deleted_at IS NULL \
             ORDER BY id",
        )
        .bind(group)
        .fetch_all(self.pool())
        .await?)
    }

    /// Whether `run_id` is an entry of several databases (and so has no file of its own).
    pub async fn is_group(&self, run_id: i64) -> Result<bool> {
        Ok(
            sqlx::query_scalar::<_, bool>("SELECT is_group FROM runs WHERE id = ?")
                .bind(run_id)
                .fetch_optional(self.pool())
                .await?
                .unwrap_or(false),
        )
    }

    /// Refuses an entry of several databases where one backup file is needed (restore,
    /// verify, open): it names each database's own entry id to use instead.
    pub async fn one_file(&self, run_id: i64) -> Result<()> {
        if !self.is_group(run_id).await? {
            return Ok(());
        }
        let parts: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, database FROM runs WHERE part_of = ? ORDER BY id")
                .bind(run_id)
                .fetch_all(self.pool())
                .await?;
        let listed: Vec<String> = parts
            .iter()
            .map(|(id, db)| format!("{} (entry {id})", db.as_deref().unwrap_or("?")))
            .collect();
        Err(crate::error::Error::invalid(
            "run_id",
            format!(
                "history entry {run_id} holds several databases: {}",
                listed.join(", ")
            ),
        )
        .with_hint("choose the backup of one database, by its own entry"))
    }

    /// Fills `parts` (with their copies) of the entries of several databases among `runs`.
    pub(super) async fn attach_parts(&self, runs: &mut [Run]) -> Result<()> {
        // An entry of several databases has no file of its own; other runs need no look.
        let ids: Vec<i64> = runs
            .iter()
            .filter(|r| r.filename.is_none() && r.status != "skipped")
            .map(|r| r.id)
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let mut parts: Vec<(i64, Run)> = Vec::new();
        let mut copies: std::collections::HashMap<i64, Vec<crate::history::CopyRecord>> =
            std::collections::HashMap::new();
        for chunk in ids.chunks(ID_CHUNK) {
            let mut sql = id_listing("SELECT * FROM runs WHERE part_of IN", chunk, "ORDER BY id");
            for row in sql.build().fetch_all(self.pool()).await? {
                let group: i64 = sqlx::Row::try_get(&row, "part_of")?;
                parts.push((group, super::runs::from_row(&row, &tz)?));
            }
            let mut sql = id_listing(
                "SELECT c.* FROM copies c JOIN runs r ON r.id = c.run_id WHERE r.part_of IN",
                chunk,
                "ORDER BY c.id",
            );
            for row in sql.build().fetch_all(self.pool()).await? {
                let copy = super::copies::record_from_row(&row)?;
                copies.entry(copy.run_id).or_default().push(copy);
            }
        }
        let index: std::collections::HashMap<i64, usize> =
            runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        for (group, mut part) in parts {
            part.copies = copies.remove(&part.id).unwrap_or_default();
            if let Some(&i) = index.get(&group) {
                runs[i].parts.push(part);
            }
        }
        Ok(())
    }
}
