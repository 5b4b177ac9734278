//! Who may call what: the bearer token's role (admin for the spec's routes, monitor or admin
//! for the metrics and a run's state), and a limit on failed attempts per client address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use billora_engine::api::{Api, Kept, Role};
use billora_engine::{Error, ErrorCode};

use crate::errors::error_body;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub api: Arc<Api>,
    pub limiter: Arc<Limiter>,
    /// Read-only answers kept while the store is unchanged.
    pub answers: Arc<Kept<axum::body::Bytes>>,
    /// Held while a kept answer is made afresh.
    pub making: Arc<tokio::sync::Mutex<()>>,
}

/// The client's address, set per connection by the server.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// Failed token attempts per client address: more than [`Limiter::MAX`] in a minute blocks
/// that address for the rest of the minute (429 with Retry-After).
#[derive(Debug, Default)]
pub struct Limiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Limiter {
    pub const MAX: u32 = 10;
    const WINDOW: Duration = Duration::from_secs(60);

    /// How long the address must wait, if it is blocked.
    fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let map = self.failures.lock().expect("not poisoned");
        let (count, since) = map.get(&ip)?;
        let left = Self::WINDOW.checked_sub(since.elapsed())?;
        (*count >= Self::MAX).then_some(left)
    }

    fn failed(&self, ip: IpAddr) {
        let mut map = self.failures.lock().expect("not poisoned");
        map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        entry.0 += 1;
    }
}

/// The role of the request's token, or the refusal to send back.
async fn role_of(parts: &Parts, state: &AppState) -> Result<Role, Response> {
    let ip = parts
        .extensions
        .get::<ClientAddr>()
        .map(|c| c.0)
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if let Some(wait) = state.limiter.blocked(ip) {
        let mut response = error_body(
            StatusCode::TOO_MANY_REQUESTS,
            &Error::new(
                ErrorCode::AuthFailed,
                "too many requests with a wrong token from this address",
            )
            .with_hint("wait a minute, and check the token"),
        );
        if let Ok(value) = (wait.as_secs() + 1).to_string().parse() {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return Err(response);
    }
    let presented = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let refused = |e: Error| -> Response {
        state.limiter.failed(ip);
        let mut response = error_body(StatusCode::UNAUTHORIZED, &e);
        if let Ok(value) = "Bearer".parse() {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, value);
        }
        response
    };
    let Some(token) = presented else {
        tracing::warn!(client = %ip, path = %parts.uri.path(), "a request without a token");
        return Err(refused(
            Error::new(ErrorCode::AuthFailed, "this route needs a token")
                .with_hint("send `Authorization: Bearer <token>`; an administrator creates one with `billora-backup token create`"),
        ));
    };
    match state.api.authenticate(token).await {
        Ok(role) => Ok(role),
        Err(e) if e.code == ErrorCode::AuthFailed => {
            // Never the token itself in the log.
            tracing::warn!(client = %ip, path = %parts.uri.path(), "a request with an unknown or revoked token");
            Err(refused(e))
        }
        Err(e) => Err(crate::errors::ApiError(e).into_response()),
    }
}

/// A request with an admin token (the spec's `isAuthenticated` + `isAdmin`).
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match role_of(parts, state).await? {
            Role::Admin => Ok(Admin),
            Role::Monitor => Err(error_body(
                StatusCode::FORBIDDEN,
                &Error::new(
                    ErrorCode::PermissionDenied,
                    "this route needs an admin token; a monitor token may read /metrics and /backup/runs/:id",
                ),
            )),
        }
    }
}

/// A request with any valid token (admin or monitor).
pub struct Reader;

impl FromRequestParts<AppState> for Reader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        role_of(parts, state).await.map(|_| Reader)
    }
}
