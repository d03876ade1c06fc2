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
mod print;
mod resource;
mod sales;
mod tickets;

use axum::http::StatusCode;
use axum::Router;

use crate::AppState;
use envelope::CrmtopError;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(customers::router())
        .merge(contacts::router())
        .merge(leads::router())
        .merge(pipeline::router())
        .merge(lists::router())
        .merge(sales::router())
        .merge(tickets::router())
        .merge(marketing::router())
}

/// Unknown paths under `/api/v1/` answer in CRMTOP's envelope.
pub async fn not_found() -> CrmtopError {
    CrmtopError::new(StatusCode::NOT_FOUND, "no such endpoint")
}
