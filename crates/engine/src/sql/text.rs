//! Writing values and names as SQL text that the stock `mysql`/`mariadb` client reads back to
//! the same bytes.
//!
//! Rows are read over the text protocol, so every value arrives as the server's own text (the
//! lossless choice: no float reformatting, zero dates and TIME ranges kept). Only the quoting
//! is decided here, from the column's type and charset: numbers bare, binary data as hex, text
//! quoted with `mysql_real_escape_string`'s escapes.

use mysql::consts::{ColumnFlags, ColumnType};
use mysql::Column;

/// The charset number the server reports for binary strings (BINARY, VARBINARY, BLOB).
const BINARY_CHARSET: u16 = 63;

/// Quotes an identifier with backticks (a backtick inside is doubled).
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A name as it appears in a `-- ` comment line of a dump: quoted like [`ident`], with every
/// byte that could end the comment or start SQL made visible instead. A newline (or any other
/// control character, a Unicode line or paragraph separator, a bidirectional or invisible
/// format character) becomes `\u{…}`; `*/` and `/*` are broken with a backslash; a backslash
/// is doubled so the escaping reads back unambiguously. So a trigger named
/// "x⏎DROP DATABASE prod;" is written `x\u{a}DROP DATABASE prod;` on one comment line
/// (the CVE-2016-5483 class: mysqldump wrote such names raw). The result is one line of
/// printable text, whatever the name.
pub fn comment_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('`');
    let mut previous = '\0';
    for c in name.chars() {
        match c {
            '`' => out.push_str("``"),
            '\\' => out.push_str("\\\\"),
            '/' if previous == '*' => out.push_str("\\/"),
            '*' if previous == '/' => out.push_str("\\*"),
            c if is_hidden(c) => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
        previous = c;
    }
    out.push('`');
    out
}

/// Characters that break or hide a line: controls (C0, DEL, C1 with NEL), the line and
/// paragraph separators, zero-width and bidirectional format characters, the BOM.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
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

/// The two hex digits of every byte value, so binary data is written a byte per lookup.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut pairs = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        pairs[b] = [DIGITS[b >> 4], DIGITS[b & 0xF]];
        b += 1;
    }
    pairs
};

/// A row packet that does not hold one value per column: the connection is out of step, so
/// the dump must stop rather than write something else than the table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedRow;

/// Appends one text-protocol row packet (each value a length-encoded string, `0xFB` for
/// NULL) as `(v1,v2,…)`, each value in its column's style. The values are copied straight
/// from the packet: nothing is allocated per row or value.
pub fn push_row(
    out: &mut Vec<u8>,
    packet: &[u8],
    styles: &[ValueStyle],
) -> Result<(), MalformedRow> {
    let mut rest = packet;
    out.push(b'(');
    for (i, style) in styles.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let (value, after) = text_value(rest).ok_or(MalformedRow)?;
        push_text(out, value, *style);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(MalformedRow);
    }
    out.push(b')');
    Ok(())
}

/// Splits the first value off a text-protocol row: `None` for SQL NULL, else its bytes.
fn text_value(packet: &[u8]) -> Option<(Option<&[u8]>, &[u8])> {
    let (&first, rest) = packet.split_first()?;
    let (len, rest): (u64, &[u8]) = match first {
        0xFB => return Some((None, rest)),
        0xFC => (
            u64::from(u16::from_le_bytes(rest.get(..2)?.try_into().ok()?)),
            &rest[2..],
        ),
        0xFD => {
            let b = rest.get(..3)?;
            (
                u64::from(u32::from_le_bytes([b[0], b[1], b[2], 0])),
                &rest[3..],
            )
        }
        0xFE => (
            u64::from_le_bytes(rest.get(..8)?.try_into().ok()?),
            &rest[8..],
        ),
        0xFF => return None,
        n => (u64::from(n), rest),
    };
    let len = usize::try_from(len).ok()?;
    if len > rest.len() {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    Some((Some(value), rest))
}

/// Appends one value (the server's text of it, `None` for NULL) in `style`.
pub fn push_text(out: &mut Vec<u8>, value: Option<&[u8]>, style: ValueStyle) {
    let Some(bytes) = value else {
        out.extend_from_slice(b"NULL");
        return;
    };
    match style {
        ValueStyle::Bare => out.extend_from_slice(bytes),
        ValueStyle::Hex if bytes.is_empty() => out.extend_from_slice(b"''"),
        ValueStyle::Hex => {
            out.reserve(2 + bytes.len() * 2);
            out.extend_from_slice(b"0x");
            for &b in bytes {
                out.extend_from_slice(&HEX_PAIRS[usize::from(b)]);
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
    let mut i = 0;
    loop {
        i = plain_until(bytes, i);
        let Some(&byte) = bytes.get(i) else {
            break;
        };
        let escaped: &[u8] = match byte {
            0 => b"\\0",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\\' => b"\\\\",
            b'\'' => b"\\'",
            b'"' => b"\\\"",
            0x1a => b"\\Z",
            _ => {
                i += 1; // A harmless control byte (a tab): kept as it is.
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'\'');
}

/// The index of the first byte at or after `i` that may need an escape (below 0x20, a
/// backslash or a quote), or the length: 32 bytes at a time (a fold the compiler turns into
/// vector compares: 2-3x the eight-byte words on long text), then eight, then one.
fn plain_until(bytes: &[u8], mut i: usize) -> usize {
    while let Some(block) = bytes.get(i..i + 32) {
        let block: &[u8; 32] = block.try_into().expect("32 bytes");
        if block
            .iter()
            .fold(false, |any, &b| any | may_need_escape_byte(b))
        {
            break;
        }
        i += 32;
    }
    while let Some(word) = bytes.get(i..i + 8) {
        if may_need_escape(u64::from_le_bytes(word.try_into().expect("eight bytes"))) {
            break;
        }
        i += 8;
    }
    while let Some(&byte) = bytes.get(i) {
        if may_need_escape_byte(byte) {
            break;
        }
        i += 1;
    }
    i
}

/// Whether `byte` is below 0x20 or a backslash or quote (no short-circuit, so it vectorizes).
fn may_need_escape_byte(byte: u8) -> bool {
    (byte < 0x20) | (byte == b'\\') | (byte == b'\'') | (byte == b'"')
}

/// Whether any byte of `word` is below 0x20 (NUL, newline, CR, ^Z) or a backslash or quote:
/// the bytes `push_quoted` escapes, plus harmless control bytes (then checked one by one).
fn may_need_escape(word: u64) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below n: (x - n) borrows into the high bit where x's own high bit is clear.
    let below_0x20 = word.wrapping_sub(LOW * 0x20) & !word & HIGH;
    let zero_byte = |x: u64| x.wrapping_sub(LOW) & !x & HIGH;
    below_0x20
        | zero_byte(word ^ (LOW * u64::from(b'\\')))
        | zero_byte(word ^ (LOW * u64::from(b'\'')))
        | zero_byte(word ^ (LOW * u64::from(b'"')))
        != 0
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

    /// The plain byte-by-byte escaper the fast one must agree with.
    fn quoted_slowly(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![b'\''];
        for &b in bytes {
            match b {
                0 => out.extend_from_slice(b"\\0"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\'' => out.extend_from_slice(b"\\'"),
                b'"' => out.extend_from_slice(b"\\\""),
                0x1a => out.extend_from_slice(b"\\Z"),
                other => out.push(other),
            }
        }
        out.push(b'\'');
        out
    }

    #[test]
    fn block_at_a_time_quoting_agrees_with_byte_at_a_time() {
        // Thai text, ASCII and every byte value, at every alignment and length.
        let mut sample = "ใบแจ้งหนี้ 'A' \\ \"q\" เลขที่ 12\n".as_bytes().to_vec();
        sample.extend(0u8..=255);
        sample.extend_from_slice("ลูกค้า ทดสอบ abcdefghijklmnop".as_bytes());
        for start in 0..16 {
            for end in (start..sample.len()).step_by(7).chain([sample.len()]) {
                let bytes = &sample[start..end];
                let mut fast = Vec::new();
                push_quoted(&mut fast, bytes);
                assert_eq!(
                    fast,
                    quoted_slowly(bytes),
                    "quoting {start}..{end} of the sample"
                );
            }
        }
    }

    #[test]
    fn empty_binary_is_an_empty_string_not_0x() {
        let mut out = Vec::new();
        push_text(&mut out, Some(b""), ValueStyle::Hex);
        assert_eq!(out, b"''", "a bare 0x is a syntax error");
        out.clear();
        push_text(&mut out, Some(&[0, 0xAB, 0x5F, 0xFF]), ValueStyle::Hex);
        assert_eq!(out, b"0x00AB5FFF", "binary is written as hex");
    }

    /// A value as the server sends it in a text-protocol row.
    fn length_encoded(value: Option<&[u8]>) -> Vec<u8> {
        let Some(bytes) = value else {
            return vec![0xFB];
        };
        let n = bytes.len() as u64;
        let mut out = match n {
            0..=250 => vec![n as u8],
            251..=0xFFFF => [&[0xFC][..], &(n as u16).to_le_bytes()].concat(),
            0x1_0000..=0xFF_FFFF => [&[0xFD][..], &(n as u32).to_le_bytes()[..3]].concat(),
            _ => [&[0xFE][..], &n.to_le_bytes()].concat(),
        };
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn a_row_packet_is_written_value_by_value_in_each_columns_style() {
        let long = "ข".repeat(100); // 300 bytes: a two-byte length
        let huge = vec![b'x'; 70_000]; // a three-byte length
        let values: [Option<&[u8]>; 7] = [
            Some(b"-12.50"),
            None,
            Some(b""),
            Some(b"it's"),
            Some(long.as_bytes()),
            Some(&[0x00, 0xFF]),
            Some(&huge),
        ];
        let styles = [
            ValueStyle::Bare,
            ValueStyle::Quoted,
            ValueStyle::Quoted,
            ValueStyle::Quoted,
            ValueStyle::Quoted,
            ValueStyle::Hex,
            ValueStyle::Bare,
        ];
        let packet: Vec<u8> = values.iter().flat_map(|v| length_encoded(*v)).collect();
        let mut out = b"x".to_vec();
        push_row(&mut out, &packet, &styles).expect("a well-formed row");
        let expected = format!(
            "x(-12.50,NULL,'','it\\'s','{long}',0x00FF,{})",
            "x".repeat(70_000)
        );
        assert_eq!(
            String::from_utf8(out).expect("text"),
            expected,
            "NULL apart from the empty string, lengths of one, two and three bytes"
        );
        // An eight-byte length (0xFE) is read the same way.
        let mut out = Vec::new();
        let packet = [&[0xFE][..], &3u64.to_le_bytes(), b"abc"].concat();
        push_row(&mut out, &packet, &[ValueStyle::Quoted]).expect("an eight-byte length");
        assert_eq!(out, b"('abc')", "the value after an eight-byte length");
    }

    #[test]
    fn a_row_packet_that_does_not_match_its_columns_is_refused() {
        let styles = [ValueStyle::Bare, ValueStyle::Bare];
        let two = [length_encoded(Some(b"1")), length_encoded(Some(b"2"))].concat();
        let cases: [(&str, Vec<u8>); 5] = [
            ("one value short", length_encoded(Some(b"1"))),
            (
                "a value too many",
                [two.clone(), length_encoded(None)].concat(),
            ),
            ("a value cut short", two[..two.len() - 1].to_vec()),
            ("a length past the end", vec![0x01, b'1', 0xFC, 0x10]),
            ("0xFF is no length", vec![0x01, b'1', 0xFF]),
        ];
        for (what, packet) in cases {
            assert_eq!(
                push_row(&mut Vec::new(), &packet, &styles),
                Err(MalformedRow),
                "{what}"
            );
        }
        assert_eq!(
            push_row(&mut Vec::new(), &two, &styles),
            Ok(()),
            "the well-formed packet the cases are cut from"
        );
    }

    #[test]
    fn identifiers_double_backticks() {
        assert_eq!(
            ident("we`ird"),
            "`we``ird`",
            "a backtick in a name is doubled"
        );
    }

    #[test]
    fn names_in_comment_lines_cannot_end_the_comment() {
        assert_eq!(
            comment_name("x\nDROP DATABASE prod;"),
            "`x\\u{a}DROP DATABASE prod;`",
            "a newline becomes visible text on the same line"
        );
        assert_eq!(
            comment_name("a*/b/*c`d\\e"),
            "`a*\\/b/\\*c``d\\\\e`",
            "comment delimiters are broken, backticks doubled, backslashes doubled"
        );
        for hostile in [
            "\r", "\0", "\u{85}", "\u{2028}", "\u{2029}", "\u{202e}", "\u{feff}", "\u{7f}",
        ] {
            let written = comment_name(&format!("a{hostile}b"));
            assert!(
                written.chars().all(|c| !c.is_control() && !is_hidden(c)),
                "{hostile:?} is escaped: {written}"
            );
        }
        assert_eq!(comment_name("ลูกค้า"), "`ลูกค้า`", "Thai names stay readable");
    }
}
