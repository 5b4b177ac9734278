//! The daemons table: the other machines' daemons this app is the console of (address and
//! pinned certificate; their tokens live in the keyring).

use jiff::Timestamp;
use serde::Serialize;

use crate::error::{Error, ErrorCode, Result};
use crate::store::Store;
use crate::time;

/// Another machine's daemon, as Settings → Manage a server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RemoteDaemon {
    pub name: String,
    /// Its HTTP API's address with the base path (`https://backup.example.com:8443/api`).
    pub url: String,
    /// The SHA-256 of its TLS certificate (`AA:BB:…`), pinned on first use; None over plain
    /// HTTP on loopback.
    pub cert_sha256: Option<String>,
    /// When it was added (the store's UTC form).
    pub added_at: String,
}

type Row = (String, String, Option<String>, String);

fn daemon((name, url, cert_sha256, added_at): Row) -> RemoteDaemon {
    RemoteDaemon {
        name,
        url,
        cert_sha256,
        added_at,
    }
}

/// The error of a daemon name that is not in the list.
fn not_found(name: &str) -> Error {
    Error::not_found(format!("there is no server named `{}`", name.trim()))
}

/// Whether a change by name touched a row (else the name is not in the list).
fn found(rows: u64, name: &str) -> Result<()> {
    if rows == 0 {
        return Err(not_found(name));
    }
    Ok(())
}

impl Store {
    /// Every daemon, in the order they were added.
    pub async fn list_daemons(&self) -> Result<Vec<RemoteDaemon>> {
        let rows: Vec<Row> =
            sqlx::query_as("SELECT name, url, cert_sha256, added_at FROM daemons ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(daemon).collect())
    }

    /// One daemon by name (any case).
    pub async fn get_daemon(&self, name: &str) -> Result<RemoteDaemon> {
        let row: Option<Row> =
            sqlx::query_as("SELECT name, url, cert_sha256, added_at FROM daemons WHERE name = ?")
                .bind(name.trim())
                .fetch_optional(self.pool())
                .await?;
        row.map(daemon)
            .ok_or_else(|| not_found(name).with_hint("add it under Settings → Manage a server"))
    }

    /// Records a daemon; a name taken (any case) is a conflict.
    pub async fn add_daemon(
        &self,
        name: &str,
        url: &str,
        cert_sha256: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO daemons (name, url, cert_sha256, added_at) VALUES (?, ?, ?, ?)",
        )
        .bind(name)
        .bind(url)
        .bind(cert_sha256)
        .bind(time::to_stored(now))
        .execute(self.pool())
        .await;
        match done {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::new(
                ErrorCode::Conflict,
                format!("a server named `{name}` is already in the list"),
            )
            .with_field("name")
            .with_hint("choose another name, or remove the old one first")),
            Err(e) => Err(e.into()),
        }
    }

    /// Pins another certificate for a daemon (its owner replaced it).
    pub async fn set_daemon_certificate(&self, name: &str, cert_sha256: &str) -> Result<()> {
        let done = sqlx::query("UPDATE daemons SET cert_sha256 = ? WHERE name = ?")
            .bind(cert_sha256)
            .bind(name.trim())
            .execute(self.pool())
            .await?;
        found(done.rows_affected(), name)
    }

    /// Forgets a daemon (nothing on it changes).
    pub async fn remove_daemon(&self, name: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM daemons WHERE name = ?")
            .bind(name.trim())
            .execute(self.pool())
            .await?;
        found(done.rows_affected(), name)
    }
}
