//! The engine's integration tests: one binary, a module per feature.

mod backups;
mod cli;
mod daemon;
mod cron_oracle;
mod keyring;
mod notifications;
mod schedules;
mod scheduling;
mod support;
