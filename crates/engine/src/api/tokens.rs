//! The HTTP API's tokens: created (shown once), listed (never shown), revoked, and checked.

use super::Api;
use crate::error::{Error, ErrorCode, Result};
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
        self.store
            .token_role(&token::hash(presented), self.now())
            .await?
            .ok_or_else(unknown)
    }
}
