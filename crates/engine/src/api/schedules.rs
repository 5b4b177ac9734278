//! The original spec's schedule operations (list, create, update, delete, toggle, run now),
//! pausing, the editor's previews, and a schedule's passphrase.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Api;
use crate::cron::{CronExpr, Lang};
use crate::error::{Error, Result};
use crate::retention::RetentionDecision;
use crate::schedule::{NewSchedule, Schedule, SchedulePatch};
use crate::scheduler::Event;
use crate::time;

/// The schedule editor's live preview of a cron expression.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct CronPreviewRequest {
    pub cron_expression: String,
    /// IANA zone; the machine's zone when absent.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub timezone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub count: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CronPreview {
    pub description: String,
    /// RFC 3339 in the zone asked for.
    pub next_runs: Vec<String>,
    pub timezone: String,
}

/// What retention would delete with the given policy (the editor's preview).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct RetentionPreviewRequest {
    pub schedule_id: i64,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub retention_days: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_backups: Option<i64>,
    /// The editor's GFS values.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub gfs: Option<crate::retention::Gfs>,
}

impl Api {
    pub async fn list_schedules(&self) -> Result<Vec<Schedule>> {
        self.store.list_schedules().await
    }

    pub async fn create_schedule(&self, request: NewSchedule) -> Result<Schedule> {
        let created = self.store.create_schedule(request, self.now()).await?;
        self.changed();
        Ok(created)
    }

    pub async fn update_schedule(&self, id: i64, patch: SchedulePatch) -> Result<Schedule> {
        let updated = self.store.update_schedule(id, patch, self.now()).await?;
        self.changed();
        Ok(updated)
    }

    /// Deletes a schedule (a running backup of it is cancelled first). Its history and files
    /// stay.
    pub async fn delete_schedule(&self, id: i64) -> Result<Schedule> {
        let deleted = self.store.delete_schedule(id).await?;
        if let Some(s) = &self.scheduler {
            s.send(Event::Cancel(id));
        }
        self.changed();
        Ok(deleted)
    }

    pub async fn toggle_schedule(&self, id: i64) -> Result<Schedule> {
        let toggled = self.store.toggle_schedule(id, self.now()).await?;
        self.changed();
        Ok(toggled)
    }

    /// Starts a backup now, in the background; progress comes through the watcher.
    pub async fn run_schedule_now(&self, id: i64) -> Result<()> {
        self.store.get_schedule(id).await?;
        self.scheduler()?.run_now(id).await
    }

    pub async fn cancel_run(&self, id: i64) -> Result<()> {
        self.scheduler()?.send(Event::Cancel(id));
        Ok(())
    }

    /// Pauses or resumes every schedule.
    pub async fn set_paused(&self, paused: bool) -> Result<()> {
        self.store.set_paused(paused).await?;
        self.changed();
        Ok(())
    }

    pub async fn cron_preview(
        &self,
        request: CronPreviewRequest,
        lang: Lang,
    ) -> Result<CronPreview> {
        let count = request.count.unwrap_or(5);
        if !(1..=50).contains(&count) {
            return Err(Error::invalid("count", "ask for 1 to 50 next runs"));
        }
        let expr = CronExpr::parse(&request.cron_expression).map_err(|e| {
            let e = if lang == Lang::Th {
                crate::cron::in_thai(e)
            } else {
                e
            };
            e.with_field("cron_expression")
        })?;
        let zone_name = request
            .timezone
            .filter(|z| !z.trim().is_empty())
            .unwrap_or_else(time::system_zone_name);
        let zone = time::zone(&zone_name).map_err(|e| e.with_field("timezone"))?;
        let next_runs = expr
            .iter_after(self.now(), &zone)
            .take(count)
            .map(|t| time::rfc3339(&t.to_zoned_datetime(zone.clone())))
            .collect();
        Ok(CronPreview {
            description: expr.describe(lang),
            next_runs,
            timezone: zone_name,
        })
    }

    /// Which of the schedule's backups the editor's unsaved retention values keep or delete,
    /// and why (nothing is changed).
    pub async fn retention_preview(
        &self,
        request: RetentionPreviewRequest,
        lang: Lang,
    ) -> Result<Vec<RetentionDecision>> {
        let verified_only = self
            .store
            .get_schedule(request.schedule_id)
            .await?
            .verify_after_backup;
        let policy = crate::retention::RetentionPolicy {
            retention_days: request.retention_days,
            max_backups: request.max_backups,
            verified_only,
            gfs: request.gfs.unwrap_or_default(),
        };
        crate::schedule::check_retention(policy.retention_days, policy.max_backups)?;
        crate::schedule::check_gfs(&policy.gfs)?;
        self.store
            .retention_decisions(
                request.schedule_id,
                Some(policy),
                self.now(),
                lang == Lang::Th,
            )
            .await
    }

    /// Checks a passphrase before a schedule is saved with it (nothing is stored).
    pub fn check_passphrase(&self, passphrase: &str) -> Result<()> {
        crate::crypt::check_passphrase(passphrase)
    }

    /// Saves the passphrase of a schedule that encrypts with one (in the keyring only).
    pub async fn set_schedule_passphrase(&self, id: i64, passphrase: String) -> Result<()> {
        self.store.get_schedule(id).await?;
        crate::crypt::set_passphrase(id, &passphrase, &*self.secrets)
    }

    pub async fn get_schedule(&self, id: i64) -> Result<Schedule> {
        self.store.get_schedule(id).await
    }

    /// Runs a backup of the schedule in this process and waits for it (the CLI's `schedule
    /// run`), with the schedule's notification as the scheduler would send it.
    pub async fn run_here(
        &self,
        id: i64,
        tuning: RunHere,
        progress: Arc<dyn Fn(&crate::dump::DumpProgress) + Send + Sync>,
        cancel: Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<crate::run::RunOutcome> {
        let defaults = crate::backup::RunOptions::default();
        let options = crate::backup::RunOptions {
            readers: tuning.readers,
            compression_threads: tuning
                .compression_threads
                .unwrap_or(defaults.compression_threads),
            zstd_level: tuning.zstd_level.unwrap_or(defaults.zstd_level),
            ..defaults
        };
        let trigger = crate::run::Trigger::Manual;
        let outcome = crate::backup::run_schedule(
            &self.store,
            &*self.secrets,
            id,
            trigger.clone(),
            self.now(),
            &options,
            crate::backup::RunControl { progress, cancel },
        )
        .await?;
        if self.store.smtp_settings().await.ok().flatten().is_some() {
            let outbox = Arc::new(crate::outbox::Outbox::new(
                self.store.clone(),
                self.secrets.clone(),
                None,
            ));
            crate::scheduler::notify_outcome(&self.store, outbox, id, &trigger, &outcome).await;
        }
        Ok(outcome)
    }

    /// What retention would delete now with the schedule's own policy.
    /// Which of the schedule's backups its saved retention keeps or deletes, and why.
    pub async fn schedule_retention_preview(&self, id: i64) -> Result<Vec<RetentionDecision>> {
        self.store
            .retention_decisions(id, None, self.now(), false)
            .await
    }

    /// The next `count` (1-1000) runs of a cron expression after `after` (default: now), in
    /// `timezone` (default: the system's), as RFC 3339 times.
    pub fn cron_next(
        &self,
        expression: &str,
        after: Option<&str>,
        count: usize,
        timezone: Option<&str>,
    ) -> Result<Vec<String>> {
        if !(1..=1000).contains(&count) {
            return Err(Error::invalid(
                "count",
                format!("--count must be 1-1000, not {count}"),
            ));
        }
        let expr = CronExpr::parse(expression)?;
        let zone = time::zone(&timezone.map_or_else(time::system_zone_name, str::to_owned))?;
        let after = match after {
            Some(text) => time::parse_user_instant("after", text)?,
            None => self.now(),
        };
        Ok(expr
            .iter_after(after, &zone)
            .take(count)
            .map(|ts| time::rfc3339(&ts.to_zoned_datetime(zone.clone())))
            .collect())
    }
}

/// The tuning of a backup run here (None: the defaults).
#[derive(Debug, Clone, Default)]
pub struct RunHere {
    pub readers: Option<usize>,
    pub compression_threads: Option<u32>,
    pub zstd_level: Option<i32>,
}

/// A backup asked for now (`POST /backup/schedules/:id/run`): queued in the scheduler, with
/// the run's id once it has started.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RunStarted {
    pub schedule_id: i64,
    /// The history entry, when the run started within two seconds (else it waits its turn).
    pub run_id: Option<i64>,
    /// `running`, or `queued` while another backup takes the only slot.
    pub status: String,
}

/// What the schedule editor offers, from the machine the schedule runs on (this computer, or
/// the server the app is the console of: `GET /backup/choices`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ScheduleChoices {
    pub connections: Vec<ConnectionChoice>,
    /// Destinations (for `copy_to`).
    pub destinations: Vec<DestinationChoice>,
    /// Where a schedule without `destination` writes.
    pub default_folder: String,
    /// Public keys created there (`age1…`), for `encrypt_to`.
    pub encryption_keys: Vec<String>,
}

/// A connection as the editor names it (no secrets, no settings).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ConnectionChoice {
    pub name: String,
    pub database: String,
    pub host: String,
}

/// A destination as the editor names it: `s3://bucket/prefix`, `sftp://user@host/folder`, …
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct DestinationChoice {
    pub name: String,
    pub location: String,
}

impl Api {
    /// What the schedule editor offers on this machine.
    pub async fn schedule_choices(&self) -> Result<ScheduleChoices> {
        let settings = self.settings().await?;
        Ok(ScheduleChoices {
            connections: self
                .store
                .list_connections()
                .await?
                .into_iter()
                .map(|c| ConnectionChoice {
                    name: c.name,
                    database: c.database,
                    host: c.host,
                })
                .collect(),
            destinations: self
                .store
                .list_destinations()
                .await?
                .into_iter()
                .map(|d| DestinationChoice {
                    name: d.name,
                    location: d.location,
                })
                .collect(),
            default_folder: settings.default_folder,
            encryption_keys: settings.encryption_keys,
        })
    }

    /// Starts a backup in the background and says which history entry follows it.
    pub async fn start_run(&self, id: i64) -> Result<RunStarted> {
        let before = self
            .store
            .running_runs()
            .await?
            .into_iter()
            .map(|r| r.0)
            .max()
            .unwrap_or(0);
        self.run_schedule_now(id).await?;
        for _ in 0..40 {
            let started = self
                .store
                .running_runs()
                .await?
                .into_iter()
                .find(|r| r.1 == Some(id) && r.0 > before);
            if let Some((run_id, ..)) = started {
                return Ok(RunStarted {
                    schedule_id: id,
                    run_id: Some(run_id),
                    status: "running".into(),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(RunStarted {
            schedule_id: id,
            run_id: None,
            status: "queued".into(),
        })
    }
}
