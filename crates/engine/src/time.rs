//! Time in one place: how instants are stored (UTC text that sorts), shown (RFC 3339 with the
//! offset of a zone) and which zone a schedule gets by default.
//!
//! Nothing here reads the clock: callers pass `now` in, so scheduling and retention decisions
//! are tested with a pinned clock.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use serde::{Deserialize, Deserializer, Serializer};

use crate::error::{Error, ErrorCode, Result};

/// The store's text form: UTC with second precision, e.g. `2026-02-03T02:00:00Z`.
pub fn to_stored(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses the store's text form (any RFC 3339 instant is accepted).
pub fn from_stored(text: &str) -> Result<Timestamp> {
    text.parse().map_err(|e| {
        Error::new(
            ErrorCode::Store,
            format!("bad timestamp `{text}` in the app's database: {e}"),
        )
    })
}

/// A short local time for people (the tray's lines): `Sun 03:00`, or with the date
/// `2026-12-07 03:00`. In Thai, as the app's screens show them: the weekday in Thai and the
/// date in the Buddhist era (`อา. 03:00`, `7 ธ.ค. 2569 03:00`).
pub fn short_local(zoned: &ZonedDateTime, thai: bool, with_date: bool) -> String {
    const DAYS: [&str; 7] = ["จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา."];
    const MONTHS: [&str; 12] = [
        "ม.ค.",
        "ก.พ.",
        "มี.ค.",
        "เม.ย.",
        "พ.ค.",
        "มิ.ย.",
        "ก.ค.",
        "ส.ค.",
        "ก.ย.",
        "ต.ค.",
        "พ.ย.",
        "ธ.ค.",
    ];
    let clock = zoned.strftime("%H:%M");
    match (thai, with_date) {
        (false, false) => zoned.strftime("%a %H:%M").to_string(),
        (false, true) => zoned.strftime("%Y-%m-%d %H:%M").to_string(),
        (true, false) => {
            let day = DAYS[usize::from(zoned.weekday().to_monday_zero_offset() as u8)];
            format!("{day} {clock}")
        }
        (true, true) => {
            let month = MONTHS[usize::from(zoned.month().unsigned_abs()).saturating_sub(1) % 12];
            format!(
                "{} {month} {} {clock}",
                zoned.day(),
                i32::from(zoned.year()) + 543
            )
        }
    }
}

/// A time in a notice: the date and clock as people read them, then the zone's name, e.g.
/// `2026-02-04 02:00 (Asia/Bangkok)` or `4 ก.พ. 2569 02:00 (Asia/Bangkok)`.
pub fn in_notice(zoned: &ZonedDateTime, thai: bool) -> String {
    let zone = zoned
        .time_zone()
        .iana_name()
        .map(str::to_owned)
        .unwrap_or_else(|| zoned.strftime("UTC%:z").to_string());
    format!("{} ({zone})", short_local(zoned, thai, true))
}

/// RFC 3339 with the zone's offset at that instant, e.g. `2026-02-04T02:00:00+07:00`.
pub fn rfc3339(zoned: &ZonedDateTime) -> String {
    zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Serializes an optional zoned time as RFC 3339 (null when absent).
pub fn serialize_opt<S: Serializer>(
    value: &Option<ZonedDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(z) => s.serialize_str(&rfc3339(z)),
        None => s.serialize_none(),
    }
}

/// Serializes a zoned time as RFC 3339.
pub fn serialize<S: Serializer>(value: &ZonedDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(value))
}

/// Reads what [`rfc3339`] writes (an instant with its offset; `Z` for UTC), keeping the
/// offset: a daemon's answers, read by the app's console, show the server's wall times.
pub fn parse_rfc3339(text: &str) -> Option<ZonedDateTime> {
    let ts: Timestamp = text.parse().ok()?;
    let offset = if text.ends_with(['Z', 'z']) {
        jiff::tz::Offset::UTC
    } else {
        let tail = text.get(text.len().checked_sub(6)?..)?;
        let sign = match tail.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hours: i32 = tail.get(1..3)?.parse().ok()?;
        let minutes: i32 = tail.get(4..6)?.parse().ok()?;
        jiff::tz::Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()?
    };
    Some(ts.to_zoned_datetime(TimeZone::fixed(offset)))
}

/// Deserializes what [`serialize`] writes.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ZonedDateTime, D::Error> {
    let text = String::deserialize(d)?;
    parse_rfc3339(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time")))
}

/// Deserializes what [`serialize_opt`] writes.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ZonedDateTime>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(text) => parse_rfc3339(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time"))),
    }
}

/// The machine's IANA zone name, or `UTC` when it cannot be told.
pub fn system_zone_name() -> String {
    TimeZone::try_system()
        .ok()
        .and_then(|tz| tz.iana_name().map(str::to_owned))
        .unwrap_or_else(|| "UTC".to_owned())
}

/// Looks up an IANA zone by name (`Asia/Bangkok`); the error names the `timezone` field.
pub fn zone(name: &str) -> Result<TimeZone> {
    if name.trim().is_empty() || name != name.trim() {
        return Err(Error::new(
            ErrorCode::InvalidTimeZone,
            format!("`{name}` is not a time zone name"),
        )
        .with_field("timezone")
        .with_hint("use an IANA name such as Asia/Bangkok or UTC"));
    }
    TimeZone::get(name).map_err(|_| {
        Error::new(
            ErrorCode::InvalidTimeZone,
            format!("`{name}` is not a known time zone"),
        )
        .with_field("timezone")
        .with_hint("use an IANA name such as Asia/Bangkok, Europe/London or UTC")
    })
}

/// Parses an RFC 3339 instant given by a user (`--after`), naming the field on error.
pub fn parse_user_instant(field: &str, text: &str) -> Result<Timestamp> {
    text.parse().map_err(|_| {
        Error::invalid(field, format!("`{text}` is not an RFC 3339 time"))
            .with_hint("write it like 2026-02-03T02:00:00+07:00")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_local_times_in_english_and_in_thai_with_the_buddhist_era() {
        let at: ZonedDateTime = "2026-12-06T03:05:00+07:00[Asia/Bangkok]"
            .parse()
            .expect("a time");
        assert_eq!(
            short_local(&at, false, false),
            "Sun 03:05",
            "weekday and time"
        );
        assert_eq!(
            short_local(&at, false, true),
            "2026-12-06 03:05",
            "date and time"
        );
        assert_eq!(short_local(&at, true, false), "อา. 03:05", "a Thai weekday");
        assert_eq!(
            short_local(&at, true, true),
            "6 ธ.ค. 2569 03:05",
            "a Thai date in the Buddhist era"
        );
        assert_eq!(
            in_notice(&at, false),
            "2026-12-06 03:05 (Asia/Bangkok)",
            "a notice's time names its zone"
        );
        assert_eq!(
            in_notice(&at, true),
            "6 ธ.ค. 2569 03:05 (Asia/Bangkok)",
            "in Thai too"
        );
    }
}
