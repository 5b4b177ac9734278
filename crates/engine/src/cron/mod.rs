//! Cron expressions with the semantics of Debian's cron (Vixie cron), which is what crontab.guru
//! and the original Billora spec describe.
//!
//! Why our own parser: the crates.io `cron` crate is Quartz-style (a seconds field, 1 = Sunday,
//! day-of-month AND day-of-week), and `croner` treats only a literal `*` as unrestricted for the
//! day-of-month/day-of-week OR rule, while Debian treats any field that *starts with* `*` so.
//!
//! The rules, all tested against an independent implementation (Python's `cronsim`):
//! - five fields; `*`, lists, ranges `a-b`, steps `*/n` and `a-b/n`; month and weekday names;
//!   0 and 7 are both Sunday; the `@daily`-style macros.
//! - when both day fields are restricted (neither starts with `*`), a day matches if either does.
//! - time zones: a job whose minute and hour fields are both fixed (neither starts with `*`) is
//!   a wall-clock job: on a spring-forward day a time in the gap runs once, right after the gap;
//!   on a fall-back day a repeated time runs once, at its first occurrence. Other jobs
//!   (`*/30 * * * *`, `0 * * * *`) follow elapsed time: they fire at every instant whose local
//!   time matches, so twice in a repeated hour and never inside a gap.

mod describe;
mod thai;

use std::collections::VecDeque;
use std::fmt;

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

pub use describe::Lang;
pub use thai::in_thai;

use crate::error::{Error, ErrorCode, Result};

/// The five fields, in order, as people name them in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl FieldKind {
    const ALL: [FieldKind; 5] = [
        FieldKind::Minute,
        FieldKind::Hour,
        FieldKind::DayOfMonth,
        FieldKind::Month,
        FieldKind::DayOfWeek,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Minute => "minute",
            FieldKind::Hour => "hour",
            FieldKind::DayOfMonth => "day-of-month",
            FieldKind::Month => "month",
            FieldKind::DayOfWeek => "day-of-week",
        }
    }

    /// The inclusive range a value may take in this field.
    fn bounds(self) -> (u8, u8) {
        match self {
            FieldKind::Minute => (0, 59),
            FieldKind::Hour => (0, 23),
            FieldKind::DayOfMonth => (1, 31),
            FieldKind::Month => (1, 12),
            FieldKind::DayOfWeek => (0, 7),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            FieldKind::Month => &[
                "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
            ],
            FieldKind::DayOfWeek => &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
            _ => &[],
        }
    }

    fn allowed(self) -> String {
        let (lo, hi) = self.bounds();
        match self {
            FieldKind::Month => format!("{lo}-{hi} or JAN-DEC"),
            FieldKind::DayOfWeek => format!("{lo}-{hi} or SUN-SAT, where 0 and 7 are Sunday"),
            _ => format!("{lo}-{hi}"),
        }
    }
}

/// One comma-separated item of a field, kept for the human-readable description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Term {
    /// `*` or `*/n` (a step of 1 is plain `*`).
    Every { step: u8 },
    /// `a`
    Single(u8),
    /// `a-b` or `a-b/n`.
    Range { lo: u8, hi: u8, step: u8 },
}

/// A parsed field: the set of values it allows, and its terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    kind: FieldKind,
    /// Bit `v` is set when value `v` matches (for day-of-week, 7 is folded onto 0).
    bits: u64,
    /// The field starts with `*`: Debian's test for "unrestricted" in the day OR rule.
    starts_with_star: bool,
    terms: Vec<Term>,
}

impl Field {
    fn contains(&self, v: u8) -> bool {
        self.bits & (1u64 << v) != 0
    }

    /// The allowed values in ascending order.
    pub(crate) fn values(&self) -> Vec<u8> {
        (0..64u8).filter(|v| self.contains(*v)).collect()
    }

    /// Whether the field allows every value of its range.
    pub(crate) fn is_full(&self) -> bool {
        let (lo, hi) = self.kind.bounds();
        let hi = if self.kind == FieldKind::DayOfWeek {
            6
        } else {
            hi
        };
        (lo..=hi).all(|v| self.contains(v))
    }
}

/// A valid cron expression. Build it with [`CronExpr::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpr {
    source: String,
    minute: Field,
    hour: Field,
    dom: Field,
    month: Field,
    dow: Field,
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn cron_error(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidCron, message)
}

fn field_error(kind: FieldKind, message: impl fmt::Display) -> Error {
    cron_error(format!("{}: {message}", kind.name()))
}

impl CronExpr {
    /// Parses a five-field expression or a macro. Errors name the field and its allowed range.
    pub fn parse(text: &str) -> Result<CronExpr> {
        let source = text.trim();
        if source.is_empty() {
            return Err(cron_error("the cron expression is empty").with_hint(
                "five fields: minute hour day-of-month month day-of-week, e.g. `0 2 * * *`",
            ));
        }
        let expanded = if let Some(name) = source.strip_prefix('@') {
            match name.to_ascii_lowercase().as_str() {
                "yearly" | "annually" => "0 0 1 1 *",
                "monthly" => "0 0 1 * *",
                "weekly" => "0 0 * * 0",
                "daily" | "midnight" => "0 0 * * *",
                "hourly" => "0 * * * *",
                "reboot" => {
                    return Err(cron_error("@reboot is not a schedule: a backup needs a time")
                        .with_hint("use @daily or a five-field expression"))
                }
                _ => {
                    return Err(cron_error(format!("unknown macro `{source}`")).with_hint(
                        "the macros are @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly",
                    ))
                }
            }
        } else {
            source
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        if parts.len() != 5 {
            let mut err = cron_error(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                parts.len()
            ));
            if parts.len() == 6 || parts.len() == 7 {
                err = err.with_hint("a seconds or year field (Quartz style) is not supported");
            }
            return Err(err);
        }
        let mut fields = FieldKind::ALL
            .iter()
            .zip(&parts)
            .map(|(kind, text)| parse_field(*kind, text));
        let mut next = || fields.next().expect("five fields");
        let expr = CronExpr {
            source: source.to_owned(),
            minute: next()?,
            hour: next()?,
            dom: next()?,
            month: next()?,
            dow: next()?,
        };
        expr.check_can_fire()?;
        Ok(expr)
    }

    /// The expression as the user wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Both day fields must match (Debian: either field starts with `*`), rather than either.
    fn days_and(&self) -> bool {
        self.dom.starts_with_star || self.dow.starts_with_star
    }

    /// Wall-clock job (minute and hour both fixed) versus an elapsed-time job; see the module docs.
    fn is_wall_clock(&self) -> bool {
        !self.minute.starts_with_star && !self.hour.starts_with_star
    }

    /// Rejects `0 0 31 2 *` and the like, which Debian accepts but never runs.
    fn check_can_fire(&self) -> Result<()> {
        if !self.days_and() {
            return Ok(()); // The day-of-week side alone matches every week.
        }
        const MAX_DAYS: [u8; 13] = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let possible = self.month.values().iter().any(|m| {
            self.dom
                .values()
                .iter()
                .any(|d| *d <= MAX_DAYS[*m as usize])
        });
        if possible {
            Ok(())
        } else {
            Err(field_error(
                FieldKind::DayOfMonth,
                "no chosen month has that day, so this schedule would never run",
            ))
        }
    }

    fn day_matches(&self, date: Date) -> bool {
        if !self.month.contains(date.month() as u8) {
            return false;
        }
        let dom = self.dom.contains(date.day() as u8);
        let dow = self
            .dow
            .contains(date.weekday().to_sunday_zero_offset() as u8);
        if self.days_and() {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The next time the expression fires strictly after `after`, in zone `tz`.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        self.iter_after(after, tz).next()
    }

    /// Every firing time strictly after `after`, in order. Ends only when nothing fires within
    /// [`SEARCH_YEARS`] years of the previous one (a rare weekday-and-date combination, or a
    /// job whose times all fall in DST gaps).
    pub fn iter_after<'a>(&'a self, after: Timestamp, tz: &'a TimeZone) -> Upcoming<'a> {
        // Start a day early: a fall-back across midnight can put a later instant on an earlier
        // local date.
        let start = tz
            .to_datetime(after)
            .date()
            .yesterday()
            .unwrap_or(Date::MIN);
        Upcoming {
            expr: self,
            tz,
            after,
            next_date: Some(start),
            last_year: start.year() + SEARCH_YEARS,
            pending: VecDeque::new(),
            last: None,
        }
    }

    /// The firing instants of one local day, ascending (duplicates included; the caller drops
    /// them).
    fn instants_on(&self, date: Date, tz: &TimeZone) -> Vec<Timestamp> {
        let wall_clock = self.is_wall_clock();
        let mut out = Vec::new();
        for hour in self.hour.values() {
            for minute in self.minute.values() {
                let dt = date.at(hour as i8, minute as i8, 0, 0);
                match tz.to_ambiguous_timestamp(dt).offset() {
                    AmbiguousOffset::Unambiguous { offset } => {
                        out.extend(offset.to_timestamp(dt).ok())
                    }
                    AmbiguousOffset::Fold { before, after } => {
                        out.extend(before.to_timestamp(dt).ok());
                        if !wall_clock {
                            out.extend(after.to_timestamp(dt).ok());
                        }
                    }
                    AmbiguousOffset::Gap { .. } => {
                        if wall_clock {
                            out.extend(first_after_gap(dt, tz));
                        }
                    }
                }
            }
        }
        out.sort();
        out
    }
}

/// How far past the previous firing [`CronExpr::iter_after`] looks before it gives up (as
/// cronsim does).
pub const SEARCH_YEARS: i16 = 50;

/// The first whole minute at or after `dt` that exists in `tz`: where a wall-clock job that falls
/// in a spring-forward gap runs (02:30 in New York on 2026-03-08 runs at 03:00).
fn first_after_gap(mut dt: DateTime, tz: &TimeZone) -> Option<Timestamp> {
    // The longest gap on record is a whole day (Samoa, 2011).
    for _ in 0..(48 * 60) {
        dt = dt.checked_add(jiff::Span::new().minutes(1)).ok()?;
        match tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset }
            | AmbiguousOffset::Fold { before: offset, .. } => return offset.to_timestamp(dt).ok(),
            AmbiguousOffset::Gap { .. } => {}
        }
    }
    None
}

/// The iterator behind [`CronExpr::iter_after`]: walks local days, one day's instants at a time.
#[derive(Debug)]
pub struct Upcoming<'a> {
    expr: &'a CronExpr,
    tz: &'a TimeZone,
    after: Timestamp,
    next_date: Option<Date>,
    last_year: i16,
    pending: VecDeque<Timestamp>,
    last: Option<Timestamp>,
}

impl Iterator for Upcoming<'_> {
    type Item = Timestamp;

    fn next(&mut self) -> Option<Timestamp> {
        loop {
            while let Some(ts) = self.pending.pop_front() {
                let floor = self.last.unwrap_or(self.after).max(self.after);
                if ts > floor {
                    self.last = Some(ts);
                    self.last_year = self.tz.to_datetime(ts).year().saturating_add(SEARCH_YEARS);
                    return Some(ts);
                }
            }
            let date = self.next_date?;
            if date.year() > self.last_year {
                self.next_date = None;
                return None;
            }
            if !self.expr.month.contains(date.month() as u8) {
                // Skip the rest of a month that cannot match.
                self.next_date = date.last_of_month().tomorrow().ok();
                continue;
            }
            self.next_date = date.tomorrow().ok();
            if self.expr.day_matches(date) {
                self.pending.extend(self.expr.instants_on(date, self.tz));
            }
        }
    }
}

fn parse_field(kind: FieldKind, text: &str) -> Result<Field> {
    let upper = text.to_ascii_uppercase();
    for (ch, what) in [
        ('?', "`?`"),
        ('L', "`L` (last)"),
        ('W', "`W` (weekday)"),
        ('#', "`#` (nth weekday)"),
    ] {
        // Month and weekday names contain L and W; only a bare Quartz marker is refused here.
        if upper.contains(ch) && (ch == '?' || ch == '#' || !looks_like_names(kind, &upper)) {
            return Err(field_error(
                kind,
                format!("{what} is a Quartz extension that cron does not support"),
            ));
        }
    }
    let mut bits = 0u64;
    let mut terms = Vec::new();
    for item in upper.split(',') {
        let term = parse_term(kind, item)?;
        let (lo, hi) = kind.bounds();
        let (from, to, step) = match term {
            Term::Every { step } => (lo, hi, step),
            Term::Single(v) => (v, v, 1),
            Term::Range { lo, hi, step } => (lo, hi, step),
        };
        // `*/n` over day-of-week steps over 0-7 as Debian does, then 7 folds onto Sunday.
        for v in (from..=to).step_by(step as usize) {
            let v = if kind == FieldKind::DayOfWeek && v == 7 {
                0
            } else {
                v
            };
            bits |= 1u64 << v;
        }
        terms.push(term);
    }
    Ok(Field {
        kind,
        bits,
        starts_with_star: upper.starts_with('*'),
        terms,
    })
}

/// Whether every alphabetic run in the field is a month or weekday name of this field.
fn looks_like_names(kind: FieldKind, upper: &str) -> bool {
    upper
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .all(|w| kind.names().contains(&w))
}

fn parse_term(kind: FieldKind, item: &str) -> Result<Term> {
    if item.is_empty() {
        return Err(field_error(
            kind,
            "an empty list item (check for a doubled or trailing comma)",
        ));
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step_text)) => {
            let step = parse_number(kind, step_text, "step")?;
            if step == 0 {
                return Err(field_error(
                    kind,
                    "a step must be at least 1 (`*/0` never advances)",
                ));
            }
            (base, Some(step))
        }
        None => (item, None),
    };
    if base == "*" {
        return Ok(Term::Every {
            step: step.unwrap_or(1),
        });
    }
    if let Some((lo_text, hi_text)) = base.split_once('-') {
        let lo = parse_value(kind, lo_text)?;
        let hi = parse_value(kind, hi_text)?;
        if lo > hi {
            return Err(field_error(
                kind,
                format!(
                    "the range {lo_text}-{hi_text} runs backwards; write the smaller value first"
                ),
            )
            .with_hint("to wrap around, use a list such as `22-23,0-2`"));
        }
        return Ok(Term::Range {
            lo,
            hi,
            step: step.unwrap_or(1),
        });
    }
    let value = parse_value(kind, base)?;
    if step.is_some() {
        let (_, hi) = kind.bounds();
        return Err(field_error(
            kind,
            format!("`{item}` is not valid cron: a step needs `*` or a range before it"),
        )
        .with_hint(format!("write `{value}-{hi}/{}`", step.unwrap_or(1))));
    }
    Ok(Term::Single(value))
}

fn parse_value(kind: FieldKind, text: &str) -> Result<u8> {
    if let Some(pos) = kind.names().iter().position(|n| *n == text) {
        return Ok(pos as u8 + if kind == FieldKind::Month { 1 } else { 0 });
    }
    parse_number(kind, text, "value")
}

fn parse_number(kind: FieldKind, text: &str, what: &str) -> Result<u8> {
    if text.is_empty() {
        return Err(field_error(kind, format!("a {what} is missing"))
            .with_hint(format!("allowed: {}", kind.allowed())));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        let hint = format!("allowed: {}", kind.allowed());
        return Err(field_error(kind, format!("`{text}` is not a number")).with_hint(hint));
    }
    let (lo, hi) = kind.bounds();
    let value: u32 = text.parse().unwrap_or(u32::MAX);
    if what == "step" {
        // A step larger than the range is legal and simply picks the first value.
        return u8::try_from(value)
            .map_err(|_| field_error(kind, format!("the step {text} is too large")));
    }
    if value < lo as u32 || value > hi as u32 {
        return Err(field_error(
            kind,
            format!("{text} is out of range {}", kind.allowed()),
        ));
    }
    Ok(value as u8)
}

#[cfg(test)]
mod tests;
