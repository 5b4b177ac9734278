//! The HTTP API: the original spec's routes (`/backup/schedules`, `/backup/history`, …) plus a
//! run's state, health and Prometheus metrics, served by `billora-backup daemon --listen`.
//! A third front end over the engine's `Api`, with no logic of its own: each handler checks
//! the token's role, parses the request as the CLI does, calls one `Api` method and shapes the
//! answer as the spec shows it.
//!
//! Safe by default: loopback unless told; another address needs TLS (or an explicit
//! `--insecure-http`); bodies are capped at 64 KiB; no CORS; failed tokens are rate-limited
//! per client address and logged without the token.

mod auth;
mod errors;
mod routes;
mod serve;

pub use routes::{check_origin, router};
pub use serve::{check_address, serve, tls_config, Listen};
