//! The routes: the spec's seven under `/backup`, a run's state, health and metrics. Each
//! handler is its check of rights, its parsing, one `Api` call and the spec's answer shape.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use billora_engine::api::{
    parse_request, Api, HistoryQuery, Kept, NewSchedule, Run, RunStarted, RunView, Schedule,
    ScheduleChoices, SchedulePatch,
};
use billora_engine::Error;
use serde::Serialize;
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use crate::auth::{Admin, AppState, Limiter, Reader};
use crate::errors::{bad_request, error_body, ApiError};

/// Request bodies are capped: a schedule is a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// The API's routes under `base_path` (`/api`: `/api/backup/schedules`, …; `/` or empty: at
/// the root). `cors_origins`: the web origins (`https://admin.example.com`) whose pages may
/// call the API from a browser; none by default, so no browser page may.
pub fn router(api: Arc<Api>, base_path: &str, cors_origins: &[String]) -> Router {
    let state = AppState {
        api,
        limiter: Arc::new(Limiter::default()),
        answers: Arc::new(Kept::new(64)),
        making: Arc::default(),
    };
    let routes = Router::new()
        .route(
            "/backup/schedules",
            get(list_schedules).post(create_schedule),
        )
        .route(
            "/backup/schedules/{id}",
            put(update_schedule).delete(delete_schedule),
        )
        .route("/backup/schedules/{id}/toggle", post(toggle_schedule))
        .route("/backup/schedules/{id}/run", post(run_schedule))
        .route("/backup/history", get(history))
        .route("/backup/choices", get(schedule_choices))
        .route("/backup/runs/{id}", get(get_run))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi));
    let base = base_path.trim_end_matches('/');
    let app = if base.is_empty() {
        routes
    } else {
        Router::new().nest(base, routes)
    };
    let app = app
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    if cors_origins.is_empty() {
        return app;
    }
    use axum::http::{header, HeaderValue, Method};
    let origins: Vec<HeaderValue> = cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    app.layer(
        tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// A CORS origin as the admin gives it: `http(s)://host[:port]`, no path, never `*` (the API's
/// answers carry customer data and tokens must not be usable from any page).
pub fn check_origin(origin: &str) -> billora_engine::Result<()> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty()
            && !host.contains('/')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "cors_origin",
            format!(
                "`{origin}` is not a web origin: give https://host or https://host:port (never *)"
            ),
        ))
    }
}

/// `{"schedules": […]}`: the spec's answer to `GET /backup/schedules`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    pub schedules: Vec<Schedule>,
}

/// `{"success": true, "data": schedule}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleAnswer {
    pub success: bool,
    pub data: Schedule,
}

/// `{"success": true, "data": […]}`: the spec's answer to `GET /backup/history`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryAnswer {
    pub success: bool,
    pub data: Vec<Run>,
}

/// `{"success": true, "data": run}` with its progress while it runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunAnswer {
    pub success: bool,
    pub data: RunView,
}

/// `{"success": true, "data": {"schedule_id", "run_id", "status"}}` (202).
#[derive(Debug, Serialize, ToSchema)]
pub struct RunStartedAnswer {
    pub success: bool,
    pub data: RunStarted,
}

/// `{"success": false, "error": {"code", "message", "field", "hint"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorAnswer {
    pub success: bool,
    #[schema(value_type = billora_engine::Error)]
    pub error: Error,
}

/// `{"success": true, "data": choices}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChoicesAnswer {
    pub success: bool,
    pub data: ScheduleChoices,
}

/// `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthAnswer {
    pub status: String,
}

/// A handler's answer: the success, or the refusal to send back.
type Answer = Result<Response, Response>;

/// An engine error as its answer.
fn engine(e: Error) -> Response {
    ApiError(e).into_response()
}

/// Answers larger than this are made afresh each time rather than kept in memory (the whole
/// history of a busy server is tens of megabytes).
const MAX_KEPT: usize = 4 * 1024 * 1024;

/// A read-only answer, made by `read` or, while the store is unchanged since it was made,
/// served from memory: lists polled by many clients cost one read of the store per change.
async fn kept_answer<T, F>(s: &AppState, key: &str, read: F) -> Answer
where
    T: Serialize,
    F: std::future::Future<Output = billora_engine::Result<T>>,
{
    // Read before the store is, so that what is kept is never older than its version.
    let mut version = s.api.store_version().await;
    let mut body = s.answers.get(key, version);
    // After a change, one request makes the answer while the others wait for it (instead of
    // every client reading the store at once).
    let _making = match (&body, version) {
        (None, Some(_)) => {
            let making = s.making.lock().await;
            version = s.api.store_version().await;
            body = s.answers.get(key, version);
            Some(making)
        }
        _ => None,
    };
    let body = match body {
        Some(body) => body,
        None => {
            let body = json_body(&read.await.map_err(engine)?)?;
            if body.len() <= MAX_KEPT {
                s.answers.keep(key, version, body.clone());
            }
            body
        }
    };
    Ok(json_answer(body))
}

/// A value as the JSON bytes of an answer (kept answers are kept as these bytes).
#[allow(clippy::result_large_err)]
fn json_body(value: &impl Serialize) -> Result<Bytes, Response> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
        engine(Error::new(
            billora_engine::ErrorCode::Internal,
            format!("the answer could not be written as JSON: {e}"),
        ))
    })
}

/// JSON bytes as a 200 answer.
fn json_answer(body: Bytes) -> Response {
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

fn ok(status: StatusCode, data: impl Serialize) -> Response {
    (status, Json(json!({ "success": true, "data": data }))).into_response()
}

// A refusal is a Response, as axum's own rejections are; it is built once per request.
#[allow(clippy::result_large_err)]
fn id_of(text: &str) -> Result<i64, Response> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| bad_request("id", format!("`{text}` is not an id (a positive number)")))
}

/// A JSON body, read as the CLI reads `--json`: unknown fields and bad values name the field.
#[allow(clippy::result_large_err)]
fn body_of<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, Response> {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json {
        return Err(error_body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &Error::invalid(
                "content-type",
                "send the body as JSON (Content-Type: application/json)",
            ),
        ));
    }
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                &Error::invalid(
                    "body",
                    format!("the body is larger than {} KiB", MAX_BODY / 1024),
                ),
            )
        } else {
            bad_request("body", format!("the body could not be read: {rejection}"))
        }
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| bad_request("body", "the body is not UTF-8 text"))?;
    // Malformed JSON is the client's syntax (400); valid JSON with a bad field is 422.
    if serde_json::from_str::<serde_json::Value>(text).is_err() {
        return Err(bad_request("body", "the body is not valid JSON"));
    }
    parse_request(text).map_err(engine)
}

#[utoipa::path(get, path = "/backup/schedules", tag = "schedules",
    responses((status = 200, description = "Every schedule", body = ScheduleList),
        (status = 401, body = ErrorAnswer), (status = 403, body = ErrorAnswer)),
    security(("bearer" = [])))]
async fn list_schedules(_: Admin, State(s): State<AppState>) -> Answer {
    kept_answer(&s, "schedules", async {
        let schedules = s.api.list_schedules().await?;
        Ok(ScheduleList { schedules })
    })
    .await
}

#[utoipa::path(post, path = "/backup/schedules", tag = "schedules", request_body = NewSchedule,
    responses((status = 201, description = "The schedule, created", body = ScheduleAnswer),
        (status = 422, description = "A field is wrong (named); nothing was stored", body = ErrorAnswer),
        (status = 400, body = ErrorAnswer), (status = 401, body = ErrorAnswer), (status = 403, body = ErrorAnswer),
        (status = 409, description = "The name is taken", body = ErrorAnswer),
        (status = 413, body = ErrorAnswer), (status = 415, body = ErrorAnswer)),
    security(("bearer" = [])))]
async fn create_schedule(
    _: Admin,
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let request: NewSchedule = body_of(&headers, body)?;
    let created = s.api.create_schedule(request).await.map_err(engine)?;
    Ok(ok(StatusCode::CREATED, created))
}

#[utoipa::path(put, path = "/backup/schedules/{id}", tag = "schedules", request_body = SchedulePatch,
    params(("id" = i64, Path, description = "The schedule's id")),
    responses((status = 200, description = "The schedule, changed", body = ScheduleAnswer),
        (status = 404, body = ErrorAnswer), (status = 422, body = ErrorAnswer), (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer), (status = 403, body = ErrorAnswer)),
    security(("bearer" = [])))]
async fn update_schedule(
    _: Admin,
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let id = id_of(&id)?;
    let patch: SchedulePatch = body_of(&headers, body)?;
    let updated = s.api.update_schedule(id, patch).await.map_err(engine)?;
    Ok(ok(StatusCode::OK, updated))
}

#[utoipa::path(delete, path = "/backup/schedules/{id}", tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    responses((status = 200, description = "The schedule that was deleted (its history stays)", body = ScheduleAnswer),
        (status = 404, body = ErrorAnswer), (status = 401, body = ErrorAnswer), (status = 403, body = ErrorAnswer)),
    security(("bearer" = [])))]
async fn delete_schedule(_: Admin, State(s): State<AppState>, Path(id): Path<String>) -> Answer {
    let id = id_of(&id)?;
    let deleted = s.api.delete_schedule(id).await.map_err(engine)?;
    Ok(ok(StatusCode::OK, deleted))
}

#[utoipa::path(post, path = "/backup/schedules/{id}/toggle", tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    responses((status = 200, description = "The schedule, turned on or off", body = ScheduleAnswer),
        (status = 404, body = ErrorAnswer), (status = 401, body = ErrorAnswer), (status = 403, body = ErrorAnswer)),
    security(("bearer" = [])))]
async fn toggle_schedule(_: Admin, State(s): State<AppState>, Path(id): Path<String>) -> Answer {
    let id = id_of(&id)?;
    let toggled = s.api.toggle_schedule(id).await.map_err(engine)?;
    Ok(ok(StatusCode::OK, toggled))
}

#[utoipa::path(post, path = "/backup/schedules/{id}/run", tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    responses((status = 202, description = "The backup runs in the background; follow it at /backup/runs/{run_id}", body = RunStartedAnswer),
        (status = 404, body = ErrorAnswer), (status = 409, description = "It is already running", body = ErrorAnswer),
        (status = 401, body = ErrorAnswer), (status = 403, body = ErrorAnswer)),
    security(("bearer" = [])))]
/// 202: the backup goes on in the background, under the one-run-per-schedule rule.
async fn run_schedule(_: Admin, State(s): State<AppState>, Path(id): Path<String>) -> Answer {
    let id = id_of(&id)?;
    let started = s.api.start_run(id).await.map_err(engine)?;
    Ok(ok(StatusCode::ACCEPTED, started))
}

#[utoipa::path(get, path = "/backup/history", tag = "history",
    params(("schedule_id" = Option<i64>, Query, description = "Only this schedule's runs"),
        ("status" = Option<String>, Query, description = "Only runs with this status"),
        ("limit" = Option<u32>, Query, description = "At most this many (1-10000); all when absent"),
        ("before_id" = Option<i64>, Query, description = "The entries after this one (the next page)"),
        ("from" = Option<String>, Query, description = "Made on or after this day (YYYY-MM-DD, the server's zone)"),
        ("to" = Option<String>, Query, description = "Made on or before this day (YYYY-MM-DD)"),
        ("search" = Option<String>, Query, description = "A part of the file name")),
    responses((status = 200, description = "The runs, newest first", body = HistoryAnswer),
        (status = 400, body = ErrorAnswer), (status = 422, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer), (status = 403, body = ErrorAnswer)),
    security(("bearer" = [])))]
/// `?schedule_id=N` (the spec's filter) and `?status=failed`.
async fn history(_: Admin, State(s): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    let mut filter = HistoryQuery::default();
    // Decoded as a browser encodes them (`%20`, `+`).
    for (key, value) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        let value = value.as_ref();
        match key.as_ref() {
            "schedule_id" => {
                filter.schedule_id = Some(value.parse().map_err(|_| {
                    bad_request(
                        "schedule_id",
                        format!("`{value}` is not a schedule id (a positive number)"),
                    )
                })?)
            }
            "status" => filter.status = Some(value.to_owned()),
            "limit" => {
                filter.limit = Some(value.parse().map_err(|_| {
                    bad_request("limit", format!("`{value}` is not a number"))
                })?)
            }
            "before_id" => {
                filter.before_id = Some(value.parse().map_err(|_| {
                    bad_request("before_id", format!("`{value}` is not an id"))
                })?)
            }
            "from" => filter.from = Some(value.to_owned()),
            "to" => filter.to = Some(value.to_owned()),
            "search" => filter.search = Some(value.to_owned()),
            other => {
                return Err(engine(Error::invalid(
                    other,
                    format!("`{other}` is not a filter of the history: use schedule_id, status, limit, before_id, from, to or search"),
                )))
            }
        }
    }
    let key = format!("history?{}", query.as_deref().unwrap_or(""));
    kept_answer(&s, &key, async {
        let data = s.api.list_history(filter).await?;
        Ok(HistoryAnswer {
            success: true,
            data,
        })
    })
    .await
}

#[utoipa::path(get, path = "/backup/choices", tag = "schedules",
    responses((status = 200, description = "What a schedule here may name: connections (no secrets), destinations, the default folder, encryption keys", body = ChoicesAnswer),
        (status = 401, body = ErrorAnswer), (status = 403, body = ErrorAnswer)),
    security(("bearer" = [])))]
/// What the schedule editor of a remote console offers (the app's *Manage a server*).
async fn schedule_choices(_: Admin, State(s): State<AppState>) -> Answer {
    kept_answer(&s, "choices", async {
        Ok(ChoicesAnswer {
            success: true,
            data: s.api.schedule_choices().await?,
        })
    })
    .await
}

#[utoipa::path(get, path = "/backup/runs/{id}", tag = "history",
    params(("id" = i64, Path, description = "The history entry's id")),
    responses((status = 200, description = "The run, with its progress while it runs (admin or monitor token)", body = RunAnswer),
        (status = 404, body = ErrorAnswer), (status = 401, body = ErrorAnswer)),
    security(("bearer" = [])))]
/// A run's state and, while it runs here, its progress (monitor tokens may read it).
async fn get_run(_: Reader, State(s): State<AppState>, Path(id): Path<String>) -> Answer {
    let id = id_of(&id)?;
    // A finished run changes only with the store: kept like the lists. A running one is read
    // each time (its progress lives in this process, not in the store).
    let key = format!("run/{id}");
    let version = s.api.store_version().await;
    if let Some(body) = s.answers.get(&key, version) {
        return Ok(json_answer(body));
    }
    let run = s.api.get_run(id).await.map_err(engine)?;
    let finished = run.run.status != "running";
    let body = json_body(&json!({ "success": true, "data": run }))?;
    if finished {
        s.answers.keep(&key, version, body.clone());
    }
    Ok(json_answer(body))
}

#[utoipa::path(get, path = "/health", tag = "service",
    responses((status = 200, description = "The process answers (no token, no details)", body = HealthAnswer)))]
/// No token, no details: whether the process answers.
async fn health() -> Response {
    Json(HealthAnswer {
        status: "ok".into(),
    })
    .into_response()
}

/// The OpenAPI document of these routes, generated from their Rust types.
#[derive(OpenApi)]
#[openapi(
    info(title = "Billora Backup", description = "The original spec's backup routes, with bearer tokens (admin: every route; monitor: /metrics and /backup/runs/{id})."),
    paths(list_schedules, create_schedule, update_schedule, delete_schedule, toggle_schedule,
        run_schedule, history, schedule_choices, get_run, health, metrics),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the bearer token scheme the routes name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `/openapi.json`: the routes' description (open: it holds no data).
async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text: per schedule its last success, status, duration, size and counts (admin or monitor token)", content_type = "text/plain"),
        (status = 401, body = ErrorAnswer)),
    security(("bearer" = [])))]
async fn metrics(_: Reader, State(s): State<AppState>) -> Answer {
    let text = s.api.metrics().await.map_err(engine)?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}

async fn not_found() -> Response {
    error_body(
        StatusCode::NOT_FOUND,
        &Error::not_found("there is no such route").with_hint(
            "the routes are under the base path (default /api): /backup/schedules, /backup/history, /backup/choices, /backup/runs/:id, /health, /metrics",
        ),
    )
}
