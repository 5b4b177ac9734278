//! Two processes racing `schedule run` on one schedule: one dump, one `skipped` entry that
//! names the holder, exit codes 0 and 1.

use std::time::{Duration, Instant};

use crate::harness::{big_database, text, Harness};
use crate::support::services;

#[test]
fn two_processes_racing_schedule_run_make_one_dump_and_one_skipped_entry() {
    let server = services();
    let db = big_database(server, "race", 100_000);
    let h = Harness::new(
        server,
        &db,
        r#"{"name":"Race","cron_expression":"0 2 * * *","backup_type":"full"}"#,
    );
    let first = h
        .cmd(&["schedule", "run", "1"])
        .spawn()
        .expect("first starts");
    // The second starts once the first holds the schedule (its run is in the history).
    let started = Instant::now();
    while !h.history().iter().any(|r| r["status"] == "running") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first run starts"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = h.run(&["schedule", "run", "1"]);
    let first = first.wait_with_output().expect("first ends");
    assert!(
        first.status.success(),
        "the first backs up: {}",
        text(&first.stderr)
    );
    assert_eq!(
        second.status.code(),
        Some(1),
        "the second ends at once with exit code 1: {}",
        text(&second.stderr)
    );
    let refusal = text(&second.stderr);
    assert!(
        refusal.contains("schedule 1 is already running (a backup), started ")
            && refusal.contains("by the CLI, pid "),
        "the refusal says which schedule, what holds it and where: {refusal}"
    );
    let runs = h.history();
    assert_eq!(
        runs.iter().filter(|r| r["status"] == "success").count(),
        1,
        "one dump: {runs:#?}"
    );
    let skipped: Vec<_> = runs.iter().filter(|r| r["status"] == "skipped").collect();
    assert_eq!(skipped.len(), 1, "one skipped entry: {runs:#?}");
    assert!(
        skipped[0]["note"]
            .as_str()
            .unwrap_or("")
            .contains("already running"),
        "which says why: {}",
        skipped[0]
    );
    assert_eq!(skipped[0]["trigger"], "manual", "a manual attempt");
    let backups: Vec<String> = h
        .files()
        .into_iter()
        .filter(|f| f.ends_with(".sql.zst"))
        .collect();
    assert_eq!(backups.len(), 1, "one backup file: {backups:?}");
    server.drop_db(&db);
}
