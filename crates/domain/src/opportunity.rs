//! Opportunities: deals in the pipeline, linked to a customer, a contact and/or a lead.

use chrono::{DateTime, Utc};

use crate::common::{int_in, money, number_in, required, text, Audit, Ownership, LONG, SHORT};
use crate::error::{DomainError, DomainResult};
use crate::ids::{ContactId, CustomerId, LeadId, OpportunityId};
use crate::search::{TermSet, TextField};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpportunityData {
    /// `None` only before the store assigns one (`CH000001`).
    pub code: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    pub lead_id: Option<LeadId>,
    pub lead_name: Option<String>,
    pub amount: crate::money::Money,
    /// ISO 4217, upper case; VND when not given.
    pub currency: String,
    /// Percent, 0-100.
    pub probability: f64,
    pub stage: Option<i32>,
    pub priority: Option<i32>,
    pub source: Option<String>,
    pub expected_close_date: Option<DateTime<Utc>>,
    pub actual_close_date: Option<DateTime<Utc>>,
    pub ownership: Ownership,
    /// NextX's pipeline attributes; `None` keeps the stored ones.
    pub ext: Option<OpportunityExt>,
}

/// Where a NextX opportunity stands: its campaign and stage, source and assignee.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpportunityExt {
    pub campaign_seq: Option<i64>,
    /// The campaign stage's position (1-based), when in a campaign.
    pub stage_order: Option<i32>,
    pub lead_source: Option<i64>,
    pub lead_source_description: Option<String>,
    pub assigned_to: Option<crate::ids::StaffId>,
    pub stage_changed_at: Option<DateTime<Utc>>,
}

impl OpportunityData {
    pub fn validate(self) -> DomainResult<Self> {
        let currency = text("currency", Some(self.currency), 3)?
            .unwrap_or_else(|| "VND".to_owned())
            .to_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(DomainError::validation(
                "currency",
                "must be a three-letter ISO 4217 code such as VND",
            ));
        }
        Ok(Self {
            code: text("code", self.code, SHORT)?,
            name: required("name", Some(self.name), SHORT)?,
            description: text("description", self.description, LONG)?,
            customer_id: self.customer_id,
            customer_name: None,
            contact_id: self.contact_id,
            contact_name: None,
            lead_id: self.lead_id,
            lead_name: None,
            amount: money("amount", self.amount)?,
            currency,
            probability: number_in("probability", Some(self.probability), 0.0, 100.0)?,
            stage: int_in("stage", self.stage, 0..=99)?,
            priority: int_in("priority", self.priority, 0..=99)?,
            source: text("source", self.source, SHORT)?,
            expected_close_date: self.expected_close_date,
            actual_close_date: self.actual_close_date,
            ownership: self.ownership.validate()?,
            ext: self.ext,
        })
    }

    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .words(TextField::Code, self.code.as_deref())
            .words(TextField::CustomerName, self.customer_name.as_deref())
            .words(TextField::ContactName, self.contact_name.as_deref())
            .words(TextField::LeadName, self.lead_name.as_deref())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub id: OpportunityId,
    pub seq: i64,
    pub data: OpportunityData,
    pub audit: Audit,
}
