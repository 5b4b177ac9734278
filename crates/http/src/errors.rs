//! Errors as the API answers them: `{"success": false, "error": {"code", "message", "field",
//! "hint"}}` with the HTTP status that fits the engine's code.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use billora_engine::{Error, ErrorCode};
use serde_json::json;

/// An engine error on its way out.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// The HTTP status of an engine error.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput | ErrorCode::InvalidCron | ErrorCode::InvalidTimeZone => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict | ErrorCode::AlreadyRunning => StatusCode::CONFLICT,
        ErrorCode::AuthFailed => StatusCode::UNAUTHORIZED,
        ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorCode::Unreachable | ErrorCode::SecretStoreUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.code);
        error_body(status, &self.0)
    }
}

/// The JSON error body with `status`.
pub fn error_body(status: StatusCode, e: &Error) -> Response {
    (
        status,
        Json(json!({
            "success": false,
            "error": {
                "code": e.code,
                "message": e.message,
                "field": e.field,
                "hint": e.hint,
            }
        })),
    )
        .into_response()
}

/// A malformed request (not JSON, a path id that is not a number): 400.
pub fn bad_request(field: &str, message: impl Into<String>) -> Response {
    error_body(StatusCode::BAD_REQUEST, &Error::invalid(field, message))
}
