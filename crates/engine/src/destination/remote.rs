//! The storage behind a destination, through Apache OpenDAL (one API over a folder, S3,
//! SFTP and WebDAV), and the three things Billora does with it: send a finished backup,
//! fetch one back, delete one retention let go.
//!
//! A copy counts only once it is proven whole: it is streamed from the local file in 8 MiB
//! blocks (S3 multipart, two parts in flight; no second copy on disk), written under a
//! `.partial` name and renamed where the storage can rename (S3 objects appear only when the
//! upload completes), then its size is read back with `stat` and every byte is read back and
//! hashed: the SHA-256 must equal the one recorded at dump time. A copy that fails any check is
//! deleted. Errors carry codes ([`ErrorCode::StorageFailed`], `Unreachable`, `PermissionDenied`)
//! and never credentials.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opendal::layers::{RetryLayer, TimeoutLayer};
use opendal::{services, Operator};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::gdrive::{Drive, DriveSecret, Endpoints};
use super::{secret_key, Destination, DestinationSettings, KnownHosts};
use crate::artifact::{Sha256, PARTIAL_SUFFIX};
use crate::error::{Error, ErrorCode, Result};
use crate::secrets::SecretStore;

/// The block size of uploads and read-backs (and the S3 part size).
pub const BLOCK: usize = 8 * 1024 * 1024;

/// An open destination.
pub struct Remote {
    backend: Backend,
    name: String,
    can_rename: bool,
    private: super::private::Private,
}

/// OpenDAL for everything but Google Drive, which has its own client (see [`super::gdrive`]).
enum Backend {
    Dal(Operator),
    Drive(Box<Drive>),
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What a test of a destination found.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct DestinationCheck {
    pub location: String,
    /// A small file was written, read back equal, and deleted.
    pub ok: bool,
    /// How long the round trip took, in milliseconds.
    pub round_trip_ms: u64,
}

/// Turns an OpenDAL error into ours: a code to branch on, a sentence, a hint. OpenDAL's
/// messages name the service, path and endpoint, never credentials.
pub fn storage_error(err: opendal::Error, destination: &str, doing: &str) -> Error {
    use opendal::ErrorKind as K;
    let full = err.to_string();
    let status = http_status(&full);
    let message = format!(
        "{doing} on `{destination}` failed: {}",
        concise(&err, &full, status)
    );
    // Services report some refusals as an HTTP status OpenDAL calls unexpected or a bad
    // configuration (WebDAV's 401, S3's NoSuchBucket).
    let kind = match (err.kind(), status) {
        (K::Unexpected | K::ConfigInvalid, Some(401 | 403)) => K::PermissionDenied,
        (K::Unexpected | K::ConfigInvalid, Some(404)) => K::NotFound,
        (kind, _) => kind,
    };
    match kind {
        K::PermissionDenied => Error::new(ErrorCode::PermissionDenied, message).with_hint(
            "check the access key or password and that this account may write to the bucket or folder",
        ),
        K::NotFound => Error::new(ErrorCode::NotFound, message)
            .with_hint("check the bucket, folder or address in the destination's settings"),
        K::ConfigInvalid => Error::new(ErrorCode::InvalidInput, message)
            .with_hint("check the destination's settings"),
        K::RateLimited => Error::new(ErrorCode::Transient, message)
            .with_hint("the service is busy; the next run tries again"),
        _ if err.is_temporary() || looks_unreachable(&full) => {
            Error::new(ErrorCode::Unreachable, message).with_hint(
                "check the network, the address and port, and that the server is running",
            )
        }
        _ => Error::new(ErrorCode::StorageFailed, message)
            .with_hint("check the destination's settings with Test, then try again"),
    }
}

/// What people need of an OpenDAL error: the HTTP status and the service's own error code and
/// message (`HTTP 404 NoSuchBucket: The specified bucket does not exist`), not its headers.
fn concise(err: &opendal::Error, full: &str, status: Option<u16>) -> String {
    let between = |open: &str, close: &str| -> Option<String> {
        let start = full.find(open)? + open.len();
        let len = full[start..].find(close)?;
        Some(full[start..start + len].trim().to_owned())
    };
    let text = match status {
        Some(status) => {
            let mut text = format!("HTTP {status}");
            // S3 errors come as XML, or as OpenDAL's parsed `S3Error { code: "…", message: "…" }`.
            let code = between("<Code>", "</Code>").or_else(|| between("code: \"", "\""));
            let message =
                between("<Message>", "</Message>").or_else(|| between("message: \"", "\""));
            if let Some(code) = code {
                text.push_str(&format!(" {code}"));
            }
            if let Some(message) = message {
                text.push_str(&format!(": {message}"));
            } else if !err.message().trim().is_empty() {
                text.push_str(&format!(": {}", err.message().trim()));
            }
            text
        }
        None => full.to_owned(),
    };
    text.chars().take(300).collect()
}

/// The HTTP status in an OpenDAL error's context (`status: 401`), if any.
fn http_status(detail: &str) -> Option<u16> {
    let at = detail.find("status: ")? + "status: ".len();
    detail[at..].get(..3)?.parse().ok()
}

fn looks_unreachable(detail: &str) -> bool {
    let d = detail.to_lowercase();
    [
        "connection refused",
        "error sending request",
        "dns error",
        "timed out",
        "connect error",
        "network is unreachable",
        "connection reset",
    ]
    .iter()
    .any(|s| d.contains(s))
}

/// rustls needs one process-wide crypto provider (the app already uses ring everywhere), and
/// OpenDAL's HTTP services one transport (reqwest); both are first-installed-wins.
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    opendal_http_transport_reqwest::install_default();
}

impl Remote {
    /// Opens a stored destination, its secret read from `secrets`.
    pub fn open(destination: &Destination, secrets: &dyn SecretStore) -> Result<Remote> {
        let secret = if destination.settings.needs_secret() {
            let key = secret_key(&destination.name);
            Some(secrets.get(&key)?.ok_or_else(|| {
                Error::new(
                    ErrorCode::SecretStoreUnavailable,
                    format!(
                        "the keyring has no secret for destination `{}`",
                        destination.name
                    ),
                )
                .with_hint("remove the destination and add it again with its secret")
            })?)
        } else {
            None
        };
        Remote::build(&destination.name, &destination.settings, secret.as_deref())
    }

    /// Opens storage from settings and a secret (a draft being tested before it is saved).
    pub fn build(
        name: &str,
        settings: &DestinationSettings,
        secret: Option<&str>,
    ) -> Result<Remote> {
        install_crypto_provider();
        let built = match settings {
            DestinationSettings::Folder { path } => {
                Operator::new(services::Fs::default().root(path))
            }
            DestinationSettings::S3 {
                endpoint,
                region,
                bucket,
                prefix,
                path_style,
                access_key_id,
            } => {
                let mut builder = services::S3::default()
                    .bucket(bucket)
                    .root(&format!("/{prefix}"))
                    .region(region.as_deref().unwrap_or("us-east-1"))
                    .access_key_id(access_key_id)
                    .secret_access_key(secret.unwrap_or_default())
                    // Only what the destination says: no ~/.aws files, no instance metadata.
                    .disable_config_load()
                    .disable_ec2_metadata();
                if let Some(endpoint) = endpoint {
                    builder = builder.endpoint(endpoint);
                }
                if !path_style {
                    builder = builder.enable_virtual_host_style();
                }
                Operator::new(builder)
            }
            DestinationSettings::Webdav {
                url,
                username,
                folder,
            } => {
                let mut builder = services::Webdav::default()
                    .endpoint(url)
                    .root(&format!("/{folder}"));
                if let Some(user) = username {
                    builder = builder.username(user).password(secret.unwrap_or_default());
                }
                Operator::new(builder)
            }
            #[cfg(unix)]
            DestinationSettings::Sftp {
                host,
                port,
                username,
                folder,
                key_file,
                known_hosts,
            } => {
                let builder = services::Sftp::default()
                    .endpoint(&format!("ssh://{host}:{}", port.unwrap_or(22)))
                    .user(username)
                    .key(key_file)
                    .known_hosts_strategy(match known_hosts {
                        KnownHosts::AcceptNew => "add",
                        KnownHosts::Strict => "strict",
                    })
                    .root(folder);
                Operator::new(builder)
            }
            DestinationSettings::Gdrive {
                client_id,
                folder,
                api_base,
            } => {
                let secret: DriveSecret = serde_json::from_str(secret.unwrap_or_default())
                    .map_err(|_| {
                        Error::new(
                            ErrorCode::SecretStoreUnavailable,
                            format!(
                                "the keyring does not hold a Google Drive connection for `{name}`"
                            ),
                        )
                        .with_hint("remove the destination and add it again")
                    })?;
                let drive = Drive::new(
                    Endpoints::new(api_base.as_deref()),
                    client_id,
                    secret,
                    folder,
                )?;
                return Ok(Remote {
                    backend: Backend::Drive(Box::new(drive)),
                    name: name.to_owned(),
                    can_rename: false,
                    private: super::private::Private::Nothing,
                });
            }
            #[cfg(not(unix))]
            DestinationSettings::Sftp { .. } => {
                let _ = KnownHosts::Strict;
                return Err(Error::invalid(
                    "kind",
                    "SFTP destinations are not available on this system yet",
                ));
            }
        };
        let op = built.map_err(|e| storage_error(e, name, "opening the destination"))?;
        let can_rename = op.info().capability().rename;
        let op = op
            .layer(
                TimeoutLayer::new()
                    .with_timeout(Duration::from_secs(120))
                    .with_io_timeout(Duration::from_secs(60)),
            )
            // Three more tries for a flaky network, 0.5 s, 1 s, 2 s apart (so a Test of a wrong
            // address answers within seconds).
            .layer(
                RetryLayer::new()
                    .with_max_times(3)
                    .with_min_delay(Duration::from_millis(500))
                    .with_jitter(),
            );
        let private = match settings {
            DestinationSettings::Folder { path } => {
                // Created private before the first upload, so no copy is ever readable by
                // others, even while it is written (OpenDAL writes 0644).
                let _ = crate::paths::create_private_dir(Path::new(path));
                super::private::Private::Folder(path.into())
            }
            DestinationSettings::Sftp {
                host,
                port,
                username,
                folder,
                key_file,
                known_hosts,
            } => super::private::Private::Sftp {
                host: host.clone(),
                port: port.unwrap_or(22),
                username: username.clone(),
                key_file: key_file.clone(),
                known_hosts: *known_hosts,
                root: folder.clone(),
            },
            _ => super::private::Private::Nothing,
        };
        Ok(Remote {
            backend: Backend::Dal(op),
            name: name.to_owned(),
            can_rename,
            private,
        })
    }

    async fn write_bytes(&self, object: &str, body: Vec<u8>, doing: &str) -> Result<()> {
        match &self.backend {
            Backend::Dal(op) => op
                .write(object, body)
                .await
                .map(|_| ())
                .map_err(|e| storage_error(e, &self.name, doing)),
            Backend::Drive(drive) => drive.write_small(object, body).await,
        }
    }

    async fn read_bytes(&self, object: &str, doing: &str) -> Result<Vec<u8>> {
        match &self.backend {
            Backend::Dal(op) => op
                .read(object)
                .await
                .map(|b| b.to_vec())
                .map_err(|e| storage_error(e, &self.name, doing)),
            Backend::Drive(drive) => drive.read_small(object).await,
        }
    }

    /// Writes a small file, reads it back, compares and deletes it: proves the settings, the
    /// secret, the network and the right to write, without touching any backup.
    pub async fn check(&self, location: String) -> Result<DestinationCheck> {
        let started = std::time::Instant::now();
        let probe = format!(".billora-check-{}", crate::paths::random_suffix());
        let body = format!("Billora Backup checks it can write here: {probe}\n").into_bytes();
        self.write_bytes(&probe, body.clone(), "writing a test file")
            .await?;
        let read = self.read_bytes(&probe, "reading the test file back").await;
        let deleted = self.delete(&probe).await;
        let read = read?;
        deleted?;
        if read != body {
            return Err(Error::new(
                ErrorCode::StorageFailed,
                format!(
                    "`{}` gave back a different test file than was written",
                    self.name
                ),
            ));
        }
        Ok(DestinationCheck {
            location,
            ok: true,
            round_trip_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// The path a copy is written to before it is complete.
    pub fn partial_path(&self, object: &str) -> Option<String> {
        self.can_rename.then(|| format!("{object}{PARTIAL_SUFFIX}"))
    }

    /// Sends `local` as `object`, then proves it arrived whole (size, and SHA-256 of every byte
    /// read back). On any failure nothing is left under `object`. `cancel` stops it between
    /// blocks; `sent` is told the bytes handed to the storage so far.
    pub async fn send(
        &self,
        local: &Path,
        object: &str,
        expected_sha256: &str,
        cancel: &AtomicBool,
        sent: &(dyn Fn(u64) + Sync),
    ) -> Result<u64> {
        let size = tokio::fs::metadata(local)
            .await
            .map_err(|e| crate::error::io_error(e, "reading the backup to send"))?
            .len();
        let op = match &self.backend {
            Backend::Dal(op) => op,
            Backend::Drive(drive) => {
                // A resumable upload creates the file only when its last chunk is in.
                let stored = drive.upload(local, object, cancel, sent).await?;
                let proven = self
                    .prove_drive(drive, object, &stored, size, expected_sha256)
                    .await;
                if proven.is_err() {
                    let _ = drive.delete(object).await;
                }
                return proven.map(|()| size);
            }
        };
        let partial = self.partial_path(object);
        let target = partial.as_deref().unwrap_or(object);
        let result = self.stream_up(op, local, target, cancel, sent).await;
        let result = match (result, &partial) {
            (Ok(()), Some(partial)) => op
                .rename(partial, object)
                .await
                .map_err(|e| storage_error(e, &self.name, "renaming the finished copy")),
            (other, _) => other,
        };
        if let Err(err) = result {
            if let Some(partial) = &partial {
                let _ = op.delete(partial).await;
            }
            return Err(err);
        }
        let proven = match self.prove(op, object, size, expected_sha256).await {
            Ok(()) => self.private.apply(&[object]).await,
            Err(err) => Err(err),
        };
        match proven {
            Ok(()) => Ok(size),
            Err(err) => {
                let _ = op.delete(object).await;
                Err(err)
            }
        }
    }

    /// Drive's own size and SHA-256 of what it stored (or, where it gives none, every byte
    /// read back and hashed).
    async fn prove_drive(
        &self,
        drive: &Drive,
        object: &str,
        stored: &super::gdrive::DriveFile,
        size: u64,
        expected_sha256: &str,
    ) -> Result<()> {
        let stored_size = stored.size.as_deref().and_then(|s| s.parse::<u64>().ok());
        if stored_size != Some(size) {
            return Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the copy on `{}` is {} bytes, the backup {size}",
                    self.name,
                    stored_size.map_or("an unknown number of".to_owned(), |s| s.to_string())
                ),
            ));
        }
        let sha = match &stored.sha256_checksum {
            Some(sha) => sha.clone(),
            None => drive.download(object, &mut tokio::io::sink()).await?,
        };
        if !sha.eq_ignore_ascii_case(expected_sha256) {
            return Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the copy on `{}` has another SHA-256 than the backup",
                    self.name
                ),
            ));
        }
        Ok(())
    }

    async fn stream_up(
        &self,
        op: &Operator,
        local: &Path,
        target: &str,
        cancel: &AtomicBool,
        sent: &(dyn Fn(u64) + Sync),
    ) -> Result<()> {
        let mut total = 0u64;
        let mut file = tokio::fs::File::open(local)
            .await
            .map_err(|e| crate::error::io_error(e, "opening the backup to send"))?;
        let mut writer = op
            .writer_with(target)
            .chunk(BLOCK)
            .concurrent(2)
            .await
            .map_err(|e| storage_error(e, &self.name, "starting the upload"))?;
        loop {
            if cancel.load(Ordering::Relaxed) {
                let _ = writer.abort().await;
                return Err(Error::new(ErrorCode::Cancelled, "the upload was cancelled"));
            }
            let mut block = Vec::with_capacity(BLOCK);
            let read = (&mut file)
                .take(BLOCK as u64)
                .read_to_end(&mut block)
                .await
                .map_err(|e| crate::error::io_error(e, "reading the backup to send"))?;
            if read == 0 {
                break;
            }
            if let Err(e) = writer.write(block).await {
                let _ = writer.abort().await;
                return Err(storage_error(e, &self.name, "uploading"));
            }
            total += read as u64;
            sent(total);
        }
        writer
            .close()
            .await
            .map_err(|e| storage_error(e, &self.name, "finishing the upload"))?;
        Ok(())
    }

    /// Size from `stat`, then every byte read back and hashed.
    async fn prove(
        &self,
        op: &Operator,
        object: &str,
        size: u64,
        expected_sha256: &str,
    ) -> Result<()> {
        let meta = op
            .stat(object)
            .await
            .map_err(|e| storage_error(e, &self.name, "checking the copy's size"))?;
        if meta.content_length() != size {
            return Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the copy on `{}` is {} bytes, the backup {size}",
                    self.name,
                    meta.content_length()
                ),
            ));
        }
        let sha = self.hash_remote(op, object, size).await?;
        if !sha.eq_ignore_ascii_case(expected_sha256) {
            return Err(Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the copy on `{}` read back with another SHA-256 than the backup",
                    self.name
                ),
            ));
        }
        Ok(())
    }

    async fn hash_remote(&self, op: &Operator, object: &str, size: u64) -> Result<String> {
        self.read_into(
            op,
            object,
            size,
            &mut tokio::io::sink(),
            "reading the copy back",
        )
        .await
    }

    /// Streams `object` (of `size` bytes) into `out` in one request; returns its SHA-256.
    /// Not in ranges: a server that reads the whole object for every range it serves (moto,
    /// the tests' S3) made an 8 MiB-range read-back of 3.9 GB take 15 minutes
    /// (BENCHMARKS.md). Memory stays bounded: the body is hashed as it arrives.
    async fn read_into(
        &self,
        op: &Operator,
        object: &str,
        size: u64,
        out: &mut (dyn tokio::io::AsyncWrite + Unpin + Send),
        doing: &str,
    ) -> Result<String> {
        use futures_util::StreamExt;
        let mut stream = op
            .reader(object)
            .await
            .map_err(|e| storage_error(e, &self.name, doing))?
            .into_bytes_stream(0..size)
            .await
            .map_err(|e| storage_error(e, &self.name, doing))?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            // The stream's errors are OpenDAL's, carried in an io::Error.
            let chunk = chunk.map_err(|e| match e.into_inner() {
                Some(inner) => match inner.downcast::<opendal::Error>() {
                    Ok(dal) => storage_error(*dal, &self.name, doing),
                    Err(other) => Error::new(
                        ErrorCode::StorageFailed,
                        format!("{doing} on `{}` failed: {other}", self.name),
                    ),
                },
                None => Error::new(
                    ErrorCode::StorageFailed,
                    format!("{doing} on `{}` failed", self.name),
                ),
            })?;
            hasher.update(&chunk);
            out.write_all(&chunk)
                .await
                .map_err(|e| crate::error::io_error(e, "saving the downloaded copy"))?;
        }
        Ok(crate::artifact::hex(&hasher.finalize()))
    }

    /// Writes a small file (the manifest beside a copy) in one request.
    pub async fn put_small(&self, object: &str, body: Vec<u8>) -> Result<()> {
        self.write_bytes(object, body, "uploading the manifest")
            .await?;
        self.private.apply(&[object]).await
    }

    /// Reads a small file (a manifest), refusing one over [`crate::manifest::MAX_BYTES`]
    /// without reading it whole.
    pub async fn get_small(&self, object: &str) -> Result<Vec<u8>> {
        let cap = crate::manifest::MAX_BYTES;
        let too_big = || {
            Error::new(
                ErrorCode::Corrupt,
                format!(
                    "the manifest `{object}` on `{}` is larger than {} MiB: not a manifest of ours",
                    self.name,
                    cap >> 20
                ),
            )
        };
        let body = match &self.backend {
            Backend::Dal(op) => {
                let size = op
                    .stat(object)
                    .await
                    .map_err(|e| storage_error(e, &self.name, "finding the manifest"))?
                    .content_length();
                if size > cap {
                    return Err(too_big());
                }
                op.read_with(object)
                    .range(0..size.min(cap))
                    .await
                    .map(|b| b.to_vec())
                    .map_err(|e| storage_error(e, &self.name, "downloading the manifest"))?
            }
            Backend::Drive(drive) => drive.read_small(object).await?,
        };
        if body.len() as u64 > cap {
            return Err(too_big());
        }
        Ok(body)
    }

    /// Fetches `object` into the new private file `local`, streaming; returns its SHA-256.
    pub async fn fetch(&self, object: &str, local: &Path) -> Result<String> {
        let std_file = crate::artifact::create_private_file(local)
            .map_err(|e| crate::error::io_error(e, "saving the downloaded copy"))?;
        let mut file = tokio::fs::File::from_std(std_file);
        let sha = match &self.backend {
            Backend::Drive(drive) => drive.download(object, &mut file).await?,
            Backend::Dal(op) => {
                let size = op
                    .stat(object)
                    .await
                    .map_err(|e| storage_error(e, &self.name, "finding the copy"))?
                    .content_length();
                self.read_into(op, object, size, &mut file, "downloading the copy")
                    .await?
            }
        };
        file.sync_all()
            .await
            .map_err(|e| crate::error::io_error(e, "saving the downloaded copy"))?;
        Ok(sha)
    }

    /// Deletes `object`; true when it was there.
    pub async fn delete(&self, object: &str) -> Result<bool> {
        let op = match &self.backend {
            Backend::Dal(op) => op,
            Backend::Drive(drive) => return drive.delete(object).await,
        };
        let existed = match op.stat(object).await {
            Ok(_) => true,
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => false,
            Err(e) => return Err(storage_error(e, &self.name, "finding an old copy")),
        };
        if existed {
            op.delete(object)
                .await
                .map_err(|e| storage_error(e, &self.name, "deleting an old copy"))?;
        }
        Ok(existed)
    }

    /// The files at the destination's top (name and size; folders and half-sent files are
    /// left out), for browsing it from a computer with no history of it.
    pub async fn list(&self) -> Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        match &self.backend {
            Backend::Dal(op) => {
                let entries = op
                    .list("/")
                    .await
                    .map_err(|e| storage_error(e, &self.name, "listing the backups"))?;
                for entry in entries {
                    if !entry.metadata().is_file() {
                        continue;
                    }
                    let name = entry.name().to_owned();
                    let mut size = entry.metadata().content_length();
                    if size == 0 {
                        if let Ok(meta) = op.stat(entry.path()).await {
                            size = meta.content_length();
                        }
                    }
                    out.push((name, size));
                }
            }
            Backend::Drive(drive) => {
                for file in drive.list().await? {
                    let size = file
                        .size
                        .as_deref()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    if let Some(name) = file.name {
                        out.push((name, size));
                    }
                }
            }
        }
        out.retain(|(name, _)| !name.ends_with(PARTIAL_SUFFIX));
        Ok(out)
    }

    /// Whether `object` exists.
    pub async fn exists(&self, object: &str) -> Result<bool> {
        match &self.backend {
            Backend::Dal(op) => op
                .exists(object)
                .await
                .map_err(|e| storage_error(e, &self.name, "looking for a copy")),
            Backend::Drive(drive) => Ok(drive.find(object).await?.is_some()),
        }
    }
}
