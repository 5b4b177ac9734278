//! Connection profiles: which MySQL/MariaDB server and database to back up, how to reach it
//! (TLS mode) and how its tenants are laid out. Only non-secret fields are stored; the password
//! comes from a [`PasswordSource`] (the OS keyring by default).
//!
//! Also the one place that turns a profile into a `mysql` connection and a driver error into an
//! [`ErrorCode`] a person can act on.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};
use crate::secrets::{PasswordSource, SecretStore};
use crate::ssh::{SshTunnel, TunnelSlot};
use crate::tls::{CertificateCheck, Policy, SeenCertificate};

/// How to use TLS to the database server: the stock clients' `--ssl-mode` names, plus
/// `pinned` (trust on first use). See `tls.rs`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Never (plain text: only for a network you trust; the password is still never sent in
    /// clear or to an unverified key).
    Disabled,
    /// Encrypted, but the certificate is not checked (insecure: anyone on the path can
    /// impersonate the server).
    Required,
    /// Encrypted; the certificate must chain to the CA file (or the system's roots), any host
    /// name.
    VerifyCa,
    /// Encrypted; the certificate must chain to the CA file or the system's roots and name the
    /// host.
    VerifyIdentity,
    /// Encrypted; the certificate must be the one recorded on first use (`tls_pin`). The
    /// default: the first successful connection pins the certificate, or switches to
    /// verify-identity when the system's roots accept the server. Without TLS on the server
    /// only a loopback address is reached in plain text. Profiles saved as `preferred`
    /// (older versions, which accepted any certificate or none) read as this.
    #[default]
    #[serde(alias = "preferred")]
    Pinned,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disabled => "disabled",
            TlsMode::Required => "required",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyIdentity => "verify-identity",
            TlsMode::Pinned => "pinned",
        }
    }

    pub(crate) fn from_stored(text: &str) -> Result<Self> {
        Ok(match text {
            "disabled" => TlsMode::Disabled,
            "preferred" | "pinned" => TlsMode::Pinned,
            "required" => TlsMode::Required,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-identity" => TlsMode::VerifyIdentity,
            other => {
                return Err(Error::new(
                    ErrorCode::Store,
                    format!("unknown TLS mode `{other}` in the store"),
                ))
            }
        })
    }

    /// Whether the mode lets a listener read or impersonate (shown as "insecure").
    pub fn is_insecure(self) -> bool {
        matches!(self, TlsMode::Disabled | TlsMode::Required)
    }
}

/// A stored connection profile.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionProfile {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub database: String,
    pub tls_mode: TlsMode,
    pub tls_ca_file: Option<PathBuf>,
    /// With `pinned`: the SHA-256 fingerprint of the server's certificate (`AA:BB:…`), or
    /// null until the first successful connection records it.
    pub tls_pin: Option<String>,
    /// The column that holds the tenant id (`tenant_id`).
    pub tenant_column: String,
    /// The table with one row per tenant (`tenants`, key `id`).
    pub tenant_root_table: String,
    pub password_source: PasswordSource,
    /// Reach the server through this SSH tunnel (`host` and `port` are then as the SSH
    /// server sees them), or directly.
    pub ssh: Option<SshTunnel>,
    pub created_at: String,
    pub updated_at: String,
}

/// A request to add a profile.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    pub name: String,
    pub host: String,
    #[serde(default)]
    pub port: Option<u16>,
    pub username: String,
    pub database: String,
    #[serde(default)]
    pub tls_mode: Option<TlsMode>,
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// With `pinned`: the fingerprint the connection test showed (pinned now rather than at
    /// the first backup).
    #[serde(default)]
    pub tls_pin: Option<String>,
    #[serde(default)]
    pub tenant_column: Option<String>,
    #[serde(default)]
    pub tenant_root_table: Option<String>,
    #[serde(default)]
    pub password_source: Option<PasswordSource>,
    /// Reach the server through an SSH tunnel; its password or key passphrase is the
    /// request's `ssh_secret` (kept in the keyring).
    #[serde(default)]
    pub ssh: Option<SshTunnel>,
}

/// The keyring key of a profile's password.
pub fn secret_key(profile_name: &str) -> String {
    format!("connection:{profile_name}")
}

/// Checks a MySQL identifier (database, table or column name) we will quote.
pub fn check_identifier(field: &str, value: &str) -> Result<()> {
    if value.is_empty()
        || value.chars().count() > 64
        || value.ends_with(' ')
        || value.contains('\0')
    {
        return Err(Error::invalid(
            field,
            format!("`{value}` is not a valid MySQL name (1-64 characters)"),
        ));
    }
    Ok(())
}

impl NewConnection {
    /// Every rule of a profile; runs before anything is stored.
    pub fn validate(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "give the connection a name of 1-100 characters",
            ));
        }
        let host = self.host.trim();
        if host.is_empty()
            || host.len() > 255
            || host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            return Err(Error::invalid(
                "host",
                format!("`{host}` is not a host name or IP address"),
            ));
        }
        if self.port == Some(0) {
            return Err(Error::invalid("port", "the port must be 1-65535"));
        }
        if self.username.is_empty()
            || self.username.chars().count() > 80
            || self.username.contains('\0')
        {
            return Err(Error::invalid(
                "username",
                "the user name must be 1-80 characters",
            ));
        }
        check_identifier("database", &self.database)?;
        check_identifier(
            "tenant_column",
            self.tenant_column.as_deref().unwrap_or("tenant_id"),
        )?;
        check_identifier(
            "tenant_root_table",
            self.tenant_root_table.as_deref().unwrap_or("tenants"),
        )?;
        let mode = self.tls_mode.unwrap_or_default();
        match (mode, &self.tls_ca_file) {
            (TlsMode::VerifyCa | TlsMode::VerifyIdentity, Some(path)) if !path.is_file() => {
                return Err(Error::invalid(
                    "tls_ca_file",
                    format!("{} is not a readable file", path.display()),
                ))
            }
            (TlsMode::VerifyCa | TlsMode::VerifyIdentity, _) => {}
            (_, Some(_)) => {
                return Err(Error::invalid(
                    "tls_ca_file",
                    "a CA file is only used with tls_mode verify-ca or verify-identity",
                ))
            }
            _ => {}
        }
        if let Some(pin) = &self.tls_pin {
            if mode != TlsMode::Pinned {
                return Err(Error::invalid(
                    "tls_pin",
                    "a certificate fingerprint is only used with tls_mode pinned",
                ));
            }
            crate::tls::normalize_fingerprint("tls_pin", pin)?;
        }
        if let Some(ssh) = &self.ssh {
            ssh.validate()?;
        }
        match &self.password_source {
            Some(PasswordSource::Env(var))
                if var.is_empty()
                    || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Err(Error::invalid(
                    "password_source",
                    format!("`{var}` is not an environment variable name"),
                ))
            }
            Some(PasswordSource::File(path)) if !path.is_absolute() => Err(Error::invalid(
                "password_source",
                "the password file must be an absolute path",
            )),
            _ => Ok(()),
        }
    }
}

/// Everything needed to open connections to one server, with the password already read.
#[derive(Clone)]
pub struct ServerTarget {
    pub host: String,
    pub port: u16,
    pub username: String,
    password: String,
    pub database: Option<String>,
    pub tls_mode: TlsMode,
    pub tls_ca_file: Option<PathBuf>,
    pub tls_pin: Option<String>,
    /// The profile's name, for messages that say how to fix it.
    pub profile: Option<String>,
    /// One statement per query (no multi-statements): restore connections, which run text
    /// from files.
    pub single_statements: bool,
    /// The certificate the server presented on the last handshake (shared by clones).
    seen: Arc<Mutex<Option<SeenCertificate>>>,
    /// The SSH tunnel every connection goes through, opened on the first and closed when
    /// the last clone of this target is dropped.
    tunnel: Option<Arc<TunnelSlot>>,
}

impl std::fmt::Debug for ServerTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        write!(
            f,
            "ServerTarget({}@{}:{})",
            self.username, self.host, self.port
        )
    }
}

impl ServerTarget {
    pub fn new(profile: &ConnectionProfile, secrets: &dyn SecretStore) -> Result<ServerTarget> {
        let password = profile
            .password_source
            .read(secrets, &secret_key(&profile.name))?;
        let tunnel = match &profile.ssh {
            Some(ssh) => Some(Arc::new(TunnelSlot::for_profile(
                ssh,
                secrets,
                &profile.name,
                (profile.host.clone(), profile.port),
            )?)),
            None => None,
        };
        Ok(ServerTarget {
            host: profile.host.clone(),
            port: profile.port,
            username: profile.username.clone(),
            password,
            database: Some(profile.database.clone()),
            tls_mode: profile.tls_mode,
            tls_ca_file: profile.tls_ca_file.clone(),
            tls_pin: profile.tls_pin.clone(),
            profile: Some(profile.name.clone()),
            single_statements: false,
            seen: Arc::default(),
            tunnel,
        })
    }

    /// A target for a profile not saved yet (the app tests it before saving), with the SSH
    /// tunnel's password or key passphrase when it has one.
    pub fn from_draft(
        draft: &NewConnection,
        password: String,
        ssh_secret: Option<String>,
    ) -> ServerTarget {
        let host = draft.host.trim().to_owned();
        let port = draft.port.unwrap_or(3306);
        let tunnel = draft.ssh.as_ref().map(|ssh| {
            Arc::new(TunnelSlot::new(
                ssh.clone(),
                ssh_secret,
                Some(draft.name.trim().to_owned()).filter(|n| !n.is_empty()),
                (host.clone(), port),
            ))
        });
        ServerTarget {
            host,
            port,
            username: draft.username.clone(),
            password,
            database: Some(draft.database.clone()),
            tls_mode: draft.tls_mode.unwrap_or_default(),
            tls_ca_file: draft.tls_ca_file.clone(),
            tls_pin: draft
                .tls_pin
                .as_deref()
                .and_then(|p| crate::tls::normalize_fingerprint("tls_pin", p).ok()),
            profile: None,
            single_statements: false,
            seen: Arc::default(),
            tunnel,
        }
    }

    /// A target from explicit parts (tests, scratch databases): pinned on first use.
    pub fn with_password(
        host: &str,
        port: u16,
        username: &str,
        password: &str,
        database: Option<&str>,
    ) -> ServerTarget {
        ServerTarget {
            host: host.to_owned(),
            port,
            username: username.to_owned(),
            password: password.to_owned(),
            database: database.map(str::to_owned),
            tls_mode: TlsMode::Pinned,
            tls_ca_file: None,
            tls_pin: None,
            profile: None,
            single_statements: false,
            seen: Arc::default(),
            tunnel: None,
        }
    }

    /// The same server, another default database (or none).
    pub fn for_database(&self, database: Option<&str>) -> ServerTarget {
        ServerTarget {
            database: database.map(str::to_owned),
            ..self.clone()
        }
    }

    /// The same server, one statement per query (for running text read from a file).
    pub fn for_scripts(&self) -> ServerTarget {
        ServerTarget {
            single_statements: true,
            ..self.clone()
        }
    }

    /// The certificate the server presented on the last handshake, if any.
    pub fn seen_certificate(&self) -> Option<SeenCertificate> {
        self.seen.lock().ok().and_then(|seen| seen.clone())
    }

    /// The SSH server's host key fingerprint seen on the last attempt, with a tunnel.
    pub fn seen_host_key(&self) -> Option<String> {
        self.tunnel.as_ref().and_then(|t| t.seen_host_key())
    }

    /// Whether connections go through an SSH tunnel.
    pub fn is_tunneled(&self) -> bool {
        self.tunnel.is_some()
    }

    /// An error of work done through this target, explained by its SSH tunnel when that is
    /// what broke (the SSH server stopped mid-backup, say): a lost connection then says why.
    pub fn explain(&self, err: Error) -> Error {
        match &self.tunnel {
            Some(tunnel) => tunnel.explain(err),
            None => err,
        }
    }

    /// Where the connections are dialled: the server, or the tunnel's near end.
    fn dial(&self) -> Result<(String, u16)> {
        match &self.tunnel {
            Some(tunnel) => {
                let addr = tunnel.endpoint()?;
                Ok((addr.ip().to_string(), addr.port()))
            }
            None => Ok((self.host.clone(), self.port)),
        }
    }

    /// The policy of this target's TLS mode, and whether it authenticates the server.
    fn policy(&self) -> Option<(Policy, bool)> {
        match self.tls_mode {
            TlsMode::Disabled => None,
            TlsMode::Required => Some((Policy::Record, false)),
            TlsMode::VerifyCa => Some((
                Policy::Roots {
                    ca_file: self.tls_ca_file.clone(),
                    check_name: false,
                },
                true,
            )),
            TlsMode::VerifyIdentity => Some((
                Policy::Roots {
                    ca_file: self.tls_ca_file.clone(),
                    check_name: true,
                },
                true,
            )),
            // Trust on first use: the first certificate is taken (and then pinned).
            TlsMode::Pinned => Some(match &self.tls_pin {
                Some(pin) => (Policy::Pinned(pin.clone()), true),
                None => (Policy::Record, true),
            }),
        }
    }

    fn opts(&self, tls: Option<(Policy, bool)>) -> Result<mysql::Opts> {
        let (dial_host, dial_port) = self.dial()?;
        let mut builder = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(dial_host))
            .tcp_port(dial_port)
            .user(Some(self.username.clone()))
            .pass(Some(self.password.clone()))
            .db_name(self.database.clone())
            .prefer_socket(false)
            .tcp_connect_timeout(Some(Duration::from_secs(10)))
            .tcp_keepalive_time_ms(Some(30_000))
            .stmt_cache_size(Some(16))
            .multi_statements(!self.single_statements)
            // Plain text to this machine crosses no network; elsewhere the password goes only
            // through a channel that authenticates the server. Through a tunnel, `host` is
            // the database as the SSH server sees it: its own loopback crosses no network.
            .protect_password(!crate::tls::is_loopback(&self.host));
        if let Some((policy, authenticates)) = tls {
            let mut check = CertificateCheck::new(policy, Arc::clone(&self.seen))?;
            if self.tunnel.is_some() {
                check = check.for_host(&self.host);
            }
            let ssl = mysql::SslOpts::default().with_custom_verifier(Some(mysql::CustomVerifier {
                verifier: Arc::new(check),
                authenticates,
            }));
            builder = builder.ssl_opts(Some(ssl));
        }
        Ok(builder.into())
    }

    /// Opens a connection, following the TLS mode (through the SSH tunnel, if the profile
    /// has one). Nothing falls back to plain text, except a pinned connection to a loopback
    /// address (of the SSH server, with a tunnel) whose server has no TLS.
    pub fn connect(&self) -> Result<mysql::Conn> {
        self.connect_once().map_err(|e| self.explain(e))
    }

    fn connect_once(&self) -> Result<mysql::Conn> {
        let what = match &self.tunnel {
            Some(_) => format!("{}:{} (through the SSH tunnel)", self.host, self.port),
            None => format!("{}:{}", self.host, self.port),
        };
        if let Ok(mut seen) = self.seen.lock() {
            *seen = None;
        }
        let policy = self.policy();
        let tls = policy.is_some();
        match mysql::Conn::new(self.opts(policy)?) {
            Ok(conn) => Ok(conn),
            Err(mysql::Error::DriverError(mysql::DriverError::TlsNotSupported))
                if self.tls_mode == TlsMode::Pinned && crate::tls::is_loopback(&self.host) =>
            {
                mysql::Conn::new(self.opts(None)?).map_err(|e| db_error(e, &what))
            }
            Err(mysql::Error::DriverError(mysql::DriverError::TlsNotSupported)) if tls => {
                Err(Error::new(
                    ErrorCode::TlsFailed,
                    format!("{what}: the server does not offer TLS, so the password and the data would cross the network readable; nothing was sent"),
                )
                .with_field("tls_mode")
                .with_hint(
                    "enable TLS on the database server (MariaDB and MySQL: ssl_cert and ssl_key), \
                     or, only on a network you trust, set the connection's TLS mode to disabled",
                ))
            }
            Err(e) => {
                let seen = self.seen_certificate();
                match (&self.tls_mode, &self.tls_pin, &seen) {
                    (TlsMode::Pinned, Some(pin), Some(seen)) if seen.sha256 != *pin => {
                        Err(crate::tls::certificate_changed(
                            &what,
                            pin,
                            &seen.sha256,
                            self.profile.as_deref(),
                        ))
                    }
                    (TlsMode::VerifyIdentity | TlsMode::VerifyCa, _, Some(seen))
                        if seen.refused_because.is_some() =>
                    {
                        Err(Error::new(
                            ErrorCode::TlsFailed,
                            format!(
                                "{what}: the server's certificate (SHA-256 {}) is not accepted: {}",
                                seen.sha256,
                                seen.refused_because.as_deref().unwrap_or("it does not verify")
                            ),
                        )
                        .with_field("tls_mode")
                        .with_hint(
                            "give the CA file that signed the server's certificate, connect by the \
                             host name the certificate names, or choose TLS mode pinned to trust \
                             this certificate (compare its fingerprint with the server's first)",
                        ))
                    }
                    _ => Err(db_error(e, &what)),
                }
            }
        }
    }
}

/// Classifies a driver error into a code and a sentence; `what` names the server or operation.
pub fn db_error(err: mysql::Error, what: &str) -> Error {
    use mysql::Error as E;
    // A connection cut mid-way (network gone, server killed, a proxy closed it) surfaces as a
    // TLS or codec error on a TLS connection: it is the network, worth a retry, not TLS.
    // Only the transport's errors: a message the server sends is the server's to word.
    let text = err.to_string();
    if !matches!(err, E::MySqlError(_))
        && [
            "close_notify",
            "UnexpectedEof",
            "unexpected end of file",
            "Connection reset",
            "Broken pipe",
        ]
        .iter()
        .any(|cut| text.contains(cut))
    {
        return Error::new(
            ErrorCode::Unreachable,
            format!("{what}: the connection to the database server was cut"),
        )
        .with_hint("check the network and that the server is running; the run is retried");
    }
    match err {
        E::MySqlError(e) => match e.code {
            1045 | 1698 => Error::new(
                ErrorCode::AuthFailed,
                format!("{what}: the server refused the user name or password"),
            )
            .with_hint("check the user name and password of the connection"),
            1044 | 1142 | 1143 | 1227 | 1370 => Error::new(
                ErrorCode::PermissionDenied,
                format!(
                    "{what}: the database user lacks a privilege ({})",
                    e.message
                ),
            )
            .with_hint(
                "grant the user SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the database",
            ),
            1049 => Error::new(ErrorCode::NotFound, format!("{what}: {}", e.message))
                .with_hint("check the database name of the connection"),
            1205 | 1213 => Error::new(ErrorCode::Transient, format!("{what}: {}", e.message)),
            2006 | 2013 | 1053 | 1927 => Error::new(
                ErrorCode::Unreachable,
                format!("{what}: the server went away ({})", e.message),
            ),
            _ => Error::new(ErrorCode::DatabaseError, format!("{what}: {}", e.message)),
        },
        E::DriverError(mysql::DriverError::ConnectTimeout)
        | E::DriverError(mysql::DriverError::CouldNotConnect(_)) => Error::new(
            ErrorCode::Unreachable,
            format!("cannot reach the database server at {what}"),
        )
        .with_hint("check that the server is running and the host and port are right"),
        E::DriverError(mysql::DriverError::PasswordNeedsVerifiedServer) => Error::new(
            ErrorCode::TlsFailed,
            format!(
                "{what}: the server asked for the password in a form a listener could read, \
                 over a connection that does not verify the server; it was not sent"
            ),
        )
        .with_field("tls_mode")
        .with_hint(
            "choose TLS mode pinned, verify-ca or verify-identity, so the server is verified \
             before the password is sent",
        ),
        E::DriverError(mysql::DriverError::TlsNotSupported) => Error::new(
            ErrorCode::TlsFailed,
            format!("{what}: the server does not offer TLS"),
        )
        .with_hint("enable TLS on the server, or, only on a network you trust, set the connection's TLS mode to disabled"),
        E::TlsError(e) => Error::new(ErrorCode::TlsFailed, format!("{what}: TLS failed ({e})"))
            .with_hint("check the CA file and the host name, or choose TLS mode pinned to trust the server's certificate"),
        E::IoError(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::HostUnreachable
            | std::io::ErrorKind::NetworkUnreachable => Error::new(
                ErrorCode::Unreachable,
                format!("cannot reach the database server at {what} ({e})"),
            )
            .with_hint("check that the server is running and the host and port are right"),
            _ => Error::new(
                ErrorCode::Unreachable,
                format!("{what}: the connection failed ({e})"),
            ),
        },
        other => {
            // rustls reports a refused certificate through the packet codec's I/O error.
            let text = other.to_string();
            if text.contains("certificate") || text.contains("TLS") {
                Error::new(ErrorCode::TlsFailed, format!("{what}: TLS failed ({text})")).with_hint(
                    "check the CA file and the host name, or choose TLS mode pinned to trust the server's certificate",
                )
            } else {
                Error::new(ErrorCode::DatabaseError, format!("{what}: {text}"))
            }
        }
    }
}

/// What `connection test` reports.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionCheck {
    pub server_version: String,
    pub database: String,
    pub tables: u64,
    pub tls: bool,
    /// The TLS mode the connection used.
    pub tls_mode: TlsMode,
    /// The SHA-256 fingerprint of the server's certificate (`AA:BB:…`), to compare with the
    /// server's and to pin.
    pub certificate_sha256: Option<String>,
    /// Whether this computer's trusted roots accept the certificate for the host name.
    pub certificate_trusted_by_system: bool,
    /// Privileges the dump needs that the user lacks, with what is affected.
    pub missing_privileges: Vec<String>,
    /// What changed or what to know about the channel ("the certificate is now pinned",
    /// "not verified: insecure").
    pub notices: Vec<String>,
    /// With an SSH tunnel: the SSH server's host key fingerprint (`SHA256:…`), to compare
    /// with the server's (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`) and to pin.
    pub ssh_host_key: Option<String>,
}

/// The bytes the profile's database holds on the server (tables' data and indexes), for the
/// free-space estimate of a first backup.
pub fn database_size(target: &ServerTarget) -> Result<u64> {
    use mysql::prelude::Queryable;
    let mut conn = target.connect()?;
    let size: Option<Option<u64>> = conn
        .exec_first(
            "SELECT CAST(SUM(data_length + index_length) AS UNSIGNED) FROM information_schema.tables \
             WHERE table_schema = DATABASE()",
            (),
        )
        .map_err(|e| db_error(e, "reading the database's size"))?;
    Ok(size.flatten().unwrap_or(0))
}

/// Connects, reads the version and checks the privileges a full dump needs.
pub fn check_connection(target: &ServerTarget) -> Result<ConnectionCheck> {
    use mysql::prelude::Queryable;
    let mut conn = target.connect()?;
    let database = target.database.clone().unwrap_or_default();
    let err = |e| db_error(e, "checking the connection");
    let version: String = conn
        .query_first("SELECT VERSION()")
        .map_err(err)?
        .unwrap_or_default();
    let tables: u64 = conn
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
            (&database,),
        )
        .map_err(err)?
        .unwrap_or(0);
    let tls: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .map_err(err)?;
    let grants: Vec<String> = conn.query("SHOW GRANTS FOR CURRENT_USER()").map_err(err)?;
    let missing = missing_privileges(&grants, &database);
    let seen = target.seen_certificate();
    let tls = tls.map(|(_, cipher)| !cipher.is_empty()).unwrap_or(false);
    let mut notices = Vec::new();
    if let Some(key) = target.seen_host_key() {
        notices.push(format!(
            "reached through the SSH tunnel; the SSH server's host key is {key}"
        ));
    }
    if !tls && target.is_tunneled() && crate::tls::is_loopback(&target.host) {
        notices.push(
            "encrypted by the SSH tunnel; the database is on the SSH server itself".to_owned(),
        );
    } else if !tls && target.is_tunneled() {
        notices.push(format!(
            "encrypted by the SSH tunnel as far as the SSH server; from there to {} the data is not encrypted",
            target.host
        ));
    } else if !tls {
        notices
            .push("not encrypted: the password and the data cross the network readable".to_owned());
    } else if target.tls_mode == TlsMode::Required {
        notices.push(
            "encrypted but not verified (TLS mode required): anyone on the path could pose as the server"
                .to_owned(),
        );
    }
    Ok(ConnectionCheck {
        server_version: version,
        database,
        tables,
        tls,
        tls_mode: target.tls_mode,
        certificate_sha256: seen.as_ref().map(|s| s.sha256.clone()),
        certificate_trusted_by_system: seen.is_some_and(|s| s.trusted_by_system),
        missing_privileges: missing,
        notices,
        ssh_host_key: target.seen_host_key(),
    })
}

/// The privileges (of those a dump uses) that `grants` does not give on `database`.
pub fn missing_privileges(grants: &[String], database: &str) -> Vec<String> {
    let needed = [
        ("SELECT", "reading the tables"),
        ("SHOW VIEW", "views"),
        ("TRIGGER", "triggers"),
        ("EVENT", "scheduled events"),
        (
            "RELOAD",
            "a shared snapshot for parallel readers (one reader is used without it)",
        ),
    ];
    let db_scope = format!("ON `{}`.*", database.replace('`', "``"));
    let mut have: Vec<String> = Vec::new();
    for grant in grants {
        let upper = grant.to_ascii_uppercase();
        let applies = upper.contains(" ON *.* ")
            || grant.contains(&db_scope)
            || upper.contains(&db_scope.to_ascii_uppercase());
        if !applies {
            continue;
        }
        if let Some(list) = upper
            .strip_prefix("GRANT ")
            .and_then(|rest| rest.split(" ON ").next())
        {
            have.extend(list.split(',').map(|p| p.trim().to_owned()));
        }
    }
    let all = have.iter().any(|p| p.starts_with("ALL"));
    needed
        .iter()
        .filter(|(p, _)| !all && !have.iter().any(|h| h == p))
        .map(|(p, what)| format!("{p} (for {what})"))
        .collect()
}
