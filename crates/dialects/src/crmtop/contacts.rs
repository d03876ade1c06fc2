//! CRMTOP `contact/*` (seed 000, lines 655-898).

use axum::extract::{Path, State};
use axum::routing::{delete, get, post, put};
use axum::Router;
use chrono_tz::Tz;
use crm_domain::contact::{Contact, ContactInput};
use crm_domain::ids::{ContactId, CustomerId};
use crm_domain::search::{Filter, RefField, TextField};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::customers::text_filter;
use super::envelope::{
    body_id, local_date, page_request, parse_date, path_id, AuditDto, Body, Caller, CrmtopError,
    Data, OwnershipDto, PageDto,
};
use crate::body::{guid, lenient_int, text};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contact/create", post(create))
        .route("/api/v1/contact/update", put(update))
        .route("/api/v1/contact/get/{id}", get(get_one))
        .route("/api/v1/contact/delete/{id}", delete(remove))
        .route("/api/v1/contact/search", post(search))
}

/// `AddOrEditContactRequest`. `customerName` is accepted and ignored (it is the customer's name).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default, deserialize_with = "text")]
    code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    full_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    position: Option<String>,
    #[serde(default, deserialize_with = "text")]
    department: Option<String>,
    #[serde(default, deserialize_with = "text")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "text")]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    gender: Option<i32>,
    #[serde(default, deserialize_with = "text")]
    birthday: Option<String>,
    #[serde(default, deserialize_with = "text")]
    national_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    address: Option<String>,
    #[serde(default, deserialize_with = "text")]
    status: Option<String>,
    #[serde(default)]
    is_primary: Option<bool>,
    #[serde(default, deserialize_with = "text")]
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactOut {
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

/// `SearchContactDto`.
#[derive(Debug, Serialize)]
struct ContactItem {
    #[serde(flatten)]
    record: ContactOut,
    #[serde(flatten)]
    audit: AuditDto,
}

/// `SearchContactRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactSearch {
    #[serde(default, deserialize_with = "lenient_int")]
    page_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    page_size: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    search: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default, deserialize_with = "text")]
    code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    full_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    email: Option<String>,
    #[serde(default, deserialize_with = "text")]
    phone: Option<String>,
}

async fn create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<ContactIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let input = body.into_input(actor.time_zone)?;
    let id = s.crm.create::<Contact>(&actor, input).await?;
    Ok(Data(id.0))
}

async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<ContactIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = body_id(body.id)?;
    let input = body.into_input(actor.time_zone)?;
    s.crm
        .update::<Contact>(&actor, ContactId(id), input)
        .await?;
    Ok(Data(id))
}

async fn get_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<ContactOut>, CrmtopError> {
    let c: Contact = s.crm.get(&actor, ContactId(path_id(&id)?)).await?;
    Ok(Data(ContactOut::new(&c, actor.time_zone)))
}

async fn remove(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm
        .delete::<Contact>(&actor, ContactId(path_id(&id)?))
        .await?;
    Ok(Data(true))
}

async fn search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<ContactSearch>,
) -> Result<Data<PageDto<ContactItem>>, CrmtopError> {
    let page = page_request(q.page_number, q.page_size)?;
    let filter = Filter::all()
        .and(text_filter(None, &q.search))
        .and(text_filter(Some(TextField::Code), &q.code))
        .and(text_filter(Some(TextField::Name), &q.full_name))
        .and(text_filter(Some(TextField::Email), &q.email))
        .and(text_filter(Some(TextField::Phone), &q.phone))
        .and(q.customer_id.map(|id| Filter::Ref {
            field: RefField::Customer,
            id,
        }));
    let found = s.crm.search::<Contact>(&actor, &filter, page).await?;
    let tz = actor.time_zone;
    Ok(Data(PageDto::from_page(found, |c| ContactItem {
        record: ContactOut::new(&c, tz),
        audit: AuditDto::new(&c.audit, tz),
    })))
}
