//! Date triggers: the schedule that evaluates one (`automation:<id>`, or one job for a
//! one-off) and the evaluation, which walks the records the trigger watches a page per unit of
//! work and enrolls those whose date falls in the day's window. See `docs/automations.md`.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::automations::{customer_subject, lead_subject, order_subject, Reached, Run};
use super::Crm;
use crate::automation::{is_birthday, DateFire, DateRule, Subject, DATE_JOB};
use crate::common::Actor;
use crate::customer::Customer;
use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::jobs::NewJob;
use crate::search::{Filter, PageRequest};
use crate::work::{At, Work};

impl Crm {
    /// Saves the schedule that evaluates a date trigger (`automation:<id>`), or for a one-off
    /// the one job that does, in the caller's unit of work.
    pub(super) async fn schedule_date_rule(
        &self,
        w: &mut Work,
        actor: &Actor,
        automation_id: i64,
        rule: &DateRule,
    ) -> DomainResult<()> {
        let now = crate::clock::now();
        // A scheduled evaluation fires at the schedule's time; a one-off names its instant,
        // so that edited to another, the old job finds it stale.
        let fired_at = rule.cron().is_none().then(|| rule.once_at.unwrap_or(now));
        let payload = serde_json::to_string(&DateFire {
            automation_id,
            fired_at,
            cursor: 0,
        })
        .map_err(|e| DomainError::Internal(e.into()))?;
        match (rule.cron(), fired_at) {
            (Some(cron), _) => {
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
            (None, at) => {
                let at = at.unwrap_or(now);
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

    /// Evaluates a date trigger (its job): the records whose date falls in the window of the
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
            if rule.every == crate::automation::Every::Once && fire.fired_at != rule.once_at {
                return Ok(());
            }
            let window = rule.window(fired_at);
            let yearly = is_birthday(&flow.trigger);
            let filter = if cursor > 0 {
                Filter::SeqBelow(cursor)
            } else {
                Filter::all()
            };
            let local = |at: DateTime<Utc>| at.with_timezone(&rule.tz()).date_naive();
            // Each record of the page: its number, and how a run sees it when the date the
            // trigger watches matches.
            let matches = |date: Option<chrono::NaiveDate>| {
                date.is_some_and(|d| DateRule::matches(yearly, d, window))
            };
            let dated = self
                .dated_page(&mut w, tenant, &flow.trigger, &filter, &matches, &local)
                .await?;
            let now = crate::clock::now();
            let mut reached = Reached::default();
            for subject in dated.iter().filter_map(|(_, s)| s.as_ref()) {
                let run = Run {
                    automation_id: fire.automation_id,
                    run_key: String::new(),
                    flow: &flow,
                    subject,
                };
                self.enroll_subject(&mut w, tenant, rule.tz(), run, now, &mut reached)
                    .await?;
            }
            self.write_reached(&mut w, tenant, reached).await?;
            let done = dated.len() < crate::campaign::PAGE as usize;
            cursor = dated.last().map_or(cursor, |d| d.0);
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

    /// One page of the records a date trigger watches, newest first from `filter`: each
    /// record's number, and how a run sees it when the date the trigger watches `matches`
    /// (`local` puts an instant in the tenant's day).
    async fn dated_page(
        &self,
        w: &mut Work,
        tenant: TenantId,
        trigger: &str,
        filter: &Filter,
        matches: &impl Fn(Option<NaiveDate>) -> bool,
        local: &impl Fn(DateTime<Utc>) -> NaiveDate,
    ) -> DomainResult<Vec<(i64, Option<Subject>)>> {
        let page = PageRequest::new(1, crate::campaign::PAGE)?;
        Ok(if trigger.starts_with("date.lead_") {
            let leads = self.leads.search(w.at(), tenant, filter, page).await?;
            leads
                .items
                .iter()
                .map(|l| {
                    let date = if is_birthday(trigger) {
                        l.data.ext.as_ref().and_then(|e| e.birthday)
                    } else {
                        Some(local(l.audit.created_at))
                    };
                    (l.seq, matches(date).then(|| lead_subject(l)))
                })
                .collect()
        } else if trigger.starts_with("date.order_") {
            let orders = self.orders.search(w.at(), tenant, filter, page).await?;
            let dated_on = |o: &crate::sales::Order| match trigger {
                "date.order_due_date" => o.data.due_date,
                _ => o.data.order_date,
            };
            // The customer of an order whose date matches.
            let hit = |o: &crate::sales::Order| {
                o.data
                    .customer_id
                    .filter(|_| matches(dated_on(o).map(local)))
            };
            // The matching orders' customers, in one read (a page holds at most `PAGE`).
            let mut ids: Vec<Uuid> = orders
                .items
                .iter()
                .filter_map(|o| hit(o).map(|c| c.0))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let customers: std::collections::HashMap<Uuid, Customer> = if ids.is_empty() {
                Default::default()
            } else {
                let found = Filter::Ids { ids, negate: false };
                self.customers
                    .search(w.at(), tenant, &found, page)
                    .await?
                    .items
                    .into_iter()
                    .map(|c| (c.id.0, c))
                    .collect()
            };
            orders
                .items
                .iter()
                .map(|o| {
                    let customer = hit(o).and_then(|c| customers.get(&c.0));
                    (o.seq, customer.map(|c| order_subject(c, o)))
                })
                .collect()
        } else {
            let customers = self.customers.search(w.at(), tenant, filter, page).await?;
            customers
                .items
                .iter()
                .map(|c| {
                    let date = if is_birthday(trigger) {
                        c.data
                            .ext
                            .as_ref()
                            .and_then(|e| e.party.as_ref())
                            .and_then(|p| p.birthday)
                    } else {
                        Some(local(c.audit.created_at))
                    };
                    (c.seq, matches(date).then(|| customer_subject(c)))
                })
                .collect()
        })
    }
}
