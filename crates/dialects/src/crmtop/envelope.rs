//! CRMTOP's envelope `{success, code, message, data, errors, meta}`, its error mapping and
//! the extractors every CRMTOP handler uses.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use crm_domain::search::{Page, PageRequest, MAX_PAGE_SIZE};
use crm_domain::{Actor, DomainError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::body::{parse_ci, BodyError};
use crate::AppState;

/// The envelope around every CRMTOP response, success or failure.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Envelope_{T}")]
pub struct Envelope<T> {
    pub success: bool,
    pub code: u16,
    pub message: Option<String>,
    pub data: Option<T>,
    /// On failure: property name -> messages (ASP.NET's ModelState shape); `null` otherwise.
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    pub meta: Option<()>,
}

/// A successful answer: HTTP 200 with `data`.
pub struct Data<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        Json(Envelope {
            success: true,
            code: 200,
            message: None,
            data: Some(self.0),
            errors: None,
            meta: None,
        })
        .into_response()
    }
}

/// A failed answer in CRMTOP's envelope.
#[derive(Debug)]
pub struct CrmtopError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Option<BTreeMap<String, Vec<String>>>,
}

impl CrmtopError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: None,
        }
    }

    /// A 400 about one property.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            message: format!("{field}: {message}"),
            errors: Some(BTreeMap::from([(field.to_owned(), vec![message])])),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: the access token is missing, invalid, expired or revoked",
        )
    }
}

impl IntoResponse for CrmtopError {
    fn into_response(self) -> Response {
        let body = Envelope::<()> {
            success: false,
            code: self.status.as_u16(),
            message: Some(self.message),
            data: None,
            errors: self.errors,
            meta: None,
        };
        (self.status, Json(body)).into_response()
    }
}

/// CRMTOP's name of a domain field: camelCase, with the few renames below.
pub fn wire_name(field: &str) -> String {
    if field == "kind" {
        return "type".to_owned();
    }
    // An order's lines are its `products`.
    if let Some(rest) = field.strip_prefix("lines") {
        return wire_name(&format!("products{rest}"));
    }
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl From<DomainError> for CrmtopError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound { entity } => {
                Self::new(StatusCode::NOT_FOUND, format!("{entity} not found"))
            }
            DomainError::Validation { field, message } => Self::field(&wire_name(&field), message),
            DomainError::Conflict { field, message } | DomainError::InUse { field, message } => {
                Self {
                    status: StatusCode::CONFLICT,
                    errors: field.map(|f| BTreeMap::from([(wire_name(f), vec![message.clone()])])),
                    message,
                }
            }
            DomainError::Unauthorized => Self::unauthorized(),
            DomainError::Forbidden { message } => Self::new(StatusCode::FORBIDDEN, message),
            DomainError::Throttled { busy, message, .. } => {
                Self::new(crate::guard::throttle_status(busy), message)
            }
            DomainError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
            }
        }
    }
}

impl From<BodyError> for CrmtopError {
    fn from(e: BodyError) -> Self {
        match e.field {
            Some(field) => {
                let detail = e
                    .message
                    .strip_prefix(&format!("{field}: "))
                    .unwrap_or(&e.message)
                    .to_owned();
                Self {
                    status: e.status,
                    message: e.message,
                    errors: Some(BTreeMap::from([(field, vec![detail])])),
                }
            }
            None => Self::new(e.status, e.message),
        }
    }
}

/// The authenticated caller of a CRMTOP endpoint.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = CrmtopError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Caller(
            crate::caller(parts, state, CrmtopError::unauthorized).await?,
        ))
    }
}

/// A JSON body read leniently (see [`parse_ci`]), failing in CRMTOP's envelope.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = CrmtopError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(BodyError::from_rejection)?;
        Ok(Body(parse_ci(&bytes)?))
    }
}

/// The `{id}` of a path, which must be a GUID.
pub fn path_id(raw: &str) -> Result<Uuid, CrmtopError> {
    raw.trim()
        .parse::<Uuid>()
        .map_err(|_| CrmtopError::field("id", format!("'{raw}' is not a GUID")))
}

/// The id an update body must carry.
pub fn body_id(id: Option<Uuid>) -> Result<Uuid, CrmtopError> {
    id.ok_or_else(|| CrmtopError::field("id", "is required to update a record"))
}

/// Default page size when `pageSize` is 0 or absent.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// `pageNumber` is 1-based (0 or absent reads as 1); `pageSize` 0 or absent reads as 20.
pub fn page_request(number: Option<i64>, size: Option<i64>) -> Result<PageRequest, CrmtopError> {
    let number = match number.unwrap_or(0) {
        n if n <= 0 => 1,
        n => u32::try_from(n)
            .ok()
            .filter(|n| *n <= 10_000_000)
            .ok_or_else(|| CrmtopError::field("pageNumber", "is too large"))?,
    };
    let size = match size.unwrap_or(0) {
        0 => DEFAULT_PAGE_SIZE,
        s if s < 0 || s > i64::from(MAX_PAGE_SIZE) => {
            return Err(CrmtopError::field(
                "pageSize",
                format!("must be between 1 and {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE})"),
            ))
        }
        s => s as u32,
    };
    Ok(PageRequest::typed(number, size)?)
}

/// CRMTOP's page object.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Page_{T}")]
pub struct PageDto<T> {
    pub current_page: u32,
    pub total_pages: u64,
    pub total_count: u64,
    pub page_size: u32,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub data: Vec<T>,
}

impl<T> PageDto<T> {
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let total_pages = page.total_pages();
        let current = page.request.number;
        Self {
            current_page: current,
            total_pages,
            total_count: page.total,
            page_size: page.request.size,
            has_previous_page: current > 1,
            has_next_page: u64::from(current) < total_pages,
            data: page.items.into_iter().map(f).collect(),
        }
    }
}

/// A UTC instant in the tenant's zone, e.g. `2026-02-27T10:15:00.123+07:00`.
pub fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A date as midnight in the tenant's zone, the way .NET serialises a `DateTimeOffset` date.
pub fn local_date(date: NaiveDate, tz: Tz) -> String {
    match crm_domain::common::day_start(tz, date) {
        Some(t) => t
            .with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        None => format!("{date}T00:00:00Z"),
    }
}

/// Reads a date sent as a date-time with offset, a local date-time or a plain date;
/// the date is the one in the tenant's zone.
pub fn parse_date(
    field: &str,
    raw: Option<&str>,
    tz: Tz,
) -> Result<Option<NaiveDate>, CrmtopError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&tz).date_naive()));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Some(t.date()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(Some(d));
    }
    Err(CrmtopError::field(
        field,
        format!("'{raw}' is not a date (expected e.g. 2026-02-27T00:00:00+07:00 or 2026-02-27)"),
    ))
}

/// Reads a date-time: with an offset (`2026-02-27T09:30:00+07:00`, `…Z`), or local to the
/// tenant's zone (`2026-02-27T09:30:00`, or a plain date meaning its midnight).
pub fn parse_time(
    field: &str,
    raw: Option<&str>,
    tz: Tz,
) -> Result<Option<DateTime<Utc>>, CrmtopError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let local = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        });
    match local.and_then(|l| crm_domain::common::local_instant(tz, l)) {
        Some(t) => Ok(Some(t)),
        None => Err(CrmtopError::field(
            field,
            format!("'{raw}' is not a date-time (expected e.g. 2026-02-27T09:30:00+07:00)"),
        )),
    }
}

/// An optional instant in the tenant's zone.
pub fn opt_time(at: Option<DateTime<Utc>>, tz: Tz) -> Option<String> {
    at.map(|t| local_time(t, tz))
}

/// Audit fields added to every search item.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditDto {
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub created_on: String,
    pub updated_by: Option<Uuid>,
    pub updated_by_name: Option<String>,
    pub updated_on: String,
}

impl AuditDto {
    pub fn new(a: &crm_domain::common::Audit, tz: Tz) -> Self {
        Self {
            created_by: a.created_by,
            created_by_name: a.created_by_name.clone(),
            created_on: local_time(a.created_at, tz),
            updated_by: a.updated_by,
            updated_by_name: a.updated_by_name.clone(),
            updated_on: local_time(a.updated_at, tz),
        }
    }
}

/// Ownership fields, as every CRMTOP record carries them.
#[derive(Debug, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnershipDto {
    #[serde(default, deserialize_with = "crate::body::guid")]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub owner_name: Option<String>,
    #[serde(default, deserialize_with = "crate::body::guid")]
    pub org_unit_id: Option<Uuid>,
    #[serde(default)]
    pub org_unit_name: Option<String>,
}

impl From<OwnershipDto> for crm_domain::common::Ownership {
    fn from(d: OwnershipDto) -> Self {
        Self {
            owner_id: d.owner_id,
            owner_name: d.owner_name,
            org_unit_id: d.org_unit_id,
            org_unit_name: d.org_unit_name,
        }
    }
}

impl From<&crm_domain::common::Ownership> for OwnershipDto {
    fn from(o: &crm_domain::common::Ownership) -> Self {
        Self {
            owner_id: o.owner_id,
            owner_name: o.owner_name.clone(),
            org_unit_id: o.org_unit_id,
            org_unit_name: o.org_unit_name.clone(),
        }
    }
}
