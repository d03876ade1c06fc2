//! NextX / NextCRM (seed `003_36e694f35286047d.txt`): the token flow `/api/auth/token`, and
//! the shop API (branches, categories, products, customers, purchases, sales, returns) in
//! [`shop`].
//!
//! The doc's request line says GET with query parameters while every code sample POSTs JSON
//! (and the "Example Request Body" wraps the object in an array): all of these are accepted,
//! as is a form body. Decisions: `docs/dialects/nextx.md`.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use crm_domain::DomainError;
use serde::Deserialize;
use serde_json::Value;

use crate::body::form;
use crate::AppState;
use kit::api::*;
use wire::Meta;

mod automation;
mod doc_out;
mod documents;
mod kit;
mod leads;
mod marketing;
mod messages;
mod pipeline;
mod pipeline_out;
mod products;
mod sends;
mod shop;
mod tasks;
mod users;
mod wire;

pub fn router(spec: &mut Spec) -> Router<AppState> {
    const A: &str = "Auth";
    let summary = "A token pair: client credentials, or a refresh token (query, JSON or form)";
    let token_op = || Op::anonymous(A, summary).query(TOKEN_QUERY);
    Api::new(spec)
        .route::<TokenParams, Meta<'static, TokenOut>, _, _>(
            M::GET,
            "/api/auth/token",
            token_op(),
            token,
        )
        .route::<TokenParams, Meta<'static, TokenOut>, _, _>(
            M::POST,
            "/api/auth/token",
            token_op(),
            token,
        )
        .router
        .merge(shop::router(spec))
        .merge(leads::router(spec))
        .merge(pipeline::router(spec))
        .merge(marketing::router(spec))
        .merge(tasks::router(spec))
        .merge(users::router(spec))
        .merge(messages::router(spec))
}

const TOKEN_QUERY: &[Param] = &[
    text("grant_type"),
    text("client_id"),
    text("client_secret"),
    text("scope"),
    text("refresh_token"),
];

/// NextX's OpenAPI document, before its routes are added.
pub fn spec() -> Spec {
    let mut spec = Spec::new(
        "NextX / NextCRM public API",
        "NextX's public API as this server speaks it (seed 003; the shop host \
         `open-api.nextx.vn` and the CRM host on one server): a bearer token from \
         `/api/auth/token` (client credentials), integer ids, the bare payloads the doc shows; \
         failures in `{meta: {message, status_code}, data: []}` or, where the doc writes them \
         so, the flat `{status_code, message}`. Web forms are authorised by `X-Client-Key`. \
         Decisions where the vendor's doc is silent or broken: docs/dialects/nextx.md.",
    );
    spec.errors::<Either<wire::Meta<'static, wire::NoData>, wire::Status>>();
    spec.doc_examples("nextx");
    spec
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct TokenParams {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    refresh_token: Option<String>,
}

/// `{"meta":{"message":…,"status_code":…},"data":…}` (the doc's V1 envelope).
fn meta<T: serde::Serialize>(
    status: StatusCode,
    status_code: i64,
    message: &str,
    data: T,
) -> Response {
    let body = wire::Meta {
        meta: wire::MetaHead {
            message,
            status_code,
        },
        data,
    };
    (status, Json(body)).into_response()
}

/// An issued token pair (`data` of the token answer).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
struct TokenOut {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
    scope: &'static str,
}

/// A failure with HTTP `status` in the `{meta, data: []}` shape (refusals before a handler).
pub fn reject(status: StatusCode, message: String) -> Response {
    kit::fail(status, message).into_response()
}

fn failure(status: StatusCode, message: &str) -> Response {
    meta(status, 1, message, wire::NO_DATA)
}

/// Reads the parameters from a JSON object, a JSON array holding one object, or a form body.
fn from_body(bytes: &Bytes) -> Result<TokenParams, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(TokenParams::default());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(mut items)) if items.len() == 1 => {
            serde_json::from_value(items.remove(0)).map_err(|e| e.to_string())
        }
        Ok(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| e.to_string()),
        Ok(_) => Err("the body must be a JSON object".to_owned()),
        Err(json_err) => form(bytes).ok_or_else(|| format!("malformed JSON: {json_err}")),
    }
}

fn bad(message: &str) -> Response {
    failure(StatusCode::BAD_REQUEST, message)
}

async fn token(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<TokenParams>,
    body: Bytes,
) -> Response {
    let body = match from_body(&body) {
        Ok(b) => b,
        Err(message) => return bad(&message),
    };
    let pick = |a: Option<String>, b: Option<String>| b.filter(|v| !v.is_empty()).or(a);
    let p = TokenParams {
        grant_type: pick(query.grant_type, body.grant_type),
        client_id: pick(query.client_id, body.client_id),
        client_secret: pick(query.client_secret, body.client_secret),
        scope: pick(query.scope, body.scope),
        refresh_token: pick(query.refresh_token, body.refresh_token),
    };
    if let Some(scope) = p.scope.as_deref().filter(|s| !s.is_empty()) {
        if scope != "public.api" {
            return bad("Invalid scope: only public.api is supported");
        }
    }
    let issued = match p.grant_type.as_deref() {
        Some("client_credentials") => match (p.client_id, p.client_secret) {
            (Some(id), Some(secret)) => s.auth.issue(&id, &secret, peer.ip()).await,
            _ => return bad("client_id and client_secret are required"),
        },
        Some("refresh_token") => match p.refresh_token {
            Some(t) => s.auth.refresh(&t).await,
            None => return bad("refresh_token is required"),
        },
        Some(other) => return bad(&format!("Unsupported grant_type '{other}'")),
        None => return bad("grant_type is required (client_credentials)"),
    };
    match issued {
        Ok(pair) => meta(
            StatusCode::OK,
            0,
            "Successfully",
            TokenOut {
                access_token: pair.access_token,
                token_type: "Bearer",
                expires_in: pair.expires_in,
                refresh_token: pair.refresh_token,
                scope: "public.api",
            },
        ),
        Err(DomainError::Unauthorized) => {
            failure(StatusCode::UNAUTHORIZED, "Incorrect credentials")
        }
        Err(DomainError::Throttled {
            retry_after,
            busy,
            message,
        }) => crate::guard::throttled("/api/auth/token", retry_after, busy, &message),
        Err(e) => {
            tracing::error!(error = ?e, "issuing a NextX token");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
    }
}
