//! OMI CRM contact API v2 (seed `002_673bafa2204d4795.txt`): `/api/v2/contact/...` over the
//! core customer, in the envelope `{status_code, instance_id, instance_name, payload,
//! key_enabled}`. Decisions: `docs/dialects/omi.md`.

use std::collections::{BTreeMap, HashSet};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use crm_domain::customer::{
    Channel, Customer, CustomerData, CustomerExt, CustomerInput, FieldValue, FunnelPlace, LabelKind,
};
use crm_domain::ids::CustomerId;
use crm_domain::search::{Field, Filter, PageRequest, TextField};
use crm_domain::text::{Email, Phone};
use crm_domain::vocab::{Stage, Vocab, VocabKind};
use crm_domain::{Actor, DomainError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::body::{parse_ci, BodyError};
use crate::{bearer, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/contact/add", post(add))
        .route("/api/v2/contact/addMany", post(add_many))
        .route("/api/v2/contact/update", post(update))
        .route("/api/v2/contact/search", post(search))
        .route("/api/v2/contact/get/{id}", get(get_one))
        .route("/api/v2/contact/layout/list", get(layout))
        .route("/api/v2/contact/filterContact/list", get(funnels))
        // Ours: the doc has no way to define funnels.
        .route("/api/v2/contact/filterContact/add", post(funnel_add))
}

/// OMI's success code; every failure is `-9999` with an `error` key naming the kind.
pub const SUCCESS: i32 = 9999;
pub const FAILURE: i32 = -9999;
/// Most contacts one `addMany` call may carry.
pub const MAX_BATCH: usize = 1000;
/// Largest `size` of a search page.
pub const MAX_SIZE: u32 = 500;
/// Most `ranges` one search may give (each is one condition).
pub const MAX_RANGES: usize = 10;

fn instance() -> (&'static str, String) {
    (
        "crm",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "crm".to_owned()),
    )
}

pub struct Payload<T>(T);

impl<T: Serialize> IntoResponse for Payload<T> {
    fn into_response(self) -> Response {
        let (id, name) = instance();
        Json(json!({
            "status_code": SUCCESS,
            "instance_id": id,
            "instance_name": name,
            "payload": self.0,
            "key_enabled": false,
        }))
        .into_response()
    }
}

#[derive(Debug)]
pub struct OmiError {
    status: StatusCode,
    error: &'static str,
    message: String,
}

fn fail(status: StatusCode, error: &'static str, message: impl Into<String>) -> OmiError {
    OmiError {
        status,
        error,
        message: message.into(),
    }
}

impl IntoResponse for OmiError {
    fn into_response(self) -> Response {
        let (id, name) = instance();
        (
            self.status,
            Json(json!({
                "status_code": FAILURE,
                "instance_id": id,
                "instance_name": name,
                "payload": null,
                "key_enabled": false,
                "error": self.error,
                "message": self.message,
            })),
        )
            .into_response()
    }
}

/// A failure with HTTP `status` in OMI's envelope; `error` is the kind that status stands for.
pub fn reject(status: StatusCode, about_field: bool, message: String) -> Response {
    fail(status, kind_of(status, about_field), message).into_response()
}

/// The `error` kind an HTTP status stands for.
fn kind_of(status: StatusCode, about_field: bool) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST if about_field => "invalid_field",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::TOO_MANY_REQUESTS => "throttled",
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => "timeout",
        StatusCode::SERVICE_UNAVAILABLE => "busy",
        s if s.is_server_error() => "internal",
        _ => "invalid_request",
    }
}

/// OMI's camelCase name of a domain field.
fn wire(field: &str) -> String {
    let renamed = match field {
        "name" => "fullName",
        "ref_id" => "refId",
        "ref_code" => "refCode",
        "ref_type" => "refType",
        "owner_email" => "userOwnerEmail",
        "custom_fields" => "otherDynamicUpdates",
        "filter_contacts" => "filterContacts",
        "phone" => "phones",
        "email" => "emails",
        "labels" => "tags",
        other => return camel(other),
    };
    renamed.to_owned()
}

fn camel(field: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in field.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl From<DomainError> for OmiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound { entity } => fail(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{entity} not found"),
            ),
            DomainError::Validation { field, message } => fail(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                format!("{}: {message}", wire(&field)),
            ),
            DomainError::Conflict {
                field: Some("ref_id"),
                message,
            } => fail(
                StatusCode::CONFLICT,
                "duplicate_ref_id",
                format!("refId: {message}"),
            ),
            DomainError::Conflict { message, .. } => {
                fail(StatusCode::CONFLICT, "conflict", message)
            }
            DomainError::InUse { message, .. } => fail(StatusCode::CONFLICT, "in_use", message),
            DomainError::Unauthorized => fail(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the access token is missing, invalid or expired",
            ),
            DomainError::Throttled { busy, message, .. } => {
                let status = crate::guard::throttle_status(busy);
                fail(status, kind_of(status, false), message)
            }
            DomainError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal server error",
                )
            }
        }
    }
}

impl From<BodyError> for OmiError {
    fn from(e: BodyError) -> Self {
        if e.status == StatusCode::PAYLOAD_TOO_LARGE {
            fail(e.status, "too_large", e.message)
        } else if e.field.is_some() {
            fail(e.status, "invalid_field", e.message)
        } else {
            fail(e.status, "invalid_json", e.message)
        }
    }
}

pub struct Caller(Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = OmiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| {
            fail(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "an Authorization: Bearer token is required",
            )
        })?;
        Ok(Caller(state.auth.authenticate(token).await?))
    }
}

/// `{data, type, valueType}`: a phone, an e-mail or a dynamic attribute's value.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValueIn {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    value_type: Option<String>,
}

impl ValueIn {
    fn text(&self) -> String {
        match &self.data {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(other) => other.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceIn {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    index: Option<i32>,
    #[serde(default)]
    second_level_index: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DynamicIn {
    #[serde(default)]
    field_code: Option<String>,
    #[serde(default)]
    values: Vec<ValueIn>,
}

/// The contact body of add, addMany items and update.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactIn {
    #[serde(default, rename = "_id")]
    id: Option<String>,
    #[serde(default)]
    ref_id: Option<Value>,
    #[serde(default)]
    ref_code: Option<String>,
    #[serde(default)]
    ref_type: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    business: Option<Vec<String>>,
    #[serde(default)]
    categories: Option<Vec<String>>,
    #[serde(default)]
    tag_removes: Option<Vec<String>>,
    #[serde(default)]
    business_removes: Option<Vec<String>>,
    #[serde(default)]
    categories_removes: Option<Vec<String>>,
    #[serde(default)]
    user_owner_email: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    gender: Option<String>,
    #[serde(default)]
    passport: Option<String>,
    /// The add doc spells it `jobTitlte`.
    #[serde(default, alias = "jobTitlte")]
    job_title: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    phones: Option<Vec<ValueIn>>,
    #[serde(default)]
    emails: Option<Vec<ValueIn>>,
    #[serde(default)]
    filter_contacts: Option<Vec<PlaceIn>>,
    #[serde(default)]
    other_dynamic_updates: Option<Vec<DynamicIn>>,
}

fn bad(field: &str, message: impl Into<String>) -> OmiError {
    fail(
        StatusCode::BAD_REQUEST,
        "invalid_field",
        format!("{field}: {}", message.into()),
    )
}

fn ref_id(raw: &Option<Value>) -> Result<Option<String>, OmiError> {
    match raw {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(bad("refId", format!("expected a string, got {other}"))),
    }
}

fn same(a: &str, b: &str) -> bool {
    crm_domain::search::whole_term(a) == crm_domain::search::whole_term(b)
}

/// Applies the body to a customer's data: present fields replace, absent ones stay; labels
/// are added (and removed with `…Removes`).
async fn apply(
    s: &AppState,
    actor: &Actor,
    c: ContactIn,
    base: Option<CustomerData>,
) -> Result<CustomerInput, OmiError> {
    let creating = base.is_none();
    let base = base.unwrap_or(CustomerData {
        code: None,
        name: String::new(),
        kind: crm_domain::customer::KIND_INDIVIDUAL,
        tax_code: None,
        business_type: None,
        group_id: None,
        phone: None,
        email: None,
        website: None,
        address: None,
        note: None,
        ownership: Default::default(),
        ext: None,
    });
    let mut ext: CustomerExt = base.ext.clone().unwrap_or_default();
    if let Some(phones) = &c.phones {
        let mut out = Vec::new();
        for (i, p) in phones.iter().enumerate() {
            let text = p.text();
            if text.is_empty() {
                continue;
            }
            out.push(Channel {
                value: Phone::parse(&format!("phones[{i}].data"), &text)?,
                kind: p.kind.clone(),
                label: p.value_type.clone(),
            });
        }
        ext.phones = out;
    }
    if let Some(emails) = &c.emails {
        let mut out = Vec::new();
        for (i, e) in emails.iter().enumerate() {
            let text = e.text();
            if text.is_empty() {
                continue;
            }
            out.push(Channel {
                value: Email::parse(&format!("emails[{i}].data"), &text)?,
                kind: e.kind.clone(),
                label: e.value_type.clone(),
            });
        }
        ext.emails = out;
    }
    for (kind, add, remove) in [
        (LabelKind::Tag, &c.tags, &c.tag_removes),
        (LabelKind::Business, &c.business, &c.business_removes),
        (LabelKind::Category, &c.categories, &c.categories_removes),
    ] {
        for name in add.iter().flatten() {
            if !name.trim().is_empty()
                && !ext.labels.iter().any(|(k, n)| *k == kind && same(n, name))
            {
                ext.labels.push((kind, name.trim().to_owned()));
            }
        }
        for name in remove.iter().flatten() {
            ext.labels.retain(|(k, n)| !(*k == kind && same(n, name)));
        }
    }
    if let Some(v) = &c.user_owner_email {
        ext.owner_email = match v.trim() {
            "" => None,
            e => Some(Email::parse("userOwnerEmail", e)?),
        };
    }
    for (slot, value) in [
        (&mut ext.avatar_url, &c.avatar_url),
        (&mut ext.gender, &c.gender),
        (&mut ext.passport, &c.passport),
        (&mut ext.job_title, &c.job_title),
        (&mut ext.ref_code, &c.ref_code),
        (&mut ext.ref_type, &c.ref_type),
    ] {
        if let Some(v) = value {
            *slot = Some(v.clone()).filter(|v| !v.trim().is_empty());
        }
    }
    if creating {
        ext.ref_id = ref_id(&c.ref_id)?;
    }
    if let Some(places) = &c.filter_contacts {
        let mut out = Vec::new();
        for (i, p) in places.iter().enumerate() {
            let id =
                p.id.as_deref()
                    .and_then(|id| id.trim().parse::<Uuid>().ok())
                    .ok_or_else(|| bad(&format!("filterContacts[{i}].id"), "is not a funnel id"))?;
            out.push(FunnelPlace {
                funnel_id: id,
                index: p.index.unwrap_or(0),
                second_index: p.second_level_index,
            });
        }
        ext.funnels = out;
    }
    if let Some(updates) = &c.other_dynamic_updates {
        let fields = s.crm.vocab_of(actor, VocabKind::Field).await?;
        for (i, u) in updates.iter().enumerate() {
            let code = u.field_code.as_deref().map(str::trim).unwrap_or_default();
            let def = fields.iter().find(|f| f.data.code == code).ok_or_else(|| {
                bad(
                    &format!("otherDynamicUpdates[{i}].fieldCode"),
                    format!("no dynamic attribute '{code}' (see layout/list)"),
                )
            })?;
            let values: Vec<FieldValue> = u
                .values
                .iter()
                .map(|v| FieldValue {
                    data: v.text(),
                    kind: v.kind.clone(),
                    label: v.value_type.clone(),
                })
                .filter(|v| !v.data.is_empty())
                .collect();
            ext.custom.retain(|(f, _)| *f != def.id.0);
            if !values.is_empty() {
                ext.custom.push((def.id.0, values));
            }
        }
    }
    let name = match &c.full_name {
        Some(n) => Some(n.clone()),
        None => Some(base.name.clone()).filter(|n| !n.is_empty()),
    };
    let address = match &c.address {
        Some(a) => Some(a.clone()),
        None => base.address.clone(),
    };
    let note = match &c.note {
        Some(n) => Some(n.clone()),
        None => base.note.clone(),
    };
    Ok(CustomerInput {
        code: base.code.clone(),
        name,
        kind: Some(base.kind),
        tax_code: base.tax_code.clone(),
        business_type: base.business_type.clone(),
        group_id: base.group_id,
        phone: ext.phones.first().map(|p| p.value.as_str().to_owned()),
        email: ext.emails.first().map(|e| e.value.as_str().to_owned()),
        website: base.website.clone(),
        address,
        note,
        ownership: base.ownership.clone(),
        ext: Some(ext),
    })
}

async fn add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Payload<bool>, OmiError> {
    let c: ContactIn = parse_ci(&body)?;
    let input = apply(&s, &actor, c, None).await?;
    s.crm.create::<Customer>(&actor, input).await?;
    Ok(Payload(true))
}

#[derive(Debug, Deserialize)]
struct ManyIn {
    #[serde(default)]
    data: Vec<Value>,
}

/// One item's outcome in `addMany`.
#[derive(Debug, Serialize)]
struct ItemOutcome {
    index: usize,
    #[serde(rename = "refId")]
    ref_id: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

async fn add_many(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Payload<Value>, OmiError> {
    let many: ManyIn = parse_ci(&body)?;
    if many.data.is_empty() {
        return Err(bad("data", "must hold at least one contact"));
    }
    if many.data.len() > MAX_BATCH {
        return Err(bad(
            "data",
            format!("at most {MAX_BATCH} contacts per call"),
        ));
    }
    let mut outcomes: Vec<ItemOutcome> = Vec::with_capacity(many.data.len());
    let mut ready = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // Partner ids already taken, in one lookup.
    let refs: Vec<String> = many
        .data
        .iter()
        .filter_map(|v| {
            v.get("refId").and_then(|r| {
                r.as_str()
                    .map(str::to_owned)
                    .or_else(|| r.as_i64().map(|n| n.to_string()))
            })
        })
        .collect();
    let taken = taken_refs(&s, &actor, &refs).await?;
    for (index, raw) in many.data.into_iter().enumerate() {
        let bytes = Bytes::from(raw.to_string());
        let prepared = async {
            let c: ContactIn = parse_ci(&bytes)?;
            let rid = ref_id(&c.ref_id)?;
            if let Some(r) = &rid {
                let key = crm_domain::search::whole_term(r);
                if taken.contains(&key) || !seen.insert(key) {
                    return Err(fail(
                        StatusCode::CONFLICT,
                        "duplicate_ref_id",
                        format!("refId: '{r}' is used by another contact"),
                    ));
                }
            }
            let input = apply(&s, &actor, c, None).await?;
            let data = s.crm.prepare::<Customer>(&actor, input).await?;
            Ok::<_, OmiError>((rid, data))
        }
        .await;
        match prepared {
            Ok((rid, data)) => {
                outcomes.push(ItemOutcome {
                    index,
                    ref_id: rid,
                    status: "created",
                    public_id: None,
                    error: None,
                    message: None,
                });
                ready.push((outcomes.len() - 1, data));
            }
            Err(e) => outcomes.push(ItemOutcome {
                index,
                ref_id: raw.get("refId").and_then(|r| r.as_str()).map(str::to_owned),
                status: "error",
                public_id: None,
                error: Some(e.error),
                message: Some(e.message),
            }),
        }
    }
    let (slots, data): (Vec<usize>, Vec<CustomerData>) = ready.into_iter().unzip();
    let ids = s.crm.insert_prepared::<Customer>(&actor, data).await?;
    for (slot, id) in slots.into_iter().zip(ids) {
        outcomes[slot].public_id = Some(id.0);
    }
    let created = outcomes.iter().filter(|o| o.status == "created").count();
    let errors: BTreeMap<String, String> = outcomes
        .iter()
        .filter(|o| o.status == "error")
        .map(|o| (o.index.to_string(), o.message.clone().unwrap_or_default()))
        .collect();
    Ok(Payload(json!({
        "success": errors.is_empty(),
        "created": created,
        "failed": outcomes.len() - created,
        "error": errors,
        "items": outcomes,
    })))
}

/// The folded partner ids among `refs` that live customers already use.
async fn taken_refs(
    s: &AppState,
    actor: &Actor,
    refs: &[String],
) -> Result<HashSet<String>, OmiError> {
    let mut out = HashSet::new();
    for chunk in refs.chunks(MAX_SIZE as usize) {
        let Some(any) = Filter::any_whole(TextField::RefId, chunk.iter().map(String::as_str))
        else {
            continue;
        };
        let page = s
            .crm
            .search::<Customer>(
                actor,
                &any,
                PageRequest {
                    number: 1,
                    size: MAX_SIZE,
                },
            )
            .await?;
        out.extend(
            page.items
                .iter()
                .filter_map(|c| c.data.ext.as_ref().and_then(|e| e.ref_id.as_deref()))
                .map(crm_domain::search::whole_term),
        );
    }
    Ok(out)
}

/// A contact by OMI id (`_id`, `public_id`) or, failing that, by the partner's `refId`.
async fn locate(
    s: &AppState,
    actor: &Actor,
    id: Option<&str>,
    rid: Option<&str>,
) -> Result<Customer, OmiError> {
    if let Some(id) = id.map(str::trim).filter(|i| !i.is_empty()) {
        if let Ok(uuid) = id.parse::<Uuid>() {
            return Ok(s.crm.get::<Customer>(actor, CustomerId(uuid)).await?);
        }
        return Err(fail(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no contact with id '{id}'"),
        ));
    }
    let Some(rid) = rid else {
        return Err(bad("refId", "refId or _id is required"));
    };
    s.crm
        .find::<Customer>(actor, &Filter::whole(TextField::RefId, rid))
        .await?
        .ok_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no contact with refId '{rid}'"),
            )
        })
}

async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Payload<bool>, OmiError> {
    let c: ContactIn = parse_ci(&body)?;
    let rid = ref_id(&c.ref_id)?;
    let found = locate(&s, &actor, c.id.as_deref(), rid.as_deref()).await?;
    let input = apply(&s, &actor, c, Some(found.data.clone())).await?;
    s.crm.update::<Customer>(&actor, found.id, input).await?;
    Ok(Payload(true))
}

#[derive(Debug, Deserialize)]
struct PageIn {
    page: Option<String>,
    size: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RangeIn {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchIn {
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    business: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    ranges: Vec<RangeIn>,
    #[serde(default)]
    include_ids: Vec<String>,
    #[serde(default)]
    exclude_ids: Vec<String>,
}

fn ms(at: i64, field: &str) -> Result<DateTime<Utc>, OmiError> {
    DateTime::from_timestamp_millis(at)
        .ok_or_else(|| bad(field, format!("{at} is not an epoch-millisecond time")))
}

/// Ids that are not ours match no contact (include) or exclude nothing.
fn ids(raw: &[String]) -> Vec<Uuid> {
    raw.iter()
        .filter_map(|i| i.trim().parse::<Uuid>().ok())
        .collect()
}

async fn search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(p): Query<PageIn>,
    body: Bytes,
) -> Result<Payload<Value>, OmiError> {
    let number = match p.page.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => 1,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("page", "must be a whole number from 1"))?,
    };
    let size = match p.size.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => 50,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_SIZE).contains(n))
            .ok_or_else(|| bad("size", format!("must be between 1 and {MAX_SIZE}")))?,
    };
    let q: SearchIn = parse_ci(&body)?;
    let mut filter = Filter::all().and(q.keyword.as_deref().and_then(|k| Filter::text(None, k)));
    for (field, names) in [
        (TextField::Tag, &q.tags),
        (TextField::Business, &q.business),
        (TextField::Category, &q.categories),
    ] {
        filter = filter.and(Filter::any_whole(field, names.iter().map(String::as_str)));
    }
    if q.ranges.len() > MAX_RANGES {
        return Err(bad(
            "ranges",
            format!("at most {MAX_RANGES} ranges may be given"),
        ));
    }
    for (i, r) in q.ranges.iter().enumerate() {
        let field = match r.field.as_deref().map(str::trim) {
            Some("created_date") | None => Field::CreatedAt,
            Some("last_updated_date") => Field::UpdatedAt,
            Some(other) => {
                return Err(bad(
                    &format!("ranges[{i}].field"),
                    format!("'{other}' is not created_date or last_updated_date"),
                ))
            }
        };
        let from = r.from.map(|v| ms(v, "ranges.from")).transpose()?;
        let to = r.to.map(|v| ms(v, "ranges.to")).transpose()?;
        filter = filter.and(Some(Filter::Range { field, from, to }));
    }
    if !q.include_ids.is_empty() {
        filter = filter.and(Some(Filter::Ids {
            ids: ids(&q.include_ids),
            negate: false,
        }));
    }
    if !q.exclude_ids.is_empty() {
        filter = filter.and(Some(Filter::Ids {
            ids: ids(&q.exclude_ids),
            negate: true,
        }));
    }
    let page = PageRequest::new(number, size)?;
    let found = s.crm.search::<Customer>(&actor, &filter, page).await?;
    let ctx = Context::load(&s, &actor).await?;
    let total_pages = found.total_pages();
    let current = u64::from(number);
    Ok(Payload(json!({
        "next_page": if current < total_pages { current + 1 } else { current },
        "page_number": current,
        "has_previous": current > 1,
        "has_next": current < total_pages,
        "total_pages": total_pages,
        "previous_page": if current > 1 { current - 1 } else { current },
        "total_items": found.total,
        "page_size": size,
        "items": found.items.iter().map(|c| ctx.item(c)).collect::<Vec<_>>(),
    })))
}

/// What items are rendered with: the tenant's dynamic attribute definitions.
struct Context {
    fields: Vec<Vocab>,
}

impl Context {
    async fn load(s: &AppState, actor: &Actor) -> Result<Self, OmiError> {
        Ok(Self {
            fields: s.crm.vocab_of(actor, VocabKind::Field).await?,
        })
    }

    /// A contact in OMI's item shape: `attribute_structure` holds every attribute value.
    fn item(&self, c: &Customer) -> Value {
        let d = &c.data;
        let default = CustomerExt::default();
        let e = d.ext.as_ref().unwrap_or(&default);
        let one = |code: &str, kind: &str, value: Option<&str>| {
            json!({
                "identify": false,
                "field_code": code,
                "field_type": kind,
                "value": value.map(|v| vec![json!({"display_value": v, "data_type": null, "value_type": null})]).unwrap_or_default(),
            })
        };
        let channels =
            |code: &str, kind: &str, list: Vec<(String, Option<String>, Option<String>)>| {
                json!({
                    "identify": false,
                    "field_code": code,
                    "field_type": kind,
                    "value": list.into_iter().map(|(v, t, l)| json!({"display_value": v, "data_type": t, "value_type": l})).collect::<Vec<_>>(),
                })
            };
        let mut attributes = vec![
            one("full_name", "single_text", Some(&d.name)),
            one("job_title", "single_text", e.job_title.as_deref()),
            one("gender", "radio", e.gender.as_deref()),
            channels(
                "phone_number",
                "phone",
                e.phones
                    .iter()
                    .map(|p| (p.value.as_str().to_owned(), p.kind.clone(), p.label.clone()))
                    .collect(),
            ),
            channels(
                "mail",
                "email",
                e.emails
                    .iter()
                    .map(|m| (m.value.as_str().to_owned(), m.kind.clone(), m.label.clone()))
                    .collect(),
            ),
            one("address", "single_text", d.address.as_deref()),
            one("passport", "single_text", e.passport.as_deref()),
            one("note", "multi_text", d.note.as_deref()),
        ];
        for (field, values) in &e.custom {
            if let Some(def) = self.fields.iter().find(|f| f.id.0 == *field) {
                attributes.push(channels(
                    &def.data.code,
                    def.data.field_type.as_deref().unwrap_or("single_text"),
                    values
                        .iter()
                        .map(|v| (v.data.clone(), v.kind.clone(), v.label.clone()))
                        .collect(),
                ));
            }
        }
        let labels = |kind: LabelKind| {
            e.labels
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| n.clone())
                .collect::<Vec<_>>()
        };
        json!({
            "public_id": c.id.0,
            "create_by": {"name": c.audit.created_by_name},
            "last_update_by": {"name": c.audit.updated_by_name},
            "created_date": c.audit.created_at.timestamp_millis(),
            "last_updated_date": c.audit.updated_at.timestamp_millis(),
            "contact_type": "contact",
            "tags_view": null,
            "is_deleted": false,
            "tags": labels(LabelKind::Tag),
            "attribute_structure": attributes,
            "business": labels(LabelKind::Business),
            "categories": labels(LabelKind::Category),
            "ref_id": e.ref_id,
            "ref_code": e.ref_code,
            "ref_type": e.ref_type,
            "avatar_url": e.avatar_url,
            "user_owner_email": e.owner_email.as_ref().map(|m| m.as_str()),
            "code": d.code,
            "filter_contacts": e.funnels.iter().map(|f| json!({"id": f.funnel_id, "index": f.index, "secondLevelIndex": f.second_index})).collect::<Vec<_>>(),
        })
    }
}

async fn get_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Payload<Value>, OmiError> {
    let c = match id.trim().parse::<Uuid>() {
        Ok(_) => locate(&s, &actor, Some(&id), None).await?,
        // Not an OMI id: the partner's refId.
        Err(_) => locate(&s, &actor, None, Some(id.trim())).await?,
    };
    let ctx = Context::load(&s, &actor).await?;
    Ok(Payload(ctx.item(&c)))
}

/// The built-in attributes every contact has, as `layout/list` describes them.
const BUILT_IN: [(&str, &str, &str); 8] = [
    ("full_name", "Họ và tên", "single_text"),
    ("job_title", "Nghề nghiệp", "single_text"),
    ("gender", "Giới tính", "radio"),
    ("phone_number", "Số điện thoại", "phone"),
    ("mail", "Email", "email"),
    ("address", "Địa chỉ", "single_text"),
    ("passport", "Hộ chiếu / CMND", "single_text"),
    ("note", "Ghi chú", "multi_text"),
];

async fn layout(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Payload<Value>, OmiError> {
    let fields = s.crm.vocab_of(&actor, VocabKind::Field).await?;
    let mut out: Vec<Value> = BUILT_IN
        .iter()
        .map(|(code, name, kind)| {
            let options = if *code == "gender" { json!(["male", "female", "other"]) } else { json!([]) };
            json!({"field_code": code, "field_name": name, "field_type": kind, "identify": false, "is_default": true, "options": options, "description": null})
        })
        .collect();
    let mut seen = HashSet::new();
    for f in fields {
        // The same code in two VBot projects is one attribute here: the oldest definition.
        if !seen.insert(f.data.code.clone()) {
            continue;
        }
        out.push(json!({
            "field_code": f.data.code,
            "field_name": f.data.name,
            "field_type": f.data.field_type.unwrap_or_else(|| "single_text".to_owned()),
            "identify": false,
            "is_default": false,
            "options": [],
            "description": f.data.description,
        }));
    }
    Ok(Payload(Value::Array(out)))
}

async fn funnels(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Payload<Value>, OmiError> {
    let funnels = s.crm.funnels(&actor).await?;
    Ok(Payload(Value::Array(
        funnels
            .into_iter()
            .map(|f| {
                json!({
                    "id": f.id,
                    "name": f.name,
                    "statuses": f.stages.iter().enumerate().map(|(i, st)| json!({
                        "index": i,
                        "name": st.name,
                        "children": st.children.iter().enumerate().map(|(j, c)| json!({"index": j, "name": c})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )))
}

#[derive(Debug, Deserialize)]
struct StageIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    children: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct FunnelIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    statuses: Vec<StageIn>,
}

/// Ours: defines a funnel `{name, statuses: [{name, children: [name]}]}`; answers its id.
async fn funnel_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Payload<Uuid>, OmiError> {
    let f: FunnelIn = parse_ci(&body)?;
    let stages = f
        .statuses
        .into_iter()
        .map(|st| Stage {
            name: st.name,
            children: st.children,
        })
        .collect();
    Ok(Payload(s.crm.create_funnel(&actor, &f.name, stages).await?))
}
