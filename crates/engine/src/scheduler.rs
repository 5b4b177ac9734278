//! The scheduler: one long-running task, driven by one [`Event`] enum, that turns due schedules
//! into runs. The CLI daemon and the desktop app's tray process run this same loop.
//!
//! - It sleeps until the earliest `next_run_at`, but re-reads the wall clock at least every
//!   `wake_interval` (60 s): timers pause while the machine sleeps, and clocks jump.
//! - A slot found already passed by more than `late_after` (the machine was asleep or off) runs
//!   **once**, as a catch-up of that slot, unless the schedule turned catch-up off; the next
//!   slot is always computed strictly after *now*, so missed slots never pile up, a clock
//!   moved back never repeats a run, and a clock moved forward runs a skipped slot once.
//! - A schedule still running is not started again: its due slot is recorded as `skipped`, and
//!   a run-now request is refused as already running. At most `max_concurrent` backups run at
//!   once; the rest wait in due order.
//! - Decisions take `now` from a [`Clock`], so tests pin it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{mpsc, oneshot};

use crate::backup::{run_schedule, RunControl, RunOptions};
use crate::cron::CronExpr;
use crate::dump::DumpProgress;
use crate::error::{Error, ErrorCode, Result};
use crate::notify::{run_notice, send_with_retries, Notice, NoticeKind, Notifier, RunFacts};
use crate::run::{RunOutcome, Trigger};
use crate::schedule::Schedule;
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::time;

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Watches the runs the scheduler starts: the desktop app shows live progress and refreshes its
/// tray from these calls. They run on the run's own task, so they must return quickly.
pub trait RunObserver: Send + Sync {
    fn started(&self, _schedule_id: i64) {}
    fn progress(&self, _schedule_id: i64, _progress: &DumpProgress) {}
    /// `outcome` is `None` when the run could not even be recorded.
    fn finished(&self, _schedule_id: i64, _outcome: Option<&RunOutcome>) {}
}

/// Watches nothing (the CLI daemon).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl RunObserver for NoObserver {}

/// Everything the loop reacts to.
#[derive(Debug)]
pub enum Event {
    /// Re-read the clock and start what is due.
    Tick,
    /// Schedules were created, changed or deleted elsewhere (CLI, UI).
    SchedulesChanged,
    /// Run a schedule now; the answer says whether it started.
    RunNow(i64, oneshot::Sender<Result<()>>),
    /// Cancel a running (or queued) backup of a schedule.
    Cancel(i64),
    /// Cancel running backups, wait for them to be recorded, and stop.
    Shutdown,
    /// A run of this schedule finished (sent by the run's own task).
    Finished(i64),
    /// What is running and waiting now (for the UI and the tray).
    Status(oneshot::Sender<SchedulerStatus>),
}

/// The schedules whose backups run now, and those waiting for a free slot, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SchedulerStatus {
    pub running: Vec<i64>,
    pub queued: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub max_concurrent: usize,
    /// A slot found later than this is a catch-up.
    pub late_after: SignedDuration,
    /// Longest sleep between clock readings.
    pub wake_interval: Duration,
    pub run_options: RunOptions,
    /// Alert when the newest good backup is older than this many intervals of the schedule.
    pub missing_after_intervals: i64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            max_concurrent: 1,
            late_after: SignedDuration::from_secs(120),
            wake_interval: Duration::from_secs(60),
            run_options: RunOptions {
                retry_delays: vec![Duration::from_secs(120), Duration::from_secs(480)],
                ..RunOptions::default()
            },
            missing_after_intervals: 2,
        }
    }
}

/// What to do with a schedule whose slot has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run { trigger: Trigger },
    Skip { reason: String },
}

/// Decides about one due slot (pure: tested with a pinned clock).
pub fn decide(
    schedule: &Schedule,
    slot: Timestamp,
    now: Timestamp,
    late_after: SignedDuration,
    busy: bool,
) -> Decision {
    let local =
        slot.to_zoned_datetime(time::zone(&schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC));
    let slot_text = local.strftime("%H:%M on %Y-%m-%d").to_string();
    if busy {
        return Decision::Skip {
            reason: format!(
                "the {slot_text} slot was skipped: the previous backup is still running"
            ),
        };
    }
    let late = now.duration_since(slot) > late_after;
    match (late, schedule.catch_up) {
        (false, _) => Decision::Run {
            trigger: Trigger::Scheduled,
        },
        (true, true) => Decision::Run {
            trigger: Trigger::CatchUp { slot: slot_text },
        },
        (true, false) => Decision::Skip {
            reason: format!("the {slot_text} slot was missed and catch-up is off"),
        },
    }
}

/// The slot after `now` for a schedule (`None` when disabled or never again).
pub fn next_slot(schedule: &Schedule, now: Timestamp) -> Option<Timestamp> {
    if !schedule.is_active {
        return None;
    }
    let cron = CronExpr::parse(&schedule.cron_expression).ok()?;
    let tz = time::zone(&schedule.timezone).ok()?;
    cron.next_after(now, &tz)
}

/// When a schedule's newest good backup (or its creation) is overdue: more than `intervals`
/// of its own interval old. Returns the instant the gap started.
pub fn overdue_since(
    schedule: &Schedule,
    newest_success: Option<Timestamp>,
    now: Timestamp,
    intervals: i64,
) -> Option<Timestamp> {
    if !schedule.is_active {
        return None;
    }
    let since = newest_success.unwrap_or(schedule.created_at.timestamp());
    let cron = CronExpr::parse(&schedule.cron_expression).ok()?;
    let tz = time::zone(&schedule.timezone).ok()?;
    let mut slots = cron.iter_after(since, &tz);
    let first = slots.next()?;
    let second = slots.next()?;
    let interval = second.duration_since(first);
    let limit = since
        .checked_add(interval.checked_mul(intervals as i32)?)
        .ok()?;
    (now > limit && now > first).then_some(since)
}

/// A handle to a running scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerHandle {
    tx: mpsc::UnboundedSender<Event>,
}

impl SchedulerHandle {
    pub fn send(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    /// What is running and queued.
    pub async fn status(&self) -> Result<SchedulerStatus> {
        let (tx, rx) = oneshot::channel();
        self.send(Event::Status(tx));
        rx.await
            .map_err(|_| Error::new(ErrorCode::Io, "the scheduler has stopped"))
    }

    /// Asks for a run now; refused when already running.
    pub async fn run_now(&self, schedule_id: i64) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.send(Event::RunNow(schedule_id, tx));
        rx.await
            .map_err(|_| Error::new(ErrorCode::Io, "the scheduler has stopped"))?
    }
}

struct Pending {
    schedule_id: i64,
    trigger: Trigger,
}

/// The scheduler's state; see the module docs.
pub struct Scheduler {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn RunObserver>,
    config: SchedulerConfig,
    running: HashMap<i64, Arc<AtomicBool>>,
    queue: VecDeque<Pending>,
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    shutting_down: bool,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("running", &self.running.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    pub fn new(
        store: Store,
        secrets: Arc<dyn SecretStore>,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        config: SchedulerConfig,
    ) -> (Scheduler, SchedulerHandle) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = SchedulerHandle { tx: tx.clone() };
        (
            Scheduler {
                store,
                secrets,
                notifier,
                clock,
                observer: Arc::new(NoObserver),
                config,
                running: HashMap::new(),
                queue: VecDeque::new(),
                tx,
                rx,
                shutting_down: false,
            },
            handle,
        )
    }

    /// Tells `observer` about every run this scheduler starts.
    pub fn observe(mut self, observer: Arc<dyn RunObserver>) -> Scheduler {
        self.observer = observer;
        self
    }

    /// Runs until [`Event::Shutdown`] and every running backup has been recorded.
    pub async fn run(mut self) -> Result<()> {
        let now = self.clock.now();
        let recovered = self.store.recover_interrupted(now).await?;
        if !recovered.is_empty() {
            tracing::warn!(runs = ?recovered, "marked runs left running by a crash as interrupted");
        }
        self.refresh_next_runs(now).await?;
        loop {
            if self.shutting_down && self.running.is_empty() {
                return Ok(());
            }
            if !self.shutting_down {
                self.process_due().await?;
                self.start_queued().await;
                self.check_missing_backups().await?;
            }
            let sleep = self.sleep_duration().await?;
            let event = tokio::select! {
                _ = tokio::time::sleep(sleep) => Event::Tick,
                event = self.rx.recv() => event.unwrap_or(Event::Shutdown),
            };
            self.handle(event).await?;
        }
    }

    async fn handle(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Tick | Event::SchedulesChanged => {
                let now = self.clock.now();
                self.refresh_next_runs(now).await?;
            }
            Event::RunNow(id, answer) => {
                let result = if self.shutting_down {
                    Err(Error::new(
                        ErrorCode::Cancelled,
                        "the scheduler is stopping",
                    ))
                } else if self.running.contains_key(&id)
                    || self.queue.iter().any(|p| p.schedule_id == id)
                {
                    Err(Error::new(
                        ErrorCode::Conflict,
                        "this schedule's backup is already running",
                    )
                    .with_hint("wait for it to finish, or cancel it"))
                } else {
                    match self.store.get_schedule(id).await {
                        Ok(_) => {
                            self.queue.push_back(Pending {
                                schedule_id: id,
                                trigger: Trigger::Manual,
                            });
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                };
                let _ = answer.send(result);
                self.start_queued().await;
            }
            Event::Cancel(id) => {
                self.queue.retain(|p| p.schedule_id != id);
                if let Some(flag) = self.running.get(&id) {
                    flag.store(true, Ordering::Relaxed);
                }
            }
            Event::Shutdown => {
                self.shutting_down = true;
                self.queue.clear();
                for flag in self.running.values() {
                    flag.store(true, Ordering::Relaxed);
                }
            }
            Event::Finished(id) => {
                self.running.remove(&id);
                self.start_queued().await;
            }
            Event::Status(answer) => {
                let mut running: Vec<i64> = self.running.keys().copied().collect();
                running.sort_unstable();
                let queued = self.queue.iter().map(|p| p.schedule_id).collect();
                let _ = answer.send(SchedulerStatus { running, queued });
            }
        }
        Ok(())
    }

    /// Active schedules without a next run (new, re-enabled, or zone data changed) get one.
    async fn refresh_next_runs(&self, now: Timestamp) -> Result<()> {
        for s in self.store.list_schedules().await? {
            if s.is_active && s.next_run_at.is_none() {
                self.set_next_run(s.id, next_slot(&s, now)).await?;
            }
        }
        Ok(())
    }

    async fn set_next_run(&self, id: i64, next: Option<Timestamp>) -> Result<()> {
        self.store.set_next_run(id, next).await
    }

    async fn process_due(&mut self) -> Result<()> {
        let now = self.clock.now();
        let paused = self.store.paused().await?;
        let mut due: Vec<(Timestamp, Schedule)> = self
            .store
            .list_schedules()
            .await?
            .into_iter()
            .filter(|s| s.is_active)
            .filter_map(|s| s.next_run_at.as_ref().map(|z| (z.timestamp(), s.clone())))
            .filter(|(slot, _)| *slot <= now)
            .collect();
        due.sort_by_key(|(slot, s)| (*slot, s.id));
        for (slot, schedule) in due {
            let busy = self.running.contains_key(&schedule.id)
                || self.queue.iter().any(|p| p.schedule_id == schedule.id);
            // The next slot is strictly after now: missed slots collapse into this one.
            self.set_next_run(schedule.id, next_slot(&schedule, now))
                .await?;
            if paused {
                // Paused by the admin: the slot passes without a run (the app says "paused").
                tracing::info!(schedule = schedule.id, "slot passed while paused");
                continue;
            }
            match decide(&schedule, slot, now, self.config.late_after, busy) {
                Decision::Run { trigger } => {
                    tracing::info!(
                        schedule = schedule.id,
                        trigger = trigger.as_str(),
                        "backup due"
                    );
                    self.queue.push_back(Pending {
                        schedule_id: schedule.id,
                        trigger,
                    });
                }
                Decision::Skip { reason } => {
                    tracing::info!(schedule = schedule.id, %reason, "slot skipped");
                    self.store.record_skipped(&schedule, now, &reason).await?;
                }
            }
        }
        Ok(())
    }

    async fn start_queued(&mut self) {
        while self.running.len() < self.config.max_concurrent.max(1) {
            let Some(pending) = self.queue.pop_front() else {
                break;
            };
            let cancel = Arc::new(AtomicBool::new(false));
            self.running.insert(pending.schedule_id, cancel.clone());
            let (store, secrets, notifier, clock, tx, observer) = (
                self.store.clone(),
                self.secrets.clone(),
                self.notifier.clone(),
                self.clock.clone(),
                self.tx.clone(),
                self.observer.clone(),
            );
            let options = self.config.run_options.clone();
            tokio::spawn(async move {
                let id = pending.schedule_id;
                observer.started(id);
                let watcher = observer.clone();
                let control = RunControl {
                    cancel,
                    progress: Arc::new(move |p: &DumpProgress| watcher.progress(id, p)),
                };
                let outcome = run_schedule(
                    &store,
                    &*secrets,
                    id,
                    pending.trigger.clone(),
                    clock.now(),
                    &options,
                    control,
                )
                .await;
                match &outcome {
                    Ok(o) => {
                        tracing::info!(schedule = id, run = o.run_id, status = %o.status, "backup finished");
                        observer.finished(id, Some(o));
                        notify_outcome(&store, notifier, id, &pending.trigger, o).await;
                    }
                    Err(e) => {
                        tracing::error!(schedule = id, error = %e, "the run could not be recorded");
                        observer.finished(id, None);
                    }
                }
                let _ = tx.send(Event::Finished(id));
            });
        }
    }

    async fn sleep_duration(&self) -> Result<Duration> {
        let now = self.clock.now();
        let earliest = self
            .store
            .list_schedules()
            .await?
            .into_iter()
            .filter(|s| s.is_active)
            .filter_map(|s| s.next_run_at.map(|z| z.timestamp()))
            .min();
        let wake = self.config.wake_interval;
        Ok(match earliest {
            Some(at) if at > now => Duration::try_from(at.duration_since(now))
                .unwrap_or(wake)
                .min(wake),
            Some(_) => Duration::from_millis(0),
            None => wake,
        })
    }

    /// The silent-gap alert: once per gap, when a schedule's newest good backup is too old.
    async fn check_missing_backups(&self) -> Result<()> {
        let now = self.clock.now();
        for s in self.store.list_schedules().await? {
            let newest = self.store.newest_success(s.id).await?;
            let Some(since) = overdue_since(&s, newest, now, self.config.missing_after_intervals)
            else {
                continue;
            };
            let key = format!("missing_alert:{}", s.id);
            let marker = time::to_stored(since);
            let already = self.store.setting(&key).await?;
            if already.as_deref() == Some(marker.as_str()) {
                continue;
            }
            self.store.set_setting(&key, &marker).await?;
            let lang = self.store.language().await.unwrap_or_default();
            let notice = missing_notice(&s, newest, lang);
            let notifier = self.notifier.clone();
            tracing::warn!(schedule = s.id, "no recent good backup: alerting");
            let _ = tokio::task::spawn_blocking(move || {
                send_with_retries(&*notifier, &notice, 3, Duration::from_secs(10))
            })
            .await;
        }
        Ok(())
    }
}

fn missing_notice(s: &Schedule, newest: Option<Timestamp>, lang: crate::cron::Lang) -> Notice {
    let th = lang == crate::cron::Lang::Th;
    let when = newest
        .map(|t| {
            time::rfc3339(
                &t.to_zoned_datetime(time::zone(&s.timezone).unwrap_or(jiff::tz::TimeZone::UTC)),
            )
        })
        .unwrap_or_else(|| {
            if th {
                "ยังไม่เคยมี".into()
            } else {
                "never".into()
            }
        });
    let (subject, body) = if th {
        (
            format!("ไม่มีการสำรองข้อมูลที่สำเร็จมานาน: {}", s.name),
            format!("ตารางเวลา \"{}\" ไม่มีการสำรองข้อมูลที่สำเร็จตั้งแต่ {when}\nโปรดตรวจสอบประวัติการสำรองข้อมูลใน Billora Backup", s.name),
        )
    } else {
        (
            format!("No recent backup: {}", s.name),
            format!(
                "The schedule \"{}\" has had no successful backup since {when}.\nCheck its history in Billora Backup: the computer may have been off, or every run failed.",
                s.name
            ),
        )
    };
    Notice {
        kind: NoticeKind::MissingBackup,
        recipients: s
            .notification_email
            .as_deref()
            .map(crate::notify::recipients)
            .unwrap_or_default(),
        subject,
        body,
    }
}

/// Sends the run's notice (per the schedule's flags); a failed send is recorded on the run.
pub async fn notify_outcome(
    store: &Store,
    notifier: Arc<dyn Notifier>,
    schedule_id: i64,
    trigger: &Trigger,
    outcome: &RunOutcome,
) {
    let Ok(schedule) = store.get_schedule(schedule_id).await else {
        return;
    };
    let database = store
        .resolve_connection(schedule.connection.as_deref())
        .await
        .map(|c| c.database)
        .unwrap_or_else(|_| "?".into());
    let lang = store.language().await.unwrap_or_default();
    let next = schedule.next_run_at.as_ref().map(time::rfc3339);
    let facts = RunFacts {
        schedule: &schedule,
        database: &database,
        succeeded: outcome.status == "success",
        filename: outcome.file.as_ref().map(|f| f.filename.as_str()),
        file_size: outcome.file.as_ref().map(|f| f.size),
        duration_seconds: outcome.duration_seconds,
        error: outcome.error.as_ref(),
        trigger_note: trigger.note(),
        next_run: next,
        verification: outcome.verification.as_deref(),
        copies: &outcome.copies,
    };
    if outcome.status == "cancelled" {
        return;
    }
    let Some(notice) = run_notice(&facts, lang) else {
        return;
    };
    let result = tokio::task::spawn_blocking(move || {
        send_with_retries(&*notifier, &notice, 3, Duration::from_secs(20))
    })
    .await
    .unwrap_or_else(|e| Err(Error::new(ErrorCode::Io, e.to_string())));
    let status = match &result {
        Ok(()) => "sent".to_owned(),
        Err(e) => format!("failed: {}", e.message),
    };
    let _ = store.set_notification(outcome.run_id, &status).await;
}
