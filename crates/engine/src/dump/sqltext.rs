//! Writing values and names as SQL text that the stock `mysql`/`mariadb` client reads back to
//! the same bytes.
//!
//! Rows are read over the text protocol, so every value arrives as the server's own text (the
//! lossless choice: no float reformatting, zero dates and TIME ranges kept). Only the quoting
//! is decided here, from the column's type and charset: numbers bare, binary data as hex, text
//! quoted with `mysql_real_escape_string`'s escapes.

use mysql::consts::{ColumnFlags, ColumnType};
use mysql::{Column, Value};

/// The charset number the server reports for binary strings (BINARY, VARBINARY, BLOB).
const BINARY_CHARSET: u16 = 63;

/// Quotes an identifier with backticks (a backtick inside is doubled).
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Quotes a string literal (for names and comments we write, not row data).
pub fn string_literal(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 2);
    push_quoted(&mut out, text.as_bytes());
    String::from_utf8(out).unwrap_or_default()
}

/// How one column's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueStyle {
    /// As the server wrote it: integers, DECIMAL, FLOAT/DOUBLE, YEAR.
    Bare,
    /// `0x...` (empty as `''`): binary strings, BIT, GEOMETRY.
    Hex,
    /// `'...'` with backslash escapes: text, dates and times, ENUM/SET, JSON.
    Quoted,
}

impl ValueStyle {
    pub fn of(column: &Column) -> ValueStyle {
        use ColumnType::*;
        match column.column_type() {
            MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_DECIMAL
            | MYSQL_TYPE_NEWDECIMAL
            | MYSQL_TYPE_FLOAT
            | MYSQL_TYPE_DOUBLE
            | MYSQL_TYPE_YEAR => ValueStyle::Bare,
            MYSQL_TYPE_BIT | MYSQL_TYPE_GEOMETRY => ValueStyle::Hex,
            // MySQL's JSON has the binary charset but must be inserted as text.
            MYSQL_TYPE_JSON => ValueStyle::Quoted,
            MYSQL_TYPE_STRING
            | MYSQL_TYPE_VAR_STRING
            | MYSQL_TYPE_VARCHAR
            | MYSQL_TYPE_BLOB
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB => {
                let enum_or_set = column
                    .flags()
                    .intersects(ColumnFlags::ENUM_FLAG | ColumnFlags::SET_FLAG);
                if column.character_set() == BINARY_CHARSET && !enum_or_set {
                    ValueStyle::Hex
                } else {
                    ValueStyle::Quoted
                }
            }
            _ => ValueStyle::Quoted,
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends one value in `style`.
pub fn push_value(out: &mut Vec<u8>, value: &Value, style: ValueStyle) {
    let bytes: &[u8] = match value {
        Value::NULL => {
            out.extend_from_slice(b"NULL");
            return;
        }
        Value::Bytes(bytes) => bytes,
        // The text protocol only yields bytes; anything else is formatted by the driver.
        other => {
            let text = other.as_sql(false);
            out.extend_from_slice(text.as_bytes());
            return;
        }
    };
    match style {
        ValueStyle::Bare => out.extend_from_slice(bytes),
        ValueStyle::Hex if bytes.is_empty() => out.extend_from_slice(b"''"),
        ValueStyle::Hex => {
            out.reserve(2 + bytes.len() * 2);
            out.extend_from_slice(b"0x");
            for b in bytes {
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xF) as usize]);
            }
        }
        ValueStyle::Quoted => push_quoted(out, bytes),
    }
}

/// Appends `'bytes'` with the escapes of `mysql_real_escape_string`.
pub fn push_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'\'');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            0 => b"\\0",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\\' => b"\\\\",
            b'\'' => b"\\'",
            b'"' => b"\\\"",
            0x1a => b"\\Z",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_the_client_unescapes() {
        let mut out = Vec::new();
        push_quoted(&mut out, b"a'b\"c\\d\ne\rf\0g\x1ah");
        assert_eq!(
            out, b"'a\\'b\\\"c\\\\d\\ne\\rf\\0g\\Zh'",
            "every special byte is escaped"
        );
    }

    #[test]
    fn empty_binary_is_an_empty_string_not_0x() {
        let mut out = Vec::new();
        push_value(&mut out, &Value::Bytes(Vec::new()), ValueStyle::Hex);
        assert_eq!(out, b"''", "a bare 0x is a syntax error");
        out.clear();
        push_value(&mut out, &Value::Bytes(vec![0, 0xAB]), ValueStyle::Hex);
        assert_eq!(out, b"0x00AB", "binary is written as hex");
    }

    #[test]
    fn identifiers_double_backticks() {
        assert_eq!(
            ident("we`ird"),
            "`we``ird`",
            "a backtick in a name is doubled"
        );
    }
}
