//! Marketing automations that run: a trigger (a record event), conditions on the triggering
//! record, and steps in order (a tree by parent), each after its delay. The vendor's body is
//! kept verbatim by the dialect; what runs is the [`Flow`] the dialect reads from it, stored
//! beside it. Each run is a set of step records (one per step reached), each run by a durable
//! job; a run keeps the flow it enrolled with. See `docs/automations.md`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::campaign::{BlastContent, Recipient};
use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::work::{At, Work};

/// The job kind that runs one step of one run.
pub const STEP_JOB: &str = "automation-step";
/// The job kind that evaluates a date trigger (its schedule fired): enrolls the matching
/// records, a page per unit of work.
pub const DATE_JOB: &str = "automation-date";
/// Date triggers: the date field they watch, of customers, (`date.lead_…`) of leads or
/// (`date.order_…`) of orders.
pub const DATE_TRIGGERS: &[&str] = &[
    "date.birthday",
    "date.created_at",
    "date.lead_birthday",
    "date.lead_created_at",
    "date.order_date",
    "date.order_due_date",
];

/// Whether a date trigger watches a birthday (matched by day and month, once a year).
pub fn is_birthday(trigger: &str) -> bool {
    matches!(trigger, "date.birthday" | "date.lead_birthday")
}
/// Attempts of a step job (a step that fails for good is recorded as failed).
pub const STEP_ATTEMPTS: i32 = 5;
/// Most steps an automation may have.
pub const MAX_STEPS: usize = 50;
/// Most conditions on the triggering record.
pub const MAX_CONDITIONS: usize = 20;
/// Longest delay of a step: one year.
pub const MAX_DELAY_SECS: i64 = 366 * 86_400;

/// The record events a trigger can name (`<object>.<action>`).
pub const TRIGGER_EVENTS: &[&str] = &[
    "customer.created",
    "customer.updated",
    "lead.created",
    "lead.updated",
    "opportunity.created",
    "opportunity.updated",
    "order.created",
    "order.approved",
    "sale.created",
    "sale.paid",
    "ticket.created",
    "ticket.updated",
];

/// When a date trigger is evaluated, in the tenant's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "every", rename_all = "lowercase")]
pub enum Every {
    /// Every day at the time; the window is that day.
    Day,
    /// Every week on `weekday` (0 Sunday … 6 Saturday); the window is the seven days from it.
    Week { weekday: u32 },
    /// Every month on `day` (1 to 28); the window is the month from it.
    Month { day: u32 },
    /// Once, at the date and time of `DateRule::once_at`; the window is that day.
    Once,
}

/// A date trigger: customers whose date (`birthday` each year, `created_at` once) falls in the
/// evaluation's window, `days_before` days ahead (negative: after), enter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateRule {
    #[serde(flatten)]
    pub every: Every,
    /// The local time of day it is evaluated at (`09:00`).
    pub at: chrono::NaiveTime,
    pub days_before: i64,
    #[serde(default)]
    pub once_at: Option<DateTime<Utc>>,
    /// The tenant's zone when it was saved.
    pub time_zone: String,
}

impl DateRule {
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
    }

    /// The cron expression of its schedule; `None` for a one-off.
    pub fn cron(&self) -> Option<String> {
        use chrono::Timelike;
        let (m, h) = (self.at.minute(), self.at.hour());
        match self.every {
            Every::Day => Some(format!("{m} {h} * * *")),
            Every::Week { weekday } => Some(format!("{m} {h} * * {}", weekday.min(6))),
            Every::Month { day } => Some(format!("{m} {h} {} * *", day.clamp(1, 28))),
            Every::Once => None,
        }
    }

    /// The local dates an evaluation at `at` looks for: from `days_before` days after its day,
    /// for its window's length.
    pub fn window(&self, at: DateTime<Utc>) -> (chrono::NaiveDate, chrono::NaiveDate) {
        let day = at.with_timezone(&self.tz()).date_naive();
        let from = day + chrono::Duration::days(self.days_before);
        let len = match self.every {
            Every::Day | Every::Once => 1,
            Every::Week { .. } => 7,
            Every::Month { .. } => {
                let next = from
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(from + chrono::Duration::days(30));
                (next - from).num_days()
            }
        };
        (from, from + chrono::Duration::days(len))
    }

    /// Whether `date` is in the window `[from, until)`: a birthday by month and day (in any
    /// year, 29 February on 1 March when the year has none), another date as it is.
    pub fn matches(
        yearly: bool,
        date: chrono::NaiveDate,
        (from, until): (chrono::NaiveDate, chrono::NaiveDate),
    ) -> bool {
        if !yearly {
            return from <= date && date < until;
        }
        [from.year(), until.year()].iter().any(|y| {
            let d = chrono::NaiveDate::from_ymd_opt(*y, date.month(), date.day())
                .or_else(|| chrono::NaiveDate::from_ymd_opt(*y, 3, 1));
            d.is_some_and(|d| from <= d && d < until)
        })
    }
}

/// A date trigger's evaluation (its job's payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateFire {
    pub automation_id: i64,
    /// When it fired; the job's due time on the first run.
    #[serde(default)]
    pub fired_at: Option<DateTime<Utc>>,
    /// The customers still to look at are those below this integer id (0: all).
    #[serde(default)]
    pub cursor: i64,
}

/// How often one record may enter one automation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Repeat {
    /// Once ever.
    Once,
    /// Once per day (week, month, year) of the tenant's calendar.
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Repeat {
    /// The period `at` falls in, in `tz`: a record enters once per period.
    pub fn period(self, at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
        let local = at.with_timezone(&tz);
        match self {
            Repeat::Once => "once".to_owned(),
            Repeat::Daily => local.format("%Y-%m-%d").to_string(),
            Repeat::Weekly => {
                let w = local.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Repeat::Monthly => local.format("%Y-%m").to_string(),
            Repeat::Yearly => local.format("%Y").to_string(),
        }
    }
}

/// A comparison on one value of the triggering record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Contains,
    Empty,
    NotEmpty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// A value of the record ([`Subject::values`]).
    pub field: String,
    pub op: Op,
    #[serde(default)]
    pub value: String,
}

impl Condition {
    pub fn holds(&self, s: &Subject) -> bool {
        let got = s.values.get(&self.field).map(String::as_str).unwrap_or("");
        let fold = crate::text::fold;
        match self.op {
            Op::Eq => fold(got) == fold(&self.value),
            Op::Ne => fold(got) != fold(&self.value),
            Op::Contains => fold(got).contains(&fold(&self.value)),
            Op::Empty => got.trim().is_empty(),
            Op::NotEmpty => !got.trim().is_empty(),
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// A message to the triggering record's contact (or, with `staff`, to that staff user),
    /// its placeholders filled from the record.
    Send {
        content: BlastContent,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        staff: Option<crate::ids::StaffId>,
    },
    /// A task (an activity of kind 3) about the record, for its owner, due `due_days` after
    /// the step runs.
    Task {
        subject: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default)]
        due_days: i64,
    },
    /// The record's person (the lead, the customer, or the customer of a deal, order or
    /// ticket) joins a segment.
    Segment { segment_id: Uuid },
    /// A lead's status becomes `status` (CRMTOP's code) and/or `status_text` (NextX's
    /// words); on another record the step fails.
    LeadStatus {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status_text: Option<String>,
    },
    /// A step the vendor's body describes that this server cannot do: the run records it as
    /// failed with the reason, and goes on.
    Unsupported { reason: String },
}

impl Action {
    /// Whether the step changes CRM records (rather than staging a message).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Action::Task { .. } | Action::Segment { .. } | Action::LeadStatus { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The step's id within its automation (the vendor's task id, or its position from 1).
    pub id: i64,
    /// The step it follows; `None` for a step of the main sequence.
    pub parent: Option<i64>,
    /// Its place in the main sequence (steps without a parent run in this order).
    pub order: i64,
    /// How long after the step it follows (or the trigger) it runs.
    pub delay_secs: i64,
    pub action: Action,
}

/// What runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Inactive: no new runs (runs in progress go on).
    pub active: bool,
    /// The event that enrolls a record (`lead.created`).
    pub trigger: String,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub repeat: Repeat,
    pub steps: Vec<Step>,
    /// For a date trigger: when it is evaluated and which dates match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateRule>,
}

impl Flow {
    pub fn validate(&self) -> DomainResult<()> {
        let bad = |field: &str, why: String| Err(DomainError::validation(field, why));
        let is_date = DATE_TRIGGERS.contains(&self.trigger.as_str());
        if !TRIGGER_EVENTS.contains(&self.trigger.as_str()) && !is_date {
            return bad(
                "trigger",
                format!(
                    "'{}' is not a trigger; one of {}, {}",
                    self.trigger,
                    TRIGGER_EVENTS.join(", "),
                    DATE_TRIGGERS.join(", ")
                ),
            );
        }
        if is_date != self.date.is_some() {
            return bad(
                "date",
                "a date trigger needs its schedule, and only a date trigger has one".to_owned(),
            );
        }
        if let Some(d) = &self.date {
            if d.days_before.abs() > 366 {
                return bad("date.days_before", "at most 366 days".to_owned());
            }
            if d.every == Every::Once && d.once_at.is_none() {
                return bad(
                    "date.once_at",
                    "a one-off date trigger needs its date and time".to_owned(),
                );
            }
        }
        if self.steps.len() > MAX_STEPS {
            return bad("steps", format!("at most {MAX_STEPS} steps"));
        }
        if self.conditions.len() > MAX_CONDITIONS {
            return bad("conditions", format!("at most {MAX_CONDITIONS} conditions"));
        }
        for s in &self.steps {
            if !(0..=MAX_DELAY_SECS).contains(&s.delay_secs) {
                return bad("steps.delay", "a step's delay is at most a year".to_owned());
            }
            if let Action::Task {
                subject,
                description,
                due_days,
            } = &s.action
            {
                crate::common::required(
                    "steps.subject",
                    Some(subject.clone()),
                    crate::common::SHORT,
                )?;
                crate::common::text(
                    "steps.description",
                    description.clone(),
                    crate::common::LONG,
                )?;
                if !(0..=366).contains(due_days) {
                    return bad("steps.due_days", "0 to 366 days".to_owned());
                }
            }
            if let Action::LeadStatus {
                status,
                status_text,
            } = &s.action
            {
                if status.is_none() && status_text.is_none() {
                    return bad("steps.status", "is required".to_owned());
                }
                crate::common::int_in("steps.status", *status, 0..=i32::MAX)?;
                crate::common::text("steps.status", status_text.clone(), crate::common::SHORT)?;
            }
            if let Some(p) = s.parent {
                if p == s.id || !self.steps.iter().any(|o| o.id == p) {
                    return bad(
                        "steps.parent",
                        format!("step {} follows {p}, which is not a step of it", s.id),
                    );
                }
            }
        }
        // Parents must not form a loop: each chain of parents ends within the step count.
        for s in &self.steps {
            let mut at = s.parent;
            for _ in 0..=self.steps.len() {
                at = at.and_then(|p| self.steps.iter().find(|o| o.id == p)?.parent);
            }
            if at.is_some() {
                return bad(
                    "steps.parent",
                    "steps follow each other in a loop".to_owned(),
                );
            }
        }
        Ok(())
    }

    fn step(&self, id: i64) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The first steps of a run: the main sequence's first.
    pub fn first(&self) -> Vec<&Step> {
        self.main().into_iter().take(1).collect()
    }

    fn main(&self) -> Vec<&Step> {
        let mut main: Vec<&Step> = self.steps.iter().filter(|s| s.parent.is_none()).collect();
        main.sort_by_key(|s| (s.order, s.id));
        main
    }

    /// The steps that run after `id`: its children, and the next step of the main sequence
    /// when it is one.
    pub fn after(&self, id: i64) -> Vec<&Step> {
        let mut next: Vec<&Step> = self.steps.iter().filter(|s| s.parent == Some(id)).collect();
        if self.step(id).is_some_and(|s| s.parent.is_none()) {
            let main = self.main();
            if let Some(i) = main.iter().position(|s| s.id == id) {
                next.extend(main.get(i + 1));
            }
        }
        next
    }
}

/// The triggering record as a run sees it: whom to reach, and its values for conditions and
/// placeholders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// `lead:12`, `customer:3`.
    pub record: String,
    /// The record's id, for steps that change it or link to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// The customer it belongs to (a deal's, an order's, a ticket's; a customer's own id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
    pub recipient: Recipient,
    /// Values by name (`status`, `stage`, `name`, `phone`…).
    pub values: BTreeMap<String, String>,
}

/// A step job's payload: the run's flow and subject as they were at enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepJob {
    pub step_run: Uuid,
    pub automation_id: i64,
    pub run_key: String,
    pub step: i64,
    pub flow: Flow,
    pub subject: Subject,
}

/// Where one step of one run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Queued,
    Done,
    Failed,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Queued => "queued",
            StepState::Done => "done",
            StepState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => StepState::Queued,
            "done" => StepState::Done,
            "failed" => StepState::Failed,
            _ => return None,
        })
    }
}

/// One step of one run, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRun {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub automation_id: i64,
    /// The run: the record and the period it entered in (`lead:12/once`).
    pub run_key: String,
    pub record: String,
    pub step: i64,
    pub state: StepState,
    /// What happened (`sent to 84912345678 as message …`, a failure's reason).
    pub detail: Option<String>,
    pub message_id: Option<Uuid>,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait AutomationStore: Send + Sync {
    /// Stores (or replaces) an automation's flow.
    async fn save_flow(
        &self,
        w: &mut Work,
        tenant: TenantId,
        automation_id: i64,
        flow: &Flow,
    ) -> DomainResult<()>;
    /// Forgets an automation's flow (it no longer runs; its history stays).
    async fn remove_flow(
        &self,
        w: &mut Work,
        tenant: TenantId,
        automation_id: i64,
    ) -> DomainResult<()>;
    /// One automation's flow.
    async fn flow(
        &self,
        at: At<'_>,
        tenant: TenantId,
        automation_id: i64,
    ) -> DomainResult<Option<Flow>>;
    /// The active flows of the tenant that `trigger` starts, with their automation ids.
    async fn flows_for(
        &self,
        at: At<'_>,
        tenant: TenantId,
        trigger: &str,
    ) -> DomainResult<Vec<(i64, Flow)>>;
    /// Records a step reached; `false` when the run already reached it (nothing stored).
    async fn add_step_run(&self, w: &mut Work, s: &StepRun) -> DomainResult<bool> {
        Ok(!self
            .add_step_runs(w, std::slice::from_ref(s))
            .await?
            .is_empty())
    }
    /// Records steps reached, in few statements; the ids of those stored (a step the run
    /// reached already is not).
    async fn add_step_runs(
        &self,
        w: &mut Work,
        rows: &[StepRun],
    ) -> DomainResult<std::collections::HashSet<Uuid>>;
    /// The step run, held by the unit of work.
    async fn lock_step_run(&self, w: &mut Work, id: Uuid) -> DomainResult<Option<StepRun>>;
    async fn finish_step_run(
        &self,
        w: &mut Work,
        id: Uuid,
        state: StepState,
        detail: Option<&str>,
        message_id: Option<Uuid>,
    ) -> DomainResult<()>;
    /// An automation's step runs, newest first.
    async fn step_runs(
        &self,
        tenant: TenantId,
        automation_id: i64,
        limit: u32,
        offset: u32,
    ) -> DomainResult<Vec<StepRun>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: i64, parent: Option<i64>, order: i64) -> Step {
        Step {
            id,
            parent,
            order,
            delay_secs: 0,
            action: Action::Send {
                content: BlastContent::Sms { text: "t".into() },
                staff: None,
            },
        }
    }

    #[test]
    fn steps_run_in_order_as_a_tree() {
        let f = Flow {
            active: true,
            trigger: "lead.created".into(),
            conditions: vec![],
            repeat: Repeat::Once,
            steps: vec![step(1, None, 2), step(2, None, 1), step(3, Some(2), 0)],
            date: None,
        };
        f.validate().unwrap_or_else(|e| panic!("{e}"));
        let ids = |v: Vec<&Step>| v.iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids(f.first()), vec![2]);
        assert_eq!(ids(f.after(2)), vec![3, 1]);
        assert_eq!(ids(f.after(3)), Vec::<i64>::new());
        assert_eq!(ids(f.after(1)), Vec::<i64>::new());
        let mut looped = f.clone();
        looped.steps = vec![step(1, Some(2), 0), step(2, Some(1), 0)];
        assert!(looped.validate().is_err());
    }

    #[test]
    fn date_windows() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        let rule = DateRule {
            every: Every::Day,
            at: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            days_before: 3,
            once_at: None,
            time_zone: "Asia/Ho_Chi_Minh".into(),
        };
        // 2026-12-29 20:00 UTC is 30 December in Vietnam: birthdays on 2 January match.
        let at = DateTime::parse_from_rfc3339("2026-12-29T20:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let w = rule.window(at);
        assert_eq!(w, (d(2027, 1, 2), d(2027, 1, 3)));
        assert!(DateRule::matches(true, d(1990, 1, 2), w));
        assert!(!DateRule::matches(true, d(1990, 1, 3), w));
        assert!(!DateRule::matches(false, d(1990, 1, 2), w));
        let week = DateRule {
            every: Every::Week { weekday: 1 },
            ..rule.clone()
        };
        assert!(DateRule::matches(true, d(1985, 1, 8), week.window(at)));
        assert_eq!(rule.cron().as_deref(), Some("0 9 * * *"));
        // 29 February is celebrated on 1 March in other years.
        let march = (d(2027, 3, 1), d(2027, 3, 2));
        assert!(DateRule::matches(true, d(2000, 2, 29), march));
    }

    #[test]
    fn periods_in_the_tenant_zone() {
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let at = DateTime::parse_from_rfc3339("2026-12-31T18:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(Repeat::Daily.period(at, tz), "2027-01-01");
        assert_eq!(Repeat::Yearly.period(at, tz), "2027");
        assert_eq!(Repeat::Once.period(at, tz), "once");
    }
}
