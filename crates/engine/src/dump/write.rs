//! Writing the SQL text around the rows: the header and footer that set and restore the
//! session, the objects (views, routines, triggers, events), the keys built after the rows.

use std::io::Write;

use super::schema::{self, Schema, StoredObject};
use super::DumpScope;
use crate::sql::text::{comment_name, ident, string_literal};

pub(super) struct CountingWriter<'a> {
    pub(super) inner: &'a mut dyn Write,
    pub(super) bytes: u64,
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

pub(super) fn write_header(
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
pub(super) fn sqltext_word(name: &str) -> &str {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        name
    } else {
        "DEFAULT"
    }
}

pub(super) fn write_object(w: &mut dyn Write, object: &StoredObject) -> std::io::Result<()> {
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
pub(super) fn write_deferred_keys<'a>(
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
pub(super) fn write_foreign_keys(
    w: &mut dyn Write,
    tables: &[schema::Table],
) -> std::io::Result<()> {
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

pub(super) fn write_objects(w: &mut dyn Write, schema: &Schema) -> std::io::Result<()> {
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

pub(super) fn write_footer(w: &mut dyn Write) -> std::io::Result<()> {
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
