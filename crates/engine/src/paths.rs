//! Where the app keeps its state: one data directory holding the store (`billora.db`) and the
//! default backup folder (`backups/`). The CLI, the daemon and the desktop app all resolve it
//! the same way, so they see the same schedules.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorCode, Result};

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "BILLORA_BACKUP_DATA_DIR";

/// The folder name under the OS app-data directory.
pub const APP_DIR_NAME: &str = "billora-backup";

/// The data directory: `explicit` (`--data-dir`), else `$BILLORA_BACKUP_DATA_DIR`, else the OS
/// app-data directory (`$XDG_DATA_HOME/billora-backup` on Linux, i.e. `~/.local/share/...`).
pub fn resolve_data_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|d| d.join(APP_DIR_NAME))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Io,
                "cannot tell where this user's app data lives",
            )
            .with_hint(format!("pass --data-dir DIR or set {DATA_DIR_ENV}"))
        })
}

/// Creates `dir` (and parents) readable by its owner only: it will hold every customer's data.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| {
        let err = crate::error::io_error(e, &format!("cannot create the folder {}", dir.display()));
        if err.code == ErrorCode::Io {
            err.with_hint("check that the parent folder exists and is writable")
        } else {
            err
        }
    })
}

/// Holds the scheduler lock of a data directory while alive.
#[derive(Debug)]
pub struct SchedulerLock(#[allow(dead_code)] std::fs::File);

/// Takes the one-scheduler-per-data-directory lock, or says who holds it.
pub fn lock_scheduler(data_dir: &Path) -> Result<SchedulerLock> {
    create_private_dir(data_dir)?;
    let path = data_dir.join("scheduler.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| crate::error::io_error(e, "opening the scheduler lock"))?;
    match file.try_lock() {
        Ok(()) => Ok(SchedulerLock(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::new(
            ErrorCode::Conflict,
            format!("another scheduler (the desktop app or `billora-backup daemon`) is already running on {}", data_dir.display()),
        )
        .with_hint("only one may run per data directory, so no backup is made twice; stop the other one first")),
        Err(std::fs::TryLockError::Error(e)) => Err(crate::error::io_error(e, "locking the scheduler")),
    }
}

/// A fresh lock file under `locks/` in the data directory, locked by this process until the
/// returned file is dropped (then it is removed). Names a live run for start-up recovery.
pub fn run_lock(data_dir: &Path) -> Result<(PathBuf, RunLock)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = data_dir.join("locks");
    create_private_dir(&dir)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let path = dir.join(format!(
        "run-{}-{nanos}-{}.lock",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)
        .map_err(|e| crate::error::io_error(e, "creating the run lock"))?;
    file.try_lock()
        .map_err(|e| Error::new(ErrorCode::Io, format!("cannot lock the run: {e}")))?;
    Ok((path.clone(), RunLock { _file: file, path }))
}

/// See [`run_lock`].
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
    path: PathBuf,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether some live process holds the lock file at `path`.
pub fn lock_held(path: &Path) -> bool {
    match std::fs::File::open(path) {
        Ok(file) => matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// Eight hex digits from the OS's randomness (the scratch name must not clash).
pub fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:08x}", h.finish() as u32)
}
