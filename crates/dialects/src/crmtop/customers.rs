//! CRMTOP `customer/*` and `customer/group/*` (seed 000, lines 899-1270).

use axum::Router;
use crm_domain::customer::{Customer, CustomerGroup, CustomerGroupInput, CustomerInput};
use crm_domain::ids::CustomerGroupId;
use crm_domain::search::{Field, Filter, TextField};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{AuditDto, CrmtopError, OwnershipDto};
use super::resource::{ref_filter, routes, text_filter, PageQuery, Resource, Routes, WithAudit};
use crate::body::{guid, lenient_int};
use crate::AppState;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    Router::new()
        .merge(routes::<Customer>(spec, "customer", Routes { get: true }))
        // Groups have no `get/{id}` in the doc.
        .merge(routes::<CustomerGroup>(
            spec,
            "customer/group",
            Routes { get: false },
        ))
}

/// `AddOrEditCustomerRequest`. `groupName` is accepted and ignored: it is the group's name.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct CustomerIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
    #[serde(default)]
    tax_code: Option<String>,
    #[serde(default)]
    business_type: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    group_id: Option<Uuid>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(flatten)]
    ownership: OwnershipDto,
}

impl From<CustomerIn> for CustomerInput {
    fn from(d: CustomerIn) -> Self {
        CustomerInput {
            code: d.code,
            name: d.name,
            kind: d.kind,
            tax_code: d.tax_code,
            business_type: d.business_type,
            group_id: d.group_id.map(CustomerGroupId),
            phone: d.phone,
            email: d.email,
            website: d.website,
            address: d.address,
            note: d.note,
            ownership: d.ownership.into(),
            // CRMTOP does not carry the other vendors' attributes: they are kept.
            ext: None,
        }
    }
}

/// The `get/{id}` shape (`AddOrEditCustomerRequest`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct CustomerOut {
    id: Uuid,
    code: Option<String>,
    name: String,
    #[serde(rename = "type")]
    kind: i32,
    tax_code: Option<String>,
    business_type: Option<String>,
    group_id: Option<Uuid>,
    group_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
    address: Option<String>,
    note: Option<String>,
    #[serde(flatten)]
    ownership: OwnershipDto,
}

impl From<&Customer> for CustomerOut {
    fn from(c: &Customer) -> Self {
        let d = &c.data;
        CustomerOut {
            id: c.id.0,
            code: d.code.clone(),
            name: d.name.clone(),
            kind: d.kind,
            tax_code: d.tax_code.clone(),
            business_type: d.business_type.clone(),
            group_id: d.group_id.map(|g| g.0),
            group_name: c.group_name.clone(),
            phone: d.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: d.email.as_ref().map(|e| e.as_str().to_owned()),
            website: d.website.clone(),
            address: d.address.clone(),
            note: d.note.clone(),
            ownership: (&d.ownership).into(),
        }
    }
}

/// `SearchCustomerRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct CustomerSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "guid")]
    group_id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

impl Resource for Customer {
    const TAG: &'static str = "Customer";
    type In = CustomerIn;
    type Out = CustomerOut;
    type Query = CustomerSearch;
    /// `SearchCustomerDto`.
    type Item = WithAudit<CustomerOut>;

    fn id(body: &CustomerIn) -> Option<Uuid> {
        body.id
    }
    fn input(body: CustomerIn, _: &Actor) -> Result<CustomerInput, CrmtopError> {
        Ok(body.into())
    }
    fn out(record: &Self, _: &Actor) -> CustomerOut {
        record.into()
    }
    fn page(q: &CustomerSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &CustomerSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(text_filter(TextField::Code, &q.code))
            .and(text_filter(TextField::Name, &q.name))
            .and(text_filter(TextField::Email, &q.email))
            .and(text_filter(TextField::Phone, &q.phone))
            .and(ref_filter(Field::Group, q.group_id)))
    }
    fn item(record: Self, actor: &Actor) -> Self::Item {
        WithAudit {
            record: (&record).into(),
            audit: AuditDto::new(&record.audit, actor.time_zone),
        }
    }
}

/// `SaveCustomerGroupRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct GroupIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

impl From<GroupIn> for CustomerGroupInput {
    fn from(d: GroupIn) -> Self {
        CustomerGroupInput {
            name: d.name,
            note: d.note,
            project: None,
        }
    }
}

/// `CustomerGroupDto`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct GroupOut {
    id: Uuid,
    name: String,
    note: Option<String>,
}

/// `SearchCustomerGroupRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(super) struct GroupSearch {
    #[serde(flatten)]
    page: PageQuery,
}

impl Resource for CustomerGroup {
    const TAG: &'static str = "Customer group";
    type In = GroupIn;
    type Out = GroupOut;
    type Query = GroupSearch;
    type Item = WithAudit<GroupOut>;

    fn id(body: &GroupIn) -> Option<Uuid> {
        body.id
    }
    fn input(body: GroupIn, _: &Actor) -> Result<CustomerGroupInput, CrmtopError> {
        Ok(body.into())
    }
    fn out(g: &Self, _: &Actor) -> GroupOut {
        GroupOut {
            id: g.id.0,
            name: g.data.name.clone(),
            note: g.data.note.clone(),
        }
    }
    fn page(q: &GroupSearch) -> &PageQuery {
        &q.page
    }
    fn filter(_: &GroupSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all())
    }
    fn item(record: Self, actor: &Actor) -> Self::Item {
        WithAudit {
            record: Self::out(&record, actor),
            audit: AuditDto::new(&record.audit, actor.time_zone),
        }
    }
}
