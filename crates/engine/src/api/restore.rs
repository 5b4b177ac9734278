//! Restoring a backup from the app, and cancelling it.

use std::sync::atomic::Ordering;
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
    /// A backup from the history.
    pub run_id: i64,
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

impl Api {
    /// Restores a backup from the history (checked first); `progress` is called as it goes.
    pub async fn restore(
        &self,
        form: RestoreForm,
        progress: Arc<dyn Fn(&RestoreProgress) + Send + Sync>,
    ) -> Result<RestoreReport> {
        // Held to the end: a copy fetched from a destination is deleted when this drops.
        let backup = crate::copies::backup_file(
            &self.store,
            &*self.secrets,
            form.run_id,
            form.from.as_deref().filter(|f| !f.is_empty()),
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
        let (file, expected_sha256) = (backup.path.clone(), backup.sha256.clone());
        let profile = self
            .store
            .get_connection(&form.connection)
            .await
            .map_err(|e| e.with_field("connection"))?;
        crate::connection::check_identifier("database", &form.database)?;
        let target = ServerTarget::new(&profile, &*self.secrets)?;
        let file_for_keys = file.clone();
        let request = RestoreRequest {
            file,
            expected_sha256,
            database: form.database,
            mode: if form.replace_tenant {
                RestoreMode::ReplaceTenant
            } else {
                RestoreMode::Database { force: form.force }
            },
            connections: crate::restore::DEFAULT_CONNECTIONS,
            use_inserts: false,
            keys: crate::crypt::keys_for(&file_for_keys, &*self.secrets, None)?,
            safety: crate::restore::RestoreSafety {
                keep_sql_security: form.keep_sql_security,
                enable_events: form.enable_events,
                force_replace: form.replace_tenant && form.force,
            },
        };
        self.restore_cancel.store(false, Ordering::Relaxed);
        let cancel = self.restore_cancel.clone();
        let restored = blocking(move || {
            crate::restore::restore(
                &target,
                &request,
                &|p: &RestoreProgress| progress(p),
                &cancel,
            )
        })
        .await;
        drop(backup);
        restored
    }

    pub fn cancel_restore(&self) {
        self.restore_cancel.store(true, Ordering::Relaxed);
    }
}
