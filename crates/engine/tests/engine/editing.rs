//! Connections and destinations edited in place through the API, against the real MariaDB
//! server and the real WebDAV server: the database password changed by the DBA, a wrong one
//! refused on its field with nothing changed, the schedule that uses the profile kept; a
//! destination's secret replaced only when it works, and a move refused while copies live at
//! the old place.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use billora_engine::api::{
    AddConnectionRequest, Api, DestinationForm, RunHere, UpdateConnectionRequest,
};
use billora_engine::connection::NewConnection;
use billora_engine::destination::{DestinationSettings, NewDestination};
use billora_engine::schedule::parse_request;
use billora_engine::secrets::{MemorySecrets, SecretStore};
use billora_engine::ErrorCode;
use mysql::prelude::Queryable;

use crate::support::services;

fn profile(user: &str, db: &str, host: &str, port: u16) -> NewConnection {
    NewConnection {
        host: host.into(),
        port: Some(port),
        username: user.into(),
        password_source: None,
        ..crate::support::test_profile("office", db)
    }
}

async fn backup(api: &Api, id: i64) -> billora_engine::run::RunOutcome {
    api.run_here(
        id,
        RunHere::default(),
        Arc::new(|_| {}),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("the run is recorded")
}

#[tokio::test]
async fn a_connection_is_edited_in_place_tested_first_and_its_schedule_keeps_working() {
    let server = services();
    let db = server.fresh_db("edit_conn");
    server
        .conn(Some(&db))
        .query_drop("CREATE TABLE invoices (id INT PRIMARY KEY, total DECIMAL(10,2)); INSERT INTO invoices VALUES (1, 9.50)")
        .expect("a table");
    let user = format!("edit_{}", std::process::id());
    let mut root = server.conn(None);
    root.query_drop(format!(
        "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'first-pw'"
    ))
    .expect("a user");
    root.query_drop(format!("GRANT ALL ON `{db}`.* TO '{user}'@'127.0.0.1'"))
        .expect("its rights");
    root.query_drop(format!(
        "GRANT PROCESS, RELOAD ON *.* TO '{user}'@'127.0.0.1'"
    ))
    .expect("what a consistent dump needs");
    let dir = tempfile::tempdir().expect("a data folder");
    let secrets = Arc::new(MemorySecrets::default());
    let api = Api::open(Some(dir.path()), secrets.clone())
        .await
        .expect("api");
    api.add_connection(AddConnectionRequest {
        ssh_secret: None,
        connection: profile(&user, &db, &server.host, server.port),
        password: "first-pw".into(),
    })
    .await
    .expect("added");
    let schedule = api
        .create_schedule(
            parse_request(r#"{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full","connection":"office"}"#)
                .expect("valid"),
        )
        .await
        .expect("a schedule on the profile");
    let first = backup(&api, schedule.id).await;
    assert_eq!(
        first.status, "success",
        "the first backup works: {:?}",
        first.error
    );

    // The DBA changes the password: backups now fail.
    root.query_drop(format!(
        "ALTER USER '{user}'@'127.0.0.1' IDENTIFIED BY 'second-pw'"
    ))
    .expect("a new password");
    let failed = backup(&api, schedule.id).await;
    assert_eq!(
        failed.error.map(|e| e.code),
        Some(ErrorCode::AuthFailed),
        "with the old password the backup fails"
    );

    // A wrong password is refused on its field; the kept one is untouched.
    let wrong = api
        .update_connection(UpdateConnectionRequest {
            ssh_secret: None,
            connection: profile(&user, &db, &server.host, server.port),
            password: Some("nope".into()),
        })
        .await
        .expect_err("a password that does not work is not saved");
    assert_eq!(wrong.field.as_deref(), Some("password"), "named: {wrong}");
    assert_eq!(
        secrets
            .get("connection:office")
            .expect("keyring")
            .as_deref(),
        Some("first-pw"),
        "the keyring still holds the old password"
    );
    // A host where nothing listens is refused on the host; the profile is unchanged.
    let unreachable = api
        .update_connection(UpdateConnectionRequest {
            ssh_secret: None,
            connection: profile(&user, &db, "127.0.0.1", 1),
            password: Some("second-pw".into()),
        })
        .await
        .expect_err("an unreachable server is not saved");
    assert_eq!(
        unreachable.field.as_deref(),
        Some("host"),
        "named: {unreachable}"
    );
    let kept = api.list_connections().await.expect("list");
    assert_eq!(kept[0].port, server.port, "the profile is unchanged");

    // The right password: tested, saved, and the schedule backs up again.
    let changed = api
        .update_connection(UpdateConnectionRequest {
            ssh_secret: None,
            connection: profile(&user, &db, &server.host, server.port),
            password: Some("second-pw".into()),
        })
        .await
        .expect("the new password works and is saved");
    assert_eq!(changed.name, "office", "the same profile");
    assert_eq!(
        secrets
            .get("connection:office")
            .expect("keyring")
            .as_deref(),
        Some("second-pw"),
        "the keyring holds the new password"
    );
    assert_eq!(
        api.get_schedule(schedule.id)
            .await
            .expect("schedule")
            .connection
            .as_deref(),
        Some("office"),
        "the schedule still uses the profile"
    );
    assert_eq!(
        backup(&api, schedule.id).await.status,
        "success",
        "and backs up again"
    );

    // An edit without a password keeps the saved one.
    let mut other = profile(&user, &db, &server.host, server.port);
    other.tenant_column = Some("company_id".into());
    let edited = api
        .update_connection(UpdateConnectionRequest {
            ssh_secret: None,
            connection: other,
            password: None,
        })
        .await
        .expect("tested with the kept password");
    assert_eq!(edited.tenant_column, "company_id", "the change is saved");
    assert_eq!(
        secrets
            .get("connection:office")
            .expect("keyring")
            .as_deref(),
        Some("second-pw"),
        "and the password kept"
    );
    let mut unknown = profile(&user, &db, &server.host, server.port);
    unknown.name = "nowhere".into();
    let missing = api
        .update_connection(UpdateConnectionRequest {
            ssh_secret: None,
            connection: unknown,
            password: None,
        })
        .await
        .expect_err("no such profile");
    assert_eq!(missing.code, ErrorCode::NotFound, "{missing}");
    root.query_drop(format!("DROP USER '{user}'@'127.0.0.1'"))
        .ok();
    server.drop_db(&db);
}

#[tokio::test]
async fn a_destination_is_edited_in_place_its_secret_replaced_only_when_it_works() {
    let server = services();
    let url = server.env["BILLORA_TEST_WEBDAV_URL"].clone();
    let user = server.env["BILLORA_TEST_WEBDAV_USER"].clone();
    let password = server.env["BILLORA_TEST_WEBDAV_PASSWORD"].clone();
    let dir = tempfile::tempdir().expect("a data folder");
    let secrets = Arc::new(MemorySecrets::default());
    let api = Api::open(Some(dir.path()), secrets.clone())
        .await
        .expect("api");
    let folder = format!("edit-{}", std::process::id());
    let webdav = |folder: &str| NewDestination {
        name: "nas".into(),
        settings: DestinationSettings::Webdav {
            url: url.clone(),
            username: Some(user.clone()),
            folder: folder.into(),
        },
        retention_days: None,
        max_backups: None,
    };
    api.add_destination(
        DestinationForm {
            destination: webdav(&folder),
            secret: Some(password.clone()),
        },
        &|_| {},
    )
    .await
    .expect("the WebDAV destination is saved");

    let wrong = api
        .update_destination(DestinationForm {
            destination: webdav(&folder),
            secret: Some("not-the-password".into()),
        })
        .await
        .expect_err("a secret the server refuses is not saved");
    assert_eq!(wrong.field.as_deref(), Some("secret"), "named: {wrong}");
    assert_eq!(
        secrets.get("destination:nas").expect("keyring").as_deref(),
        Some(password.as_str()),
        "the working secret is kept"
    );

    // Retention changes with the kept secret (tested with it).
    let mut keep = webdav(&folder);
    keep.retention_days = Some(30);
    let changed = api
        .update_destination(DestinationForm {
            destination: keep,
            secret: None,
        })
        .await
        .expect("tested with the kept secret and saved");
    assert_eq!(changed.retention_days, Some(30), "the change is saved");

    // Its kind cannot change.
    let mut folder_kind = webdav(&folder);
    folder_kind.settings = DestinationSettings::Folder {
        path: dir.path().join("elsewhere").display().to_string(),
    };
    let refused = api
        .update_destination(DestinationForm {
            destination: folder_kind,
            secret: None,
        })
        .await
        .expect_err("the kind stays");
    assert_eq!(refused.field.as_deref(), Some("kind"), "named: {refused}");

    // With no copy there yet, it may move.
    let moved = api
        .update_destination(DestinationForm {
            destination: webdav(&format!("{folder}-b")),
            secret: None,
        })
        .await
        .expect("moved while nothing is kept there");
    assert!(
        moved.location.ends_with(&format!("{folder}-b")),
        "{}",
        moved.location
    );

    // A copy at the new place: moving again is refused.
    let db = server.fixture_db("edit_dest");
    crate::support::add_test_connection(api.store(), &secrets, "office", &db).await;
    let schedule = api
        .create_schedule(
            parse_request(r#"{"name":"Copied","cron_expression":"0 2 * * *","backup_type":"full","copy_to":["nas"]}"#)
                .expect("valid"),
        )
        .await
        .expect("a schedule copying there");
    let outcome = backup(&api, schedule.id).await;
    assert_eq!(
        outcome.copies.first().map(|c| c.status.as_str()),
        Some("uploaded"),
        "the copy arrived: {:?}",
        outcome.copies
    );
    let stuck = api
        .update_destination(DestinationForm {
            destination: webdav(&format!("{folder}-c")),
            secret: None,
        })
        .await
        .expect_err("copies live at the old place");
    assert_eq!(stuck.code, ErrorCode::Conflict, "{stuck}");
    assert_eq!(stuck.field.as_deref(), Some("location"), "{stuck}");
    server.drop_db(&db);
}
