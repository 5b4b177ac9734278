//! Billora Backup's engine: everything the desktop app and the `billora-backup` CLI can do,
//! as a plain Rust library with no window and no Tauri, so all of it is tested headless.
//!
//! Map: [`cron`] (when things run), [`schedule`] (what runs, validated), [`store`] (the app's
//! own SQLite state), [`history`] (what ran), [`paths`] (where the data directory is),
//! [`error`] (one error type with stable codes).

pub mod cron;
pub mod error;
pub mod history;
pub mod paths;
pub mod schedule;
pub mod store;
pub mod time;

pub use error::{Error, ErrorCode, Result};
pub mod api;
pub mod artifact;
pub mod backup;
pub mod connection;
pub mod copies;
pub mod crypt;
pub mod destination;
pub mod dump;
pub mod manifest;
pub mod notify;
pub mod outbox;
pub mod restore;
pub mod retention;
pub mod run;
pub mod scheduler;
pub mod secrets;
pub mod sql;
pub mod tls;
pub mod verify;

/// Logs to stderr with tracing; `BILLORA_LOG` sets the filter (default `info`). For the
/// daemon and the desktop app.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BILLORA_LOG")
        .unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
