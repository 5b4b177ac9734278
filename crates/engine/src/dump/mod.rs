//! The native logical dump: a consistent snapshot of one database written as SQL text that the
//! stock `mysql`/`mariadb` client restores, streamed with bounded memory.
//!
//! Shape of the output: a header (charset, time zone, checks off, the database's own charset),
//! every `CREATE TABLE` (without secondary and foreign keys), then the rows as multi-row
//! INSERTs, each table followed by the `ALTER TABLE … ADD KEY` that builds its keys in one
//! sorted pass, then triggers (after the rows, so a restore does not fire them), views in
//! dependency order, routines and events, then the footer that restores the session. Because
//! the schema comes first and foreign-key checks are off, INSERT statements may come in any
//! order: parallel readers hand complete statements to one writer as they fill, and the file
//! is still a valid script.
//!
//! Consistency: every reader runs in `START TRANSACTION WITH CONSISTENT SNAPSHOT`. With two
//! readers, their snapshots are opened under a brief `FLUSH TABLES WITH READ LOCK`, as mydumper
//! does; without the privilege for that (RELOAD), one reader is used and the run says so.

pub mod schema;
pub mod sqltext;
pub mod tenant;

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use mysql::prelude::Queryable;
use mysql::Conn;
use serde::Serialize;

use self::schema::{Schema, StoredObject};
use self::sqltext::{ident, push_value, string_literal, ValueStyle};
use crate::connection::{db_error, ServerTarget};
use crate::error::{io_error, Error, ErrorCode, Result};

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
    /// Parallel readers sharing one snapshot (1 or 2 make sense on small machines).
    pub readers: usize,
    /// Upper bound of one INSERT statement in bytes (also kept under max_allowed_packet).
    pub max_statement_bytes: usize,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            scope: DumpScope::Full,
            keep_definers: false,
            readers: 2,
            max_statement_bytes: 4 << 20,
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

/// Rows dumped from one table, and a digest of their content.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub rows: u64,
    /// The sum (mod 2^64, in hex) of a hash of each row's SQL text: it does not depend on the
    /// row order, so a restored copy dumped again must give the same digest (verification).
    /// Absent in manifests written before verification existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// The order-independent digest of rows (see [`TableCount::digest`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowDigest(u64);

impl RowDigest {
    /// Adds one row, given as its SQL tuple text `(…)`.
    pub fn add(&mut self, row_sql: &[u8]) {
        use std::hash::{Hash, Hasher};
        // Fixed keys: the same row gives the same hash in every process.
        #[allow(deprecated)]
        let mut h =
            std::hash::SipHasher::new_with_keys(0x6269_6c6c_6f72_6121, 0x6469_6765_7374_2131);
        row_sql.hash(&mut h);
        self.0 = self.0.wrapping_add(h.finish());
    }

    pub fn merge(&mut self, other: RowDigest) {
        self.0 = self.0.wrapping_add(other.0);
    }

    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
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
    pub warnings: Vec<String>,
    pub sql_bytes: u64,
}

/// One unit of reading: a table and the SELECT that yields its rows.
struct Job {
    index: usize,
    table: String,
    columns: Vec<String>,
    select: String,
}

/// A finished INSERT statement (or a table's end) from a reader to the writer.
enum Chunk {
    Rows {
        index: usize,
        rows: u64,
        sql: Vec<u8>,
        digest: RowDigest,
    },
    TableDone {
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
    let (mut readers, snapshot) = open_readers(target, options.readers.max(1), &mut warnings)?;
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
        DumpScope::Full => (
            schema
                .tables
                .iter()
                .enumerate()
                .map(|(index, t)| Job {
                    index,
                    table: t.name.clone(),
                    columns: t.columns.clone(),
                    select: format!(
                        "SELECT {} FROM {}",
                        t.columns
                            .iter()
                            .map(|c| ident(c))
                            .collect::<Vec<_>>()
                            .join(", "),
                        ident(&t.name)
                    ),
                })
                .collect::<Vec<_>>(),
            Vec::new(),
        ),
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
            let jobs = plan
                .tables
                .iter()
                .map(|t| {
                    let index = schema
                        .tables
                        .iter()
                        .position(|s| s.name == t.table)
                        .unwrap_or(0);
                    Job {
                        index,
                        table: t.table.clone(),
                        columns: schema.tables[index].columns.clone(),
                        select: t.select(&schema.tables[index].columns),
                    }
                })
                .collect();
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
            ident(&table.name),
            ident(&table.name),
            table.create
        )
        .map_err(|e| io_error(e, "writing the backup"))?;
    }
    w.write_all(b"\n--\n-- Rows\n--\n\n")
        .map_err(|e| io_error(e, "writing the backup"))?;

    let tables_total = jobs.len();
    let rows_estimated: u64 = jobs
        .iter()
        .map(|j| schema.tables[j.index].estimated_rows)
        .sum();
    let mut counts: Vec<Option<u64>> = vec![None; schema.tables.len()];
    let mut digests: Vec<RowDigest> = vec![RowDigest::default(); schema.tables.len()];
    let mut keys_written = vec![false; schema.tables.len()];
    for job in &jobs {
        counts[job.index] = Some(0);
    }
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
            scope.spawn(move || loop {
                let Some(job) = queue.lock().expect("queue").pop_front() else {
                    break;
                };
                if let Err(err) = read_table(conn, &job, max_statement, buffers, &tx, stop) {
                    let _ = tx.send(Chunk::Failed(err));
                    break;
                }
                if tx.send(Chunk::TableDone { index: job.index }).is_err() {
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
                Chunk::TableDone { index } => {
                    state.tables_done += 1;
                    state.table = schema.tables[index].name.clone();
                    // The table's keys right after its rows: a restore builds them while
                    // other tables' rows still load.
                    keys_written[index] = true;
                    write_deferred_keys(w, [&schema.tables[index]])
                        .map_err(|e| io_error(e, "writing the backup"))
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

    // Tables whose rows were not dumped (a tenant backup's shared tables) get theirs here.
    let rest = schema
        .tables
        .iter()
        .zip(&keys_written)
        .filter_map(|(t, written)| (!written).then_some(t));
    write_deferred_keys(w, rest).map_err(|e| io_error(e, "writing the backup"))?;
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
                digest: Some(d.hex()),
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

/// Streams one table's rows into INSERT statements of at most `max_statement` bytes.
fn read_table(
    conn: &mut Conn,
    job: &Job,
    max_statement: usize,
    buffers: &Buffers,
    tx: &mpsc::SyncSender<Chunk>,
    stop: &dyn Fn() -> bool,
) -> Result<()> {
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
    let mut styles: Option<Vec<ValueStyle>> = None;
    let mut sql: Vec<u8> = buffers.get();
    let mut rows = 0u64;
    let mut digest = RowDigest::default();
    for row in result.by_ref() {
        let row = row.map_err(err)?;
        let styles =
            styles.get_or_insert_with(|| row.columns_ref().iter().map(ValueStyle::of).collect());
        if sql.is_empty() {
            sql.extend_from_slice(prefix.as_bytes());
        } else {
            sql.push(b',');
        }
        let row_start = sql.len();
        sql.push(b'(');
        for (i, style) in styles.iter().enumerate() {
            if i > 0 {
                sql.push(b',');
            }
            push_value(
                &mut sql,
                row.as_ref(i).unwrap_or(&mysql::Value::NULL),
                *style,
            );
        }
        sql.push(b')');
        digest.add(&sql[row_start..]);
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
        version.replace('\n', " "),
        db.replace('\n', " "),
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
        ident(&object.name)
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

/// `ALTER TABLE … ADD KEY …` for tables whose secondary keys and foreign keys were left out
/// of their CREATE TABLE (one sorted build per table after its rows).
fn write_deferred_keys<'a>(
    w: &mut dyn Write,
    tables: impl IntoIterator<Item = &'a schema::Table>,
) -> std::io::Result<()> {
    for table in tables.into_iter().filter(|t| !t.deferred.is_empty()) {
        writeln!(
            w,
            "\n-- Keys of {}\nALTER TABLE {} {};\n",
            ident(&table.name),
            ident(&table.name),
            table.deferred.join(", ")
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
