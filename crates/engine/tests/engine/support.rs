//! Shared test helpers: a throw-away data directory and a pinned clock.

use billora_engine::store::Store;
use jiff::Timestamp;
use tempfile::TempDir;

/// A store in a fresh temporary data directory (removed when dropped).
pub async fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path())
        .await
        .expect("store opens in a temp dir");
    (dir, store)
}

/// The pinned "now" of the tests: 2026-02-03 01:00 UTC.
pub fn now() -> Timestamp {
    "2026-02-03T01:00:00Z".parse().expect("valid")
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use billora_engine::connection::{NewConnection, ServerTarget};
use billora_engine::secrets::{MemorySecrets, PasswordSource};
use mysql::prelude::Queryable;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// The throw-away MariaDB server of `scripts/services.sh` (started on first use).
#[derive(Debug, Clone)]
pub struct TestServer {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub env: BTreeMap<String, String>,
}

pub fn services() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let root = repo_root();
        let status = Command::new("bash")
            .arg(root.join("scripts/services.sh"))
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .expect("scripts/services.sh runs");
        assert!(
            status.success(),
            "the test services must start (scripts/services.sh start)"
        );
        let text =
            std::fs::read_to_string(root.join(".test-services/env")).expect("services env file");
        let env: BTreeMap<String, String> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        TestServer {
            host: env["BILLORA_TEST_MARIADB_HOST"].clone(),
            port: env["BILLORA_TEST_MARIADB_PORT"].parse().expect("port"),
            user: env["BILLORA_TEST_MARIADB_USER"].clone(),
            password: env["BILLORA_TEST_MARIADB_PASSWORD"].clone(),
            env,
        }
    })
}

impl TestServer {
    pub fn target(&self, db: Option<&str>) -> ServerTarget {
        ServerTarget::with_password(&self.host, self.port, &self.user, &self.password, db)
    }

    pub fn conn(&self, db: Option<&str>) -> mysql::Conn {
        self.target(db)
            .connect()
            .expect("connect to the test server")
    }

    /// A new, empty database with a name no other test uses.
    pub fn fresh_db(&self, prefix: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t_{prefix}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = self.conn(None);
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
            .expect("drop");
        conn.query_drop(format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        ))
        .expect("create database");
        name
    }

    /// Runs a script through the stock `mariadb` client (stdin from `input`).
    pub fn client(&self, db: &str, input: &mut dyn std::io::Read) {
        let mut child = Command::new("mariadb")
            .args([
                "--no-defaults",
                "-h",
                &self.host,
                "-P",
                &self.port.to_string(),
                "-u",
                &self.user,
                db,
            ])
            .env("MYSQL_PWD", &self.password)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the mariadb client runs");
        let mut stdin = child.stdin.take().expect("stdin");
        std::io::copy(input, &mut stdin).expect("feed the client");
        drop(stdin);
        let out = child.wait_with_output().expect("client finishes");
        assert!(
            out.status.success(),
            "the mariadb client must accept the script: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A fresh database loaded with `tests/fixtures/billora_fixture.sql`.
    pub fn fixture_db(&self, prefix: &str) -> String {
        let db = self.fresh_db(prefix);
        let mut file = std::fs::File::open(repo_root().join("tests/fixtures/billora_fixture.sql"))
            .expect("fixture");
        self.client(&db, &mut file);
        db
    }

    pub fn drop_db(&self, db: &str) {
        let _ = self
            .conn(None)
            .query_drop(format!("DROP DATABASE IF EXISTS `{db}`"));
    }

    /// Everything that must survive a round trip: per table CHECKSUM TABLE, row count and
    /// SHOW CREATE; views, triggers, routines and events by SHOW CREATE; the database collation.
    pub fn fingerprint(&self, db: &str) -> BTreeMap<String, String> {
        let mut conn = self.conn(Some(db));
        let mut out = BTreeMap::new();
        let collation: Option<(String, String)> = conn
            .exec_first(
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (db,),
            )
            .expect("schemata");
        out.insert("database".into(), format!("{collation:?}"));
        let tables: Vec<(String, String)> = conn
            .exec("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", (db,))
            .expect("tables");
        for (name, kind) in tables {
            if kind == "VIEW" {
                let row: Option<(String, String, String, String)> = conn
                    .query_first(format!("SHOW CREATE VIEW `{}`", name.replace('`', "``")))
                    .expect("show create view");
                out.insert(format!("view {name}"), row.map(|r| r.1).unwrap_or_default());
                continue;
            }
            let create: Option<(String, String)> = conn
                .query_first(format!("SHOW CREATE TABLE `{}`", name.replace('`', "``")))
                .expect("create");
            out.insert(
                format!("table {name}"),
                create.map(|c| c.1).unwrap_or_default(),
            );
            let sum: Option<(String, Option<u64>)> = conn
                .query_first(format!("CHECKSUM TABLE `{}`", name.replace('`', "``")))
                .expect("checksum");
            let count: Option<u64> = conn
                .query_first(format!(
                    "SELECT COUNT(*) FROM `{}`",
                    name.replace('`', "``")
                ))
                .expect("count");
            out.insert(
                format!("rows {name}"),
                format!("{:?} {:?}", sum.map(|s| s.1), count),
            );
        }
        let triggers: Vec<mysql::Row> = conn.query("SHOW TRIGGERS").expect("triggers");
        for t in triggers {
            let name: String = t.get(0).expect("name");
            let row: Option<mysql::Row> = conn
                .query_first(format!("SHOW CREATE TRIGGER `{}`", name.replace('`', "``")))
                .expect("trigger");
            let row = row.expect("trigger row");
            let text: String = row.get(2).expect("statement");
            let mode: String = row.get(1).expect("sql_mode");
            out.insert(format!("trigger {name}"), format!("{mode} {text}"));
        }
        let routines: Vec<(String, String)> = conn
            .exec("SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?", (db,))
            .expect("routines");
        for (name, kind) in routines {
            let row: Option<mysql::Row> = conn
                .query_first(format!("SHOW CREATE {kind} `{}`", name.replace('`', "``")))
                .expect("routine");
            let row = row.expect("routine row");
            let text: Option<String> = row.get(2);
            out.insert(format!("{kind} {name}"), text.unwrap_or_default());
        }
        let events: Vec<String> = conn
            .exec(
                "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?",
                (db,),
            )
            .expect("events");
        for name in events {
            let row: Option<mysql::Row> = conn
                .query_first(format!("SHOW CREATE EVENT `{}`", name.replace('`', "``")))
                .expect("event");
            let row = row.expect("event row");
            let text: String = row.get(3).expect("create event");
            out.insert(format!("event {name}"), text);
        }
        out
    }

    /// Rows of `query`, each as text, in the order the query gives.
    pub fn rows(&self, db: &str, query: &str) -> Vec<String> {
        let mut conn = self.conn(Some(db));
        let rows: Vec<mysql::Row> = conn.query(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        rows.into_iter()
            .map(|r| format!("{:?}", r.unwrap()))
            .collect()
    }
}

/// The keyring fake holding the test server's password for a profile named `name`.
pub fn test_secrets() -> MemorySecrets {
    MemorySecrets::default()
}

/// Adds a connection profile for `db` on the test server.
/// A profile `name` for `db` on the test server, its password in the keyring; tests change
/// what they need with `NewConnection { port: Some(1), ..test_profile("down", "x") }`.
pub fn test_profile(name: &str, db: &str) -> NewConnection {
    let server = services();
    NewConnection {
        ssh: None,
        name: name.into(),
        host: server.host.clone(),
        port: Some(server.port),
        username: server.user.clone(),
        database: db.into(),
        tls_mode: None,
        tls_ca_file: None,
        tls_pin: None,
        tenant_column: None,
        tenant_root_table: None,
        password_source: Some(PasswordSource::Keyring),
    }
}

pub async fn add_test_connection(store: &Store, secrets: &MemorySecrets, name: &str, db: &str) {
    let server = services();
    let request = test_profile(name, db);
    store
        .add_connection(request, Some(&server.password), secrets, now())
        .await
        .expect("connection added");
}

/// Decompresses a backup with our reader into the stock client.
pub fn restore_with_client(server: &TestServer, file: &Path, db: &str) {
    let mut reader = billora_engine::artifact::open_sql_reader(file).expect("open backup");
    server.client(db, &mut reader);
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct ManualClock(pub std::sync::Mutex<Timestamp>);

impl billora_engine::scheduler::Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock")
    }
}

/// Waits (up to 30 s) until the history satisfies `check`; panics naming `what` otherwise.
pub async fn wait_for(
    store: &Store,
    what: &str,
    check: impl Fn(&[billora_engine::history::Run]) -> bool,
) -> Vec<billora_engine::history::Run> {
    for _ in 0..300 {
        let runs = store.list_history(None).await.expect("history");
        if check(&runs) {
            return runs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "timed out waiting for {what}: {:?}",
        store.list_history(None).await.expect("history")
    );
}

/// A TCP proxy to a server that cuts each connection once more than `cut_after` bytes have
/// come from the server (never, until told), as a network that goes away mid-transfer.
pub struct CuttingProxy {
    pub port: u16,
    /// Connections cut so far.
    pub cuts: std::sync::Arc<std::sync::atomic::AtomicU64>,
    limit: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CuttingProxy {
    pub fn start(upstream: (String, u16)) -> CuttingProxy {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("addr").port();
        let cuts = Arc::new(AtomicU64::new(0));
        let limit = Arc::new(AtomicU64::new(u64::MAX));
        let (counted, limited) = (cuts.clone(), limit.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let Ok(server) = TcpStream::connect((upstream.0.as_str(), upstream.1)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (cuts, limit) = (counted.clone(), limited.load(Ordering::SeqCst));
                let (mut c_in, mut s_out) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_in.read(&mut buf) {
                        if n == 0 || s_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_out.shutdown(Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let (mut s_in, mut c_out) = (server, client);
                    let mut buf = [0u8; 16384];
                    let mut seen = 0u64;
                    while let Ok(n) = s_in.read(&mut buf) {
                        if n == 0 || c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        seen += n as u64;
                        if seen > limit {
                            cuts.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                    }
                    let _ = c_out.shutdown(Shutdown::Both);
                    let _ = s_in.shutdown(Shutdown::Both);
                });
            }
        });
        CuttingProxy { port, cuts, limit }
    }

    /// New connections are cut after `bytes` from the server (`u64::MAX`: never).
    pub fn cut_after(&self, bytes: u64) {
        self.limit.store(bytes, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A schedule made from the JSON body the spec's API takes (the test fails if it is refused).
pub async fn create_schedule(
    store: &Store,
    body: serde_json::Value,
) -> billora_engine::schedule::Schedule {
    let request: billora_engine::schedule::NewSchedule =
        billora_engine::schedule::parse_request(&body.to_string()).expect("a valid body");
    store
        .create_schedule(request, now())
        .await
        .expect("the schedule is created")
}

/// A run's control that cancels it as soon as it reports progress (mid-dump).
pub fn cancel_on_first_progress() -> billora_engine::backup::RunControl {
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = cancel.clone();
    billora_engine::backup::RunControl {
        progress: std::sync::Arc::new(move |_| flag.store(true, Ordering::Relaxed)),
        cancel,
    }
}
