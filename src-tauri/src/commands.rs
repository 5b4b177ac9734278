//! The app's commands: one-line adapters over [`billora_engine::api::Api`]. Arguments are
//! validated by the engine; errors cross to the UI as `{code, message, field?, hint?}`.
//! What only the OS can do (folder picker, reveal in the file manager, start at login) is here.

use std::path::PathBuf;
use std::sync::Arc;

use billora_engine::api::{
    AddConnectionRequest, CronPreview, CronPreviewRequest, Dashboard, DestinationForm,
    HistoryQuery, RestoreForm, RetentionPreviewRequest, SaveSmtpRequest, Settings,
    TestDraftRequest, TrustCertificateRequest,
};
use billora_engine::connection::{ConnectionCheck, ConnectionProfile};
use billora_engine::cron::Lang;
use billora_engine::destination::remote::DestinationCheck;
use billora_engine::destination::Destination;
use billora_engine::history::Run;
use billora_engine::restore::{RestoreProgress, RestoreReport};
use billora_engine::retention::AppliedDeletion;
use billora_engine::schedule::{NewSchedule, Schedule, SchedulePatch};
use billora_engine::{Error, ErrorCode};
use serde::Serialize;
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::shell::{lang, refresh_tray, App};

type Api<'a> = State<'a, Arc<App>>;
type Out<T> = Result<T, Error>;

fn os_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Io, format!("{what}: {e}"))
}

/// The app's version and the language it starts in.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    version: &'static str,
    language: Lang,
    data_dir: String,
}

#[tauri::command]
pub async fn app_info(app: Api<'_>) -> Out<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        language: lang(&app).await,
        data_dir: app.api.store().data_dir().display().to_string(),
    })
}

#[tauri::command]
pub async fn dashboard(app: Api<'_>) -> Out<Dashboard> {
    app.api.dashboard(lang(&app).await).await
}

#[tauri::command]
pub async fn list_schedules(app: Api<'_>) -> Out<Vec<Schedule>> {
    app.api.list_schedules().await
}

#[tauri::command]
pub async fn create_schedule(
    handle: AppHandle,
    app: Api<'_>,
    request: NewSchedule,
) -> Out<Schedule> {
    let created = app.api.create_schedule(request).await;
    refresh_tray(&handle);
    created
}

#[tauri::command]
pub async fn update_schedule(
    handle: AppHandle,
    app: Api<'_>,
    id: i64,
    patch: SchedulePatch,
) -> Out<Schedule> {
    let updated = app.api.update_schedule(id, patch).await;
    refresh_tray(&handle);
    updated
}

#[tauri::command]
pub async fn delete_schedule(handle: AppHandle, app: Api<'_>, id: i64) -> Out<Schedule> {
    let deleted = app.api.delete_schedule(id).await;
    refresh_tray(&handle);
    deleted
}

#[tauri::command]
pub async fn toggle_schedule(handle: AppHandle, app: Api<'_>, id: i64) -> Out<Schedule> {
    let toggled = app.api.toggle_schedule(id).await;
    refresh_tray(&handle);
    toggled
}

#[tauri::command]
pub async fn run_schedule_now(app: Api<'_>, id: i64) -> Out<()> {
    app.api.run_schedule_now(id).await
}

#[tauri::command]
pub async fn cancel_run(app: Api<'_>, id: i64) -> Out<()> {
    app.api.cancel_run(id).await
}

#[tauri::command]
pub async fn set_paused(handle: AppHandle, app: Api<'_>, paused: bool) -> Out<()> {
    let result = app.api.set_paused(paused).await;
    refresh_tray(&handle);
    result
}

#[tauri::command]
pub async fn list_history(app: Api<'_>, query: HistoryQuery) -> Out<Vec<Run>> {
    app.api.list_history(query).await
}

#[tauri::command]
pub async fn show_in_folder(handle: AppHandle, app: Api<'_>, run_id: i64) -> Out<()> {
    let file = app.api.backup_file(run_id).await?;
    handle
        .opener()
        .reveal_item_in_dir(&file)
        .map_err(|e| os_error("cannot open the file manager", e))
}

#[tauri::command]
pub async fn cron_preview(app: Api<'_>, request: CronPreviewRequest) -> Out<CronPreview> {
    app.api.cron_preview(request, lang(&app).await).await
}

#[tauri::command]
pub async fn retention_preview(
    app: Api<'_>,
    request: RetentionPreviewRequest,
) -> Out<Vec<AppliedDeletion>> {
    app.api.retention_preview(request).await
}

#[tauri::command]
pub async fn list_connections(app: Api<'_>) -> Out<Vec<ConnectionProfile>> {
    app.api.list_connections().await
}

#[tauri::command]
pub async fn add_connection(app: Api<'_>, request: AddConnectionRequest) -> Out<ConnectionProfile> {
    app.api.add_connection(request).await
}

#[tauri::command]
pub async fn test_connection(app: Api<'_>, name: String) -> Out<ConnectionCheck> {
    app.api.test_connection(name).await
}

#[tauri::command]
pub async fn trust_certificate(
    app: Api<'_>,
    request: TrustCertificateRequest,
) -> Out<ConnectionProfile> {
    app.api.trust_certificate(request).await
}

#[tauri::command]
pub async fn test_draft_connection(
    app: Api<'_>,
    request: TestDraftRequest,
) -> Out<ConnectionCheck> {
    app.api.test_draft(request).await
}

#[tauri::command]
pub async fn remove_connection(app: Api<'_>, name: String) -> Out<ConnectionProfile> {
    app.api.remove_connection(name).await
}

#[tauri::command]
pub async fn get_settings(app: Api<'_>) -> Out<Settings> {
    app.api.settings().await
}

#[tauri::command]
pub async fn set_language(handle: AppHandle, app: Api<'_>, language: Lang) -> Out<()> {
    let result = app.api.set_language(language).await;
    refresh_tray(&handle);
    result
}

#[tauri::command]
pub async fn set_default_folder(app: Api<'_>, folder: Option<String>) -> Out<()> {
    app.api.set_default_folder(folder).await
}

/// The OS folder picker; `None` when the admin cancels.
#[tauri::command]
pub async fn pick_folder(handle: AppHandle) -> Out<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    handle.dialog().file().pick_folder(move |folder| {
        let _ = tx.send(folder.and_then(|f| f.into_path().ok()));
    });
    let folder: Option<PathBuf> = rx
        .await
        .map_err(|e| os_error("the folder picker failed", e))?;
    Ok(folder.map(|p| p.display().to_string()))
}

/// Asks where to save the recovery file (the OS save dialog), then creates the key pair.
/// `None` when the admin cancels.
#[tauri::command]
pub async fn create_encryption_key(handle: AppHandle, app: Api<'_>) -> Out<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    handle
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
        Some(path) => app
            .api
            .create_encryption_key(path.display().to_string())
            .await
            .map(Some),
    }
}

#[tauri::command]
pub async fn save_smtp(app: Api<'_>, request: SaveSmtpRequest) -> Out<()> {
    app.api.save_smtp(request).await
}

#[tauri::command]
pub async fn send_test_email(app: Api<'_>, to: String) -> Out<()> {
    app.api.send_test_email(to, lang(&app).await).await
}

#[tauri::command]
pub async fn get_autostart(handle: AppHandle) -> Out<bool> {
    handle
        .autolaunch()
        .is_enabled()
        .map_err(|e| os_error("cannot read the start-at-login setting", e))
}

#[tauri::command]
pub async fn set_autostart(handle: AppHandle, enabled: bool) -> Out<()> {
    let launcher = handle.autolaunch();
    if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    }
    .map_err(|e| os_error("cannot change the start-at-login setting", e))
}

#[tauri::command]
pub async fn restore_backup(
    handle: AppHandle,
    app: Api<'_>,
    form: RestoreForm,
) -> Out<RestoreReport> {
    let emit = move |p: &RestoreProgress| {
        let _ = handle.emit("restore-progress", p);
    };
    app.api.restore(form, Arc::new(emit)).await
}

#[tauri::command]
pub async fn check_passphrase(app: Api<'_>, passphrase: String) -> Out<()> {
    app.api.check_passphrase(&passphrase)
}

#[tauri::command]
pub async fn set_schedule_passphrase(app: Api<'_>, id: i64, passphrase: String) -> Out<()> {
    app.api.set_schedule_passphrase(id, passphrase).await
}

#[tauri::command]
pub async fn verify_backup(
    app: Api<'_>,
    run_id: i64,
    from: Option<String>,
) -> Out<billora_engine::verify::VerifyReport> {
    app.api.verify_backup(run_id, from).await
}

#[tauri::command]
pub async fn cancel_restore(app: Api<'_>) -> Out<()> {
    app.api.cancel_restore();
    Ok(())
}

#[tauri::command]
pub async fn list_destinations(app: Api<'_>) -> Out<Vec<Destination>> {
    app.api.list_destinations().await
}

#[tauri::command]
pub async fn add_destination(
    handle: AppHandle,
    app: Api<'_>,
    form: DestinationForm,
) -> Out<Destination> {
    // Google Drive's consent page opens in the default browser.
    let open = |url: &str| {
        if let Err(e) = handle.opener().open_url(url, None::<&str>) {
            tracing::warn!(error = %e, "cannot open the browser for Google's consent page");
        }
    };
    app.api.add_destination(form, &open).await
}

#[tauri::command]
pub async fn test_destination(app: Api<'_>, name: String) -> Out<DestinationCheck> {
    app.api.test_destination(name).await
}

#[tauri::command]
pub async fn test_destination_draft(app: Api<'_>, form: DestinationForm) -> Out<DestinationCheck> {
    app.api.test_destination_draft(form).await
}

#[tauri::command]
pub async fn remove_destination(app: Api<'_>, name: String) -> Out<Destination> {
    app.api.remove_destination(name).await
}

/// The handler for every command above (the list in `build.rs` names the same ones).
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_info,
        dashboard,
        list_schedules,
        create_schedule,
        update_schedule,
        delete_schedule,
        toggle_schedule,
        run_schedule_now,
        cancel_run,
        set_paused,
        list_history,
        show_in_folder,
        cron_preview,
        retention_preview,
        list_connections,
        add_connection,
        test_connection,
        trust_certificate,
        test_draft_connection,
        remove_connection,
        get_settings,
        set_language,
        set_default_folder,
        pick_folder,
        create_encryption_key,
        save_smtp,
        send_test_email,
        get_autostart,
        set_autostart,
        restore_backup,
        check_passphrase,
        set_schedule_passphrase,
        verify_backup,
        cancel_restore,
        list_destinations,
        add_destination,
        test_destination,
        test_destination_draft,
        remove_destination,
    ]
}
