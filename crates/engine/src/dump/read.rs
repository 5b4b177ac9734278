//! Reading rows: the readers' sessions and consistent snapshots, and one job read into
//! complete INSERT statements handed to the writer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use mysql::prelude::Queryable;
use mysql::Conn;

use super::plan::Job;
use super::{DigestKind, RowDigest};
use crate::connection::{db_error, ServerTarget};
use crate::error::{Error, ErrorCode, Result};
use crate::sql::text::{ident, push_row, ValueStyle};

/// A finished INSERT statement (or a table's end) from a reader to the writer.
pub(super) enum Chunk {
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

pub(super) fn check_cancel(cancel: &AtomicBool) -> Result<()> {
    if cancel.load(Ordering::Relaxed) {
        Err(Error::new(ErrorCode::Cancelled, "the backup was cancelled"))
    } else {
        Ok(())
    }
}

/// Prepares a reader's session: UTC, utf8mb4, a long write timeout (a slow disk must not get
/// the reader cut off), repeatable read.
pub(super) fn prepare_session(conn: &mut Conn) -> Result<()> {
    conn.query_drop(
        "SET SESSION net_write_timeout = 3600, SESSION net_read_timeout = 3600, SESSION wait_timeout = 86400, \
         time_zone = '+00:00', NAMES utf8mb4, SESSION sql_quote_show_create = 1",
    )
    .and_then(|_| conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    .map_err(|e| db_error(e, "preparing the session"))
}

pub(super) fn start_snapshot(conn: &mut Conn) -> Result<()> {
    conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .map_err(|e| db_error(e, "opening the snapshot"))
}

/// How long the global read lock may wait for running statements (seconds; MariaDB). Every
/// write on the server waits while it does, so this is the longest stall a backup may cause.
pub(super) const LOCK_WAIT_SECONDS: f64 = 0.15;

/// Opens `count` reader connections whose snapshots are the same point in time.
/// Returns the connections and the snapshot kind.
pub(super) fn open_readers(
    target: &ServerTarget,
    count: usize,
    lock_wait: f64,
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
    // FLUSH TABLES WITH READ LOCK, not MariaDB's BACKUP STAGE BLOCK_COMMIT: the test
    // `parallel_readers_share_one_snapshot_under_concurrent_writes` saw commits slip through
    // BLOCK_COMMIT (without a binary log), giving the two readers different snapshots.
    //
    // While FTWRL waits (behind a long write: a month-end batch, a big UPDATE), every other
    // write of the server queues behind it. So it may wait only briefly: MariaDB stops it after
    // `max_statement_time`, MySQL after `lock_wait_timeout` (whole seconds). When the lock is not
    // had in time, the backup reads with one connection and no global lock instead.
    let mariadb = main
        .query_first::<String, _>("SELECT @@version")
        .ok()
        .flatten()
        .is_some_and(|v| v.to_ascii_lowercase().contains("mariadb"));
    let statement = if mariadb {
        format!("SET STATEMENT max_statement_time = {lock_wait} FOR FLUSH TABLES WITH READ LOCK")
    } else {
        let seconds = lock_wait.ceil().max(1.0) as u64;
        let _ = main.query_drop(format!("SET SESSION lock_wait_timeout = {seconds}"));
        "FLUSH TABLES WITH READ LOCK".to_owned()
    };
    let lock = main.query_drop(statement).map(|_| "UNLOCK TABLES");
    if !mariadb {
        // The readers' own metadata-lock waits keep the usual bound.
        let _ = main.query_drop("SET SESSION lock_wait_timeout = 30");
    }
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
            let err = db_error(err, "locking");
            let waited = err.message.contains("max_statement_time")
                || err.message.contains("Lock wait timeout")
                || err.message.to_ascii_lowercase().contains("interrupted");
            warnings.push(if waited {
                format!(
                    "read with one connection and no global lock: the server was busy with a long write, and waiting for the lock shared readers need would have held every other write (not granted within {lock_wait} s)"
                )
            } else {
                format!(
                    "read with one connection: a shared snapshot for parallel readers needs the RELOAD privilege ({})",
                    err.message
                )
            });
            start_snapshot(&mut main)?;
            Ok((vec![main], "single"))
        }
    }
}

/// Statement buffers passed from the writer back to the readers.
pub(super) struct Buffers {
    pub(super) free: Mutex<Vec<Vec<u8>>>,
    pub(super) capacity: usize,
}

impl Buffers {
    pub(super) fn get(&self) -> Vec<u8> {
        let reused = self.free.lock().map(|mut f| f.pop()).unwrap_or(None);
        reused.unwrap_or_else(|| Vec::with_capacity(self.capacity))
    }

    pub(super) fn put(&self, mut buffer: Vec<u8>) {
        // A buffer grown by one huge row (a 16 MiB LONGBLOB is a 32 MiB statement in hex) is
        // let go, so at most 8 buffers of the usual size stay kept (bench/shapes-bench.sh).
        if buffer.capacity() > 2 * self.capacity {
            return;
        }
        buffer.clear();
        if let Ok(mut free) = self.free.lock() {
            if free.len() < 8 {
                free.push(buffer);
            }
        }
    }
}

/// How readers write statements.
pub(super) struct ReadSettings {
    pub(super) max_statement: usize,
    pub(super) digest: DigestKind,
}

/// Streams one job's rows into INSERT statements of at most `max_statement` bytes.
pub(super) fn read_job(
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

#[cfg(test)]
mod tests {
    use super::Buffers;
    use std::sync::Mutex;

    #[test]
    fn a_buffer_grown_by_a_huge_row_is_not_kept() {
        let buffers = Buffers {
            free: Mutex::new(Vec::new()),
            capacity: 1024,
        };
        buffers.put(Vec::with_capacity(1024));
        let mut huge = buffers.get();
        huge.resize(64 * 1024, b'x');
        buffers.put(huge);
        let kept = buffers.free.lock().expect("lock");
        assert_eq!(kept.len(), 0, "the grown buffer is let go, not kept");
        drop(kept);
        buffers.put(Vec::with_capacity(1024));
        assert_eq!(
            buffers.free.lock().expect("lock").len(),
            1,
            "a buffer of the usual size is kept for reuse"
        );
    }
}
