//! Events and webhook endpoints: a write names its event, and inside the same unit of work
//! the event becomes one delivery job per endpoint that wants it.

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use uuid::Uuid;

use super::{Crm, Managed};
use crate::common::Actor;
use crate::error::{DomainError, DomainResult};
use crate::jobs::{next_run, Job, JobFilter, JobState, KindStats, NewJob, Outcome, Schedule};
use crate::webhooks::{
    check_endpoint, Delivery, DeliveryJob, Endpoint, DELIVERY_ATTEMPTS, DELIVERY_JOB, MAX_ENDPOINTS,
};
use crate::work::{At, Work};

/// A fresh Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64.
fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// Appends the audit entry of a change to the unit of work, with the fields its update
/// changed when the store noted them.
fn record_change(w: &mut Work, actor: &Actor, object: &str, action: &str, id: Uuid) {
    let mut entry = crate::audit::Entry::by_actor(actor, object, action, id);
    entry.changes = w.take_changes(id);
    w.audit(entry);
}

impl Crm {
    /// The event `<kind>.<action>` of a record of kind `E`, when `E` has events.
    pub(crate) async fn emit_kind<E: Managed>(
        &self,
        w: &mut Work,
        actor: &Actor,
        action: &str,
        id: Uuid,
    ) -> DomainResult<()> {
        match E::EVENT {
            Some(object) => self.emit(w, actor, object, action, id).await,
            None => {
                record_change(w, actor, &E::NAME.replace(' ', "_"), action, id);
                Ok(())
            }
        }
    }

    /// Records the change `<object>.<action>` of record `id` in the audit trail, starts the
    /// automations it triggers, and fans the event out to the tenant's endpoints that want
    /// it: one delivery job each, all in the caller's unit of work. The body names the record
    /// by id, in our own neutral JSON; a receiver reads the record through any API.
    pub async fn emit(
        &self,
        w: &mut Work,
        actor: &Actor,
        object: &str,
        action: &str,
        id: Uuid,
    ) -> DomainResult<()> {
        record_change(w, actor, object, action, id);
        self.enroll(w, actor, object, action, id).await?;
        let event = format!("{object}.{action}");
        let endpoints = self.endpoints_in(w, actor).await?;
        let wanted: Vec<_> = endpoints.iter().filter(|e| e.wants(&event)).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let msg_id = format!("msg_{}", Uuid::now_v7().simple());
        let body = serde_json::json!({
            "type": event,
            "timestamp": crate::clock::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": {
                "object": object,
                "id": id,
                "tenant_id": actor.tenant_id.0,
                "actor": {"id": actor.id, "name": actor.name},
            },
        })
        .to_string();
        for e in wanted {
            let payload = DeliveryJob {
                endpoint_id: e.id,
                msg_id: msg_id.clone(),
                event: event.clone(),
                body: body.clone(),
            };
            self.enqueue_in(
                w,
                NewJob {
                    key: Some(format!("{msg_id}/{}", e.id)),
                    max_attempts: DELIVERY_ATTEMPTS,
                    ..NewJob::new(
                        actor.tenant_id,
                        DELIVERY_JOB,
                        serde_json::to_string(&payload).unwrap_or_default(),
                    )
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Whether any of the tenant's endpoints wants `event` (to skip work that only feeds it).
    pub(crate) async fn wants_event(
        &self,
        w: &mut Work,
        actor: &Actor,
        event: &str,
    ) -> DomainResult<bool> {
        let endpoints = self.endpoints_in(w, actor).await?;
        Ok(endpoints.iter().any(|e| e.wants(event)))
    }

    /// The tenant's endpoints, read in the unit of work once.
    async fn endpoints_in(
        &self,
        w: &mut Work,
        actor: &Actor,
    ) -> DomainResult<std::sync::Arc<Vec<crate::webhooks::Endpoint>>> {
        if let Some((tenant, list)) = &w.endpoints {
            if *tenant == actor.tenant_id {
                return Ok(list.clone());
            }
        }
        let list = std::sync::Arc::new(
            self.webhooks
                .endpoints(At::Work(w), actor.tenant_id)
                .await?,
        );
        w.endpoints = Some((actor.tenant_id, list.clone()));
        Ok(list)
    }

    /// Enqueues a job in the unit of work; the runner is woken once the work commits.
    pub async fn enqueue_in(&self, w: &mut Work, job: NewJob) -> DomainResult<Uuid> {
        job.validate()?;
        let id = self.jobs.enqueue(w, job).await?;
        let signal = self.job_signal.clone();
        w.on_commit(move || signal.notify_one());
        Ok(id)
    }

    /// Enqueues one job in a unit of work of its own.
    pub async fn enqueue(&self, job: NewJob) -> DomainResult<Uuid> {
        let mut w = self.begin().await?;
        let id = self.enqueue_in(&mut w, job).await?;
        w.commit().await?;
        Ok(id)
    }

    /// Woken whenever a commit enqueued jobs.
    pub fn job_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.job_signal.clone()
    }

    /// The job table, for the runner and the operators' commands.
    pub fn job_store(&self) -> std::sync::Arc<dyn crate::jobs::JobStore> {
        self.jobs.clone()
    }

    pub async fn jobs(&self, filter: &JobFilter) -> DomainResult<Vec<Job>> {
        self.jobs.list(filter).await
    }

    pub async fn job(&self, id: Uuid) -> DomainResult<Job> {
        self.jobs
            .get(id)
            .await?
            .ok_or(DomainError::not_found("job"))
    }

    pub async fn retry_job(&self, id: Uuid) -> DomainResult<()> {
        if !self.jobs.retry_now(id).await? {
            return Err(DomainError::not_found("job"));
        }
        self.job_signal.notify_one();
        Ok(())
    }

    pub async fn cancel_job(&self, id: Uuid) -> DomainResult<()> {
        let job = self.job(id).await?;
        if job.state != JobState::Queued || !self.jobs.cancel(id).await? {
            return Err(DomainError::conflict(
                None,
                format!(
                    "job is {}, only a queued job can be cancelled",
                    job.state.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// Removes done and cancelled jobs, and webhook delivery logs, older than `before`.
    pub async fn purge_jobs(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        Ok(self.jobs.purge(before).await? + self.webhooks.purge_deliveries(before).await?)
    }

    /// Queue depth and counts per kind and state.
    pub async fn job_stats(&self) -> DomainResult<Vec<KindStats>> {
        self.jobs.stats(crate::clock::now()).await
    }

    /// Records how runs ended (for the runner).
    pub async fn finish_jobs(&self, node: &str, outcomes: &[(Uuid, Outcome)]) -> DomainResult<u64> {
        self.jobs.finish(node, outcomes).await
    }

    /// Registers an endpoint; the answer carries the signing secret, shown this once.
    pub async fn add_webhook(
        &self,
        actor: &Actor,
        url: &str,
        events: Vec<String>,
    ) -> DomainResult<Endpoint> {
        let url = url.trim();
        check_endpoint(url, &events)?;
        let mut events = events;
        events.sort();
        events.dedup();
        let mut w = self.begin().await?;
        w.lock(actor.tenant_id, crate::work::Lock::Dedup).await?;
        let existing = self
            .webhooks
            .endpoints(At::Work(&mut w), actor.tenant_id)
            .await?;
        if existing.len() >= MAX_ENDPOINTS {
            return Err(DomainError::validation(
                "url",
                format!("a tenant has at most {MAX_ENDPOINTS} endpoints"),
            ));
        }
        let endpoint = Endpoint {
            id: Uuid::now_v7(),
            tenant_id: actor.tenant_id,
            url: url.to_owned(),
            events,
            secret: new_secret(),
            disabled: false,
            created_at: crate::clock::now(),
        };
        self.webhooks.add_endpoint(&mut w, &endpoint).await?;
        w.commit().await?;
        Ok(endpoint)
    }

    pub async fn webhooks(&self, actor: &Actor) -> DomainResult<Vec<Endpoint>> {
        self.webhooks
            .endpoints(At::Committed, actor.tenant_id)
            .await
    }

    pub async fn webhook(&self, actor: &Actor, id: Uuid) -> DomainResult<Endpoint> {
        self.webhooks
            .endpoint(actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found("webhook endpoint"))
    }

    pub async fn set_webhook_disabled(
        &self,
        actor: &Actor,
        id: Uuid,
        disabled: bool,
    ) -> DomainResult<Endpoint> {
        if !self
            .webhooks
            .set_disabled(actor.tenant_id, id, disabled)
            .await?
        {
            return Err(DomainError::not_found("webhook endpoint"));
        }
        self.webhook(actor, id).await
    }

    /// A new secret; deliveries from now on are signed with it.
    pub async fn rotate_webhook_secret(&self, actor: &Actor, id: Uuid) -> DomainResult<Endpoint> {
        let secret = new_secret();
        if !self
            .webhooks
            .set_secret(actor.tenant_id, id, &secret)
            .await?
        {
            return Err(DomainError::not_found("webhook endpoint"));
        }
        self.webhook(actor, id).await
    }

    pub async fn delete_webhook(&self, actor: &Actor, id: Uuid) -> DomainResult<()> {
        if !self.webhooks.delete_endpoint(actor.tenant_id, id).await? {
            return Err(DomainError::not_found("webhook endpoint"));
        }
        Ok(())
    }

    /// The endpoint's latest deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: Uuid,
        limit: u32,
    ) -> DomainResult<Vec<Delivery>> {
        self.webhook(actor, id).await?;
        self.webhooks
            .deliveries(actor.tenant_id, id, limit.clamp(1, 500))
            .await
    }

    /// Sends a delivered (or dead) message again: a new job with the same message id and
    /// body, so the receiver can tell it is the same message.
    pub async fn redeliver(&self, actor: &Actor, delivery: Uuid) -> DomainResult<Uuid> {
        let d = self
            .webhooks
            .delivery(actor.tenant_id, delivery)
            .await?
            .ok_or(DomainError::not_found("delivery"))?;
        let job = self.job(d.job_id).await?;
        let payload: DeliveryJob = serde_json::from_str(&job.payload)
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored delivery job: {e}")))?;
        self.enqueue(NewJob {
            max_attempts: DELIVERY_ATTEMPTS,
            ..NewJob::new(
                actor.tenant_id,
                DELIVERY_JOB,
                serde_json::to_string(&payload).unwrap_or_default(),
            )
        })
        .await
    }

    /// An endpoint by id (for the worker delivering to it).
    pub async fn webhook_for_delivery(&self, id: Uuid) -> DomainResult<Option<Endpoint>> {
        self.webhooks.endpoint_by_id(id).await
    }

    pub async fn log_delivery(&self, delivery: &Delivery) -> DomainResult<()> {
        self.webhooks.log_delivery(delivery).await
    }

    /// Saves a recurring job for the tenant: `cron` read in the tenant's time zone.
    pub async fn schedule(
        &self,
        actor: &Actor,
        name: &str,
        kind: &str,
        payload: String,
        cron: &str,
    ) -> DomainResult<Schedule> {
        let name = crate::common::required("name", Some(name.to_owned()), crate::common::SHORT)?;
        NewJob::new(actor.tenant_id, kind, payload.clone()).validate()?;
        let now = crate::clock::now();
        let schedule = Schedule {
            id: Uuid::now_v7(),
            tenant_id: actor.tenant_id,
            name,
            kind: kind.to_owned(),
            payload,
            cron: cron.trim().to_owned(),
            time_zone: actor.time_zone.name().to_owned(),
            next_run_at: next_run(cron, actor.time_zone, now)?,
            created_at: now,
        };
        let mut w = self.begin().await?;
        self.jobs.save_schedule(&mut w, &schedule).await?;
        let signal = self.job_signal.clone();
        w.on_commit(move || signal.notify_one());
        w.commit().await?;
        Ok(schedule)
    }

    pub async fn schedules(
        &self,
        tenant: Option<crate::ids::TenantId>,
    ) -> DomainResult<Vec<Schedule>> {
        self.jobs.schedules(tenant).await
    }

    pub async fn unschedule(&self, actor: &Actor, name: &str) -> DomainResult<()> {
        let mut w = self.begin().await?;
        if !self
            .jobs
            .delete_schedule(&mut w, actor.tenant_id, name)
            .await?
        {
            return Err(DomainError::not_found("schedule"));
        }
        w.commit().await
    }

    /// Enqueues one job for every schedule due at `now` and moves each to its next instant,
    /// in one unit of work. Runs missed while no node ran collapse into one. Returns how
    /// many fired.
    pub async fn fire_schedules(&self, now: DateTime<Utc>) -> DomainResult<usize> {
        match self.jobs.next_schedule().await? {
            Some(at) if at <= now => {}
            _ => return Ok(0),
        }
        let mut w = self.begin().await?;
        let due = self.jobs.due_schedules(&mut w, now, 100).await?;
        for s in &due {
            self.enqueue_in(
                &mut w,
                NewJob {
                    run_at: Some(s.next_run_at),
                    key: Some(format!(
                        "schedule:{}:{}",
                        s.id,
                        s.next_run_at.timestamp_millis()
                    )),
                    ..NewJob::new(s.tenant_id, &s.kind, s.payload.clone())
                },
            )
            .await?;
            let tz: chrono_tz::Tz = s.time_zone.parse().unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
            let next = next_run(&s.cron, tz, now.max(s.next_run_at))?;
            self.jobs.set_next_run(&mut w, s.id, next).await?;
        }
        w.commit().await?;
        Ok(due.len())
    }

    /// The earliest instant a schedule fires.
    pub async fn next_schedule(&self) -> DomainResult<Option<DateTime<Utc>>> {
        self.jobs.next_schedule().await
    }
}
