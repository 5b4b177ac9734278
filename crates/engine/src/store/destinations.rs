//! The destinations table; secrets stay in the keyring.

use crate::destination::{secret_key, Destination, DestinationSettings, NewDestination};
use crate::error::{Error, ErrorCode, Result};
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::time;
use jiff::Timestamp;
use sqlx::Row;

fn from_row(row: &sqlx::sqlite::SqliteRow, used_by: Vec<String>) -> Result<Destination> {
    let settings: DestinationSettings =
        serde_json::from_str(&row.try_get::<String, _>("settings")?).map_err(|e| {
            Error::new(
                ErrorCode::Store,
                format!("a destination's settings cannot be read: {e}"),
            )
        })?;
    Ok(Destination {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        location: settings.location(),
        settings,
        retention_days: row.try_get("retention_days")?,
        max_backups: row.try_get("max_backups")?,
        used_by,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Adds a destination. The secret goes to the keyring first: if the keyring refuses,
    /// nothing is stored.
    pub async fn add_destination(
        &self,
        request: NewDestination,
        secret: Option<&str>,
        secrets: &dyn SecretStore,
        now: Timestamp,
    ) -> Result<Destination> {
        request.validate(secret)?;
        let name = request.name.trim().to_owned();
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM destinations WHERE name = ?")
            .bind(&name)
            .fetch_optional(self.pool())
            .await?;
        if exists.is_some() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("a destination named `{name}` already exists"),
            )
            .with_field("name")
            .with_hint("remove it first, or choose another name"));
        }
        let settings = request.settings.normalised();
        let with_secret = settings.needs_secret();
        if with_secret {
            secrets.set(&secret_key(&name), secret.unwrap_or_default())?;
        }
        let now_text = time::to_stored(now);
        let result = sqlx::query(
            "INSERT INTO destinations (name, kind, settings, retention_days, max_backups, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&name)
        .bind(settings.kind())
        .bind(serde_json::to_string(&settings).unwrap_or_default())
        .bind(request.retention_days)
        .bind(request.max_backups)
        .bind(&now_text)
        .bind(&now_text)
        .execute(self.pool())
        .await;
        if let Err(err) = result {
            if with_secret {
                let _ = secrets.delete(&secret_key(&name));
            }
            return Err(err.into());
        }
        self.get_destination(&name).await
    }

    /// Changes a destination in place; its name and kind stay (schedules name it, the history
    /// records its copies). Its place (folder, bucket and prefix, …) may change only while no
    /// copy is kept there: the copies already sent stay where they are. A new `secret`
    /// replaces the kept one (`None` keeps it); if the row cannot be written, the keyring is
    /// set back as it was.
    pub async fn update_destination(
        &self,
        request: NewDestination,
        secret: Option<&str>,
        secrets: &dyn SecretStore,
        now: Timestamp,
    ) -> Result<Destination> {
        let current = self
            .get_destination(&request.name)
            .await
            .map_err(|e| e.with_field("name"))?;
        let settings = request.settings.clone().normalised();
        if settings.kind() != current.settings.kind() {
            return Err(Error::invalid(
                "kind",
                format!(
                    "`{}` is a {} destination; its kind cannot change",
                    current.name,
                    current.settings.kind()
                ),
            )
            .with_hint("add a new destination of the other kind, and change the schedules to it"));
        }
        let key = secret_key(&current.name);
        let kept = if settings.needs_secret() {
            secrets.get(&key)?
        } else {
            None
        };
        request.validate(secret.or(kept.as_deref()))?;
        if settings.location() != current.settings.location() {
            let copies: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM copies WHERE destination_id = ? AND status = 'uploaded' \
                 AND deleted_at IS NULL",
            )
            .bind(current.id)
            .fetch_one(self.pool())
            .await?;
            if copies > 0 {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    format!(
                        "{copies} backup copies are kept at {}; moving the destination would lose track of them",
                        current.location
                    ),
                )
                .with_field("location")
                .with_hint("add a new destination for the new place, and change the schedules to it"));
            }
        }
        if let Some(secret) = secret.filter(|_| settings.needs_secret()) {
            secrets.set(&key, secret)?;
        }
        let result = sqlx::query(
            "UPDATE destinations SET settings = ?, retention_days = ?, max_backups = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(serde_json::to_string(&settings).unwrap_or_default())
        .bind(request.retention_days)
        .bind(request.max_backups)
        .bind(time::to_stored(now))
        .bind(current.id)
        .execute(self.pool())
        .await;
        if let Err(err) = result {
            if secret.is_some() && settings.needs_secret() {
                let _ = match &kept {
                    Some(old) => secrets.set(&key, old),
                    None => secrets.delete(&key),
                };
            }
            return Err(err.into());
        }
        self.get_destination(&current.name).await
    }

    /// Which schedules copy to each destination name (lower-cased), from their `copy_to`.
    async fn destination_users(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, copy_to FROM schedules ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        let mut out = Vec::new();
        for (schedule, copy_to) in rows {
            let names: Vec<String> = serde_json::from_str(&copy_to).unwrap_or_default();
            for name in names {
                out.push((name.to_lowercase(), schedule.clone()));
            }
        }
        Ok(out)
    }

    pub async fn list_destinations(&self) -> Result<Vec<Destination>> {
        let users = self.destination_users().await?;
        let rows = sqlx::query("SELECT * FROM destinations ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("name")?;
                let used_by = users
                    .iter()
                    .filter(|(d, _)| *d == name.to_lowercase())
                    .map(|(_, s)| s.clone())
                    .collect();
                from_row(row, used_by)
            })
            .collect()
    }

    pub async fn get_destination(&self, name: &str) -> Result<Destination> {
        let row = sqlx::query("SELECT * FROM destinations WHERE name = ?")
            .bind(name.trim())
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(row) => {
                let stored: String = row.try_get("name")?;
                let used_by = self
                    .destination_users()
                    .await?
                    .into_iter()
                    .filter(|(d, _)| *d == stored.to_lowercase())
                    .map(|(_, s)| s)
                    .collect();
                from_row(&row, used_by)
            }
            None => Err(Error::not_found(format!(
                "there is no destination named `{}`",
                name.trim()
            ))
            .with_hint("`billora-backup destination list` shows them")),
        }
    }

    /// Removes a destination and its keyring secret. Refused while a schedule copies to it.
    /// The copies already sent there stay where they are, and in the history.
    pub async fn remove_destination(
        &self,
        name: &str,
        secrets: &dyn SecretStore,
    ) -> Result<Destination> {
        let destination = self.get_destination(name).await?;
        if !destination.used_by.is_empty() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "`{}` is used by {}: {}",
                    destination.name,
                    if destination.used_by.len() == 1 {
                        "a schedule"
                    } else {
                        "schedules"
                    },
                    destination.used_by.join(", ")
                ),
            )
            .with_field("name")
            .with_hint("take it out of those schedules first"));
        }
        if destination.settings.needs_secret() {
            secrets.delete(&secret_key(&destination.name))?;
        }
        sqlx::query("DELETE FROM destinations WHERE id = ?")
            .bind(destination.id)
            .execute(self.pool())
            .await?;
        Ok(destination)
    }
}
