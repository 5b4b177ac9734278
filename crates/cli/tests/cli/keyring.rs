//! The CLI against a real Secret Service: a throw-away gnome-keyring inside its own
//! `dbus-run-session`, so the machine's own keyring is never touched.

use std::process::Command;

use crate::support::services;

const BIN: &str = env!("CARGO_BIN_EXE_billora-backup");

#[test]
fn connection_password_lives_in_the_real_keyring_and_nowhere_else() {
    let server = services();
    let dir = tempfile::tempdir().expect("temp dir");
    let xdg = dir.path().join("xdg");
    std::fs::create_dir(&xdg).expect("xdg dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    let data = dir.path().join("data");
    let db = server.fixture_db("keyring");
    let script = format!(
        r#"set -e
eval "$(echo -n unlock-pw | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
B="{BIN}"
printf '%s\n' "$TEST_DB_PASSWORD" | "$B" connection add --name office --host {host} --port {port} --user {user} --database {db} --password-stdin >/dev/null
echo "stored:$(secret-tool lookup service billora-backup username connection:office)"
"$B" connection test office | grep -q '"server_version"' && echo "test:ok"
"$B" connection remove office >/dev/null
echo "after-remove:$(secret-tool lookup service billora-backup username connection:office || true)"
"#,
        host = server.host,
        port = server.port,
        user = server.user,
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", &script])
        .env("XDG_RUNTIME_DIR", &xdg)
        .env("XDG_DATA_HOME", &xdg)
        .env("BILLORA_BACKUP_DATA_DIR", &data)
        .env("TEST_DB_PASSWORD", &server.password)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session runs (package dbus-daemon)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the keyring session script must succeed: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("stored:{}", server.password)),
        "the password is in the Secret Service: {stdout}"
    );
    assert!(
        stdout.contains("test:ok"),
        "connection test reads the password from the keyring: {stdout}"
    );
    assert!(
        stdout.contains("after-remove:\n") || stdout.ends_with("after-remove:"),
        "remove deletes the keyring entry: {stdout}"
    );

    // The password never reached the store (the database file and its WAL).
    for entry in std::fs::read_dir(&data).expect("data dir").flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read");
            let found = bytes
                .windows(server.password.len())
                .any(|w| w == server.password.as_bytes());
            assert!(
                !found,
                "the password must not be in {}",
                entry.path().display()
            );
        }
    }
    server.drop_db(&db);
}

#[test]
fn without_a_keyring_the_error_says_so_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(BIN)
        .args(["--data-dir", dir.path().to_str().expect("utf8")])
        .args([
            "connection",
            "add",
            "--name",
            "x",
            "--host",
            "127.0.0.1",
            "--user",
            "u",
            "--database",
            "d",
            "--password-stdin",
        ])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", dir.path().display()),
        )
        .env_remove("DISPLAY")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"secret-pw\n")
        .expect("write");
    let out = child.wait_with_output().expect("finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a missing keyring is a failed operation: {stderr}"
    );
    assert!(
        stderr.contains("keyring"),
        "the error names the keyring: {stderr}"
    );
    assert!(
        stderr.contains("--password-env"),
        "the error says how to proceed on a server: {stderr}"
    );
    assert!(!stderr.contains("secret-pw"), "the password is not echoed");
    let list = Command::new(BIN)
        .args([
            "--data-dir",
            dir.path().to_str().expect("utf8"),
            "connection",
            "list",
        ])
        .output()
        .expect("runs");
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("\"connections\": []"),
        "nothing was stored"
    );
}

#[test]
fn key_generate_writes_a_private_recovery_file_and_keeps_the_identity_in_the_real_keyring() {
    let dir = tempfile::tempdir().expect("temp dir");
    let xdg = dir.path().join("xdg");
    std::fs::create_dir(&xdg).expect("xdg dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    let recovery = dir.path().join("recovery-key.txt");
    let script = format!(
        r#"set -e
eval "$(echo -n unlock-pw | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
B="{BIN}"
out=$("$B" key generate --recovery-file "{file}")
pk=$(printf '%s' "$out" | sed -n 's/.*"public_key": "\(age1[a-z0-9]*\)".*/\1/p')
echo "pk:$pk"
echo "kept:$(secret-tool lookup service billora-backup username "age-identity:$pk")"
if "$B" key generate --recovery-file "{file}" 2>/dev/null; then echo "overwrote"; else echo "refused-overwrite"; fi
"#,
        file = recovery.display(),
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", &script])
        .env("XDG_RUNTIME_DIR", &xdg)
        .env("XDG_DATA_HOME", &xdg)
        .env("BILLORA_BACKUP_DATA_DIR", dir.path().join("data"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session runs (package dbus-daemon)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the script must succeed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&recovery).expect("the recovery file exists");
    let identity = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("the recovery file holds the identity");
    assert!(
        stdout.contains(&format!("kept:{identity}")),
        "the keyring holds the same identity under its public key: {stdout}"
    );
    let pk = stdout
        .lines()
        .find_map(|l| l.strip_prefix("pk:"))
        .expect("a public key");
    assert!(
        pk.starts_with("age1") && text.contains(pk),
        "the public key is printed and named in the recovery file"
    );
    assert!(
        stdout.contains("refused-overwrite"),
        "an existing recovery file is never overwritten: {stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&recovery)
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the recovery file is private ({mode:o})");
    }
}

#[test]
fn google_drive_through_the_cli_keeps_its_refresh_token_in_the_real_keyring() {
    let env = &services().env;
    let dir = tempfile::tempdir().expect("temp dir");
    let xdg = dir.path().join("xdg");
    std::fs::create_dir(&xdg).expect("xdg dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    let data = dir.path().join("data");
    // The "browser" the CLI opens (through $BROWSER): it follows the consent page back to the
    // CLI's loopback address.
    let browser = dir.path().join("browser");
    std::fs::write(
        &browser,
        "#!/bin/sh\nexec python3 -c 'import sys, urllib.request as u; u.urlopen(sys.argv[1]).read()' \"$1\"\n",
    )
    .expect("browser script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let script = format!(
        r#"set -e
eval "$(echo -n unlock-pw | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
B="{BIN}"
printf '%s\n' "$CLIENT_SECRET" | "$B" destination add --name drive --kind gdrive --client-id "$CLIENT_ID" --api-base "$API_BASE" --folder "cli-$$" --secret-stdin >/dev/null 2>"$TMPDIR_/add.err"
grep -q "Open this address in a browser" "$TMPDIR_/add.err" && echo "told:ok"
echo "stored:$(secret-tool lookup service billora-backup username destination:drive)"
"$B" destination test drive | grep -q '"ok": *true' && echo "test:ok"
"$B" destination remove drive >/dev/null
echo "after-remove:$(secret-tool lookup service billora-backup username destination:drive || true)"
"#
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", &script])
        .env("XDG_RUNTIME_DIR", &xdg)
        .env("XDG_DATA_HOME", &xdg)
        .env("BILLORA_BACKUP_DATA_DIR", &data)
        .env("BROWSER", &browser)
        .env("TMPDIR_", dir.path())
        .env("CLIENT_ID", &env["BILLORA_TEST_GDRIVE_CLIENT_ID"])
        .env("CLIENT_SECRET", &env["BILLORA_TEST_GDRIVE_CLIENT_SECRET"])
        .env("API_BASE", &env["BILLORA_TEST_GDRIVE_BASE"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the keyring session script must succeed: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("told:ok"),
        "the CLI shows the consent address: {stdout}"
    );
    let stored = stdout
        .lines()
        .find_map(|l| l.strip_prefix("stored:"))
        .unwrap_or_default();
    let kept: serde_json::Value = serde_json::from_str(stored).unwrap_or_default();
    assert!(
        kept["refresh_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("rt-")),
        "the refresh token is in the Secret Service: {stdout}"
    );
    assert!(
        stdout.contains("test:ok"),
        "destination test uses it: {stdout}"
    );
    assert!(
        stdout.contains("after-remove:\n") || stdout.trim_end().ends_with("after-remove:"),
        "remove deletes the keyring entry: {stdout}"
    );
    let token = kept["refresh_token"].as_str().unwrap_or("rt-");
    for entry in std::fs::read_dir(&data).expect("data dir").flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read");
            for secret in [token, env["BILLORA_TEST_GDRIVE_CLIENT_SECRET"].as_str()] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "no Google secret may be in {}",
                    entry.path().display()
                );
            }
        }
    }
}
