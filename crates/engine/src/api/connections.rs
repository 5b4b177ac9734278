//! Database connection profiles: add, edit (tested first), test (and pin on first use), trust,
//! remove.

use serde::Deserialize;

use super::{blocking, Api};
use crate::connection::{
    check_connection, ConnectionCheck, ConnectionProfile, NewConnection, ServerTarget,
};
use crate::error::{Error, ErrorCode, Result};

/// Adds a connection profile; the password goes to the OS keyring only.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct AddConnectionRequest {
    pub connection: NewConnection,
    pub password: String,
    /// With an SSH tunnel: the SSH user's password, or the key file's passphrase (none for a
    /// key without one). Kept in the keyring.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub ssh_secret: Option<String>,
}

/// Accepts an SSH server's new host key for a connection (after it was replaced on purpose).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct TrustHostKeyRequest {
    pub connection: String,
    /// The `SHA256:…` fingerprint the refusal showed.
    pub fingerprint: String,
}

/// Pins a server certificate for a connection (after its certificate was replaced on purpose).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct TrustCertificateRequest {
    pub connection: String,
    /// The SHA-256 fingerprint (`AA:BB:…`) the refusal showed.
    pub fingerprint: String,
}

/// Changes a saved profile: its settings, and its password when one is given (empty: keep
/// the one in the keyring). The name stays.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct UpdateConnectionRequest {
    pub connection: NewConnection,
    pub password: Option<String>,
    /// The SSH password or key passphrase; empty or absent keeps the one in the keyring.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub ssh_secret: Option<String>,
}

/// Tests a connection before it is saved (the first-run wizard).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct TestDraftRequest {
    pub connection: NewConnection,
    pub password: String,
    /// With an SSH tunnel: the SSH password or key passphrase.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub ssh_secret: Option<String>,
}

impl Api {
    pub async fn list_connections(&self) -> Result<Vec<ConnectionProfile>> {
        self.store.list_connections().await
    }

    pub async fn add_connection(&self, request: AddConnectionRequest) -> Result<ConnectionProfile> {
        if request.password.is_empty() {
            return Err(Error::invalid(
                "password",
                "enter the database user's password",
            ));
        }
        self.add_connection_with(
            request.connection,
            Some(request.password),
            request.ssh_secret,
        )
        .await
    }

    /// Adds a profile whose password is given (kept in the keyring), or read from where
    /// its `password_source` says (an environment variable or a file). An SSH tunnel's
    /// password or key passphrase goes to the keyring too; if the profile cannot be stored,
    /// it is taken out again.
    pub async fn add_connection_with(
        &self,
        connection: NewConnection,
        password: Option<String>,
        ssh_secret: Option<String>,
    ) -> Result<ConnectionProfile> {
        connection.validate()?;
        let ssh_secret = ssh_secret.filter(|s| !s.is_empty());
        let ssh_key = crate::ssh::secret_key(connection.name.trim());
        if connection.ssh.is_some() {
            if let Some(secret) = &ssh_secret {
                self.secrets.set(&ssh_key, secret)?;
            }
        }
        let added = self
            .store
            .add_connection(connection, password.as_deref(), &*self.secrets, self.now())
            .await;
        if added.is_err() && ssh_secret.is_some() {
            let _ = self.secrets.delete(&ssh_key);
        }
        added
    }

    /// Connects with a saved profile: server version, tables, the certificate, missing
    /// privileges. A profile not pinned yet is pinned now (the check's notices say so).
    pub async fn test_connection(&self, name: String) -> Result<ConnectionCheck> {
        let profile = self.store.get_connection(&name).await?;
        let target = ServerTarget::new(&profile, &*self.secrets)?;
        let probe = target.clone();
        let mut check = blocking(move || check_connection(&probe)).await?;
        check.notices.extend(
            self.store
                .trust_on_first_use(&profile, &target, self.now())
                .await?,
        );
        Ok(check)
    }

    /// The databases a profile's user sees on its server, but the server's own (the schedule
    /// editor's list to pick from); `None`: the profile a schedule without one uses.
    pub async fn connection_databases(&self, name: Option<String>) -> Result<Vec<String>> {
        let profile = self
            .store
            .resolve_connection(name.as_deref().filter(|n| !n.trim().is_empty()))
            .await
            .map_err(|e| e.with_field("connection"))?;
        let target = ServerTarget::new(&profile, &*self.secrets)?.for_database(None);
        blocking(move || crate::backup::list_databases(&target).map_err(|e| target.explain(e)))
            .await
    }

    /// Changes a profile in place, tested first with the new settings (and the new password,
    /// or the kept one): a change that cannot connect is not saved. Schedules keep using it.
    /// On the same server a pinned certificate stays pinned; another server is pinned from the
    /// fingerprint the form's test showed, or on first use.
    pub async fn update_connection(
        &self,
        request: UpdateConnectionRequest,
    ) -> Result<ConnectionProfile> {
        let current = self
            .store
            .get_connection(&request.connection.name)
            .await
            .map_err(|e| e.with_field("name"))?;
        let mut connection = request.connection;
        connection.validate()?;
        let same_server = connection.host.trim() == current.host
            && connection.port.unwrap_or(3306) == current.port;
        if connection.tls_pin.is_none() && same_server {
            connection.tls_pin = current.tls_pin.clone();
        }
        // The same SSH server keeps its pinned host key; another is pinned from the test.
        if let (Some(new), Some(old)) = (connection.ssh.as_mut(), current.ssh.as_ref()) {
            if new.host_key.is_none() && new.host.trim() == old.host && new.port == old.port {
                new.host_key = old.host_key.clone();
            }
        }
        let ssh_key = crate::ssh::secret_key(&current.name);
        let ssh_given = request.ssh_secret.filter(|s| !s.is_empty());
        let ssh_secret = match (&connection.ssh, &ssh_given) {
            (None, _) => None,
            (Some(_), Some(given)) => Some(given.clone()),
            (Some(ssh), None) => crate::ssh::kept_secret(ssh, &*self.secrets, &current.name)?,
        };
        let given = request.password.filter(|p| !p.is_empty());
        let password = match &given {
            Some(p) => p.clone(),
            None => connection
                .password_source
                .clone()
                .unwrap_or(crate::secrets::PasswordSource::Keyring)
                .read(
                    &*self.secrets,
                    &crate::connection::secret_key(&current.name),
                )?,
        };
        let target = ServerTarget::from_draft(&connection, password, ssh_secret);
        let probe = target.clone();
        blocking(move || check_connection(&probe))
            .await
            .map_err(form_field)?;
        if let (Some(ssh), Some(seen)) = (connection.ssh.as_mut(), target.seen_host_key()) {
            ssh.host_key.get_or_insert(seen);
        }
        drop(target);
        let tunneled = connection.ssh.is_some();
        let before = match (&ssh_given, tunneled) {
            (Some(_), true) => Some(self.secrets.get(&ssh_key)?),
            _ => None,
        };
        if let (Some(given), true) = (&ssh_given, tunneled) {
            self.secrets.set(&ssh_key, given)?;
        }
        let updated = self
            .store
            .update_connection(connection, given.as_deref(), &*self.secrets, self.now())
            .await;
        match (&updated, before) {
            (Err(_), Some(Some(old))) => {
                let _ = self.secrets.set(&ssh_key, &old);
            }
            (Err(_), Some(None)) => {
                let _ = self.secrets.delete(&ssh_key);
            }
            (Ok(_), _) if !tunneled => {
                // No tunnel any more: its secret goes.
                let _ = self.secrets.delete(&ssh_key);
            }
            _ => {}
        }
        updated
    }

    /// Accepts an SSH server's new host key for a profile (pins this fingerprint).
    pub async fn trust_host_key(&self, request: TrustHostKeyRequest) -> Result<ConnectionProfile> {
        self.store
            .trust_host_key(&request.connection, &request.fingerprint, self.now())
            .await
    }

    /// Accepts a server's new certificate for a profile (pins this fingerprint).
    pub async fn trust_certificate(
        &self,
        request: TrustCertificateRequest,
    ) -> Result<ConnectionProfile> {
        self.store
            .trust_certificate(&request.connection, &request.fingerprint, self.now())
            .await
    }

    /// Connects with a profile that is not saved yet.
    pub async fn test_draft(&self, request: TestDraftRequest) -> Result<ConnectionCheck> {
        request.connection.validate()?;
        let target = ServerTarget::from_draft(
            &request.connection,
            request.password,
            // An empty secret is no secret: the tunnel drops it.
            request.ssh_secret,
        );
        // Point the form at the field to fix.
        blocking(move || check_connection(&target))
            .await
            .map_err(form_field)
    }

    pub async fn remove_connection(&self, name: String) -> Result<ConnectionProfile> {
        let removed = self.store.remove_connection(&name, &*self.secrets).await?;
        if removed.ssh.is_some() {
            let _ = self.secrets.delete(&crate::ssh::secret_key(&removed.name));
        }
        Ok(removed)
    }
}

/// Points a failed test of a form's settings at the field to fix.
fn form_field(e: Error) -> Error {
    match e.code {
        ErrorCode::AuthFailed if e.field.is_none() => e.with_field("password"),
        ErrorCode::Unreachable if e.field.is_none() => e.with_field("host"),
        _ => e,
    }
}
