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
//! does; without the privilege for that (RELOAD), one reader is used and the run says so. The
//! lock may wait at most 0.15 s on MariaDB (1 s on MySQL, whose timeout counts whole seconds):
//! while it waits behind a long statement every other write queues behind it, so when it is not
//! had in time the backup reads with one connection and no global lock, and says so.

mod plan;
mod read;
pub mod schema;
pub mod tenant;
mod write;

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use mysql::prelude::Queryable;
use serde::Serialize;

use self::plan::*;
use self::read::*;
use self::write::*;
use crate::connection::{db_error, ServerTarget};
use crate::error::{io_error, Error, Result};
use crate::manifest::TableCount;
use crate::sql::text::{comment_name, ident};

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
    /// How long the global read lock of shared readers may wait (seconds; `None`: 0.15 s, the
    /// longest stall a backup may cause every writer of the server).
    pub lock_wait_seconds: Option<f64>,
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
            lock_wait_seconds: None,
        }
    }
}

/// Live progress, sent as the dump goes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
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
    let lock_wait = options
        .lock_wait_seconds
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(read::LOCK_WAIT_SECONDS);
    let (mut readers, snapshot) =
        open_readers(target, options.reader_count(), lock_wait, &mut warnings)?;
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
