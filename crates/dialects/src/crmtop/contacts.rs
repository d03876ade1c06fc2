//! CRMTOP `contact/*` (seed 000, lines 655-898).

use axum::Router;
use chrono_tz::Tz;
use crm_domain::contact::{Contact, ContactInput};
use crm_domain::ids::CustomerId;
use crm_domain::search::{Field, Filter, TextField};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{local_date, parse_date, AuditDto, CrmtopError, OwnershipDto};
use super::resource::{ref_filter, routes, text_filter, PageQuery, Resource, Routes, WithAudit};
use crate::body::{guid, lenient_int};
use crate::AppState;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    routes::<Contact>(spec, "contact", Routes { get: true })
}

/// `AddOrEditContactRequest`. `customerName` is accepted and ignored (it is the customer's name).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ContactIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    position: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    gender: Option<i32>,
    #[serde(default)]
    birthday: Option<String>,
    #[serde(default)]
    national_id: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    is_primary: Option<bool>,
    #[serde(default)]
    note: Option<String>,
    #[serde(flatten)]
    ownership: OwnershipDto,
}

impl ContactIn {
    fn into_input(self, tz: Tz) -> Result<ContactInput, CrmtopError> {
        Ok(ContactInput {
            customer_id: self.customer_id.map(CustomerId),
            code: self.code,
            full_name: self.full_name,
            position: self.position,
            department: self.department,
            phone: self.phone,
            email: self.email,
            gender: self.gender,
            birthday: parse_date("birthday", self.birthday.as_deref(), tz)?,
            national_id: self.national_id,
            address: self.address,
            status: self.status,
            is_primary: self.is_primary,
            note: self.note,
            ownership: self.ownership.into(),
        })
    }
}

/// The `get/{id}` shape (`AddOrEditContactRequest`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ContactOut {
    id: Uuid,
    customer_id: Option<Uuid>,
    customer_name: Option<String>,
    code: Option<String>,
    full_name: String,
    position: Option<String>,
    department: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    gender: Option<i32>,
    birthday: Option<String>,
    national_id: Option<String>,
    address: Option<String>,
    status: Option<String>,
    is_primary: bool,
    note: Option<String>,
    #[serde(flatten)]
    ownership: OwnershipDto,
}

impl ContactOut {
    fn new(c: &Contact, tz: Tz) -> Self {
        let d = &c.data;
        ContactOut {
            id: c.id.0,
            customer_id: d.customer_id.map(|id| id.0),
            customer_name: c.customer_name.clone(),
            code: d.code.clone(),
            full_name: d.full_name.clone(),
            position: d.position.clone(),
            department: d.department.clone(),
            phone: d.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: d.email.as_ref().map(|e| e.as_str().to_owned()),
            gender: d.gender,
            birthday: d.birthday.map(|b| local_date(b, tz)),
            national_id: d.national_id.clone(),
            address: d.address.clone(),
            status: d.status.clone(),
            is_primary: d.is_primary,
            note: d.note.clone(),
            ownership: (&d.ownership).into(),
        }
    }
}

/// `SearchContactRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ContactSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

impl Resource for Contact {
    const TAG: &'static str = "Contact";
    type In = ContactIn;
    type Out = ContactOut;
    type Query = ContactSearch;
    /// `SearchContactDto`.
    type Item = WithAudit<ContactOut>;

    fn id(body: &ContactIn) -> Option<Uuid> {
        body.id
    }
    fn input(body: ContactIn, actor: &Actor) -> Result<ContactInput, CrmtopError> {
        body.into_input(actor.time_zone)
    }
    fn out(record: &Self, actor: &Actor) -> ContactOut {
        ContactOut::new(record, actor.time_zone)
    }
    fn page(q: &ContactSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &ContactSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(text_filter(TextField::Code, &q.code))
            .and(text_filter(TextField::Name, &q.full_name))
            .and(text_filter(TextField::Email, &q.email))
            .and(text_filter(TextField::Phone, &q.phone))
            .and(ref_filter(Field::Customer, q.customer_id)))
    }
    fn item(record: Self, actor: &Actor) -> Self::Item {
        WithAudit {
            record: ContactOut::new(&record, actor.time_zone),
            audit: AuditDto::new(&record.audit, actor.time_zone),
        }
    }
}
