//! Cron errors in Thai, for the editor of an app set to Thai. The parser's messages are built
//! from a fixed set of sentences (see `mod.rs`); each is matched here and said again in Thai,
//! with the values it carries. An unknown message stays as it is.

use crate::error::Error;

const FIELDS: [(&str, &str); 5] = [
    ("day-of-month: ", "วันที่ของเดือน: "),
    ("day-of-week: ", "วันในสัปดาห์: "),
    ("minute: ", "นาที: "),
    ("hour: ", "ชั่วโมง: "),
    ("month: ", "เดือน: "),
];

/// The text between `start` and `end` in `text`, if `text` is `start … end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    text.strip_prefix(start)?.strip_suffix(end)
}

/// A field's range as the parser words it (`0-7 or SUN-SAT, where 0 and 7 are Sunday`).
fn ranges(text: &str) -> String {
    text.replace(", where 0 and 7 are Sunday", " (0 และ 7 คือวันอาทิตย์)")
        .replace(" or ", " หรือ ")
}

fn sentence(text: &str) -> String {
    if let Some(rest) =
        text.strip_prefix("expected 5 fields (minute hour day-of-month month day-of-week), found ")
    {
        return format!("ต้องมี 5 ช่อง (นาที ชั่วโมง วันที่ เดือน วันในสัปดาห์) แต่พบ {rest} ช่อง");
    }
    if let Some((value, range)) = text.split_once(" is out of range ") {
        return format!("{value} อยู่นอกช่วง {}", ranges(range));
    }
    if let Some(value) = between(text, "`", "` is not a number") {
        return format!("`{value}` ไม่ใช่ตัวเลข");
    }
    if let Some(value) = between(text, "the step ", " is too large") {
        return format!("ขั้น {value} ใหญ่เกินไป");
    }
    if let Some(range) = between(
        text,
        "the range ",
        " runs backwards; write the smaller value first",
    ) {
        return format!("ช่วง {range} กลับด้าน ให้เขียนค่าที่น้อยกว่าก่อน");
    }
    if let Some(item) = between(
        text,
        "`",
        "` is not valid cron: a step needs `*` or a range before it",
    ) {
        return format!("`{item}` ไม่ถูกต้อง: ขั้น (/) ต้องตามหลัง `*` หรือช่วง");
    }
    if let Some(what) = text.strip_suffix(" is a Quartz extension that cron does not support") {
        let what = what
            .replace("(nth weekday)", "(วันในสัปดาห์ลำดับที่ n)")
            .replace("(weekday)", "(วันทำงาน)")
            .replace("(last)", "(สุดท้าย)");
        return format!("{what} เป็นส่วนขยายของ Quartz ที่ cron ไม่รองรับ");
    }
    if let Some(name) = between(text, "unknown macro `", "`") {
        return format!("ไม่รู้จัก `{name}`");
    }
    if let Some(what) = between(text, "a ", " is missing") {
        return format!(
            "ขาด{}",
            match what {
                "value" => "ค่า".to_owned(),
                other => format!(" {other}"),
            }
        );
    }
    if let Some(list) = text.strip_prefix("allowed: ") {
        return format!("ใช้ได้: {}", ranges(list));
    }
    match text {
        "the cron expression is empty" => "ยังไม่ได้ใส่ cron expression".into(),
        "five fields: minute hour day-of-month month day-of-week, e.g. `0 2 * * *`" => {
            "5 ช่อง: นาที ชั่วโมง วันที่ เดือน วันในสัปดาห์ เช่น `0 2 * * *` (ทุกวันเวลา 02:00)".into()
        }
        "@reboot is not a schedule: a backup needs a time" => {
            "@reboot ไม่ใช่ตารางเวลา: การสำรองข้อมูลต้องมีเวลา".into()
        }
        "use @daily or a five-field expression" => "ใช้ @daily หรือแบบ 5 ช่อง".into(),
        "no chosen month has that day, so this schedule would never run" => {
            "ไม่มีเดือนที่เลือกที่มีวันที่นี้ ตารางเวลานี้จะไม่ทำงานเลย".into()
        }
        "an empty list item (check for a doubled or trailing comma)" => {
            "มีรายการว่าง (ตรวจดูเครื่องหมายจุลภาคซ้ำหรือเกินที่ท้าย)".into()
        }
        "a step must be at least 1 (`*/0` never advances)" => {
            "ขั้นต้องเป็นอย่างน้อย 1 (`*/0` ไม่เดินหน้า)".into()
        }
        "a seconds or year field (Quartz style) is not supported" => {
            "ไม่รองรับช่องวินาทีหรือปี (แบบ Quartz)".into()
        }
        other => other.to_owned(),
    }
}

/// A cron error (message and hint) in Thai.
pub fn in_thai(err: Error) -> Error {
    let (field, rest) = FIELDS
        .iter()
        .find_map(|(en, th)| err.message.strip_prefix(en).map(|rest| (*th, rest)))
        .unwrap_or(("", err.message.as_str()));
    let message = format!("{field}{}", sentence(rest));
    let hint = err.hint.as_deref().map(sentence);
    Error {
        message,
        hint,
        ..err
    }
}

#[cfg(test)]
mod tests {
    use super::in_thai;
    use crate::cron::CronExpr;

    #[test]
    fn each_cron_error_reads_in_thai_with_its_values() {
        for (expr, thai) in [
            ("61 2 * * *", "นาที: 61 อยู่นอกช่วง 0-59"),
            (
                "0 2 * *",
                "ต้องมี 5 ช่อง (นาที ชั่วโมง วันที่ เดือน วันในสัปดาห์) แต่พบ 4 ช่อง",
            ),
            ("", "ยังไม่ได้ใส่ cron expression"),
            ("@reboot", "@reboot ไม่ใช่ตารางเวลา: การสำรองข้อมูลต้องมีเวลา"),
            (
                "0 2 30 2 *",
                "วันที่ของเดือน: ไม่มีเดือนที่เลือกที่มีวันที่นี้ ตารางเวลานี้จะไม่ทำงานเลย",
            ),
            ("*/0 * * * *", "นาที: ขั้นต้องเป็นอย่างน้อย 1 (`*/0` ไม่เดินหน้า)"),
            ("0 5-2 * * *", "ชั่วโมง: ช่วง 5-2 กลับด้าน ให้เขียนค่าที่น้อยกว่าก่อน"),
        ] {
            let err = CronExpr::parse(expr).expect_err("invalid");
            let english = err.message.clone();
            let said = in_thai(err);
            assert_eq!(said.message, thai, "`{expr}` ({english})");
        }
    }

    #[test]
    fn every_message_of_the_parser_has_its_thai() {
        // Broken expressions that reach each sentence; none may stay English.
        for expr in [
            "x * * * *",
            "0 99999999999 * * *",
            "1,,2 * * * *",
            "0 2 * * MON#2",
            "0 2 L * *",
            "/5 * * * *",
            "0 2 * * 8",
            "@sometimes",
            "0 2 * * * 2026",
            "0 2 * JAN-FOO *",
        ] {
            let Err(err) = CronExpr::parse(expr) else {
                continue;
            };
            let said = in_thai(err.clone());
            // What the admin typed (between backquotes) and the names cron and Quartz stay.
            let unquoted: String = said
                .message
                .split('`')
                .step_by(2)
                .collect::<Vec<_>>()
                .join(" ")
                .replace("cron", "")
                .replace("Quartz", "");
            let english = unquoted
                .split(|c: char| !c.is_ascii_alphabetic())
                // Cron's own names (JAN, SUN) are what the admin types: they stay.
                .any(|w| w.len() >= 3 && w.chars().any(|c| c.is_ascii_lowercase()));
            assert!(!english, "`{expr}`: {} -> {}", err.message, said.message);
        }
    }
}
