//! kill -9 in the middle of a backup: the run becomes `interrupted` and the next one works.

use mysql::prelude::Queryable;

use crate::support::services;

#[test]
fn a_killed_backup_becomes_interrupted_and_the_next_run_works() {
    use std::process::{Command, Stdio};
    const BIN: &str = env!("CARGO_BIN_EXE_billora-backup");
    let server = services();
    let db = server.fresh_db("killed");
    server
        .conn(Some(&db))
        .query_drop(
            "CREATE TABLE big (id INT PRIMARY KEY, b BLOB) ENGINE=InnoDB; \
             INSERT INTO big SELECT seq, RANDOM_BYTES(200) FROM seq_1_to_200000",
        )
        .expect("a table big enough to kill the dump half-way");
    let dir = tempfile::tempdir().expect("temp dir");
    let cli = |args: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("BILLORA_TEST_PW", &server.password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let port = server.port.to_string();
    let add = cli(&[
        "connection",
        "add",
        "--name",
        "k",
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
    let mut create = cli(&["schedule", "create", "--json", "-"])
        .spawn()
        .expect("runs");
    std::io::Write::write_all(
        &mut create.stdin.take().expect("stdin"),
        br#"{"name":"Every minute","cron_expression":"* * * * *","backup_type":"full"}"#,
    )
    .expect("body");
    assert!(create.wait().expect("waits").success(), "schedule created");

    let backups = dir.path().join("backups");
    let mut run = cli(&["schedule", "run", "1"]).spawn().expect("runs");
    let partial_seen = (0..400).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        std::fs::read_dir(&backups)
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            })
            .unwrap_or(false)
    });
    assert!(
        partial_seen,
        "the run writes a .partial file while it dumps"
    );
    run.kill().expect("kill -9");
    run.wait().expect("reaped");

    let history = cli(&["history"]).output().expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&history.stdout).expect("json");
    assert_eq!(
        json["data"][0]["status"], "interrupted",
        "after a restart the killed run is interrupted: {json}"
    );
    assert_eq!(
        json["data"][0]["error"]["code"], "Interrupted",
        "with its code"
    );
    let left: Vec<String> = std::fs::read_dir(&backups)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.is_empty(),
        "no partial file and no backup are left: {left:?}"
    );

    let again = cli(&["schedule", "run", "1"]).output().expect("runs");
    assert!(
        again.status.success(),
        "the next run works: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    let history = cli(&["history"]).output().expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&history.stdout).expect("json");
    assert_eq!(
        json["data"][0]["status"], "success",
        "the next run succeeded"
    );
    assert_eq!(
        json["data"][1]["status"], "interrupted",
        "the killed run stays interrupted"
    );
    server.drop_db(&db);
}

#[test]
fn a_verification_killed_mid_way_leaves_no_scratch_database_after_the_next_start() {
    use std::time::{Duration, Instant};

    use crate::harness::{big_database, text, Harness};
    let server = services();
    let db = big_database(server, "killverify", 150_000);
    let h = Harness::new(
        server,
        &db,
        r#"{"name":"Verify","cron_expression":"0 2 * * *","backup_type":"full"}"#,
    );
    let made = h.run(&["schedule", "run", "1"]);
    assert!(
        made.status.success(),
        "a backup to verify: {}",
        text(&made.stderr)
    );
    // A database that looks like a scratch copy but was not made by this data folder.
    let foreign = "billora_verify_999_notours";
    server
        .conn(None)
        .query_drop(format!("CREATE DATABASE IF NOT EXISTS `{foreign}`"))
        .expect("a foreign look-alike");
    let scratch = || -> Vec<String> {
        server
            .conn(None)
            .query("SHOW DATABASES LIKE 'billora\\_verify\\_1\\_%'")
            .expect("databases")
    };
    let mut verify = h.cmd(&["verify", "1"]).spawn().expect("verify starts");
    let started = Instant::now();
    while scratch().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the verification creates its scratch database"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    verify.kill().expect("kill -9 mid-way");
    verify.wait().expect("reaped");
    assert_eq!(
        scratch().len(),
        1,
        "the killed verification left its scratch copy"
    );

    // The next start of a scheduler (here the daemon) drops it, and only it.
    let mut daemon = h
        .cmd(&["daemon"])
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("the daemon starts");
    let started = Instant::now();
    while !scratch().is_empty() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = scratch();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();
    assert!(
        left.is_empty(),
        "the scratch copy is dropped at the next start: {left:?}"
    );
    let others: Vec<String> = server
        .conn(None)
        .query(format!("SHOW DATABASES LIKE '{foreign}'"))
        .expect("databases");
    assert_eq!(
        others.len(),
        1,
        "a database this folder did not create is untouched"
    );
    let source: Vec<String> = server
        .conn(None)
        .query(format!("SHOW DATABASES LIKE '{db}'"))
        .expect("databases");
    assert_eq!(source.len(), 1, "the source database is untouched");
    server.drop_db(foreign);
    server.drop_db(&db);
}
