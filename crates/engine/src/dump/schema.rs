//! Reading what a database holds, inside the dump's snapshot: tables with their exact
//! `SHOW CREATE` text, views in dependency order, triggers, routines, events, the database's
//! own charset and collation, and the foreign keys the tenant plan follows.

use std::collections::{BTreeMap, BTreeSet};

use mysql::prelude::Queryable;
use mysql::{Conn, Row};

use crate::connection::db_error;
use crate::error::Result;
use crate::sql::text::ident;

/// A base table.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub engine: String,
    pub create: String,
    /// Secondary keys, as `ADD ...` clauses, taken out of `create` so they are built once after
    /// the rows are in (a sorted bulk build instead of one insert at a time).
    pub deferred: Vec<String>,
    /// Foreign keys, as `ADD CONSTRAINT ...` clauses, taken out of `create`: added after every
    /// table's rows (see `dump::write_foreign_keys`).
    pub deferred_foreign_keys: Vec<String>,
    /// The columns an INSERT lists: all but generated ones.
    pub columns: Vec<String>,
    pub estimated_rows: u64,
    /// The primary key when it is one integer column (never NULL): a big table is read in
    /// ranges of it by several readers at once.
    pub int_key: Option<String>,
}

impl Table {
    /// Whether the storage engine takes part in the consistent snapshot.
    pub fn is_transactional(&self) -> bool {
        self.engine.eq_ignore_ascii_case("InnoDB")
    }
}

/// A trigger, routine or event: its `CREATE` text and the `sql_mode` it was created under.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub kind: &'static str,
    pub name: String,
    pub sql_mode: String,
    pub create: String,
    /// Events carry their time zone.
    pub time_zone: Option<String>,
}

/// A foreign key of `table`: `columns` reference `parent`.`parent_columns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub table: String,
    pub columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub charset: String,
    pub collation: String,
    pub tables: Vec<Table>,
    /// Views, each after the views it reads from.
    pub views: Vec<(String, String)>,
    pub triggers: Vec<StoredObject>,
    pub routines: Vec<StoredObject>,
    pub events: Vec<StoredObject>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Tables that have each column name (for the tenant column lookup).
    pub columns_by_table: BTreeMap<String, Vec<String>>,
}

fn col(row: &Row, idx: usize) -> String {
    match row.as_ref(idx) {
        Some(mysql::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(mysql::Value::NULL) | None => String::new(),
        Some(other) => other.as_sql(true),
    }
}

/// A `SHOW CREATE` that came back empty means the user may not read the object's definition.
fn require_definition(kind: &str, name: &str, create: String) -> Result<String> {
    if create.trim().is_empty() {
        return Err(crate::error::Error::new(
            crate::error::ErrorCode::PermissionDenied,
            format!("the database user may not read the definition of {kind} `{name}`"),
        )
        .with_hint("grant SHOW VIEW, TRIGGER and EVENT, and for routines SELECT on mysql.proc (MariaDB) or SHOW_ROUTINE"));
    }
    Ok(create)
}

fn by_name(row: &Row, name: &str) -> String {
    row.columns_ref()
        .iter()
        .position(|c| c.name_str().eq_ignore_ascii_case(name))
        .map(|i| col(row, i))
        .unwrap_or_default()
}

/// Reads the schema of `db`. Must run on the connection that holds the snapshot.
pub fn read(conn: &mut Conn, db: &str, keep_definers: bool) -> Result<Schema> {
    let err = |e| db_error(e, "reading the schema");
    let mut schema = Schema::default();
    let (charset, collation): (String, String) = conn
        .exec_first(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (db,),
        )
        .map_err(err)?
        .unwrap_or_else(|| ("utf8mb4".into(), "utf8mb4_general_ci".into()));
    schema.charset = charset;
    schema.collation = collation;

    let tables: Vec<(String, String, Option<String>, Option<u64>)> = conn
        .exec(
            "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
            (db,),
        )
        .map_err(err)?;
    let columns: Vec<(String, String, String, String, String)> = conn
        .exec(
            "SELECT TABLE_NAME, COLUMN_NAME, EXTRA, COLUMN_KEY, DATA_TYPE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
            (db,),
        )
        .map_err(err)?;
    let mut insert_columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Per table: its key columns, and whether each is an integer.
    let mut key_columns: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
    for (table, column, extra, key, data_type) in columns {
        if key.eq_ignore_ascii_case("PRI") {
            let integer = matches!(
                data_type.to_ascii_lowercase().as_str(),
                "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint"
            );
            key_columns
                .entry(table.clone())
                .or_default()
                .push((column.clone(), integer));
        }
        let extra = extra.to_ascii_uppercase();
        schema
            .columns_by_table
            .entry(table.clone())
            .or_default()
            .push(column.clone());
        let generated = extra.contains("VIRTUAL GENERATED")
            || extra.contains("STORED GENERATED")
            || extra.contains("PERSISTENT GENERATED");
        if !generated {
            insert_columns.entry(table).or_default().push(column);
        }
    }
    let mut view_names = Vec::new();
    for (name, kind, engine, rows) in tables {
        if kind == "VIEW" {
            view_names.push(name);
            continue;
        }
        if kind != "BASE TABLE" {
            continue; // Sequences and system versioned extras are out of scope.
        }
        let create: Option<(String, String)> = conn
            .query_first(format!("SHOW CREATE TABLE {}", ident(&name)))
            .map_err(err)?;
        let (create, deferred, deferred_foreign_keys) =
            split_deferred(&create.map(|(_, c)| c).unwrap_or_default());
        schema.tables.push(Table {
            columns: insert_columns.remove(&name).unwrap_or_default(),
            engine: engine.unwrap_or_default(),
            create,
            deferred,
            deferred_foreign_keys,
            estimated_rows: rows.unwrap_or(0),
            int_key: match key_columns.remove(&name).as_deref() {
                Some([(column, true)]) => Some(column.clone()),
                _ => None,
            },
            name,
        });
    }

    let mut views = Vec::new();
    for name in &view_names {
        let row: Option<Row> = conn
            .query_first(format!("SHOW CREATE VIEW {}", ident(name)))
            .map_err(err)?;
        if let Some(row) = row {
            let create = require_definition("view", name, by_name(&row, "Create View"))?;
            views.push((
                name.clone(),
                if keep_definers {
                    create
                } else {
                    strip_definer(&create)
                },
            ));
        }
    }
    schema.views = order_views(views);

    let triggers: Vec<Row> = conn.query("SHOW TRIGGERS").map_err(err)?;
    for t in triggers {
        let name = by_name(&t, "Trigger");
        schema.triggers.extend(stored_object(
            conn,
            "TRIGGER",
            name,
            "SQL Original Statement",
            keep_definers,
        )?);
    }

    let routines: Vec<(String, String)> = conn
        .exec(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? \
             ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
            (db,),
        )
        .map_err(err)?;
    for (name, kind) in routines {
        let (kind, column) = if kind == "FUNCTION" {
            ("FUNCTION", "Create Function")
        } else {
            ("PROCEDURE", "Create Procedure")
        };
        schema
            .routines
            .extend(stored_object(conn, kind, name, column, keep_definers)?);
    }

    let events: Vec<String> = conn
        .exec("SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME", (db,))
        .map_err(err)?;
    for name in events {
        schema.events.extend(stored_object(
            conn,
            "EVENT",
            name,
            "Create Event",
            keep_definers,
        )?);
    }

    let fks: Vec<(String, String, String, String, String)> = conn
        .exec(
            "SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
             FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_SCHEMA = TABLE_SCHEMA AND REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
            (db,),
        )
        .map_err(err)?;
    for (name, table, column, parent, parent_column) in fks {
        match schema.foreign_keys.last_mut() {
            Some(fk) if fk.name == name && fk.table == table => {
                fk.columns.push(column);
                fk.parent_columns.push(parent_column);
            }
            _ => schema.foreign_keys.push(ForeignKey {
                name,
                table,
                columns: vec![column],
                parent,
                parent_columns: vec![parent_column],
            }),
        }
    }
    Ok(schema)
}

/// Splits `SHOW CREATE TABLE` text into a CREATE without its plain secondary keys and foreign
/// keys, those keys as `ADD ...` clauses, and the foreign keys as `ADD CONSTRAINT ...` clauses.
/// Primary, FULLTEXT and SPATIAL keys and CHECK constraints stay in the CREATE, and so do plain
/// keys written before a SPATIAL one: the server lists non-unique keys in the order they were
/// added, so deferring those would move the spatial key ahead of them in the restored table.
///
/// The definitions are found by reading the text as SQL (quotes, backticks, parentheses), not
/// by lines: a column or key name may hold a newline, a comma or a parenthesis.
pub fn split_deferred(create: &str) -> (String, Vec<String>, Vec<String>) {
    let unchanged = || (create.to_owned(), Vec::new(), Vec::new());
    let Some((open, close, defs)) = definitions(create) else {
        return unchanged();
    };
    let last_spatial = defs.iter().rposition(|d| d.starts_with("SPATIAL KEY "));
    let mut kept: Vec<&str> = Vec::new();
    let mut keys = Vec::new();
    let mut foreign_keys = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        let before_spatial = last_spatial.is_some_and(|s| i < s);
        if def.starts_with("UNIQUE KEY ") || (def.starts_with("KEY ") && !before_spatial) {
            keys.push(format!("ADD {def}"));
        } else if def.starts_with("CONSTRAINT ") && is_foreign_key(def) {
            foreign_keys.push(format!("ADD {def}"));
        } else {
            kept.push(def);
        }
    }
    if (keys.is_empty() && foreign_keys.is_empty()) || kept.is_empty() {
        return unchanged();
    }
    let mut out = String::with_capacity(create.len());
    out.push_str(&create[..=open]);
    out.push('\n');
    out.push_str(
        &kept
            .iter()
            .map(|d| format!("  {d}"))
            .collect::<Vec<_>>()
            .join(",\n"),
    );
    out.push('\n');
    out.push_str(&create[close..]);
    (out, keys, foreign_keys)
}

/// Whether a `CONSTRAINT` definition is a foreign key (the words outside its quoted names).
fn is_foreign_key(def: &str) -> bool {
    crate::sql::lex::tokens(def).windows(2).any(|w| {
        w[0].token == crate::sql::lex::Token::Word
            && w[1].token == crate::sql::lex::Token::Word
            && def[w[0].start..w[0].end].eq_ignore_ascii_case("FOREIGN")
            && def[w[1].start..w[1].end].eq_ignore_ascii_case("KEY")
    })
}

/// The table's definitions in a `CREATE TABLE name (def, def, …) options`: the byte index of
/// the opening and closing parentheses and each definition, trimmed. Read with the restore's
/// tokenizer, so commas and parentheses inside quotes and backticks, and commas inside nested
/// parentheses, do not count.
fn definitions(create: &str) -> Option<(usize, usize, Vec<&str>)> {
    use crate::sql::lex::{tokens_of, Token};
    let mut depth = 0usize;
    let mut open = None;
    let mut start = 0;
    let mut defs = Vec::new();
    for t in tokens_of(create) {
        match t.token {
            Token::Punct(b'(') => {
                depth += 1;
                if depth == 1 && open.is_none() {
                    open = Some(t.start);
                    start = t.end;
                }
            }
            Token::Punct(b')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 && open.is_some() {
                    defs.push(create[start..t.start].trim());
                    return Some((open?, t.start, defs));
                }
            }
            Token::Punct(b',') if depth == 1 => {
                defs.push(create[start..t.start].trim());
                start = t.end;
            }
            _ => {}
        }
    }
    None
}

/// Reads one trigger, routine or event with `SHOW CREATE {kind}`; `column` holds its text.
fn stored_object(
    conn: &mut Conn,
    kind: &'static str,
    name: String,
    column: &str,
    keep_definers: bool,
) -> Result<Option<StoredObject>> {
    let row: Option<Row> = conn
        .query_first(format!("SHOW CREATE {kind} {}", ident(&name)))
        .map_err(|e| db_error(e, "reading the schema"))?;
    let Some(row) = row else { return Ok(None) };
    let create = require_definition(&kind.to_ascii_lowercase(), &name, by_name(&row, column))?;
    Ok(Some(StoredObject {
        kind,
        sql_mode: by_name(&row, "sql_mode"),
        create: if keep_definers {
            create
        } else {
            strip_definer(&create)
        },
        time_zone: (kind == "EVENT").then(|| by_name(&row, "time_zone")),
        name,
    }))
}

/// Removes the `DEFINER=user@host` clause so another account can restore the object.
pub fn strip_definer(create: &str) -> String {
    let Some(start) = create.find("DEFINER=") else {
        return create.to_owned();
    };
    let bytes = create.as_bytes();
    let mut i = start + "DEFINER=".len();
    // user@host, each part quoted with ` or ' (quotes doubled inside) or bare.
    for part in 0..2 {
        if i < bytes.len() && (bytes[i] == b'`' || bytes[i] == b'\'') {
            let quote = bytes[i];
            i += 1;
            while i < bytes.len() {
                if bytes[i] == quote {
                    if bytes.get(i + 1) == Some(&quote) {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'@' {
                i += 1;
            }
        }
        if part == 0 && bytes.get(i) == Some(&b'@') {
            i += 1;
        } else {
            break;
        }
    }
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    format!("{}{}", &create[..start], &create[i..])
}

/// Orders views so each comes after the views its definition mentions.
fn order_views(views: Vec<(String, String)>) -> Vec<(String, String)> {
    let names: BTreeSet<String> = views.iter().map(|(n, _)| n.clone()).collect();
    let mut pending: Vec<(String, String, BTreeSet<String>)> = views
        .into_iter()
        .map(|(name, create)| {
            let deps = names
                .iter()
                .filter(|other| **other != name && create.contains(&ident(other)))
                .cloned()
                .collect();
            (name, create, deps)
        })
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|(_, _, deps)| deps.iter().all(|d| done.contains(d)))
            .unwrap_or(0);
        let (name, create, _) = pending.remove(ready);
        done.insert(name.clone());
        ordered.push((name, create));
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definers_are_stripped() {
        assert_eq!(
            strip_definer("CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1"),
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1",
            "the view keeps everything but its definer"
        );
        assert_eq!(
            strip_definer("CREATE DEFINER=`we``ird`@`%` TRIGGER t"),
            "CREATE TRIGGER t",
            "quoted backticks inside the user are handled"
        );
        assert_eq!(
            strip_definer("CREATE TRIGGER t"),
            "CREATE TRIGGER t",
            "no definer, no change"
        );
    }

    #[test]
    fn keys_and_foreign_keys_are_deferred() {
        let create = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `p` int(11) DEFAULT NULL,\n  `s` text,\n  \
                      PRIMARY KEY (`id`),\n  UNIQUE KEY `u` (`p`),\n  KEY `k` (`p`),\n  FULLTEXT KEY `f` (`s`),\n  \
                      CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `o` (`id`),\n  CONSTRAINT `c` CHECK (`p` > 0)\n) ENGINE=InnoDB";
        let (kept, keys, foreign_keys) = split_deferred(create);
        assert_eq!(
            kept,
            "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `p` int(11) DEFAULT NULL,\n  `s` text,\n  PRIMARY KEY (`id`),\n  \
             FULLTEXT KEY `f` (`s`),\n  CONSTRAINT `c` CHECK (`p` > 0)\n) ENGINE=InnoDB",
            "the CREATE keeps columns, the primary and full-text keys and checks"
        );
        assert_eq!(
            keys,
            ["ADD UNIQUE KEY `u` (`p`)", "ADD KEY `k` (`p`)"],
            "secondary keys are added after the rows"
        );
        assert_eq!(
            foreign_keys,
            ["ADD CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `o` (`id`)"],
            "foreign keys are added apart from them"
        );
    }

    #[test]
    fn hostile_names_do_not_change_what_is_deferred() {
        // A column whose name holds a newline, a comma, a parenthesis and what looks like a key.
        let create = "CREATE TABLE `t(\n` (\n  `a,\n  KEY ``x`` (``a``)) ; DROP DATABASE prod; --` int(11) NOT NULL,\n  \
                      `b` varchar(10) DEFAULT 'x,\\'),(' COMMENT 'KEY `k` (`b`)',\n  PRIMARY KEY (`a,\n  KEY ``x`` (``a``)) ; DROP DATABASE prod; --`),\n  \
                      KEY `k,\n  KEY` (`b`)\n) ENGINE=InnoDB";
        let (kept, keys, foreign_keys) = split_deferred(create);
        assert_eq!(
            keys,
            ["ADD KEY `k,\n  KEY` (`b`)"],
            "only the real key is deferred, its name whole"
        );
        assert!(foreign_keys.is_empty(), "no foreign key: {foreign_keys:?}");
        assert!(
            kept.contains("`a,\n  KEY ``x`` (``a``)) ; DROP DATABASE prod; --` int(11) NOT NULL")
                && kept.contains("DEFAULT 'x,\\'),(' COMMENT 'KEY `k` (`b`)'")
                && kept.ends_with(") ENGINE=InnoDB"),
            "columns are kept byte for byte: {kept}"
        );
    }

    #[test]
    fn plain_keys_before_a_spatial_key_stay_in_the_create() {
        // Sakila's `address`: KEY idx_fk_city_id, then SPATIAL KEY idx_location.
        let create = "CREATE TABLE `address` (\n  `address_id` smallint(5) unsigned NOT NULL,\n  `city_id` smallint(5) unsigned NOT NULL,\n  \
                      `location` geometry NOT NULL,\n  PRIMARY KEY (`address_id`),\n  KEY `idx_fk_city_id` (`city_id`),\n  \
                      SPATIAL KEY `idx_location` (`location`),\n  KEY `later` (`city_id`)\n) ENGINE=InnoDB";
        let (kept, keys, _) = split_deferred(create);
        assert!(
            kept.contains("KEY `idx_fk_city_id` (`city_id`),\n  SPATIAL KEY `idx_location`"),
            "the key before the spatial one keeps its place: {kept}"
        );
        assert_eq!(
            keys,
            ["ADD KEY `later` (`city_id`)"],
            "keys after it are still deferred"
        );
    }

    #[test]
    fn views_come_after_their_dependencies() {
        let views = vec![
            ("a".to_owned(), "select * from `c`".to_owned()),
            ("b".to_owned(), "select 1".to_owned()),
            ("c".to_owned(), "select * from `b`".to_owned()),
        ];
        let order: Vec<String> = order_views(views).into_iter().map(|(n, _)| n).collect();
        assert_eq!(order, ["b", "c", "a"], "each view after the views it reads");
    }
}
