//! Restore: a backup (ours, or a plain/gzip/zstd file from `mysqldump`/`mariadb-dump`) into a
//! database, after checking that the file is whole.
//!
//! - Full: into a new or empty database, created with the source's charset and collation;
//!   a non-empty target is refused unless forced.
//! - Tenant, staging: a tenant backup is a complete small database; restored like a full one.
//! - Tenant, replace: into the live database, in one transaction, that tenant's current rows
//!   are deleted (children first) and the backed-up rows inserted; other tenants are untouched.
//!
//! Nothing is executed before the file is verified: its SHA-256 against the manifest or the
//! history when there is one, else, for another tool's file, the pre-scan's full read (a
//! truncated or altered compressed stream fails there, not half-way through a restore).

pub mod guard;
pub mod load;
mod replace;
pub mod split;

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use mysql::prelude::Queryable;
use mysql::Conn;
use serde::Serialize;

use self::guard::{Guard, Verdict};
use self::load::{Batch, Loader, TableInput};
use self::split::{Statement, Statements};
use crate::artifact::{open_backup, sha256_file};
use crate::connection::{check_identifier, db_error, ServerTarget};
use crate::crypt::Keys;
use crate::dump::{schema, tenant};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::Manifest;
use crate::sql::text::ident;

/// How to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreMode {
    /// Into a new or empty database (also a tenant backup into a staging database).
    Database { force: bool },
    /// Replace one tenant's rows in a live database with the backed-up ones.
    ReplaceTenant,
}

/// Connections loading the rows of our own backups when not chosen: three on a 2-core
/// machine, so that while one waits on the server sorting a big table's keys (partly disk
/// work) two keep loading; ~10% faster than two on the benchmark (7 of 8 alternating rounds),
/// +15 MB (BENCHMARKS.md).
pub const DEFAULT_CONNECTIONS: usize = 3;

#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub file: PathBuf,
    /// The checksum the history recorded, if any (checked in addition to the manifest's).
    pub expected_sha256: Option<String>,
    pub database: String,
    pub mode: RestoreMode,
    /// Parallel connections for the rows of our own backups (foreign files run on one).
    pub connections: usize,
    /// Run the rows' INSERT statements as they are, never as LOAD DATA LOCAL (see `load`).
    pub use_inserts: bool,
    /// Keys that open an encrypted backup (from the keyring or a recovery file).
    pub keys: Keys,
    /// What the restore may do beyond writing rows and schema into the target.
    pub safety: RestoreSafety,
}

/// Choices that loosen the restore's least-privilege defaults (all off by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreSafety {
    /// Keep routines and views `SQL SECURITY DEFINER` (restoring onto the same server with
    /// the same accounts). Off: they become `SQL SECURITY INVOKER`, so they never run with
    /// the restoring account's rights (often an administrator's).
    pub keep_sql_security: bool,
    /// Create scheduled events enabled, as they were. Off: created disabled (an event runs by
    /// itself the moment it exists).
    pub enable_events: bool,
    /// Replace a tenant although some of its live tables are missing from the backup (they
    /// would be emptied for that tenant) or cannot be rolled back (not transactional).
    pub force_replace: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct RestoreProgress {
    pub statements: u64,
    pub sql_bytes_done: u64,
    /// From the manifest, when known.
    pub sql_bytes_total: Option<u64>,
    /// The table whose rows are going in now.
    pub table: Option<String>,
    /// Tables whose rows have started, and how many there are (from the manifest).
    pub tables_done: u64,
    pub tables_total: Option<u64>,
    /// Rows the server has taken so far (its affected-row counts), and how many the backup
    /// holds (from the manifest).
    pub rows_done: u64,
    pub rows_total: Option<u64>,
}

impl RestoreProgress {
    /// Notes a statement: a new table's first rows move the table count on.
    pub(crate) fn saw(&mut self, sql: &str) {
        if let Some(table) = load::insert_table(sql) {
            if self.table.as_deref() != Some(table.as_str()) {
                self.tables_done += 1;
                self.table = Some(table);
            }
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub database: String,
    pub statements: u64,
    pub created_database: bool,
    pub verified_checksum: bool,
    /// Replace-tenant: rows deleted per table before the insert.
    pub deleted_rows: Vec<(String, u64)>,
    pub warnings: Vec<String>,
    /// What the restore changed to stay inside the target and keep least privilege: database
    /// names mapped onto the target, routines and views made `SQL SECURITY INVOKER`, events
    /// created disabled.
    pub notices: Vec<String>,
}

fn corrupt(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::Corrupt, message)
        .with_hint("use another backup; this file is damaged or incomplete")
}

/// Checks the file before anything touches a database.
pub fn verify_file(
    file: &Path,
    manifest: Option<&Manifest>,
    expected: Option<&str>,
    keys: &Keys,
) -> Result<bool> {
    if !file.is_file() {
        return Err(
            Error::not_found(format!("the backup file {} does not exist", file.display()))
                .with_field("file"),
        );
    }
    let wanted: Vec<&str> = manifest
        .map(|m| m.sha256.as_str())
        .into_iter()
        .chain(expected)
        .collect();
    if !wanted.is_empty() {
        let actual = sha256_file(file)?;
        if wanted.iter().any(|w| *w != actual) {
            return Err(corrupt(format!(
                "the checksum of {} does not match the one recorded at backup time",
                file.display()
            )));
        }
        // The file is byte for byte the one the backup wrote and checked; opening it still
        // checks the key of an encrypted one before anything reaches a server.
        open_backup(file, keys)?;
        return Ok(true);
    }
    // Without a recorded checksum (another tool's file, no manifest), the pre-scan
    // reads the stream to its end before anything is written (zstd carries its own
    // checksum, gzip a CRC): a damaged one is `Corrupt` there. Opening it checks the key.
    open_backup(file, keys)?;
    Ok(false)
}

/// Session settings every restore connection uses (the dump header sets the same).
fn prepare(conn: &mut Conn) -> Result<()> {
    conn.query_drop(
        "SET NAMES utf8mb4, time_zone = '+00:00', SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', \
         SESSION foreign_key_checks = 0, SESSION unique_checks = 0, SESSION net_read_timeout = 3600, \
         SESSION net_write_timeout = 3600",
    )
    .map_err(|e| db_error(e, "preparing the restore session"))
}

/// Whether the statement starts with `prefix` (12 ASCII bytes), compared as bytes: a Thai
/// letter across byte 12 must not split a `str`.
fn starts_with_12(stmt: &Statement, prefix: &[u8; 12]) -> bool {
    stmt.sql.len() > 12 && stmt.sql.as_bytes()[..12].eq_ignore_ascii_case(prefix)
}

fn is_insert(stmt: &Statement) -> bool {
    starts_with_12(stmt, b"INSERT INTO ")
}

/// Statements of our own files that may run on any pooled connection, in any order among
/// themselves: row INSERTs, and the per-table `ALTER TABLE … ADD KEY` after the rows (an ALTER
/// waits for that table's INSERTs through the server's metadata lock). An ALTER that adds a
/// foreign key is not: it runs alone, after a barrier (MariaDB 10.11 crashed adding one while
/// another connection loaded a related table; `dump::write_foreign_keys`). Older backups carry
/// their foreign keys in the per-table ALTERs, so those run alone too.
fn is_pooled(stmt: &Statement) -> bool {
    is_insert(stmt)
        || (starts_with_12(stmt, b"ALTER TABLE ")
            && !stmt.sql.to_ascii_uppercase().contains("FOREIGN KEY"))
}

fn exec(conn: &mut Conn, stmt: &Statement) -> Result<()> {
    conn.query_drop(&stmt.sql).map_err(|e| {
        let mut err = db_error(e, &format!("statement at line {}", stmt.line));
        err.message = format!("restore failed: {}", err.message);
        err
    })
}

/// Restores `request.file` on the server of `target` (its database is ignored).
pub fn restore(
    target: &ServerTarget,
    request: &RestoreRequest,
    progress: &(dyn Fn(&RestoreProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<RestoreReport> {
    check_identifier("database", &request.database)?;
    let manifest = Manifest::read_beside(&request.file)?;
    let verified = verify_file(
        &request.file,
        manifest.as_ref(),
        request.expected_sha256.as_deref(),
        &request.keys,
    )?;
    match request.mode {
        RestoreMode::Database { force } => restore_database(
            target,
            request,
            manifest.as_ref(),
            force,
            verified,
            progress,
            cancel,
        ),
        RestoreMode::ReplaceTenant => replace::replace_tenant(
            target,
            request,
            manifest.as_ref(),
            verified,
            progress,
            cancel,
        ),
    }
}

fn restore_database(
    target: &ServerTarget,
    request: &RestoreRequest,
    manifest: Option<&Manifest>,
    force: bool,
    verified: bool,
    progress: &(dyn Fn(&RestoreProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<RestoreReport> {
    let db = &request.database;
    let mut admin = target.for_database(None).connect()?;
    let (mut guard, limit) = containment(&mut admin, db, request)?;
    // A file whose SHA-256 equals the one the history recorded is byte for byte what our dump
    // wrote: its statements are checked as they run (below), without reading it twice. Any
    // other file (another tool's, or ours from a path, whose manifest could have been
    // rewritten with it) is read whole first, so a refusal comes before anything is written.
    let recorded_by_us = verified && request.expected_sha256.is_some();
    let mut notices = if recorded_by_us {
        Vec::new()
    } else {
        prescan(request, &mut guard, limit)?
    };
    let exists: Option<String> = admin
        .exec_first(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (db,),
        )
        .map_err(|e| db_error(e, "looking up the target database"))?;
    let mut created = false;
    match exists {
        Some(_) => {
            let objects: u64 = admin
                .exec_first(
                    "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?) + \
                     (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?)",
                    (db, db),
                )
                .map_err(|e| db_error(e, "looking at the target database"))?
                .unwrap_or(0);
            if objects > 0 && !force {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    format!("the database `{db}` is not empty"),
                )
                .with_field("database")
                .with_hint(
                    "restore into a new database name, or pass --force to overwrite its tables",
                ));
            }
        }
        None => {
            let (charset, collation) = manifest
                .map(|m| (m.charset.clone(), m.collation.clone()))
                .unwrap_or_else(|| ("utf8mb4".into(), "utf8mb4_unicode_ci".into()));
            let word =
                |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !word(&charset) || !word(&collation) {
                return Err(corrupt(
                    "the manifest names an invalid charset or collation",
                ));
            }
            admin
                .query_drop(format!(
                    "CREATE DATABASE {} CHARACTER SET {charset} COLLATE {collation}",
                    ident(db)
                ))
                .map_err(|e| db_error(e, "creating the target database"))?;
            created = true;
        }
    }
    drop(admin);

    let db_target = target.for_database(Some(db)).for_scripts();
    let result = run_script(
        &db_target, request, manifest, &guard, limit, progress, cancel,
    )
    .and_then(|mut done| {
        let secured = if request.safety.keep_sql_security {
            Vec::new()
        } else {
            let mut conn = db_target.connect()?;
            secure_definer_objects(&mut conn, db, &mut done.warnings)?
        };
        Ok((done, secured))
    });
    if result.is_err() && created {
        // Leave no half-restored database we created behind.
        if let Ok(mut admin) = target.for_database(None).connect() {
            let _ = admin.query_drop(format!("DROP DATABASE {}", ident(db)));
        }
    }
    let (done, secured) = result?;
    if recorded_by_us {
        notices.extend(done.skipped);
    }
    if !secured.is_empty() {
        notices.push(format!(
            "made SQL SECURITY INVOKER (they run with the caller's rights, not the restoring \
             account's): {}",
            secured.join(", ")
        ));
    }
    if !done.disabled_events.is_empty() {
        notices.push(format!(
            "created disabled (enable them with ALTER EVENT … ENABLE when wanted): {}",
            done.disabled_events
                .iter()
                .map(|e| format!("event `{}`", guard::printable(e)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(RestoreReport {
        database: db.clone(),
        statements: done.statements,
        created_database: created,
        verified_checksum: verified,
        deleted_rows: Vec::new(),
        warnings: done.warnings,
        notices,
    })
}

/// The containment rules for restoring into `db` on the server of `admin`, and the largest
/// statement the server accepts (a longer one in a file is refused without reading it whole).
fn containment(admin: &mut Conn, db: &str, request: &RestoreRequest) -> Result<(Guard, usize)> {
    let databases: Vec<String> = admin
        .query("SHOW DATABASES")
        .map_err(|e| db_error(e, "listing the server's databases"))?;
    let packet: Option<u64> = admin
        .query_first("SELECT @@max_allowed_packet")
        .map_err(|e| db_error(e, "reading max_allowed_packet"))?;
    let mut guard = Guard::new(db, &databases);
    guard.keep_events_enabled = request.safety.enable_events;
    let limit = usize::try_from(packet.unwrap_or(64 << 20)).unwrap_or(usize::MAX);
    Ok((guard, limit))
}

/// Reads the whole file once before anything is written: every statement must pass the guard
/// (see `guard`), and none may be longer than `limit`. Returns the notices of mapped
/// statements. A damaged stream fails here too.
fn prescan(request: &RestoreRequest, guard: &mut Guard, limit: usize) -> Result<Vec<String>> {
    let reader = BufReader::with_capacity(1 << 20, open_backup(&request.file, &request.keys)?);
    let mut notices = Vec::new();
    for stmt in Statements::new(reader).with_limit(limit) {
        let stmt = stmt.map_err(|e| match e.code {
            ErrorCode::Io => corrupt(format!(
                "{} cannot be read to the end: {}",
                request.file.display(),
                e.message
            )),
            _ => e,
        })?;
        if let Verdict::Skip(notice) = guard.check(&stmt.sql, stmt.line)? {
            notices.push(notice);
        }
    }
    Ok(notices)
}

/// Makes every routine and view of `db` that runs with its definer's rights run with its
/// caller's instead. Returns what was changed; a failure is a warning (the restore is done).
fn secure_definer_objects(
    conn: &mut Conn,
    db: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>> {
    let err = |e| db_error(e, "reading the restored routines and views");
    let routines: Vec<(String, String)> = conn
        .exec(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = ? AND SECURITY_TYPE = 'DEFINER' ORDER BY ROUTINE_NAME",
            (db,),
        )
        .map_err(err)?;
    let views: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = ? AND SECURITY_TYPE = 'DEFINER' ORDER BY TABLE_NAME",
            (db,),
        )
        .map_err(err)?;
    let mut secured = Vec::new();
    for (kind, name) in routines {
        let kind = if kind == "FUNCTION" {
            "FUNCTION"
        } else {
            "PROCEDURE"
        };
        let label = format!(
            "{} `{}`",
            kind.to_ascii_lowercase(),
            guard::printable(&name)
        );
        match conn.query_drop(format!(
            "ALTER {kind} {} SQL SECURITY INVOKER",
            ident(&name)
        )) {
            Ok(()) => secured.push(label),
            Err(e) => warnings.push(format!("{label} still runs with its definer's rights: {e}")),
        }
    }
    for name in views {
        let label = format!("view `{}`", guard::printable(&name));
        let row: Option<mysql::Row> = conn
            .query_first(format!("SHOW CREATE VIEW {}", ident(&name)))
            .map_err(err)?;
        let Some(create) = row
            .and_then(|r| r.get_opt::<String, _>(1))
            .and_then(|r| r.ok())
        else {
            continue;
        };
        // `CREATE ALGORITHM=… DEFINER=… SQL SECURITY DEFINER VIEW `name` AS …`, as the server
        // writes it: the head before the name holds the first `SQL SECURITY DEFINER`.
        let create = schema::strip_definer(&create);
        let Some(rest) = create.strip_prefix("CREATE ") else {
            continue;
        };
        let head_end = rest.find(" VIEW ").unwrap_or(0);
        let Some(at) = rest[..head_end].find("SQL SECURITY DEFINER") else {
            continue;
        };
        let alter = format!(
            "ALTER {}SQL SECURITY INVOKER{}",
            &rest[..at],
            &rest[at + "SQL SECURITY DEFINER".len()..]
        );
        match conn.query_drop(&alter) {
            Ok(()) => secured.push(label),
            Err(e) => warnings.push(format!("{label} still runs with its definer's rights: {e}")),
        }
    }
    Ok(secured)
}

/// One statement for the pool, with how its table's rows can be loaded (`None`: run it as is).
struct Work {
    stmt: Statement,
    table: Option<Arc<TableInput>>,
}

const INSERTS_WARNING: &str = "rows were restored with INSERT statements, which is slower: the \
server does not allow LOAD DATA LOCAL (its local_infile setting is OFF)";

/// Whether the server accepts `LOAD DATA LOCAL` (MariaDB's default; MySQL 8 turns it off).
fn local_infile_allowed(conn: &mut Conn) -> bool {
    conn.query_first::<i64, _>("SELECT @@local_infile")
        .ok()
        .flatten()
        .is_some_and(|on| on != 0)
}

/// Runs one pooled statement: as LOAD DATA when its table allows it and the server has not
/// refused LOCAL INFILE, else as the statement it is.
fn run_work(
    conn: &mut Conn,
    loader: &Loader,
    work: &Work,
    refused: &AtomicBool,
    rows: &AtomicU64,
) -> Result<()> {
    if let (Some(table), false) = (&work.table, refused.load(Ordering::Relaxed)) {
        let batch: Option<Batch> = load::convert(&work.stmt.sql, table, &mut loader.buffer());
        if let Some(batch) = batch {
            if loader.load(conn, &batch, work.stmt.line)? {
                rows.fetch_add(batch.rows, Ordering::Relaxed);
                return Ok(());
            }
            refused.store(true, Ordering::Relaxed);
        }
    }
    exec(conn, &work.stmt)?;
    rows.fetch_add(conn.affected_rows(), Ordering::Relaxed);
    Ok(())
}

/// The rows a backup holds, from its manifest.
fn manifest_rows(manifest: &Manifest) -> u64 {
    manifest.tables.iter().map(|t| t.rows).sum()
}

/// Executes the script: DDL and session statements in order on one connection; the INSERTs of
/// our own backups go to a pool of connections that take them from one queue, with a barrier
/// before each later DDL statement (INSERT order never matters in our files, see `dump`).
/// Returns the statement count and warnings for the report.
#[allow(clippy::too_many_arguments)]
fn run_script(
    target: &ServerTarget,
    request: &RestoreRequest,
    manifest: Option<&Manifest>,
    guard: &Guard,
    limit: usize,
    progress: &(dyn Fn(&RestoreProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<ScriptOutcome> {
    // The same checks again, statement by statement (the file is read a second time).
    let mut guard = guard.replay();
    let mut skipped = Vec::new();
    let workers = if manifest.is_some() {
        request.connections.max(1)
    } else {
        0
    };
    let mut main = target.connect()?;
    prepare(&mut main)?;
    let mut pool: Vec<Conn> = Vec::new();
    for _ in 0..workers {
        let mut conn = target.connect()?;
        prepare(&mut conn)?;
        pool.push(conn);
    }
    let mut warnings = Vec::new();
    let loading = workers > 0 && !request.use_inserts;
    let loading = loading
        && (local_infile_allowed(&mut main) || {
            warnings.push(INSERTS_WARNING.to_owned());
            false
        });
    let database = target.database.clone().unwrap_or_default();
    let mut tables: HashMap<String, Option<Arc<TableInput>>> = HashMap::new();
    let refused = AtomicBool::new(false);
    let reader = BufReader::with_capacity(1 << 20, open_backup(&request.file, &request.keys)?);
    let mut statements = Statements::new(reader).with_limit(limit);
    let mut state = RestoreProgress {
        sql_bytes_total: manifest.map(|m| m.sql_bytes),
        tables_total: manifest.map(|m| m.tables.len() as u64),
        rows_total: manifest.map(manifest_rows),
        ..RestoreProgress::default()
    };
    let rows = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let (work_tx, work_rx) = mpsc::sync_channel::<Work>(pool.len());
    let work_rx = std::sync::Mutex::new(work_rx);

    let count = std::thread::scope(|scope| -> Result<u64> {
        let (done_tx, done_rx) = mpsc::channel::<Result<()>>();
        for conn in pool.iter_mut() {
            let (work_rx, done_tx, failed, refused, rows) =
                (&work_rx, done_tx.clone(), &failed, &refused, &rows);
            scope.spawn(move || {
                let loader = Loader::install(conn);
                loop {
                    let next = work_rx.lock().expect("queue").recv();
                    let Ok(work) = next else { break };
                    let result = if failed.load(Ordering::Relaxed) {
                        Ok(())
                    } else {
                        run_work(conn, &loader, &work, refused, rows)
                    };
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if done_tx.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut in_flight = 0u64;
        let wait_all = |in_flight: &mut u64| -> Result<()> {
            let mut first_error = None;
            while *in_flight > 0 {
                match done_rx.recv() {
                    Ok(r) => {
                        *in_flight -= 1;
                        if let (Err(e), None) = (r, &first_error) {
                            first_error = Some(e);
                        }
                    }
                    Err(_) => {
                        return Err(Error::new(
                            ErrorCode::DatabaseError,
                            "a restore connection stopped",
                        ))
                    }
                }
            }
            first_error.map_or(Ok(()), Err)
        };
        let outcome = (|| -> Result<u64> {
            let mut count = 0u64;
            while let Some(stmt) = statements.next() {
                let mut stmt = stmt?;
                match guard.check(&stmt.sql, stmt.line)? {
                    Verdict::Run => {}
                    Verdict::Rewrite(sql) => stmt.sql = sql,
                    Verdict::Skip(notice) => {
                        skipped.push(notice);
                        continue;
                    }
                }
                if cancel.load(Ordering::Relaxed) {
                    return Err(Error::new(
                        ErrorCode::Cancelled,
                        "the restore was cancelled",
                    ));
                }
                if failed.load(Ordering::Relaxed) {
                    wait_all(&mut in_flight)?;
                }
                count += 1;
                state.saw(&stmt.sql);
                if is_pooled(&stmt) && workers > 0 {
                    let table = match load::insert_table(&stmt.sql) {
                        Some(name) if loading => match tables.get(&name) {
                            Some(known) => known.clone(),
                            None => {
                                let read =
                                    TableInput::read(&mut main, &database, &name)?.map(Arc::new);
                                tables.insert(name, read.clone());
                                read
                            }
                        },
                        _ => None,
                    };
                    work_tx.send(Work { stmt, table }).map_err(|_| {
                        Error::new(ErrorCode::DatabaseError, "a restore connection stopped")
                    })?;
                    in_flight += 1;
                    // Collect finished work without waiting, to keep the count small.
                    while let Ok(r) = done_rx.try_recv() {
                        in_flight -= 1;
                        r?;
                    }
                } else {
                    wait_all(&mut in_flight)?;
                    exec(&mut main, &stmt)?;
                    if load::insert_table(&stmt.sql).is_some() {
                        rows.fetch_add(main.affected_rows(), Ordering::Relaxed);
                    }
                    if guard::may_change_charset(&stmt.sql) {
                        check_client_charset(&mut main, &stmt)?;
                    }
                }
                state.statements = count;
                state.sql_bytes_done = statements.consumed;
                state.rows_done = rows.load(Ordering::Relaxed);
                progress(&state);
            }
            wait_all(&mut in_flight)?;
            // Once more with every worker done: the rows count is whole.
            state.rows_done = rows.load(Ordering::Relaxed);
            progress(&state);
            Ok(count)
        })();
        drop(work_tx);
        if outcome.is_err() {
            let _ = wait_all(&mut in_flight);
        }
        outcome
    })?;
    if refused.load(Ordering::Relaxed) {
        warnings.push(INSERTS_WARNING.to_owned());
    }
    Ok(ScriptOutcome {
        statements: count,
        warnings,
        disabled_events: guard.disabled_events,
        skipped,
    })
}

/// After a statement that set the client's character set from a value the guard could not
/// see (a variable): refuses a character set in which the guard would read the rest of the
/// file differently from the server (`guard::UNSAFE_CHARSET`).
fn check_client_charset(conn: &mut Conn, stmt: &Statement) -> Result<()> {
    let now: Option<(String, String)> = conn
        .query_first("SELECT @@character_set_client, @@character_set_connection")
        .map_err(|e| db_error(e, "reading the session's character set"))?;
    match now {
        Some((client, connection))
            if guard::is_unsafe_charset(&client) || guard::is_unsafe_charset(&connection) =>
        {
            Err(Error::new(
                ErrorCode::UnsafeScript,
                format!(
                    "the restore stopped: the statement at line {} {}; nothing after it was \
                     run (a database the restore created is removed again)",
                    stmt.line,
                    guard::UNSAFE_CHARSET
                ),
            )
            .with_hint("convert the file to utf8mb4 (for example with iconv) and restore it again"))
        }
        _ => Ok(()),
    }
}

/// What running a script did, for the report.
struct ScriptOutcome {
    statements: u64,
    warnings: Vec<String>,
    /// Events created disabled.
    disabled_events: Vec<String>,
    /// Notices of statements mapped onto the target and not run.
    skipped: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str) -> Statement {
        Statement {
            sql: sql.to_owned(),
            line: 1,
        }
    }

    #[test]
    fn only_rows_and_secondary_keys_run_in_parallel() {
        assert!(
            is_pooled(&stmt("INSERT INTO `t` (`a`) VALUES (1)")),
            "row INSERTs are pooled"
        );
        assert!(
            is_pooled(&stmt("ALTER TABLE `t` ADD KEY `k` (`a`)")),
            "a table's secondary keys are built beside other loads"
        );
        assert!(
            !is_pooled(&stmt(
                "ALTER TABLE `t` ADD KEY `k` (`a`), ADD CONSTRAINT `f` FOREIGN KEY (`a`) REFERENCES `p` (`id`)"
            )),
            "an ALTER adding a foreign key runs alone (older backups put them with the keys)"
        );
        assert!(
            !is_pooled(&stmt(
                "alter table t add constraint f foreign key (a) references p (id)"
            )),
            "in any letter case"
        );
        assert!(
            !is_pooled(&stmt("CREATE TABLE `t` (`a` INT)")),
            "other DDL runs in order on the main connection"
        );
        assert!(
            !is_pooled(&stmt("SET @a='กขค'")) && !is_insert(&stmt("SET @a='กขค'")),
            "a statement with a multi-byte letter across byte 12 is read without panicking"
        );
    }
}
