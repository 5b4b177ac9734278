//! The history: one entry per run of a schedule (or a manual backup), with its file, size,
//! status, duration and, on failure, the error code, message and hint.
//!
//! The backup engine writes entries; this module reads them the way the original spec's
//! `GET /backup/history` shows them.

use jiff::ZonedDateTime;
use serde::{Deserialize, Serialize};

use crate::time;

/// One history entry. Times are RFC 3339 in the machine's zone.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: i64,
    pub schedule_id: Option<i64>,
    pub schedule_name: String,
    pub backup_type: String,
    pub tenant_id: Option<i64>,
    /// `manual`, `scheduled` or `catch-up`.
    pub trigger: String,
    /// `running`, `success`, `failed`, `interrupted`, `cancelled` or `skipped`.
    pub status: String,
    pub filename: Option<String>,
    pub file_size: Option<i64>,
    pub checksum_sha256: Option<String>,
    pub duration_seconds: Option<f64>,
    pub error: Option<crate::run::RunError>,
    #[serde(
        serialize_with = "time::serialize",
        deserialize_with = "time::deserialize"
    )]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub created_at: ZonedDateTime,
    #[serde(
        serialize_with = "time::serialize_opt",
        deserialize_with = "time::deserialize_opt",
        default
    )]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub finished_at: Option<ZonedDateTime>,
    #[serde(
        serialize_with = "time::serialize_opt",
        deserialize_with = "time::deserialize_opt",
        default
    )]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub deleted_at: Option<ZonedDateTime>,
    pub deletion_reason: Option<String>,
    /// Kept for ever: retention never deletes it.
    pub pinned: bool,
    /// "catch-up of the 02:00 … slot", why a slot was skipped, retries.
    pub note: Option<String>,
    /// The note in Thai, for the app's Thai screens (`hints::note_in_thai`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub note_th: Option<String>,
    /// What happened to the notification: `sent` or `failed: …`.
    pub notification: Option<String>,
    /// Restore verification: `verified` or `verify_failed: …` (None: not verified).
    pub verification: Option<String>,
    /// Its copies on the schedule's destinations, each with its own status.
    pub copies: Vec<CopyRecord>,
    /// The database its file holds (None: an entry of several databases, or older entries).
    #[serde(default)]
    pub database: Option<String>,
    /// An entry of several databases: one part per database, each with its own file, copies
    /// and verification (restore and verify take a part's id). Empty otherwise.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub parts: Vec<Run>,
}

/// One copy of a run's backup on a destination, as the history shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyRecord {
    pub id: i64,
    pub run_id: i64,
    pub destination: String,
    /// The object's name on the destination (under its folder or prefix).
    pub object_path: String,
    /// `uploading`, `uploaded`, `failed`, `interrupted` or `cancelled`.
    pub status: String,
    pub size: Option<i64>,
    pub duration_seconds: Option<f64>,
    pub error: Option<crate::run::RunError>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub deleted_at: Option<String>,
    pub deletion_reason: Option<String>,
}

/// Which history entries to read, newest first (the store's side of the history screen's
/// filters and paging).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    pub schedule_id: Option<i64>,
    pub status: Option<String>,
    /// Made at or after this instant.
    pub from: Option<jiff::Timestamp>,
    /// Made before this instant.
    pub until: Option<jiff::Timestamp>,
    /// A part of the file name (any case).
    pub search: Option<String>,
    /// The entries after this one in history order (the next page).
    pub before_id: Option<i64>,
    /// At most this many (all when None).
    pub limit: Option<u32>,
}

/// The history as CSV (RFC 4180), one row per entry, for a spreadsheet. Every value is
/// database data and may be hostile: a cell a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@`, tab, carriage return first) is prefixed with `'`.
pub fn to_csv(runs: &[Run]) -> String {
    const HEADER: [&str; 15] = [
        "id",
        "schedule_id",
        "schedule_name",
        "created_at",
        "status",
        "trigger",
        "filename",
        "file_size",
        "duration_seconds",
        "checksum_sha256",
        "error_code",
        "error_message",
        "deleted_at",
        "pinned",
        "verification",
    ];
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    // Each database's backup of an entry of several follows it on its own row.
    for r in runs.iter().flat_map(|r| std::iter::once(r).chain(&r.parts)) {
        let cells = [
            r.id.to_string(),
            r.schedule_id.map(|i| i.to_string()).unwrap_or_default(),
            r.schedule_name.clone(),
            time::rfc3339(&r.created_at),
            r.status.clone(),
            r.trigger.clone(),
            r.filename.clone().unwrap_or_default(),
            r.file_size.map(|s| s.to_string()).unwrap_or_default(),
            r.duration_seconds
                .map(|d| format!("{d:.1}"))
                .unwrap_or_default(),
            r.checksum_sha256.clone().unwrap_or_default(),
            r.error.as_ref().map(|e| e.code.clone()).unwrap_or_default(),
            r.error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
            r.deleted_at.as_ref().map(time::rfc3339).unwrap_or_default(),
            r.pinned.to_string(),
            r.verification.clone().unwrap_or_default(),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(value: &str) -> String {
    let guarded =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err() {
            format!("'{value}")
        } else {
            value.to_owned()
        };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}
