//! Durable jobs: work the domain asks to be done after a write (deliver a webhook, send a
//! message), stored in the database in the same unit of work as that write.
//!
//! A rolled-back write enqueues nothing; a committed one always has its job. Workers
//! (`crm_jobs::Runner`) claim due jobs under a lease, run them, and record the outcome:
//! done, retried later with backoff, or dead with the last error kept. See `docs/jobs.md`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::work::Work;

/// Largest job payload, in bytes.
pub const MAX_PAYLOAD: usize = 512 * 1024;
/// Longest job kind and unique key.
pub const MAX_KEY: usize = 200;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for its `run_at` (a first run or a retry).
    Queued,
    /// Claimed by a node, under a lease.
    Running,
    Done,
    /// Out of attempts, or failed permanently; the last error is kept.
    Dead,
    /// Cancelled before it ran.
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub tenant_id: TenantId,
    pub kind: String,
    /// What the handler needs, as JSON text.
    pub payload: String,
    /// Not before this instant; now when `None`.
    pub run_at: Option<DateTime<Utc>>,
    /// At most one job per tenant, kind and key: enqueuing the same key again returns the
    /// first job's id.
    pub key: Option<String>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(tenant_id: TenantId, kind: &str, payload: String) -> Self {
        Self {
            tenant_id,
            kind: kind.to_owned(),
            payload,
            run_at: None,
            key: None,
            max_attempts: 10,
        }
    }

    pub fn validate(&self) -> DomainResult<()> {
        if self.kind.is_empty() || self.kind.len() > MAX_KEY {
            return Err(DomainError::validation("kind", "must be 1 to 200 bytes"));
        }
        if self.key.as_ref().is_some_and(|k| k.len() > MAX_KEY) {
            return Err(DomainError::validation("key", "must be at most 200 bytes"));
        }
        if self.payload.len() > MAX_PAYLOAD {
            return Err(DomainError::validation(
                "payload",
                format!("must be at most {MAX_PAYLOAD} bytes"),
            ));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(DomainError::validation(
                "max_attempts",
                "must be between 1 and 100",
            ));
        }
        Ok(())
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub kind: String,
    pub payload: String,
    pub state: JobState,
    /// Runs started so far (a claim counts as one).
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// Run again at the instant given; the error is kept.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// No more runs.
    Dead {
        error: String,
    },
}

/// Which jobs a listing shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub tenant_id: Option<TenantId>,
    pub kind: Option<String>,
    pub state: Option<JobState>,
    pub limit: u32,
}

/// Jobs per kind and state, for operators and metrics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KindStats {
    pub kind: String,
    /// Queued and due now (the queue depth).
    pub due: i64,
    /// Queued for later (scheduled, or waiting for a retry).
    pub scheduled: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
    pub cancelled: i64,
    /// Jobs whose last run failed and that will run again.
    pub failed: i64,
}

/// The job table.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Adds a job inside the unit of work; with a key already present, returns that job's id.
    async fn enqueue(&self, w: &mut Work, job: NewJob) -> DomainResult<Uuid>;
    /// Puts running jobs whose lease ran out (their node died) back in the queue.
    async fn requeue_expired(&self, now: DateTime<Utc>) -> DomainResult<u64>;
    /// Claims up to `limit` queued, due jobs for `node` until `now + lease`.
    async fn claim(
        &self,
        node: &str,
        limit: u32,
        lease: std::time::Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<Job>>;
    /// Records how runs by `node` ended, in one transaction; returns how many were still
    /// `node`'s (a job whose lease ran out may have been claimed elsewhere meanwhile).
    async fn finish(&self, node: &str, outcomes: &[(Uuid, Outcome)]) -> DomainResult<u64>;
    /// Renews the lease of every job `node` is running, until `now + lease` (the runner's
    /// heartbeat, so a run may outlast one lease); returns how many.
    async fn extend(
        &self,
        node: &str,
        lease: std::time::Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<u64>;
    /// Gives back every job `node` holds, to run again at once (graceful shutdown).
    async fn release(&self, node: &str) -> DomainResult<u64>;
    /// The earliest instant a queued job or a lease falls due, if any.
    async fn next_due(&self) -> DomainResult<Option<DateTime<Utc>>>;
    async fn list(&self, filter: &JobFilter) -> DomainResult<Vec<Job>>;
    async fn get(&self, id: Uuid) -> DomainResult<Option<Job>>;
    /// Runs a dead, cancelled or queued job again now, with a fresh set of attempts.
    async fn retry_now(&self, id: Uuid) -> DomainResult<bool>;
    /// Cancels a queued job.
    async fn cancel(&self, id: Uuid) -> DomainResult<bool>;
    async fn stats(&self, now: DateTime<Utc>) -> DomainResult<Vec<KindStats>>;
    /// Removes finished jobs older than `before`; returns how many.
    async fn purge(&self, before: DateTime<Utc>) -> DomainResult<u64>;
    /// Adds a schedule, or replaces the tenant's schedule of the same name.
    async fn save_schedule(&self, w: &mut Work, schedule: &Schedule) -> DomainResult<()>;
    async fn schedules(&self, tenant: Option<TenantId>) -> DomainResult<Vec<Schedule>>;
    async fn delete_schedule(
        &self,
        w: &mut Work,
        tenant: TenantId,
        name: &str,
    ) -> DomainResult<bool>;
    /// The earliest instant a schedule fires, if any.
    async fn next_schedule(&self) -> DomainResult<Option<DateTime<Utc>>>;
    /// Up to `limit` schedules due at `now`, held by this unit of work (on PostgreSQL
    /// `FOR UPDATE SKIP LOCKED`: another node firing schedules takes the others).
    async fn due_schedules(
        &self,
        w: &mut Work,
        now: DateTime<Utc>,
        limit: u32,
    ) -> DomainResult<Vec<Schedule>>;
    async fn set_next_run(&self, w: &mut Work, id: Uuid, next: DateTime<Utc>) -> DomainResult<()>;
}

/// A recurring job: at every instant `cron` names in the tenant's time zone, one job of
/// `kind` with `payload` is enqueued.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// Unique per tenant; saving a schedule of the same name replaces it.
    pub name: String,
    pub kind: String,
    pub payload: String,
    /// Five fields (minute hour day month weekday), or six with seconds first.
    pub cron: String,
    /// The IANA zone the expression is read in (the tenant's when it was saved).
    pub time_zone: String,
    pub next_run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The first instant after `after` that `cron` names in `tz`. A local time that a clock
/// change skips fires at the first instant after it; one that occurs twice fires once.
pub fn next_run(
    cron: &str,
    tz: chrono_tz::Tz,
    after: DateTime<Utc>,
) -> DomainResult<DateTime<Utc>> {
    let bad = |e: String| DomainError::validation("cron", e);
    if cron.len() > MAX_KEY {
        return Err(bad("must be at most 200 characters".to_owned()));
    }
    let parsed = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(cron.trim())
        .map_err(|e| bad(format!("is not a cron expression: {e}")))?;
    parsed
        .find_next_occurrence(&after.with_timezone(&tz), false)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| bad(format!("names no future instant: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cron_in_the_tenant_zone() {
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let after = Utc
            .with_ymd_and_hms(2026, 12, 1, 3, 0, 0)
            .single()
            .unwrap_or_default();
        // 09:00 in Hà Nội is 02:00 UTC: already past today, so tomorrow.
        let next = next_run("0 9 * * *", tz, after);
        assert_eq!(
            next.ok(),
            Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).single()
        );
        // Every 15 seconds.
        let next = next_run("*/15 * * * * *", tz, after);
        assert_eq!(
            next.ok(),
            Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 15).single()
        );
        assert!(next_run("61 * * * *", tz, after).is_err());
        assert!(next_run("nonsense", tz, after).is_err());
    }
}
