//! Our cron engine against an independent implementation (Python's cronsim).
//!
//! `tests/oracle/cron_oracle.py` writes the cases; the committed fixture is replayed on every
//! `cargo test`, and the test script adds a fresh random set through `BILLORA_CRON_ORACLE`.

use std::path::{Path, PathBuf};

use billora_engine::cron::CronExpr;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    expr: String,
    tz: String,
    after: String,
    next: Vec<String>,
}

fn replay(path: &Path) -> usize {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).expect("each oracle line is a JSON case");
        count += 1;
        let expr = match CronExpr::parse(&case.expr) {
            Ok(expr) => expr,
            Err(err) => {
                failures.push(format!("{} rejected: {err}", case.expr));
                continue;
            }
        };
        let tz = TimeZone::get(&case.tz).expect("oracle zones exist");
        let after: Timestamp = case.after.parse().expect("oracle start is RFC 3339");
        let ours: Vec<String> = expr
            .iter_after(after, &tz)
            .take(case.next.len())
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect();
        if ours != case.next {
            failures.push(format!(
                "`{}` in {} after {}:\n  cronsim: {:?}\n  ours:    {:?}",
                case.expr, case.tz, case.after, case.next, ours
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "our cron engine must agree with cronsim on every case; {} of {count} differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    count
}

#[test]
fn agrees_with_cronsim_on_the_committed_cases() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cron_oracle.jsonl");
    let count = replay(&path);
    assert!(
        count >= 2500,
        "the fixture must hold thousands of cases, found {count}"
    );
}

#[test]
fn agrees_with_cronsim_on_fresh_cases_when_given() {
    // The test script generates a new random set on every run and points here.
    if let Some(path) = std::env::var_os("BILLORA_CRON_ORACLE") {
        let count = replay(Path::new(&path));
        assert!(count > 0, "the fresh oracle file must not be empty");
    }
}
