//! Runs `automation-step` jobs: one step of one automation run (`Crm::run_automation_step`),
//! its action and the steps after it in one unit of work.

use async_trait::async_trait;
use crm_domain::automation::StepJob;
use crm_domain::jobs::Job;
use crm_domain::service::Crm;

use crate::runner::{Handler, JobError};

pub struct RunStep {
    pub crm: Crm,
}

#[async_trait]
impl Handler for RunStep {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let p: StepJob = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad automation step payload: {e}")))?;
        self.crm
            .run_automation_step(job.tenant_id, &p)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}
