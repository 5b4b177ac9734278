//! Google Drive, spoken directly (OpenDAL's Drive service buffers a whole file in memory for
//! one upload request, which a 1 GB backup must not do): OAuth 2.0 for an installed app with
//! a loopback redirect and PKCE, the refresh token in the keyring, then the Drive v3 API —
//! folders found or created by name, resumable uploads in 8 MiB chunks, downloads streamed,
//! and Drive's own `sha256Checksum` of what it stored to prove a copy.
//!
//! The scope is `drive.file`: the app sees only the files and folders it created, so it can
//! never list, change or delete anything else in the account. Every endpoint hangs off three
//! addresses (Google's by default); `api_base` replaces all three, for a stand-in in tests.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use crate::artifact::Sha256;
use crate::error::{Error, ErrorCode, Result};

/// Only the files this app creates (not the rest of the Drive).
pub const SCOPE: &str = "https://www.googleapis.com/auth/drive.file";
const FOLDER_MIME: &str = "application/vnd.google-apps.folder";
/// Resumable upload chunks must be multiples of 256 KiB.
const CHUNK: usize = 8 * 1024 * 1024;

/// Where the OAuth and Drive endpoints are.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub auth: String,
    pub token: String,
    pub api: String,
}

impl Endpoints {
    /// Google's, or all three under `base` (a stand-in).
    pub fn new(base: Option<&str>) -> Endpoints {
        match base {
            Some(base) => {
                let base = base.trim_end_matches('/');
                Endpoints {
                    auth: format!("{base}/o/oauth2/v2/auth"),
                    token: format!("{base}/token"),
                    api: base.to_owned(),
                }
            }
            None => Endpoints {
                auth: "https://accounts.google.com/o/oauth2/v2/auth".into(),
                token: "https://oauth2.googleapis.com/token".into(),
                api: "https://www.googleapis.com".into(),
            },
        }
    }
}

/// What the keyring keeps for a Drive destination.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriveSecret {
    pub client_secret: String,
    pub refresh_token: String,
}

fn http_client() -> Result<reqwest::Client> {
    super::remote::install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| Error::new(ErrorCode::StorageFailed, format!("cannot start HTTP: {e}")))
}

fn net_error(e: reqwest::Error, doing: &str) -> Error {
    let code = if e.is_connect() || e.is_timeout() {
        ErrorCode::Unreachable
    } else {
        ErrorCode::StorageFailed
    };
    // reqwest's message names the URL; ours carry no secrets in URLs (tokens go in headers
    // and bodies), so it is safe to show.
    Error::new(code, format!("{doing} on Google Drive failed: {e}"))
        .with_hint("check the network; Google Drive must be reachable from this computer")
}

async fn status_error(resp: reqwest::Response, doing: &str) -> Error {
    let status = resp.status();
    let body: String = resp
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let code = match status.as_u16() {
        401 | 403 => ErrorCode::PermissionDenied,
        404 => ErrorCode::NotFound,
        429 | 500..=599 => ErrorCode::Transient,
        _ => ErrorCode::StorageFailed,
    };
    let err = Error::new(
        code,
        format!("{doing} on Google Drive failed: HTTP {status}: {body}"),
    );
    if code == ErrorCode::PermissionDenied {
        err.with_hint("connect the destination to Google again (remove it and add it again)")
    } else {
        err
    }
}

/// `application/x-www-form-urlencoded` / query-string encoding.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn random_token(bytes: usize) -> Result<String> {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        Error::new(
            ErrorCode::Io,
            format!("the system has no random numbers: {e}"),
        )
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// The PKCE challenge of a verifier (S256).
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Connects a Drive account: opens Google's consent page (through `open`, the browser),
/// receives the answer on a loopback address, and trades it for a refresh token. Waits at
/// most `wait` for the person to answer.
pub async fn authorize(
    endpoints: &Endpoints,
    client_id: &str,
    client_secret: &str,
    open: &(dyn Fn(&str) + Sync),
    wait: Duration,
) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| crate::error::io_error(e, "listening for Google's answer"))?;
    let port = listener
        .local_addr()
        .map_err(|e| crate::error::io_error(e, "listening for Google's answer"))?
        .port();
    let redirect = format!("http://127.0.0.1:{port}");
    let verifier = random_token(48)?;
    let state = random_token(16)?;
    let url = format!(
        "{}?{}",
        endpoints.auth,
        form(&[
            ("client_id", client_id),
            ("redirect_uri", &redirect),
            ("response_type", "code"),
            ("scope", SCOPE),
            ("code_challenge", &pkce_challenge(&verifier)),
            ("code_challenge_method", "S256"),
            ("state", &state),
            ("access_type", "offline"),
            ("prompt", "consent"),
        ])
    );
    open(&url);
    let code = tokio::time::timeout(wait, receive_code(&listener, &state))
        .await
        .map_err(|_| {
            Error::new(ErrorCode::Cancelled, "Google's answer did not come in time")
                .with_hint("try again, and allow access in the browser window that opens")
        })??;
    let client = http_client()?;
    let resp = client
        .post(&endpoints.token)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("code", &code),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("redirect_uri", &redirect),
            ("grant_type", "authorization_code"),
            ("code_verifier", &verifier),
        ]))
        .send()
        .await
        .map_err(|e| net_error(e, "getting access"))?;
    if !resp.status().is_success() {
        return Err(status_error(resp, "getting access")
            .await
            .with_field("secret"));
    }
    let token: TokenResponse = resp.json_bytes().await?;
    token.refresh_token.ok_or_else(|| {
        Error::new(ErrorCode::AuthFailed, "Google gave no refresh token")
            .with_hint("remove Billora Backup's access in your Google account and connect again")
    })
}

trait JsonBytes {
    async fn json_bytes<T: for<'de> Deserialize<'de>>(self) -> Result<T>;
}

impl JsonBytes for reqwest::Response {
    async fn json_bytes<T: for<'de> Deserialize<'de>>(self) -> Result<T> {
        let bytes = self
            .bytes()
            .await
            .map_err(|e| net_error(e, "reading an answer"))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorCode::StorageFailed,
                format!("Google Drive gave an answer that cannot be read: {e}"),
            )
        })
    }
}

/// Waits for the browser's redirect to the loopback address and returns the code.
async fn receive_code(listener: &tokio::net::TcpListener, state: &str) -> Result<String> {
    loop {
        let (mut socket, _) = listener
            .accept()
            .await
            .map_err(|e| crate::error::io_error(e, "receiving Google's answer"))?;
        let mut buf = vec![0u8; 8192];
        let n = socket.read(&mut buf).await.unwrap_or(0);
        let request = String::from_utf8_lossy(&buf[..n]).into_owned();
        let target = request
            .lines()
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("/");
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let params: Vec<(String, String)> = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("state").as_deref() != Some(state) {
            // Not our redirect (a favicon request, a stray visit): answer and keep waiting.
            let _ = socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let (page, result) = match (get("code"), get("error")) {
            (Some(code), _) => (
                "Billora Backup is connected to Google Drive. You can close this tab.",
                Ok(code),
            ),
            (None, error) => (
                "Billora Backup was not given access. You can close this tab.",
                Err(Error::new(
                    ErrorCode::AuthFailed,
                    format!(
                        "Google did not give access ({})",
                        error.unwrap_or_else(|| "no code".into())
                    ),
                )
                .with_hint("connect again and choose Allow")),
            ),
        };
        let body = format!(
            "<!doctype html><meta charset=utf-8><title>Billora Backup</title><p style=\"font:16px sans-serif;margin:3em\">{page}</p>"
        );
        let _ = socket
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
        return result;
    }
}

/// A file as Drive describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveFile {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub sha256_checksum: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileList {
    files: Vec<DriveFile>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// An authorised connection to one folder of a Drive.
pub struct Drive {
    endpoints: Endpoints,
    client_id: String,
    secret: DriveSecret,
    folder: String,
    http: reqwest::Client,
    access: Mutex<Option<(String, std::time::Instant)>>,
    folder_id: Mutex<Option<String>>,
}

impl std::fmt::Debug for Drive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drive")
            .field("folder", &self.folder)
            .finish_non_exhaustive()
    }
}

/// Quotes a value for a Drive search query.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl Drive {
    pub fn new(
        endpoints: Endpoints,
        client_id: &str,
        secret: DriveSecret,
        folder: &str,
    ) -> Result<Drive> {
        Ok(Drive {
            endpoints,
            client_id: client_id.to_owned(),
            secret,
            folder: folder.trim_matches('/').to_owned(),
            http: http_client()?,
            access: Mutex::new(None),
            folder_id: Mutex::new(None),
        })
    }

    /// A valid access token, refreshed with the refresh token when needed.
    async fn token(&self) -> Result<String> {
        let mut access = self.access.lock().await;
        if let Some((token, until)) = access.as_ref() {
            if std::time::Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let resp = self
            .http
            .post(&self.endpoints.token)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("client_id", &self.client_id),
                ("client_secret", &self.secret.client_secret),
                ("refresh_token", &self.secret.refresh_token),
                ("grant_type", "refresh_token"),
            ]))
            .send()
            .await
            .map_err(|e| net_error(e, "renewing access"))?;
        if !resp.status().is_success() {
            let mut err = status_error(resp, "renewing access").await;
            if err.code == ErrorCode::StorageFailed {
                // 400 invalid_grant: the access was withdrawn or expired.
                err.code = ErrorCode::PermissionDenied;
                err = err.with_hint(
                    "connect the destination to Google again (remove it and add it again)",
                );
            }
            return Err(err);
        }
        let token: TokenResponse = resp.json_bytes().await?;
        let life = token.expires_in.unwrap_or(3600).saturating_sub(60);
        *access = Some((
            token.access_token.clone(),
            std::time::Instant::now() + Duration::from_secs(life),
        ));
        Ok(token.access_token)
    }

    async fn get(&self, url: &str, doing: &str) -> Result<reqwest::Response> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(self.token().await?)
            .send()
            .await
            .map_err(|e| net_error(e, doing))?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(status_error(resp, doing).await)
        }
    }

    async fn search(&self, q: &str, fields: &str) -> Result<Vec<DriveFile>> {
        let url = format!(
            "{}/drive/v3/files?q={}&fields={}&spaces=drive&pageSize=100",
            self.endpoints.api,
            encode(q),
            encode(&format!("files({fields})"))
        );
        let list: FileList = self.get(&url, "searching").await?.json_bytes().await?;
        Ok(list.files)
    }

    /// The folder's id, created (each missing level) on first use.
    async fn folder(&self) -> Result<String> {
        let mut cached = self.folder_id.lock().await;
        if let Some(id) = cached.as_ref() {
            return Ok(id.clone());
        }
        let mut parent = "root".to_owned();
        for name in self.folder.split('/').filter(|s| !s.is_empty()) {
            let q = format!(
                "name = {} and mimeType = {} and {} in parents and trashed = false",
                quoted(name),
                quoted(FOLDER_MIME),
                quoted(&parent)
            );
            parent = match self.search(&q, "id").await?.into_iter().next() {
                Some(found) => found.id,
                None => {
                    let resp = self
                        .http
                        .post(format!("{}/drive/v3/files?fields=id", self.endpoints.api))
                        .bearer_auth(self.token().await?)
                        .header("Content-Type", "application/json; charset=UTF-8")
                        .body(
                            serde_json::json!({"name": name, "mimeType": FOLDER_MIME, "parents": [parent]})
                                .to_string(),
                        )
                        .send()
                        .await
                        .map_err(|e| net_error(e, "creating the folder"))?;
                    if !resp.status().is_success() {
                        return Err(status_error(resp, "creating the folder").await);
                    }
                    resp.json_bytes::<DriveFile>().await?.id
                }
            };
        }
        *cached = Some(parent.clone());
        Ok(parent)
    }

    /// The file named `name` in the folder, if any.
    /// Every file in the folder (name and size), page by page.
    pub async fn list(&self) -> Result<Vec<DriveFile>> {
        let folder = self.folder().await?;
        let q = format!("{} in parents and trashed = false", quoted(&folder));
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/drive/v3/files?q={}&fields={}&spaces=drive&pageSize=1000",
                self.endpoints.api,
                encode(&q),
                encode("nextPageToken,files(id,name,size)")
            );
            if let Some(token) = &page {
                url.push_str(&format!("&pageToken={}", encode(token)));
            }
            let list: FileList = self
                .get(&url, "listing the folder")
                .await?
                .json_bytes()
                .await?;
            out.extend(list.files);
            match list.next_page_token {
                Some(token) if !token.is_empty() => page = Some(token),
                _ => return Ok(out),
            }
        }
    }

    pub async fn find(&self, name: &str) -> Result<Option<DriveFile>> {
        let folder = self.folder().await?;
        let q = format!(
            "name = {} and {} in parents and trashed = false",
            quoted(name),
            quoted(&folder)
        );
        Ok(self
            .search(&q, "id,size,sha256Checksum")
            .await?
            .into_iter()
            .next())
    }

    /// Uploads `local` as `name` with a resumable session, in 8 MiB chunks. The file exists in
    /// Drive only once the last chunk is in.
    pub async fn upload(
        &self,
        local: &Path,
        name: &str,
        cancel: &AtomicBool,
        sent: &(dyn Fn(u64) + Sync),
    ) -> Result<DriveFile> {
        let folder = self.folder().await?;
        let size = tokio::fs::metadata(local)
            .await
            .map_err(|e| crate::error::io_error(e, "reading the backup to send"))?
            .len();
        let resp = self
            .http
            .post(format!(
                "{}/upload/drive/v3/files?uploadType=resumable&fields={}",
                self.endpoints.api,
                encode("id,size,sha256Checksum")
            ))
            .bearer_auth(self.token().await?)
            .header("X-Upload-Content-Length", size.to_string())
            .header("Content-Type", "application/json; charset=UTF-8")
            .body(serde_json::json!({"name": name, "parents": [folder]}).to_string())
            .send()
            .await
            .map_err(|e| net_error(e, "starting the upload"))?;
        if !resp.status().is_success() {
            return Err(status_error(resp, "starting the upload").await);
        }
        let session = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::StorageFailed,
                    "Google Drive gave no upload address",
                )
            })?;
        let mut file = tokio::fs::File::open(local)
            .await
            .map_err(|e| crate::error::io_error(e, "opening the backup to send"))?;
        let mut offset = 0u64;
        loop {
            if cancel.load(Ordering::Relaxed) {
                // An unfinished session leaves no file; tell Drive to drop it.
                let _ = self.http.delete(&session).send().await;
                return Err(Error::new(ErrorCode::Cancelled, "the upload was cancelled"));
            }
            let mut block = Vec::with_capacity(CHUNK);
            (&mut file)
                .take(CHUNK as u64)
                .read_to_end(&mut block)
                .await
                .map_err(|e| crate::error::io_error(e, "reading the backup to send"))?;
            let end = offset + block.len() as u64;
            let range = if size == 0 {
                "bytes */0".to_owned()
            } else {
                format!("bytes {offset}-{}/{size}", end.saturating_sub(1))
            };
            let resp = self
                .http
                .put(&session)
                .bearer_auth(self.token().await?)
                .header("Content-Range", range)
                .body(block)
                .send()
                .await
                .map_err(|e| net_error(e, "uploading"))?;
            offset = end;
            sent(offset);
            match resp.status().as_u16() {
                200 | 201 => return resp.json_bytes::<DriveFile>().await,
                308 if offset < size => continue,
                _ => return Err(status_error(resp, "uploading").await),
            }
        }
    }

    /// The response carrying the content of the file `name`.
    async fn media(&self, name: &str) -> Result<reqwest::Response> {
        let file = self.find(name).await?.ok_or_else(|| {
            Error::not_found(format!("`{name}` is not in the Google Drive folder"))
        })?;
        let url = format!(
            "{}/drive/v3/files/{}?alt=media",
            self.endpoints.api, file.id
        );
        self.get(&url, "downloading").await
    }

    /// Streams the file `name` into `out` (a file, or `tokio::io::sink()` to only hash it),
    /// returning its SHA-256.
    pub async fn download(
        &self,
        name: &str,
        out: &mut (dyn tokio::io::AsyncWrite + Unpin + Send),
    ) -> Result<String> {
        let mut resp = self.media(name).await?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| net_error(e, "downloading"))?
        {
            hasher.update(&chunk);
            out.write_all(&chunk)
                .await
                .map_err(|e| crate::error::io_error(e, "saving the downloaded copy"))?;
        }
        Ok(crate::artifact::hex(&hasher.finalize()))
    }

    /// A small file's bytes.
    pub async fn read_small(&self, name: &str) -> Result<Vec<u8>> {
        Ok(self
            .media(name)
            .await?
            .bytes()
            .await
            .map_err(|e| net_error(e, "downloading"))?
            .to_vec())
    }

    /// Writes a small file (replacing one of the same name).
    pub async fn write_small(&self, name: &str, body: Vec<u8>) -> Result<()> {
        let dir =
            std::env::temp_dir().join(format!("billora-drive-{}", crate::paths::random_suffix()));
        crate::paths::create_private_dir(&dir)?;
        let path = dir.join("small");
        let written = tokio::fs::write(&path, body)
            .await
            .map_err(|e| crate::error::io_error(e, "preparing a small upload"));
        let result = match written {
            Ok(()) => {
                self.delete(name).await?;
                self.upload(&path, name, &AtomicBool::new(false), &|_| {})
                    .await
                    .map(|_| ())
            }
            Err(e) => Err(e),
        };
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    /// Deletes the file `name`; true when it was there.
    pub async fn delete(&self, name: &str) -> Result<bool> {
        let Some(file) = self.find(name).await? else {
            return Ok(false);
        };
        let resp = self
            .http
            .delete(format!("{}/drive/v3/files/{}", self.endpoints.api, file.id))
            .bearer_auth(self.token().await?)
            .send()
            .await
            .map_err(|e| net_error(e, "deleting"))?;
        if resp.status().is_success() || resp.status().as_u16() == 404 {
            Ok(true)
        } else {
            Err(status_error(resp, "deleting").await)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_the_unpadded_base64url_of_sha256() {
        // FIPS 180-2's "abc" vector, ba7816bf…15ad, in base64url without padding.
        assert_eq!(
            pkce_challenge("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0",
            "S256: base64url(SHA-256(verifier)), no '=' padding"
        );
    }

    #[test]
    fn query_values_are_encoded_and_decoded_and_quoted() {
        assert_eq!(
            encode("a b/c'd"),
            "a%20b%2Fc%27d",
            "spaces, slashes and quotes are encoded"
        );
        assert_eq!(decode("a%20b+c%2F"), "a b c/", "and decoded back");
        assert_eq!(
            quoted("O'Brien\\x"),
            "'O\\'Brien\\\\x'",
            "a Drive query quotes ' and \\"
        );
    }
}
