//! The connection profiles table; passwords stay in the keyring, pinned certificates here.

use crate::connection::{secret_key, ConnectionProfile, NewConnection, ServerTarget, TlsMode};
use crate::error::{Error, ErrorCode, Result};
use crate::secrets::{PasswordSource, SecretStore};
use crate::ssh::SshTunnel;
use crate::store::Store;
use crate::time;
use jiff::Timestamp;
use sqlx::Row;
use std::path::PathBuf;

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<ConnectionProfile> {
    let port: i64 = row.try_get("port")?;
    Ok(ConnectionProfile {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        host: row.try_get("host")?,
        port: u16::try_from(port).unwrap_or(3306),
        username: row.try_get("username")?,
        database: row.try_get("database_name")?,
        tls_mode: TlsMode::from_stored(row.try_get("tls_mode")?)?,
        tls_ca_file: row
            .try_get::<Option<String>, _>("tls_ca_file")?
            .map(PathBuf::from),
        tls_pin: row.try_get("tls_pin")?,
        tenant_column: row.try_get("tenant_column")?,
        tenant_root_table: row.try_get("tenant_root_table")?,
        password_source: PasswordSource::from_stored(row.try_get("password_source")?)?,
        ssh: match row.try_get::<Option<String>, _>("ssh_host")? {
            Some(host) => Some(SshTunnel {
                host,
                port: row
                    .try_get::<Option<i64>, _>("ssh_port")?
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(22),
                username: row
                    .try_get::<Option<String>, _>("ssh_username")?
                    .unwrap_or_default(),
                key_file: row
                    .try_get::<Option<String>, _>("ssh_key_file")?
                    .map(PathBuf::from),
                host_key: row.try_get("ssh_host_key")?,
            }),
            None => None,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds a profile's settings in the order both the insert and the update name them: host,
/// port, username, database_name, tls_mode, tls_ca_file, tls_pin, tenant_column,
/// tenant_root_table, password_source, ssh_host, ssh_port, ssh_username, ssh_key_file,
/// ssh_host_key (defaults applied, the pins normalised).
fn bind_profile<'q>(
    query: Query<'q>,
    request: &NewConnection,
    source: &PasswordSource,
) -> Result<Query<'q>> {
    let pin = request
        .tls_pin
        .as_deref()
        .map(|p| crate::tls::normalize_fingerprint("tls_pin", p))
        .transpose()?;
    let ssh = request.ssh.as_ref();
    let host_key = ssh
        .and_then(|t| t.host_key.as_deref())
        .map(|k| crate::ssh::normalize_host_key("ssh_host_key", k))
        .transpose()?;
    Ok(query
        .bind(request.host.trim().to_owned())
        .bind(i64::from(request.port.unwrap_or(3306)))
        .bind(request.username.clone())
        .bind(request.database.clone())
        .bind(request.tls_mode.unwrap_or_default().as_str())
        .bind(
            request
                .tls_ca_file
                .as_ref()
                .map(|p| p.display().to_string()),
        )
        .bind(pin)
        .bind(
            request
                .tenant_column
                .as_deref()
                .unwrap_or("tenant_id")
                .to_owned(),
        )
        .bind(
            request
                .tenant_root_table
                .as_deref()
                .unwrap_or("tenants")
                .to_owned(),
        )
        .bind(source.to_stored())
        .bind(ssh.map(|t| t.host.trim().to_owned()))
        .bind(ssh.map(|t| i64::from(t.port)))
        .bind(ssh.map(|t| t.username.trim().to_owned()))
        .bind(ssh.and_then(|t| t.key_file.as_ref().map(|p| p.display().to_string())))
        .bind(host_key))
}

impl Store {
    /// Adds a profile. With the keyring source, `password` goes to `secrets` first: if the
    /// keyring refuses, nothing is stored.
    pub async fn add_connection(
        &self,
        request: NewConnection,
        password: Option<&str>,
        secrets: &dyn SecretStore,
        now: Timestamp,
    ) -> Result<ConnectionProfile> {
        request.validate()?;
        let name = request.name.trim().to_owned();
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM connections WHERE name = ?")
            .bind(&name)
            .fetch_optional(self.pool())
            .await?;
        if exists.is_some() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("a connection named `{name}` already exists"),
            )
            .with_field("name")
            .with_hint("remove it first, or choose another name"));
        }
        let source = request
            .password_source
            .clone()
            .unwrap_or(PasswordSource::Keyring);
        if source == PasswordSource::Keyring {
            let password = password.ok_or_else(|| {
                Error::invalid("password", "a password is needed")
                    .with_hint("pass it on stdin with --password-stdin")
            })?;
            secrets.set(&secret_key(&name), password)?;
        }
        let now_text = time::to_stored(now);
        let insert = sqlx::query(
            "INSERT INTO connections (name, host, port, username, database_name, tls_mode, tls_ca_file, \
             tls_pin, tenant_column, tenant_root_table, password_source, ssh_host, ssh_port, ssh_username, \
             ssh_key_file, ssh_host_key, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(name.clone());
        let result = bind_profile(insert, &request, &source)?
            .bind(&now_text)
            .bind(&now_text)
            .execute(self.pool())
            .await;
        if let Err(err) = result {
            if source == PasswordSource::Keyring {
                let _ = secrets.delete(&secret_key(&name));
            }
            return Err(err.into());
        }
        self.get_connection(&name).await
    }

    /// Changes a profile in place; its name stays (schedules refer to it by name). With the
    /// keyring source, `password` replaces the kept one (`None` keeps it); if the row cannot
    /// be written, the keyring is set back as it was.
    pub async fn update_connection(
        &self,
        request: NewConnection,
        password: Option<&str>,
        secrets: &dyn SecretStore,
        now: Timestamp,
    ) -> Result<ConnectionProfile> {
        request.validate()?;
        let current = self
            .get_connection(&request.name)
            .await
            .map_err(|e| e.with_field("name"))?;
        let source = request
            .password_source
            .clone()
            .unwrap_or(PasswordSource::Keyring);
        let key = secret_key(&current.name);
        let before = match source {
            PasswordSource::Keyring => secrets.get(&key)?,
            _ => None,
        };
        match (&source, password) {
            (PasswordSource::Keyring, Some(password)) => secrets.set(&key, password)?,
            (PasswordSource::Keyring, None) if before.is_none() => {
                return Err(Error::invalid("password", "a password is needed")
                    .with_hint("no password for this connection is in the keyring yet"))
            }
            _ => {}
        }
        let update = sqlx::query(
            "UPDATE connections SET host = ?, port = ?, username = ?, database_name = ?, tls_mode = ?, \
             tls_ca_file = ?, tls_pin = ?, tenant_column = ?, tenant_root_table = ?, password_source = ?, \
             ssh_host = ?, ssh_port = ?, ssh_username = ?, ssh_key_file = ?, ssh_host_key = ?, \
             updated_at = ? WHERE id = ?",
        );
        let result = bind_profile(update, &request, &source)?
            .bind(time::to_stored(now))
            .bind(current.id)
            .execute(self.pool())
            .await;
        if let Err(err) = result {
            if password.is_some() && source == PasswordSource::Keyring {
                let _ = match &before {
                    Some(old) => secrets.set(&key, old),
                    None => secrets.delete(&key),
                };
            }
            return Err(err.into());
        }
        self.get_connection(&current.name).await
    }

    pub async fn list_connections(&self) -> Result<Vec<ConnectionProfile>> {
        let rows = sqlx::query("SELECT * FROM connections ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn get_connection(&self, name: &str) -> Result<ConnectionProfile> {
        let row = sqlx::query("SELECT * FROM connections WHERE name = ?")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(row) => from_row(&row),
            None => Err(
                Error::not_found(format!("there is no connection named `{name}`"))
                    .with_field("connection")
                    .with_hint("`billora-backup connection list` shows them"),
            ),
        }
    }

    /// The profile a schedule uses: the named one, or the only one when it names none.
    pub async fn resolve_connection(&self, name: Option<&str>) -> Result<ConnectionProfile> {
        if let Some(name) = name {
            return self.get_connection(name).await;
        }
        let mut all = self.list_connections().await?;
        match all.len() {
            1 => Ok(all.remove(0)),
            0 => Err(Error::new(
                ErrorCode::NotFound,
                "no database connection has been added yet",
            )
            .with_field("connection")
            .with_hint("add one with `billora-backup connection add`")),
            _ => Err(Error::invalid(
                "connection",
                "there are several connections; the schedule must name one",
            )),
        }
    }

    /// Trust on first use after a successful connection with `target`: the SSH host key of
    /// its tunnel and the server's certificate, each pinned if the profile had none yet.
    /// Returns a sentence for each thing recorded.
    pub async fn trust_on_first_use(
        &self,
        profile: &ConnectionProfile,
        target: &ServerTarget,
        now: Timestamp,
    ) -> Result<Vec<String>> {
        let host_key = self.pin_host_key_on_first_use(profile, target, now).await?;
        let certificate = self.pin_on_first_use(profile, target, now).await?;
        Ok(host_key.into_iter().chain(certificate).collect())
    }

    /// After a successful connection with `target`: a `pinned` profile without a pin yet
    /// (new, or saved as `preferred` by an older version) takes the certificate the server
    /// presented, or switches to verify-identity when the system's roots accept it. Returns
    /// a sentence saying what was recorded, or `None` when nothing changed.
    async fn pin_on_first_use(
        &self,
        profile: &ConnectionProfile,
        target: &ServerTarget,
        now: Timestamp,
    ) -> Result<Option<String>> {
        if profile.tls_mode != TlsMode::Pinned || profile.tls_pin.is_some() {
            return Ok(None);
        }
        let Some(seen) = target.seen_certificate() else {
            return Ok(None);
        };
        let (mode, pin, notice) = if seen.trusted_by_system {
            (
                TlsMode::VerifyIdentity,
                None,
                format!(
                    "connection `{}`: the server's certificate is trusted by this computer for {}; \
                     its identity is checked from now on (TLS mode verify-identity)",
                    profile.name, profile.host
                ),
            )
        } else {
            (
                TlsMode::Pinned,
                Some(seen.sha256.clone()),
                format!(
                    "connection `{}`: the server's certificate SHA-256 {} is now pinned; a different \
                     certificate will be refused",
                    profile.name, seen.sha256
                ),
            )
        };
        let updated = sqlx::query(
            "UPDATE connections SET tls_mode = ?, tls_pin = ?, updated_at = ? \
             WHERE id = ? AND tls_mode = 'pinned' AND tls_pin IS NULL",
        )
        .bind(mode.as_str())
        .bind(pin)
        .bind(time::to_stored(now))
        .bind(profile.id)
        .execute(self.pool())
        .await?;
        Ok((updated.rows_affected() > 0).then(|| {
            tracing::info!("{notice}");
            notice
        }))
    }

    /// After a successful connection through `target`'s SSH tunnel: a profile whose tunnel
    /// has no host key pinned yet takes the one the SSH server presented. Returns a sentence
    /// saying so, or `None` when nothing changed.
    async fn pin_host_key_on_first_use(
        &self,
        profile: &ConnectionProfile,
        target: &ServerTarget,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let (Some(ssh), Some(seen)) = (&profile.ssh, target.seen_host_key()) else {
            return Ok(None);
        };
        if ssh.host_key.is_some() {
            return Ok(None);
        }
        let updated = sqlx::query(
            "UPDATE connections SET ssh_host_key = ?, updated_at = ? \
             WHERE id = ? AND ssh_host IS NOT NULL AND ssh_host_key IS NULL",
        )
        .bind(&seen)
        .bind(time::to_stored(now))
        .bind(profile.id)
        .execute(self.pool())
        .await?;
        Ok((updated.rows_affected() > 0).then(|| {
            let notice = format!(
                "connection `{}`: the SSH server's host key {seen} is now pinned; a different key will be refused",
                profile.name
            );
            tracing::info!("{notice}");
            notice
        }))
    }

    /// Accepts an SSH server's host key for a profile's tunnel (after the server's key was
    /// replaced on purpose).
    pub async fn trust_host_key(
        &self,
        name: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<ConnectionProfile> {
        let pin = crate::ssh::normalize_host_key("fingerprint", fingerprint)?;
        let profile = self.get_connection(name).await?;
        if profile.ssh.is_none() {
            return Err(Error::invalid(
                "connection",
                format!("the connection `{name}` has no SSH tunnel"),
            ));
        }
        sqlx::query("UPDATE connections SET ssh_host_key = ?, updated_at = ? WHERE id = ?")
            .bind(&pin)
            .bind(time::to_stored(now))
            .bind(profile.id)
            .execute(self.pool())
            .await?;
        self.get_connection(name).await
    }

    /// Accepts a server certificate for a profile: TLS mode `pinned` with this fingerprint
    /// (after the server's certificate was replaced on purpose).
    pub async fn trust_certificate(
        &self,
        name: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<ConnectionProfile> {
        let pin = crate::tls::normalize_fingerprint("fingerprint", fingerprint)?;
        let profile = self.get_connection(name).await?;
        sqlx::query(
            "UPDATE connections SET tls_mode = 'pinned', tls_pin = ?, tls_ca_file = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(&pin)
        .bind(time::to_stored(now))
        .bind(profile.id)
        .execute(self.pool())
        .await?;
        self.get_connection(name).await
    }

    /// Removes a profile and its keyring password. Refused while a schedule uses it.
    pub async fn remove_connection(
        &self,
        name: &str,
        secrets: &dyn SecretStore,
    ) -> Result<ConnectionProfile> {
        let profile = self.get_connection(name).await?;
        let users: Vec<String> =
            sqlx::query_scalar("SELECT name FROM schedules WHERE connection = ? ORDER BY id")
                .bind(&profile.name)
                .fetch_all(self.pool())
                .await?;
        if !users.is_empty() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "the connection `{name}` is used by the schedule(s) {}",
                    users.join(", ")
                ),
            )
            .with_hint("change or delete those schedules first"));
        }
        if profile.password_source == PasswordSource::Keyring {
            secrets.delete(&secret_key(&profile.name))?;
        }
        sqlx::query("DELETE FROM connections WHERE id = ?")
            .bind(profile.id)
            .execute(self.pool())
            .await?;
        Ok(profile)
    }
}
