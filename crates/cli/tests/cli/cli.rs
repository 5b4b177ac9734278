//! The `billora-backup` binary end to end on a temporary data directory: the original spec's
//! three example bodies created, listed, toggled, updated and deleted; exit codes and messages.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_billora-backup");

fn run(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("BILLORA_BACKUP_DATA_DIR")
        .env("TZ", "Asia/Bangkok")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("the binary finishes")
}

fn ok_json(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    let out = run(data_dir, args, stdin);
    assert!(
        out.status.success(),
        "`{}` must succeed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn spec_bodies() -> [Value; 3] {
    [
        json!({"name":"Daily Full Backup","description":"สำรองข้อมูลทั้งหมดทุกวัน","cron_expression":"0 2 * * *",
               "backup_type":"full","retention_days":7,"max_backups":10,"notify_on_failure":true,
               "notification_email":"admin@example.com"}),
        json!({"name":"Weekly Full Backup","description":"สำรองข้อมูลทุกวันอาทิตย์","cron_expression":"0 3 * * 0",
               "backup_type":"full","retention_days":30,"max_backups":4,"notify_on_success":true,
               "notify_on_failure":true,"notification_email":"admin@example.com"}),
        json!({"name":"Tenant XYZ Backup","description":"สำรองข้อมูล Tenant XYZ ทุกวัน","cron_expression":"0 4 * * *",
               "backup_type":"tenant","tenant_id":5,"retention_days":14,"max_backups":14}),
    ]
}

#[test]
fn spec_examples_through_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let mut ids = Vec::new();
    for body in spec_bodies() {
        let created = ok_json(
            d,
            &["schedule", "create", "--json", "-"],
            Some(&body.to_string()),
        );
        for key in [
            "name",
            "cron_expression",
            "backup_type",
            "retention_days",
            "max_backups",
        ] {
            assert_eq!(
                created[key], body[key],
                "the created schedule keeps `{key}`"
            );
        }
        assert_eq!(
            created["timezone"], "Asia/Bangkok",
            "the zone defaults to the machine's (TZ)"
        );
        let next = created["next_run_at"]
            .as_str()
            .expect("an active schedule has a next run");
        assert!(
            next.ends_with("+07:00"),
            "next_run_at is RFC 3339 with the zone's offset: {next}"
        );
        ids.push(created["id"].as_i64().expect("id"));
    }

    // A body from a file works as well as stdin.
    let file = d.join("body.json");
    std::fs::write(
        &file,
        json!({"name":"From file","cron_expression":"@daily","backup_type":"full"}).to_string(),
    )
    .expect("write body");
    let from_file = ok_json(
        d,
        &["schedule", "create", "--json", file.to_str().expect("utf8")],
        None,
    );
    assert_eq!(
        from_file["cron_expression"], "@daily",
        "macros are kept as written"
    );

    let list = ok_json(d, &["schedule", "list"], None);
    let schedules = list["schedules"].as_array().expect("{\"schedules\":[...]}");
    assert_eq!(schedules.len(), 4, "all four schedules are listed");
    for key in [
        "id",
        "is_active",
        "last_run_at",
        "next_run_at",
        "success_count",
        "failed_count",
        "tenant_id",
    ] {
        assert!(
            schedules[0].get(key).is_some(),
            "a listed schedule shows `{key}`"
        );
    }
    assert_eq!(
        schedules[2]["tenant_id"], 5,
        "the tenant schedule keeps tenant 5"
    );

    let toggled = ok_json(d, &["schedule", "toggle", &ids[1].to_string()], None);
    assert_eq!(toggled["is_active"], false, "toggle disables");
    assert_eq!(
        toggled["next_run_at"],
        Value::Null,
        "a disabled schedule has no next run"
    );

    let updated = ok_json(
        d,
        &["schedule", "update", &ids[2].to_string(), "--json", "-"],
        Some(r#"{"max_backups":7}"#),
    );
    assert_eq!(updated["max_backups"], 7, "update changed max_backups");
    assert_eq!(updated["tenant_id"], 5, "update kept the other fields");

    ok_json(d, &["schedule", "delete", &ids[0].to_string()], None);
    let list = ok_json(d, &["schedule", "list"], None);
    let names: Vec<&str> = list["schedules"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["Weekly Full Backup", "Tenant XYZ Backup", "From file"],
        "the deleted schedule is gone"
    );

    let history = ok_json(d, &["history", "--schedule-id", &ids[1].to_string()], None);
    assert_eq!(
        history,
        json!({"success": true, "data": []}),
        "history has the spec's envelope"
    );
}

#[test]
fn bad_input_exits_2_with_one_line_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok_json(
        d,
        &["schedule", "create", "--json", "-"],
        Some(&spec_bodies()[0].to_string()),
    );
    let before = ok_json(d, &["schedule", "list"], None);
    let cases: [(&[&str], Option<&str>, &str); 6] = [
        (
            &["schedule", "create", "--json", "-"],
            Some(r#"{"name":"X","cron_expression":"* * * * 8","backup_type":"full"}"#),
            "day-of-week: 8 is out of range 0-7",
        ),
        (
            &["schedule", "create", "--json", "-"],
            Some(
                r#"{"name":"X","cron_expression":"0 2 * * *","backup_type":"full","max_backups":0}"#,
            ),
            "max_backups",
        ),
        (
            &["schedule", "create", "--json", "-"],
            Some("not json"),
            "expected",
        ),
        (
            &["schedule", "update", "1", "--json", "-"],
            Some(r#"{"retention_days":99999}"#),
            "retention_days",
        ),
        (
            &["schedule", "toggle", "42"],
            None,
            "no schedule with id 42",
        ),
        (&["cron", "next", "0 2 * *"], None, "expected 5 fields"),
    ];
    for (args, stdin, expected) in cases {
        let out = run(d, args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "`{}` is invalid input: exit 2 ({stderr})",
            args.join(" ")
        );
        assert!(
            stderr.contains(expected),
            "`{}` explains `{expected}`, got: {stderr}",
            args.join(" ")
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "the error is one line: {stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing on stdout on error");
    }
    assert_eq!(
        ok_json(d, &["schedule", "list"], None),
        before,
        "refused commands changed nothing"
    );
}

#[test]
fn cron_next_and_describe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(
        dir.path(),
        &[
            "cron",
            "next",
            "30 2 * * *",
            "--after",
            "2026-03-07T12:00:00-05:00",
            "--count",
            "2",
            "--tz",
            "America/New_York",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "cron next works: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "2026-03-08T03:00:00-04:00\n2026-03-09T02:30:00-04:00\n",
        "one RFC 3339 timestamp a line; 02:30 in the DST gap runs at 03:00"
    );
    let th = run(
        dir.path(),
        &["cron", "describe", "0 2 * * *", "--lang", "th"],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&th.stdout).trim(),
        "ทุกวันเวลา 02:00",
        "Thai description"
    );
    let en = run(dir.path(), &["cron", "describe", "0 2 * * *"], None);
    assert_eq!(
        String::from_utf8_lossy(&en.stdout).trim(),
        "At 02:00 every day",
        "English by default"
    );
    let bad_tz = run(
        dir.path(),
        &["cron", "next", "@daily", "--tz", "Nowhere/Special"],
        None,
    );
    assert_eq!(
        bad_tz.status.code(),
        Some(2),
        "an unknown zone is invalid input"
    );
}

#[test]
fn data_dir_comes_from_the_environment_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .arg("data-dir")
        .env("BILLORA_BACKUP_DATA_DIR", dir.path())
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        dir.path().to_str().expect("utf8"),
        "BILLORA_BACKUP_DATA_DIR sets the data directory"
    );
    let out = Command::new(BIN)
        .arg("data-dir")
        .env_remove("BILLORA_BACKUP_DATA_DIR")
        .env("XDG_DATA_HOME", dir.path())
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        dir.path().join("billora-backup").to_str().expect("utf8"),
        "the default is $XDG_DATA_HOME/billora-backup"
    );
}

#[test]
fn destinations_through_the_cli() {
    let env = &crate::support::services().env;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let usb = tempfile::tempdir().expect("a folder destination");
    let usb_path = usb.path().display().to_string();
    let added = ok_json(
        d,
        &[
            "destination",
            "add",
            "--name",
            "usb",
            "--kind",
            "folder",
            "--path",
            &usb_path,
        ],
        None,
    );
    assert_eq!(
        added["location"],
        json!(usb_path),
        "the folder is its location: {added}"
    );
    let sftp_folder = format!(
        "{}/cli-{}",
        env["BILLORA_TEST_SFTP_ROOT"],
        std::process::id()
    );
    let nas = ok_json(
        d,
        &[
            "destination",
            "add",
            "--name",
            "nas",
            "--kind",
            "sftp",
            "--host",
            &env["BILLORA_TEST_SFTP_HOST"],
            "--port",
            &env["BILLORA_TEST_SFTP_PORT"],
            "--user",
            &env["BILLORA_TEST_SFTP_USER"],
            "--key-file",
            &env["BILLORA_TEST_SFTP_KEY"],
            "--folder",
            &sftp_folder,
            "--max-backups",
            "5",
        ],
        None,
    );
    assert_eq!(
        nas["max_backups"],
        json!(5),
        "its own retention is kept: {nas}"
    );
    let check = ok_json(d, &["destination", "test", "nas"], None);
    assert_eq!(
        check["ok"],
        json!(true),
        "the SFTP server accepts a test file: {check}"
    );

    for (args, expected) in [
        (
            vec![
                "destination",
                "add",
                "--name",
                "x",
                "--kind",
                "folder",
                "--path",
                "relative/dir",
            ],
            "full path",
        ),
        (
            vec!["destination", "add", "--name", "x", "--kind", "ftp"],
            "not a destination kind",
        ),
        (
            vec![
                "destination",
                "add",
                "--name",
                "x",
                "--kind",
                "s3",
                "--bucket",
                "b-1",
            ],
            "--access-key-id",
        ),
        (
            vec![
                "destination",
                "add",
                "--name",
                "usb",
                "--kind",
                "folder",
                "--path",
                "/tmp",
            ],
            "already exists",
        ),
    ] {
        let out = run(d, &args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "`{}` is refused as input: {stderr}",
            args.join(" ")
        );
        assert!(
            stderr.contains(expected),
            "`{}` says `{expected}`: {stderr}",
            args.join(" ")
        );
    }
    let list = ok_json(d, &["destination", "list"], None);
    assert_eq!(
        list["destinations"].as_array().map(Vec::len),
        Some(2),
        "two destinations: {list}"
    );

    ok_json(
        d,
        &["schedule", "create", "--json", "-"],
        Some(
            r#"{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full","copy_to":["usb"]}"#,
        ),
    );
    let out = run(d, &["destination", "remove", "usb"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a destination in use is not removed: {stderr}"
    );
    assert!(
        stderr.contains("Nightly"),
        "the error names the schedule: {stderr}"
    );
    let removed = ok_json(d, &["destination", "remove", "nas"], None);
    assert_eq!(
        removed["success"],
        json!(true),
        "an unused destination is removed"
    );
    let list = ok_json(d, &["destination", "list"], None);
    assert_eq!(
        list["destinations"][0]["used_by"],
        json!(["Nightly"]),
        "the list says who uses it: {list}"
    );
}
