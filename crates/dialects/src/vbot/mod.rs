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
use serde::Deserialize;
use serde_json::json;

use crate::body::form;
use crate::AppState;

mod crm;

pub use crm::reject;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", post(token))
        .route("/api/crm/{entity}/{action}", post(crm::dispatch))
}

#[derive(Debug, Default, Deserialize)]
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
        Json(json!({"error": error, "error_description": description})),
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
        Ok(pair) => Json(json!({
            "access_token": pair.access_token,
            "token_type": "bearer",
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_token,
        }))
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
