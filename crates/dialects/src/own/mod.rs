//! Our own endpoints, under `/crm/v1/` (none of the four vendors has them): the caller's
//! tenant and API clients ([`clients`]), webhook endpoints and their deliveries
//! ([`webhooks`]), channels and messages ([`messages`]), automation runs ([`automations`]).
//! Bearer tokens from any vendor's token endpoint work. Errors are `{"message": "...",
//! "field": "..."}` with a 4xx status. Documented at `/swagger/v1/crm.json`.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use crm_domain::{Actor, DomainError};
use serde::Serialize;
use uuid::Uuid;

use crate::body::BodyError;
use crate::openapi::{Api, Op, Spec};
use crate::AppState;

mod audit;
mod automations;
mod clients;
mod messages;
mod printouts;
mod transfers;
mod webhooks;

pub use webhooks::{delivery_json, endpoint_json};

/// Our document: every route below, from its own types.
pub fn spec() -> Spec {
    let mut spec = Spec::new(
        "crm-server's own API",
        "The endpoints crm-server adds to the four vendors' APIs, under /crm/v1/: the caller's \
         tenant and API clients, webhooks, message channels and send records, imports and \
         exports, sales documents, automation runs, the audit trail with restore and erase. \
         Any token this server issues works. docs/webhooks.md, docs/messaging.md, \
         docs/import-export.md, docs/printouts.md, docs/automations.md, docs/operations.md.",
    );
    spec.errors::<Failure>();
    // Served by the server itself (it asks the database), documented here.
    spec.operation::<(), Health>(
        "get",
        "/health",
        &Op::anonymous("Server", "Whether the server and its database answer"),
    );
    spec.response::<Health>("get", "/health", 503, "The database does not answer");
    spec.operation::<(), Ready>(
        "get",
        "/ready",
        &Op::anonymous(
            "Server",
            "Whether this node takes traffic (not when shutting down)",
        ),
    );
    spec.response::<Ready>(
        "get",
        "/ready",
        503,
        "Shutting down, or the database does not answer",
    );
    spec.operation::<(), ()>(
        "get",
        "/metrics",
        &Op::anonymous(
            "Server",
            "Prometheus metrics: requests, latency, pool, jobs",
        )
        .text(),
    );
    spec
}

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let api = Api::new(spec);
    let api = clients::routes(api);
    let api = webhooks::routes(api);
    let api = messages::routes(api);
    let api = transfers::routes(api);
    let api = printouts::routes(api);
    let api = audit::routes(api);
    automations::routes(api).router
}

/// `GET /health`'s answer, 200 or (when the database does not answer) 503.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Health {
    /// `ok`, or `error`.
    pub status: &'static str,
    /// `ok`, or `unreachable`.
    pub database: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
}

/// `GET /ready`'s answer: `ready`, `stopping` or `database unreachable`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Ready {
    pub status: String,
}

/// A list answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "List_{T}")]
pub struct Listed<T> {
    pub data: Vec<T>,
}

/// Our failure answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Failure")]
struct Failure {
    message: String,
    /// The field at fault, when one is.
    field: Option<String>,
}

/// Our error answer.
#[derive(Debug)]
pub struct OwnError {
    status: StatusCode,
    field: Option<String>,
    message: String,
}

impl IntoResponse for OwnError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(Failure {
                message: self.message,
                field: self.field,
            }),
        )
            .into_response()
    }
}

impl From<DomainError> for OwnError {
    fn from(e: DomainError) -> Self {
        let (status, field, message) = match e {
            DomainError::NotFound { entity } => {
                (StatusCode::NOT_FOUND, None, format!("{entity} not found"))
            }
            DomainError::Validation { field, message } => {
                (StatusCode::BAD_REQUEST, Some(field), message)
            }
            DomainError::Conflict { field, message } | DomainError::InUse { field, message } => {
                (StatusCode::CONFLICT, field.map(str::to_owned), message)
            }
            DomainError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                None,
                "the access token is missing, invalid or expired".to_owned(),
            ),
            DomainError::Forbidden { message } => (StatusCode::FORBIDDEN, None, message),
            DomainError::Throttled { busy, message, .. } => {
                (crate::guard::throttle_status(busy), None, message)
            }
            DomainError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "internal server error".to_owned(),
                )
            }
        };
        Self {
            status,
            field,
            message,
        }
    }
}

impl From<BodyError> for OwnError {
    fn from(e: BodyError) -> Self {
        Self {
            status: e.status,
            field: e.field,
            message: e.message,
        }
    }
}

impl From<BytesRejection> for OwnError {
    fn from(r: BytesRejection) -> Self {
        BodyError::from_rejection(r).into()
    }
}

/// Query parameters, refused in our envelope (`{"message", "field"}`) when they do not parse.
pub struct OwnQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for OwnQuery<T> {
    type Rejection = OwnError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, OwnError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| OwnQuery(q))
            .map_err(|e| OwnError {
                status: StatusCode::BAD_REQUEST,
                field: None,
                message: e.body_text(),
            })
    }
}

/// The caller of one of our endpoints.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = OwnError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, OwnError> {
        crate::caller(parts, state, || OwnError::from(DomainError::Unauthorized))
            .await
            .map(Caller)
    }
}

pub(crate) fn id_of(raw: &str) -> Result<Uuid, OwnError> {
    Uuid::parse_str(raw).map_err(|_| OwnError {
        status: StatusCode::NOT_FOUND,
        field: Some("id".to_owned()),
        message: format!("'{raw}' is not an id"),
    })
}
