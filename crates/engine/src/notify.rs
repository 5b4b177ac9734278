//! Telling the admin: after a run (per the schedule's `notify_on_success`/`notify_on_failure`),
//! and when a schedule has gone too long without a good backup (the "silent gap" alert).
//!
//! [`Notifier`] is the edge: [`EmailNotifier`] sends through SMTP with lettre (STARTTLS
//! required, implicit TLS, or plain only to a loopback host); the desktop app adds a desktop
//! notifier; tests use [`RecordingNotifier`]. A failed send never fails a backup: it is recorded
//! on the run and retried a few times.

use std::sync::Mutex;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};

use crate::cron::Lang;
use crate::error::{Error, ErrorCode, Result};
use crate::schedule::is_email;
use crate::secrets::{PasswordSource, SecretStore};

/// What happened, in words for people, in the app's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The schedule's notification_email (one or several addresses).
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
    /// The few lines a desktop popup shows (the body is the e-mail's): for a failure its reason
    /// and the first thing to do.
    pub summary: String,
}

impl Notice {
    /// The longest popup text: Windows shows about 200 characters of a toast, and notification
    /// daemons on Linux cut long bodies; the reason must come first and fit.
    pub const POPUP_MAX: usize = 240;

    /// The popup's text: the summary, cut at [`Notice::POPUP_MAX`] characters with `…`.
    pub fn popup(&self) -> String {
        let text = self.summary.trim();
        if text.chars().count() <= Self::POPUP_MAX {
            return text.to_owned();
        }
        let cut: String = text.chars().take(Self::POPUP_MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeKind {
    Success,
    Failure,
    MissingBackup,
    Test,
}

/// Sends notices somewhere.
pub trait Notifier: Send + Sync {
    fn send(&self, notice: &Notice) -> Result<()>;

    /// One try of [`send_with_retries`]; `attempt` counts from 0. A notifier with channels that
    /// must not repeat (a desktop popup) sends those on the first attempt only.
    fn send_attempt(&self, notice: &Notice, attempt: u32) -> Result<()> {
        let _ = attempt;
        self.send(notice)
    }
}

/// Keeps notices in memory (tests, and the desktop app's "last notices").
#[derive(Debug, Default)]
pub struct RecordingNotifier(pub Mutex<Vec<Notice>>);

impl Notifier for RecordingNotifier {
    fn send(&self, notice: &Notice) -> Result<()> {
        self.0.lock().expect("not poisoned").push(notice.clone());
        Ok(())
    }
}

/// How the SMTP connection is secured.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// STARTTLS on the submission port (587), required: never falls back to plain text.
    Starttls,
    /// TLS from the first byte (465).
    Tls,
    /// No encryption: allowed only to a server on this machine (loopback).
    None,
}

/// SMTP settings (the password lives in the keyring under `smtp`, or an env var or file).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    pub from: String,
    /// An extra CA certificate (PEM) to trust, for a server with a private certificate.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    #[serde(default = "keyring_source")]
    pub password_source: PasswordSource,
}

fn keyring_source() -> PasswordSource {
    PasswordSource::Keyring
}

/// The keyring key of the SMTP password.
pub const SMTP_SECRET_KEY: &str = "smtp";
pub(crate) const SMTP_SETTING: &str = "smtp";

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

impl SmtpSettings {
    pub fn validate(&self) -> Result<()> {
        if self.host.trim().is_empty() || self.host.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(Error::invalid("host", "enter the mail server's host name"));
        }
        if self.port == 0 {
            return Err(Error::invalid("port", "the port must be 1-65535"));
        }
        if self.security == SmtpSecurity::None && !is_loopback(&self.host) {
            return Err(Error::invalid(
                "security",
                "an unencrypted connection is only allowed to this computer (localhost)",
            )
            .with_hint("use starttls (port 587) or tls (port 465)"));
        }
        if !is_email(self.from.trim()) {
            return Err(Error::invalid(
                "from",
                format!("`{}` is not an email address", self.from),
            ));
        }
        if let Some(ca) = &self.ca_file {
            if !ca.is_file() {
                return Err(Error::invalid(
                    "ca_file",
                    format!("{} is not a readable file", ca.display()),
                ));
            }
        }
        Ok(())
    }
}

/// Sends notices by email.
pub struct EmailNotifier {
    settings: SmtpSettings,
    password: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for EmailNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EmailNotifier({}:{})",
            self.settings.host, self.settings.port
        )
    }
}

impl EmailNotifier {
    pub fn new(settings: SmtpSettings, secrets: &dyn SecretStore) -> Result<EmailNotifier> {
        settings.validate()?;
        let password = match (&settings.username, &settings.password_source) {
            (None, _) => None,
            (Some(_), source) => Some(source.read(secrets, SMTP_SECRET_KEY)?),
        };
        Ok(EmailNotifier {
            settings,
            password,
            timeout: Duration::from_secs(30),
        })
    }

    fn transport(&self) -> Result<SmtpTransport> {
        let s = &self.settings;
        let smtp_err = |e: lettre::transport::smtp::Error| {
            Error::new(ErrorCode::Unreachable, format!("mail server: {e}"))
        };
        let tls = || -> Result<TlsParameters> {
            let mut builder = TlsParameters::builder(s.host.clone());
            if let Some(ca) = &s.ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| crate::error::io_error(e, "reading the CA file"))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    Error::invalid("ca_file", format!("not a PEM certificate: {e}"))
                })?;
                builder = builder.add_root_certificate(cert);
            }
            builder.build().map_err(smtp_err)
        };
        let mut builder = SmtpTransport::builder_dangerous(&s.host)
            .port(s.port)
            .timeout(Some(self.timeout));
        builder = match s.security {
            SmtpSecurity::Starttls => builder.tls(Tls::Required(tls()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if let (Some(user), Some(password)) = (&s.username, &self.password) {
            // PLAIN (inside TLS) only: trying LOGIN after a refused PLAIN only adds a second refusal.
            builder = builder
                .credentials(Credentials::new(user.clone(), password.clone()))
                .authentication(vec![
                    lettre::transport::smtp::authentication::Mechanism::Plain,
                ]);
        }
        Ok(builder.build())
    }
}

impl Notifier for EmailNotifier {
    fn send(&self, notice: &Notice) -> Result<()> {
        if notice.recipients.is_empty() {
            return Ok(()); // Nobody to mail (a schedule without notification_email).
        }
        let from: Mailbox = self
            .settings
            .from
            .parse()
            .map_err(|e| Error::invalid("from", format!("{e}")))?;
        let mut builder = Message::builder()
            .from(from)
            .subject(notice.subject.clone());
        for to in &notice.recipients {
            let mailbox: Mailbox = to
                .parse()
                .map_err(|e| Error::invalid("notification_email", format!("`{to}`: {e}")))?;
            builder = builder.to(mailbox);
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(notice.body.clone())
            .map_err(|e| {
                Error::new(
                    ErrorCode::InvalidInput,
                    format!("cannot build the email: {e}"),
                )
            })?;
        self.transport()?.send(&message).map(|_| ()).map_err(|e| {
            let text = e.to_string();
            let lower = text.to_ascii_lowercase();
            let code = if text.contains("535") || lower.contains("authentication") {
                ErrorCode::AuthFailed
            } else if e.is_tls() || lower.contains("certificate") || lower.contains("tls") {
                ErrorCode::TlsFailed
            } else {
                ErrorCode::Unreachable
            };
            Error::new(code, format!("sending the email failed: {text}")).with_hint(
                "check the mail settings with `billora-backup notify test-email ADDRESS`",
            )
        })
    }
}

/// The "does email work?" message sent from Settings and `notify test-email`.
pub fn test_notice(to: &str, lang: Lang) -> Notice {
    let (subject, body) = match lang {
        Lang::Th => (
            "ทดสอบอีเมลจาก Billora Backup",
            "การตั้งค่าอีเมลใช้งานได้ คุณจะได้รับการแจ้งเตือนการสำรองข้อมูลที่อีเมลนี้",
        ),
        Lang::En => (
            "Billora Backup test email",
            "Your mail settings work: backup notifications will arrive at this address.",
        ),
    };
    Notice {
        kind: NoticeKind::Test,
        recipients: vec![to.trim().to_owned()],
        subject: subject.into(),
        body: body.into(),
        summary: body.into(),
    }
}

/// Splits a notification_email list.
pub fn recipients(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Sends with a few retries; returns the last error if every try failed.
pub fn send_with_retries(
    notifier: &dyn Notifier,
    notice: &Notice,
    tries: u32,
    pause: Duration,
) -> Result<()> {
    let mut last = None;
    for attempt in 0..tries.max(1) {
        match notifier.send_attempt(notice, attempt) {
            Ok(()) => return Ok(()),
            Err(e) if e.code == ErrorCode::AuthFailed || e.code == ErrorCode::InvalidInput => {
                return Err(e)
            }
            Err(e) => last = Some(e),
        }
        if attempt + 1 < tries {
            std::thread::sleep(pause);
        }
    }
    Err(last.unwrap_or_else(|| Error::new(ErrorCode::Unreachable, "the notice was not sent")))
}

/// Human-readable size ("1.5 MB").
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The facts a run notice reports.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    pub schedule: &'a crate::schedule::Schedule,
    pub database: &'a str,
    pub succeeded: bool,
    pub filename: Option<&'a str>,
    pub file_size: Option<u64>,
    pub duration_seconds: f64,
    pub error: Option<&'a Error>,
    /// "catch-up of the 02:00 slot" and the like.
    pub trigger_note: Option<String>,
    pub next_run: Option<String>,
    /// The test restore's result, when the schedule verifies its backups.
    pub verification: Option<&'a str>,
    /// The copies to the schedule's destinations.
    pub copies: &'a [crate::run::CopyOutcome],
    /// A success that looks wrong (much smaller than the recent ones).
    pub warning: Option<&'a str>,
}

/// The notice for a finished run, or `None` when the schedule does not ask for one.
pub fn run_notice(facts: &RunFacts<'_>, lang: Lang) -> Option<Notice> {
    let s = facts.schedule;
    // A good local backup whose copy to a destination failed is news for both lists.
    let copy_failed = facts.copies.iter().any(|c| c.status != "uploaded");
    // So is a success that looks incomplete.
    let suspect = facts.succeeded && facts.warning.is_some();
    let wanted = match (facts.succeeded, copy_failed || suspect) {
        (true, false) => s.notify_on_success,
        (true, true) => s.notify_on_success || s.notify_on_failure,
        (false, _) => s.notify_on_failure,
    };
    if !wanted {
        return None;
    }
    // No address: the notice still goes to the desktop.
    let list = s.notification_email.as_deref().unwrap_or("");
    let th = lang == Lang::Th;
    let kind = match (s.backup_type, s.tenant_id) {
        (crate::schedule::BackupType::Tenant, Some(id)) => {
            if th {
                format!("ข้อมูลของ tenant {id}")
            } else {
                format!("tenant {id}")
            }
        }
        _ => {
            if th {
                "ทั้งฐานข้อมูล".to_owned()
            } else {
                "full database".to_owned()
            }
        }
    };
    let subject = match (facts.succeeded, th) {
        (true, false) if copy_failed => {
            format!("Backup made, but a copy FAILED: {}", s.name)
        }
        (true, true) if copy_failed => {
            format!("สำรองข้อมูลสำเร็จ แต่ส่งสำเนาไม่สำเร็จ: {}", s.name)
        }
        (true, false) if suspect => format!("Backup made, but it looks INCOMPLETE: {}", s.name),
        (true, true) if suspect => format!("สำรองข้อมูลแล้ว แต่อาจไม่ครบ: {}", s.name),
        (true, false) => format!("Backup succeeded: {}", s.name),
        (false, false) => format!("Backup FAILED: {}", s.name),
        (true, true) => format!("สำรองข้อมูลสำเร็จ: {}", s.name),
        (false, true) => format!("สำรองข้อมูลล้มเหลว: {}", s.name),
    };
    let mut lines = Vec::new();
    let mut add = |en: &str, thai: &str, value: String| {
        lines.push(format!("{}: {value}", if th { thai } else { en }))
    };
    add("Schedule", "ตารางเวลา", s.name.clone());
    add("Database", "ฐานข้อมูล", facts.database.to_owned());
    add("Backup", "ประเภท", kind);
    add(
        "Status",
        "สถานะ",
        match (facts.succeeded, th) {
            (true, false) => "success".into(),
            (false, false) => "failed".into(),
            (true, true) => "สำเร็จ".into(),
            (false, true) => "ล้มเหลว".into(),
        },
    );
    // Notes and the size warning in the notice's language.
    let note_text = |note: &str| {
        th.then(|| crate::hints::note_in_thai(note))
            .flatten()
            .unwrap_or_else(|| note.to_owned())
    };
    if let Some(note) = &facts.trigger_note {
        add("Run", "การทำงาน", note_text(note));
    }
    if let Some(file) = facts.filename {
        add("File", "ไฟล์", file.to_owned());
    }
    if let Some(size) = facts.file_size {
        add("Size", "ขนาด", human_size(size));
    }
    add(
        "Duration",
        "ใช้เวลา",
        format!("{:.1} s", facts.duration_seconds),
    );
    if let Some(verification) = facts.verification {
        let text = match (verification == "verified", th) {
            (true, true) => "ผ่าน: กู้คืนทดสอบแล้วข้อมูลตรงกัน".to_owned(),
            (true, false) => "passed: a test restore matched what was backed up".to_owned(),
            (false, _) => verification.to_owned(),
        };
        add("Verification", "การตรวจสอบ", text);
    }
    for copy in facts.copies {
        let text = match (copy.status.as_str(), &copy.error, th) {
            ("uploaded", _, false) => format!(
                "uploaded and checked ({})",
                human_size(copy.size.unwrap_or(0))
            ),
            ("uploaded", _, true) => {
                format!("ส่งและตรวจสอบแล้ว ({})", human_size(copy.size.unwrap_or(0)))
            }
            (_, Some(err), false) => format!("FAILED [{}] {}", err.code, err.message),
            (_, Some(err), true) => format!("ไม่สำเร็จ [{}] {}", err.code, err.message),
            (status, None, _) => status.to_owned(),
        };
        add(
            &format!("Copy to {}", copy.destination),
            &format!("สำเนาที่ {}", copy.destination),
            text,
        );
    }
    if let Some(warning) = facts.warning {
        add("Warning", "คำเตือน", note_text(warning));
    }
    // The hint in the notice's language (English when the table has no Thai for it).
    let hint_of = |hint: &Option<String>, thai: &Option<String>| {
        if th {
            thai.clone().or_else(|| hint.clone())
        } else {
            hint.clone()
        }
    };
    if let Some(err) = facts.error {
        add(
            "Error",
            "ข้อผิดพลาด",
            format!("[{}] {}", err.code, err.message),
        );
        if let Some(hint) = &hint_of(&err.hint, &err.hint_th) {
            add("What to do", "วิธีแก้ไข", hint.clone());
        }
    }
    add(
        "Next run",
        "รอบถัดไป",
        facts.next_run.clone().unwrap_or_else(|| {
            if th {
                "ไม่มี (ปิดอยู่)".into()
            } else {
                "none (disabled)".into()
            }
        }),
    );
    lines.push(String::new());
    lines.push("— Billora Backup".into());
    let label = |en: &str, thai: &str| if th { thai.to_owned() } else { en.to_owned() };
    let mut summary: Vec<String> = Vec::new();
    if let Some(warning) = facts.warning {
        summary.push(note_text(warning));
    }
    if let Some(err) = facts.error {
        summary.push(err.message.clone());
        if let Some(hint) = hint_of(&err.hint, &err.hint_th) {
            summary.push(format!("{}: {hint}", label("What to do", "วิธีแก้ไข")));
        }
    }
    for copy in facts.copies.iter().filter(|c| c.status != "uploaded") {
        if let Some(err) = &copy.error {
            summary.push(format!(
                "{} {}: {}",
                label("Copy to", "สำเนาที่"),
                copy.destination,
                err.message
            ));
            if let Some(hint) = hint_of(&err.hint, &err.hint_th) {
                summary.push(format!("{}: {hint}", label("What to do", "วิธีแก้ไข")));
            }
        }
    }
    if facts.succeeded && summary.is_empty() {
        if let Some(file) = facts.filename {
            let size = facts.file_size.map(human_size).unwrap_or_default();
            summary.push(format!("{file} {size}").trim_end().to_owned());
        }
        if let Some(next) = &facts.next_run {
            summary.push(format!("{}: {next}", label("Next run", "รอบถัดไป")));
        }
    }
    Some(Notice {
        kind: if facts.succeeded && !copy_failed && !suspect {
            NoticeKind::Success
        } else {
            NoticeKind::Failure
        },
        recipients: recipients(list),
        subject,
        body: lines.join("\n"),
        summary: summary.join("\n"),
    })
}
