//! The history's filters and export through the API, on a store with many entries: date range
//! (in the computer's zone), a search in file names taken literally, paging that neither
//! repeats nor skips, and CSV that a spreadsheet cannot run as formulas.

use std::sync::Arc;

use billora_engine::api::{Api, HistoryQuery};
use billora_engine::secrets::MemorySecrets;
use billora_engine::ErrorCode;

/// Records a successful run made at `at` (UTC) with this file name and schedule name.
async fn entry(api: &Api, at: &str, filename: &str, schedule: &str) {
    sqlx::query(
        "INSERT INTO runs (schedule_id, schedule_name, backup_type, trigger, status, filename, file_size, \
         created_at, finished_at, error_code, error_message) VALUES (NULL, ?, 'full', 'manual', 'success', ?, 10, ?, ?, 'Io', ?)",
    )
    .bind(schedule)
    .bind(filename)
    .bind(at)
    .bind(at)
    .bind("a, \"quoted\"\nmessage")
    .execute(api.store().pool())
    .await
    .expect("an entry");
}

#[tokio::test]
async fn history_filters_paging_and_a_csv_that_runs_no_formula() {
    // Dates are the computer's days: every entry is at noon UTC, the same day in any zone
    // from UTC-11 to UTC+11.
    let dir = tempfile::tempdir().expect("a data folder");
    let api = Api::open(Some(dir.path()), Arc::new(MemorySecrets::default()))
        .await
        .expect("api");
    for day in 1..=9 {
        entry(
            &api,
            &format!("2026-03-0{day}T12:00:00Z"),
            &format!("backup_full_2026-03-0{day}.sql.zst"),
            "Nightly",
        )
        .await;
    }
    entry(
        &api,
        "2026-03-05T12:30:00Z",
        "odd_100%_name.sql.zst",
        "=HYPERLINK(\"http://x\")",
    )
    .await;
    let query = |q: HistoryQuery| {
        let api = &api;
        async move { api.list_history(q).await }
    };
    let files = |runs: &[billora_engine::api::Run]| -> Vec<String> {
        runs.iter().filter_map(|r| r.filename.clone()).collect()
    };

    let range = query(HistoryQuery {
        from: Some("2026-03-04".into()),
        to: Some("2026-03-05".into()),
        ..Default::default()
    })
    .await
    .expect("a date range");
    assert_eq!(
        files(&range),
        [
            "odd_100%_name.sql.zst",
            "backup_full_2026-03-05.sql.zst",
            "backup_full_2026-03-04.sql.zst"
        ],
        "both days whole, the end day included, newest first"
    );
    let literal = query(HistoryQuery {
        search: Some("100%".into()),
        ..Default::default()
    })
    .await
    .expect("a search");
    assert_eq!(
        files(&literal),
        ["odd_100%_name.sql.zst"],
        "% is not a wildcard"
    );
    let any_case = query(HistoryQuery {
        search: Some("FULL_2026-03-07".into()),
        ..Default::default()
    })
    .await
    .expect("a search");
    assert_eq!(files(&any_case).len(), 1, "any case");

    // Pages of 3 cover every entry once.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = query(HistoryQuery {
            limit: Some(3),
            before_id: before,
            ..Default::default()
        })
        .await
        .expect("a page");
        if page.is_empty() {
            break;
        }
        before = page.last().map(|r| r.id);
        seen.extend(page.iter().map(|r| r.id));
    }
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        (seen.len(), unique.len()),
        (10, 10),
        "every entry once: {seen:?}"
    );

    for (q, field) in [
        (
            HistoryQuery {
                from: Some("5 March".into()),
                ..Default::default()
            },
            "from",
        ),
        (
            HistoryQuery {
                from: Some("2026-03-05".into()),
                to: Some("2026-03-01".into()),
                ..Default::default()
            },
            "to",
        ),
        (
            HistoryQuery {
                search: Some("x".repeat(201)),
                ..Default::default()
            },
            "search",
        ),
    ] {
        let err = query(q).await.expect_err("refused");
        assert_eq!(
            (err.code, err.field.as_deref()),
            (ErrorCode::InvalidInput, Some(field)),
            "named: {err}"
        );
    }

    let csv = api.history_csv(HistoryQuery::default()).await.expect("csv");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(
        lines[0].starts_with("id,schedule_id,schedule_name,created_at,status"),
        "a header: {}",
        lines[0]
    );
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "a formula-looking name is defused and quoted: {csv}"
    );
    assert!(
        csv.contains("\"a, \"\"quoted\"\"\nmessage\""),
        "commas, quotes and line breaks stay inside one quoted cell: {csv}"
    );
}
