//! Time in one place: how instants are stored (UTC text that sorts), shown (RFC 3339 with the
//! offset of a zone) and which zone a schedule gets by default.
//!
//! Nothing here reads the clock: callers pass `now` in, so scheduling and retention decisions
//! are tested with a pinned clock.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use serde::Serializer;

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
