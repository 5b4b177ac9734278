//! The notifier the scheduler uses: every channel a notice goes to, with the e-mail settings
//! read from the store when it is sent.

use crate::error::{Error, ErrorCode, Result};
use crate::notify::{EmailNotifier, Notice, Notifier};
use crate::secrets::SecretStore;
use crate::store::Store;

/// Every channel a notice goes to, with the email settings read when it is sent, so a change
/// in Settings applies to the next notice without a restart: the desktop popup (the app's
/// [`Notifier`], if any) and email to the schedule's `notification_email` when SMTP is set up.
pub struct Outbox {
    store: Store,
    secrets: std::sync::Arc<dyn SecretStore>,
    runtime: tokio::runtime::Handle,
    desktop: Option<std::sync::Arc<dyn Notifier>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("desktop", &self.desktop.is_some())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// Call from inside the tokio runtime; sends must then run on blocking threads.
    pub fn new(
        store: Store,
        secrets: std::sync::Arc<dyn SecretStore>,
        desktop: Option<std::sync::Arc<dyn Notifier>>,
    ) -> Outbox {
        Outbox {
            store,
            secrets,
            runtime: tokio::runtime::Handle::current(),
            desktop,
        }
    }

    fn send_email(&self, notice: &Notice) -> Result<()> {
        if notice.recipients.is_empty() {
            return Ok(());
        }
        let settings = self
            .runtime
            .block_on(self.store.smtp_settings())?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidInput,
                    "email is not set up, so the notification email was not sent",
                )
                .with_hint(
                    "set up the mail server in Settings (or `billora-backup settings smtp set`)",
                )
            })?;
        EmailNotifier::new(settings, &*self.secrets)?.send(notice)
    }
}

impl Notifier for Outbox {
    fn send(&self, notice: &Notice) -> Result<()> {
        self.send_attempt(notice, 0)
    }

    fn send_attempt(&self, notice: &Notice, attempt: u32) -> Result<()> {
        let mut result = Ok(());
        if attempt == 0 {
            if let Some(desktop) = &self.desktop {
                if let Err(e) = desktop.send(notice) {
                    tracing::warn!(error = %e, "the desktop notification failed");
                }
            }
        }
        if let Err(e) = self.send_email(notice) {
            result = Err(e);
        }
        result
    }
}
