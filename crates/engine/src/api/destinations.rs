//! Where copies go: add and edit (tested first), test, list, remove.

use serde::Deserialize;

use super::Api;
use crate::error::{Error, ErrorCode, Result};

/// Adds (or, with `test_only`, only tests) a destination from the Destinations screen.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct DestinationForm {
    pub destination: crate::destination::NewDestination,
    /// The S3 secret key or the WebDAV password (null for kinds without one).
    pub secret: Option<String>,
}

impl Api {
    pub async fn list_destinations(&self) -> Result<Vec<crate::destination::Destination>> {
        self.store.list_destinations().await
    }

    /// Tests the form's destination, then saves it: a destination that cannot be written to is
    /// not saved. Google Drive is connected first: `open` shows Google's consent page in the
    /// browser, and this waits (up to five minutes) for the answer.
    pub async fn add_destination(
        &self,
        form: DestinationForm,
        open: &(dyn Fn(&str) + Sync),
    ) -> Result<crate::destination::Destination> {
        self.add_destination_with(form, open, true).await
    }

    /// [`Api::add_destination`], where `test: false` saves without the test write (the CLI's
    /// `--no-test`; Google Drive is always tested, as connecting it proves nothing yet).
    pub async fn add_destination_with(
        &self,
        form: DestinationForm,
        open: &(dyn Fn(&str) + Sync),
        test: bool,
    ) -> Result<crate::destination::Destination> {
        let given = form.secret.filter(|s| !s.is_empty());
        let secret = crate::destination::connect(&form.destination, given.as_deref(), open)
            .await
            .map_err(|e| destination_field(&form.destination.settings, e))?;
        let is_drive = matches!(
            form.destination.settings,
            crate::destination::DestinationSettings::Gdrive { .. }
        );
        if test || is_drive {
            crate::destination::test_draft(&form.destination, secret.as_deref())
                .await
                .map_err(|e| destination_field(&form.destination.settings, e))?;
        }
        self.store
            .add_destination(
                form.destination,
                secret.as_deref(),
                &*self.secrets,
                self.now(),
            )
            .await
    }

    /// Changes a destination in place (its name and kind stay), tested first with the new
    /// settings and the new secret or the kept one: a change that cannot write is not saved.
    /// Google Drive keeps its connection (only its retention changes here).
    pub async fn update_destination(
        &self,
        form: DestinationForm,
    ) -> Result<crate::destination::Destination> {
        let current = self
            .store
            .get_destination(&form.destination.name)
            .await
            .map_err(|e| e.with_field("name"))?;
        let given = form.secret.filter(|s| !s.is_empty());
        let is_drive = matches!(
            current.settings,
            crate::destination::DestinationSettings::Gdrive { .. }
        );
        if is_drive {
            if form.destination.settings.clone().normalised() != current.settings {
                return Err(Error::invalid(
                    "kind",
                    "a Google Drive destination's connection cannot be edited; add a new one to connect another account or folder",
                ));
            }
        } else {
            let secret = match &given {
                Some(s) => Some(s.clone()),
                None if form.destination.settings.needs_secret() => self
                    .secrets
                    .get(&crate::destination::secret_key(&current.name))?,
                None => None,
            };
            crate::destination::test_draft(&form.destination, secret.as_deref())
                .await
                .map_err(|e| destination_field(&form.destination.settings, e))?;
        }
        self.store
            .update_destination(
                form.destination,
                given.as_deref(),
                &*self.secrets,
                self.now(),
            )
            .await
    }

    /// Tests the form's destination without saving anything.
    pub async fn test_destination_draft(
        &self,
        form: DestinationForm,
    ) -> Result<crate::destination::remote::DestinationCheck> {
        if matches!(
            form.destination.settings,
            crate::destination::DestinationSettings::Gdrive { .. }
        ) {
            return Err(Error::invalid(
                "kind",
                "Google Drive is tested when it is connected: choose Connect and save",
            ));
        }
        let secret = form.secret.filter(|s| !s.is_empty());
        crate::destination::test_draft(&form.destination, secret.as_deref())
            .await
            .map_err(|e| destination_field(&form.destination.settings, e))
    }

    pub async fn test_destination(
        &self,
        name: String,
    ) -> Result<crate::destination::remote::DestinationCheck> {
        let destination = self.store.get_destination(&name).await?;
        crate::destination::test_destination(&destination, &*self.secrets).await
    }

    pub async fn remove_destination(
        &self,
        name: String,
    ) -> Result<crate::destination::Destination> {
        self.store.remove_destination(&name, &*self.secrets).await
    }
}

/// Points a failed destination test at the form field most likely to fix it: the secret when
/// the server refused, else the kind's address field.
pub(super) fn destination_field(
    settings: &crate::destination::DestinationSettings,
    e: Error,
) -> Error {
    use crate::destination::DestinationSettings as S;
    if e.field.is_some() {
        return e;
    }
    let address = match settings {
        S::Folder { .. } => "path",
        S::S3 { .. } => "endpoint",
        S::Sftp { .. } => "host",
        S::Webdav { .. } => "url",
        S::Gdrive { .. } => "client_id",
    };
    match (e.code, settings) {
        (
            ErrorCode::PermissionDenied | ErrorCode::AuthFailed,
            S::S3 { .. } | S::Webdav { .. } | S::Gdrive { .. },
        ) => e.with_field("secret"),
        (ErrorCode::PermissionDenied | ErrorCode::AuthFailed, S::Sftp { .. }) => {
            e.with_field("key_file")
        }
        (ErrorCode::NotFound, S::S3 { .. }) => e.with_field("bucket"),
        (ErrorCode::PermissionDenied | ErrorCode::NotFound, _) => e.with_field(address),
        (ErrorCode::Unreachable | ErrorCode::StorageFailed | ErrorCode::InvalidInput, _) => {
            e.with_field(address)
        }
        _ => e,
    }
}
