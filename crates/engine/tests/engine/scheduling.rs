//! Scheduling decisions with a pinned clock, and the scheduler loop itself with a manual clock
//! against the real MariaDB: catch-up once after a 3-day gap, catch-up off, overlap refusal,
//! clock jumps, the missing-backup alert.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use billora_engine::notify::{NoticeKind, RecordingNotifier};
use billora_engine::run::Trigger;
use billora_engine::schedule::{parse_request, NewSchedule, Schedule};
use billora_engine::scheduler::{
    decide, next_slot, overdue_since, Clock, Decision, Event, Scheduler, SchedulerConfig,
};
use billora_engine::store::Store;
use jiff::{SignedDuration, Timestamp};

use crate::support::{
    add_test_connection, services, temp_store, test_secrets, wait_for, ManualClock,
};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

async fn make(store: &Store, body: &str, at: Timestamp) -> Schedule {
    let request: NewSchedule = parse_request(body).expect("valid body");
    store.create_schedule(request, at).await.expect("created")
}

const LATE: SignedDuration = SignedDuration::from_secs(120);

#[tokio::test]
async fn decisions_with_a_pinned_clock() {
    let (_dir, store) = temp_store().await;
    let created = ts("2026-02-01T00:00:00Z");
    let daily = make(&store, r#"{"name":"Daily","cron_expression":"0 2 * * *","backup_type":"full","timezone":"Asia/Bangkok"}"#, created).await;
    let slot = daily.next_run_at.as_ref().expect("active").timestamp();
    assert_eq!(
        slot,
        ts("2026-02-01T19:00:00Z"),
        "02:00 in Bangkok is 19:00 UTC the day before"
    );

    assert_eq!(
        decide(&daily, slot, slot, LATE, false),
        Decision::Run {
            trigger: Trigger::Scheduled
        },
        "on time: a scheduled run"
    );
    let a_minute_late = slot.checked_add(SignedDuration::from_secs(60)).expect("ts");
    assert_eq!(
        decide(&daily, slot, a_minute_late, LATE, false),
        Decision::Run {
            trigger: Trigger::Scheduled
        },
        "a minute late is still on time"
    );

    let three_days = slot
        .checked_add(SignedDuration::from_hours(72))
        .expect("ts");
    match decide(&daily, slot, three_days, LATE, false) {
        Decision::Run {
            trigger: Trigger::CatchUp { slot },
        } => {
            assert_eq!(
                slot, "02:00 on 2026-02-02",
                "the history names the missed slot in the schedule's zone"
            )
        }
        other => panic!("after a 3-day gap the slot is caught up, got {other:?}"),
    }
    let next = next_slot(&daily, three_days).expect("next");
    assert!(
        next > three_days,
        "the next slot is after now, so the 3 missed slots run once, not three times"
    );
    assert_eq!(
        next,
        ts("2026-02-05T19:00:00Z"),
        "the next slot is the coming 02:00 (strictly after now, which is itself a slot)"
    );

    let no_catch_up = make(
        &store,
        r#"{"name":"NoCatchUp","cron_expression":"0 2 * * *","backup_type":"full","catch_up":false,"timezone":"Asia/Bangkok"}"#,
        created,
    )
    .await;
    assert!(
        matches!(decide(&no_catch_up, slot, three_days, LATE, false), Decision::Skip { ref reason } if reason.contains("catch-up is off")),
        "with catch-up off a missed slot is skipped and says why"
    );
    assert!(
        matches!(decide(&daily, slot, slot, LATE, true), Decision::Skip { ref reason } if reason.contains("still running")),
        "a schedule still running is not started again"
    );

    // A clock moved back: the stored next slot is in the future, so nothing is due (no repeat).
    let moved_back = slot.checked_sub(SignedDuration::from_hours(5)).expect("ts");
    assert!(
        slot > moved_back,
        "after a backward jump the slot is not due, so it cannot run twice"
    );
    // A clock moved forward past a slot: due once, as a catch-up, then the next slot is after now.
    let jumped = slot.checked_add(SignedDuration::from_hours(6)).expect("ts");
    assert!(
        matches!(
            decide(&daily, slot, jumped, LATE, false),
            Decision::Run {
                trigger: Trigger::CatchUp { .. }
            }
        ),
        "a skipped slot runs once"
    );
    assert!(
        next_slot(&daily, jumped).expect("next") > jumped,
        "and the following slot is in the future"
    );

    // Daylight saving: 02:30 does not exist in New York on 2026-03-08; it runs at 03:00.
    let ny = make(
        &store,
        r#"{"name":"NY","cron_expression":"30 2 * * *","backup_type":"full","timezone":"America/New_York"}"#,
        created,
    )
    .await;
    assert_eq!(
        next_slot(&ny, ts("2026-03-08T06:00:00Z")),
        Some(ts("2026-03-08T07:00:00Z")),
        "the DST-gap slot runs at 03:00 EDT"
    );
    let ny_early = make(
        &store,
        r#"{"name":"NY early","cron_expression":"30 1 * * *","backup_type":"full","timezone":"America/New_York"}"#,
        created,
    )
    .await;
    assert_eq!(
        next_slot(&ny_early, ts("2026-11-01T05:00:00Z")),
        Some(ts("2026-11-01T05:30:00Z")),
        "the repeated 01:30 runs at its first occurrence (EDT)"
    );
    assert_eq!(
        next_slot(&ny_early, ts("2026-11-01T05:31:00Z")),
        Some(ts("2026-11-02T06:30:00Z")),
        "and not again at the second 01:30 (EST)"
    );
}

#[tokio::test]
async fn overdue_alert_threshold() {
    let (_dir, store) = temp_store().await;
    let daily = make(
        &store,
        r#"{"name":"D","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC"}"#,
        ts("2026-01-01T00:00:00Z"),
    )
    .await;
    let newest = ts("2026-02-01T02:00:00Z");
    assert_eq!(
        overdue_since(&daily, Some(newest), ts("2026-02-02T12:00:00Z"), 2),
        None,
        "1.5 days: not overdue"
    );
    assert_eq!(
        overdue_since(&daily, Some(newest), ts("2026-02-03T03:00:00Z"), 2),
        Some(newest),
        "over 2 days: overdue since the last good backup"
    );
    assert!(
        overdue_since(&daily, None, ts("2026-01-05T00:00:00Z"), 2).is_some(),
        "never a good backup: overdue after 2 intervals from creation"
    );
}

/// A clock the test moves by hand.
#[tokio::test]
async fn the_loop_catches_up_once_skips_when_asked_and_alerts_on_a_gap() {
    let server = services();
    let db = server.fixture_db("sched_loop");
    let (_dir, store) = temp_store().await;
    let secrets = Arc::new(test_secrets());
    add_test_connection(&store, &secrets, "office", &db).await;
    let created = ts("2026-02-01T00:00:00Z");
    let caught = make(
        &store,
        r#"{"name":"Daily","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC","notify_on_failure":true,"notification_email":"admin@example.com"}"#,
        created,
    )
    .await;
    let skipped = make(
        &store,
        r#"{"name":"NoCatchUp","cron_expression":"0 3 * * *","backup_type":"full","timezone":"UTC","catch_up":false}"#,
        created,
    )
    .await;

    // The machine was off for three days.
    let clock = Arc::new(ManualClock(Mutex::new(ts("2026-02-04T09:00:00Z"))));
    let notifier = Arc::new(RecordingNotifier::default());
    let config = SchedulerConfig {
        wake_interval: Duration::from_millis(50),
        ..SchedulerConfig::default()
    };
    let (scheduler, handle) = Scheduler::new(
        store.clone(),
        secrets.clone(),
        notifier.clone(),
        clock.clone(),
        config,
    );
    let task = tokio::spawn(scheduler.run());

    wait_for(&store, "the catch-up run", |runs| {
        runs.iter().any(|r| r.status == "success")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let runs_after = store.list_history(None).await.expect("history");
    assert_eq!(
        runs_after.len(),
        2,
        "one catch-up and one skipped slot; nothing more while the clock stands still"
    );
    let daily_runs: Vec<_> = runs_after
        .iter()
        .filter(|r| r.schedule_id == Some(caught.id))
        .collect();
    assert_eq!(
        daily_runs.len(),
        1,
        "three missed days run once, not three times"
    );
    assert_eq!(
        daily_runs[0].trigger, "catch-up",
        "the run is marked as a catch-up"
    );
    assert_eq!(
        daily_runs[0].note.as_deref(),
        Some("catch-up of the 02:00 on 2026-02-01 slot"),
        "the history names the missed slot"
    );
    let skip_runs: Vec<_> = runs_after
        .iter()
        .filter(|r| r.schedule_id == Some(skipped.id))
        .collect();
    assert_eq!(
        skip_runs.len(),
        1,
        "the no-catch-up schedule records one skipped slot"
    );
    assert_eq!(skip_runs[0].status, "skipped", "recorded as skipped");
    assert!(
        skip_runs[0]
            .note
            .as_deref()
            .unwrap_or("")
            .contains("catch-up is off"),
        "with the reason"
    );
    let now = clock.now();
    for s in store.list_schedules().await.expect("list") {
        assert!(
            s.next_run_at.expect("active").timestamp() > now,
            "{}: the next run is in the future",
            s.name
        );
    }

    // Run now twice: the second is refused while the first is queued or running.
    let first = handle.run_now(caught.id).await;
    let second = handle.run_now(caught.id).await;
    assert!(first.is_ok(), "run now starts: {first:?}");
    let err = second.expect_err("a second run-now is refused");
    assert!(
        err.message.contains("already running"),
        "and says why: {err}"
    );
    wait_for(&store, "the manual run", |runs| {
        runs.iter()
            .filter(|r| r.trigger == "manual" && r.status == "success")
            .count()
            == 1
    })
    .await;

    // The skipped schedule never produced a backup: after two intervals, one alert.
    *clock.0.lock().expect("clock") = ts("2026-02-07T09:00:00Z");
    handle.send(Event::Tick);
    for _ in 0..100 {
        if notifier
            .0
            .lock()
            .expect("n")
            .iter()
            .any(|n| n.kind == NoticeKind::MissingBackup)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handle.send(Event::Tick);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let alerts: Vec<_> = notifier
        .0
        .lock()
        .expect("n")
        .iter()
        .filter(|n| n.kind == NoticeKind::MissingBackup)
        .cloned()
        .collect();
    assert!(
        alerts.iter().any(|n| n.subject.contains("NoCatchUp")),
        "a silent gap raises an alert: {alerts:?}"
    );
    assert_eq!(
        alerts
            .iter()
            .filter(|n| n.subject.contains("NoCatchUp"))
            .count(),
        1,
        "once per gap, not every tick"
    );

    handle.send(Event::Shutdown);
    task.await
        .expect("joined")
        .expect("the scheduler stops cleanly");
    server.drop_db(&db);
}

#[tokio::test]
async fn the_concurrency_limit_queues_the_rest_in_order() {
    let server = services();
    let db = server.fresh_db("sched_limit");
    {
        use mysql::prelude::Queryable;
        server
            .conn(Some(&db))
            .query_drop(
                "CREATE TABLE big (id INT PRIMARY KEY, b BLOB) ENGINE=InnoDB; \
                 INSERT INTO big SELECT seq, RANDOM_BYTES(200) FROM seq_1_to_100000",
            )
            .expect("a table that takes a moment to back up");
    }
    let (_dir, store) = temp_store().await;
    let secrets = Arc::new(test_secrets());
    add_test_connection(&store, &secrets, "office", &db).await;
    let at = ts("2026-02-01T00:00:00Z");
    let a = make(
        &store,
        r#"{"name":"A","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC"}"#,
        at,
    )
    .await;
    let b = make(
        &store,
        r#"{"name":"B","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC"}"#,
        at,
    )
    .await;
    let c = make(
        &store,
        r#"{"name":"C","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC"}"#,
        at,
    )
    .await;
    // Just past 02:00: all three are due at once.
    let clock = Arc::new(ManualClock(Mutex::new(ts("2026-02-01T02:00:30Z"))));
    let config = SchedulerConfig {
        wake_interval: Duration::from_millis(50),
        max_concurrent: 1,
        ..SchedulerConfig::default()
    };
    let (scheduler, handle) = Scheduler::new(
        store.clone(),
        secrets.clone(),
        Arc::new(RecordingNotifier::default()),
        clock,
        config,
    );
    let task = tokio::spawn(scheduler.run());
    let mut seen_queue = false;
    for _ in 0..600 {
        let status = handle.status().await.expect("status");
        assert!(
            status.running.len() <= 1,
            "never more than max_concurrent (1) backups at once: {status:?}"
        );
        if !status.queued.is_empty() {
            seen_queue = true;
            let mut order = status.running.clone();
            order.extend(&status.queued);
            let expected: Vec<i64> = [a.id, b.id, c.id]
                .into_iter()
                .filter(|id| order.contains(id))
                .collect();
            assert_eq!(
                order, expected,
                "the waiting ones start in due order (then by id)"
            );
        }
        let done = store
            .list_history(None)
            .await
            .expect("history")
            .iter()
            .filter(|r| r.status == "success")
            .count();
        if done == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        seen_queue,
        "with three due and a limit of one, some had to wait"
    );
    let runs = store.list_history(None).await.expect("history");
    assert_eq!(
        runs.iter().filter(|r| r.status == "success").count(),
        3,
        "all three ran in the end: {runs:?}"
    );
    handle.send(Event::Shutdown);
    task.await.expect("joined").expect("clean stop");
    server.drop_db(&db);
}
