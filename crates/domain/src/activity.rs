//! Activities: calls, meetings, tasks and notes, linked to any record of the tenant.

use chrono::{DateTime, Utc};

use crate::common::{code_or, int_in, required, text, Audit, Link, Ownership, LONG, SHORT};
use crate::error::{DomainError, DomainResult};
use crate::ids::ActivityId;
use crate::search::{TermSet, TextField};

/// Activity status (seed 000, `GET /activity/status/{id}/{status}`).
pub const STATUS_PLANNED: i32 = 1;
pub const STATUS_IN_PROGRESS: i32 = 2;
pub const STATUS_DONE: i32 = 3;
pub const STATUS_CANCELLED: i32 = 4;
pub const STATUSES: std::ops::RangeInclusive<i32> = STATUS_PLANNED..=STATUS_CANCELLED;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActivityData {
    /// 1 call, 2 meeting, 3 task, 4 e-mail, 5 note (our codes; the doc has none).
    pub kind: i32,
    pub subject: String,
    pub description: Option<String>,
    pub status: i32,
    pub priority: Option<i32>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub due_date: Option<DateTime<Utc>>,
    pub is_all_day: bool,
    pub extra_data: Option<String>,
    pub primary: Option<Link>,
    pub related: Option<Link>,
    pub ownership: Ownership,
    /// NextX's task attributes; `None` keeps the stored ones.
    pub ext: Option<TaskExt>,
}

/// What a NextX task adds to an activity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskExt {
    /// 0-100.
    pub progress: i32,
    pub category_id: Option<i64>,
    pub color: Option<String>,
    /// The user the task is assigned to (NextX user id).
    pub assigned_to: Option<crate::ids::StaffId>,
    pub parent_id: Option<i64>,
}

impl ActivityData {
    pub fn validate(self) -> DomainResult<Self> {
        if let (Some(start), Some(end)) = (self.start_time, self.end_time) {
            if end < start {
                return Err(DomainError::validation(
                    "end_time",
                    "must not be before start_time",
                ));
            }
        }
        Ok(Self {
            kind: code_or("kind", Some(self.kind), 1..=99, 1)?,
            subject: required("subject", Some(self.subject), SHORT)?,
            description: text("description", self.description, LONG)?,
            status: code_or("status", Some(self.status), STATUSES, STATUS_PLANNED)?,
            priority: int_in("priority", self.priority, 0..=99)?,
            start_time: self.start_time,
            end_time: self.end_time,
            due_date: self.due_date,
            is_all_day: self.is_all_day,
            extra_data: text("extra_data", self.extra_data, LONG)?,
            primary: self.primary,
            related: self.related,
            ownership: self.ownership.validate()?,
            ext: match self.ext {
                Some(e) => Some(TaskExt {
                    progress: int_in("progress", Some(e.progress), 0..=100)?.unwrap_or(0),
                    color: text("color", e.color, SHORT)?,
                    ..e
                }),
                None => None,
            },
        })
    }

    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Subject, Some(&self.subject))
            .words(
                TextField::PrimaryName,
                self.primary.as_ref().and_then(|l| l.name.as_deref()),
            )
            .words(
                TextField::Other,
                self.related.as_ref().and_then(|l| l.name.as_deref()),
            )
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: ActivityId,
    pub seq: i64,
    pub data: ActivityData,
    pub audit: Audit,
}
