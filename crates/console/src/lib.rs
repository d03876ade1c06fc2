//! The staff's web console under `/app/` (`docs/console.md`): server-rendered pages (askama
//! templates, htmx for the search as one types) over the same domain services the vendor APIs
//! use, for staff who sign in with a password (`crm user create`).
//!
//! - a session is an `HttpOnly`, `SameSite=Lax` cookie scoped to `/app` (`Secure` when the
//!   server is told it is behind TLS); it lasts [`crm_domain::console::SESSION_TTL`];
//! - every state-changing form carries the session's CSRF token, checked in constant time; the
//!   sign-in form carries one of its own, matched against a cookie (double submit);
//! - a role decides what a user may change ([`crm_domain::console::Role`]); the changes are
//!   made as the staff member, so the audit trail names them;
//! - every asset is compiled into the binary; pages forbid framing and any other origin;
//! - Vietnamese by default, English with the `crm_lang` cookie (`/app/lang/en`).

mod customer;
pub mod dashboard;
mod i18n;
mod import;
mod marketing;
mod pages;
mod sales;
mod settings;
mod tickets;
mod web;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post};
use axum::Router;
use crm_domain::console::ConsoleAuth;
use crm_domain::printout::{Printout, Seller};
use crm_domain::service::Crm;
use crm_domain::DomainError;

/// Largest form body the console reads (a note is at most 4,000 characters).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// What the console's handlers share.
#[derive(Clone)]
pub struct Console {
    pub crm: Crm,
    pub auth: ConsoleAuth,
    /// Mark cookies `Secure` (the server is reached over TLS, directly or through a proxy).
    pub secure_cookies: bool,
    /// Largest spreadsheet an import takes, in bytes.
    pub max_import_bytes: u64,
    /// Renders the printouts (the server gives the one the vendor APIs print with).
    pub printer: Arc<dyn Printer>,
    /// The dashboards' week figures, kept a few seconds (`Figures::default()`).
    pub figures: dashboard::Figures,
}

/// A PDF being rendered.
pub type PdfFuture = Pin<Box<dyn Future<Output = Result<Vec<u8>, DomainError>> + Send>>;

/// Renders sales documents on A4, as the vendor APIs' print endpoints do.
pub trait Printer: Send + Sync {
    /// The documents as one HTML page.
    fn html(&self, seller: &Seller, printouts: &[Printout]) -> String;
    /// The documents as one PDF.
    fn pdf(&self, seller: Seller, printouts: Vec<Printout>) -> PdfFuture;
}

/// The console's routes, all under `/app`.
pub fn router(console: Console) -> Router {
    Router::new()
        .route("/app", get(pages::home))
        .route("/app/", get(pages::home))
        .route("/app/login", get(pages::login_form).post(pages::login))
        .route("/app/logout", post(pages::logout))
        .route("/app/dashboard", get(dashboard::dashboard))
        .route("/app/customers", get(pages::customers))
        .route("/app/customers/{id}", get(customer::customer))
        .route("/app/customers/{id}/notes", post(customer::add_note))
        .route("/app/customers/{id}/owner", post(customer::assign))
        .route("/app/leads", get(pages::leads))
        .route("/app/leads/{id}", get(pages::lead))
        .route("/app/leads/{id}/convert", post(pages::convert_lead))
        .route("/app/deals", get(sales::board))
        .route("/app/deals/{id}/stage", post(sales::move_deal))
        .route("/app/orders", get(sales::orders))
        .route("/app/orders/{id}", get(sales::order))
        .route("/app/orders/{id}/approval", post(sales::decide_order))
        .route("/app/orders/{id}/print", get(sales::print_order))
        .route("/app/orders/{id}/print.pdf", get(sales::print_order_pdf))
        .route("/app/products", get(sales::products))
        .route("/app/products/{id}", get(sales::product))
        .route("/app/tickets", get(tickets::tickets))
        .route("/app/tickets/{id}", get(tickets::ticket))
        .route("/app/tickets/{id}/comments", post(tickets::comment))
        .route("/app/tickets/{id}/status", post(tickets::set_status))
        .route("/app/files/{id}", get(tickets::file))
        .route("/app/campaigns", get(marketing::campaigns))
        // The upload is streamed to disk under its own limit (`CRM_MAX_IMPORT_BYTES`).
        .route(
            "/app/import",
            get(import::imports).post(import::start.layer(DefaultBodyLimit::disable())),
        )
        .route("/app/import/{id}", get(import::import))
        .route("/app/import/{id}/report", get(import::report))
        .route("/app/settings", get(settings::settings))
        .route("/app/settings/clients", post(settings::add_client))
        .route(
            "/app/settings/clients/{client_id}/revoke",
            post(settings::revoke_client),
        )
        .route("/app/settings/channels/{code}", post(settings::set_channel))
        .route("/app/settings/webhooks", post(settings::add_webhook))
        .route(
            "/app/settings/webhooks/{id}/delete",
            post(settings::delete_webhook),
        )
        .route("/app/assets/{name}", get(web::asset))
        .route("/app/lang/{code}", get(web::language))
        .with_state(console)
}
