//! Bearer tokens of the HTTP API: who may do what. A token is 32 random bytes, shown once as
//! `bbk_` + base64url; the store keeps only its SHA-256, so a copy of the store grants
//! nothing. Two roles: `admin` (the spec's `isAdmin`: every route) and `monitor` (reads
//! `/metrics` and a run's state only).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a token may do.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every route: the spec's schedule and history routes (its `isAdmin`).
    Admin,
    /// `/metrics` and `/backup/runs/:id` only: for monitoring.
    Monitor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Monitor => "monitor",
        }
    }

    pub fn parse(text: &str) -> Result<Role> {
        match text {
            "admin" => Ok(Role::Admin),
            "monitor" => Ok(Role::Monitor),
            other => Err(Error::invalid(
                "role",
                format!("`{other}` is not a role: use admin or monitor"),
            )),
        }
    }
}

/// A token as `token list` shows it: never the token itself.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The prefix of every token (so a leaked one is recognisable in a scan).
pub const PREFIX: &str = "bbk_";

/// A new random token and the hash the store keeps.
pub fn generate() -> Result<(String, String)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::new(
            crate::error::ErrorCode::Io,
            format!("the system gave no randomness for a token: {e}"),
        )
    })?;
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash(&token);
    Ok((token, hash))
}

/// The SHA-256 (hex) the store keeps for a token.
pub fn hash(token: &str) -> String {
    crate::artifact::hex(&crate::artifact::Sha256::digest(token.as_bytes()))
}

/// Whether two hashes are equal, in time that does not depend on where they differ.
pub fn same_hash(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A token's name: what `token revoke NAME` names.
pub fn check_name(name: &str) -> Result<()> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Error::invalid(
            "name",
            "give the token a name of 1-64 characters without spaces (who or what uses it)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let (a, ha) = generate().expect("a token");
        let (b, hb) = generate().expect("another");
        assert!(
            a.starts_with(PREFIX) && a.len() > 40,
            "a long prefixed token: {a}"
        );
        assert_ne!(a, b, "two tokens differ");
        assert_eq!(hash(&a), ha, "the hash is the token's SHA-256");
        assert!(
            same_hash(&ha, &hash(&a)) && !same_hash(&ha, &hb),
            "hashes compare"
        );
        assert!(
            !ha.contains(&a[PREFIX.len()..]),
            "the hash does not contain the token"
        );
    }

    #[test]
    fn names_and_roles_are_checked() {
        assert!(check_name("grafana").is_ok(), "a plain name");
        assert!(check_name("two words").is_err(), "no spaces");
        assert!(check_name("").is_err(), "not empty");
        assert_eq!(
            Role::parse("monitor").expect("role"),
            Role::Monitor,
            "monitor"
        );
        assert!(Role::parse("root").is_err(), "an unknown role");
    }
}
