//! The HTTP API's tokens: created (shown once), listed (never shown), revoked, and checked.

use super::Api;
use crate::error::{Error, ErrorCode, Result};
use crate::store::StoreVersion;
use crate::token::{self, Role, TokenInfo};

impl Api {
    /// Creates a token for `name` with `role`; returns the token, which is never shown again.
    pub async fn create_token(&self, name: &str, role: Role) -> Result<String> {
        token::check_name(name)?;
        let (token, hash) = token::generate()?;
        self.store
            .add_token(name.trim(), role, &hash, self.now())
            .await?;
        Ok(token)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        self.store.list_tokens().await
    }

    pub async fn revoke_token(&self, name: &str) -> Result<()> {
        self.store.revoke_token(name.trim(), self.now()).await
    }

    /// The role of a presented token; `AuthFailed` for an unknown or revoked one (the error
    /// never contains the token).
    pub async fn authenticate(&self, presented: &str) -> Result<Role> {
        let unknown = || {
            Error::new(
                ErrorCode::AuthFailed,
                "the token is not valid (unknown or revoked)",
            )
            .with_hint("ask the administrator for a token: `billora-backup token create`")
        };
        if !presented.starts_with(token::PREFIX) || presented.len() > 200 {
            return Err(unknown());
        }
        let hash = token::hash(presented);
        // Read before the store is asked, so that a revoke committed after it is never hidden
        // by this answer.
        let version = self.store.version().await;
        if let Some(role) = self.recent_tokens.role(&hash, version) {
            return Ok(role);
        }
        let role = self
            .store
            .token_role(&hash, self.now())
            .await?
            .ok_or_else(unknown)?;
        self.recent_tokens.found(hash, role, version);
        Ok(role)
    }

    /// The store's version: equal versions mean nothing was committed in between, here or by
    /// another process. `None` when it cannot be told (then read afresh).
    pub async fn store_version(&self) -> Option<StoreVersion> {
        self.store.version().await
    }
}

/// Tokens found valid lately, so that a client polling the API is not checked against the
/// store on every request. An entry holds only while the store is unchanged since it was
/// checked (a revoke anywhere changes the store) and for at most [`Recent::FOR`], after which
/// the store is asked again (and notes the token's use).
#[derive(Debug, Default)]
pub(super) struct Recent {
    seen: std::sync::Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    version: Option<StoreVersion>,
    /// By the token's hash: its role, and when the store said so.
    roles: std::collections::HashMap<String, (Role, std::time::Instant)>,
}

impl Recent {
    pub const FOR: std::time::Duration = std::time::Duration::from_secs(60);
    /// Enough for every client of a small office; beyond it, the oldest are forgotten.
    const MAX: usize = 256;

    /// The role of the token with this hash, if it was found valid at `version` (an unknown
    /// version is never trusted).
    pub fn role(&self, hash: &str, version: Option<StoreVersion>) -> Option<Role> {
        let version = version?;
        let seen = self.seen.lock().expect("not poisoned");
        if seen.version != Some(version) {
            return None;
        }
        let (role, checked) = seen.roles.get(hash)?;
        (checked.elapsed() < Self::FOR).then_some(*role)
    }

    /// Notes that the store found the token valid, having read `version` before it looked.
    pub fn found(&self, hash: String, role: Role, version: Option<StoreVersion>) {
        let Some(version) = version else { return };
        let mut seen = self.seen.lock().expect("not poisoned");
        if seen.version != Some(version) {
            seen.version = Some(version);
            seen.roles.clear();
        }
        if seen.roles.len() >= Self::MAX {
            seen.roles.clear();
        }
        seen.roles.insert(hash, (role, std::time::Instant::now()));
    }
}
