//! The caller's tenant and its API clients: `GET /crm/v1/tenant`, `/crm/v1/clients` (list,
//! add: its secret shown once; at most `MAX_LIVE_CLIENTS` live), `DELETE
//! /crm/v1/clients/{id}` (revokes the client and its tokens). Tenants themselves are made with
//! `crm tenant create` on the server's command line. See the README.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::MethodFilter as M;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use crm_domain::auth::ApiClient;
use crm_domain::scope::Scope;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Caller, Listed, OwnError};
use crate::body::parse_ci;
use crate::openapi::{Api, Op};
use crate::AppState;

const T: &str = "Tenant and API clients";

pub(super) fn routes(api: Api<'_>) -> Api<'_> {
    api.route::<(), TenantOut, _, _>(
        M::GET,
        "/crm/v1/tenant",
        Op::bearer(T, "The caller's tenant"),
        tenant,
    )
    .route::<(), Listed<ClientOut>, _, _>(
        M::GET,
        "/crm/v1/clients",
        Op::bearer(
            T,
            "The tenant's API clients, oldest first (revoked ones too)",
        ),
        list,
    )
    .route::<AddClient, NewClient, _, _>(
        M::POST,
        "/crm/v1/clients",
        Op::bearer(T, "A new API client; its secret is shown this once").status(201),
        add,
    )
    .route::<(), (), _, _>(
        M::DELETE,
        "/crm/v1/clients/{id}",
        Op::bearer(T, "Revoke an API client (by its client_id) and its tokens")
            .text_id()
            .status(204),
        revoke,
    )
}

/// A tenant.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct TenantOut {
    id: Uuid,
    /// Its short name; VBot's `vbot_id`.
    slug: String,
    name: String,
    /// An IANA zone, `Asia/Ho_Chi_Minh` unless set otherwise.
    time_zone: String,
    created_at: DateTime<Utc>,
}

/// An API client (never its secret).
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ClientOut {
    /// What the client sends as `client_id`/`clientId`.
    client_id: String,
    name: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    /// What it may do: `all`, or `read` and/or the APIs it may reach (`crmtop`, `nextx`,
    /// `vbot`, `omi`, `crm`), comma-separated.
    scope: String,
    /// The client whose token made this request.
    current: bool,
}

impl ClientOut {
    fn new(c: &ApiClient, caller: Uuid) -> Self {
        Self {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            created_at: c.created_at,
            revoked_at: c.revoked_at,
            scope: c.scope.to_string(),
            current: c.id.0 == caller,
        }
    }
}

/// A client to make.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddClient {
    /// What it is for (`erp`, `website`); 1 to 255 characters.
    name: String,
    /// What it may do, no more than the caller may: `read` for read-only, the APIs it may
    /// reach (`crmtop`, `nextx`, `vbot`, `omi`, `crm`) and the records (`customers`, `leads`,
    /// `sales`, `marketing`, `support`, `activities`, `admin`), comma-separated; the caller's
    /// own scope when absent.
    #[schemars(length(max = 100))]
    scope: Option<String>,
}

/// A client just made, with its secret (stored only as a hash: shown this once).
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct NewClient {
    client_id: String,
    client_secret: String,
    name: String,
    scope: String,
    created_at: DateTime<Utc>,
}

async fn tenant(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<TenantOut>, OwnError> {
    let t = s.auth.tenant_of(&actor).await?;
    Ok(Json(TenantOut {
        id: t.id.0,
        slug: t.slug,
        name: t.name,
        time_zone: t.time_zone,
        created_at: t.created_at,
    }))
}

async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Listed<ClientOut>>, OwnError> {
    let clients = s.auth.clients_of(&actor).await?;
    Ok(Json(Listed {
        data: clients
            .iter()
            .map(|c| ClientOut::new(c, actor.id))
            .collect(),
    }))
}

async fn add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Extension(own): Extension<Scope>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<NewClient>), OwnError> {
    let b: AddClient = parse_ci(&body?)?;
    let scope = match &b.scope {
        Some(text) => Scope::parse(text)?,
        None => own,
    };
    let issued = s.auth.add_client(&actor, own, &b.name, scope).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewClient {
            client_id: issued.client.client_id,
            client_secret: issued.secret.0,
            name: issued.client.name,
            scope: issued.client.scope.to_string(),
            created_at: issued.client.created_at,
        }),
    ))
}

async fn revoke(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, OwnError> {
    s.auth.revoke_client_of(&actor, id.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}
