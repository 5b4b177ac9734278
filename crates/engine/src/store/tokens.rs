//! The api_tokens table: the HTTP API's bearer tokens, by their SHA-256 only.

use jiff::Timestamp;

use crate::error::{Error, ErrorCode, Result};
use crate::store::Store;
use crate::time;
use crate::token::{Role, TokenInfo};

impl Store {
    /// Records a token by its hash. A live token with the same name is a conflict.
    pub async fn add_token(
        &self,
        name: &str,
        role: Role,
        hash: &str,
        now: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO api_tokens (name, role, token_sha256, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(hash)
        .bind(time::to_stored(now))
        .execute(self.pool())
        .await;
        match done {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::new(
                ErrorCode::Conflict,
                format!("a token named `{name}` exists already"),
            )
            .with_field("name")
            .with_hint(
                "revoke it first (`billora-backup token revoke NAME`), or choose another name",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Every token, live and revoked, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        type Row = (String, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let local = |t: &str| {
            time::from_stored(t)
                .map(|ts| time::rfc3339(&ts.to_zoned_datetime(jiff::tz::TimeZone::system())))
                .unwrap_or_else(|_| t.to_owned())
        };
        rows.into_iter()
            .map(|(name, role, created, used, revoked)| {
                Ok(TokenInfo {
                    name,
                    role: Role::parse(&role)?,
                    created_at: local(&created),
                    last_used_at: used.as_deref().map(local),
                    revoked_at: revoked.as_deref().map(local),
                })
            })
            .collect()
    }

    /// Revokes the live token named `name`.
    pub async fn revoke_token(&self, name: &str, now: Timestamp) -> Result<()> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? WHERE name = ? COLLATE NOCASE AND revoked_at IS NULL",
        )
        .bind(time::to_stored(now))
        .bind(name)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(
                Error::not_found(format!("there is no live token named `{name}`"))
                    .with_field("name"),
            );
        }
        Ok(())
    }

    /// The role of the live token with this hash, noting its use (at most once a minute).
    pub async fn token_role(&self, hash: &str, now: Timestamp) -> Result<Option<Role>> {
        let row: Option<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, role, token_sha256, last_used_at FROM api_tokens \
             WHERE token_sha256 = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        let Some((id, role, stored, used)) = row else {
            return Ok(None);
        };
        if !crate::token::same_hash(&stored, hash) {
            return Ok(None);
        }
        let stale = used
            .as_deref()
            .and_then(|t| time::from_stored(t).ok())
            .is_none_or(|t| now.duration_since(t).as_secs() >= 60);
        if stale {
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(time::to_stored(now))
                .bind(id)
                .execute(self.pool())
                .await?;
        }
        Ok(Some(Role::parse(&role)?))
    }
}
