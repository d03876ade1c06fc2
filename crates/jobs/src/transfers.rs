//! Runs `import` and `export` jobs (`crm_domain::transfer`): each run goes on for a share of
//! its lease, then leaves the job that continues from the cursor it recorded.

use std::time::Duration;

use async_trait::async_trait;
use crm_domain::jobs::Job;
use crm_domain::service::{Crm, TransferJob};
use crm_domain::transfer::{EXPORT_JOB, IMPORT_JOB};

use crate::runner::{Handler, JobError};

pub struct Transfers {
    crm: Crm,
    budget: Duration,
}

impl Transfers {
    /// Each run stays well inside the job lease: a third of it, ten seconds at most.
    pub fn new(crm: Crm, lease: Duration) -> Self {
        Self {
            crm,
            budget: (lease / 3).min(Duration::from_secs(10)),
        }
    }
}

#[async_trait]
impl Handler for Transfers {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let p: TransferJob = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad transfer payload: {e}")))?;
        let quiet = |_: &crm_domain::transfer::Transfer| {};
        let run = match job.kind.as_str() {
            IMPORT_JOB => {
                self.crm
                    .run_import(job.tenant_id, p.id, self.budget, false, &quiet)
                    .await
            }
            EXPORT_JOB => {
                self.crm
                    .run_export(job.tenant_id, p.id, self.budget, false, &quiet)
                    .await
            }
            other => return Err(JobError::Permanent(format!("not a transfer job: {other}"))),
        };
        run.map(|_| ()).map_err(|e| JobError::Retry(e.to_string()))
    }

    /// Chunks stay within the budget, but an import first reads its whole file (bounded by
    /// `CRM_MAX_IMPORT_BYTES`) in one step, which a slow disk or a busy machine may stretch
    /// past a lease: a run is cut off only after half an hour.
    fn limit(&self, lease: Duration) -> Duration {
        lease.mul_f64(0.9).max(Duration::from_secs(30 * 60))
    }
}
