//! `billora-backup`: the headless command line over the engine, for servers and scripts.
//!
//! Output is JSON where the original spec shows JSON; timestamps are RFC 3339 with an offset.
//! Exit codes: 0 success, 2 invalid input (the message says what to fix), 1 a failed operation.
//! Errors go to stderr as one line.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use billora_engine::cron::{CronExpr, Lang};
use billora_engine::error::{Error, ErrorCode, Result};
use billora_engine::schedule::{parse_request, NewSchedule, SchedulePatch};
use billora_engine::store::Store;
use billora_engine::{paths, time};
use clap::{Parser, Subcommand};
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
    /// Show one schedule.
    Show { id: i64 },
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
        Command::History { schedule_id } => {
            let store = open_store(cli.data_dir).await?;
            let runs = store.list_history(schedule_id).await;
            store.close().await;
            print_json(&json!({ "success": true, "data": runs? }))
        }
    }
}

async fn open_store(data_dir: Option<PathBuf>) -> Result<Store> {
    Store::open(&paths::resolve_data_dir(data_dir.as_deref())?).await
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
    }
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
