//! The app as the console of a server's daemon (issue 23): the engine's `Console`, as the
//! desktop shell uses it, against a real `billora-backup daemon --listen` over HTTPS with a
//! self-signed certificate: adding the server (bad address, wrong and monitor tokens refused,
//! the certificate pinned), its schedules listed, created, edited, toggled, run and their
//! history read; a replaced certificate refused with both fingerprints, then accepted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use billora_engine::api::{
    AddDaemonRequest, Api, Console, HistoryQuery, Lang, NewSchedule, SchedulePatch,
    TrustDaemonRequest,
};
use billora_engine::secrets::{MemorySecrets, SecretStore};
use billora_engine::ErrorCode;
use mysql::prelude::Queryable;

use crate::harness::{big_database, text, Harness};
use crate::http::{free_port, self_signed, start_daemon, token};
use crate::support::services;

/// `openssl x509 -fingerprint -sha256`, as the server's owner reads it out.
fn fingerprint(cert: &std::path::Path) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .expect("openssl runs");
    let line = text(&out.stdout);
    line.trim()
        .split_once('=')
        .map(|(_, f)| f.to_owned())
        .expect("a fingerprint line")
}

fn schedule(name: &str, cron: &str) -> NewSchedule {
    serde_json::from_value(serde_json::json!({
        "name": name, "cron_expression": cron, "backup_type": "full"
    }))
    .expect("a schedule request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_manages_a_servers_daemon_over_pinned_https() {
    let server = services();
    let db = big_database(server, "console", 2_000);
    let h = Harness::new(
        server,
        &db,
        r#"{"name":"Nightly","cron_expression":"0 1 * * *","backup_type":"full"}"#,
    );
    let admin = token(&h, "desk", "admin");
    let monitor = token(&h, "grafana", "monitor");
    let dir = h.dir.path();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    self_signed(&cert, &key);
    let port = free_port();
    let tls_args = |cert: &std::path::Path, key: &std::path::Path| {
        vec![
            std::ffi::OsString::from("--tls-cert"),
            cert.as_os_str().to_owned(),
            "--tls-key".into(),
            key.as_os_str().to_owned(),
        ]
    };
    let args = tls_args(&cert, &key);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let daemon = start_daemon(&h, port, &args).await;
    let url = format!("https://localhost:{port}");

    // The desktop app: its own data folder and keyring.
    let app_dir = tempfile::tempdir().expect("temp dir");
    let secrets = Arc::new(MemorySecrets::default());
    let api = Arc::new(
        Api::open(Some(app_dir.path()), secrets.clone())
            .await
            .expect("the app's store"),
    );
    let console = Console::new(api.clone());
    let add = |url: &str, token: &str| AddDaemonRequest {
        name: "Office".into(),
        url: url.into(),
        token: token.into(),
    };

    // Refusals keep nothing: plain HTTP across the network, a wrong token, a monitor token.
    let plain = api
        .add_daemon(add(&format!("http://192.0.2.7:{port}/api"), &admin))
        .await
        .expect_err("plain HTTP to another machine");
    assert_eq!(
        plain.field.as_deref(),
        Some("url"),
        "on the address: {plain:?}"
    );
    let wrong = api
        .add_daemon(add(&url, "bb_notatoken"))
        .await
        .expect_err("a wrong token");
    assert!(
        wrong.code == ErrorCode::AuthFailed && wrong.field.as_deref() == Some("token"),
        "a refused token is said on the token field: {wrong:?}"
    );
    assert!(
        !wrong.message.contains("bb_notatoken"),
        "the token is never repeated: {}",
        wrong.message
    );
    let reader = api
        .add_daemon(add(&url, &monitor))
        .await
        .expect_err("a monitor token");
    assert_eq!(
        reader.code,
        ErrorCode::PermissionDenied,
        "a monitor token cannot manage schedules: {reader:?}"
    );
    assert!(
        api.list_daemons().await.expect("listed").is_empty()
            && secrets.get("daemon:office").expect("readable").is_none(),
        "nothing was kept from the refused attempts"
    );

    // Added: the certificate met is pinned, the token is in the keyring only.
    let added = api.add_daemon(add(&url, &admin)).await.expect("added");
    let pinned = fingerprint(&cert);
    assert_eq!(
        added.cert_sha256.as_deref(),
        Some(pinned.as_str()),
        "the daemon's certificate is pinned as openssl prints its fingerprint"
    );
    assert_eq!(added.url, format!("{url}/api"), "the default base path");
    let store = std::fs::read(app_dir.path().join("billora.db")).expect("the app's store");
    assert!(
        !String::from_utf8_lossy(&store).contains(&admin),
        "the token is not in the app's store"
    );

    // The screens show the server.
    let viewing = console.view(Some("office".into())).await.expect("switched");
    assert_eq!(
        viewing.machine.as_deref(),
        Some("Office"),
        "shown: {viewing:?}"
    );
    let names = |list: &[billora_engine::api::Schedule]| {
        list.iter().map(|s| s.name.clone()).collect::<Vec<_>>()
    };
    let next_start = Console::new(api.clone());
    assert_eq!(
        next_start
            .resume()
            .await
            .expect("resumed")
            .machine
            .as_deref(),
        Some("Office"),
        "the app opens again on the server it showed last"
    );
    let listed = console
        .list_schedules()
        .await
        .expect("the server's schedules");
    assert_eq!(
        names(&listed),
        ["Nightly"],
        "the server's, not this computer's"
    );
    let here = console
        .here()
        .await
        .expect_err("local-only while a server is shown");
    assert_eq!(here.field.as_deref(), Some("machine"), "refused: {here:?}");
    let choices = console
        .schedule_choices()
        .await
        .expect("the server's choices");
    assert_eq!(
        choices
            .connections
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["db"],
        "the editor offers the server's connections"
    );

    // Created, refused with the field named, edited, toggled, on the server.
    let bad = console
        .create_schedule(schedule("Broken", "61 * * * *"))
        .await
        .expect_err("a bad cron");
    assert_eq!(
        bad.field.as_deref(),
        Some("cron_expression"),
        "the server's refusal names the field: {bad:?}"
    );
    let weekly = console
        .create_schedule(schedule("Weekly", "0 3 * * 0"))
        .await
        .expect("created on the server");
    let patch: SchedulePatch =
        serde_json::from_value(serde_json::json!({"description": "ส่งออกทุกสัปดาห์"}))
            .expect("a patch");
    let edited = console
        .update_schedule(weekly.id, patch)
        .await
        .expect("edited");
    assert!(
        edited.description == "ส่งออกทุกสัปดาห์" && edited.cron_expression == "0 3 * * 0",
        "only the field sent changed: {edited:?}"
    );
    let off = console.toggle_schedule(weekly.id).await.expect("toggled");
    assert!(!off.is_active, "turned off on the server");
    let on_server = h.run(&["schedule", "list"]);
    let on_server = text(&on_server.stdout);
    assert!(
        on_server.contains("Weekly") && on_server.contains("ส่งออกทุกสัปดาห์"),
        "the server's own CLI sees the change: {on_server}"
    );
    assert!(
        api.list_schedules().await.expect("local").is_empty(),
        "nothing was created on this computer"
    );

    // Run now: the backup runs in the server's daemon (held on a locked table, so that it is
    // seen running: its progress is on the board); its history comes back.
    let nightly = listed[0].id;
    let mut locker = server.conn(Some(&db));
    locker
        .query_drop("LOCK TABLES big WRITE")
        .expect("the table locked");
    console.run_schedule_now(nightly).await.expect("started");
    let started = Instant::now();
    loop {
        let board = console
            .dashboard(Lang::En)
            .await
            .expect("the server's board");
        let running = board
            .schedules
            .iter()
            .find(|s| s.schedule.id == nightly)
            .and_then(|s| s.running.clone());
        if let Some(live) = running {
            assert_eq!(live.schedule_id, nightly, "the server's run on its card");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the board shows the server's run while it goes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    locker.query_drop("UNLOCK TABLES").expect("unlocked");
    let started = Instant::now();
    let run = loop {
        let runs = console
            .list_history(HistoryQuery {
                schedule_id: Some(nightly),
                ..HistoryQuery::default()
            })
            .await
            .expect("the server's history");
        if let Some(run) = runs.into_iter().find(|r| r.status != "running") {
            break run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the run finishes on the server"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(run.status, "success", "the server's backup: {run:?}");
    let file = run.filename.clone().expect("a file");
    assert!(
        h.files().contains(&file),
        "the file is on the server: {file}"
    );
    let board = console
        .dashboard(Lang::En)
        .await
        .expect("the server's board");
    let line = board
        .schedules
        .iter()
        .find(|s| s.schedule.id == nightly)
        .expect("Nightly on the board");
    assert!(
        line.last_run.as_ref().map(|r| r.id) == Some(run.id) && !line.summary.is_empty(),
        "the board shows the server's last run and the schedule in words: {line:?}"
    );

    // The server's daemon stops: the screens say the server cannot be reached, on its address.
    drop(daemon);
    let down = console
        .list_schedules()
        .await
        .expect_err("the daemon is down");
    assert!(
        down.code == ErrorCode::Unreachable && down.message.contains(&url),
        "says which server cannot be reached: {down:?}"
    );

    let next_start = Console::new(api.clone());
    let resumed = next_start
        .resume()
        .await
        .expect_err("the server is down at start");
    assert!(
        resumed.code == ErrorCode::Unreachable && next_start.viewing().await.machine.is_none(),
        "a server down at start leaves this computer shown, saying why: {resumed:?}"
    );

    // The server's certificate is replaced: refused with both fingerprints, then accepted.
    let (cert2, key2) = (dir.join("cert2.pem"), dir.join("key2.pem"));
    self_signed(&cert2, &key2);
    let args = tls_args(&cert2, &key2);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let _daemon = start_daemon(&h, port, &args).await;
    let changed = console
        .list_schedules()
        .await
        .expect_err("another certificate");
    let now = fingerprint(&cert2);
    assert!(
        changed.code == ErrorCode::CertificateChanged
            && changed.message.contains(&pinned)
            && changed.message.contains(&now),
        "refused naming both fingerprints: {changed:?}"
    );
    let trusted = console
        .trust_daemon_certificate(TrustDaemonRequest {
            name: "Office".into(),
            cert_sha256: now.to_lowercase().replace(':', ""),
        })
        .await
        .expect("accepted");
    assert_eq!(
        trusted.cert_sha256.as_deref(),
        Some(now.as_str()),
        "re-pinned"
    );
    assert_eq!(
        names(&console.list_schedules().await.expect("listed again")),
        ["Nightly", "Weekly"],
        "the shown server works again with the new pin"
    );

    // Removed: back to this computer, the token gone from the keyring.
    console.remove_daemon("OFFICE").await.expect("removed");
    assert_eq!(
        Console::new(api.clone())
            .resume()
            .await
            .expect("resumed")
            .machine,
        None,
        "a removed server is not returned to"
    );
    assert_eq!(
        console.viewing().await.machine,
        None,
        "back to this computer"
    );
    assert!(
        secrets.get("daemon:office").expect("readable").is_none(),
        "the token left the keyring"
    );
}
