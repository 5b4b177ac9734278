//! Human-readable descriptions of cron expressions in English and Thai ("At 02:00 every day" /
//! "ทุกวันเวลา 02:00"), so an office admin can check a schedule without reading cron.
//!
//! The common shapes (a fixed time, every N minutes or hours, office hours on weekdays) get a
//! natural sentence; anything else falls back to listing the values of each field, which is
//! always correct if less elegant.

use serde::{Deserialize, Serialize};

use super::{CronExpr, Field, Term};

/// The languages the app speaks.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Th,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "th" => Ok(Lang::Th),
            _ => Err(format!("unknown language `{s}` (use en or th)")),
        }
    }
}

const DAYS_EN: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const DAYS_TH: [&str; 7] = ["อาทิตย์", "จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์"];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_TH: [&str; 12] = [
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
];

/// "a", "a and b", "a, b and c"; Thai lists use spaces, not commas: "จันทร์ พุธ และศุกร์".
fn join(items: &[String], lang: Lang) -> String {
    match (items, lang) {
        ([], _) => String::new(),
        ([one], _) => one.clone(),
        ([rest @ .., last], Lang::En) => format!("{} and {last}", rest.join(", ")),
        ([rest @ .., last], Lang::Th) => {
            // Thai writes และ against a word but apart from a number.
            let gap = if last.starts_with(|c: char| c.is_ascii_digit()) {
                " "
            } else {
                ""
            };
            format!("{} และ{gap}{last}", rest.join(" "))
        }
    }
}

fn hhmm(h: u8, m: u8) -> String {
    format!("{h:02}:{m:02}")
}

impl Field {
    /// The field as a single `*/n` (or `*`) term.
    fn every_step(&self) -> Option<u8> {
        match self.terms.as_slice() {
            [Term::Every { step }] => Some(*step),
            _ => None,
        }
    }

    fn single(&self) -> Option<u8> {
        match self.values().as_slice() {
            [v] => Some(*v),
            _ => None,
        }
    }

    /// The field's values, compressed into runs where three or more are consecutive.
    fn runs(&self) -> Vec<(u8, u8)> {
        let mut runs: Vec<(u8, u8)> = Vec::new();
        for v in self.values() {
            match runs.last_mut() {
                Some((_, hi)) if *hi + 1 == v => *hi = v,
                _ => runs.push((v, v)),
            }
        }
        // A run of two reads better as two values.
        runs.into_iter()
            .flat_map(|(lo, hi)| {
                if hi == lo + 1 {
                    vec![(lo, lo), (hi, hi)]
                } else {
                    vec![(lo, hi)]
                }
            })
            .collect()
    }

    /// Values rendered through `name`, runs written `a-b` (English "a through b" for names).
    fn list(&self, lang: Lang, name: impl Fn(u8) -> String) -> String {
        let through = match lang {
            Lang::En => " through ",
            Lang::Th => "-",
        };
        let items: Vec<String> = self
            .runs()
            .into_iter()
            .map(|(lo, hi)| {
                if lo == hi {
                    name(lo)
                } else {
                    format!("{}{through}{}", name(lo), name(hi))
                }
            })
            .collect();
        join(&items, lang)
    }
}

impl CronExpr {
    /// A sentence describing when the expression fires, in `lang`.
    pub fn describe(&self, lang: Lang) -> String {
        let time = self.describe_time(lang);
        let day = self.describe_days(lang);
        match (lang, time) {
            (Lang::En, TimePhrase::At(t)) => match day {
                Some(d) => format!("At {t} {d}"),
                None => format!("At {t} every day"),
            },
            (Lang::En, TimePhrase::Repeating(t)) => match day {
                Some(d) => format!("{t}, {d}"),
                None => t,
            },
            (Lang::Th, TimePhrase::At(t)) => match day {
                Some(d) if self.single_time() => format!("{d}เวลา {t}"),
                Some(d) => format!("เวลา {t} {d}"),
                None if self.single_time() => format!("ทุกวันเวลา {t}"),
                None => format!("เวลา {t} ทุกวัน"),
            },
            (Lang::Th, TimePhrase::Repeating(t)) => match day {
                Some(d) => format!("{t} {d}"),
                None => t,
            },
        }
    }

    fn single_time(&self) -> bool {
        self.minute.single().is_some() && self.hour.single().is_some()
    }

    fn describe_time(&self, lang: Lang) -> TimePhrase {
        let (m, h) = (&self.minute, &self.hour);
        let th = lang == Lang::Th;
        let (minutes, hours) = (m.values(), h.values());
        // A handful of fixed times: list them.
        if !m.starts_with_star && !h.starts_with_star && minutes.len() * hours.len() <= 6 {
            let times: Vec<String> = hours
                .iter()
                .flat_map(|h| minutes.iter().map(move |m| hhmm(*h, *m)))
                .collect();
            return TimePhrase::At(join(&times, lang));
        }
        let every_minutes = |n: u8| match (n, th) {
            (1, false) => "Every minute".to_owned(),
            (1, true) => "ทุกนาที".to_owned(),
            (n, false) => format!("Every {n} minutes"),
            (n, true) => format!("ทุก {n} นาที"),
        };
        if h.is_full() {
            if let Some(step) = m.every_step() {
                return TimePhrase::Repeating(every_minutes(step));
            }
            if let Some(v) = m.single() {
                return TimePhrase::Repeating(match (v, th) {
                    (0, false) => "Every hour".to_owned(),
                    (0, true) => "ทุกชั่วโมง".to_owned(),
                    (v, false) => format!("At minute {v} past every hour"),
                    (v, true) => format!("ทุกชั่วโมง นาทีที่ {v}"),
                });
            }
        }
        if let (Some(v), Some(step)) = (m.single(), h.every_step()) {
            if step > 1 {
                return TimePhrase::Repeating(match (v, th) {
                    (0, false) => format!("Every {step} hours"),
                    (0, true) => format!("ทุก {step} ชั่วโมง"),
                    (v, false) => format!("Every {step} hours at minute {v}"),
                    (v, true) => format!("ทุก {step} ชั่วโมง นาทีที่ {v}"),
                });
            }
        }
        if let (Some(v), [Term::Range { lo, hi, step: 1 }]) = (m.single(), h.terms.as_slice()) {
            let (from, to) = (hhmm(*lo, v), hhmm(*hi, v));
            return TimePhrase::Repeating(if th {
                format!("ทุกชั่วโมง เวลา {from}-{to}")
            } else {
                format!("Every hour from {from} through {to}")
            });
        }
        if let (Some(step), [Term::Range { lo, hi, step: 1 }]) =
            (m.every_step(), h.terms.as_slice())
        {
            let last = m.values().last().copied().unwrap_or(0);
            let (from, to) = (hhmm(*lo, 0), hhmm(*hi, last));
            return TimePhrase::Repeating(if th {
                format!("{} ระหว่าง {from}-{to}", every_minutes(step))
            } else {
                format!("{} from {from} through {to}", every_minutes(step))
            });
        }
        if let (Some(step), Some(hour)) = (m.every_step(), h.single()) {
            let last = m.values().last().copied().unwrap_or(0);
            let (from, to) = (hhmm(hour, 0), hhmm(hour, last));
            return TimePhrase::Repeating(if th {
                format!("{} ระหว่าง {from}-{to}", every_minutes(step))
            } else {
                format!("{} from {from} through {to}", every_minutes(step))
            });
        }
        // The general case: list both fields.
        let num = |v: u8| v.to_string();
        let hour = |v: u8| format!("{v:02}");
        let minutes = if m.is_full() {
            None
        } else {
            Some(m.list(lang, num))
        };
        let hours = if h.is_full() {
            None
        } else {
            Some(h.list(lang, hour))
        };
        TimePhrase::Repeating(match (th, minutes, hours) {
            (false, None, None) => "Every minute".to_owned(),
            (false, Some(ms), None) => format!("At minute {ms} past every hour"),
            (false, None, Some(hs)) => format!("Every minute of hour {hs}"),
            (false, Some(ms), Some(hs)) => format!("At minute {ms} past hour {hs}"),
            (true, None, None) => "ทุกนาที".to_owned(),
            (true, Some(ms), None) => format!("นาทีที่ {ms} ของทุกชั่วโมง"),
            (true, None, Some(hs)) => format!("ทุกนาทีในชั่วโมงที่ {hs}"),
            (true, Some(ms), Some(hs)) => format!("นาทีที่ {ms} ของชั่วโมงที่ {hs}"),
        })
    }

    /// The day and month part, or `None` for every day of every month.
    fn describe_days(&self, lang: Lang) -> Option<String> {
        let th = lang == Lang::Th;
        let months_full = self.month.is_full();
        let month_names = self.month.list(lang, |v| match lang {
            Lang::En => MONTHS_EN[v as usize - 1].to_owned(),
            Lang::Th => MONTHS_TH[v as usize - 1].to_owned(),
        });
        let dom = (!self.dom.is_full()).then(|| {
            let of = match (th, months_full) {
                (false, true) => "of every month".to_owned(),
                (false, false) => format!("of {month_names}"),
                (true, true) => "ของทุกเดือน".to_owned(),
                (true, false) => format!("ของเดือน{month_names}"),
            };
            match (self.dom.every_step(), th) {
                (Some(step), false) => format!("on every {} day {of}", ordinal(step)),
                (Some(step), true) => format!("ทุก {step} วัน (นับจากวันที่ 1) {of}"),
                (None, false) => {
                    let plural = if self.dom.single().is_some() {
                        "day"
                    } else {
                        "days"
                    };
                    format!(
                        "on {plural} {} {of}",
                        self.dom.list(lang, |v| v.to_string())
                    )
                }
                (None, true) => format!("วันที่ {} {of}", self.dom.list(lang, |v| v.to_string())),
            }
        });
        let dow = (!self.dow.is_full()).then(|| {
            let days = self.dow.list(lang, |v| match lang {
                Lang::En => DAYS_EN[v as usize].to_owned(),
                Lang::Th => DAYS_TH[v as usize].to_owned(),
            });
            let ranged = self.dow.runs().iter().any(|(lo, hi)| lo != hi);
            match (th, ranged) {
                (false, true) => days,
                (false, false) => format!("on {days}"),
                (true, true) => format!("วัน{days}"),
                (true, false) => format!("ทุกวัน{days}"),
            }
        });
        let in_months = match (months_full, dom.is_some(), th) {
            (true, _, _) | (false, true, _) => None,
            (false, false, false) => Some(format!("in {month_names}")),
            (false, false, true) => Some(format!("ในเดือน{month_names}")),
        };
        let days = match (dom, dow) {
            (None, None) => None,
            (Some(d), None) | (None, Some(d)) => Some(d),
            (Some(d), Some(w)) if self.days_and() => Some(match th {
                false => format!("{d}, only if it is {}", w.trim_start_matches("on ")),
                true => format!("{d} เฉพาะที่ตรงกับ{w}"),
            }),
            (Some(d), Some(w)) => Some(match th {
                false => format!("{d} or {w}"),
                true => format!("{d} หรือ{w}"),
            }),
        };
        match (days, in_months) {
            (None, None) => None,
            (Some(d), None) => Some(d),
            (None, Some(m)) => Some(m),
            (Some(d), Some(m)) => Some(format!("{d} {m}")),
        }
    }
}

enum TimePhrase {
    /// Fixed clock times: "02:00", "00:00 and 12:00".
    At(String),
    /// A repeating pattern: "Every 30 minutes".
    Repeating(String),
}

fn ordinal(n: u8) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
