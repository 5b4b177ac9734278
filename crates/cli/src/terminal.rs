//! The terminal side of the CLI: secrets and bodies read from stdin or files, the progress
//! bar, Ctrl-C and SIGTERM, JSON on stdout, and the browser for Google Drive's consent page.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use billora_engine::api::{DumpProgress, RestoreProgress};
use billora_engine::{Error, ErrorCode, Result};
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

/// One secret line from stdin (a trailing newline is not part of it).
pub fn read_stdin_secret(field: &str) -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::invalid(field, format!("cannot read the {field} from stdin: {e}")))?;
    let text = text.trim_end_matches(['\r', '\n']).to_owned();
    if text.is_empty() {
        return Err(Error::invalid(
            field,
            format!("the {field} on stdin is empty"),
        ));
    }
    Ok(text)
}

/// Reads a JSON body from a file, or from stdin for `-`.
pub fn read_body(source: &str) -> Result<String> {
    let mut body = String::new();
    if source == "-" {
        std::io::stdin().read_to_string(&mut body).map_err(|e| {
            Error::invalid("json", format!("cannot read the JSON body from stdin: {e}"))
        })?;
    } else {
        body = std::fs::read_to_string(source).map_err(|e| {
            Error::invalid(
                "json",
                format!("cannot read the JSON body from {source}: {e}"),
            )
        })?;
    }
    Ok(body)
}

pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::new(ErrorCode::Io, format!("cannot format the output: {e}")))?;
    println!("{text}");
    Ok(())
}

pub fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// A backup's progress on the bar: rows, the table, tables done, bytes written.
pub fn show_dump(bar: &ProgressBar, p: &DumpProgress) {
    bar.set_length(p.rows_estimated.max(p.rows_done));
    bar.set_position(p.rows_done);
    bar.set_message(format!(
        "{} ({}/{} tables, {})",
        p.table,
        p.tables_done,
        p.tables_total,
        HumanBytes(p.bytes_done)
    ));
}

/// A restore's progress on the bar.
pub fn show_restore(bar: &ProgressBar, p: &RestoreProgress) {
    bar.set_length(p.sql_bytes_total.unwrap_or(0));
    bar.set_position(p.sql_bytes_done);
    let table = p.table.as_deref().unwrap_or("…");
    let rows = match p.rows_total {
        Some(total) => format!("{} of {total} rows", p.rows_done),
        None => format!("{} rows", p.rows_done),
    };
    bar.set_message(format!("{table}, {rows}"));
}

/// A cancel flag that Ctrl-C sets, for a foreground backup or restore; abort the task when done.
pub fn cancel_on_ctrl_c() -> (Arc<AtomicBool>, tokio::task::JoinHandle<()>) {
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.store(true, Ordering::Relaxed);
        }
    });
    (cancel, task)
}

/// Waits for Ctrl-C, or SIGTERM where there is one (systemd's stop).
pub async fn stop_requested() -> Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| Error::new(ErrorCode::Io, e.to_string()))?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    Ok(())
}

/// Best effort: the desktop's browser (`BROWSER` first, as Python's webbrowser does).
pub fn open_in_browser(url: &str) {
    let program = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".into()
            } else if cfg!(windows) {
                "explorer".into()
            } else {
                "xdg-open".into()
            }
        });
    let _ = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
