//! OMI CRM contact API v2 (seed `002_673bafa2204d4795.txt`): `/api/v2/contact/...` over the
//! core customer, in the envelope `{status_code, instance_id, instance_name, payload,
//! key_enabled}`. Decisions: `docs/dialects/omi.md`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter as M;
use axum::{Json, Router};
use crm_domain::{Actor, DomainError};
use serde::Serialize;
use uuid::Uuid;

use crate::body::BodyError;
use crate::openapi::{int, Api, Op, Spec};
use crate::AppState;

mod read;
mod write;

use read::{funnel_add, funnels, get_one, layout, search, Attribute, ContactItem, ContactPage};
use read::{FunnelIn, FunnelOut, SearchIn};
use write::{add, add_many, update, ContactIn, ManyIn, ManyOut};

/// OMI's document: every route below, from its own types.
pub fn spec() -> Spec {
    let mut spec = Spec::new(
        "OMI CRM contact API v2",
        "OMI CRM's contact API v2 (seed 002), served by crm-server. Any token this server \
         issues works (OMI documents no token flow). Decisions where the doc is silent or \
         wrong: docs/dialects/omi.md.",
    );
    spec.errors::<Failure>();
    spec.doc_examples("omi");
    spec
}

pub fn router(spec: &mut Spec) -> Router<AppState> {
    const C: &str = "Contacts";
    const F: &str = "Funnels";
    Api::new(spec)
        .route::<ContactIn, Envelope<bool>, _, _>(
            M::POST,
            "/api/v2/contact/add",
            Op::bearer(C, "Add a contact"),
            add,
        )
        .route::<ManyIn, Envelope<ManyOut>, _, _>(
            M::POST,
            "/api/v2/contact/addMany",
            Op::bearer(C, "Add up to 1,000 contacts, each with its own outcome"),
            add_many,
        )
        .route::<ContactIn, Envelope<bool>, _, _>(
            M::POST,
            "/api/v2/contact/update",
            Op::bearer(C, "Update a contact found by _id or refId"),
            update,
        )
        .route::<SearchIn, Envelope<ContactPage>, _, _>(
            M::POST,
            "/api/v2/contact/search",
            Op::bearer(C, "Search contacts").query(&[int("page"), int("size")]),
            search,
        )
        .route::<(), Envelope<ContactItem>, _, _>(
            M::GET,
            "/api/v2/contact/get/{id}",
            Op::bearer(C, "One contact, by its id or the partner's refId").text_id(),
            get_one,
        )
        .route::<(), Envelope<Vec<Attribute>>, _, _>(
            M::GET,
            "/api/v2/contact/layout/list",
            Op::bearer(C, "The contact attributes, built in and defined"),
            layout,
        )
        .route::<(), Envelope<Vec<FunnelOut>>, _, _>(
            M::GET,
            "/api/v2/contact/filterContact/list",
            Op::bearer(F, "The funnels with their stages"),
            funnels,
        )
        // Ours: the doc has no way to define funnels.
        .route::<FunnelIn, Envelope<Uuid>, _, _>(
            M::POST,
            "/api/v2/contact/filterContact/add",
            Op::bearer(F, "Define a funnel (ours: the doc has none)"),
            funnel_add,
        )
        .router
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

/// OMI's envelope around every successful answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Omi_{T}")]
pub struct Envelope<T> {
    /// `9999`.
    pub status_code: i32,
    pub instance_id: &'static str,
    /// The server's `HOSTNAME`.
    pub instance_name: String,
    pub payload: T,
    pub key_enabled: bool,
}

/// A failure: OMI's envelope with `payload: null`, and `error` (the kind) and `message`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "OmiFailure")]
pub struct Failure {
    /// `-9999`.
    pub status_code: i32,
    pub instance_id: &'static str,
    pub instance_name: String,
    pub payload: Option<()>,
    pub key_enabled: bool,
    /// `invalid_json`, `invalid_field`, `unauthorized`, `not_found`, `duplicate_ref_id`, ….
    pub error: &'static str,
    pub message: String,
}

/// A successful answer: HTTP 200 with `payload`.
pub struct Payload<T>(T);

impl<T: Serialize> IntoResponse for Payload<T> {
    fn into_response(self) -> Response {
        let (id, name) = instance();
        Json(Envelope {
            status_code: SUCCESS,
            instance_id: id,
            instance_name: name,
            payload: self.0,
            key_enabled: false,
        })
        .into_response()
    }
}

#[derive(Debug)]
pub struct OmiError {
    status: StatusCode,
    error: &'static str,
    message: String,
}

pub(super) fn fail(
    status: StatusCode,
    error: &'static str,
    message: impl Into<String>,
) -> OmiError {
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
            Json(Failure {
                status_code: FAILURE,
                instance_id: id,
                instance_name: name,
                payload: None,
                key_enabled: false,
                error: self.error,
                message: self.message,
            }),
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
        StatusCode::FORBIDDEN => "forbidden",
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
        "funnels" => "filterContacts",
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
            DomainError::Forbidden { message } => fail(StatusCode::FORBIDDEN, "forbidden", message),
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
        let missing = || {
            fail(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "an Authorization: Bearer token is required",
            )
        };
        Ok(Caller(crate::caller(parts, state, missing).await?))
    }
}

pub(super) fn bad(field: &str, message: impl Into<String>) -> OmiError {
    fail(
        StatusCode::BAD_REQUEST,
        "invalid_field",
        format!("{field}: {}", message.into()),
    )
}
