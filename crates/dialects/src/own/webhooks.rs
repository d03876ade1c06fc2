//! Webhook endpoints and their deliveries: `/crm/v1/webhooks…` and
//! `/crm/v1/webhook-deliveries/{id}/redeliver`. See `docs/webhooks.md`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::MethodFilter as M;
use axum::Json;
use chrono::{DateTime, Utc};
use crm_domain::webhooks::{Delivery, Endpoint};
use crm_domain::DomainError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{id_of, Caller, Listed, OwnError, OwnQuery};
use crate::body::parse_ci;
use crate::openapi::{int, Api, Op};
use crate::AppState;

const W: &str = "Webhooks";

pub(super) fn routes(api: Api<'_>) -> Api<'_> {
    api.route::<(), Listed<EndpointOut>, _, _>(
        M::GET,
        "/crm/v1/webhooks",
        Op::bearer(W, "The tenant's webhook endpoints"),
        list,
    )
    .route::<AddBody, EndpointOut, _, _>(
        M::POST,
        "/crm/v1/webhooks",
        Op::bearer(W, "Add an endpoint (its signing secret is shown this once)").status(201),
        add,
    )
    .route::<(), EndpointOut, _, _>(
        M::GET,
        "/crm/v1/webhooks/{id}",
        Op::bearer(W, "One endpoint"),
        show,
    )
    .route::<(), (), _, _>(
        M::DELETE,
        "/crm/v1/webhooks/{id}",
        Op::bearer(W, "Delete an endpoint").status(204),
        remove,
    )
    .route::<(), EndpointOut, _, _>(
        M::POST,
        "/crm/v1/webhooks/{id}/disable",
        Op::bearer(W, "Stop delivering to an endpoint"),
        disable,
    )
    .route::<(), EndpointOut, _, _>(
        M::POST,
        "/crm/v1/webhooks/{id}/enable",
        Op::bearer(W, "Deliver to an endpoint again"),
        enable,
    )
    .route::<(), EndpointOut, _, _>(
        M::POST,
        "/crm/v1/webhooks/{id}/rotate",
        Op::bearer(W, "A new signing secret (shown this once)"),
        rotate,
    )
    .route::<(), Listed<DeliveryOut>, _, _>(
        M::GET,
        "/crm/v1/webhooks/{id}/deliveries",
        Op::bearer(W, "An endpoint's delivery attempts, newest first").query(&[int("limit")]),
        deliveries,
    )
    .route::<(), Queued, _, _>(
        M::POST,
        "/crm/v1/webhook-deliveries/{id}/redeliver",
        Op::bearer(W, "Deliver a delivery's message again").status(202),
        redeliver,
    )
}

/// A webhook endpoint.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EndpointOut {
    id: Uuid,
    url: String,
    /// The events it receives; empty for all.
    events: Vec<String>,
    disabled: bool,
    created_at: DateTime<Utc>,
    /// The signing secret (`whsec_…`): only when the endpoint is made or its secret rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl EndpointOut {
    pub fn new(e: &Endpoint, with_secret: bool) -> Self {
        Self {
            id: e.id,
            url: e.url.clone(),
            events: e.events.clone(),
            disabled: e.disabled,
            created_at: e.created_at,
            secret: with_secret.then(|| e.secret.clone()),
        }
    }
}

/// One delivery attempt.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DeliveryOut {
    id: Uuid,
    endpoint_id: Uuid,
    /// The job that made it (redeliver runs it again).
    job_id: Uuid,
    /// The message id (`webhook-id`), the same on every attempt.
    msg_id: String,
    event: String,
    attempt: i32,
    /// The receiver's HTTP status; `null` when no answer came.
    status: Option<i32>,
    latency_ms: i64,
    error: Option<String>,
    at: DateTime<Utc>,
}

impl From<&Delivery> for DeliveryOut {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id,
            endpoint_id: d.endpoint_id,
            job_id: d.job_id,
            msg_id: d.msg_id.clone(),
            event: d.event.clone(),
            attempt: d.attempt,
            status: d.status,
            latency_ms: d.latency_ms,
            error: d.error.clone(),
            at: d.at,
        }
    }
}

/// An endpoint as JSON (the command line's `--json`).
pub fn endpoint_json(e: &Endpoint, with_secret: bool) -> Value {
    serde_json::to_value(EndpointOut::new(e, with_secret)).unwrap_or(Value::Null)
}

/// A delivery as JSON (the command line's `--json`).
pub fn delivery_json(d: &Delivery) -> Value {
    serde_json::to_value(DeliveryOut::from(d)).unwrap_or(Value::Null)
}

/// A new endpoint: its URL and the events it receives (none for all).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddBody {
    /// Required.
    url: Option<String>,
    #[serde(default)]
    events: Vec<String>,
}

/// Work queued: the job that does it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Queued {
    job_id: Uuid,
}

async fn add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<EndpointOut>), OwnError> {
    let b: AddBody = parse_ci(&body?)?;
    let url = b
        .url
        .ok_or_else(|| DomainError::validation("url", "is required"))?;
    let e = s.crm.add_webhook(&actor, &url, b.events).await?;
    Ok((StatusCode::CREATED, Json(EndpointOut::new(&e, true))))
}

async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Listed<EndpointOut>>, OwnError> {
    let list = s.crm.webhooks(&actor).await?;
    Ok(Json(Listed {
        data: list.iter().map(|e| EndpointOut::new(e, false)).collect(),
    }))
}

async fn show(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<EndpointOut>, OwnError> {
    let e = s.crm.webhook(&actor, id_of(&id)?).await?;
    Ok(Json(EndpointOut::new(&e, false)))
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
) -> Result<Json<EndpointOut>, OwnError> {
    set_disabled(state, caller, id, true).await
}

async fn enable(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<Json<EndpointOut>, OwnError> {
    set_disabled(state, caller, id, false).await
}

async fn set_disabled(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    disabled: bool,
) -> Result<Json<EndpointOut>, OwnError> {
    let e = s
        .crm
        .set_webhook_disabled(&actor, id_of(&id)?, disabled)
        .await?;
    Ok(Json(EndpointOut::new(&e, false)))
}

async fn rotate(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<EndpointOut>, OwnError> {
    let e = s.crm.rotate_webhook_secret(&actor, id_of(&id)?).await?;
    Ok(Json(EndpointOut::new(&e, true)))
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
) -> Result<Json<Listed<DeliveryOut>>, OwnError> {
    let list = s
        .crm
        .webhook_deliveries(&actor, id_of(&id)?, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(Listed {
        data: list.iter().map(DeliveryOut::from).collect(),
    }))
}

async fn redeliver(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Queued>), OwnError> {
    let job = s.crm.redeliver(&actor, id_of(&id)?).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { job_id: job })))
}
