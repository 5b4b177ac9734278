//! SQL split into tokens as the server reads it: quoted strings and identifiers (doubled
//! quotes, backslash escapes), comments skipped, `/*! … */` and `/*M! … */` read as the code
//! they are. The restore's guard decides on these tokens; the dump uses them to read back
//! what `SHOW CREATE` printed.

/// One token of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// An unquoted word (keyword, name or number): its text is the token's span.
    Word,
    /// A backtick-quoted identifier, unquoted.
    Ident(String),
    /// A `'…'` string (its text is not kept).
    Str,
    /// A `"…"` string or (with ANSI_QUOTES) identifier, unquoted.
    DoubleQuoted(String),
    /// Any other byte outside quotes and comments (`.`, `(`, `;`, `@`, `\`, …).
    Punct(u8),
}

/// A token and the byte range of its text in the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned {
    pub token: Token,
    pub start: usize,
    pub end: usize,
}

/// Splits one statement into tokens. Never fails: an unterminated quote ends at the end.
pub fn tokens(sql: &str) -> Vec<Spanned> {
    tokens_of(sql).collect()
}

/// The tokens of `sql` one at a time, without a list.
pub fn tokens_of(sql: &str) -> impl Iterator<Item = Spanned> + '_ {
    Tokens { sql, i: 0 }
}

/// The tokens of a statement, one at a time (rows' INSERTs are checked without a list).
#[derive(Debug)]
struct Tokens<'a> {
    sql: &'a str,
    i: usize,
}

impl Iterator for Tokens<'_> {
    type Item = Spanned;

    fn next(&mut self) -> Option<Spanned> {
        let bytes = self.sql.as_bytes();
        let mut i = self.i;
        while i < bytes.len() {
            let b = bytes[i];
            let start = i;
            let token = match b {
                b if b.is_ascii_whitespace() => {
                    i += 1;
                    continue;
                }
                b'#' => {
                    i = line_end(bytes, i);
                    continue;
                }
                b'-' if bytes.get(i + 1) == Some(&b'-')
                    && bytes.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) =>
                {
                    i = line_end(bytes, i);
                    continue;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    // `/*!NNNNN` and `/*M!NNNNNN` are code (the server runs them); others are not.
                    let rest = &bytes[i + 2..];
                    let marker = if rest.starts_with(b"!") {
                        Some(1)
                    } else if rest.starts_with(b"M!") {
                        Some(2)
                    } else {
                        None
                    };
                    match marker {
                        Some(len) => {
                            i += 2 + len;
                            while i < bytes.len() && bytes[i].is_ascii_digit() {
                                i += 1;
                            }
                        }
                        None => {
                            i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                        }
                    }
                    continue;
                }
                b'*' if bytes.get(i + 1) == Some(&b'/') => {
                    // The end of an executable comment.
                    i += 2;
                    continue;
                }
                b'\'' => {
                    // A string's text is never looked at: skip to its closing quote.
                    i = skip_string(bytes, i);
                    Token::Str
                }
                b'"' | b'`' => {
                    let (text, end) = quoted(bytes, i);
                    i = end;
                    if b == b'"' {
                        Token::DoubleQuoted(text)
                    } else {
                        Token::Ident(text)
                    }
                }
                b if is_word_byte(b) => {
                    while i < bytes.len() && is_word_byte(bytes[i]) {
                        i += 1;
                    }
                    Token::Word
                }
                _ => {
                    i += 1;
                    Token::Punct(b)
                }
            };
            self.i = i;
            return Some(Spanned {
                token,
                start,
                end: i,
            });
        }
        self.i = i;
        None
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p + 1)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The index after the `'…'` string starting at `at` (backslash escapes, doubled quotes).
fn skip_string(bytes: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while let Some(p) = bytes[i..].iter().position(|&b| b == b'\'' || b == b'\\') {
        i += p;
        // A backslash escapes the next byte; a doubled quote is a quote.
        if bytes[i] == b'\\' || bytes.get(i + 1) == Some(&b'\'') {
            i += 2;
        } else {
            return i + 1;
        }
        if i >= bytes.len() {
            return bytes.len();
        }
    }
    bytes.len()
}

/// Reads a quoted string or identifier starting at `at`: its text (quotes undoubled, escapes
/// kept as written except in backticks) and the index after its closing quote.
fn quoted(bytes: &[u8], at: usize) -> (String, usize) {
    let q = bytes[at];
    let mut text = Vec::new();
    let mut i = at + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && q != b'`' {
            if let Some(&next) = bytes.get(i + 1) {
                text.push(next);
            }
            i += 2;
            continue;
        }
        if b == q {
            if bytes.get(i + 1) == Some(&q) {
                text.push(q);
                i += 2;
                continue;
            }
            return (String::from_utf8_lossy(&text).into_owned(), i + 1);
        }
        text.push(b);
        i += 1;
    }
    (String::from_utf8_lossy(&text).into_owned(), bytes.len())
}
