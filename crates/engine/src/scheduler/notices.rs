//! What the scheduler tells people: a run's notice (per the schedule's flags), the alert when
//! a schedule has had no good backup for too long, and the alert when the scheduler itself is
//! in trouble (degraded) or recovered.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::error::{Error, ErrorCode};
use crate::notify::{run_notice, send_with_retries, Notice, NoticeKind, Notifier, RunFacts};
use crate::run::{RunOutcome, Trigger};
use crate::schedule::Schedule;
use crate::store::Store;
use crate::time;

pub(super) fn missing_notice(
    s: &Schedule,
    newest: Option<Timestamp>,
    lang: crate::cron::Lang,
) -> Notice {
    let th = lang == crate::cron::Lang::Th;
    let when = newest
        .map(|t| {
            time::rfc3339(
                &t.to_zoned_datetime(time::zone(&s.timezone).unwrap_or(jiff::tz::TimeZone::UTC)),
            )
        })
        .unwrap_or_else(|| {
            if th {
                "ยังไม่เคยมี".into()
            } else {
                "never".into()
            }
        });
    let (subject, body) = if th {
        (
            format!("ไม่มีการสำรองข้อมูลที่สำเร็จมานาน: {}", s.name),
            format!("ตารางเวลา \"{}\" ไม่มีการสำรองข้อมูลที่สำเร็จตั้งแต่ {when}\nโปรดตรวจสอบประวัติการสำรองข้อมูลใน Billora Backup", s.name),
        )
    } else {
        (
            format!("No recent backup: {}", s.name),
            format!(
                "The schedule \"{}\" has had no successful backup since {when}.\nCheck its history in Billora Backup: the computer may have been off, or every run failed.",
                s.name
            ),
        )
    };
    Notice {
        kind: NoticeKind::MissingBackup,
        recipients: s
            .notification_email
            .as_deref()
            .map(crate::notify::recipients)
            .unwrap_or_default(),
        subject,
        summary: body.clone(),
        body,
    }
}

/// Sends the run's notice (per the schedule's flags); a failed send is recorded on the run.
pub async fn notify_outcome(
    store: &Store,
    notifier: Arc<dyn Notifier>,
    schedule_id: i64,
    trigger: &Trigger,
    outcome: &RunOutcome,
) {
    let Ok(schedule) = store.get_schedule(schedule_id).await else {
        return;
    };
    // A run of several databases names them all, and its files.
    let database = if outcome.parts.is_empty() {
        store
            .resolve_connection(schedule.connection.as_deref())
            .await
            .map(|c| c.database)
            .unwrap_or_else(|_| "?".into())
    } else {
        let names: Vec<&str> = outcome.parts.iter().map(|p| p.database.as_str()).collect();
        names.join(", ")
    };
    let part_files: Vec<&crate::artifact::FinishedFile> = outcome
        .parts
        .iter()
        .filter_map(|p| p.file.as_ref())
        .collect();
    let (filename, file_size) = match &outcome.file {
        Some(f) => (Some(f.filename.clone()), Some(f.size)),
        None if !part_files.is_empty() => (
            Some(
                part_files
                    .iter()
                    .map(|f| f.filename.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Some(part_files.iter().map(|f| f.size).sum()),
        ),
        None => (None, None),
    };
    let lang = store.language().await.unwrap_or_default();
    let next = schedule
        .next_run_at
        .as_ref()
        .map(|at| time::in_notice(at, lang == crate::cron::Lang::Th));
    let facts = RunFacts {
        schedule: &schedule,
        database: &database,
        succeeded: outcome.status == "success",
        filename: filename.as_deref(),
        file_size,
        duration_seconds: outcome.duration_seconds,
        error: outcome.error.as_ref(),
        trigger_note: trigger.note(),
        next_run: next,
        verification: outcome.verification.as_deref(),
        copies: &outcome.copies,
        warning: outcome.warning.as_deref(),
    };
    if outcome.status == "cancelled" || outcome.status == "skipped" {
        return;
    }
    let Some(notice) = run_notice(&facts, lang) else {
        return;
    };
    let result = tokio::task::spawn_blocking(move || {
        send_with_retries(&*notifier, &notice, 3, Duration::from_secs(20))
    })
    .await
    .unwrap_or_else(|e| Err(Error::new(ErrorCode::Io, e.to_string())));
    let status = match &result {
        Ok(()) => "sent".to_owned(),
        Err(e) => format!("failed: {}", e.message),
    };
    let _ = store.set_notification(outcome.run_id, &status).await;
}

/// The alert that the scheduler cannot read or write its store (and backups may not run), or
/// that it recovered. Sent to the desktop and to every schedule's notification address.
pub(super) fn scheduler_notice(reason: Option<&str>, recipients: Vec<String>, th: bool) -> Notice {
    let (subject, body) = match (reason, th) {
        (Some(reason), false) => (
            "Billora Backup cannot run backups right now".to_owned(),
            format!(
                "The scheduler cannot use its data folder ({reason}). It keeps trying; backups \
                 due meanwhile run once it recovers.\nIf this lasts, check the disk and the data \
                 folder, or restart Billora Backup."
            ),
        ),
        (Some(reason), true) => (
            "Billora Backup ยังสำรองข้อมูลไม่ได้ในขณะนี้".to_owned(),
            format!(
                "ตัวจัดตารางเวลาใช้โฟลเดอร์ข้อมูลของโปรแกรมไม่ได้ ({reason}) กำลังลองใหม่อยู่ \
                 การสำรองข้อมูลที่ถึงเวลาจะทำเมื่อกลับมาทำงานได้\nหากยังเป็นอยู่ โปรดตรวจสอบดิสก์และโฟลเดอร์ข้อมูล \
                 หรือเปิด Billora Backup ใหม่"
            ),
        ),
        (None, false) => (
            "Billora Backup runs backups again".to_owned(),
            "The scheduler can use its data folder again; backups run as scheduled.".to_owned(),
        ),
        (None, true) => (
            "Billora Backup กลับมาสำรองข้อมูลได้แล้ว".to_owned(),
            "ตัวจัดตารางเวลากลับมาใช้โฟลเดอร์ข้อมูลได้แล้ว การสำรองข้อมูลทำตามตารางเวลาตามปกติ".to_owned(),
        ),
    };
    Notice {
        kind: if reason.is_some() {
            NoticeKind::Failure
        } else {
            NoticeKind::Success
        },
        recipients,
        subject,
        summary: body.clone(),
        body,
    }
}
