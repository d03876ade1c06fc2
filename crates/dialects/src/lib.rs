//! The vendors' wire APIs over the domain core: DTOs, envelopes, error mapping and routers.
//! No SQL and no business rules live here.

// Large `json!` literals (NextX opportunities) need a deeper macro recursion.
#![recursion_limit = "256"]

pub mod body;
pub mod crmtop;
pub mod guard;
pub mod idempotency;
pub mod nextx;
pub mod omi;
pub mod openapi;
pub mod own;
pub mod printout;
pub mod vbot;

use axum::Router;
use crm_domain::auth::AuthService;
use crm_domain::service::Crm;

/// Everything a handler may use.
#[derive(Clone)]
pub struct AppState {
    pub crm: Crm,
    pub auth: AuthService,
    /// How long an endpoint that sends one message (NextX E38) waits for its outcome.
    pub send_wait: std::time::Duration,
    /// Largest file an import may upload.
    pub max_import_bytes: u64,
}

/// One OpenAPI document: its stable name (`docs/openapi/<name>.json`), its title in the
/// Swagger UI's picker, the document.
pub struct Document {
    pub name: &'static str,
    pub title: &'static str,
    /// Where it is served.
    pub url: &'static str,
    pub json: serde_json::Value,
}

/// Every dialect's routes on one router, and the OpenAPI documents of what they serve.
pub fn router() -> (Router<AppState>, Vec<Document>) {
    let mut crmtop_spec = crmtop::spec();
    let mut nextx_spec = nextx::spec();
    let mut vbot_spec = vbot::spec();
    let mut omi_spec = omi::spec();
    let mut own_spec = own::spec();
    let router = Router::new()
        .merge(crmtop::router(&mut crmtop_spec))
        .merge(nextx::router(&mut nextx_spec))
        .merge(vbot::router(&mut vbot_spec))
        .merge(omi::router(&mut omi_spec))
        .merge(own::router(&mut own_spec));
    let documents = vec![
        Document {
            name: "crmtop",
            title: "CRMTOP",
            // The URL CRMTOP's doc gives (seed 000, "Quick Links").
            url: "/swagger/v1/swagger.json",
            json: crmtop_spec.into_json(),
        },
        Document {
            name: "nextx",
            title: "NextX / NextCRM",
            url: "/swagger/v1/nextx.json",
            json: nextx_spec.into_json(),
        },
        Document {
            name: "vbot",
            title: "VBot CRM",
            url: "/swagger/v1/vbot.json",
            json: vbot_spec.into_json(),
        },
        Document {
            name: "omi",
            title: "OMI CRM",
            url: "/swagger/v1/omi.json",
            json: omi_spec.into_json(),
        },
        Document {
            name: "crm",
            title: "crm-server (our own endpoints)",
            url: "/swagger/v1/crm.json",
            json: own_spec.into_json(),
        },
    ];
    (router, documents)
}

/// The caller a request's bearer token names, for every dialect's `Caller` extractor; `missing`
/// is the dialect's answer to a request without a token. The request's span (the server's
/// `observe`) records the tenant and the client.
pub async fn caller<E: From<crm_domain::DomainError>>(
    parts: &mut axum::http::request::Parts,
    state: &AppState,
    missing: impl FnOnce() -> E,
) -> Result<crm_domain::Actor, E> {
    let token = bearer(parts).ok_or_else(missing)?;
    let (actor, scope) = state.auth.authorize(token).await?;
    // Undocumented routes (other letter cases of documented paths) are judged by their method
    // and path, and name their resource.
    let route = parts
        .extensions
        .get::<openapi::RouteAccess>()
        .copied()
        .unwrap_or_else(|| openapi::RouteAccess {
            writes: parts.method != axum::http::Method::GET
                && !parts.uri.path().to_ascii_lowercase().ends_with("/search"),
            resource: parts
                .extensions
                .get::<openapi::RouteResource>()
                .map(|r| r.0),
        });
    scope.allow(
        guard::dialect_of(parts.uri.path()).scope_name(),
        route.resource,
        route.writes,
    )?;
    // For a handler that needs it (an API client making another, no wider than itself).
    parts.extensions.insert(scope);
    let span = tracing::Span::current();
    span.record("tenant", actor.account.as_str());
    span.record("client", tracing::field::display(actor.id.simple()));
    Ok(actor)
}

/// The bearer token of a request: `Authorization: Bearer <token>`, or the bare token
/// (CRMTOP's overview tables show the header value without the scheme).
pub fn bearer(parts: &axum::http::request::Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None => value,
    };
    (!token.is_empty()).then_some(token)
}
