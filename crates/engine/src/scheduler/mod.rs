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

mod notices;
mod slots;

use notices::missing_notice;
pub use notices::notify_outcome;
pub use slots::{decide, next_slot, overdue_since, Decision};

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{mpsc, oneshot};

use crate::backup::{run_schedule, RunControl, RunOptions};
use crate::dump::DumpProgress;
use crate::error::{Error, ErrorCode, Result};
use crate::notify::{send_with_retries, Notifier};
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

/// The settings key of the scheduler's heartbeat.
pub const HEARTBEAT: &str = "scheduler_heartbeat";

/// What the scheduler records at every turn, so other processes can tell it is alive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Heartbeat {
    pub pid: u32,
    /// "the daemon", "the app".
    pub role: String,
    /// `running`, `degraded` or `stopped`.
    pub state: String,
    /// Why it is degraded.
    pub reason: Option<String>,
    /// The last turn of its loop (stored UTC text).
    pub last_tick: String,
    pub started_at: String,
    /// A heartbeat older than this means the scheduler is not running.
    pub stale_after_seconds: u64,
}

/// A run whose task panicked: its history entry (still `running`) becomes `failed` with code
/// `Internal`, and the outcome says so, so the slot is freed and the failure notified.
async fn abandoned(
    store: &Store,
    schedule_id: i64,
    join: tokio::task::JoinError,
    now: Timestamp,
) -> Result<RunOutcome> {
    let detail = match join.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into()),
        Err(_) => "the task was cancelled".into(),
    };
    tracing::error!(schedule = schedule_id, %detail, "a backup stopped on an internal error");
    let err = Error::new(
        ErrorCode::Internal,
        format!("the backup stopped on an internal error ({detail})"),
    )
    .with_hint("the next run tries again; if this repeats, send the log file to support");
    let failed = store.fail_abandoned_runs(schedule_id, &err, now).await?;
    // The entry (a run of several databases has its parts after it).
    let run_id = failed.first().copied().unwrap_or_default();
    Ok(RunOutcome::without_file(run_id, "failed", Some(err), 0.0))
}

/// A duration for people: "3 days", "2 hours", "45 minutes".
fn human_duration(d: SignedDuration) -> String {
    let secs = d.as_secs().unsigned_abs();
    match secs {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 2 * 3_600 => format!("{} hours", s / 3_600),
        s => format!("{} minutes", s / 60),
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
    /// Why the scheduler is degraded (its store fails), if it is.
    pub degraded: Option<String>,
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
    /// After a store error, the first pause before trying again; it doubles up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// A scheduler that cannot use its store for this long gives up: `run` returns the error
    /// (the daemon then exits non-zero, so systemd restarts it; the app shows it stopped).
    pub give_up_after: Duration,
    /// A wall clock further than this from where the monotonic clock puts it has jumped.
    pub jump_tolerance: Duration,
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
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            give_up_after: Duration::from_secs(15 * 60),
            jump_tolerance: Duration::from_secs(120),
        }
    }
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
    /// Why the last turn failed (the store), while it keeps failing.
    degraded: Option<String>,
    /// The wall and monotonic clocks at the last turn (clock jumps).
    last_seen: Option<(Timestamp, std::time::Instant)>,
    started_at: Timestamp,
    /// The store's version right after this scheduler's own last heartbeat, and when the
    /// missing-backup check last read every schedule: with neither the store changed nor a
    /// minute gone, the check has nothing new to find and is skipped.
    quiet_version: Option<crate::store::StoreVersion>,
    missing_checked_at: Option<Timestamp>,
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
        let started_at = clock.now();
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
                degraded: None,
                last_seen: None,
                quiet_version: None,
                missing_checked_at: None,
                started_at,
            },
            handle,
        )
    }

    /// Tells `observer` about every run this scheduler starts.
    pub fn observe(mut self, observer: Arc<dyn RunObserver>) -> Scheduler {
        self.observer = observer;
        self
    }

    /// Runs until [`Event::Shutdown`] and every running backup has been recorded. A store
    /// error does not end it: the scheduler shows itself degraded (heartbeat, one alert),
    /// retries with backoff, and carries on when the store answers again. It returns an error
    /// only when the store has failed for `give_up_after`.
    pub async fn run(mut self) -> Result<()> {
        let mut prepared = false;
        let mut failing_since: Option<std::time::Instant> = None;
        let mut delay = self.config.retry_min;
        loop {
            if self.shutting_down && self.running.is_empty() {
                self.beat("stopped").await.ok();
                return Ok(());
            }
            let turn = if prepared {
                self.turn().await
            } else {
                let done = self.prepare().await;
                prepared = done.is_ok();
                done
            };
            match turn {
                Ok(()) => {
                    if let Some(reason) = self.degraded.take() {
                        tracing::info!(%reason, "the scheduler recovered");
                        self.alert(None).await;
                    }
                    failing_since = None;
                    delay = self.config.retry_min;
                }
                Err(err) => {
                    let since = *failing_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() >= self.config.give_up_after {
                        tracing::error!(error = %err, "the scheduler gives up: its store has failed for too long");
                        return Err(err);
                    }
                    let reason = err.message.clone();
                    if self.degraded.is_none() {
                        tracing::error!(error = %err, "the scheduler is degraded: retrying");
                        self.degraded = Some(reason.clone());
                        self.alert(Some(&reason)).await;
                    }
                    self.degraded = Some(reason);
                    self.beat("degraded").await.ok();
                    // Wait, but keep answering: a finished run frees its slot, a shutdown stops.
                    let pause = tokio::time::sleep(delay);
                    tokio::pin!(pause);
                    loop {
                        tokio::select! {
                            _ = &mut pause => break,
                            event = self.rx.recv() => {
                                let event = event.unwrap_or(Event::Shutdown);
                                let _ = self.handle(event).await;
                                if self.shutting_down && self.running.is_empty() {
                                    break;
                                }
                            }
                        }
                    }
                    delay = (delay * 2).min(self.config.retry_max);
                }
            }
        }
    }

    /// Start-up: runs a crash left `running` become interrupted, scratch databases a killed
    /// verification left are dropped, next runs are set.
    async fn prepare(&mut self) -> Result<()> {
        let now = self.clock.now();
        let recovered = self.store.recover_interrupted(now).await?;
        if !recovered.is_empty() {
            tracing::warn!(runs = ?recovered, "marked runs left running by a crash as interrupted");
        }
        crate::verify::drop_leftover_scratch(&self.store, &*self.secrets).await;
        self.refresh_next_runs(now).await?;
        self.beat("running").await
    }

    /// One turn of the loop: start what is due, alert on gaps, record the heartbeat, then
    /// wait for the next slot or an event and handle it.
    async fn turn(&mut self) -> Result<()> {
        let wake = tokio::time::Instant::now() + self.tick().await?;
        loop {
            let event = tokio::select! {
                _ = tokio::time::sleep_until(wake) => Event::Tick,
                event = self.rx.recv() => event.unwrap_or(Event::Shutdown),
            };
            // A question about the state changes nothing: answered without a new turn (a turn
            // reads every schedule and writes the heartbeat; `/metrics` asks on every scrape).
            if let Event::Status(answer) = event {
                let _ = answer.send(self.status());
                continue;
            }
            return self.handle(event).await;
        }
    }

    /// A turn's work, without its wait: start what is due, alert on gaps, record the
    /// heartbeat; returns how long to sleep before the next. `run` calls it in its loop; the
    /// scale benchmark (`examples/app_scale.rs`) calls it alone to time a tick.
    pub async fn tick(&mut self) -> Result<Duration> {
        if !self.shutting_down {
            self.check_clock().await?;
            self.process_due().await?;
            self.start_queued().await;
            self.check_missing_backups().await?;
            self.beat("running").await?;
            self.quiet_version = self.store.version().await;
        }
        self.sleep_duration().await
    }

    fn status(&self) -> SchedulerStatus {
        let mut running: Vec<i64> = self.running.keys().copied().collect();
        running.sort_unstable();
        SchedulerStatus {
            running,
            queued: self.queue.iter().map(|p| p.schedule_id).collect(),
            degraded: self.degraded.clone(),
        }
    }

    /// Records that the scheduler is alive (`scheduler_heartbeat`), for `status` and the app.
    async fn beat(&self, state: &str) -> Result<()> {
        let heartbeat = Heartbeat {
            pid: std::process::id(),
            role: crate::paths::process_role().to_owned(),
            state: state.to_owned(),
            reason: self.degraded.clone(),
            last_tick: time::to_stored(self.clock.now()),
            started_at: time::to_stored(self.started_at),
            stale_after_seconds: (self.config.wake_interval.as_secs() * 3).max(30),
        };
        let text = serde_json::to_string(&heartbeat).unwrap_or_default();
        self.store.set_setting(HEARTBEAT, &text).await
    }

    /// A clock moved back by more than the tolerance: next runs are recomputed from now (they
    /// would otherwise wait for the old time to come again), and the move is noted in each
    /// active schedule's history. A move forward is how a machine waking from sleep looks:
    /// the missed slot runs once as a catch-up and the next one is computed from now, as
    /// after any sleep; it is only logged.
    async fn check_clock(&mut self) -> Result<()> {
        let now = self.clock.now();
        let seen = std::time::Instant::now();
        let Some((last_now, last_seen)) = self.last_seen.replace((now, seen)) else {
            return Ok(());
        };
        let elapsed = SignedDuration::try_from(seen.duration_since(last_seen)).unwrap_or_default();
        let expected = last_now.checked_add(elapsed).unwrap_or(last_now);
        let drift = now.duration_since(expected);
        let tolerance = SignedDuration::try_from(self.config.jump_tolerance).unwrap_or_default();
        if drift.abs() <= tolerance {
            return Ok(());
        }
        if !drift.is_negative() {
            tracing::info!(from = %expected, to = %now, "the clock moved forward (or the machine slept)");
            return Ok(());
        }
        tracing::warn!(from = %expected, to = %now, "the clock moved back; next runs recomputed");
        for s in self.store.list_schedules().await? {
            if !s.is_active {
                continue;
            }
            self.set_next_run(s.id, next_slot(&s, now)).await?;
            let note = format!(
                "the computer's clock moved back by {} (from {} to {}); the next run was recomputed",
                human_duration(drift.abs()),
                time::rfc3339(&expected.to_zoned_datetime(jiff::tz::TimeZone::UTC)),
                time::rfc3339(&now.to_zoned_datetime(jiff::tz::TimeZone::UTC)),
            );
            self.store.record_skipped(&s, "clock", now, &note).await?;
        }
        Ok(())
    }

    /// The desktop and e-mail alert that the scheduler is degraded (`Some(reason)`) or
    /// recovered (`None`); best effort, once per episode.
    async fn alert(&self, reason: Option<&str>) {
        let recipients: Vec<String> = match self.store.list_schedules().await {
            Ok(list) => {
                let mut all: Vec<String> = list
                    .iter()
                    .filter(|s| s.is_active)
                    .filter_map(|s| s.notification_email.as_deref())
                    .flat_map(crate::notify::recipients)
                    .collect();
                all.sort();
                all.dedup();
                all
            }
            Err(_) => Vec::new(),
        };
        let th = matches!(self.store.language().await, Ok(crate::cron::Lang::Th));
        let notice = notices::scheduler_notice(reason, recipients, th);
        let notifier = self.notifier.clone();
        let _ = tokio::task::spawn_blocking(move || notifier.send(&notice)).await;
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
                let _ = answer.send(self.status());
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
            .due_schedules(now)
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
                    self.store
                        .record_skipped(&schedule, "scheduled", now, &reason)
                        .await?;
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
                // Its own task, so that a panic (a bug) ends this run only: the run is then
                // recorded as failed (`Internal`) and its slot freed.
                let (run_store, run_secrets, trigger) =
                    (store.clone(), secrets.clone(), pending.trigger.clone());
                let started = clock.now();
                let inner = tokio::spawn(async move {
                    run_schedule(
                        &run_store,
                        &*run_secrets,
                        id,
                        trigger,
                        started,
                        &options,
                        control,
                    )
                    .await
                });
                let outcome = match inner.await {
                    Ok(outcome) => outcome,
                    Err(join) => abandoned(&store, id, join, clock.now()).await,
                };
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
        let earliest = self.store.earliest_next_run().await?;
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
    async fn check_missing_backups(&mut self) -> Result<()> {
        let now = self.clock.now();
        // Reading every schedule and its newest success costs ~100 ms at 10,000 schedules
        // (`examples/app_scale.rs`); skipped while nothing was committed since this scheduler's
        // own heartbeat and the clock moved less than a minute (a gap opens at most a minute
        // before it is noticed).
        let version = self.store.version().await;
        let recent = self
            .missing_checked_at
            .is_some_and(|at| now >= at && now.duration_since(at) < SignedDuration::from_secs(60));
        if recent && version.is_some() && version == self.quiet_version {
            return Ok(());
        }
        // Every schedule's newest success in one query (this runs at every turn).
        let newest_by: HashMap<i64, Option<String>> = self
            .store
            .run_summaries()
            .await?
            .into_iter()
            .map(|(id, newest, ..)| (id, newest))
            .collect();
        let alerted: HashMap<String, String> = self
            .store
            .settings_with_prefix("missing_alert:")
            .await?
            .into_iter()
            .collect();
        for s in self.store.list_schedules().await? {
            let newest = newest_by
                .get(&s.id)
                .cloned()
                .flatten()
                .map(|t| time::from_stored(&t))
                .transpose()?;
            let Some(since) = overdue_since(&s, newest, now, self.config.missing_after_intervals)
            else {
                continue;
            };
            let key = format!("missing_alert:{}", s.id);
            let marker = time::to_stored(since);
            if alerted.get(&key) == Some(&marker) {
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
        self.missing_checked_at = Some(now);
        Ok(())
    }
}
