//! Lists of people: segments (audiences for marketing) and campaigns, and their members
//! (customers, contacts or leads). Members are one mechanism for both kinds of list.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::common::{
    code_or, money, number_in, required, text, Audit, Ownership, RecordKind, LONG, SHORT,
};
use crate::error::{DomainError, DomainResult};
use crate::ids::{CampaignId, SegmentId};
use crate::money::Money;
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
    pub expected_revenue: Money,
    pub budgeted_cost: Money,
    pub actual_cost: Money,
    /// Percent, 0-100.
    pub expected_response_rate: f64,
    pub actual_response_rate: f64,
    pub note: Option<String>,
    pub ownership: Ownership,
    /// NextX's sales-campaign attributes (stages…); `None` keeps the stored ones.
    pub ext: Option<CampaignExt>,
}

/// A stage of a NextX sales campaign; `kind` is `stage_type_id` (1 customer info, 2 needs
/// analysis, 3 quotation, 4 negotiation, 5 won, 6 lost).
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: String,
    pub value: Option<String>,
    pub order: i32,
    pub kind: i32,
}

/// Stage type names (seed 003 E49 `campaign_stage`).
pub const STAGE_TYPES: [&str; 6] = [
    "Thông tin khách",
    "Phân tích nhu cầu",
    "Báo giá",
    "Đàm phán",
    "Thành công",
    "Thất bại",
];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CampaignExt {
    pub objective: Option<String>,
    pub stages: Vec<Stage>,
    pub assigned_to: Option<crate::ids::StaffId>,
    pub branch_id: Option<crate::ids::PlaceId>,
    pub allow_duplicate_opportunity: bool,
    pub divide_opportunity_auto: bool,
    pub hide_opportunity_info: bool,
    /// (user id, share) for dividing opportunities.
    pub correlatives: Vec<(i64, i64)>,
    /// NextX's campaign type and status category ids (`"107"`, `"37250"`).
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
}

impl CampaignExt {
    pub fn validate(mut self) -> DomainResult<Self> {
        for (i, s) in self.stages.iter().enumerate() {
            required(&format!("stages[{i}].name"), Some(s.name.clone()), SHORT)?;
            if !(1..=6).contains(&s.kind) {
                return Err(DomainError::validation(
                    format!("stages[{i}].stage_type_id"),
                    "must be 1-6 (customer info, needs analysis, quotation, negotiation, won, lost)",
                ));
            }
        }
        self.stages.sort_by_key(|s| s.order);
        for (i, s) in self.stages.iter_mut().enumerate() {
            s.order = i as i32 + 1;
        }
        self.objective = text("objective", self.objective, LONG)?;
        Ok(self)
    }
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
            expected_revenue: money("expected_revenue", self.expected_revenue)?,
            budgeted_cost: money("budgeted_cost", self.budgeted_cost)?,
            actual_cost: money("actual_cost", self.actual_cost)?,
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
            ext: self.ext.map(CampaignExt::validate).transpose()?,
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
    pub id: crate::ids::MemberId,
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
