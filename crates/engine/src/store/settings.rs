//! The settings table: SMTP, language, and the small key/value facts the app keeps.

use crate::cron::Lang;
use crate::error::{Error, ErrorCode, Result};
use crate::notify::{SmtpSettings, SMTP_SECRET_KEY, SMTP_SETTING};
use crate::secrets::{PasswordSource, SecretStore};
use crate::store::Store;

impl Store {
    pub async fn smtp_settings(&self) -> Result<Option<SmtpSettings>> {
        let text: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(SMTP_SETTING)
            .fetch_optional(self.pool())
            .await?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| Error::new(ErrorCode::Store, format!("bad SMTP settings: {e}")))
        })
        .transpose()
    }

    /// Saves SMTP settings; with the keyring source, `password` goes to the keyring first.
    pub async fn set_smtp_settings(
        &self,
        settings: &SmtpSettings,
        password: Option<&str>,
        secrets: &dyn SecretStore,
    ) -> Result<()> {
        settings.validate()?;
        if settings.password_source == PasswordSource::Keyring {
            match password {
                Some(p) => secrets.set(SMTP_SECRET_KEY, p)?,
                None if settings.username.is_some() => {
                    return Err(Error::invalid(
                        "password",
                        "a password is needed for the SMTP user",
                    )
                    .with_hint("pass it on stdin with --password-stdin"))
                }
                None => {}
            }
        }
        let text = serde_json::to_string(settings)
            .map_err(|e| Error::new(ErrorCode::Store, e.to_string()))?;
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(SMTP_SETTING)
            .bind(text)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The app's language for notices (`en` unless set).
    pub async fn language(&self) -> Result<Lang> {
        Ok(self.language_choice().await?.unwrap_or_default())
    }

    /// The language chosen in the settings, if any (the app then follows the system's).
    pub async fn language_choice(&self) -> Result<Option<Lang>> {
        Ok(self.setting("language").await?.and_then(|t| t.parse().ok()))
    }

    pub async fn set_language(&self, lang: Lang) -> Result<()> {
        let value = match lang {
            Lang::En => "en",
            Lang::Th => "th",
        };
        sqlx::query("INSERT INTO settings (key, value) VALUES ('language', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(value)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
