//! The app's commands: one-line adapters over [`billora_engine::api::Api`]. Arguments are
//! validated by the engine; errors cross to the UI as `{code, message, field?, hint?}`.
//! What only the OS can do (folder picker, reveal in the file manager, start at login) is here.

use std::path::PathBuf;
use std::sync::Arc;

use billora_engine::api::{
    AddConnectionRequest, AppInfo, CronPreview, CronPreviewRequest, Dashboard, DestinationForm,
    HistoryQuery, HttpApiSettings, ImportReport, RemoteBackup, RestoreForm,
    RetentionPreviewRequest, Role, SaveSmtpRequest, Settings, TestDraftRequest, TokenInfo,
    TrustCertificateRequest, TrustHostKeyRequest, UpdateConnectionRequest,
};
use billora_engine::api::{
    AddDaemonRequest, RemoteDaemon, ScheduleChoices, TrustDaemonRequest, Viewing,
};
use billora_engine::api::{
    AppliedDeletion, ConnectionCheck, ConnectionProfile, Destination, DestinationCheck, Lang,
    NewSchedule, RestoreProgress, RestoreReport, RetentionDecision, Run, Schedule, SchedulePatch,
    VerifyReport, VerifyRequest,
};
use billora_engine::{Error, ErrorCode};
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::shell::{lang, refresh_tray, App};

/// What every command gets: the app's handle (windows, dialogs, events) and its state.
pub struct Cx<'a> {
    pub handle: AppHandle,
    pub app: State<'a, Arc<App>>,
}

// The Tauri commands and their handler, one per line of `command_table.rs`: each takes the
// handle and the state and calls the function of the same name below.
macro_rules! command_table {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        pub mod handlers {
            use super::*;
            $(
                #[tauri::command]
                pub async fn $name(
                    handle: AppHandle,
                    app: State<'_, Arc<App>>,
                    $($arg: $ty),*
                ) -> Out<$out> {
                    super::$name(&Cx { handle, app }, $($arg),*).await
                }
            )*
        }

        /// The handler of every command in the table.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(handlers::$name),*]
        }
    };
}
include!("command_table.rs");
type Out<T> = Result<T, Error>;

fn os_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Io, format!("{what}: {e}"))
}

/// The app's version, the language it starts in, its data folder.
pub async fn app_info(cx: &Cx<'_>) -> Out<AppInfo> {
    Ok(cx.app.api.app_info(lang(&cx.app).await))
}

pub async fn dashboard(cx: &Cx<'_>) -> Out<Dashboard> {
    cx.app.console.dashboard(lang(&cx.app).await).await
}

pub async fn list_schedules(cx: &Cx<'_>) -> Out<Vec<Schedule>> {
    cx.app.console.list_schedules().await
}

pub async fn create_schedule(cx: &Cx<'_>, request: NewSchedule) -> Out<Schedule> {
    let created = cx.app.console.create_schedule(request).await;
    refresh_tray(&cx.handle);
    created
}

pub async fn update_schedule(cx: &Cx<'_>, id: i64, patch: SchedulePatch) -> Out<Schedule> {
    let updated = cx.app.console.update_schedule(id, patch).await;
    refresh_tray(&cx.handle);
    updated
}

pub async fn delete_schedule(cx: &Cx<'_>, id: i64) -> Out<Schedule> {
    let deleted = cx.app.console.delete_schedule(id).await;
    refresh_tray(&cx.handle);
    deleted
}

pub async fn toggle_schedule(cx: &Cx<'_>, id: i64) -> Out<Schedule> {
    let toggled = cx.app.console.toggle_schedule(id).await;
    refresh_tray(&cx.handle);
    toggled
}

pub async fn run_schedule_now(cx: &Cx<'_>, id: i64) -> Out<()> {
    cx.app.console.run_schedule_now(id).await
}

pub async fn cancel_run(cx: &Cx<'_>, id: i64) -> Out<()> {
    cx.app.console.here().await?.cancel_run(id).await
}

pub async fn set_paused(cx: &Cx<'_>, paused: bool) -> Out<()> {
    let result = cx.app.api.set_paused(paused).await;
    refresh_tray(&cx.handle);
    result
}

pub async fn list_history(cx: &Cx<'_>, query: HistoryQuery) -> Out<Vec<Run>> {
    cx.app.console.list_history(query).await
}

pub async fn show_in_folder(cx: &Cx<'_>, run_id: i64) -> Out<()> {
    let file = cx.app.console.here().await?.backup_file(run_id).await?;
    cx.handle
        .opener()
        .reveal_item_in_dir(&file)
        .map_err(|e| os_error("cannot open the file manager", e))
}

pub async fn cron_preview(cx: &Cx<'_>, request: CronPreviewRequest) -> Out<CronPreview> {
    cx.app.api.cron_preview(request, lang(&cx.app).await).await
}

pub async fn pin_backup(cx: &Cx<'_>, run_id: i64, pinned: bool) -> Out<()> {
    cx.app
        .console
        .here()
        .await?
        .pin_backup(run_id, pinned)
        .await
}

pub async fn delete_backup(cx: &Cx<'_>, run_id: i64) -> Out<AppliedDeletion> {
    cx.app.console.here().await?.delete_backup(run_id).await
}

pub async fn retention_preview(
    cx: &Cx<'_>,
    request: RetentionPreviewRequest,
) -> Out<Vec<RetentionDecision>> {
    cx.app
        .console
        .here()
        .await?
        .retention_preview(request, lang(&cx.app).await)
        .await
}

pub async fn list_connections(cx: &Cx<'_>) -> Out<Vec<ConnectionProfile>> {
    cx.app.api.list_connections().await
}

pub async fn add_connection(cx: &Cx<'_>, request: AddConnectionRequest) -> Out<ConnectionProfile> {
    cx.app.api.add_connection(request).await
}

pub async fn update_connection(
    cx: &Cx<'_>,
    request: UpdateConnectionRequest,
) -> Out<ConnectionProfile> {
    cx.app.api.update_connection(request).await
}

pub async fn test_connection(cx: &Cx<'_>, name: String) -> Out<ConnectionCheck> {
    cx.app.api.test_connection(name).await
}

pub async fn trust_certificate(
    cx: &Cx<'_>,
    request: TrustCertificateRequest,
) -> Out<ConnectionProfile> {
    cx.app.api.trust_certificate(request).await
}

pub async fn trust_host_key(cx: &Cx<'_>, request: TrustHostKeyRequest) -> Out<ConnectionProfile> {
    cx.app.api.trust_host_key(request).await
}

pub async fn test_draft_connection(cx: &Cx<'_>, request: TestDraftRequest) -> Out<ConnectionCheck> {
    cx.app.api.test_draft(request).await
}

pub async fn remove_connection(cx: &Cx<'_>, name: String) -> Out<ConnectionProfile> {
    cx.app.api.remove_connection(name).await
}

pub async fn get_settings(cx: &Cx<'_>) -> Out<Settings> {
    cx.app.api.settings().await
}

pub async fn set_language(cx: &Cx<'_>, language: Lang) -> Out<()> {
    let result = cx.app.api.set_language(language).await;
    refresh_tray(&cx.handle);
    result
}

pub async fn set_default_folder(cx: &Cx<'_>, folder: Option<String>) -> Out<()> {
    cx.app.api.set_default_folder(folder).await
}

/// The OS folder picker; `None` when the admin cancels.
pub async fn pick_folder(cx: &Cx<'_>) -> Out<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    cx.handle.dialog().file().pick_folder(move |folder| {
        let _ = tx.send(folder.and_then(|f| f.into_path().ok()));
    });
    let folder: Option<PathBuf> = rx
        .await
        .map_err(|e| os_error("the folder picker failed", e))?;
    Ok(folder.map(|p| p.display().to_string()))
}

/// The OS file picker (a backup file or a recovery file); `None` when the admin cancels.
pub async fn pick_file(cx: &Cx<'_>) -> Out<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    cx.handle.dialog().file().pick_file(move |file| {
        let _ = tx.send(file.and_then(|f| f.into_path().ok()));
    });
    let file: Option<PathBuf> = rx
        .await
        .map_err(|e| os_error("the file picker failed", e))?;
    Ok(file.map(|p| p.display().to_string()))
}

pub async fn import_recovery_key(cx: &Cx<'_>, path: String) -> Out<Vec<String>> {
    cx.app.api.import_recovery_key(path).await
}

pub async fn import_recovery_text(cx: &Cx<'_>, text: String) -> Out<Vec<String>> {
    cx.app.api.import_recovery_text(text).await
}

pub async fn browse_destination(cx: &Cx<'_>, name: String) -> Out<Vec<RemoteBackup>> {
    cx.app.api.browse_destination(name).await
}

pub async fn import_from_destination(cx: &Cx<'_>, name: String) -> Out<ImportReport> {
    cx.app.api.import_from_destination(name).await
}

/// Asks where to save the history as CSV (the OS save dialog) and writes it there; the path,
/// or `None` when the admin cancels.
pub async fn export_history(cx: &Cx<'_>, query: HistoryQuery) -> Out<Option<String>> {
    let csv = cx.app.console.here().await?.history_csv(query).await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    cx.handle
        .dialog()
        .file()
        .set_file_name("billora-backup-history.csv")
        .add_filter("CSV", &["csv"])
        .save_file(move |file| {
            let _ = tx.send(file.and_then(|f| f.into_path().ok()));
        });
    let file: Option<PathBuf> = rx
        .await
        .map_err(|e| os_error("the save dialog failed", e))?;
    let Some(path) = file else { return Ok(None) };
    std::fs::write(&path, csv).map_err(|e| os_error("writing the CSV file failed", e))?;
    Ok(Some(path.display().to_string()))
}

/// Asks where to save the recovery file (the OS save dialog), then creates the key pair.
/// `None` when the admin cancels.
pub async fn create_encryption_key(cx: &Cx<'_>) -> Out<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    cx.handle
        .dialog()
        .file()
        .set_file_name("billora-recovery-key.txt")
        .save_file(move |file| {
            let _ = tx.send(file.and_then(|f| f.into_path().ok()));
        });
    let file: Option<PathBuf> = rx
        .await
        .map_err(|e| os_error("the save dialog failed", e))?;
    match file {
        None => Ok(None),
        Some(path) => cx
            .app
            .api
            .create_encryption_key(path.display().to_string())
            .await
            .map(Some),
    }
}

pub async fn save_smtp(cx: &Cx<'_>, request: SaveSmtpRequest) -> Out<()> {
    cx.app.api.save_smtp(request).await
}

pub async fn send_test_email(cx: &Cx<'_>, to: String) -> Out<()> {
    cx.app.api.send_test_email(to, lang(&cx.app).await).await
}

pub async fn get_autostart(cx: &Cx<'_>) -> Out<bool> {
    cx.handle
        .autolaunch()
        .is_enabled()
        .map_err(|e| os_error("cannot read the start-at-login setting", e))
}

pub async fn set_autostart(cx: &Cx<'_>, enabled: bool) -> Out<()> {
    let launcher = cx.handle.autolaunch();
    if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    }
    .map_err(|e| os_error("cannot change the start-at-login setting", e))
}

pub async fn restore_backup(cx: &Cx<'_>, form: RestoreForm) -> Out<RestoreReport> {
    let handle = cx.handle.clone();
    let emit = move |p: &RestoreProgress| {
        let _ = handle.emit("restore-progress", p);
    };
    cx.app
        .console
        .here()
        .await?
        .restore(form, Arc::new(emit))
        .await
}

pub async fn check_passphrase(cx: &Cx<'_>, passphrase: String) -> Out<()> {
    cx.app.api.check_passphrase(&passphrase)
}

pub async fn set_schedule_passphrase(cx: &Cx<'_>, id: i64, passphrase: String) -> Out<()> {
    cx.app
        .console
        .here()
        .await?
        .set_schedule_passphrase(id, passphrase)
        .await
}

pub async fn verify_backup(cx: &Cx<'_>, run_id: i64, from: Option<String>) -> Out<VerifyReport> {
    cx.app
        .console
        .here()
        .await?
        .verify_backup(VerifyRequest {
            run_id,
            from,
            on: None,
        })
        .await
}

pub async fn cancel_restore(cx: &Cx<'_>) -> Out<()> {
    cx.app.api.cancel_restore();
    Ok(())
}

pub async fn list_destinations(cx: &Cx<'_>) -> Out<Vec<Destination>> {
    cx.app.api.list_destinations().await
}

pub async fn update_destination(cx: &Cx<'_>, form: DestinationForm) -> Out<Destination> {
    cx.app.api.update_destination(form).await
}

pub async fn add_destination(cx: &Cx<'_>, form: DestinationForm) -> Out<Destination> {
    // Google Drive's consent page opens in the default browser.
    let open = |url: &str| {
        if let Err(e) = cx.handle.opener().open_url(url, None::<&str>) {
            tracing::warn!(error = %e, "cannot open the browser for Google's consent page");
        }
    };
    cx.app.api.add_destination(form, &open).await
}

pub async fn test_destination(cx: &Cx<'_>, name: String) -> Out<DestinationCheck> {
    cx.app.api.test_destination(name).await
}

pub async fn test_destination_draft(cx: &Cx<'_>, form: DestinationForm) -> Out<DestinationCheck> {
    cx.app.api.test_destination_draft(form).await
}

pub async fn remove_destination(cx: &Cx<'_>, name: String) -> Out<Destination> {
    cx.app.api.remove_destination(name).await
}

/// Opens the data folder's `logs/` in the file manager (created if it does not exist yet).
pub async fn open_log_folder(cx: &Cx<'_>) -> Out<()> {
    let dir = billora_engine::log_dir(cx.app.api.data_dir());
    std::fs::create_dir_all(&dir).map_err(|e| os_error("cannot create the log folder", e))?;
    cx.handle
        .opener()
        .open_path(dir.display().to_string(), None::<&str>)
        .map_err(|e| os_error("cannot open the file manager", e))
}

pub async fn get_http_api(cx: &Cx<'_>) -> Out<HttpApiSettings> {
    cx.app.api.http_api_settings().await
}

/// Saves the settings, then starts, moves or stops the API to match.
pub async fn set_http_api(cx: &Cx<'_>, settings: HttpApiSettings) -> Out<HttpApiSettings> {
    let saved = cx.app.api.set_http_api_settings(settings).await?;
    crate::shell::apply_http_api(&cx.app).await?;
    Ok(saved)
}

pub async fn list_tokens(cx: &Cx<'_>) -> Out<Vec<TokenInfo>> {
    cx.app.api.list_tokens().await
}

/// The new token, shown once by the UI.
pub async fn create_token(cx: &Cx<'_>, name: String, role: Role) -> Out<String> {
    cx.app.api.create_token(&name, role).await
}

pub async fn revoke_token(cx: &Cx<'_>, name: String) -> Out<()> {
    cx.app.api.revoke_token(&name).await
}

/// What the schedule editor offers, from the machine shown.
pub async fn schedule_choices(cx: &Cx<'_>) -> Out<ScheduleChoices> {
    cx.app.console.schedule_choices().await
}

pub async fn connection_databases(cx: &Cx<'_>, name: Option<String>) -> Out<Vec<String>> {
    cx.app
        .console
        .here()
        .await?
        .connection_databases(name)
        .await
}

pub async fn list_daemons(cx: &Cx<'_>) -> Out<Vec<RemoteDaemon>> {
    cx.app.api.list_daemons().await
}

pub async fn add_daemon(cx: &Cx<'_>, request: AddDaemonRequest) -> Out<RemoteDaemon> {
    cx.app.api.add_daemon(request).await
}

pub async fn remove_daemon(cx: &Cx<'_>, name: String) -> Out<RemoteDaemon> {
    cx.app.console.remove_daemon(&name).await
}

pub async fn trust_daemon_certificate(
    cx: &Cx<'_>,
    request: TrustDaemonRequest,
) -> Out<RemoteDaemon> {
    cx.app.console.trust_daemon_certificate(request).await
}

/// Switches the schedule and history screens to a server (by name) or back to this computer.
pub async fn view_machine(cx: &Cx<'_>, machine: Option<String>) -> Out<Viewing> {
    cx.app.console.view(machine).await
}

pub async fn viewing(cx: &Cx<'_>) -> Out<Viewing> {
    Ok(cx.app.console.viewing().await)
}

/// At start: the server shown when the app last closed, if it can be reached.
pub async fn resume_machine(cx: &Cx<'_>) -> Out<Viewing> {
    cx.app.console.resume().await
}
