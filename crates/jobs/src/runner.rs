//! The worker loop: claims due jobs, runs each with its kind's handler, records the outcome.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use crm_domain::jobs::{Job, Outcome};
use crm_domain::service::Crm;
use rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth another try later (a timeout, a 5xx, a 429).
    Retry(String),
    /// Will fail the same way every time (a 4xx, a bad payload): no more attempts.
    Permanent(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Retry(e) => write!(f, "{e}"),
            JobError::Permanent(e) => write!(f, "permanent: {e}"),
        }
    }
}

/// What runs the jobs of one kind.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn run(&self, job: &Job) -> Result<(), JobError>;

    /// How long a run may take before it is cut off (and retried): by default nine tenths of
    /// the lease. The runner renews the leases of the jobs it runs, so a kind whose one step
    /// may take longer (an import reading its whole file) may say more.
    fn limit(&self, lease: Duration) -> Duration {
        lease.mul_f64(0.9)
    }
}

/// How a node runs jobs.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// This node's name in `locked_by`; unique per process.
    pub node: String,
    /// Jobs run at once on this node.
    pub concurrency: usize,
    /// How long a claim holds a job unless renewed: the runner renews the leases of the jobs
    /// it runs every third of it, so a job comes back this long after its node died.
    pub lease: Duration,
    /// Longest wait between looks at the table when nothing signals (jobs enqueued by
    /// another node, leases running out).
    pub poll: Duration,
    /// The first retry's delay; each further one doubles, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// On shutdown, how long running jobs may take to finish before they are given back.
    pub grace: Duration,
    /// How long done and cancelled jobs, and webhook delivery logs, are kept.
    pub retention: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            node: format!(
                "{}-{}-{}",
                hostname(),
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            concurrency: 4,
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(12 * 3600),
            grace: Duration::from_secs(10),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned())
}

/// The delay before retry number `attempt` (1 for the first retry): `base × 2^(attempt−1)`,
/// capped at `max`, times a random factor in [0.75, 1.25) so that failed jobs do not all
/// come back at the same instant.
pub fn backoff(base: Duration, max: Duration, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let raw = base.saturating_mul(1u32 << exp).min(max);
    raw.mul_f64(rand::thread_rng().gen_range(0.75..1.25))
}

/// A task that stops when its handle goes (the runner's heartbeat stops with the runner, even
/// one dropped mid-run).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs jobs until shut down.
pub struct Runner {
    crm: Crm,
    handlers: HashMap<String, Arc<dyn Handler>>,
    config: RunnerConfig,
}

impl Runner {
    pub fn new(crm: Crm, config: RunnerConfig) -> Self {
        Self {
            crm,
            handlers: HashMap::new(),
            config,
        }
    }

    pub fn handle(mut self, kind: &str, handler: Arc<dyn Handler>) -> Self {
        self.handlers.insert(kind.to_owned(), handler);
        self
    }

    pub fn node(&self) -> &str {
        &self.config.node
    }

    /// Claims and runs jobs until `shutdown` resolves; then stops claiming, lets running
    /// jobs finish for up to `grace`, and gives back the rest.
    ///
    /// Outcomes are recorded by one recorder task, as many as have ended in one transaction
    /// (group commit); a job's slot frees only once its outcome is stored.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let store = self.crm.job_store();
        let signal = self.crm.job_signal();
        let this = Arc::new(self);
        let slots = Arc::new(Semaphore::new(this.config.concurrency.max(1)));
        let freed = Arc::new(tokio::sync::Notify::new());
        let (ended, mut outcomes) =
            tokio::sync::mpsc::unbounded_channel::<(Uuid, Outcome, OwnedSemaphorePermit)>();
        let recorder = {
            let (me, freed) = (this.clone(), freed.clone());
            tokio::spawn(async move {
                while let Some(first) = outcomes.recv().await {
                    let mut batch = vec![first];
                    while batch.len() < 256 {
                        match outcomes.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let list: Vec<(Uuid, Outcome)> =
                        batch.iter().map(|(id, o, _)| (*id, o.clone())).collect();
                    match me.crm.finish_jobs(&me.config.node, &list).await {
                        Ok(n) if n < list.len() as u64 => tracing::warn!(
                            lost = list.len() as u64 - n,
                            "some jobs were no longer ours when they ended (lease expired)"
                        ),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "recording job outcomes failed; their leases will expire")
                        }
                    }
                    drop(batch);
                    freed.notify_one();
                }
            })
        };
        // The heartbeat: while this node runs jobs, their leases are renewed every third of a
        // lease, so another node takes one over only once this one has stopped renewing it.
        let heartbeat = AbortOnDrop({
            let (store, node, lease) = (store.clone(), this.config.node.clone(), this.config.lease);
            let busy = slots.clone();
            let concurrency = this.config.concurrency.max(1);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(lease / 3);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if busy.available_permits() == concurrency {
                        continue;
                    }
                    if let Err(e) = store.extend(&node, lease, crm_domain::clock::now()).await {
                        tracing::warn!(error = %e, "renewing job leases failed");
                    }
                }
            })
        });
        let mut running = JoinSet::new();
        tokio::pin!(shutdown);
        tracing::info!(node = %this.config.node, concurrency = this.config.concurrency, "job runner started");
        let mut purged_at: Option<std::time::Instant> = None;
        // Expired leases and schedules are looked at once per poll interval (or when a
        // commit signals), not on every claim.
        let mut looked_at: Option<std::time::Instant> = None;
        let mut next_fire: Option<chrono::DateTime<Utc>> = None;
        loop {
            if looked_at.is_none_or(|t| t.elapsed() >= this.config.poll) {
                looked_at = Some(std::time::Instant::now());
                match store.requeue_expired(crm_domain::clock::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(jobs = n, "requeued jobs whose lease ran out"),
                    Err(e) => tracing::warn!(error = %e, "requeueing expired jobs failed"),
                }
                next_fire = this.crm.next_schedule().await.ok().flatten();
            }
            if purged_at.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                purged_at = Some(std::time::Instant::now());
                let before = crm_domain::clock::now()
                    - chrono::Duration::from_std(this.config.retention)
                        .unwrap_or(chrono::Duration::days(7));
                match this.crm.purge_jobs(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "purged old jobs and delivery logs"),
                    Err(e) => tracing::warn!(error = %e, "purging old jobs failed"),
                }
            }
            while running.try_join_next().is_some() {}
            if next_fire.is_some_and(|at| at <= crm_domain::clock::now()) {
                if let Err(e) = this.crm.fire_schedules(crm_domain::clock::now()).await {
                    tracing::warn!(error = %e, "firing schedules failed");
                }
                next_fire = this.crm.next_schedule().await.ok().flatten();
            }
            let free = slots.available_permits();
            let mut claimed_all = false;
            if free > 0 {
                match store
                    .claim(
                        &this.config.node,
                        u32::try_from(free).unwrap_or(u32::MAX),
                        this.config.lease,
                        crm_domain::clock::now(),
                    )
                    .await
                {
                    Ok(jobs) => {
                        claimed_all = !jobs.is_empty() && jobs.len() == free;
                        for job in jobs {
                            let Ok(permit) = slots.clone().try_acquire_owned() else {
                                break;
                            };
                            let (me, ended) = (this.clone(), ended.clone());
                            running.spawn(async move {
                                let id = job.id;
                                let outcome = me.run_one(job).await;
                                let _ = ended.send((id, outcome, permit));
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming jobs failed"),
                }
            }
            if claimed_all || slots.available_permits() == 0 {
                // More may be due: look again as soon as slots free.
                tokio::select! {
                    () = &mut shutdown => break,
                    () = freed.notified() => continue,
                }
            }
            let due = store.next_due().await.ok().flatten();
            let wait = match due.into_iter().chain(next_fire).min() {
                Some(at) => (at - crm_domain::clock::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(this.config.poll),
                None => this.config.poll,
            };
            if wait.is_zero() {
                // Due now but nothing was claimed (another node holds it): do not spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            tokio::select! {
                () = &mut shutdown => break,
                // A commit may have saved a schedule: read when the next one fires.
                () = signal.notified() => next_fire = this.crm.next_schedule().await.ok().flatten(),
                () = tokio::time::sleep(wait) => {}
                () = freed.notified() => {}
            }
        }
        tracing::info!(node = %this.config.node, running = running.len(), "job runner stopping");
        let drained = tokio::time::timeout(this.config.grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            running.abort_all();
            while running.join_next().await.is_some() {}
        }
        // Every outcome that ended is stored before the rest is given back.
        drop(ended);
        let _ = recorder.await;
        drop(heartbeat);
        match store.release(&this.config.node).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "gave back unfinished jobs"),
            Err(e) => {
                tracing::warn!(error = %e, "giving back jobs failed; their leases will expire")
            }
        }
    }

    async fn run_one(&self, job: Job) -> Outcome {
        let outcome = match self.handlers.get(&job.kind) {
            None => Outcome::Dead {
                error: format!("no handler for job kind '{}'", job.kind),
            },
            Some(h) => {
                // A run that hangs is cut off (its lease is renewed meanwhile).
                let limit = h.limit(self.config.lease);
                match tokio::time::timeout(limit, h.run(&job)).await {
                    Ok(Ok(())) => Outcome::Done,
                    Ok(Err(JobError::Permanent(error))) => Outcome::Dead { error },
                    Ok(Err(JobError::Retry(error))) => self.retry_or_bury(&job, error),
                    Err(_) => self.retry_or_bury(&job, format!("timed out after {limit:?}")),
                }
            }
        };
        match &outcome {
            Outcome::Done => tracing::debug!(id = %job.id, kind = %job.kind, "job done"),
            Outcome::Retry { at, error } => {
                tracing::info!(id = %job.id, kind = %job.kind, attempt = job.attempts, %at, %error, "job will retry");
            }
            Outcome::Dead { error } => {
                tracing::warn!(id = %job.id, kind = %job.kind, attempt = job.attempts, %error, "job dead");
            }
        }
        outcome
    }

    fn retry_or_bury(&self, job: &Job, error: String) -> Outcome {
        if job.attempts >= job.max_attempts {
            return Outcome::Dead {
                error: format!("{error} (after {} attempts)", job.attempts),
            };
        }
        let delay = backoff(
            self.config.backoff_base,
            self.config.backoff_max,
            job.attempts,
        );
        Outcome::Retry {
            at: crm_domain::clock::now()
                + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1)),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let (base, max) = (Duration::from_secs(10), Duration::from_secs(3600));
        for attempt in 1..=20 {
            let d = backoff(base, max, attempt);
            let exp = (base * 2u32.pow((attempt as u32 - 1).min(20))).min(max);
            assert!(
                d >= exp.mul_f64(0.75) && d < exp.mul_f64(1.25),
                "{attempt}: {d:?}"
            );
        }
        assert!(backoff(base, max, 0) < Duration::from_secs(13));
    }
}
