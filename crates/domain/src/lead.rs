//! Leads (prospects) and their one-time conversion into a customer and a contact.

use chrono::{DateTime, Utc};

use crate::common::{int_in, required, text, Audit, Ownership, LONG, SHORT};
use crate::contact::ContactData;
use crate::customer::{CustomerData, KIND_INDIVIDUAL, KIND_ORGANISATION};
use crate::error::DomainResult;
use crate::ids::{ContactId, CustomerId, LeadId};
use crate::search::{TermSet, TextField};
use crate::text::{Email, Phone};

/// What a caller may set on a lead, as received.
#[derive(Debug, Clone, Default)]
pub struct LeadInput {
    pub source: Option<i32>,
    pub status: Option<i32>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub position: Option<String>,
    pub industry: Option<i32>,
    pub rating: Option<i32>,
    pub probability: Option<i32>,
    pub notes: Option<String>,
    pub assigned_to: Option<i64>,
    pub ownership: Ownership,
    /// NextX's attributes; `None` keeps the stored ones.
    pub ext: Option<LeadExt>,
}

/// What NextX adds to a lead.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LeadExt {
    pub website: Option<String>,
    pub address: Option<String>,
    /// NextX's free-text status.
    pub status_text: Option<String>,
    pub date_assigned: Option<chrono::NaiveDate>,
    pub birthday: Option<chrono::NaiveDate>,
    pub sex: Option<String>,
    pub avatar: Option<String>,
    pub account_name: Option<String>,
    pub account_address: Option<String>,
    pub account_no: Option<String>,
    pub resources: Vec<(i64, String)>,
    pub branch_id: Option<crate::ids::PlaceId>,
    pub employee_id: Option<crate::ids::StaffId>,
    /// Where the lead came from (`web form <name>` for web form submissions).
    pub origin: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeadData {
    pub source: Option<i32>,
    pub status: Option<i32>,
    pub full_name: String,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub company: Option<String>,
    pub position: Option<String>,
    pub industry: Option<i32>,
    pub rating: Option<i32>,
    pub probability: Option<i32>,
    pub notes: Option<String>,
    pub assigned_to: Option<i64>,
    pub ownership: Ownership,
    pub ext: Option<LeadExt>,
}

impl From<&LeadData> for LeadInput {
    /// The input that stores `d` again as it is (a merge starts from it).
    fn from(d: &LeadData) -> Self {
        Self {
            source: d.source,
            status: d.status,
            full_name: Some(d.full_name.clone()),
            email: d.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: d.phone.as_ref().map(|p| p.as_str().to_owned()),
            company: d.company.clone(),
            position: d.position.clone(),
            industry: d.industry,
            rating: d.rating,
            probability: d.probability,
            notes: d.notes.clone(),
            assigned_to: d.assigned_to,
            ownership: d.ownership.clone(),
            ext: d.ext.clone(),
        }
    }
}

impl LeadInput {
    pub fn validate(self) -> DomainResult<LeadData> {
        Ok(LeadData {
            source: int_in("source", self.source, 0..=i32::MAX)?,
            status: int_in("status", self.status, 0..=i32::MAX)?,
            full_name: required("full_name", self.full_name, SHORT)?,
            email: text("email", self.email, SHORT)?
                .map(|e| Email::parse("email", &e))
                .transpose()?,
            phone: text("phone", self.phone, SHORT)?
                .map(|p| Phone::parse("phone", &p))
                .transpose()?,
            company: text("company", self.company, SHORT)?,
            position: text("position", self.position, SHORT)?,
            industry: int_in("industry", self.industry, 0..=i32::MAX)?,
            rating: int_in("rating", self.rating, 0..=i32::MAX)?,
            probability: int_in("probability", self.probability, 0..=100)?,
            notes: text("notes", self.notes, LONG)?,
            assigned_to: self.assigned_to,
            ownership: self.ownership.validate()?,
            ext: self.ext,
        })
    }
}

impl LeadData {
    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.full_name))
            .words(TextField::Other, self.company.as_deref())
            .phone(self.phone.as_ref())
            .email(self.email.as_ref())
            .whole(
                TextField::Branch,
                self.ext
                    .as_ref()
                    .and_then(|e| e.branch_id)
                    .map(|b| b.to_string())
                    .as_deref(),
            )
            .finish()
    }

    /// The customer a conversion creates: the company when the lead names one, else the person.
    pub fn to_customer(&self) -> CustomerData {
        let (name, kind) = match &self.company {
            Some(company) => (company.clone(), KIND_ORGANISATION),
            None => (self.full_name.clone(), KIND_INDIVIDUAL),
        };
        CustomerData {
            code: None,
            name,
            kind,
            tax_code: None,
            business_type: None,
            group_id: None,
            phone: self.phone.clone(),
            email: self.email.clone(),
            website: None,
            address: None,
            note: self.notes.clone(),
            ownership: self.ownership.clone(),
            ext: None,
        }
    }

    /// The primary contact a conversion creates at the new customer.
    pub fn to_contact(&self, customer_id: CustomerId) -> ContactData {
        ContactData {
            customer_id: Some(customer_id),
            code: None,
            full_name: self.full_name.clone(),
            position: self.position.clone(),
            department: None,
            phone: self.phone.clone(),
            email: self.email.clone(),
            gender: None,
            birthday: None,
            national_id: None,
            address: None,
            status: None,
            is_primary: true,
            note: None,
            ownership: self.ownership.clone(),
        }
    }
}

/// The record of a lead's conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadConversion {
    pub converted_at: DateTime<Utc>,
    pub customer_id: CustomerId,
    pub contact_id: ContactId,
}

/// A stored lead.
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    pub id: LeadId,
    pub seq: i64,
    pub data: LeadData,
    pub conversion: Option<LeadConversion>,
    pub audit: Audit,
}
