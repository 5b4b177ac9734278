//! The read models of the dashboard and the tray: each schedule's health, what runs now,
//! and one line for the tray. Computed from the store and the scheduler's live state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde::Serialize;

use super::Api;
use crate::cron::{CronExpr, Lang};
use crate::dump::DumpProgress;
use crate::error::Result;
use crate::history::Run;
use crate::run::RunOutcome;
use crate::schedule::Schedule;
use crate::scheduler::{overdue_since, RunObserver};
use crate::time;

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    /// The sizes of its last good backups (at most 30, oldest first), for the size-over-time
    /// chart: a sudden drop is the early sign of a broken dump.
    pub recent_sizes: Vec<u64>,
}

/// The store's part of the dashboard (see `Api::board`).
#[derive(Debug)]
pub(super) struct Board {
    schedules: Vec<Schedule>,
    runs: HashMap<i64, Run>,
    newest_success: HashMap<i64, i64>,
    last_finished: HashMap<i64, i64>,
    sizes: HashMap<i64, Vec<u64>>,
    failures: Vec<i64>,
    folder: std::path::PathBuf,
    paused: bool,
    connections: usize,
}

/// A schedule's runs the dashboard shows (from `Store::recent_runs`).
pub(super) struct OwnRuns<'a> {
    newest_success: Option<&'a Run>,
    last_run: Option<&'a Run>,
    /// The sizes of its last good backups, oldest first.
    recent_sizes: Vec<u64>,
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
    /// Whether anything schedules backups (the dashboard's red banner when not).
    pub scheduler: SchedulerState,
    /// The default backup folder and the space free there (None when it cannot be told).
    pub backup_folder: String,
    pub free_bytes: Option<u64>,
}

/// Whether backups are being scheduled, as `billora-backup status` and the dashboard show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum SchedulerMode {
    /// A scheduler (this app, or the daemon) is alive and uses its store.
    Running,
    /// A scheduler is alive but cannot use its store; it keeps retrying.
    Degraded,
    /// No scheduler has shown a sign of life recently: nothing will run.
    NotRunning,
}

/// A backup running now, in any process.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RunningRun {
    pub run_id: i64,
    pub schedule_id: Option<i64>,
    pub schedule_name: String,
    pub started_at: String,
}

/// The scheduler's state from its heartbeat, whichever process runs it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SchedulerState {
    pub state: SchedulerMode,
    /// Why it is degraded or not running.
    pub reason: Option<String>,
    /// Which process runs it ("the daemon", "the app") and its id.
    pub owner_role: Option<String>,
    pub owner_pid: Option<u32>,
    /// The last turn of its loop (RFC 3339, this machine's zone).
    pub last_tick: Option<String>,
    /// The next backup due: schedule id, name, and when.
    pub next_due_schedule_id: Option<i64>,
    pub next_due_schedule_name: Option<String>,
    pub next_due_at: Option<String>,
    pub running: Vec<RunningRun>,
    pub active_schedules: usize,
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
    /// Backups running now: (schedule id, "Backing up Nightly · 42% · 1 min left"), for the
    /// menu's progress lines and their Cancel items.
    pub running: Vec<(i64, String)>,
}

/// A running backup as one tray line, in the app's language.
fn tray_progress(name: &str, live: &LiveRun, th: bool) -> String {
    let p = &live.progress;
    let mut parts = vec![if th {
        format!("กำลังสำรองข้อมูล {name}")
    } else {
        format!("Backing up {name}")
    }];
    if let Some(percent) = (100 * p.rows_done).checked_div(p.rows_estimated) {
        parts.push(format!("{}%", percent.min(100)));
    }
    if let Some(eta) = live.eta_seconds.filter(|s| s.is_finite() && *s >= 0.0) {
        let minutes = (eta / 60.0).round() as u64;
        parts.push(match (th, minutes) {
            (true, 0) => "เหลือไม่ถึง 1 นาที".into(),
            (true, m) => format!("เหลือประมาณ {m} นาที"),
            (false, 0) => "under a minute left".into(),
            (false, m) => format!("{m} min left"),
        });
    }
    parts.join(" · ")
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

/// What `RunObserver` calls the API keeps, and passes on to the shell (events, tray).
#[derive(Default)]
pub(super) struct LiveRuns {
    pub(super) runs: Mutex<HashMap<i64, (Timestamp, std::time::Instant, DumpProgress)>>,
    pub(super) forward: Option<Arc<dyn RunObserver>>,
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
    pub(super) fn get(&self, schedule_id: i64) -> Option<LiveRun> {
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

impl Api {
    pub async fn dashboard(&self, lang: Lang) -> Result<Dashboard> {
        let now = self.now();
        let here = self.status_here().await;
        let queued = here.as_ref().map(|s| s.queued.clone()).unwrap_or_default();
        let board = self.board().await?;
        let scheduler = self.state_of(&board.schedules, here).await?;
        let mut schedules = Vec::with_capacity(board.schedules.len());
        for schedule in &board.schedules {
            let id = schedule.id;
            let own = OwnRuns {
                newest_success: board
                    .newest_success
                    .get(&id)
                    .and_then(|r| board.runs.get(r)),
                last_run: board.last_finished.get(&id).and_then(|r| board.runs.get(r)),
                recent_sizes: board.sizes.get(&id).cloned().unwrap_or_default(),
            };
            let running = self.live.get(id);
            schedules.push(schedule_state(
                schedule.clone(),
                own,
                (queued.contains(&id), running),
                now,
                lang,
            ));
        }
        let recent_failures = board
            .failures
            .iter()
            .filter_map(|id| board.runs.get(id).cloned())
            .collect();
        // The folder may not exist yet: its nearest existing parent has the same free space.
        let free_bytes = board
            .folder
            .ancestors()
            .find(|p| p.exists())
            .and_then(crate::paths::free_space);
        Ok(Dashboard {
            backup_folder: board.folder.display().to_string(),
            free_bytes,
            paused: board.paused,
            scheduler_here: self.scheduler.is_some(),
            schedules,
            recent_failures,
            connections: board.connections,
            scheduler,
        })
    }

    /// What the dashboard reads from the store, kept while the store is unchanged: with
    /// 10,000 schedules and 100,000 runs the reads take ~0.5 s (`examples/app_scale.rs`), and
    /// the tray and the dashboard ask at every event. Only the runs shown are read, found by
    /// index (the whole history would take seconds, and a scan of it per schedule minutes).
    async fn board(&self) -> Result<Arc<Board>> {
        let version = self.store.version().await;
        if let Some(board) = self.kept_board.get("", version) {
            return Ok(board);
        }
        let recent = self.store.recent_runs(30, 5).await?;
        let mut ids: Vec<i64> = recent
            .newest_success
            .values()
            .chain(recent.last_finished.values())
            .chain(recent.failures.iter())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let runs = self
            .store
            .runs_with_ids(&ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let board = Arc::new(Board {
            schedules: self.store.list_schedules().await?,
            runs,
            newest_success: recent.newest_success,
            last_finished: recent.last_finished,
            sizes: recent.sizes,
            failures: recent.failures,
            folder: self.store.default_backup_dir().await?,
            paused: self.store.paused().await?,
            connections: self.store.list_connections().await?.len(),
        });
        self.kept_board.keep("", version, board.clone());
        Ok(board)
    }

    /// What this process's own scheduler says (None when another process runs it).
    pub(super) async fn status_here(&self) -> Option<crate::scheduler::SchedulerStatus> {
        match &self.scheduler {
            Some(handle) => handle.status().await.ok(),
            None => None,
        }
    }

    /// The scheduler's state from its heartbeat (see [`SchedulerState`]).
    pub async fn scheduler_state(&self) -> Result<SchedulerState> {
        let schedules = self.store.list_schedules().await?;
        let here = self.status_here().await;
        self.state_of(&schedules, here).await
    }

    /// [`Api::scheduler_state`] from a schedule list already read and this process's own
    /// scheduler status (`here`), which knows best: its heartbeat may not be writable now.
    pub(super) async fn state_of(
        &self,
        schedules: &[Schedule],
        here: Option<crate::scheduler::SchedulerStatus>,
    ) -> Result<SchedulerState> {
        let now = self.now();
        let local =
            |t: Timestamp| time::rfc3339(&t.to_zoned_datetime(jiff::tz::TimeZone::system()));
        let active: Vec<&Schedule> = schedules.iter().filter(|s| s.is_active).collect();
        let next = active
            .iter()
            .filter_map(|s| s.next_run_at.as_ref().map(|n| (n.timestamp(), *s)))
            .min_by_key(|(at, _)| *at);
        let heartbeat: Option<crate::scheduler::Heartbeat> = self
            .store
            .setting(crate::scheduler::HEARTBEAT)
            .await?
            .and_then(|text| serde_json::from_str(&text).ok());
        let (state, reason) = match (&heartbeat, here) {
            (_, Some(status)) if status.degraded.is_some() => {
                (SchedulerMode::Degraded, status.degraded)
            }
            (_, Some(_)) => (SchedulerMode::Running, None),
            (heartbeat, None) => match heartbeat {
                None => (
                    SchedulerMode::NotRunning,
                    Some("no scheduler has run on this data folder yet".to_owned()),
                ),
                Some(h) => {
                    let last = time::from_stored(&h.last_tick).unwrap_or(Timestamp::UNIX_EPOCH);
                    let age = now.duration_since(last).as_secs();
                    if h.state == "stopped" {
                        (
                            SchedulerMode::NotRunning,
                            Some(format!("{} stopped its scheduler", h.role)),
                        )
                    } else if age > h.stale_after_seconds as i64 {
                        (
                            SchedulerMode::NotRunning,
                            Some(format!(
                                "{} (pid {}) has not shown a sign of life since {}",
                                h.role,
                                h.pid,
                                local(last)
                            )),
                        )
                    } else if h.state == "degraded" {
                        (SchedulerMode::Degraded, h.reason.clone())
                    } else {
                        (SchedulerMode::Running, None)
                    }
                }
            },
        };
        Ok(SchedulerState {
            state,
            reason,
            owner_role: heartbeat.as_ref().map(|h| h.role.clone()),
            owner_pid: heartbeat.as_ref().map(|h| h.pid),
            last_tick: heartbeat
                .as_ref()
                .and_then(|h| time::from_stored(&h.last_tick).ok())
                .map(local),
            next_due_schedule_id: next.map(|(_, s)| s.id),
            next_due_schedule_name: next.map(|(_, s)| s.name.clone()),
            next_due_at: next.map(|(at, _)| local(at)),
            running: self
                .store
                .running_runs()
                .await?
                .into_iter()
                .map(|(run_id, schedule_id, schedule_name, started)| RunningRun {
                    run_id,
                    schedule_id,
                    schedule_name,
                    started_at: time::from_stored(&started).map(local).unwrap_or(started),
                })
                .collect(),
            active_schedules: active.len(),
        })
    }
}

/// One schedule's line on the dashboard, from its own runs; `(queued, running)` is what is
/// happening to it now.
fn schedule_state(
    schedule: Schedule,
    own: OwnRuns<'_>,
    (queued, running): (bool, Option<LiveRun>),
    now: Timestamp,
    lang: Lang,
) -> ScheduleState {
    let th = lang == Lang::Th;
    let newest_success = own.newest_success;
    let recent_sizes = own.recent_sizes;
    let last_run = own.last_run.cloned();
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
    ScheduleState {
        newest_success_at: newest_success
            .map(|r| time::rfc3339(&r.created_at.timestamp().to_zoned_datetime(zone.clone()))),
        running,
        queued,
        summary,
        health,
        health_reason: reason,
        last_run,
        recent_sizes,
        schedule,
    }
}

/// The dashboard of another machine's daemon, from what its API gives: its schedules and its
/// newest runs (newest first). What only that machine knows (its folder, its free space, its
/// scheduler's heartbeat) is left empty.
pub(super) fn remote_dashboard(
    schedules: Vec<Schedule>,
    runs: &[Run],
    (live, connections): (Vec<LiveRun>, usize),
    now: Timestamp,
    lang: Lang,
) -> Dashboard {
    let finished = |r: &&&Run| {
        matches!(
            r.status.as_str(),
            "success" | "failed" | "interrupted" | "cancelled"
        )
    };
    let states: Vec<ScheduleState> = schedules
        .into_iter()
        .map(|schedule| {
            let own: Vec<&Run> = runs
                .iter()
                .filter(|r| r.schedule_id == Some(schedule.id))
                .collect();
            let mut recent_sizes: Vec<u64> = own
                .iter()
                .filter(|r| r.status == "success")
                .filter_map(|r| r.file_size.and_then(|s| u64::try_from(s).ok()))
                .take(30)
                .collect();
            recent_sizes.reverse();
            let runs = OwnRuns {
                newest_success: own.iter().copied().find(|r| r.status == "success"),
                last_run: own.iter().find(finished).copied(),
                recent_sizes,
            };
            let running = live.iter().find(|l| l.schedule_id == schedule.id).cloned();
            schedule_state(schedule, runs, (false, running), now, lang)
        })
        .collect();
    let active_schedules = states.iter().filter(|s| s.schedule.is_active).count();
    Dashboard {
        paused: false,
        scheduler_here: false,
        recent_failures: runs
            .iter()
            .filter(|r| matches!(r.status.as_str(), "failed" | "interrupted"))
            .take(5)
            .cloned()
            .collect(),
        connections,
        scheduler: SchedulerState {
            state: SchedulerMode::Running,
            reason: None,
            owner_role: Some("the daemon".into()),
            owner_pid: None,
            last_tick: None,
            next_due_schedule_id: None,
            next_due_schedule_name: None,
            next_due_at: None,
            running: Vec::new(),
            active_schedules,
        },
        backup_folder: String::new(),
        free_bytes: None,
        schedules: states,
    }
}

impl Api {
    pub async fn tray_status(&self, lang: Lang) -> Result<TrayStatus> {
        let th = lang == Lang::Th;
        let board = self.dashboard(lang).await?;
        let running = board.schedules.iter().any(|s| s.running.is_some());
        let stopped =
            board.scheduler.state != SchedulerMode::Running && board.scheduler.active_schedules > 0;
        let failing = stopped || board.schedules.iter().any(|s| s.health == Health::Failing);
        // A failure shows even while paused: pausing must not hide it.
        let icon = if running {
            TrayIcon::Running
        } else if failing {
            TrayIcon::Failed
        } else if board.paused {
            TrayIcon::Paused
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
                let when = time::short_local(&run.created_at, th, true);
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
            _ if stopped && th => "ตัวจัดตารางเวลาไม่ทำงาน: จะไม่มีการสำรองข้อมูล".to_owned(),
            _ if stopped => "The scheduler is not running: no backup will be made".to_owned(),
            (true, _) if th => "หยุดตารางเวลาทั้งหมดชั่วคราว".to_owned(),
            (true, _) => "All schedules paused".to_owned(),
            (false, None) if th => "ไม่มีตารางเวลาที่เปิดอยู่".to_owned(),
            (false, None) => "Nothing scheduled".to_owned(),
            (false, Some((at, s))) => {
                let when = time::short_local(
                    &at.timestamp()
                        .to_zoned_datetime(jiff::tz::TimeZone::system()),
                    th,
                    false,
                );
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
            running: board
                .schedules
                .iter()
                .filter_map(|s| {
                    s.running
                        .as_ref()
                        .map(|live| (s.schedule.id, tray_progress(&s.schedule.name, live, th)))
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trays_progress_line_gives_percent_and_time_left_in_both_languages() {
        let live = LiveRun {
            schedule_id: 1,
            started_at: String::new(),
            progress: DumpProgress {
                table: "invoices".into(),
                tables_done: 3,
                tables_total: 9,
                rows_done: 42,
                rows_estimated: 100,
                bytes_done: 0,
            },
            eta_seconds: Some(65.0),
            elapsed_seconds: 40.0,
        };
        assert_eq!(
            tray_progress("Nightly", &live, false),
            "Backing up Nightly · 42% · 1 min left",
            "English"
        );
        assert_eq!(
            tray_progress("Nightly", &live, true),
            "กำลังสำรองข้อมูล Nightly · 42% · เหลือประมาณ 1 นาที",
            "Thai"
        );
        let early = LiveRun {
            eta_seconds: None,
            progress: DumpProgress {
                rows_estimated: 0,
                ..live.progress.clone()
            },
            ..live
        };
        assert_eq!(
            tray_progress("Nightly", &early, false),
            "Backing up Nightly",
            "no numbers before they are known"
        );
    }
}
