//! Test-restoring a backup into a scratch database and comparing it.

use serde::Deserialize;

use super::Api;
use crate::error::Result;

/// Which backup to test-restore, and where.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub run_id: i64,
    /// The destination whose copy to check (None: the local file, else any copy).
    #[serde(default)]
    pub from: Option<String>,
    /// The connection whose server holds the scratch database (None: the schedule's).
    #[serde(default)]
    pub on: Option<String>,
}

impl Api {
    /// Test-restores a backup into a scratch database and compares it (see [`crate::verify`]).
    pub async fn verify_backup(
        &self,
        request: VerifyRequest,
    ) -> Result<crate::verify::VerifyReport> {
        // Not while its schedule is backed up, verified or restored elsewhere.
        let _lock = self
            .lock_run_schedule(request.run_id, "a verification")
            .await?;
        let on = request.on.filter(|c| !c.is_empty());
        let target = crate::verify::target_for_run(
            &self.store,
            &*self.secrets,
            request.run_id,
            on.as_deref(),
        )
        .await?;
        let from = request.from.filter(|f| !f.is_empty());
        crate::verify::verify_run(
            &self.store,
            &*self.secrets,
            request.run_id,
            target,
            from.as_deref(),
            self.now(),
        )
        .await
    }
}
