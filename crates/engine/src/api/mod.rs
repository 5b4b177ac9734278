//! Everything the desktop app can do, as one typed API over the engine: one method per app
//! command, each taking and returning plain serde types. The Tauri shell's commands are
//! one-line adapters over these methods, and the integration tests drive the same methods with
//! no window at all. Under the `ts` feature the request and response types are exported to
//! TypeScript (ts-rs), so the UI and Rust share one contract.
//!
//! The API also keeps what only a long-running process knows: the live progress of running
//! backups (fed by the scheduler through [`RunObserver`]) and the cancel flag of a restore.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::error::{Error, ErrorCode, Result};
use crate::outbox::Outbox;
use crate::scheduler::{Event, SchedulerHandle};
use crate::store::Store;

mod connections;
mod console;
mod daemon;
mod destinations;
mod history;
mod metrics;
mod recovery;
mod restore;
mod schedules;
mod settings;
mod status;
mod tokens;
mod verify;

pub use connections::{
    AddConnectionRequest, TestDraftRequest, TrustCertificateRequest, TrustHostKeyRequest,
    UpdateConnectionRequest,
};
pub use console::{AddDaemonRequest, Console, TrustDaemonRequest, Viewing};
pub use daemon::normalize_url as normalize_daemon_url;
pub use destinations::DestinationForm;
pub use history::{HistoryQuery, RunView};
pub use recovery::ImportReport;
pub use restore::RestoreForm;
pub use schedules::{
    ConnectionChoice, CronPreview, CronPreviewRequest, DestinationChoice, RetentionPreviewRequest,
    ScheduleChoices,
};
pub use settings::{AppInfo, HttpApiSettings, SaveSmtpRequest, Settings};
use status::LiveRuns;
pub use verify::VerifyRequest;

// The engine's types the front ends name, re-exported so that the CLI, the HTTP API and the
// Tauri shell reach the engine through this module only.
pub use crate::artifact::DEFAULT_ZSTD_LEVEL;
pub use crate::backup::DEFAULT_COMPRESSION_THREADS;
pub use crate::connection::{ConnectionCheck, ConnectionProfile, NewConnection, TlsMode};
pub use crate::cron::{CronExpr, Lang};
pub use crate::destination::browse::RemoteBackup;
pub use crate::destination::remote::DestinationCheck;
pub use crate::destination::{Destination, DestinationSettings, KnownHosts, NewDestination};
pub use crate::dump::DumpProgress;
pub use crate::history::{CopyRecord, Run};
pub use crate::notify::{Notice, NoticeKind, Notifier, SmtpSecurity, SmtpSettings};
pub use crate::paths::{resolve_data_dir, set_process_role, SchedulerLock};
pub use crate::restore::{RestoreProgress, RestoreReport, DEFAULT_CONNECTIONS};
pub use crate::retention::{AppliedDeletion, Gfs, RetentionDecision};
pub use crate::run::{CopyOutcome, RunError, RunOutcome, Trigger};
pub use crate::schedule::{parse_request, NewSchedule, Schedule, SchedulePatch};
pub use crate::scheduler::{Clock, RunObserver, Scheduler, SchedulerConfig, SystemClock};
pub use crate::secrets::{OsKeyring, PasswordSource, SecretStore};
pub use crate::ssh::SshTunnel;
pub use crate::store::{Kept, RemoteDaemon, StoreVersion};
pub use crate::token::{Role, TokenInfo};
pub use crate::verify::VerifyReport;
pub use restore::{BackupSource, RestoreJob};
pub use schedules::{RunHere, RunStarted};
pub use status::{
    Dashboard, Health, LiveRun, RunningRun, ScheduleState, SchedulerMode, SchedulerState, TrayIcon,
    TrayStatus,
};

/// The app's operations; see the module docs.
pub struct Api {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    scheduler: Option<SchedulerHandle>,
    live: Arc<LiveRuns>,
    restore_cancel: Arc<AtomicBool>,
    recent_tokens: tokens::Recent,
    /// The per-schedule part of `/metrics`, while the store is unchanged.
    kept_metrics: Kept<Arc<String>>,
    /// The store's part of the dashboard and the tray, while the store is unchanged.
    kept_board: Kept<Arc<status::Board>>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("data_dir", &self.store.data_dir())
            .finish_non_exhaustive()
    }
}

/// What [`Api::start`] needs from its host.
pub struct ApiHost {
    pub secrets: Arc<dyn SecretStore>,
    pub clock: Arc<dyn Clock>,
    /// The desktop popup channel (the app's notifier), if any.
    pub desktop: Option<Arc<dyn Notifier>>,
    /// Told about runs after the API has recorded their progress (the shell's events and tray).
    pub watcher: Option<Arc<dyn RunObserver>>,
    pub config: SchedulerConfig,
}

impl std::fmt::Debug for ApiHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiHost").finish_non_exhaustive()
    }
}

impl Api {
    /// The API alone, for one-shot commands (the CLI): the data folder's store opened (`None`:
    /// the default folder), runs a crash left `running` marked interrupted, no scheduler.
    /// Backups started here run in this process ([`Api::run_here`]).
    pub async fn open(data_dir: Option<&Path>, secrets: Arc<dyn SecretStore>) -> Result<Api> {
        let store = Store::open(&resolve_data_dir(data_dir)?).await?;
        store.recover_interrupted(Timestamp::now()).await?;
        Ok(Api {
            store,
            secrets,
            clock: Arc::new(SystemClock),
            scheduler: None,
            live: Arc::default(),
            restore_cancel: Arc::default(),
            recent_tokens: Default::default(),
            kept_metrics: Kept::new(1),
            kept_board: Kept::new(1),
        })
    }

    /// Opens the data folder (`None`: the default one), marks runs a crash left `running`
    /// as interrupted, and [starts](Api::start) the API with its scheduler: the desktop app's
    /// and the daemon's start-up.
    pub async fn launch(
        data_dir: Option<&Path>,
        host: ApiHost,
    ) -> Result<(Api, Result<(Scheduler, crate::paths::SchedulerLock)>)> {
        let store = Store::open(&resolve_data_dir(data_dir)?).await?;
        store.recover_interrupted(host.clock.now()).await?;
        Ok(Api::start(store, host))
    }

    /// The API and its scheduler, which the caller spawns (`scheduler.run()`). An error for the
    /// scheduler when another process holds this data directory's scheduler lock (it says
    /// which): the API then still works, but backups and "run now" belong to that process.
    pub fn start(
        store: Store,
        host: ApiHost,
    ) -> (Api, Result<(Scheduler, crate::paths::SchedulerLock)>) {
        let live = Arc::new(LiveRuns {
            runs: Mutex::default(),
            forward: host.watcher,
        });
        let lock = crate::paths::lock_scheduler(store.data_dir());
        let (handle, scheduler) = match lock {
            Ok(lock) => {
                let outbox = Arc::new(Outbox::new(
                    store.clone(),
                    host.secrets.clone(),
                    host.desktop,
                ));
                let (scheduler, handle) = Scheduler::new(
                    store.clone(),
                    host.secrets.clone(),
                    outbox,
                    host.clock.clone(),
                    host.config,
                );
                (Some(handle), Ok((scheduler.observe(live.clone()), lock)))
            }
            Err(e) => {
                tracing::warn!(error = %e, "not running schedules here");
                (None, Err(e))
            }
        };
        (
            Api {
                store,
                secrets: host.secrets,
                clock: host.clock,
                scheduler: handle,
                live,
                restore_cancel: Arc::default(),
                recent_tokens: Default::default(),
                kept_metrics: Kept::new(1),
                kept_board: Kept::new(1),
            },
            scheduler,
        )
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Closes the store (waits for its connections to finish).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The data folder this API works on.
    pub fn data_dir(&self) -> &Path {
        self.store.data_dir()
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn changed(&self) {
        if let Some(s) = &self.scheduler {
            s.send(Event::SchedulesChanged);
        }
    }

    fn scheduler(&self) -> Result<&SchedulerHandle> {
        self.scheduler.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::Conflict,
                "backups of this data folder are run by another Billora Backup process (the `billora-backup daemon`)",
            )
            .with_hint("use that process, or stop it and restart the app")
        })
    }

    /// The lock of the schedule a history entry belongs to (None when the schedule was
    /// deleted), for work on its backups: one backup, verification or restore at a time.
    async fn lock_run_schedule(
        &self,
        run_id: i64,
        doing: &str,
    ) -> Result<Option<crate::paths::ScheduleLock>> {
        match self.store.run_schedule_id(run_id).await? {
            Some(id) => crate::paths::lock_schedule(self.store.data_dir(), id, doing).map(Some),
            None => Ok(None),
        }
    }

    /// Stops the scheduler: running backups are cancelled and recorded.
    pub fn shutdown(&self) {
        if let Some(s) = &self.scheduler {
            s.send(Event::Shutdown);
        }
        self.restore_cancel.store(true, Ordering::Relaxed);
    }

    /// The app's language: the saved choice, else `fallback` (the system's).
    pub async fn language(&self, fallback: Lang) -> Lang {
        self.store
            .language_choice()
            .await
            .ok()
            .flatten()
            .unwrap_or(fallback)
    }

    // --- Schedules (the original spec's routes) ---

    // --- History ---

    // --- Previews ---

    // --- The dashboard and the tray ---

    // --- Connections ---

    // --- Destinations ---

    // --- Settings ---

    // --- Restore ---
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorCode::Io, format!("the task failed: {e}")))?
}
