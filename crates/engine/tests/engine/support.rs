//! Shared test helpers: a throw-away data directory and a pinned clock.

use billora_engine::store::Store;
use jiff::Timestamp;
use tempfile::TempDir;

/// A store in a fresh temporary data directory (removed when dropped).
pub async fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path())
        .await
        .expect("store opens in a temp dir");
    (dir, store)
}

/// The pinned "now" of the tests: 2026-02-03 01:00 UTC.
pub fn now() -> Timestamp {
    "2026-02-03T01:00:00Z".parse().expect("valid")
}
