//! The schedules table: list, create, update, delete, toggle, and the derived next run.

use crate::error::{Error, ErrorCode, Result};
use crate::schedule::{
    next_run, BackupType, Compression, NewSchedule, Schedule, ScheduleFields, SchedulePatch,
};
use crate::store::Store;
use crate::time;
use jiff::{Timestamp, ZonedDateTime};
use sqlx::Row;

const SELECT: &str = "SELECT id, name, description, cron_expression, timezone, backup_type, tenant_id, connection, \
     destination, compression, retention_days, max_backups, notify_on_success, notify_on_failure, \
     notification_email, catch_up, is_active, last_run_at, next_run_at, success_count, failed_count, \
     created_at, updated_at, encrypt_to, verify_after_backup, copy_to, keep_daily, keep_weekly, \
     keep_monthly, keep_yearly, databases FROM schedules";

/// The columns a create or an update writes, in the order [`bind_fields`] binds them.
const FIELD_COLUMNS: [&str; 25] = [
    "name",
    "description",
    "cron_expression",
    "timezone",
    "backup_type",
    "tenant_id",
    "connection",
    "destination",
    "compression",
    "retention_days",
    "max_backups",
    "notify_on_success",
    "notify_on_failure",
    "notification_email",
    "catch_up",
    "is_active",
    "next_run_at",
    "encrypt_to",
    "verify_after_backup",
    "copy_to",
    "keep_daily",
    "keep_weekly",
    "keep_monthly",
    "keep_yearly",
    "databases",
];

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds a schedule's fields in the order of [`FIELD_COLUMNS`].
fn bind_fields<'q>(
    query: Query<'q>,
    fields: &ScheduleFields,
    cron: &str,
    next: Option<Timestamp>,
) -> Query<'q> {
    query
        .bind(fields.name.clone())
        .bind(fields.description.clone())
        .bind(cron.to_owned())
        .bind(fields.timezone.clone())
        .bind(fields.backup_type.as_str())
        .bind(fields.tenant_id)
        .bind(fields.connection.clone())
        .bind(fields.destination.clone())
        .bind(fields.compression.as_str())
        .bind(fields.retention_days)
        .bind(fields.max_backups)
        .bind(fields.notify_on_success)
        .bind(fields.notify_on_failure)
        .bind(fields.notification_email.clone())
        .bind(fields.catch_up)
        .bind(fields.is_active)
        .bind(next.map(time::to_stored))
        .bind(fields.encrypt_to.clone())
        .bind(fields.verify_after_backup)
        .bind(serde_json::to_string(&fields.copy_to).unwrap_or_else(|_| "[]".into()))
        .bind(fields.gfs.keep_daily)
        .bind(fields.gfs.keep_weekly)
        .bind(fields.gfs.keep_monthly)
        .bind(fields.gfs.keep_yearly)
        .bind(serde_json::to_string(&fields.databases).unwrap_or_else(|_| "[]".into()))
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Schedule> {
    let timezone: String = row.try_get("timezone")?;
    // A zone that vanished from the tz database must not hide the schedule; show it in UTC.
    let tz = time::zone(&timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let zoned = |col: &str| -> Result<Option<ZonedDateTime>> {
        let text: Option<String> = row.try_get(col)?;
        text.map(|t| time::from_stored(&t).map(|ts| ts.to_zoned_datetime(tz.clone())))
            .transpose()
    };
    let required = |col: &str| -> Result<ZonedDateTime> {
        zoned(col)?
            .ok_or_else(|| Error::new(ErrorCode::Store, format!("schedule {col} is missing")))
    };
    Ok(Schedule {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        cron_expression: row.try_get("cron_expression")?,
        backup_type: BackupType::from_stored(row.try_get("backup_type")?)?,
        tenant_id: row.try_get("tenant_id")?,
        connection: row.try_get("connection")?,
        destination: row.try_get("destination")?,
        compression: Compression::from_stored(row.try_get("compression")?)?,
        retention_days: row.try_get("retention_days")?,
        max_backups: row.try_get("max_backups")?,
        notify_on_success: row.try_get("notify_on_success")?,
        notify_on_failure: row.try_get("notify_on_failure")?,
        notification_email: row.try_get("notification_email")?,
        catch_up: row.try_get("catch_up")?,
        encrypt_to: row.try_get("encrypt_to")?,
        verify_after_backup: row.try_get("verify_after_backup")?,
        copy_to: serde_json::from_str(&row.try_get::<String, _>("copy_to")?).map_err(|e| {
            Error::new(
                ErrorCode::Store,
                format!("a schedule's copy_to is not a list: {e}"),
            )
        })?,
        databases: serde_json::from_str(&row.try_get::<String, _>("databases")?).map_err(|e| {
            Error::new(
                ErrorCode::Store,
                format!("a schedule's databases is not a list: {e}"),
            )
        })?,
        is_active: row.try_get("is_active")?,
        gfs: crate::retention::Gfs {
            keep_daily: row.try_get("keep_daily")?,
            keep_weekly: row.try_get("keep_weekly")?,
            keep_monthly: row.try_get("keep_monthly")?,
            keep_yearly: row.try_get("keep_yearly")?,
        },
        last_run_at: zoned("last_run_at")?,
        next_run_at: zoned("next_run_at")?,
        success_count: row.try_get("success_count")?,
        failed_count: row.try_get("failed_count")?,
        created_at: required("created_at")?,
        updated_at: required("updated_at")?,
        timezone,
    })
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn name_taken(name: &str) -> Error {
    Error::new(
        ErrorCode::Conflict,
        format!("a schedule named `{name}` already exists"),
    )
    .with_field("name")
    .with_hint("choose another name")
}

impl Store {
    /// Every schedule, oldest first.
    pub async fn list_schedules(&self) -> Result<Vec<Schedule>> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The active schedules whose next run is at or before `now`, in one query (the
    /// scheduler asks at every turn; `julianday` also reads times stored with an offset).
    pub async fn due_schedules(&self, now: Timestamp) -> Result<Vec<Schedule>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE is_active = 1 AND next_run_at IS NOT NULL \
             AND julianday(next_run_at) <= julianday(?) ORDER BY id"
        ))
        .bind(time::to_stored(now))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The earliest next run of any active schedule.
    pub async fn earliest_next_run(&self) -> Result<Option<Timestamp>> {
        let next: Option<String> = sqlx::query_scalar(
            "SELECT next_run_at FROM schedules WHERE is_active = 1 AND next_run_at IS NOT NULL \
             ORDER BY julianday(next_run_at) LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        next.as_deref().map(time::from_stored).transpose()
    }

    pub async fn get_schedule(&self, id: i64) -> Result<Schedule> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(row) => from_row(&row),
            None => Err(
                Error::not_found(format!("there is no schedule with id {id}"))
                    .with_hint("`billora-backup schedule list` shows the ids"),
            ),
        }
    }

    /// Checks the rules that need the store: a referenced connection profile must exist.
    async fn validate_references(&self, fields: &ScheduleFields) -> Result<()> {
        if let Some(name) = &fields.connection {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM connections WHERE name = ?")
                    .bind(name)
                    .fetch_optional(self.pool())
                    .await?;
            if found.is_none() {
                return Err(Error::invalid(
                    "connection",
                    format!("there is no connection profile named `{name}`"),
                )
                .with_hint(
                    "add it first with `billora-backup connection add`, or leave connection empty",
                ));
            }
        }
        for name in &fields.copy_to {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM destinations WHERE name = ?")
                    .bind(name)
                    .fetch_optional(self.pool())
                    .await?;
            if found.is_none() {
                return Err(Error::invalid(
                    "copy_to",
                    format!("there is no destination named `{name}`"),
                )
                .with_hint("add it first (Destinations, or `billora-backup destination add`)"));
            }
        }
        Ok(())
    }

    /// Creates a schedule after checking every rule; computes `next_run_at` from `now`.
    pub async fn create_schedule(&self, request: NewSchedule, now: Timestamp) -> Result<Schedule> {
        let fields = request.into_fields();
        let cron = fields.validate()?;
        self.validate_references(&fields).await?;
        let next = next_run(&fields, &cron, now)?;
        let sql = format!(
            "INSERT INTO schedules ({}, created_at, updated_at) VALUES ({}?, ?)",
            FIELD_COLUMNS.join(", "),
            "?, ".repeat(FIELD_COLUMNS.len())
        );
        let now_text = time::to_stored(now);
        let result = bind_fields(sqlx::query(&sql), &fields, cron.as_str(), next)
            .bind(now_text.clone())
            .bind(now_text)
            .execute(self.pool())
            .await;
        match result {
            Ok(done) => self.get_schedule(done.last_insert_rowid()).await,
            Err(err) if is_unique_violation(&err) => Err(name_taken(&fields.name)),
            Err(err) => Err(err.into()),
        }
    }

    /// Applies a partial update after checking the whole result; recomputes `next_run_at`.
    pub async fn update_schedule(
        &self,
        id: i64,
        patch: SchedulePatch,
        now: Timestamp,
    ) -> Result<Schedule> {
        let current = self.get_schedule(id).await?;
        let fields = patch.apply(current.fields());
        let cron = fields.validate()?;
        self.validate_references(&fields).await?;
        let next = next_run(&fields, &cron, now)?;
        let sql = format!(
            "UPDATE schedules SET {}, updated_at = ? WHERE id = ?",
            FIELD_COLUMNS.map(|c| format!("{c} = ?")).join(", ")
        );
        let result = bind_fields(sqlx::query(&sql), &fields, cron.as_str(), next)
            .bind(time::to_stored(now))
            .bind(id)
            .execute(self.pool())
            .await;
        match result {
            Ok(done) if done.rows_affected() == 1 => self.get_schedule(id).await,
            Ok(_) => Err(Error::not_found(format!(
                "there is no schedule with id {id}"
            ))),
            Err(err) if is_unique_violation(&err) => Err(name_taken(&fields.name)),
            Err(err) => Err(err.into()),
        }
    }

    /// Enables a disabled schedule or disables an enabled one.
    pub async fn toggle_schedule(&self, id: i64, now: Timestamp) -> Result<Schedule> {
        let current = self.get_schedule(id).await?;
        let patch = SchedulePatch {
            is_active: Some(!current.is_active),
            ..SchedulePatch::default()
        };
        self.update_schedule(id, patch, now).await
    }

    /// Deletes a schedule. Its history and backup files stay.
    pub async fn delete_schedule(&self, id: i64) -> Result<Schedule> {
        let current = self.get_schedule(id).await?;
        sqlx::query("DELETE FROM schedules WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(current)
    }

    /// The next slot the scheduler computed for a schedule (None: not scheduled).
    pub async fn set_next_run(&self, id: i64, next: Option<Timestamp>) -> Result<()> {
        sqlx::query("UPDATE schedules SET next_run_at = ? WHERE id = ?")
            .bind(next.map(time::to_stored))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
