//! The network is watched: TLS to the real MariaDB server (a private CA; the certificate names
//! `localhost` only), trust on first use and a changed certificate, and a hostile fake server
//! (`tests/fake_mysql/fake_mysql.py`) that offers no TLS, asks for the password in clear, or
//! asks for a file of this machine.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;

use billora_engine::connection::{check_connection, ConnectionProfile, ServerTarget, TlsMode};
use billora_engine::error::ErrorCode;
use billora_engine::store::Store;
use serde_json::json;

use crate::support::{add_test_connection, now, repo_root, services, temp_store, test_secrets};

/// The SHA-256 fingerprint of a PEM certificate, as openssl prints it (`AA:BB:…`).
fn openssl_fingerprint(pem: &std::path::Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .expect("openssl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .split_once('=')
        .map(|(_, fp)| fp.to_owned())
        .expect("a fingerprint line")
}

fn tls_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(&services().env["BILLORA_TEST_MARIADB_CA"])
        .parent()
        .expect("tls dir")
        .to_path_buf()
}

async fn profile(store: &Store, name: &str) -> ConnectionProfile {
    store.get_connection(name).await.expect("profile")
}

#[tokio::test]
async fn a_new_connection_pins_the_certificate_on_first_use_and_refuses_another() {
    let server = services();
    let db = server.fixture_db("tofu");
    let (_dir, store) = temp_store().await;
    let secrets = test_secrets();
    add_test_connection(&store, &secrets, "office", &db).await;
    let fresh = profile(&store, "office").await;
    assert_eq!(
        (fresh.tls_mode, fresh.tls_pin.as_deref()),
        (TlsMode::Pinned, None),
        "a new connection is pinned on first use, nothing pinned yet"
    );

    // The first backup pins the certificate the server presented.
    let id = store
        .create_schedule(
            billora_engine::schedule::parse_request(
                &json!({"name": "Daily", "cron_expression": "0 2 * * *", "backup_type": "full"})
                    .to_string(),
            )
            .expect("body"),
            now(),
        )
        .await
        .expect("schedule")
        .id;
    let outcome = billora_engine::backup::run_schedule(
        &store,
        &secrets,
        id,
        billora_engine::run::Trigger::Manual,
        now(),
        &Default::default(),
        Default::default(),
    )
    .await
    .expect("run");
    assert_eq!(
        outcome.status, "success",
        "the backup succeeds: {:?}",
        outcome.error
    );
    let server_pin = openssl_fingerprint(&tls_dir().join("server.pem"));
    let pinned = profile(&store, "office").await;
    assert_eq!(
        (pinned.tls_mode, pinned.tls_pin.as_deref()),
        (TlsMode::Pinned, Some(server_pin.as_str())),
        "the server certificate's SHA-256 is pinned"
    );
    let warnings = outcome.report.map(|r| r.warnings).unwrap_or_default();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("now pinned") && w.contains(&server_pin)),
        "the run says it pinned the certificate: {warnings:?}"
    );

    // Another certificate (here: the pin of the CA's) is refused with both fingerprints.
    let other_pin = openssl_fingerprint(&tls_dir().join("ca.pem"));
    store
        .trust_certificate("office", &other_pin, now())
        .await
        .expect("pin another");
    let target = ServerTarget::new(&profile(&store, "office").await, &secrets).expect("target");
    let err = tokio::task::spawn_blocking(move || check_connection(&target))
        .await
        .expect("task")
        .expect_err("a different certificate is refused");
    assert_eq!(err.code, ErrorCode::CertificateChanged, "{err:?}");
    assert!(
        err.message.contains(&other_pin) && err.message.contains(&server_pin),
        "both fingerprints are shown: {}",
        err.message
    );
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("connection trust office --fingerprint")),
        "the hint says how to accept the new one: {:?}",
        err.hint
    );
    // Accepting the server's certificate again lets it through.
    store
        .trust_certificate("office", &server_pin.to_lowercase().replace(':', ""), now())
        .await
        .expect("trust the real one (any spelling)");
    let target = ServerTarget::new(&profile(&store, "office").await, &secrets).expect("target");
    let check = tokio::task::spawn_blocking(move || check_connection(&target))
        .await
        .expect("task")
        .expect("the pinned certificate connects");
    assert!(check.tls, "over TLS");
    assert_eq!(
        check.certificate_sha256.as_deref(),
        Some(server_pin.as_str()),
        "the check shows the fingerprint"
    );
    server.drop_db(&db);
}

#[test]
fn verify_identity_checks_the_host_name_and_required_is_labelled_insecure() {
    let server = services();
    let ca = tls_dir().join("ca.pem");
    let check = |host: &str, mode: TlsMode, ca_file: Option<&std::path::Path>| {
        let mut target = server.target(None);
        target.host = host.to_owned();
        target.tls_mode = mode;
        target.tls_ca_file = ca_file.map(std::path::Path::to_path_buf);
        check_connection(&target)
    };
    let ok = check("localhost", TlsMode::VerifyIdentity, Some(&ca))
        .expect("the CA and the name `localhost` verify");
    assert!(
        ok.tls && ok.notices.is_empty(),
        "verified, nothing to warn about: {ok:?}"
    );
    let err = check("127.0.0.1", TlsMode::VerifyIdentity, Some(&ca))
        .expect_err("the certificate does not name 127.0.0.1");
    assert!(
        err.code == ErrorCode::TlsFailed && err.message.contains("does not name this host"),
        "a host name mismatch is refused and said so: {err:?}"
    );
    assert!(
        check("127.0.0.1", TlsMode::VerifyCa, Some(&ca)).is_ok_and(|c| c.tls),
        "verify-ca checks the CA, not the name"
    );
    let err = check("localhost", TlsMode::VerifyIdentity, None)
        .expect_err("the system's roots do not know the test CA");
    assert!(
        err.code == ErrorCode::TlsFailed
            && err.message.contains("not signed by a trusted authority"),
        "an unknown CA is refused and said so: {err:?}"
    );
    let insecure = check("127.0.0.1", TlsMode::Required, None).expect("required connects");
    assert!(
        insecure.tls && insecure.notices.iter().any(|n| n.contains("not verified")),
        "required is encrypted but labelled unverified: {insecure:?}"
    );
    assert!(
        !insecure.certificate_trusted_by_system,
        "the test CA is not trusted by this computer"
    );
}

/// A running fake server; killed when dropped.
struct Fake {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Fake {
    fn start(mode: &str, asked: &std::path::Path) -> Fake {
        let dir = tempfile::tempdir().expect("temp");
        let log = dir.path().join("fake.log");
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/fake_mysql/fake_mysql.py"))
            .arg(mode)
            .arg(&log)
            .arg(asked)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the fake server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the fake prints its port");
        Fake {
            child,
            port: line.trim().parse().expect("a port"),
            log,
            _dir: dir,
        }
    }

    /// The events, once `ready` holds for them (the fake logs after the client hung up, which
    /// may be after the client's call returned); up to 5 s.
    fn events_when(&self, ready: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
        for _ in 0..50 {
            let events = self.events();
            if ready(&events) {
                return events;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        self.events()
    }

    fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect()
    }
}

/// This machine's address on its outgoing interface (not loopback), if it has one.
fn outside_address() -> Option<String> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?; // no packet is sent
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then(|| ip.to_string())
}

#[test]
fn a_server_without_tls_gets_nothing_unless_it_is_this_machine() {
    let secret = tempfile::NamedTempFile::new().expect("temp");
    let fake = Fake::start("infile", secret.path());
    let target = |host: &str, mode: TlsMode| {
        let mut t = ServerTarget::with_password(
            host,
            fake.port,
            "office",
            "s3cret-never-sent",
            Some("billing"),
        );
        t.tls_mode = mode;
        t
    };
    // Loopback: plain text crosses no network, so the default (pinned) connects without TLS.
    let conn = target("127.0.0.1", TlsMode::Pinned).connect();
    assert!(
        conn.is_ok(),
        "a TLS-less server on loopback is reached: {:?}",
        conn.err()
    );
    drop(conn);

    match outside_address() {
        Some(address) => {
            // The loopback connection logged two greetings: the TLS attempt and the plain one.
            let before = fake.events_when(|events| events.len() >= 2).len();
            let err = target(&address, TlsMode::Pinned)
                .connect()
                .expect_err("a TLS-less server over the network is refused");
            assert_eq!(err.code, ErrorCode::TlsFailed, "{err:?}");
            assert!(
                err.message.contains("does not offer TLS")
                    && err.message.contains("nothing was sent"),
                "the refusal says why: {}",
                err.message
            );
            assert!(
                err.hint
                    .as_deref()
                    .is_some_and(|h| h.contains("TLS mode to disabled")),
                "and how to allow it: {:?}",
                err.hint
            );
            // The refused attempt's greeting is answered with nothing or COM_QUIT.
            let events = fake.events_when(|events| events.len() > before);
            assert!(
                events.len() > before,
                "the attempt reached the fake: {events:?}"
            );
            assert!(
                events[before..].iter().all(|e| e["login"] != true),
                "no login (user name, password hash) was sent: {events:?}"
            );
        }
        None => eprintln!("no non-loopback address on this machine: the network half is not run"),
    }
}

#[test]
fn a_server_asking_for_a_local_file_during_a_backup_gets_nothing() {
    let secret = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(secret.path(), "THE-LOCAL-SECRET-FILE\n").expect("write");
    let fake = Fake::start("infile", secret.path());
    let mut target =
        ServerTarget::with_password("127.0.0.1", fake.port, "office", "pw", Some("billing"));
    target.tls_mode = TlsMode::Disabled;
    let result = billora_engine::dump::dump(
        &target,
        &Default::default(),
        &mut std::io::sink(),
        &|_| {},
        &AtomicBool::new(false),
    );
    assert!(
        result.is_err(),
        "a server that answers with file requests fails the backup"
    );
    let infile: Vec<_> = fake
        .events_when(|events| events.iter().any(|e| e["event"] == "infile"))
        .into_iter()
        .filter(|e| e["event"] == "infile")
        .collect();
    assert!(!infile.is_empty(), "the fake did ask for the file");
    assert!(
        infile.iter().all(|e| e["bytes"] == 0),
        "not one byte of the local file was sent: {infile:?}"
    );
}

#[test]
fn the_password_is_not_sent_in_clear_to_a_server_that_is_not_verified() {
    let fake = Fake::start("sha2-full", std::path::Path::new("/dev/null"));
    let Some(address) = outside_address() else {
        eprintln!("no non-loopback address on this machine: not run");
        assert!(fake.events().is_empty(), "nothing connected");
        return;
    };
    let mut target = ServerTarget::with_password(
        &address,
        fake.port,
        "office",
        "s3cret-pass",
        Some("billing"),
    );
    target.tls_mode = TlsMode::Disabled;
    let err = target
        .connect()
        .expect_err("the full authentication is refused");
    assert!(
        err.code == ErrorCode::TlsFailed && err.message.contains("asked for the password"),
        "the refusal says why: {err:?}"
    );
    let events = fake.events_when(|events| {
        events
            .iter()
            .any(|e| e["event"] == "after_full_auth_request")
    });
    let after: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "after_full_auth_request")
        .collect();
    assert!(
        !after.is_empty(),
        "the fake asked for the full authentication: {events:?}"
    );
    assert!(
        after.iter().all(|e| {
            let text = e["text"].as_str().unwrap_or("");
            // Nothing, or COM_QUIT (one byte, 0x01): not the password, not a key request (0x02).
            !text.contains("s3cret-pass") && (e["bytes"] == 0 || text == "\u{1}")
        }),
        "the server got neither the password nor a request for its key: {after:?}"
    );
}

#[tokio::test]
async fn a_profile_saved_as_preferred_by_an_older_version_is_pinned_on_its_next_connection() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let server = services();
    let db = server.fixture_db("legacy_tls");
    let dir = tempfile::tempdir().expect("temp");
    // The store as the previous version left it: every migration before the TLS one, and a
    // profile whose TLS mode is `preferred` (any certificate, or none).
    {
        let pool = SqlitePoolOptions::new()
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(dir.path().join("billora.db"))
                    .create_if_missing(true),
            )
            .await
            .expect("sqlite");
        let mut older = sqlx::migrate!("../../migrations");
        older.migrations = std::borrow::Cow::Owned(
            older
                .migrations
                .iter()
                .filter(|m| m.version < 20261206000010)
                .cloned()
                .collect(),
        );
        older.run(&pool).await.expect("the older migrations");
        sqlx::query(
            "INSERT INTO connections (name, host, port, username, database_name, tls_mode, created_at, updated_at) \
             VALUES ('old', ?, ?, ?, ?, 'preferred', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        )
        .bind(&server.host)
        .bind(i64::from(server.port))
        .bind(&server.user)
        .bind(&db)
        .execute(&pool)
        .await
        .expect("a preferred profile");
        pool.close().await;
    }
    let store = Store::open(dir.path()).await.expect("the store migrates");
    let old = profile(&store, "old").await;
    assert_eq!(
        (old.tls_mode, old.tls_pin.as_deref()),
        (TlsMode::Pinned, None),
        "`preferred` reads as pinned on first use, nothing pinned yet"
    );
    let secrets = test_secrets();
    billora_engine::secrets::SecretStore::set(&secrets, "connection:old", &server.password)
        .expect("password");
    let target = ServerTarget::new(&old, &secrets).expect("target");
    let probe = target.clone();
    tokio::task::spawn_blocking(move || check_connection(&probe))
        .await
        .expect("task")
        .expect("it connects over TLS");
    let notices = store
        .trust_on_first_use(&old, &target, now())
        .await
        .expect("store");
    assert_eq!(
        notices.len(),
        1,
        "the first connection pins the certificate: {notices:?}"
    );
    let notice = &notices[0];
    let server_pin = openssl_fingerprint(&tls_dir().join("server.pem"));
    assert!(
        notice.contains("now pinned") && notice.contains(&server_pin),
        "the notice says what was pinned: {notice}"
    );
    assert_eq!(
        profile(&store, "old").await.tls_pin.as_deref(),
        Some(server_pin.as_str()),
        "the certificate is pinned"
    );
    server.drop_db(&db);
}
