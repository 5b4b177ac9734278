//! The HTTP client of another machine's daemon (`billora-backup daemon --listen`), for the
//! app's console: the same routes any script would call, with the admin token the user gave.
//!
//! Nothing crosses before the channel is proven: HTTPS with the daemon's certificate pinned on
//! first use (SHA-256, like an SSH host key), or plain HTTP to this machine's loopback only.
//! No redirects are followed (a token must never be replayed to another address), and the
//! token appears in no error, log or stored row.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{HistoryQuery, RunStarted, RunView, ScheduleChoices};
use crate::error::{Error, ErrorCode, Result};
use crate::history::Run;
use crate::schedule::{NewSchedule, Schedule, SchedulePatch};
use crate::tls::{CertificateCheck, Policy, SeenCertificate};

/// The largest answer read from a daemon (a history of 10,000 entries is ~10 MiB).
const MAX_ANSWER: usize = 64 << 20;

/// The keyring entry of a daemon's admin token.
pub fn token_key(name: &str) -> String {
    format!("daemon:{}", name.trim().to_lowercase())
}

/// A daemon's address as the user typed it, checked and normalized: `https://host[:port]`
/// with the API's base path (`/api` when none is given), or `http://` to loopback only.
pub fn normalize_url(text: &str) -> Result<String> {
    let text = text.trim();
    let bad = |why: &str| {
        Error::invalid("url", format!("`{text}` {why}")).with_hint(
            "give the address the daemon listens on, e.g. https://backup.example.com:8443/api",
        )
    };
    let url = Url::parse(text).map_err(|_| bad("is not a web address"))?;
    let host = url.host_str().unwrap_or("").to_owned();
    if host.is_empty() {
        return Err(bad("names no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "holds a user name or password: give the token in its own field",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("has a query or fragment: give the address only"));
    }
    match url.scheme() {
        "https" => {}
        "http" if crate::tls::is_loopback(&host) => {}
        "http" => {
            return Err(Error::invalid(
                "url",
                format!("`{text}` is plain HTTP to another machine: the admin token would cross the network in clear"),
            )
            .with_hint("use https:// (start the daemon with --tls-cert and --tls-key); plain http:// is for this computer only"))
        }
        other => return Err(bad(&format!("uses `{other}`: use https://"))),
    }
    let path = url.path().trim_end_matches('/');
    let path = if path.is_empty() { "/api" } else { path };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!("{}://{host}{port}{path}", url.scheme()))
}

/// One daemon, reached with its token over a checked channel.
pub struct DaemonClient {
    /// The user's name for it (in errors).
    name: String,
    base: String,
    token: String,
    http: reqwest::Client,
    pinned: Option<String>,
    seen: Arc<Mutex<Option<SeenCertificate>>>,
}

impl std::fmt::Debug for DaemonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaemonClient")
            .field("name", &self.name)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// `{"success": false, "error": {…}}` as the daemon sends it.
#[derive(Deserialize)]
struct Refusal {
    error: RemoteError,
}

#[derive(Deserialize)]
struct RemoteError {
    code: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    hint: Option<String>,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct ScheduleList {
    schedules: Vec<Schedule>,
}

impl DaemonClient {
    /// A client of the daemon at `url` (normalized), trusting exactly the certificate
    /// `pinned` or, when None, any certificate (first use: [`DaemonClient::seen_certificate`]
    /// tells which one was met, to pin).
    pub fn new(name: &str, url: &str, token: &str, pinned: Option<&str>) -> Result<DaemonClient> {
        let seen = Arc::new(Mutex::new(None));
        let policy = match pinned {
            Some(pin) => Policy::Pinned(pin.to_owned()),
            None => Policy::Record,
        };
        let check = CertificateCheck::new(policy, seen.clone())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::new(ErrorCode::TlsFailed, format!("cannot set up TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(check))
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::new(ErrorCode::Internal, format!("cannot start HTTP: {e}")))?;
        Ok(DaemonClient {
            name: name.trim().to_owned(),
            base: url.to_owned(),
            token: token.to_owned(),
            http,
            pinned: pinned.map(str::to_owned),
            seen,
        })
    }

    /// The certificate the last request met (None over plain HTTP).
    pub fn seen_certificate(&self) -> Option<SeenCertificate> {
        self.seen.lock().ok().and_then(|s| s.clone())
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        self.call_with(method, path, &[], body).await
    }

    async fn call_with<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        let mut url = Url::parse(&format!("{}/{path}", self.base))
            .map_err(|e| Error::invalid("url", format!("`{}` is not usable: {e}", self.base)))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            let json = serde_json::to_vec(body).map_err(|e| {
                Error::new(
                    ErrorCode::Internal,
                    format!("the request could not be written: {e}"),
                )
            })?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        let mut answer = request.send().await.map_err(|e| self.network_error(&e))?;
        let status = answer.status();
        // A server's answer is read up to a bound: one that streams without end cannot fill
        // this computer's memory.
        let mut bytes = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(|e| self.network_error(&e))? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Err(Error::new(
                    ErrorCode::Internal,
                    format!(
                        "the server `{}` sent an answer larger than {} MiB; it was not read",
                        self.name,
                        MAX_ANSWER >> 20
                    ),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                Error::new(
                    ErrorCode::Internal,
                    format!(
                        "the server `{}` answered in a shape this app does not know ({e})",
                        self.name
                    ),
                )
                .with_hint("update this app or the server so that both are the same version")
            });
        }
        Err(self.refusal(status, &bytes))
    }

    /// An HTTP refusal as the engine error it carries (field kept, so the app shows it next
    /// to the field), or in words when the answer is not the API's.
    fn refusal(&self, status: StatusCode, body: &[u8]) -> Error {
        let name = &self.name;
        match status {
            StatusCode::UNAUTHORIZED => {
                return Error::new(
                    ErrorCode::AuthFailed,
                    format!("the server `{name}` refused the token"),
                )
                .with_field("token")
                .with_hint("on the server, create an admin token (`billora-backup token create --name NAME --role admin`) and paste it here")
            }
            StatusCode::FORBIDDEN => {
                return Error::new(
                    ErrorCode::PermissionDenied,
                    format!("the token is not an admin token of the server `{name}`"),
                )
                .with_field("token")
                .with_hint("a monitor token can only read metrics; create an admin token on the server")
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Error::new(
                    ErrorCode::Transient,
                    format!("the server `{name}` refused this computer for a minute after too many wrong tokens"),
                )
                .with_hint("wait a minute, then try again with the right token")
            }
            _ => {}
        }
        match serde_json::from_slice::<Refusal>(body) {
            Ok(Refusal { error }) => {
                let code = serde_json::from_value(serde_json::Value::String(error.code))
                    .unwrap_or(ErrorCode::Internal);
                let mut err = Error::new(code, error.message);
                err.field = error.field;
                err.hint = error.hint;
                err
            }
            Err(_) if status == StatusCode::NOT_FOUND => Error::new(
                ErrorCode::NotFound,
                format!(
                    "`{}` is not the backup API of a Billora Backup daemon",
                    self.base
                ),
            )
            .with_field("url")
            .with_hint("give the address with the API's base path, e.g. https://host:8443/api"),
            Err(_) => Error::new(
                ErrorCode::Unreachable,
                format!("the server `{name}` answered {status}, not as the backup API does"),
            )
            .with_hint(
                "check the address: it should be the daemon's --listen address with its base path",
            ),
        }
    }

    fn network_error(&self, e: &reqwest::Error) -> Error {
        let name = &self.name;
        if let Some(seen) = self.seen_certificate() {
            if let (Some(pin), Some(_)) = (&self.pinned, &seen.refused_because) {
                return Error::new(
                    ErrorCode::CertificateChanged,
                    format!(
                        "the server `{name}` presented a different certificate than the one pinned for it \
                         (pinned {pin}, now {}); the token was not sent",
                        seen.sha256
                    ),
                )
                .with_hint(
                    "if the server's certificate was replaced on purpose (ask whoever runs it to confirm \
                     the new fingerprint), accept it under Settings → Manage a server → Accept the new \
                     certificate; otherwise someone may be intercepting the connection",
                );
            }
        }
        // The chain of causes says what went wrong ("connection refused", "invalid peer
        // certificate"); the URL in it carries no secret.
        let mut why = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(inner) = source {
            why = format!("{why}: {inner}");
            source = inner.source();
        }
        let tls = why.contains("certificate") || why.contains("TLS") || why.contains("tls");
        if tls {
            return Error::new(
                ErrorCode::TlsFailed,
                format!(
                    "no secure channel to the server `{name}` at {}: {why}",
                    self.base
                ),
            )
            .with_field("url")
            .with_hint("check that the address is the daemon's and that it serves HTTPS there");
        }
        Error::new(
            ErrorCode::Unreachable,
            format!("cannot reach the server `{name}` at {}: {why}", self.base),
        )
        .with_field("url")
        .with_hint("check the address and the network, and that `billora-backup daemon --listen` runs on that server")
    }

    pub async fn list_schedules(&self) -> Result<Vec<Schedule>> {
        let list: ScheduleList = self
            .call(Method::GET, "backup/schedules", None::<&()>)
            .await?;
        Ok(list.schedules)
    }

    pub async fn create_schedule(&self, request: &NewSchedule) -> Result<Schedule> {
        let answer: Data<Schedule> = self
            .call(Method::POST, "backup/schedules", Some(request))
            .await?;
        Ok(answer.data)
    }

    pub async fn update_schedule(&self, id: i64, patch: &SchedulePatch) -> Result<Schedule> {
        let answer: Data<Schedule> = self
            .call(Method::PUT, &format!("backup/schedules/{id}"), Some(patch))
            .await?;
        Ok(answer.data)
    }

    pub async fn delete_schedule(&self, id: i64) -> Result<Schedule> {
        let answer: Data<Schedule> = self
            .call(
                Method::DELETE,
                &format!("backup/schedules/{id}"),
                None::<&()>,
            )
            .await?;
        Ok(answer.data)
    }

    pub async fn toggle_schedule(&self, id: i64) -> Result<Schedule> {
        let answer: Data<Schedule> = self
            .call(
                Method::POST,
                &format!("backup/schedules/{id}/toggle"),
                None::<&()>,
            )
            .await?;
        Ok(answer.data)
    }

    pub async fn start_run(&self, id: i64) -> Result<RunStarted> {
        let answer: Data<RunStarted> = self
            .call(
                Method::POST,
                &format!("backup/schedules/{id}/run"),
                None::<&()>,
            )
            .await?;
        Ok(answer.data)
    }

    pub async fn list_history(&self, query: &HistoryQuery) -> Result<Vec<Run>> {
        let pairs: Vec<(&str, String)> = [
            ("schedule_id", query.schedule_id.map(|v| v.to_string())),
            ("status", query.status.clone()),
            ("limit", query.limit.map(|v| v.to_string())),
            ("before_id", query.before_id.map(|v| v.to_string())),
            ("from", query.from.clone()),
            ("to", query.to.clone()),
            ("search", query.search.clone()),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v)))
        .collect();
        let answer: Data<Vec<Run>> = self
            .call_with(Method::GET, "backup/history", &pairs, None::<&()>)
            .await?;
        Ok(answer.data)
    }

    /// A run with its progress while the daemon runs it.
    pub async fn get_run(&self, id: i64) -> Result<RunView> {
        let answer: Data<RunView> = self
            .call(Method::GET, &format!("backup/runs/{id}"), None::<&()>)
            .await?;
        Ok(answer.data)
    }

    pub async fn schedule_choices(&self) -> Result<ScheduleChoices> {
        let answer: Data<ScheduleChoices> = self
            .call(Method::GET, "backup/choices", None::<&()>)
            .await?;
        Ok(answer.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_https_or_loopback_http_with_a_base_path() {
        let ok = [
            (
                "https://backup.example.com:8443/api/",
                "https://backup.example.com:8443/api",
            ),
            (
                "https://backup.example.com",
                "https://backup.example.com/api",
            ),
            ("  http://127.0.0.1:7433  ", "http://127.0.0.1:7433/api"),
            ("http://localhost:7433/", "http://localhost:7433/api"),
            ("http://[::1]:7433/x", "http://[::1]:7433/x"),
        ];
        for (given, wanted) in ok {
            assert_eq!(
                normalize_url(given).as_deref(),
                Ok(wanted),
                "`{given}` is a daemon address"
            );
        }
        let refused = [
            ("http://192.168.1.5:7433/api", "in clear"),
            ("ftp://host/api", "use https"),
            ("https://user:pw@host/api", "user name or password"),
            ("https://host/api?token=x", "query"),
            ("backup.example.com", "not a web address"),
        ];
        for (given, why) in refused {
            let err = normalize_url(given).expect_err(given);
            assert!(
                err.field.as_deref() == Some("url") && err.message.contains(why),
                "`{given}` is refused on the url field saying `{why}`: {err:?}"
            );
        }
    }

    /// A fake "daemon" on loopback that gives every request the same raw HTTP answer.
    async fn fake_daemon(answer: Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("bound").port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = socket.read(&mut request).await;
                    let _ = socket.write_all(&answer).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        format!("http://127.0.0.1:{port}/api")
    }

    #[tokio::test]
    async fn hostile_answers_are_refused_without_following_or_reading_them_whole() {
        let endless = {
            let mut a =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"schedules\":["
                    .to_vec();
            a.resize(a.len() + MAX_ANSWER + 1, b' ');
            a
        };
        let cases: [(&str, Vec<u8>, ErrorCode, &str); 4] = [
            (
                "a redirect elsewhere",
                b"HTTP/1.1 302 Found\r\nlocation: http://192.0.2.1/steal\r\ncontent-length: 0\r\n\r\n".to_vec(),
                ErrorCode::Unreachable,
                "answered 302",
            ),
            (
                "not JSON",
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello".to_vec(),
                ErrorCode::Internal,
                "shape this app does not know",
            ),
            (
                "an error with a field",
                {
                    let body = r#"{"success":false,"error":{"code":"InvalidCron","message":"bad","field":"x"}}"#;
                    format!(
                        "HTTP/1.1 422 Unprocessable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .into_bytes()
                },
                ErrorCode::InvalidCron,
                "bad",
            ),
            ("an endless answer", endless, ErrorCode::Internal, "larger than 64 MiB"),
        ];
        for (what, answer, code, says) in cases {
            let url = fake_daemon(answer).await;
            let client = DaemonClient::new("fake", &url, "bbk_secret", None).expect("a client");
            let err = client.list_schedules().await.expect_err(what);
            assert!(
                err.code == code
                    && err.message.contains(says)
                    && !err.message.contains("bbk_secret"),
                "{what}: refused as {code} saying `{says}` (never the token): {err:?}"
            );
        }
    }

    #[test]
    fn tokens_are_kept_per_daemon_name_in_any_case() {
        assert_eq!(
            token_key(" Office "),
            token_key("office"),
            "one entry per name"
        );
        assert!(
            token_key("office").starts_with("daemon:"),
            "apart from the connections' entries"
        );
    }
}
