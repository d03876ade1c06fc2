//! `Idempotency-Key` on every write of every dialect (`crm_domain::idempotency`): a POST, PUT,
//! PATCH or DELETE with the header runs once per API client and key; its answer (status, type
//! and body) is kept 24 h and sent again, with `Idempotent-Replayed: true`, to the same request
//! with the same key. The same key on another request is a 422, and while the first request
//! runs a 409, each in the envelope of the dialect whose path was called. A request that
//! failed on our side (5xx), or whose answer is larger than 1 MiB, frees its key. Multipart
//! uploads are not covered (their bodies are not held to be compared).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use crm_domain::idempotency::{fingerprint, Answer, Claim, MAX_ANSWER};
use http_body::Body as _;

use crate::guard::reject;
use crate::AppState;

pub const KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

pub async fn idempotent(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let writes = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let Some(key) = req.headers().get(&KEY).cloned().filter(|_| writes) else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_owned();
    let Ok(key) = key.to_str().map(str::to_owned) else {
        return reject(
            &path,
            StatusCode::BAD_REQUEST,
            Some("Idempotency-Key"),
            "must be visible ASCII characters",
        );
    };
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/"));
    let (parts, body) = req.into_parts();
    // Without a valid token the request goes on, and its handler answers 401.
    let actor = match crate::bearer(&parts) {
        Some(token) if !multipart => s.auth.authenticate(token).await.ok(),
        _ => None,
    };
    let Some(actor) = actor else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    // The guard has read and bounded the body already: this holds what it held.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return reject(
            &path,
            StatusCode::BAD_REQUEST,
            None,
            "could not read the request body",
        );
    };
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let print = fingerprint(parts.method.as_str(), &path, &query, &bytes);
    let claim = match s.crm.idempotency_claim(&actor, &key, &print).await {
        Ok(c) => c,
        Err(crm_domain::DomainError::Validation { field, message }) => {
            return reject(&path, StatusCode::BAD_REQUEST, Some(&field), &message);
        }
        Err(e) => {
            tracing::error!(error = %e, "taking an idempotency key failed");
            return reject(
                &path,
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                "internal server error",
            );
        }
    };
    match claim {
        Claim::Replay(answer) => replay(answer),
        Claim::Mismatch => reject(
            &path,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Idempotency-Key"),
            "was used for another request; use a new key for a new request",
        ),
        Claim::InProgress => reject(
            &path,
            StatusCode::CONFLICT,
            Some("Idempotency-Key"),
            "a request with this key is still being processed; retry shortly",
        ),
        Claim::Run => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            keep(&s, &actor, &key, response).await
        }
    }
}

/// Keeps the answer for replays (or frees the key), and sends it.
async fn keep(s: &AppState, actor: &crm_domain::Actor, key: &str, response: Response) -> Response {
    let status = response.status();
    let small = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_ANSWER as u64);
    if status.is_server_error() || !small {
        if let Err(e) = s.crm.idempotency_release(actor, key).await {
            tracing::warn!(error = %e, "freeing an idempotency key failed");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ANSWER).await else {
        let _ = s.crm.idempotency_release(actor, key).await;
        return Response::from_parts(parts, Body::empty());
    };
    let answer = Answer {
        status: status.as_u16(),
        content_type: parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: bytes.to_vec(),
    };
    if let Err(e) = s.crm.idempotency_complete(actor, key, &answer).await {
        tracing::warn!(error = %e, "keeping an idempotent answer failed");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(answer: Answer) -> Response {
    let mut r = Response::new(Body::from(answer.body));
    *r.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    if let Some(ct) = answer
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        r.headers_mut().insert(axum::http::header::CONTENT_TYPE, ct);
    }
    r.headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    r
}
