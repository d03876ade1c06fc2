//! What an operator sees of the traffic: a request id on every request (`X-Request-Id`, taken
//! when the client sends a sane one, else made), a `tracing` span per request (its id, method,
//! route, dialect; the tenant and client once the token is read) with one access-log line when
//! it ends, and Prometheus metrics at `/metrics`: requests and their latency per dialect, route
//! and status, the database pool, and the job queue.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use crm_dialects::guard::{dialect_of, Dialect};
use crm_dialects::own::Ready;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The process's metrics recorder (one per process: tests start many servers in one).
fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets(&buckets)
                .ok()?
                .install_recorder()
                .ok()?;
            // The recorder keeps every observation of a histogram until upkeep folds it into
            // the buckets: without it, memory grows by a few bytes per request for ever.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                });
            if let Err(e) = spawned {
                tracing::warn!(
                    "metrics upkeep not started ({e}): histograms fold only when scraped"
                );
            }
            Some(handle)
        })
        .as_ref()
}

/// A request id a client may choose: 1 to 128 characters of letters, digits and `-_.:`.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn dialect_name(path: &str) -> &'static str {
    match dialect_of(path) {
        Dialect::Crmtop => "crmtop",
        Dialect::Nextx => "nextx",
        Dialect::Vbot | Dialect::VbotToken => "vbot",
        Dialect::Omi => "omi",
        Dialect::Other => "crm",
    }
}

/// The middleware: id, span, access line, metrics.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_owned);
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    // The route's pattern (`/api/v1/customer/get/{id}`), never the raw path: a bounded label.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let dialect = dialect_name(&path);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        dialect,
        tenant = tracing::field::Empty,
        client = tracing::field::Empty,
    );
    // What the request changes is recorded as coming through this dialect and route.
    let origin = crm_domain::audit::Origin {
        dialect,
        route: format!("{method} {route}"),
        request_id: id.clone(),
    };
    let mut response =
        crm_domain::audit::within(origin, next.run(req).instrument(span.clone())).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status,
            ms = (elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
            path = %path,
            "request"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    if recorder().is_some() {
        let labels = [
            ("dialect", dialect.to_owned()),
            ("route", route),
            ("method", method),
            ("status", status.to_string()),
        ];
        metrics::counter!("crm_http_requests_total", &labels).increment(1);
        metrics::histogram!("crm_http_request_duration_seconds", &labels[..3])
            .record(elapsed.as_secs_f64());
        if status >= 500 {
            metrics::counter!("crm_http_server_errors_total", &labels[..2]).increment(1);
        }
    }
    response
}

/// What `/metrics` and `/ready` read.
#[derive(Clone)]
pub struct Probe {
    pub db: crm_store::Db,
    pub crm: crm_domain::service::Crm,
    /// Set when the server begins to shut down: it is no longer ready.
    pub stopping: Arc<AtomicBool>,
}

/// `/metrics` (Prometheus text format) and `/ready`.
pub fn routes(probe: Probe) -> Router {
    let _ = recorder();
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/ready", get(ready))
        .with_state(probe)
}

async fn metrics_text(State(p): State<Probe>) -> Response {
    let Some(handle) = recorder() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no metrics recorder").into_response();
    };
    let (size, idle) = p.db.pool_state();
    metrics::gauge!("crm_db_pool_connections").set(f64::from(size));
    metrics::gauge!("crm_db_pool_idle_connections").set(idle as f64);
    let (groups, grouped) = p.crm.create_groups();
    metrics::counter!("crm_create_groups_total").absolute(groups);
    metrics::counter!("crm_grouped_creates_total").absolute(grouped);
    if let Ok(stats) = p.crm.job_stats().await {
        for s in stats {
            for (state, n) in [
                ("due", s.due),
                ("scheduled", s.scheduled),
                ("running", s.running),
                ("dead", s.dead),
                ("failed", s.failed),
            ] {
                metrics::gauge!("crm_jobs", "kind" => s.kind.clone(), "state" => state)
                    .set(n as f64);
            }
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Ready for traffic: the database answers and the server is not shutting down.
async fn ready(State(p): State<Probe>) -> Response {
    if p.stopping.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Ready {
                status: "stopping".to_owned(),
            }),
        )
            .into_response();
    }
    match p.db.ping().await {
        Ok(()) => Json(Ready {
            status: "ready".to_owned(),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = ?e, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Ready {
                    status: "database unreachable".to_owned(),
                }),
            )
                .into_response()
        }
    }
}
