//! One error type for the whole engine, carrying a stable [`ErrorCode`].
//!
//! The desktop UI and the CLI branch on the code (never on message text), show the message to
//! people, put it next to `field` when there is one, and show `hint` as "what to do about it".
//! Messages never contain secrets: nothing that formats an error ever sees a password.

use std::fmt;

use serde::Serialize;

/// A stable, machine-readable error kind. Serialized as its name (`"InvalidCron"`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum ErrorCode {
    /// A request field is missing, malformed or out of range.
    InvalidInput,
    /// A cron expression does not parse or can never fire.
    InvalidCron,
    /// A time zone name is not a known IANA zone.
    InvalidTimeZone,
    /// The thing asked for (schedule, run, connection) does not exist.
    NotFound,
    /// The request clashes with existing state (a name already taken).
    Conflict,
    /// The app's own store (SQLite) failed.
    Store,
    /// A file-system operation failed.
    Io,
    /// The disk or file system is full.
    DiskFull,
    /// The OS refused access to a file or folder, or the database refused a privilege.
    PermissionDenied,
    /// The database server refused the user name or password.
    AuthFailed,
    /// A server (the database, or a destination's storage) could not be reached (down, wrong
    /// host or port, network gone).
    Unreachable,
    /// TLS to the database server failed.
    TlsFailed,
    /// The database server reported an error.
    DatabaseError,
    /// A transient database condition (deadlock, lock wait timeout) worth retrying.
    Transient,
    /// The OS keyring (Secret Service, Keychain, Credential Manager) is missing or locked.
    SecretStoreUnavailable,
    /// A backup file is damaged: checksum mismatch, truncated, or not a backup.
    Corrupt,
    /// The run was cancelled.
    Cancelled,
    /// A backup or dump file holds a statement a restore will not run: it would write
    /// outside the chosen database, change accounts or server settings, or touch server files.
    UnsafeScript,
    /// The database server presented another certificate than the one pinned for it.
    CertificateChanged,
    /// The SSH server of a connection's tunnel presented another host key than the one
    /// pinned for it.
    HostKeyChanged,
    /// A backup destination (S3, SFTP, WebDAV, a network folder) refused or failed an upload,
    /// a download or a deletion.
    StorageFailed,
    /// The schedule is already being backed up, verified or restored (here or by another
    /// process); the message names who and since when.
    AlreadyRunning,
    /// A bug: a run stopped on an internal error (a panic). The message says where.
    Internal,
}

impl ErrorCode {
    /// Whether the error is the caller's input (exit code 2) rather than a failed operation (1).
    pub fn is_input_error(self) -> bool {
        matches!(
            self,
            ErrorCode::InvalidInput
                | ErrorCode::InvalidCron
                | ErrorCode::InvalidTimeZone
                | ErrorCode::NotFound
                | ErrorCode::Conflict
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An engine error: a code, a sentence for people, the request field it is about, and a hint.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = EngineError))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, rename = "EngineError"))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub hint: Option<String>,
    /// The hint in Thai, for the app's Thai screens (`hints::in_thai`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub hint_th: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            field: None,
            hint: None,
            hint_th: None,
        }
    }

    /// An invalid-input error about one request field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidInput, message).with_field(field)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::NotFound, message)
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        self.hint_th = crate::hints::in_thai(&hint);
        self.hint = Some(hint);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::new(
            ErrorCode::Store,
            format!("the app's database failed: {err}"),
        )
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Error::new(
            ErrorCode::Store,
            format!("could not update the app's database: {err}"),
        )
        .with_hint("the data directory may belong to a newer version of Billora Backup")
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        io_error(err, "a file operation failed")
    }
}

/// Classifies an I/O error (disk full, permission denied) with a sentence saying what failed.
pub fn io_error(err: std::io::Error, what: &str) -> Error {
    use std::io::ErrorKind;
    // Some kinds are only told apart by the OS code on older toolchains and platforms.
    let kind = match (err.kind(), err.raw_os_error()) {
        (_, Some(28 | 122)) if cfg!(unix) => ErrorKind::StorageFull,
        (_, Some(13 | 1 | 30)) if cfg!(unix) => ErrorKind::PermissionDenied,
        (kind, _) => kind,
    };
    match kind {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            Error::new(ErrorCode::DiskFull, format!("{what}: the disk is full")).with_hint(
                "free some space or choose another backup folder; no partial file was kept",
            )
        }
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => Error::new(
            ErrorCode::PermissionDenied,
            format!("{what}: permission denied ({err})"),
        )
        .with_hint("make the folder writable for this user, or choose another folder"),
        _ => Error::new(ErrorCode::Io, format!("{what}: {err}")),
    }
}
