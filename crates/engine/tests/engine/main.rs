//! The engine's integration tests: one binary, a module per feature.

mod api;
mod architecture;
mod backups;
mod cron_oracle;
mod databases;
mod destinations;
mod editing;
mod faults;
mod history;
mod hostile;
mod notifications;
mod recovery;
mod retention;
mod schedules;
mod scheduling;
mod ssh;
mod support;
mod tls;
