//! CRMTOP (seed `000_2a433a2918756609.txt`): `/api/v1/...` in the envelope
//! `{success, code, message, data, errors, meta}`. Decisions: `docs/dialects/crmtop.md`.

mod auth;
mod contacts;
mod customers;
pub mod envelope;
mod form;
mod leads;
mod lists;
mod marketing;
mod pipeline;
mod resource;
mod sales;
mod tickets;

use axum::http::StatusCode;
use axum::Router;

use crate::AppState;
use envelope::CrmtopError;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    Router::new()
        .merge(auth::router(spec))
        .merge(customers::router(spec))
        .merge(contacts::router(spec))
        .merge(leads::router(spec))
        .merge(pipeline::router(spec))
        .merge(lists::router(spec))
        .merge(sales::router(spec))
        .merge(tickets::router(spec))
        .merge(marketing::router(spec))
}

/// Unknown paths under `/api/v1/` answer in CRMTOP's envelope.
/// CRMTOP's OpenAPI document, before its routes are added.
pub fn spec() -> crate::openapi::Spec {
    let mut spec = crate::openapi::Spec::new(
        "CRMTOP public API",
        "CRMTOP's public API as this server speaks it (seed 000): a bearer token from \
         `POST /api/v1/auth/get-token-for-develop`, every answer in the envelope \
         `{success, code, message, data, errors, meta}`. Decisions where the vendor's doc is \
         silent or broken: docs/dialects/crmtop.md.",
    );
    spec.errors::<envelope::Envelope<()>>();
    spec.doc_examples("crmtop");
    spec
}

pub async fn not_found() -> CrmtopError {
    CrmtopError::new(StatusCode::NOT_FOUND, "no such endpoint")
}
