//! The app as the console of a server's daemon: *Settings → Manage a server* keeps each
//! daemon's address, its pinned certificate and (in the keyring) an admin token; the
//! [`Console`] says which machine the schedule and history screens show, and sends their
//! commands to this computer's [`Api`] or to that daemon's HTTP API.
//!
//! Only the spec's schedule and history operations go to a daemon (what its HTTP API offers).
//! Everything else (restore, connections, destinations, a backup's file) stays on this
//! computer, and is refused while a server is shown rather than done on the wrong machine.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use super::daemon::{normalize_url, token_key, DaemonClient};
use super::{Api, Dashboard, HistoryQuery, ScheduleChoices};
use crate::cron::Lang;
use crate::error::{Error, ErrorCode, Result};
use crate::history::Run;
use crate::schedule::{NewSchedule, Schedule, SchedulePatch};
use crate::store::RemoteDaemon;

/// *Manage a server → Add*: the daemon's address and an admin token of it.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct AddDaemonRequest {
    /// What the app calls it ("Office server").
    pub name: String,
    /// `https://host:port/api` (plain `http://` to this computer only).
    pub url: String,
    /// An admin token of that daemon (`billora-backup token create --role admin` there).
    pub token: String,
}

/// *Accept the new certificate*: the fingerprint the server's owner confirmed.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct TrustDaemonRequest {
    pub name: String,
    pub cert_sha256: String,
}

/// Which machine the schedule and history screens show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Viewing {
    /// The server's name; None: this computer.
    pub machine: Option<String>,
    pub url: Option<String>,
}

fn check_daemon_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "give the server a name of 1-64 characters (\"Office server\")",
        ));
    }
    Ok(name)
}

impl Api {
    /// The servers this app is the console of.
    pub async fn list_daemons(&self) -> Result<Vec<RemoteDaemon>> {
        self.store.list_daemons().await
    }

    /// Adds a server: its address is reached, the token must be an admin token of it, and the
    /// certificate met is pinned (its fingerprint is in the answer, to compare with the one
    /// the server's owner reads out). Nothing is kept when any of that fails.
    pub async fn add_daemon(&self, request: AddDaemonRequest) -> Result<RemoteDaemon> {
        let name = check_daemon_name(&request.name)?;
        let url = normalize_url(&request.url)?;
        let token = request.token.trim();
        if token.is_empty() {
            return Err(Error::invalid(
                "token",
                "paste an admin token of that server (`billora-backup token create --name NAME --role admin` there)",
            ));
        }
        if self.store.get_daemon(name).await.is_ok() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("a server named `{name}` is already in the list"),
            )
            .with_field("name")
            .with_hint("choose another name, or remove the old one first"));
        }
        let client = DaemonClient::new(name, &url, token, None)?;
        client.list_schedules().await?;
        let cert = client.seen_certificate().map(|c| c.sha256);
        if url.starts_with("https://") && cert.is_none() {
            return Err(Error::new(
                ErrorCode::TlsFailed,
                format!("the server `{name}` showed no certificate to pin"),
            ));
        }
        let key = token_key(name);
        self.secrets.set(&key, token)?;
        if let Err(err) = self
            .store
            .add_daemon(name, &url, cert.as_deref(), self.now())
            .await
        {
            let _ = self.secrets.delete(&key);
            return Err(err);
        }
        self.store.get_daemon(name).await
    }

    /// Forgets a server and its token (nothing on the server changes).
    pub async fn remove_daemon(&self, name: &str) -> Result<RemoteDaemon> {
        let daemon = self.store.get_daemon(name).await?;
        self.store.remove_daemon(&daemon.name).await?;
        if let Err(err) = self.secrets.delete(&token_key(&daemon.name)) {
            tracing::warn!(daemon = %daemon.name, error = %err, "the server's token stays in the keyring");
        }
        Ok(daemon)
    }

    /// Pins a server's new certificate once it is the one the server presents (and the token
    /// still works with it).
    pub async fn trust_daemon_certificate(
        &self,
        request: TrustDaemonRequest,
    ) -> Result<RemoteDaemon> {
        let daemon = self.store.get_daemon(&request.name).await?;
        let pin = crate::tls::normalize_fingerprint("cert_sha256", &request.cert_sha256)?;
        let client = self.daemon_client_pinned(&daemon, Some(&pin))?;
        client.list_schedules().await?;
        self.store
            .set_daemon_certificate(&daemon.name, &pin)
            .await?;
        self.store.get_daemon(&daemon.name).await
    }

    /// A client of the server `name`, with its kept token and pinned certificate.
    pub(super) async fn daemon_client(&self, name: &str) -> Result<DaemonClient> {
        let daemon = self.store.get_daemon(name).await?;
        self.daemon_client_pinned(&daemon, daemon.cert_sha256.as_deref())
    }

    fn daemon_client_pinned(
        &self,
        daemon: &RemoteDaemon,
        pin: Option<&str>,
    ) -> Result<DaemonClient> {
        if daemon.url.starts_with("https://") && pin.is_none() {
            return Err(Error::new(
                ErrorCode::TlsFailed,
                format!("no certificate is pinned for the server `{}`", daemon.name),
            )
            .with_hint("remove the server and add it again"));
        }
        let token = self.secrets.get(&token_key(&daemon.name))?.ok_or_else(|| {
            Error::new(
                ErrorCode::AuthFailed,
                format!("no token is kept for the server `{}`", daemon.name),
            )
            .with_hint("remove the server and add it again with an admin token")
        })?;
        DaemonClient::new(&daemon.name, &daemon.url, &token, pin)
    }
}

/// The setting that remembers the server shown last, to show it again at the next start.
const LAST_MACHINE: &str = "console_machine";

/// Which machine the app's schedule and history screens show, and the door to it.
#[derive(Debug)]
pub struct Console {
    api: Arc<Api>,
    viewing: RwLock<Option<(RemoteDaemon, Arc<DaemonClient>)>>,
}

impl Console {
    pub fn new(api: Arc<Api>) -> Console {
        Console {
            api,
            viewing: RwLock::new(None),
        }
    }

    async fn remote(&self) -> Option<Arc<DaemonClient>> {
        self.viewing.read().await.as_ref().map(|(_, c)| c.clone())
    }

    /// Shows `machine` (a server's name) or, with None, this computer. A server is reached
    /// first: one that cannot be reached is not switched to.
    pub async fn view(&self, machine: Option<String>) -> Result<Viewing> {
        let next = match machine.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            None => None,
            Some(name) => {
                let daemon = self.api.store.get_daemon(name).await?;
                let client = self.api.daemon_client(&daemon.name).await?;
                client.list_schedules().await?;
                Some((daemon, Arc::new(client)))
            }
        };
        match &next {
            Some((daemon, _)) => {
                self.api
                    .store
                    .set_setting(LAST_MACHINE, &daemon.name)
                    .await?
            }
            None => self.api.store.delete_setting(LAST_MACHINE).await?,
        }
        *self.viewing.write().await = next;
        Ok(self.viewing().await)
    }

    /// At start: shows the server shown when the app last closed. One that cannot be reached
    /// now leaves this computer shown, and the error says why (the app shows it once).
    pub async fn resume(&self) -> Result<Viewing> {
        let Some(name) = self.api.store.setting(LAST_MACHINE).await? else {
            return Ok(self.viewing().await);
        };
        if self.api.store.get_daemon(&name).await.is_err() {
            // Removed meanwhile: nothing to return to.
            self.api.store.delete_setting(LAST_MACHINE).await?;
            return Ok(self.viewing().await);
        }
        // A server that does not answer leaves this computer shown (`view` switches only
        // after reaching it).
        self.view(Some(name)).await
    }

    pub async fn viewing(&self) -> Viewing {
        match &*self.viewing.read().await {
            None => Viewing {
                machine: None,
                url: None,
            },
            Some((daemon, _)) => Viewing {
                machine: Some(daemon.name.clone()),
                url: Some(daemon.url.clone()),
            },
        }
    }

    /// This computer's API, for what only it can do; refused while a server is shown, so
    /// that nothing is done on the wrong machine.
    pub async fn here(&self) -> Result<&Api> {
        match &*self.viewing.read().await {
            None => Ok(&self.api),
            Some((daemon, _)) => Err(Error::invalid(
                "machine",
                format!(
                    "this is done on this computer only, and the app shows the server `{}`",
                    daemon.name
                ),
            )
            .with_hint("switch to This computer first (the switcher above the menu)")),
        }
    }

    pub async fn dashboard(&self, lang: Lang) -> Result<Dashboard> {
        let Some(client) = self.remote().await else {
            return self.api.dashboard(lang).await;
        };
        let schedules = client.list_schedules().await?;
        let runs = client
            .list_history(&HistoryQuery {
                limit: Some(500),
                ..HistoryQuery::default()
            })
            .await?;
        // The progress of what runs there now (the daemon knows it; the history does not).
        let mut live = Vec::new();
        for run in runs.iter().filter(|r| r.status == "running") {
            if let Some(progress) = client.get_run(run.id).await?.progress {
                live.push(progress);
            }
        }
        let connections = client.schedule_choices().await?.connections.len();
        Ok(super::status::remote_dashboard(
            schedules,
            &runs,
            (live, connections),
            self.api.now(),
            lang,
        ))
    }

    pub async fn list_schedules(&self) -> Result<Vec<Schedule>> {
        match self.remote().await {
            None => self.api.list_schedules().await,
            Some(client) => client.list_schedules().await,
        }
    }

    pub async fn create_schedule(&self, request: NewSchedule) -> Result<Schedule> {
        match self.remote().await {
            None => self.api.create_schedule(request).await,
            Some(client) => client.create_schedule(&request).await,
        }
    }

    pub async fn update_schedule(&self, id: i64, patch: SchedulePatch) -> Result<Schedule> {
        match self.remote().await {
            None => self.api.update_schedule(id, patch).await,
            Some(client) => client.update_schedule(id, &patch).await,
        }
    }

    pub async fn delete_schedule(&self, id: i64) -> Result<Schedule> {
        match self.remote().await {
            None => self.api.delete_schedule(id).await,
            Some(client) => client.delete_schedule(id).await,
        }
    }

    pub async fn toggle_schedule(&self, id: i64) -> Result<Schedule> {
        match self.remote().await {
            None => self.api.toggle_schedule(id).await,
            Some(client) => client.toggle_schedule(id).await,
        }
    }

    /// Starts a backup now, here or on the server (where it runs in its daemon).
    pub async fn run_schedule_now(&self, id: i64) -> Result<()> {
        match self.remote().await {
            None => self.api.run_schedule_now(id).await,
            Some(client) => client.start_run(id).await.map(|_| ()),
        }
    }

    pub async fn list_history(&self, query: HistoryQuery) -> Result<Vec<Run>> {
        match self.remote().await {
            None => self.api.list_history(query).await,
            Some(client) => client.list_history(&query).await,
        }
    }

    pub async fn schedule_choices(&self) -> Result<ScheduleChoices> {
        match self.remote().await {
            None => self.api.schedule_choices().await,
            Some(client) => client.schedule_choices().await,
        }
    }

    /// Forgets a server; the app goes back to this computer if it showed that one.
    pub async fn remove_daemon(&self, name: &str) -> Result<RemoteDaemon> {
        let removed = self.api.remove_daemon(name).await?;
        let mut viewing = self.viewing.write().await;
        if viewing
            .as_ref()
            .is_some_and(|(d, _)| d.name.eq_ignore_ascii_case(&removed.name))
        {
            *viewing = None;
        }
        Ok(removed)
    }

    /// Pins a server's new certificate; if it is the one shown, its client uses it at once.
    pub async fn trust_daemon_certificate(
        &self,
        request: TrustDaemonRequest,
    ) -> Result<RemoteDaemon> {
        let trusted = self.api.trust_daemon_certificate(request).await?;
        let mut viewing = self.viewing.write().await;
        if viewing
            .as_ref()
            .is_some_and(|(d, _)| d.name.eq_ignore_ascii_case(&trusted.name))
        {
            let client = self.api.daemon_client(&trusted.name).await?;
            *viewing = Some((trusted.clone(), Arc::new(client)));
        }
        Ok(trusted)
    }
}
