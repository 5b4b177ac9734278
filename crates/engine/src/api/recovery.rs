//! The day the computer dies: a destination browsed with no local history, its backups
//! imported into the history (so they restore and verify like any other), and the recovery
//! key brought back into the keyring.

use serde::Serialize;

use super::Api;
use crate::destination::browse::RemoteBackup;
use crate::error::{Error, Result};

/// What importing a destination's backups did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// Backups found there.
    pub found: usize,
    /// New history entries.
    pub imported: usize,
    /// Already in the history (the same checksum).
    pub already_known: usize,
    /// Backups left out, each with why ("name: reason").
    pub skipped: Vec<String>,
}

/// A recovery file larger than this is not one of ours (it holds one key and comments).
const MAX_RECOVERY_FILE: u64 = 64 * 1024;

impl Api {
    /// The backups on a destination, newest first, with what their manifests say; nothing
    /// is changed here or there.
    pub async fn browse_destination(&self, name: String) -> Result<Vec<RemoteBackup>> {
        let (_, remote) = self.remote(&name).await?;
        Ok(crate::destination::browse::browse(&remote)
            .await?
            .into_iter()
            .map(|(backup, _)| backup)
            .collect())
    }

    /// Rebuilds the history from a destination's manifests: each backup there that the
    /// history does not know becomes an entry whose copy is on that destination (restore and
    /// verify fetch it and check it against its manifest's SHA-256). Backups without a
    /// readable manifest are skipped and listed.
    pub async fn import_from_destination(&self, name: String) -> Result<ImportReport> {
        let (destination, remote) = self.remote(&name).await?;
        let found = crate::destination::browse::browse(&remote).await?;
        let mut report = ImportReport {
            found: found.len(),
            imported: 0,
            already_known: 0,
            skipped: Vec::new(),
        };
        for (backup, manifest) in found {
            let (Some(manifest), None) = (manifest, &backup.problem) else {
                report.skipped.push(format!(
                    "{}: {}",
                    backup.object,
                    backup.problem.as_deref().unwrap_or("no manifest")
                ));
                continue;
            };
            let json = serde_json::to_string(&manifest).map_err(|e| {
                Error::new(
                    crate::error::ErrorCode::Internal,
                    format!("a manifest could not be written: {e}"),
                )
            })?;
            if self
                .store
                .import_remote_backup(
                    (destination.id, &destination.name),
                    &manifest,
                    &json,
                    self.now(),
                )
                .await?
            {
                report.imported += 1;
            } else {
                report.already_known += 1;
            }
        }
        Ok(report)
    }

    /// A saved destination, opened.
    async fn remote(
        &self,
        name: &str,
    ) -> Result<(
        crate::destination::Destination,
        crate::destination::remote::Remote,
    )> {
        let destination = self
            .store
            .get_destination(name)
            .await
            .map_err(|e| e.with_field("destination"))?;
        let remote = crate::destination::remote::Remote::open(&destination, &*self.secrets)?;
        Ok((destination, remote))
    }

    /// Brings a recovery file's key back into the keyring, so that this computer opens the
    /// backups encrypted to it and new schedules can encrypt to it; returns its public key(s).
    pub async fn import_recovery_key(&self, path: String) -> Result<Vec<String>> {
        let path = std::path::PathBuf::from(path.trim());
        let meta = std::fs::metadata(&path).map_err(|e| {
            crate::error::io_error(e, &format!("cannot read {}", path.display())).with_field("file")
        })?;
        if !meta.is_file() || meta.len() > MAX_RECOVERY_FILE {
            return Err(Error::invalid(
                "file",
                "this is not a recovery file (it should be a small text file with an AGE-SECRET-KEY line)",
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            crate::error::io_error(e, &format!("cannot read {}", path.display())).with_field("file")
        })?;
        self.import_recovery_text(text)
            .await
            .map_err(|e| e.with_field("file"))
    }

    /// Like [`Api::import_recovery_key`], from the key's text (pasted from a printed recovery
    /// sheet or a password manager).
    pub async fn import_recovery_text(&self, text: String) -> Result<Vec<String>> {
        if text.len() as u64 > MAX_RECOVERY_FILE {
            return Err(Error::invalid(
                "key",
                "this is not a recovery key: it is too long",
            ));
        }
        let publics = crate::crypt::import_identities(&text, &*self.secrets)
            .map_err(|e| e.with_field("key"))?;
        self.remember_encryption_keys(&publics).await?;
        Ok(publics)
    }
}
