//! Lists of people: segments (audiences for marketing) and campaigns, and their members
//! (customers, contacts or leads). Members are one mechanism for both kinds of list.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::common::{
    amount, code_or, number_in, required, text, Audit, Ownership, RecordKind, LONG, SHORT,
};
use crate::error::{DomainError, DomainResult};
use crate::ids::{CampaignId, SegmentId};
use crate::search::{TermSet, TextField};

/// Which kind of list a member row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Segment = 1,
    Campaign = 2,
}

impl ListKind {
    pub fn code(self) -> i16 {
        self as i16
    }
    pub fn name(self) -> &'static str {
        match self {
            ListKind::Segment => "segment",
            ListKind::Campaign => "campaign",
        }
    }
}

/// Record kinds a list can hold.
pub const MEMBER_KINDS: [RecordKind; 3] =
    [RecordKind::Customer, RecordKind::Contact, RecordKind::Lead];

/// A member kind from its wire code (1 customer, 2 contact, 3 lead).
pub fn member_kind(field: &str, code: Option<i32>) -> DomainResult<RecordKind> {
    let code = code
        .filter(|c| *c != 0)
        .unwrap_or(RecordKind::Customer.code());
    MEMBER_KINDS
        .into_iter()
        .find(|k| k.code() == code)
        .ok_or_else(|| {
            DomainError::validation(
                field,
                format!("{code} is not a member type (1 customer, 2 contact, 3 lead)"),
            )
        })
}

/// Most ids one call may add.
pub const MAX_MEMBERS_PER_CALL: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentData {
    pub name: String,
    pub description: Option<String>,
}

impl SegmentData {
    pub fn validate(self) -> DomainResult<Self> {
        Ok(Self {
            name: required("name", Some(self.name), SHORT)?,
            description: text("description", self.description, LONG)?,
        })
    }
    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub id: SegmentId,
    pub seq: i64,
    pub data: SegmentData,
    pub total_members: i64,
    pub audit: Audit,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CampaignData {
    /// `None` only before the store assigns one (`CD000001`).
    pub code: Option<String>,
    pub name: String,
    pub kind: Option<i32>,
    pub status: Option<i32>,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    pub expected_revenue: f64,
    pub budgeted_cost: f64,
    pub actual_cost: f64,
    /// Percent, 0-100.
    pub expected_response_rate: f64,
    pub actual_response_rate: f64,
    pub note: Option<String>,
    pub ownership: Ownership,
}

impl CampaignData {
    pub fn validate(self) -> DomainResult<Self> {
        if let (Some(start), Some(end)) = (self.start_date, self.end_date) {
            if end < start {
                return Err(DomainError::validation(
                    "end_date",
                    "must not be before start_date",
                ));
            }
        }
        Ok(Self {
            code: text("code", self.code, SHORT)?,
            name: required("name", Some(self.name), SHORT)?,
            kind: Some(code_or("kind", self.kind, 0..=99, 1)?),
            status: Some(code_or("status", self.status, 0..=99, 1)?),
            start_date: self.start_date,
            end_date: self.end_date,
            expected_revenue: amount("expected_revenue", Some(self.expected_revenue))?,
            budgeted_cost: amount("budgeted_cost", Some(self.budgeted_cost))?,
            actual_cost: amount("actual_cost", Some(self.actual_cost))?,
            expected_response_rate: number_in(
                "expected_response_rate",
                Some(self.expected_response_rate),
                0.0,
                100.0,
            )?,
            actual_response_rate: number_in(
                "actual_response_rate",
                Some(self.actual_response_rate),
                0.0,
                100.0,
            )?,
            note: text("note", self.note, LONG)?,
            ownership: self.ownership.validate()?,
        })
    }
    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .words(TextField::Code, self.code.as_deref())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: CampaignId,
    pub seq: i64,
    pub data: CampaignData,
    pub total_members: i64,
    pub audit: Audit,
}

/// One row of a list: who is in it, and since when.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The row's integer id (what `member/delete` takes).
    pub id: i64,
    pub list_id: Uuid,
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub added_at: DateTime<Utc>,
    pub added_by: Option<Uuid>,
    pub added_by_name: Option<String>,
}
