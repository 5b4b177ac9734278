//! Test-restoring a backup into a scratch database and comparing it.

use super::Api;
use crate::error::Result;

impl Api {
    /// Test-restores a backup into a scratch database and compares it (see [`crate::verify`]).
    /// `from` names the destination whose copy to check (None: the local file, else any copy).
    pub async fn verify_backup(
        &self,
        run_id: i64,
        from: Option<String>,
    ) -> Result<crate::verify::VerifyReport> {
        let target =
            crate::verify::target_for_run(&self.store, &*self.secrets, run_id, None).await?;
        let from = from.filter(|f| !f.is_empty());
        crate::verify::verify_run(
            &self.store,
            &*self.secrets,
            run_id,
            target,
            from.as_deref(),
            self.now(),
        )
        .await
    }
}
