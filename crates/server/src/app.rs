//! Wiring: database, services, router, and the server loop with graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use crm_dialects::guard::{guard, reject, Limits};
use crm_dialects::own::Health;
use crm_dialects::AppState;
use crm_domain::auth::AuthService;
use crm_store::{Db, SqlStore};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::net::NetSettings;

/// A connected, migrated application.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub store: Arc<SqlStore>,
    pub state: AppState,
    pub max_body_bytes: usize,
    pub limits: Limits,
    pub net: NetSettings,
    /// `None` on an API-only node (`CRM_WORKERS=0`).
    pub runner: Option<crm_jobs::RunnerConfig>,
    pub outbound: Arc<crm_jobs::Outbound>,
    pub providers: crm_jobs::messages::ProviderDefaults,
    /// Whether the test clock route is served (`CRM_TEST_CLOCK`).
    pub test_clock: bool,
    /// Set once shutdown begins (`/ready` answers 503 from then on).
    pub stopping: Arc<std::sync::atomic::AtomicBool>,
    /// How long audit entries are kept (`CRM_AUDIT_RETENTION_DAYS`).
    pub audit_keep: std::time::Duration,
    /// The staff's web console (`/app/`).
    pub console: crm_console::Console,
}

impl App {
    /// Connects to the configured database and applies migrations.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let pool = config.pool();
        let db = Db::connect(&config.database_url, pool).await?;
        if pool.pooler == crm_store::db::Pooler::None {
            db.migrate().await?;
        } else {
            // Through a pooler in transaction mode, migrations take a direct connection.
            let Some(direct) = &config.database_direct_url else {
                anyhow::bail!(
                    "CRM_DATABASE_POOLER=transaction needs CRM_DATABASE_DIRECT_URL, a direct \
                     connection to PostgreSQL for migrations"
                );
            };
            let settings = crm_store::PoolSettings {
                max_connections: 1,
                ..crm_store::PoolSettings::default()
            };
            let direct = Db::connect(direct, settings).await?;
            direct.migrate().await?;
            direct.close().await;
        }
        let store = Arc::new(SqlStore::new(db.clone()).with_files(config.files()));
        let state = AppState {
            crm: store.crm(),
            auth: AuthService::new(store.clone(), config.auth()),
            send_wait: std::time::Duration::from_millis(config.send_wait_ms),
            max_import_bytes: config.max_import_bytes,
        };
        let console = crm_console::Console {
            crm: state.crm.clone(),
            auth: crm_domain::console::ConsoleAuth::new(store.clone(), state.auth.clone()),
            secure_cookies: config.console_secure_cookies,
            printer: Arc::new(A4Printer),
            max_import_bytes: config.max_import_bytes,
            figures: Default::default(),
        };
        Ok(Self {
            console,
            db,
            store,
            state,
            max_body_bytes: config.max_body_bytes,
            limits: config.limits(),
            net: config.net(),
            runner: (config.workers > 0).then(|| config.runner()),
            outbound: Arc::new(crm_jobs::Outbound::new(config.outbound())?),
            providers: config.providers(),
            test_clock: config.test_clock,
            audit_keep: std::time::Duration::from_secs(
                config.audit_retention_days.max(1) * 24 * 3600,
            ),
            stopping: Arc::default(),
        })
    }

    pub fn router(&self) -> Router {
        let mut health = Router::new()
            .route("/health", get(health))
            .with_state(self.db.clone());
        if self.test_clock {
            health = health.route(
                "/crm/v1/test/clock",
                axum::routing::post(advance_clock).with_state(self.state.crm.clone()),
            );
        }
        let (api, documents) = crm_dialects::router();
        let api = api
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            // Inside the guard: the body it sees is already read and bounded.
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                crm_dialects::idempotency::idempotent,
            ))
            .layer(DefaultBodyLimit::max(self.max_body_bytes))
            .layer(axum::middleware::from_fn_with_state(self.limits, guard))
            .with_state(self.state.clone())
            .merge(health)
            .merge(crate::observe::routes(crate::observe::Probe {
                db: self.db.clone(),
                crm: self.state.crm.clone(),
                stopping: self.stopping.clone(),
            }))
            .merge(crate::openapi::swagger(documents))
            .merge(
                crm_console::router(self.console.clone())
                    .layer(DefaultBodyLimit::max(crm_console::MAX_FORM_BYTES)),
            );
        // Outermost: every answer, the bounds' refusals included, has its id, line and count.
        crate::net::bounded(api, self.net).layer(axum::middleware::from_fn(crate::observe::observe))
    }

    /// Serves until `shutdown` resolves, lets in-flight requests finish, then closes the pool.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // An index an older build wrote is rebuilt before the first request can search it.
        let rebuilt = self
            .store
            .upgrade_search()
            .await
            .context("rebuilding a search index an older build wrote")?;
        for (tenant, records) in rebuilt {
            tracing::info!(tenant = %tenant.0, records, "search index rebuilt in this build's format");
        }
        let router = self.router();
        let checkpoints = tokio::spawn(checkpoint(self.db.clone()));
        let maintenance = tokio::spawn(maintain(
            self.db.clone(),
            self.state.crm.clone(),
            self.state.auth.clone(),
            self.console.auth.clone(),
            self.audit_keep,
        ));
        // One shutdown signal for both: HTTP stops accepting, the runner stops claiming.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let stop = Arc::new(stop);
        let stop_after = stop.clone();
        let runner = self.runner().map(|r| {
            let mut stopped = stopped.clone();
            tokio::spawn(r.run(async move {
                let _ = stopped.wait_for(|s| *s).await;
            }))
        });
        let stopping = self.stopping.clone();
        let signal = async move {
            shutdown.await;
            stopping.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = stop.send(true);
        };
        let served = crate::net::serve(listener, router, self.net, signal)
            .await
            .context("serving HTTP");
        let _ = stop_after.send(true);
        if let Some(r) = runner {
            let _ = r.await;
        }
        maintenance.abort();
        checkpoints.abort();
        self.db.close().await;
        served
    }

    /// The job runner with every handler, when this node runs jobs.
    pub fn runner(&self) -> Option<crm_jobs::Runner> {
        let config = self.runner.clone()?;
        let lease = config.lease;
        let crm = self.state.crm.clone();
        let send = Arc::new(crm_jobs::messages::SendMessage::new(
            crm.clone(),
            self.outbound.clone(),
            self.providers.clone(),
            &config,
        ));
        let transfers = Arc::new(crm_jobs::transfers::Transfers::new(crm.clone(), lease));
        Some(
            crm_jobs::Runner::new(crm.clone(), config)
                .handle(
                    crm_domain::webhooks::DELIVERY_JOB,
                    Arc::new(crm_jobs::webhook::Deliver {
                        crm: crm.clone(),
                        outbound: self.outbound.clone(),
                    }),
                )
                .handle(
                    crm_domain::campaign::BLAST_JOB,
                    Arc::new(crm_jobs::campaigns::FanOut::new(crm.clone(), lease)),
                )
                .handle(
                    crm_domain::automation::DATE_JOB,
                    Arc::new(crm_jobs::automations::FireDate::new(crm.clone(), lease)),
                )
                .handle(
                    crm_domain::automation::STEP_JOB,
                    Arc::new(crm_jobs::automations::RunStep { crm: crm.clone() }),
                )
                .handle(crm_domain::transfer::IMPORT_JOB, transfers.clone())
                .handle(crm_domain::transfer::EXPORT_JOB, transfers)
                .handle(crm_domain::messaging::MESSAGE_JOB, send.clone())
                .handle(crm_domain::messaging::MESSAGE_BATCH_JOB, send),
        )
    }
}

async fn health(State(db): State<Db>) -> Response {
    match db.ping().await {
        Ok(()) => Json(Health {
            status: "ok",
            database: "ok",
            backend: db.backend_name(),
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "error",
                    database: "unreachable",
                    backend: db.backend_name(),
                }),
            )
                .into_response()
        }
    }
}

/// The envelope of the vendor whose path was called.
async fn not_found(uri: Uri) -> Response {
    reject(
        uri.path(),
        StatusCode::NOT_FOUND,
        None,
        &format!("no endpoint {}", uri.path()),
    )
}

async fn method_not_allowed(uri: Uri) -> Response {
    reject(
        uri.path(),
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        &format!("method not allowed on {}", uri.path()),
    )
}

/// On SQLite, the WAL copied into the database between commits (`Db::checkpoint`); nothing on
/// PostgreSQL.
async fn checkpoint(db: Db) {
    let mut tick = tokio::time::interval(crm_store::db::CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match db.checkpoint().await {
            Ok(None) => return,
            Ok(Some(_)) => {}
            Err(e) => tracing::warn!(error = ?e, "checkpointing the SQLite WAL failed"),
        }
    }
}

/// Once a minute: keeps PostgreSQL's planner statistics fresh (`Db::refresh_statistics`) and
/// removes idempotency keys past their 24 h, tokens a day past their expiry and audit entries
/// past their retention.
async fn maintain(
    db: Db,
    crm: crm_domain::service::Crm,
    auth: crm_domain::auth::AuthService,
    console: crm_domain::console::ConsoleAuth,
    audit_keep: std::time::Duration,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match db.refresh_statistics().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tables = n, "refreshed planner statistics"),
            Err(e) => tracing::warn!(error = ?e, "refreshing planner statistics failed"),
        }
        match crm.purge_idempotency_keys().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(keys = n, "purged idempotency keys past their 24 h"),
            Err(e) => tracing::warn!(error = ?e, "purging idempotency keys failed"),
        }
        match auth.purge_expired_tokens().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tokens = n, "purged tokens a day past their expiry"),
            Err(e) => tracing::warn!(error = ?e, "purging expired tokens failed"),
        }
        match console.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                sessions = n,
                "purged console sessions a day past their expiry"
            ),
            Err(e) => tracing::warn!(error = ?e, "purging console sessions failed"),
        }
        match crm.purge_audit(audit_keep).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "purged audit entries past their retention"),
            Err(e) => tracing::warn!(error = ?e, "purging audit entries failed"),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
///
/// The handlers are installed when this is called, not when the future is first polled: a
/// SIGTERM that comes while the server is still starting is not lost (it would otherwise end
/// the process at once, without a graceful shutdown).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut term, mut int) = signals;
            let term = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match int.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = term => {},
                () = int => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}

/// `POST /crm/v1/test/clock` `{"advance_seconds": N}` (only with `CRM_TEST_CLOCK=true`): moves
/// the clock forward and wakes the job runner; answers the new time.
async fn advance_clock(
    axum::extract::State(crm): axum::extract::State<crm_domain::service::Crm>,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    let seconds = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("advance_seconds").and_then(serde_json::Value::as_i64));
    let Some(seconds) = seconds.filter(|s| (0..=10 * 366 * 86_400).contains(s)) else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(
                serde_json::json!({"error": "advance_seconds must be a whole number of seconds from 0 to ten years"}),
            ),
        );
    };
    let now = crm_domain::clock::advance(chrono::Duration::seconds(seconds));
    crm.job_signal().notify_one();
    (
        axum::http::StatusCode::OK,
        axum::Json(serde_json::json!({"now": now.to_rfc3339()})),
    )
}

/// The console's printouts: the A4 invoice the vendor APIs print (`docs/printouts.md`).
struct A4Printer;

impl crm_console::Printer for A4Printer {
    fn html(
        &self,
        seller: &crm_domain::printout::Seller,
        printouts: &[crm_domain::printout::Printout],
    ) -> String {
        crm_dialects::printout::html::render(seller, printouts, crm_dialects::printout::Paper::A4)
    }

    fn pdf(
        &self,
        seller: crm_domain::printout::Seller,
        printouts: Vec<crm_domain::printout::Printout>,
    ) -> crm_console::PdfFuture {
        Box::pin(crm_dialects::printout::render_pdf(
            seller,
            printouts,
            crm_dialects::printout::Paper::A4,
        ))
    }
}
