//! Contacts: the people at a customer.

use chrono::NaiveDate;

use crate::common::{int_in, required, text, Audit, Ownership, LONG, SHORT};
use crate::error::DomainResult;
use crate::ids::{ContactId, CustomerId};
use crate::search::{TermSet, TextField};
use crate::text::{Email, Phone};

/// What a caller may set on a contact, as received.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub customer_id: Option<CustomerId>,
    pub code: Option<String>,
    pub full_name: Option<String>,
    pub position: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// 1 = male, 2 = female, 3 = other.
    pub gender: Option<i32>,
    pub birthday: Option<NaiveDate>,
    pub national_id: Option<String>,
    pub address: Option<String>,
    pub status: Option<String>,
    pub is_primary: Option<bool>,
    pub note: Option<String>,
    pub ownership: Ownership,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContactData {
    pub customer_id: Option<CustomerId>,
    pub code: Option<String>,
    pub full_name: String,
    pub position: Option<String>,
    pub department: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub gender: Option<i32>,
    pub birthday: Option<NaiveDate>,
    pub national_id: Option<String>,
    pub address: Option<String>,
    pub status: Option<String>,
    /// At most one contact of a customer is primary: storing one as primary unmarks the others.
    pub is_primary: bool,
    pub note: Option<String>,
    pub ownership: Ownership,
}

impl From<&ContactData> for ContactInput {
    /// The input that stores `d` again as it is (a merge starts from it).
    fn from(d: &ContactData) -> Self {
        Self {
            customer_id: d.customer_id,
            code: d.code.clone(),
            full_name: Some(d.full_name.clone()),
            position: d.position.clone(),
            department: d.department.clone(),
            phone: d.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: d.email.as_ref().map(|e| e.as_str().to_owned()),
            gender: d.gender,
            birthday: d.birthday,
            national_id: d.national_id.clone(),
            address: d.address.clone(),
            status: d.status.clone(),
            is_primary: Some(d.is_primary),
            note: d.note.clone(),
            ownership: d.ownership.clone(),
        }
    }
}

impl ContactInput {
    pub fn validate(self) -> DomainResult<ContactData> {
        Ok(ContactData {
            customer_id: self.customer_id,
            code: text("code", self.code, SHORT)?,
            full_name: required("full_name", self.full_name, SHORT)?,
            position: text("position", self.position, SHORT)?,
            department: text("department", self.department, SHORT)?,
            phone: text("phone", self.phone, SHORT)?
                .map(|p| Phone::parse("phone", &p))
                .transpose()?,
            email: text("email", self.email, SHORT)?
                .map(|e| Email::parse("email", &e))
                .transpose()?,
            gender: int_in("gender", self.gender.filter(|g| *g != 0), 1..=3)?,
            birthday: self.birthday,
            national_id: text("national_id", self.national_id, SHORT)?,
            address: text("address", self.address, LONG)?,
            status: text("status", self.status, SHORT)?,
            is_primary: self.is_primary.unwrap_or(false),
            note: text("note", self.note, LONG)?,
            ownership: self.ownership.validate()?,
        })
    }
}

impl ContactData {
    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.full_name))
            .words(TextField::Code, self.code.as_deref())
            .words(TextField::Code, self.national_id.as_deref())
            .phone(self.phone.as_ref())
            .email(self.email.as_ref())
            .finish()
    }
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: ContactId,
    pub seq: i64,
    pub data: ContactData,
    /// Name of the customer `data.customer_id` points at, when it still exists.
    pub customer_name: Option<String>,
    pub audit: Audit,
}
