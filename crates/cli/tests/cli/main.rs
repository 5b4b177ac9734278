//! The `billora-backup` binary's integration tests: one binary, a module per feature, against
//! the real services (MariaDB, the keyring) that scripts/services.sh starts.

mod chaos;
mod cli;
mod console;
mod daemon;
mod harness;
mod http;
mod keyring;
mod killed;
mod race;
// The engine tests' helpers (services, a test server), shared by path; not all are used here.
#[allow(dead_code)]
#[path = "../../../engine/tests/engine/support.rs"]
mod support;
