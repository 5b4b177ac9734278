//! SSH tunnels against a real OpenSSH `sshd` (each test starts its own on loopback, with its
//! own host key, authorised key and log), with the test MariaDB reachable through it: a test
//! that shows the host key, a backup and a restore through the tunnel (which closes after
//! each use), a wrong key, a key with a passphrase, a changed host key, a database the SSH
//! server cannot reach, and `sshd` killed in the middle of a backup.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use billora_engine::api::{
    AddConnectionRequest, Api, RestoreForm, RunHere, TestDraftRequest, TrustHostKeyRequest,
};
use billora_engine::connection::NewConnection;
use billora_engine::error::ErrorCode;
use billora_engine::schedule::parse_request;
use billora_engine::secrets::MemorySecrets;
use billora_engine::ssh::SshTunnel;
use mysql::prelude::Queryable;
use tempfile::TempDir;

use crate::support::services;

/// A throw-away OpenSSH server on 127.0.0.1.
struct Sshd {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

/// Runs `ssh-keygen` to make an ed25519 key pair at `path` (with `passphrase`, or none).
fn keygen(path: &Path, passphrase: &str) {
    let status = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            passphrase,
            "-C",
            "billora-test",
            "-f",
        ])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen runs (openssh-client, installed by scripts/services.sh)");
    assert!(
        status.success(),
        "ssh-keygen should make {}",
        path.display()
    );
}

/// The `SHA256:…` fingerprint of a public key file, as `ssh-keygen -lf` prints it.
fn fingerprint_of(public: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(public)
        .output()
        .expect("ssh-keygen -lf runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .expect("ssh-keygen -lf prints the fingerprint second")
        .to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Sshd {
    /// Makes keys in `dir` (the host key `host_<name>`, the client key `client`) and starts
    /// `sshd` with them on a free port.
    fn start(dir: &Path, host_key: &str) -> Sshd {
        let client = dir.join("client");
        if !client.exists() {
            keygen(&client, "");
        }
        let mut sshd = Sshd {
            dir: dir.to_owned(),
            port: free_port(),
            child: None,
        };
        sshd.run(host_key);
        sshd
    }

    /// (Re)starts `sshd` on the same port with the host key `host_<name>` (made if new).
    fn run(&mut self, host_key: &str) {
        let key = self.dir.join(format!("host_{host_key}"));
        if !key.exists() {
            keygen(&key, "");
        }
        let config = self.dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {key}\nPidFile {dir}/sshd.pid\n\
                 AuthorizedKeysFile {dir}/authorized_keys\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\nAllowTcpForwarding yes\n\
                 LogLevel DEBUG1\n",
                port = self.port,
                key = key.display(),
                dir = self.dir.display(),
            ),
        )
        .expect("sshd_config");
        let _ = std::fs::create_dir_all("/run/sshd");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("sshd log");
        let child = Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("/usr/sbin/sshd starts (openssh-server, installed by scripts/services.sh)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sshd did not listen on {}: {}", self.port, self.log());
    }

    /// Lets `key.pub` log in.
    fn authorize(&self, key: &Path) {
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
        let mut all = std::fs::read_to_string(self.dir.join("authorized_keys")).unwrap_or_default();
        all.push_str(&public);
        std::fs::write(self.dir.join("authorized_keys"), all).expect("authorized_keys");
    }

    fn host_fingerprint(&self, host_key: &str) -> String {
        fingerprint_of(&self.dir.join(format!("host_{host_key}.pub")))
    }

    fn client_key(&self) -> PathBuf {
        self.dir.join("client")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("sshd.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Kills `sshd` and every session process it forked, as a server that goes away.
    fn kill(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        for pid in descendants(child.id()) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The processes descended from `root` (read from /proc).
fn descendants(root: u32) -> Vec<u32> {
    let mut parents: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": comm may hold spaces, so read after its last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for child in parents.get(&pid).into_iter().flatten() {
            out.push(*child);
            queue.push(*child);
        }
    }
    out
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A profile for `db` on the test MariaDB, reached through `sshd`.
fn profile(name: &str, db: &str, sshd: &Sshd, key: Option<PathBuf>) -> NewConnection {
    NewConnection {
        ssh: Some(SshTunnel {
            host: "127.0.0.1".into(),
            port: sshd.port,
            username: whoami(),
            key_file: key.or_else(|| Some(sshd.client_key())),
            host_key: None,
        }),
        ..crate::support::test_profile(name, db)
    }
}

/// A running sshd that lets the client key in, the test's database, and an API on an empty
/// data folder (fields drop in this order: sshd is killed before its keys go).
struct Setup {
    sshd: Sshd,
    keys: TempDir,
    db: String,
    api: Api,
    dir: TempDir,
}

async fn setup(db: String) -> Setup {
    let keys = tempfile::tempdir().expect("keys");
    let sshd = Sshd::start(keys.path(), "a");
    sshd.authorize(&sshd.client_key());
    let dir = tempfile::tempdir().expect("data folder");
    let api = Api::open(Some(dir.path()), Arc::new(MemorySecrets::default()))
        .await
        .expect("api");
    Setup {
        sshd,
        keys,
        db,
        api,
        dir,
    }
}

/// A daily full schedule on the only connection.
async fn nightly(api: &Api) -> billora_engine::api::Schedule {
    api.create_schedule(
        parse_request(r#"{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full"}"#)
            .expect("valid"),
    )
    .await
    .expect("schedule")
}

fn counted(log: &str, what: &str) -> usize {
    log.lines().filter(|l| l.contains(what)).count()
}

/// The rows of every table (CHECKSUM TABLE and COUNT), which a round trip must keep.
fn rows_of(db: &str) -> BTreeMap<String, String> {
    services()
        .fingerprint(db)
        .into_iter()
        .filter(|(k, _)| k.starts_with("rows "))
        .collect()
}

#[tokio::test]
async fn a_backup_and_a_restore_go_through_the_tunnel_which_closes_after_each_use() {
    let server = services();
    // Every part bound: one left to `..` would be dropped (its folder deleted) at once.
    let Setup {
        sshd,
        keys: _keys,
        db: source,
        api,
        dir: _dir,
    } = setup(server.fixture_db("ssh_src")).await;

    // The form's test shows the host key before anything is saved.
    let check = api
        .test_draft(TestDraftRequest {
            connection: profile("office", &source, &sshd, None),
            password: server.password.clone(),
            ssh_secret: None,
        })
        .await
        .expect("the draft connects through the tunnel");
    assert_eq!(
        check.ssh_host_key.as_deref(),
        Some(sshd.host_fingerprint("a").as_str()),
        "the test shows the SSH server's host key as ssh-keygen -lf does"
    );
    assert!(
        check.notices.iter().any(|n| n.contains("SSH tunnel")),
        "the test says the channel is the SSH tunnel: {:?}",
        check.notices
    );
    assert!(
        sshd.log().contains("direct-tcpip"),
        "the database was reached through a direct-tcpip channel of sshd: {}",
        sshd.log()
    );

    api.add_connection(AddConnectionRequest {
        connection: profile("office", &source, &sshd, None),
        password: server.password.clone(),
        ssh_secret: None,
    })
    .await
    .expect("added");
    let tested = api.test_connection("office".into()).await.expect("tests");
    assert!(
        tested.notices.iter().any(|n| n.contains("host key")),
        "the first test of the saved profile pins the host key: {:?}",
        tested.notices
    );
    let saved = api.list_connections().await.expect("list");
    assert_eq!(
        saved[0].ssh.as_ref().and_then(|t| t.host_key.clone()),
        Some(sshd.host_fingerprint("a")),
        "the host key is pinned in the profile"
    );

    let schedule = nightly(&api).await;
    let outcome = api
        .run_here(
            schedule.id,
            RunHere::default(),
            Arc::new(|_| {}),
            Arc::default(),
        )
        .await
        .expect("recorded");
    assert_eq!(outcome.status, "success", "{:?}", outcome.error);

    // Every session sshd accepted has ended: the tunnel closed after the test, the second
    // test and the backup.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = sshd.log();
    let (opened, closed) = (
        counted(&log, "Accepted publickey"),
        // "Disconnected from user": the tunnel said goodbye; "Closing connection to": the
        // socket closed without it. Either ends the session; a reset would be neither.
        counted(&log, "Disconnected from user") + counted(&log, "Closing connection to"),
    );
    assert!(opened >= 3, "the two tests and the backup logged in: {log}");
    assert_eq!(
        opened, closed,
        "each SSH session ended after its use: {log}"
    );

    let target_db = server.fresh_db("ssh_restored");
    server.drop_db(&target_db);
    let report = api
        .restore(
            RestoreForm {
                run_id: Some(outcome.run_id),
                file: None,
                passphrase: None,
                connection: "office".into(),
                database: target_db.clone(),
                replace_tenant: false,
                force: false,
                keep_sql_security: false,
                enable_events: false,
                from: None,
            },
            Arc::new(|_| {}),
        )
        .await
        .expect("the restore goes through the tunnel");
    assert!(report.statements > 0, "statements were run: {report:?}");
    assert_eq!(
        rows_of(&target_db),
        rows_of(&source),
        "every table's rows came back through the tunnel"
    );
    server.drop_db(&target_db);
    server.drop_db(&source);
}

#[tokio::test]
async fn refusals_of_the_tunnel_say_what_to_fix() {
    let server = services();
    let Setup {
        mut sshd,
        keys,
        db,
        api,
        dir: _dir,
    } = setup(server.fresh_db("ssh_refused")).await;
    let draft = |connection: NewConnection, ssh_secret: Option<&str>| TestDraftRequest {
        connection,
        password: server.password.clone(),
        ssh_secret: ssh_secret.map(str::to_owned),
    };

    // A key the server does not know.
    let stranger = keys.path().join("stranger");
    keygen(&stranger, "");
    let err = api
        .test_draft(draft(profile("x", &db, &sshd, Some(stranger)), None))
        .await
        .expect_err("a key not in authorized_keys is refused");
    assert_eq!(err.code, ErrorCode::AuthFailed, "{err}");
    assert_eq!(err.field.as_deref(), Some("ssh_key_file"), "{err}");
    assert!(
        err.hint.unwrap_or_default().contains("authorized_keys"),
        "the hint says where the key goes"
    );

    // A key with a passphrase: asked for, refused when wrong, used when right.
    let locked = keys.path().join("locked");
    keygen(&locked, "correct horse");
    sshd.authorize(&locked);
    let err = api
        .test_draft(draft(profile("x", &db, &sshd, Some(locked.clone())), None))
        .await
        .expect_err("a key with a passphrase needs it");
    assert_eq!(err.field.as_deref(), Some("ssh_secret"), "{err}");
    let err = api
        .test_draft(draft(
            profile("x", &db, &sshd, Some(locked.clone())),
            Some("wrong"),
        ))
        .await
        .expect_err("a wrong passphrase is refused");
    assert_eq!(err.field.as_deref(), Some("ssh_secret"), "{err}");
    api.test_draft(draft(
        profile("x", &db, &sshd, Some(locked.clone())),
        Some("correct horse"),
    ))
    .await
    .expect("the right passphrase opens the key and the tunnel");

    // No key file: the SSH password is needed, and this server takes keys only.
    let mut by_password = profile("x", &db, &sshd, None);
    if let Some(t) = by_password.ssh.as_mut() {
        t.key_file = None;
    }
    let err = api
        .test_draft(draft(by_password.clone(), None))
        .await
        .expect_err("neither a key nor a password");
    assert_eq!(err.field.as_deref(), Some("ssh_secret"), "{err}");
    let err = api
        .test_draft(draft(by_password, Some("a password")))
        .await
        .expect_err("a server without password logins refuses one");
    assert_eq!(err.code, ErrorCode::AuthFailed, "{err}");
    assert_eq!(err.field.as_deref(), Some("ssh_secret"), "{err}");

    // A key file that is not there, and a port where no SSH server listens.
    let err = api
        .test_draft(draft(
            profile("x", &db, &sshd, Some(keys.path().join("nope"))),
            None,
        ))
        .await
        .expect_err("a missing key file is refused");
    assert_eq!(err.field.as_deref(), Some("ssh_key_file"), "{err}");
    let mut nowhere = profile("x", &db, &sshd, None);
    if let Some(t) = nowhere.ssh.as_mut() {
        t.port = free_port();
    }
    let err = api
        .test_draft(draft(nowhere, None))
        .await
        .expect_err("no SSH server there");
    assert_eq!(err.code, ErrorCode::Unreachable, "{err}");
    assert_eq!(err.field.as_deref(), Some("ssh_host"), "{err}");

    // The SSH server cannot reach the database's port.
    let mut no_db = profile("x", &db, &sshd, None);
    no_db.port = Some(free_port());
    let err = api
        .test_draft(draft(no_db, None))
        .await
        .expect_err("nothing listens where the database should be");
    assert_eq!(err.code, ErrorCode::Unreachable, "{err}");
    assert!(
        err.message.contains("would not connect to the database"),
        "the refusal says the SSH server could not reach the database: {err}"
    );
    assert_eq!(err.field.as_deref(), Some("host"), "{err}");

    // The host key changes: refused with both fingerprints until accepted.
    api.add_connection(AddConnectionRequest {
        connection: profile("office", &db, &sshd, None),
        password: server.password.clone(),
        ssh_secret: None,
    })
    .await
    .expect("added");
    api.test_connection("office".into())
        .await
        .expect("pins key a");
    sshd.kill();
    sshd.run("b");
    let err = api
        .test_connection("office".into())
        .await
        .expect_err("another host key is refused");
    assert_eq!(err.code, ErrorCode::HostKeyChanged, "{err}");
    let (a, b) = (sshd.host_fingerprint("a"), sshd.host_fingerprint("b"));
    assert!(
        err.message.contains(&a) && err.message.contains(&b),
        "the refusal names the pinned and the new key: {err}"
    );
    assert!(
        err.hint
            .clone()
            .unwrap_or_default()
            .contains("trust-host-key office"),
        "the hint says how to accept it: {err}"
    );
    let trusted = api
        .trust_host_key(TrustHostKeyRequest {
            connection: "office".into(),
            fingerprint: b.clone(),
        })
        .await
        .expect("accepted");
    assert_eq!(
        trusted.ssh.and_then(|t| t.host_key),
        Some(b),
        "the new key is pinned"
    );
    api.test_connection("office".into())
        .await
        .expect("the accepted key connects");
    server.drop_db(&db);
}

#[tokio::test]
async fn sshd_killed_mid_backup_fails_the_run_with_the_reason_and_keeps_no_file() {
    let server = services();
    let Setup {
        mut sshd,
        keys: _keys,
        db,
        api,
        dir,
    } = setup(server.fresh_db("ssh_killed")).await;
    let mut conn = server.conn(Some(&db));
    conn.query_drop("CREATE TABLE held (id INT PRIMARY KEY, v VARCHAR(20))")
        .expect("table");
    conn.query_drop("INSERT INTO held VALUES (1, 'one'), (2, 'two')")
        .expect("rows");
    api.add_connection(AddConnectionRequest {
        connection: profile("office", &db, &sshd, None),
        password: server.password.clone(),
        ssh_secret: None,
    })
    .await
    .expect("added");
    let schedule = nightly(&api).await;

    // The backup's read of `held` waits behind this lock, so sshd dies while it runs.
    conn.query_drop("LOCK TABLES held WRITE").expect("lock");
    let api = Arc::new(api);
    let running = {
        let api = Arc::clone(&api);
        tokio::spawn(async move {
            api.run_here(
                schedule.id,
                RunHere::default(),
                Arc::new(|_| {}),
                Arc::default(),
            )
            .await
        })
    };
    let mut watcher = server.conn(None);
    let mut waiting = false;
    for _ in 0..200 {
        let n: Option<u64> = watcher
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE '%held%' AND STATE LIKE '%metadata lock%'",
                (&db,),
            )
            .expect("processlist");
        if n.unwrap_or(0) > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        waiting,
        "the backup should be reading `held` through the tunnel: {}",
        sshd.log()
    );
    sshd.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.query_drop("UNLOCK TABLES").expect("unlock");

    let outcome = running
        .await
        .expect("the run task ends")
        .expect("the run is recorded");
    assert_eq!(outcome.status, "failed", "the backup failed: {outcome:?}");
    let err = outcome.error.expect("with a reason");
    assert!(
        err.message.contains("SSH"),
        "the reason names the SSH tunnel, not only a lost connection: {err}"
    );
    let history = api.store().list_history(None).await.expect("history");
    assert_eq!(history[0].status, "failed", "the history entry is failed");
    let backups = dir.path().join("backups");
    let left: Vec<_> = std::fs::read_dir(&backups)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.is_empty(),
        "no file (partial or not) is left: {left:?}"
    );
    server.drop_db(&db);
}
