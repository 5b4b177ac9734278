//! Copies of each run's backup on the schedule's destinations, recorded one row per copy
//! (`copies`): sent after the local file is complete, each proven whole before it counts, each
//! failure reported on its own without failing the run (the local backup is good). Retention
//! then runs per destination with the local rules (never the newest good copy, only copies the
//! history recorded), and a copy whose upload was killed is marked `interrupted` at the next
//! start and its partial object removed at the next upload there.
//!
//! [`backup_file`] is the other direction: the file of a run for restore or verification,
//! from the local folder or, when that copy is gone, fetched from a destination.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use jiff::Timestamp;

use crate::artifact::FinishedFile;
use crate::destination::remote::Remote;
use crate::destination::Destination;
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::MANIFEST_SUFFIX;
use crate::retention::{plan, AppliedDeletion, RetentionPolicy, RunRecord};
use crate::run::CopyOutcome;
use crate::schedule::Schedule;
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::time;

/// Sends a finished backup (and its manifest) to each destination of `schedule`, in order,
/// recording each copy. Never fails the run: a destination's failure is its copy's outcome.
#[allow(clippy::too_many_arguments)]
pub async fn send_copies(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    run_id: i64,
    file: &FinishedFile,
    lock_path: &Path,
    now: Timestamp,
    cancel: &AtomicBool,
) -> Result<Vec<CopyOutcome>> {
    let mut outcomes = Vec::new();
    for name in &schedule.copy_to {
        let started = std::time::Instant::now();
        let destination = store.get_destination(name).await;
        let (destination_id, destination_name) = match &destination {
            Ok(d) => (d.id, d.name.clone()),
            Err(_) => (0, name.clone()),
        };
        let copy_id = store
            .start_copy(
                (run_id, schedule.id),
                (destination_id, &destination_name),
                &file.filename,
                lock_path,
                now,
            )
            .await?;
        let result = match destination {
            Ok(destination) => send_one(store, secrets, &destination, copy_id, file, cancel).await,
            Err(e) => Err(e),
        };
        let duration = started.elapsed().as_secs_f64();
        let finished = now
            .checked_add(jiff::SignedDuration::from_secs_f64(duration))
            .unwrap_or(now);
        let outcome = match result {
            Ok(size) => {
                store
                    .finish_copy(copy_id, "uploaded", Some(size), (duration, finished), None)
                    .await?;
                CopyOutcome {
                    destination: destination_name,
                    status: "uploaded".into(),
                    size: Some(size),
                    error: None,
                }
            }
            Err(err) => {
                let status = if err.code == ErrorCode::Cancelled {
                    "cancelled"
                } else {
                    "failed"
                };
                tracing::warn!(run = run_id, destination = %destination_name, error = %err, "a copy failed");
                store
                    .finish_copy(copy_id, status, None, (duration, finished), Some(&err))
                    .await?;
                CopyOutcome {
                    destination: destination_name,
                    status: status.into(),
                    size: None,
                    error: Some(err),
                }
            }
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

async fn send_one(
    store: &Store,
    secrets: &dyn SecretStore,
    destination: &Destination,
    copy_id: i64,
    file: &FinishedFile,
    cancel: &AtomicBool,
) -> Result<u64> {
    let remote = Remote::open(destination, secrets)?;
    clean_leftovers(store, &remote, destination.id).await;
    if let Some(partial) = remote.partial_path(&file.filename) {
        store.set_copy_partial(copy_id, Some(&partial)).await?;
    }
    let size = remote
        .send(&file.path, &file.filename, &file.sha256, cancel, &|_| {})
        .await?;
    let manifest = crate::manifest::path_for(&file.path);
    let body = std::fs::read(&manifest)
        .map_err(|e| crate::error::io_error(e, "reading the manifest to send"))?;
    if let Err(err) = remote
        .put_small(&format!("{}{MANIFEST_SUFFIX}", file.filename), body)
        .await
    {
        let _ = remote.delete(&file.filename).await;
        return Err(err);
    }
    Ok(size)
}

/// Removes partial objects that interrupted uploads left on this destination (only the paths
/// the history recorded). Best effort: a failure is retried at the next upload.
async fn clean_leftovers(store: &Store, remote: &Remote, destination_id: i64) {
    let rows = store
        .partial_uploads(destination_id)
        .await
        .unwrap_or_default();
    for (id, partial) in rows {
        let deleted = remote.delete(&partial).await;
        if let Err(err) = &deleted {
            tracing::warn!(copy = id, error = %err, "cannot remove a partial upload yet");
        }
        if deleted.is_ok() {
            let _ = store.set_copy_partial(id, None).await;
        }
    }
}

/// Applies retention on each destination of `schedule` (after a successful run): the
/// destination's own `retention_days`/`max_backups` when set, else the schedule's, with the
/// same safety rules as the local folder. Deletes only copies the history recorded. A
/// destination that cannot be reached is skipped (and tried again after the next run).
pub async fn apply_copy_retention(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    now: Timestamp,
) -> Vec<AppliedDeletion> {
    let mut out = Vec::new();
    for name in &schedule.copy_to {
        match retention_on(store, secrets, schedule, name, now).await {
            Ok(mut done) => out.append(&mut done),
            Err(err) => {
                tracing::warn!(schedule = schedule.id, destination = %name, error = %err, "retention on a destination failed; nothing more was deleted there");
            }
        }
    }
    out
}

async fn retention_on(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    name: &str,
    now: Timestamp,
) -> Result<Vec<AppliedDeletion>> {
    let destination = store.get_destination(name).await?;
    let policy = RetentionPolicy {
        retention_days: destination.retention_days.or(schedule.retention_days),
        max_backups: destination.max_backups.or(schedule.max_backups),
        verified_only: schedule.verify_after_backup,
        gfs: schedule.gfs,
    };
    let rows = store.copies_on(schedule.id, destination.id).await?;
    // One series per database (`series_by`).
    let mut records = Vec::with_capacity(rows.len());
    for (id, _, status, deleted_at, created_at, verification, pinned, database) in &rows {
        records.push((
            database,
            RunRecord {
                id: *id,
                created_at: time::from_stored(created_at)?,
                status: if status == "uploaded" {
                    "success".into()
                } else {
                    status.clone()
                },
                deleted: deleted_at.is_some(),
                verified: verification.as_deref() == Some("verified"),
                pinned: *pinned,
            },
        ));
    }
    let series = crate::retention::series_by(records);
    let zone = time::zone(&schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let deletions: Vec<_> = series
        .iter()
        .flat_map(|records| plan(policy, records, now, &zone))
        .collect();
    if deletions.is_empty() {
        return Ok(Vec::new());
    }
    let remote = Remote::open(&destination, secrets)?;
    let mut out = Vec::new();
    for d in deletions {
        let Some((_, run_id, ..)) = rows.iter().find(|r| r.0 == d.run_id) else {
            continue;
        };
        let object = store.copy_object(d.run_id).await?;
        let existed = remote.delete(&object).await?;
        let _ = remote.delete(&format!("{object}{MANIFEST_SUFFIX}")).await;
        let reason = if existed {
            d.reason.clone()
        } else {
            format!("{} (the copy was already gone)", d.reason)
        };
        store.mark_copy_deleted(d.run_id, &reason, now).await?;
        out.push(AppliedDeletion {
            run_id: *run_id,
            filename: Some(object),
            reason,
            outcome: if existed { "deleted" } else { "missing" }.into(),
            destination: Some(destination.name.clone()),
        });
    }
    Ok(out)
}

/// A run's backup file on this computer, ready to restore or verify: the local copy, or one
/// fetched from a destination into a private temporary folder that is removed on drop.
#[derive(Debug)]
pub struct BackupFile {
    pub path: PathBuf,
    pub sha256: Option<String>,
    /// The destination it was fetched from (None: the local folder).
    pub fetched_from: Option<String>,
    temp_dir: Option<PathBuf>,
}

impl Drop for BackupFile {
    fn drop(&mut self) {
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The backup of history entry `run_id`: from destination `from` when given; else the local
/// file when it is still there, else the first destination that holds a copy. A fetched copy
/// is checked against the recorded SHA-256 (and gets its manifest beside it).
pub async fn backup_file(
    store: &Store,
    secrets: &dyn SecretStore,
    run_id: i64,
    from: Option<&str>,
) -> Result<BackupFile> {
    store.one_file(run_id).await?;
    let row = store.run_backup(run_id).await?;
    let (status, path, sha256, deleted_at, details) =
        row.ok_or_else(|| Error::not_found(format!("there is no history entry {run_id}")))?;
    if status != "success" {
        return Err(Error::invalid(
            "history_id",
            format!("history entry {run_id} is `{status}`, not a successful backup"),
        ));
    }
    if from.is_none() && deleted_at.is_none() {
        if let Some(path) = path.as_deref().map(PathBuf::from).filter(|p| p.is_file()) {
            crate::manifest::Manifest::check_recorded(&path, details.as_deref())?;
            return Ok(BackupFile {
                path,
                sha256,
                fetched_from: None,
                temp_dir: None,
            });
        }
    }
    let copies = store.uploaded_copies(run_id, from).await?;
    if copies.is_empty() {
        return Err(match from {
            Some(name) => Error::invalid(
                "from",
                format!("destination `{name}` holds no copy of history entry {run_id}"),
            ),
            None => Error::invalid(
                "history_id",
                format!(
                    "the backup of entry {run_id} was deleted, and no destination holds a copy"
                ),
            ),
        });
    }
    let mut last_error = None;
    for (name, object) in copies {
        let fetched = fetch_one(store, secrets, run_id, &name, &object, sha256.as_deref())
            .await
            .and_then(|file| {
                crate::manifest::Manifest::check_recorded(&file.path, details.as_deref()).map_err(
                    |e| Error {
                        message: format!("the copy on `{name}`: {}", e.message),
                        ..e
                    },
                )?;
                Ok(file)
            });
        match fetched {
            Ok(file) => return Ok(file),
            Err(err) => {
                tracing::warn!(run = run_id, destination = %name, error = %err, "cannot fetch a copy");
                last_error = Some(err);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| Error::not_found("no copy could be fetched")))
}

async fn fetch_one(
    store: &Store,
    secrets: &dyn SecretStore,
    run_id: i64,
    name: &str,
    object: &str,
    sha256: Option<&str>,
) -> Result<BackupFile> {
    let destination = store.get_destination(name).await?;
    let remote = Remote::open(&destination, secrets)?;
    let dir = store
        .data_dir()
        .join("fetched")
        .join(format!("{run_id}-{}", crate::paths::random_suffix()));
    crate::paths::create_private_dir(&dir)?;
    // From here the folder is removed when `file` is dropped, on every path.
    let mut file = BackupFile {
        path: dir.join(object.rsplit('/').next().unwrap_or(object)),
        sha256: sha256.map(str::to_owned),
        fetched_from: Some(destination.name.clone()),
        temp_dir: Some(dir),
    };
    let got = remote.fetch(object, &file.path).await?;
    if let Some(expected) = sha256 {
        if !got.eq_ignore_ascii_case(expected) {
            return Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the copy on `{name}` does not match the checksum recorded when it was made"
                ),
            )
            .with_hint("try another destination, or the local copy"));
        }
    }
    let manifest = remote
        .get_small(&format!("{object}{MANIFEST_SUFFIX}"))
        .await?;
    let manifest_path = crate::manifest::path_for(&file.path);
    std::fs::write(&manifest_path, manifest)
        .map_err(|e| crate::error::io_error(e, "saving the downloaded manifest"))?;
    file.sha256 = Some(got);
    Ok(file)
}
