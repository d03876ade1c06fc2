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

/// Runs `automation-date` jobs: a date trigger's evaluation, a page of customers per unit of
/// work, for a budget inside the job lease; the rest in a new job.
pub struct FireDate {
    crm: Crm,
    budget: std::time::Duration,
}

impl FireDate {
    pub fn new(crm: Crm, lease: std::time::Duration) -> Self {
        Self {
            crm,
            budget: (lease / 3).min(crate::campaigns::BUDGET),
        }
    }
}

#[async_trait]
impl Handler for FireDate {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let p: crm_domain::automation::DateFire = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad date trigger payload: {e}")))?;
        self.crm
            .fire_date_automation(job.tenant_id, &p, self.budget)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}
