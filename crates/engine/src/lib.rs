//! Billora Backup's engine: everything the desktop app and the `billora-backup` CLI can do,
//! as a plain Rust library with no window and no Tauri, so all of it is tested headless.
//!
//! Map: [`cron`] (when things run), [`schedule`] (what runs, validated), [`store`] (the app's
//! own SQLite state), [`history`] (what ran), [`paths`] (where the data directory is),
//! [`error`] (one error type with stable codes).

pub mod cron;
pub mod error;
pub mod hints;
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
pub mod databases;
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
pub mod ssh;
pub mod tls;
pub mod token;
pub mod verify;

/// The folder of the log files in a data folder.
pub fn log_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("logs")
}

/// Logs with tracing to stderr and, given a file (`<data folder>/logs/daemon.log`), to that
/// file too: size-capped and rotated (5 MB, four old files kept), readable by its owner only.
/// `BILLORA_LOG` sets the filter (default `info`). Nothing logged carries a secret. For the
/// daemon and the desktop app.
pub fn init_logging(file: Option<&std::path::Path>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("BILLORA_LOG").unwrap_or_else(|_| "info".into())
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let file_layer = file.and_then(|path| {
        let dir = path.parent()?;
        paths::create_private_dir(dir).ok()?;
        let rotate = file_rotate::FileRotate::new(
            path,
            file_rotate::suffix::AppendCount::new(4),
            file_rotate::ContentLimit::Bytes(5 * 1024 * 1024),
            file_rotate::compression::Compression::None,
            #[cfg(unix)]
            Some({
                use std::os::unix::fs::OpenOptionsExt;
                // file-rotate uses these as given: read, create and append are its own.
                let mut options = std::fs::OpenOptions::new();
                options.read(true).create(true).append(true).mode(0o600);
                options
            }),
        );
        Some(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(rotate))
                .with_filter(filter()),
        )
    });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
}
