//! Schedules of several databases (issue 23), against the real MariaDB server: one history
//! entry with a file per database, `*` resolved from what the connection's user sees, a
//! hostile database name kept out of the file name, one database failing without stopping
//! the others, retention counting each database on its own, and pin/delete of the entry.

use billora_engine::backup::{run_schedule, RunControl, RunOptions};
use billora_engine::error::ErrorCode;
use billora_engine::restore::{restore, RestoreMode, RestoreRequest};
use billora_engine::run::{RunOutcome, Trigger};
use billora_engine::schedule::{parse_request, NewSchedule, SchedulePatch};
use billora_engine::secrets::MemorySecrets;
use billora_engine::store::Store;
use jiff::Timestamp;
use mysql::prelude::Queryable;
use serde_json::json;

use crate::support::{
    add_test_connection, cancel_on_first_progress, create_schedule, now, services, temp_store,
    test_profile, test_secrets,
};

async fn run_at(store: &Store, secrets: &MemorySecrets, id: i64, at: Timestamp) -> RunOutcome {
    run_schedule(
        store,
        secrets,
        id,
        Trigger::Manual,
        at,
        &RunOptions::default(),
        RunControl::default(),
    )
    .await
    .expect("the run is recorded")
}

/// A user that sees `databases` only (besides the system ones), for `*`.
fn user_seeing(user: &str, databases: &[&str]) {
    let mut admin = services().conn(None);
    admin
        .query_drop(format!("DROP USER IF EXISTS '{user}'@'127.0.0.1'"))
        .expect("drop user");
    admin
        .query_drop(format!(
            "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'multi-pw'"
        ))
        .expect("create user");
    for db in databases {
        admin
            .query_drop(format!(
                "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON `{}`.* TO '{user}'@'127.0.0.1'",
                db.replace('`', "``")
            ))
            .expect("grant");
    }
}

async fn add_user_connection(store: &Store, secrets: &MemorySecrets, user: &str, db: &str) {
    let request = billora_engine::connection::NewConnection {
        username: user.into(),
        ..test_profile(user, db)
    };
    store
        .add_connection(request, Some("multi-pw"), secrets, now())
        .await
        .expect("connection added");
}

#[tokio::test]
async fn a_schedule_of_every_database_makes_one_entry_with_a_file_per_database() {
    let server = services();
    let fixture = server.fixture_db("multi_a");
    // Database data is hostile: a name with a quote, a statement, a path and Thai letters.
    let hostile = format!(
        "t_x{}`; DROP DATABASE mysql; -- /../ ร้าน",
        std::process::id()
    );
    {
        let mut admin = server.conn(None);
        let quoted = hostile.replace('`', "``");
        admin
            .query_drop(format!("DROP DATABASE IF EXISTS `{quoted}`"))
            .expect("drop");
        admin
            .query_drop(format!("CREATE DATABASE `{quoted}` CHARACTER SET utf8mb4"))
            .expect("create the hostile database");
        admin
            .query_drop(format!(
                "CREATE TABLE `{quoted}`.notes (id INT PRIMARY KEY, body TEXT) ENGINE=InnoDB"
            ))
            .expect("table");
        admin
            .query_drop(format!(
                "INSERT INTO `{quoted}`.notes VALUES (1, 'สวัสดี'), (2, 'it''s `here`')"
            ))
            .expect("rows");
    }
    let user = format!("multi_{}", std::process::id());
    user_seeing(&user, &[&fixture, &hostile]);
    let (dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_user_connection(&store, &secrets, &user, &fixture).await;
    let schedule = create_schedule(
        &store,
        json!({"name": "Everything", "cron_expression": "0 2 * * *", "backup_type": "full",
               "databases": ["*"]}),
    )
    .await;
    assert_eq!(schedule.databases, vec!["*"], "the schedule keeps `*`");

    let outcome = run_at(&store, &secrets, schedule.id, now()).await;
    assert_eq!(
        outcome.status, "success",
        "every database is backed up: {:?}",
        outcome.error
    );
    let mut seen: Vec<&str> = outcome.parts.iter().map(|p| p.database.as_str()).collect();
    seen.sort_unstable();
    let mut expected = vec![fixture.as_str(), hostile.as_str()];
    expected.sort_unstable();
    assert_eq!(
        seen, expected,
        "`*` is every database the user sees, and no system database"
    );

    // One history entry, its parts inside it.
    let history = store
        .list_history(Some(schedule.id))
        .await
        .expect("history");
    assert_eq!(history.len(), 1, "one entry for the run: {history:?}");
    let entry = &history[0];
    assert_eq!(entry.parts.len(), 2, "the entry lists both databases");
    assert!(entry.filename.is_none(), "the entry has no file of its own");
    let total: i64 = entry.parts.iter().filter_map(|p| p.file_size).sum();
    assert_eq!(
        entry.file_size,
        Some(total),
        "its size is its files' together"
    );
    let schedule_now = store.get_schedule(schedule.id).await.expect("schedule");
    assert_eq!(
        (schedule_now.success_count, schedule_now.failed_count),
        (1, 0),
        "the run counts once"
    );
    for part in &entry.parts {
        let name = part.filename.as_deref().expect("each part has its file");
        assert!(
            name.starts_with("backup_full_") && name.ends_with(".sql.zst"),
            "the spec's naming with the database: {name}"
        );
        assert!(
            !name.contains(['/', '\\', '`', ';', ' ']) && !name.contains(".."),
            "nothing of the database's name may act as a path or a shell word: {name}"
        );
        assert!(
            part.database.is_some() && part.status == "success",
            "each part names its database: {part:?}"
        );
    }
    let hostile_part = entry
        .parts
        .iter()
        .find(|p| p.database.as_deref() == Some(hostile.as_str()))
        .expect("the hostile database's part");
    assert!(
        hostile_part
            .filename
            .as_deref()
            .is_some_and(|n| n.contains("ร้าน")),
        "Thai letters of a name stay in the file name: {:?}",
        hostile_part.filename
    );

    // An action on one file refuses the entry and names its parts.
    let err = store
        .one_file(entry.id)
        .await
        .expect_err("the entry has no single file");
    assert!(
        err.message.contains(&fixture) && err.field.as_deref() == Some("run_id"),
        "the refusal names each database: {err:?}"
    );

    // Each part restores on its own: the hostile database's rows come back whole.
    let restored = server.fresh_db("multi_restored");
    let part_file = dir
        .path()
        .join("backups")
        .join(hostile_part.filename.as_deref().expect("file"));
    assert!(
        part_file.is_file(),
        "the part's file is in the backup folder"
    );
    restore(
        &server.target(None),
        &RestoreRequest {
            file: part_file,
            expected_sha256: hostile_part.checksum_sha256.clone(),
            database: restored.clone(),
            mode: RestoreMode::Database { force: false },
            connections: 2,
            use_inserts: false,
            keys: billora_engine::crypt::Keys::none(),
            safety: billora_engine::restore::RestoreSafety::default(),
        },
        &|_| {},
        &std::sync::atomic::AtomicBool::new(false),
    )
    .expect("the part restores");
    let rows: Vec<(i64, String)> = server
        .conn(Some(&restored))
        .query("SELECT id, body FROM notes ORDER BY id")
        .expect("rows");
    assert_eq!(
        rows,
        vec![(1, "สวัสดี".to_owned()), (2, "it's `here`".to_owned())],
        "the hostile database's rows come back as they were"
    );
    let databases: Vec<String> = server
        .conn(None)
        .query("SHOW DATABASES LIKE 'mysql'")
        .expect("list");
    assert_eq!(databases, vec!["mysql"], "the name's statement never ran");

    // The editor's list to pick from: what the user sees, no system database.
    let api_secrets = std::sync::Arc::new(MemorySecrets::default());
    billora_engine::secrets::SecretStore::set(
        &*api_secrets,
        &billora_engine::connection::secret_key(&user),
        "multi-pw",
    )
    .expect("kept");
    let api = billora_engine::api::Api::open(Some(dir.path()), api_secrets)
        .await
        .expect("the API opens the same data folder");
    let mut listed = api
        .connection_databases(Some(user.clone()))
        .await
        .expect("the databases are listed");
    listed.sort_unstable();
    assert_eq!(listed, expected, "the editor offers what `*` would back up");
    let err = api
        .connection_databases(Some("nobody".into()))
        .await
        .expect_err("an unknown profile");
    assert_eq!(
        err.field.as_deref(),
        Some("connection"),
        "the error sits on the connection field: {err:?}"
    );

    // A user who sees no database: the run fails saying what to do.
    let blind = format!("blind_{}", std::process::id());
    user_seeing(&blind, &[]);
    add_user_connection(&store, &secrets, &blind, &fixture).await;
    let patch: SchedulePatch =
        parse_request(&json!({"connection": blind}).to_string()).expect("patch");
    store
        .update_schedule(schedule.id, patch, now())
        .await
        .expect("updated");
    let outcome = run_at(&store, &secrets, schedule.id, now()).await;
    let err = outcome.error.expect("a failure");
    assert_eq!(
        (outcome.status.as_str(), err.code),
        ("failed", ErrorCode::NotFound),
        "no database to back up is a failure: {err:?}"
    );
    assert!(
        err.hint.as_deref().is_some_and(|h| h.contains("grant")),
        "the hint says what to do: {err:?}"
    );

    server.drop_db(&restored);
    server.drop_db(&fixture);
    let _ = server.conn(None).query_drop(format!(
        "DROP DATABASE IF EXISTS `{}`",
        hostile.replace('`', "``")
    ));
    for u in [&user, &blind] {
        let _ = server
            .conn(None)
            .query_drop(format!("DROP USER IF EXISTS '{u}'@'127.0.0.1'"));
    }
}

#[tokio::test]
async fn a_failing_database_spares_the_others_and_retention_keeps_each_databases_backups() {
    let server = services();
    let first = server.fixture_db("multi_first");
    let second = server.fresh_db("multi_second");
    server
        .conn(Some(&second))
        .query_drop("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
        .expect("second's table");
    let missing = format!("t_multi_missing_{}", std::process::id());
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &first).await;
    let id = create_schedule(
        &store,
        json!({"name": "Two", "cron_expression": "0 2 * * *", "backup_type": "full",
               "databases": [first, missing], "max_backups": 1}),
    )
    .await
    .id;

    // One database is missing: the other is still backed up, and the entry says which failed.
    let at = now();
    let outcome = run_at(&store, &secrets, id, at).await;
    assert_eq!(outcome.status, "failed", "a missing database fails the run");
    let err = outcome.error.clone().expect("the reason");
    assert!(
        err.message.contains("1 of 2") && err.message.contains(&missing),
        "the reason names the database that was not backed up: {err:?}"
    );
    let good: Vec<&str> = outcome
        .parts
        .iter()
        .filter(|p| p.status == "success")
        .map(|p| p.database.as_str())
        .collect();
    assert_eq!(
        good,
        vec![first.as_str()],
        "the other database is backed up"
    );
    let kept = outcome.parts[0].file.clone().expect("its file");
    assert!(kept.path.is_file(), "the good database's file is kept");
    let schedule = store.get_schedule(id).await.expect("schedule");
    assert_eq!(
        (schedule.success_count, schedule.failed_count),
        (0, 1),
        "the entry counts once, as failed"
    );

    // Two good runs later with `max_backups` 1: each database keeps its newest backup.
    let patch: SchedulePatch =
        parse_request(&json!({"databases": [first, second]}).to_string()).expect("patch");
    store
        .update_schedule(id, patch, now())
        .await
        .expect("updated");
    let second_run = run_at(
        &store,
        &secrets,
        id,
        at + jiff::SignedDuration::from_hours(1),
    )
    .await;
    assert_eq!(second_run.status, "success", "{:?}", second_run.error);
    assert!(
        !kept.path.exists(),
        "the first database's older backup went by retention (max 1 of each database)"
    );
    let third_run = run_at(
        &store,
        &secrets,
        id,
        at + jiff::SignedDuration::from_hours(2),
    )
    .await;
    assert_eq!(third_run.status, "success", "{:?}", third_run.error);
    for part in &second_run.parts {
        let file = part.file.as_ref().expect("file");
        assert!(
            !file.path.exists(),
            "{} of the second run is beyond max_backups",
            file.filename
        );
    }
    for part in &third_run.parts {
        let file = part.file.as_ref().expect("file");
        assert!(
            file.path.is_file(),
            "{} is each database's newest",
            file.filename
        );
    }
    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(history.len(), 3, "three entries, parts inside them");
    let second_entry = history
        .iter()
        .find(|r| r.id == second_run.run_id)
        .expect("second entry");
    assert!(
        second_entry.deleted_at.is_some(),
        "an entry whose every file went is marked deleted"
    );

    // Pin and delete act on the entry's every file.
    store
        .set_pinned(third_run.run_id, true)
        .await
        .expect("pinned");
    let err = store
        .delete_backup(third_run.run_id, now())
        .await
        .expect_err("a pinned backup is not deleted");
    assert_eq!(err.code, ErrorCode::Conflict, "kept for ever: {err:?}");
    store
        .set_pinned(third_run.run_id, false)
        .await
        .expect("unpinned");
    let done = store
        .delete_backup(third_run.run_id, now())
        .await
        .expect("deleted");
    assert_eq!(done.outcome, "deleted", "both files deleted: {done:?}");
    for part in &third_run.parts {
        assert!(
            !part.file.as_ref().expect("file").path.exists(),
            "deleting the entry deletes each database's file"
        );
    }
    let entry = store.get_run(third_run.run_id).await.expect("entry");
    assert!(
        entry.deleted_at.is_some(),
        "the entry is deleted with its files"
    );
    server.drop_db(&first);
    server.drop_db(&second);
}

#[tokio::test]
async fn the_databases_field_is_checked() {
    let (_dir, store) = temp_store().await;
    for (body, why) in [
        (
            json!({"name": "T", "cron_expression": "0 2 * * *", "backup_type": "tenant",
                   "tenant_id": 5, "databases": ["a", "b"]}),
            "a tenant backup is of one database",
        ),
        (
            json!({"name": "T", "cron_expression": "0 2 * * *", "backup_type": "full",
                   "databases": ["*", "shop"]}),
            "`*` stands alone",
        ),
        (
            json!({"name": "T", "cron_expression": "0 2 * * *", "backup_type": "full",
                   "databases": ["bad\nname"]}),
            "a control character is refused",
        ),
        (
            json!({"name": "T", "cron_expression": "0 2 * * *", "backup_type": "full",
                   "databases": ["x".repeat(65)]}),
            "a name longer than MySQL allows",
        ),
    ] {
        let request: NewSchedule = parse_request(&body.to_string()).expect("parses");
        let err = store.create_schedule(request, now()).await.expect_err(why);
        assert_eq!(
            err.field.as_deref(),
            Some("databases"),
            "{why}: the error sits on the field: {err:?}"
        );
    }
    assert!(
        store.list_schedules().await.expect("list").is_empty(),
        "a refused schedule is not kept"
    );
    let schedule = create_schedule(
        &store,
        json!({"name": "T", "cron_expression": "0 2 * * *", "backup_type": "full",
               "databases": [" shop ", "shop", "", "Shop"]}),
    )
    .await;
    assert_eq!(
        schedule.databases,
        vec!["shop", "Shop"],
        "names are trimmed, blanks and repeats dropped, case kept (MySQL names are case-sensitive)"
    );
}

#[tokio::test]
async fn cancelling_a_run_of_several_databases_stops_it_with_no_partial_file() {
    let server = services();
    let first = server.fixture_db("multi_cancel_a");
    let second = server.fixture_db("multi_cancel_b");
    let (dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &first).await;
    let id = create_schedule(
        &store,
        json!({"name": "Two", "cron_expression": "0 2 * * *", "backup_type": "full",
               "databases": [first, second]}),
    )
    .await
    .id;
    // Cancelled while the first database is being read.
    let control = cancel_on_first_progress();
    let outcome = run_schedule(
        &store,
        &secrets,
        id,
        Trigger::Manual,
        now(),
        &RunOptions::default(),
        control,
    )
    .await
    .expect("the run is recorded");
    assert_eq!(outcome.status, "cancelled", "{:?}", outcome.error);
    assert_eq!(
        outcome
            .parts
            .iter()
            .map(|p| (p.database.as_str(), p.status.as_str()))
            .collect::<Vec<_>>(),
        vec![(first.as_str(), "cancelled")],
        "the first database's part is cancelled and the second never starts"
    );
    let schedule = store.get_schedule(id).await.expect("schedule");
    assert_eq!(
        (schedule.success_count, schedule.failed_count),
        (0, 0),
        "a cancel is neither a success nor a failure"
    );
    let left: Vec<String> = std::fs::read_dir(dir.path().join("backups"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "a cancelled run leaves no file, partial or whole: {left:?}"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(
        (history.len(), history[0].status.as_str()),
        (1, "cancelled"),
        "one cancelled entry"
    );
    server.drop_db(&first);
    server.drop_db(&second);
}

#[tokio::test]
async fn a_run_of_several_databases_killed_mid_way_is_one_interrupted_entry_keeping_its_done_part()
{
    let (dir, store) = temp_store().await;
    let schedule = create_schedule(
        &store,
        json!({"name": "Two", "cron_expression": "0 2 * * *", "backup_type": "full",
               "databases": ["shop", "stock"]}),
    )
    .await;
    // As a killed process leaves it: the entry and its second part `running`, their lock
    // released (nobody holds it), the first part done with its file.
    let lock = dir.path().join("killed.lock");
    let entry = store
        .start_run(&schedule, "manual", None, now(), &lock)
        .await
        .expect("entry");
    store.set_run_group(entry).await.expect("group");
    let first = store
        .start_part(entry, &schedule, "shop", "manual", now(), &lock)
        .await
        .expect("first part");
    let path = dir
        .path()
        .join("backup_full_shop_2026-02-03T01-00-00.sql.zst");
    std::fs::write(&path, b"done").expect("the first part's file");
    let file = billora_engine::artifact::FinishedFile {
        path: path.clone(),
        filename: "backup_full_shop_2026-02-03T01-00-00.sql.zst".into(),
        size: 4,
        sha256: "ab".into(),
    };
    store
        .finish_run_success(first, schedule.id, &file, (1.0, now()), ("[]", "{}"), now())
        .await
        .expect("first part done");
    let partial = dir
        .path()
        .join("backup_full_stock_2026-02-03T01-00-00.sql.zst.partial");
    std::fs::write(&partial, b"half").expect("the second part's partial file");
    let second = store
        .start_part(entry, &schedule, "stock", "manual", now(), &lock)
        .await
        .expect("second part");
    store
        .set_run_file(
            second,
            "backup_full_stock_2026-02-03T01-00-00.sql.zst",
            &partial,
            "stock",
        )
        .await
        .expect("its partial file");

    let mut changed = store.recover_interrupted(now()).await.expect("recovered");
    changed.sort_unstable();
    assert_eq!(
        changed,
        vec![entry, second],
        "the entry and its running part are interrupted"
    );
    assert!(!partial.exists(), "the partial file is removed");
    assert!(
        path.is_file(),
        "the finished part's file is kept: it is a good backup"
    );
    let counts = store.get_schedule(schedule.id).await.expect("schedule");
    assert_eq!(
        (counts.success_count, counts.failed_count),
        (0, 1),
        "the entry counts as one failure, its parts not at all"
    );
    let history = store
        .list_history(Some(schedule.id))
        .await
        .expect("history");
    assert_eq!(history.len(), 1, "one entry");
    assert_eq!(
        history[0]
            .parts
            .iter()
            .map(|p| p.status.as_str())
            .collect::<Vec<_>>(),
        vec!["success", "interrupted"],
        "its parts say what was done"
    );
}

#[tokio::test]
async fn a_server_that_is_down_stops_the_run_at_its_first_database_naming_the_rest() {
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    // A port nobody listens on: a fault of the whole server, not of one database.
    let down = billora_engine::connection::NewConnection {
        ssh: None,
        name: "down".into(),
        host: "127.0.0.1".into(),
        port: Some(1),
        username: "x".into(),
        database: "shop".into(),
        tls_mode: None,
        tls_ca_file: None,
        tls_pin: None,
        tenant_column: None,
        tenant_root_table: None,
        password_source: None,
    };
    store
        .add_connection(down, Some("pw"), &secrets, now())
        .await
        .expect("profile");
    let id = create_schedule(
        &store,
        json!({"name": "Down", "cron_expression": "0 2 * * *", "backup_type": "full",
               "databases": ["shop", "stock", "staff"]}),
    )
    .await
    .id;
    let outcome = run_at(&store, &secrets, id, now()).await;
    let err = outcome.error.clone().expect("the reason");
    assert_eq!(
        (outcome.status.as_str(), err.code),
        ("failed", ErrorCode::Unreachable),
        "the entry fails with the server's fault: {err:?}"
    );
    assert_eq!(
        outcome.parts.len(),
        1,
        "the other databases are not tried against a server that is down: {:?}",
        outcome.parts
    );
    assert!(
        err.message.contains("3 of 3") && err.message.contains("not tried: stock, staff"),
        "the reason names the databases not tried: {err:?}"
    );
    assert!(
        err.hint.is_some(),
        "the server's hint (check the network …) comes with it: {err:?}"
    );
}
