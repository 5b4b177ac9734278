//! The rows of our own backups loaded with `LOAD DATA LOCAL INFILE` instead of running their
//! INSERT statements: the server then skips its SQL parser and builds each row straight from
//! the fields, which took about a third off the insert time on the benchmark (BENCHMARKS.md).
//!
//! Only what we wrote ourselves is converted: `INSERT INTO `t` (`a`,…) VALUES (…),(…)` with
//! the value shapes of `dump::sqltext`, into a table whose columns all read text input the way
//! an INSERT reads the same literal (numbers, text, dates, ENUM/SET, JSON; binary columns
//! through `UNHEX`). Anything else (BIT and spatial columns, a value of an unexpected shape,
//! a file from another tool) runs as the INSERT it is. Every load is checked: the server must
//! report exactly the rows sent and no warning, so a conversion mistake fails the restore
//! rather than change a value.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use mysql::prelude::Queryable;
use mysql::{Conn, LocalInfileHandler};

use crate::connection::db_error;
use crate::error::{Error, ErrorCode, Result};
use crate::sql::text::ident;

/// How one column's values are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The value's text as is (with LOAD DATA's backslash escapes).
    Text,
    /// Hex digits, turned into bytes by `UNHEX` (our dumps write binary data as `0x…`).
    Hex,
}

/// The columns of one table that can be loaded, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInput {
    columns: HashMap<String, Input>,
}

/// The name the LOAD DATA statement asks for; the handler refuses any other.
const INFILE_NAME: &str = "billora-rows";

impl TableInput {
    /// From `information_schema` (type name, charset) pairs; `None` when a column needs an
    /// INSERT (BIT, spatial or an unknown type).
    pub fn from_columns<'a>(columns: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Self> {
        let mut map = HashMap::new();
        for (name, data_type) in columns {
            let input = match data_type.to_ascii_lowercase().as_str() {
                "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "decimal" | "float"
                | "double" | "year" | "date" | "time" | "datetime" | "timestamp" | "char"
                | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
                | "json" => Input::Text,
                "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                    Input::Hex
                }
                _ => return None,
            };
            map.insert(name.to_owned(), input);
        }
        Some(TableInput { columns: map })
    }

    /// Reads the columns of `database`.`table` from the server.
    pub fn read(conn: &mut Conn, database: &str, table: &str) -> Result<Option<Self>> {
        let rows: Vec<(String, String)> = conn
            .exec(
                "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (database, table),
            )
            .map_err(|e| db_error(e, &format!("reading the columns of `{table}`")))?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Self::from_columns(
            rows.iter().map(|(n, t)| (n.as_str(), t.as_str())),
        ))
    }
}

/// The table an INSERT of ours goes to (`None` for any other statement).
pub fn insert_table(sql: &str) -> Option<String> {
    let rest = sql.as_bytes().strip_prefix(b"INSERT INTO ")?;
    let (name, _) = parse_ident(rest)?;
    Some(name)
}

/// One INSERT turned into a LOAD DATA statement and the data it reads.
#[derive(Debug, PartialEq, Eq)]
pub struct Batch {
    pub statement: String,
    pub rows: u64,
}

/// Converts `sql` (one of our INSERTs) into LOAD DATA input appended to `data`. `None` when
/// anything is not as expected; `data` is then left as it was.
pub fn convert(sql: &str, table: &TableInput, data: &mut Vec<u8>) -> Option<Batch> {
    let start = data.len();
    let batch = convert_inner(sql.as_bytes(), table, data);
    if batch.is_none() {
        data.truncate(start);
    }
    batch
}

fn convert_inner(sql: &[u8], table: &TableInput, data: &mut Vec<u8>) -> Option<Batch> {
    let rest = sql.strip_prefix(b"INSERT INTO ")?;
    let (name, mut rest) = parse_ident(rest)?;
    rest = rest.strip_prefix(b" (")?;
    let mut columns: Vec<(String, Input)> = Vec::new();
    loop {
        let (column, after) = parse_ident(rest)?;
        let input = *table.columns.get(&column)?;
        columns.push((column, input));
        match after.first()? {
            b',' => rest = &after[1..],
            b')' => {
                rest = &after[1..];
                break;
            }
            _ => return None,
        }
    }
    let mut rest = rest.strip_prefix(b" VALUES ")?;
    data.reserve(rest.len());
    let mut rows = 0u64;
    loop {
        rest = rest.strip_prefix(b"(")?;
        for (i, (_, input)) in columns.iter().enumerate() {
            if i > 0 {
                rest = rest.strip_prefix(b",")?;
                data.push(b'\t');
            }
            rest = push_field(rest, *input, data)?;
        }
        rest = rest.strip_prefix(b")")?;
        data.push(b'\n');
        rows += 1;
        match rest.first() {
            Some(b',') => rest = &rest[1..],
            None => break,
            Some(_) if rest.iter().all(u8::is_ascii_whitespace) => break,
            Some(_) => return None,
        }
    }
    let mut list = Vec::with_capacity(columns.len());
    let mut unhex = Vec::new();
    for (i, (column, input)) in columns.iter().enumerate() {
        match input {
            Input::Text => list.push(ident(column)),
            Input::Hex => {
                list.push(format!("@h{i}"));
                unhex.push(format!("{} = UNHEX(@h{i})", ident(column)));
            }
        }
    }
    let mut statement = format!(
        "LOAD DATA LOCAL INFILE '{INFILE_NAME}' INTO TABLE {} CHARACTER SET utf8mb4 \
         FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({})",
        ident(&name),
        list.join(",")
    );
    if !unhex.is_empty() {
        statement.push_str(" SET ");
        statement.push_str(&unhex.join(", "));
    }
    Some(Batch { statement, rows })
}

/// A backtick-quoted name at the start of `input`, and what follows it.
fn parse_ident(input: &[u8]) -> Option<(String, &[u8])> {
    let mut rest = input.strip_prefix(b"`")?;
    let mut name = Vec::new();
    loop {
        let end = rest.iter().position(|&b| b == b'`')?;
        name.extend_from_slice(&rest[..end]);
        rest = &rest[end + 1..];
        if rest.first() == Some(&b'`') {
            name.push(b'`');
            rest = &rest[1..];
        } else {
            break;
        }
    }
    Some((String::from_utf8(name).ok()?, rest))
}

/// Appends one field for the value at the start of `input`; returns what follows the value.
fn push_field<'a>(input: &'a [u8], kind: Input, data: &mut Vec<u8>) -> Option<&'a [u8]> {
    match (input.first()?, kind) {
        (b'N', _) => {
            let rest = input.strip_prefix(b"NULL")?;
            data.extend_from_slice(b"\\N");
            Some(rest)
        }
        (b'\'', Input::Text) => push_quoted(&input[1..], data),
        // An empty binary value is written as '' (a bare 0x is a syntax error).
        (b'\'', Input::Hex) => input.strip_prefix(b"''"),
        (b'0', Input::Hex) => {
            let digits = input.strip_prefix(b"0x")?;
            let end = digits
                .iter()
                .position(|b| !b.is_ascii_hexdigit())
                .unwrap_or(digits.len());
            if end == 0 {
                return None;
            }
            data.extend_from_slice(&digits[..end]);
            Some(&digits[end..])
        }
        (_, Input::Text) => {
            // A number as the server wrote it.
            let end = input
                .iter()
                .position(|&b| b == b',' || b == b')')
                .unwrap_or(input.len());
            let number = &input[..end];
            let numeric =
                |b: &u8| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E');
            if number.is_empty() || !number.iter().all(numeric) {
                return None;
            }
            data.extend_from_slice(number);
            Some(&input[end..])
        }
        _ => None,
    }
}

/// Copies a quoted value (after its opening quote) as a field. Our escapes (`\0 \n \r \\ \'
/// \" \Z`) mean the same to LOAD DATA; a raw tab or newline is escaped so it stays in the
/// field. Any other escape, or a doubled quote, is not ours: `None`.
fn push_quoted<'a>(input: &'a [u8], data: &mut Vec<u8>) -> Option<&'a [u8]> {
    let mut i = 0;
    let mut copied = 0;
    loop {
        let at = i + input[i..]
            .iter()
            .position(|&b| matches!(b, b'\'' | b'\\' | b'\t' | b'\n'))?;
        match input[at] {
            b'\'' => {
                data.extend_from_slice(&input[copied..at]);
                let rest = &input[at + 1..];
                return if rest.first() == Some(&b'\'') {
                    None
                } else {
                    Some(rest)
                };
            }
            b'\\' => {
                let next = *input.get(at + 1)?;
                if !matches!(next, b'0' | b'n' | b'r' | b'\\' | b'\'' | b'"' | b'Z') {
                    return None;
                }
                i = at + 2;
            }
            raw => {
                data.extend_from_slice(&input[copied..at]);
                data.extend_from_slice(if raw == b'\t' { b"\\t" } else { b"\\n" });
                copied = at + 1;
                i = at + 1;
            }
        }
    }
}

/// A restore connection's side of LOAD DATA: the handler that answers the server's request
/// for `INFILE_NAME` with the current batch's data.
#[derive(Debug)]
pub struct Loader {
    data: Arc<Mutex<Vec<u8>>>,
}

impl Loader {
    /// Installs the handler on `conn`.
    pub fn install(conn: &mut Conn) -> Loader {
        let data = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&data);
        conn.set_local_infile_handler(Some(LocalInfileHandler::new(move |name, writer| {
            if name != INFILE_NAME.as_bytes() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "the server asked for a file the restore did not offer",
                ));
            }
            let data = shared.lock().map_err(|_| std::io::ErrorKind::Other)?;
            writer.write_all(&data)
        })));
        Loader { data }
    }

    /// The buffer the next batch is converted into (emptied).
    pub fn buffer(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        let mut data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        data.clear();
        data
    }

    /// Runs `batch` (its data already in the buffer) and checks that the server took every
    /// row as sent. `Ok(false)` when the server does not allow LOCAL INFILE (the caller runs
    /// the INSERT instead).
    pub fn load(&self, conn: &mut Conn, batch: &Batch, line: u64) -> Result<bool> {
        let what = format!("statement at line {line}");
        match conn.query_drop(&batch.statement) {
            Ok(()) => {}
            // ER_NOT_ALLOWED_COMMAND, ER_CLIENT_LOCAL_FILES_DISABLED, MariaDB's
            // ER_LOAD_INFILE_CAPABILITY_DISABLED.
            Err(mysql::Error::MySqlError(e)) if matches!(e.code, 1148 | 3948 | 4166) => {
                return Ok(false)
            }
            Err(e) => {
                let mut err = db_error(e, &what);
                err.message = format!("restore failed: {}", err.message);
                return Err(err);
            }
        }
        let (rows, warnings) = (conn.affected_rows(), conn.warnings());
        if rows != batch.rows || warnings > 0 {
            let shown: Vec<(String, u32, String)> =
                conn.query("SHOW WARNINGS LIMIT 3").unwrap_or_default();
            let details: Vec<String> = shown.into_iter().map(|(_, _, m)| m).collect();
            return Err(Error::new(
                ErrorCode::DatabaseError,
                format!(
                    "restore failed: the {what} stored {rows} of {} rows with {warnings} warning(s){}",
                    batch.rows,
                    if details.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", details.join("; "))
                    }
                ),
            )
            .with_hint("restore again with --inserts, and report this"));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: &[(&str, &str)]) -> TableInput {
        TableInput::from_columns(columns.iter().copied()).expect("loadable")
    }

    #[test]
    fn every_value_shape_becomes_a_field() {
        let t = table(&[
            ("id", "int"),
            ("name", "varchar"),
            ("data", "blob"),
            ("n", "decimal"),
        ]);
        let mut data = Vec::new();
        let batch = convert(
            "INSERT INTO `t` (`id`,`name`,`data`,`n`) VALUES (1,'a\\'b\\\\c\\nd\te',0x00FF,-1.5e3),(2,NULL,'',NULL)",
            &t,
            &mut data,
        )
        .expect("our INSERT converts");
        assert_eq!(batch.rows, 2, "two rows");
        assert_eq!(
            data,
            b"1\ta\\'b\\\\c\\nd\\te\t00FF\t-1.5e3\n2\t\\N\t\t\\N\n".to_vec(),
            "escapes kept, raw tab escaped, hex digits for UNHEX, NULL as \\N"
        );
        assert!(
            batch
                .statement
                .contains("(`id`,`name`,@h2,`n`) SET `data` = UNHEX(@h2)"),
            "binary columns go through UNHEX: {}",
            batch.statement
        );
    }

    #[test]
    fn names_with_backticks_are_read_back() {
        let t = table(&[("we`ird", "int")]);
        let mut data = Vec::new();
        let batch =
            convert("INSERT INTO `a``b` (`we``ird`) VALUES (7)", &t, &mut data).expect("converts");
        assert!(
            batch.statement.contains("INTO TABLE `a``b`")
                && batch.statement.contains("(`we``ird`)"),
            "names are quoted again: {}",
            batch.statement
        );
        assert_eq!(
            insert_table("INSERT INTO `a``b` (`x`) VALUES (1)").as_deref(),
            Some("a`b")
        );
    }

    #[test]
    fn anything_unexpected_stays_an_insert() {
        let t = table(&[("id", "int"), ("s", "varchar"), ("b", "varbinary")]);
        let cases = [
            "INSERT INTO `t` VALUES (1,'x',0x00)", // no column list
            "INSERT INTO `t` (`id`,`s`,`zz`) VALUES (1,'x',0x00)", // unknown column
            "INSERT INTO `t` (`id`,`s`,`b`) VALUES (1,'x\\%',0x00)", // not one of our escapes
            "INSERT INTO `t` (`id`,`s`,`b`) VALUES (1,'it''s',0x00)", // doubled quote
            "INSERT INTO `t` (`id`,`s`,`b`) VALUES (1,'x','abc')", // text into binary
            "INSERT INTO `t` (`id`,`s`,`b`) VALUES (1,0x41,0x00)", // hex into text
            "INSERT INTO `t` (`id`,`s`,`b`) VALUES (now(),'x',0x00)", // an expression
            "INSERT INTO `t` (`id`,`s`,`b`) VALUES (1,'x',0x00),(2,'y')", // short row
            "INSERT INTO `t` (`id`,`s`,`b`) VALUES (1,'x',0x)", // bare 0x
            "INSERT INTO `t` (`id`,`s`,`b`) VALUES (1,'unterminated,0x00)",
        ];
        for sql in cases {
            let mut data = b"kept".to_vec();
            assert_eq!(
                convert(sql, &t, &mut data),
                None,
                "{sql} must stay an INSERT"
            );
            assert_eq!(
                data, b"kept",
                "a refused statement leaves the buffer as it was"
            );
        }
        assert!(
            TableInput::from_columns([("id", "int"), ("flags", "bit")]).is_none(),
            "BIT columns keep INSERTs"
        );
        assert!(
            TableInput::from_columns([("g", "point")]).is_none(),
            "spatial columns keep INSERTs"
        );
    }
}
