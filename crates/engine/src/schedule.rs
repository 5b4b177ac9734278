//! Schedules: what to back up, when, how long to keep it and whom to tell.
//!
//! The request shapes are exactly the original spec's (`name`, `cron_expression`, `backup_type`,
//! `retention_days`, …), with unknown fields refused. Every rule is checked here, in the engine,
//! before anything is written, so a rejected request changes nothing whichever front end sent it.

use jiff::{Timestamp, ZonedDateTime};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::cron::CronExpr;
use crate::error::{Error, ErrorCode, Result};
pub use crate::retention::Gfs;
use crate::time;

/// What a schedule backs up.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupType {
    /// The whole database.
    Full,
    /// Every row of one `tenant_id`.
    Tenant,
}

impl BackupType {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupType::Full => "full",
            BackupType::Tenant => "tenant",
        }
    }

    pub(crate) fn from_stored(text: &str) -> Result<Self> {
        match text {
            "full" => Ok(BackupType::Full),
            "tenant" => Ok(BackupType::Tenant),
            other => Err(Error::new(
                ErrorCode::Store,
                format!("unknown backup type `{other}` in the store"),
            )),
        }
    }
}

/// How backup files are compressed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Zstd,
    Gzip,
    None,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Gzip => "gzip",
            Compression::None => "none",
        }
    }

    pub(crate) fn from_stored(text: &str) -> Result<Self> {
        match text {
            "zstd" => Ok(Compression::Zstd),
            "gzip" => Ok(Compression::Gzip),
            "none" => Ok(Compression::None),
            other => Err(Error::new(
                ErrorCode::Store,
                format!("unknown compression `{other}` in the store"),
            )),
        }
    }
}

/// The editable fields of a schedule, after defaults are applied. What validation checks and
/// what the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleFields {
    pub name: String,
    pub description: String,
    pub cron_expression: String,
    pub timezone: String,
    pub backup_type: BackupType,
    pub tenant_id: Option<i64>,
    pub connection: Option<String>,
    pub destination: Option<String>,
    pub compression: Compression,
    pub retention_days: Option<i64>,
    pub max_backups: Option<i64>,
    pub notify_on_success: bool,
    pub notify_on_failure: bool,
    pub notification_email: Option<String>,
    pub catch_up: bool,
    pub is_active: bool,
    pub encrypt_to: Option<String>,
    pub verify_after_backup: bool,
    pub copy_to: Vec<String>,
    pub gfs: Gfs,
    pub databases: Vec<String>,
}

/// A create request: the original spec's POST body, plus optional extras with defaults.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub cron_expression: String,
    /// IANA zone; the machine's zone when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    pub backup_type: BackupType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<i64>,
    /// A connection profile name; absent means the only (or default) profile at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// A folder; absent means `backups/` in the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backups: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_success: Option<bool>,
    /// Notify when a run fails (default true: a failure is always news unless turned off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_failure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_email: Option<String>,
    /// Run a missed slot once on start-up or wake (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// age public keys (`age1…`, comma-separated) to encrypt each backup to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypt_to: Option<String>,
    /// Test-restore each backup right after it is made (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_after_backup: Option<bool>,
    /// Destinations (by name) that get a copy of each backup besides the local folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_to: Option<Vec<String>>,
    /// Keep the newest backup of each of the last N days (GFS; beside the limits above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_daily: Option<i64>,
    /// Keep the newest backup of each of the last N weeks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_weekly: Option<i64>,
    /// Keep the newest backup of each of the last N months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_monthly: Option<i64>,
    /// Keep the newest backup of each of the last N years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_yearly: Option<i64>,
    /// The databases to back up, each to its own file within one run (full backups only):
    /// absent or empty, the connection's database; `["*"]`, every database of the server but
    /// its system ones, found at each run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<Vec<String>>,
}

/// A partial update: absent fields stay as they are; `null` clears a nullable field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_expression: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub timezone: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_type: Option<BackupType>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub tenant_id: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub connection: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub retention_days: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_backups: Option<Option<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_success: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_on_failure: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub notification_email: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub encrypt_to: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_after_backup: Option<bool>,
    /// Destinations (by name) that get a copy of each backup besides the local folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_to: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub keep_daily: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub keep_weekly: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub keep_monthly: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub keep_yearly: Option<Option<i64>>,
    /// The databases to back up (empty: the connection's; `["*"]`: all but the system ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<Vec<String>>,
}

/// Trims destination names and drops blanks and repeats (kept in the order given).
fn clean_names(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let name = name.trim().to_owned();
        if !name.is_empty() && !out.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            out.push(name);
        }
    }
    out
}

/// Marks a field that was present in the JSON (even as `null`) as `Some(..)`.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A stored schedule as the UI and the CLI show it. Times are RFC 3339 in the schedule's zone.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub cron_expression: String,
    pub timezone: String,
    pub backup_type: BackupType,
    pub tenant_id: Option<i64>,
    pub connection: Option<String>,
    pub destination: Option<String>,
    pub compression: Compression,
    pub retention_days: Option<i64>,
    pub max_backups: Option<i64>,
    pub notify_on_success: bool,
    pub notify_on_failure: bool,
    pub notification_email: Option<String>,
    pub catch_up: bool,
    pub is_active: bool,
    /// age public keys the backups are encrypted to (None: not encrypted).
    pub encrypt_to: Option<String>,
    /// Each backup is test-restored right after it is made.
    pub verify_after_backup: bool,
    /// Destinations (by name) that get a copy of each backup besides the local folder.
    pub copy_to: Vec<String>,
    /// The databases each run backs up, each to its own file: empty, the connection's
    /// database; `["*"]`, all of the server's but its system databases.
    #[serde(default)]
    pub databases: Vec<String>,
    /// Grandfather-father-son retention: `keep_daily`, `keep_weekly`, `keep_monthly`,
    /// `keep_yearly`.
    #[serde(flatten)]
    pub gfs: Gfs,
    #[serde(
        serialize_with = "time::serialize_opt",
        deserialize_with = "time::deserialize_opt"
    )]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub last_run_at: Option<ZonedDateTime>,
    #[serde(
        serialize_with = "time::serialize_opt",
        deserialize_with = "time::deserialize_opt"
    )]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub next_run_at: Option<ZonedDateTime>,
    pub success_count: i64,
    pub failed_count: i64,
    #[serde(
        serialize_with = "time::serialize",
        deserialize_with = "time::deserialize"
    )]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub created_at: ZonedDateTime,
    #[serde(
        serialize_with = "time::serialize",
        deserialize_with = "time::deserialize"
    )]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub updated_at: ZonedDateTime,
}

impl Schedule {
    /// The editable part, e.g. to apply a patch to.
    pub fn fields(&self) -> ScheduleFields {
        ScheduleFields {
            name: self.name.clone(),
            description: self.description.clone(),
            cron_expression: self.cron_expression.clone(),
            timezone: self.timezone.clone(),
            backup_type: self.backup_type,
            tenant_id: self.tenant_id,
            connection: self.connection.clone(),
            destination: self.destination.clone(),
            compression: self.compression,
            retention_days: self.retention_days,
            max_backups: self.max_backups,
            notify_on_success: self.notify_on_success,
            notify_on_failure: self.notify_on_failure,
            notification_email: self.notification_email.clone(),
            catch_up: self.catch_up,
            is_active: self.is_active,
            encrypt_to: self.encrypt_to.clone(),
            verify_after_backup: self.verify_after_backup,
            copy_to: self.copy_to.clone(),
            gfs: self.gfs,
            databases: self.databases.clone(),
        }
    }
}

/// Parses a JSON request body into `T`, naming the offending field on error.
pub fn parse_request<T: DeserializeOwned>(json: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        // A missing or unknown field is reported at the parent; take its name from the message.
        let named = message.split('`').nth(1).filter(|_| {
            message.starts_with("missing field") || message.starts_with("unknown field")
        });
        let field = match named {
            Some(name) => name.to_owned(),
            None if path != "." => path,
            None => String::new(),
        };
        let message = match message.find(" at line ") {
            Some(pos) => message[..pos].to_owned(),
            None => message,
        };
        let err = Error::new(ErrorCode::InvalidInput, message);
        if field.is_empty() {
            err
        } else {
            err.with_field(&field)
        }
    })
}

impl NewSchedule {
    /// Applies defaults: the machine's zone, zstd, notifications off, catch-up on, active.
    pub fn into_fields(self) -> ScheduleFields {
        ScheduleFields {
            name: self.name.trim().to_owned(),
            description: self.description.unwrap_or_default().trim().to_owned(),
            cron_expression: self.cron_expression.trim().to_owned(),
            timezone: self.timezone.unwrap_or_else(time::system_zone_name),
            backup_type: self.backup_type,
            tenant_id: self.tenant_id,
            connection: blank_to_none(self.connection),
            destination: blank_to_none(self.destination),
            compression: self.compression.unwrap_or_default(),
            retention_days: self.retention_days,
            max_backups: self.max_backups,
            notify_on_success: self.notify_on_success.unwrap_or(false),
            notify_on_failure: self.notify_on_failure.unwrap_or(true),
            notification_email: blank_to_none(self.notification_email),
            catch_up: self.catch_up.unwrap_or(true),
            is_active: self.is_active.unwrap_or(true),
            encrypt_to: blank_to_none(self.encrypt_to),
            verify_after_backup: self.verify_after_backup.unwrap_or(false),
            copy_to: clean_names(self.copy_to.unwrap_or_default()),
            gfs: Gfs {
                keep_daily: self.keep_daily,
                keep_weekly: self.keep_weekly,
                keep_monthly: self.keep_monthly,
                keep_yearly: self.keep_yearly,
            },
            databases: crate::databases::clean(self.databases.unwrap_or_default()),
        }
    }
}

impl SchedulePatch {
    /// The fields after this patch is applied to `current`.
    pub fn apply(self, mut f: ScheduleFields) -> ScheduleFields {
        if let Some(v) = self.name {
            f.name = v.trim().to_owned();
        }
        if let Some(v) = self.description {
            f.description = v.unwrap_or_default().trim().to_owned();
        }
        if let Some(v) = self.cron_expression {
            f.cron_expression = v.trim().to_owned();
        }
        if let Some(v) = self.timezone {
            f.timezone = v.unwrap_or_else(time::system_zone_name);
        }
        if let Some(v) = self.backup_type {
            f.backup_type = v;
            // Switching to a full backup drops the tenant unless the patch sets one (and fails).
            if v == BackupType::Full && self.tenant_id.is_none() {
                f.tenant_id = None;
            }
        }
        if let Some(v) = self.tenant_id {
            f.tenant_id = v;
        }
        if let Some(v) = self.connection {
            f.connection = blank_to_none(v);
        }
        if let Some(v) = self.destination {
            f.destination = blank_to_none(v);
        }
        if let Some(v) = self.compression {
            f.compression = v;
        }
        if let Some(v) = self.retention_days {
            f.retention_days = v;
        }
        if let Some(v) = self.max_backups {
            f.max_backups = v;
        }
        if let Some(v) = self.notify_on_success {
            f.notify_on_success = v;
        }
        if let Some(v) = self.notify_on_failure {
            f.notify_on_failure = v;
        }
        if let Some(v) = self.notification_email {
            f.notification_email = blank_to_none(v);
        }
        if let Some(v) = self.catch_up {
            f.catch_up = v;
        }
        if let Some(v) = self.is_active {
            f.is_active = v;
        }
        if let Some(v) = self.encrypt_to {
            f.encrypt_to = blank_to_none(v);
        }
        if let Some(v) = self.copy_to {
            f.copy_to = clean_names(v);
        }
        if let Some(v) = self.verify_after_backup {
            f.verify_after_backup = v;
        }
        if let Some(v) = self.keep_daily {
            f.gfs.keep_daily = v;
        }
        if let Some(v) = self.keep_weekly {
            f.gfs.keep_weekly = v;
        }
        if let Some(v) = self.keep_monthly {
            f.gfs.keep_monthly = v;
        }
        if let Some(v) = self.keep_yearly {
            f.gfs.keep_yearly = v;
        }
        if let Some(v) = self.databases {
            f.databases = crate::databases::clean(v);
        }
        f
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Limits that keep a typo from deleting everything (a `0` that means "keep none").
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
pub const RETENTION_DAYS_RANGE: (i64, i64) = (1, 3650);
pub const MAX_BACKUPS_RANGE: (i64, i64) = (1, 10000);

impl ScheduleFields {
    /// Checks every rule that needs no database; returns the parsed cron expression.
    pub fn validate(&self) -> Result<CronExpr> {
        if self.name.is_empty() {
            return Err(Error::invalid("name", "the name is empty")
                .with_hint("give the schedule a name, e.g. Daily Full Backup"));
        }
        if self.name.chars().count() > MAX_NAME_CHARS {
            return Err(Error::invalid(
                "name",
                format!("the name is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        if self.name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "the name contains a control character (such as a line break)",
            ));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(Error::invalid(
                "description",
                format!("the description is longer than {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        let cron =
            CronExpr::parse(&self.cron_expression).map_err(|e| e.with_field("cron_expression"))?;
        time::zone(&self.timezone)?;
        match (self.backup_type, self.tenant_id) {
            (BackupType::Tenant, None) => {
                return Err(
                    Error::invalid("tenant_id", "a tenant backup needs a tenant_id")
                        .with_hint("set tenant_id to the tenant's number, or use backup_type full"),
                )
            }
            (BackupType::Tenant, Some(id)) if id <= 0 => {
                return Err(Error::invalid(
                    "tenant_id",
                    format!("tenant_id must be a positive whole number, not {id}"),
                ))
            }
            (BackupType::Full, Some(_)) => {
                return Err(Error::invalid(
                    "tenant_id",
                    "a full backup covers every tenant and takes no tenant_id",
                )
                .with_hint("remove tenant_id, or use backup_type tenant"))
            }
            _ => {}
        }
        crate::databases::check(self.backup_type == BackupType::Tenant, &self.databases)?;
        check_retention(self.retention_days, self.max_backups)?;
        check_gfs(&self.gfs)?;
        if let Some(keys) = self
            .encrypt_to
            .as_deref()
            .filter(|k| *k != crate::crypt::PASSPHRASE)
        {
            crate::crypt::parse_recipients("encrypt_to", keys)?;
        }
        if let Some(dest) = &self.destination {
            check_destination("destination", std::path::Path::new(dest))?;
        }
        if let Some(conn) = &self.connection {
            if conn.chars().count() > MAX_NAME_CHARS || conn.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "connection",
                    "not a valid connection profile name",
                ));
            }
        }
        // Without an address, notifications are desktop popups only (the app shows them).
        if let Some(list) = &self.notification_email {
            check_email_list(list)?;
        }
        Ok(cron)
    }
}

fn check_range(field: &str, value: Option<i64>, (lo, hi): (i64, i64), unit: &str) -> Result<()> {
    match value {
        Some(0) => Err(Error::invalid(
            field,
            format!("{field} cannot be 0: that would keep no backups"),
        )
        .with_hint(format!(
            "use {lo}-{hi} {unit}, or leave it empty for no limit"
        ))),
        Some(v) if v < lo || v > hi => Err(Error::invalid(
            field,
            format!("{field} must be between {lo} and {hi} {unit}, not {v}"),
        )
        .with_hint("leave it empty for no limit")),
        _ => Ok(()),
    }
}

/// The ranges of the two retention settings (either may be absent: keep forever).
pub fn check_retention(retention_days: Option<i64>, max_backups: Option<i64>) -> Result<()> {
    check_range(
        "retention_days",
        retention_days,
        RETENTION_DAYS_RANGE,
        "days",
    )?;
    check_range("max_backups", max_backups, MAX_BACKUPS_RANGE, "backups")
}

/// Each GFS count, when set, is 1-1000 (0 would read as "keep none").
pub const GFS_RANGE: (i64, i64) = (1, 1000);

pub fn check_gfs(gfs: &Gfs) -> Result<()> {
    check_range("keep_daily", gfs.keep_daily, GFS_RANGE, "days")?;
    check_range("keep_weekly", gfs.keep_weekly, GFS_RANGE, "weeks")?;
    check_range("keep_monthly", gfs.keep_monthly, GFS_RANGE, "months")?;
    check_range("keep_yearly", gfs.keep_yearly, GFS_RANGE, "years")
}

/// A backup folder must be an absolute path (a relative one would depend on where the app
/// was started).
pub fn check_destination(field: &str, dest: &std::path::Path) -> Result<()> {
    let text = dest.to_string_lossy();
    if !dest.is_absolute() || text.contains('\0') {
        return Err(
            Error::invalid(field, format!("`{text}` is not an absolute folder path")).with_hint(
                "give a full path such as /srv/backups, or leave it empty for the default folder",
            ),
        );
    }
    Ok(())
}

pub fn check_email_list(list: &str) -> Result<()> {
    let addresses: Vec<&str> = list.split(',').map(str::trim).collect();
    if addresses.iter().all(|a| a.is_empty()) {
        return Err(Error::invalid(
            "notification_email",
            "no email address given",
        ));
    }
    for address in addresses {
        if !is_email(address) {
            return Err(Error::invalid(
                "notification_email",
                format!("`{address}` is not a valid email address"),
            )
            .with_hint("write addresses like admin@example.com, separated by commas"));
        }
    }
    Ok(())
}

/// A pragmatic address check: `local@domain`, RFC 5322 atext in the local part, DNS-like labels
/// (any non-ASCII letter or mark allowed, for Thai domains) in the domain. Whether it is deliverable only the mail server knows.
pub fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let domain_ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || c == '-'
                        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
                })
        });
    local_ok && domain_ok
}

/// The next run strictly after `now`, or none while the schedule is disabled.
pub fn next_run(
    fields: &ScheduleFields,
    cron: &CronExpr,
    now: Timestamp,
) -> Result<Option<Timestamp>> {
    if !fields.is_active {
        return Ok(None);
    }
    let tz = time::zone(&fields.timezone)?;
    Ok(cron.next_after(now, &tz))
}
