//! The databases a schedule backs up (`databases`): none listed means its connection's
//! database, `*` every database of the server but its system ones (resolved at each run by
//! `backup::parts`), else a list of names, each a MySQL name checked before it is stored.

use crate::error::{Error, Result};

/// Trims database names and drops blanks and repeats (MySQL names are case-sensitive).
pub fn clean(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let name = name.trim().to_owned();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// At most this many databases in one schedule.
pub const MAX: usize = 100;

/// `databases`: names MySQL accepts, or `*` alone; full backups only.
pub fn check(tenant_backup: bool, databases: &[String]) -> Result<()> {
    if databases.is_empty() {
        return Ok(());
    }
    if tenant_backup {
        return Err(Error::invalid(
            "databases",
            "a tenant backup is of one database: its connection's",
        )
        .with_hint("leave the databases empty, or use backup_type full"));
    }
    if databases.len() > MAX {
        return Err(Error::invalid(
            "databases",
            format!("a schedule backs up at most {MAX} databases"),
        ));
    }
    if databases.iter().any(|d| d == ALL) && databases.len() > 1 {
        return Err(Error::invalid(
            "databases",
            "`*` (every database) cannot be listed with other names",
        )
        .with_hint("give either `*` or a list of names"));
    }
    for name in databases.iter().filter(|d| *d != ALL) {
        crate::connection::check_identifier("databases", name)?;
        if name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "databases",
                "a database name contains a control character (such as a line break)",
            ));
        }
    }
    Ok(())
}

/// In `databases`: every database of the server but its system ones.
pub const ALL: &str = "*";
