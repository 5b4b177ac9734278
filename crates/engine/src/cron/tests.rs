use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn next_n(expr: &str, tz: &str, after: &str, n: usize) -> Vec<String> {
    let tz = TimeZone::get(tz).expect("zone");
    let expr = CronExpr::parse(expr).expect("valid expression");
    expr.iter_after(ts(after), &tz)
        .take(n)
        .map(|t| t.to_zoned_datetime(tz.clone()).to_string())
        .collect()
}

fn err(expr: &str) -> String {
    CronExpr::parse(expr)
        .expect_err("expression must be rejected")
        .message
}

#[test]
fn daily_at_two() {
    assert_eq!(
        next_n("0 2 * * *", "Asia/Bangkok", "2026-02-03T02:00:00+07:00", 2),
        [
            "2026-02-04T02:00:00+07:00[Asia/Bangkok]",
            "2026-02-05T02:00:00+07:00[Asia/Bangkok]"
        ],
        "the next run is strictly after the given instant"
    );
}

#[test]
fn sunday_is_zero_and_seven() {
    let zero = next_n("0 0 * * 0", "UTC", "2026-11-26T00:00:00Z", 3);
    let seven = next_n("0 0 * * 7", "UTC", "2026-11-26T00:00:00Z", 3);
    let name = next_n("0 0 * * sun", "UTC", "2026-11-26T00:00:00Z", 3);
    assert_eq!(zero, seven, "0 and 7 both mean Sunday");
    assert_eq!(zero, name, "SUN means Sunday, case-insensitive");
    assert_eq!(
        zero[0], "2026-11-29T00:00:00+00:00[UTC]",
        "2026-11-29 is a Sunday"
    );
}

#[test]
fn day_or_rule_follows_debian_star_prefix() {
    // 2026-06-01 is a Monday. `*/2` starts with a star, so it is an AND with Monday.
    let and = next_n("0 0 */2 * 1", "UTC", "2026-06-01T00:00:00Z", 3);
    assert_eq!(
        and,
        [
            "2026-06-15T00:00:00+00:00[UTC]",
            "2026-06-29T00:00:00+00:00[UTC]",
            "2026-07-13T00:00:00+00:00[UTC]"
        ],
        "`*/2` with a weekday fires only on odd days that are Mondays"
    );
    let or = next_n("0 0 1-31/2 * 1", "UTC", "2026-06-01T00:00:00Z", 3);
    assert_eq!(
        or,
        [
            "2026-06-03T00:00:00+00:00[UTC]",
            "2026-06-05T00:00:00+00:00[UTC]",
            "2026-06-07T00:00:00+00:00[UTC]"
        ],
        "`1-31/2` with a weekday fires on odd days or Mondays"
    );
    let or_monday = next_n("0 0 1-31/2 * 1", "UTC", "2026-06-07T00:00:00Z", 2);
    assert_eq!(
        or_monday[0], "2026-06-08T00:00:00+00:00[UTC]",
        "an even Monday fires under the OR rule"
    );
}

#[test]
fn spring_forward_gap_runs_right_after_the_gap() {
    assert_eq!(
        next_n(
            "30 2 * * *",
            "America/New_York",
            "2026-03-07T12:00:00-05:00",
            3
        ),
        [
            "2026-03-08T03:00:00-04:00[America/New_York]",
            "2026-03-09T02:30:00-04:00[America/New_York]",
            "2026-03-10T02:30:00-04:00[America/New_York]",
        ],
        "02:30 does not exist on 2026-03-08 and runs once at 03:00"
    );
}

#[test]
fn fall_back_runs_once_at_first_occurrence() {
    assert_eq!(
        next_n(
            "30 1 * * *",
            "America/New_York",
            "2026-10-31T12:00:00-04:00",
            2
        ),
        [
            "2026-11-01T01:30:00-04:00[America/New_York]",
            "2026-11-02T01:30:00-05:00[America/New_York]"
        ],
        "01:30 happens twice on 2026-11-01; a fixed-time job runs at the first"
    );
    assert_eq!(
        next_n(
            "30 1 * * *",
            "America/New_York",
            "2026-11-01T01:40:00-04:00",
            1
        ),
        ["2026-11-02T01:30:00-05:00[America/New_York]"],
        "after the first 01:30 has run, the repeated 01:30 does not run again"
    );
}

#[test]
fn interval_jobs_follow_real_time_through_fall_back() {
    let runs = next_n(
        "*/30 * * * *",
        "America/New_York",
        "2026-11-01T00:45:00-04:00",
        5,
    );
    assert_eq!(
        runs,
        [
            "2026-11-01T01:00:00-04:00[America/New_York]",
            "2026-11-01T01:30:00-04:00[America/New_York]",
            "2026-11-01T01:00:00-05:00[America/New_York]",
            "2026-11-01T01:30:00-05:00[America/New_York]",
            "2026-11-01T02:00:00-05:00[America/New_York]",
        ],
        "an every-30-minutes job keeps running every 30 real minutes through the repeated hour"
    );
}

#[test]
fn leap_day() {
    assert_eq!(
        next_n("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 2),
        [
            "2028-02-29T00:00:00+00:00[UTC]",
            "2032-02-29T00:00:00+00:00[UTC]"
        ],
        "Feb 29 runs only in leap years"
    );
}

#[test]
fn macros_expand() {
    for (mac, plain) in [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@HOURLY", "0 * * * *"),
    ] {
        assert_eq!(
            next_n(mac, "Europe/London", "2026-03-29T00:30:00Z", 4),
            next_n(plain, "Europe/London", "2026-03-29T00:30:00Z", 4),
            "{mac} fires exactly like {plain}"
        );
    }
}

#[test]
fn invalid_expressions_name_the_field() {
    let cases = [
        ("", "empty"),
        ("0 2 * *", "expected 5 fields"),
        ("0 0 2 * * *", "expected 5 fields"),
        ("60 * * * *", "minute: 60 is out of range 0-59"),
        ("* 24 * * *", "hour: 24 is out of range 0-23"),
        ("* * 0 * *", "day-of-month: 0 is out of range 1-31"),
        ("* * 32 * *", "day-of-month: 32 is out of range 1-31"),
        ("* * * 13 *", "month: 13 is out of range 1-12"),
        ("* * * 0 *", "month: 0 is out of range 1-12"),
        ("* * * * 8", "day-of-week: 8 is out of range 0-7"),
        ("* * * FOO *", "month: `FOO` is not a number"),
        ("* * * * MOO", "day-of-week: `MOO` is not a number"),
        ("* * * * MON#2", "day-of-week: `#` (nth weekday)"),
        ("0 0 L * *", "day-of-month: `L` (last)"),
        ("0 0 15W * *", "day-of-month: `W` (weekday)"),
        ("0 0 ? * 1", "day-of-month: `?`"),
        ("*/0 * * * *", "minute: a step must be at least 1"),
        ("5/10 * * * *", "minute: `5/10` is not valid cron"),
        ("0 17-9 * * *", "hour: the range 17-9 runs backwards"),
        ("1,,2 * * * *", "minute: an empty list item"),
        ("-5 * * * *", "minute: a value is missing"),
        ("0 0 31 2 *", "day-of-month: no chosen month has that day"),
        ("0 0 30 2 *", "day-of-month: no chosen month has that day"),
        ("@reboot", "@reboot is not a schedule"),
        ("@often", "unknown macro"),
        ("1.5 * * * *", "minute: `1.5` is not a number"),
    ];
    for (expr, expected) in cases {
        let message = err(expr);
        assert!(
            message.contains(expected),
            "`{expr}` must be rejected with `{expected}`, got `{message}`"
        );
    }
}

#[test]
fn or_rule_makes_feb_31_possible_with_a_weekday() {
    let runs = next_n("0 0 31 2 1", "UTC", "2026-01-01T00:00:00Z", 1);
    assert_eq!(
        runs,
        ["2026-02-02T00:00:00+00:00[UTC]"],
        "31 OR Monday in February fires on Mondays"
    );
}

#[test]
fn descriptions_of_the_spec_examples() {
    let cases = [
        ("0 2 * * *", "At 02:00 every day", "ทุกวันเวลา 02:00"),
        ("0 */6 * * *", "Every 6 hours", "ทุก 6 ชั่วโมง"),
        ("0 0 * * 0", "At 00:00 on Sunday", "ทุกวันอาทิตย์เวลา 00:00"),
        (
            "0 3 1 * *",
            "At 03:00 on day 1 of every month",
            "วันที่ 1 ของทุกเดือนเวลา 03:00",
        ),
        ("*/30 * * * *", "Every 30 minutes", "ทุก 30 นาที"),
        (
            "0 0,12 * * *",
            "At 00:00 and 12:00 every day",
            "เวลา 00:00 และ 12:00 ทุกวัน",
        ),
        (
            "0 9-17 * * 1-5",
            "Every hour from 09:00 through 17:00, Monday through Friday",
            "ทุกชั่วโมง เวลา 09:00-17:00 วันจันทร์-ศุกร์",
        ),
        ("* * * * *", "Every minute", "ทุกนาที"),
        ("@hourly", "Every hour", "ทุกชั่วโมง"),
        (
            "0 0 1 1 *",
            "At 00:00 on day 1 of January",
            "วันที่ 1 ของเดือนมกราคมเวลา 00:00",
        ),
        (
            "15 4 * * 1,3,5",
            "At 04:15 on Monday, Wednesday and Friday",
            "ทุกวันจันทร์ พุธ และศุกร์เวลา 04:15",
        ),
        (
            "0 0 1 * 1",
            "At 00:00 on day 1 of every month or on Monday",
            "วันที่ 1 ของทุกเดือน หรือทุกวันจันทร์เวลา 00:00",
        ),
        (
            "*/15 9-17 * * *",
            "Every 15 minutes from 09:00 through 17:45",
            "ทุก 15 นาที ระหว่าง 09:00-17:45",
        ),
    ];
    for (expr, en, th) in cases {
        let parsed = CronExpr::parse(expr).expect("valid");
        assert_eq!(
            parsed.describe(Lang::En),
            en,
            "English description of `{expr}`"
        );
        assert_eq!(
            parsed.describe(Lang::Th),
            th,
            "Thai description of `{expr}`"
        );
    }
}
