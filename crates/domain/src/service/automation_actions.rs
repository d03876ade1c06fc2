//! What an automation step does to the CRM (a task for the record's owner, a segment, a
//! lead's status), inside the unit of work that runs the step. The records it changes start no
//! automation themselves (see [`crate::work::Work`]'s `automating`).

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use super::Crm;
use crate::activity::{ActivityData, TaskExt, STATUS_PLANNED};
use crate::automation::{Action, Subject};
use crate::common::{Actor, Link, Ownership, RecordKind};
use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::list::ListKind;
use crate::work::{At, Work};

/// What a CRM action came to: `Ok` what it did, `Err` why it did nothing.
pub(super) type Acted = Result<String, String>;

/// The activity kind of a task (`ActivityData::kind`).
const TASK_KIND: i32 = 3;

/// Who an automation's changes are recorded as made by.
fn automation_actor(tenant: TenantId, automation_id: i64) -> Actor {
    Actor {
        tenant_id: tenant,
        id: Uuid::nil(),
        name: format!("automation {automation_id}"),
        account: String::new(),
        time_zone: chrono_tz::UTC,
    }
}

/// A rule the record does not meet (it was deleted, say): the step fails with the reason, the
/// write that reached it goes on. Anything else ends the unit of work.
fn as_failure(e: DomainError) -> DomainResult<Acted> {
    match e {
        DomainError::NotFound { .. }
        | DomainError::Validation { .. }
        | DomainError::Conflict { .. } => Ok(Err(e.to_string())),
        e => Err(e),
    }
}

impl Crm {
    /// Does a CRM action of a step for the run's subject. Boxed: the records it writes emit
    /// events, which is where automations are entered from.
    pub(super) fn act<'a>(
        &'a self,
        w: &'a mut Work,
        tenant: TenantId,
        automation_id: i64,
        subject: &'a Subject,
        action: &'a Action,
    ) -> Pin<Box<dyn Future<Output = DomainResult<Acted>> + Send + 'a>> {
        Box::pin(async move {
            let actor = automation_actor(tenant, automation_id);
            let was = std::mem::replace(&mut w.automating, true);
            let done = match self.act_as(w, &actor, subject, action).await {
                Ok(done) => Ok(done),
                Err(e) => as_failure(e),
            };
            w.automating = was;
            done
        })
    }

    async fn act_as(
        &self,
        w: &mut Work,
        actor: &Actor,
        subject: &Subject,
        action: &Action,
    ) -> DomainResult<Acted> {
        let kind = subject.record.split(':').next().unwrap_or("");
        let Some(id) = subject.id else {
            return Ok(Err("the run names no record to act on".to_owned()));
        };
        match action {
            Action::Task {
                subject: title,
                description,
                due_days,
            } => {
                let (link, ownership, assigned) = self
                    .owner_of(w, actor, kind, id, subject.customer_id)
                    .await?;
                let owner = ownership
                    .owner_name
                    .clone()
                    .or_else(|| ownership.owner_id.map(|o| o.to_string()));
                let due = crate::clock::now() + chrono::Duration::days(*due_days);
                let data = ActivityData {
                    kind: TASK_KIND,
                    subject: title.clone(),
                    description: description.clone(),
                    status: STATUS_PLANNED,
                    due_date: Some(due),
                    primary: Some(Link {
                        kind: link,
                        id,
                        name: None,
                    }),
                    ownership,
                    ext: assigned.map(|a| TaskExt {
                        assigned_to: Some(crate::ids::StaffId(a)),
                        ..TaskExt::default()
                    }),
                    ..ActivityData::default()
                };
                let task = self
                    .create_in::<crate::activity::Activity>(w, actor, data)
                    .await?;
                Ok(Ok(match owner {
                    Some(o) => format!("task {task} created for {o}"),
                    None => format!("task {task} created (the record has no owner)"),
                }))
            }
            Action::Segment { segment_id } => {
                let member = match kind {
                    "lead" => Some((RecordKind::Lead, id)),
                    _ => subject.customer_id.map(|c| (RecordKind::Customer, c)),
                };
                let Some((member_kind, member)) = member else {
                    return Ok(Err("the record has no customer to add".to_owned()));
                };
                if self
                    .segments
                    .get(w.at(), actor.tenant_id, (*segment_id).into())
                    .await?
                    .is_none()
                {
                    return Ok(Err(format!("segment {segment_id} does not exist")));
                }
                let added = self
                    .members
                    .add_members(
                        w,
                        actor,
                        ListKind::Segment,
                        *segment_id,
                        member_kind,
                        &[member],
                    )
                    .await?;
                Ok(Ok(if added > 0 {
                    format!("{} added to segment {segment_id}", member_kind.name())
                } else {
                    format!("{} already in segment {segment_id}", member_kind.name())
                }))
            }
            Action::LeadStatus {
                status,
                status_text,
            } => {
                if kind != "lead" {
                    return Ok(Err(format!("a {kind} has no lead status to change")));
                }
                let (status, words) = (*status, status_text.clone());
                let said = [status.map(|s| s.to_string()), words.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                self.change_in::<crate::lead::Lead>(w, actor, crate::ids::LeadId(id), |d| {
                    if status.is_some() {
                        d.status = status;
                    }
                    if words.is_some() {
                        d.ext.get_or_insert_with(Default::default).status_text = words;
                    }
                    Ok(())
                })
                .await?;
                Ok(Ok(format!("lead status set to {said}")))
            }
            Action::Send { .. } | Action::Unsupported { .. } => {
                Ok(Err("not a CRM action".to_owned()))
            }
        }
    }

    /// The kind a link to the record names, its owner, and (a lead's) assigned NextX user.
    async fn owner_of(
        &self,
        w: &mut Work,
        actor: &Actor,
        kind: &str,
        id: Uuid,
        customer: Option<Uuid>,
    ) -> DomainResult<(RecordKind, Ownership, Option<i64>)> {
        use crate::ids::{CustomerId, LeadId, OpportunityId, TicketId};
        Ok(match kind {
            "lead" => {
                let l = self
                    .get_at::<crate::lead::Lead>(At::Work(w), actor, LeadId(id))
                    .await?;
                // NextX names a lead's employee; CRMTOP its assigned user.
                let staff = l.data.ext.as_ref().and_then(|e| e.employee_id).map(|s| s.0);
                (
                    RecordKind::Lead,
                    l.data.ownership,
                    staff.or(l.data.assigned_to),
                )
            }
            "customer" => {
                let c = self
                    .get_at::<crate::customer::Customer>(At::Work(w), actor, CustomerId(id))
                    .await?;
                (RecordKind::Customer, c.data.ownership, None)
            }
            "opportunity" => {
                let o = self
                    .get_at::<crate::opportunity::Opportunity>(
                        At::Work(w),
                        actor,
                        OpportunityId(id),
                    )
                    .await?;
                (RecordKind::Opportunity, o.data.ownership, None)
            }
            "ticket" => {
                let t = self
                    .get_at::<crate::ticket::Ticket>(At::Work(w), actor, TicketId(id))
                    .await?;
                (RecordKind::Ticket, t.data.ownership, None)
            }
            // An order has no owner of its own: its customer's.
            _ => {
                let ownership = match customer {
                    Some(c) => {
                        self.get_at::<crate::customer::Customer>(At::Work(w), actor, CustomerId(c))
                            .await?
                            .data
                            .ownership
                    }
                    None => Ownership::default(),
                };
                (RecordKind::Order, ownership, None)
            }
        })
    }

    /// Checks, when an automation is saved, that the segments its steps name exist.
    pub(super) async fn check_flow_refs(
        &self,
        w: &mut Work,
        tenant: TenantId,
        flow: &crate::automation::Flow,
    ) -> DomainResult<()> {
        let mut staff = None;
        for s in &flow.steps {
            if let Action::Send {
                staff: Some(user), ..
            } = &s.action
            {
                if staff.is_none() {
                    staff = Some(self.inventory.users(w.at(), tenant).await?);
                }
                if !staff.iter().flatten().any(|u| u.id == *user) {
                    return Err(DomainError::validation(
                        "steps.staff",
                        format!("staff user {user} does not exist"),
                    ));
                }
            }
            if let Action::Segment { segment_id } = &s.action {
                if self
                    .segments
                    .get(w.at(), tenant, (*segment_id).into())
                    .await?
                    .is_none()
                {
                    return Err(DomainError::validation(
                        "steps.segment_id",
                        format!("segment {segment_id} does not exist"),
                    ));
                }
            }
        }
        Ok(())
    }
}
