//! Destinations: the other places a schedule sends a copy of each backup to, besides its local
//! folder — a network folder, S3-compatible object storage, an SFTP server (a NAS), WebDAV.
//! "Keep backups in several places" is the original spec's own advice: a local copy restores
//! fast, an off-site copy survives the office.
//!
//! This module is the model and its rules: a destination's non-secret settings (stored as
//! JSON), validated here whichever front end sent them, with the secret (S3 secret key, WebDAV
//! password) in the OS keyring under `destination:<name>`. [`remote`] talks to the storage
//! through Apache OpenDAL; [`copies`] records each copy of each run and applies retention per
//! destination.

pub mod browse;
pub mod gdrive;
mod private;
pub mod remote;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secrets::SecretStore;

/// How an SFTP destination treats a server key it has not seen before.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KnownHosts {
    /// Trust on first use: remember a new server's key, refuse a changed one (ssh's
    /// `accept-new`).
    #[default]
    AcceptNew,
    /// Only servers already in `~/.ssh/known_hosts`.
    Strict,
}

/// Where copies go, by kind. Only non-secret settings: the secret is given separately.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum DestinationSettings {
    /// A folder on this computer or a mounted network share.
    Folder { path: String },
    /// S3-compatible object storage: AWS S3, MinIO, Backblaze B2, Cloudflare R2, Wasabi.
    S3 {
        /// `https://s3.eu-central-003.backblazeb2.com`; empty for AWS itself.
        #[serde(default)]
        endpoint: Option<String>,
        #[serde(default)]
        region: Option<String>,
        bucket: String,
        /// A folder inside the bucket (`billora/office`), or empty.
        #[serde(default)]
        prefix: String,
        /// Path-style URLs (`endpoint/bucket/key`), which MinIO and most non-AWS services
        /// want; off means virtual-host style (`bucket.endpoint/key`).
        #[serde(default = "yes")]
        path_style: bool,
        access_key_id: String,
    },
    /// An SFTP server (a NAS or a Linux server), with key authentication.
    Sftp {
        host: String,
        #[serde(default)]
        port: Option<u16>,
        username: String,
        /// The folder on the server (absolute, or relative to the user's home).
        #[serde(default)]
        folder: String,
        /// The private key file (for example `~/.ssh/id_ed25519`), without a passphrase.
        key_file: String,
        #[serde(default)]
        known_hosts: KnownHosts,
    },
    /// A WebDAV server (Nextcloud, ownCloud, a NAS, `rclone serve webdav`).
    Webdav {
        /// `https://cloud.example.com/remote.php/dav/files/office`.
        url: String,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        folder: String,
    },
    /// Google Drive, through OAuth for an installed app (the refresh token in the keyring).
    Gdrive {
        /// The OAuth client ID of a "Desktop app" client in your Google Cloud project.
        client_id: String,
        /// The folder in My Drive (created by the app; `Billora Backups` by default).
        #[serde(default)]
        folder: String,
        /// Replaces Google's OAuth and API addresses (a compatible service or a test
        /// stand-in); empty for Google.
        #[serde(default)]
        api_base: Option<String>,
    },
}

fn yes() -> bool {
    true
}

impl DestinationSettings {
    pub fn kind(&self) -> &'static str {
        match self {
            DestinationSettings::Folder { .. } => "folder",
            DestinationSettings::S3 { .. } => "s3",
            DestinationSettings::Sftp { .. } => "sftp",
            DestinationSettings::Webdav { .. } => "webdav",
            DestinationSettings::Gdrive { .. } => "gdrive",
        }
    }

    /// Whether this kind needs a secret (S3 secret key; a WebDAV password with a user name).
    pub fn needs_secret(&self) -> bool {
        match self {
            DestinationSettings::S3 { .. } | DestinationSettings::Gdrive { .. } => true,
            DestinationSettings::Webdav { username, .. } => username.is_some(),
            _ => false,
        }
    }

    /// A short "where" for lists and notifications: `s3://bucket/prefix`, `sftp://host/folder`.
    pub fn location(&self) -> String {
        match self {
            DestinationSettings::Folder { path } => path.clone(),
            DestinationSettings::S3 { bucket, prefix, .. } => {
                format!("s3://{bucket}/{}", prefix.trim_matches('/'))
            }
            DestinationSettings::Sftp {
                host,
                port,
                username,
                folder,
                ..
            } => format!(
                "sftp://{username}@{host}:{}/{}",
                port.unwrap_or(22),
                folder.trim_start_matches('/')
            ),
            DestinationSettings::Webdav { url, folder, .. } => {
                format!("{}/{}", url.trim_end_matches('/'), folder.trim_matches('/'))
            }
            DestinationSettings::Gdrive { folder, .. } => {
                format!("gdrive://My Drive/{}", folder.trim_matches('/'))
            }
        }
    }

    /// Every rule of the settings; runs before anything is stored or contacted.
    pub fn validate(&self) -> Result<()> {
        match self {
            DestinationSettings::Folder { path } => {
                let p = std::path::Path::new(path.trim());
                if path.trim().is_empty() || !p.is_absolute() {
                    return Err(Error::invalid(
                        "path",
                        "give the full path of the folder (for example /mnt/nas/backups)",
                    ));
                }
            }
            DestinationSettings::S3 {
                endpoint,
                region,
                bucket,
                prefix,
                access_key_id,
                ..
            } => {
                if let Some(endpoint) = endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
                    check_url("endpoint", endpoint)?;
                }
                if let Some(region) = region {
                    if region.len() > 64
                        || !region
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    {
                        return Err(Error::invalid(
                            "region",
                            format!("`{region}` is not a region name (like us-east-1)"),
                        ));
                    }
                }
                let b = bucket.trim();
                if b.len() < 3
                    || b.len() > 63
                    || !b.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    })
                {
                    return Err(Error::invalid(
                        "bucket",
                        format!(
                            "`{b}` is not a bucket name: 3-63 lower-case letters, digits, dots and hyphens"
                        ),
                    ));
                }
                check_folder("prefix", prefix)?;
                if access_key_id.trim().is_empty() || access_key_id.chars().any(char::is_whitespace)
                {
                    return Err(Error::invalid("access_key_id", "give the access key ID"));
                }
            }
            DestinationSettings::Sftp {
                host,
                port,
                username,
                folder,
                key_file,
                ..
            } => {
                check_host("host", host)?;
                if *port == Some(0) {
                    return Err(Error::invalid("port", "the port must be 1-65535"));
                }
                if username.trim().is_empty()
                    || username.starts_with('-')
                    || username
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control() || c == '@')
                {
                    return Err(Error::invalid(
                        "username",
                        "give the user name on the server",
                    ));
                }
                check_folder("folder", folder.trim_start_matches('/'))?;
                let key = std::path::Path::new(key_file.trim());
                if !key.is_absolute() {
                    return Err(Error::invalid(
                        "key_file",
                        "give the full path of the private key file (for example /home/office/.ssh/id_ed25519)",
                    ));
                }
                if !key.is_file() {
                    return Err(Error::invalid(
                        "key_file",
                        format!("{} is not a readable file", key.display()),
                    ));
                }
            }
            DestinationSettings::Webdav {
                url,
                username,
                folder,
            } => {
                check_url("url", url)?;
                if let Some(user) = username {
                    if user.trim().is_empty() || user.chars().any(char::is_control) {
                        return Err(Error::invalid(
                            "username",
                            "give the user name, or leave it out for a server without login",
                        ));
                    }
                }
                check_folder("folder", folder)?;
            }
            DestinationSettings::Gdrive {
                client_id,
                folder,
                api_base,
            } => {
                if client_id.trim().is_empty() || client_id.chars().any(char::is_whitespace) {
                    return Err(Error::invalid(
                        "client_id",
                        "give the OAuth client ID of a Desktop app client (…apps.googleusercontent.com)",
                    ));
                }
                check_folder("folder", folder)?;
                if let Some(base) = api_base.as_deref().filter(|b| !b.trim().is_empty()) {
                    check_url("api_base", base)?;
                }
            }
        }
        Ok(())
    }

    /// The settings with blanks normalised (trimmed, empty optional values as None).
    pub(crate) fn normalised(self) -> DestinationSettings {
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        match self {
            DestinationSettings::Folder { path } => DestinationSettings::Folder {
                path: path.trim().to_owned(),
            },
            DestinationSettings::S3 {
                endpoint,
                region,
                bucket,
                prefix,
                path_style,
                access_key_id,
            } => DestinationSettings::S3 {
                endpoint: blank(endpoint),
                region: blank(region),
                bucket: bucket.trim().to_owned(),
                prefix: prefix.trim().trim_matches('/').to_owned(),
                path_style,
                access_key_id: access_key_id.trim().to_owned(),
            },
            DestinationSettings::Sftp {
                host,
                port,
                username,
                folder,
                key_file,
                known_hosts,
            } => DestinationSettings::Sftp {
                host: host.trim().to_owned(),
                port,
                username: username.trim().to_owned(),
                folder: folder.trim().trim_end_matches('/').to_owned(),
                key_file: key_file.trim().to_owned(),
                known_hosts,
            },
            DestinationSettings::Webdav {
                url,
                username,
                folder,
            } => DestinationSettings::Webdav {
                url: url.trim().trim_end_matches('/').to_owned(),
                username: blank(username),
                folder: folder.trim().trim_matches('/').to_owned(),
            },
            DestinationSettings::Gdrive {
                client_id,
                folder,
                api_base,
            } => {
                let folder = folder.trim().trim_matches('/').to_owned();
                DestinationSettings::Gdrive {
                    client_id: client_id.trim().to_owned(),
                    folder: if folder.is_empty() {
                        "Billora Backups".to_owned()
                    } else {
                        folder
                    },
                    api_base: blank(api_base),
                }
            }
        }
    }
}

fn check_url(field: &str, url: &str) -> Result<()> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
                && !rest.split('/').next().unwrap_or("").contains('@') =>
        {
            Ok(())
        }
        _ => Err(Error::invalid(
            field,
            format!("`{url}` is not a web address starting with https:// (or http://)"),
        )
        .with_hint("put a user name and password in their own fields, not in the address")),
    }
}

fn check_host(field: &str, host: &str) -> Result<()> {
    let host = host.trim();
    if host.is_empty()
        || host.starts_with('-')
        || host.len() > 255
        || host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '@')
    {
        return Err(Error::invalid(
            field,
            format!("`{host}` is not a host name or IP address"),
        ));
    }
    Ok(())
}

/// A folder inside the storage: relative segments, none of them `..`.
fn check_folder(field: &str, folder: &str) -> Result<()> {
    let folder = folder.trim().trim_matches('/');
    if folder.chars().any(char::is_control)
        || folder.contains('\\')
        || folder.split('/').any(|s| s == ".." || s == ".")
        || folder.contains("//")
    {
        return Err(Error::invalid(
            field,
            format!("`{folder}` is not a folder path (use / between folders, no `..`)"),
        ));
    }
    Ok(())
}

/// A stored destination as the UI and the CLI show it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Destination {
    pub id: i64,
    pub name: String,
    pub settings: DestinationSettings,
    /// `s3://bucket/prefix`, `sftp://user@host:22/folder`, …
    pub location: String,
    /// Overrides the schedule's `retention_days` on this destination (None: the schedule's).
    pub retention_days: Option<i64>,
    /// Overrides the schedule's `max_backups` on this destination (None: the schedule's).
    pub max_backups: Option<i64>,
    /// Schedules that copy to it.
    pub used_by: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A request to add a destination.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDestination {
    pub name: String,
    pub settings: DestinationSettings,
    #[serde(default)]
    pub retention_days: Option<i64>,
    #[serde(default)]
    pub max_backups: Option<i64>,
}

impl NewDestination {
    /// Every rule of a destination; runs before anything is stored or contacted.
    pub fn validate(&self, secret: Option<&str>) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "give the destination a name of 1-100 characters",
            ));
        }
        self.settings.validate()?;
        crate::schedule::check_retention(self.retention_days, self.max_backups)?;
        if self.settings.needs_secret() && secret.is_none_or(str::is_empty) {
            let (field, what) = match self.settings {
                DestinationSettings::S3 { .. } => ("secret", "the secret access key"),
                DestinationSettings::Gdrive { .. } => ("secret", "the OAuth client secret"),
                _ => ("secret", "the password"),
            };
            return Err(Error::invalid(field, format!("{what} is needed"))
                .with_hint("on the command line pass it on stdin with --secret-stdin"));
        }
        Ok(())
    }
}

/// The keyring key of a destination's secret.
pub fn secret_key(name: &str) -> String {
    format!("destination:{name}")
}

/// What the keyring keeps for a new destination: the secret as given, or for Google Drive the
/// client secret with the refresh token that `open` (the browser, showing Google's consent
/// page) obtains. Waits at most five minutes for the person to answer.
pub async fn connect(
    request: &NewDestination,
    secret: Option<&str>,
    open: &(dyn Fn(&str) + Sync),
) -> Result<Option<String>> {
    request.validate(secret)?;
    match request.settings.clone().normalised() {
        DestinationSettings::Gdrive {
            client_id,
            api_base,
            ..
        } => {
            let client_secret = secret.unwrap_or_default();
            let endpoints = gdrive::Endpoints::new(api_base.as_deref());
            let refresh_token = gdrive::authorize(
                &endpoints,
                &client_id,
                client_secret,
                open,
                std::time::Duration::from_secs(300),
            )
            .await?;
            Ok(Some(
                serde_json::to_string(&gdrive::DriveSecret {
                    client_secret: client_secret.to_owned(),
                    refresh_token,
                })
                .unwrap_or_default(),
            ))
        }
        _ => Ok(secret.map(str::to_owned)),
    }
}

/// Tests a saved destination: writes, reads back and deletes a small file there.
pub async fn test_destination(
    destination: &Destination,
    secrets: &dyn SecretStore,
) -> Result<remote::DestinationCheck> {
    remote::Remote::open(destination, secrets)?
        .check(destination.location.clone())
        .await
}

/// Tests a destination before it is saved (the form's Test button); stores nothing.
/// For Google Drive, `secret` is what [`connect`] returned.
pub async fn test_draft(
    request: &NewDestination,
    secret: Option<&str>,
) -> Result<remote::DestinationCheck> {
    request.validate(secret)?;
    let settings = request.settings.clone().normalised();
    remote::Remote::build(request.name.trim(), &settings, secret)?
        .check(settings.location())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, prefix: &str, endpoint: Option<&str>) -> DestinationSettings {
        DestinationSettings::S3 {
            endpoint: endpoint.map(str::to_owned),
            region: None,
            bucket: bucket.into(),
            prefix: prefix.into(),
            path_style: true,
            access_key_id: "AKIA1".into(),
        }
    }

    fn field_of(settings: DestinationSettings) -> Option<String> {
        settings.validate().err().and_then(|e| e.field)
    }

    #[test]
    fn s3_rules_name_the_field_to_fix() {
        assert_eq!(
            field_of(s3("billora-backups", "office/daily", None)),
            None,
            "a plain bucket and prefix are fine"
        );
        assert_eq!(
            field_of(s3("Billora", "", None)).as_deref(),
            Some("bucket"),
            "upper case is not a bucket name"
        );
        assert_eq!(
            field_of(s3("ab", "", None)).as_deref(),
            Some("bucket"),
            "bucket names have 3+ characters"
        );
        assert_eq!(
            field_of(s3("bucket", "a/../b", None)).as_deref(),
            Some("prefix"),
            "`..` cannot climb out of the prefix"
        );
        assert_eq!(
            field_of(s3("bucket", "", Some("ftp://x"))).as_deref(),
            Some("endpoint"),
            "the endpoint is a web address"
        );
        assert_eq!(
            field_of(s3("bucket", "", Some("https://key:secret@host"))).as_deref(),
            Some("endpoint"),
            "credentials never go in the address"
        );
        assert_eq!(
            field_of(s3("bucket", "", Some("http://127.0.0.1:9000"))),
            None,
            "a loopback MinIO endpoint is fine"
        );
    }

    #[test]
    fn folder_sftp_and_webdav_rules() {
        let folder = |p: &str| DestinationSettings::Folder { path: p.into() };
        assert_eq!(
            field_of(folder("relative/dir")).as_deref(),
            Some("path"),
            "a folder must be absolute"
        );
        assert_eq!(
            field_of(folder("/mnt/nas")),
            None,
            "an absolute folder is fine"
        );
        let sftp = |host: &str, key: &str| DestinationSettings::Sftp {
            host: host.into(),
            port: None,
            username: "office".into(),
            folder: "backups".into(),
            key_file: key.into(),
            known_hosts: KnownHosts::default(),
        };
        assert_eq!(
            field_of(sftp("nas.local", "/no/such/key")).as_deref(),
            Some("key_file"),
            "the key file must exist"
        );
        assert_eq!(
            field_of(sftp("bad host", "/etc/hostname")).as_deref(),
            Some("host"),
            "a host has no spaces"
        );
        // ssh would read these as options (`-oProxyCommand=…` runs a command here).
        assert_eq!(
            field_of(sftp("-oProxyCommand=touch /tmp/x", "/etc/hostname")).as_deref(),
            Some("host"),
            "a host may not begin with -"
        );
        let mut by_user = sftp("nas.local", "/etc/hostname");
        if let DestinationSettings::Sftp { username, .. } = &mut by_user {
            *username = "-oProxyCommand=id".into();
        }
        assert_eq!(
            field_of(by_user).as_deref(),
            Some("username"),
            "a user name may not begin with -"
        );
        let webdav = |url: &str| DestinationSettings::Webdav {
            url: url.into(),
            username: None,
            folder: String::new(),
        };
        assert_eq!(
            field_of(webdav("cloud.example.com")).as_deref(),
            Some("url"),
            "the URL needs its scheme"
        );
        assert_eq!(
            field_of(webdav("https://cloud.example.com/dav")),
            None,
            "an https URL is fine"
        );
    }

    #[test]
    fn a_secret_is_required_where_the_kind_needs_one() {
        let request = NewDestination {
            name: "offsite".into(),
            settings: s3("bucket", "", None),
            retention_days: None,
            max_backups: None,
        };
        let err = request.validate(None).expect_err("S3 needs its secret key");
        assert_eq!(
            err.field.as_deref(),
            Some("secret"),
            "the error points at the secret: {err:?}"
        );
        assert!(
            request.validate(Some("s3cr3t")).is_ok(),
            "with the secret it is valid"
        );
    }

    #[test]
    fn settings_json_is_tagged_by_kind_and_refuses_unknown_fields() {
        let parsed: DestinationSettings = serde_json::from_str(
            r#"{"kind":"s3","bucket":"b-1","access_key_id":"K","endpoint":"http://127.0.0.1:9000"}"#,
        )
        .expect("a minimal S3 destination parses");
        assert!(
            matches!(
                parsed,
                DestinationSettings::S3 {
                    path_style: true,
                    ..
                }
            ),
            "path style is the default: {parsed:?}"
        );
        let unknown = serde_json::from_str::<DestinationSettings>(
            r#"{"kind":"s3","bucket":"b-1","access_key_id":"K","secret_access_key":"x"}"#,
        );
        assert!(
            unknown.is_err(),
            "a secret is never accepted inside the stored settings"
        );
    }
}
