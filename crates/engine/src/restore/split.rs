//! Splits a SQL script into statements the way the `mysql` client does: `DELIMITER` commands,
//! `--`, `#` and `/* */` comments, quoted strings and identifiers with backslash escapes, and
//! the MariaDB "sandbox mode" first line. Streaming: memory is one statement.

use std::io::BufRead;

use crate::error::{io_error, Error, ErrorCode, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    /// Inside `'`, `"` or a backtick.
    Quote(u8),
    /// After a backslash inside `'` or `"`: the next byte is taken as is.
    Escape(u8),
    /// After `-` (a comment needs `--` and a space).
    Dash,
    /// After `--`.
    DashDash,
    /// After `/`.
    Slash,
    LineComment,
    /// Inside `/* */`, which started at this index of the statement.
    BlockComment(usize),
}

/// One statement of a script, without its delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    /// 1-based line of the statement's first byte, for error messages.
    pub line: u64,
}

/// An iterator over the statements of a script.
#[derive(Debug)]
pub struct Statements<R> {
    input: R,
    core: Core,
    done: bool,
    /// Bytes consumed from the input (for progress).
    pub consumed: u64,
    /// The longest statement accepted (the server's `max_allowed_packet`): a longer one is an
    /// error as soon as it passes the limit, instead of being read whole into memory.
    limit: usize,
}

/// The splitter's state, apart from the input (so a borrowed input chunk can be fed to it).
#[derive(Debug)]
struct Core {
    delimiter: Vec<u8>,
    state: State,
    current: Vec<u8>,
    /// Where the first byte that is not whitespace or a plain comment is, if any.
    code_start: Option<usize>,
    line: u64,
    start_line: u64,
    /// The bytes the normal state must look at one by one: quotes, comment starts, newlines
    /// and the delimiter's last byte. Runs of other bytes (most of a row's numbers) are copied
    /// whole.
    special: [bool; 256],
}

/// The table of [`Core::special`] bytes for `delimiter`.
fn special_bytes(delimiter: &[u8]) -> [bool; 256] {
    let mut special = [false; 256];
    for b in [b'\'', b'"', b'`', b'#', b'-', b'/', b'\n'] {
        special[usize::from(b)] = true;
    }
    if let Some(last) = delimiter.last() {
        special[usize::from(*last)] = true;
    }
    special
}

impl<R: BufRead> Statements<R> {
    pub fn new(input: R) -> Self {
        Statements {
            input,
            core: Core {
                delimiter: b";".to_vec(),
                state: State::Normal,
                current: Vec::with_capacity(1 << 20),
                code_start: None,
                line: 1,
                start_line: 1,
                special: special_bytes(b";"),
            },
            done: false,
            consumed: 0,
            limit: usize::MAX,
        }
    }

    /// Refuses statements longer than `limit` bytes.
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}

impl Core {
    fn mark_code(&mut self, at: usize) {
        if self.code_start.is_none() {
            self.code_start = Some(at);
        }
    }

    /// The statement so far is a `DELIMITER` client command (still on its first line).
    fn in_delimiter_command(&self) -> bool {
        match self.code_start {
            Some(pos) => {
                let rest = &self.current[pos..];
                rest.len() >= 10
                    && rest[..10].eq_ignore_ascii_case(b"delimiter ")
                    && !rest[..rest.len() - 1].contains(&b'\n')
            }
            None => false,
        }
    }

    fn take(&mut self) -> Result<Option<Statement>> {
        let mut bytes = std::mem::replace(&mut self.current, Vec::with_capacity(1 << 20));
        let line = self.start_line;
        let Some(start) = self.code_start.take() else {
            bytes.clear();
            self.current = bytes;
            return Ok(None);
        };
        // Comments before the first code are not part of the statement (the code starts with
        // a byte that is not whitespace), nor is whitespace after it.
        if start > 0 {
            bytes.drain(..start);
        }
        let end = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |last| last + 1);
        bytes.truncate(end);
        let sql = String::from_utf8(bytes).map_err(|_| {
            Error::new(ErrorCode::Corrupt, format!("the statement at line {line} is not valid UTF-8 text"))
                .with_hint("a dump with raw binary strings (mysqldump without --hex-blob) must be restored with the mysql client")
        })?;
        Ok(Some(Statement { sql, line }))
    }

    /// Feeds one byte; returns true when a statement (or a client command) ended with it.
    fn feed(&mut self, b: u8) -> bool {
        if b == b'\n' {
            self.line += 1;
        }
        if self.current.is_empty() {
            if b.is_ascii_whitespace() && self.state == State::Normal {
                // Whitespace between statements is not kept.
                return false;
            }
            self.start_line = self.line;
        }
        let at = self.current.len();
        self.current.push(b);
        match self.state {
            State::Quote(q) => {
                if b == b'\\' && q != b'`' {
                    self.state = State::Escape(q);
                } else if b == q {
                    self.state = State::Normal;
                }
                false
            }
            State::Escape(q) => {
                self.state = State::Quote(q);
                false
            }
            State::LineComment => {
                if b == b'\n' {
                    self.state = State::Normal;
                }
                false
            }
            State::BlockComment(start) => {
                if b == b'/' && at >= start + 3 && self.current[at - 1] == b'*' {
                    self.state = State::Normal;
                    let text = &self.current[start..];
                    let executable = text.starts_with(b"/*!")
                        || (text.starts_with(b"/*M!") && !text.starts_with(b"/*M!999999"));
                    if executable {
                        self.mark_code(start);
                    }
                }
                false
            }
            State::Dash => {
                self.current.pop();
                if b == b'-' {
                    self.current.push(b);
                    self.state = State::DashDash;
                    false
                } else {
                    self.mark_code(at - 1);
                    self.state = State::Normal;
                    self.feed_normal(b)
                }
            }
            State::DashDash => {
                if b.is_ascii_whitespace() {
                    self.state = if b == b'\n' {
                        State::Normal
                    } else {
                        State::LineComment
                    };
                    false
                } else {
                    self.current.pop();
                    self.mark_code(at - 2);
                    self.state = State::Normal;
                    self.feed_normal(b)
                }
            }
            State::Slash => {
                if b == b'*' {
                    self.state = State::BlockComment(at - 1);
                    false
                } else {
                    self.current.pop();
                    self.mark_code(at - 1);
                    self.state = State::Normal;
                    self.feed_normal(b)
                }
            }
            State::Normal => {
                self.current.pop();
                self.feed_normal(b)
            }
        }
    }

    /// Feeds one byte in the normal state (the byte is not yet in `current`).
    fn feed_normal(&mut self, b: u8) -> bool {
        let at = self.current.len();
        self.current.push(b);
        if self.in_delimiter_command() {
            if b == b'\n' {
                let pos = self.code_start.unwrap_or(0);
                let new = String::from_utf8_lossy(&self.current[pos + 10..])
                    .trim()
                    .to_owned();
                if !new.is_empty() {
                    self.delimiter = new.into_bytes();
                    self.special = special_bytes(&self.delimiter);
                }
                self.current.clear();
                self.code_start = None;
            }
            return false;
        }
        match b {
            b'\'' | b'"' | b'`' => {
                self.mark_code(at);
                self.state = State::Quote(b);
                false
            }
            b'#' => {
                self.state = State::LineComment;
                false
            }
            b'-' => {
                self.state = State::Dash;
                false
            }
            b'/' => {
                self.state = State::Slash;
                false
            }
            _ => {
                if !b.is_ascii_whitespace() {
                    self.mark_code(at);
                }
                if self.current.ends_with(&self.delimiter)
                    && self
                        .code_start
                        .is_some_and(|p| p < at + 1 - self.delimiter.len())
                {
                    let keep = self.current.len() - self.delimiter.len();
                    self.current.truncate(keep);
                    return true;
                }
                if self.current.ends_with(&self.delimiter)
                    && self
                        .code_start
                        .is_some_and(|p| p >= at + 1 - self.delimiter.len())
                {
                    // A lone delimiter: an empty statement.
                    self.current.clear();
                    self.code_start = None;
                }
                false
            }
        }
    }
}

impl<R: BufRead> Iterator for Statements<R> {
    type Item = Result<Statement>;

    fn next(&mut self) -> Option<Result<Statement>> {
        loop {
            if self.done {
                return None;
            }
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) => {
                    self.done = true;
                    return Some(Err(io_error(e, "reading the backup")));
                }
            };
            if chunk.is_empty() {
                self.done = true;
                if matches!(
                    self.core.state,
                    State::Quote(b'\'') | State::Quote(b'"') | State::Escape(_)
                ) {
                    return Some(Err(Error::new(
                        ErrorCode::Corrupt,
                        "the script ends inside a quoted string (is it truncated?)",
                    )));
                }
                if matches!(self.core.state, State::Dash | State::Slash) {
                    self.core
                        .mark_code(self.core.current.len().saturating_sub(1));
                }
                return self.core.take().transpose();
            }
            let mut i = 0;
            let mut ended = false;
            while i < chunk.len() {
                // Fast path: copy the inside of a quoted string up to its next quote or backslash.
                if let State::Quote(q) = self.core.state {
                    let run = chunk[i..]
                        .iter()
                        .position(|&c| c == q || c == b'\\' || c == b'\n')
                        .unwrap_or(chunk.len() - i);
                    if run > 0 {
                        self.core.current.extend_from_slice(&chunk[i..i + run]);
                        i += run;
                        continue;
                    }
                }
                // Fast path: in a statement's code, copy up to the next byte that may change
                // the state or end the statement. (A `DELIMITER` command is ended by its
                // newline, which is such a byte.)
                if self.core.state == State::Normal && self.core.code_start.is_some() {
                    let special = &self.core.special;
                    let run = chunk[i..]
                        .iter()
                        .position(|&c| special[usize::from(c)])
                        .unwrap_or(chunk.len() - i);
                    if run > 0 {
                        self.core.current.extend_from_slice(&chunk[i..i + run]);
                        i += run;
                        continue;
                    }
                }
                let b = chunk[i];
                i += 1;
                if self.core.feed(b) {
                    ended = true;
                    break;
                }
            }
            self.input.consume(i);
            self.consumed += i as u64;
            if self.core.current.len() > self.limit {
                self.done = true;
                return Some(Err(Error::new(
                    ErrorCode::UnsafeScript,
                    format!(
                        "the statement at line {} is longer than the server accepts ({} bytes, its \
                         max_allowed_packet); it was not read further and nothing was written",
                        self.core.start_line, self.limit
                    ),
                )
                .with_hint(
                    "raise max_allowed_packet on the server, or split the statement in the file",
                )));
            }
            if ended {
                match self.core.take() {
                    Ok(Some(stmt)) => return Some(Ok(stmt)),
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_longer_than_the_limit_is_refused_without_reading_it_whole() {
        let long = format!(
            "SELECT 1;\nINSERT INTO t VALUES ('{}');\nSELECT 2;",
            "x".repeat(5000)
        );
        let mut statements =
            Statements::new(std::io::BufReader::with_capacity(64, long.as_bytes()))
                .with_limit(1000);
        assert_eq!(
            statements.next().map(|s| s.map(|s| s.sql)),
            Some(Ok("SELECT 1".to_owned())),
            "a short statement passes"
        );
        let err = statements
            .next()
            .and_then(|s| s.err())
            .expect("the long one is refused");
        assert!(
            err.code == ErrorCode::UnsafeScript && err.message.contains("line 2"),
            "refused with its line: {err:?}"
        );
        assert!(
            statements.consumed < 1200,
            "reading stopped soon after the limit ({} bytes read)",
            statements.consumed
        );
        assert!(statements.next().is_none(), "nothing follows the refusal");
    }

    fn split(sql: &str) -> Vec<String> {
        Statements::new(sql.as_bytes())
            .map(|s| s.expect("valid").sql)
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "/*M!999999\\- enable the sandbox mode */\n-- a comment; here\nSELECT 'a;b', \"c;d\", `e;f`;\n# hash; comment\n/* block; */ SELECT 2;\n/*!40101 SET NAMES utf8mb4 */;\n";
        assert_eq!(
            split(sql),
            [
                "SELECT 'a;b', \"c;d\", `e;f`",
                "SELECT 2",
                "/*!40101 SET NAMES utf8mb4 */"
            ],
            "leading comments and the sandbox line are dropped; delimiters inside quotes and comments do not split"
        );
    }

    #[test]
    fn escapes_and_delimiter_commands() {
        let sql = "INSERT INTO t VALUES ('it\\'s; fine', 'back\\\\');\nDELIMITER ;;\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET @a = 1; SET @b = 2; END;;\nDELIMITER ;\nSELECT 1;";
        assert_eq!(
            split(sql),
            [
                "INSERT INTO t VALUES ('it\\'s; fine', 'back\\\\')",
                "CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET @a = 1; SET @b = 2; END",
                "SELECT 1",
            ],
            "escaped quotes stay inside strings and DELIMITER changes the terminator"
        );
    }

    #[test]
    fn double_dash_needs_a_space_to_be_a_comment() {
        assert_eq!(
            split("SELECT 1--1;"),
            ["SELECT 1--1"],
            "1--1 is arithmetic, not a comment"
        );
    }

    #[test]
    fn a_truncated_string_is_an_error() {
        let results: Vec<_> =
            Statements::new("INSERT INTO t VALUES ('never closed".as_bytes()).collect();
        assert!(
            results.iter().any(|r| r.is_err()),
            "a script that ends inside a string is refused"
        );
    }

    #[test]
    fn runs_copied_whole_keep_lines_and_multi_byte_delimiters() {
        let sql = "\n\nINSERT INTO t VALUES (1,2.5,-3),(4,'x',NULL);\nDELIMITER ab\nSELECT 1 a, 2 bab\n\nSELECT 'ab'ab\nDELIMITER ;\n  SELECT 12345 ;  \n";
        let whole: Vec<Statement> = Statements::new(sql.as_bytes())
            .map(|s| s.expect("valid"))
            .collect();
        assert_eq!(
            whole
                .iter()
                .map(|s| (s.sql.as_str(), s.line))
                .collect::<Vec<_>>(),
            [
                ("INSERT INTO t VALUES (1,2.5,-3),(4,'x',NULL)", 3),
                ("SELECT 1 a, 2 b", 5),
                ("SELECT 'ab'", 7),
                ("SELECT 12345", 9),
            ],
            "a two-byte delimiter ends statements only whole and outside quotes; lines count from 1; surrounding whitespace is trimmed"
        );
        for capacity in 1..=9 {
            let reader = std::io::BufReader::with_capacity(capacity, sql.as_bytes());
            let split: Vec<Statement> =
                Statements::new(reader).map(|s| s.expect("valid")).collect();
            assert_eq!(split, whole, "reads of {capacity} bytes split the same");
        }
    }

    #[test]
    fn tiny_reads_split_the_same() {
        let sql = "/*M!999999\\- enable the sandbox mode */\n-- c;\nINSERT INTO t VALUES ('a\\'b;c');\nDELIMITER $$\nSELECT 1$$\nDELIMITER ;\n/*!40101 SET x=1 */;SELECT 'x'-1;/* c; */";
        let reader = std::io::BufReader::with_capacity(1, sql.as_bytes());
        let small: Vec<String> = Statements::new(reader)
            .map(|s| s.expect("valid").sql)
            .collect();
        assert_eq!(
            small,
            split(sql),
            "statement boundaries do not depend on read sizes"
        );
    }
}
