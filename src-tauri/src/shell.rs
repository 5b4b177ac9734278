//! The OS glue around the engine: the app state, the tray (a menu only: Linux tray icons
//! deliver no clicks), desktop notifications, and the run watcher that turns the scheduler's
//! progress into UI events and tray refreshes. No polling: the tray is rebuilt when something
//! happens (a run starts or ends, a schedule or setting changes).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use billora_engine::api::{
    Api, DumpProgress, Lang, Notice, Notifier, RunObserver, RunOutcome, TrayIcon, TrayStatus,
};
use billora_engine::{Error, ErrorCode};
use serde::Serialize;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

pub const TRAY_ID: &str = "main";

/// What the commands share.
#[derive(Debug)]
pub struct App {
    pub api: Arc<Api>,
    /// Which machine the schedule and history screens show (this one, or a server's daemon).
    pub console: billora_engine::api::Console,
    /// The HTTP API this app serves (Settings → HTTP API): its address and how to stop it.
    pub http: tokio::sync::Mutex<Option<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>)>>,
}

/// Starts, moves or stops the HTTP API as its saved settings say. The same routes as
/// `billora-backup daemon --listen`, on this computer only (loopback, no TLS needed).
pub async fn apply_http_api(app: &App) -> Result<(), Error> {
    let settings = app.api.http_api_settings().await?;
    let mut running = app.http.lock().await;
    let wanted = if settings.enabled {
        Some(settings.socket_addr()?)
    } else {
        None
    };
    if running.as_ref().map(|(addr, _)| *addr) == wanted {
        return Ok(());
    }
    if let Some((addr, stop)) = running.take() {
        let _ = stop.send(());
        tracing::info!(address = %addr, "stopped serving the HTTP API");
    }
    let Some(addr) = wanted else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        Error::invalid("address", format!("cannot listen on {addr}: {e}"))
            .with_hint("choose another port, or stop what uses it")
    })?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = billora_http::router(app.api.clone(), "/api", &[]);
    tauri::async_runtime::spawn(async move {
        let _ = billora_http::serve(listener, router, None, async {
            let _ = stopped.await;
        })
        .await;
    });
    tracing::info!(address = %addr, "serving the HTTP API");
    *running = Some((addr, stop));
    Ok(())
}

/// The language: the saved choice, else the system's (`LANG`/`LC_ALL` starting with `th`).
pub async fn lang(app: &App) -> Lang {
    app.api.language(system_lang()).await
}

pub fn system_lang() -> Lang {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_default();
    if locale.to_ascii_lowercase().starts_with("th") {
        Lang::Th
    } else {
        Lang::En
    }
}

/// Shows the main window (from the tray, a second launch, or start-up), creating it when it
/// was closed: a closed window is destroyed, so the app waits in the tray with no web view
/// (about a tenth of the memory).
pub fn show_window(app: &AppHandle) {
    let window = match app.get_webview_window("main") {
        Some(window) => window,
        None => {
            let Some(config) = app.config().app.windows.iter().find(|w| w.label == "main") else {
                return;
            };
            match tauri::WebviewWindowBuilder::from_config(app, config).and_then(|b| b.build()) {
                Ok(window) => window,
                Err(e) => {
                    tracing::error!(error = %e, "cannot open the window");
                    return;
                }
            }
        }
    };
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
}

/// Desktop popups through the notification daemon (D-Bus `Notify` on Linux).
pub struct DesktopNotifier(pub AppHandle);

impl std::fmt::Debug for DesktopNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DesktopNotifier")
    }
}

impl Notifier for DesktopNotifier {
    fn send(&self, notice: &Notice) -> billora_engine::Result<()> {
        // The e-mail's body is long; the popup shows the summary (a failure's reason first).
        self.0
            .notification()
            .builder()
            .title(&notice.subject)
            .body(notice.popup())
            .show()
            .map_err(|e| Error::new(ErrorCode::Io, format!("desktop notification: {e}")))
    }
}

/// Live progress of a run, as the UI receives it.
#[derive(Debug, Clone, Serialize)]
struct RunEvent<'a> {
    schedule_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<&'a DumpProgress>,
}

/// Passes the scheduler's run events to the UI (throttled) and refreshes the tray.
pub struct Watcher {
    app: AppHandle,
    last_progress: Mutex<Option<Instant>>,
    /// The tray's progress line is rebuilt at most every few seconds (a menu, not a bar).
    last_tray: Mutex<Option<Instant>>,
}

impl Watcher {
    pub fn new(app: AppHandle) -> Watcher {
        Watcher {
            app,
            last_progress: Mutex::new(None),
            last_tray: Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watcher")
    }
}

impl RunObserver for Watcher {
    fn started(&self, schedule_id: i64) {
        let _ = self.app.emit(
            "run-started",
            RunEvent {
                schedule_id,
                status: Some("running"),
                progress: None,
            },
        );
        refresh_tray(&self.app);
    }

    fn progress(&self, schedule_id: i64, progress: &DumpProgress) {
        let mut last = self.last_progress.lock().expect("not poisoned");
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(250)) {
            return;
        }
        *last = Some(Instant::now());
        let _ = self.app.emit(
            "run-progress",
            RunEvent {
                schedule_id,
                status: None,
                progress: Some(progress),
            },
        );
        let mut tray = self.last_tray.lock().expect("not poisoned");
        if tray.is_none_or(|t| t.elapsed() >= Duration::from_secs(3)) {
            *tray = Some(Instant::now());
            refresh_tray(&self.app);
        }
    }

    fn finished(&self, schedule_id: i64, outcome: Option<&RunOutcome>) {
        let status = outcome.map(|o| o.status.as_str()).unwrap_or("failed");
        let _ = self.app.emit(
            "run-finished",
            RunEvent {
                schedule_id,
                status: Some(status),
                progress: None,
            },
        );
        refresh_tray(&self.app);
    }
}

fn tray_image(icon: TrayIcon) -> Option<Image<'static>> {
    let bytes: &'static [u8] = match icon {
        TrayIcon::Idle => include_bytes!("../icons/tray/idle.png"),
        TrayIcon::Running => include_bytes!("../icons/tray/running.png"),
        TrayIcon::Failed => include_bytes!("../icons/tray/failed.png"),
        TrayIcon::Paused => include_bytes!("../icons/tray/paused.png"),
    };
    Image::from_bytes(bytes).ok()
}

struct TrayWords {
    run_now: &'static str,
    pause: &'static str,
    resume: &'static str,
    open: &'static str,
    quit: &'static str,
    none: &'static str,
    cancel: &'static str,
    quit_running: &'static str,
    quit_anyway: &'static str,
    keep_running: &'static str,
}

fn words(lang: Lang) -> TrayWords {
    match lang {
        Lang::Th => TrayWords {
            run_now: "สำรองข้อมูลทันที",
            pause: "หยุดตารางเวลาทั้งหมดชั่วคราว",
            resume: "เริ่มตารางเวลาอีกครั้ง",
            open: "เปิด Billora Backup",
            quit: "ออกจากโปรแกรม",
            none: "ไม่มีตารางเวลาที่เปิดอยู่",
            cancel: "ยกเลิก",
            quit_running: "กำลังสำรองข้อมูลอยู่ หากออกจากโปรแกรมตอนนี้ การสำรองข้อมูลจะถูกยกเลิกและบันทึกว่ายกเลิก และตารางเวลาจะไม่ทำงานจนกว่าจะเปิดโปรแกรมอีกครั้ง",
            quit_anyway: "ออกจากโปรแกรม",
            keep_running: "ทำงานต่อ",
        },
        Lang::En => TrayWords {
            run_now: "Run now",
            pause: "Pause all schedules",
            resume: "Resume schedules",
            open: "Open Billora Backup",
            quit: "Quit",
            none: "No active schedule",
            cancel: "Cancel",
            quit_running: "A backup is running. Quitting now cancels it (recorded as cancelled), and no schedule runs until Billora Backup is started again.",
            quit_anyway: "Quit anyway",
            keep_running: "Keep running",
        },
    }
}

fn tray_menu(app: &AppHandle, status: &TrayStatus, lang: Lang) -> tauri::Result<Menu<tauri::Wry>> {
    let w = words(lang);
    let last = MenuItem::with_id(app, "status-last", &status.last_line, false, None::<&str>)?;
    let next = MenuItem::with_id(app, "status-next", &status.next_line, false, None::<&str>)?;
    let run_now = Submenu::with_id(app, "run-now", w.run_now, true)?;
    if status.schedules.is_empty() {
        run_now.append(&MenuItem::with_id(
            app,
            "run-none",
            w.none,
            false,
            None::<&str>,
        )?)?;
    }
    for (id, name) in &status.schedules {
        run_now.append(&MenuItem::with_id(
            app,
            format!("run:{id}"),
            name,
            true,
            None::<&str>,
        )?)?;
    }
    let pause = if status.paused {
        MenuItem::with_id(app, "resume", w.resume, true, None::<&str>)?
    } else {
        MenuItem::with_id(app, "pause", w.pause, true, None::<&str>)?
    };
    let open = MenuItem::with_id(app, "open", w.open, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", w.quit, true, None::<&str>)?;
    let sep1 = PredefinedMenuItem::separator(app)?;
    let sep2 = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&last, &next])?;
    // While backups run: a progress line for each, and its Cancel.
    for (id, line) in &status.running {
        menu.append(&MenuItem::with_id(
            app,
            format!("progress:{id}"),
            line,
            false,
            None::<&str>,
        )?)?;
        menu.append(&MenuItem::with_id(
            app,
            format!("cancel:{id}"),
            format!("    {}", w.cancel),
            true,
            None::<&str>,
        )?)?;
    }
    for item in [
        &sep1 as &dyn tauri::menu::IsMenuItem<tauri::Wry>,
        &run_now,
        &pause,
        &open,
        &sep2,
        &quit,
    ] {
        menu.append(item)?;
    }
    Ok(menu)
}

/// Quits, after asking when a backup is running (quitting cancels it).
fn quit(app: &AppHandle, state: Arc<App>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let lang = lang(&state).await;
        let running = state
            .api
            .tray_status(lang)
            .await
            .map(|s| !s.running.is_empty())
            .unwrap_or(false);
        if !running {
            state.api.shutdown();
            app.exit(0);
            return;
        }
        use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};
        let w = words(lang);
        let handle = app.clone();
        app.dialog()
            .message(w.quit_running)
            .title("Billora Backup")
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::OkCancelCustom(
                w.quit_anyway.into(),
                w.keep_running.into(),
            ))
            .show(move |quit| {
                if quit {
                    state.api.shutdown();
                    handle.exit(0);
                }
            });
    });
}

/// Creates the tray icon with its menu.
pub fn build_tray(app: &AppHandle) -> tauri::Result<()> {
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Billora Backup")
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id.as_ref()));
    if let Some(icon) = tray_image(TrayIcon::Idle) {
        builder = builder.icon(icon);
    }
    builder.build(app)?;
    refresh_tray(app);
    Ok(())
}

fn on_menu(app: &AppHandle, id: &str) {
    let state = app.state::<Arc<App>>().inner().clone();
    let handle = app.clone();
    match id {
        "open" => show_window(app),
        "quit" => quit(app, state),
        "pause" | "resume" => {
            let paused = id == "pause";
            tauri::async_runtime::spawn(async move {
                if let Err(e) = state.api.set_paused(paused).await {
                    tracing::error!(error = %e, "pausing failed");
                }
                let _ = handle.emit("settings-changed", ());
                refresh_tray(&handle);
            });
        }
        other => {
            if let Some(schedule_id) = other
                .strip_prefix("cancel:")
                .and_then(|n| n.parse::<i64>().ok())
            {
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = state.api.cancel_run(schedule_id).await {
                        tracing::warn!(error = %e, "cancelling from the tray failed");
                    }
                    refresh_tray(&handle);
                });
                return;
            }
            if let Some(schedule_id) = other.strip_prefix("run:").and_then(|n| n.parse().ok()) {
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = state.api.run_schedule_now(schedule_id).await {
                        let notice = Notice {
                            kind: billora_engine::api::NoticeKind::Failure,
                            recipients: Vec::new(),
                            subject: "Billora Backup".into(),
                            summary: e.message.clone(),
                            body: e.message,
                        };
                        let _ = DesktopNotifier(handle).send(&notice);
                    }
                });
            }
        }
    }
}

/// Rebuilds the tray's menu, icon and tooltip from the engine's status (in the background).
pub fn refresh_tray(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Some(state) = app.try_state::<Arc<App>>().map(|s| s.inner().clone()) else {
            return;
        };
        let lang = lang(&state).await;
        let status = match state.api.tray_status(lang).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the tray status");
                return;
            }
        };
        let Some(tray) = app.tray_by_id(TRAY_ID) else {
            return;
        };
        match tray_menu(&app, &status, lang) {
            Ok(menu) => {
                let _ = tray.set_menu(Some(menu));
            }
            Err(e) => tracing::error!(error = %e, "cannot build the tray menu"),
        }
        let _ = tray.set_icon(tray_image(status.icon));
        let _ = tray.set_tooltip(Some(format!(
            "Billora Backup\n{}\n{}",
            status.last_line, status.next_line
        )));
        let _ = app.emit("tray-status", &status);
    });
}
