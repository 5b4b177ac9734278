//! Where passwords live: the OS keyring (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows), never the SQLite store, logs or errors.
//!
//! [`SecretStore`] is the I/O edge: [`OsKeyring`] is the real one (tested against a real
//! gnome-keyring), [`MemorySecrets`] the fake for unit tests. For headless servers without a
//! keyring a connection profile can instead name an environment variable or a private file
//! ([`PasswordSource`]); the password itself is still never written to the store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};

/// The keyring "service" every Billora Backup secret is filed under.
pub const KEYRING_SERVICE: &str = "billora-backup";

/// Reads and writes secrets by key (e.g. `connection:office-db`).
pub trait SecretStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<String>>;
    fn set(&self, key: &str, secret: &str) -> Result<()>;
    fn delete(&self, key: &str) -> Result<()>;
}

/// The operating system's keyring.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

fn keyring_error(err: keyring::Error) -> Error {
    use keyring::Error as K;
    let message = match &err {
        K::NoStorageAccess(_) | K::PlatformFailure(_) => {
            "the OS keyring is not available or is locked".to_owned()
        }
        other => format!("the OS keyring failed: {other}"),
    };
    Error::new(ErrorCode::SecretStoreUnavailable, message).with_hint(
        "unlock your keyring (on Linux: GNOME Keyring or KWallet must be running), or on a headless server \
         give the password through an environment variable or a private file (--password-env / --password-file)",
    )
}

impl SecretStore for OsKeyring {
    fn get(&self, key: &str) -> Result<Option<String>> {
        let entry = keyring::Entry::new(KEYRING_SERVICE, key).map_err(keyring_error)?;
        match entry.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keyring_error(err)),
        }
    }

    fn set(&self, key: &str, secret: &str) -> Result<()> {
        let entry = keyring::Entry::new(KEYRING_SERVICE, key).map_err(keyring_error)?;
        // The keyring crate falls back silently to an in-memory mock store when no platform
        // backend was compiled in (or chosen): a secret "saved" there is gone at exit, and a
        // read-back in the same process would still find it. Recognise it by its type.
        if is_mock(&entry) {
            return Err(Error::new(
                ErrorCode::SecretStoreUnavailable,
                "no OS keyring is available to this build (only an in-memory stand-in): the password would be lost",
            )
            .with_hint(
                "give the password through an environment variable or a private file (--password-env / --password-file)",
            ));
        }
        entry.set_password(secret).map_err(keyring_error)?;
        // And read it back, to prove the backend kept it.
        match entry.get_password() {
            Ok(read) if read == secret => Ok(()),
            _ => Err(Error::new(
                ErrorCode::SecretStoreUnavailable,
                "the OS keyring did not keep the password",
            )),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        let entry = keyring::Entry::new(KEYRING_SERVICE, key).map_err(keyring_error)?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(keyring_error(err)),
        }
    }
}

/// Whether the keyring crate gave `entry` its in-memory mock credential.
fn is_mock(entry: &keyring::Entry) -> bool {
    entry
        .get_credential()
        .downcast_ref::<keyring::mock::MockCredential>()
        .is_some()
}

/// An in-memory secret store for tests.
#[derive(Debug, Default)]
pub struct MemorySecrets(Mutex<HashMap<String, String>>);

impl SecretStore for MemorySecrets {
    fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.0.lock().expect("not poisoned").get(key).cloned())
    }
    fn set(&self, key: &str, secret: &str) -> Result<()> {
        self.0
            .lock()
            .expect("not poisoned")
            .insert(key.to_owned(), secret.to_owned());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.0.lock().expect("not poisoned").remove(key);
        Ok(())
    }
}

/// Where a connection's password comes from.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum PasswordSource {
    /// The OS keyring, under `connection:<profile name>` (the default).
    Keyring,
    /// An environment variable of the process that runs the backup (for servers).
    Env(String),
    /// A file readable by its owner only, holding the password (for servers).
    File(PathBuf),
}

impl PasswordSource {
    /// The store's text form: `keyring`, `env:VAR`, `file:/path`.
    pub fn to_stored(&self) -> String {
        match self {
            PasswordSource::Keyring => "keyring".to_owned(),
            PasswordSource::Env(var) => format!("env:{var}"),
            PasswordSource::File(path) => format!("file:{}", path.display()),
        }
    }

    pub fn from_stored(text: &str) -> Result<Self> {
        match text.split_once(':') {
            None if text == "keyring" => Ok(PasswordSource::Keyring),
            Some(("env", var)) => Ok(PasswordSource::Env(var.to_owned())),
            Some(("file", path)) => Ok(PasswordSource::File(PathBuf::from(path))),
            _ => Err(Error::new(
                ErrorCode::Store,
                format!("unknown password source `{text}` in the store"),
            )),
        }
    }

    /// Reads the password. `key` is the keyring key for [`PasswordSource::Keyring`].
    pub fn read(&self, secrets: &dyn SecretStore, key: &str) -> Result<String> {
        match self {
            PasswordSource::Keyring => secrets.get(key)?.ok_or_else(|| {
                Error::new(
                    ErrorCode::SecretStoreUnavailable,
                    "no password for this connection is in the OS keyring",
                )
                .with_hint("add the connection again with its password")
            }),
            PasswordSource::Env(var) => std::env::var(var).map_err(|_| {
                Error::new(
                    ErrorCode::AuthFailed,
                    format!("the environment variable {var} holding the password is not set"),
                )
                .with_hint(format!("set {var} for the process that runs backups"))
            }),
            PasswordSource::File(path) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    if let Ok(meta) = std::fs::metadata(path) {
                        if meta.permissions().mode() & 0o077 != 0 {
                            return Err(Error::new(
                                ErrorCode::PermissionDenied,
                                format!(
                                    "the password file {} is readable by other users",
                                    path.display()
                                ),
                            )
                            .with_hint(format!("run: chmod 600 {}", path.display())));
                        }
                    }
                }
                let text = std::fs::read_to_string(path).map_err(|e| {
                    crate::error::io_error(
                        e,
                        &format!("cannot read the password file {}", path.display()),
                    )
                })?;
                Ok(text.trim_end_matches(['\r', '\n']).to_owned())
            }
        }
    }
}

#[cfg(test)]
mod mock_tests {
    #[test]
    fn the_mock_keyring_is_recognised_by_its_type() {
        let mock = keyring::Entry::new_with_credential(
            keyring::mock::default_credential_builder()
                .build(None, "billora-test", "x")
                .expect("a mock credential"),
        );
        assert!(super::is_mock(&mock), "the mock credential is recognised");
    }
}
