//! The restore's containment: restoring any file into database X writes only X.
//!
//! Every dump file is hostile data: a foreign `mysqldump` file, or one of ours replaced on a
//! shared folder or a destination. Before anything is written, the whole file is read once
//! and every statement is passed through [`Guard::check`]; the same check runs again on each
//! statement as it is executed (the file could change between the passes). A statement is
//!
//! - **run** as it is (tables, rows, keys, views, triggers, routines of the target database);
//! - **rewritten**: a `CREATE EVENT` is created `DISABLE`d unless events were asked for (an
//!   event starts running on its own the moment it exists, also in a verification copy on the
//!   production server);
//! - **skipped** with a notice: a dump that names one database (`USE db`, `CREATE DATABASE db`,
//!   `DROP DATABASE db`, as `mysqldump --databases` writes them) is mapped onto the target;
//! - **refused** with its line: another database (`USE other`, `other.t`, a second database
//!   name), accounts and rights (`GRANT`, `CREATE USER`, `SET PASSWORD`, roles), server-wide
//!   settings (`SET GLOBAL`), plugins and UDF libraries (`INSTALL`, `SONAME`), files on the
//!   server (`LOAD DATA`, `INTO OUTFILE`/`DUMPFILE`, `LOAD_FILE`, `DATA DIRECTORY`), replication
//!   and administration (`CHANGE MASTER`, `BINLOG`, `SHUTDOWN`, `KILL`, `FLUSH`, `PURGE`,
//!   `RESET`), dynamic SQL and calls (`PREPARE`, `EXECUTE`, `CALL`: their text cannot be
//!   checked), and the `mysql` client's own commands (`\!`, `system`, `source`, `connect`,
//!   `tee`, `pager`).
//!
//! The check reads tokens as the server does: quoted strings and identifiers (with doubled
//! quotes and backslash escapes), comments skipped, `/*! … */` and `/*M! … */` read as the code
//! they are. A name in double quotes is treated like an identifier where it could qualify
//! another (so `SET sql_mode='ANSI_QUOTES'` does not hide `"other"."t"`).

use crate::error::{Error, ErrorCode};
use crate::sql::lex::{tokens, tokens_of, Spanned, Token};

/// What to do with one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Run,
    /// Run this text instead (an event created disabled).
    Rewrite(String),
    /// Do not run; the notice says why (a database name mapped onto the target).
    Skip(String),
}

/// The containment rules for one restore.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The database restored into.
    target: String,
    /// Databases on the server other than the target (names a statement may not qualify).
    others: Vec<String>,
    /// The one database the file names (by `USE`/`CREATE DATABASE`), mapped onto the target.
    source: Option<String>,
    /// Create events as they were (enabled) instead of disabled.
    pub keep_events_enabled: bool,
    /// Events whose CREATE was rewritten to DISABLE.
    pub disabled_events: Vec<String>,
    /// Whether this is the pass before anything is written (the refusal says so).
    pub before_writing: bool,
}

impl Guard {
    /// `databases` is every database the server shows (the target among them or not).
    pub fn new(target: &str, databases: &[String]) -> Guard {
        Guard {
            target: target.to_owned(),
            others: databases.iter().filter(|d| *d != target).cloned().collect(),
            source: None,
            keep_events_enabled: false,
            disabled_events: Vec::new(),
            before_writing: true,
        }
    }

    /// A fresh guard for the execution pass, with what the pre-scan learnt (the mapped name).
    pub fn replay(&self) -> Guard {
        Guard {
            disabled_events: Vec::new(),
            before_writing: false,
            ..self.clone()
        }
    }

    fn refuse(&self, line: u64, what: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorCode::UnsafeScript,
            if self.before_writing {
                format!(
                    "the file was not restored: the statement at line {line} {what}; nothing was written"
                )
            } else {
                format!(
                    "the restore stopped: the statement at line {line} {what}; it was not run \
                     (a database the restore created is removed again)"
                )
            },
        )
        .with_hint(
            "a restore writes only into the database you chose; remove that statement from the \
             file (or restore it with the mysql client, if you trust it)",
        )
    }

    /// Whether `name` (from a `USE`/`CREATE DATABASE`/…) is the database this restore writes:
    /// the target itself, or the one database the file names, mapped onto the target.
    fn map_database(&mut self, name: &str) -> bool {
        if name == self.target {
            return true;
        }
        match &self.source {
            Some(source) => source == name,
            None => {
                self.source = Some(name.to_owned());
                true
            }
        }
    }

    /// Checks one statement; `line` is where it starts in the file.
    pub fn check(&mut self, sql: &str, line: u64) -> Result<Verdict, Error> {
        if sql.len() > 12 && sql.as_bytes()[..12].eq_ignore_ascii_case(b"INSERT INTO ") {
            return self.check_insert(sql, line);
        }
        self.check_any(sql, line)
    }

    /// An `INSERT INTO …` (most of a dump's bytes): only names qualified by another database,
    /// `LOAD_FILE` and `INTO OUTFILE/DUMPFILE` can make one reach outside the target, so it is
    /// read token by token without keeping them (the same rules as [`Guard::check_any`]).
    fn check_insert(&mut self, sql: &str, line: u64) -> Result<Verdict, Error> {
        let mut at_sign = false; // an `@` right before `before_prev`
        let mut before_prev: Option<Spanned> = None;
        let mut prev: Option<Spanned> = None;
        let mut last_word_into = false;
        for t in tokens_of(sql) {
            if t.token == Token::Word {
                let text = &sql[t.start..t.end];
                if text.len() <= 9 && !text.as_bytes()[0].is_ascii_digit() {
                    if text.eq_ignore_ascii_case("LOAD_FILE") {
                        return Err(self.refuse(line, READS_SERVER_FILE));
                    }
                    if last_word_into
                        && (text.eq_ignore_ascii_case("OUTFILE")
                            || text.eq_ignore_ascii_case("DUMPFILE"))
                    {
                        return Err(self.refuse(line, WRITES_SERVER_FILE));
                    }
                    last_word_into = text.eq_ignore_ascii_case("INTO");
                } else {
                    last_word_into = false;
                }
            }
            // `name . name`: `before_prev` qualifies the token after the dot.
            if let (Some(q), Some(dot)) = (&before_prev, &prev) {
                if dot.token == Token::Punct(b'.')
                    && matches!(
                        t.token,
                        Token::Ident(_) | Token::DoubleQuoted(_) | Token::Word | Token::Punct(b'*')
                    )
                {
                    self.check_qualifier(sql, q, Some(at_sign), line)?;
                }
            }
            at_sign = before_prev
                .as_ref()
                .is_some_and(|b| b.token == Token::Punct(b'@'));
            before_prev = prev.take();
            prev = Some(t);
        }
        Ok(Verdict::Run)
    }

    /// Refuses `q.` when `q` names another database (see the qualifier rule of `check_any`);
    /// `at_sign` is whether an `@` comes right before it (`@@session.x` is not a name).
    fn check_qualifier(
        &self,
        sql: &str,
        q: &Spanned,
        at_sign: Option<bool>,
        line: u64,
    ) -> Result<(), Error> {
        if at_sign == Some(true) {
            return Ok(());
        }
        let name = match &q.token {
            Token::Ident(n) | Token::DoubleQuoted(n) => n.as_str(),
            Token::Word => {
                let w = &sql[q.start..q.end];
                if w.bytes().all(|b| b.is_ascii_digit()) {
                    return Ok(());
                }
                w
            }
            _ => return Ok(()),
        };
        // information_schema is read-only views of what the account may already see
        // (MySQL 8's mysqldump reads it); every other database is off limits.
        if name == self.target || name.eq_ignore_ascii_case("information_schema") {
            return Ok(());
        }
        let mapped_source = self.source.as_deref() == Some(name);
        let other = self
            .others
            .iter()
            .any(|d| d == name || d.eq_ignore_ascii_case(name));
        if mapped_source || other {
            return Err(self.refuse(
                line,
                format!(
                    "names the database `{}` (`{}.…`): only `{}` may be written",
                    printable(name),
                    printable(name),
                    printable(&self.target)
                ),
            ));
        }
        Ok(())
    }

    /// Any statement other than a rows' INSERT.
    fn check_any(&mut self, sql: &str, line: u64) -> Result<Verdict, Error> {
        let toks = tokens(sql);
        // Keywords are short: words of up to 16 bytes upper-cased, longer ones never match.
        let words: Vec<Option<KeyWord>> = toks
            .iter()
            .map(|t| match t.token {
                Token::Word => Some(KeyWord::new(&sql[t.start..t.end])),
                _ => None,
            })
            .collect();
        let word = |i: usize| words.get(i).and_then(|w| w.as_ref()).map(KeyWord::as_str);
        let has_word = |w: &str| words.iter().flatten().any(|x| x.as_str() == w);
        if let Some(Spanned {
            token: Token::Punct(b'\\'),
            ..
        }) = toks.first()
        {
            return Err(self.refuse(line, "is a command of the mysql client (`\\…`)"));
        }
        let first = word(0).unwrap_or("");
        // Client commands, server administration, accounts, dynamic SQL.
        let refused_first = match first {
            "SYSTEM" | "SOURCE" | "CONNECT" | "TEE" | "NOTEE" | "PAGER" | "NOPAGER" | "EDIT"
            | "PROMPT" | "NOWARNING" | "WARNINGS" | "CHARSET" | "EGO" | "REHASH" => {
                Some("is a command of the mysql client, not SQL")
            }
            "GRANT" | "REVOKE" => Some("changes accounts' rights (GRANT/REVOKE)"),
            "INSTALL" | "UNINSTALL" => Some("installs or removes a server plugin"),
            "SHUTDOWN" | "KILL" | "PURGE" | "RESET" | "FLUSH" | "BINLOG" | "CHANGE" => {
                Some("administers the server (replication, logs, processes)")
            }
            "LOAD" => Some("loads a file (LOAD DATA/LOAD XML)"),
            "PREPARE" | "EXECUTE" | "DEALLOCATE" => {
                Some("runs dynamic SQL, whose text cannot be checked")
            }
            "CALL" => Some("calls a stored procedure during the restore"),
            "HANDLER" => Some("reads tables with HANDLER"),
            "START" | "STOP" if !matches!(word(1), Some("TRANSACTION")) => {
                Some("starts or stops replication")
            }
            _ => None,
        };
        if let Some(what) = refused_first {
            return Err(self.refuse(line, what));
        }
        if has_word("SONAME") {
            return Err(self.refuse(line, "loads a server library (SONAME)"));
        }
        for i in 0..words.len() {
            match word(i) {
                Some("OUTFILE" | "DUMPFILE") if word(i.wrapping_sub(1)) == Some("INTO") => {
                    return Err(self.refuse(line, WRITES_SERVER_FILE));
                }
                Some("LOAD_FILE") => {
                    return Err(self.refuse(line, READS_SERVER_FILE));
                }
                Some("DIRECTORY") if matches!(word(i.wrapping_sub(1)), Some("DATA" | "INDEX")) => {
                    return Err(self.refuse(
                        line,
                        "puts a table's files in a folder of the server (DATA DIRECTORY)",
                    ));
                }
                _ => {}
            }
        }
        // Storage engines that read files of the server or reach other servers.
        if matches!(first, "CREATE" | "ALTER") {
            for i in 1..words.len() {
                if word(i) == Some("ENGINE")
                    && matches!(
                        word(i + 1).or_else(|| word(i + 2)),
                        Some("CONNECT" | "FEDERATED" | "FEDERATEDX" | "SPIDER")
                    )
                {
                    return Err(self.refuse(
                        line,
                        "makes a table of an engine that reads server files or other servers (CONNECT, FEDERATED, SPIDER)",
                    ));
                }
            }
        }
        // Accounts and server-wide settings.
        let mut at = 1;
        if first == "CREATE" || first == "DROP" || first == "ALTER" || first == "RENAME" {
            if word(1) == Some("OR") && word(2) == Some("REPLACE") {
                at = 3;
            }
            if let Some(
                "USER" | "ROLE" | "SERVER" | "INSTANCE" | "TABLESPACE" | "LOGFILE" | "PACKAGE",
            ) = word(at)
            {
                return Err(self.refuse(
                    line,
                    format!(
                        "{} {} (accounts, servers and tablespaces are not restored)",
                        first,
                        word(at).unwrap_or("")
                    ),
                ));
            }
        }
        if first == "SET" {
            let global = (1..toks.len()).any(|i| match word(i) {
                Some(w @ ("GLOBAL" | "PERSIST" | "PERSIST_ONLY")) => {
                    i == 1
                        || matches!(toks[i - 1].token, Token::Punct(b','))
                        || (w == "GLOBAL"
                            && i >= 2
                            && toks[i - 1].token == Token::Punct(b'@')
                            && toks[i - 2].token == Token::Punct(b'@'))
                }
                _ => false,
            });
            if global {
                return Err(self.refuse(line, "changes a server-wide setting (SET GLOBAL)"));
            }
            if let Some("PASSWORD" | "ROLE" | "DEFAULT") = word(1) {
                return Err(self.refuse(line, "changes an account (SET PASSWORD/ROLE)"));
            }
            if sets_unsafe_charset(sql, &toks) {
                return Err(self.refuse(line, UNSAFE_CHARSET));
            }
        }
        // Statements about a database.
        let database_kw = |i: usize| matches!(word(i), Some("DATABASE" | "SCHEMA"));
        // `CREATE OR REPLACE DATABASE x` drops x first: the same rules as `CREATE DATABASE`.
        let db_at = if first == "CREATE" && word(1) == Some("OR") && word(2) == Some("REPLACE") {
            3
        } else {
            1
        };
        if first == "USE" || (matches!(first, "CREATE" | "DROP" | "ALTER") && database_kw(db_at)) {
            if db_at == 3 {
                return Err(self.refuse(
                    line,
                    "replaces a whole database (CREATE OR REPLACE DATABASE)",
                ));
            }
            let mut i = if first == "USE" { 1 } else { 2 };
            while matches!(word(i), Some("IF" | "NOT" | "EXISTS")) {
                i += 1;
            }
            let name = match toks.get(i).map(|t| &t.token) {
                Some(Token::Ident(n) | Token::DoubleQuoted(n)) => Some(n.clone()),
                Some(Token::Word)
                    if !(first == "ALTER"
                        && matches!(
                            word(i),
                            Some(
                                "CHARACTER"
                                    | "CHARSET"
                                    | "DEFAULT"
                                    | "COLLATE"
                                    | "COMMENT"
                                    | "UPGRADE"
                            )
                        )) =>
                {
                    Some(sql[toks[i].start..toks[i].end].to_owned())
                }
                _ => None,
            };
            match name {
                // `ALTER DATABASE CHARACTER SET …`: the current database, the target.
                None if first == "ALTER" => {}
                None => {
                    return Err(self.refuse(line, format!("is a {first} without a database name")))
                }
                Some(name) => {
                    if first == "DROP" && name == self.target {
                        return Err(self
                            .refuse(line, format!("drops the database `{}` restored into", name)));
                    }
                    if !self.map_database(&name) {
                        return Err(self.refuse(
                            line,
                            format!(
                                "is for a second database, `{}` (the file already named `{}`)",
                                printable(&name),
                                printable(self.source.as_deref().unwrap_or(""))
                            ),
                        ));
                    }
                    if name == self.target && first != "DROP" && first != "ALTER" {
                        return Ok(Verdict::Skip(format!(
                            "line {line}: {first} `{}` is the database restored into",
                            printable(&name)
                        )));
                    }
                    if first == "ALTER" && name == self.target {
                        return Ok(Verdict::Run);
                    }
                    return Ok(Verdict::Skip(
                        format!(
                            "line {line}: {first} {} `{}` was mapped to `{}`",
                            if first == "USE" { "" } else { "DATABASE" },
                            printable(&name),
                            printable(&self.target)
                        )
                        .replace("  ", " "),
                    ));
                }
            }
        }
        // Names qualified by another database, anywhere in the statement (bodies included).
        for (i, t) in toks.iter().enumerate() {
            if toks.get(i + 1).map(|n| &n.token) != Some(&Token::Punct(b'.')) {
                continue;
            }
            let qualifies = matches!(
                toks.get(i + 2).map(|n| &n.token),
                Some(Token::Ident(_) | Token::DoubleQuoted(_) | Token::Word | Token::Punct(b'*'))
            );
            if qualifies {
                let at_sign = i > 0 && toks[i - 1].token == Token::Punct(b'@');
                self.check_qualifier(sql, t, Some(at_sign), line)?;
            }
        }
        // Events start running the moment they exist: create them disabled.
        if first == "CREATE" && !self.keep_events_enabled {
            if let Some(rewritten) = self.disable_event(sql, &toks, &words) {
                return Ok(Verdict::Rewrite(rewritten));
            }
        }
        Ok(Verdict::Run)
    }

    /// `CREATE [DEFINER=…] EVENT … [ENABLE|DISABLE [ON SLAVE]] … DO body` with its status
    /// made `DISABLE`, or `None` when the statement is not an event.
    fn disable_event(
        &mut self,
        sql: &str,
        toks: &[Spanned],
        words: &[Option<KeyWord>],
    ) -> Option<String> {
        let word = |i: usize| words.get(i).and_then(|w| w.as_ref()).map(KeyWord::as_str);
        // The EVENT keyword before any `(` or name in the statement's head.
        let event_at = (0..words.len().min(12)).find(|&i| word(i) == Some("EVENT"))?;
        let head_ok = words[1..event_at]
            .iter()
            .zip(&toks[1..event_at])
            .all(|(w, t)| {
                w.is_some()
                    || matches!(t.token, Token::Punct(b'=' | b'@' | b'\'' | b'.'))
                    || matches!(t.token, Token::Ident(_) | Token::Str)
            });
        if !head_ok {
            return None;
        }
        let name = match toks.get(event_at + 1).map(|t| &t.token) {
            Some(Token::Ident(n) | Token::DoubleQuoted(n)) => n.clone(),
            Some(Token::Word) => sql[toks[event_at + 1].start..toks[event_at + 1].end].to_owned(),
            _ => return None,
        };
        let do_at = (event_at + 1..words.len()).find(|&i| word(i) == Some("DO"))?;
        self.disabled_events.push(name);
        // The status clause, if any, sits between the name and DO.
        let status = (event_at + 1..do_at).find(|&i| matches!(word(i), Some("ENABLE" | "DISABLE")));
        Some(match status {
            Some(i) => {
                let mut end = toks[i].end;
                if word(i + 1) == Some("ON") && word(i + 2) == Some("SLAVE") {
                    end = toks[i + 2].end;
                }
                format!("{}DISABLE{}", &sql[..toks[i].start], &sql[end..])
            }
            None => {
                let at = toks[do_at].start;
                format!("{}DISABLE {}", &sql[..at], &sql[at..])
            }
        })
    }
}

const READS_SERVER_FILE: &str = "reads a file on the server (LOAD_FILE)";
const WRITES_SERVER_FILE: &str = "writes a file on the server (INTO OUTFILE)";

/// Client character sets in which the second byte of a letter can be a backslash or a quote
/// (the CVE-2006-2753 class): after `SET NAMES gbk`, the server would read a string's end where
/// this check reads an escaped quote, and the rest of the statement differently.
const UNSAFE_CHARSETS: [&str; 5] = ["big5", "cp932", "gbk", "gb18030", "sjis"];

pub(crate) const UNSAFE_CHARSET: &str =
    "switches the connection to a character set (big5, cp932, gbk, \
gb18030, sjis) in which a quote or backslash can hide inside a letter";

/// Whether `is_unsafe_charset` holds for a charset name.
pub(crate) fn is_unsafe_charset(name: &str) -> bool {
    UNSAFE_CHARSETS.iter().any(|c| name.eq_ignore_ascii_case(c))
}

/// A token's text: a word as written, a quoted string or name without its quotes.
fn token_text<'a>(sql: &'a str, t: &Spanned) -> &'a str {
    match t.token {
        Token::Word => &sql[t.start..t.end],
        Token::Str | Token::DoubleQuoted(_) | Token::Ident(_) => {
            sql.get(t.start + 1..t.end.saturating_sub(1)).unwrap_or("")
        }
        Token::Punct(_) => "",
    }
}

/// Whether a statement's tokens set the client's character set (`NAMES`, `CHARACTER SET`,
/// `CHARSET`, `character_set_client`/`_connection`).
fn about_charset(sql: &str, toks: &[Spanned]) -> bool {
    let is = |i: usize, w: &str| {
        toks.get(i)
            .is_some_and(|t| token_text(sql, t).eq_ignore_ascii_case(w))
    };
    (0..toks.len()).any(|i| {
        is(i, "NAMES")
            || is(i, "CHARSET")
            || is(i, "CHARACTER_SET_CLIENT")
            || is(i, "CHARACTER_SET_CONNECTION")
            || (is(i, "CHARACTER") && is(i + 1, "SET"))
    })
}

/// A `SET` that changes the client's character set to an unsafe one by name, or by a number
/// (a collation id). A value from a variable is checked as the restore runs
/// ([`may_change_charset`]).
fn sets_unsafe_charset(sql: &str, toks: &[Spanned]) -> bool {
    about_charset(sql, toks)
        && toks.iter().any(|t| {
            let value = token_text(sql, t);
            is_unsafe_charset(value)
                || (t.token == Token::Word
                    && !value.is_empty()
                    && value.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Whether running `sql` may have changed the session's character set (a `SET` about it), so
/// the restore reads the result back. Rows' INSERTs answer at their first word.
pub(crate) fn may_change_charset(sql: &str) -> bool {
    let starts_with_set = tokens_of(sql)
        .next()
        .is_some_and(|t| t.token == Token::Word && token_text(sql, &t).eq_ignore_ascii_case("SET"));
    starts_with_set && about_charset(sql, &tokens(sql))
}

/// A word upper-cased for keyword comparison (words longer than any keyword stay empty).
#[derive(Debug, Clone, Copy)]
struct KeyWord {
    bytes: [u8; 16],
    len: u8,
}

impl KeyWord {
    fn new(text: &str) -> KeyWord {
        let mut bytes = [0u8; 16];
        if text.len() > 16 || !text.is_ascii() {
            return KeyWord { bytes, len: 0 };
        }
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        bytes[..text.len()].make_ascii_uppercase();
        KeyWord {
            bytes,
            len: text.len() as u8,
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

/// A name as it can appear in one line of a message.
pub(crate) fn printable(name: &str) -> String {
    crate::sql::text::comment_name(name)
        .trim_matches('`')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(
            "restored",
            &["prod".to_owned(), "mysql".to_owned(), "restored".to_owned()],
        )
    }

    fn refused(sql: &str) -> bool {
        matches!(guard().check(sql, 7), Err(e) if e.code == ErrorCode::UnsafeScript && e.message.contains("line 7"))
    }

    #[test]
    fn statements_for_other_databases_accounts_and_files_are_refused() {
        for sql in [
            "INSERT INTO prod.t VALUES (1)",
            "INSERT INTO `prod` . `t` VALUES (1)",
            "INSERT INTO t VALUES ((SELECT x FROM `mysql`.`user`))",
            "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO prod.audit VALUES (1)",
            "SELECT * FROM \"prod\".\"t\"",
            "DROP DATABASE restored",
            "GRANT ALL ON *.* TO 'x'@'%'",
            "CREATE USER 'x'@'%' IDENTIFIED BY 'p'",
            "CREATE OR REPLACE USER x",
            "SET GLOBAL general_log = 1",
            "SET @@global.read_only = 0",
            "SET PASSWORD FOR root = PASSWORD('x')",
            "INSTALL PLUGIN x SONAME 'x.so'",
            "CREATE FUNCTION f RETURNS STRING SONAME 'evil.so'",
            "LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
            "LOAD DATA LOCAL INFILE '/home/me/.ssh/id_rsa' INTO TABLE t",
            "SELECT * FROM t INTO OUTFILE '/tmp/x'",
            "SELECT 1 INTO DUMPFILE '/var/lib/mysql/x'",
            "INSERT INTO t VALUES (LOAD_FILE('/etc/shadow'))",
            "CREATE TABLE t (a INT) DATA DIRECTORY = '/tmp'",
            "\\! rm -rf ~",
            "system rm -rf ~",
            "source /etc/passwd",
            "PREPARE s FROM 'DROP DATABASE prod'",
            "CALL p()",
            "/*!40000 DROP DATABASE restored */",
            "/*!50001 CREATE VIEW v AS SELECT * FROM prod.t */",
            "CHANGE MASTER TO MASTER_HOST='x'",
            "BINLOG 'AAAA'",
            "INSERT INTO t VALUES ('a\\\\', prod.f())",
            "INSERT INTO t VALUES ('it''s', prod.f())",
            "insert into `prod`.`t` values (1)",
            "INSERT INTO t SELECT * FROM `mysql` . `user`",
            "INSERT INTO t VALUES (1) /*!50000 , (LOAD_FILE('/etc/passwd')) */",
            "INSERT INTO t SELECT 1 INTO OUTFILE '/tmp/x'",
            "CREATE OR REPLACE DATABASE prod",
            "CREATE OR REPLACE SCHEMA restored",
            "CREATE TABLE t (a INT) ENGINE=CONNECT TABLE_TYPE=CSV FILE_NAME='/etc/passwd'",
            "CREATE TABLE t (a INT) ENGINE = FEDERATED CONNECTION='mysql://u@evil/db/t'",
            "ALTER TABLE t ENGINE=SPIDER",
            "SET NAMES gbk",
            "/*!40101 SET NAMES 'sjis' */",
            "SET @@session.character_set_client = 'big5'",
            "SET CHARACTER SET cp932",
            "SET character_set_client = 28",
        ] {
            assert!(refused(sql), "refused with its line: {sql}");
        }
    }

    #[test]
    fn a_database_dump_of_one_database_is_mapped_onto_the_target() {
        let mut first = guard();
        assert!(
            matches!(first.check("USE prod", 1), Ok(Verdict::Skip(_)))
                && matches!(first.check("USE mysql", 2), Err(e) if e.message.contains("line 2")),
            "USE of one database is mapped onto the target, a second USE is refused"
        );
        let mut g = guard();
        assert!(
            matches!(g.check("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */", 3), Ok(Verdict::Skip(n)) if n.contains("line 3") && n.contains("shop")),
            "CREATE DATABASE of the file's database is skipped with a notice"
        );
        assert!(
            matches!(g.check("USE `shop`", 4), Ok(Verdict::Skip(_))),
            "USE of the same database is mapped"
        );
        assert!(
            matches!(
                g.check("INSERT INTO `t` VALUES (1,'shop.x')", 5),
                Ok(Verdict::Run)
            ),
            "unqualified rows run (a string is not a name)"
        );
        assert!(
            matches!(g.check("USE other", 6), Err(e) if e.message.contains("second database")),
            "a second database in the same file is refused"
        );
        assert!(
            g.check("INSERT INTO shop.t VALUES (1)", 7).is_err(),
            "a name qualified by the mapped database would write the original: refused"
        );
        assert!(
            matches!(
                g.check(
                    "/*!40100 ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin */",
                    8
                ),
                Ok(Verdict::Run)
            ),
            "our header's unnamed ALTER DATABASE runs on the target"
        );
    }

    #[test]
    fn ordinary_dump_statements_run() {
        let mut g = guard();
        for sql in [
            "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
            "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */",
            "SET @saved_sql_mode = @@sql_mode",
            "SET @@SESSION.SQL_LOG_BIN= 0",
            "/*!40101 SET NAMES utf8mb4 */",
            "SET NAMES latin1 COLLATE latin1_swedish_ci",
            "/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */",
            "/*!40101 SET character_set_client = utf8 */",
            "CREATE TABLE `t` (`id` int NOT NULL, `x` varchar(10) COMMENT 'prod.t is fine here')",
            "INSERT INTO `t` VALUES (1,'a'),(2,'b.c')",
            "SELECT t.id FROM t",
            "ALTER TABLE `t` ADD KEY `k` (`x`)",
            "LOCK TABLES `t` WRITE",
            "UNLOCK TABLES",
            "START TRANSACTION",
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select `t`.`id` AS `id` from `t`",
            "INSERT INTO t VALUES (1.5, 2.25)",
            "INSERT INTO t VALUES ('it''s prod.t', 'x\\' prod.t', '\\\\')",
            "INSERT INTO t VALUES (@@session.prod, @prod.x)",
            "-- prod.t in a comment\nINSERT INTO t VALUES (1)",
        ] {
            assert_eq!(g.check(sql, 1), Ok(Verdict::Run), "runs as is: {sql}");
        }
    }

    #[test]
    fn a_charset_change_is_told_apart_from_text_that_mentions_one() {
        for sql in [
            "SET character_set_client = @cs",
            "/*!40101 SET NAMES utf8mb4 */",
            "set character set latin1",
        ] {
            assert!(may_change_charset(sql), "read back after: {sql}");
        }
        for sql in [
            "INSERT INTO t VALUES ('SET NAMES gbk')",
            "SET @a = 1",
            "SELECT 'character_set_client'",
        ] {
            assert!(!may_change_charset(sql), "not a charset change: {sql}");
        }
    }

    #[test]
    fn events_are_created_disabled() {
        let mut g = guard();
        let created = "CREATE EVENT `e` ON SCHEDULE EVERY 1 SECOND ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t";
        assert_eq!(
            g.check(created, 1),
            Ok(Verdict::Rewrite(
                "CREATE EVENT `e` ON SCHEDULE EVERY 1 SECOND ON COMPLETION NOT PRESERVE DISABLE DO DELETE FROM t".into()
            )),
            "ENABLE becomes DISABLE"
        );
        assert_eq!(
            g.check(
                "CREATE DEFINER=`a`@`%` EVENT e ON SCHEDULE AT '2030-01-01' DO SELECT 1",
                2
            ),
            Ok(Verdict::Rewrite(
                "CREATE DEFINER=`a`@`%` EVENT e ON SCHEDULE AT '2030-01-01' DISABLE DO SELECT 1"
                    .into()
            )),
            "an event without a status gets DISABLE before DO"
        );
        assert_eq!(
            g.check(
                "CREATE EVENT `e2` ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE DO SELECT 1",
                3
            ),
            Ok(Verdict::Rewrite(
                "CREATE EVENT `e2` ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1".into()
            )),
            "DISABLE ON SLAVE becomes DISABLE"
        );
        assert_eq!(
            g.disabled_events,
            vec!["e", "e", "e2"],
            "each disabled event is recorded"
        );
        let mut keep = guard();
        keep.keep_events_enabled = true;
        assert_eq!(
            keep.check(created, 1),
            Ok(Verdict::Run),
            "kept enabled when asked"
        );
    }

    #[test]
    fn tokens_read_quotes_and_comments_as_the_server_does() {
        let toks = tokens("SELECT 'a''b\\'c', `x``y`, \"q\" /* prod.t */ -- z\n#w\n/*!50001 v */");
        let kinds: Vec<Token> = toks.into_iter().map(|t| t.token).collect();
        assert_eq!(
            kinds,
            vec![
                Token::Word,
                Token::Str,
                Token::Punct(b','),
                Token::Ident("x`y".into()),
                Token::Punct(b','),
                Token::DoubleQuoted("q".into()),
                Token::Word,
            ],
            "strings, doubled backticks, comments skipped, executable comments read as code"
        );
    }
}
