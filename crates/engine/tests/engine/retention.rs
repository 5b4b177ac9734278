//! Retention in the store, on real files: GFS rules saved with a schedule, a pinned backup
//! kept whatever the limits, a backup deleted by hand, and the refusals that change nothing.

use billora_engine::schedule::{parse_request, SchedulePatch};
use billora_engine::store::Store;
use billora_engine::ErrorCode;
use jiff::Timestamp;

use crate::support::temp_store;

/// A successful run of `schedule_id` made at `at`, with a real file in `dir`; its id.
async fn backup(
    store: &Store,
    dir: &std::path::Path,
    schedule_id: i64,
    at: &str,
) -> (i64, std::path::PathBuf) {
    let name = format!("backup_full_{}.sql.zst", at.replace(':', "-"));
    let path = dir.join(&name);
    std::fs::write(&path, b"a backup").expect("the file is written");
    let done = sqlx::query(
        "INSERT INTO runs (schedule_id, schedule_name, backup_type, trigger, status, filename, file_path, \
         file_size, created_at, finished_at) VALUES (?, 'Nightly', 'full', 'scheduled', 'success', ?, ?, 8, ?, ?)",
    )
    .bind(schedule_id)
    .bind(&name)
    .bind(path.display().to_string())
    .bind(at)
    .bind(at)
    .execute(store.pool())
    .await
    .expect("a run is recorded");
    (done.last_insert_rowid(), path)
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("a time")
}

#[tokio::test]
async fn gfs_pins_and_deletion_by_hand_on_real_files() {
    let (dir, store) = temp_store().await;
    let files = dir.path().join("backups");
    std::fs::create_dir_all(&files).expect("a folder");
    let schedule = store
        .create_schedule(
            parse_request(r#"{"name":"Nightly","cron_expression":"0 2 * * *","backup_type":"full","timezone":"UTC","keep_daily":2,"keep_monthly":2}"#)
                .expect("valid"),
            ts("2026-01-01T00:00:00Z"),
        )
        .await
        .expect("created with GFS rules");
    assert_eq!(
        (
            schedule.gfs.keep_daily,
            schedule.gfs.keep_monthly,
            schedule.gfs.keep_weekly
        ),
        (Some(2), Some(2), None),
        "the rules are stored as given"
    );
    // 30 and 31 January, 1 and 2 February (02:00 UTC).
    let mut made = Vec::new();
    for day in ["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"] {
        made.push(backup(&store, &files, schedule.id, &format!("{day}T02:00:00Z")).await);
    }
    let now = ts("2026-02-02T03:00:00Z");
    let decisions = store
        .retention_decisions(schedule.id, None, now, false)
        .await
        .expect("decisions");
    let reason = |id: i64| {
        decisions
            .iter()
            .find(|d| d.run_id == id)
            .map(|d| (d.keep, d.reason.clone()))
            .expect("decided")
    };
    assert_eq!(
        reason(made[1].0),
        (true, "the newest of 2026-01 (keep_monthly 2)".to_owned()),
        "31 January is January's newest"
    );
    assert_eq!(
        reason(made[0].0),
        (false, "no GFS rule keeps it".to_owned()),
        "30 January is kept by no rule"
    );
    let thai = store
        .retention_decisions(schedule.id, None, now, true)
        .await
        .expect("decisions in Thai");
    assert!(
        thai.iter()
            .any(|d| d.reason == "ล่าสุดของ 2026-01 (keep_monthly 2)"),
        "the reasons in Thai for the app in Thai: {thai:?}"
    );

    // Pin 30 January: retention keeps it; it deletes nothing else here.
    store.set_pinned(made[0].0, true).await.expect("pinned");
    let applied = store
        .apply_retention(schedule.id, now)
        .await
        .expect("applied");
    assert!(
        applied.is_empty(),
        "nothing to delete once it is pinned: {applied:?}"
    );
    assert!(made[0].1.exists(), "the pinned file is still there");

    // A pinned backup is not deleted by hand either, until unpinned.
    let refused = store
        .delete_backup(made[0].0, now)
        .await
        .expect_err("a pinned backup is not deleted");
    assert_eq!(
        refused.code,
        ErrorCode::Conflict,
        "refused as a conflict: {refused}"
    );
    assert!(made[0].1.exists(), "and the file stays");
    store.set_pinned(made[0].0, false).await.expect("unpinned");
    let deleted = store
        .delete_backup(made[0].0, now)
        .await
        .expect("deleted by hand");
    assert_eq!(
        deleted.outcome, "deleted",
        "the file was there: {deleted:?}"
    );
    assert!(!made[0].1.exists(), "and is gone");
    let history = store
        .list_history(Some(schedule.id))
        .await
        .expect("history");
    let entry = history
        .iter()
        .find(|r| r.id == made[0].0)
        .expect("the entry stays");
    assert_eq!(
        entry.deletion_reason.as_deref(),
        Some("deleted by hand"),
        "the history says how it went"
    );
    let again = store
        .delete_backup(made[0].0, now)
        .await
        .expect_err("a deleted backup cannot be deleted again");
    assert_eq!(
        again.field.as_deref(),
        Some("run_id"),
        "the error names the entry: {again}"
    );
    let pin_gone = store
        .set_pinned(made[0].0, true)
        .await
        .expect_err("a deleted backup cannot be pinned");
    assert_eq!(pin_gone.field.as_deref(), Some("run_id"), "{pin_gone}");
    let missing = store
        .delete_backup(9_999, now)
        .await
        .expect_err("no such entry");
    assert_eq!(missing.code, ErrorCode::NotFound, "{missing}");

    // A bad GFS value is refused on its field and changes nothing.
    let bad = store
        .update_schedule(
            schedule.id,
            parse_request::<SchedulePatch>(r#"{"keep_weekly":0}"#).expect("parsed"),
            now,
        )
        .await
        .expect_err("0 weeks is refused");
    assert_eq!(bad.field.as_deref(), Some("keep_weekly"), "named: {bad}");
    let unchanged = store.get_schedule(schedule.id).await.expect("schedule");
    assert_eq!(unchanged.gfs, schedule.gfs, "nothing changed");
    // Clearing the rules with null.
    let cleared = store
        .update_schedule(
            schedule.id,
            parse_request::<SchedulePatch>(r#"{"keep_daily":null,"keep_monthly":null}"#)
                .expect("parsed"),
            now,
        )
        .await
        .expect("cleared");
    assert!(!cleared.gfs.is_on(), "no GFS rule left: {:?}", cleared.gfs);
}
