//! CRMTOP `customer/*` and `customer/group/*` (seed 000, lines 899-1270).

use axum::extract::{Path, State};
use axum::routing::{delete, get, post, put};
use axum::Router;
use crm_domain::customer::{Customer, CustomerGroup, CustomerGroupInput, CustomerInput};
use crm_domain::ids::{CustomerGroupId, CustomerId};
use crm_domain::search::{Filter, RefField, TextField};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{
    body_id, page_request, path_id, AuditDto, Body, Caller, CrmtopError, Data, OwnershipDto,
    PageDto,
};
use crate::body::{guid, lenient_int, text};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/customer/create", post(create))
        .route("/api/v1/customer/update", put(update))
        .route("/api/v1/customer/get/{id}", get(get_one))
        .route("/api/v1/customer/delete/{id}", delete(remove))
        .route("/api/v1/customer/search", post(search))
        .route("/api/v1/customer/group/create", post(create_group))
        .route("/api/v1/customer/group/update", put(update_group))
        .route("/api/v1/customer/group/delete/{id}", delete(remove_group))
        .route("/api/v1/customer/group/search", post(search_group))
}

/// `AddOrEditCustomerRequest`. `groupName` is accepted and ignored: it is the group's name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomerIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, deserialize_with = "text")]
    code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    name: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
    #[serde(default, deserialize_with = "text")]
    tax_code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    business_type: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    group_id: Option<Uuid>,
    #[serde(default, deserialize_with = "text")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "text")]
    email: Option<String>,
    #[serde(default, deserialize_with = "text")]
    website: Option<String>,
    #[serde(default, deserialize_with = "text")]
    address: Option<String>,
    #[serde(default, deserialize_with = "text")]
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
        }
    }
}

/// The `get/{id}` shape (`AddOrEditCustomerRequest`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerOut {
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

/// `SearchCustomerDto`: the record plus its audit fields.
#[derive(Debug, Serialize)]
struct CustomerItem {
    #[serde(flatten)]
    record: CustomerOut,
    #[serde(flatten)]
    audit: AuditDto,
}

/// `SearchCustomerRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomerSearch {
    #[serde(default, deserialize_with = "lenient_int")]
    page_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    page_size: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    search: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    group_id: Option<Uuid>,
    #[serde(default, deserialize_with = "text")]
    code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    email: Option<String>,
    #[serde(default, deserialize_with = "text")]
    phone: Option<String>,
}

/// A text criterion of a search body; absent or blank means no criterion.
pub(super) fn text_filter(field: Option<TextField>, value: &Option<String>) -> Option<Filter> {
    value.as_deref().and_then(|v| Filter::text(field, v))
}

async fn create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<CustomerIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = s.crm.create::<Customer>(&actor, body.into()).await?;
    Ok(Data(id.0))
}

async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<CustomerIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = body_id(body.id)?;
    s.crm
        .update::<Customer>(&actor, CustomerId(id), body.into())
        .await?;
    Ok(Data(id))
}

async fn get_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<CustomerOut>, CrmtopError> {
    let c: Customer = s.crm.get(&actor, CustomerId(path_id(&id)?)).await?;
    Ok(Data((&c).into()))
}

async fn remove(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm
        .delete::<Customer>(&actor, CustomerId(path_id(&id)?))
        .await?;
    Ok(Data(true))
}

async fn search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<CustomerSearch>,
) -> Result<Data<PageDto<CustomerItem>>, CrmtopError> {
    let page = page_request(q.page_number, q.page_size)?;
    let filter = Filter::all()
        .and(text_filter(None, &q.search))
        .and(text_filter(Some(TextField::Code), &q.code))
        .and(text_filter(Some(TextField::Name), &q.name))
        .and(text_filter(Some(TextField::Email), &q.email))
        .and(text_filter(Some(TextField::Phone), &q.phone))
        .and(q.group_id.map(|id| Filter::Ref {
            field: RefField::Group,
            id,
        }));
    let found = s.crm.search::<Customer>(&actor, &filter, page).await?;
    let tz = actor.time_zone;
    Ok(Data(PageDto::from_page(found, |c| CustomerItem {
        record: (&c).into(),
        audit: AuditDto::new(&c.audit, tz),
    })))
}

/// `SaveCustomerGroupRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, deserialize_with = "text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    note: Option<String>,
}

impl From<GroupIn> for CustomerGroupInput {
    fn from(d: GroupIn) -> Self {
        CustomerGroupInput {
            name: d.name,
            note: d.note,
        }
    }
}

/// `CustomerGroupDto`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupItem {
    id: Uuid,
    name: String,
    note: Option<String>,
    #[serde(flatten)]
    audit: AuditDto,
}

/// `SearchCustomerGroupRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupSearch {
    #[serde(default, deserialize_with = "lenient_int")]
    page_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    page_size: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    search: Option<String>,
}

async fn create_group(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<GroupIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = s.crm.create::<CustomerGroup>(&actor, body.into()).await?;
    Ok(Data(id.0))
}

async fn update_group(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<GroupIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = body_id(body.id)?;
    s.crm
        .update::<CustomerGroup>(&actor, CustomerGroupId(id), body.into())
        .await?;
    Ok(Data(id))
}

async fn remove_group(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm
        .delete::<CustomerGroup>(&actor, CustomerGroupId(path_id(&id)?))
        .await?;
    Ok(Data(true))
}

async fn search_group(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<GroupSearch>,
) -> Result<Data<PageDto<GroupItem>>, CrmtopError> {
    let page = page_request(q.page_number, q.page_size)?;
    let filter = Filter::all().and(text_filter(None, &q.search));
    let found = s.crm.search::<CustomerGroup>(&actor, &filter, page).await?;
    let tz = actor.time_zone;
    Ok(Data(PageDto::from_page(found, |g| GroupItem {
        id: g.id.0,
        name: g.data.name,
        note: g.data.note,
        audit: AuditDto::new(&g.audit, tz),
    })))
}
