//! VBot CRM (seeds `001_…`, `004_…`): the token flow `POST /token` and the customer API
//! `POST /api/crm/{entity}/{action}` (in [`crm`]).
//!
//! The seeds only hint at `[URL]/token` (004 lines 534 and 629); the backend is ASP.NET Web API,
//! whose OAuth server takes a form-encoded `grant_type=client_credentials` with the client
//! credentials in the form or in HTTP Basic auth. Decisions: `docs/dialects/vbot.md`.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64_decode::decode_basic;
use crm_domain::DomainError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::openapi::{Api, Either, Op, Spec};
use axum::routing::MethodFilter as M;

use crate::body::form;
use crate::AppState;

mod crm;

pub use crm::reject;

/// VBot's OpenAPI document: failures are VBot's envelope, or OAuth's error at `/token`.
pub fn spec() -> Spec {
    let mut spec = Spec::new(
        "VBot CRM public API",
        "VBot's customer API (seeds 001 and 004), served by crm-server. Decisions where the \
         doc is silent or wrong: docs/dialects/vbot.md.",
    );
    spec.errors::<Either<crm::Envelope<()>, OAuthError>>();
    spec.doc_examples("vbot");
    spec
}

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let token_op = Op::anonymous(
        "Auth",
        "A token pair: client credentials (form, or HTTP Basic) or a refresh token",
    )
    .urlencoded();
    let api = Api::new(spec).route::<TokenForm, TokenOut, _, _>(
        axum::routing::MethodFilter::POST,
        "/token",
        token_op,
        token,
    );
    routes(api)
        .undocumented(
            "/api/crm/{entity}/{action}",
            &["post"],
            "customers",
            post(crm::dispatch),
            "the documented endpoints in other letter cases (ASP.NET routes ignore case), and \
             VBot's own not-found for any other",
        )
        .router
}

/// What each documented endpoint answers in `data`: the record's code, or `true` (a delete).
#[derive(Clone, Copy)]
enum Answer {
    Code,
    Done,
}

/// The endpoints of seeds 001 and 004, as they spell them (any letter case of the action is
/// served, through [`crm::dispatch`]).
const ENDPOINTS: &[(&str, &str, &str, Answer)] = &[
    (
        "customer",
        "create",
        "Create a customer; its code in data",
        Answer::Code,
    ),
    (
        "customer",
        "update",
        "Update a customer by code (created when new); its code",
        Answer::Code,
    ),
    (
        "customer",
        "updateNO",
        "Change a customer's code; the new code",
        Answer::Code,
    ),
    (
        "customer",
        "delete",
        "Delete a customer by code",
        Answer::Done,
    ),
    (
        "status",
        "create",
        "Create a customer status; its code",
        Answer::Code,
    ),
    (
        "status",
        "update",
        "Rename a customer status; its code",
        Answer::Code,
    ),
    (
        "status",
        "updateNo",
        "Change a status's code; the new code",
        Answer::Code,
    ),
    ("status", "delete", "Delete a customer status", Answer::Done),
    (
        "type",
        "create",
        "Create a customer type; its code",
        Answer::Code,
    ),
    (
        "type",
        "update",
        "Rename a customer type; its code",
        Answer::Code,
    ),
    (
        "type",
        "updateNo",
        "Change a type's code; the new code",
        Answer::Code,
    ),
    ("type", "delete", "Delete a customer type", Answer::Done),
    (
        "group",
        "create",
        "Create a customer group; its code",
        Answer::Code,
    ),
    (
        "group",
        "update",
        "Update a customer group; its code",
        Answer::Code,
    ),
    (
        "group",
        "updateNo",
        "Change a group's code; the new code",
        Answer::Code,
    ),
    ("group", "delete", "Delete a customer group", Answer::Done),
    (
        "field",
        "create",
        "Create a custom field; its code",
        Answer::Code,
    ),
    (
        "field",
        "update",
        "Update a custom field; its code",
        Answer::Code,
    ),
    (
        "field",
        "updateNo",
        "Change a field's code; the new code",
        Answer::Code,
    ),
    ("field", "delete", "Delete a custom field", Answer::Done),
];

/// The documented endpoints, each routed on its own path and documented with the shared body.
pub fn routes(mut api: Api<'_>) -> Api<'_> {
    for &(entity, action, summary, answer) in ENDPOINTS {
        let path = format!("/api/crm/{entity}/{action}");
        let tag = match entity {
            "customer" => "Customer",
            "status" => "Status",
            "type" => "Type",
            "group" => "Group",
            _ => "Field",
        };
        let op = Op::oauth(tag, summary, "/token");
        let handler =
            move |State(s): State<AppState>, crm::Caller(actor): crm::Caller, body: Bytes| {
                crm::run(s, actor, entity, action, body)
            };
        api = match answer {
            Answer::Code => {
                api.route::<crm::VbotBody, crm::Envelope<String>, _, _>(M::POST, &path, op, handler)
            }
            Answer::Done => {
                api.route::<crm::VbotBody, crm::Envelope<bool>, _, _>(M::POST, &path, op, handler)
            }
        };
    }
    api
}

/// OAuth 2.0's error answer (RFC 6749 §5.2).
#[derive(Debug, Serialize, JsonSchema)]
pub struct OAuthError {
    error: String,
    error_description: String,
}

/// OAuth 2.0's token answer (RFC 6749 §5.1).
#[derive(Debug, Serialize, JsonSchema)]
struct TokenOut {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

/// OAuth 2.0 error, the way ASP.NET's OAuth server writes it (HTTP 400).
fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(OAuthError {
            error: error.to_owned(),
            error_description: description.to_owned(),
        }),
    )
        .into_response()
}

fn parse_form(bytes: &Bytes, headers: &HeaderMap) -> Option<TokenForm> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json {
        return serde_json::from_slice(bytes).ok();
    }
    form(bytes)
}

async fn token(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(mut form) = parse_form(&body, &headers) else {
        return oauth_error("invalid_request", "The request body could not be read.");
    };
    if let Some((id, secret)) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(decode_basic)
    {
        form.client_id.get_or_insert(id);
        form.client_secret.get_or_insert(secret);
    }
    let issued = match form.grant_type.as_deref() {
        Some("client_credentials") => match (form.client_id, form.client_secret) {
            (Some(id), Some(secret)) => s.auth.issue(&id, &secret, peer.ip()).await,
            _ => return oauth_error("invalid_client", "Client credentials are missing."),
        },
        Some("refresh_token") => match form.refresh_token {
            Some(t) => s.auth.refresh(&t).await,
            None => return oauth_error("invalid_request", "refresh_token is required."),
        },
        _ => {
            return oauth_error(
                "unsupported_grant_type",
                "Use grant_type=client_credentials.",
            )
        }
    };
    match issued {
        Ok(pair) => Json(TokenOut {
            access_token: pair.access_token,
            token_type: "bearer",
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        })
        .into_response(),
        Err(DomainError::Unauthorized) => {
            oauth_error("invalid_client", "The client credentials are invalid.")
        }
        Err(DomainError::Throttled {
            retry_after,
            busy,
            message,
        }) => crate::guard::throttled("/token", retry_after, busy, &message),
        Err(e) => {
            tracing::error!(error = ?e, "issuing a VBot token");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "server_error"})),
            )
                .into_response()
        }
    }
}

mod base64_decode {
    //! `Authorization: Basic base64(client_id:client_secret)`.
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    pub fn decode_basic(value: &str) -> Option<(String, String)> {
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        Some((id.to_owned(), secret.to_owned()))
    }
}
