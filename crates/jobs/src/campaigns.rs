//! Runs `campaign` jobs: fans a campaign out into one message per recipient, a page per unit
//! of work (`Crm::run_blast`), leaving a job to go on when its time is up.

use std::time::Duration;

use async_trait::async_trait;
use crm_domain::campaign::BlastJob;
use crm_domain::jobs::Job;
use crm_domain::service::Crm;

use crate::runner::{Handler, JobError};

/// How long one run fans out before it hands over to the next job, at most.
pub const BUDGET: Duration = Duration::from_secs(2);

pub struct FanOut {
    crm: Crm,
    budget: Duration,
}

impl FanOut {
    /// Each run stays well inside the job lease: a third of it, two seconds at most.
    pub fn new(crm: Crm, lease: Duration) -> Self {
        Self {
            crm,
            budget: (lease / 3).min(BUDGET),
        }
    }
}

#[async_trait]
impl Handler for FanOut {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let p: BlastJob = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad campaign payload: {e}")))?;
        self.crm
            .run_blast(job.tenant_id, &p, self.budget)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}
