//! Our own endpoints, under `/crm/v1/` (none of the four vendors has them): webhook
//! endpoints and their deliveries here; channels and messages in [`messages`]. Bearer tokens from any vendor's token endpoint work.
//! Errors are `{"message": "...", "field": "..."}` with a 4xx status. See `docs/webhooks.md`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use crm_domain::webhooks::{Delivery, Endpoint};
use crm_domain::{Actor, DomainError};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::body::{parse_ci, BodyError};
use crate::AppState;

mod automations;
mod messages;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(messages::router())
        .merge(automations::router())
        .route("/crm/v1/webhooks", get(list).post(add))
        .route("/crm/v1/webhooks/{id}", get(show).delete(remove))
        .route("/crm/v1/webhooks/{id}/disable", post(disable))
        .route("/crm/v1/webhooks/{id}/enable", post(enable))
        .route("/crm/v1/webhooks/{id}/rotate", post(rotate))
        .route("/crm/v1/webhooks/{id}/deliveries", get(deliveries))
        .route("/crm/v1/webhook-deliveries/{id}/redeliver", post(redeliver))
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
            Json(json!({"message": self.message, "field": self.field})),
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

pub fn endpoint_json(e: &Endpoint, with_secret: bool) -> Value {
    let mut v = json!({
        "id": e.id, "url": e.url, "events": e.events, "disabled": e.disabled,
        "created_at": e.created_at.to_rfc3339(),
    });
    if with_secret {
        v["secret"] = json!(e.secret);
    }
    v
}

pub fn delivery_json(d: &Delivery) -> Value {
    json!({
        "id": d.id, "endpoint_id": d.endpoint_id, "job_id": d.job_id, "msg_id": d.msg_id,
        "event": d.event, "attempt": d.attempt, "status": d.status, "latency_ms": d.latency_ms,
        "error": d.error, "at": d.at.to_rfc3339(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    url: Option<String>,
    #[serde(default)]
    events: Vec<String>,
}

async fn add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), OwnError> {
    let b: AddBody = parse_ci(&body?)?;
    let url = b
        .url
        .ok_or_else(|| DomainError::validation("url", "is required"))?;
    let e = s.crm.add_webhook(&actor, &url, b.events).await?;
    Ok((StatusCode::CREATED, Json(endpoint_json(&e, true))))
}

async fn list(State(s): State<AppState>, Caller(actor): Caller) -> Result<Json<Value>, OwnError> {
    let list = s.crm.webhooks(&actor).await?;
    Ok(Json(
        json!({"data": list.iter().map(|e| endpoint_json(e, false)).collect::<Vec<_>>()}),
    ))
}

async fn show(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, OwnError> {
    let e = s.crm.webhook(&actor, id_of(&id)?).await?;
    Ok(Json(endpoint_json(&e, false)))
}

async fn remove(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, OwnError> {
    s.crm.delete_webhook(&actor, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<Json<Value>, OwnError> {
    set_disabled(state, caller, id, true).await
}

async fn enable(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<Json<Value>, OwnError> {
    set_disabled(state, caller, id, false).await
}

async fn set_disabled(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    disabled: bool,
) -> Result<Json<Value>, OwnError> {
    let e = s
        .crm
        .set_webhook_disabled(&actor, id_of(&id)?, disabled)
        .await?;
    Ok(Json(endpoint_json(&e, false)))
}

async fn rotate(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, OwnError> {
    let e = s.crm.rotate_webhook_secret(&actor, id_of(&id)?).await?;
    Ok(Json(endpoint_json(&e, true)))
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<u32>,
}

async fn deliveries(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    OwnQuery(q): OwnQuery<Limit>,
) -> Result<Json<Value>, OwnError> {
    let list = s
        .crm
        .webhook_deliveries(&actor, id_of(&id)?, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(
        json!({"data": list.iter().map(delivery_json).collect::<Vec<_>>()}),
    ))
}

async fn redeliver(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), OwnError> {
    let job = s.crm.redeliver(&actor, id_of(&id)?).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"job_id": job}))))
}
