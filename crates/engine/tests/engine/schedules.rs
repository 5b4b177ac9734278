//! Schedules through the engine API: every validation rule, each refusal leaving the store as
//! it was, and next_run_at recomputed on create, update and toggle.

use billora_engine::schedule::{parse_request, NewSchedule, SchedulePatch};
use billora_engine::store::Store;
use billora_engine::ErrorCode;
use serde_json::{json, Value};

use crate::support::{now, temp_store};

fn daily() -> Value {
    json!({
        "name": "Daily Full Backup",
        "description": "สำรองข้อมูลทั้งหมดทุกวัน",
        "cron_expression": "0 2 * * *",
        "backup_type": "full",
        "retention_days": 7,
        "max_backups": 10,
        "notify_on_failure": true,
        "notification_email": "admin@example.com",
        "timezone": "Asia/Bangkok"
    })
}

fn with(mut base: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().expect("changes are an object") {
        if v == &json!("__remove__") {
            base.as_object_mut().expect("object").remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

/// Everything in the schedules table, to compare before and after a refused request.
async fn snapshot(store: &Store) -> Vec<Value> {
    let list = store.list_schedules().await.expect("list");
    list.iter()
        .map(|s| serde_json::to_value(s).expect("serializes"))
        .collect()
}

async fn create(
    store: &Store,
    body: &Value,
) -> billora_engine::Result<billora_engine::schedule::Schedule> {
    let request: NewSchedule = parse_request(&body.to_string())?;
    store.create_schedule(request, now()).await
}

#[tokio::test]
async fn create_computes_next_run_in_the_schedules_zone() {
    let (_dir, store) = temp_store().await;
    let s = create(&store, &daily())
        .await
        .expect("the spec's daily body is valid");
    let v = serde_json::to_value(&s).expect("serializes");
    assert_eq!(
        v["next_run_at"], "2026-02-04T02:00:00+07:00",
        "01:00 UTC is 08:00 in Bangkok; the next 02:00 is tomorrow"
    );
    assert_eq!(v["is_active"], true, "a new schedule is active");
    assert_eq!(v["success_count"], 0, "no runs yet");
    assert_eq!(v["last_run_at"], Value::Null, "never ran");
    assert_eq!(v["compression"], "zstd", "zstd is the default compression");
    assert_eq!(v["catch_up"], true, "missed runs are caught up by default");
    assert_eq!(v["notify_on_success"], false, "success mail is opt-in");
}

#[tokio::test]
async fn every_invalid_request_is_refused_with_its_field_and_stores_nothing() {
    let (_dir, store) = temp_store().await;
    create(&store, &daily()).await.expect("seed schedule");
    let before = snapshot(&store).await;
    let cases: Vec<(Value, &str)> = vec![
        (with(daily(), json!({"name": "   "})), "name"),
        (with(daily(), json!({"name": "x".repeat(101)})), "name"),
        (with(daily(), json!({"name": "a\nb"})), "name"),
        (with(daily(), json!({"name": "daily full backup"})), "name"),
        (with(daily(), json!({"name": "__remove__"})), "name"),
        (
            with(
                daily(),
                json!({"name": "New", "cron_expression": "0 2 * *"}),
            ),
            "cron_expression",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "cron_expression": "* * * * 8"}),
            ),
            "cron_expression",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "cron_expression": "0 0 ? * 1"}),
            ),
            "cron_expression",
        ),
        (
            with(daily(), json!({"name": "New", "backup_type": "daily"})),
            "backup_type",
        ),
        (
            with(daily(), json!({"name": "New", "backup_type": "tenant"})),
            "tenant_id",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "backup_type": "tenant", "tenant_id": 0}),
            ),
            "tenant_id",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "backup_type": "tenant", "tenant_id": -3}),
            ),
            "tenant_id",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "backup_type": "tenant", "tenant_id": 1.5}),
            ),
            "tenant_id",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "backup_type": "tenant", "tenant_id": "5"}),
            ),
            "tenant_id",
        ),
        (
            with(daily(), json!({"name": "New", "tenant_id": 5})),
            "tenant_id",
        ),
        (
            with(daily(), json!({"name": "New", "retention_days": 0})),
            "retention_days",
        ),
        (
            with(daily(), json!({"name": "New", "retention_days": 3651})),
            "retention_days",
        ),
        (
            with(daily(), json!({"name": "New", "retention_days": -1})),
            "retention_days",
        ),
        (
            with(daily(), json!({"name": "New", "max_backups": 0})),
            "max_backups",
        ),
        (
            with(daily(), json!({"name": "New", "max_backups": 10001})),
            "max_backups",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "notification_email": "admin"}),
            ),
            "notification_email",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "notification_email": "a@example.com, b@"}),
            ),
            "notification_email",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "notification_email": "a@@example.com"}),
            ),
            "notification_email",
        ),
        (
            with(daily(), json!({"name": "New", "timezone": "Mars/Olympus"})),
            "timezone",
        ),
        (
            with(daily(), json!({"name": "New", "compression": "rar"})),
            "compression",
        ),
        (
            with(
                daily(),
                json!({"name": "New", "destination": "relative/dir"}),
            ),
            "destination",
        ),
        (
            with(daily(), json!({"name": "New", "connection": "nope"})),
            "connection",
        ),
        (
            with(daily(), json!({"name": "New", "surprise": true})),
            "surprise",
        ),
        (with(daily(), json!({"name": "New", "id": 7})), "id"),
        (
            with(daily(), json!({"name": "New", "notify_on_failure": "yes"})),
            "notify_on_failure",
        ),
    ];
    for (body, field) in cases {
        let err = create(&store, &body)
            .await
            .expect_err("the request must be refused");
        assert_eq!(
            err.field.as_deref(),
            Some(field),
            "refusal of {body} must name `{field}`: {err}"
        );
        assert!(
            err.code.is_input_error(),
            "refusal of {body} is an input error, got {:?}",
            err.code
        );
        assert_eq!(
            snapshot(&store).await,
            before,
            "a refused create ({body}) must store nothing"
        );
    }
}

#[tokio::test]
async fn zero_retention_is_refused_with_a_reason() {
    let (_dir, store) = temp_store().await;
    let err = create(&store, &with(daily(), json!({"max_backups": 0})))
        .await
        .expect_err("0 is refused");
    assert!(
        err.message.contains("cannot be 0"),
        "the message explains why 0 is refused: {}",
        err.message
    );
    assert!(
        store.list_schedules().await.expect("list").is_empty(),
        "nothing was stored"
    );
}

#[tokio::test]
async fn a_comma_separated_email_list_is_accepted() {
    let (_dir, store) = temp_store().await;
    let s = create(&store, &with(daily(), json!({"notification_email": "a@example.com, สมชาย@ตัวอย่าง.ไทย".replace("สมชาย", "somchai")})))
        .await
        .expect("a list of addresses is valid");
    assert!(
        s.notification_email.expect("kept").contains(','),
        "the list is stored as given"
    );
}

#[tokio::test]
async fn update_is_partial_validated_as_a_whole_and_atomic() {
    let (_dir, store) = temp_store().await;
    let s = create(&store, &daily()).await.expect("created");
    let patch: SchedulePatch =
        parse_request(r#"{"cron_expression":"0 3 * * 0","max_backups":4}"#).expect("patch");
    let updated = store
        .update_schedule(s.id, patch, now())
        .await
        .expect("valid patch");
    assert_eq!(updated.cron_expression, "0 3 * * 0", "the cron changed");
    assert_eq!(updated.max_backups, Some(4), "max_backups changed");
    assert_eq!(
        updated.retention_days,
        Some(7),
        "fields not in the patch stay"
    );
    let v = serde_json::to_value(&updated).expect("serializes");
    assert_eq!(
        v["next_run_at"], "2026-02-08T03:00:00+07:00",
        "next run recomputed: Sunday 2026-02-08 03:00"
    );

    let before = snapshot(&store).await;
    for body in [
        r#"{"backup_type":"tenant"}"#,
        r#"{"retention_days":0}"#,
        r#"{"cron_expression":"61 * * * *"}"#,
        r#"{"notification_email":"not-an-address"}"#,
        r#"{"is_active":false,"max_backups":0}"#,
        r#"{"success_count":5}"#,
    ] {
        let patch: Result<SchedulePatch, _> = parse_request(body);
        let result = match patch {
            Ok(p) => store.update_schedule(s.id, p, now()).await.map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(result.is_err(), "the patch {body} must be refused");
        assert_eq!(
            snapshot(&store).await,
            before,
            "a refused update ({body}) changes nothing"
        );
    }

    let patch: SchedulePatch = parse_request(r#"{"retention_days":null}"#).expect("patch");
    let cleared = store
        .update_schedule(s.id, patch, now())
        .await
        .expect("null clears a limit");
    assert_eq!(cleared.retention_days, None, "null clears retention_days");
    assert_eq!(cleared.max_backups, Some(4), "other limits stay");
}

#[tokio::test]
async fn switching_to_tenant_and_back() {
    let (_dir, store) = temp_store().await;
    let s = create(&store, &daily()).await.expect("created");
    let patch: SchedulePatch =
        parse_request(r#"{"backup_type":"tenant","tenant_id":5}"#).expect("patch");
    let t = store
        .update_schedule(s.id, patch, now())
        .await
        .expect("tenant with id");
    assert_eq!(t.tenant_id, Some(5), "tenant set");
    let patch: SchedulePatch = parse_request(r#"{"backup_type":"full"}"#).expect("patch");
    let f = store
        .update_schedule(s.id, patch, now())
        .await
        .expect("back to full");
    assert_eq!(f.tenant_id, None, "a full backup drops the tenant");
}

#[tokio::test]
async fn toggle_clears_and_restores_next_run() {
    let (_dir, store) = temp_store().await;
    let s = create(&store, &daily()).await.expect("created");
    let off = store
        .toggle_schedule(s.id, now())
        .await
        .expect("toggle off");
    assert!(!off.is_active, "toggled off");
    assert_eq!(off.next_run_at, None, "a disabled schedule has no next run");
    let later: jiff::Timestamp = "2026-02-10T12:00:00Z".parse().expect("ts");
    let on = store.toggle_schedule(s.id, later).await.expect("toggle on");
    assert!(on.is_active, "toggled on");
    let v = serde_json::to_value(&on).expect("serializes");
    assert_eq!(
        v["next_run_at"], "2026-02-11T02:00:00+07:00",
        "next run computed from the time it was enabled"
    );
}

#[tokio::test]
async fn delete_and_missing_ids() {
    let (_dir, store) = temp_store().await;
    let s = create(&store, &daily()).await.expect("created");
    store.delete_schedule(s.id).await.expect("deleted");
    assert!(
        store.list_schedules().await.expect("list").is_empty(),
        "the schedule is gone"
    );
    for err in [
        store
            .delete_schedule(s.id)
            .await
            .expect_err("already deleted"),
        store
            .toggle_schedule(999, now())
            .await
            .expect_err("no such id"),
        store
            .update_schedule(999, SchedulePatch::default(), now())
            .await
            .expect_err("no such id"),
    ] {
        assert_eq!(
            err.code,
            ErrorCode::NotFound,
            "a missing id is NotFound: {err}"
        );
    }
    let again = create(&store, &daily())
        .await
        .expect("the name is free again after delete");
    assert_ne!(again.id, s.id, "ids are never reused");
}

#[tokio::test]
async fn store_reopens_with_the_same_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = Store::open(dir.path()).await.expect("open");
        create(&store, &daily()).await.expect("created");
        store.close().await;
    }
    let store = Store::open(dir.path())
        .await
        .expect("reopen runs no migration twice");
    assert_eq!(
        store.list_schedules().await.expect("list").len(),
        1,
        "the schedule survived a reopen"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("billora.db"))
            .expect("db file")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the store is readable by its owner only, mode {mode:o}"
        );
    }
}

#[tokio::test]
async fn history_filter_validates_the_id() {
    let (_dir, store) = temp_store().await;
    assert!(
        store
            .list_history(None)
            .await
            .expect("empty history")
            .is_empty(),
        "no runs yet"
    );
    let err = store
        .list_history(Some(0))
        .await
        .expect_err("0 is not an id");
    assert_eq!(
        err.field.as_deref(),
        Some("schedule_id"),
        "the error names schedule_id"
    );
}
