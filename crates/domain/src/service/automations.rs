//! Automations that run: a record event enrolls the record in the tenant's active automations
//! that the event starts (in the unit of work of the write, whichever dialect made it), and
//! each step of a run is a durable job that does its action and reaches the steps after it, in
//! one unit of work of its own. See `docs/automations.md`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::campaigns::{customer_recipient, lead_recipient, render};
use super::Crm;
use crate::automation::{
    Action, DateFire, DateRule, Flow, Step, StepJob, StepRun, StepState, Subject, DATE_JOB,
    STEP_ATTEMPTS, STEP_JOB, TRIGGER_EVENTS,
};
use crate::common::Actor;
use crate::customer::Customer;
use crate::error::{DomainError, DomainResult};
use crate::ids::{CustomerId, DefinitionId, TenantId};
use crate::jobs::NewJob;
use crate::lead::Lead;
use crate::messaging::SendState;
use crate::search::{Filter, PageRequest};
use crate::work::{At, Work};

/// The definition kind automations are stored under.
pub const AUTOMATION_KIND: &str = "automation";

/// How deep the history pages go (rows skipped): older runs are reached by narrower pages
/// of a later version of this endpoint, not by walking an offset.
pub const MAX_RUNS_OFFSET: u32 = 100_000;

fn customer_subject(c: &Customer) -> Subject {
    let recipient = customer_recipient(c);
    let mut s = Subject {
        record: format!("customer:{}", c.seq),
        ..Subject::default()
    };
    fill_values(&mut s, &recipient);
    s.recipient = recipient;
    s
}

fn fill_values(s: &mut Subject, r: &crate::campaign::Recipient) {
    for (k, v) in [
        ("name", &r.name),
        ("phone", &r.phone),
        ("email", &r.email),
        ("code", &r.code),
        ("address", &r.address),
        ("birthday", &r.birthday),
    ] {
        if let Some(v) = v {
            s.values.insert(k.to_owned(), v.clone());
        }
    }
}

impl Crm {
    /// Stores an automation: the vendor's body as sent and the flow read from it (`None`: one
    /// that cannot run, kept as sent), in one unit of work. Runs in progress keep the flow they
    /// enrolled with.
    pub async fn save_automation(
        &self,
        actor: &Actor,
        id: Option<DefinitionId>,
        name: String,
        body: String,
        flow: Option<&Flow>,
    ) -> DomainResult<DefinitionId> {
        if let Some(flow) = flow {
            flow.validate()?;
        }
        let mut w = self.begin().await?;
        let id = self
            .registry
            .save_definition(&mut w, actor, AUTOMATION_KIND, id, name, body)
            .await?;
        match flow {
            Some(flow) => {
                self.automations
                    .save_flow(&mut w, actor.tenant_id, id.0, flow)
                    .await?;
                if let Some(rule) = &flow.date {
                    self.schedule_date_rule(&mut w, actor, id.0, rule).await?;
                }
            }
            None => {
                self.automations
                    .remove_flow(&mut w, actor.tenant_id, id.0)
                    .await?
            }
        }
        w.commit().await?;
        Ok(id)
    }

    /// Enrolls record `id` in the tenant's active automations that `<object>.<action>` starts
    /// and whose conditions it meets, once per record and period of the automation's repeat.
    pub(crate) async fn enroll(
        &self,
        w: &mut Work,
        actor: &Actor,
        object: &str,
        action: &str,
        id: Uuid,
    ) -> DomainResult<()> {
        let trigger = format!("{object}.{action}");
        if !TRIGGER_EVENTS.contains(&trigger.as_str()) {
            return Ok(());
        }
        let flows = self
            .automations
            .flows_for(At::Work(w), actor.tenant_id, &trigger)
            .await?;
        if flows.is_empty() {
            return Ok(());
        }
        let Some(subject) = self.subject_of(w, actor, object, id).await? else {
            return Ok(());
        };
        let now = crate::clock::now();
        for (automation_id, flow) in flows {
            self.enroll_subject(
                w,
                actor.tenant_id,
                actor.time_zone,
                automation_id,
                &flow,
                &subject,
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// Enrolls `subject` in one automation when it meets the conditions and has not entered
    /// in this period.
    #[allow(clippy::too_many_arguments)]
    async fn enroll_subject(
        &self,
        w: &mut Work,
        tenant: TenantId,
        tz: chrono_tz::Tz,
        automation_id: i64,
        flow: &Flow,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        if !flow.active || !flow.conditions.iter().all(|c| c.holds(subject)) {
            return Ok(());
        }
        let run_key = format!("{}/{}", subject.record, flow.repeat.period(now, tz));
        for step in flow.first() {
            self.reach_step(w, tenant, automation_id, &run_key, flow, subject, step, now)
                .await?;
        }
        Ok(())
    }

    /// Saves the schedule that evaluates a date trigger (`automation:<id>`), or for a one-off
    /// the one job that does, in the caller's unit of work.
    async fn schedule_date_rule(
        &self,
        w: &mut Work,
        actor: &Actor,
        automation_id: i64,
        rule: &DateRule,
    ) -> DomainResult<()> {
        let payload = serde_json::to_string(&DateFire {
            automation_id,
            fired_at: None,
            cursor: 0,
        })
        .map_err(|e| DomainError::Internal(e.into()))?;
        let now = crate::clock::now();
        match rule.cron() {
            Some(cron) => {
                let schedule = crate::jobs::Schedule {
                    id: Uuid::now_v7(),
                    tenant_id: actor.tenant_id,
                    name: format!("automation:{automation_id}"),
                    kind: DATE_JOB.to_owned(),
                    payload,
                    next_run_at: crate::jobs::next_run(&cron, rule.tz(), now)?,
                    cron,
                    time_zone: rule.time_zone.clone(),
                    created_at: now,
                };
                self.jobs.save_schedule(w, &schedule).await?;
                let signal = self.job_signal.clone();
                w.on_commit(move || signal.notify_one());
            }
            None => {
                let at = rule.once_at.unwrap_or(now);
                let mut job = NewJob::new(actor.tenant_id, DATE_JOB, payload);
                job.key = Some(format!(
                    "automation:{automation_id}:once:{}",
                    at.timestamp()
                ));
                job.run_at = Some(at);
                self.enqueue_in(w, job).await?;
            }
        }
        Ok(())
    }

    /// Evaluates a date trigger (its job): the customers whose date falls in the window of the
    /// day it runs (a day no node ran is not made up) enter, a page per unit of work, for
    /// `budget`; a job to go on is left with the cursor.
    pub async fn fire_date_automation(
        &self,
        tenant: TenantId,
        fire: &DateFire,
        budget: std::time::Duration,
    ) -> DomainResult<()> {
        let started = std::time::Instant::now();
        let fired_at = fire.fired_at.unwrap_or_else(crate::clock::now);
        let mut cursor = fire.cursor;
        loop {
            let mut w = self.begin().await?;
            let Some(flow) = self
                .automations
                .flow(At::Work(&mut w), tenant, fire.automation_id)
                .await?
            else {
                return Ok(());
            };
            let Some(rule) = flow.date.clone().filter(|_| flow.active) else {
                return Ok(());
            };
            let window = rule.window(fired_at);
            let yearly = flow.trigger == "date.birthday";
            let filter = if cursor > 0 {
                Filter::SeqBelow(cursor)
            } else {
                Filter::all()
            };
            let page = self
                .customers
                .search(
                    w.at(),
                    tenant,
                    &filter,
                    PageRequest::new(1, crate::campaign::PAGE)?,
                )
                .await?
                .items;
            let now = crate::clock::now();
            for c in &page {
                let date = if yearly {
                    c.data
                        .ext
                        .as_ref()
                        .and_then(|e| e.party.as_ref())
                        .and_then(|p| p.birthday)
                } else {
                    Some(c.audit.created_at.with_timezone(&rule.tz()).date_naive())
                };
                if date.is_some_and(|d| DateRule::matches(yearly, d, window)) {
                    self.enroll_subject(
                        &mut w,
                        tenant,
                        rule.tz(),
                        fire.automation_id,
                        &flow,
                        &customer_subject(c),
                        now,
                    )
                    .await?;
                }
            }
            let done = page.len() < crate::campaign::PAGE as usize;
            cursor = page.last().map_or(cursor, |c| c.seq);
            let hand_over = !done && started.elapsed() >= budget;
            if hand_over {
                let next = DateFire {
                    automation_id: fire.automation_id,
                    fired_at: Some(fired_at),
                    cursor,
                };
                let payload =
                    serde_json::to_string(&next).map_err(|e| DomainError::Internal(e.into()))?;
                let mut job = NewJob::new(tenant, DATE_JOB, payload);
                job.key = Some(format!(
                    "automation:{}:{}:{cursor}",
                    fire.automation_id,
                    fired_at.timestamp()
                ));
                self.enqueue_in(&mut w, job).await?;
            }
            w.commit().await?;
            if done || hand_over {
                return Ok(());
            }
        }
    }

    /// The triggering record as a run sees it; `None` for a record no automation can reach.
    async fn subject_of(
        &self,
        w: &mut Work,
        actor: &Actor,
        object: &str,
        id: Uuid,
    ) -> DomainResult<Option<Subject>> {
        // The customer a sale, deal or ticket belongs to is whom its automations reach.
        let of_customer = |customer: Option<Customer>, record: String| {
            customer.map(|c| Subject {
                record,
                ..customer_subject(&c)
            })
        };
        Ok(match object {
            "customer" => {
                let c = self
                    .get_at::<Customer>(At::Work(w), actor, CustomerId(id))
                    .await?;
                Some(customer_subject(&c))
            }
            "lead" => {
                let l = self
                    .get_at::<Lead>(At::Work(w), actor, crate::ids::LeadId(id))
                    .await?;
                let recipient = lead_recipient(&l);
                let mut s = Subject {
                    record: format!("lead:{}", l.seq),
                    ..Subject::default()
                };
                fill_values(&mut s, &recipient);
                for (k, v) in [("status", l.data.status), ("source", l.data.source)] {
                    if let Some(v) = v {
                        s.values.insert(k.to_owned(), v.to_string());
                    }
                }
                s.recipient = recipient;
                Some(s)
            }
            "opportunity" => {
                let o = self
                    .get_at::<crate::opportunity::Opportunity>(
                        At::Work(w),
                        actor,
                        crate::ids::OpportunityId(id),
                    )
                    .await?;
                let customer = self.customer_of(w, actor, o.data.customer_id).await?;
                of_customer(customer, format!("opportunity:{}", o.seq)).map(|mut s| {
                    if let Some(stage) = o.data.stage {
                        s.values.insert("stage".to_owned(), stage.to_string());
                    }
                    s
                })
            }
            "ticket" => {
                let t = self
                    .get_at::<crate::ticket::Ticket>(At::Work(w), actor, crate::ids::TicketId(id))
                    .await?;
                let customer = self.customer_of(w, actor, t.data.customer_id).await?;
                of_customer(customer, format!("ticket:{}", t.seq)).map(|mut s| {
                    s.values
                        .insert("status".to_owned(), t.data.status.to_string());
                    s
                })
            }
            "order" => {
                let o = self
                    .get_at::<crate::sales::Order>(At::Work(w), actor, crate::ids::OrderId(id))
                    .await?;
                let customer = self.customer_of(w, actor, o.data.customer_id).await?;
                of_customer(customer, format!("order:{}", o.seq))
            }
            _ => None,
        })
    }

    async fn customer_of(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: Option<CustomerId>,
    ) -> DomainResult<Option<Customer>> {
        match id {
            Some(id) => Ok(Some(self.get_at::<Customer>(At::Work(w), actor, id).await?)),
            None => Ok(None),
        }
    }

    /// Records that a run reached `step` and enqueues its job, due after the step's delay;
    /// nothing when the run reached it already.
    #[allow(clippy::too_many_arguments)]
    async fn reach_step(
        &self,
        w: &mut Work,
        tenant: TenantId,
        automation_id: i64,
        run_key: &str,
        flow: &Flow,
        subject: &Subject,
        step: &Step,
        after: DateTime<Utc>,
    ) -> DomainResult<()> {
        let now = crate::clock::now();
        let due = after + chrono::Duration::seconds(step.delay_secs);
        let run = StepRun {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            automation_id,
            run_key: run_key.to_owned(),
            record: subject.record.clone(),
            step: step.id,
            state: StepState::Queued,
            detail: None,
            message_id: None,
            due_at: due,
            created_at: now,
            updated_at: now,
        };
        if !self.automations.add_step_run(w, &run).await? {
            return Ok(());
        }
        let payload = StepJob {
            step_run: run.id,
            automation_id,
            run_key: run_key.to_owned(),
            step: step.id,
            flow: flow.clone(),
            subject: subject.clone(),
        };
        let payload =
            serde_json::to_string(&payload).map_err(|e| DomainError::Internal(e.into()))?;
        let mut job = NewJob::new(tenant, STEP_JOB, payload);
        job.key = Some(run.id.to_string());
        job.run_at = Some(due);
        job.max_attempts = STEP_ATTEMPTS;
        self.enqueue_in(w, job).await?;
        Ok(())
    }

    /// Runs one step of a run (its job): the action, its outcome and the steps after it, in
    /// one unit of work. A step that is no longer queued (done before a crash, say) is not run
    /// again.
    pub async fn run_automation_step(&self, tenant: TenantId, job: &StepJob) -> DomainResult<()> {
        let mut w = self.begin().await?;
        let Some(run) = self.automations.lock_step_run(&mut w, job.step_run).await? else {
            return Ok(());
        };
        if run.tenant_id != tenant || run.state != StepState::Queued {
            return Ok(());
        }
        let Some(step) = job.flow.steps.iter().find(|s| s.id == job.step) else {
            self.automations
                .finish_step_run(
                    &mut w,
                    run.id,
                    StepState::Failed,
                    Some("no such step"),
                    None,
                )
                .await?;
            return w.commit().await;
        };
        let (state, detail, message) = match &step.action {
            Action::Send { content } => {
                let channel = content.channel();
                let settings = self.messages.settings(w.at(), tenant, channel).await?;
                // One send record per run and step: a yearly run sends again next year.
                let campaign = format!(
                    "automation:{}:{}:{}",
                    job.automation_id, job.run_key, job.step
                );
                let mut page = vec![render(
                    tenant,
                    &campaign,
                    content,
                    &settings,
                    &job.subject.recipient,
                )];
                self.skip_unsubscribed(&mut w, tenant, channel, &mut page)
                    .await?;
                self.stage_messages(&mut w, &page).await?;
                let m = &page[0];
                match m.state {
                    SendState::Queued => (
                        StepState::Done,
                        format!("{} message queued to {}", channel.as_str(), m.recipient),
                        Some(m.id),
                    ),
                    _ => (
                        StepState::Failed,
                        m.reason.clone().unwrap_or_else(|| "not sent".to_owned()),
                        Some(m.id),
                    ),
                }
            }
            Action::Unsupported { reason } => (StepState::Failed, reason.clone(), None),
        };
        self.automations
            .finish_step_run(&mut w, run.id, state, Some(&detail), message)
            .await?;
        // A step that failed (no address, a placeholder without a value) does not stop the run.
        let now = crate::clock::now();
        for next in job.flow.after(step.id) {
            self.reach_step(
                &mut w,
                tenant,
                job.automation_id,
                &job.run_key,
                &job.flow,
                &job.subject,
                next,
                now,
            )
            .await?;
        }
        w.commit().await
    }

    /// What an automation ran: its step runs, newest first.
    pub async fn automation_runs(
        &self,
        actor: &Actor,
        automation: DefinitionId,
        page: u32,
        limit: u32,
    ) -> DomainResult<Vec<StepRun>> {
        if self
            .definition(actor, AUTOMATION_KIND, automation)
            .await?
            .is_none()
        {
            return Err(DomainError::not_found(AUTOMATION_KIND));
        }
        let limit = limit.clamp(1, crate::search::MAX_PAGE_SIZE);
        let offset = page.saturating_sub(1).saturating_mul(limit);
        if offset > MAX_RUNS_OFFSET {
            return Err(DomainError::validation(
                "page",
                format!("at most {MAX_RUNS_OFFSET} rows are skipped (page × size)"),
            ));
        }
        self.automations
            .step_runs(actor.tenant_id, automation.0, limit, offset)
            .await
    }
}
