//! CRMTOP `lead/*` including `lead/convert/{id}` (seed 000, lines 1275-1527).

use axum::extract::{Path, State};
use axum::routing::{delete, get, post, put};
use axum::Router;
use crm_domain::ids::LeadId;
use crm_domain::lead::{Lead, LeadInput};
use crm_domain::search::{Filter, TextField};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::customers::text_filter;
use super::envelope::{
    body_id, local_time, page_request, path_id, AuditDto, Body, Caller, CrmtopError, Data,
    OwnershipDto, PageDto,
};
use crate::body::{guid, lenient_int, text};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/lead/create", post(create))
        .route("/api/v1/lead/update", put(update))
        .route("/api/v1/lead/get/{id}", get(get_one))
        .route("/api/v1/lead/delete/{id}", delete(remove))
        .route("/api/v1/lead/search", post(search))
        // A state change on GET, as documented (seed 000, line 1275).
        .route("/api/v1/lead/convert/{id}", get(convert))
}

/// `AddOrEditLeadRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeadIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, deserialize_with = "lenient_int")]
    source: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default, deserialize_with = "text")]
    full_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    email: Option<String>,
    #[serde(default, deserialize_with = "text")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "text")]
    company: Option<String>,
    #[serde(default, deserialize_with = "text")]
    position: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    industry: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    rating: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    probability: Option<i32>,
    #[serde(default, deserialize_with = "text")]
    notes: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    assigned_to: Option<i64>,
    #[serde(flatten)]
    ownership: OwnershipDto,
}

impl From<LeadIn> for LeadInput {
    fn from(d: LeadIn) -> Self {
        LeadInput {
            source: d.source,
            status: d.status,
            full_name: d.full_name,
            email: d.email,
            phone: d.phone,
            company: d.company,
            position: d.position,
            industry: d.industry,
            rating: d.rating,
            probability: d.probability,
            notes: d.notes,
            assigned_to: d.assigned_to,
            ownership: d.ownership.into(),
        }
    }
}

/// The `get/{id}` shape (`AddOrEditLeadRequest`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LeadOut {
    id: Uuid,
    source: Option<i32>,
    status: Option<i32>,
    full_name: String,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    position: Option<String>,
    industry: Option<i32>,
    rating: Option<i32>,
    probability: Option<i32>,
    notes: Option<String>,
    assigned_to: Option<i64>,
    #[serde(flatten)]
    ownership: OwnershipDto,
}

impl From<&Lead> for LeadOut {
    fn from(l: &Lead) -> Self {
        let d = &l.data;
        LeadOut {
            id: l.id.0,
            source: d.source,
            status: d.status,
            full_name: d.full_name.clone(),
            email: d.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: d.phone.as_ref().map(|p| p.as_str().to_owned()),
            company: d.company.clone(),
            position: d.position.clone(),
            industry: d.industry,
            rating: d.rating,
            probability: d.probability,
            notes: d.notes.clone(),
            assigned_to: d.assigned_to,
            ownership: (&d.ownership).into(),
        }
    }
}

/// `SearchLeadDto`: the record, its conversion state and audit fields.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LeadItem {
    #[serde(flatten)]
    record: LeadOut,
    is_converted: bool,
    converted_on: Option<String>,
    converted_customer_id: Option<Uuid>,
    converted_contact_id: Option<Uuid>,
    #[serde(flatten)]
    audit: AuditDto,
}

/// `SearchLeadRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeadSearch {
    #[serde(default, deserialize_with = "lenient_int")]
    page_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    page_size: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    search: Option<String>,
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
    Body(body): Body<LeadIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = s.crm.create::<Lead>(&actor, body.into()).await?;
    Ok(Data(id.0))
}

async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<LeadIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = body_id(body.id)?;
    s.crm
        .update::<Lead>(&actor, LeadId(id), body.into())
        .await?;
    Ok(Data(id))
}

async fn get_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<LeadOut>, CrmtopError> {
    let l: Lead = s.crm.get(&actor, LeadId(path_id(&id)?)).await?;
    Ok(Data((&l).into()))
}

async fn remove(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm.delete::<Lead>(&actor, LeadId(path_id(&id)?)).await?;
    Ok(Data(true))
}

async fn convert(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm.convert_lead(&actor, LeadId(path_id(&id)?)).await?;
    Ok(Data(true))
}

async fn search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<LeadSearch>,
) -> Result<Data<PageDto<LeadItem>>, CrmtopError> {
    let page = page_request(q.page_number, q.page_size)?;
    let filter = Filter::all()
        .and(text_filter(None, &q.search))
        .and(text_filter(Some(TextField::Name), &q.full_name))
        .and(text_filter(Some(TextField::Email), &q.email))
        .and(text_filter(Some(TextField::Phone), &q.phone));
    let found = s.crm.search::<Lead>(&actor, &filter, page).await?;
    let tz = actor.time_zone;
    Ok(Data(PageDto::from_page(found, |l| LeadItem {
        record: (&l).into(),
        is_converted: l.conversion.is_some(),
        converted_on: l
            .conversion
            .as_ref()
            .map(|c| local_time(c.converted_at, tz)),
        converted_customer_id: l.conversion.as_ref().map(|c| c.customer_id.0),
        converted_contact_id: l.conversion.as_ref().map(|c| c.contact_id.0),
        audit: AuditDto::new(&l.audit, tz),
    })))
}
