//! OMI CRM contact API v2 (seed `002_673bafa2204d4795.txt`): `/api/v2/contact/...` over the
//! core customer, in the envelope `{status_code, instance_id, instance_name, payload,
//! key_enabled}`. Decisions: `docs/dialects/omi.md`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use crm_domain::{Actor, DomainError};
use serde::Serialize;
use serde_json::json;

use crate::body::BodyError;
use crate::AppState;

mod read;
mod write;

use read::{funnel_add, funnels, get_one, layout, search};
use write::{add, add_many, update};

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
