//! A destination seen from a computer that has no history of it (the day the old one died):
//! its backups, each with what its manifest says (schedule, database, tenant, when, size,
//! encrypted, checksum), newest first. Every object name and manifest there is untrusted
//! input: names are filtered to ours, manifests are read bounded and parsed, and an unreadable
//! one is reported on its backup rather than stopping the list.

use serde::Serialize;

use super::remote::Remote;
use crate::error::Result;
use crate::manifest::{Manifest, MANIFEST_SUFFIX};

/// One backup found on a destination.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteBackup {
    /// The object's name on the destination (the backup's file name).
    pub object: String,
    pub size: u64,
    /// The schedule that made it (backups made before names were recorded have none).
    pub schedule_name: Option<String>,
    pub database: Option<String>,
    /// `full` or `tenant`.
    pub backup_type: Option<String>,
    pub tenant_id: Option<i64>,
    /// When it was made (RFC 3339, UTC), from its manifest.
    pub created_at: Option<String>,
    pub encrypted: bool,
    pub sha256: Option<String>,
    /// Why it cannot be imported or restored as it is (no manifest, an unreadable one).
    pub problem: Option<String>,
}

/// Whether a name is one of our backup files (not a manifest, not a half-sent file).
pub fn is_backup_name(name: &str) -> bool {
    let plain = name
        .strip_suffix(crate::crypt::AGE_EXTENSION)
        .unwrap_or(name);
    name.starts_with("backup_")
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
        && [".sql", ".sql.gz", ".sql.zst"]
            .iter()
            .any(|ext| plain.ends_with(ext))
}

/// The backups on `remote`, newest first, each with its manifest's facts.
pub async fn browse(remote: &Remote) -> Result<Vec<(RemoteBackup, Option<Manifest>)>> {
    let objects = remote.list().await?;
    let names: std::collections::HashSet<&str> = objects.iter().map(|(n, _)| n.as_str()).collect();
    let mut out = Vec::new();
    for (name, size) in objects.iter().filter(|(n, _)| is_backup_name(n)) {
        let manifest_name = format!("{name}{MANIFEST_SUFFIX}");
        let manifest = if names.contains(manifest_name.as_str()) {
            match remote.get_small(&manifest_name).await {
                Ok(bytes) => serde_json::from_slice::<Manifest>(&bytes)
                    .map_err(|e| format!("its manifest cannot be read ({e})")),
                Err(e) => Err(format!("its manifest cannot be fetched ({})", e.message)),
            }
        } else {
            Err("it has no manifest beside it".to_owned())
        };
        let backup = match &manifest {
            Ok(m) => RemoteBackup {
                object: name.clone(),
                size: *size,
                schedule_name: m.schedule_name.clone(),
                database: Some(m.database.clone()),
                backup_type: Some(m.backup_type.clone()),
                tenant_id: m.tenant_id,
                created_at: Some(m.started_at.clone()),
                encrypted: !m.encrypted_for.is_empty() || m.encrypted_with_passphrase,
                sha256: Some(m.sha256.clone()),
                problem: (m.filename != *name || m.file_size != *size).then(|| {
                    "its manifest describes another file (name or size differ)".to_owned()
                }),
            },
            Err(problem) => RemoteBackup {
                object: name.clone(),
                size: *size,
                schedule_name: None,
                database: None,
                backup_type: None,
                tenant_id: None,
                created_at: None,
                encrypted: name.ends_with(crate::crypt::AGE_EXTENSION),
                sha256: None,
                problem: Some(problem.clone()),
            },
        };
        out.push((backup, manifest.ok()));
    }
    // Newest first; without a date, by name (which starts with the date) after those.
    out.sort_by(|(a, _), (b, _)| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.object.cmp(&a.object))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::is_backup_name;

    #[test]
    fn only_our_backup_files_are_listed() {
        for (name, ours) in [
            ("backup_full_2026-02-03T02-00-00.sql.zst", true),
            ("backup_tenant_5_2026-02-03T02-00-00.sql.gz.age", true),
            ("backup_full_2026-02-03T02-00-00.sql", true),
            (
                "backup_full_2026-02-03T02-00-00.sql.zst.manifest.json",
                false,
            ),
            ("backup_full_x.sql.zst.partial", false),
            ("notes.txt", false),
            ("../backup_full_x.sql.zst", false),
            ("sub/backup_full_x.sql.zst", false),
            ("backup_full_x\\..\\y.sql.zst", false),
            ("backup_full_x\n.sql.zst", false),
        ] {
            assert_eq!(is_backup_name(name), ours, "{name}");
        }
    }
}
