//! Planning a dump: which jobs the readers take (whole tables, or key ranges of a big table),
//! cut so that the readers stay busy on one big table and no range is too small to pay for
//! its query.

use mysql::prelude::Queryable;
use mysql::Conn;

use super::schema::Schema;
use super::tenant;
use crate::connection::db_error;
use crate::error::Result;
use crate::sql::text::ident;

/// One unit of reading: a table, or one primary-key range of it, and the SELECT that yields
/// its rows.
pub(super) struct Job {
    pub(super) index: usize,
    pub(super) table: String,
    pub(super) columns: Vec<String>,
    pub(super) select: String,
}

/// Readers of a full dump when not set: the two CPUs of an office machine (BENCHMARKS.md).
pub const FULL_READERS: usize = 2;

/// Readers of a tenant dump when not set: a small tenant's rows lie on pages all over each
/// table, so its dump is thousands of single-page reads on the server; four queries in flight
/// (with the big tables cut, see [`tenant_rows_per_range`]) instead of two finish in ~0.7 of
/// the time on the benchmark; six or eight gain nothing more there (BENCHMARKS.md).
pub const TENANT_READERS: usize = 4;

/// The most ranges one table is cut into.
pub(super) const MAX_RANGES: u64 = 16;

/// The fewest rows of a range when the size is chosen automatically.
pub const MIN_RANGE_ROWS: u64 = 250_000;

/// The rows of one key range: fixed by the options, or half of each reader's share of the
/// estimated rows, so the biggest tables are cut into a few long scans (enough for the
/// readers to end close together) instead of many short ones.
pub(super) fn rows_per_range(range_rows: Option<u64>, total_rows: u64, readers: usize) -> u64 {
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
pub(super) fn tenant_rows_per_range(range_rows: Option<u64>, readers: usize) -> u64 {
    match range_rows {
        Some(rows) => rows.max(1),
        None if readers > 1 => MIN_RANGE_ROWS,
        None => u64::MAX,
    }
}

/// Where to cut the keys `min..=max` into `parts` ranges of equal width: the bounds `b1 < b2 <
/// …` between them (fewer when the keys are too close together).
pub(super) fn cut_points(min: i128, max: i128, parts: u64) -> Vec<i128> {
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
pub(super) fn range_conditions(key: &str, bounds: &[i128]) -> Vec<String> {
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
pub(super) fn range_count(estimated_rows: u64, range_rows: u64) -> u64 {
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
pub(super) fn full_jobs(conn: &mut Conn, schema: &Schema, range_rows: u64) -> Result<Vec<Job>> {
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
pub(super) fn range_selects<'a>(
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
pub(super) fn key_bounds(
    conn: &mut Conn,
    min_max: &str,
    parts: u64,
    table: &str,
) -> Result<Vec<i128>> {
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
pub(super) fn tenant_jobs(
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
