//! Email against a real SMTP server on loopback (Debian's python3-aiosmtpd, see
//! tests/smtp/smtp_server.py): STARTTLS with a certificate from a private (self-signed) CA, AUTH,
//! a wrong password,
//! a server that offers no STARTTLS; the received message is parsed and checked.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use billora_engine::cron::Lang;
use billora_engine::error::ErrorCode;
use billora_engine::notify::{
    run_notice, EmailNotifier, Notifier, RunFacts, SmtpSecurity, SmtpSettings,
};
use billora_engine::schedule::{parse_request, NewSchedule};
use billora_engine::secrets::{MemorySecrets, PasswordSource, SecretStore};

use crate::support::{now, repo_root, temp_store};

struct SmtpServer {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private CA and a server certificate for localhost it signed (what an office mail server
/// with its own certificate looks like). Returns (CA cert, server cert chain, server key).
fn self_signed(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .status();
        assert!(status.expect("openssl runs").success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test Office CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        p("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
    (p("ca.pem"), p("server.pem"), p("server.key"))
}

fn start(dir: &Path, tls: Option<(&Path, &Path)>, auth: Option<(&str, &str)>) -> SmtpServer {
    let out = dir.join(format!("mail-{}", rand_suffix()));
    // Debian's python3, where python3-aiosmtpd is installed (not a python3 earlier on PATH).
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("tests/smtp/smtp_server.py"))
        .arg(&out);
    if let Some((cert, key)) = tls {
        cmd.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    if let Some((user, password)) = auth {
        cmd.args(["--user", user, "--password", password]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let port = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|p| p.parse().ok())
        .expect("the SMTP server says ready PORT");
    SmtpServer { child, port, out }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos()
}

fn received(server: &SmtpServer) -> Vec<String> {
    std::fs::read_dir(&server.out)
        .map(|d| {
            d.flatten()
                .map(|e| std::fs::read_to_string(e.path()).expect("eml"))
                .collect()
        })
        .unwrap_or_default()
}

fn settings(port: u16, security: SmtpSecurity, ca: Option<&Path>) -> SmtpSettings {
    SmtpSettings {
        host: "localhost".into(),
        port,
        security,
        username: Some("mailer".into()),
        from: "backup@example.com".into(),
        ca_file: ca.map(Path::to_path_buf),
        password_source: PasswordSource::Keyring,
    }
}

async fn failing_schedule_notice(lang: Lang) -> billora_engine::notify::Notice {
    let (_dir, store) = temp_store().await;
    let body = r#"{"name":"Daily Full Backup","cron_expression":"0 2 * * *","backup_type":"full","notify_on_failure":true,
                   "notification_email":"admin@example.com, boss@example.com","timezone":"Asia/Bangkok"}"#;
    let request: NewSchedule = parse_request(body).expect("valid");
    let schedule = store
        .create_schedule(request, now())
        .await
        .expect("created");
    let error = billora_engine::Error::new(
        ErrorCode::AuthFailed,
        "the server refused the user name or password",
    )
    .with_hint("check the user name and password of the connection");
    let facts = RunFacts {
        schedule: &schedule,
        database: "billora",
        succeeded: false,
        filename: None,
        file_size: None,
        duration_seconds: 1.5,
        error: Some(&error),
        trigger_note: Some("catch-up of the 02:00 on 2026-02-03 slot".into()),
        next_run: Some("2026-02-04T02:00:00+07:00".into()),
        verification: None,
        copies: &[],
        warning: None,
    };
    run_notice(&facts, lang).expect("notify_on_failure asks for a notice")
}

#[tokio::test]
async fn a_failures_popup_leads_with_the_reason_and_what_to_do_within_the_limit() {
    use billora_engine::notify::Notice;
    for lang in [Lang::En, Lang::Th] {
        let notice = failing_schedule_notice(lang).await;
        let popup = notice.popup();
        let first = popup.lines().next().unwrap_or_default();
        assert_eq!(
            first, "the server refused the user name or password",
            "the reason is the popup's first line ({lang:?}): {popup}"
        );
        let what_to_do = match lang {
            Lang::En => "check the user name and password of the connection",
            Lang::Th => "ตรวจสอบชื่อผู้ใช้และรหัสผ่านของการเชื่อมต่อ",
        };
        assert!(
            popup.contains(what_to_do),
            "then what to do, in the notice's language ({lang:?}): {popup}"
        );
        assert!(
            notice.body.contains(what_to_do),
            "the e-mail says what to do in its language too ({lang:?})"
        );
        assert!(
            popup.chars().count() <= Notice::POPUP_MAX,
            "within the popup's limit: {popup}"
        );
    }
    let mut long = failing_schedule_notice(Lang::En).await;
    long.summary = "x".repeat(1_000);
    let popup = long.popup();
    assert_eq!(
        popup.chars().count(),
        Notice::POPUP_MAX,
        "a long summary is cut to the limit"
    );
    assert!(popup.ends_with('…'), "and says it was cut: {popup}");
}

#[tokio::test]
async fn a_good_backup_whose_copy_failed_is_reported_to_the_failure_list_per_destination() {
    use billora_engine::run::CopyOutcome;
    let (_dir, store) = temp_store().await;
    let body = r#"{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full","notify_on_failure":true}"#;
    let schedule = store
        .create_schedule(parse_request(body).expect("valid"), now())
        .await
        .expect("created");
    let down = billora_engine::Error::new(ErrorCode::Unreachable, "connecting to `offsite` failed");
    let copies = [
        CopyOutcome {
            destination: "nas".into(),
            status: "uploaded".into(),
            size: Some(2048),
            error: None,
        },
        CopyOutcome {
            destination: "offsite".into(),
            status: "failed".into(),
            size: None,
            error: Some(down),
        },
    ];
    let mut facts = RunFacts {
        schedule: &schedule,
        database: "billora",
        succeeded: true,
        filename: Some("backup_full_2026-02-03T02-00-00.sql.zst"),
        file_size: Some(2048),
        duration_seconds: 1.0,
        error: None,
        trigger_note: None,
        next_run: None,
        verification: None,
        copies: &copies,
        warning: None,
    };
    let notice = run_notice(&facts, Lang::En).expect("a failed copy is news for notify_on_failure");
    assert!(
        notice.subject.contains("copy FAILED"),
        "the subject says a copy failed: {}",
        notice.subject
    );
    assert!(
        notice.body.contains("Copy to nas: uploaded and checked"),
        "the good copy is listed: {}",
        notice.body
    );
    assert!(
        notice
            .body
            .contains("Copy to offsite: FAILED [Unreachable]"),
        "the failed one with its code: {}",
        notice.body
    );
    assert!(
        notice
            .popup()
            .starts_with("Copy to offsite: connecting to `offsite` failed"),
        "the popup leads with the copy that failed: {}",
        notice.popup()
    );
    facts.copies = &copies[..1];
    assert!(
        run_notice(&facts, Lang::En).is_none(),
        "with every copy good, a success is not sent to a schedule that only wants failures"
    );
    let warning = billora_engine::run::size_warning(&[2_000_000, 2_100_000, 1_900_000], 2048)
        .expect("a collapse in size is flagged");
    facts.warning = Some(&warning);
    let notice = run_notice(&facts, Lang::En)
        .expect("a backup that looks incomplete is news for notify_on_failure");
    assert!(
        notice.subject.contains("INCOMPLETE"),
        "the subject says so: {}",
        notice.subject
    );
    assert!(
        notice.popup().starts_with("possibly incomplete dump"),
        "the popup leads with the warning: {}",
        notice.popup()
    );
    assert!(
        notice.body.contains("Warning: possibly incomplete dump"),
        "and the e-mail carries it: {}",
        notice.body
    );
}

#[tokio::test]
async fn starttls_with_a_private_ca_delivers_a_readable_failure_notice() {
    let dir = tempfile::tempdir().expect("temp");
    let (ca, cert, key) = self_signed(dir.path());
    let server = start(dir.path(), Some((&cert, &key)), Some(("mailer", "mail-pw")));
    let secrets = MemorySecrets::default();
    secrets.set("smtp", "mail-pw").expect("set");
    let notifier = EmailNotifier::new(
        settings(server.port, SmtpSecurity::Starttls, Some(&ca)),
        &secrets,
    )
    .expect("valid settings");
    let notice = failing_schedule_notice(Lang::En).await;
    tokio::task::spawn_blocking(move || notifier.send(&notice))
        .await
        .expect("task")
        .expect("the email is accepted");

    let mails = received(&server);
    assert_eq!(mails.len(), 1, "one message arrived");
    let mail = &mails[0];
    assert!(
        mail.contains("Subject: Backup FAILED: Daily Full Backup"),
        "the subject says what failed:\n{mail}"
    );
    assert!(
        mail.contains("admin@example.com") && mail.contains("boss@example.com"),
        "both recipients are addressed"
    );
    assert!(
        mail.contains("From: backup@example.com"),
        "from the configured sender"
    );
    for expected in [
        "Schedule: Daily Full Backup",
        "Database: billora",
        "Status: failed",
        "AuthFailed",
        "What to do: check",
        "catch-up of the 02:00",
        "Next run: 2026-02-04T02:00:00+07:00",
    ] {
        assert!(
            mail.contains(expected),
            "the body has `{expected}`:\n{mail}"
        );
    }
}

#[tokio::test]
async fn a_thai_notice_is_encoded_for_mail() {
    let dir = tempfile::tempdir().expect("temp");
    let (ca, cert, key) = self_signed(dir.path());
    let server = start(dir.path(), Some((&cert, &key)), Some(("mailer", "mail-pw")));
    let secrets = MemorySecrets::default();
    secrets.set("smtp", "mail-pw").expect("set");
    let notifier = EmailNotifier::new(
        settings(server.port, SmtpSecurity::Starttls, Some(&ca)),
        &secrets,
    )
    .expect("valid");
    let notice = failing_schedule_notice(Lang::Th).await;
    assert!(
        notice.subject.starts_with("สำรองข้อมูลล้มเหลว"),
        "the Thai subject: {}",
        notice.subject
    );
    assert!(
        notice.body.contains("วิธีแก้ไข"),
        "the Thai body has the hint label"
    );
    tokio::task::spawn_blocking(move || notifier.send(&notice))
        .await
        .expect("task")
        .expect("sent");
    let mails = received(&server);
    assert_eq!(mails.len(), 1, "one message arrived");
    assert!(
        mails[0].contains("Subject: =?utf-8?"),
        "the Thai subject is RFC 2047 encoded:\n{}",
        mails[0]
    );
}

#[tokio::test]
async fn a_wrong_password_is_auth_failed() {
    let dir = tempfile::tempdir().expect("temp");
    let (ca, cert, key) = self_signed(dir.path());
    let server = start(dir.path(), Some((&cert, &key)), Some(("mailer", "mail-pw")));
    let secrets = MemorySecrets::default();
    secrets.set("smtp", "wrong-pw").expect("set");
    let notifier = EmailNotifier::new(
        settings(server.port, SmtpSecurity::Starttls, Some(&ca)),
        &secrets,
    )
    .expect("valid");
    let notice = failing_schedule_notice(Lang::En).await;
    let err = tokio::task::spawn_blocking(move || notifier.send(&notice))
        .await
        .expect("task")
        .expect_err("refused");
    assert_eq!(
        err.code,
        ErrorCode::AuthFailed,
        "a wrong SMTP password is AuthFailed: {err}"
    );
    assert!(
        !err.message.contains("wrong-pw"),
        "the password is not in the error"
    );
    assert!(received(&server).is_empty(), "nothing was delivered");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("temp");
    let (_ca, cert, key) = self_signed(dir.path());
    let server = start(dir.path(), Some((&cert, &key)), Some(("mailer", "mail-pw")));
    let secrets = MemorySecrets::default();
    secrets.set("smtp", "mail-pw").expect("set");
    let notifier = EmailNotifier::new(
        settings(server.port, SmtpSecurity::Starttls, None),
        &secrets,
    )
    .expect("valid");
    let notice = failing_schedule_notice(Lang::En).await;
    let err = tokio::task::spawn_blocking(move || notifier.send(&notice))
        .await
        .expect("task")
        .expect_err("untrusted");
    assert_eq!(
        err.code,
        ErrorCode::TlsFailed,
        "a certificate nobody vouches for is a TLS failure: {err}"
    );
    assert!(received(&server).is_empty(), "nothing was delivered");
}

#[tokio::test]
async fn starttls_is_required_never_opportunistic() {
    let dir = tempfile::tempdir().expect("temp");
    let server = start(dir.path(), None, None);
    let secrets = MemorySecrets::default();
    let mut plain = settings(server.port, SmtpSecurity::Starttls, None);
    plain.username = None;
    let notifier = EmailNotifier::new(plain, &secrets).expect("valid");
    let notice = failing_schedule_notice(Lang::En).await;
    let err = tokio::task::spawn_blocking(move || notifier.send(&notice))
        .await
        .expect("task")
        .expect_err("no STARTTLS offered");
    assert!(
        matches!(err.code, ErrorCode::TlsFailed | ErrorCode::Unreachable),
        "refused without TLS: {err}"
    );
    assert!(
        received(&server).is_empty(),
        "nothing was sent in plain text"
    );

    let mut to_remote = settings(25, SmtpSecurity::None, None);
    to_remote.host = "mail.example.com".into();
    let err = EmailNotifier::new(to_remote, &secrets)
        .expect_err("plain SMTP to another machine is refused");
    assert_eq!(
        err.field.as_deref(),
        Some("security"),
        "the error names the security field"
    );
}
