//! Restore verification: a backup is only as good as its restore, so this restores one into a
//! scratch database, dumps that database again, and compares each table's row count and
//! content digest with what the manifest recorded at dump time. The digest is order-free
//! (a sum of per-row hashes of the SQL text), so a restored copy whose rows come back in
//! another order still matches, while a changed, missing or extra row does not.
//!
//! The scratch database gets a name that cannot clash (`billora_verify_<run>_<random>`) and is
//! dropped afterwards, whatever happened. The outcome is recorded on the run
//! (`verified` or `verify_failed: …`).

use std::sync::atomic::AtomicBool;

use jiff::Timestamp;
use mysql::prelude::Queryable;
use serde::Serialize;

use crate::connection::{db_error, ServerTarget};
use crate::copies::backup_file;
use crate::crypt::keys_for;
use crate::dump::{dump, DigestKind, DumpOptions, DumpScope};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::Manifest;
use crate::restore::{restore, RestoreMode, RestoreRequest};
use crate::secrets::SecretStore;
use crate::store::Store;

/// One table that did not come back as it was dumped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct TableMismatch {
    pub table: String,
    pub expected_rows: u64,
    pub restored_rows: u64,
    /// True when the counts agree but the content differs.
    pub content_differs: bool,
}

/// What a verification found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct VerifyReport {
    pub run_id: i64,
    pub verified: bool,
    pub tables_checked: usize,
    pub rows_checked: u64,
    pub mismatches: Vec<TableMismatch>,
    pub duration_seconds: f64,
    /// The scratch database used (already dropped).
    pub scratch_database: String,
    /// The destination whose copy was checked (None: the local file).
    pub checked_copy_from: Option<String>,
}

/// Verifies the backup of history entry `run_id` on `target`'s server and records the result.
pub async fn verify_run(
    store: &Store,
    secrets: &dyn SecretStore,
    run_id: i64,
    target: ServerTarget,
    from: Option<&str>,
    now: Timestamp,
) -> Result<VerifyReport> {
    // Held to the end: a copy fetched from a destination is deleted when this drops.
    let backup = backup_file(store, secrets, run_id, from).await?;
    let (file, expected_sha256) = (backup.path.clone(), backup.sha256.clone());
    let manifest = Manifest::read_beside(&file)?.ok_or_else(|| {
        Error::new(
            ErrorCode::NotFound,
            format!(
                "{} has no manifest beside it, so there is nothing to compare with",
                file.display()
            ),
        )
        .with_hint("only backups made by Billora Backup can be verified")
    })?;
    if manifest.tables.iter().any(|t| t.digest.is_none()) {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "this backup was made before content digests were recorded; only its checksum can be checked",
        ));
    }
    let keys = keys_for(&file, secrets, None)?;
    let scratch = format!("billora_verify_{run_id}_{}", crate::paths::random_suffix());
    let started = std::time::Instant::now();
    let request = RestoreRequest {
        file,
        expected_sha256,
        database: scratch.clone(),
        mode: RestoreMode::Database { force: false },
        connections: crate::restore::DEFAULT_CONNECTIONS,
        use_inserts: false,
        keys,
        // Events never run in a scratch copy on the production server.
        safety: crate::restore::RestoreSafety::default(),
    };
    // Recorded before it exists, with a lock this process holds: if the process is killed
    // mid-way, the next scheduler start drops the scratch copy (`drop_leftover_scratch`).
    let (lock_path, run_lock) = crate::paths::run_lock(store.data_dir())?;
    let record_key = format!("{SCRATCH_SETTING}{scratch}");
    let record_value = serde_json::json!({
        "connection": target.profile,
        "lock": lock_path.display().to_string(),
    })
    .to_string();
    store.set_setting(&record_key, &record_value).await?;
    let (outcome, dropped) = tokio::task::spawn_blocking(move || {
        let result = check(&target, &request, &manifest).map_err(|e| target.explain(e));
        let dropped = drop_scratch(&target, &request.database);
        let dropped_ok = dropped.is_ok();
        (result.and_then(|r| dropped.map(|_| r)), dropped_ok)
    })
    .await
    .map_err(|e| Error::new(ErrorCode::Io, format!("the verification task failed: {e}")))?;
    if dropped {
        store.delete_setting(&record_key).await?;
    }
    drop(run_lock);
    let (tables_checked, rows_checked, mismatches) = match outcome {
        Ok(found) => found,
        Err(e) => {
            record(store, run_id, &format!("verify_failed: {}", e.message), now).await?;
            return Err(e);
        }
    };
    let report = VerifyReport {
        run_id,
        verified: mismatches.is_empty(),
        tables_checked,
        rows_checked,
        mismatches,
        duration_seconds: started.elapsed().as_secs_f64(),
        scratch_database: scratch,
        checked_copy_from: backup.fetched_from.clone(),
    };
    record(store, run_id, &report.status(), now).await?;
    Ok(report)
}

impl VerifyReport {
    /// What the run records: `verified`, or `verify_failed:` with the tables that differ.
    pub fn status(&self) -> String {
        if self.verified {
            return "verified".to_owned();
        }
        let tables: Vec<String> = self
            .mismatches
            .iter()
            .map(|m| format!("table `{}` differs", m.table))
            .collect();
        format!("verify_failed: {}", tables.join(", "))
    }
}

/// Verifies a fresh backup on its own server (after a run with `verify_after_backup`) and
/// returns the status recorded on the run; every failure is recorded too, none is raised.
pub async fn verify_and_record(
    store: &Store,
    secrets: &dyn SecretStore,
    run_id: i64,
    now: Timestamp,
) -> String {
    let result = match target_for_run(store, secrets, run_id, None).await {
        Ok(target) => verify_run(store, secrets, run_id, target, None, now).await,
        Err(e) => {
            // verify_run records its own failures; this one happened before it could start.
            let status = format!("verify_failed: {}", e.message);
            if let Err(err) = record(store, run_id, &status, now).await {
                tracing::warn!(run = run_id, error = %err, "cannot record the verification");
            }
            return status;
        }
    };
    match result {
        Ok(report) => report.status(),
        Err(e) => format!("verify_failed: {}", e.message),
    }
}

/// The server to verify on: the named connection, else the one of the run's schedule (the
/// source server, where the scratch database is created next to the real one).
pub async fn target_for_run(
    store: &Store,
    secrets: &dyn SecretStore,
    run_id: i64,
    connection: Option<&str>,
) -> Result<ServerTarget> {
    let profile = match connection {
        Some(name) => store.get_connection(name).await?,
        None => {
            let schedule_id = store.run_schedule_id(run_id).await?;
            let schedule = match schedule_id {
                Some(id) => store.get_schedule(id).await.ok(),
                None => None,
            };
            store
                .resolve_connection(schedule.and_then(|s| s.connection).as_deref())
                .await?
        }
    };
    ServerTarget::new(&profile, secrets)
}

/// Restores into the scratch database, dumps it again and compares with the manifest.
fn check(
    target: &ServerTarget,
    request: &RestoreRequest,
    manifest: &Manifest,
) -> Result<(usize, u64, Vec<crate::verify::TableMismatch>)> {
    let cancel = AtomicBool::new(false);
    restore(target, request, &|_| {}, &cancel)?;
    let scratch = target.for_database(Some(&request.database));
    // The restored copy is digested with the hash the backup recorded (older ones: SipHash).
    let digest = manifest
        .tables
        .iter()
        .find_map(|t| t.digest.as_deref())
        .map(DigestKind::of)
        .unwrap_or_default();
    let options = DumpOptions {
        scope: DumpScope::Full,
        digest,
        ..DumpOptions::default()
    };
    let again = dump(&scratch, &options, &mut std::io::sink(), &|_| {}, &cancel)?;
    let mut mismatches = Vec::new();
    let mut rows_checked = 0;
    for expected in &manifest.tables {
        let restored = again.tables.iter().find(|t| t.table == expected.table);
        let (rows, digest) = restored
            .map(|t| (t.rows, t.digest.clone()))
            .unwrap_or((0, None));
        rows_checked += rows;
        if rows != expected.rows || digest != expected.digest {
            mismatches.push(TableMismatch {
                table: expected.table.clone(),
                expected_rows: expected.rows,
                restored_rows: rows,
                content_differs: rows == expected.rows,
            });
        }
    }
    // Rows in a table the backup did not dump (a tenant backup's shared tables stay empty).
    for extra in &again.tables {
        if extra.rows > 0 && !manifest.tables.iter().any(|t| t.table == extra.table) {
            mismatches.push(TableMismatch {
                table: extra.table.clone(),
                expected_rows: 0,
                restored_rows: extra.rows,
                content_differs: false,
            });
        }
    }
    Ok((manifest.tables.len(), rows_checked, mismatches))
}

/// The settings key prefix recording a scratch database while a verification uses it.
const SCRATCH_SETTING: &str = "scratch_database:";

/// Drops the scratch databases that verifications of this data folder recorded and did not
/// drop (the process was killed), once no live process holds their lock. Only names this
/// folder recorded, and only `billora_verify_…` ones, are ever dropped. Best effort: one that
/// cannot be dropped now stays recorded for the next start.
pub async fn drop_leftover_scratch(store: &Store, secrets: &dyn SecretStore) {
    let Ok(recorded) = store.settings_with_prefix(SCRATCH_SETTING).await else {
        return;
    };
    for (key, value) in recorded {
        let name = key.trim_start_matches(SCRATCH_SETTING).to_owned();
        let record: serde_json::Value = serde_json::from_str(&value).unwrap_or_default();
        let lock = record["lock"].as_str().unwrap_or("");
        if !lock.is_empty() && crate::paths::lock_held(std::path::Path::new(lock)) {
            continue;
        }
        if !name.starts_with("billora_verify_")
            || crate::connection::check_identifier("database", &name).is_err()
        {
            let _ = store.delete_setting(&key).await;
            continue;
        }
        let profile = match record["connection"].as_str() {
            Some(connection) => store.get_connection(connection).await,
            None => store.resolve_connection(None).await,
        };
        let target = match profile.and_then(|p| ServerTarget::new(&p, secrets)) {
            Ok(target) => target,
            Err(err) => {
                tracing::warn!(database = %name, error = %err, "cannot drop a leftover scratch database yet");
                continue;
            }
        };
        let database = name.clone();
        let dropped = tokio::task::spawn_blocking(move || drop_scratch(&target, &database)).await;
        match dropped {
            Ok(Ok(())) => {
                tracing::warn!(database = %name, "dropped the scratch database of a verification that was killed");
                let _ = store.delete_setting(&key).await;
                if !lock.is_empty() {
                    let _ = std::fs::remove_file(lock);
                }
            }
            Ok(Err(err)) => {
                tracing::warn!(database = %name, error = %err, "cannot drop a leftover scratch database yet");
            }
            Err(_) => {}
        }
    }
}

fn drop_scratch(target: &ServerTarget, database: &str) -> Result<()> {
    let mut conn = target.for_database(None).connect()?;
    conn.query_drop(format!("DROP DATABASE IF EXISTS `{database}`"))
        .map_err(|e| db_error(e, "dropping the scratch database"))
}

async fn record(store: &Store, run_id: i64, status: &str, now: Timestamp) -> Result<()> {
    store.set_verification(run_id, status, now).await
}
