//! The engine's integration tests: one binary, a module per feature.

mod cli;
mod cron_oracle;
mod schedules;
mod support;
