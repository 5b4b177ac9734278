//! Which rows belong to a tenant, found from the schema rather than configured per table:
//! tables with the tenant column; tables that reach such a table (or the root `tenants` table)
//! through foreign keys, joined along the shortest chain (`invoice_items` → `invoices`); and
//! the tenant's own row in the root table. Tables with no path are shared and not dumped.
//!
//! The tenant id is never spliced into SQL: each reader binds it once to `@billora_tenant`
//! with a prepared statement, and the SELECTs compare against that variable (which the
//! optimizer treats as a constant, so the tenant index is used).

use std::collections::{BTreeMap, VecDeque};

use super::schema::{ForeignKey, Schema};
use crate::error::{Error, Result};
use crate::sql::text::ident;

/// How one table's tenant rows are selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantTable {
    pub table: String,
    /// Foreign keys followed from this table to the anchor (empty when the table has the
    /// tenant column or is the root table).
    pub path: Vec<ForeignKey>,
    /// The column of the last table in the chain compared with the tenant id.
    pub anchor_column: String,
}

impl TenantTable {
    /// `SELECT t0.cols FROM table t0 [JOIN ...] WHERE tN.anchor = @billora_tenant`.
    pub fn select(&self, columns: &[String]) -> String {
        let cols = columns
            .iter()
            .map(|c| format!("t0.{}", ident(c)))
            .collect::<Vec<_>>()
            .join(", ");
        format!("SELECT {cols} {}", self.from_where())
    }

    /// The table whose column is compared with the tenant id (the end of the chain), and its
    /// alias in [`Self::from_where`].
    pub fn anchor(&self) -> (&str, String) {
        let table = self
            .path
            .last()
            .map_or(self.table.as_str(), |fk| fk.parent.as_str());
        (table, format!("t{}", self.path.len()))
    }

    /// The `FROM ... WHERE ...` part, shared by SELECT and DELETE.
    pub fn from_where(&self) -> String {
        let mut sql = format!("FROM {} AS t0", ident(&self.table));
        for (i, fk) in self.path.iter().enumerate() {
            let on = fk
                .columns
                .iter()
                .zip(&fk.parent_columns)
                .map(|(c, p)| format!("t{}.{} = t{}.{}", i, ident(c), i + 1, ident(p)))
                .collect::<Vec<_>>()
                .join(" AND ");
            sql.push_str(&format!(
                " JOIN {} AS t{} ON {}",
                ident(&fk.parent),
                i + 1,
                on
            ));
        }
        sql.push_str(&format!(
            " WHERE t{}.{} = @billora_tenant",
            self.path.len(),
            ident(&self.anchor_column)
        ));
        sql
    }
}

#[derive(Debug, Clone, Default)]
pub struct TenantPlan {
    pub tables: Vec<TenantTable>,
    /// Tables with no path to a tenant.
    pub shared: Vec<String>,
}

/// Plans a tenant dump of `schema` with tenant column `column` and root table `root`.`root_key`.
pub fn plan(schema: &Schema, column: &str, root: &str, root_key: &str) -> Result<TenantPlan> {
    let has_column = |table: &str| {
        schema
            .columns_by_table
            .get(table)
            .is_some_and(|cols| cols.iter().any(|c| c == column))
    };
    let is_table = |table: &str| schema.tables.iter().any(|t| t.name == table);
    let root_exists = is_table(root)
        && schema
            .columns_by_table
            .get(root)
            .is_some_and(|cols| cols.iter().any(|c| c == root_key));
    if !root_exists && !schema.tables.iter().any(|t| has_column(&t.name)) {
        return Err(Error::invalid(
            "tenant_column",
            format!(
                "no table has a `{column}` column and there is no `{root}` table with `{root_key}`"
            ),
        )
        .with_hint("set the connection's tenant column and root table to match your schema"));
    }
    let anchor = |table: &str| -> Option<String> {
        if table == root && root_exists {
            Some(root_key.to_owned())
        } else if has_column(table) {
            Some(column.to_owned())
        } else {
            None
        }
    };
    let mut by_child: BTreeMap<&str, Vec<&ForeignKey>> = BTreeMap::new();
    for fk in &schema.foreign_keys {
        if fk.table != fk.parent {
            by_child.entry(fk.table.as_str()).or_default().push(fk);
        }
    }
    let mut plan = TenantPlan::default();
    for table in &schema.tables {
        if let Some(anchor_column) = anchor(&table.name) {
            plan.tables.push(TenantTable {
                table: table.name.clone(),
                path: Vec::new(),
                anchor_column,
            });
            continue;
        }
        // Breadth-first along foreign keys to the nearest anchored table.
        let mut queue: VecDeque<(String, Vec<ForeignKey>)> =
            VecDeque::from([(table.name.clone(), Vec::new())]);
        let mut seen = vec![table.name.clone()];
        let mut found = None;
        while let Some((current, path)) = queue.pop_front() {
            for fk in by_child.get(current.as_str()).into_iter().flatten() {
                if seen.contains(&fk.parent) {
                    continue;
                }
                let mut next = path.clone();
                next.push((*fk).clone());
                if let Some(anchor_column) = anchor(&fk.parent) {
                    found = Some((next, anchor_column));
                    break;
                }
                seen.push(fk.parent.clone());
                queue.push_back((fk.parent.clone(), next));
            }
            if found.is_some() {
                break;
            }
        }
        match found {
            Some((path, anchor_column)) => plan.tables.push(TenantTable {
                table: table.name.clone(),
                path,
                anchor_column,
            }),
            None => plan.shared.push(table.name.clone()),
        }
    }
    Ok(plan)
}
