//! The day the computer dies, against real parts: the old computer backs up (encrypted to a
//! recovery key) with a copy on a destination; a new computer, with an empty data folder and
//! an empty keyring, lists that destination, imports its backups into the history, cannot open
//! them until the recovery key is imported, then restores one into the real MariaDB server.
//! A hostile destination (a junk manifest, a name that is not ours) is listed with its problem
//! and imports nothing wrong.

use std::sync::Arc;

use billora_engine::api::{Api, DestinationForm, RestoreForm, RunHere};
use billora_engine::destination::{DestinationSettings, NewDestination};
use billora_engine::schedule::parse_request;
use billora_engine::secrets::MemorySecrets;
use mysql::prelude::Queryable;

use crate::support::{add_test_connection, services};

fn folder(path: &std::path::Path) -> DestinationForm {
    DestinationForm {
        destination: NewDestination {
            name: "nas".into(),
            settings: DestinationSettings::Folder {
                path: path.display().to_string(),
            },
            retention_days: None,
            max_backups: None,
        },
        secret: None,
    }
}

fn restore_form(run_id: Option<i64>, file: Option<String>, db: &str) -> RestoreForm {
    RestoreForm {
        run_id,
        file,
        passphrase: None,
        connection: "office".into(),
        database: db.into(),
        replace_tenant: false,
        force: false,
        keep_sql_security: false,
        enable_events: false,
        from: None,
    }
}

#[tokio::test]
async fn a_new_computer_lists_imports_and_restores_the_backups_a_destination_holds() {
    let server = services();
    let source = server.fixture_db("dr_source");
    let nas = tempfile::tempdir().expect("the NAS folder");
    let key_dir = tempfile::tempdir().expect("the USB stick");
    let recovery_file = key_dir.path().join("billora-recovery-key.txt");

    // The old computer: an encrypted nightly backup, copied to the NAS.
    let old_dir = tempfile::tempdir().expect("the old data folder");
    let old_secrets = Arc::new(MemorySecrets::default());
    let old = Api::open(Some(old_dir.path()), old_secrets.clone())
        .await
        .expect("old api");
    add_test_connection(old.store(), &old_secrets, "office", &source).await;
    old.add_destination(folder(nas.path()), &|_| {})
        .await
        .expect("the NAS");
    let public = old
        .create_encryption_key(recovery_file.display().to_string())
        .await
        .expect("a key pair, its recovery file on the stick");
    let body = format!(
        r#"{{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full","encrypt_to":"{public}","copy_to":["nas"]}}"#
    );
    let schedule = old
        .create_schedule(parse_request(&body).expect("valid"))
        .await
        .expect("schedule");
    let outcome = old
        .run_here(
            schedule.id,
            RunHere::default(),
            Arc::new(|_| {}),
            Arc::default(),
        )
        .await
        .expect("recorded");
    assert_eq!(outcome.status, "success", "{:?}", outcome.error);
    let file = outcome.file.expect("the backup file");
    assert_eq!(
        outcome.copies.first().map(|c| c.status.as_str()),
        Some("uploaded"),
        "the copy is on the NAS"
    );
    // Things on the NAS that are not good backups of ours.
    std::fs::write(nas.path().join("notes.txt"), "not a backup").expect("junk");
    std::fs::write(nas.path().join("backup_full_evil.sql.zst"), "junk").expect("junk");
    std::fs::write(
        nas.path().join("backup_full_evil.sql.zst.manifest.json"),
        r#"{"format": 1, "tool": "x"}"#,
    )
    .expect("a broken manifest");
    drop(old);
    drop(old_dir); // the old computer is gone

    // The new computer: an empty data folder and an empty keyring.
    let new_dir = tempfile::tempdir().expect("the new data folder");
    let new_secrets = Arc::new(MemorySecrets::default());
    let new = Api::open(Some(new_dir.path()), new_secrets.clone())
        .await
        .expect("new api");
    add_test_connection(new.store(), &new_secrets, "office", &source).await;
    new.add_destination(folder(nas.path()), &|_| {})
        .await
        .expect("the same NAS added again");
    let found = new
        .browse_destination("nas".into())
        .await
        .expect("its backups");
    assert_eq!(
        found.len(),
        2,
        "ours and the junk one, not notes.txt: {found:?}"
    );
    let good = found
        .iter()
        .find(|b| b.object == file.filename)
        .expect("the nightly backup is listed");
    assert_eq!(
        good.schedule_name.as_deref(),
        Some("Nightly"),
        "by schedule"
    );
    assert!(good.encrypted && good.problem.is_none(), "{good:?}");
    let evil = found
        .iter()
        .find(|b| b.object == "backup_full_evil.sql.zst")
        .expect("the junk is listed");
    assert!(
        evil.problem
            .as_deref()
            .is_some_and(|p| p.contains("manifest cannot be read")),
        "with its problem: {evil:?}"
    );

    let report = new
        .import_from_destination("nas".into())
        .await
        .expect("imported");
    assert_eq!(
        (
            report.found,
            report.imported,
            report.already_known,
            report.skipped.len()
        ),
        (2, 1, 0, 1),
        "one imported, the junk left out: {report:?}"
    );
    let again = new
        .import_from_destination("nas".into())
        .await
        .expect("imported again");
    assert_eq!(
        (again.imported, again.already_known),
        (0, 1),
        "importing twice adds nothing: {again:?}"
    );
    let history = new.list_history(Default::default()).await.expect("history");
    let entry = history.first().expect("the imported entry");
    assert_eq!(
        (
            entry.schedule_name.as_str(),
            entry.trigger.as_str(),
            entry.status.as_str()
        ),
        ("Nightly", "imported", "success"),
        "the history has it"
    );

    // Without the key it cannot be opened; with it imported, it restores.
    let target = format!("{source}_restored");
    let locked = new
        .restore(
            restore_form(Some(entry.id), None, &target),
            Arc::new(|_| {}),
        )
        .await
        .expect_err("encrypted to a key this computer does not have");
    assert!(
        locked.message.to_lowercase().contains("key") || locked.message.contains("decrypt"),
        "says a key is missing: {locked}"
    );
    let keys = new
        .import_recovery_key(recovery_file.display().to_string())
        .await
        .expect("the recovery key imported");
    assert_eq!(keys, vec![public.clone()], "the same public key");
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tables = seen.clone();
    let rows = Arc::new(std::sync::Mutex::new(None));
    let last = rows.clone();
    let report = new
        .restore(
            restore_form(Some(entry.id), None, &target),
            Arc::new(move |p| {
                if let Some(t) = &p.table {
                    tables
                        .lock()
                        .expect("lock")
                        .push((t.clone(), p.tables_done, p.tables_total));
                }
                *last.lock().expect("lock") = Some((p.rows_done, p.rows_total));
            }),
        )
        .await
        .expect("restored from the NAS copy");
    let seen = seen.lock().expect("lock").clone();
    assert!(
        seen.iter().any(|(t, _, _)| t == "customers")
            && seen
                .last()
                .is_some_and(|(_, done, total)| *done >= 2 && total.is_some_and(|t| t >= *done)),
        "the progress names the table being restored, counted against the manifest's: {:?}",
        seen.last()
    );
    assert!(report.statements > 0, "{report:?}");
    let count = |db: &str| -> u64 {
        server
            .conn(Some(db))
            .query_first("SELECT COUNT(*) FROM customers")
            .expect("count")
            .unwrap_or(0)
    };
    assert_eq!(count(&target), count(&source), "the same customers");
    // Every row of every table restored, counted on the server.
    let mut conn = server.conn(Some(&target));
    let tables: Vec<String> = conn
        .query(format!(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{target}' AND TABLE_TYPE = 'BASE TABLE'"
        ))
        .expect("tables");
    let all_rows: u64 = tables
        .iter()
        .map(|t| {
            conn.query_first::<u64, _>(format!("SELECT COUNT(*) FROM `{t}`"))
                .expect("count")
                .unwrap_or(0)
        })
        .sum();
    let (rows_done, rows_total) = rows.lock().expect("lock").expect("progress was reported");
    assert_eq!(
        Some(rows_done),
        rows_total,
        "the last progress counts every row the manifest lists as restored"
    );
    assert_eq!(
        rows_done, all_rows,
        "the progress's rows are the rows now in the restored tables"
    );

    // The same file restored from a path (copied off the NAS, with its manifest).
    let usb = tempfile::tempdir().expect("a copy on a stick");
    let copied = usb.path().join(&file.filename);
    std::fs::copy(nas.path().join(&file.filename), &copied).expect("copied");
    std::fs::copy(
        nas.path().join(format!("{}.manifest.json", file.filename)),
        usb.path().join(format!("{}.manifest.json", file.filename)),
    )
    .expect("and its manifest");
    let from_file = format!("{source}_from_file");
    new.restore(
        restore_form(None, Some(copied.display().to_string()), &from_file),
        Arc::new(|_| {}),
    )
    .await
    .expect("restored from a file");
    assert_eq!(count(&from_file), count(&source), "the same customers");
    let neither = new
        .restore(restore_form(None, None, "x_nothing"), Arc::new(|_| {}))
        .await
        .expect_err("a restore needs a backup");
    assert_eq!(neither.field.as_deref(), Some("run_id"), "{neither}");
    let bad_key = new
        .import_recovery_key(usb.path().join(&file.filename).display().to_string())
        .await
        .expect_err("a backup is not a recovery file");
    assert_eq!(bad_key.field.as_deref(), Some("file"), "{bad_key}");
    let keys_before = new.import_recovery_text(String::new()).await.err();
    let pasted = new
        .import_recovery_text("my password is hunter2\nAGE-SECRET-KEY-NOTREALLY".into())
        .await
        .expect_err("text that is not a recovery key is refused");
    assert_eq!(
        pasted.field.as_deref(),
        Some("key"),
        "on the key field: {pasted}"
    );
    assert!(
        !pasted.message.contains("hunter2") && !pasted.message.contains("NOTREALLY"),
        "the refusal does not repeat what was pasted: {pasted}"
    );
    assert!(keys_before.is_some(), "an empty paste is refused too");
    let missing = new
        .restore(
            restore_form(
                None,
                Some("/nonexistent/backup.sql.zst".into()),
                "x_missing",
            ),
            Arc::new(|_| {}),
        )
        .await
        .expect_err("a file that is not there");
    assert_eq!(
        missing.field.as_deref(),
        Some("file"),
        "on the file field: {missing}"
    );

    for db in [&source, &target, &from_file] {
        server.drop_db(db);
    }
}
