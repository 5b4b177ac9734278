//! What the process-level tests share: a data folder, the `billora-backup` binary pointed at
//! it, a connection to a test database and a schedule, and the history as JSON.

use std::process::{Command, Output, Stdio};

use mysql::prelude::Queryable;
use serde_json::Value;

use crate::support::TestServer;

pub const BIN: &str = env!("CARGO_BIN_EXE_billora-backup");

/// A data folder and the CLI over it.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub password: String,
}

impl Harness {
    /// A fresh data folder with a connection `db` to `database` and one schedule from `body`.
    pub fn new(server: &TestServer, database: &str, body: &str) -> Harness {
        let harness = Harness {
            dir: tempfile::tempdir().expect("temp dir"),
            password: server.password.clone(),
        };
        let port = server.port.to_string();
        let add = harness
            .cmd(&["connection", "add", "--name", "db", "--host", &server.host])
            .args([
                "--port",
                &port,
                "--user",
                &server.user,
                "--database",
                database,
            ])
            .args(["--password-env", "BILLORA_TEST_PW"])
            .output()
            .expect("runs");
        assert!(
            add.status.success(),
            "connection added: {}",
            text(&add.stderr)
        );
        let mut create = harness
            .cmd(&["schedule", "create", "--json", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("runs");
        std::io::Write::write_all(&mut create.stdin.take().expect("stdin"), body.as_bytes())
            .expect("body");
        let out = create.wait_with_output().expect("waits");
        assert!(
            out.status.success(),
            "schedule created: {}",
            text(&out.stderr)
        );
        harness
    }

    /// The CLI on this data folder (stdin closed, output captured).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .env("BILLORA_TEST_PW", &self.password)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("the CLI runs")
    }

    /// The history, newest first.
    pub fn history(&self) -> Vec<Value> {
        let out = self.run(&["history"]);
        assert!(out.status.success(), "history: {}", text(&out.stderr));
        let json: Value = serde_json::from_slice(&out.stdout).expect("history is JSON");
        json["data"].as_array().cloned().unwrap_or_default()
    }

    /// The files in the default backup folder.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path().join("backups"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A database with one table of `rows` rows of 200 random bytes (~`rows` × 220 bytes).
pub fn big_database(server: &TestServer, prefix: &str, rows: u32) -> String {
    let db = server.fresh_db(prefix);
    server
        .conn(Some(&db))
        .query_drop(format!(
            "CREATE TABLE big (id INT PRIMARY KEY, b BLOB) ENGINE=InnoDB; \
             INSERT INTO big SELECT seq, RANDOM_BYTES(200) FROM seq_1_to_{rows}"
        ))
        .expect("a table big enough to take a while");
    db
}
