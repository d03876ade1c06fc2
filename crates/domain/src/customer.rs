//! Customers (a person or an organisation the tenant sells to) and customer groups.

use crate::common::{int_in, required, text, Audit, Ownership, LONG, SHORT};
use crate::error::DomainResult;
use crate::ids::{CustomerGroupId, CustomerId};
use crate::search::{TermSet, TextField};
use crate::text::{Email, Phone};

/// Customer kind: 1 = individual (cá nhân), 2 = organisation (doanh nghiệp).
pub const KIND_INDIVIDUAL: i32 = 1;
pub const KIND_ORGANISATION: i32 = 2;

/// What a caller may set on a customer, as received.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<i32>,
    pub tax_code: Option<String>,
    pub business_type: Option<String>,
    pub group_id: Option<CustomerGroupId>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub note: Option<String>,
    pub ownership: Ownership,
}

/// A customer's validated attributes. `code` is `None` only before the store assigns one.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerData {
    pub code: Option<String>,
    pub name: String,
    pub kind: i32,
    pub tax_code: Option<String>,
    pub business_type: Option<String>,
    pub group_id: Option<CustomerGroupId>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub note: Option<String>,
    pub ownership: Ownership,
}

impl CustomerInput {
    pub fn validate(self) -> DomainResult<CustomerData> {
        Ok(CustomerData {
            code: text("code", self.code, SHORT)?,
            name: required("name", self.name, SHORT)?,
            kind: int_in("kind", self.kind.filter(|k| *k != 0), 1..=2)?.unwrap_or(KIND_INDIVIDUAL),
            tax_code: text("tax_code", self.tax_code, SHORT)?,
            business_type: text("business_type", self.business_type, SHORT)?,
            group_id: self.group_id,
            phone: text("phone", self.phone, SHORT)?
                .map(|p| Phone::parse("phone", &p))
                .transpose()?,
            email: text("email", self.email, SHORT)?
                .map(|e| Email::parse("email", &e))
                .transpose()?,
            website: text("website", self.website, SHORT)?,
            address: text("address", self.address, LONG)?,
            note: text("note", self.note, LONG)?,
            ownership: self.ownership.validate()?,
        })
    }
}

impl CustomerData {
    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .words(TextField::Code, self.code.as_deref())
            .words(TextField::Code, self.tax_code.as_deref())
            .phone(self.phone.as_ref())
            .email(self.email.as_ref())
            .finish()
    }
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    /// Stable integer id, for vendors that expose integer ids.
    pub seq: i64,
    pub data: CustomerData,
    /// Name of the group `data.group_id` points at, when it still exists.
    pub group_name: Option<String>,
    pub audit: Audit,
}

/// What a caller may set on a customer group.
#[derive(Debug, Clone, Default)]
pub struct CustomerGroupInput {
    pub name: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerGroupData {
    pub name: String,
    pub note: Option<String>,
}

impl CustomerGroupInput {
    pub fn validate(self) -> DomainResult<CustomerGroupData> {
        Ok(CustomerGroupData {
            name: required("name", self.name, SHORT)?,
            note: text("note", self.note, LONG)?,
        })
    }
}

impl CustomerGroupData {
    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .finish()
    }
}

/// A stored customer group.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerGroup {
    pub id: CustomerGroupId,
    pub seq: i64,
    pub data: CustomerGroupData,
    pub audit: Audit,
}
