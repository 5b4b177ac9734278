//! The settings screen: language, default folder, mail, encryption keys.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{blocking, Api};

const ENCRYPTION_KEYS: &str = "encryption_keys";
use crate::cron::Lang;
use crate::error::{Error, ErrorCode, Result};
use crate::notify::{Notifier, SmtpSettings, SMTP_SECRET_KEY};

/// The settings screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Settings {
    /// None: follow the system's language.
    pub language: Option<Lang>,
    pub smtp: Option<SmtpSettings>,
    pub default_folder: String,
    pub default_folder_is_custom: bool,
    pub paused: bool,
    pub data_dir: String,
    /// Public keys created in this app (`age1…`), offered in the schedule editor.
    pub encryption_keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct SaveSmtpRequest {
    pub smtp: SmtpSettings,
    /// Needed when a username is set and no password was saved before; empty keeps the old.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub password: Option<String>,
}

impl Api {
    pub async fn settings(&self) -> Result<Settings> {
        Ok(Settings {
            language: self.store.language_choice().await?,
            smtp: self.store.smtp_settings().await?,
            default_folder: self.store.default_backup_dir().await?.display().to_string(),
            default_folder_is_custom: self.store.setting("default_folder").await?.is_some(),
            paused: self.store.paused().await?,
            data_dir: self.store.data_dir().display().to_string(),
            encryption_keys: self.encryption_keys().await?,
        })
    }

    async fn encryption_keys(&self) -> Result<Vec<String>> {
        Ok(self
            .store
            .setting(ENCRYPTION_KEYS)
            .await?
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default())
    }

    /// Creates an encryption key pair: the recovery file at `recovery_file` (the admin keeps it
    /// offline), the secret key in the keyring; returns the public key for `encrypt_to`.
    pub async fn create_encryption_key(&self, recovery_file: String) -> Result<String> {
        let path = PathBuf::from(recovery_file.trim());
        let secrets = self.secrets.clone();
        let now = self.now();
        let pair = blocking(move || crate::crypt::create_key(&path, &*secrets, now)).await?;
        self.remember_encryption_keys(std::slice::from_ref(&pair.recipient))
            .await?;
        Ok(pair.recipient)
    }

    /// Adds public keys to the ones *Use my key* offers (each once).
    pub(super) async fn remember_encryption_keys(&self, publics: &[String]) -> Result<()> {
        let mut keys = self.encryption_keys().await?;
        for public in publics {
            if !keys.contains(public) {
                keys.push(public.clone());
            }
        }
        self.store
            .set_setting(ENCRYPTION_KEYS, &keys.join("\n"))
            .await
    }

    pub async fn set_language(&self, lang: Lang) -> Result<()> {
        self.store.set_language(lang).await
    }

    pub async fn set_default_folder(&self, folder: Option<String>) -> Result<()> {
        let folder = folder.filter(|f| !f.trim().is_empty()).map(PathBuf::from);
        if let Some(dir) = &folder {
            crate::schedule::check_destination("default_folder", dir)?;
            crate::paths::create_private_dir(dir).map_err(|e| e.with_field("default_folder"))?;
        }
        self.store.set_default_backup_dir(folder.as_deref()).await
    }

    /// Saves the mail settings; an empty password keeps the saved one.
    pub async fn save_smtp(&self, request: SaveSmtpRequest) -> Result<()> {
        let password = request.password.filter(|p| !p.is_empty());
        let has_saved = self.secrets.get(SMTP_SECRET_KEY).ok().flatten().is_some();
        if request.smtp.username.is_some() && password.is_none() && has_saved {
            // Keep the saved password: store the settings only.
            request.smtp.validate()?;
            return self
                .store
                .set_smtp_settings(
                    &request.smtp,
                    Some(&self.saved_smtp_password()?),
                    &*self.secrets,
                )
                .await;
        }
        self.store
            .set_smtp_settings(&request.smtp, password.as_deref(), &*self.secrets)
            .await
            .map_err(|e| match e.field.as_deref() {
                Some("password") => Error::invalid("password", "enter the mail account's password"),
                _ => e,
            })
    }

    fn saved_smtp_password(&self) -> Result<String> {
        self.secrets
            .get(SMTP_SECRET_KEY)?
            .ok_or_else(|| Error::invalid("password", "enter the mail account's password"))
    }

    /// Sends a test email with the saved settings.
    pub async fn send_test_email(&self, to: String, lang: Lang) -> Result<()> {
        if !crate::schedule::is_email(to.trim()) {
            return Err(Error::invalid(
                "to",
                format!("`{to}` is not an email address"),
            ));
        }
        let settings = self.store.smtp_settings().await?.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidInput,
                "save the mail server settings first",
            )
            .with_field("host")
        })?;
        let notifier = crate::notify::EmailNotifier::new(settings, &*self.secrets)?;
        let notice = crate::notify::test_notice(&to, lang);
        blocking(move || notifier.send(&notice)).await
    }
}

/// The app's version, the language it starts in, and its data folder.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct AppInfo {
    pub version: String,
    pub language: Lang,
    pub data_dir: String,
}

impl Api {
    /// `language` is the one the app starts in (the saved choice, else the system's).
    pub fn app_info(&self, language: Lang) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            language,
            data_dir: self.store.data_dir().display().to_string(),
        }
    }
}

/// Whether the desktop app serves the HTTP API while it runs, and where (this computer only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct HttpApiSettings {
    pub enabled: bool,
    /// A loopback address and port, e.g. `127.0.0.1:8787`.
    pub address: String,
}

impl Default for HttpApiSettings {
    fn default() -> Self {
        HttpApiSettings {
            enabled: false,
            address: "127.0.0.1:8787".into(),
        }
    }
}

const HTTP_API_SETTING: &str = "http_api";

impl HttpApiSettings {
    /// The address to listen on: loopback only (the app has no TLS settings; a server for
    /// other computers is `billora-backup daemon --listen` with `--tls-cert`).
    pub fn socket_addr(&self) -> Result<std::net::SocketAddr> {
        let addr: std::net::SocketAddr = self.address.trim().parse().map_err(|_| {
            Error::invalid(
                "address",
                format!(
                    "`{}` is not an address and port, such as 127.0.0.1:8787",
                    self.address
                ),
            )
        })?;
        if !addr.ip().is_loopback() {
            return Err(Error::invalid(
                "address",
                "the app serves the API to this computer only (127.0.0.1 or [::1])",
            )
            .with_hint("for other computers, run `billora-backup daemon --listen` with --tls-cert and --tls-key"));
        }
        if addr.port() == 0 {
            return Err(Error::invalid("address", "give a port (1-65535)"));
        }
        Ok(addr)
    }
}

impl Api {
    pub async fn http_api_settings(&self) -> Result<HttpApiSettings> {
        Ok(self
            .store
            .setting(HTTP_API_SETTING)
            .await?
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default())
    }

    /// Saves the app's HTTP API settings (checked first); the shell then (re)starts it.
    pub async fn set_http_api_settings(
        &self,
        settings: HttpApiSettings,
    ) -> Result<HttpApiSettings> {
        settings.socket_addr()?;
        let settings = HttpApiSettings {
            address: settings.address.trim().to_owned(),
            ..settings
        };
        let text = serde_json::to_string(&settings)
            .map_err(|e| Error::new(ErrorCode::Io, e.to_string()))?;
        self.store.set_setting(HTTP_API_SETTING, &text).await?;
        Ok(settings)
    }
}
