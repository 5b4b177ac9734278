//! `billora-backup`: the headless command line over the engine, for servers and scripts.
//!
//! Every command is an adapter over the engine's [`Api`]: it parses flags, calls one method and
//! prints the answer. Output is JSON where the original spec shows JSON; timestamps are RFC
//! 3339 with an offset. Exit codes: 0 success, 2 invalid input (the message says what to fix),
//! 1 a failed operation. Errors go to stderr as one line.

mod args;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use billora_engine::api::{
    parse_request, Api, ApiHost, BackupSource, CronExpr, DestinationForm, DestinationSettings,
    DumpProgress, KnownHosts, NewConnection, NewDestination, NewSchedule, OsKeyring,
    PasswordSource, RestoreJob, RestoreProgress, RunHere, SaveSmtpRequest, SchedulePatch,
    SchedulerConfig, SecretStore, SmtpSettings, SshTunnel, SystemClock, TrustCertificateRequest,
    TrustHostKeyRequest, VerifyRequest,
};
use billora_engine::{Error, ErrorCode, Result};
use clap::Parser;
use serde_json::json;

use crate::args::*;
use crate::terminal::{
    cancel_on_ctrl_c, open_in_browser, print_json, progress_bar, read_body, read_stdin_secret,
    stop_requested,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon serves HTTP requests beside its backups: one worker per core (at most 4).
    // A one-shot command needs one thread.
    let mut builder = if matches!(cli.command, Command::Daemon { .. }) {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(
            std::thread::available_parallelism()
                .map(|n| n.get().clamp(1, 4))
                .unwrap_or(2),
        );
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
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
    let data_dir = cli.data_dir;
    let command = match cli.command {
        Command::DataDir => {
            let dir = billora_engine::api::resolve_data_dir(data_dir.as_deref())?;
            println!("{}", dir.display());
            return Ok(());
        }
        Command::Daemon {
            max_concurrent,
            listen,
            base_path,
            tls_cert,
            tls_key,
            insecure_http,
            cors_origins,
        } => {
            let http = listen.map(|addr| HttpOptions {
                addr,
                base_path,
                tls: tls_cert.zip(tls_key),
                insecure_http,
                cors_origins,
            });
            return daemon(data_dir, max_concurrent.into(), http).await;
        }
        Command::Key(KeyCommand::Generate { recovery_file }) => {
            return generate_key(data_dir, &recovery_file).await
        }
        other => other,
    };
    billora_engine::api::set_process_role("the CLI");
    let api = Api::open(data_dir.as_deref(), Arc::new(OsKeyring)).await?;
    let result = one_shot(&api, command).await;
    api.close().await;
    result
}

/// The commands that open the data folder, do one thing and end.
async fn one_shot(api: &Api, command: Command) -> Result<()> {
    match command {
        Command::Cron(cmd) => cron(api, cmd),
        Command::Schedule(cmd) => schedule(api, cmd).await,
        Command::Connection(cmd) => connection(api, cmd).await,
        Command::Settings(cmd) => settings(api, cmd).await,
        Command::Notify(NotifyCommand::TestEmail { address }) => {
            let lang = api.language(Default::default()).await;
            api.send_test_email(address.clone(), lang)
                .await
                .map_err(|e| match e.field.as_deref() {
                    Some("to") => e.with_field("address"),
                    Some("host") => Error::invalid("smtp", "no mail server is set")
                        .with_hint("set one with `billora-backup settings smtp set`"),
                    _ => e,
                })?;
            print_json(&json!({ "success": true, "sent_to": address.trim() }))
        }
        Command::Retention(RetentionCommand::Preview { id }) => {
            let decisions = api.schedule_retention_preview(id).await?;
            let (kept, deleted): (Vec<_>, Vec<_>) = decisions.into_iter().partition(|d| d.keep);
            print_json(&json!({ "schedule_id": id, "would_delete": deleted, "kept": kept }))
        }
        Command::Retention(RetentionCommand::Pin { run_id }) => {
            api.pin_backup(run_id, true).await?;
            print_json(&json!({ "success": true, "run_id": run_id, "pinned": true }))
        }
        Command::Retention(RetentionCommand::Unpin { run_id }) => {
            api.pin_backup(run_id, false).await?;
            print_json(&json!({ "success": true, "run_id": run_id, "pinned": false }))
        }
        Command::Retention(RetentionCommand::Delete { run_id }) => {
            let deleted = api.delete_backup(run_id).await?;
            print_json(&json!({ "success": true, "deleted": deleted }))
        }
        Command::Destination(cmd) => destination(api, cmd).await,
        Command::Verify {
            run_id,
            connection,
            from,
        } => {
            let report = api
                .verify_backup(VerifyRequest {
                    run_id,
                    from,
                    on: connection,
                })
                .await?;
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
        Command::Restore(args) => restore(api, args).await,
        Command::Status => {
            let state = api.scheduler_state().await?;
            print_json(&state)?;
            if state.active_schedules > 0
                && state.state == billora_engine::api::SchedulerMode::NotRunning
            {
                return Err(Error::new(
                    ErrorCode::Unreachable,
                    "no scheduler is running: active schedules will not run",
                )
                .with_hint("start the app, or `billora-backup daemon` (a systemd service)"));
            }
            Ok(())
        }
        Command::History {
            schedule_id,
            status,
            from,
            to,
            search,
            limit,
            csv,
        } => {
            let query = billora_engine::api::HistoryQuery {
                schedule_id,
                status,
                from,
                to,
                search,
                limit,
                before_id: None,
            };
            if csv {
                print!("{}", api.history_csv(query).await?);
                return Ok(());
            }
            let runs = api.list_history(query).await?;
            print_json(&json!({ "success": true, "data": runs }))
        }
        Command::Token(cmd) => token(api, cmd).await,
        Command::DataDir | Command::Daemon { .. } | Command::Key(_) => {
            unreachable!("handled before the data folder is opened")
        }
    }
}

fn cron(api: &Api, cmd: CronCommand) -> Result<()> {
    match cmd {
        CronCommand::Next {
            expression,
            after,
            count,
            tz,
        } => {
            for line in api.cron_next(&expression, after.as_deref(), count, tz.as_deref())? {
                println!("{line}");
            }
            Ok(())
        }
        CronCommand::Describe { expression, lang } => {
            println!("{}", CronExpr::parse(&expression)?.describe(lang));
            Ok(())
        }
    }
}

async fn schedule(api: &Api, cmd: ScheduleCommand) -> Result<()> {
    match cmd {
        ScheduleCommand::List => print_json(&json!({ "schedules": api.list_schedules().await? })),
        ScheduleCommand::Show { id } => print_json(&api.get_schedule(id).await?),
        ScheduleCommand::Create { json } => {
            let request: NewSchedule = parse_request(&read_body(&json)?)?;
            print_json(&api.create_schedule(request).await?)
        }
        ScheduleCommand::Update { id, json } => {
            let patch: SchedulePatch = parse_request(&read_body(&json)?)?;
            print_json(&api.update_schedule(id, patch).await?)
        }
        ScheduleCommand::Delete { id } => {
            let deleted = api.delete_schedule(id).await?;
            print_json(&json!({ "success": true, "deleted": deleted }))
        }
        ScheduleCommand::Toggle { id } => print_json(&api.toggle_schedule(id).await?),
        ScheduleCommand::Passphrase { id, .. } => {
            api.get_schedule(id).await?;
            let passphrase = read_stdin_secret("passphrase")?;
            api.set_schedule_passphrase(id, passphrase).await?;
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
            let progress = Arc::new(move |p: &DumpProgress| terminal::show_dump(&shown, p));
            let (cancel, ctrl_c) = cancel_on_ctrl_c();
            let tuning = RunHere {
                readers: readers.map(usize::from),
                compression_threads: Some(compression_threads.into()),
                zstd_level: Some(zstd_level),
            };
            let outcome = api.run_here(id, tuning, progress, cancel).await;
            ctrl_c.abort();
            bar.finish_and_clear();
            let outcome = outcome?;
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
        Ok(
            match (self.password_stdin, self.password_env, self.password_file) {
                (true, _, _) => Some((
                    PasswordSource::Keyring,
                    Some(read_stdin_secret("password")?),
                )),
                (_, Some(var), _) => Some((PasswordSource::Env(var), None)),
                (_, _, Some(path)) => Some((PasswordSource::File(path), None)),
                _ => None,
            },
        )
    }
}

async fn settings(api: &Api, cmd: SettingsCommand) -> Result<()> {
    match cmd {
        SettingsCommand::Language { lang } => {
            api.set_language(lang).await?;
            print_json(&json!({ "success": true, "language": lang }))
        }
        SettingsCommand::Smtp(SmtpCommand::Show) => {
            print_json(&json!({ "smtp": api.settings().await?.smtp }))
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
            let smtp = SmtpSettings {
                host,
                port,
                security,
                username,
                from,
                ca_file,
                password_source: source,
            };
            api.save_smtp(SaveSmtpRequest {
                smtp: smtp.clone(),
                password,
            })
            .await?;
            print_json(&json!({ "success": true, "smtp": smtp }))
        }
    }
}

async fn token(api: &Api, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create { name, role } => {
            let role = billora_engine::api::Role::parse(&role)?;
            let token = api.create_token(&name, role).await?;
            // Alone on one line, so `TOKEN=$(billora-backup token create …)` works.
            println!("{token}");
            eprintln!(
                "token `{}` ({}) created: it is shown this once; keep it secret",
                name.trim(),
                role.as_str()
            );
            Ok(())
        }
        TokenCommand::List => print_json(&json!({ "tokens": api.list_tokens().await? })),
        TokenCommand::Revoke { name } => {
            api.revoke_token(&name).await?;
            print_json(&json!({ "success": true, "revoked": name.trim() }))
        }
    }
}

/// Where and how the daemon serves the HTTP API.
struct HttpOptions {
    addr: std::net::SocketAddr,
    base_path: String,
    tls: Option<(PathBuf, PathBuf)>,
    insecure_http: bool,
    cors_origins: Vec<String>,
}

/// The headless scheduler: one per data directory (a lock), logs with tracing, stops cleanly;
/// with `--listen`, the HTTP API too.
async fn daemon(
    data_dir: Option<PathBuf>,
    max_concurrent: usize,
    http: Option<HttpOptions>,
) -> Result<()> {
    let dir = billora_engine::api::resolve_data_dir(data_dir.as_deref())?;
    // The address is checked and bound before anything starts, so a mistake ends here.
    let listener = match &http {
        Some(options) => {
            let listen = if options.tls.is_some() {
                billora_http::Listen::Tls
            } else {
                billora_http::Listen::Plain
            };
            billora_http::check_address(options.addr, listen, options.insecure_http)?;
            for origin in &options.cors_origins {
                billora_http::check_origin(origin)?;
            }
            let tls = match &options.tls {
                Some((cert, key)) => Some(billora_http::tls_config(cert, key)?),
                None => None,
            };
            let listener = tokio::net::TcpListener::bind(options.addr)
                .await
                .map_err(|e| {
                    Error::invalid("listen", format!("cannot listen on {}: {e}", options.addr))
                        .with_hint("choose another port, or stop what uses it")
                })?;
            Some((listener, tls))
        }
        None => None,
    };
    billora_engine::init_logging(Some(&billora_engine::log_dir(&dir).join("daemon.log")));
    billora_engine::api::set_process_role("the daemon");
    let secrets: Arc<dyn SecretStore> = Arc::new(OsKeyring);
    let host = ApiHost {
        secrets,
        clock: Arc::new(SystemClock),
        desktop: None,
        watcher: None,
        config: SchedulerConfig {
            max_concurrent,
            ..SchedulerConfig::default()
        },
    };
    let (api, scheduler) = Api::launch(Some(&dir), host).await?;
    let (scheduler, _lock) = scheduler?;
    let api = Arc::new(api);
    tracing::info!(data_dir = %dir.display(), "scheduler started");
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = match (listener, &http) {
        (Some((listener, tls)), Some(options)) => {
            let router =
                billora_http::router(api.clone(), &options.base_path, &options.cors_origins);
            tracing::info!(
                address = %options.addr,
                base_path = %options.base_path,
                tls = tls.is_some(),
                "serving the HTTP API"
            );
            Some(tokio::spawn(billora_http::serve(
                listener,
                router,
                tls,
                async {
                    let _ = http_stopped.await;
                },
            )))
        }
        _ => None,
    };
    let mut task = tokio::spawn(scheduler.run());
    // The scheduler ends by itself only when it gives up (its store failed for too long):
    // then the daemon exits non-zero, for systemd to restart it.
    let ended = tokio::select! {
        stop = stop_requested() => { stop?; None }
        ended = &mut task => Some(ended),
    };
    let result = match ended {
        Some(ended) => ended.map_err(|e| Error::new(ErrorCode::Io, e.to_string()))?,
        None => {
            tracing::info!("stopping: cancelling running backups");
            api.shutdown();
            task.await
                .map_err(|e| Error::new(ErrorCode::Io, e.to_string()))?
        }
    };
    let _ = stop_http.send(());
    if let Some(server) = server {
        let _ = server.await;
    }
    api.close().await;
    tracing::info!("scheduler stopped");
    result
}

/// The SSH tunnel the flags describe, and its password or key passphrase.
fn ssh_tunnel(args: SshArgs) -> Result<(Option<SshTunnel>, Option<String>)> {
    let Some(host) = args.ssh_host else {
        return Ok((None, None));
    };
    let username = args
        .ssh_user
        .ok_or_else(|| Error::invalid("ssh_username", "give the SSH user with --ssh-user"))?;
    let secret = match &args.ssh_secret_env {
        Some(var) => Some(std::env::var(var).map_err(|_| {
            Error::invalid(
                "ssh_secret",
                format!("the environment variable `{var}` is not set"),
            )
        })?),
        None => None,
    };
    let tunnel = SshTunnel {
        host,
        port: args.ssh_port,
        username,
        key_file: args.ssh_key,
        host_key: args.ssh_host_key,
    };
    Ok((Some(tunnel), secret))
}

async fn connection(api: &Api, cmd: ConnectionCommand) -> Result<()> {
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
                ssh,
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
                ssh: None,
            };
            let (tunnel, ssh_secret) = ssh_tunnel(ssh)?;
            let request = NewConnection {
                ssh: tunnel,
                ..request
            };
            print_json(
                &api.add_connection_with(request, password, ssh_secret)
                    .await?,
            )
        }
        ConnectionCommand::List => {
            print_json(&json!({ "connections": api.list_connections().await? }))
        }
        ConnectionCommand::Test { name } => {
            let check = api.test_connection(name).await?;
            for notice in &check.notices {
                eprintln!("{notice}");
            }
            print_json(&check)
        }
        ConnectionCommand::Trust { name, fingerprint } => {
            let profile = api
                .trust_certificate(TrustCertificateRequest {
                    connection: name,
                    fingerprint,
                })
                .await?;
            eprintln!(
                "connection `{}`: the certificate {} is pinned; a different one will be refused",
                profile.name,
                profile.tls_pin.as_deref().unwrap_or("")
            );
            print_json(&profile)
        }
        ConnectionCommand::TrustHostKey { name, fingerprint } => {
            let profile = api
                .trust_host_key(TrustHostKeyRequest {
                    connection: name,
                    fingerprint,
                })
                .await?;
            eprintln!(
                "connection `{}`: the SSH host key {} is pinned; a different one will be refused",
                profile.name,
                profile
                    .ssh
                    .as_ref()
                    .and_then(|t| t.host_key.as_deref())
                    .unwrap_or("")
            );
            print_json(&profile)
        }
        ConnectionCommand::Remove { name } => {
            let removed = api.remove_connection(name).await?;
            print_json(&json!({ "success": true, "removed": removed }))
        }
    }
}

async fn destination(api: &Api, cmd: DestinationCommand) -> Result<()> {
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
            let form = DestinationForm {
                destination: NewDestination {
                    name: a.name,
                    settings,
                    retention_days: a.retention_days,
                    max_backups: a.max_backups,
                },
                secret,
            };
            // Google Drive: the consent page, in a browser; the answer comes back here.
            let open = |url: &str| {
                eprintln!(
                    "Open this address in a browser to let Billora Backup use Google Drive:\n{url}"
                );
                open_in_browser(url);
            };
            // Tested before saving (unless --no-test), so a typo is found now and not at 02:00.
            print_json(&api.add_destination_with(form, &open, !a.no_test).await?)
        }
        DestinationCommand::List => {
            print_json(&json!({ "destinations": api.list_destinations().await? }))
        }
        DestinationCommand::Test { name } => print_json(&api.test_destination(name).await?),
        DestinationCommand::Remove { name } => {
            let removed = api.remove_destination(name).await?;
            print_json(&json!({ "success": true, "removed": removed }))
        }
    }
}

async fn restore(api: &Api, args: RestoreArgs) -> Result<()> {
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
    let source = match source.parse::<i64>() {
        Ok(id) => BackupSource::Run { id, from },
        Err(_) if from.is_some() => {
            return Err(Error::invalid(
                "from",
                "--from needs a history entry id, not a file",
            ))
        }
        Err(_) => BackupSource::File(PathBuf::from(&source)),
    };
    let passphrase = if passphrase_stdin {
        Some(read_stdin_secret("passphrase")?)
    } else {
        None
    };
    let job = RestoreJob {
        source,
        connection,
        database,
        replace_tenant,
        force,
        keep_sql_security,
        enable_events,
        connections,
        use_inserts: inserts,
        identity,
        passphrase,
    };
    let bar = progress_bar();
    let shown = bar.clone();
    let (cancel, ctrl_c) = cancel_on_ctrl_c();
    let progress = Arc::new(move |p: &RestoreProgress| terminal::show_restore(&shown, p));
    let report = api.restore_job(job, progress, cancel).await;
    ctrl_c.abort();
    bar.finish_and_clear();
    print_json(&report?)
}

/// `key generate`: the recovery file first (so a key never exists only in the keyring), then
/// the keyring; prints the public key.
async fn generate_key(data_dir: Option<PathBuf>, recovery_file: &std::path::Path) -> Result<()> {
    let recovery_file = std::path::absolute(recovery_file).map_err(|e| {
        billora_engine::error::io_error(e, "the recovery file's path").with_field("recovery_file")
    })?;
    let api = Api::open(data_dir.as_deref(), Arc::new(OsKeyring)).await?;
    let created = api
        .create_encryption_key(recovery_file.display().to_string())
        .await;
    api.close().await;
    print_json(&json!({
        "public_key": created?,
        "recovery_file": recovery_file.display().to_string(),
        "next": "put the public key in a schedule's encrypt_to; keep the recovery file offline",
    }))
}
