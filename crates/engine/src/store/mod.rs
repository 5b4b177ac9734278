//! The app's own state in SQLite (schedules, history, connection profiles, settings), opened
//! with migrations applied. WAL mode and a busy timeout let the CLI, the daemon and the desktop
//! app share one file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod changes;
mod connections;
mod copies;
mod daemons;
mod destinations;
mod parts;
mod retention;
mod runs;
mod schedules;
mod settings;
mod tokens;

pub use changes::{Kept, StoreVersion};
pub use daemons::RemoteDaemon;
pub use runs::RecentRuns;

use crate::error::Result;
use crate::paths::create_private_dir;

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The store file's name inside the data directory.
pub const STORE_FILE: &str = "billora.db";

const DEFAULT_FOLDER: &str = "default_folder";
const PAUSED: &str = "paused";

/// An open store. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    data_dir: PathBuf,
    changes: Arc<changes::Changes>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and applies pending migrations.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(STORE_FILE);
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            data_dir: data_dir.to_path_buf(),
            changes: Arc::new(changes::Changes::new(options)),
        })
    }

    /// The store's version: equal versions mean nothing was committed in between, by this
    /// process or another. `None` when it cannot be told (read afresh then).
    pub async fn version(&self) -> Option<StoreVersion> {
        self.changes.version().await
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The default backup folder: the `default_folder` setting, else `backups/` in the data
    /// directory. A schedule's own `destination` overrides it.
    pub async fn default_backup_dir(&self) -> Result<PathBuf> {
        Ok(self
            .setting(DEFAULT_FOLDER)
            .await?
            .map(PathBuf::from)
            .unwrap_or_else(|| self.data_dir.join("backups")))
    }

    /// Sets (or with `None` resets) the default backup folder; it must be an absolute path.
    pub async fn set_default_backup_dir(&self, folder: Option<&Path>) -> Result<()> {
        match folder {
            None => self.delete_setting(DEFAULT_FOLDER).await,
            Some(dir) => {
                crate::schedule::check_destination("default_folder", dir)?;
                self.set_setting(DEFAULT_FOLDER, &dir.display().to_string())
                    .await
            }
        }
    }

    /// Whether the admin paused every schedule (from the tray or the app).
    pub async fn paused(&self) -> Result<bool> {
        Ok(self.setting(PAUSED).await?.as_deref() == Some("1"))
    }

    pub async fn set_paused(&self, paused: bool) -> Result<()> {
        self.set_setting(PAUSED, if paused { "1" } else { "0" })
            .await
    }

    /// One value of the `settings` table.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every setting whose key starts with `prefix`, as (key, value).
    pub async fn settings_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT key, value FROM settings WHERE substr(key, 1, ?) = ? ORDER BY key",
        )
        .bind(prefix.len() as i64)
        .bind(prefix)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn delete_setting(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
