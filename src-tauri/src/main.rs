//! Billora Backup's desktop app: a thin Tauri shell over the engine. It opens the store, starts
//! the engine's scheduler in the background, and lives in the tray: closing the window closes
//! only the window (and its web view, to keep the tray-resident app small), so schedules keep
//! running; "Quit" in the tray menu stops the scheduler (running backups are cancelled and
//! recorded) and exits.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod shell;

use std::sync::Arc;

use billora_engine::api::{
    Api, ApiHost, Notice, NoticeKind, Notifier, OsKeyring, SchedulerConfig, SystemClock,
};
use tauri::{Manager, WindowEvent};

use shell::{App, DesktopNotifier, Watcher};

/// Started at login with this flag, the app stays in the tray.
const HIDDEN_FLAG: &str = "--hidden";

fn main() {
    let log_file = billora_engine::api::resolve_data_dir(None)
        .ok()
        .map(|dir| billora_engine::log_dir(&dir).join("app.log"));
    billora_engine::init_logging(log_file.as_deref());
    billora_engine::api::set_process_role("the app");

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            shell::show_window(app);
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_FLAG]),
        ))
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(commands::handler())
        .setup(|app| {
            let handle = app.handle().clone();
            let state = tauri::async_runtime::block_on(start(handle.clone()))?;
            app.manage(state);
            shell::build_tray(&handle)?;
            if !std::env::args().any(|a| a == HIDDEN_FLAG) {
                shell::show_window(&handle);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { .. } = event {
                // The window closes; the app and its scheduler stay in the tray.
                first_hide_notice(window.app_handle());
            }
        })
        .build(tauri::generate_context!());
    let app = match result {
        Ok(app) => app,
        Err(e) => {
            eprintln!("Billora Backup could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|_app, event| {
        // Closing the last window is not quitting: only "Quit" (an explicit exit code) is.
        if let tauri::RunEvent::ExitRequested { api, code, .. } = event {
            if code.is_none() {
                api.prevent_exit();
            }
        }
    });
}

/// Opens the store and starts the API with its scheduler (unless another process runs it).
async fn start(handle: tauri::AppHandle) -> Result<Arc<App>, Box<dyn std::error::Error>> {
    let host = ApiHost {
        secrets: Arc::new(OsKeyring),
        clock: Arc::new(SystemClock),
        desktop: Some(Arc::new(DesktopNotifier(handle.clone()))),
        watcher: Some(Arc::new(Watcher::new(handle.clone()))),
        config: SchedulerConfig::default(),
    };
    let (api, scheduler) = Api::launch(None, host).await?;
    if let Ok((scheduler, lock)) = scheduler {
        tauri::async_runtime::spawn(async move {
            let _lock = lock; // Held as long as the scheduler runs.
            if let Err(e) = scheduler.run().await {
                tracing::error!(error = %e, "the scheduler stopped");
            }
        });
    }
    let api = Arc::new(api);
    let app = Arc::new(App {
        console: billora_engine::api::Console::new(api.clone()),
        api,
        http: Default::default(),
    });
    if let Err(e) = shell::apply_http_api(&app).await {
        tracing::warn!(error = %e, "the HTTP API is not served");
    }
    Ok(app)
}

/// The first time the window is closed, says that the app is still running in the tray.
fn first_hide_notice(app: &tauri::AppHandle) {
    let state = app.state::<Arc<App>>().inner().clone();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let store = state.api.store();
        if store
            .setting("tray_hint_shown")
            .await
            .ok()
            .flatten()
            .is_some()
        {
            return;
        }
        let _ = store.set_setting("tray_hint_shown", "1").await;
        let th = shell::lang(&state).await == billora_engine::api::Lang::Th;
        let text: String = if th {
            "Billora Backup ยังทำงานอยู่ที่ถาดระบบ และจะสำรองข้อมูลตามตารางเวลาต่อไป เลือก \"ออกจากโปรแกรม\" ในเมนูถาดระบบเพื่อปิด".into()
        } else {
            "Billora Backup is still running in the tray and keeps backing up on schedule. Choose \"Quit\" in the tray menu to stop it.".into()
        };
        let notice = Notice {
            kind: NoticeKind::Test,
            recipients: Vec::new(),
            subject: "Billora Backup".into(),
            summary: text.clone(),
            body: text,
        };
        let _ = DesktopNotifier(handle).send(&notice);
    });
}
