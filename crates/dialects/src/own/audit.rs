//! The audit trail: `GET /crm/v1/audit` lists who changed what in the caller's tenant, newest
//! first, by record, API client, record kind and time. See `docs/operations.md`.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::routing::MethodFilter as M;
use axum::Json;
use crm_domain::audit::{parse_instant, AuditQuery, Entry, DEFAULT_LIMIT, MAX_LIMIT};
use crm_domain::DomainError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Caller, OwnError, OwnQuery};
use crate::openapi::{int, text, Api, Op};
use crate::AppState;

pub(super) fn routes(api: Api<'_>) -> Api<'_> {
    api.route::<(), AuditPage, _, _>(
        M::GET,
        "/crm/v1/audit",
        Op::bearer(
            "Audit",
            "Who changed what in the tenant, newest first (by record, client, kind, time)",
        )
        .query(&[
            text("record"),
            text("client"),
            text("object"),
            text("since"),
            text("until"),
            int("before"),
            int("limit"),
        ]),
        trail,
    )
    .route::<(), Done, _, _>(
        M::POST,
        "/crm/v1/records/{kind}/{id}/restore",
        Op::bearer(
            "Audit",
            "Restore a deleted record (customer, contact, lead, activity, opportunity, product, \
             order, ticket)",
        ),
        restore,
    )
    .route::<(), Done, _, _>(
        M::POST,
        "/crm/v1/records/{kind}/{id}/erase",
        Op::bearer(
            "Audit",
            "Erase a person (customer, contact, lead) for good, their recorded values included",
        ),
        erase,
    )
}

/// What was done to which record.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Done {
    kind: String,
    id: Uuid,
    /// `restored` or `erased`.
    done: &'static str,
}

fn record_id(raw: &str) -> Result<Uuid, OwnError> {
    Uuid::parse_str(raw.trim()).map_err(|_| DomainError::not_found("record").into())
}

async fn restore(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Json<Done>, OwnError> {
    let id = record_id(&id)?;
    s.crm.restore_record(&actor, &kind, id).await?;
    Ok(Json(Done {
        kind,
        id,
        done: "restored",
    }))
}

async fn erase(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Json<Done>, OwnError> {
    let id = record_id(&id)?;
    s.crm.erase_record(&actor, &kind, id).await?;
    Ok(Json(Done {
        kind,
        id,
        done: "erased",
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrailQuery {
    /// A record's id (GUID).
    record: Option<String>,
    /// An API client's `client_id`.
    client: Option<String>,
    /// A kind of record: `customer`, `lead`, `order`, `api_client`, `token`, …
    object: Option<String>,
    /// From this time (RFC 3339, or a day `2026-12-06` in UTC), included.
    since: Option<String>,
    /// Until this time, excluded.
    until: Option<String>,
    /// The next page: entries older than this `seq`.
    before: Option<i64>,
    /// 1 to 500; 100 unless given.
    limit: Option<u32>,
}

/// A page of the audit trail.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct AuditPage {
    data: Vec<EntryOut>,
    /// `before` for the next page; `null` on the last one.
    next_before: Option<i64>,
}

/// One change.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct EntryOut {
    #[serde(flatten)]
    entry: Entry,
    /// The acting API client's `client_id` (as `/crm/v1/clients` lists it), when an API
    /// client acted.
    client: Option<String>,
}

async fn trail(
    State(s): State<AppState>,
    Caller(actor): Caller,
    OwnQuery(q): OwnQuery<TrailQuery>,
) -> Result<Json<AuditPage>, OwnError> {
    let record = match q.record.as_deref() {
        Some(r) => Some(
            Uuid::parse_str(r.trim())
                .map_err(|_| DomainError::validation("record", "must be a record's id"))?,
        ),
        None => None,
    };
    // Clients by their internal id, to name them as their callers know them.
    let clients: HashMap<Uuid, String> = s
        .auth
        .clients_of(&actor)
        .await?
        .into_iter()
        .map(|c| (c.id.0, c.client_id))
        .collect();
    let client = match q.client.as_deref() {
        Some(c) => Some(
            clients
                .iter()
                .find(|(_, public)| public.as_str() == c.trim())
                .map(|(id, _)| *id)
                .ok_or_else(|| {
                    DomainError::validation("client", "is not a client of this tenant")
                })?,
        ),
        None => None,
    };
    let query = AuditQuery {
        record,
        client,
        object: q.object.map(|o| o.trim().to_owned()),
        since: q
            .since
            .as_deref()
            .map(|t| parse_instant("since", t))
            .transpose()?,
        until: q
            .until
            .as_deref()
            .map(|t| parse_instant("until", t))
            .transpose()?,
        before: q.before,
        limit: match q.limit {
            Some(0) => {
                return Err(
                    DomainError::validation("limit", format!("must be 1 to {MAX_LIMIT}")).into(),
                )
            }
            Some(n) => n,
            None => DEFAULT_LIMIT,
        },
    };
    let limit = query.limit;
    let entries = s.crm.audit_trail(&actor, query).await?;
    let next_before = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage {
        next_before,
        data: entries
            .into_iter()
            .map(|entry| EntryOut {
                client: entry.client_id.and_then(|id| clients.get(&id).cloned()),
                entry,
            })
            .collect(),
    }))
}
