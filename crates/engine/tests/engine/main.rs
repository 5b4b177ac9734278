//! The engine's integration tests: one binary, a module per feature.

mod api;
mod backups;
mod cli;
mod cron_oracle;
mod daemon;
mod destinations;
mod hostile;
mod keyring;
mod notifications;
mod schedules;
mod scheduling;
mod support;
mod tls;
