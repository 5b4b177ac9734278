//! The command line's shape (clap): every subcommand and flag, with its help text.

use std::path::PathBuf;

use billora_engine::api::{
    Lang, DEFAULT_COMPRESSION_THREADS, DEFAULT_CONNECTIONS, DEFAULT_ZSTD_LEVEL,
};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "billora-backup",
    version,
    about = "Scheduled, safe backups of a Billora MySQL/MariaDB database"
)]
pub struct Cli {
    /// The data directory (store and default backup folder).
    /// Default: $BILLORA_BACKUP_DATA_DIR, else ~/.local/share/billora-backup.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check cron expressions: next run times and a plain-language description.
    #[command(subcommand)]
    Cron(CronCommand),
    /// Create, list, change and delete backup schedules.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Show the backup history (newest first), as JSON or with --csv as CSV.
    History {
        /// Only this schedule's runs.
        #[arg(long)]
        schedule_id: Option<i64>,
        /// Only runs with this status (success, failed, interrupted, cancelled, skipped,
        /// running).
        #[arg(long)]
        status: Option<String>,
        /// Made on or after this day (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Made on or before this day (YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        /// A part of the backup's file name.
        #[arg(long)]
        search: Option<String>,
        /// At most this many (1-10000).
        #[arg(long)]
        limit: Option<u32>,
        /// CSV for a spreadsheet instead of JSON.
        #[arg(long)]
        csv: bool,
    },
    /// Print the data directory in use.
    DataDir,
    /// Database connection profiles (the password goes to the OS keyring).
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Whether backups are being scheduled: the scheduler's state (running, degraded, not
    /// running), which process runs it, its last sign of life, the next due backup and the
    /// running ones, as JSON. Exit code 1 when schedules are active and nothing runs them.
    Status,
    /// Run the scheduler in the foreground (for a server, or a desktop without the app open).
    /// Stops cleanly on SIGTERM/SIGINT; a running backup is cancelled and recorded. Logs to
    /// stderr and to logs/daemon.log in the data folder. Exits with code 1 when its store has
    /// failed for 15 minutes (so systemd's Restart=on-failure starts it again).
    Daemon {
        /// Backups allowed to run at the same time.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=8))]
        max_concurrent: u8,
        /// Also serve the HTTP API (the spec's routes) on this address, e.g. 127.0.0.1:8787.
        /// Off unless given. An address reachable from the network needs --tls-cert and
        /// --tls-key (or --insecure-http).
        #[arg(long, env = "BILLORA_BACKUP_LISTEN", value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// The path the routes are under.
        #[arg(long, default_value = "/api", value_name = "PATH")]
        base_path: String,
        /// The HTTPS certificate chain (PEM).
        #[arg(long, requires = "tls_key", value_name = "FILE")]
        tls_cert: Option<PathBuf>,
        /// The HTTPS private key (PEM).
        #[arg(long, requires = "tls_cert", value_name = "FILE")]
        tls_key: Option<PathBuf>,
        /// Allow plain HTTP on an address reachable from the network (tokens cross it in
        /// clear): only on a network you trust.
        #[arg(long)]
        insecure_http: bool,
        /// A web origin whose pages may call the API from a browser (Billora's admin site,
        /// `https://admin.example.com`); repeat for more. None by default.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
    },
    /// Tokens of the HTTP API: create (shown once), list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// App settings: mail server (SMTP) and language.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Notifications.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Retention of old backups.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Restore a backup (a history entry id, or a file) into a database.
    Restore(RestoreArgs),
    /// Encryption keys (age) for encrypted backups.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Test-restores a backup into a scratch database (then dropped) and compares every
    /// table's rows and content with what was dumped; records `verified` or `verify_failed`.
    Verify {
        /// A history entry id.
        run_id: i64,
        /// The server to restore on (default: the backup's own connection).
        #[arg(long)]
        connection: Option<String>,
        /// Check the copy on this destination (default: the local file, else any copy).
        #[arg(long, value_name = "DESTINATION")]
        from: Option<String>,
    },
    /// Destinations that get a copy of each backup: a network folder, S3-compatible storage,
    /// SFTP, WebDAV (secrets go to the OS keyring).
    #[command(subcommand)]
    Destination(DestinationCommand),
}

#[derive(Debug, Subcommand)]
pub enum DestinationCommand {
    /// Add a destination; `--secret-stdin` reads the S3 secret key or WebDAV password.
    Add(Box<AddDestination>),
    /// List the destinations (no secrets) and the schedules that use them.
    List,
    /// Write, read back and delete a small test file there.
    Test { name: String },
    /// Remove a destination and its keyring secret (refused while a schedule uses it; the
    /// copies already there are left alone).
    Remove { name: String },
}

#[derive(Debug, clap::Args)]
pub struct AddDestination {
    #[arg(long)]
    pub name: String,
    /// folder, s3, sftp, webdav or gdrive.
    #[arg(long)]
    pub kind: String,
    /// folder: the folder's full path.
    #[arg(long)]
    pub path: Option<String>,
    /// s3: the service's address (empty for AWS), e.g. https://s3.us-west-004.backblazeb2.com.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// s3: the region (default us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// s3: the bucket.
    #[arg(long)]
    pub bucket: Option<String>,
    /// s3: a folder inside the bucket.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// s3: bucket.endpoint/key addresses instead of endpoint/bucket/key.
    #[arg(long)]
    pub virtual_host_style: bool,
    /// s3: the access key ID (the secret key is read with --secret-stdin).
    #[arg(long)]
    pub access_key_id: Option<String>,
    /// sftp: the server.
    #[arg(long)]
    pub host: Option<String>,
    /// sftp: the port (22).
    #[arg(long)]
    pub port: Option<u16>,
    /// sftp, webdav: the user name.
    #[arg(long)]
    pub user: Option<String>,
    /// sftp, webdav: the folder on the server.
    #[arg(long, default_value = "")]
    pub folder: String,
    /// sftp: the private key file.
    #[arg(long)]
    pub key_file: Option<String>,
    /// sftp: only servers already in ~/.ssh/known_hosts (default: remember a new server's key).
    #[arg(long)]
    pub strict_host_key: bool,
    /// webdav: the server's address.
    #[arg(long)]
    pub url: Option<String>,
    /// gdrive: the OAuth client ID of a "Desktop app" client (the client secret is read with
    /// --secret-stdin). A browser opens Google's consent page; the answer comes back to this
    /// computer.
    #[arg(long)]
    pub client_id: Option<String>,
    /// gdrive: another address for Google's OAuth and Drive endpoints (a compatible service).
    #[arg(long)]
    pub api_base: Option<String>,
    /// Keep copies this many days on this destination (default: the schedule's).
    #[arg(long)]
    pub retention_days: Option<i64>,
    /// Keep at most this many copies on this destination (default: the schedule's).
    #[arg(long)]
    pub max_backups: Option<i64>,
    /// Read the secret (S3 secret key, WebDAV password, Google OAuth client secret) from stdin.
    #[arg(long)]
    pub secret_stdin: bool,
    /// Save without testing the destination first.
    #[arg(long)]
    pub no_test: bool,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A history entry id, or the path of a backup file (ours or a mysqldump file).
    pub source: String,
    /// The connection profile of the server to restore to.
    #[arg(long)]
    pub connection: String,
    /// The database to restore into (created when missing).
    #[arg(long)]
    pub database: String,
    /// Restore into a database that already has tables (they are replaced); with
    /// --replace-tenant, replace although live tables are missing from the backup or are not
    /// transactional (they are listed first without it).
    #[arg(long)]
    pub force: bool,
    /// For a tenant backup: replace that tenant's rows in the live database, in one transaction.
    #[arg(long)]
    pub replace_tenant: bool,
    /// Keep routines and views running with their definer's rights (SQL SECURITY DEFINER):
    /// only when restoring onto the same server with the same accounts. By default they run
    /// with the caller's rights (SQL SECURITY INVOKER).
    #[arg(long)]
    pub keep_sql_security: bool,
    /// Create scheduled events enabled, as they were (by default they are created disabled).
    #[arg(long)]
    pub enable_events: bool,
    /// Parallel connections for the rows (our own backups only).
    #[arg(long, default_value_t = DEFAULT_CONNECTIONS)]
    pub connections: usize,
    /// Restore rows with their INSERT statements, never with LOAD DATA LOCAL (for a server
    /// or proxy that mishandles LOCAL INFILE; slower).
    #[arg(long)]
    pub inserts: bool,
    /// For an encrypted backup: its recovery key file (else the keyring's key is used).
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// For a backup encrypted with a passphrase: read it from stdin (else the keyring's).
    #[arg(long)]
    pub passphrase_stdin: bool,
    /// For a history entry: restore the copy on this destination (default: the local file,
    /// else any destination's copy).
    #[arg(long, value_name = "DESTINATION")]
    pub from: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Creates a key pair: the secret key goes to the OS keyring (for restores here) and to a
    /// recovery file you keep offline; prints the public key to put in a schedule's
    /// `encrypt_to`.
    Generate {
        /// Where to write the recovery file (created, readable by you only; never overwritten).
        #[arg(long, value_name = "FILE")]
        recovery_file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Mail server settings.
    #[command(subcommand)]
    Smtp(SmtpCommand),
    /// The language of notices: en or th.
    Language { lang: Lang },
}

#[derive(Debug, Subcommand)]
pub enum SmtpCommand {
    /// Set the mail server. The password goes to the OS keyring (--password-stdin), or is read
    /// at send time from an environment variable or a private file.
    Set(Box<SmtpArgs>),
    /// Show the mail server settings (never the password).
    Show,
}

#[derive(Debug, clap::Args)]
pub struct SmtpArgs {
    #[arg(long)]
    pub host: String,
    #[arg(long)]
    pub port: u16,
    /// starttls (required, port 587), tls (implicit, 465) or none (only to localhost).
    #[arg(long, default_value = "starttls")]
    pub security: String,
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub from: String,
    /// An extra CA certificate (PEM) to trust.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// Where a password comes from, the same three flags wherever one is needed.
#[derive(Debug, clap::Args)]
pub struct PasswordArgs {
    /// Read the password from stdin and keep it in the OS keyring.
    #[arg(long, group = "password")]
    pub password_stdin: bool,
    /// Read the password at run time from this environment variable (nothing is stored).
    #[arg(long, group = "password", value_name = "VAR")]
    pub password_env: Option<String>,
    /// Read the password at run time from this file (mode 600; nothing is stored).
    #[arg(long, group = "password", value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test email with the current mail settings.
    TestEmail { address: String },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Which of the schedule's backups its retention keeps and which it would delete now, and
    /// why (nothing is deleted).
    Preview { id: i64 },
    /// Keep a backup for ever: retention never deletes it (the history entry's id).
    Pin { run_id: i64 },
    /// Let retention have a pinned backup again.
    Unpin { run_id: i64 },
    /// Delete one backup's file now (its copies on destinations stay).
    Delete { run_id: i64 },
}

#[derive(Debug, clap::Args)]
pub struct AddConnection {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub host: String,
    #[arg(long, default_value_t = 3306)]
    pub port: u16,
    #[arg(long)]
    pub user: String,
    #[arg(long)]
    pub database: String,
    /// pinned (the default: the server's certificate is pinned on first use, or its identity
    /// checked when this computer trusts it), verify-identity, verify-ca, required
    /// (encrypted, not verified: insecure) or disabled (plain text: insecure).
    #[arg(long, default_value = "pinned")]
    pub tls_mode: String,
    /// The CA certificate for verify-ca or verify-identity (default: the system's).
    #[arg(long)]
    pub tls_ca_file: Option<PathBuf>,
    /// With pinned: the server certificate's SHA-256 fingerprint to pin now (as `connection
    /// test` or `openssl x509 -fingerprint -sha256` shows it), instead of on first use.
    #[arg(long, value_name = "SHA256")]
    pub tls_pin: Option<String>,
    #[arg(long, default_value = "tenant_id")]
    pub tenant_column: String,
    #[arg(long, default_value = "tenants")]
    pub tenant_root_table: String,
    #[command(flatten)]
    pub password: PasswordArgs,
    #[command(flatten)]
    pub ssh: SshArgs,
}

/// Reach the database through an SSH tunnel: --host and --port are then the database as the
/// SSH server sees it (often 127.0.0.1 and 3306).
#[derive(Debug, clap::Args)]
pub struct SshArgs {
    /// The SSH server's host name or address.
    #[arg(long, value_name = "HOST")]
    pub ssh_host: Option<String>,
    #[arg(long, default_value_t = 22, requires = "ssh_host")]
    pub ssh_port: u16,
    /// The user to log in to the SSH server as.
    #[arg(long, value_name = "USER", requires = "ssh_host")]
    pub ssh_user: Option<String>,
    /// A private key file (OpenSSH format); without one, the SSH password is used.
    #[arg(long, value_name = "FILE", requires = "ssh_host")]
    pub ssh_key: Option<PathBuf>,
    /// The SSH password, or the key's passphrase, from this environment variable (kept in the
    /// OS keyring).
    #[arg(long, value_name = "VAR", requires = "ssh_host")]
    pub ssh_secret_env: Option<String>,
    /// The SSH server's host key fingerprint (SHA256:…) to pin now, instead of on first use.
    #[arg(long, value_name = "SHA256", requires = "ssh_host")]
    pub ssh_host_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Add a profile. The password is read from stdin (--password-stdin) into the OS keyring,
    /// or taken at run time from an environment variable or a private file (headless servers).
    Add(Box<AddConnection>),
    /// List the profiles (no passwords).
    List,
    /// Connect, show the server version, the certificate's fingerprint and any privilege the
    /// backup lacks. A connection not pinned yet is pinned now.
    Test { name: String },
    /// Accept a server's new certificate (after it was replaced on purpose): pin this SHA-256
    /// fingerprint, as the refusal message or `connection test` showed it.
    Trust {
        name: String,
        #[arg(long, value_name = "SHA256")]
        fingerprint: String,
    },
    /// Accept an SSH server's new host key (after it was reinstalled or its key replaced on
    /// purpose): pin this fingerprint (SHA256:…), as the refusal or `connection test` showed it.
    TrustHostKey {
        name: String,
        #[arg(long, value_name = "SHA256")]
        fingerprint: String,
    },
    /// Remove a profile and its keyring passwords.
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// Print the next run times, one RFC 3339 timestamp a line.
    Next {
        expression: String,
        /// Times strictly after this instant (default: now).
        #[arg(long, value_name = "RFC3339")]
        after: Option<String>,
        /// How many times to print (1-1000).
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// IANA time zone (default: this machine's).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
    },
    /// Describe an expression in English or Thai.
    Describe {
        expression: String,
        #[arg(long, default_value = "en", value_name = "en|th")]
        lang: Lang,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// List every schedule as {"schedules":[...]}.
    List,
    /// Create a schedule from a JSON body (the original spec's POST body); `-` reads stdin.
    Create {
        #[arg(long, value_name = "FILE|-")]
        json: String,
    },
    /// Change some fields of a schedule from a JSON body; `-` reads stdin.
    Update {
        id: i64,
        #[arg(long, value_name = "FILE|-")]
        json: String,
    },
    /// Delete a schedule (its history and backup files stay).
    Delete { id: i64 },
    /// Enable a disabled schedule, or disable an enabled one.
    Toggle { id: i64 },
    /// Set the passphrase a schedule with `"encrypt_to": "passphrase"` encrypts with, read
    /// from stdin and kept in the OS keyring. Keep a copy: without it the backups stay closed.
    Passphrase {
        id: i64,
        #[arg(long, required = true)]
        passphrase_stdin: bool,
    },
    /// Show one schedule.
    Show { id: i64 },
    /// Back up now, in the foreground, with a progress bar; records a history entry.
    Run {
        id: i64,
        /// Parallel reading connections sharing one snapshot (needs RELOAD for more than 1);
        /// default: 2 for a full backup, 4 for a tenant's.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=8))]
        readers: Option<u8>,
        /// Threads compressing with zstd.
        #[arg(long, default_value_t = DEFAULT_COMPRESSION_THREADS, value_parser = clap::value_parser!(u8).range(1..=16))]
        compression_threads: u8,
        /// The zstd level: 1 (fastest) to 19 (smallest).
        #[arg(long, default_value_t = DEFAULT_ZSTD_LEVEL, value_parser = clap::value_parser!(i32).range(1..=19))]
        zstd_level: i32,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints it alone on one line, once (the app keeps only its hash).
    Create {
        /// Who or what uses it ("billora-admin", "grafana").
        #[arg(long)]
        name: String,
        /// admin (every route) or monitor (/metrics and /backup/runs/:id only).
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Lists the tokens: names, roles, created, last used, revoked (never the tokens).
    List,
    /// Revokes the live token with this name: requests with it are refused from now on.
    Revoke { name: String },
}
