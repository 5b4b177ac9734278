//! The history screen: runs filtered by schedule and status, and a run's backup file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Api;
use crate::error::{Error, Result};
use crate::history::{HistoryFilter, Run};

/// Filters of the history screen.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub schedule_id: Option<i64>,
    /// `success`, `failed`, `interrupted`, `cancelled`, `skipped` or `running`.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub status: Option<String>,
    /// At most this many entries (1-10000; all when absent).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub limit: Option<u32>,
    /// The entries after this one, newest first (the next page).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub before_id: Option<i64>,
    /// Made on or after this day (`YYYY-MM-DD`, this computer's time zone).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub from: Option<String>,
    /// Made on or before this day (`YYYY-MM-DD`, this computer's time zone).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub to: Option<String>,
    /// A part of the backup's file name (any case).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub search: Option<String>,
}

/// The start of a local day given as `YYYY-MM-DD` (`field` names it in errors); `next` gives
/// the start of the day after (for an inclusive end date).
fn day_start(field: &str, text: &str, next: bool) -> Result<jiff::Timestamp> {
    let date: jiff::civil::Date = text.trim().parse().map_err(|_| {
        Error::invalid(
            field,
            format!("`{text}` is not a date: write it as YYYY-MM-DD"),
        )
    })?;
    let date = if next {
        date.tomorrow()
            .map_err(|_| Error::invalid(field, "the date is out of range"))?
    } else {
        date
    };
    let zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    date.to_zoned_datetime(zone)
        .map(|z| z.timestamp())
        .map_err(|_| Error::invalid(field, "the date is out of range"))
}

impl Api {
    pub async fn list_history(&self, query: HistoryQuery) -> Result<Vec<Run>> {
        // The statuses a run can have (a deleted backup keeps its `success`).
        const STATUSES: [&str; 6] = [
            "running",
            "success",
            "failed",
            "interrupted",
            "cancelled",
            "skipped",
        ];
        if let Some(status) = &query.status {
            if !STATUSES.contains(&status.as_str()) {
                return Err(Error::invalid(
                    "status",
                    format!(
                        "unknown status `{status}`; use one of {}",
                        STATUSES.join(", ")
                    ),
                ));
            }
        }
        if let Some(limit) = query.limit {
            if !(1..=10_000).contains(&limit) {
                return Err(Error::invalid(
                    "limit",
                    format!("limit must be 1-10000, not {limit}"),
                ));
            }
        }
        let from = query
            .from
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| day_start("from", t, false))
            .transpose()?;
        let until = query
            .to
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| day_start("to", t, true))
            .transpose()?;
        if let (Some(from), Some(until)) = (from, until) {
            if until <= from {
                return Err(Error::invalid(
                    "to",
                    "the end date is before the start date",
                ));
            }
        }
        if query
            .search
            .as_ref()
            .is_some_and(|s| s.chars().count() > 200)
        {
            return Err(Error::invalid(
                "search",
                "search for at most 200 characters",
            ));
        }
        self.store
            .history_page(&HistoryFilter {
                schedule_id: query.schedule_id,
                status: query.status,
                from,
                until,
                search: query.search.map(|s| s.trim().to_owned()),
                before_id: query.before_id,
                limit: query.limit,
            })
            .await
    }

    /// The history entries the query selects, as CSV for a spreadsheet (formula-looking
    /// cells defused).
    pub async fn history_csv(&self, query: HistoryQuery) -> Result<String> {
        Ok(crate::history::to_csv(&self.list_history(query).await?))
    }

    /// The backup file of a history entry, for "show in folder".
    pub async fn backup_file(&self, run_id: i64) -> Result<PathBuf> {
        self.store.one_file(run_id).await?;
        let (file, _) = self.store.run_file(run_id).await?;
        Ok(file)
    }
}

/// One run with its live progress while it runs (`GET /backup/runs/:id`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RunView {
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub run: Run,
    /// Rows, tables and bytes so far, while it runs in this process.
    pub progress: Option<super::LiveRun>,
}

impl Api {
    pub async fn get_run(&self, run_id: i64) -> Result<RunView> {
        let run = self.store.get_run(run_id).await?;
        let progress = match (run.status.as_str(), run.schedule_id) {
            ("running", Some(id)) => self.live.get(id),
            _ => None,
        };
        Ok(RunView { run, progress })
    }

    /// Keeps a backup for ever (`pinned`: retention never deletes it) or lets retention have
    /// it again.
    pub async fn pin_backup(&self, run_id: i64, pinned: bool) -> Result<()> {
        self.store.set_pinned(run_id, pinned).await
    }

    /// Deletes one backup's file by hand (not while a backup, verification or restore of its
    /// schedule runs); its copies on destinations stay.
    pub async fn delete_backup(&self, run_id: i64) -> Result<crate::retention::AppliedDeletion> {
        let _lock = self.lock_run_schedule(run_id, "a deletion").await?;
        self.store.delete_backup(run_id, self.now()).await
    }
}
