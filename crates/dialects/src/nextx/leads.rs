//! NextX leads (`/api/contact/contact`, seed 003 E19-E22) over the core lead, and web forms
//! (`/api/common/webform-fields`, `/api/common/send-webform-v2`, E39-E40) that feed them.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router};
use chrono::NaiveDate;
use crm_domain::inventory::{Place, StaffUser};
use crm_domain::lead::{Lead, LeadExt, LeadInput};
use crm_domain::search::Filter;
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kit::{
    bad, employee_ref, fail, id_of, ok_flat, staff, Caller, Created, EmployeeOut, IdName, Known,
    NoData, NxError, Params, PlaceOut, Status, NO_DATA,
};

use super::kit::api::*;
use crate::body::{lenient_int, parse_ci};
use crate::AppState;

pub fn router(spec: &mut Spec) -> Router<AppState> {
    const T: &str = "Leads";
    const W: &str = "Web forms";
    Api::new(spec)
        .route::<(), Vec<LeadOut>, _, _>(
            M::GET,
            "/api/contact/contact",
            Op::bearer(T, "Leads, a page").query(PEOPLE),
            list,
        )
        .route::<LeadIn, LeadOut, _, _>(
            M::POST,
            "/api/contact/contact",
            Op::bearer(T, "Add a lead"),
            add,
        )
        .route::<(), LeadOut, _, _>(
            M::GET,
            "/api/contact/contact/{id}",
            Op::bearer(T, "A lead").int_id(),
            one,
        )
        .route::<LeadIn, Status, _, _>(
            M::PUT,
            "/api/contact/contact/{id}",
            Op::bearer(T, "Update a lead").int_id(),
            update,
        )
        .route::<(), Created<Vec<FormField>>, _, _>(
            M::GET,
            "/api/common/webform-fields",
            Op::client_key(W, "The fields of the web form the client key names"),
            webform_fields,
        )
        .route::<LeadIn, Created<Submitted>, _, _>(
            M::POST,
            "/api/common/send-webform-v2",
            Op::client_key(W, "Submit the web form: a lead"),
            send_webform,
        )
        // Ours: the doc has no way to define web forms.
        .route::<WebformIn, Created<NewForm>, _, _>(
            M::POST,
            "/api/common/webform",
            Op::bearer(W, "Define a web form and its client key (ours)"),
            webform_add,
        )
        .router
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "LeadResourceIn")]
struct ResourceIn {
    #[serde(default, deserialize_with = "lenient_int")]
    id: Option<i64>,
    #[serde(default)]
    name: Option<String>,
}

/// The lead body: `name` is a string (code samples) or `{full, first, last}` (the update's
/// "Example Request Body").
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct LeadIn {
    #[serde(default, deserialize_with = "lenient_int")]
    employee_id: Option<crm_domain::ids::StaffId>,
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<crm_domain::ids::PlaceId>,
    #[serde(default)]
    resources: Vec<ResourceIn>,
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    mobile: Option<Value>,
    #[serde(default)]
    phone: Option<Value>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    date_assigned: Option<String>,
    #[serde(default)]
    birthday: Option<String>,
    #[serde(default)]
    sex: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
    #[serde(default)]
    account_name: Option<String>,
    #[serde(default)]
    account_address: Option<String>,
    #[serde(default)]
    account_no: Option<Value>,
    /// Web form fields.
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

fn text(v: &Option<Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Object(o)) => o
            .get("full")
            .and_then(|f| f.as_str())
            .map(str::to_owned)
            .or_else(|| {
                let first = o.get("first").and_then(|f| f.as_str()).unwrap_or_default();
                let last = o.get("last").and_then(|f| f.as_str()).unwrap_or_default();
                Some(format!("{last} {first}").trim().to_owned()).filter(|s| !s.is_empty())
            }),
        Some(other) => Some(other.to_string()),
    }
}

fn date(field: &str, v: &Option<String>) -> Result<Option<NaiveDate>, NxError> {
    v.as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| bad(field, format!("'{d}' is not a Y-m-d date")))
        })
        .transpose()
}

fn lead_input(b: &LeadIn, old: Option<&Lead>) -> Result<LeadInput, NxError> {
    let mut ext: LeadExt = old.and_then(|l| l.data.ext.clone()).unwrap_or_default();
    ext.website = b.website.clone().filter(|w| !w.is_empty()).or(ext.website);
    ext.address = b.address.clone().filter(|w| !w.is_empty()).or(ext.address);
    ext.status_text = b
        .status
        .clone()
        .filter(|w| !w.is_empty())
        .or(ext.status_text);
    ext.date_assigned = date("date_assigned", &b.date_assigned)?.or(ext.date_assigned);
    ext.birthday = date("birthday", &b.birthday)?.or(ext.birthday);
    ext.sex = b.sex.clone().filter(|w| !w.is_empty()).or(ext.sex);
    ext.avatar = b.avatar.clone().filter(|w| !w.is_empty()).or(ext.avatar);
    ext.account_name = b
        .account_name
        .clone()
        .filter(|w| !w.is_empty())
        .or(ext.account_name);
    ext.account_address = b
        .account_address
        .clone()
        .filter(|w| !w.is_empty())
        .or(ext.account_address);
    ext.account_no = text(&b.account_no).or(ext.account_no);
    if !b.resources.is_empty() {
        ext.resources = b
            .resources
            .iter()
            .filter_map(|r| Some((r.id?, r.name.clone().unwrap_or_default())))
            .collect();
    }
    ext.branch_id = b.branch_id.or(ext.branch_id);
    ext.employee_id = b.employee_id.or(ext.employee_id);
    let d = old.map(|l| l.data.clone());
    Ok(LeadInput {
        source: d.as_ref().and_then(|d| d.source),
        status: d.as_ref().and_then(|d| d.status),
        full_name: text(&b.name).or_else(|| d.as_ref().map(|d| d.full_name.clone())),
        email: b
            .email
            .clone()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| {
                d.as_ref()
                    .and_then(|d| d.email.as_ref().map(|e| e.as_str().to_owned()))
            }),
        phone: text(&b.mobile).or_else(|| text(&b.phone)).or_else(|| {
            d.as_ref()
                .and_then(|d| d.phone.as_ref().map(|p| p.as_str().to_owned()))
        }),
        company: d.as_ref().and_then(|d| d.company.clone()),
        position: d.as_ref().and_then(|d| d.position.clone()),
        industry: d.as_ref().and_then(|d| d.industry),
        rating: d.as_ref().and_then(|d| d.rating),
        probability: d.as_ref().and_then(|d| d.probability),
        notes: b
            .description
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| d.as_ref().and_then(|d| d.notes.clone())),
        assigned_to: d.as_ref().and_then(|d| d.assigned_to),
        ownership: d.map(|d| d.ownership).unwrap_or_default(),
        ext: Some(ext),
    })
}

/// What a lead's answer refers to: the tenant's branches and staff, loaded once per answer.
struct Refs {
    branches: Vec<Place>,
    users: Vec<StaffUser>,
}

async fn refs(s: &AppState, actor: &Actor) -> Result<Refs, NxError> {
    Ok(Refs {
        branches: s.crm.places(actor, false, None).await?,
        users: staff(s, actor).await?,
    })
}

/// The lead in NextX's shape.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct LeadOut {
    id: i64,
    categories: NoData,
    employee: Option<Known<EmployeeOut>>,
    branch: Option<PlaceOut>,
    resources: Vec<IdName<i64>>,
    name: String,
    mobile: Option<String>,
    email: Option<String>,
    website: Option<String>,
    address: Option<String>,
    status: Option<String>,
    date_assigned: Option<String>,
    code: String,
    birthday: Option<String>,
    sex: Option<String>,
    description: Option<String>,
    avatar: Option<String>,
    account_name: Option<String>,
    account_address: Option<String>,
    account_no: Option<String>,
    source: Option<String>,
    created_at: String,
    /// On the detail only: the doc's example shows an empty list.
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_id: Option<NoData>,
}

/// The lead in NextX's shape, its branch and employee filled in from `refs`.
fn lead_out(l: &Lead, refs: &Refs) -> LeadOut {
    let e = l.data.ext.clone().unwrap_or_default();
    let branch = e
        .branch_id
        .and_then(|b| refs.branches.iter().find(|p| p.id == b))
        .map(PlaceOut::branch);
    LeadOut {
        id: l.seq,
        categories: NO_DATA,
        employee: employee_ref(&refs.users, e.employee_id),
        branch,
        resources: e
            .resources
            .into_iter()
            .map(|(id, name)| IdName { id, name })
            .collect(),
        name: l.data.full_name.clone(),
        mobile: l.data.phone.as_ref().map(|p| p.as_str().to_owned()),
        email: l.data.email.as_ref().map(|m| m.as_str().to_owned()),
        website: e.website,
        address: e.address,
        status: e.status_text,
        date_assigned: e.date_assigned.map(|d| d.to_string()),
        code: format!("KH{:08}", l.seq),
        birthday: e.birthday.map(|d| d.to_string()),
        sex: e.sex,
        description: l.data.notes.clone(),
        avatar: e.avatar,
        account_name: e.account_name,
        account_address: e.account_address,
        account_no: e.account_no,
        source: e.origin,
        created_at: l.audit.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        contact_id: None,
    }
}

async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<LeadOut>>, NxError> {
    let p = Params::parse(q)?;
    let page = p.page()?;
    // Every filter is in the query, before paging.
    let filter = Filter::all()
        .and(p.search().and_then(|t| Filter::text(None, &t)))
        .and(p.created(&actor, "from_date", &["to_date", "units"])?)
        .and(p.branch()?)
        .and(p.no_category()?);
    let found = s.crm.search::<Lead>(&actor, &filter, page).await?;
    let refs = refs(&s, &actor).await?;
    Ok(Json(
        found.items.iter().map(|l| lead_out(l, &refs)).collect(),
    ))
}

async fn by_seq(s: &AppState, actor: &Actor, raw: &str) -> Result<Lead, NxError> {
    let seq = id_of(raw, "lead")?;
    s.crm
        .by_seq(actor, seq)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "lead not found"))
}

async fn add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<LeadOut>, NxError> {
    let b: LeadIn = parse_ci(&body)?;
    let input = lead_input(&b, None)?;
    let id = s.crm.create::<Lead>(&actor, input).await?;
    let lead: Lead = s.crm.get(&actor, id).await?;
    Ok(Json(lead_out(&lead, &refs(&s, &actor).await?)))
}

async fn one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<LeadOut>, NxError> {
    let lead = by_seq(&s, &actor, &id).await?;
    Ok(Json(LeadOut {
        contact_id: Some(NO_DATA),
        ..lead_out(&lead, &refs(&s, &actor).await?)
    }))
}

async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Status>, NxError> {
    let lead = by_seq(&s, &actor, &id).await?;
    let b: LeadIn = parse_ci(&body)?;
    let input = lead_input(&b, Some(&lead))?;
    s.crm.update::<Lead>(&actor, lead.id, input).await?;
    Ok(ok_flat("Lead updated successfully"))
}

/// The form behind `X-Client-Key`, and an actor of its tenant.
async fn form_actor(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<(crm_domain::vocab::Webform, Actor), NxError> {
    let flat = |m: &str| fail(StatusCode::UNAUTHORIZED, m.to_owned()).flat();
    let key = headers
        .get("x-client-key")
        .or_else(|| headers.get("x_client_key"))
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| flat("X-Client-Key is required"))?;
    let form = s
        .crm
        .webform(key)
        .await?
        .ok_or_else(|| flat("Invalid client key"))?;
    let tenant = s.auth.find_tenant(&form.tenant_id.0.to_string()).await?;
    let actor = tenant.actor(uuid::Uuid::nil(), format!("Web form {}", form.name));
    Ok((form, actor))
}

async fn webform_fields(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Created<Vec<FormField>>>, NxError> {
    let (form, _) = form_actor(&s, &headers).await?;
    let fields = form
        .fields
        .iter()
        .map(|f| FormField {
            name: f.clone(),
            kind: match f.as_str() {
                "email" => "email",
                "mobile" => "tel",
                _ => "text",
            },
            required: f == "name",
        })
        .collect();
    Ok(Json(Created::new("Successfully", fields)))
}

async fn send_webform(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Created<Submitted>>, NxError> {
    let (form, actor) = form_actor(&s, &headers).await?;
    let b: LeadIn = parse_ci(&body)?;
    let mut input = lead_input(&b, None)?;
    if input.full_name.is_none() {
        return Err(bad("name", "is required"));
    }
    if let Some(ext) = &mut input.ext {
        ext.website = b
            .website
            .clone()
            .filter(|w| !w.is_empty())
            .or(b.url.clone().filter(|u| !u.is_empty()));
    }
    let message = b.body.clone().filter(|m| !m.trim().is_empty());
    let (id, created) = s.crm.submit_webform(&actor, &form, input, message).await?;
    let lead: Lead = s.crm.get(&actor, id).await?;
    Ok(Json(Created::new(
        "Successfully",
        Submitted {
            id: lead.seq,
            created,
        },
    )))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct WebformIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    fields: Vec<String>,
}

async fn webform_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Created<NewForm>>, NxError> {
    let b: WebformIn = parse_ci(&body)?;
    let form = s.crm.create_webform(&actor, b.name, b.fields).await?;
    Ok(Json(Created::new(
        "Successfully",
        NewForm {
            id: form.id,
            key: form.key,
            fields: form.fields,
        },
    )))
}

/// A field a web form collects.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct FormField {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    required: bool,
}

/// A web form submission: the lead's number, and whether it was new.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Submitted {
    id: i64,
    created: bool,
}

/// A created web form with the key its submissions send.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct NewForm {
    id: crm_domain::ids::WebformId,
    key: String,
    fields: Vec<String>,
}
