//! Restoring a backup from the app, and cancelling it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Deserialize;

use super::{blocking, Api};
use crate::connection::ServerTarget;
use crate::error::Result;
use crate::restore::{RestoreMode, RestoreProgress, RestoreReport, RestoreRequest};

/// A restore started from the app.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct RestoreForm {
    /// A backup from the history…
    pub run_id: Option<i64>,
    /// …or a backup file on this computer: one of ours (encrypted or not) or a mysqldump file
    /// (after a computer failure, with no history here).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub file: Option<String>,
    /// The passphrase of a file encrypted with one (used for this restore only, never kept).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub passphrase: Option<String>,
    pub connection: String,
    pub database: String,
    /// Replace one tenant's rows in a live database (tenant backups only).
    #[serde(default)]
    pub replace_tenant: bool,
    /// Restore into a database that is not empty; with `replace_tenant`, replace although
    /// live tables are missing from the backup or are not transactional (the first attempt
    /// without it lists them).
    #[serde(default)]
    pub force: bool,
    /// Keep routines and views `SQL SECURITY DEFINER` (same server, same accounts).
    #[serde(default)]
    pub keep_sql_security: bool,
    /// Create scheduled events enabled (by default they are created disabled).
    #[serde(default)]
    pub enable_events: bool,
    /// Restore the copy on this destination (default: the local file, else any copy).
    #[serde(default)]
    pub from: Option<String>,
}

/// Where a restore reads its backup.
#[derive(Debug, Clone)]
pub enum BackupSource {
    /// A history entry's backup: its local file, or the copy on `from` (a destination).
    Run { id: i64, from: Option<String> },
    /// A file: one of ours (encrypted or not) or a mysqldump file.
    File(PathBuf),
}

/// A restore, as the CLI and the app's form ask for it.
#[derive(Debug, Clone)]
pub struct RestoreJob {
    pub source: BackupSource,
    pub connection: String,
    pub database: String,
    pub replace_tenant: bool,
    pub force: bool,
    pub keep_sql_security: bool,
    pub enable_events: bool,
    /// Loading connections (clamped to 1-8).
    pub connections: usize,
    /// Rows as INSERT statements instead of LOAD DATA LOCAL.
    pub use_inserts: bool,
    /// An age identity file (a recovery file) for an encrypted backup.
    pub identity: Option<PathBuf>,
    /// The passphrase of a backup encrypted with one.
    pub passphrase: Option<String>,
}

impl Api {
    /// Restores a backup from the history (checked first); `progress` is called as it goes,
    /// and [`Api::cancel_restore`] stops it.
    pub async fn restore(
        &self,
        form: RestoreForm,
        progress: Arc<dyn Fn(&RestoreProgress) + Send + Sync>,
    ) -> Result<RestoreReport> {
        crate::connection::check_identifier("database", &form.database)?;
        let file = form
            .file
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty());
        let source = match (form.run_id, file) {
            (Some(id), None) => BackupSource::Run {
                id,
                from: form.from,
            },
            (None, Some(path)) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(crate::error::Error::invalid(
                        "file",
                        format!("{} is not a file on this computer", path.display()),
                    ));
                }
                BackupSource::File(path)
            }
            _ => {
                return Err(crate::error::Error::invalid(
                    "run_id",
                    "choose one backup: from the history, or a file",
                ))
            }
        };
        let job = RestoreJob {
            source,
            connection: form.connection,
            database: form.database,
            replace_tenant: form.replace_tenant,
            force: form.force,
            keep_sql_security: form.keep_sql_security,
            enable_events: form.enable_events,
            connections: crate::restore::DEFAULT_CONNECTIONS,
            use_inserts: false,
            identity: None,
            passphrase: form.passphrase.filter(|p| !p.is_empty()),
        };
        self.restore_cancel.store(false, Ordering::Relaxed);
        let cancel = self.restore_cancel.clone();
        self.restore_job(job, progress, cancel).await
    }

    /// Restores a backup from the history or a file into `job.database`; `cancel` stops it.
    pub async fn restore_job(
        &self,
        job: RestoreJob,
        progress: Arc<dyn Fn(&RestoreProgress) + Send + Sync>,
        cancel: Arc<AtomicBool>,
    ) -> Result<RestoreReport> {
        // Held to the end: a copy fetched from a destination is deleted when this drops.
        let (backup, file, expected_sha256, _lock) = match job.source {
            BackupSource::Run { id, from } => {
                let lock = self.lock_run_schedule(id, "a restore").await?;
                let backup = crate::copies::backup_file(
                    &self.store,
                    &*self.secrets,
                    id,
                    from.as_deref().filter(|f| !f.is_empty()),
                )
                .await
                .map_err(|e| {
                    let field = if e.field.as_deref() == Some("from") {
                        "from"
                    } else {
                        "run_id"
                    };
                    e.with_field(field)
                })?;
                let (file, sha256) = (backup.path.clone(), backup.sha256.clone());
                (Some(backup), file, sha256, lock)
            }
            BackupSource::File(path) => (None, path, None, None),
        };
        let profile = self
            .store
            .get_connection(&job.connection)
            .await
            .map_err(|e| e.with_field("connection"))?;
        let target = ServerTarget::new(&profile, &*self.secrets)?;
        let mut keys = crate::crypt::keys_for(&file, &*self.secrets, job.identity.as_deref())?;
        if let Some(passphrase) = &job.passphrase {
            keys.add_passphrase(passphrase);
        }
        let request = RestoreRequest {
            file,
            expected_sha256,
            database: job.database,
            mode: if job.replace_tenant {
                RestoreMode::ReplaceTenant
            } else {
                RestoreMode::Database { force: job.force }
            },
            connections: job.connections.clamp(1, 8),
            use_inserts: job.use_inserts,
            keys,
            safety: crate::restore::RestoreSafety {
                keep_sql_security: job.keep_sql_security,
                enable_events: job.enable_events,
                force_replace: job.replace_tenant && job.force,
            },
        };
        let restored = blocking(move || {
            crate::restore::restore(
                &target,
                &request,
                &|p: &RestoreProgress| progress(p),
                &cancel,
            )
            // A connection lost because its SSH tunnel broke says so.
            .map_err(|e| target.explain(e))
        })
        .await;
        drop(backup);
        restored
    }

    pub fn cancel_restore(&self) {
        self.restore_cancel.store(true, Ordering::Relaxed);
    }
}
