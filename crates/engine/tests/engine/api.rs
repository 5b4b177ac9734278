//! The desktop app's API without a window: what each app command does, against the real
//! MariaDB, with a manual clock and a recording desktop notifier.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use billora_engine::api::{
    AddConnectionRequest, Api, ApiHost, CronPreviewRequest, Health, HistoryQuery,
    RetentionPreviewRequest, TestDraftRequest, TrayIcon,
};
use billora_engine::connection::NewConnection;
use billora_engine::cron::Lang;
use billora_engine::dump::DumpProgress;
use billora_engine::notify::{NoticeKind, RecordingNotifier};
use billora_engine::schedule::{parse_request, NewSchedule};
use billora_engine::scheduler::{RunObserver, SchedulerConfig};
use billora_engine::secrets::{MemorySecrets, SecretStore};
use billora_engine::store::Store;
use billora_engine::ErrorCode;
use jiff::Timestamp;

use crate::support::{add_test_connection, services, temp_store, wait_for, ManualClock};

/// Counts what the scheduler tells the shell.
#[derive(Debug, Default)]
struct Seen {
    started: Mutex<Vec<i64>>,
    progress: Mutex<usize>,
    finished: Mutex<Vec<(i64, String)>>,
}

impl RunObserver for Seen {
    fn started(&self, id: i64) {
        self.started.lock().expect("lock").push(id);
    }
    fn progress(&self, _id: i64, _p: &DumpProgress) {
        *self.progress.lock().expect("lock") += 1;
    }
    fn finished(&self, id: i64, outcome: Option<&billora_engine::run::RunOutcome>) {
        let status = outcome.map(|o| o.status.clone()).unwrap_or_default();
        self.finished.lock().expect("lock").push((id, status));
    }
}

struct Harness {
    api: Api,
    store: Store,
    clock: Arc<ManualClock>,
    desktop: Arc<RecordingNotifier>,
    seen: Arc<Seen>,
    secrets: Arc<MemorySecrets>,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<()>,
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

async fn harness(at: &str) -> Harness {
    let (dir, store) = temp_store().await;
    let clock = Arc::new(ManualClock(Mutex::new(ts(at))));
    let desktop = Arc::new(RecordingNotifier::default());
    let seen = Arc::new(Seen::default());
    let secrets = Arc::new(MemorySecrets::default());
    let host = ApiHost {
        secrets: secrets.clone(),
        clock: clock.clone(),
        desktop: Some(desktop.clone()),
        watcher: Some(seen.clone()),
        config: SchedulerConfig {
            wake_interval: Duration::from_millis(50),
            run_options: Default::default(),
            ..SchedulerConfig::default()
        },
    };
    let (api, scheduler) = Api::start(store.clone(), host);
    let (scheduler, lock) = scheduler.expect("the first API on a data folder runs the scheduler");
    let task = tokio::spawn(async move {
        let _lock = lock;
        scheduler.run().await.expect("the scheduler runs");
    });
    Harness {
        api,
        store,
        clock,
        desktop,
        seen,
        secrets,
        _dir: dir,
        _task: task,
    }
}

fn schedule(body: &str) -> NewSchedule {
    parse_request(body).expect("a valid request")
}

#[tokio::test]
async fn cron_preview_describes_lists_and_points_errors_at_fields() {
    let h = harness("2026-02-01T00:00:00Z").await;
    let preview = h
        .api
        .cron_preview(
            CronPreviewRequest {
                cron_expression: "0 2 * * *".into(),
                timezone: Some("Asia/Bangkok".into()),
                count: None,
            },
            Lang::En,
        )
        .await
        .expect("a valid expression previews");
    assert_eq!(
        preview.description, "At 02:00 every day",
        "the description in words"
    );
    assert_eq!(preview.next_runs.len(), 5, "five next runs by default");
    assert!(
        preview.next_runs[0].starts_with("2026-02-02T02:00:00+07:00"),
        "07:00 in Bangkok now, so the first run is tomorrow 02:00 Bangkok time, shown in that zone: {}",
        preview.next_runs[0]
    );
    let thai = h
        .api
        .cron_preview(
            CronPreviewRequest {
                cron_expression: "0 2 * * *".into(),
                timezone: Some("Asia/Bangkok".into()),
                count: Some(1),
            },
            Lang::Th,
        )
        .await
        .expect("previews in Thai");
    assert!(
        thai.description.contains("ทุกวัน"),
        "Thai description: {}",
        thai.description
    );

    let bad = h
        .api
        .cron_preview(
            CronPreviewRequest {
                cron_expression: "61 2 * * *".into(),
                timezone: None,
                count: None,
            },
            Lang::En,
        )
        .await
        .expect_err("minute 61 is refused");
    assert_eq!(bad.code, ErrorCode::InvalidCron, "a cron error code");
    assert_eq!(
        bad.field.as_deref(),
        Some("cron_expression"),
        "the error names the cron field"
    );
    let bad_th = h
        .api
        .cron_preview(
            CronPreviewRequest {
                cron_expression: "61 2 * * *".into(),
                timezone: None,
                count: None,
            },
            Lang::Th,
        )
        .await
        .expect_err("minute 61 is refused");
    assert_eq!(
        (bad_th.message.as_str(), bad_th.field.as_deref()),
        ("นาที: 61 อยู่นอกช่วง 0-59", Some("cron_expression")),
        "in Thai for the app in Thai, on the same field"
    );
    let zone = h
        .api
        .cron_preview(
            CronPreviewRequest {
                cron_expression: "0 2 * * *".into(),
                timezone: Some("Mars/Olympus".into()),
                count: None,
            },
            Lang::En,
        )
        .await
        .expect_err("an unknown zone is refused");
    assert_eq!(
        zone.field.as_deref(),
        Some("timezone"),
        "the error names the zone field"
    );
}

#[tokio::test]
async fn a_run_from_the_app_is_watched_recorded_notified_on_the_desktop_and_shown_as_healthy() {
    let server = services();
    let db = server.fixture_db("api_run");
    let h = harness("2026-02-01T00:00:00Z").await;
    add_test_connection(&h.store, &h.secrets, "office", &db).await;

    let weekly = h
        .api
        .create_schedule(schedule(
            r#"{"name":"Weekly Full Backup","cron_expression":"0 3 * * 0","backup_type":"full",
                "retention_days":30,"max_backups":4,"notify_on_success":true,"notify_on_failure":true}"#,
        ))
        .await
        .expect("notifications without an email address are desktop-only, and allowed");
    let board = h.api.dashboard(Lang::En).await.expect("dashboard");
    assert_eq!(
        board.schedules[0].health,
        Health::Pending,
        "a new schedule has not run yet"
    );
    assert_eq!(board.connections, 1, "one connection");

    h.api
        .run_schedule_now(weekly.id)
        .await
        .expect("run now starts");
    let runs = wait_for(&h.store, "the manual run to succeed", |runs| {
        runs.iter().any(|r| r.status == "success")
    })
    .await;
    assert_eq!(runs[0].trigger, "manual", "run now is recorded as manual");
    let file = h
        .api
        .backup_file(runs[0].id)
        .await
        .expect("the run has a file");
    assert!(
        file.is_file(),
        "the backup file is on disk: {}",
        file.display()
    );

    // The observer hears the run before the desktop notification is recorded.
    for _ in 0..100 {
        if !h.desktop.0.lock().expect("lock").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *h.seen.started.lock().expect("lock"),
        vec![weekly.id],
        "the shell hears the start"
    );
    assert!(
        *h.seen.progress.lock().expect("lock") > 0,
        "the shell hears progress"
    );
    assert_eq!(
        *h.seen.finished.lock().expect("lock"),
        vec![(weekly.id, "success".to_owned())],
        "the shell hears the end"
    );
    let notices = h.desktop.0.lock().expect("lock").clone();
    assert_eq!(notices.len(), 1, "one desktop popup for one success");
    assert_eq!(notices[0].kind, NoticeKind::Success, "a success notice");
    assert!(
        notices[0].subject.contains("Weekly Full Backup"),
        "it names the schedule: {}",
        notices[0].subject
    );

    let board = h.api.dashboard(Lang::En).await.expect("dashboard");
    let state = &board.schedules[0];
    assert_eq!(state.health, Health::Good, "a fresh good backup is healthy");
    assert!(
        state.newest_success_at.is_some(),
        "the newest good backup is shown"
    );
    assert!(state.running.is_none(), "nothing runs any more");
    let tray = h.api.tray_status(Lang::En).await.expect("tray");
    assert_eq!(tray.icon, TrayIcon::Idle, "all good: the idle icon");
    assert!(
        tray.last_line.starts_with("Last: ✓ Weekly Full Backup"),
        "the tray's last line: {}",
        tray.last_line
    );
    assert!(
        tray.next_line.starts_with("Next: "),
        "the tray's next line: {}",
        tray.next_line
    );
    assert_eq!(
        tray.schedules,
        vec![(weekly.id, "Weekly Full Backup".to_owned())],
        "the run-now submenu"
    );

    let filtered = h
        .api
        .list_history(HistoryQuery {
            schedule_id: Some(weekly.id),
            status: Some("failed".into()),
            ..Default::default()
        })
        .await
        .expect("filter");
    assert!(filtered.is_empty(), "no failed run of this schedule");
    let refused = h
        .api
        .list_history(HistoryQuery {
            schedule_id: None,
            status: Some("exploded".into()),
            ..Default::default()
        })
        .await
        .expect_err("an unknown status is refused");
    assert_eq!(
        refused.field.as_deref(),
        Some("status"),
        "the error names the status filter"
    );

    let preview = h
        .api
        .retention_preview(
            RetentionPreviewRequest {
                schedule_id: weekly.id,
                retention_days: None,
                max_backups: Some(1),
                gfs: None,
            },
            Lang::En,
        )
        .await
        .expect("retention preview");
    assert!(
        preview.len() == 1 && preview[0].keep,
        "the only good backup is never deleted: {preview:?}"
    );
    assert_eq!(
        preview[0].reason, "the newest backup is always kept",
        "and the preview says why"
    );
    let bad = h
        .api
        .retention_preview(
            RetentionPreviewRequest {
                schedule_id: weekly.id,
                retention_days: Some(0),
                max_backups: None,
                gfs: None,
            },
            Lang::En,
        )
        .await
        .expect_err("0 days is refused");
    assert_eq!(
        bad.field.as_deref(),
        Some("retention_days"),
        "the error names the field"
    );
    server.drop_db(&db);
}

#[tokio::test]
async fn a_failing_schedule_turns_red_with_its_reason_and_the_tray_shows_the_failure() {
    let h = harness("2026-02-01T00:00:00Z").await;
    // A connection to a port where nothing listens.
    let request = NewConnection {
        host: "127.0.0.1".into(),
        port: Some(9),
        username: "nobody".into(),
        password_source: None,
        ..crate::support::test_profile("down", "billora")
    };
    h.api
        .add_connection(AddConnectionRequest {
            ssh_secret: None,
            connection: request,
            password: "pw".into(),
        })
        .await
        .expect("added");
    let s = h
        .api
        .create_schedule(schedule(
            r#"{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full"}"#,
        ))
        .await
        .expect("created");
    h.api.run_schedule_now(s.id).await.expect("starts");
    wait_for(&h.store, "the failed run", |runs| {
        runs.iter().any(|r| r.status == "failed")
    })
    .await;
    let board = h.api.dashboard(Lang::En).await.expect("dashboard");
    assert_eq!(
        board.schedules[0].health,
        Health::Failing,
        "the last run failed: red"
    );
    assert!(
        board.schedules[0]
            .health_reason
            .as_deref()
            .unwrap_or("")
            .contains("127.0.0.1:9"),
        "the reason is the run's own error: {:?}",
        board.schedules[0].health_reason
    );
    assert_eq!(board.recent_failures.len(), 1, "the failure is listed");
    let tray = h.api.tray_status(Lang::Th).await.expect("tray");
    assert_eq!(tray.icon, TrayIcon::Failed, "the tray shows the failure");
    assert!(
        tray.last_line.contains("ล้มเหลว"),
        "in Thai: {}",
        tray.last_line
    );
    assert!(
        tray.last_line.contains(" 25"),
        "with the year in the Buddhist era, as the app's screens: {}",
        tray.last_line
    );
    h.api.set_paused(true).await.expect("paused");
    assert_eq!(
        h.api.tray_status(Lang::En).await.expect("tray").icon,
        TrayIcon::Failed,
        "pausing does not hide a failure in the tray"
    );
}

#[tokio::test]
async fn pausing_lets_due_slots_pass_without_runs_and_resuming_runs_the_next_one() {
    let server = services();
    let db = server.fixture_db("api_pause");
    let h = harness("2026-02-01T00:00:30Z").await;
    add_test_connection(&h.store, &h.secrets, "office", &db).await;
    let s = h
        .api
        .create_schedule(schedule(r#"{"name":"Minutely","cron_expression":"* * * * *","backup_type":"full","timezone":"UTC"}"#))
        .await
        .expect("created");
    h.api.set_paused(true).await.expect("paused");
    assert!(
        h.api.settings().await.expect("settings").paused,
        "the setting says paused"
    );
    assert_eq!(
        h.api.tray_status(Lang::En).await.expect("tray").icon,
        TrayIcon::Paused,
        "the tray shows paused"
    );

    *h.clock.0.lock().expect("clock") = ts("2026-02-01T00:01:10Z");
    h.api
        .set_paused(true)
        .await
        .expect("a change wakes the loop");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        h.store
            .list_history(None)
            .await
            .expect("history")
            .is_empty(),
        "no run while paused"
    );
    let after = h.store.get_schedule(s.id).await.expect("schedule");
    assert_eq!(
        after.next_run_at.map(|z| z.timestamp()),
        Some(ts("2026-02-01T00:02:00Z")),
        "the passed slot is consumed, not saved up for later"
    );

    h.api.set_paused(false).await.expect("resumed");
    *h.clock.0.lock().expect("clock") = ts("2026-02-01T00:02:05Z");
    let runs = wait_for(&h.store, "the first run after resuming", |runs| {
        runs.iter().any(|r| r.status == "success")
    })
    .await;
    assert_eq!(
        runs.len(),
        1,
        "one run after resuming, no burst of missed ones"
    );
    assert_eq!(runs[0].trigger, "scheduled", "an ordinary scheduled run");
    h.api.shutdown();
    server.drop_db(&db);
}

#[tokio::test]
async fn connections_from_the_app_keep_the_password_in_the_keyring_and_errors_on_their_fields() {
    let server = services();
    let h = harness("2026-02-01T00:00:00Z").await;
    let draft = |password: &str| TestDraftRequest {
        ssh_secret: None,
        connection: NewConnection {
            password_source: None,
            ..crate::support::test_profile("office", "mysql")
        },
        password: password.into(),
    };
    let wrong = h
        .api
        .test_draft(draft("wrong"))
        .await
        .expect_err("a wrong password is refused");
    assert_eq!(wrong.code, ErrorCode::AuthFailed, "an authentication error");
    assert_eq!(
        wrong.field.as_deref(),
        Some("password"),
        "shown next to the password"
    );
    let check = h
        .api
        .test_draft(draft(&server.password))
        .await
        .expect("the right password connects");
    assert!(
        !check.server_version.is_empty(),
        "the server version is reported"
    );

    let empty = h
        .api
        .add_connection(AddConnectionRequest {
            ssh_secret: None,
            connection: draft("").connection,
            password: String::new(),
        })
        .await
        .expect_err("an empty password is refused");
    assert_eq!(
        empty.field.as_deref(),
        Some("password"),
        "on the password field"
    );
    assert!(
        h.api.list_connections().await.expect("list").is_empty(),
        "nothing was stored"
    );

    let added = h
        .api
        .add_connection(AddConnectionRequest {
            ssh_secret: None,
            connection: draft("").connection,
            password: server.password.clone(),
        })
        .await
        .expect("added");
    assert_eq!(
        h.secrets.get("connection:office").expect("read").as_deref(),
        Some(server.password.as_str()),
        "the password is in the keyring"
    );
    let store_bytes = std::fs::read(h.store.data_dir().join("billora.db")).expect("store file");
    assert!(
        !store_bytes
            .windows(server.password.len())
            .any(|w| w == server.password.as_bytes()),
        "the store file does not hold the password"
    );
    h.api
        .test_connection(added.name.clone())
        .await
        .expect("the saved profile connects");
    h.api.remove_connection(added.name).await.expect("removed");
    assert_eq!(
        h.secrets.get("connection:office").expect("read"),
        None,
        "the password left the keyring too"
    );
}

#[tokio::test]
async fn settings_default_folder_and_language() {
    let h = harness("2026-02-01T00:00:00Z").await;
    let before = h.api.settings().await.expect("settings");
    assert_eq!(
        before.language, None,
        "no language chosen: the app follows the system"
    );
    assert!(
        before.default_folder.ends_with("backups"),
        "the standard folder: {}",
        before.default_folder
    );
    assert!(!before.default_folder_is_custom, "not custom yet");

    let refused = h
        .api
        .set_default_folder(Some("relative/folder".into()))
        .await
        .expect_err("a relative folder is refused");
    assert_eq!(
        refused.field.as_deref(),
        Some("default_folder"),
        "on the folder field"
    );
    assert_eq!(
        h.api.settings().await.expect("settings").default_folder,
        before.default_folder,
        "nothing changed"
    );

    let custom = h.store.data_dir().join("elsewhere");
    h.api
        .set_default_folder(Some(custom.display().to_string()))
        .await
        .expect("an absolute folder is accepted");
    let after = h.api.settings().await.expect("settings");
    assert_eq!(
        after.default_folder,
        custom.display().to_string(),
        "the folder is saved"
    );
    assert!(custom.is_dir(), "and created");
    h.api.set_default_folder(None).await.expect("reset");
    assert_eq!(
        h.api.settings().await.expect("settings").default_folder,
        before.default_folder,
        "back to standard"
    );

    let recovery = h.store.data_dir().join("recovery-key.txt");
    let public = h
        .api
        .create_encryption_key(recovery.display().to_string())
        .await
        .expect("a key is created");
    assert!(
        public.starts_with("age1"),
        "the public key is returned: {public}"
    );
    assert_eq!(
        h.api.settings().await.expect("settings").encryption_keys,
        vec![public.clone()],
        "the app remembers its public keys for the editor"
    );
    let text = std::fs::read_to_string(&recovery).expect("the recovery file is written");
    let secret = h
        .secrets
        .get(&billora_engine::crypt::identity_key(&public))
        .expect("read")
        .expect("the keyring holds the secret key");
    assert!(
        text.contains(&secret),
        "the recovery file holds the same secret key"
    );
    let again = h
        .api
        .create_encryption_key(recovery.display().to_string())
        .await
        .expect_err("an existing recovery file is never overwritten");
    assert_eq!(
        again.field.as_deref(),
        Some("recovery_file"),
        "on the file field"
    );
    assert_eq!(
        h.api
            .settings()
            .await
            .expect("settings")
            .encryption_keys
            .len(),
        1,
        "a refused key adds nothing"
    );

    h.api.set_language(Lang::Th).await.expect("language");
    assert_eq!(
        h.api.language(Lang::En).await,
        Lang::Th,
        "the saved choice wins over the system's"
    );
}

#[tokio::test]
async fn a_copy_that_did_not_arrive_turns_the_schedule_amber_and_the_notice_names_the_destination()
{
    use billora_engine::api::{DestinationForm, Health};
    use billora_engine::destination::{DestinationSettings, NewDestination};
    let server = services();
    let db = server.fixture_db("api_copy");
    let h = harness("2026-02-01T00:00:00Z").await;
    add_test_connection(&h.store, &h.secrets, "office", &db).await;
    // The app refuses a destination it cannot write to, on the address field…
    let down = || NewDestination {
        name: "offsite".into(),
        settings: DestinationSettings::S3 {
            endpoint: Some("http://127.0.0.1:9".into()),
            region: None,
            bucket: "office".into(),
            prefix: String::new(),
            path_style: true,
            access_key_id: "k".into(),
        },
        retention_days: None,
        max_backups: None,
    };
    let err = h
        .api
        .add_destination(
            DestinationForm {
                destination: down(),
                secret: Some("s".into()),
            },
            &|_| {},
        )
        .await
        .expect_err("nothing listens there");
    assert_eq!(err.code, ErrorCode::Unreachable, "unreachable: {err:?}");
    assert_eq!(
        err.field.as_deref(),
        Some("endpoint"),
        "shown next to the address"
    );
    assert!(
        h.api.list_destinations().await.expect("list").is_empty(),
        "and not saved"
    );
    // …but one that worked when saved can go down later.
    h.store
        .add_destination(down(), Some("s"), &*h.secrets, ts("2026-02-01T00:00:00Z"))
        .await
        .expect("saved as if it had worked then");
    let s = h
        .api
        .create_schedule(schedule(
            r#"{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full","connection":"office",
                "notify_on_failure":true,"copy_to":["offsite"]}"#,
        ))
        .await
        .expect("created");
    h.api.run_schedule_now(s.id).await.expect("starts");
    wait_for(&h.store, "the run with its failed copy", |runs| {
        runs.iter()
            .any(|r| r.status == "success" && r.copies.iter().any(|c| c.status == "failed"))
    })
    .await;
    let board = h.api.dashboard(Lang::En).await.expect("dashboard");
    assert_eq!(
        board.schedules[0].health,
        Health::Late,
        "a good backup that did not reach its destination: amber"
    );
    assert!(
        board.schedules[0]
            .health_reason
            .as_deref()
            .unwrap_or("")
            .contains("offsite"),
        "the reason names the destination: {:?}",
        board.schedules[0].health_reason
    );
    // The desktop notice goes to a schedule that asked for failures only.
    for _ in 0..100 {
        if !h.desktop.0.lock().expect("lock").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = h.desktop.0.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1, "one notice");
    assert!(
        sent[0].subject.contains("copy FAILED"),
        "it says a copy failed: {}",
        sent[0].subject
    );
    assert!(
        sent[0]
            .body
            .contains("Copy to offsite: FAILED [Unreachable]"),
        "naming the destination: {}",
        sent[0].body
    );
    server.drop_db(&db);
}

/// Every file under `dir`, read whole (the store, its WAL, manifests, backups).
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

#[tokio::test]
async fn no_secret_reaches_the_store_the_history_a_file_or_a_notification() {
    use billora_engine::api::{DestinationForm, SaveSmtpRequest};
    use billora_engine::destination::{DestinationSettings, NewDestination};
    use billora_engine::notify::{SmtpSecurity, SmtpSettings};
    use billora_engine::secrets::PasswordSource;

    let server = services();
    let db = server.fixture_db("secret_scan");
    let h = harness("2026-02-03T01:00:00Z").await;
    let s3_secret = "S3-SECRET-7f3a9c1e";
    let smtp_secret = "SMTP-SECRET-19be42";
    let passphrase = "AGE-PASS-SECRET-4411-correct-horse";
    add_test_connection(&h.store, &h.secrets, "office", &db).await;
    // A second connection to a database that does not exist: a failed run with an error text.
    h.api
        .add_connection(AddConnectionRequest {
            ssh_secret: None,
            connection: NewConnection {
                password_source: None,
                ..crate::support::test_profile("broken", "t_no_such_database")
            },
            password: server.password.clone(),
        })
        .await
        .expect("added");
    h.api
        .add_destination(
            DestinationForm {
                destination: NewDestination {
                    name: "cloud".into(),
                    settings: DestinationSettings::S3 {
                        endpoint: Some(server.env["BILLORA_TEST_S3_ENDPOINT"].clone()),
                        region: None,
                        bucket: server.env["BILLORA_TEST_S3_BUCKET"].clone(),
                        prefix: format!("secret-scan-{}", std::process::id()),
                        path_style: true,
                        access_key_id: "billora-test-key".into(),
                    },
                    retention_days: None,
                    max_backups: None,
                },
                secret: Some(s3_secret.into()),
            },
            &|_| {},
        )
        .await
        .expect("the S3 destination is saved");
    // The mail settings' password is stored too (no schedule mails here: a server that is down
    // would hold each run's slot through the retries).
    h.api
        .save_smtp(SaveSmtpRequest {
            smtp: SmtpSettings {
                host: "127.0.0.1".into(),
                port: 9,
                security: SmtpSecurity::None,
                username: Some("mailer".into()),
                from: "backup@example.com".into(),
                ca_file: None,
                password_source: PasswordSource::Keyring,
            },
            password: Some(smtp_secret.into()),
        })
        .await
        .expect("smtp saved");
    let good = h
        .api
        .create_schedule(schedule(
            r#"{"name":"Encrypted","cron_expression":"0 2 * * *","backup_type":"full","connection":"office",
                "encrypt_to":"passphrase","copy_to":["cloud"],"notify_on_success":true,
                "verify_after_backup":true}"#,
        ))
        .await
        .expect("created");
    h.api
        .set_schedule_passphrase(good.id, passphrase.into())
        .await
        .expect("passphrase saved");
    let bad = h
        .api
        .create_schedule(schedule(
            r#"{"name":"Broken","cron_expression":"0 3 * * *","backup_type":"full","connection":"broken",
                "notify_on_failure":true}"#,
        ))
        .await
        .expect("created");
    h.api.run_schedule_now(good.id).await.expect("starts");
    // Until its test restore is recorded: the scratch database is dropped before that, and a
    // test that ended earlier would leave it on the shared server.
    wait_for(
        &h.store,
        "the encrypted backup and its test restore",
        |runs| {
            runs.iter()
                .any(|r| r.status == "success" && r.verification.is_some())
        },
    )
    .await;
    h.api.run_schedule_now(bad.id).await.expect("starts");
    let runs = wait_for(&h.store, "both runs to end", |runs| {
        runs.iter().any(|r| r.status == "success") && runs.iter().any(|r| r.status == "failed")
    })
    .await;
    // Let the notifications go out (they follow the history entry).
    for _ in 0..100 {
        if h.desktop.0.lock().expect("lock").len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert!(
        runs.iter()
            .any(|r| r.verification.as_deref() == Some("verified")),
        "the encrypted backup was test-restored (its passphrase was used): {runs:?}"
    );
    let secrets = [server.password.as_str(), s3_secret, smtp_secret, passphrase];
    for secret in secrets {
        assert_eq!(
            h.secrets
                .get(match secret {
                    s if s == s3_secret => "destination:cloud",
                    s if s == smtp_secret => "smtp",
                    s if s == passphrase => "passphrase:schedule:1",
                    _ => "connection:office",
                })
                .expect("keyring")
                .as_deref(),
            Some(secret),
            "the secret is in the keyring (so the scan below looks for something real)"
        );
    }
    let history = serde_json::to_string(&runs).expect("json");
    let notices = format!("{:?}", h.desktop.0.lock().expect("lock"));
    assert!(
        history.contains("t_no_such_database") && !notices.is_empty(),
        "the failure's reason and the notices are there to scan: {history}"
    );
    let files = files_under(h._dir.path());
    assert!(
        files.iter().any(|(p, _)| p.ends_with("billora.db")),
        "the store is among the files scanned"
    );
    for secret in secrets {
        assert!(
            !history.contains(secret),
            "the history holds no secret ({secret})"
        );
        assert!(
            !notices.contains(secret),
            "no notification holds a secret ({secret})"
        );
        for (path, bytes) in &files {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds no secret ({secret})",
                path.display()
            );
        }
    }
    server.drop_db(&db);
}

#[tokio::test]
async fn the_apps_http_api_settings_are_loopback_only_and_tokens_are_shown_once() {
    use billora_engine::api::{HttpApiSettings, Role};
    let h = harness("2026-02-01T00:00:00Z").await;
    let default = h.api.http_api_settings().await.expect("settings");
    assert!(!default.enabled, "off until the admin turns it on");
    for (address, why) in [
        ("0.0.0.0:8787", "another computer"),
        ("127.0.0.1:0", "no port"),
        ("localhost", "no port, not an address"),
    ] {
        let refused = h
            .api
            .set_http_api_settings(HttpApiSettings {
                enabled: true,
                address: address.into(),
            })
            .await
            .expect_err(why);
        assert_eq!(
            refused.field.as_deref(),
            Some("address"),
            "{address}: on the address field"
        );
    }
    assert_eq!(
        h.api.http_api_settings().await.expect("settings"),
        default,
        "a refused change stores nothing"
    );
    let saved = h
        .api
        .set_http_api_settings(HttpApiSettings {
            enabled: true,
            address: " 127.0.0.1:18787 ".into(),
        })
        .await
        .expect("a loopback address is saved");
    assert_eq!(saved.address, "127.0.0.1:18787", "trimmed");
    assert_eq!(
        h.api.http_api_settings().await.expect("settings"),
        saved,
        "and kept"
    );

    let token = h
        .api
        .create_token("billora-admin", Role::Admin)
        .await
        .expect("a token");
    assert_eq!(
        h.api.authenticate(&token).await.expect("it is valid"),
        Role::Admin,
        "with its role"
    );
    let listed = h.api.list_tokens().await.expect("list");
    assert_eq!(listed.len(), 1, "one token: {listed:?}");
    assert!(
        !format!("{listed:?}").contains(&token[4..]),
        "the list never holds the token"
    );
    let again = h
        .api
        .create_token("billora-admin", Role::Monitor)
        .await
        .expect_err("one live token per name");
    assert_eq!(again.field.as_deref(), Some("name"), "on the name");
    h.api.revoke_token("billora-admin").await.expect("revoked");
    assert!(
        h.api.authenticate(&token).await.is_err(),
        "a revoked token is refused"
    );
}

/// The dashboard reads only the runs it shows (by index) and keeps them while the store is
/// unchanged: each card's last run, newest success and last 30 sizes are the ones the whole
/// history would give, and a run recorded by another process shows at the next look.
#[tokio::test]
async fn the_dashboard_shows_each_schedules_own_recent_runs_and_sees_other_processes_writes() {
    let h = harness("2026-02-03T10:00:00Z").await;
    let make = |name: &str| {
        schedule(&format!(
            r#"{{"name":"{name}","cron_expression":"0 2 * * *","backup_type":"full"}}"#
        ))
    };
    let a = h.api.create_schedule(make("A")).await.expect("A");
    let b = h.api.create_schedule(make("B")).await.expect("B");
    // A: 40 good backups of growing size, then a failure; B: one good backup. Interleaved.
    let insert = |schedule: i64, name: &str, status: &str, at: String, size: Option<i64>| {
        sqlx::query(
            "INSERT INTO runs (schedule_id, schedule_name, backup_type, trigger, status, created_at, \
             finished_at, filename, file_size, duration_seconds, error_code, error_message) \
             VALUES (?, ?, 'full', 'scheduled', ?, ?, ?, ?, ?, 1.0, ?, ?)",
        )
        .bind(schedule)
        .bind(name.to_owned())
        .bind(status.to_owned())
        .bind(at.clone())
        .bind(at)
        .bind(size.map(|s| format!("backup_{s}.sql.zst")))
        .bind(size)
        .bind((status == "failed").then_some("Unreachable"))
        .bind((status == "failed").then_some("the server did not answer"))
    };
    for day in 1..=40 {
        let at = format!("2026-01-{:02}T02:00:00Z", 1 + (day - 1) % 28);
        let at = if day > 28 {
            at.replace("2026-01", "2026-02")
        } else {
            at
        };
        insert(a.id, "A", "success", at, Some(1000 + day))
            .execute(h.store.pool())
            .await
            .expect("a run of A");
        if day == 20 {
            insert(b.id, "B", "success", "2026-01-20T03:00:00Z".into(), Some(7))
                .execute(h.store.pool())
                .await
                .expect("the run of B");
        }
    }
    insert(a.id, "A", "failed", "2026-02-13T02:00:00Z".into(), None)
        .execute(h.store.pool())
        .await
        .expect("A's failure");
    let board = h.api.dashboard(Lang::En).await.expect("dashboard");
    let card = |name: &str| {
        board
            .schedules
            .iter()
            .find(|s| s.schedule.name == name)
            .expect("a card")
            .clone()
    };
    let (card_a, card_b) = (card("A"), card("B"));
    assert_eq!(
        card_a.recent_sizes,
        (11..=40).map(|d| 1000 + d as u64).collect::<Vec<_>>(),
        "A's last 30 good backups' sizes, oldest first"
    );
    assert_eq!(
        card_a.last_run.as_ref().map(|r| r.status.as_str()),
        Some("failed"),
        "A's last run is its failure"
    );
    assert_eq!(card_a.health, Health::Failing, "so A is red");
    assert_eq!(card_b.recent_sizes, vec![7], "B's own size only");
    assert_eq!(
        card_b.last_run.as_ref().and_then(|r| r.file_size),
        Some(7),
        "B's last run is its own"
    );
    assert_eq!(board.recent_failures.len(), 1, "the one failure is listed");

    // Another process (a second store on the same folder) records a good backup of A.
    let other = Store::open(h.store.data_dir())
        .await
        .expect("a second process's store");
    insert(
        a.id,
        "A",
        "success",
        "2026-02-14T02:00:00Z".into(),
        Some(5000),
    )
    .execute(other.pool())
    .await
    .expect("A's new backup, elsewhere");
    let board = h.api.dashboard(Lang::En).await.expect("dashboard");
    let card_a = board
        .schedules
        .iter()
        .find(|s| s.schedule.name == "A")
        .expect("A");
    assert_eq!(
        card_a.last_run.as_ref().and_then(|r| r.file_size),
        Some(5000),
        "the next look shows the run another process recorded"
    );
    assert_eq!(
        card_a.recent_sizes.last(),
        Some(&5000),
        "and its size ends the chart"
    );
}
