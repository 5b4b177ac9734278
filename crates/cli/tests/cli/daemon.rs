//! The `billora-backup daemon` end to end against the real MariaDB, on the real clock: a
//! `* * * * *` schedule with `max_backups: 2` for about four minutes, a `kill -9` of the daemon
//! in the middle of a backup and a restart, a second daemon refused, a clean SIGTERM.
//! Slow by nature (it waits for minute boundaries); everything else is tested with a pinned clock.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use serde_json::Value;

use crate::support::services;

const BIN: &str = env!("CARGO_BIN_EXE_billora-backup");

fn cli(dir: &Path, password: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(dir)
        .env("BILLORA_TEST_PW", password)
        .env("BILLORA_LOG", "info");
    cmd
}

fn history(dir: &Path, password: &str) -> Vec<Value> {
    let out = cli(dir, password)
        .arg("history")
        .output()
        .expect("history runs");
    let json: Value = serde_json::from_slice(&out.stdout).expect("history is JSON");
    json["data"].as_array().cloned().unwrap_or_default()
}

fn count(runs: &[Value], status: &str) -> usize {
    runs.iter().filter(|r| r["status"] == status).count()
}

fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

fn spawn_daemon(dir: &Path, password: &str) -> Child {
    // Its log goes to the test's stderr, shown when the test fails.
    cli(dir, password)
        .arg("daemon")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the daemon starts")
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("backups"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_minutely_schedule_keeps_two_backups_and_survives_kill_9() {
    let server = services();
    let db = server.fresh_db("daemon");
    server
        .conn(Some(&db))
        .query_drop(
            "CREATE TABLE big (id INT PRIMARY KEY, b BLOB) ENGINE=InnoDB; \
             INSERT INTO big SELECT seq, RANDOM_BYTES(200) FROM seq_1_to_150000",
        )
        .expect("a table big enough that a backup takes a moment");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let pw = server.password.as_str();
    let port = server.port.to_string();
    let add = cli(dir, pw)
        .args([
            "connection",
            "add",
            "--name",
            "db",
            "--host",
            &server.host,
            "--port",
            &port,
            "--user",
            &server.user,
        ])
        .args(["--database", &db, "--password-env", "BILLORA_TEST_PW"])
        .output()
        .expect("runs");
    assert!(
        add.status.success(),
        "connection added: {}",
        String::from_utf8_lossy(&add.stderr)
    );
    let mut create = cli(dir, pw)
        .args(["schedule", "create", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("runs");
    std::io::Write::write_all(
        &mut create.stdin.take().expect("stdin"),
        br#"{"name":"Every minute","cron_expression":"* * * * *","backup_type":"full","max_backups":2}"#,
    )
    .expect("body");
    assert!(create.wait().expect("waits").success(), "schedule created");

    let mut daemon = spawn_daemon(dir, pw);
    std::thread::sleep(Duration::from_millis(500));
    let second = cli(dir, pw)
        .arg("daemon")
        .output()
        .expect("a second daemon runs");
    assert_eq!(
        second.status.code(),
        Some(2),
        "a second scheduler on the same data directory is refused"
    );
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already running"),
        "and says why"
    );

    wait_until("the first successful run", Duration::from_secs(150), || {
        count(&history(dir, pw), "success") >= 1
    });

    // Kill -9 in the middle of the next backup.
    wait_until(
        "the next backup to start writing",
        Duration::from_secs(90),
        || files(dir).iter().any(|f| f.ends_with(".partial")),
    );
    daemon.kill().expect("kill -9");
    daemon.wait().expect("reaped");
    let mut daemon = spawn_daemon(dir, pw);
    wait_until(
        "the killed run to be marked interrupted",
        Duration::from_secs(20),
        || count(&history(dir, pw), "interrupted") == 1,
    );
    assert!(
        !files(dir).iter().any(|f| f.ends_with(".partial")),
        "the partial file of the killed run is gone"
    );

    wait_until("two more successful runs", Duration::from_secs(200), || {
        count(&history(dir, pw), "success") >= 3
    });
    // `status` names the daemon that runs the schedules.
    let out = cli(dir, pw).arg("status").output().expect("status runs");
    assert!(
        out.status.success(),
        "status succeeds while the daemon runs: {out:?}"
    );
    let state: Value = serde_json::from_slice(&out.stdout).expect("status is JSON");
    assert_eq!(state["state"], "running", "the scheduler runs: {state}");
    assert_eq!(
        state["owner_role"], "the daemon",
        "run by the daemon: {state}"
    );
    assert_eq!(
        state["owner_pid"].as_u64(),
        Some(daemon.id() as u64),
        "with its pid: {state}"
    );
    assert_eq!(state["active_schedules"], 1, "one active schedule: {state}");
    assert!(
        state["next_due_at"].is_string(),
        "and when the next backup is due: {state}"
    );
    // Stop cleanly between runs: SIGTERM.
    wait_until("no backup running", Duration::from_secs(60), || {
        count(&history(dir, pw), "running") == 0
    });
    let status = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success(), "SIGTERM sent");
    let exit = daemon.wait().expect("the daemon exits");
    assert!(
        exit.success(),
        "the daemon stops cleanly on SIGTERM: {exit:?}"
    );

    // Stopped: `status` says nothing runs the active schedule, with exit code 1.
    let out = cli(dir, pw).arg("status").output().expect("status runs");
    let state: Value = serde_json::from_slice(&out.stdout).expect("status is JSON");
    assert_eq!(
        state["state"], "not-running",
        "nothing schedules now: {state}"
    );
    assert_eq!(out.status.code(), Some(1), "and the exit code says so");
    // The daemon's log file: private, rotated by size, and without the password.
    let log = dir.join("logs").join("daemon.log");
    let text = std::fs::read_to_string(&log).expect("the daemon wrote its log file");
    assert!(
        text.contains("scheduler started"),
        "the log tells the story: {text}"
    );
    assert!(!text.contains(pw), "the log holds no password");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&log).expect("log").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the log file is readable by its owner only");
    }

    let runs = history(dir, pw);
    assert!(
        count(&runs, "success") >= 3,
        "three or more successful runs"
    );
    let kept: Vec<String> = runs
        .iter()
        .filter(|r| r["status"] == "success" && r["deleted_at"].is_null())
        .map(|r| r["filename"].as_str().expect("filename").to_owned())
        .collect();
    assert_eq!(
        kept.len(),
        2,
        "max_backups 2: two successful backups are kept: {runs:#?}"
    );
    for r in runs
        .iter()
        .filter(|r| r["status"] == "success" && !r["deleted_at"].is_null())
    {
        assert!(
            r["deletion_reason"]
                .as_str()
                .unwrap_or("")
                .contains("max_backups"),
            "each deletion says why: {r}"
        );
    }
    let on_disk: Vec<String> = files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".sql.zst"))
        .collect();
    let mut kept_sorted = kept.clone();
    kept_sorted.sort();
    assert_eq!(
        on_disk, kept_sorted,
        "exactly the two kept backups are on disk, and the history agrees with the folder"
    );
    assert!(
        !files(dir).iter().any(|f| f.ends_with(".partial")),
        "no partial file is left"
    );
    server.drop_db(&db);
}
