//! The native logical dump: a consistent snapshot of one database written as SQL text that the
//! stock `mysql`/`mariadb` client restores, streamed with bounded memory.
//!
//! Shape of the output: a header (charset, time zone, checks off, the database's own charset),
//! every `CREATE TABLE` (without secondary and foreign keys), then the rows as multi-row
//! INSERTs, each table followed by the `ALTER TABLE … ADD KEY` that builds its keys in one
//! sorted pass, then every foreign key (once all rows are in: see [`write_foreign_keys`]),
//! triggers (after the rows, so a restore does not fire them), views in dependency order,
//! routines and events, then the footer that restores the session. Because
//! the schema comes first and foreign-key checks are off, INSERT statements may come in any
//! order: parallel readers hand complete statements to one writer as they fill, and the file
//! is still a valid script. A big table with an integer primary key is cut into key ranges
//! that the readers take from the one queue (one table is most of a billing database); its
//! keys are written after its last range. A tenant dump cuts its big tables by ranges of the
//! tenant's own keys, so four readers can wait on the server's scattered page reads at once.
//!
//! Consistency: every reader runs in `START TRANSACTION WITH CONSISTENT SNAPSHOT`. With several
//! readers, their snapshots are opened under a brief `FLUSH TABLES WITH READ LOCK`, as mydumper
//! does; without the privilege for that (RELOAD), one reader is used and the run says so.

pub mod schema;
pub mod tenant;

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use mysql::prelude::Queryable;
use mysql::Conn;
use serde::Serialize;

use self::schema::{Schema, StoredObject};
use crate::connection::{db_error, ServerTarget};
use crate::error::{io_error, Error, ErrorCode, Result};
use crate::manifest::TableCount;
use crate::sql::text::{comment_name, ident, push_row, string_literal, ValueStyle};

/// What to dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpScope {
    /// Every table.
    Full,
    /// One tenant's rows: tables with the tenant column, tables reaching them through foreign
    /// keys, and the tenant's row in the root table.
    Tenant {
        tenant_id: i64,
        column: String,
        root_table: String,
        root_key: String,
    },
}

#[derive(Debug, Clone)]
pub struct DumpOptions {
    pub scope: DumpScope,
    /// Keep `DEFINER=` clauses (off by default, so another account can restore).
    pub keep_definers: bool,
    /// Parallel readers sharing one snapshot. `None`: [`FULL_READERS`] for a full dump, whose
    /// readers keep the client's and the server's CPUs busy, and [`TENANT_READERS`] for a tenant
    /// dump, whose readers mostly wait for the server to fetch scattered pages through an index
    /// (more reads in flight at once, little CPU).
    pub readers: Option<usize>,
    /// Upper bound of one INSERT statement in bytes (also kept under max_allowed_packet).
    pub max_statement_bytes: usize,
    /// The hash of the row digests (verification uses the kind of the backup it checks).
    pub digest: DigestKind,
    /// A full dump reads a table in primary-key ranges of about this many (estimated) rows,
    /// shared by the readers, when it has an integer primary key and at least twice as many.
    /// `None`: ranges of half of each reader's share of all rows, at least
    /// [`MIN_RANGE_ROWS`], so only a table of a reader's share or more is cut; with one
    /// reader, no ranges. Each range is a scan of its own: many short ones cost the server
    /// more than the balance they buy (BENCHMARKS.md). A tenant dump cuts at
    /// [`MIN_RANGE_ROWS`] instead (see `tenant_rows_per_range`).
    pub range_rows: Option<u64>,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            scope: DumpScope::Full,
            keep_definers: false,
            readers: None,
            max_statement_bytes: 4 << 20,
            digest: DigestKind::default(),
            range_rows: None,
        }
    }
}

/// Live progress, sent as the dump goes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct DumpProgress {
    pub table: String,
    pub tables_done: usize,
    pub tables_total: usize,
    pub rows_done: u64,
    /// From `information_schema` (an estimate for InnoDB).
    pub rows_estimated: u64,
    /// SQL bytes produced (before compression).
    pub bytes_done: u64,
}

/// The hash a row digest sums. Verification dumps the restored copy with the kind its
/// manifest recorded, so backups made with either still verify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DigestKind {
    /// XXH3-64: about 8× faster than SipHash on rows of this size (0.8 s of CPU less on the
    /// benchmark's full dump). Written by every new backup.
    #[default]
    Xxh3,
    /// SipHash-2-4 with fixed keys: what backups recorded before XXH3.
    SipHash,
}

impl DigestKind {
    const XXH3_PREFIX: &'static str = "xxh3:";

    /// The kind a recorded digest text was made with.
    pub fn of(recorded: &str) -> DigestKind {
        if recorded.starts_with(Self::XXH3_PREFIX) {
            DigestKind::Xxh3
        } else {
            DigestKind::SipHash
        }
    }

    fn hash(self, row_sql: &[u8]) -> u64 {
        match self {
            DigestKind::Xxh3 => twox_hash::XxHash3_64::oneshot(row_sql),
            DigestKind::SipHash => {
                use std::hash::{Hash, Hasher};
                // Fixed keys: the same row gives the same hash in every process.
                #[allow(deprecated)]
                let mut h = std::hash::SipHasher::new_with_keys(
                    0x6269_6c6c_6f72_6121,
                    0x6469_6765_7374_2131,
                );
                row_sql.hash(&mut h);
                h.finish()
            }
        }
    }

    /// The text recorded in a manifest.
    pub fn text(self, digest: RowDigest) -> String {
        match self {
            DigestKind::Xxh3 => format!("{}{:016x}", Self::XXH3_PREFIX, digest.0),
            DigestKind::SipHash => format!("{:016x}", digest.0),
        }
    }
}

/// The order-independent digest of rows (see [`TableCount::digest`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowDigest(u64);

impl RowDigest {
    /// Adds one row, given as its SQL tuple text `(…)`.
    pub fn add(&mut self, kind: DigestKind, row_sql: &[u8]) {
        self.0 = self.0.wrapping_add(kind.hash(row_sql));
    }

    pub fn merge(&mut self, other: RowDigest) {
        self.0 = self.0.wrapping_add(other.0);
    }
}

/// What a finished dump reports (it goes into the manifest).
#[derive(Debug, Clone, Serialize)]
pub struct DumpReport {
    pub server_version: String,
    pub database: String,
    pub charset: String,
    pub collation: String,
    pub tables: Vec<TableCount>,
    pub views: usize,
    pub triggers: usize,
    pub routines: usize,
    pub events: usize,
    /// Tables with no path to a tenant (tenant dumps only): schema kept, rows not dumped.
    pub shared_tables: Vec<String>,
    /// `single` (one reader) or `shared` (several readers opened under a brief commit block).
    pub snapshot: String,
    /// Tables read in primary-key ranges (full dumps of big tables).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split_tables: Vec<String>,
    pub warnings: Vec<String>,
    pub sql_bytes: u64,
}

/// One unit of reading: a table, or one primary-key range of it, and the SELECT that yields
/// its rows.
struct Job {
    index: usize,
    table: String,
    columns: Vec<String>,
    select: String,
}

/// Readers of a full dump when not set: the two CPUs of an office machine (BENCHMARKS.md).
pub const FULL_READERS: usize = 2;
/// Readers of a tenant dump when not set: a small tenant's rows lie on pages all over each
/// table, so its dump is thousands of single-page reads on the server; four queries in flight
/// (with the big tables cut, see [`tenant_rows_per_range`]) instead of two finish in ~0.7 of
/// the time on the benchmark; six or eight gain nothing more there (BENCHMARKS.md).
pub const TENANT_READERS: usize = 4;

impl DumpOptions {
    /// The readers this dump asks for (before a missing privilege may cut them to one).
    pub fn reader_count(&self) -> usize {
        match (self.readers, &self.scope) {
            (Some(readers), _) => readers.max(1),
            (None, DumpScope::Full) => FULL_READERS,
            (None, DumpScope::Tenant { .. }) => TENANT_READERS,
        }
    }
}

/// The most ranges one table is cut into.
const MAX_RANGES: u64 = 16;
/// The fewest rows of a range when the size is chosen automatically.
pub const MIN_RANGE_ROWS: u64 = 250_000;

/// The rows of one key range: fixed by the options, or half of each reader's share of the
/// estimated rows, so the biggest tables are cut into a few long scans (enough for the
/// readers to end close together) instead of many short ones.
fn rows_per_range(range_rows: Option<u64>, total_rows: u64, readers: usize) -> u64 {
    match range_rows {
        Some(rows) => rows.max(1),
        None if readers > 1 => (total_rows / (2 * readers as u64)).max(MIN_RANGE_ROWS),
        None => u64::MAX,
    }
}

/// The rows of one range of a tenant dump (counted in the whole table): fixed by the options,
/// or [`MIN_RANGE_ROWS`]. Unlike a full dump's, a tenant's range is not another scan but one
/// more descent of the tenant index, so the big tables are cut finely and the readers, each
/// waiting on the server's page reads, end together.
fn tenant_rows_per_range(range_rows: Option<u64>, readers: usize) -> u64 {
    match range_rows {
        Some(rows) => rows.max(1),
        None if readers > 1 => MIN_RANGE_ROWS,
        None => u64::MAX,
    }
}

/// Where to cut the keys `min..=max` into `parts` ranges of equal width: the bounds `b1 < b2 <
/// …` between them (fewer when the keys are too close together).
fn cut_points(min: i128, max: i128, parts: u64) -> Vec<i128> {
    let parts = i128::from(parts.max(1));
    let width = max - min;
    let mut bounds: Vec<i128> = (1..parts)
        .map(|i| min + width * i / parts)
        .filter(|b| *b > min)
        .collect();
    bounds.dedup();
    bounds
}

/// The WHERE conditions of the ranges that `bounds` cut `key` (a quoted column, maybe with its
/// table's alias) into: `key < b1`, `b1 <= key < b2`, …, `key >= bn`. Every value is in exactly
/// one, whatever it is (rows inserted outside `MIN..MAX` after they were read cannot be in the
/// snapshot, but nothing depends on that).
fn range_conditions(key: &str, bounds: &[i128]) -> Vec<String> {
    let mut conditions = Vec::with_capacity(bounds.len() + 1);
    for (i, bound) in bounds.iter().enumerate() {
        conditions.push(match i.checked_sub(1).map(|p| bounds[p]) {
            None => format!("{key} < {bound}"),
            Some(low) => format!("{key} >= {low} AND {key} < {bound}"),
        });
    }
    if let Some(last) = bounds.last() {
        conditions.push(format!("{key} >= {last}"));
    }
    conditions
}

/// Into how many ranges a table of `estimated_rows` is cut: 1 (read whole) below twice
/// `range_rows`, else one per `range_rows`, at most [`MAX_RANGES`].
fn range_count(estimated_rows: u64, range_rows: u64) -> u64 {
    let range_rows = range_rows.max(1);
    if estimated_rows >= range_rows.saturating_mul(2) {
        (estimated_rows / range_rows).clamp(2, MAX_RANGES)
    } else {
        1
    }
}

/// The jobs of a full dump: one per table, or one per key range for a big table with an
/// integer primary key (its `MIN` and `MAX` read in the snapshot, so the bounds are integers
/// from the server; no input reaches them).
fn full_jobs(conn: &mut Conn, schema: &Schema, range_rows: u64) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for (index, t) in schema.tables.iter().enumerate() {
        let select = format!(
            "SELECT {} FROM {}",
            t.columns
                .iter()
                .map(|c| ident(c))
                .collect::<Vec<_>>()
                .join(", "),
            ident(&t.name)
        );
        let job = |select: String| Job {
            index,
            table: t.name.clone(),
            columns: t.columns.clone(),
            select,
        };
        let parts = range_count(t.estimated_rows, range_rows);
        let key = t.int_key.as_deref().filter(|_| parts > 1).map(ident);
        let bounds = match &key {
            Some(key) => key_bounds(
                conn,
                &format!("SELECT MIN({key}), MAX({key}) FROM {}", ident(&t.name)),
                parts,
                &t.name,
            )?,
            None => Vec::new(),
        };
        jobs.extend(range_selects(&select, "WHERE", key.as_deref(), &bounds).map(job));
    }
    Ok(jobs)
}

/// The SELECTs of one table's jobs: `select` itself when there are no bounds, else one per
/// range of `key`, added with `joiner` (`WHERE`, or `AND` after a WHERE clause).
fn range_selects<'a>(
    select: &'a str,
    joiner: &'a str,
    key: Option<&str>,
    bounds: &[i128],
) -> impl Iterator<Item = String> + 'a {
    let conditions = match key {
        Some(key) if !bounds.is_empty() => range_conditions(key, bounds),
        _ => Vec::new(),
    };
    let whole = conditions.is_empty().then(|| select.to_owned());
    whole.into_iter().chain(
        conditions
            .into_iter()
            .map(move |condition| format!("{select} {joiner} {condition}")),
    )
}

/// The bounds that cut the keys `min_max` (a query of `MIN` and `MAX` of an integer key) into
/// `parts` ranges; none when the query finds no rows.
fn key_bounds(conn: &mut Conn, min_max: &str, parts: u64, table: &str) -> Result<Vec<i128>> {
    let (min, max): (Option<String>, Option<String>) = conn
        .query_first(min_max)
        .map_err(|e| db_error(e, &format!("reading the key range of `{table}`")))?
        .unwrap_or((None, None));
    Ok(
        match (
            min.and_then(|v| v.parse::<i128>().ok()),
            max.and_then(|v| v.parse::<i128>().ok()),
        ) {
            (Some(min), Some(max)) => cut_points(min, max, parts),
            _ => Vec::new(),
        },
    )
}

/// The jobs of a tenant dump: one per table of the plan, or, for a big table, one per range of
/// the keys of the table its rows are selected by (itself, or the end of its foreign-key chain:
/// `invoices` for `invoice_items`), when that key is one integer column. The ranges cut the
/// tenant's own keys (`MIN` and `MAX` over its rows, read in the snapshot through the tenant
/// index), so each is a part of the tenant's rows, found through the same indexes. A tenant's
/// rows lie scattered over a whole table, so its dump waits on page reads; ranges let several
/// readers wait at once on the big tables too.
fn tenant_jobs(
    conn: &mut Conn,
    schema: &Schema,
    plan: &tenant::TenantPlan,
    range_rows: u64,
) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for t in &plan.tables {
        let Some(index) = schema.tables.iter().position(|s| s.name == t.table) else {
            continue;
        };
        let table = &schema.tables[index];
        let select = t.select(&table.columns);
        let job = |select: String| Job {
            index,
            table: table.name.clone(),
            columns: table.columns.clone(),
            select,
        };
        let (anchor, alias) = t.anchor();
        let parts = range_count(table.estimated_rows, range_rows);
        let key = schema
            .tables
            .iter()
            .find(|s| s.name == anchor)
            .and_then(|s| s.int_key.as_deref())
            .filter(|_| parts > 1)
            .map(|key| format!("{alias}.{}", ident(key)));
        let bounds = match &key {
            Some(key) => key_bounds(
                conn,
                &format!(
                    "SELECT MIN({key}), MAX({key}) FROM {} AS {alias} WHERE {alias}.{} = @billora_tenant",
                    ident(anchor),
                    ident(&t.anchor_column)
                ),
                parts,
                &table.name,
            )?,
            None => Vec::new(),
        };
        jobs.extend(range_selects(&select, "AND", key.as_deref(), &bounds).map(job));
    }
    Ok(jobs)
}

/// A finished INSERT statement (or a table's end) from a reader to the writer.
enum Chunk {
    Rows {
        index: usize,
        rows: u64,
        sql: Vec<u8>,
        digest: RowDigest,
    },
    /// One job (a table or one of its ranges) has sent all its rows.
    JobDone {
        index: usize,
    },
    Failed(Error),
}

fn check_cancel(cancel: &AtomicBool) -> Result<()> {
    if cancel.load(Ordering::Relaxed) {
        Err(Error::new(ErrorCode::Cancelled, "the backup was cancelled"))
    } else {
        Ok(())
    }
}

/// Prepares a reader's session: UTC, utf8mb4, a long write timeout (a slow disk must not get
/// the reader cut off), repeatable read.
fn prepare_session(conn: &mut Conn) -> Result<()> {
    conn.query_drop(
        "SET SESSION net_write_timeout = 3600, SESSION net_read_timeout = 3600, SESSION wait_timeout = 86400, \
         time_zone = '+00:00', NAMES utf8mb4, SESSION sql_quote_show_create = 1",
    )
    .and_then(|_| conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    .map_err(|e| db_error(e, "preparing the session"))
}

fn start_snapshot(conn: &mut Conn) -> Result<()> {
    conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .map_err(|e| db_error(e, "opening the snapshot"))
}

/// Opens `count` reader connections whose snapshots are the same point in time.
/// Returns the connections and the snapshot kind.
fn open_readers(
    target: &ServerTarget,
    count: usize,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Conn>, &'static str)> {
    let mut main = target.connect()?;
    prepare_session(&mut main)?;
    if count <= 1 {
        start_snapshot(&mut main)?;
        return Ok((vec![main], "single"));
    }
    let mut others = Vec::new();
    for _ in 1..count {
        let mut conn = target.connect()?;
        prepare_session(&mut conn)?;
        others.push(conn);
    }
    let _ = main.query_drop("SET SESSION lock_wait_timeout = 30");
    // FLUSH TABLES WITH READ LOCK, not MariaDB's BACKUP STAGE BLOCK_COMMIT: the test
    // `parallel_readers_share_one_snapshot_under_concurrent_writes` saw commits slip through
    // BLOCK_COMMIT (without a binary log), giving the two readers different snapshots.
    let lock = main
        .query_drop("FLUSH TABLES WITH READ LOCK")
        .map(|_| "UNLOCK TABLES");
    match lock {
        Ok(unlock) => {
            let opened = start_snapshot(&mut main)
                .and_then(|_| others.iter_mut().try_for_each(start_snapshot));
            let released = main
                .query_drop(unlock)
                .map_err(|e| db_error(e, "releasing the backup lock"));
            opened?;
            released?;
            let mut all = vec![main];
            all.extend(others);
            Ok((all, "shared"))
        }
        Err(err) => {
            warnings.push(format!(
                "read with one connection: a shared snapshot for parallel readers needs the RELOAD privilege ({})",
                db_error(err, "locking").message
            ));
            start_snapshot(&mut main)?;
            Ok((vec![main], "single"))
        }
    }
}

/// Dumps the target's database into `out` (uncompressed SQL). Progress goes to `progress`;
/// setting `cancel` stops the dump promptly with [`ErrorCode::Cancelled`].
pub fn dump(
    target: &ServerTarget,
    options: &DumpOptions,
    out: &mut dyn Write,
    progress: &(dyn Fn(&DumpProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<DumpReport> {
    let db = target
        .database
        .clone()
        .ok_or_else(|| Error::invalid("database", "no database to dump"))?;
    let mut warnings = Vec::new();
    let (mut readers, snapshot) = open_readers(target, options.reader_count(), &mut warnings)?;
    let reader_count = readers.len();
    let main = &mut readers[0];
    let server_version: String = main
        .query_first("SELECT VERSION()")
        .map_err(|e| db_error(e, "reading the version"))?
        .unwrap_or_default();
    let max_packet: u64 = main
        .query_first("SELECT @@max_allowed_packet")
        .ok()
        .flatten()
        .unwrap_or(16 << 20);
    let max_statement = options
        .max_statement_bytes
        .min((max_packet as usize).saturating_sub(64 << 10))
        .max(64 << 10);
    let schema = schema::read(main, &db, options.keep_definers)?;

    for table in &schema.tables {
        if !table.is_transactional() {
            warnings.push(format!(
                "table `{}` uses {}, which is not transactional: its rows may not match the snapshot",
                table.name, table.engine
            ));
        }
    }

    let (jobs, shared_tables) = match &options.scope {
        DumpScope::Full => {
            let total_rows = schema.tables.iter().map(|t| t.estimated_rows).sum();
            let range_rows = rows_per_range(options.range_rows, total_rows, reader_count);
            (full_jobs(main, &schema, range_rows)?, Vec::new())
        }
        DumpScope::Tenant {
            tenant_id,
            column,
            root_table,
            root_key,
        } => {
            let plan = tenant::plan(&schema, column, root_table, root_key)?;
            for conn in readers.iter_mut() {
                conn.exec_drop("SET @billora_tenant = ?", (*tenant_id,))
                    .map_err(|e| db_error(e, "binding the tenant"))?;
            }
            let range_rows = tenant_rows_per_range(options.range_rows, reader_count);
            let jobs = tenant_jobs(&mut readers[0], &schema, &plan, range_rows)?;
            (jobs, plan.shared)
        }
    };

    let mut writer = CountingWriter {
        inner: out,
        bytes: 0,
    };
    let w = &mut writer;
    write_header(w, &server_version, &db, &schema, &options.scope)
        .map_err(|e| io_error(e, "writing the backup"))?;
    for table in &schema.tables {
        write!(
            w,
            "\n--\n-- Table {}\n--\n\nDROP TABLE IF EXISTS {};\n{};\n",
            comment_name(&table.name),
            ident(&table.name),
            table.create
        )
        .map_err(|e| io_error(e, "writing the backup"))?;
    }
    w.write_all(b"\n--\n-- Rows\n--\n\n")
        .map_err(|e| io_error(e, "writing the backup"))?;

    let mut counts: Vec<Option<u64>> = vec![None; schema.tables.len()];
    let mut digests: Vec<RowDigest> = vec![RowDigest::default(); schema.tables.len()];
    // Jobs still to finish per table: its keys are written after its last range.
    let mut jobs_left = vec![0usize; schema.tables.len()];
    for job in &jobs {
        counts[job.index] = Some(0);
        jobs_left[job.index] += 1;
    }
    let split_tables: Vec<String> = schema
        .tables
        .iter()
        .zip(&jobs_left)
        .filter(|(_, n)| **n > 1)
        .map(|(t, _)| t.name.clone())
        .collect();
    let tables_total = counts.iter().flatten().count();
    let rows_estimated: u64 = schema
        .tables
        .iter()
        .zip(&counts)
        .filter_map(|(t, c)| c.map(|_| t.estimated_rows))
        .sum();
    // Biggest table first (its ranges in key order), so the readers end close together.
    let mut largest_first: Vec<Job> = jobs;
    largest_first.sort_by_key(|j| std::cmp::Reverse(schema.tables[j.index].estimated_rows));
    let queue = Mutex::new(VecDeque::from(largest_first));
    // Statement buffers go back to the readers once written: fresh 4 MB buffers for every
    // statement cost more in page faults than formatting the rows.
    let buffers = Buffers {
        free: Mutex::new(Vec::new()),
        capacity: max_statement + (64 << 10),
    };
    let failed = AtomicBool::new(false);
    let stop = || cancel.load(Ordering::Relaxed) || failed.load(Ordering::Relaxed);

    let result: Result<()> = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Chunk>(2 * readers.len());
        for conn in readers.iter_mut() {
            let tx = tx.clone();
            let queue = &queue;
            let stop = &stop;
            let buffers = &buffers;
            let settings = ReadSettings {
                max_statement,
                digest: options.digest,
            };
            scope.spawn(move || loop {
                let Some(job) = queue.lock().expect("queue").pop_front() else {
                    break;
                };
                if let Err(err) = read_job(conn, &job, &settings, buffers, &tx, stop) {
                    let _ = tx.send(Chunk::Failed(err));
                    break;
                }
                if tx.send(Chunk::JobDone { index: job.index }).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut state = DumpProgress {
            tables_total,
            rows_estimated,
            ..DumpProgress::default()
        };
        let mut outcome = Ok(());
        for chunk in rx {
            if outcome.is_err() {
                continue; // Drain so readers can finish.
            }
            let step = match chunk {
                Chunk::Rows {
                    index,
                    rows,
                    sql,
                    digest,
                } => {
                    *counts[index].get_or_insert(0) += rows;
                    digests[index].merge(digest);
                    state.rows_done += rows;
                    state.table = schema.tables[index].name.clone();
                    let written = w
                        .write_all(&sql)
                        .map_err(|e| io_error(e, "writing the backup"));
                    buffers.put(sql);
                    written
                }
                Chunk::JobDone { index } => {
                    state.table = schema.tables[index].name.clone();
                    jobs_left[index] -= 1;
                    if jobs_left[index] == 0 {
                        state.tables_done += 1;
                        // The table's keys right after its last rows: a restore builds them
                        // while other tables' rows still load.
                        write_deferred_keys(w, [&schema.tables[index]])
                            .map_err(|e| io_error(e, "writing the backup"))
                    } else {
                        Ok(())
                    }
                }
                Chunk::Failed(err) => Err(err),
            }
            .and_then(|_| check_cancel(cancel));
            state.bytes_done = w.bytes;
            progress(&state);
            if let Err(err) = step {
                failed.store(true, Ordering::Relaxed);
                outcome = Err(err);
            }
        }
        outcome
    });
    result?;
    check_cancel(cancel)?;

    // Every job finished, so every table with rows has its keys. Tables whose rows were not
    // dumped (a tenant backup's shared tables) get theirs here.
    let rest = schema
        .tables
        .iter()
        .zip(&counts)
        .filter_map(|(t, count)| count.is_none().then_some(t));
    write_deferred_keys(w, rest).map_err(|e| io_error(e, "writing the backup"))?;
    write_foreign_keys(w, &schema.tables).map_err(|e| io_error(e, "writing the backup"))?;
    write_objects(w, &schema).map_err(|e| io_error(e, "writing the backup"))?;
    write_footer(w).map_err(|e| io_error(e, "writing the backup"))?;
    w.flush().map_err(|e| io_error(e, "writing the backup"))?;
    for conn in readers.iter_mut() {
        let _ = conn.query_drop("COMMIT");
    }

    let tables = schema
        .tables
        .iter()
        .zip(counts.iter().zip(&digests))
        .filter_map(|(t, (c, d))| {
            c.map(|rows| TableCount {
                table: t.name.clone(),
                rows,
                digest: Some(options.digest.text(*d)),
            })
        })
        .collect();
    Ok(DumpReport {
        server_version,
        database: db,
        charset: schema.charset.clone(),
        collation: schema.collation.clone(),
        tables,
        views: schema.views.len(),
        triggers: schema.triggers.len(),
        routines: schema.routines.len(),
        events: schema.events.len(),
        shared_tables,
        snapshot: snapshot.to_owned(),
        split_tables,
        warnings,
        sql_bytes: writer.bytes,
    })
}

/// Statement buffers passed from the writer back to the readers.
struct Buffers {
    free: Mutex<Vec<Vec<u8>>>,
    capacity: usize,
}

impl Buffers {
    fn get(&self) -> Vec<u8> {
        let reused = self.free.lock().map(|mut f| f.pop()).unwrap_or(None);
        reused.unwrap_or_else(|| Vec::with_capacity(self.capacity))
    }

    fn put(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut free) = self.free.lock() {
            if free.len() < 8 {
                free.push(buffer);
            }
        }
    }
}

/// How readers write statements.
struct ReadSettings {
    max_statement: usize,
    digest: DigestKind,
}

/// Streams one job's rows into INSERT statements of at most `max_statement` bytes.
fn read_job(
    conn: &mut Conn,
    job: &Job,
    settings: &ReadSettings,
    buffers: &Buffers,
    tx: &mpsc::SyncSender<Chunk>,
    stop: &dyn Fn() -> bool,
) -> Result<()> {
    let (max_statement, kind) = (settings.max_statement, settings.digest);
    let err = |e| db_error(e, &format!("reading table `{}`", job.table));
    let prefix = format!(
        "INSERT INTO {} ({}) VALUES ",
        ident(&job.table),
        job.columns
            .iter()
            .map(|c| ident(c))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut result = conn.query_iter(&job.select).map_err(err)?;
    let styles: Vec<ValueStyle> = result
        .columns()
        .as_ref()
        .iter()
        .map(ValueStyle::of)
        .collect();
    if styles.len() != job.columns.len() {
        return Err(Error::new(
            ErrorCode::DatabaseError,
            format!(
                "reading table `{}`: the server sent {} columns, the table has {}",
                job.table,
                styles.len(),
                job.columns.len()
            ),
        ));
    }
    let mut sql: Vec<u8> = buffers.get();
    let mut rows = 0u64;
    let mut digest = RowDigest::default();
    // One packet buffer for every row: the values are copied from it into the statement.
    let mut packet: Vec<u8> = Vec::with_capacity(64 << 10);
    while result.next_raw_row(&mut packet).map_err(err)? {
        if sql.is_empty() {
            sql.extend_from_slice(prefix.as_bytes());
        } else {
            sql.push(b',');
        }
        let row_start = sql.len();
        push_row(&mut sql, &packet, &styles).map_err(|_| {
            Error::new(
                ErrorCode::DatabaseError,
                format!(
                    "reading table `{}`: the server sent a row that does not match its columns",
                    job.table
                ),
            )
        })?;
        digest.add(kind, &sql[row_start..]);
        rows += 1;
        if sql.len() >= max_statement {
            sql.extend_from_slice(b";\n");
            let full = std::mem::replace(&mut sql, buffers.get());
            if stop()
                || tx
                    .send(Chunk::Rows {
                        index: job.index,
                        rows,
                        sql: full,
                        digest: std::mem::take(&mut digest),
                    })
                    .is_err()
            {
                return Ok(()); // The writer stopped; it reports why.
            }
            rows = 0;
        }
    }
    if !sql.is_empty() {
        sql.extend_from_slice(b";\n");
        let _ = tx.send(Chunk::Rows {
            index: job.index,
            rows,
            sql,
            digest,
        });
    } else {
        buffers.put(sql);
    }
    Ok(())
}

struct CountingWriter<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for CountingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write_header(
    w: &mut dyn Write,
    version: &str,
    db: &str,
    schema: &Schema,
    scope: &DumpScope,
) -> std::io::Result<()> {
    let kind = match scope {
        DumpScope::Full => "full".to_owned(),
        DumpScope::Tenant { tenant_id, .. } => format!("tenant {tenant_id}"),
    };
    write!(
        w,
        "-- Billora Backup {} dump\n-- Server: {}\n-- Database: {}\n-- Backup: {}\n\
         -- Restore with: mysql DATABASE < this-file (or billora-backup restore)\n\n",
        env!("CARGO_PKG_VERSION"),
        comment_name(version),
        comment_name(db),
        kind
    )?;
    w.write_all(
        b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n\
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;\n\
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n\
/*!40101 SET NAMES utf8mb4 */;\n\
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n\
/*!40103 SET TIME_ZONE='+00:00' */;\n\
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n\
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n\
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n\
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;\n",
    )?;
    // The database's own defaults, so a restore into a new database keeps them.
    writeln!(
        w,
        "/*!40100 ALTER DATABASE CHARACTER SET {} COLLATE {} */;",
        sqltext_word(&schema.charset),
        sqltext_word(&schema.collation)
    )
}

/// Charset and collation names are plain words; anything else is dropped rather than spliced.
fn sqltext_word(name: &str) -> &str {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        name
    } else {
        "DEFAULT"
    }
}

fn write_object(w: &mut dyn Write, object: &StoredObject) -> std::io::Result<()> {
    write!(
        w,
        "\n-- {} {}\nDELIMITER ;;\n",
        object.kind,
        comment_name(&object.name)
    )?;
    if object.kind != "TRIGGER" {
        writeln!(
            w,
            "DROP {} IF EXISTS {};;",
            object.kind,
            ident(&object.name)
        )?;
    }
    write!(
        w,
        "SET @saved_sql_mode = @@sql_mode;;\nSET sql_mode = {};;\n",
        string_literal(&object.sql_mode)
    )?;
    if let Some(tz) = &object.time_zone {
        write!(
            w,
            "SET @saved_time_zone = @@time_zone;;\nSET time_zone = {};;\n",
            string_literal(tz)
        )?;
    }
    writeln!(w, "{};;", object.create)?;
    if object.time_zone.is_some() {
        w.write_all(b"SET time_zone = @saved_time_zone;;\n")?;
    }
    w.write_all(b"SET sql_mode = @saved_sql_mode;;\nDELIMITER ;\n")
}

/// `ALTER TABLE … ADD KEY …` for tables whose secondary keys were left out of their CREATE
/// TABLE (one sorted build per table after its rows). Foreign keys are not among them: see
/// [`write_foreign_keys`].
fn write_deferred_keys<'a>(
    w: &mut dyn Write,
    tables: impl IntoIterator<Item = &'a schema::Table>,
) -> std::io::Result<()> {
    for table in tables.into_iter().filter(|t| !t.deferred.is_empty()) {
        writeln!(
            w,
            "\n-- Keys of {}\nALTER TABLE {} {};\n",
            comment_name(&table.name),
            ident(&table.name),
            table.deferred.join(", ")
        )?;
    }
    Ok(())
}

/// Every table's foreign keys, after all the rows and keys. A restore adds them once nothing
/// else runs: MariaDB 10.11 crashed (signal 11 in `mysql_alter_table`, seen in this project's
/// tests) adding a foreign key while another connection loaded a related table, so no foreign
/// key exists while rows load in parallel. With `FOREIGN_KEY_CHECKS=0` and the key's index
/// already built, adding one changes only metadata.
fn write_foreign_keys(w: &mut dyn Write, tables: &[schema::Table]) -> std::io::Result<()> {
    let mut first = true;
    for table in tables
        .iter()
        .filter(|t| !t.deferred_foreign_keys.is_empty())
    {
        if std::mem::take(&mut first) {
            w.write_all(b"\n--\n-- Foreign keys (after every row)\n--\n")?;
        }
        writeln!(
            w,
            "\nALTER TABLE {} {};",
            ident(&table.name),
            table.deferred_foreign_keys.join(", ")
        )?;
    }
    Ok(())
}

fn write_objects(w: &mut dyn Write, schema: &Schema) -> std::io::Result<()> {
    if !schema.triggers.is_empty() {
        w.write_all(b"\n--\n-- Triggers (after the rows, so a restore does not fire them)\n--\n")?;
    }
    for trigger in &schema.triggers {
        write_object(w, trigger)?;
    }
    // Routines before views: a view may call a function.
    for routine in &schema.routines {
        write_object(w, routine)?;
    }
    if !schema.views.is_empty() {
        w.write_all(b"\n--\n-- Views\n--\n")?;
    }
    for (name, create) in &schema.views {
        write!(
            w,
            "\nDROP TABLE IF EXISTS {};\nDROP VIEW IF EXISTS {};\n{};\n",
            ident(name),
            ident(name),
            create
        )?;
    }
    for event in &schema.events {
        write_object(w, event)?;
    }
    Ok(())
}

fn write_footer(w: &mut dyn Write) -> std::io::Result<()> {
    w.write_all(
        b"\n/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n\
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n\
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n\
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;\n\
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n\
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n\n-- Dump completed\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_points_split_the_key_range_evenly_and_stay_inside_it() {
        assert_eq!(
            cut_points(1, 100, 4),
            vec![25, 50, 75],
            "four ranges of equal width"
        );
        assert_eq!(
            cut_points(5, 5, 4),
            Vec::<i128>::new(),
            "one key value: nothing to cut"
        );
        assert_eq!(
            cut_points(1, 3, 16),
            vec![2],
            "keys too close for 16 ranges give fewer, without duplicates"
        );
        assert_eq!(
            cut_points(-100, 100, 2),
            vec![0],
            "negative keys are cut like any other"
        );
        let top = i128::from(u64::MAX);
        let bounds = cut_points(0, top, 16);
        assert_eq!(
            bounds.len(),
            15,
            "the whole BIGINT UNSIGNED range cuts in 16"
        );
        assert!(
            bounds.windows(2).all(|w| w[0] < w[1]) && bounds[14] < top,
            "the bounds rise and stay under the largest key: {bounds:?}"
        );
    }

    #[test]
    fn ranges_are_half_of_a_readers_share_unless_fixed() {
        // The benchmark: 7M rows, 4M of them in invoice_items, two readers.
        let rows = rows_per_range(None, 7_000_000, 2);
        assert_eq!(rows, 1_750_000, "half of each reader's 3.5M rows");
        assert_eq!(
            range_count(4_000_000, rows),
            2,
            "the 4M-row table is cut into two long scans, not sixteen short ones"
        );
        assert_eq!(
            range_count(1_000_000, rows),
            1,
            "a 1M-row table is read whole"
        );
        assert_eq!(
            range_count(4_000_000, 1),
            MAX_RANGES,
            "never more than MAX_RANGES"
        );
        assert_eq!(
            rows_per_range(None, 600_000, 2),
            MIN_RANGE_ROWS,
            "small databases are not cut finer than the floor"
        );
        assert_eq!(
            rows_per_range(None, 7_000_000, 1),
            u64::MAX,
            "one reader has nothing to balance: no ranges"
        );
        assert_eq!(
            rows_per_range(Some(20_000), 7_000_000, 1),
            20_000,
            "a fixed size is kept"
        );
        assert_eq!(rows_per_range(Some(0), 10, 2), 1, "never zero rows");
    }

    #[test]
    fn a_tenants_big_tables_are_cut_at_the_floor_and_by_the_end_of_their_chain() {
        // The benchmark with four readers: invoice_items (4M) into 16 ranges, the 1M-row
        // tables into 4, a 200k-row table whole.
        let rows = tenant_rows_per_range(None, 4);
        assert_eq!(
            rows, MIN_RANGE_ROWS,
            "a tenant's ranges are cut at the floor"
        );
        assert_eq!(
            range_count(4_000_000, rows),
            MAX_RANGES,
            "the biggest table"
        );
        assert_eq!(range_count(1_000_000, rows), 4, "a 1M-row table");
        assert_eq!(range_count(200_000, rows), 1, "a small table is read whole");
        assert_eq!(
            tenant_rows_per_range(None, 1),
            u64::MAX,
            "one reader: no ranges"
        );
        assert_eq!(
            tenant_rows_per_range(Some(10), 1),
            10,
            "a fixed size is kept"
        );
        let fk = |table: &str, parent: &str| schema::ForeignKey {
            name: format!("fk_{table}"),
            table: table.into(),
            columns: vec![format!("{parent}_id")],
            parent: parent.into(),
            parent_columns: vec!["id".into()],
        };
        let chained = tenant::TenantTable {
            table: "allocations".into(),
            path: vec![fk("allocations", "payments"), fk("payments", "invoices")],
            anchor_column: "tenant_id".into(),
        };
        assert_eq!(
            chained.anchor(),
            ("invoices", "t2".to_owned()),
            "a chained table is cut by the keys of the table at the chain's end, alias t2"
        );
        assert!(
            chained
                .from_where()
                .ends_with("WHERE t2.`tenant_id` = @billora_tenant"),
            "the alias is the one its WHERE compares: {}",
            chained.from_where()
        );
        let direct = tenant::TenantTable {
            table: "invoices".into(),
            path: Vec::new(),
            anchor_column: "tenant_id".into(),
        };
        assert_eq!(
            direct.anchor(),
            ("invoices", "t0".to_owned()),
            "a table with the tenant column is cut by its own keys"
        );
    }

    #[test]
    fn range_conditions_cover_every_key_exactly_once() {
        let conditions = range_conditions("`id`", &[10, 20]);
        assert_eq!(
            conditions,
            vec![
                "`id` < 10".to_owned(),
                "`id` >= 10 AND `id` < 20".to_owned(),
                "`id` >= 20".to_owned()
            ],
            "below the first bound, between bounds, from the last bound up"
        );
        // Every key, in and outside MIN..MAX, matches exactly one condition.
        let matches = |k: i128| {
            [k < 10, (10..20).contains(&k), k >= 20]
                .iter()
                .filter(|m| **m)
                .count()
        };
        for k in [i128::MIN, -1, 0, 9, 10, 19, 20, i128::MAX] {
            assert_eq!(matches(k), 1, "key {k} is in exactly one range");
        }
        assert_eq!(
            range_conditions("t1.`id`", &[1]),
            vec!["t1.`id` < 1".to_owned(), "t1.`id` >= 1".to_owned()],
            "the key is written as given, with its table's alias"
        );
    }

    #[test]
    fn digest_kinds_are_told_apart_by_their_text_and_siphash_is_unchanged() {
        let mut xxh3 = RowDigest::default();
        xxh3.add(DigestKind::Xxh3, b"(1,'a')");
        let text = DigestKind::Xxh3.text(xxh3);
        assert!(
            text.starts_with("xxh3:"),
            "an XXH3 digest names its hash: {text}"
        );
        assert_eq!(
            DigestKind::of(&text),
            DigestKind::Xxh3,
            "and is read back as XXH3"
        );

        let mut sip = RowDigest::default();
        sip.add(DigestKind::SipHash, b"(1,'a')");
        let text = DigestKind::SipHash.text(sip);
        assert_eq!(
            text, "457d866d41d20084",
            "the SipHash digest of a row is what backups made before XXH3 recorded"
        );
        assert_eq!(
            DigestKind::of(&text),
            DigestKind::SipHash,
            "bare hex is SipHash"
        );

        let (mut a, mut b) = (RowDigest::default(), RowDigest::default());
        for row in [&b"(1)"[..], b"(2)", b"(3)"] {
            a.add(DigestKind::Xxh3, row);
        }
        for row in [&b"(3)"[..], b"(1)", b"(2)"] {
            b.add(DigestKind::Xxh3, row);
        }
        assert_eq!(a, b, "the digest does not depend on the row order");
    }
}
