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
}

/// Tests a connection before it is saved (the first-run wizard).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct TestDraftRequest {
    pub connection: NewConnection,
    pub password: String,
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
        self.add_connection_with(request.connection, Some(request.password))
            .await
    }

    /// Adds a profile whose password is given (kept in the keyring), or read from where
    /// its `password_source` says (an environment variable or a file).
    pub async fn add_connection_with(
        &self,
        connection: NewConnection,
        password: Option<String>,
    ) -> Result<ConnectionProfile> {
        self.store
            .add_connection(connection, password.as_deref(), &*self.secrets, self.now())
            .await
    }

    /// Connects with a saved profile: server version, tables, the certificate, missing
    /// privileges. A profile not pinned yet is pinned now (the check's notices say so).
    pub async fn test_connection(&self, name: String) -> Result<ConnectionCheck> {
        let profile = self.store.get_connection(&name).await?;
        let target = ServerTarget::new(&profile, &*self.secrets)?;
        let probe = target.clone();
        let mut check = blocking(move || check_connection(&probe)).await?;
        if let Some(notice) = self
            .store
            .pin_on_first_use(&profile, &target, self.now())
            .await?
        {
            check.notices.push(notice);
        }
        Ok(check)
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
        let target = ServerTarget::from_draft(&connection, password);
        blocking(move || check_connection(&target))
            .await
            .map_err(form_field)?;
        self.store
            .update_connection(connection, given.as_deref(), &*self.secrets, self.now())
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
        let target = ServerTarget::from_draft(&request.connection, request.password);
        // Point the form at the field to fix.
        blocking(move || check_connection(&target))
            .await
            .map_err(form_field)
    }

    pub async fn remove_connection(&self, name: String) -> Result<ConnectionProfile> {
        self.store.remove_connection(&name, &*self.secrets).await
    }
}

/// Points a failed test of a form's settings at the field to fix.
fn form_field(e: Error) -> Error {
    match e.code {
        ErrorCode::AuthFailed => e.with_field("password"),
        ErrorCode::Unreachable => e.with_field("host"),
        _ => e,
    }
}
