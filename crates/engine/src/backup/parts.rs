//! A run of a schedule of several databases: one history entry, and one part per database
//! with its own file (`backup_full_{database}_{time}`), copies and test restore, made one
//! after the other within the run. A database that fails does not stop the others (its own
//! grant or a missing database is its own problem); a fault of the whole server (unreachable,
//! wrong password, a changed certificate, a full disk) or a cancel stops the run there. The
//! entry succeeds only when every database did; retention then keeps each database's
//! backups by the schedule's rules.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

use super::{
    apply_retention, attempts, keep_file, record_failure, size_check, RunControl, RunOptions,
};
use crate::connection::ServerTarget;
use crate::databases::ALL as ALL_DATABASES;
use crate::error::{Error, ErrorCode, Result};
use crate::run::{PartOutcome, RunOutcome, Trigger};
use crate::schedule::Schedule;
use crate::secrets::SecretStore;
use crate::store::Store;

/// The server's own databases, never backed up by `*`.
pub const SYSTEM_DATABASES: [&str; 4] =
    ["information_schema", "performance_schema", "mysql", "sys"];

/// `backup_full_2026-02-03T02-00-00` → `backup_full_shop_2026-02-03T02-00-00`. The name is
/// database data: only letters, digits, `-` and `_` of ASCII are kept (anything else that
/// could mean a path, a hidden file or a shell word becomes `_`), letters of other scripts
/// stay, invisible and direction-changing characters go; at most 64 characters.
pub fn stem_with_database(stem: &str, database: &str) -> String {
    let safe: String = database
        .chars()
        .filter(|c| !is_invisible(*c))
        .map(|c| {
            if c.is_ascii_alphanumeric()
                || c == '-'
                || c == '_'
                || (!c.is_ascii() && !c.is_whitespace())
            {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    match stem.strip_prefix("backup_full_") {
        Some(time) => format!("backup_full_{safe}_{time}"),
        None => format!("{stem}_{safe}"),
    }
}

/// Control, zero-width and bidirectional-override characters: they hide or reorder what a
/// file name shows.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Faults of the server or this computer, not of one database: the rest would fail the same.
fn stops_the_run(err: &Error) -> bool {
    matches!(
        err.code,
        ErrorCode::Cancelled
            | ErrorCode::Unreachable
            | ErrorCode::AuthFailed
            | ErrorCode::TlsFailed
            | ErrorCode::CertificateChanged
            | ErrorCode::HostKeyChanged
            | ErrorCode::DiskFull
            | ErrorCode::SecretStoreUnavailable
            | ErrorCode::Store
    )
}

/// The databases of the server the connection's user sees, but the system ones.
pub fn list_databases(target: &ServerTarget) -> Result<Vec<String>> {
    use mysql::prelude::Queryable;
    let mut conn = target.connect()?;
    let names: Vec<String> = conn
        .query("SHOW DATABASES")
        .map_err(|e| crate::connection::db_error(e, "listing the server's databases"))?;
    Ok(names
        .into_iter()
        .filter(|n| !SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(n)))
        .collect())
}

/// The databases this run backs up: the schedule's list, or (`*`) those the server has now.
async fn resolve(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
) -> Result<Vec<String>> {
    if schedule.databases.iter().all(|d| d != ALL_DATABASES) {
        return Ok(schedule.databases.clone());
    }
    let profile = store
        .resolve_connection(schedule.connection.as_deref())
        .await?;
    let target = ServerTarget::new(&profile, secrets)?.for_database(None);
    let names =
        tokio::task::spawn_blocking(move || list_databases(&target).map_err(|e| target.explain(e)))
            .await
            .map_err(|e| {
                Error::new(ErrorCode::Io, format!("listing the databases stopped: {e}"))
            })??;
    if names.is_empty() {
        return Err(Error::new(
            ErrorCode::NotFound,
            "the server shows the connection's user no database besides its system ones",
        )
        .with_field("databases")
        .with_hint("grant the user access to the databases to back up, or list them by name"));
    }
    Ok(names)
}

/// Runs every database of `schedule` into entry `run_id` (already recorded, holding
/// `lock_path`), and records the entry's outcome.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_databases(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    (run_id, lock_path): (i64, &Path),
    trigger: Trigger,
    now: Timestamp,
    options: &RunOptions,
    control: RunControl,
    started: Instant,
) -> Result<RunOutcome> {
    let mut outcome = RunOutcome::without_file(run_id, "success", None, 0.0);
    let names = match resolve(store, secrets, schedule).await {
        Ok(names) => names,
        Err(err) => {
            return finish(
                store,
                secrets,
                schedule,
                outcome,
                started,
                now,
                (Some(err), &[]),
            )
            .await
        }
    };
    let mut stopped: Option<Error> = None;
    let mut verifications = Vec::new();
    for name in &names {
        if control.cancel.load(Ordering::Relaxed) {
            stopped = Some(Error::new(ErrorCode::Cancelled, "the backup was cancelled"));
            break;
        }
        let part_id = store
            .start_part(run_id, schedule, name, trigger.as_str(), now, lock_path)
            .await?;
        let part_started = Instant::now();
        let result = attempts(
            store,
            secrets,
            schedule,
            part_id,
            Some(name),
            now,
            options,
            &control,
            part_started,
        )
        .await?;
        let duration = part_started.elapsed().as_secs_f64();
        let finished_at = now
            .checked_add(SignedDuration::from_secs_f64(
                started.elapsed().as_secs_f64(),
            ))
            .unwrap_or(now);
        match result {
            Ok(made) => {
                let (copies, verification) = keep_file(
                    store,
                    secrets,
                    schedule,
                    part_id,
                    &made,
                    (duration, finished_at),
                    (lock_path, &control.cancel),
                    now,
                )
                .await?;
                outcome.copies.extend(copies);
                verifications.extend(verification.map(|status| (name.clone(), status)));
                outcome.parts.push(PartOutcome {
                    run_id: part_id,
                    database: name.clone(),
                    status: "success".into(),
                    file: Some(made.0),
                    error: None,
                });
            }
            Err(err) => {
                let status =
                    record_failure(store, schedule, part_id, &err, (duration, finished_at), now)
                        .await?;
                outcome.parts.push(PartOutcome {
                    run_id: part_id,
                    database: name.clone(),
                    status: status.into(),
                    file: None,
                    error: Some(err.clone()),
                });
                if stops_the_run(&err) {
                    stopped = Some(err);
                    break;
                }
            }
        }
    }
    if !verifications.is_empty() {
        let status = match verifications.iter().find(|(_, s)| s != "verified") {
            None => "verified".to_owned(),
            Some((name, failed)) => match failed.strip_prefix("verify_failed: ") {
                Some(why) => format!("verify_failed: {name}: {why}"),
                None => format!("verify_failed: {name}: {failed}"),
            },
        };
        store.set_verification(run_id, &status, now).await?;
        outcome.verification = Some(status);
    }
    let untried: Vec<String> = names
        .iter()
        .filter(|n| !outcome.parts.iter().any(|p| &p.database == *n))
        .cloned()
        .collect();
    finish(
        store,
        secrets,
        schedule,
        outcome,
        started,
        now,
        (stopped, &untried),
    )
    .await
}

/// Records the entry: a success when every database succeeded (then the size check and
/// retention), else failed (or cancelled) naming each database that was not backed up.
async fn finish(
    store: &Store,
    secrets: &dyn SecretStore,
    schedule: &Schedule,
    mut outcome: RunOutcome,
    started: Instant,
    now: Timestamp,
    (stopped, untried): (Option<Error>, &[String]),
) -> Result<RunOutcome> {
    let duration = started.elapsed().as_secs_f64();
    outcome.duration_seconds = duration;
    let finished_at = now
        .checked_add(SignedDuration::from_secs_f64(duration))
        .unwrap_or(now);
    let failed: Vec<&PartOutcome> = outcome
        .parts
        .iter()
        .filter(|p| p.status != "success")
        .collect();
    let error = match (&stopped, failed.first()) {
        (Some(err), _) if err.code == ErrorCode::Cancelled => Some(err.clone()),
        (None, None) => None,
        (_, first) => {
            let mut lines: Vec<String> = failed
                .iter()
                .filter_map(|p| {
                    p.error
                        .as_ref()
                        .map(|e| format!("{}: {}", p.database, e.message))
                })
                .collect();
            if !untried.is_empty() {
                lines.push(format!("not tried: {}", untried.join(", ")));
            }
            let cause = stopped
                .clone()
                .or_else(|| first.and_then(|p| p.error.clone()))
                .unwrap_or_else(|| Error::new(ErrorCode::Io, "the backup stopped"));
            let message = if outcome.parts.is_empty() {
                cause.message.clone()
            } else {
                format!(
                    "{} of {} databases were not backed up ({})",
                    failed.len() + untried.len(),
                    outcome.parts.len() + untried.len(),
                    lines.join("; ")
                )
            };
            let mut err = Error::new(cause.code, message);
            if let Some(hint) = cause.hint {
                err = err.with_hint(hint);
            }
            if let Some(field) = cause.field {
                err = err.with_field(&field);
            }
            Some(err)
        }
    };
    match error {
        None => {
            let total: u64 = outcome
                .parts
                .iter()
                .filter_map(|p| p.file.as_ref().map(|f| f.size))
                .sum();
            store
                .finish_group_success(
                    outcome.run_id,
                    schedule.id,
                    total,
                    (duration, finished_at),
                    now,
                )
                .await?;
            outcome.warning = size_check(store, schedule, outcome.run_id, total).await?;
            outcome.retention = apply_retention(store, secrets, schedule, now).await;
        }
        Some(err) => {
            let status = record_failure(
                store,
                schedule,
                outcome.run_id,
                &err,
                (duration, finished_at),
                now,
            )
            .await?;
            outcome.status = status.into();
            outcome.error = Some(err);
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::stem_with_database;

    #[test]
    fn a_database_name_cannot_make_the_file_name_a_path_or_hide_anything() {
        let stem = "backup_full_2026-02-03T02-00-00";
        for (name, expected) in [
            ("shop", "backup_full_shop_2026-02-03T02-00-00"),
            ("shop-2_old", "backup_full_shop-2_old_2026-02-03T02-00-00"),
            ("../../etc", "backup_full_______etc_2026-02-03T02-00-00"),
            ("a/b\\c", "backup_full_a_b_c_2026-02-03T02-00-00"),
            (".hidden", "backup_full__hidden_2026-02-03T02-00-00"),
            (
                "x`; rm -rf ~",
                "backup_full_x___rm_-rf___2026-02-03T02-00-00",
            ),
            ("ร้าน", "backup_full_ร้าน_2026-02-03T02-00-00"),
            (
                "ab\u{202E}cd\u{200B}\n",
                "backup_full_abcd_2026-02-03T02-00-00",
            ),
        ] {
            assert_eq!(
                stem_with_database(stem, name),
                expected,
                "{name:?} becomes a plain part of the file name"
            );
        }
        let long = "d".repeat(200);
        assert_eq!(
            stem_with_database(stem, &long),
            format!("backup_full_{}_2026-02-03T02-00-00", "d".repeat(64)),
            "a long name is cut at 64 characters"
        );
    }
}
