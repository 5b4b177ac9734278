//! Destinations against real servers on loopback (scripts/services.sh): an S3-compatible
//! server (moto), WebDAV (rclone), SFTP (OpenSSH) and a plain folder. Each copy must arrive
//! whole, restore and verify from there when the local file is gone, obey its own retention,
//! and fail alone (the run stays a success) when its server is down.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use billora_engine::backup::{run_schedule, RunControl, RunOptions};
use billora_engine::copies::backup_file;
use billora_engine::destination::remote::Remote;
use billora_engine::destination::{DestinationSettings, KnownHosts, NewDestination};
use billora_engine::error::ErrorCode;
use billora_engine::restore::{restore, RestoreMode, RestoreRequest};
use billora_engine::run::Trigger;
use billora_engine::schedule::{parse_request, NewSchedule};
use billora_engine::secrets::{MemorySecrets, SecretStore};
use billora_engine::store::Store;
use serde_json::json;

use crate::support::{add_test_connection, now, services, temp_store, test_secrets};

fn env(key: &str) -> String {
    services().env[key].clone()
}

/// A fresh folder (prefix) per test so tests sharing the servers never see each other's files.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
            % 1_000_000_000
    )
}

fn s3(prefix: &str) -> DestinationSettings {
    DestinationSettings::S3 {
        endpoint: Some(env("BILLORA_TEST_S3_ENDPOINT")),
        region: None,
        bucket: env("BILLORA_TEST_S3_BUCKET"),
        prefix: prefix.into(),
        path_style: true,
        access_key_id: "billora-test-key".into(),
    }
}

fn webdav(folder: &str) -> DestinationSettings {
    DestinationSettings::Webdav {
        url: env("BILLORA_TEST_WEBDAV_URL"),
        username: Some(env("BILLORA_TEST_WEBDAV_USER")),
        folder: folder.into(),
    }
}

fn sftp(folder: &str) -> DestinationSettings {
    DestinationSettings::Sftp {
        host: env("BILLORA_TEST_SFTP_HOST"),
        port: Some(env("BILLORA_TEST_SFTP_PORT").parse().expect("port")),
        username: env("BILLORA_TEST_SFTP_USER"),
        // Absolute: the test server's user is this machine's, whose home is elsewhere.
        folder: format!("{}/{folder}", env("BILLORA_TEST_SFTP_ROOT")),
        key_file: env("BILLORA_TEST_SFTP_KEY"),
        known_hosts: KnownHosts::AcceptNew,
    }
}

async fn add(
    store: &Store,
    secrets: &MemorySecrets,
    name: &str,
    settings: DestinationSettings,
    secret: Option<&str>,
    max_backups: Option<i64>,
) {
    let request = NewDestination {
        name: name.into(),
        settings,
        retention_days: None,
        max_backups,
    };
    let check = billora_engine::destination::test_draft(&request, secret)
        .await
        .unwrap_or_else(|e| panic!("destination {name} passes its test: {e:?}"));
    assert!(
        check.ok,
        "the test of {name} wrote, read back and deleted a file"
    );
    store
        .add_destination(request, secret, secrets, now())
        .await
        .unwrap_or_else(|e| panic!("destination {name} is saved: {e:?}"));
}

async fn schedule(store: &Store, body: serde_json::Value) -> i64 {
    let request: NewSchedule = parse_request(&body.to_string()).expect("valid body");
    store
        .create_schedule(request, now())
        .await
        .expect("schedule created")
        .id
}

async fn run_at(
    store: &Store,
    secrets: &MemorySecrets,
    id: i64,
    at: &str,
) -> billora_engine::run::RunOutcome {
    run_schedule(
        store,
        secrets,
        id,
        Trigger::Scheduled,
        at.parse().expect("ts"),
        &RunOptions::default(),
        RunControl::default(),
    )
    .await
    .expect("the run is recorded")
}

fn sha256_of(path: &Path) -> String {
    billora_engine::artifact::sha256_file(path).expect("readable")
}

/// Runs a boto3 snippet (the stock AWS SDK, from the test venv) against the S3 server, so the
/// bucket is checked by another client than ours. `key` is under `prefix`.
fn boto3(script: &str, prefix: &str, name: &str, body: &str) -> std::process::Output {
    let python = crate::support::repo_root().join(".test-services/venv/bin/python");
    let program = format!(
        "import sys, boto3\n\
         s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='test', aws_secret_access_key='test')\n\
         bucket, key, body = sys.argv[2], sys.argv[3], sys.argv[4]\n{script}"
    );
    std::process::Command::new(python)
        .args([
            "-c",
            &program,
            &env("BILLORA_TEST_S3_ENDPOINT"),
            &env("BILLORA_TEST_S3_BUCKET"),
            &format!("{prefix}/{name}"),
            body,
        ])
        .output()
        .expect("the venv's python runs")
}

/// The object's bytes as the S3 server serves them, or None when it is not there.
fn s3_object(prefix: &str, name: &str) -> Option<Vec<u8>> {
    let out = boto3(
        "try:\n    sys.stdout.buffer.write(s3.get_object(Bucket=bucket, Key=key)['Body'].read())\n\
         except s3.exceptions.NoSuchKey:\n    sys.exit(3)",
        prefix,
        name,
        "",
    );
    match out.status.code() {
        Some(0) => Some(out.stdout),
        Some(3) => None,
        _ => panic!("boto3 failed: {}", String::from_utf8_lossy(&out.stderr)),
    }
}

fn s3_put(prefix: &str, name: &str, body: &str) {
    let out = boto3(
        "s3.put_object(Bucket=bucket, Key=key, Body=body.encode())",
        prefix,
        name,
        body,
    );
    assert!(
        out.status.success(),
        "a foreign object is put in the bucket: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn every_kind_holds_a_proven_copy_that_restores_and_verifies_when_the_local_file_is_gone() {
    let server = services();
    let db = server.fixture_db("dest_all");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &db).await;
    let tag = unique("all");
    let folder = tempfile::tempdir().expect("a second folder");
    add(
        &store,
        &secrets,
        "offsite-s3",
        s3(&tag),
        Some("any-secret"),
        None,
    )
    .await;
    add(
        &store,
        &secrets,
        "nas-webdav",
        webdav(&tag),
        Some(&env("BILLORA_TEST_WEBDAV_PASSWORD")),
        None,
    )
    .await;
    add(&store, &secrets, "nas-sftp", sftp(&tag), None, None).await;
    add(
        &store,
        &secrets,
        "usb",
        DestinationSettings::Folder {
            path: folder.path().display().to_string(),
        },
        None,
        None,
    )
    .await;
    assert_eq!(
        secrets
            .get("destination:offsite-s3")
            .expect("keyring")
            .as_deref(),
        Some("any-secret"),
        "the S3 secret key is in the keyring"
    );
    let stored: String = sqlx::query_scalar("SELECT group_concat(settings) FROM destinations")
        .fetch_one(store.pool())
        .await
        .expect("settings");
    assert!(
        !stored.contains("any-secret") && !stored.contains(&env("BILLORA_TEST_WEBDAV_PASSWORD")),
        "no secret is in the store: {stored}"
    );

    let id = schedule(
        &store,
        json!({"name": "Everywhere", "cron_expression": "0 2 * * *", "backup_type": "full",
               "copy_to": ["offsite-s3", "nas-webdav", "nas-sftp", "usb"]}),
    )
    .await;
    let outcome = run_at(&store, &secrets, id, "2026-02-03T02:00:00Z").await;
    assert_eq!(
        outcome.status, "success",
        "the run succeeds: {:?}",
        outcome.error
    );
    let file = outcome.file.clone().expect("a local file");
    let statuses: Vec<(String, String)> = outcome
        .copies
        .iter()
        .map(|c| (c.destination.clone(), c.status.clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("offsite-s3".to_owned(), "uploaded".to_owned()),
            ("nas-webdav".to_owned(), "uploaded".to_owned()),
            ("nas-sftp".to_owned(), "uploaded".to_owned()),
            ("usb".to_owned(), "uploaded".to_owned()),
        ],
        "each destination got its copy, in order: {:?}",
        outcome.copies
    );
    // Each kind lists its backups, with their manifests, as a new computer would browse it.
    for name in ["offsite-s3", "nas-webdav", "nas-sftp", "usb"] {
        let remote = billora_engine::destination::remote::Remote::open(
            &store.get_destination(name).await.expect("saved"),
            &secrets,
        )
        .expect("open");
        let listed = billora_engine::destination::browse::browse(&remote)
            .await
            .unwrap_or_else(|e| panic!("{name} is listed: {e}"));
        assert!(
            listed.len() == 1
                && listed[0].0.object == file.filename
                && listed[0].0.schedule_name.as_deref() == Some("Everywhere")
                && listed[0].0.problem.is_none(),
            "{name} lists the backup with its manifest: {listed:?}"
        );
    }
    // Byte-equal copies where each server keeps them, each with its manifest.
    let local_sha = sha256_of(&file.path);
    let s3_bytes = s3_object(&tag, &file.filename).expect("the object is in the bucket");
    assert_eq!(
        billora_engine::artifact::hex(&billora_engine::artifact::Sha256::digest(&s3_bytes)),
        local_sha,
        "the S3 object equals the local file"
    );
    assert!(
        s3_object(&tag, &format!("{}.manifest.json", file.filename)).is_some(),
        "the manifest is beside it in the bucket"
    );
    let on_disk: Vec<PathBuf> = vec![
        PathBuf::from(env("BILLORA_TEST_WEBDAV_ROOT"))
            .join(&tag)
            .join(&file.filename),
        PathBuf::from(env("BILLORA_TEST_SFTP_ROOT"))
            .join(&tag)
            .join(&file.filename),
        folder.path().join(&file.filename),
    ];
    for path in &on_disk {
        assert_eq!(
            sha256_of(path),
            local_sha,
            "{} equals the local file",
            path.display()
        );
        assert!(
            billora_engine::manifest::path_for(path).is_file(),
            "{} has its manifest",
            path.display()
        );
        let partial = PathBuf::from(format!("{}.partial", path.display()));
        assert!(
            !partial.exists(),
            "no partial is left at {}",
            partial.display()
        );
    }
    // The folder and SFTP copies hold every customer's data: their owner's only.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .permissions()
                .mode()
                & 0o777
        };
        for path in &on_disk[1..] {
            assert_eq!(mode(path), 0o600, "{} is 0600", path.display());
            let manifest = billora_engine::manifest::path_for(path);
            assert_eq!(mode(&manifest), 0o600, "{} is 0600", manifest.display());
            let dir = path.parent().expect("a folder");
            assert_eq!(mode(dir), 0o700, "{} is 0700", dir.display());
        }
    }
    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(
        history[0].copies.len(),
        4,
        "the history lists the four copies"
    );
    assert!(
        history[0]
            .copies
            .iter()
            .all(|c| c.status == "uploaded" && c.size == Some(file.size as i64)),
        "each with its size: {:?}",
        history[0].copies
    );

    // The computer's copy is lost: restore and verify from each destination.
    std::fs::remove_file(&file.path).expect("the local file is removed");
    for from in ["offsite-s3", "nas-webdav", "nas-sftp", "usb"] {
        let fetched = backup_file(&store, &secrets, outcome.run_id, Some(from))
            .await
            .unwrap_or_else(|e| panic!("the copy on {from} is fetched: {e:?}"));
        assert_eq!(
            fetched.fetched_from.as_deref(),
            Some(from),
            "it came from {from}"
        );
        let target_db = server.fresh_db("dest_restore");
        let request = RestoreRequest {
            file: fetched.path.clone(),
            expected_sha256: fetched.sha256.clone(),
            database: target_db.clone(),
            mode: RestoreMode::Database { force: false },
            connections: 2,
            use_inserts: false,
            keys: billora_engine::crypt::Keys::none(),
            // Compared with the source below: keep definers' rights and events as they were.
            safety: billora_engine::restore::RestoreSafety {
                keep_sql_security: true,
                enable_events: true,
                force_replace: false,
            },
        };
        let target = server.target(None);
        tokio::task::spawn_blocking(move || {
            restore(&target, &request, &|_| {}, &AtomicBool::new(false))
        })
        .await
        .expect("task")
        .unwrap_or_else(|e| panic!("the copy from {from} restores: {e:?}"));
        assert_eq!(
            server.fingerprint(&target_db),
            server.fingerprint(&db),
            "the database restored from {from} equals the source"
        );
        let temp = fetched.path.clone();
        drop(fetched);
        assert!(
            !temp.exists(),
            "the fetched copy from {from} is removed after use"
        );
        server.drop_db(&target_db);
    }
    // Without --from, the first destination holding a copy is used; verification from it.
    let target = billora_engine::verify::target_for_run(&store, &secrets, outcome.run_id, None)
        .await
        .expect("the run's server");
    let report =
        billora_engine::verify::verify_run(&store, &secrets, outcome.run_id, target, None, now())
            .await
            .expect("verification from a remote copy runs");
    assert!(
        report.verified,
        "the remote copy verifies: {:?}",
        report.mismatches
    );
    assert_eq!(
        report.checked_copy_from.as_deref(),
        Some("offsite-s3"),
        "with the local file gone, the first destination's copy was checked"
    );
    server.drop_db(&db);
}

#[tokio::test]
async fn retention_applies_per_destination_and_never_touches_foreign_objects() {
    let server = services();
    let db = server.fixture_db("dest_keep");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &db).await;
    let tag = unique("keep");
    // The bucket keeps only the newest copy; the local folder keeps three.
    add(&store, &secrets, "s3-one", s3(&tag), Some("k"), Some(1)).await;
    s3_put(&tag, "backup_full_2020-01-01T00-00-00.sql.zst", "not ours");
    let id = schedule(
        &store,
        json!({"name": "Keep", "cron_expression": "0 2 * * *", "backup_type": "full",
               "max_backups": 3, "copy_to": ["s3-one"]}),
    )
    .await;
    let mut names = Vec::new();
    for day in 3..6 {
        let outcome = run_at(&store, &secrets, id, &format!("2026-02-0{day}T02:00:00Z")).await;
        assert_eq!(
            outcome.status, "success",
            "run on day {day}: {:?}",
            outcome.error
        );
        assert_eq!(
            outcome.copies[0].status, "uploaded",
            "copy on day {day}: {:?}",
            outcome.copies
        );
        names.push(outcome.file.expect("file").filename);
        if day > 3 {
            let remote: Vec<_> = outcome
                .retention
                .iter()
                .filter(|d| d.destination.as_deref() == Some("s3-one"))
                .collect();
            assert_eq!(
                remote.len(),
                1,
                "each later run deletes one older copy in the bucket: {:?}",
                outcome.retention
            );
            assert_eq!(
                remote[0].outcome, "deleted",
                "the copy was there and is deleted"
            );
        }
    }
    assert!(
        s3_object(&tag, &names[2]).is_some(),
        "the newest copy stays in the bucket"
    );
    for old in &names[..2] {
        assert!(
            s3_object(&tag, old).is_none(),
            "{old} is deleted from the bucket"
        );
        assert!(
            s3_object(&tag, &format!("{old}.manifest.json")).is_none(),
            "with its manifest"
        );
    }
    assert!(
        s3_object(&tag, "backup_full_2020-01-01T00-00-00.sql.zst").is_some(),
        "an object the history did not create is never touched"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    assert!(
        history.iter().all(|r| r.deleted_at.is_none()),
        "the local folder still keeps all three (its max_backups is 3)"
    );
    let deleted_copies = history
        .iter()
        .flat_map(|r| r.copies.iter())
        .filter(|c| c.deleted_at.is_some())
        .count();
    assert_eq!(
        deleted_copies, 2,
        "the history records the two deleted copies"
    );
    server.drop_db(&db);
}

#[tokio::test]
async fn a_destination_that_fails_is_reported_alone_and_bad_settings_are_refused_on_their_field() {
    let server = services();
    let db = server.fixture_db("dest_fault");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &db).await;
    let tag = unique("fault");

    // A wrong WebDAV password is refused by the test, on the secret field, and nothing is saved.
    let wrong = NewDestination {
        name: "nas".into(),
        settings: webdav(&tag),
        retention_days: None,
        max_backups: None,
    };
    let err = billora_engine::destination::test_draft(&wrong, Some("wrong-password"))
        .await
        .expect_err("a wrong password fails the test");
    assert_eq!(
        err.code,
        ErrorCode::PermissionDenied,
        "refused by the server: {err:?}"
    );
    assert!(
        !err.message.contains("wrong-password"),
        "the message never shows the password: {}",
        err.message
    );
    // A schedule cannot name a destination that does not exist.
    let request: NewSchedule = parse_request(
        &json!({"name": "X", "cron_expression": "@daily", "backup_type": "full", "copy_to": ["nowhere"]}).to_string(),
    )
    .expect("parses");
    let err = store
        .create_schedule(request, now())
        .await
        .expect_err("unknown destination");
    assert_eq!(
        err.field.as_deref(),
        Some("copy_to"),
        "the error is on copy_to: {err:?}"
    );

    // A destination whose server is down (saved without a test): the run is still a success,
    // the copy is `failed` with its code, and the other destination gets its copy.
    let down = NewDestination {
        name: "down-s3".into(),
        settings: DestinationSettings::S3 {
            endpoint: Some("http://127.0.0.1:1".into()),
            region: None,
            bucket: "nowhere".into(),
            prefix: String::new(),
            path_style: true,
            access_key_id: "k".into(),
        },
        retention_days: None,
        max_backups: None,
    };
    store
        .add_destination(down, Some("s"), &secrets, now())
        .await
        .expect("saved without a test");
    add(&store, &secrets, "good-s3", s3(&tag), Some("k"), None).await;
    let id = schedule(
        &store,
        json!({"name": "Half", "cron_expression": "0 2 * * *", "backup_type": "full",
               "copy_to": ["down-s3", "good-s3"]}),
    )
    .await;
    let outcome = run_at(&store, &secrets, id, "2026-02-03T02:00:00Z").await;
    assert_eq!(
        outcome.status, "success",
        "the local backup is good, so the run succeeds"
    );
    assert_eq!(
        outcome.copies[0].status, "failed",
        "the copy to the down server failed"
    );
    assert_eq!(
        outcome.copies[0].error.as_ref().map(|e| e.code),
        Some(ErrorCode::Unreachable),
        "with the code that says why: {:?}",
        outcome.copies[0].error
    );
    assert_eq!(
        outcome.copies[1].status, "uploaded",
        "the other destination still got its copy"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    let failed = &history[0].copies[0];
    assert_eq!(failed.status, "failed", "the history shows the failed copy");
    assert_eq!(
        failed.error.as_ref().map(|e| e.code.as_str()),
        Some("Unreachable"),
        "with its code"
    );

    // A destination in use cannot be removed; once out of the schedule it can, and its
    // secret leaves the keyring while the history keeps its copies.
    let err = store
        .remove_destination("good-s3", &secrets)
        .await
        .expect_err("in use");
    assert_eq!(err.code, ErrorCode::Conflict, "refused while used: {err:?}");
    assert!(
        err.message.contains("Half"),
        "naming the schedule: {}",
        err.message
    );
    let patch = parse_request(&json!({"copy_to": []}).to_string()).expect("patch");
    store
        .update_schedule(id, patch, now())
        .await
        .expect("copy_to emptied");
    store
        .remove_destination("good-s3", &secrets)
        .await
        .expect("removed");
    assert_eq!(
        secrets.get("destination:good-s3").expect("keyring"),
        None,
        "its secret is gone"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(history[0].copies.len(), 2, "the copies stay in the history");
    server.drop_db(&db);
}

#[tokio::test]
async fn a_cancelled_upload_leaves_no_object_and_an_interrupted_one_is_cleaned_up() {
    let tag = unique("cancel");
    let secrets = test_secrets();
    // A 40 MiB file: five S3 parts. Cancel once two blocks are handed over.
    let dir = tempfile::tempdir().expect("dir");
    let big = dir.path().join("big.bin");
    let mut bytes = vec![0u8; 40 * 1024 * 1024];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in bytes.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(&big, &bytes).expect("written");
    let sha = billora_engine::artifact::hex(&billora_engine::artifact::Sha256::digest(&bytes));
    secrets.set("destination:s3", "k").expect("secret");
    let remote = Remote::build("s3", &s3(&tag), Some("k")).expect("opens");
    let cancel = AtomicBool::new(false);
    let err = remote
        .send(&big, "big.bin", &sha, &cancel, &|sent| {
            if sent >= 16 * 1024 * 1024 {
                cancel.store(true, Ordering::Relaxed);
            }
        })
        .await
        .expect_err("the upload is cancelled");
    assert_eq!(err.code, ErrorCode::Cancelled, "cancelled: {err:?}");
    assert!(
        s3_object(&tag, "big.bin").is_none(),
        "a cancelled multipart upload leaves no object"
    );
    assert!(
        !remote.exists("big.bin").await.expect("list"),
        "nothing under the name"
    );

    // Uncancelled, the same file arrives whole.
    let never = AtomicBool::new(false);
    let size = remote
        .send(&big, "big.bin", &sha, &never, &|_| {})
        .await
        .expect("sent");
    assert_eq!(size, bytes.len() as u64, "all of it");
    assert_eq!(
        s3_object(&tag, "big.bin").map(|b| b.len()),
        Some(bytes.len()),
        "the object is whole"
    );

    // A copy left `uploading` by a killed process: marked interrupted at start-up, and its
    // partial file on the WebDAV server is removed at the next upload there.
    let server = services();
    let db = server.fixture_db("dest_int");
    let (_d, store) = temp_store().await;
    add_test_connection(&store, &secrets, "office", &db).await;
    add(
        &store,
        &secrets,
        "dav",
        webdav(&tag),
        Some(&env("BILLORA_TEST_WEBDAV_PASSWORD")),
        None,
    )
    .await;
    let id = schedule(
        &store,
        json!({"name": "Dav", "cron_expression": "0 2 * * *", "backup_type": "full", "copy_to": ["dav"]}),
    )
    .await;
    let first = run_at(&store, &secrets, id, "2026-02-03T02:00:00Z").await;
    assert_eq!(
        first.copies[0].status, "uploaded",
        "the first copy arrives: {:?}",
        first.copies
    );
    let dav_dir = PathBuf::from(env("BILLORA_TEST_WEBDAV_ROOT")).join(&tag);
    let leftover = dav_dir.join("backup_full_killed.sql.zst.partial");
    // Put through the WebDAV server itself (rclone caches its folder listing).
    let put = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, base64, urllib.request as u\n\
             auth = base64.b64encode(f'{sys.argv[2]}:{sys.argv[3]}'.encode()).decode()\n\
             u.urlopen(u.Request(sys.argv[1], data=b'half an upload', method='PUT', headers={'Authorization': 'Basic ' + auth}))",
            &format!("{}/{tag}/backup_full_killed.sql.zst.partial", env("BILLORA_TEST_WEBDAV_URL")),
            &env("BILLORA_TEST_WEBDAV_USER"),
            &env("BILLORA_TEST_WEBDAV_PASSWORD"),
        ])
        .status()
        .expect("python3 runs");
    assert!(
        put.success(),
        "a partial left by a killed upload is on the WebDAV server"
    );
    assert!(leftover.is_file(), "the partial is in the server's folder");
    let dead_lock = dir.path().join("dead.lock");
    sqlx::query(
        "INSERT INTO copies (run_id, schedule_id, destination_id, destination_name, object_path, partial_path, status, lock_path, created_at) \
         SELECT ?, ?, id, name, 'backup_full_killed.sql.zst', 'backup_full_killed.sql.zst.partial', 'uploading', ?, '2026-02-03T02:30:00Z' FROM destinations WHERE name = 'dav'",
    )
    .bind(first.run_id)
    .bind(id)
    .bind(dead_lock.display().to_string())
    .execute(store.pool())
    .await
    .expect("a stale copy row");
    store
        .recover_interrupted(now())
        .await
        .expect("recovery runs");
    let copies = store.copies(Some(first.run_id)).await.expect("copies");
    assert_eq!(
        copies[1].status, "interrupted",
        "the killed upload is marked interrupted: {copies:?}"
    );
    let second = run_at(&store, &secrets, id, "2026-02-04T02:00:00Z").await;
    assert_eq!(second.copies[0].status, "uploaded", "the next copy arrives");
    assert!(
        !leftover.exists(),
        "and the partial the killed upload left is removed"
    );
    server.drop_db(&db);
}

/// The "browser": follows Google's consent page (the stand-in consents at once) to the
/// loopback address the engine listens on.
fn browse(url: &str) {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let _ = std::process::Command::new("python3")
            .args(["-c", "import sys, urllib.request as u\ntry: u.urlopen(sys.argv[1]).read()\nexcept Exception: pass", &url])
            .status();
    });
}

fn drive(client_id: &str, folder: &str) -> NewDestination {
    NewDestination {
        name: "drive".into(),
        settings: DestinationSettings::Gdrive {
            client_id: client_id.into(),
            folder: folder.into(),
            api_base: Some(env("BILLORA_TEST_GDRIVE_BASE")),
        },
        retention_days: None,
        max_backups: Some(1),
    }
}

/// What the Drive stand-in holds or saw, as JSON.
fn standin(path: &str) -> serde_json::Value {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, urllib.request as u\nsys.stdout.write(u.urlopen(sys.argv[1]).read().decode())", &format!("{}{path}", env("BILLORA_TEST_GDRIVE_BASE"))])
        .output()
        .expect("python3 runs");
    serde_json::from_slice(&out.stdout).expect("the stand-in answers JSON")
}

#[tokio::test]
async fn google_drive_connects_with_pkce_uploads_in_chunks_keeps_one_copy_and_restores_from_it() {
    let secrets = test_secrets();
    let client_secret = env("BILLORA_TEST_GDRIVE_CLIENT_SECRET");
    let client_id = env("BILLORA_TEST_GDRIVE_CLIENT_ID");
    let folder = unique("Billora Backups");

    // Refused consent and a wrong client secret: clear errors, nothing kept.
    let denied = billora_engine::destination::connect(
        &drive(&format!("{client_id}-deny"), &folder),
        Some(&client_secret),
        &browse,
    )
    .await
    .expect_err("a refused consent");
    assert_eq!(
        denied.code,
        ErrorCode::AuthFailed,
        "the person said no: {denied:?}"
    );
    let wrong = billora_engine::destination::connect(
        &drive(&client_id, &folder),
        Some("not-the-secret"),
        &browse,
    )
    .await
    .expect_err("a wrong client secret");
    assert_eq!(
        wrong.code,
        ErrorCode::PermissionDenied,
        "Google refuses the client: {wrong:?}"
    );
    assert!(
        !wrong.message.contains("not-the-secret"),
        "the secret is not in the message: {}",
        wrong.message
    );

    // The consent flow: PKCE, the loopback redirect, a refresh token for the keyring.
    let request = drive(&client_id, &folder);
    let stored = billora_engine::destination::connect(&request, Some(&client_secret), &browse)
        .await
        .expect("connected")
        .expect("a secret to keep");
    let kept: serde_json::Value = serde_json::from_str(&stored).expect("JSON");
    assert!(
        kept["refresh_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("rt-")),
        "a refresh token: {kept}"
    );
    let auth = standin("/debug/log");
    let consent = auth
        .as_array()
        .expect("log")
        .iter()
        .rev()
        .find(|e| e["path"] == "/o/oauth2/v2/auth")
        .expect("the consent page was asked for");
    assert_eq!(
        consent["query"]["code_challenge_method"],
        json!("S256"),
        "with PKCE"
    );
    assert_eq!(
        consent["query"]["scope"],
        json!("https://www.googleapis.com/auth/drive.file"),
        "only the app's own files"
    );
    assert!(
        consent["query"]["redirect_uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1:")),
        "a loopback redirect"
    );

    let server = services();
    let db = server.fixture_db("dest_drive");
    let (_dir, store) = temp_store().await;
    add_test_connection(&store, &secrets, "office", &db).await;
    billora_engine::destination::test_draft(&request, Some(&stored))
        .await
        .expect("the draft test writes, reads and deletes");
    store
        .add_destination(request, Some(&stored), &secrets, now())
        .await
        .expect("saved");
    let id = schedule(
        &store,
        json!({"name": "Drive", "cron_expression": "0 2 * * *", "backup_type": "full", "copy_to": ["drive"]}),
    )
    .await;
    let first = run_at(&store, &secrets, id, "2026-02-03T02:00:00Z").await;
    assert_eq!(
        first.copies[0].status, "uploaded",
        "the copy is in Drive: {:?}",
        first.copies
    );
    let second = run_at(&store, &secrets, id, "2026-02-04T02:00:00Z").await;
    assert_eq!(
        second.copies[0].status, "uploaded",
        "and the next one: {:?}",
        second.copies
    );
    let file = second.file.clone().expect("file");
    // Browsed as a new computer would: Drive's folder is listed with each backup's manifest.
    let remote = billora_engine::destination::remote::Remote::open(
        &store.get_destination("drive").await.expect("saved"),
        &secrets,
    )
    .expect("open");
    let listed = billora_engine::destination::browse::browse(&remote)
        .await
        .expect("the Drive folder is listed");
    assert!(
        listed.iter().any(|(b, m)| b.object == file.filename
            && b.schedule_name.as_deref() == Some("Drive")
            && b.problem.is_none()
            && m.is_some()),
        "the newest backup is listed with its manifest: {listed:?}"
    );
    // The stand-in outlives test runs, and runs share file names: look inside this folder.
    let files = standin("/debug/files");
    let files = files.as_array().expect("files");
    let folder_id = files
        .iter()
        .find(|f| f["name"] == json!(folder))
        .expect("the app made its folder")["id"]
        .clone();
    let in_folder = |name: &str| {
        files
            .iter()
            .find(|f| f["name"] == json!(name) && f["parents"] == json!([folder_id]))
            .cloned()
    };
    let stored_file = in_folder(&file.filename).expect("the newest backup is in the app's folder");
    assert_eq!(
        stored_file["sha256Checksum"],
        json!(file.sha256),
        "byte for byte"
    );
    assert!(
        in_folder(&format!("{}.manifest.json", file.filename)).is_some(),
        "with its manifest"
    );
    let old = first.file.expect("file").filename;
    assert!(
        in_folder(&old).is_none(),
        "max_backups 1 on the destination deleted the older copy"
    );

    // Restore from Drive when the local file is gone.
    std::fs::remove_file(&file.path).expect("local copy removed");
    let fetched = backup_file(&store, &secrets, second.run_id, None)
        .await
        .expect("fetched from Drive");
    assert_eq!(fetched.fetched_from.as_deref(), Some("drive"), "from Drive");
    assert_eq!(
        sha256_of(&fetched.path),
        file.sha256,
        "the fetched copy is the backup"
    );
    drop(fetched);

    // A large file goes up in 8 MiB chunks of a resumable session.
    let dir = tempfile::tempdir().expect("dir");
    let big = dir.path().join("big.bin");
    let bytes: Vec<u8> = (0..20 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&big, &bytes).expect("written");
    let sha = billora_engine::artifact::hex(&billora_engine::artifact::Sha256::digest(&bytes));
    let destination = store.get_destination("drive").await.expect("saved");
    let remote = Remote::open(&destination, &secrets).expect("opens");
    // The stand-in's log outlives test runs: only what this upload added.
    let seen_before = standin("/debug/log").as_array().map_or(0, Vec::len);
    remote
        .send(&big, "big.bin", &sha, &AtomicBool::new(false), &|_| {})
        .await
        .expect("sent");
    let chunks: Vec<u64> = standin("/debug/log")
        .as_array()
        .expect("log")
        .iter()
        .skip(seen_before)
        .filter(|e| {
            e["method"] == "PUT"
                && e["range"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!("/{}", bytes.len())))
        })
        .map(|e| e["chunk"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(
        chunks,
        vec![8 << 20, 8 << 20, 4 << 20],
        "three chunks, none over 8 MiB"
    );
    server.drop_db(&db);
}
