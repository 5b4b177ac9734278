//! The manifest: a small JSON file beside every backup (`NAME.manifest.json`) saying what is in
//! it (database, type, tenant, per-table row counts), how it was made (tool and server version,
//! snapshot kind, timings) and how to check it (size and SHA-256 of the file).
//!
//! Restore reads it to verify the file before executing anything, and to create a new database
//! with the source's charset and collation.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{io_error, Error, ErrorCode, Result};

/// The suffix of the JSON manifest written beside each backup.
pub const MANIFEST_SUFFIX: &str = ".manifest.json";

/// Rows dumped from one table, and a digest of their content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub rows: u64,
    /// The sum (mod 2^64, in hex) of a hash of each row's SQL text: it does not depend on the
    /// row order, so a restored copy dumped again must give the same digest (verification).
    /// `xxh3:` before the hex names XXH3; bare hex is SipHash-2-4 (backups made before XXH3).
    /// Absent in manifests written before verification existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format version.
    pub format: u32,
    pub tool: String,
    pub server_version: String,
    pub database: String,
    pub charset: String,
    pub collation: String,
    pub backup_type: String,
    pub tenant_id: Option<i64>,
    /// The tenant layout used (so a tenant restore deletes the same rows).
    pub tenant_column: Option<String>,
    pub tenant_root_table: Option<String>,
    pub compression: String,
    pub filename: String,
    pub file_size: u64,
    pub sha256: String,
    /// SQL text size before compression.
    pub sql_bytes: u64,
    pub started_at: String,
    pub finished_at: String,
    pub duration_seconds: f64,
    pub snapshot: String,
    pub tables: Vec<TableCount>,
    pub shared_tables: Vec<String>,
    pub views: usize,
    pub triggers: usize,
    pub routines: usize,
    pub events: usize,
    pub warnings: Vec<String>,
    /// The age public keys the file is encrypted to (empty: not encrypted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encrypted_for: Vec<String>,
    /// Encrypted with the schedule's passphrase (kept in the keyring under the schedule's id).
    #[serde(default)]
    pub encrypted_with_passphrase: bool,
    /// The schedule that made the backup.
    #[serde(default)]
    pub schedule_id: Option<i64>,
    /// Its name then (so a destination browsed from a new computer lists backups by schedule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_name: Option<String>,
}

pub const FORMAT: u32 = 1;

/// The largest manifest read (a database of 100,000 tables writes about 10 MB); a bigger file
/// beside a backup is refused without being read whole.
pub const MAX_BYTES: u64 = 32 << 20;

/// The manifest path of a backup file.
pub fn path_for(backup: &Path) -> PathBuf {
    PathBuf::from(format!("{}{MANIFEST_SUFFIX}", backup.display()))
}

impl Manifest {
    /// Reads the manifest beside `backup`, if there is one.
    pub fn read_beside(backup: &Path) -> Result<Option<Manifest>> {
        let path = path_for(backup);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_BYTES) {
            return Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "{} is larger than {} MiB: not a manifest of ours",
                    path.display(),
                    MAX_BYTES >> 20
                ),
            ));
        }
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::new(
                    ErrorCode::Corrupt,
                    format!("the manifest {} is damaged: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e, &format!("cannot read {}", path.display()))),
        }
    }

    /// Checks the manifest beside `backup` against the one the history recorded when the
    /// backup was made (`recorded`, the JSON of `runs.details`): a manifest fetched from a
    /// destination, or edited on disk, decides which tenant's rows a replace deletes, so it
    /// must be the one this app wrote. Histories without a recorded manifest pass (the file's
    /// own SHA-256 is still checked against the history).
    pub fn check_recorded(backup: &Path, recorded: Option<&str>) -> Result<()> {
        let Some(recorded) = recorded.and_then(|r| serde_json::from_str::<Manifest>(r).ok()) else {
            return Ok(());
        };
        match Manifest::read_beside(backup)? {
            Some(found) if found == recorded => Ok(()),
            Some(_) => Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the manifest beside {} differs from the one recorded when the backup was made",
                    backup.display()
                ),
            )
            .with_hint("the manifest was changed after the backup: use the local copy or another destination")),
            None => Err(Error::new(
                ErrorCode::Corrupt,
                format!("the manifest beside {} is missing", backup.display()),
            )),
        }
    }

    /// Rows of one table, as recorded at dump time.
    pub fn rows_of(&self, table: &str) -> Option<u64> {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .map(|t| t.rows)
    }
}
