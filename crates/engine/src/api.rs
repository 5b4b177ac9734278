//! Everything the desktop app can do, as one typed API over the engine: one method per app
//! command, each taking and returning plain serde types. The Tauri shell's commands are
//! one-line adapters over these methods, and the integration tests drive the same methods with
//! no window at all. Under the `ts` feature the request and response types are exported to
//! TypeScript (ts-rs), so the UI and Rust share one contract.
//!
//! The API also keeps what only a long-running process knows: the live progress of running
//! backups (fed by the scheduler through [`RunObserver`]) and the cancel flag of a restore.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::connection::{
    check_connection, ConnectionCheck, ConnectionProfile, NewConnection, ServerTarget,
};
use crate::cron::{CronExpr, Lang};
use crate::dump::DumpProgress;
use crate::error::{Error, ErrorCode, Result};
use crate::history::Run;
use crate::notify::{Notifier, SmtpSettings, SMTP_SECRET_KEY};
use crate::outbox::Outbox;
use crate::restore::{RestoreMode, RestoreProgress, RestoreReport, RestoreRequest};
use crate::retention::AppliedDeletion;
use crate::run::RunOutcome;
use crate::schedule::{NewSchedule, Schedule, SchedulePatch};
use crate::scheduler::{
    overdue_since, Clock, Event, RunObserver, Scheduler, SchedulerConfig, SchedulerHandle,
};
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::time;

const ENCRYPTION_KEYS: &str = "encryption_keys";

/// How a schedule is doing, as the dashboard colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    /// The newest backup is recent and the last run succeeded (green).
    Good,
    /// New: no run has happened yet, and none is overdue (neutral).
    Pending,
    /// The newest good backup is older than one interval: a slot was missed (amber).
    Late,
    /// The last run failed, or there has been no good backup for two intervals (red).
    Failing,
    /// The schedule is turned off.
    Off,
}

/// A running backup, as the dashboard and the tray show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct LiveRun {
    pub schedule_id: i64,
    /// RFC 3339.
    pub started_at: String,
    pub progress: DumpProgress,
    /// Seconds left, from rows done against the server's estimate (None until it is known).
    pub eta_seconds: Option<f64>,
    pub elapsed_seconds: f64,
}

/// One schedule with its health and what is happening to it now.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ScheduleState {
    pub schedule: Schedule,
    /// The cron expression in words, in the app's language.
    pub summary: String,
    pub health: Health,
    /// Why the health is not good, in words (the last error, or how late).
    pub health_reason: Option<String>,
    /// RFC 3339 in the schedule's zone.
    pub newest_success_at: Option<String>,
    pub last_run: Option<Run>,
    pub running: Option<LiveRun>,
    pub queued: bool,
}

/// The first screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Dashboard {
    pub paused: bool,
    /// False when another process (the CLI daemon) runs the schedules of this data directory.
    pub scheduler_here: bool,
    pub schedules: Vec<ScheduleState>,
    /// The latest failed or interrupted runs (newest first, at most 5).
    pub recent_failures: Vec<Run>,
    pub connections: usize,
}

/// What the tray shows: one line of status and the state of its icon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct TrayStatus {
    pub icon: TrayIcon,
    /// "Last backup: ✓ Daily full, 02:00" (in the app's language).
    pub last_line: String,
    /// "Next: 02:00 Daily full" (in the app's language).
    pub next_line: String,
    pub paused: bool,
    /// Active schedules, for the "Run now" submenu: (id, name).
    pub schedules: Vec<(i64, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum TrayIcon {
    Idle,
    Running,
    Failed,
    Paused,
}

/// Filters of the history screen.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub schedule_id: Option<i64>,
    /// `success`, `failed`, `interrupted`, `cancelled`, `skipped` or `running`.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub status: Option<String>,
}

/// The schedule editor's live preview of a cron expression.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct CronPreviewRequest {
    pub cron_expression: String,
    /// IANA zone; the machine's zone when absent.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub timezone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub count: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CronPreview {
    pub description: String,
    /// RFC 3339 in the zone asked for.
    pub next_runs: Vec<String>,
    pub timezone: String,
}

/// What retention would delete with the given policy (the editor's preview).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct RetentionPreviewRequest {
    pub schedule_id: i64,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub retention_days: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_backups: Option<i64>,
}

/// Adds a connection profile; the password goes to the OS keyring only.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct AddConnectionRequest {
    pub connection: NewConnection,
    pub password: String,
}

/// Pins a server certificate for a connection (after its certificate was replaced on purpose).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct TrustCertificateRequest {
    pub connection: String,
    /// The SHA-256 fingerprint (`AA:BB:…`) the refusal showed.
    pub fingerprint: String,
}

/// Tests a connection before it is saved (the first-run wizard).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct TestDraftRequest {
    pub connection: NewConnection,
    pub password: String,
}

/// Adds (or, with `test_only`, only tests) a destination from the Destinations screen.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct DestinationForm {
    pub destination: crate::destination::NewDestination,
    /// The S3 secret key or the WebDAV password (null for kinds without one).
    pub secret: Option<String>,
}

/// The settings screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Settings {
    /// None: follow the system's language.
    pub language: Option<Lang>,
    pub smtp: Option<SmtpSettings>,
    pub default_folder: String,
    pub default_folder_is_custom: bool,
    pub paused: bool,
    pub data_dir: String,
    /// Public keys created in this app (`age1…`), offered in the schedule editor.
    pub encryption_keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct SaveSmtpRequest {
    pub smtp: SmtpSettings,
    /// Needed when a username is set and no password was saved before; empty keeps the old.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub password: Option<String>,
}

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

/// What `RunObserver` calls the API keeps, and passes on to the shell (events, tray).
#[derive(Default)]
struct LiveRuns {
    runs: Mutex<HashMap<i64, (Timestamp, std::time::Instant, DumpProgress)>>,
    forward: Option<Arc<dyn RunObserver>>,
}

impl RunObserver for LiveRuns {
    fn started(&self, schedule_id: i64) {
        self.runs.lock().expect("not poisoned").insert(
            schedule_id,
            (
                Timestamp::now(),
                std::time::Instant::now(),
                DumpProgress::default(),
            ),
        );
        if let Some(f) = &self.forward {
            f.started(schedule_id);
        }
    }

    fn progress(&self, schedule_id: i64, progress: &DumpProgress) {
        if let Some(entry) = self
            .runs
            .lock()
            .expect("not poisoned")
            .get_mut(&schedule_id)
        {
            entry.2 = progress.clone();
        }
        if let Some(f) = &self.forward {
            f.progress(schedule_id, progress);
        }
    }

    fn finished(&self, schedule_id: i64, outcome: Option<&RunOutcome>) {
        self.runs.lock().expect("not poisoned").remove(&schedule_id);
        if let Some(f) = &self.forward {
            f.finished(schedule_id, outcome);
        }
    }
}

impl LiveRuns {
    fn get(&self, schedule_id: i64) -> Option<LiveRun> {
        let runs = self.runs.lock().expect("not poisoned");
        let (started, instant, progress) = runs.get(&schedule_id)?;
        let elapsed = instant.elapsed().as_secs_f64();
        let eta_seconds = (progress.rows_done > 0 && progress.rows_estimated > progress.rows_done)
            .then(|| {
                elapsed * (progress.rows_estimated - progress.rows_done) as f64
                    / progress.rows_done as f64
            });
        Some(LiveRun {
            schedule_id,
            started_at: started.to_string(),
            progress: progress.clone(),
            eta_seconds,
            elapsed_seconds: elapsed,
        })
    }
}

impl std::fmt::Debug for LiveRuns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRuns").finish_non_exhaustive()
    }
}

/// The app's operations; see the module docs.
pub struct Api {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    scheduler: Option<SchedulerHandle>,
    live: Arc<LiveRuns>,
    restore_cancel: Arc<AtomicBool>,
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
    /// The API and its scheduler, which the caller spawns (`scheduler.run()`). `None` for the
    /// scheduler when another process holds this data directory's scheduler lock: the API then
    /// still works, but backups and "run now" belong to that process.
    pub fn start(
        store: Store,
        host: ApiHost,
    ) -> (Api, Option<(Scheduler, crate::paths::SchedulerLock)>) {
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
                (Some(handle), Some((scheduler.observe(live.clone()), lock)))
            }
            Err(e) => {
                tracing::warn!(error = %e, "not running schedules here");
                (None, None)
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
            },
            scheduler,
        )
    }

    pub fn store(&self) -> &Store {
        &self.store
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

    pub async fn list_schedules(&self) -> Result<Vec<Schedule>> {
        self.store.list_schedules().await
    }

    pub async fn create_schedule(&self, request: NewSchedule) -> Result<Schedule> {
        let created = self.store.create_schedule(request, self.now()).await?;
        self.changed();
        Ok(created)
    }

    pub async fn update_schedule(&self, id: i64, patch: SchedulePatch) -> Result<Schedule> {
        let updated = self.store.update_schedule(id, patch, self.now()).await?;
        self.changed();
        Ok(updated)
    }

    /// Deletes a schedule (a running backup of it is cancelled first). Its history and files
    /// stay.
    pub async fn delete_schedule(&self, id: i64) -> Result<Schedule> {
        let deleted = self.store.delete_schedule(id).await?;
        if let Some(s) = &self.scheduler {
            s.send(Event::Cancel(id));
        }
        self.changed();
        Ok(deleted)
    }

    pub async fn toggle_schedule(&self, id: i64) -> Result<Schedule> {
        let toggled = self.store.toggle_schedule(id, self.now()).await?;
        self.changed();
        Ok(toggled)
    }

    /// Starts a backup now, in the background; progress comes through the watcher.
    pub async fn run_schedule_now(&self, id: i64) -> Result<()> {
        self.store.get_schedule(id).await?;
        self.scheduler()?.run_now(id).await
    }

    pub async fn cancel_run(&self, id: i64) -> Result<()> {
        self.scheduler()?.send(Event::Cancel(id));
        Ok(())
    }

    /// Pauses or resumes every schedule.
    pub async fn set_paused(&self, paused: bool) -> Result<()> {
        self.store.set_paused(paused).await?;
        self.changed();
        Ok(())
    }

    // --- History ---

    pub async fn list_history(&self, query: HistoryQuery) -> Result<Vec<Run>> {
        const STATUSES: [&str; 7] = [
            "running",
            "success",
            "failed",
            "interrupted",
            "cancelled",
            "skipped",
            "deleted",
        ];
        if let Some(status) = &query.status {
            if !STATUSES.contains(&status.as_str()) {
                return Err(Error::invalid(
                    "status",
                    format!(
                        "unknown status `{status}`; use one of {}",
                        STATUSES.join(", ")
                    ),
                ));
            }
        }
        let runs = self.store.list_history(query.schedule_id).await?;
        Ok(match query.status {
            None => runs,
            Some(status) => runs.into_iter().filter(|r| r.status == status).collect(),
        })
    }

    /// The backup file of a history entry, for "show in folder".
    pub async fn backup_file(&self, run_id: i64) -> Result<PathBuf> {
        let (file, _) = self.store.run_file(run_id).await?;
        Ok(file)
    }

    // --- Previews ---

    pub async fn cron_preview(
        &self,
        request: CronPreviewRequest,
        lang: Lang,
    ) -> Result<CronPreview> {
        let count = request.count.unwrap_or(5);
        if !(1..=50).contains(&count) {
            return Err(Error::invalid("count", "ask for 1 to 50 next runs"));
        }
        let expr = CronExpr::parse(&request.cron_expression)
            .map_err(|e| e.with_field("cron_expression"))?;
        let zone_name = request
            .timezone
            .filter(|z| !z.trim().is_empty())
            .unwrap_or_else(time::system_zone_name);
        let zone = time::zone(&zone_name).map_err(|e| e.with_field("timezone"))?;
        let next_runs = expr
            .iter_after(self.now(), &zone)
            .take(count)
            .map(|t| time::rfc3339(&t.to_zoned_datetime(zone.clone())))
            .collect();
        Ok(CronPreview {
            description: expr.describe(lang),
            next_runs,
            timezone: zone_name,
        })
    }

    pub async fn retention_preview(
        &self,
        request: RetentionPreviewRequest,
    ) -> Result<Vec<AppliedDeletion>> {
        let verified_only = self
            .store
            .get_schedule(request.schedule_id)
            .await?
            .verify_after_backup;
        let policy = crate::retention::RetentionPolicy {
            retention_days: request.retention_days,
            max_backups: request.max_backups,
            verified_only,
        };
        crate::schedule::check_retention(policy.retention_days, policy.max_backups)?;
        self.store
            .preview_retention_with(request.schedule_id, Some(policy), self.now())
            .await
    }

    // --- The dashboard and the tray ---

    pub async fn dashboard(&self, lang: Lang) -> Result<Dashboard> {
        let now = self.now();
        let status = match &self.scheduler {
            Some(s) => s.status().await.unwrap_or_default(),
            None => Default::default(),
        };
        let history = self.store.list_history(None).await?;
        let mut schedules = Vec::new();
        for schedule in self.store.list_schedules().await? {
            schedules.push(self.schedule_state(schedule, &history, &status.queued, now, lang)?);
        }
        let recent_failures = history
            .iter()
            .filter(|r| r.status == "failed" || r.status == "interrupted")
            .take(5)
            .cloned()
            .collect();
        Ok(Dashboard {
            paused: self.store.paused().await?,
            scheduler_here: self.scheduler.is_some(),
            schedules,
            recent_failures,
            connections: self.store.list_connections().await?.len(),
        })
    }

    fn schedule_state(
        &self,
        schedule: Schedule,
        history: &[Run],
        queued: &[i64],
        now: Timestamp,
        lang: Lang,
    ) -> Result<ScheduleState> {
        let th = lang == Lang::Th;
        let own: Vec<&Run> = history
            .iter()
            .filter(|r| r.schedule_id == Some(schedule.id))
            .collect();
        let newest_success = own.iter().find(|r| r.status == "success");
        let last_run = own
            .iter()
            .find(|r| matches!(r.status.as_str(), "success" | "failed" | "interrupted"))
            .map(|r| (*r).clone());
        let newest_ts = newest_success.map(|r| r.created_at.timestamp());
        let zone = time::zone(&schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let summary = CronExpr::parse(&schedule.cron_expression)
            .map(|c| c.describe(lang))
            .unwrap_or_default();
        let (health, reason) = if !schedule.is_active {
            (Health::Off, None)
        } else if let Some(failed) = last_run.as_ref().filter(|r| r.status != "success") {
            let why = failed
                .error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| failed.status.clone());
            (Health::Failing, Some(why))
        } else if let Some(since) = overdue_since(&schedule, newest_ts, now, 2) {
            let when = time::rfc3339(&since.to_zoned_datetime(zone.clone()));
            let why = if th {
                format!("ไม่มีการสำรองข้อมูลที่สำเร็จตั้งแต่ {when}")
            } else {
                format!("no good backup since {when}")
            };
            (Health::Failing, Some(why))
        } else if newest_ts.is_none() {
            (Health::Pending, None)
        } else if let Some(copy) = newest_success.and_then(|r| {
            r.copies
                .iter()
                .find(|c| matches!(c.status.as_str(), "failed" | "interrupted"))
        }) {
            // The backup is good here but did not reach one of its destinations.
            let why = if th {
                format!("ส่งสำเนาล่าสุดไป {} ไม่สำเร็จ", copy.destination)
            } else {
                format!("the newest copy to {} failed", copy.destination)
            };
            (Health::Late, Some(why))
        } else if overdue_since(&schedule, newest_ts, now, 1).is_some() {
            let why = if th {
                "ข้อมูลสำรองล่าสุดเก่ากว่ารอบเวลาที่ตั้งไว้"
            } else {
                "the newest backup is older than one interval: a run was missed"
            };
            (Health::Late, Some(why.to_owned()))
        } else {
            (Health::Good, None)
        };
        Ok(ScheduleState {
            newest_success_at: newest_success
                .map(|r| time::rfc3339(&r.created_at.timestamp().to_zoned_datetime(zone.clone()))),
            running: self.live.get(schedule.id),
            queued: queued.contains(&schedule.id),
            summary,
            health,
            health_reason: reason,
            last_run,
            schedule,
        })
    }

    pub async fn tray_status(&self, lang: Lang) -> Result<TrayStatus> {
        let th = lang == Lang::Th;
        let board = self.dashboard(lang).await?;
        let running = board.schedules.iter().any(|s| s.running.is_some());
        let failing = board.schedules.iter().any(|s| s.health == Health::Failing);
        let icon = if running {
            TrayIcon::Running
        } else if board.paused {
            TrayIcon::Paused
        } else if failing {
            TrayIcon::Failed
        } else {
            TrayIcon::Idle
        };
        let last = board
            .schedules
            .iter()
            .filter_map(|s| s.last_run.as_ref().map(|r| (r, &s.schedule)))
            .max_by_key(|(r, _)| r.created_at.timestamp());
        let last_line = match last {
            None if th => "ยังไม่มีการสำรองข้อมูล".to_owned(),
            None => "No backup yet".to_owned(),
            Some((run, schedule)) => {
                let ok = run.status == "success";
                let when = run.created_at.strftime("%Y-%m-%d %H:%M");
                match (th, ok) {
                    (true, true) => format!("ล่าสุด: ✓ {} เมื่อ {when}", schedule.name),
                    (true, false) => format!("ล่าสุด: ✗ ล้มเหลว {} เมื่อ {when}", schedule.name),
                    (false, true) => format!("Last: ✓ {} at {when}", schedule.name),
                    (false, false) => format!("Last: ✗ {} failed at {when}", schedule.name),
                }
            }
        };
        let next = board
            .schedules
            .iter()
            .filter_map(|s| s.schedule.next_run_at.as_ref().map(|n| (n, &s.schedule)))
            .min_by_key(|(n, _)| n.timestamp());
        let next_line = match (board.paused, next) {
            (true, _) if th => "หยุดตารางเวลาทั้งหมดชั่วคราว".to_owned(),
            (true, _) => "All schedules paused".to_owned(),
            (false, None) if th => "ไม่มีตารางเวลาที่เปิดอยู่".to_owned(),
            (false, None) => "Nothing scheduled".to_owned(),
            (false, Some((at, s))) => {
                let when = at
                    .timestamp()
                    .to_zoned_datetime(jiff::tz::TimeZone::system())
                    .strftime("%a %H:%M");
                if th {
                    format!("ถัดไป: {when} {}", s.name)
                } else {
                    format!("Next: {when} {}", s.name)
                }
            }
        };
        Ok(TrayStatus {
            icon,
            last_line,
            next_line,
            paused: board.paused,
            schedules: board
                .schedules
                .iter()
                .filter(|s| s.schedule.is_active)
                .map(|s| (s.schedule.id, s.schedule.name.clone()))
                .collect(),
        })
    }

    // --- Connections ---

    pub async fn list_connections(&self) -> Result<Vec<ConnectionProfile>> {
        self.store.list_connections().await
    }

    pub async fn add_connection(&self, request: AddConnectionRequest) -> Result<ConnectionProfile> {
        if request.password.is_empty() {
            return Err(Error::invalid(
                "password",
                "enter the database user's password",
            ));
        }
        self.store
            .add_connection(
                request.connection,
                Some(&request.password),
                &*self.secrets,
                self.now(),
            )
            .await
    }

    /// Connects with a saved profile: server version, tables, the certificate, missing
    /// privileges. A profile not pinned yet is pinned now (the check's notices say so).
    pub async fn test_connection(&self, name: String) -> Result<ConnectionCheck> {
        let profile = self.store.get_connection(&name).await?;
        let target = ServerTarget::new(&profile, &*self.secrets)?;
        let probe = target.clone();
        let mut check = blocking(move || check_connection(&probe)).await?;
        if let Some(notice) = self
            .store
            .pin_on_first_use(&profile, &target, self.now())
            .await?
        {
            check.notices.push(notice);
        }
        Ok(check)
    }

    /// Accepts a server's new certificate for a profile (pins this fingerprint).
    pub async fn trust_certificate(
        &self,
        request: TrustCertificateRequest,
    ) -> Result<ConnectionProfile> {
        self.store
            .trust_certificate(&request.connection, &request.fingerprint, self.now())
            .await
    }

    /// Connects with a profile that is not saved yet.
    pub async fn test_draft(&self, request: TestDraftRequest) -> Result<ConnectionCheck> {
        request.connection.validate()?;
        let target = ServerTarget::from_draft(&request.connection, request.password);
        // Point the form at the field to fix.
        blocking(move || check_connection(&target))
            .await
            .map_err(|e| match e.code {
                ErrorCode::AuthFailed => e.with_field("password"),
                ErrorCode::Unreachable => e.with_field("host"),
                _ => e,
            })
    }

    pub async fn remove_connection(&self, name: String) -> Result<ConnectionProfile> {
        self.store.remove_connection(&name, &*self.secrets).await
    }

    // --- Destinations ---

    pub async fn list_destinations(&self) -> Result<Vec<crate::destination::Destination>> {
        self.store.list_destinations().await
    }

    /// Tests the form's destination, then saves it: a destination that cannot be written to is
    /// not saved. Google Drive is connected first: `open` shows Google's consent page in the
    /// browser, and this waits (up to five minutes) for the answer.
    pub async fn add_destination(
        &self,
        form: DestinationForm,
        open: &(dyn Fn(&str) + Sync),
    ) -> Result<crate::destination::Destination> {
        let given = form.secret.filter(|s| !s.is_empty());
        let secret = crate::destination::connect(&form.destination, given.as_deref(), open)
            .await
            .map_err(|e| destination_field(&form.destination.settings, e))?;
        crate::destination::test_draft(&form.destination, secret.as_deref())
            .await
            .map_err(|e| destination_field(&form.destination.settings, e))?;
        self.store
            .add_destination(
                form.destination,
                secret.as_deref(),
                &*self.secrets,
                self.now(),
            )
            .await
    }

    /// Tests the form's destination without saving anything.
    pub async fn test_destination_draft(
        &self,
        form: DestinationForm,
    ) -> Result<crate::destination::remote::DestinationCheck> {
        if matches!(
            form.destination.settings,
            crate::destination::DestinationSettings::Gdrive { .. }
        ) {
            return Err(Error::invalid(
                "kind",
                "Google Drive is tested when it is connected: choose Connect and save",
            ));
        }
        let secret = form.secret.filter(|s| !s.is_empty());
        crate::destination::test_draft(&form.destination, secret.as_deref())
            .await
            .map_err(|e| destination_field(&form.destination.settings, e))
    }

    pub async fn test_destination(
        &self,
        name: String,
    ) -> Result<crate::destination::remote::DestinationCheck> {
        let destination = self.store.get_destination(&name).await?;
        crate::destination::test_destination(&destination, &*self.secrets).await
    }

    pub async fn remove_destination(
        &self,
        name: String,
    ) -> Result<crate::destination::Destination> {
        self.store.remove_destination(&name, &*self.secrets).await
    }

    // --- Settings ---

    pub async fn settings(&self) -> Result<Settings> {
        Ok(Settings {
            language: self.store.language_choice().await?,
            smtp: self.store.smtp_settings().await?,
            default_folder: self.store.default_backup_dir().await?.display().to_string(),
            default_folder_is_custom: self.store.setting("default_folder").await?.is_some(),
            paused: self.store.paused().await?,
            data_dir: self.store.data_dir().display().to_string(),
            encryption_keys: self.encryption_keys().await?,
        })
    }

    async fn encryption_keys(&self) -> Result<Vec<String>> {
        Ok(self
            .store
            .setting(ENCRYPTION_KEYS)
            .await?
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default())
    }

    /// Creates an encryption key pair: the recovery file at `recovery_file` (the admin keeps it
    /// offline), the secret key in the keyring; returns the public key for `encrypt_to`.
    pub async fn create_encryption_key(&self, recovery_file: String) -> Result<String> {
        let path = PathBuf::from(recovery_file.trim());
        let secrets = self.secrets.clone();
        let now = self.now();
        let pair = blocking(move || crate::crypt::create_key(&path, &*secrets, now)).await?;
        let mut keys = self.encryption_keys().await?;
        keys.push(pair.recipient.clone());
        self.store
            .set_setting(ENCRYPTION_KEYS, &keys.join("\n"))
            .await?;
        Ok(pair.recipient)
    }

    pub async fn set_language(&self, lang: Lang) -> Result<()> {
        self.store.set_language(lang).await
    }

    pub async fn set_default_folder(&self, folder: Option<String>) -> Result<()> {
        let folder = folder.filter(|f| !f.trim().is_empty()).map(PathBuf::from);
        if let Some(dir) = &folder {
            crate::schedule::check_destination("default_folder", dir)?;
            crate::paths::create_private_dir(dir).map_err(|e| e.with_field("default_folder"))?;
        }
        self.store.set_default_backup_dir(folder.as_deref()).await
    }

    /// Saves the mail settings; an empty password keeps the saved one.
    pub async fn save_smtp(&self, request: SaveSmtpRequest) -> Result<()> {
        let password = request.password.filter(|p| !p.is_empty());
        let has_saved = self.secrets.get(SMTP_SECRET_KEY).ok().flatten().is_some();
        if request.smtp.username.is_some() && password.is_none() && has_saved {
            // Keep the saved password: store the settings only.
            request.smtp.validate()?;
            return self
                .store
                .set_smtp_settings(
                    &request.smtp,
                    Some(&self.saved_smtp_password()?),
                    &*self.secrets,
                )
                .await;
        }
        self.store
            .set_smtp_settings(&request.smtp, password.as_deref(), &*self.secrets)
            .await
            .map_err(|e| match e.field.as_deref() {
                Some("password") => Error::invalid("password", "enter the mail account's password"),
                _ => e,
            })
    }

    fn saved_smtp_password(&self) -> Result<String> {
        self.secrets
            .get(SMTP_SECRET_KEY)?
            .ok_or_else(|| Error::invalid("password", "enter the mail account's password"))
    }

    /// Sends a test email with the saved settings.
    pub async fn send_test_email(&self, to: String, lang: Lang) -> Result<()> {
        if !crate::schedule::is_email(to.trim()) {
            return Err(Error::invalid(
                "to",
                format!("`{to}` is not an email address"),
            ));
        }
        let settings = self.store.smtp_settings().await?.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidInput,
                "save the mail server settings first",
            )
            .with_field("host")
        })?;
        let notifier = crate::notify::EmailNotifier::new(settings, &*self.secrets)?;
        let notice = crate::notify::test_notice(&to, lang);
        blocking(move || notifier.send(&notice)).await
    }

    // --- Restore ---

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

    /// Checks a passphrase before a schedule is saved with it (nothing is stored).
    pub fn check_passphrase(&self, passphrase: &str) -> Result<()> {
        crate::crypt::check_passphrase(passphrase)
    }

    /// Saves the passphrase of a schedule that encrypts with one (in the keyring only).
    pub async fn set_schedule_passphrase(&self, id: i64, passphrase: String) -> Result<()> {
        self.store.get_schedule(id).await?;
        crate::crypt::set_passphrase(id, &passphrase, &*self.secrets)
    }

    /// Test-restores a backup into a scratch database and compares it (see [`crate::verify`]).
    /// `from` names the destination whose copy to check (None: the local file, else any copy).
    pub async fn verify_backup(
        &self,
        run_id: i64,
        from: Option<String>,
    ) -> Result<crate::verify::VerifyReport> {
        let target =
            crate::verify::target_for_run(&self.store, &*self.secrets, run_id, None).await?;
        let from = from.filter(|f| !f.is_empty());
        crate::verify::verify_run(
            &self.store,
            &*self.secrets,
            run_id,
            target,
            from.as_deref(),
            self.now(),
        )
        .await
    }

    pub fn cancel_restore(&self) {
        self.restore_cancel.store(true, Ordering::Relaxed);
    }
}

/// Points a failed destination test at the form field most likely to fix it: the secret when
/// the server refused, else the kind's address field.
fn destination_field(settings: &crate::destination::DestinationSettings, e: Error) -> Error {
    use crate::destination::DestinationSettings as S;
    if e.field.is_some() {
        return e;
    }
    let address = match settings {
        S::Folder { .. } => "path",
        S::S3 { .. } => "endpoint",
        S::Sftp { .. } => "host",
        S::Webdav { .. } => "url",
        S::Gdrive { .. } => "client_id",
    };
    match (e.code, settings) {
        (
            ErrorCode::PermissionDenied | ErrorCode::AuthFailed,
            S::S3 { .. } | S::Webdav { .. } | S::Gdrive { .. },
        ) => e.with_field("secret"),
        (ErrorCode::PermissionDenied | ErrorCode::AuthFailed, S::Sftp { .. }) => {
            e.with_field("key_file")
        }
        (ErrorCode::NotFound, S::S3 { .. }) => e.with_field("bucket"),
        (ErrorCode::PermissionDenied | ErrorCode::NotFound, _) => e.with_field(address),
        (ErrorCode::Unreachable | ErrorCode::StorageFailed | ErrorCode::InvalidInput, _) => {
            e.with_field(address)
        }
        _ => e,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorCode::Io, format!("the task failed: {e}")))?
}
