//! Whether anything in the store changed since an earlier read, asked cheaply, so that read
//! models served over and over (the HTTP API's lists, its token checks) can be kept in memory
//! and still never be stale.
//!
//! SQLite's `PRAGMA data_version` changes on a connection whenever *another* connection has
//! committed, in this process or in another one (the CLI, the app, the daemon share the file).
//! So the watch has a connection of its own that never writes: every commit anywhere moves its
//! number. A read of the number is one round trip to SQLite; concurrent askers share one read
//! (whoever arrives while a read is under way waits for the next one, which starts after they
//! arrived, so a caller always sees every commit that ended before it asked).

use std::collections::HashMap;
use std::time::Instant;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;
use tokio::sync::Mutex;

/// A point in the store's history: equal versions mean nothing was committed in between.
/// Versions from different watch connections never compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreVersion {
    connection: u64,
    data: i64,
}

/// The watch connection, opened on first use (one-shot CLI commands never need it).
#[derive(Debug)]
pub struct Changes {
    options: SqliteConnectOptions,
    state: Mutex<Watch>,
}

#[derive(Debug, Default)]
struct Watch {
    connection: Option<SqliteConnection>,
    /// How many watch connections were opened: a new one starts its numbers again.
    opened: u64,
    /// The last read: when it started, and what it gave.
    last: Option<(Instant, StoreVersion)>,
}

impl Changes {
    pub fn new(options: SqliteConnectOptions) -> Changes {
        Changes {
            options,
            state: Mutex::default(),
        }
    }

    /// The store's version now; `None` when it cannot be read (the caller then reads afresh).
    pub async fn version(&self) -> Option<StoreVersion> {
        let asked = Instant::now();
        let mut watch = self.state.lock().await;
        if let Some((started, version)) = watch.last {
            if started >= asked {
                return Some(version);
            }
        }
        if watch.connection.is_none() {
            match SqliteConnection::connect_with(&self.options).await {
                Ok(connection) => {
                    watch.connection = Some(connection);
                    watch.opened += 1;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the store's watch connection could not be opened");
                    return None;
                }
            }
        }
        let started = Instant::now();
        match watch.read().await {
            Ok(version) => {
                watch.last = Some((started, version));
                Some(version)
            }
            Err(e) => {
                tracing::debug!(error = %e, "the store's version could not be read");
                watch.connection = None;
                watch.last = None;
                None
            }
        }
    }
}

impl Watch {
    async fn read(&mut self) -> sqlx::Result<StoreVersion> {
        let Some(connection) = self.connection.as_mut() else {
            return Err(sqlx::Error::PoolClosed);
        };
        let data: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(connection)
            .await?;
        Ok(StoreVersion {
            connection: self.opened,
            data,
        })
    }
}

/// Values read from the store (or made from what was read), kept by key while the store's
/// version is the one they were read at. At most `max` keys; a new version forgets them all.
#[derive(Debug)]
pub struct Kept<V> {
    max: usize,
    entries: std::sync::Mutex<(Option<StoreVersion>, HashMap<String, V>)>,
}

impl<V: Clone> Kept<V> {
    pub fn new(max: usize) -> Kept<V> {
        Kept {
            max,
            entries: std::sync::Mutex::new((None, HashMap::new())),
        }
    }

    /// The value kept for `key` at `version` (an unknown version has none).
    pub fn get(&self, key: &str, version: Option<StoreVersion>) -> Option<V> {
        let version = version?;
        let entries = self.entries.lock().expect("not poisoned");
        if entries.0 != Some(version) {
            return None;
        }
        entries.1.get(key).cloned()
    }

    /// Keeps `value` for `key`: it was made from reads that began after `version` was read.
    pub fn keep(&self, key: &str, version: Option<StoreVersion>, value: V) {
        let Some(version) = version else { return };
        let mut entries = self.entries.lock().expect("not poisoned");
        if entries.0 != Some(version) || entries.1.len() >= self.max {
            entries.0 = Some(version);
            entries.1.clear();
        }
        entries.1.insert(key.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_commit_anywhere_moves_the_version_and_nothing_else_does() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = Store::open(dir.path()).await.expect("the store");
        let other = Store::open(dir.path())
            .await
            .expect("a second process's store");
        let first = store.version().await.expect("a version");
        assert_eq!(
            store.version().await,
            Some(first),
            "unchanged while nothing is written"
        );
        store.setting("x").await.expect("a read");
        assert_eq!(store.version().await, Some(first), "a read changes nothing");
        store.set_setting("x", "1").await.expect("a write here");
        let second = store.version().await.expect("a version");
        assert_ne!(second, first, "a commit through this store's own pool");
        other
            .set_setting("x", "2")
            .await
            .expect("a write elsewhere");
        let third = store.version().await.expect("a version");
        assert_ne!(
            third, second,
            "a commit by another connection (as another process)"
        );
    }

    #[test]
    fn kept_values_hold_for_their_version_only() {
        let v = |data| {
            Some(StoreVersion {
                connection: 1,
                data,
            })
        };
        let kept: Kept<u32> = Kept::new(2);
        kept.keep("a", v(1), 10);
        assert_eq!(kept.get("a", v(1)), Some(10), "kept at its version");
        assert_eq!(kept.get("a", v(2)), None, "not at another");
        assert_eq!(kept.get("a", None), None, "nor when the version is unknown");
        kept.keep("b", v(2), 20);
        assert_eq!(kept.get("a", v(1)), None, "a new version forgets the old");
        kept.keep("c", v(2), 30);
        kept.keep("d", v(2), 40);
        assert_eq!(kept.get("d", v(2)), Some(40), "the newest is kept");
        assert_eq!(
            kept.get("b", v(2)),
            None,
            "past `max`, the others are let go"
        );
        kept.keep("e", None, 50);
        assert_eq!(
            kept.get("e", v(2)),
            None,
            "nothing kept at an unknown version"
        );
    }
}
