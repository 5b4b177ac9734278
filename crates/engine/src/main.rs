//! `billora-backup`: the headless command line over the engine, for servers and scripts.
//!
//! Output is JSON where the original spec shows JSON; timestamps are RFC 3339 with an offset.
//! Exit codes: 0 success, 2 invalid input (the message says what to fix), 1 a failed operation.
//! Errors go to stderr as one line.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use billora_engine::backup::{run_schedule, RunControl, RunOptions};
use billora_engine::connection::{check_connection, NewConnection, ServerTarget};
use billora_engine::cron::{CronExpr, Lang};
use billora_engine::dump::DumpProgress;
use billora_engine::error::{Error, ErrorCode, Result};
use billora_engine::notify::{EmailNotifier, Notifier, SmtpSettings};
use billora_engine::outbox::Outbox;
use billora_engine::restore::{self, RestoreMode, RestoreProgress, RestoreRequest, RestoreSafety};
use billora_engine::run::Trigger;
use billora_engine::schedule::{parse_request, NewSchedule, SchedulePatch};
use billora_engine::scheduler::{Event, Scheduler, SchedulerConfig, SystemClock};
use billora_engine::secrets::{OsKeyring, PasswordSource};
use billora_engine::store::Store;
use billora_engine::{paths, time};
use clap::{Parser, Subcommand};
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use jiff::Timestamp;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "billora-backup",
    version,
    about = "Scheduled, safe backups of a Billora MySQL/MariaDB database"
)]
struct Cli {
    /// The data directory (store and default backup folder).
    /// Default: $BILLORA_BACKUP_DATA_DIR, else ~/.local/share/billora-backup.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check cron expressions: next run times and a plain-language description.
    #[command(subcommand)]
    Cron(CronCommand),
    /// Create, list, change and delete backup schedules.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Show the backup history (newest first).
    History {
        /// Only this schedule's runs.
        #[arg(long)]
        schedule_id: Option<i64>,
    },
    /// Print the data directory in use.
    DataDir,
    /// Database connection profiles (the password goes to the OS keyring).
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Run the scheduler in the foreground (for a server, or a desktop without the app open).
    /// Stops cleanly on SIGTERM/SIGINT; a running backup is cancelled and recorded.
    Daemon {
        /// Backups allowed to run at the same time.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=8))]
        max_concurrent: u8,
    },
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
enum DestinationCommand {
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
struct AddDestination {
    #[arg(long)]
    name: String,
    /// folder, s3, sftp, webdav or gdrive.
    #[arg(long)]
    kind: String,
    /// folder: the folder's full path.
    #[arg(long)]
    path: Option<String>,
    /// s3: the service's address (empty for AWS), e.g. https://s3.us-west-004.backblazeb2.com.
    #[arg(long)]
    endpoint: Option<String>,
    /// s3: the region (default us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// s3: the bucket.
    #[arg(long)]
    bucket: Option<String>,
    /// s3: a folder inside the bucket.
    #[arg(long, default_value = "")]
    prefix: String,
    /// s3: bucket.endpoint/key addresses instead of endpoint/bucket/key.
    #[arg(long)]
    virtual_host_style: bool,
    /// s3: the access key ID (the secret key is read with --secret-stdin).
    #[arg(long)]
    access_key_id: Option<String>,
    /// sftp: the server.
    #[arg(long)]
    host: Option<String>,
    /// sftp: the port (22).
    #[arg(long)]
    port: Option<u16>,
    /// sftp, webdav: the user name.
    #[arg(long)]
    user: Option<String>,
    /// sftp, webdav: the folder on the server.
    #[arg(long, default_value = "")]
    folder: String,
    /// sftp: the private key file.
    #[arg(long)]
    key_file: Option<String>,
    /// sftp: only servers already in ~/.ssh/known_hosts (default: remember a new server's key).
    #[arg(long)]
    strict_host_key: bool,
    /// webdav: the server's address.
    #[arg(long)]
    url: Option<String>,
    /// gdrive: the OAuth client ID of a "Desktop app" client (the client secret is read with
    /// --secret-stdin). A browser opens Google's consent page; the answer comes back to this
    /// computer.
    #[arg(long)]
    client_id: Option<String>,
    /// gdrive: another address for Google's OAuth and Drive endpoints (a compatible service).
    #[arg(long)]
    api_base: Option<String>,
    /// Keep copies this many days on this destination (default: the schedule's).
    #[arg(long)]
    retention_days: Option<i64>,
    /// Keep at most this many copies on this destination (default: the schedule's).
    #[arg(long)]
    max_backups: Option<i64>,
    /// Read the secret (S3 secret key, WebDAV password, Google OAuth client secret) from stdin.
    #[arg(long)]
    secret_stdin: bool,
    /// Save without testing the destination first.
    #[arg(long)]
    no_test: bool,
}

#[derive(Debug, clap::Args)]
struct RestoreArgs {
    /// A history entry id, or the path of a backup file (ours or a mysqldump file).
    source: String,
    /// The connection profile of the server to restore to.
    #[arg(long)]
    connection: String,
    /// The database to restore into (created when missing).
    #[arg(long)]
    database: String,
    /// Restore into a database that already has tables (they are replaced); with
    /// --replace-tenant, replace although live tables are missing from the backup or are not
    /// transactional (they are listed first without it).
    #[arg(long)]
    force: bool,
    /// For a tenant backup: replace that tenant's rows in the live database, in one transaction.
    #[arg(long)]
    replace_tenant: bool,
    /// Keep routines and views running with their definer's rights (SQL SECURITY DEFINER):
    /// only when restoring onto the same server with the same accounts. By default they run
    /// with the caller's rights (SQL SECURITY INVOKER).
    #[arg(long)]
    keep_sql_security: bool,
    /// Create scheduled events enabled, as they were (by default they are created disabled).
    #[arg(long)]
    enable_events: bool,
    /// Parallel connections for the rows (our own backups only).
    #[arg(long, default_value_t = billora_engine::restore::DEFAULT_CONNECTIONS)]
    connections: usize,
    /// Restore rows with their INSERT statements, never with LOAD DATA LOCAL (for a server
    /// or proxy that mishandles LOCAL INFILE; slower).
    #[arg(long)]
    inserts: bool,
    /// For an encrypted backup: its recovery key file (else the keyring's key is used).
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
    /// For a backup encrypted with a passphrase: read it from stdin (else the keyring's).
    #[arg(long)]
    passphrase_stdin: bool,
    /// For a history entry: restore the copy on this destination (default: the local file,
    /// else any destination's copy).
    #[arg(long, value_name = "DESTINATION")]
    from: Option<String>,
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
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
enum SettingsCommand {
    /// Mail server settings.
    #[command(subcommand)]
    Smtp(SmtpCommand),
    /// The language of notices: en or th.
    Language { lang: Lang },
}

#[derive(Debug, Subcommand)]
enum SmtpCommand {
    /// Set the mail server. The password goes to the OS keyring (--password-stdin), or is read
    /// at send time from an environment variable or a private file.
    Set(Box<SmtpArgs>),
    /// Show the mail server settings (never the password).
    Show,
}

#[derive(Debug, clap::Args)]
struct SmtpArgs {
    #[arg(long)]
    host: String,
    #[arg(long)]
    port: u16,
    /// starttls (required, port 587), tls (implicit, 465) or none (only to localhost).
    #[arg(long, default_value = "starttls")]
    security: String,
    #[arg(long)]
    username: Option<String>,
    #[arg(long)]
    from: String,
    /// An extra CA certificate (PEM) to trust.
    #[arg(long)]
    ca_file: Option<PathBuf>,
    #[command(flatten)]
    password: PasswordArgs,
}

/// Where a password comes from, the same three flags wherever one is needed.
#[derive(Debug, clap::Args)]
struct PasswordArgs {
    /// Read the password from stdin and keep it in the OS keyring.
    #[arg(long, group = "password")]
    password_stdin: bool,
    /// Read the password at run time from this environment variable (nothing is stored).
    #[arg(long, group = "password", value_name = "VAR")]
    password_env: Option<String>,
    /// Read the password at run time from this file (mode 600; nothing is stored).
    #[arg(long, group = "password", value_name = "FILE")]
    password_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum NotifyCommand {
    /// Send a test email with the current mail settings.
    TestEmail { address: String },
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// What the schedule's retention would delete now, and why (nothing is deleted).
    Preview { id: i64 },
}

#[derive(Debug, clap::Args)]
struct AddConnection {
    #[arg(long)]
    name: String,
    #[arg(long)]
    host: String,
    #[arg(long, default_value_t = 3306)]
    port: u16,
    #[arg(long)]
    user: String,
    #[arg(long)]
    database: String,
    /// pinned (the default: the server's certificate is pinned on first use, or its identity
    /// checked when this computer trusts it), verify-identity, verify-ca, required
    /// (encrypted, not verified: insecure) or disabled (plain text: insecure).
    #[arg(long, default_value = "pinned")]
    tls_mode: String,
    /// The CA certificate for verify-ca or verify-identity (default: the system's).
    #[arg(long)]
    tls_ca_file: Option<PathBuf>,
    /// With pinned: the server certificate's SHA-256 fingerprint to pin now (as `connection
    /// test` or `openssl x509 -fingerprint -sha256` shows it), instead of on first use.
    #[arg(long, value_name = "SHA256")]
    tls_pin: Option<String>,
    #[arg(long, default_value = "tenant_id")]
    tenant_column: String,
    #[arg(long, default_value = "tenants")]
    tenant_root_table: String,
    #[command(flatten)]
    password: PasswordArgs,
}

#[derive(Debug, Subcommand)]
enum ConnectionCommand {
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
    /// Remove a profile and its keyring password.
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
enum CronCommand {
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
enum ScheduleCommand {
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
        #[arg(long, default_value_t = billora_engine::backup::DEFAULT_COMPRESSION_THREADS, value_parser = clap::value_parser!(u8).range(1..=16))]
        compression_threads: u8,
        /// The zstd level: 1 (fastest) to 19 (smallest).
        #[arg(long, default_value_t = billora_engine::artifact::DEFAULT_ZSTD_LEVEL, value_parser = clap::value_parser!(i32).range(1..=19))]
        zstd_level: i32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(if err.code.is_input_error() { 2 } else { 1 })
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let now = Timestamp::now();
    match cli.command {
        Command::Cron(cmd) => cron(cmd, now),
        Command::DataDir => {
            println!(
                "{}",
                paths::resolve_data_dir(cli.data_dir.as_deref())?.display()
            );
            Ok(())
        }
        Command::Schedule(cmd) => {
            let store = open_store(cli.data_dir).await?;
            let result = schedule(&store, cmd, now).await;
            store.close().await;
            result
        }
        Command::Connection(cmd) => {
            let store = open_store(cli.data_dir).await?;
            let result = connection(&store, cmd, now).await;
            store.close().await;
            result
        }
        Command::Daemon { max_concurrent } => daemon(cli.data_dir, max_concurrent.into()).await,
        Command::Settings(cmd) => {
            let store = open_store(cli.data_dir).await?;
            let result = settings(&store, cmd).await;
            store.close().await;
            result
        }
        Command::Notify(NotifyCommand::TestEmail { address }) => {
            let store = open_store(cli.data_dir).await?;
            let result = test_email(&store, address).await;
            store.close().await;
            result
        }
        Command::Retention(RetentionCommand::Preview { id }) => {
            let store = open_store(cli.data_dir).await?;
            let result = store.preview_retention(id, now).await;
            store.close().await;
            print_json(&json!({ "schedule_id": id, "would_delete": result? }))
        }
        Command::Key(KeyCommand::Generate { recovery_file }) => generate_key(&recovery_file, now),
        Command::Destination(cmd) => {
            let store = open_store(cli.data_dir).await?;
            let result = destination(&store, cmd, now).await;
            store.close().await;
            result
        }
        Command::Verify {
            run_id,
            connection,
            from,
        } => {
            let store = open_store(cli.data_dir).await?;
            let result = async {
                let target = billora_engine::verify::target_for_run(
                    &store,
                    &OsKeyring,
                    run_id,
                    connection.as_deref(),
                )
                .await?;
                billora_engine::verify::verify_run(
                    &store,
                    &OsKeyring,
                    run_id,
                    target,
                    from.as_deref(),
                    now,
                )
                .await
            }
            .await;
            store.close().await;
            let report = result?;
            print_json(&report)?;
            if report.verified {
                Ok(())
            } else {
                Err(Error::new(
                    ErrorCode::Corrupt,
                    "the restored backup differs from what was dumped",
                ))
            }
        }
        Command::Restore(args) => {
            let store = open_store(cli.data_dir).await?;
            let result = restore(&store, args).await;
            store.close().await;
            result
        }
        Command::History { schedule_id } => {
            let store = open_store(cli.data_dir).await?;
            let runs = store.list_history(schedule_id).await;
            store.close().await;
            print_json(&json!({ "success": true, "data": runs? }))
        }
    }
}

async fn open_store(data_dir: Option<PathBuf>) -> Result<Store> {
    let store = Store::open(&paths::resolve_data_dir(data_dir.as_deref())?).await?;
    // Runs a crash left `running` are marked interrupted (live ones hold a lock and stay).
    store.recover_interrupted(Timestamp::now()).await?;
    Ok(store)
}

fn cron(cmd: CronCommand, now: Timestamp) -> Result<()> {
    match cmd {
        CronCommand::Next {
            expression,
            after,
            count,
            tz,
        } => {
            if !(1..=1000).contains(&count) {
                return Err(Error::invalid(
                    "count",
                    format!("--count must be 1-1000, not {count}"),
                ));
            }
            let expr = CronExpr::parse(&expression)?;
            let zone = time::zone(&tz.unwrap_or_else(time::system_zone_name))?;
            let after = match after {
                Some(text) => time::parse_user_instant("after", &text)?,
                None => now,
            };
            for ts in expr.iter_after(after, &zone).take(count) {
                println!("{}", time::rfc3339(&ts.to_zoned_datetime(zone.clone())));
            }
            Ok(())
        }
        CronCommand::Describe { expression, lang } => {
            println!("{}", CronExpr::parse(&expression)?.describe(lang));
            Ok(())
        }
    }
}

async fn schedule(store: &Store, cmd: ScheduleCommand, now: Timestamp) -> Result<()> {
    match cmd {
        ScheduleCommand::List => print_json(&json!({ "schedules": store.list_schedules().await? })),
        ScheduleCommand::Show { id } => print_json(&store.get_schedule(id).await?),
        ScheduleCommand::Create { json } => {
            let request: NewSchedule = parse_request(&read_body(&json)?)?;
            print_json(&store.create_schedule(request, now).await?)
        }
        ScheduleCommand::Update { id, json } => {
            let patch: SchedulePatch = parse_request(&read_body(&json)?)?;
            print_json(&store.update_schedule(id, patch, now).await?)
        }
        ScheduleCommand::Delete { id } => {
            let deleted = store.delete_schedule(id).await?;
            print_json(&json!({ "success": true, "deleted": deleted }))
        }
        ScheduleCommand::Toggle { id } => print_json(&store.toggle_schedule(id, now).await?),
        ScheduleCommand::Passphrase { id, .. } => {
            store.get_schedule(id).await?;
            let passphrase = read_stdin_secret("passphrase")?;
            billora_engine::crypt::set_passphrase(id, &passphrase, &OsKeyring)?;
            print_json(&json!({ "schedule_id": id, "passphrase": "saved in the keyring" }))
        }
        ScheduleCommand::Run {
            id,
            readers,
            compression_threads,
            zstd_level,
        } => {
            let bar = progress_bar();
            let shown = bar.clone();
            let progress = Arc::new(move |p: &DumpProgress| {
                shown.set_length(p.rows_estimated.max(p.rows_done));
                shown.set_position(p.rows_done);
                shown.set_message(format!(
                    "{} ({}/{} tables, {})",
                    p.table,
                    p.tables_done,
                    p.tables_total,
                    HumanBytes(p.bytes_done)
                ));
            });
            let (cancel, ctrl_c) = cancel_on_ctrl_c();
            let outcome = run_schedule(
                store,
                &OsKeyring,
                id,
                Trigger::Manual,
                now,
                &RunOptions {
                    readers: readers.map(usize::from),
                    compression_threads: compression_threads.into(),
                    zstd_level,
                    ..RunOptions::default()
                },
                RunControl { progress, cancel },
            )
            .await;
            ctrl_c.abort();
            bar.finish_and_clear();
            let outcome = outcome?;
            // The schedule's notification, as the daemon would send it.
            if let Some(notifier) = email_notifier(store).await {
                billora_engine::scheduler::notify_outcome(
                    store,
                    notifier,
                    id,
                    &Trigger::Manual,
                    &outcome,
                )
                .await;
            }
            print_json(&outcome)?;
            match outcome.error {
                Some(err) => Err(Error {
                    code: if err.code.is_input_error() {
                        ErrorCode::DatabaseError
                    } else {
                        err.code
                    },
                    ..err
                }),
                None => Ok(()),
            }
        }
    }
}

impl PasswordArgs {
    /// The source, and the password itself when it was given on stdin (for the keyring).
    fn read(self) -> Result<Option<(PasswordSource, Option<String>)>> {
        password_source(self.password_stdin, self.password_env, self.password_file)
    }
}

/// Reads a password given as --password-stdin / --password-env / --password-file.
/// One secret line from stdin (a trailing newline is not part of it).
fn read_stdin_secret(field: &str) -> Result<String> {
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

fn password_source(
    stdin: bool,
    env: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<(PasswordSource, Option<String>)>> {
    Ok(match (stdin, env, file) {
        (true, _, _) => Some((
            PasswordSource::Keyring,
            Some(read_stdin_secret("password")?),
        )),
        (_, Some(var), _) => Some((PasswordSource::Env(var), None)),
        (_, _, Some(path)) => Some((PasswordSource::File(path), None)),
        _ => None,
    })
}

async fn settings(store: &Store, cmd: SettingsCommand) -> Result<()> {
    match cmd {
        SettingsCommand::Language { lang } => {
            store.set_language(lang).await?;
            print_json(&json!({ "success": true, "language": lang }))
        }
        SettingsCommand::Smtp(SmtpCommand::Show) => {
            print_json(&json!({ "smtp": store.smtp_settings().await? }))
        }
        SettingsCommand::Smtp(SmtpCommand::Set(args)) => {
            let SmtpArgs {
                host,
                port,
                security,
                username,
                from,
                ca_file,
                password,
            } = *args;
            let security = serde_json::from_value(serde_json::Value::String(security.clone()))
                .map_err(|_| {
                    Error::invalid(
                        "security",
                        format!("`{security}` is not one of starttls, tls, none"),
                    )
                })?;
            let (source, password) = password.read()?.unwrap_or((PasswordSource::Keyring, None));
            let settings = SmtpSettings {
                host,
                port,
                security,
                username,
                from,
                ca_file,
                password_source: source,
            };
            store
                .set_smtp_settings(&settings, password.as_deref(), &OsKeyring)
                .await?;
            print_json(&json!({ "success": true, "smtp": settings }))
        }
    }
}

async fn test_email(store: &Store, address: String) -> Result<()> {
    if !billora_engine::schedule::is_email(address.trim()) {
        return Err(Error::invalid(
            "address",
            format!("`{address}` is not an email address"),
        ));
    }
    let settings = store.smtp_settings().await?.ok_or_else(|| {
        Error::invalid("smtp", "no mail server is set")
            .with_hint("set one with `billora-backup settings smtp set`")
    })?;
    let lang = store.language().await?;
    let notifier = EmailNotifier::new(settings, &OsKeyring)?;
    let notice = billora_engine::notify::test_notice(&address, lang);
    tokio::task::spawn_blocking(move || notifier.send(&notice))
        .await
        .map_err(|e| Error::new(ErrorCode::Io, e.to_string()))??;
    print_json(&json!({ "success": true, "sent_to": address.trim() }))
}

/// The email notifier from the stored SMTP settings, if they are set and usable.
async fn email_notifier(store: &Store) -> Option<Arc<dyn Notifier>> {
    let settings = store.smtp_settings().await.ok().flatten()?;
    match EmailNotifier::new(settings, &OsKeyring) {
        Ok(n) => Some(Arc::new(n)),
        Err(e) => {
            eprintln!("warning: email notifications are off: {e}");
            None
        }
    }
}

/// The headless scheduler: one per data directory (a lock), logs with tracing, stops cleanly.
async fn daemon(data_dir: Option<PathBuf>, max_concurrent: usize) -> Result<()> {
    billora_engine::init_logging();
    let dir = paths::resolve_data_dir(data_dir.as_deref())?;
    let _lock = billora_engine::paths::lock_scheduler(&dir)?;
    let store = Store::open(&dir).await?;
    let secrets: Arc<dyn billora_engine::secrets::SecretStore> = Arc::new(OsKeyring);
    let notifier: Arc<dyn Notifier> = Arc::new(Outbox::new(store.clone(), secrets.clone(), None));
    let config = SchedulerConfig {
        max_concurrent,
        ..SchedulerConfig::default()
    };
    let (scheduler, handle) = Scheduler::new(
        store.clone(),
        secrets,
        notifier,
        Arc::new(SystemClock),
        config,
    );
    tracing::info!(data_dir = %dir.display(), "scheduler started");
    let task = tokio::spawn(scheduler.run());
    stop_requested().await?;
    tracing::info!("stopping: cancelling running backups");
    handle.send(Event::Shutdown);
    let result = task
        .await
        .map_err(|e| Error::new(ErrorCode::Io, e.to_string()))?;
    store.close().await;
    tracing::info!("scheduler stopped");
    result
}

/// Waits for Ctrl-C, or SIGTERM where there is one (systemd's stop).
async fn stop_requested() -> Result<()> {
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

/// A cancel flag that Ctrl-C sets, for a foreground backup or restore; abort the task when done.
fn cancel_on_ctrl_c() -> (Arc<AtomicBool>, tokio::task::JoinHandle<()>) {
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.store(true, Ordering::Relaxed);
        }
    });
    (cancel, task)
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

async fn connection(store: &Store, cmd: ConnectionCommand, now: Timestamp) -> Result<()> {
    match cmd {
        ConnectionCommand::Add(args) => {
            let AddConnection {
                name,
                host,
                port,
                user,
                database,
                tls_mode,
                tls_ca_file,
                tls_pin,
                tenant_column,
                tenant_root_table,
                password,
            } = *args;
            let tls_mode = serde_json::from_value(serde_json::Value::String(tls_mode.clone())).map_err(|_| {
                Error::invalid("tls_mode", format!("`{tls_mode}` is not a TLS mode (pinned, verify-identity, verify-ca, required, disabled)"))
            })?;
            let (source, password) = password.read()?.ok_or_else(|| {
                Error::invalid("password", "say where the password comes from")
                    .with_hint("--password-stdin (kept in the OS keyring), --password-env VAR or --password-file FILE")
            })?;
            let request = NewConnection {
                name,
                host,
                port: Some(port),
                username: user,
                database,
                tls_mode: Some(tls_mode),
                tls_ca_file,
                tls_pin,
                tenant_column: Some(tenant_column),
                tenant_root_table: Some(tenant_root_table),
                password_source: Some(source),
            };
            print_json(
                &store
                    .add_connection(request, password.as_deref(), &OsKeyring, now)
                    .await?,
            )
        }
        ConnectionCommand::List => {
            print_json(&json!({ "connections": store.list_connections().await? }))
        }
        ConnectionCommand::Test { name } => {
            let profile = store.get_connection(&name).await?;
            let target = ServerTarget::new(&profile, &OsKeyring)?;
            let probe = target.clone();
            let mut check = tokio::task::spawn_blocking(move || check_connection(&probe))
                .await
                .map_err(|e| Error::new(ErrorCode::Io, e.to_string()))??;
            if let Some(notice) = store.pin_on_first_use(&profile, &target, now).await? {
                eprintln!("{notice}");
                check.notices.push(notice);
            }
            print_json(&check)
        }
        ConnectionCommand::Trust { name, fingerprint } => {
            let profile = store.trust_certificate(&name, &fingerprint, now).await?;
            eprintln!(
                "connection `{}`: the certificate {} is pinned; a different one will be refused",
                profile.name,
                profile.tls_pin.as_deref().unwrap_or("")
            );
            print_json(&profile)
        }
        ConnectionCommand::Remove { name } => {
            let removed = store.remove_connection(&name, &OsKeyring).await?;
            print_json(&json!({ "success": true, "removed": removed }))
        }
    }
}

async fn destination(store: &Store, cmd: DestinationCommand, now: Timestamp) -> Result<()> {
    use billora_engine::destination::{self as dest, DestinationSettings, KnownHosts};
    match cmd {
        DestinationCommand::Add(args) => {
            let a = *args;
            let need = |value: Option<String>, field: &str, flag: &str| {
                value.ok_or_else(|| {
                    Error::invalid(
                        field,
                        format!("--{flag} is needed for a {} destination", a.kind),
                    )
                })
            };
            let settings = match a.kind.as_str() {
                "folder" => DestinationSettings::Folder {
                    path: need(a.path.clone(), "path", "path")?,
                },
                "s3" => DestinationSettings::S3 {
                    endpoint: a.endpoint.clone(),
                    region: a.region.clone(),
                    bucket: need(a.bucket.clone(), "bucket", "bucket")?,
                    prefix: a.prefix.clone(),
                    path_style: !a.virtual_host_style,
                    access_key_id: need(a.access_key_id.clone(), "access_key_id", "access-key-id")?,
                },
                "sftp" => DestinationSettings::Sftp {
                    host: need(a.host.clone(), "host", "host")?,
                    port: a.port,
                    username: need(a.user.clone(), "username", "user")?,
                    folder: a.folder.clone(),
                    key_file: need(a.key_file.clone(), "key_file", "key-file")?,
                    known_hosts: if a.strict_host_key {
                        KnownHosts::Strict
                    } else {
                        KnownHosts::AcceptNew
                    },
                },
                "webdav" => DestinationSettings::Webdav {
                    url: need(a.url.clone(), "url", "url")?,
                    username: a.user.clone(),
                    folder: a.folder.clone(),
                },
                "gdrive" => DestinationSettings::Gdrive {
                    client_id: need(a.client_id.clone(), "client_id", "client-id")?,
                    folder: a.folder.clone(),
                    api_base: a.api_base.clone(),
                },
                other => {
                    return Err(Error::invalid(
                        "kind",
                        format!(
                            "`{other}` is not a destination kind (folder, s3, sftp, webdav, gdrive)"
                        ),
                    ))
                }
            };
            let secret = if a.secret_stdin {
                Some(read_stdin_secret("secret")?)
            } else {
                None
            };
            let request = dest::NewDestination {
                name: a.name,
                settings,
                retention_days: a.retention_days,
                max_backups: a.max_backups,
            };
            // Google Drive: the consent page, in a browser; the answer comes back here.
            let open = |url: &str| {
                eprintln!(
                    "Open this address in a browser to let Billora Backup use Google Drive:\n{url}"
                );
                open_in_browser(url);
            };
            let secret = dest::connect(&request, secret.as_deref(), &open).await?;
            // Test before saving, so a typo is found now and not at 02:00.
            if !a.no_test || matches!(request.settings, DestinationSettings::Gdrive { .. }) {
                dest::test_draft(&request, secret.as_deref()).await?;
            }
            print_json(
                &store
                    .add_destination(request, secret.as_deref(), &OsKeyring, now)
                    .await?,
            )
        }
        DestinationCommand::List => {
            print_json(&json!({ "destinations": store.list_destinations().await? }))
        }
        DestinationCommand::Test { name } => print_json(
            &dest::test_destination(&store.get_destination(&name).await?, &OsKeyring).await?,
        ),
        DestinationCommand::Remove { name } => {
            let removed = store.remove_destination(&name, &OsKeyring).await?;
            print_json(&json!({ "success": true, "removed": removed }))
        }
    }
}

/// Best effort: the desktop's browser (`BROWSER` first, as Python's webbrowser does).
fn open_in_browser(url: &str) {
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

async fn restore(store: &Store, args: RestoreArgs) -> Result<()> {
    let RestoreArgs {
        source,
        connection,
        database,
        force,
        replace_tenant,
        keep_sql_security,
        enable_events,
        connections,
        inserts,
        identity,
        passphrase_stdin,
        from,
    } = args;
    // Held to the end: a copy fetched from a destination is deleted when this drops.
    let fetched = match source.parse::<i64>() {
        Ok(id) => {
            Some(billora_engine::copies::backup_file(store, &OsKeyring, id, from.as_deref()).await?)
        }
        Err(_) if from.is_some() => {
            return Err(Error::invalid(
                "from",
                "--from needs a history entry id, not a file",
            ))
        }
        Err(_) => None,
    };
    let (file, expected_sha256) = match &fetched {
        Some(b) => (b.path.clone(), b.sha256.clone()),
        None => (PathBuf::from(&source), None),
    };
    let profile = store.get_connection(&connection).await?;
    let target = ServerTarget::new(&profile, &OsKeyring)?;
    let mut keys = billora_engine::crypt::keys_for(&file, &OsKeyring, identity.as_deref())?;
    if passphrase_stdin {
        keys.add_passphrase(&read_stdin_secret("passphrase")?);
    }
    let request = RestoreRequest {
        keys,
        file,
        expected_sha256,
        database,
        mode: if replace_tenant {
            RestoreMode::ReplaceTenant
        } else {
            RestoreMode::Database { force }
        },
        connections: connections.clamp(1, 8),
        use_inserts: inserts,
        safety: RestoreSafety {
            keep_sql_security,
            enable_events,
            force_replace: replace_tenant && force,
        },
    };
    let bar = progress_bar();
    let shown = bar.clone();
    let (cancel, ctrl_c) = cancel_on_ctrl_c();
    let report = tokio::task::spawn_blocking(move || {
        restore::restore(
            &target,
            &request,
            &move |p: &RestoreProgress| {
                shown.set_length(p.sql_bytes_total.unwrap_or(0));
                shown.set_message(format!("{} statements", p.statements));
            },
            &cancel,
        )
    })
    .await
    .map_err(|e| Error::new(ErrorCode::Io, e.to_string()))?;
    ctrl_c.abort();
    bar.finish_and_clear();
    print_json(&report?)
}

/// `key generate`: the recovery file first (so a key never exists only in the keyring), then
/// the keyring; prints the public key.
fn generate_key(recovery_file: &std::path::Path, now: Timestamp) -> Result<()> {
    let recovery_file = std::path::absolute(recovery_file).map_err(|e| {
        billora_engine::error::io_error(e, "the recovery file's path").with_field("recovery_file")
    })?;
    let recovery_file = recovery_file.as_path();
    let pair = billora_engine::crypt::create_key(recovery_file, &OsKeyring, now)?;
    print_json(&json!({
        "public_key": pair.recipient,
        "recovery_file": recovery_file.display().to_string(),
        "next": "put the public key in a schedule's encrypt_to; keep the recovery file offline",
    }))
}

/// Reads a JSON body from a file, or from stdin for `-`.
fn read_body(source: &str) -> Result<String> {
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

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::new(ErrorCode::Io, format!("cannot format the output: {e}")))?;
    println!("{text}");
    Ok(())
}
