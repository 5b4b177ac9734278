//! The app's own scale (issue 22): a data folder with SCHEDULES (10,000) active schedules and
//! RUNS (100,000) history entries, then the time of what the scheduler, the dashboard, the tray
//! and the history screen do with it. Prints a Markdown table (median and worst of ROUNDS);
//! `bench/app-scale.sh` runs it in release mode and BENCHMARKS.md records the results. Numbers,
//! never assertions: it is a measurement, not a test (the gate runs it small to see it work).
//!
//!   cargo run --release -p billora-engine --example app_scale -- [SCHEDULES] [RUNS] [ROUNDS]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use billora_engine::api::{Api, HistoryQuery, Lang};
use billora_engine::notify::RecordingNotifier;
use billora_engine::scheduler::{next_slot, Clock, Scheduler, SchedulerConfig, SystemClock};
use billora_engine::secrets::MemorySecrets;

/// Crons and zones of the kinds offices use, spread over the schedules.
const CRONS: [&str; 6] = [
    "0 2 * * *",
    "30 1 * * 1-5",
    "*/15 * * * *",
    "0 3 * * 0",
    "0 4 1 * *",
    "15 22 * * 1,3,5",
];
const ZONES: [&str; 3] = ["Asia/Bangkok", "UTC", "Europe/London"];

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.replace([',', '_'], "").parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> billora_engine::Result<()> {
    let (schedules, runs, rounds) = (arg(1, 10_000), arg(2, 100_000), arg(3, 20).max(1));
    let dir = tempfile::tempdir().map_err(|e| billora_engine::error::io_error(e, "a temp dir"))?;
    let api = Api::open(Some(dir.path()), Arc::new(MemorySecrets::default())).await?;
    let store = api.store().clone();
    let now = SystemClock.now();
    let created = now
        .checked_sub(jiff::SignedDuration::from_hours(1))
        .unwrap_or(now);
    fill(&store, schedules, runs, &created.to_string()).await?;

    let mut rows: Vec<(String, Vec<Duration>)> = Vec::new();
    let all = store.list_schedules().await?;
    rows.push((
        format!("next runs of all {} schedules (computed)", all.len()),
        time(rounds, || async {
            let n = all.iter().filter_map(|s| next_slot(s, now)).count();
            assert_eq!(n, all.len(), "every active schedule has a next run");
        })
        .await,
    ));
    // The scheduler's start-up writes them (one row each); then every tick reads them.
    let start = Instant::now();
    for s in &all {
        store.set_next_run(s.id, next_slot(s, now)).await?;
    }
    rows.push((
        format!(
            "writing those next runs ({} rows, once at start)",
            all.len()
        ),
        vec![start.elapsed()],
    ));
    let (mut scheduler, _handle) = Scheduler::new(
        store.clone(),
        Arc::new(MemorySecrets::default()),
        Arc::new(RecordingNotifier::default()),
        Arc::new(SystemClock),
        SchedulerConfig::default(),
    );
    let mut ticks = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        scheduler.tick().await?;
        ticks.push(start.elapsed());
    }
    rows.push((
        "a scheduler tick, nothing due, nothing changed".into(),
        ticks,
    ));
    // After any commit (a run finished, a schedule edited) the tick checks every schedule for
    // a missing backup.
    let mut ticks = Vec::new();
    for i in 0..rounds {
        store.set_setting("bench_change", &i.to_string()).await?;
        let start = Instant::now();
        scheduler.tick().await?;
        ticks.push(start.elapsed());
    }
    rows.push(("a scheduler tick after a change in the store".into(), ticks));
    rows.push((
        "dashboard read model".into(),
        time(rounds, || async {
            api.dashboard(Lang::En).await.expect("the dashboard");
        })
        .await,
    ));
    rows.push((
        "· of which: the recent runs' ids and sizes (3 queries)".into(),
        time(rounds, || async {
            store.recent_runs(30, 5).await.expect("recent runs");
        })
        .await,
    ));
    let recent = store.recent_runs(30, 5).await?;
    let mut ids: Vec<i64> = recent.last_finished.values().copied().collect();
    ids.extend(recent.newest_success.values());
    ids.sort_unstable();
    ids.dedup();
    rows.push((
        format!(
            "· of which: loading those {} runs with their copies",
            ids.len()
        ),
        time(rounds, || async {
            store.runs_with_ids(&ids).await.expect("runs");
        })
        .await,
    ));
    rows.push((
        "tray read model".into(),
        time(rounds, || async {
            api.tray_status(Lang::En).await.expect("the tray");
        })
        .await,
    ));
    rows.push((
        "schedule list (the API's GET /backup/schedules)".into(),
        time(rounds, || async {
            api.list_schedules().await.expect("the list");
        })
        .await,
    ));
    let page = |query: HistoryQuery| {
        let api = &api;
        move || {
            let query = query.clone();
            async move {
                api.list_history(query).await.expect("a history page");
            }
        }
    };
    rows.push((
        "history, first page of 200".into(),
        time(
            rounds,
            page(HistoryQuery {
                limit: Some(200),
                ..HistoryQuery::default()
            }),
        )
        .await,
    ));
    let middle = (runs as i64 / 2).max(1);
    rows.push((
        "history, a page of 200 deep in the list".into(),
        time(
            rounds,
            page(HistoryQuery {
                limit: Some(200),
                before_id: Some(middle),
                ..HistoryQuery::default()
            }),
        )
        .await,
    ));
    rows.push((
        "history of one schedule, first page".into(),
        time(
            rounds,
            page(HistoryQuery {
                schedule_id: Some(schedules as i64 / 2 + 1),
                limit: Some(200),
                ..HistoryQuery::default()
            }),
        )
        .await,
    ));
    rows.push((
        "one schedule's last result".into(),
        time(
            rounds,
            page(HistoryQuery {
                schedule_id: Some(schedules as i64 / 2 + 1),
                limit: Some(1),
                ..HistoryQuery::default()
            }),
        )
        .await,
    ));
    rows.push((
        "failed runs, first page (status filter)".into(),
        time(
            rounds,
            page(HistoryQuery {
                status: Some("failed".into()),
                limit: Some(200),
                ..HistoryQuery::default()
            }),
        )
        .await,
    ));
    rows.push((
        "every schedule's newest result (one query)".into(),
        time(rounds, || async {
            store.run_summaries().await.expect("summaries");
        })
        .await,
    ));

    println!();
    println!(
        "The app's own scale: {schedules} schedules, {runs} history entries, {rounds} rounds ({} cores, {})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        now.strftime("%Y-%m-%d"),
    );
    println!();
    println!("| operation | median ms | worst ms |");
    println!("|---|---|---|");
    for (name, mut times) in rows {
        times.sort();
        let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
        println!(
            "| {name} | {} | {} |",
            ms(times[times.len() / 2]),
            ms(*times.last().expect("a round"))
        );
    }
    api.close().await;
    Ok(())
}

async fn time<F, Fut>(rounds: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        f().await;
        out.push(start.elapsed());
    }
    out
}

/// Writes the schedules and runs straight into the store (the API would take minutes):
/// active schedules created an hour ago, and runs spread over them, one in ten failed.
async fn fill(
    store: &billora_engine::store::Store,
    schedules: usize,
    runs: usize,
    created: &str,
) -> billora_engine::Result<()> {
    let mut tx = store.pool().begin().await?;
    for i in 0..schedules {
        sqlx::query(
            "INSERT INTO schedules (name, description, cron_expression, timezone, backup_type, \
             compression, retention_days, max_backups, notify_on_success, notify_on_failure, \
             catch_up, is_active, verify_after_backup, copy_to, created_at, updated_at) \
             VALUES (?, 'scale', ?, ?, 'full', 'zstd', 30, NULL, 0, 1, 1, 1, 0, '[]', ?, ?)",
        )
        .bind(format!("Schedule {i}"))
        .bind(CRONS[i % CRONS.len()])
        .bind(ZONES[i % ZONES.len()])
        .bind(created)
        .bind(created)
        .execute(&mut *tx)
        .await?;
    }
    for i in 0..runs {
        let schedule = 1 + i % schedules.max(1);
        let failed = i % 10 == 9;
        let at = format!(
            "2026-{:02}-{:02}T02:{:02}:{:02}Z",
            1 + (i / 28_000) % 11,
            1 + (i / 1_000) % 28,
            (i / 60) % 60,
            i % 60
        );
        sqlx::query(
            "INSERT INTO runs (schedule_id, schedule_name, backup_type, trigger, status, \
             created_at, finished_at, filename, file_size, duration_seconds, error_code, \
             error_message) VALUES (?, ?, 'full', 'scheduled', ?, ?, ?, ?, ?, 15.0, ?, ?)",
        )
        .bind(schedule as i64)
        .bind(format!("Schedule {}", schedule - 1))
        .bind(if failed { "failed" } else { "success" })
        .bind(&at)
        .bind(&at)
        .bind((!failed).then(|| format!("backup_full_{}.sql.zst", at.replace(':', "-"))))
        .bind((!failed).then_some(1_048_576 + i as i64))
        .bind(failed.then_some("Unreachable"))
        .bind(failed.then_some("connecting to the database failed"))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
