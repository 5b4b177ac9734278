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

/// Which kind of process this is ("the daemon", "the app", "the CLI"), as the scheduler's
/// heartbeat and a schedule's lock name it to other processes. Set once at start-up.
pub fn set_process_role(role: &'static str) {
    let _ = ROLE.set(role);
}

static ROLE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// See [`set_process_role`]; "a Billora Backup process" until set.
pub fn process_role() -> &'static str {
    ROLE.get().copied().unwrap_or("a Billora Backup process")
}

/// Who holds a schedule's lock: written into the lock file by its holder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    /// "the daemon", "the app", "the CLI".
    pub role: String,
    /// "a backup", "a verification", "a restore".
    pub doing: String,
    /// When it started, RFC 3339 in the machine's zone.
    pub started_at: String,
}

/// Holds one schedule's lock while alive: no other process (or task) backs up, verifies or
/// restores from that schedule meanwhile. Dropping it empties the file and releases the lock.
#[derive(Debug)]
pub struct ScheduleLock {
    file: std::fs::File,
}

impl Drop for ScheduleLock {
    fn drop(&mut self) {
        // Emptied first, so a finished holder is never named; the lock goes with the file.
        let _ = self.file.set_len(0);
    }
}

/// Takes schedule `id`'s lock for `doing` ("a backup"), or fails at once with
/// `AlreadyRunning`, naming the holder: "schedule 3 is already running (a backup), started
/// 02:00:04 by the daemon, pid 1234".
pub fn lock_schedule(data_dir: &Path, id: i64, doing: &str) -> Result<ScheduleLock> {
    use std::io::Write;
    let dir = data_dir.join("locks");
    create_private_dir(&dir)?;
    let path = dir.join(format!("schedule-{id}.lock"));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| crate::error::io_error(e, "opening the schedule's lock"))?;
    match file.try_lock() {
        Ok(()) => {
            let holder = LockHolder {
                pid: std::process::id(),
                role: process_role().to_owned(),
                doing: doing.to_owned(),
                started_at: crate::time::rfc3339(
                    &jiff::Timestamp::now().to_zoned_datetime(
                        crate::time::zone(&crate::time::system_zone_name())
                            .unwrap_or(jiff::tz::TimeZone::UTC),
                    ),
                ),
            };
            let text = serde_json::to_string(&holder).unwrap_or_default();
            let _ = file.set_len(0);
            let _ = file.write_all(text.as_bytes());
            let _ = file.flush();
            Ok(ScheduleLock { file })
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(already_running(id, &path)),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(crate::error::io_error(e, "locking the schedule"))
        }
    }
}

/// The refusal when another holds a schedule's lock. The holder writes its name right after
/// taking the lock, so a racer that finds the file empty (or naming a dead process, one
/// killed while holding it) looks again for up to two seconds.
fn already_running(id: i64, path: &Path) -> Error {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let holder = loop {
        let named = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str::<LockHolder>(&t).ok())
            .filter(|h| process_alive(h.pid));
        if named.is_some() || std::time::Instant::now() >= deadline {
            break named;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let message = match holder {
        Some(h) => {
            let time = h
                .started_at
                .get(11..19)
                .unwrap_or(h.started_at.as_str())
                .to_owned();
            format!(
                "schedule {id} is already running ({}), started {time} by {}, pid {}",
                h.doing, h.role, h.pid
            )
        }
        None => format!("schedule {id} is already running in another process"),
    };
    Error::new(ErrorCode::AlreadyRunning, message)
        .with_hint("wait for it to finish, or cancel it where it runs")
}

/// Whether a process with this id exists (Unix; elsewhere assumed alive).
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        match rustix::process::Pid::from_raw(pid as i32) {
            Some(pid) => !matches!(
                rustix::process::test_kill_process(pid),
                Err(rustix::io::Errno::SRCH)
            ),
            None => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The bytes free for this user on the file system holding `path` (None where unknown).
pub fn free_space(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let stat = rustix::fs::statvfs(path).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
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
