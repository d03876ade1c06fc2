//! Automations that run: a record event enrolls the record in the tenant's active automations
//! that the event starts (in the unit of work of the write, whichever dialect made it), and
//! each step of a run is a durable job that does its action and reaches the steps after it, in
//! one unit of work of its own. See `docs/automations.md`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::campaigns::{customer_recipient, lead_recipient, render_to};
use super::Crm;
use crate::automation::{
    Action, Flow, Step, StepJob, StepRun, StepState, Subject, STEP_ATTEMPTS, STEP_JOB,
    TRIGGER_EVENTS,
};
use crate::common::Actor;
use crate::customer::Customer;
use crate::error::{DomainError, DomainResult};
use crate::ids::{CustomerId, DefinitionId, TenantId};
use crate::jobs::NewJob;
use crate::lead::Lead;
use crate::messaging::{Channel, Message, SendState};
use crate::settings::Scope;
use crate::work::{At, Work};

/// The definition kind automations are stored under.
pub const AUTOMATION_KIND: &str = "automation";

/// How deep the history pages go (rows skipped): older runs are reached by narrower pages
/// of a later version of this endpoint, not by walking an offset.
pub const MAX_RUNS_OFFSET: u32 = 100_000;

/// One run of one automation, as the steps it reaches see it.
pub(super) struct Run<'a> {
    pub(super) automation_id: i64,
    /// The record and the period it entered in (`lead:12/once`).
    pub(super) run_key: String,
    pub(super) flow: &'a Flow,
    pub(super) subject: &'a Subject,
}

/// Steps that ran within a unit of work, written together by [`Crm::write_reached`], with the
/// channel settings read for them.
#[derive(Default)]
pub(super) struct Reached {
    rows: Vec<(StepRun, Option<Message>)>,
    settings: std::collections::HashMap<Channel, crate::messaging::Settings>,
    /// The tenant's staff, read for the first step that sends to one of them.
    staff: Option<Vec<crate::inventory::StaffUser>>,
}

/// What a step came to.
// Short-lived, moved once: boxing the message would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
enum Performed {
    /// A message to stage (rendered, not yet stored).
    Message(Message),
    /// A CRM action done in the unit of work: what it did.
    Did(String),
}

/// A step's state and detail from the message it staged.
fn outcome_of(m: &Message) -> (StepState, String) {
    match m.state {
        SendState::Queued => (
            StepState::Done,
            format!("{} message queued to {}", m.channel.as_str(), m.recipient),
        ),
        _ => (
            StepState::Failed,
            m.reason.clone().unwrap_or_else(|| "not sent".to_owned()),
        ),
    }
}

pub(super) fn customer_subject(c: &Customer) -> Subject {
    let recipient = customer_recipient(c);
    let mut s = Subject {
        record: format!("customer:{}", c.seq),
        id: Some(c.id.0),
        customer_id: Some(c.id.0),
        ..Subject::default()
    };
    fill_values(&mut s, &recipient);
    s.recipient = recipient;
    s
}

pub(super) fn lead_subject(l: &Lead) -> Subject {
    let recipient = lead_recipient(l);
    let mut s = Subject {
        record: format!("lead:{}", l.seq),
        id: Some(l.id.0),
        ..Subject::default()
    };
    fill_values(&mut s, &recipient);
    for (k, v) in [("status", l.data.status), ("source", l.data.source)] {
        if let Some(v) = v {
            s.values.insert(k.to_owned(), v.to_string());
        }
    }
    if let Some(t) = l.data.ext.as_ref().and_then(|e| e.status_text.clone()) {
        s.values.insert("status_text".to_owned(), t);
    }
    s.recipient = recipient;
    s
}

/// An order's run reaches its customer; the record is the order, once per order.
pub(super) fn order_subject(c: &Customer, o: &crate::sales::Order) -> Subject {
    Subject {
        record: format!("order:{}", o.seq),
        id: Some(o.id.0),
        ..customer_subject(c)
    }
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
        // A date trigger edited away (or to a one-off) leaves no schedule behind.
        if flow.and_then(|f| f.date.as_ref()?.cron()).is_none() {
            self.jobs
                .delete_schedule(&mut w, actor.tenant_id, &format!("automation:{}", id.0))
                .await?;
        }
        match flow {
            Some(flow) => {
                self.check_flow_refs(&mut w, actor.tenant_id, flow).await?;
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
        if w.automating || !TRIGGER_EVENTS.contains(&trigger.as_str()) {
            return Ok(());
        }
        let key = (actor.tenant_id, trigger);
        let flows = match w.flows.get(&key) {
            Some(f) => f.clone(),
            None => {
                let read = self
                    .automations
                    .flows_for(At::Work(w), actor.tenant_id, &key.1)
                    .await?;
                let read = std::sync::Arc::new(read);
                w.flows.insert(key, read.clone());
                read
            }
        };
        if flows.is_empty() {
            return Ok(());
        }
        let Some(subject) = self.subject_of(w, actor, object, id).await? else {
            return Ok(());
        };
        let now = crate::clock::now();
        let mut reached = Reached::default();
        for (automation_id, flow) in flows.iter() {
            let run = Run {
                automation_id: *automation_id,
                run_key: String::new(),
                flow,
                subject: &subject,
            };
            self.enroll_subject(w, actor.tenant_id, actor.time_zone, run, now, &mut reached)
                .await?;
        }
        self.write_reached(w, actor.tenant_id, reached).await
    }

    /// Enrolls the run's subject when it meets the conditions and has not entered in this
    /// period (the run's key is set here).
    pub(super) async fn enroll_subject(
        &self,
        w: &mut Work,
        tenant: TenantId,
        tz: chrono_tz::Tz,
        mut run: Run<'_>,
        now: DateTime<Utc>,
        reached: &mut Reached,
    ) -> DomainResult<()> {
        if !run.flow.active || !run.flow.conditions.iter().all(|c| c.holds(run.subject)) {
            return Ok(());
        }
        run.run_key = format!("{}/{}", run.subject.record, run.flow.repeat.period(now, tz));
        let first = run.flow.first();
        self.reach(w, tenant, &run, first, now, reached).await
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
                id: Some(id),
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
                Some(lead_subject(&l))
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
            "sale" => {
                let sale = self
                    .inventory
                    .doc_by(
                        w.at(),
                        actor.tenant_id,
                        crate::inventory::DocKind::Sell,
                        crate::inventory::DocKey::Uuid(id),
                    )
                    .await?;
                match sale {
                    Some(d) => {
                        let customer = self.customer_of(w, actor, d.customer_id).await?;
                        of_customer(customer, format!("sale:{}", d.id.0)).map(|mut s| {
                            s.values
                                .insert("total".to_owned(), d.final_total.to_string());
                            s
                        })
                    }
                    None => None,
                }
            }
            "order" => {
                let o = self
                    .get_at::<crate::sales::Order>(At::Work(w), actor, crate::ids::OrderId(id))
                    .await?;
                let customer = self.customer_of(w, actor, o.data.customer_id).await?;
                customer.map(|c| order_subject(&c, &o))
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

    /// Reaches `steps` of a run (and, for those due now, the steps after them): a step due
    /// later gets its row (queued) and its job, due after its delay; a step due now runs here,
    /// in the caller's unit of work, its row and message kept in `reached` for
    /// [`Crm::write_reached`]. A step the run reached already is skipped when written.
    async fn reach(
        &self,
        w: &mut Work,
        tenant: TenantId,
        run: &Run<'_>,
        steps: Vec<&Step>,
        after: DateTime<Utc>,
        reached: &mut Reached,
    ) -> DomainResult<()> {
        let now = crate::clock::now();
        let mut todo: Vec<(&Step, DateTime<Utc>)> = steps.into_iter().map(|s| (s, after)).collect();
        while let Some((step, after)) = todo.pop() {
            let due = after + chrono::Duration::seconds(step.delay_secs);
            let mut row = StepRun {
                id: Uuid::now_v7(),
                tenant_id: tenant,
                automation_id: run.automation_id,
                run_key: run.run_key.clone(),
                record: run.subject.record.clone(),
                step: step.id,
                state: StepState::Queued,
                detail: None,
                message_id: None,
                due_at: due,
                created_at: now,
                updated_at: now,
            };
            if due > now {
                self.reach_later(w, run, row).await?;
                continue;
            }
            // A CRM action writes now: its row first, so a run that reached the step before
            // does not do it again.
            let writes = step.action.writes();
            if writes && !self.automations.add_step_run(w, &row).await? {
                continue;
            }
            match self.perform(w, tenant, run, step, reached).await? {
                Ok(Performed::Message(m)) => {
                    row.message_id = Some(m.id);
                    reached.rows.push((row, Some(m)));
                }
                Ok(Performed::Did(detail)) => {
                    self.automations
                        .finish_step_run(w, row.id, StepState::Done, Some(&detail), None)
                        .await?;
                }
                Err(reason) if writes => {
                    self.automations
                        .finish_step_run(w, row.id, StepState::Failed, Some(&reason), None)
                        .await?;
                }
                Err(reason) => {
                    row.state = StepState::Failed;
                    row.detail = Some(reason);
                    reached.rows.push((row, None));
                }
            }
            todo.extend(run.flow.after(step.id).into_iter().map(|s| (s, now)));
        }
        Ok(())
    }

    /// A step's row, queued, and its job due at the row's time; nothing when the run reached
    /// the step already.
    async fn reach_later(&self, w: &mut Work, run: &Run<'_>, row: StepRun) -> DomainResult<()> {
        if !self.automations.add_step_run(w, &row).await? {
            return Ok(());
        }
        let payload = StepJob {
            step_run: row.id,
            automation_id: run.automation_id,
            run_key: run.run_key.clone(),
            step: row.step,
            flow: run.flow.clone(),
            subject: run.subject.clone(),
        };
        let payload =
            serde_json::to_string(&payload).map_err(|e| DomainError::Internal(e.into()))?;
        let mut job = NewJob::new(row.tenant_id, STEP_JOB, payload);
        job.key = Some(row.id.to_string());
        job.run_at = Some(row.due_at);
        job.max_attempts = STEP_ATTEMPTS;
        self.enqueue_in(w, job).await?;
        Ok(())
    }

    /// What a step does: the message it sends (rendered, not yet stored) or the CRM action it
    /// did, or why it does nothing.
    async fn perform(
        &self,
        w: &mut Work,
        tenant: TenantId,
        run: &Run<'_>,
        step: &Step,
        reached: &mut Reached,
    ) -> DomainResult<Result<Performed, String>> {
        match &step.action {
            Action::Send { content, staff } => {
                // To a staff user: their address, the record's values in the placeholders.
                let to_staff;
                let to = match staff {
                    None => &run.subject.recipient,
                    Some(user) => {
                        if reached.staff.is_none() {
                            reached.staff = Some(self.inventory.users(w.at(), tenant).await?);
                        }
                        let Some(u) = reached.staff.iter().flatten().find(|u| u.id == *user) else {
                            return Ok(Err(format!("staff user {user} does not exist")));
                        };
                        to_staff = crate::campaign::Recipient {
                            source: format!("staff:{user}"),
                            email: u.email.clone(),
                            phone: u.tel.clone(),
                            ..crate::campaign::Recipient::default()
                        };
                        &to_staff
                    }
                };
                let channel = content.channel();
                let settings = match reached.settings.entry(channel) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(
                        self.messages
                            .settings(w.at(), tenant, channel.name())
                            .await?,
                    ),
                };
                // One send record per run and step: a yearly run sends again next year.
                let campaign = format!(
                    "automation:{}:{}:{}",
                    run.automation_id, run.run_key, step.id
                );
                Ok(Ok(Performed::Message(render_to(
                    tenant,
                    &campaign,
                    content,
                    settings,
                    &run.subject.recipient,
                    to,
                ))))
            }
            Action::Unsupported { reason } => Ok(Err(reason.clone())),
            Action::Task { .. } | Action::Segment { .. } | Action::LeadStatus { .. } => Ok(self
                .act(w, tenant, run.automation_id, run.subject, &step.action)
                .await?
                .map(Performed::Did)),
        }
    }

    /// Writes the steps that ran now: their messages (unsubscribed addresses skipped) staged
    /// together in batch jobs, their rows with what each came to. A step whose row exists
    /// already (the run reached it before) is dropped with its message.
    pub(super) async fn write_reached(
        &self,
        w: &mut Work,
        tenant: TenantId,
        reached: Reached,
    ) -> DomainResult<()> {
        if reached.rows.is_empty() {
            return Ok(());
        }
        // Each row, and where its message is in `messages`.
        let mut rows = Vec::with_capacity(reached.rows.len());
        let mut at = Vec::with_capacity(reached.rows.len());
        let mut messages = Vec::new();
        for (row, m) in reached.rows {
            rows.push(row);
            at.push(m.map(|m| {
                messages.push(m);
                messages.len() - 1
            }));
        }
        for channel in [Channel::Email, Channel::Zns, Channel::Sms] {
            let of_channel: Vec<usize> = (0..messages.len())
                .filter(|i| messages[*i].channel == channel)
                .collect();
            if of_channel.is_empty() {
                continue;
            }
            let mut of: Vec<Message> = of_channel.iter().map(|i| messages[*i].clone()).collect();
            self.skip_unsubscribed(w, tenant, channel, &mut of).await?;
            for (i, m) in of_channel.into_iter().zip(of) {
                messages[i] = m;
            }
        }
        for (row, at) in rows.iter_mut().zip(&at) {
            if let Some(m) = at.map(|i| &messages[i]) {
                let (state, detail) = outcome_of(m);
                row.state = state;
                row.detail = Some(detail);
            }
        }
        let stored = self.automations.add_step_runs(w, &rows).await?;
        // The messages of the rows stored, moved out (a row that existed drops its message).
        let mut messages: Vec<Option<Message>> = messages.into_iter().map(Some).collect();
        let kept: Vec<Message> = rows
            .iter()
            .zip(&at)
            .filter(|(r, _)| stored.contains(&r.id))
            .filter_map(|(_, at)| at.and_then(|i| messages[i].take()))
            .collect();
        if !kept.is_empty() {
            self.stage_messages(w, &kept).await?;
        }
        Ok(())
    }

    /// Runs one step of a run (its job): the action, its outcome and the steps after it, in
    /// one unit of work. A step that is no longer queued (done before a crash, say) is not run
    /// again.
    pub async fn run_automation_step(&self, tenant: TenantId, job: &StepJob) -> DomainResult<()> {
        let mut w = self.begin().await?;
        let Some(row) = self.automations.lock_step_run(&mut w, job.step_run).await? else {
            return Ok(());
        };
        if row.tenant_id != tenant || row.state != StepState::Queued {
            return Ok(());
        }
        let run = Run {
            automation_id: job.automation_id,
            run_key: job.run_key.clone(),
            flow: &job.flow,
            subject: &job.subject,
        };
        let Some(step) = job.flow.steps.iter().find(|s| s.id == job.step) else {
            self.automations
                .finish_step_run(
                    &mut w,
                    row.id,
                    StepState::Failed,
                    Some("no such step"),
                    None,
                )
                .await?;
            return w.commit().await;
        };
        let mut reached = Reached::default();
        let (state, detail, message) = match self
            .perform(&mut w, tenant, &run, step, &mut reached)
            .await?
        {
            Ok(Performed::Did(detail)) => (StepState::Done, detail, None),
            Ok(Performed::Message(m)) => {
                let mut page = vec![m];
                self.skip_unsubscribed(&mut w, tenant, page[0].channel, &mut page)
                    .await?;
                self.stage_messages(&mut w, &page).await?;
                let (state, detail) = outcome_of(&page[0]);
                (state, detail, Some(page[0].id))
            }
            Err(reason) => (StepState::Failed, reason, None),
        };
        self.automations
            .finish_step_run(&mut w, row.id, state, Some(&detail), message)
            .await?;
        // A step that failed (no address, a placeholder without a value) does not stop the run.
        let next = job.flow.after(step.id);
        self.reach(
            &mut w,
            tenant,
            &run,
            next,
            crate::clock::now(),
            &mut reached,
        )
        .await?;
        self.write_reached(&mut w, tenant, reached).await?;
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
