//! The night shift's faults, each injected against the real part: the store locked past its
//! busy timeout while the scheduler loop runs, a run that panics, the clock moved back and
//! forward under the running loop, the database connection cut mid-dump by a TCP proxy, a
//! backup folder that cannot hold the next backup. (Killed processes, racing processes and
//! the chaos rounds are in the CLI's tests: they need real processes.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use billora_engine::api::{Api, ApiHost, SchedulerMode};
use billora_engine::backup::{run_schedule, RunControl, RunOptions};
use billora_engine::connection::NewConnection;
use billora_engine::notify::{Notice, RecordingNotifier};
use billora_engine::run::Trigger;
use billora_engine::schedule::{parse_request, NewSchedule, Schedule};
use billora_engine::scheduler::{Event, Scheduler, SchedulerConfig};
use billora_engine::secrets::PasswordSource;
use billora_engine::store::Store;
use jiff::Timestamp;
use mysql::prelude::Queryable;

use crate::support::{
    add_test_connection, services, temp_store, test_secrets, wait_for, CuttingProxy, ManualClock,
};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// A fixture database with its connection `office` in a fresh store, and one schedule made
/// from `body` at `at`: (database, data folder, store, keyring, schedule).
async fn fixture(
    prefix: &str,
    body: &str,
    at: Timestamp,
) -> (
    String,
    tempfile::TempDir,
    Store,
    Arc<billora_engine::secrets::MemorySecrets>,
    Schedule,
) {
    let db = services().fixture_db(prefix);
    let (dir, store) = temp_store().await;
    let secrets = Arc::new(test_secrets());
    add_test_connection(&store, &secrets, "office", &db).await;
    let schedule = make(&store, body, at).await;
    (db, dir, store, secrets, schedule)
}

async fn make(store: &Store, body: &str, at: Timestamp) -> Schedule {
    let request: NewSchedule = parse_request(body).expect("valid body");
    store.create_schedule(request, at).await.expect("created")
}

/// A loop that notices quickly and retries quickly.
fn fast_config() -> SchedulerConfig {
    SchedulerConfig {
        wake_interval: Duration::from_millis(50),
        retry_min: Duration::from_millis(100),
        retry_max: Duration::from_millis(500),
        ..SchedulerConfig::default()
    }
}

fn notices(recorder: &RecordingNotifier) -> Vec<Notice> {
    recorder.0.lock().expect("notices").clone()
}

async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after 40 s waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_locked_past_its_busy_timeout_degrades_the_loop_which_recovers_and_runs_the_next_slot(
) {
    let server = services();
    let start = ts("2026-03-01T00:01:00Z");
    let (db, dir, store, secrets, schedule) = fixture("locked", r#"{"name":"Every ten","cron_expression":"*/10 * * * *","backup_type":"full","timezone":"UTC"}"#, start).await;
    let clock = Arc::new(ManualClock(Mutex::new(start)));
    let desktop = Arc::new(RecordingNotifier::default());
    let (api, scheduler) = Api::start(
        store.clone(),
        ApiHost {
            secrets: secrets.clone(),
            clock: clock.clone(),
            desktop: Some(desktop.clone()),
            watcher: None,
            config: fast_config(),
        },
    );
    let (scheduler, _lock) = scheduler.expect("this test holds the scheduler lock");
    let task = tokio::spawn(scheduler.run());
    for _ in 0..100 {
        if api.scheduler_state().await.expect("state").state == SchedulerMode::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        api.scheduler_state().await.expect("state").state,
        SchedulerMode::Running,
        "the scheduler runs before the fault"
    );

    // Another process holds the store's write lock for longer than the busy timeout (10 s).
    let mut holder = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("billora.db"))
        .connect()
        .await
        .expect("a second connection to the store");
    use sqlx::{ConnectOptions, Executor};
    holder
        .execute("BEGIN IMMEDIATE")
        .await
        .expect("the write lock is taken");
    wait_until("the degraded alert", || {
        notices(&desktop)
            .iter()
            .any(|n| n.subject.contains("cannot run backups"))
    })
    .await;
    let state = api.scheduler_state().await.expect("state while locked");
    assert_eq!(
        state.state,
        SchedulerMode::Degraded,
        "the dashboard shows the scheduler degraded: {state:?}"
    );
    assert!(
        state.reason.as_deref().unwrap_or("").contains("locked"),
        "with the reason: {state:?}"
    );

    // The lock goes away; the next slot comes.
    holder.execute("ROLLBACK").await.expect("released");
    drop(holder);
    *clock.0.lock().expect("clock") = ts("2026-03-01T00:10:05Z");
    let runs = wait_for(&store, "the next slot's backup", |runs| {
        runs.iter()
            .any(|r| r.schedule_id == Some(schedule.id) && r.status == "success")
    })
    .await;
    assert_eq!(
        runs.iter().filter(|r| r.status == "success").count(),
        1,
        "one backup for the slot: {runs:?}"
    );
    wait_until("the recovery notice", || {
        notices(&desktop)
            .iter()
            .any(|n| n.subject.contains("runs backups again"))
    })
    .await;
    assert_eq!(
        notices(&desktop)
            .iter()
            .filter(|n| n.subject.contains("cannot run backups"))
            .count(),
        1,
        "one alert for the whole episode, not one per retry"
    );
    assert_eq!(
        api.scheduler_state().await.expect("state").state,
        SchedulerMode::Running,
        "back to running"
    );
    api.shutdown();
    task.await
        .expect("joined")
        .expect("the scheduler stops cleanly after the episode");
    server.drop_db(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_panics_is_recorded_as_failed_and_the_next_slot_runs() {
    let server = services();
    let start = ts("2026-03-01T00:00:30Z");
    let (db, _dir, store, secrets, schedule) = fixture("panics", r#"{"name":"Minutely","cron_expression":"* * * * *","backup_type":"full","timezone":"UTC"}"#, ts("2026-03-01T00:00:00Z")).await;
    let clock = Arc::new(ManualClock(Mutex::new(start)));
    let fired = Arc::new(AtomicBool::new(false));
    let once = fired.clone();
    let mut config = fast_config();
    config.run_options.fault = Some(Arc::new(move |point: &str| {
        if point == "started" && !once.swap(true, Ordering::SeqCst) {
            panic!("injected fault");
        }
    }));
    let (scheduler, handle) = Scheduler::new(
        store.clone(),
        secrets.clone(),
        Arc::new(RecordingNotifier::default()),
        clock.clone(),
        config,
    );
    let task = tokio::spawn(scheduler.run());
    *clock.0.lock().expect("clock") = ts("2026-03-01T00:01:02Z");
    handle.send(Event::Tick);
    let runs = wait_for(&store, "the failed run", |runs| {
        runs.iter().any(|r| r.status == "failed")
    })
    .await;
    let failed = runs.iter().find(|r| r.status == "failed").expect("failed");
    let error = failed.error.as_ref().expect("an error is recorded");
    assert_eq!(error.code, "Internal", "a panic is an internal error");
    assert!(
        error.message.contains("injected fault"),
        "the message says where: {error:?}"
    );
    assert!(fired.load(Ordering::SeqCst), "the fault fired");

    *clock.0.lock().expect("clock") = ts("2026-03-01T00:02:02Z");
    handle.send(Event::Tick);
    wait_for(&store, "the next slot's backup", |runs| {
        runs.iter().any(|r| r.status == "success")
    })
    .await;
    let after = store.get_schedule(schedule.id).await.expect("schedule");
    assert_eq!(after.failed_count, 1, "the panic counts as one failure");
    assert_eq!(after.success_count, 1, "and the next slot succeeded");
    handle.send(Event::Shutdown);
    task.await.expect("joined").expect("stops cleanly");
    server.drop_db(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_jumps_under_the_running_loop_recompute_next_runs_and_note_a_move_back() {
    let server = services();
    let start = ts("2026-03-10T01:00:00Z");
    let (db, _dir, store, secrets, schedule) = fixture(
        "clock",
        r#"{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC"}"#,
        start,
    )
    .await;
    let clock = Arc::new(ManualClock(Mutex::new(start)));
    let (scheduler, handle) = Scheduler::new(
        store.clone(),
        secrets.clone(),
        Arc::new(RecordingNotifier::default()),
        clock.clone(),
        fast_config(),
    );
    let task = tokio::spawn(scheduler.run());
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Back by three days: the next run follows the clock instead of waiting three days.
    *clock.0.lock().expect("clock") = ts("2026-03-07T01:00:00Z");
    handle.send(Event::Tick);
    let runs = wait_for(&store, "the clock note", |runs| {
        runs.iter().any(|r| r.trigger == "clock")
    })
    .await;
    let note = runs
        .iter()
        .find(|r| r.trigger == "clock")
        .and_then(|r| r.note.clone())
        .unwrap_or_default();
    assert!(
        note.contains("moved back by 3 days"),
        "the history says what happened: {note}"
    );
    let next = store
        .get_schedule(schedule.id)
        .await
        .expect("schedule")
        .next_run_at
        .expect("active")
        .timestamp();
    assert_eq!(
        next,
        ts("2026-03-07T02:00:00Z"),
        "the next run is recomputed from the new now"
    );

    // Forward by two days: the missed slot runs once (a catch-up), then the next follows now.
    *clock.0.lock().expect("clock") = ts("2026-03-09T05:00:00Z");
    handle.send(Event::Tick);
    let runs = wait_for(&store, "the catch-up after the jump", |runs| {
        runs.iter().any(|r| r.status == "success")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let successes: Vec<_> = store
        .list_history(None)
        .await
        .expect("history")
        .into_iter()
        .filter(|r| r.status == "success")
        .collect();
    assert_eq!(
        successes.len(),
        1,
        "one run for the jump, not one per missed day: {runs:?}"
    );
    assert_eq!(successes[0].trigger, "catch-up", "marked as a catch-up");
    let next = store
        .get_schedule(schedule.id)
        .await
        .expect("schedule")
        .next_run_at
        .expect("active")
        .timestamp();
    assert_eq!(
        next,
        ts("2026-03-10T02:00:00Z"),
        "then the next slot after now"
    );
    handle.send(Event::Shutdown);
    task.await.expect("joined").expect("stops cleanly");
    server.drop_db(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_dump_fails_unreachable_after_its_retry_and_leaves_no_file() {
    let server = services();
    let db = server.fresh_db("cut");
    server
        .conn(Some(&db))
        .query_drop(
            "CREATE TABLE big (id INT PRIMARY KEY, b BLOB) ENGINE=InnoDB; \
             INSERT INTO big SELECT seq, RANDOM_BYTES(200) FROM seq_1_to_30000",
        )
        .expect("a table of ~6 MB");
    let proxy = CuttingProxy::start((server.host.clone(), server.port));
    proxy.cut_after(1_000_000);
    let (dir, store) = temp_store().await;
    let secrets = test_secrets();
    store
        .add_connection(
            NewConnection {
                ssh: None,
                name: "through-proxy".into(),
                host: "127.0.0.1".into(),
                port: Some(proxy.port),
                username: server.user.clone(),
                database: db.clone(),
                tls_mode: None,
                tls_ca_file: None,
                tls_pin: None,
                tenant_column: None,
                tenant_root_table: None,
                password_source: Some(PasswordSource::Keyring),
            },
            Some(&server.password),
            &secrets,
            ts("2026-03-01T00:00:00Z"),
        )
        .await
        .expect("connection");
    let schedule = make(
        &store,
        r#"{"name":"Cut","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC","compression":"none"}"#,
        ts("2026-03-01T00:00:00Z"),
    )
    .await;
    let options = RunOptions {
        retry_delays: vec![Duration::from_millis(200)],
        ..RunOptions::default()
    };
    let outcome = run_schedule(
        &store,
        &secrets,
        schedule.id,
        Trigger::Manual,
        ts("2026-03-01T02:00:00Z"),
        &options,
        RunControl::default(),
    )
    .await
    .expect("the run is recorded");
    assert!(
        proxy.cuts.load(Ordering::SeqCst) >= 1,
        "the proxy cut the dump's connection"
    );
    assert_eq!(outcome.status, "failed", "the run fails: {outcome:?}");
    let error = outcome.error.expect("with an error");
    assert_eq!(
        error.code,
        billora_engine::ErrorCode::Unreachable,
        "as unreachable: {error:?}"
    );
    let history = store
        .list_history(Some(schedule.id))
        .await
        .expect("history");
    assert!(
        history[0]
            .note
            .as_deref()
            .unwrap_or("")
            .contains("try 1 failed"),
        "the history shows it was retried: {:?}",
        history[0].note
    );
    let backups = dir.path().join("backups");
    let left: Vec<String> = std::fs::read_dir(&backups)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "no partial or final file is left in {}: {left:?}",
        backups.display()
    );
    server.drop_db(&db);
}

#[tokio::test]
async fn a_folder_that_cannot_hold_the_next_backup_refuses_it_before_dumping() {
    let server = services();
    let (db, dir, store, secrets, schedule) = fixture(
        "space",
        r#"{"name":"Space","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC"}"#,
        ts("2026-03-01T00:00:00Z"),
    )
    .await;
    // The schedule's last backup was larger than any disk here.
    sqlx::query(
        "INSERT INTO runs (schedule_id, schedule_name, backup_type, trigger, status, created_at, file_size) \
         VALUES (?, 'Space', 'full', 'scheduled', 'success', '2026-02-28T02:00:00Z', ?)",
    )
    .bind(schedule.id)
    .bind(1_i64 << 55)
    .execute(store.pool())
    .await
    .expect("a previous backup");
    let outcome = run_schedule(
        &store,
        &*secrets,
        schedule.id,
        Trigger::Manual,
        ts("2026-03-01T02:00:00Z"),
        &RunOptions::default(),
        RunControl::default(),
    )
    .await
    .expect("recorded");
    let error = outcome.error.expect("refused");
    assert_eq!(
        error.code,
        billora_engine::ErrorCode::DiskFull,
        "refused as a full disk: {error:?}"
    );
    assert!(
        error.message.contains("needs about") && error.message.contains("its last backup"),
        "saying how much is needed and why: {}",
        error.message
    );
    let left = std::fs::read_dir(dir.path().join("backups"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "nothing was written");
    server.drop_db(&db);
}
