//! One run of a schedule: a history entry that says `running` before anything else happens,
//! the dump streamed into a private `.partial` file, and then either a complete file with its
//! manifest and a `success` entry, or no file at all and a `failed` (or `cancelled`) entry
//! with the error's code, message and hint. The schedule's counters follow.
//!
//! Durations use the monotonic clock; instants come from the `now` the caller passes, so tests
//! pin them.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::artifact::{unique_name, write_json_atomically, FinishedFile, PendingFile};
use crate::connection::ServerTarget;
use crate::dump::{dump, DumpOptions, DumpProgress, DumpReport, DumpScope};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::{self, Manifest};
use crate::run::{RunOutcome, Trigger};
use crate::schedule::{BackupType, Schedule};
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::time;

mod parts;
pub use parts::{list_databases, SYSTEM_DATABASES};

/// The key of the tenant root table.
pub const TENANT_ROOT_KEY: &str = "id";

/// zstd workers of a run when not chosen (see [`RunOptions::default`]).
pub const DEFAULT_COMPRESSION_THREADS: u8 = 2;

/// A test's hook into a run: called with the name of each point a run passes ("started"), so
/// a test can make a run panic there. Never set outside tests.
pub type FaultHook = Arc<dyn Fn(&str) + Send + Sync>;

/// Tuning of a run (defaults suit a 2-core office machine).
#[derive(Clone)]
pub struct RunOptions {
    /// Reading connections; `None`: by the kind of backup ([`crate::dump::DumpOptions::readers`]).
    pub readers: Option<usize>,
    pub compression_threads: u32,
    /// The zstd level (1-19); see [`crate::artifact::DEFAULT_ZSTD_LEVEL`].
    pub zstd_level: i32,
    pub keep_definers: bool,
    /// Pauses before retrying a transient failure (server unreachable, deadlock) within the
    /// same run; empty: no retry. Authentication and permission errors are never retried.
    pub retry_delays: Vec<std::time::Duration>,
    /// See [`FaultHook`].
    pub fault: Option<FaultHook>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("readers", &self.readers)
            .field("compression_threads", &self.compression_threads)
            .field("zstd_level", &self.zstd_level)
            .field("retry_delays", &self.retry_delays)
            .finish_non_exhaustive()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        // Two zstd workers even on 2 cores: with one, whenever it has finished a job but not
        // yet gone back to waiting for the next (often: descheduled on a busy machine),
        // zstd's streaming call spins in a loop until it can hand over the next job; with
        // two, one of them takes it. ~10% faster with zstd on the benchmark, +4 MB
        // (BENCHMARKS.md).
        RunOptions {
            readers: None,
            compression_threads: DEFAULT_COMPRESSION_THREADS.into(),
            zstd_level: crate::artifact::DEFAULT_ZSTD_LEVEL,
            keep_definers: false,
            retry_delays: Vec::new(),
            fault: None,
        }
    }
}

/// How a caller watches and stops a run.
#[derive(Clone)]
pub struct RunControl {
    pub progress: Arc<dyn Fn(&DumpProgress) + Send + Sync>,
    /// Set to cancel: the run stops promptly, leaves no file and records `cancelled`.
    pub cancel: Arc<AtomicBool>,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            progress: Arc::new(|_| {}),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl std::fmt::Debug for RunControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl")
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

/// The file name the spec uses: `backup_full_2026-02-03T02-00-00` (+ `.sql.zst`), or
/// `backup_tenant_5_…`, in the schedule's local time.
pub fn file_stem(
    backup_type: BackupType,
    tenant_id: Option<i64>,
    at: Timestamp,
    tz: &TimeZone,
) -> String {
    let local = at
        .to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H-%M-%S")
        .to_string();
    match (backup_type, tenant_id) {
        (BackupType::Tenant, Some(id)) => format!("backup_tenant_{id}_{local}"),
        _ => format!("backup_full_{local}"),
    }
}

/// The folder a schedule writes to.
pub async fn backup_dir(store: &Store, schedule: &Schedule) -> Result<PathBuf> {
    match &schedule.destination {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => store.default_backup_dir().await,
    }
}

/// Runs `schedule_id` now: records the run, dumps, finishes the file, records the outcome.
/// A failure is recorded and returned in the outcome (status `failed`), not as `Err`; `Err`
/// means the run could not even be recorded (unknown schedule, store failure).
pub async fn run_schedule(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule_id: i64,
    trigger: Trigger,
    now: Timestamp,
    options: &RunOptions,
    control: RunControl,
) -> Result<RunOutcome> {
    let schedule = store.get_schedule(schedule_id).await?;
    // One run per schedule across processes: a second attempt ends here, recorded as skipped.
    let _schedule_lock = match crate::paths::lock_schedule(
        store.data_dir(),
        schedule.id,
        "a backup",
    ) {
        Ok(lock) => lock,
        Err(err) if err.code == ErrorCode::AlreadyRunning => {
            tracing::info!(schedule = schedule.id, reason = %err.message, "not started: already running");
            let run_id = store
                .record_skipped(&schedule, trigger.as_str(), now, &err.message)
                .await?;
            return Ok(RunOutcome::without_file(run_id, "skipped", Some(err), 0.0));
        }
        Err(err) => return Err(err),
    };
    let started = Instant::now();
    // Held until this function returns: proves to start-up recovery that the run is alive.
    let (lock_path, _run_lock) = crate::paths::run_lock(store.data_dir())?;
    let run_id = store
        .start_run(&schedule, trigger.as_str(), trigger.note(), now, &lock_path)
        .await?;
    if let Some(fault) = &options.fault {
        fault("started");
    }

    if !schedule.databases.is_empty() {
        // Several databases: one entry, one part per database (`parts`).
        store.set_run_group(run_id).await?;
        return parts::run_databases(
            store,
            secrets,
            &schedule,
            (run_id, &lock_path),
            trigger,
            now,
            options,
            control,
            started,
        )
        .await;
    }
    let result = attempts(
        store, secrets, &schedule, run_id, None, now, options, &control, started,
    )
    .await?;
    let duration = started.elapsed().as_secs_f64();
    let finished_at = now
        .checked_add(SignedDuration::from_secs_f64(duration))
        .unwrap_or(now);
    match result {
        Ok(made) => {
            let (copies, verification) = keep_file(
                store,
                secrets,
                &schedule,
                run_id,
                &made,
                (duration, finished_at),
                (&lock_path, &control.cancel),
                now,
            )
            .await?;
            let (file, report, _) = made;
            let warning = size_check(store, &schedule, run_id, file.size).await?;
            let retention = apply_retention(store, secrets, &schedule, now).await;
            Ok(RunOutcome {
                run_id,
                status: "success".into(),
                file: Some(file),
                error: None,
                duration_seconds: duration,
                report: Some(report),
                retention,
                verification,
                copies,
                warning,
                parts: Vec::new(),
            })
        }
        Err(err) => {
            let status =
                record_failure(store, &schedule, run_id, &err, (duration, finished_at), now)
                    .await?;
            Ok(RunOutcome::without_file(
                run_id,
                status,
                Some(err),
                duration,
            ))
        }
    }
}

/// Records run `run_id` as ended without its file by `err`: `cancelled`, or `failed` (only
/// failures count as failed). Returns that status.
async fn record_failure(
    store: &Store,
    schedule: &Schedule,
    run_id: i64,
    err: &Error,
    times: (f64, Timestamp),
    now: Timestamp,
) -> Result<&'static str> {
    let status = if err.code == ErrorCode::Cancelled {
        "cancelled"
    } else {
        "failed"
    };
    store
        .finish_run_failed(run_id, schedule.id, status, times, err, now)
        .await?;
    Ok(status)
}

/// What a run does with a whole file (a one-database run, or each database's part of a run of
/// several): records it as the run's success, sends its copies to the schedule's destinations
/// (each proven whole; a failed copy is reported with the run, which stays a success: the
/// local backup is good), and test-restores it when the schedule asks. Returns the copies'
/// outcomes and the verification.
#[allow(clippy::too_many_arguments)]
async fn keep_file(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    run_id: i64,
    (file, report, manifest): &Made,
    (duration, finished_at): (f64, Timestamp),
    (lock_path, cancel): (&Path, &AtomicBool),
    now: Timestamp,
) -> Result<(Vec<crate::run::CopyOutcome>, Option<String>)> {
    let details = serde_json::to_string(manifest).unwrap_or_else(|_| "{}".into());
    let warnings = serde_json::to_string(&report.warnings).unwrap_or_else(|_| "[]".into());
    store
        .finish_run_success(
            run_id,
            schedule.id,
            file,
            (duration, finished_at),
            (&warnings, &details),
            now,
        )
        .await?;
    let copies = crate::copies::send_copies(
        store, secrets, schedule, run_id, file, lock_path, now, cancel,
    )
    .await?;
    // The test restore comes before retention, which counts only verified backups when
    // verification is on.
    let verification = if schedule.verify_after_backup {
        Some(crate::verify::verify_and_record(store, secrets, run_id, now).await)
    } else {
        None
    };
    Ok((copies, verification))
}

/// A success much smaller than the schedule's recent ones is news (it may have lost tables):
/// the warning, also added to the entry's note.
async fn size_check(
    store: &Store,
    schedule: &Schedule,
    run_id: i64,
    size: u64,
) -> Result<Option<String>> {
    let previous = store
        .sizes_before(schedule.id, run_id, crate::run::SIZE_CHECK_OF)
        .await?;
    let warning = crate::run::size_warning(&previous, size);
    if let Some(text) = &warning {
        tracing::warn!(schedule = schedule.id, run = run_id, "{text}");
        store.add_run_note(run_id, text).await?;
    }
    Ok(warning)
}

/// Retention after a success, only on this schedule's backups: here and on each destination
/// (a failure there is logged and deletes nothing more).
async fn apply_retention(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    now: Timestamp,
) -> Vec<crate::retention::AppliedDeletion> {
    let mut retention = match store.apply_retention(schedule.id, now).await {
        Ok(done) => done,
        Err(err) => {
            tracing::warn!(schedule = schedule.id, error = %err, "retention failed; nothing more was deleted");
            Vec::new()
        }
    };
    retention.extend(crate::copies::apply_copy_retention(store, secrets, schedule, now).await);
    retention
}

/// The outcome of one backup file: the file, what the dump saw, its manifest.
type Made = (FinishedFile, DumpReport, Manifest);

/// Attempts a backup into run `run_id` (of `database`, else the connection's), again after
/// each of `options.retry_delays` while it fails on something transient. The outer `Result`
/// is the store failing; the inner one is the backup's outcome.
#[allow(clippy::too_many_arguments)]
async fn attempts(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    run_id: i64,
    database: Option<&str>,
    now: Timestamp,
    options: &RunOptions,
    control: &RunControl,
    started: Instant,
) -> Result<Result<Made>> {
    let mut attempt = 0;
    loop {
        let result = attempt_once(
            store,
            secrets,
            schedule,
            run_id,
            database,
            now,
            options,
            control.clone(),
            started,
        )
        .await?;
        match result {
            Err(err) if is_transient(&err) && attempt < options.retry_delays.len() => {
                let delay = options.retry_delays[attempt];
                attempt += 1;
                let note = format!(
                    "try {} failed ({}: {}); retrying",
                    attempt, err.code, err.message
                );
                store.set_run_note(run_id, &note).await?;
                // Wait, but stop promptly when cancelled.
                let until = Instant::now() + delay;
                while Instant::now() < until
                    && !control.cancel.load(std::sync::atomic::Ordering::Relaxed)
                {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                if control.cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    return Ok(Err(Error::new(
                        ErrorCode::Cancelled,
                        "the backup was cancelled",
                    )));
                }
            }
            other => return Ok(other),
        }
    }
}

/// Failures worth another try: the server was unreachable or hit a deadlock or lock timeout.
/// Wrong passwords, missing privileges, full disks are not retried.
pub fn is_transient(err: &Error) -> bool {
    matches!(err.code, ErrorCode::Unreachable | ErrorCode::Transient)
}

/// One attempt: resolve, record the file name, dump in a blocking task. The outer `Result` is
/// the store failing; the inner one is the backup's outcome.
#[allow(clippy::too_many_arguments)]
async fn attempt_once(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    run_id: i64,
    database: Option<&str>,
    now: Timestamp,
    options: &RunOptions,
    control: RunControl,
    started: Instant,
) -> Result<Result<Made>> {
    let plan = match prepare(store, secrets, schedule, database, now).await {
        Ok(plan) => plan,
        Err(err) => return Ok(Err(err)),
    };
    let partial = plan.dir.join(format!(
        "{}{}",
        plan.filename,
        crate::artifact::PARTIAL_SUFFIX
    ));
    let holds = plan.target.database.clone().unwrap_or_default();
    store
        .set_run_file(run_id, &plan.filename, &partial, &holds)
        .await?;
    let options = options.clone();
    let RunControl { progress, cancel } = control;
    let (profile, target) = (plan.profile.clone(), plan.target.clone());
    let mut outcome = tokio::task::spawn_blocking(move || {
        execute(plan, &options, &*progress, &cancel, now, started)
    })
    .await
    .unwrap_or_else(|e| {
        Err(Error::new(
            ErrorCode::Io,
            format!("the backup task stopped: {e}"),
        ))
    });
    // A connection lost because its SSH tunnel broke says so.
    outcome = outcome.map_err(|e| target.explain(e));
    // Trust on first use: the certificate (and SSH host key) of this successful backup is
    // pinned.
    if let Ok((_, report, _)) = &mut outcome {
        report
            .warnings
            .extend(store.trust_on_first_use(&profile, &target, now).await?);
    }
    Ok(outcome)
}

/// Everything a run needs, resolved before the blocking part.
struct Plan {
    profile: crate::connection::ConnectionProfile,
    target: ServerTarget,
    scope: DumpScope,
    dir: PathBuf,
    filename: String,
    schedule: Schedule,
    tenant_column: String,
    tenant_root_table: String,
    encryption: crate::crypt::Encryption,
}

async fn prepare(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    database: Option<&str>,
    now: Timestamp,
) -> Result<Plan> {
    let profile = store
        .resolve_connection(schedule.connection.as_deref())
        .await?;
    let mut target = ServerTarget::new(&profile, secrets)?;
    if let Some(database) = database {
        target = target.for_database(Some(database));
    }
    let scope = match (schedule.backup_type, schedule.tenant_id) {
        (BackupType::Tenant, Some(tenant_id)) => DumpScope::Tenant {
            tenant_id,
            column: profile.tenant_column.clone(),
            root_table: profile.tenant_root_table.clone(),
            root_key: TENANT_ROOT_KEY.into(),
        },
        _ => DumpScope::Full,
    };
    let dir = backup_dir(store, schedule).await?;
    let tz = time::zone(&schedule.timezone).unwrap_or(TimeZone::UTC);
    let mut stem = file_stem(schedule.backup_type, schedule.tenant_id, now, &tz);
    if let Some(database) = database {
        stem = parts::stem_with_database(&stem, database);
    }
    crate::paths::create_private_dir(&dir)?;
    check_free_space(store, schedule, &target, &dir).await?;
    let filename = unique_name(
        &dir,
        &stem,
        schedule.compression,
        schedule.encrypt_to.is_some(),
    );
    Ok(Plan {
        target,
        scope,
        dir,
        filename,
        schedule: schedule.clone(),
        tenant_column: profile.tenant_column.clone(),
        tenant_root_table: profile.tenant_root_table.clone(),
        encryption: crate::crypt::encryption_for(
            schedule.encrypt_to.as_deref(),
            schedule.id,
            secrets,
        )?,
        profile,
    })
}

fn execute(
    plan: Plan,
    options: &RunOptions,
    progress: &(dyn Fn(&DumpProgress) + Sync),
    cancel: &AtomicBool,
    now: Timestamp,
    started: Instant,
) -> Result<Made> {
    let encryption = &plan.encryption;
    let mut file = PendingFile::create(
        &plan.dir,
        &plan.filename,
        plan.schedule.compression,
        options.compression_threads,
        options.zstd_level,
        encryption,
    )?;
    let dump_options = DumpOptions {
        scope: plan.scope.clone(),
        keep_definers: options.keep_definers,
        readers: options.readers,
        ..DumpOptions::default()
    };
    let report = dump(&plan.target, &dump_options, &mut file, progress, cancel)?;
    let finished = file.finish()?;
    let duration = started.elapsed().as_secs_f64();
    let manifest = Manifest {
        format: manifest::FORMAT,
        tool: format!("billora-backup {}", env!("CARGO_PKG_VERSION")),
        server_version: report.server_version.clone(),
        database: report.database.clone(),
        charset: report.charset.clone(),
        collation: report.collation.clone(),
        backup_type: plan.schedule.backup_type.as_str().into(),
        tenant_id: plan.schedule.tenant_id,
        tenant_column: Some(plan.tenant_column.clone()),
        tenant_root_table: Some(plan.tenant_root_table.clone()),
        compression: plan.schedule.compression.as_str().into(),
        filename: finished.filename.clone(),
        file_size: finished.size,
        sha256: finished.sha256.clone(),
        sql_bytes: report.sql_bytes,
        started_at: time::to_stored(now),
        finished_at: time::to_stored(
            now.checked_add(SignedDuration::from_secs_f64(duration))
                .unwrap_or(now),
        ),
        duration_seconds: duration,
        snapshot: report.snapshot.clone(),
        tables: report.tables.clone(),
        shared_tables: report.shared_tables.clone(),
        views: report.views,
        triggers: report.triggers,
        routines: report.routines,
        events: report.events,
        warnings: report.warnings.clone(),
        encrypted_for: match encryption {
            crate::crypt::Encryption::Recipients(r) => r.iter().map(|r| r.to_string()).collect(),
            _ => Vec::new(),
        },
        encrypted_with_passphrase: matches!(encryption, crate::crypt::Encryption::Passphrase(_)),
        schedule_id: Some(plan.schedule.id),
        schedule_name: Some(plan.schedule.name.clone()),
    };
    if let Err(err) = write_json_atomically(&manifest::path_for(&finished.path), &manifest) {
        // Without its manifest the backup cannot be verified: do not keep it as a success.
        let _ = std::fs::remove_file(&finished.path);
        return Err(err);
    }
    Ok((finished, report, manifest))
}

/// Refuses a backup the folder clearly cannot hold (`DiskFull`), before the server is asked
/// for anything heavy: the estimate is the schedule's last good backup, else, for a first
/// full backup, the server's table sizes over the usual compression. A disk that fills during
/// the run still fails cleanly (the partial file is removed).
async fn check_free_space(
    store: &Store,
    schedule: &Schedule,
    target: &ServerTarget,
    dir: &Path,
) -> Result<()> {
    let Some(free) = crate::paths::free_space(dir) else {
        return Ok(());
    };
    let (needed, basis) = match store.last_success_size(schedule.id).await? {
        Some(size) => (size, "its last backup"),
        None if schedule.backup_type == BackupType::Full => {
            let probe = target.clone();
            let size =
                tokio::task::spawn_blocking(move || crate::connection::database_size(&probe))
                    .await
                    .ok()
                    .and_then(|r| r.ok());
            let ratio = match schedule.compression {
                crate::schedule::Compression::None => 1,
                crate::schedule::Compression::Gzip => 5,
                crate::schedule::Compression::Zstd => 8,
            };
            match size {
                Some(size) => (size / ratio, "the database's size on the server"),
                None => return Ok(()),
            }
        }
        None => return Ok(()),
    };
    if free >= needed.saturating_add(needed / 10) {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::DiskFull,
        format!(
            "the backup folder {} has {} free, and this backup needs about {} (estimated from {basis})",
            dir.display(),
            crate::notify::human_size(free),
            crate::notify::human_size(needed)
        ),
    )
    .with_hint("free some space there, keep fewer backups (retention), or choose another folder"))
}

/// Whether `path` is a file this app wrote (has our manifest beside it).
pub fn is_our_backup(path: &Path) -> bool {
    manifest::path_for(path).is_file()
}
