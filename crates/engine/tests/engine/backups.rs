//! Backups and restores against the real MariaDB server of `scripts/services.sh`: the fixture
//! database (every type and object kind) dumped and restored by the stock client and by our
//! own restore, tenant backups, and faults.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use billora_engine::backup::{run_schedule, RunControl, RunOptions};
use billora_engine::error::ErrorCode;
use billora_engine::manifest::Manifest;
use billora_engine::restore::{restore, RestoreMode, RestoreRequest};
use billora_engine::run::Trigger;
use billora_engine::secrets::MemorySecrets;
use billora_engine::store::Store;
use mysql::prelude::Queryable;
use serde_json::json;

use crate::support::{
    add_test_connection, now, restore_with_client, services, temp_store, test_secrets,
};

/// A connection profile for a server that is down (nothing listens on port 1).
fn down_profile() -> billora_engine::connection::NewConnection {
    billora_engine::connection::NewConnection {
        host: "127.0.0.1".into(),
        port: Some(1),
        username: "x".into(),
        password_source: None,
        ..crate::support::test_profile("down", "x")
    }
}

async fn schedule(store: &Store, body: serde_json::Value) -> i64 {
    crate::support::create_schedule(store, body).await.id
}

async fn run(store: &Store, secrets: &MemorySecrets, id: i64) -> billora_engine::run::RunOutcome {
    run_schedule(
        store,
        secrets,
        id,
        Trigger::Manual,
        now(),
        &RunOptions::default(),
        RunControl::default(),
    )
    .await
    .expect("the run is recorded")
}

fn no_partials(dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(".partial"),
                "no partial file may be left behind: {name}"
            );
        }
    }
}

/// How many LOAD DATA statements the server has run (all sessions).
fn loads(server: &crate::support::TestServer) -> u64 {
    use mysql::prelude::Queryable;
    let row: Option<(String, u64)> = server
        .conn(None)
        .query_first("SHOW GLOBAL STATUS LIKE 'Com_load'")
        .expect("status");
    row.expect("Com_load").1
}

/// A restore that keeps everything as it was (definers' rights, enabled events), so the
/// restored database can be compared with the source; the defaults are tested in `hostile`.
fn no_rows_restore(db: &str, file: &std::path::Path, mode: RestoreMode) -> RestoreRequest {
    RestoreRequest {
        file: file.to_path_buf(),
        expected_sha256: None,
        database: db.into(),
        mode,
        connections: 2,
        use_inserts: false,
        keys: billora_engine::crypt::Keys::none(),
        safety: billora_engine::restore::RestoreSafety {
            keep_sql_security: true,
            enable_events: true,
            force_replace: false,
        },
    }
}

#[tokio::test]
async fn full_backup_round_trips_through_the_stock_client_and_our_restore() {
    let server = services();
    let source = server.fixture_db("full_src");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    let id = schedule(
        &store,
        json!({"name": "Daily", "cron_expression": "0 2 * * *", "backup_type": "full"}),
    )
    .await;

    let outcome = run(&store, &secrets, id).await;
    assert_eq!(
        outcome.status, "success",
        "the backup succeeds: {:?}",
        outcome.error
    );
    let file = outcome.file.expect("a file");
    assert!(
        file.filename.starts_with("backup_full_2026-02-03T") && file.filename.ends_with(".sql.zst"),
        "spec naming: {}",
        file.filename
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file.path)
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the backup is readable by its owner only ({mode:o})"
        );
        let dir_mode = std::fs::metadata(file.path.parent().expect("dir"))
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(
            dir_mode & 0o077,
            0,
            "the backup folder is private ({dir_mode:o})"
        );
    }
    let manifest = Manifest::read_beside(&file.path)
        .expect("readable")
        .expect("a manifest beside the file");
    assert_eq!(
        manifest.sha256, file.sha256,
        "the manifest records the file's checksum"
    );
    assert_eq!(
        manifest.rows_of("invoice_items"),
        Some(6),
        "per-table row counts are recorded"
    );
    assert!(
        manifest.warnings.iter().any(|w| w.contains("legacy_notes")),
        "the MyISAM table is named as a warning: {:?}",
        manifest.warnings
    );

    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(history.len(), 1, "one history entry");
    assert_eq!(history[0].status, "success", "recorded as success");
    assert_eq!(
        history[0].file_size,
        Some(file.size as i64),
        "the entry has the file size"
    );
    let s = store.get_schedule(id).await.expect("schedule");
    assert_eq!(
        (s.success_count, s.failed_count),
        (1, 0),
        "counters follow the run"
    );
    assert!(s.last_run_at.is_some(), "last_run_at is set");

    let expected = server.fingerprint(&source);
    let by_client = server.fresh_db("full_client");
    restore_with_client(server, &file.path, &by_client);
    assert_eq!(
        server.fingerprint(&by_client),
        expected,
        "the stock client restores an identical database"
    );

    let ours = format!("{source}_ours");
    server.drop_db(&ours);
    let target = server.target(None);
    let loads_before = loads(server);
    let report = restore(
        &target,
        &no_rows_restore(&ours, &file.path, RestoreMode::Database { force: false }),
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("our restore works");
    assert!(
        report.created_database && report.verified_checksum,
        "created the database after checking the checksum"
    );
    assert_eq!(
        server.fingerprint(&ours),
        expected,
        "our restore gives an identical database, collation included"
    );
    assert!(
        loads(server) > loads_before && report.warnings.is_empty(),
        "the rows went in with LOAD DATA LOCAL, with no warning: {:?}",
        report.warnings
    );

    let by_inserts = format!("{source}_ins");
    server.drop_db(&by_inserts);
    let mut request = no_rows_restore(
        &by_inserts,
        &file.path,
        RestoreMode::Database { force: false },
    );
    request.use_inserts = true;
    restore(&target, &request, &|_| {}, &AtomicBool::new(false)).expect("--inserts restores");
    assert_eq!(
        server.fingerprint(&by_inserts),
        expected,
        "restoring with INSERT statements gives the same database"
    );
    server.drop_db(&by_inserts);

    let again = restore(
        &target,
        &no_rows_restore(&ours, &file.path, RestoreMode::Database { force: false }),
        &|_| {},
        &AtomicBool::new(false),
    );
    assert_eq!(
        again.expect_err("not empty").code,
        ErrorCode::Conflict,
        "a non-empty target is refused without --force"
    );
    restore(
        &target,
        &no_rows_restore(&ours, &file.path, RestoreMode::Database { force: true }),
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("--force restores over it");
    assert_eq!(
        server.fingerprint(&ours),
        expected,
        "a forced restore gives the same database"
    );
    for db in [&source, &by_client, &ours] {
        server.drop_db(db);
    }
}

#[tokio::test]
async fn gzip_plain_and_foreign_dumps_restore() {
    let server = services();
    let source = server.fixture_db("comp_src");
    let expected = server.fingerprint(&source);
    let (dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    for compression in ["gzip", "none"] {
        let id = schedule(
            &store,
            json!({"name": compression, "cron_expression": "@daily", "backup_type": "full", "compression": compression}),
        )
        .await;
        let outcome = run(&store, &secrets, id).await;
        let file = outcome.file.expect("a file");
        let ext = if compression == "gzip" {
            ".sql.gz"
        } else {
            ".sql"
        };
        assert!(
            file.filename.ends_with(ext),
            "{compression} backups end in {ext}: {}",
            file.filename
        );
        let db = server.fresh_db(compression);
        restore_with_client(server, &file.path, &db);
        assert_eq!(
            server.fingerprint(&db),
            expected,
            "a {compression} backup restores identically"
        );
        server.drop_db(&db);
    }

    // A file made by mariadb-dump, restored by us (no manifest: one connection, no checksum).
    let foreign = dir.path().join("foreign.sql");
    let out = std::process::Command::new("mariadb-dump")
        .args([
            "--no-defaults",
            "-h",
            &server.host,
            "-P",
            &server.port.to_string(),
            "-u",
            &server.user,
        ])
        .args([
            "--single-transaction",
            "--routines",
            "--events",
            "--triggers",
            "--hex-blob",
            &source,
        ])
        .env("MYSQL_PWD", &server.password)
        .output()
        .expect("mariadb-dump runs");
    assert!(
        out.status.success(),
        "mariadb-dump works: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&foreign, &out.stdout).expect("write dump");
    let db = format!("{source}_foreign");
    server.drop_db(&db);
    restore(
        &server.target(None),
        &no_rows_restore(&db, &foreign, RestoreMode::Database { force: false }),
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("a mariadb-dump file restores through our splitter");
    let got = server.fingerprint(&db);
    for (key, value) in &expected {
        if key.starts_with("rows ") || key.starts_with("table ") || key.starts_with("trigger ") {
            assert_eq!(
                got.get(key),
                Some(value),
                "{key} matches after restoring a mariadb-dump file"
            );
        }
    }
    server.drop_db(&db);
    server.drop_db(&source);
}

/// Tenant 5's rows in the fixture, by hand-written queries (independent of the tenant planner).
fn tenant_queries(t: i64) -> Vec<(&'static str, String)> {
    vec![
        ("tenants", format!("SELECT * FROM tenants WHERE id = {t} ORDER BY id")),
        ("tenant_settings", format!("SELECT * FROM tenant_settings WHERE tenant_ref = {t} ORDER BY tenant_ref")),
        ("customers", format!("SELECT * FROM customers WHERE tenant_id = {t} ORDER BY id")),
        ("products", format!("SELECT * FROM products WHERE tenant_id = {t} ORDER BY id")),
        ("invoices", format!("SELECT * FROM invoices WHERE tenant_id = {t} ORDER BY id")),
        (
            "invoice_items",
            format!("SELECT ii.* FROM invoice_items ii JOIN invoices i ON ii.invoice_id = i.id WHERE i.tenant_id = {t} ORDER BY ii.id"),
        ),
        ("payments", format!("SELECT p.* FROM payments p JOIN invoices i ON p.invoice_id = i.id WHERE i.tenant_id = {t} ORDER BY p.id")),
        (
            "payment_allocations",
            format!(
                "SELECT a.* FROM payment_allocations a JOIN payments p ON a.payment_id = p.id \
                 JOIN invoices i ON p.invoice_id = i.id WHERE i.tenant_id = {t} ORDER BY a.id"
            ),
        ),
        ("audit_log", format!("SELECT * FROM audit_log WHERE tenant_id = {t} ORDER BY id")),
        ("locations", format!("SELECT * FROM locations WHERE tenant_id = {t} ORDER BY id")),
        ("legacy_notes", format!("SELECT * FROM legacy_notes WHERE tenant_id = {t} ORDER BY id")),
    ]
}

/// Every row not belonging to tenant `t`, per table.
fn other_tenants(server: &crate::support::TestServer, db: &str, t: i64) -> Vec<Vec<String>> {
    let queries = [
        format!("SELECT * FROM tenants WHERE id <> {t} ORDER BY id"),
        format!("SELECT * FROM customers WHERE tenant_id <> {t} ORDER BY id"),
        format!("SELECT * FROM products WHERE tenant_id <> {t} ORDER BY id"),
        format!("SELECT * FROM invoices WHERE tenant_id <> {t} ORDER BY id"),
        format!("SELECT ii.* FROM invoice_items ii JOIN invoices i ON ii.invoice_id = i.id WHERE i.tenant_id <> {t} ORDER BY ii.id"),
        format!("SELECT * FROM audit_log WHERE tenant_id IS NULL OR tenant_id <> {t} ORDER BY id"),
        "SELECT * FROM currencies ORDER BY code".to_owned(),
    ];
    queries.iter().map(|q| server.rows(db, q)).collect()
}

#[tokio::test]
async fn tenant_backup_holds_exactly_the_tenants_rows_and_replaces_only_them() {
    let server = services();
    let source = server.fixture_db("tenant_src");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    let id = schedule(
        &store,
        json!({"name": "Tenant XYZ Backup", "cron_expression": "0 4 * * *", "backup_type": "tenant", "tenant_id": 5}),
    )
    .await;
    let outcome = run(&store, &secrets, id).await;
    assert_eq!(
        outcome.status, "success",
        "tenant backup succeeds: {:?}",
        outcome.error
    );
    let file = outcome.file.expect("file");
    assert!(
        file.filename.starts_with("backup_tenant_5_"),
        "tenant file naming: {}",
        file.filename
    );
    let manifest = Manifest::read_beside(&file.path)
        .expect("ok")
        .expect("manifest");
    assert_eq!(
        manifest.shared_tables,
        ["currencies"],
        "the table with no path to a tenant is listed as shared"
    );

    // Staging: schema + exactly tenant 5's rows.
    let staging = server.fresh_db("tenant_staging");
    restore_with_client(server, &file.path, &staging);
    for (table, query) in tenant_queries(5) {
        let want = server.rows(&source, &query);
        assert!(
            !want.is_empty(),
            "the fixture has rows of tenant 5 in {table}"
        );
        let got = server.rows(&staging, &format!("SELECT * FROM {table} ORDER BY 1"));
        assert_eq!(
            got, want,
            "staging holds exactly tenant 5's rows of {table}"
        );
    }
    assert!(
        server.rows(&staging, "SELECT * FROM currencies").is_empty(),
        "shared tables are not dumped"
    );

    // Replace: change tenant 5 in a live copy, then put the backup back.
    let live = server.fixture_db("tenant_live");
    let others_before = other_tenants(server, &live, 5);
    {
        let mut conn = server.conn(Some(&live));
        conn.query_drop("UPDATE customers SET name = 'changed' WHERE id = 1004")
            .expect("update");
        conn.query_drop("DELETE FROM payment_allocations WHERE payment_id = 3")
            .expect("delete");
        conn.query_drop("INSERT INTO customers (tenant_id, name) VALUES (5, 'new after backup')")
            .expect("insert");
    }
    // The fixture's MyISAM table holds tenant rows: a failure there could not be rolled back,
    // so the replace is refused (listing it) until forced, and nothing changes.
    let live_before = server.rows(&live, "SELECT * FROM customers ORDER BY id");
    let refused = restore(
        &server.target(None),
        &no_rows_restore(&live, &file.path, RestoreMode::ReplaceTenant),
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect_err("a non-transactional tenant table refuses the replace");
    assert!(
        refused.code == ErrorCode::Conflict && refused.message.contains("`legacy_notes` (MyISAM)"),
        "the refusal names the MyISAM table: {refused:?}"
    );
    assert_eq!(
        server.rows(&live, "SELECT * FROM customers ORDER BY id"),
        live_before,
        "a refused replace changes nothing"
    );
    let mut forced = no_rows_restore(&live, &file.path, RestoreMode::ReplaceTenant);
    forced.safety.force_replace = true;
    let report = restore(
        &server.target(None),
        &forced,
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("replace-tenant works when forced");
    assert!(
        report.warnings.iter().any(|w| w.contains("legacy_notes")),
        "the forced replace still warns about the MyISAM table: {:?}",
        report.warnings
    );
    assert!(
        report
            .deleted_rows
            .iter()
            .any(|(t, n)| t == "customers" && *n == 3),
        "tenant 5's three customers were deleted first: {:?}",
        report.deleted_rows
    );
    for (table, query) in tenant_queries(5) {
        assert_eq!(
            server.rows(&live, &query),
            server.rows(&source, &query),
            "tenant 5's {table} rows equal the backup"
        );
    }
    assert_eq!(
        other_tenants(server, &live, 5),
        others_before,
        "every other tenant's rows are untouched"
    );
    for db in [&source, &staging, &live] {
        server.drop_db(db);
    }
}

#[tokio::test]
async fn faults_leave_a_failed_entry_with_its_code_and_no_file() {
    let server = services();
    let source = server.fixture_db("faults");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    let backups = store
        .default_backup_dir()
        .await
        .expect("the default folder is readable");

    // Wrong password.
    let bad = MemorySecrets::default();
    billora_engine::secrets::SecretStore::set(&bad, "connection:office", "wrong").expect("set");
    let id = schedule(
        &store,
        json!({"name": "Auth", "cron_expression": "@daily", "backup_type": "full"}),
    )
    .await;
    let outcome = run_schedule(
        &store,
        &bad,
        id,
        Trigger::Manual,
        now(),
        &RunOptions::default(),
        RunControl::default(),
    )
    .await
    .expect("recorded");
    assert_eq!(outcome.status, "failed", "a wrong password fails the run");
    assert_eq!(
        outcome.error.as_ref().map(|e| e.code),
        Some(ErrorCode::AuthFailed),
        "with code AuthFailed"
    );
    assert!(
        !format!("{:?}", outcome.error).contains("wrong"),
        "the password never appears in the error"
    );
    let entry = &store.list_history(Some(id)).await.expect("history")[0];
    assert_eq!(entry.status, "failed", "the history says failed");
    assert_eq!(
        entry.error.as_ref().map(|e| e.code.as_str()),
        Some("AuthFailed"),
        "the history keeps the code"
    );
    assert_eq!(
        store.get_schedule(id).await.expect("s").failed_count,
        1,
        "failed_count counts it"
    );

    // Server down: a port nobody listens on.
    let down = down_profile();
    store
        .add_connection(down, Some("pw"), &secrets, now())
        .await
        .expect("profile");
    let id = schedule(&store, json!({"name": "Down", "cron_expression": "@daily", "backup_type": "full", "connection": "down"})).await;
    let outcome = run(&store, &secrets, id).await;
    assert_eq!(
        outcome.error.map(|e| e.code),
        Some(ErrorCode::Unreachable),
        "a server that is down is Unreachable"
    );

    // A read-only folder and a full disk (file systems mounted by scripts/services.sh).
    let rofs = server.env.get("BILLORA_TEST_ROFS").expect("read-only fs");
    let id = schedule(
        &store,
        json!({"name": "RO", "cron_expression": "@daily", "backup_type": "full", "connection": "office", "destination": format!("{rofs}/backups")}),
    )
    .await;
    let outcome = run(&store, &secrets, id).await;
    assert_eq!(
        outcome.error.as_ref().map(|e| e.code),
        Some(ErrorCode::PermissionDenied),
        "a folder that cannot be written is PermissionDenied: {:?}",
        outcome.error
    );

    let fullfs = server.env.get("BILLORA_TEST_FULLFS").expect("small fs");
    // Fill it with incompressible rows so even zstd output overflows 256 KiB.
    {
        let mut conn = server.conn(Some(&source));
        conn.query_drop(
            "CREATE TABLE filler (id INT PRIMARY KEY AUTO_INCREMENT, b LONGBLOB) ENGINE=InnoDB",
        )
        .expect("filler");
        for _ in 0..8 {
            conn.query_drop("INSERT INTO filler (b) SELECT RANDOM_BYTES(1024) FROM seq_1_to_100")
                .expect("fill");
        }
    }
    let dest = format!("{fullfs}/backups-{}", std::process::id());
    let id = schedule(
        &store,
        json!({"name": "Full", "cron_expression": "@daily", "backup_type": "full", "connection": "office", "destination": dest, "compression": "none"}),
    )
    .await;
    let outcome = run(&store, &secrets, id).await;
    assert_eq!(
        outcome.error.map(|e| e.code),
        Some(ErrorCode::DiskFull),
        "a full disk is DiskFull"
    );
    let left: Vec<_> = std::fs::read_dir(&dest).expect("dest").flatten().collect();
    assert!(
        left.is_empty(),
        "nothing is left on the full disk: {left:?}"
    );
    std::fs::remove_dir_all(&dest).ok();

    // Cancelled mid-way.
    let id = schedule(&store, json!({"name": "Cancel", "cron_expression": "@daily", "backup_type": "full", "connection": "office"})).await;
    let control = crate::support::cancel_on_first_progress();
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
    .expect("recorded");
    assert_eq!(
        outcome.status, "cancelled",
        "a cancelled run is recorded as cancelled"
    );
    assert_eq!(
        store.get_schedule(id).await.expect("s").failed_count,
        0,
        "a cancel is not a failure"
    );

    no_partials(&backups);
    let files: Vec<_> = std::fs::read_dir(&backups)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(
        files.is_empty(),
        "no failed or cancelled run left a file: {files:?}"
    );
    server.drop_db(&source);
}

#[tokio::test]
async fn damaged_backups_are_refused_before_anything_runs() {
    let server = services();
    let source = server.fixture_db("damaged");
    let (dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    let id = schedule(
        &store,
        json!({"name": "D", "cron_expression": "@daily", "backup_type": "full"}),
    )
    .await;
    let file = run(&store, &secrets, id).await.file.expect("file");
    let bytes = std::fs::read(&file.path).expect("read");

    let flipped = dir.path().join("flipped.sql.zst");
    let mut copy = bytes.clone();
    let mid = copy.len() / 2;
    copy[mid] ^= 0x01;
    std::fs::write(&flipped, &copy).expect("write");
    std::fs::copy(
        billora_engine::manifest::path_for(&file.path),
        billora_engine::manifest::path_for(&flipped),
    )
    .expect("manifest");
    let truncated = dir.path().join("truncated.sql.zst");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).expect("write");

    for (damaged, what) in [
        (&flipped, "a flipped byte"),
        (&truncated, "a truncated file without manifest"),
    ] {
        let db = format!("{source}_dmg");
        server.drop_db(&db);
        let err = restore(
            &server.target(None),
            &no_rows_restore(&db, damaged, RestoreMode::Database { force: false }),
            &|_| {},
            &AtomicBool::new(false),
        )
        .expect_err("a damaged file is refused");
        assert_eq!(
            err.code,
            ErrorCode::Corrupt,
            "{what} is reported as Corrupt: {err}"
        );
        let exists: Option<String> = server
            .conn(None)
            .exec_first(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (&db,),
            )
            .expect("query");
        assert_eq!(
            exists, None,
            "{what}: the target database was not even created"
        );
    }
    server.drop_db(&source);
}

#[tokio::test]
async fn a_user_without_reload_gets_one_reader_and_connection_test_names_what_is_missing() {
    let server = services();
    let db = server.fixture_db("privs");
    let user = format!("limited_{}", std::process::id());
    {
        let mut admin = server.conn(None);
        admin
            .query_drop(format!("DROP USER IF EXISTS '{user}'@'127.0.0.1'"))
            .expect("drop user");
        admin
            .query_drop(format!(
                "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'limited-pw'"
            ))
            .expect("user");
        admin
            .query_drop(format!("GRANT SELECT ON `{db}`.* TO '{user}'@'127.0.0.1'"))
            .expect("grant");
    }
    let target = billora_engine::connection::ServerTarget::with_password(
        &server.host,
        server.port,
        &user,
        "limited-pw",
        Some(&db),
    );
    let check = billora_engine::connection::check_connection(&target).expect("connects");
    assert!(
        check.server_version.contains("MariaDB"),
        "the server version is reported: {}",
        check.server_version
    );
    for privilege in ["SHOW VIEW", "TRIGGER", "EVENT", "RELOAD"] {
        assert!(
            check
                .missing_privileges
                .iter()
                .any(|m| m.starts_with(privilege)),
            "{privilege} is reported missing: {:?}",
            check.missing_privileges
        );
    }
    assert!(
        !check
            .missing_privileges
            .iter()
            .any(|m| m.starts_with("SELECT")),
        "SELECT is granted, so not missing"
    );

    // With only SELECT, views cannot be read: a clear PermissionDenied, not a broken file.
    let options = billora_engine::dump::DumpOptions::default();
    let mut sink = Vec::new();
    let err = billora_engine::dump::dump(
        &target,
        &options,
        &mut sink,
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect_err("definitions cannot be read");
    assert_eq!(
        err.code,
        ErrorCode::PermissionDenied,
        "a missing privilege is PermissionDenied: {err}"
    );

    // With the object privileges but no RELOAD: one reader, and the run says so.
    {
        let mut admin = server.conn(None);
        admin
            .query_drop(format!(
                "GRANT SHOW VIEW, TRIGGER, EVENT ON `{db}`.* TO '{user}'@'127.0.0.1'"
            ))
            .expect("grant objects");
        admin
            .query_drop(format!(
                "GRANT SELECT ON mysql.proc TO '{user}'@'127.0.0.1'"
            ))
            .expect("grant proc");
    }
    let mut sink = Vec::new();
    let report = billora_engine::dump::dump(
        &target,
        &options,
        &mut sink,
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("the dump works without RELOAD");
    assert_eq!(
        report.snapshot, "single",
        "without RELOAD one reader is used"
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("RELOAD")),
        "the warning names RELOAD: {:?}",
        report.warnings
    );
    let _ = server
        .conn(None)
        .query_drop(format!("DROP USER '{user}'@'127.0.0.1'"));
    server.drop_db(&db);
}

#[test]
fn parallel_readers_share_one_snapshot_under_concurrent_writes() {
    let server = services();
    let db = server.fresh_db("consistent");
    {
        let mut conn = server.conn(Some(&db));
        conn.query_drop(
            "CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, pad CHAR(200) NOT NULL DEFAULT '') ENGINE=InnoDB; \
             CREATE TABLE vault (id INT AUTO_INCREMENT PRIMARY KEY, amount BIGINT NOT NULL, pad CHAR(200) NOT NULL DEFAULT '') ENGINE=InnoDB; \
             INSERT INTO accounts (id, balance) SELECT seq, 1000 FROM seq_1_to_150000; \
             INSERT INTO vault (amount) SELECT 0 FROM seq_1_to_150000",
        )
        .expect("tables");
    }
    // The invariant: SUM(accounts.balance) + SUM(vault.amount) = 150,000,000 at every commit.
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let writer = {
        let (stop, commits, target) = (stop.clone(), commits.clone(), server.target(Some(&db)));
        std::thread::spawn(move || {
            let mut conn = target.connect().expect("writer connects");
            let mut n: u64 = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let id = 1 + (n * 7919) % 150_000;
                conn.query_drop(format!(
                    "START TRANSACTION; UPDATE accounts SET balance = balance - 1 WHERE id = {id}; \
                     INSERT INTO vault (amount) VALUES (1); COMMIT"
                ))
                .expect("transfer");
                commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    let before = commits.load(std::sync::atomic::Ordering::Relaxed);
    let mut sink = Vec::new();
    // Both tables read in key ranges shared by the two readers (~150,000 rows each).
    let options = billora_engine::dump::DumpOptions {
        readers: Some(2),
        range_rows: Some(20_000),
        // Short statements only here: a busy test machine must not make the lock give up.
        lock_wait_seconds: Some(10.0),
        ..Default::default()
    };
    let report = billora_engine::dump::dump(
        &server.target(Some(&db)),
        &options,
        &mut sink,
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("dump under load");
    let during = commits.load(std::sync::atomic::Ordering::Relaxed) - before;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().expect("writer");
    assert_eq!(
        report.snapshot, "shared",
        "two readers opened one shared snapshot"
    );
    assert!(
        during > 0,
        "the writer committed while the dump ran ({during} commits)"
    );
    assert_eq!(
        report.split_tables,
        vec!["accounts".to_owned(), "vault".to_owned()],
        "both tables are read in ranges"
    );

    let restored = server.fresh_db("consistent_r");
    server.client(&restored, &mut sink.as_slice());
    let total: Option<i64> = server
        .conn(Some(&restored))
        .query_first("SELECT (SELECT SUM(balance) FROM accounts) + (SELECT SUM(amount) FROM vault)")
        .expect("sum");
    assert_eq!(
        total,
        Some(150_000_000),
        "both tables come from the same instant: the transfer invariant holds"
    );
    let accounts: Option<(i64, i64)> = server
        .conn(Some(&restored))
        .query_first("SELECT COUNT(*), COUNT(DISTINCT id) FROM accounts")
        .expect("count");
    assert_eq!(
        accounts,
        Some((150_000, 150_000)),
        "every account row is restored exactly once from the ranges"
    );
    let vault_rows = report
        .tables
        .iter()
        .find(|t| t.table == "vault")
        .map(|t| t.rows);
    let vault: Option<u64> = server
        .conn(Some(&restored))
        .query_first("SELECT COUNT(*) FROM vault")
        .expect("count");
    assert_eq!(
        vault, vault_rows,
        "the restored vault holds the rows the dump counted"
    );
    server.drop_db(&db);
    server.drop_db(&restored);
}

/// `ANALYZE TABLE` of every table of `db`: row estimates as the server would have them on a
/// lived-in database (range sizes are chosen from them).
fn analyze_every_table(server: &crate::support::TestServer, db: &str) {
    let tables: Vec<String> = server.rows(
        db,
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
    );
    for table in &tables {
        server
            .conn(Some(db))
            .query_drop(format!("ANALYZE TABLE `{table}`"))
            .expect("analyze");
    }
}

/// Dumps `db` with `options` into memory: the report and the SQL text.
fn dump_to_text(
    server: &crate::support::TestServer,
    db: &str,
    options: billora_engine::dump::DumpOptions,
) -> (billora_engine::dump::DumpReport, String) {
    let mut sql = Vec::new();
    let report = billora_engine::dump::dump(
        &server.target(Some(db)),
        &options,
        &mut sql,
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("the dump works");
    (report, String::from_utf8(sql).expect("SQL text is UTF-8"))
}

#[test]
fn every_fixture_table_read_in_ranges_gives_the_same_rows_as_whole_reads() {
    let server = services();
    let db = server.fixture_db("ranges");
    analyze_every_table(server, &db);
    let dump = |range_rows| {
        dump_to_text(
            server,
            &db,
            billora_engine::dump::DumpOptions {
                range_rows,
                ..Default::default()
            },
        )
    };
    let (whole, _) = dump(Some(u64::MAX));
    let (ranged, sql) = dump(Some(1));
    let (automatic, _) = dump(None);
    assert!(
        whole.split_tables.is_empty(),
        "no table is split with the threshold out of reach: {:?}",
        whole.split_tables
    );
    assert!(
        automatic.split_tables.is_empty(),
        "by default a small database is read a table at a time: {:?}",
        automatic.split_tables
    );
    assert_eq!(
        automatic.tables, whole.tables,
        "the default dump reads the same rows"
    );
    assert!(
        ranged.split_tables.iter().any(|t| t == "invoice_items")
            && ranged.split_tables.iter().any(|t| t == "invoices"),
        "tables with an integer key and rows are read in ranges: {:?}",
        ranged.split_tables
    );
    assert_eq!(
        ranged.tables, whole.tables,
        "every table has the same row count and content digest read in ranges as read whole"
    );
    for table in &ranged.split_tables {
        let header = format!("-- Keys of `{table}`");
        assert!(
            sql.matches(&header).count() <= 1,
            "the keys of split table {table} are written once, after its last range"
        );
    }
    assert_eq!(
        sql.matches("-- Keys of `invoice_items`").count(),
        1,
        "invoice_items' keys are built once"
    );
    // Row statements start a line with a quoted table name (a trigger's body may insert too).
    let last_rows = sql.rfind("\nINSERT INTO `").expect("rows");
    let first_fk = sql
        .find("FOREIGN KEY")
        .expect("the fixture has foreign keys");
    assert!(
        first_fk > last_rows && !sql[..last_rows].contains("FOREIGN KEY"),
        "foreign keys are added only after every row (a restore adds them alone)"
    );

    let restored = server.fresh_db("ranges_r");
    server.client(&restored, &mut sql.as_bytes());
    assert_eq!(
        server.fingerprint(&restored),
        server.fingerprint(&db),
        "the stock client's restore of the ranged dump equals the source"
    );
    server.drop_db(&db);
    server.drop_db(&restored);
}

#[test]
fn a_tenant_read_in_ranges_of_its_own_keys_gives_the_same_rows_as_whole_reads() {
    let server = services();
    let db = server.fixture_db("tenant_ranges");
    // Tenant 5's invoices are 4 and 5: one more far from them, with its item, payment and
    // allocation, gives keys to cut.
    server
        .conn(Some(&db))
        .query_drop(
            "INSERT INTO invoices (id, tenant_id, customer_id, number, issued) VALUES (40, 5, 1004, 'INV-040', '2026-04-01'); \
             INSERT INTO invoice_items (invoice_id, product_id, qty, line_total) VALUES (40, 4, 1, 1.50); \
             INSERT INTO payments (id, invoice_id, amount, currency, method) VALUES (40, 40, 1.50, 'THB', 'card'); \
             INSERT INTO payment_allocations (payment_id, note) VALUES (40, 'ภายหลัง')",
        )
        .expect("more rows of tenant 5");
    analyze_every_table(server, &db);
    let dump = |range_rows, readers| {
        dump_to_text(
            server,
            &db,
            billora_engine::dump::DumpOptions {
                scope: billora_engine::dump::DumpScope::Tenant {
                    tenant_id: 5,
                    column: "tenant_id".into(),
                    root_table: "tenants".into(),
                    root_key: "id".into(),
                },
                range_rows,
                readers,
                ..Default::default()
            },
        )
    };
    let (whole, _) = dump(Some(u64::MAX), None);
    let (ranged, sql) = dump(Some(1), None);
    let (one_reader, _) = dump(None, Some(1));
    assert!(
        whole.split_tables.is_empty(),
        "no tenant table is split with the threshold out of reach: {:?}",
        whole.split_tables
    );
    // invoices holds the tenant column; invoice_items reaches it through one foreign key,
    // payment_allocations through two: all three are cut by ranges of invoice keys.
    for table in ["invoices", "invoice_items", "payment_allocations"] {
        assert!(
            ranged.split_tables.iter().any(|t| t == table),
            "{table} is read in ranges of the tenant's keys: {:?}",
            ranged.split_tables
        );
    }
    assert_eq!(
        ranged.tables, whole.tables,
        "every table has the same tenant row count and content digest read in ranges as whole"
    );
    assert!(
        ranged
            .tables
            .iter()
            .any(|t| t.table == "payment_allocations" && t.rows == 2),
        "tenant 5's two allocations, two foreign keys from its invoices, are in: {:?}",
        ranged.tables
    );
    assert!(
        one_reader.split_tables.is_empty() && one_reader.tables == whole.tables,
        "one reader reads each table whole, the same rows: {:?}",
        one_reader.split_tables
    );
    for table in &ranged.split_tables {
        assert_eq!(
            sql.matches(&format!("-- Keys of `{table}`")).count(),
            1,
            "the keys of split table {table} are written once, after its last range"
        );
    }
    server.drop_db(&db);
}

#[tokio::test]
async fn retention_deletes_only_recorded_files_and_marks_missing_ones() {
    let server = services();
    let db = server.fixture_db("retention");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &db).await;
    let id = schedule(&store, json!({"name": "Keep2", "cron_expression": "@daily", "backup_type": "full", "max_backups": 2})).await;
    let backups = store
        .default_backup_dir()
        .await
        .expect("the default folder is readable");
    std::fs::create_dir_all(&backups).expect("dir");
    let foreign = backups.join("backup_full_2020-01-01T00-00-00.sql.zst");
    std::fs::write(&foreign, b"not ours").expect("a file the history did not create");

    let mut files = Vec::new();
    for day in 0..3 {
        let at: jiff::Timestamp = format!("2026-02-0{}T02:00:00Z", day + 3)
            .parse()
            .expect("ts");
        let outcome = run_schedule(
            &store,
            &secrets,
            id,
            Trigger::Scheduled,
            at,
            &RunOptions::default(),
            RunControl::default(),
        )
        .await
        .expect("recorded");
        assert_eq!(outcome.status, "success", "run {day} succeeds");
        files.push(outcome.file.expect("file").path);
        if day == 1 {
            assert_eq!(
                outcome.retention.len(),
                0,
                "two backups: nothing to delete yet"
            );
        }
    }
    assert!(
        !files[0].exists(),
        "the oldest of three is deleted by max_backups 2"
    );
    assert!(
        !billora_engine::manifest::path_for(&files[0]).exists(),
        "with its manifest"
    );
    assert!(
        files[1].exists() && files[2].exists(),
        "the two newest stay"
    );
    assert!(
        foreign.exists(),
        "a file the history did not create is never touched"
    );

    // A kept file removed by hand: the next pass marks it missing instead of failing.
    std::fs::remove_file(&files[1]).expect("remove by hand");
    let at: jiff::Timestamp = "2026-02-06T02:00:00Z".parse().expect("ts");
    let outcome = run_schedule(
        &store,
        &secrets,
        id,
        Trigger::Scheduled,
        at,
        &RunOptions::default(),
        RunControl::default(),
    )
    .await
    .expect("recorded");
    assert_eq!(outcome.status, "success", "the run succeeds");
    assert_eq!(outcome.retention.len(), 1, "one backup fell out");
    assert_eq!(
        outcome.retention[0].outcome, "missing",
        "a file already gone is marked missing, not an error"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    let deleted: Vec<_> = history.iter().filter(|r| r.deleted_at.is_some()).collect();
    assert_eq!(deleted.len(), 2, "both deletions are in the history");
    assert!(
        deleted.iter().all(|r| r
            .deletion_reason
            .as_deref()
            .unwrap_or("")
            .contains("max_backups")),
        "with the reason"
    );
    let preview = store.preview_retention(id, at).await.expect("preview");
    assert!(
        preview.is_empty(),
        "after applying, the preview has nothing left to delete"
    );
    server.drop_db(&db);
}

#[tokio::test]
async fn transient_failures_are_retried_in_the_same_run_and_auth_failures_are_not() {
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    let down = down_profile();
    store
        .add_connection(down, Some("pw"), &secrets, now())
        .await
        .expect("profile");
    let id = schedule(
        &store,
        json!({"name": "Down", "cron_expression": "@daily", "backup_type": "full"}),
    )
    .await;
    let options = RunOptions {
        retry_delays: vec![std::time::Duration::from_millis(100); 2],
        ..RunOptions::default()
    };
    let outcome = run_schedule(
        &store,
        &secrets,
        id,
        Trigger::Scheduled,
        now(),
        &options,
        RunControl::default(),
    )
    .await
    .expect("recorded");
    assert_eq!(outcome.status, "failed", "still failed after the retries");
    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(
        history.len(),
        1,
        "the retries happen inside one run (one history entry)"
    );
    assert!(
        history[0]
            .note
            .as_deref()
            .unwrap_or("")
            .contains("try 2 failed"),
        "the entry says it was tried again: {:?}",
        history[0].note
    );

    let server = services();
    let db = server.fixture_db("noretry");
    add_test_connection(&store, &secrets, "office", &db).await;
    billora_engine::secrets::SecretStore::set(&secrets, "connection:office", "wrong").expect("set");
    let id = schedule(&store, json!({"name": "Auth", "cron_expression": "@daily", "backup_type": "full", "connection": "office"})).await;
    let outcome = run_schedule(
        &store,
        &secrets,
        id,
        Trigger::Scheduled,
        now(),
        &options,
        RunControl::default(),
    )
    .await
    .expect("recorded");
    assert_eq!(
        outcome.error.map(|e| e.code),
        Some(ErrorCode::AuthFailed),
        "a wrong password fails"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(history[0].note, None, "and is never retried");
    server.drop_db(&db);
}

#[test]
fn tls_modes_against_a_tls_server() {
    use billora_engine::connection::{check_connection, TlsMode};
    let server = services();
    let ca = std::path::PathBuf::from(
        server
            .env
            .get("BILLORA_TEST_MARIADB_CA")
            .expect("the test server has a CA"),
    );
    let db = server.fixture_db("tls");
    let check = |mode: TlsMode, ca_file: Option<&std::path::Path>| {
        let mut target = server.target(Some(&db));
        target.tls_mode = mode;
        target.tls_ca_file = ca_file.map(std::path::Path::to_path_buf);
        check_connection(&target)
    };
    assert!(
        !check(TlsMode::Disabled, None).expect("plain connects").tls,
        "disabled: no encryption"
    );
    assert!(
        check(TlsMode::Pinned, None)
            .expect("pinned connects (first use)")
            .tls,
        "pinned: encrypted"
    );
    assert!(
        check(TlsMode::Required, None)
            .expect("required connects")
            .tls,
        "required: encrypted"
    );
    assert!(
        check(TlsMode::VerifyCa, Some(&ca))
            .expect("the right CA verifies")
            .tls,
        "verify-ca with the server's CA: encrypted"
    );

    let dir = tempfile::tempdir().expect("temp");
    let other = dir.path().join("other-ca.pem");
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Someone Else",
        ])
        .arg("-keyout")
        .arg(dir.path().join("k.pem"))
        .arg("-out")
        .arg(&other)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "another CA is made");
    let err = check(TlsMode::VerifyCa, Some(&other))
        .expect_err("a certificate from another CA is refused");
    assert_eq!(
        err.code,
        ErrorCode::TlsFailed,
        "verify-ca with the wrong CA is TlsFailed: {err}"
    );

    // A backup over verify-ca works end to end.
    let mut target = server.target(Some(&db));
    target.tls_mode = TlsMode::VerifyCa;
    target.tls_ca_file = Some(ca);
    let mut sink = Vec::new();
    let report = billora_engine::dump::dump(
        &target,
        &Default::default(),
        &mut sink,
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("a dump over TLS");
    assert_eq!(
        report
            .tables
            .iter()
            .find(|t| t.table == "invoices")
            .map(|t| t.rows),
        Some(5),
        "all rows came over TLS"
    );
    server.drop_db(&db);
}

#[tokio::test]
async fn encrypted_backups_open_with_the_standard_tools_and_refuse_a_wrong_key_or_a_changed_byte() {
    use billora_engine::crypt::{keep_identity, keys_for, KeyPair, Keys};
    use std::process::{Command, Stdio};

    let server = services();
    let source = server.fixture_db("enc_src");
    let (dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    let pair = KeyPair::generate();
    keep_identity(&pair, &secrets).expect("the identity goes to the keyring");
    let id = schedule(
        &store,
        json!({"name": "Encrypted", "cron_expression": "0 2 * * *", "backup_type": "full",
               "encrypt_to": pair.recipient}),
    )
    .await;
    let outcome = run(&store, &secrets, id).await;
    assert_eq!(
        outcome.status, "success",
        "the encrypted backup succeeds: {:?}",
        outcome.error
    );
    let file = outcome.file.expect("a file");
    assert!(
        file.filename.ends_with(".sql.zst.age"),
        "an encrypted backup ends in .age: {}",
        file.filename
    );
    let bytes = std::fs::read(&file.path).expect("readable");
    assert!(
        bytes.starts_with(b"age-encryption.org/v1"),
        "the file is an age file"
    );
    assert!(
        !bytes.windows(12).any(|w| w == b"INSERT INTO "),
        "no SQL text is readable in the file"
    );
    let manifest = Manifest::read_beside(&file.path)
        .expect("readable")
        .expect("manifest");
    assert_eq!(
        manifest.encrypted_for,
        vec![pair.recipient.clone()],
        "the manifest names the key"
    );
    let expected = server.fingerprint(&source);

    // Without Billora Backup: age -d -i recovery-key.txt FILE | zstd -d | mariadb DB
    let key_file = dir.path().join("recovery-key.txt");
    std::fs::write(&key_file, pair.recovery_text("test")).expect("recovery file");
    let mut age_cmd = Command::new("age")
        .args(["-d", "-i"])
        .arg(&key_file)
        .arg(&file.path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the age tool runs");
    let mut zstd_cmd = Command::new("zstd")
        .args(["-d", "-c"])
        .stdin(age_cmd.stdout.take().expect("pipe"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("the zstd tool runs");
    let by_tools = server.fresh_db("enc_tools");
    server.client(&by_tools, &mut zstd_cmd.stdout.take().expect("pipe"));
    assert!(
        age_cmd.wait().expect("age").success(),
        "age decrypts the backup with the recovery file"
    );
    assert!(
        zstd_cmd.wait().expect("zstd").success(),
        "zstd decompresses it"
    );
    assert_eq!(
        server.fingerprint(&by_tools),
        expected,
        "the standard tools restore an identical database"
    );

    let target = server.target(None);
    let ours = format!("{source}_ours");
    let mut request = no_rows_restore(&ours, &file.path, RestoreMode::Database { force: false });
    request.keys = keys_for(&file.path, &secrets, None).expect("keys");
    restore(&target, &request, &|_| {}, &AtomicBool::new(false))
        .expect("our restore opens it with the keyring's key");
    assert_eq!(
        server.fingerprint(&ours),
        expected,
        "our restore gives an identical database"
    );

    let exists = |db: &str| {
        server
            .conn(None)
            .query_first::<String, _>(format!("SHOW DATABASES LIKE '{db}'"))
            .expect("query")
            .is_some()
    };
    let no_key = format!("{source}_nokey");
    let mut request = no_rows_restore(&no_key, &file.path, RestoreMode::Database { force: false });
    request.keys = Keys::none();
    let err = restore(&target, &request, &|_| {}, &AtomicBool::new(false))
        .expect_err("no key, no restore");
    assert_eq!(
        err.code,
        ErrorCode::AuthFailed,
        "a missing key is said plainly: {err}"
    );
    assert!(!exists(&no_key), "nothing reached the server");

    // A copy without its manifest (so no recorded checksum), one byte changed.
    let copy = dir.path().join("copy.sql.zst.age");
    let mut changed = bytes.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 0x01;
    std::fs::write(&copy, &changed).expect("copy");
    let tampered = format!("{source}_tampered");
    let mut request = no_rows_restore(&tampered, &copy, RestoreMode::Database { force: false });
    request.keys = keys_for(&file.path, &secrets, Some(&key_file)).expect("keys");
    let err = restore(&target, &request, &|_| {}, &AtomicBool::new(false))
        .expect_err("a changed byte is refused");
    assert_eq!(
        err.code,
        ErrorCode::Corrupt,
        "the damage is reported: {err}"
    );
    assert!(!exists(&tampered), "nothing reached the server");

    for db in [&source, &by_tools, &ours] {
        server.drop_db(db);
    }
}

#[tokio::test]
async fn verification_passes_for_a_good_backup_and_names_the_table_of_a_modified_copy() {
    use billora_engine::verify::{target_for_run, verify_run};

    let server = services();
    let source = server.fixture_db("ver_src");
    let copy = server.fixture_db("ver_copy");
    server
        .conn(Some(&copy))
        .query_drop("UPDATE customers SET name = CONCAT(name, ' (changed)') ORDER BY id LIMIT 1")
        .expect("one row changed in the copy");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    add_test_connection(&store, &secrets, "copy", &copy).await;
    let id = schedule(
        &store,
        json!({"name": "Good", "cron_expression": "0 2 * * *", "backup_type": "full", "connection": "office"}),
    )
    .await;
    let good = run(&store, &secrets, id).await;
    assert_eq!(
        good.status, "success",
        "the backup succeeds: {:?}",
        good.error
    );
    let scratch_left = |name: &str| {
        server
            .rows("mysql", &format!("SHOW DATABASES LIKE '{name}'"))
            .len()
    };

    let target = target_for_run(&store, &secrets, good.run_id, None)
        .await
        .expect("the run's own server");
    let report = verify_run(&store, &secrets, good.run_id, target.clone(), None, now())
        .await
        .expect("verification runs");
    assert!(
        report.verified,
        "a good backup verifies: {:?}",
        report.mismatches
    );
    assert!(
        report.tables_checked >= 10 && report.rows_checked > 0,
        "every table was compared: {report:?}"
    );
    assert!(
        report
            .scratch_database
            .starts_with(&format!("billora_verify_{}_", good.run_id)),
        "a scratch name that cannot clash: {}",
        report.scratch_database
    );
    assert_eq!(
        scratch_left(&report.scratch_database),
        0,
        "the scratch database is dropped afterwards"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(
        history[0].verification.as_deref(),
        Some("verified"),
        "the run is marked verified"
    );

    // A manifest written before XXH3 recorded SipHash digests (bare hex): it verifies too.
    let good_path = good.file.as_ref().expect("a file").path.clone();
    let manifest_path = billora_engine::manifest::path_for(&good_path);
    let original = std::fs::read(&manifest_path).expect("manifest");
    let mut manifest: serde_json::Value = serde_json::from_slice(&original).expect("json");
    assert!(
        manifest["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .all(|t| t["digest"].as_str().is_some_and(|d| d.starts_with("xxh3:"))),
        "new backups record XXH3 digests"
    );
    let sip = billora_engine::dump::dump(
        &server.target(Some(&source)),
        &billora_engine::dump::DumpOptions {
            digest: billora_engine::dump::DigestKind::SipHash,
            ..Default::default()
        },
        &mut std::io::sink(),
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("a SipHash dump of the source");
    for table in manifest["tables"].as_array_mut().expect("tables") {
        let name = table["table"].as_str().expect("name").to_owned();
        let digest = sip
            .tables
            .iter()
            .find(|t| t.table == name)
            .and_then(|t| t.digest.clone())
            .expect("a SipHash digest");
        assert!(!digest.contains(':'), "SipHash digests are bare hex");
        table["digest"] = json!(digest);
    }
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).expect("json")).expect("write");
    // As such a backup would have recorded it in its history entry.
    sqlx::query("UPDATE runs SET details = ? WHERE id = ?")
        .bind(manifest.to_string())
        .bind(good.run_id)
        .execute(store.pool())
        .await
        .expect("the history records that manifest");
    let report = verify_run(&store, &secrets, good.run_id, target.clone(), None, now())
        .await
        .expect("verification runs");
    assert!(
        report.verified,
        "a backup whose manifest has SipHash digests verifies: {:?}",
        report.mismatches
    );
    std::fs::write(&manifest_path, &original).expect("put the manifest back");
    sqlx::query("UPDATE runs SET details = ? WHERE id = ?")
        .bind(String::from_utf8(original.clone()).expect("text"))
        .bind(good.run_id)
        .execute(store.pool())
        .await
        .expect("and its record");

    // A backup of the modified copy, put in place of the good one with matching checksums:
    // the file is intact, but its content is not what the manifest says was dumped.
    let other = schedule(
        &store,
        json!({"name": "Copy", "cron_expression": "0 2 * * *", "backup_type": "full", "connection": "copy"}),
    )
    .await;
    let modified = run(&store, &secrets, other).await;
    let modified_file = modified.file.expect("a file");
    let good_file = good.file.expect("a file");
    std::fs::copy(&modified_file.path, &good_file.path).expect("replace the file");
    let manifest_path = billora_engine::manifest::path_for(&good_file.path);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("json");
    manifest["sha256"] = json!(modified_file.sha256);
    manifest["file_size"] = json!(modified_file.size);
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).expect("json")).expect("write");
    sqlx::query("UPDATE runs SET checksum_sha256 = ?, details = ? WHERE id = ?")
        .bind(&modified_file.sha256)
        .bind(manifest.to_string())
        .bind(good.run_id)
        .execute(store.pool())
        .await
        .expect("update");

    let report = verify_run(&store, &secrets, good.run_id, target, None, now())
        .await
        .expect("verification runs");
    assert!(
        !report.verified,
        "a restored copy that differs fails verification"
    );
    assert_eq!(
        report.mismatches.len(),
        1,
        "one table differs: {:?}",
        report.mismatches
    );
    assert_eq!(
        report.mismatches[0].table, "customers",
        "the changed table is named"
    );
    assert!(
        report.mismatches[0].content_differs,
        "same row count, different content"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    assert_eq!(
        history[0].verification.as_deref(),
        Some("verify_failed: table `customers` differs"),
        "the run is marked as failed verification, with the table"
    );
    assert_eq!(
        scratch_left(&report.scratch_database),
        0,
        "the scratch database is dropped after a failure too"
    );
    server.drop_db(&source);
    server.drop_db(&copy);
}

#[tokio::test]
async fn a_schedule_that_verifies_its_backups_records_the_test_restore_before_retention() {
    let server = services();
    let source = server.fixture_db("ver_after");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    let id = schedule(
        &store,
        json!({"name": "Verified", "cron_expression": "0 2 * * *", "backup_type": "full",
               "verify_after_backup": true, "max_backups": 1}),
    )
    .await;
    let first = run(&store, &secrets, id).await;
    assert_eq!(
        first.status, "success",
        "the backup succeeds: {:?}",
        first.error
    );
    assert_eq!(
        first.verification.as_deref(),
        Some("verified"),
        "it was test-restored right away"
    );
    let second = run(&store, &secrets, id).await;
    assert_eq!(
        second.verification.as_deref(),
        Some("verified"),
        "so is the next one"
    );
    assert_eq!(
        second
            .retention
            .iter()
            .map(|d| d.run_id)
            .collect::<Vec<_>>(),
        vec![first.run_id],
        "with both verified, max_backups 1 deletes the older one"
    );
    let history = store.list_history(Some(id)).await.expect("history");
    assert!(
        history
            .iter()
            .all(|r| r.verification.as_deref() == Some("verified")),
        "every run shows its verification"
    );
    server.drop_db(&source);
}

#[tokio::test]
async fn a_passphrase_schedule_needs_its_passphrase_and_age_opens_the_file_with_it() {
    use billora_engine::crypt::{keys_for, set_passphrase, Keys};
    use std::process::{Command, Stdio};

    let server = services();
    let source = server.fixture_db("pass_src");
    let (dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &source).await;
    let id = schedule(
        &store,
        json!({"name": "Passphrase", "cron_expression": "0 2 * * *", "backup_type": "full",
               "encrypt_to": "passphrase"}),
    )
    .await;
    let refused = run(&store, &secrets, id).await;
    assert_eq!(
        refused.status, "failed",
        "without a saved passphrase the run fails"
    );
    let err = refused.error.expect("an error");
    assert_eq!(
        err.field.as_deref(),
        Some("passphrase"),
        "and says the passphrase is missing: {err}"
    );
    assert!(
        set_passphrase(id, "short", &secrets).is_err(),
        "a short passphrase is refused"
    );
    let passphrase = "ten little green bottles";
    set_passphrase(id, passphrase, &secrets).expect("saved");
    let outcome = run(&store, &secrets, id).await;
    assert_eq!(
        outcome.status, "success",
        "with it, the backup succeeds: {:?}",
        outcome.error
    );
    let file = outcome.file.expect("a file");
    assert!(
        file.filename.ends_with(".sql.zst.age"),
        "an age file: {}",
        file.filename
    );
    let expected = server.fingerprint(&source);

    // The standard tool asks for the passphrase on a terminal: give it one (script's pty).
    let plain = dir.path().join("plain.sql.zst");
    let mut age = Command::new("script")
        .args(["-qec"])
        .arg(format!(
            "age -d -o {} {}",
            plain.display(),
            file.path.display()
        ))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("script runs (bsdutils)");
    {
        use std::io::Write;
        let mut stdin = age.stdin.take().expect("stdin");
        std::thread::sleep(std::time::Duration::from_millis(500));
        writeln!(stdin, "{passphrase}").expect("type the passphrase");
    }
    assert!(
        age.wait().expect("age").success(),
        "age opens the file with the passphrase"
    );
    let by_tools = server.fresh_db("pass_tools");
    restore_with_client(server, &plain, &by_tools);
    assert_eq!(
        server.fingerprint(&by_tools),
        expected,
        "the standard tools restore an identical database"
    );

    let target = server.target(None);
    let ours = format!("{source}_ours");
    let mut request = no_rows_restore(&ours, &file.path, RestoreMode::Database { force: false });
    request.keys = keys_for(&file.path, &secrets, None).expect("keys");
    restore(&target, &request, &|_| {}, &AtomicBool::new(false))
        .expect("our restore finds the passphrase in the keyring");
    assert_eq!(
        server.fingerprint(&ours),
        expected,
        "our restore gives an identical database"
    );

    let wrong = format!("{source}_wrong");
    let mut request = no_rows_restore(&wrong, &file.path, RestoreMode::Database { force: false });
    let mut keys = Keys::none();
    keys.add_passphrase("not the passphrase at all");
    request.keys = keys;
    let err = restore(&target, &request, &|_| {}, &AtomicBool::new(false))
        .expect_err("a wrong passphrase");
    assert_eq!(err.code, ErrorCode::AuthFailed, "is refused plainly: {err}");
    for db in [&source, &by_tools, &ours] {
        server.drop_db(db);
    }
}

/// A table emptied between backups (as a broken application or a wrong DELETE would) makes the
/// next backup far smaller than the last good ones: it still succeeds, but its history entry
/// and its outcome say it is possibly incomplete.
#[tokio::test]
async fn a_backup_far_smaller_than_the_recent_ones_is_flagged_possibly_incomplete() {
    let server = services();
    let db = server.fresh_db("shrink");
    {
        let mut c = server.conn(Some(&db));
        c.query_drop(
            "CREATE TABLE invoices (id INT PRIMARY KEY AUTO_INCREMENT, tenant_id INT NOT NULL, body VARCHAR(200) NOT NULL)",
        )
        .expect("a table");
        c.query_drop(
            "INSERT INTO invoices (tenant_id, body) SELECT seq % 7, SHA2(seq, 512) FROM seq_1_to_20000",
        )
        .expect("20,000 rows that do not compress away");
    }
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &db).await;
    let id = schedule(
        &store,
        json!({"name": "Shrink", "cron_expression": "@daily", "backup_type": "full"}),
    )
    .await;
    for n in 0..3 {
        let outcome = run(&store, &secrets, id).await;
        assert_eq!(outcome.status, "success", "backup {n} succeeds");
        assert!(
            outcome.warning.is_none(),
            "steady sizes are not flagged ({n})"
        );
    }
    server
        .conn(Some(&db))
        .query_drop("DELETE FROM invoices WHERE id > 100")
        .expect("most rows gone");
    let outcome = run(&store, &secrets, id).await;
    assert_eq!(
        outcome.status, "success",
        "the small backup is still a backup"
    );
    let warning = outcome.warning.expect("it is flagged");
    assert!(warning.contains("possibly incomplete dump"), "{warning}");
    let history = store.list_history(Some(id)).await.expect("history");
    let newest = history.first().expect("the newest entry");
    assert!(
        newest
            .note
            .as_deref()
            .is_some_and(|n| n.contains("possibly incomplete dump")),
        "the history entry says so: {:?}",
        newest.note
    );
    server.drop_db(&db);
}

/// A long statement holds a table open (a month-end batch): the global read lock that shared
/// readers need would wait behind it, and every other write of the server would queue behind
/// the lock. The dump does not wait: after 0.15 s it gives up the lock, reads with one
/// connection and no global lock, and says so; a write issued meanwhile is not held.
#[test]
fn a_dump_does_not_queue_writers_behind_a_long_statement() {
    let server = services();
    let db = server.fresh_db("long_write");
    server
        .conn(Some(&db))
        .query_drop(
            "CREATE TABLE batch (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; INSERT INTO batch VALUES (1, 0); \
             CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, total INT) ENGINE=InnoDB",
        )
        .expect("tables");
    // The long write: it would run for 60 s (it is stopped once checked).
    let (id_tx, id_rx) = std::sync::mpsc::channel::<u64>();
    let long = {
        let target = server.target(Some(&db));
        std::thread::spawn(move || {
            let mut conn = target.connect().expect("connects");
            let id: Option<u64> = conn.query_first("SELECT CONNECTION_ID()").expect("its id");
            id_tx.send(id.unwrap_or(0)).expect("sent");
            let _ = conn.query_drop("UPDATE batch SET v = v + SLEEP(60)");
        })
    };
    let long_id = id_rx.recv().expect("the long statement's connection");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let options = billora_engine::dump::DumpOptions {
        readers: Some(2),
        ..Default::default()
    };
    let mut sink = Vec::new();
    let report = billora_engine::dump::dump(
        &server.target(Some(&db)),
        &options,
        &mut sink,
        &|_| {},
        &AtomicBool::new(false),
    )
    .expect("the dump succeeds");
    // A write after the dump's lock attempt: it must not be waiting behind a global lock.
    server
        .conn(Some(&db))
        .query_drop("INSERT INTO orders (total) VALUES (1)")
        .expect("the write goes through");
    let still_running = !long.is_finished();
    server
        .conn(None)
        .query_drop(format!("KILL QUERY {long_id}"))
        .expect("the long statement stopped");
    long.join().expect("the long statement ends");
    assert_eq!(
        report.snapshot, "single",
        "no shared snapshot: the lock was given up ({:?})",
        report.warnings
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("no global lock") && w.contains("long write")),
        "the report says why it read with one connection: {:?}",
        report.warnings
    );
    assert!(
        still_running,
        "the dump and the write finished while the long statement still ran (nothing waited for it)"
    );
    assert!(
        String::from_utf8_lossy(&sink).contains("CREATE TABLE `orders`"),
        "the dump is whole"
    );
    server.drop_db(&db);
}
