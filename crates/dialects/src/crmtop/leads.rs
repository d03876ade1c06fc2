//! CRMTOP `lead/*` including `lead/convert/{id}` (seed 000, lines 1275-1527).

use axum::extract::{Path, State};
use axum::Router;
use crm_domain::ids::LeadId;
use crm_domain::lead::{Lead, LeadInput};
use crm_domain::search::{Filter, TextField};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{
    local_time, path_id, AuditDto, Caller, CrmtopError, Data, Envelope, OwnershipDto,
};
use super::resource::{routes, text_filter, PageQuery, Resource, Routes};
use crate::body::{guid, lenient_int};
use crate::AppState;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    use crate::openapi::{Api, Op};
    use axum::routing::MethodFilter as M;
    let leads = routes::<Lead>(spec, "lead", Routes { get: true });
    Api::new(spec)
        // A state change on GET, as documented (seed 000, line 1275).
        .route::<(), Envelope<bool>, _, _>(
            M::GET,
            "/api/v1/lead/convert/{id}",
            Op::bearer(
                Lead::TAG,
                "Convert to a customer and a contact (a GET, as documented)",
            ),
            convert,
        )
        .merge(leads)
        .router
}

/// `AddOrEditLeadRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct LeadIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, deserialize_with = "lenient_int")]
    source: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    position: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    industry: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    rating: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    probability: Option<i32>,
    #[serde(default)]
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
            // NextX's attributes are kept.
            ext: None,
        }
    }
}

/// The `get/{id}` shape (`AddOrEditLeadRequest`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct LeadOut {
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
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct LeadItem {
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
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct LeadSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

impl Resource for Lead {
    const TAG: &'static str = "Lead";
    type In = LeadIn;
    type Out = LeadOut;
    type Query = LeadSearch;
    type Item = LeadItem;

    fn id(body: &LeadIn) -> Option<Uuid> {
        body.id
    }
    fn input(body: LeadIn, _: &Actor) -> Result<LeadInput, CrmtopError> {
        Ok(body.into())
    }
    fn out(record: &Self, _: &Actor) -> LeadOut {
        record.into()
    }
    fn page(q: &LeadSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &LeadSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(text_filter(TextField::Name, &q.full_name))
            .and(text_filter(TextField::Email, &q.email))
            .and(text_filter(TextField::Phone, &q.phone)))
    }
    fn item(l: Self, actor: &Actor) -> LeadItem {
        let tz = actor.time_zone;
        LeadItem {
            record: (&l).into(),
            is_converted: l.conversion.is_some(),
            converted_on: l
                .conversion
                .as_ref()
                .map(|c| local_time(c.converted_at, tz)),
            converted_customer_id: l.conversion.as_ref().map(|c| c.customer_id.0),
            converted_contact_id: l.conversion.as_ref().map(|c| c.contact_id.0),
            audit: AuditDto::new(&l.audit, tz),
        }
    }
}

async fn convert(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm.convert_lead(&actor, LeadId(path_id(&id)?)).await?;
    Ok(Data(true))
}
