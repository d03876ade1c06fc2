//! The one typed configuration: command-line flags with `CRM_` environment fallbacks.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use crm_dialects::guard::Limits;
use crm_domain::auth::{AuthSettings, ThrottleSettings};
use crm_store::db::Pooler;
use crm_store::PoolSettings;

use crate::net::NetSettings;

/// Self-hosted CRM server speaking the CRMTOP, NextX, VBot and OMI APIs.
#[derive(Debug, Parser)]
#[command(
    name = "crm",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("CRM_BUILD"), ")"),
    about
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database: `sqlite://data/crm.db` (default, created if missing) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "CRM_DATABASE_URL",
        default_value = "sqlite://data/crm.db",
        global = true
    )]
    pub database_url: String,
    /// What stands between the server and PostgreSQL: `none`, or `transaction` for a pooler
    /// in transaction mode (pgbouncer's `pool_mode = transaction`): no named prepared
    /// statements, every statement in a transaction (docs/operations.md, "Scale-out").
    #[arg(long, env = "CRM_DATABASE_POOLER", default_value = "none", value_parser = ["none", "transaction"], global = true)]
    pub database_pooler: String,
    /// A direct PostgreSQL URL for what a pooler in transaction mode cannot carry: migrations
    /// (a session lock) and `crm backup`/`crm restore` (pg_dump, pg_restore).
    #[arg(long, env = "CRM_DATABASE_DIRECT_URL", global = true)]
    pub database_direct_url: Option<String>,
    /// Address to listen on.
    #[arg(
        long,
        env = "CRM_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,
    /// Lifetime of access tokens, in seconds.
    #[arg(
        long,
        env = "CRM_ACCESS_TOKEN_TTL",
        default_value_t = 3600,
        global = true
    )]
    pub access_token_ttl: u64,
    /// Lifetime of refresh tokens, in seconds.
    #[arg(long, env = "CRM_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600, global = true)]
    pub refresh_token_ttl: u64,
    /// How long a verified access token is trusted before the database is asked again
    /// (so also the longest a revoked client's token keeps working), in seconds.
    #[arg(long, env = "CRM_AUTH_CACHE_SECS", default_value_t = 5, global = true)]
    pub auth_cache_secs: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "CRM_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Where uploaded files (ticket attachments, recipient lists) are kept.
    #[arg(
        long,
        env = "CRM_FILES_DIR",
        default_value = "data/files",
        global = true
    )]
    pub files_dir: std::path::PathBuf,
    /// Largest accepted uploaded file, in bytes (up to 10 files per request).
    #[arg(long, env = "CRM_MAX_UPLOAD_BYTES", default_value_t = 10 * 1024 * 1024, global = true)]
    pub max_upload_bytes: usize,
    /// Largest file an import may upload (`POST /crm/v1/imports`), in bytes.
    #[arg(long, env = "CRM_MAX_IMPORT_BYTES", default_value_t = 256 * 1024 * 1024, global = true)]
    pub max_import_bytes: u64,
    /// Database connections per pool.
    #[arg(
        long,
        env = "CRM_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,
    /// Seconds a client has to send a request's head (also the idle keep-alive timeout).
    #[arg(
        long,
        env = "CRM_HEADER_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub header_timeout_secs: u64,
    /// Seconds a request body may take to arrive.
    #[arg(
        long,
        env = "CRM_BODY_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub body_timeout_secs: u64,
    /// Seconds after which a request still running is abandoned (503).
    #[arg(
        long,
        env = "CRM_REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,
    /// Open connections at most (more wait in the listen backlog).
    #[arg(
        long,
        env = "CRM_MAX_CONNECTIONS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_connections: usize,
    /// Requests handled at once; past that, 503 at once (load shedding).
    #[arg(
        long,
        env = "CRM_MAX_CONCURRENT_REQUESTS",
        default_value_t = 512,
        global = true
    )]
    pub max_concurrent_requests: usize,
    /// Seconds in-flight requests get to finish on shutdown before they are abandoned.
    #[arg(
        long,
        env = "CRM_SHUTDOWN_DEADLINE_SECS",
        default_value_t = 10,
        global = true
    )]
    pub shutdown_deadline_secs: u64,
    /// Secret checks (Argon2) running at once; 0 means one per CPU core.
    #[arg(
        long,
        env = "CRM_AUTH_HASH_CONCURRENCY",
        default_value_t = 0,
        global = true
    )]
    pub auth_hash_concurrency: usize,
    /// Milliseconds a token request may wait for a free secret check before a 503.
    #[arg(
        long,
        env = "CRM_AUTH_HASH_WAIT_MS",
        default_value_t = 1000,
        global = true
    )]
    pub auth_hash_wait_ms: u64,
    /// Token requests one source address may make per minute (also its burst); then 429.
    #[arg(
        long,
        env = "CRM_AUTH_ATTEMPTS_PER_MINUTE",
        default_value_t = 60,
        global = true
    )]
    pub auth_attempts_per_minute: u32,
    /// Failed token requests one client id may have per minute before it is locked for
    /// addresses it has not succeeded from.
    #[arg(
        long,
        env = "CRM_AUTH_FAILURES_PER_MINUTE",
        default_value_t = 10,
        global = true
    )]
    pub auth_failures_per_minute: u32,
    /// Jobs this node runs at once (webhook deliveries, sends); 0 makes an API-only node.
    #[arg(long, env = "CRM_WORKERS", default_value_t = 4, global = true)]
    pub workers: usize,
    /// Milliseconds before a failed job's first retry; each further retry doubles it.
    #[arg(
        long,
        env = "CRM_JOB_BACKOFF_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub job_backoff_ms: u64,
    /// Seconds a claimed job is leased to this node (a dead node's jobs run again after it).
    #[arg(long, env = "CRM_JOB_LEASE_SECS", default_value_t = 60, global = true)]
    pub job_lease_secs: u64,
    /// Milliseconds between looks at the job table when nothing signals (jobs another node
    /// enqueued, expired leases).
    #[arg(long, env = "CRM_JOB_POLL_MS", default_value_t = 500, global = true)]
    pub job_poll_ms: u64,
    /// Days done and cancelled jobs and webhook delivery logs are kept.
    #[arg(
        long,
        env = "CRM_JOB_RETENTION_DAYS",
        default_value_t = 7,
        global = true
    )]
    pub job_retention_days: u64,
    /// Days audit entries are kept (`GET /crm/v1/audit`, `crm audit`).
    #[arg(
        long,
        env = "CRM_AUDIT_RETENTION_DAYS",
        default_value_t = 365,
        global = true
    )]
    pub audit_retention_days: u64,
    /// Let webhooks and message providers be called at private, loopback and link-local
    /// addresses (refused by default).
    #[arg(long, env = "CRM_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub webhook_allow_private: bool,
    /// Mark the web console's cookies `Secure`: set it when the server is reached over TLS
    /// (directly or through a proxy), so that browsers never send the session in the clear.
    #[arg(long, env = "CRM_CONSOLE_SECURE_COOKIES", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub console_secure_cookies: bool,
    /// Serve `POST /crm/v1/test/clock`, which moves this process's clock forward (for tests of
    /// schedules and delays; never in production).
    #[arg(long, env = "CRM_TEST_CLOCK", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub test_clock: bool,
    /// The Zalo ZNS API base where a tenant's zns channel names none.
    #[arg(long, env = "CRM_ZNS_API_URL", default_value = crm_jobs::zns::DEFAULT_API, global = true)]
    pub zns_api_url: String,
    /// The Zalo OAuth base (token refresh) where a tenant's zns channel names none.
    #[arg(long, env = "CRM_ZNS_OAUTH_URL", default_value = crm_jobs::zns::DEFAULT_OAUTH, global = true)]
    pub zns_oauth_url: String,
    /// The SMS gateway endpoint where a tenant's sms channel names none.
    #[arg(long, env = "CRM_SMS_API_URL", default_value = crm_jobs::sms::DEFAULT_API, global = true)]
    pub sms_api_url: String,
    /// This server's address as the recipients of its messages reach it (unsubscribe links).
    #[arg(
        long,
        env = "CRM_PUBLIC_URL",
        default_value = "http://localhost:8080",
        global = true
    )]
    pub public_url: String,
    /// Milliseconds an endpoint that sends one message waits for the outcome before answering
    /// that it is queued.
    #[arg(long, env = "CRM_SEND_WAIT_MS", default_value_t = 5_000, global = true)]
    pub send_wait_ms: u64,
    /// Log filter, e.g. `info` or `crm=debug,sqlx=warn`.
    #[arg(long, env = "CRM_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log lines as `text` (for people) or `json` (one object a line, for collectors).
    #[arg(long, env = "CRM_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
}

impl Config {
    pub fn auth(&self) -> AuthSettings {
        AuthSettings {
            access_ttl: Duration::from_secs(self.access_token_ttl),
            refresh_ttl: Duration::from_secs(self.refresh_token_ttl),
            cache_ttl: Duration::from_secs(self.auth_cache_secs),
            throttle: ThrottleSettings {
                hash_concurrency: if self.auth_hash_concurrency == 0 {
                    ThrottleSettings::default().hash_concurrency
                } else {
                    self.auth_hash_concurrency
                },
                hash_wait: Duration::from_millis(self.auth_hash_wait_ms),
                attempts_per_minute: self.auth_attempts_per_minute,
                failures_per_minute: self.auth_failures_per_minute,
            },
        }
    }

    pub fn net(&self) -> NetSettings {
        NetSettings {
            header_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(self.body_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            max_connections: self.max_connections,
            max_requests: self.max_concurrent_requests,
            shutdown_deadline: Duration::from_secs(self.shutdown_deadline_secs),
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            ..Limits::default()
        }
    }

    pub fn files(&self) -> crm_store::FileSettings {
        crm_store::FileSettings {
            dir: self.files_dir.clone(),
            max_bytes: self.max_upload_bytes,
        }
    }

    pub fn runner(&self) -> crm_jobs::RunnerConfig {
        crm_jobs::RunnerConfig {
            concurrency: self.workers.max(1),
            lease: Duration::from_secs(self.job_lease_secs.max(2)),
            poll: Duration::from_millis(self.job_poll_ms.clamp(10, 60_000)),
            backoff_base: Duration::from_millis(self.job_backoff_ms),
            grace: Duration::from_secs(self.shutdown_deadline_secs),
            retention: Duration::from_secs(self.job_retention_days.max(1) * 24 * 3600),
            ..crm_jobs::RunnerConfig::default()
        }
    }

    pub fn outbound(&self) -> crm_jobs::outbound::OutboundSettings {
        crm_jobs::outbound::OutboundSettings {
            allow_private: self.webhook_allow_private,
            ..Default::default()
        }
    }

    pub fn providers(&self) -> crm_jobs::messages::ProviderDefaults {
        crm_jobs::messages::ProviderDefaults {
            zns_api: self.zns_api_url.clone(),
            zns_oauth: self.zns_oauth_url.clone(),
            sms_api: self.sms_api_url.clone(),
            public_url: self.public_url.clone(),
        }
    }

    pub fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.db_max_connections,
            pooler: if self.database_pooler == "transaction" {
                Pooler::Transaction
            } else {
                Pooler::None
            },
            ..PoolSettings::default()
        }
    }

    /// The URL to reach the database directly (migrations, backups): the direct URL when
    /// one is set, else the database URL.
    pub fn direct_url(&self) -> &str {
        self.database_direct_url
            .as_deref()
            .unwrap_or(&self.database_url)
    }

    /// The defaults, with a database URL (for tests and tools).
    pub fn with_database(url: &str) -> Self {
        let cli = Cli::parse_from(["crm", "--database-url", url]);
        cli.config
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage API clients of a tenant.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage staff who sign in to the web console (`/app/`).
    #[command(subcommand)]
    User(UserCommand),
    /// Maintain the search index.
    #[command(subcommand)]
    Search(SearchCommand),
    /// Inspect and steer durable jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Manage a tenant's webhook endpoints.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Set and show a tenant's message channels (email, zns, sms).
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Import customers, contacts, leads or products from a .xlsx or .csv file.
    Import(ImportArgs),
    /// Export customers, contacts, leads, products, orders or send records to .xlsx or .csv.
    Export(ExportArgs),
    /// Read a tenant's audit trail: who changed what, newest first.
    Audit(AuditArgs),
    /// Restore a deleted record, or erase a person for good.
    #[command(subcommand)]
    Record(RecordCommand),
    /// Write a backup (database and files) to FILE, while the server runs.
    Backup {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup FILE into an empty database (and the files directory).
    Restore {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Undo the delete of a record: customer, contact, lead, activity, opportunity, product,
    /// order or ticket.
    Restore {
        #[arg(long)]
        tenant: String,
        kind: String,
        id: uuid::Uuid,
    },
    /// Erase a person (customer, contact or lead) for good, with the values the audit trail
    /// recorded for them; one audit entry says it happened.
    Erase {
        #[arg(long)]
        tenant: String,
        kind: String,
        id: uuid::Uuid,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[arg(long)]
    pub tenant: String,
    /// One record's entries (its id).
    #[arg(long)]
    pub record: Option<uuid::Uuid>,
    /// One API client's entries (its client_id).
    #[arg(long)]
    pub client: Option<String>,
    /// One kind of record: customer, lead, order, api_client, token, …
    #[arg(long)]
    pub object: Option<String>,
    /// From this time (RFC 3339) or day (yyyy-mm-dd, UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// Until this time or day (excluded).
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many (1 to 500).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// customers, contacts, leads or products.
    pub kind: String,
    /// The file: .xlsx, or .csv (UTF-8 with or without BOM, or Windows-1258; `,` or `;`).
    pub file: std::path::PathBuf,
    #[arg(long)]
    pub tenant: String,
    /// What a row matching a stored record (by phone, e-mail or code) does: skip, update or
    /// create.
    #[arg(long, default_value = "skip")]
    pub on_duplicate: String,
    /// Reports what would happen and writes nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stores every row or none.
    #[arg(long)]
    pub all_or_nothing: bool,
    /// A JSON file mapping headers to fields, `{"Cột A": "name"}`.
    #[arg(long)]
    pub mapping: Option<std::path::PathBuf>,
    /// Where the rejected rows go (default: beside the file, `<name>.errors.<ext>`).
    #[arg(long)]
    pub report: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// customers, contacts, leads, products, orders or messages.
    pub kind: String,
    #[arg(long)]
    pub tenant: String,
    /// xlsx or csv (default: from --output's extension, else xlsx).
    #[arg(long)]
    pub format: Option<String>,
    /// Only records a search for this finds (words, a phone, an e-mail).
    #[arg(long)]
    pub search: Option<String>,
    /// Created on or after / on or before this day (yyyy-mm-dd or dd/mm/yyyy, the tenant's
    /// zone).
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    /// messages only: one campaign's send records.
    #[arg(long)]
    pub campaign: Option<String>,
    /// The file to write (default: `<kind>-<date>.<format>` here).
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Set settings of a channel: `key=value` pairs (an empty value removes a key).
    Set {
        #[arg(long)]
        tenant: String,
        /// email, zns or sms.
        channel: String,
        /// `key=value`, e.g. `access_token=…` or `api_url=https://…`.
        #[arg(required = true)]
        settings: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show a tenant's channels (one, or all), secrets as `set`.
    Show {
        #[arg(long)]
        tenant: String,
        channel: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// Tenant slug or id.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        /// queued, running, done, dead or cancelled.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show one job.
    Show {
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Run a dead, cancelled or waiting job again now, with fresh attempts.
    Retry {
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a queued job.
    Cancel {
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Queue depth and counts per kind and state.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Add (or replace, by name) a recurring job: `--cron` is read in the tenant's time zone.
    Schedule {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        kind: String,
        /// Five fields (minute hour day month weekday), or six with seconds first.
        #[arg(long)]
        cron: String,
        /// The job's payload, as JSON.
        #[arg(long, default_value = "{}")]
        payload: String,
        #[arg(long)]
        json: bool,
    },
    /// List recurring jobs.
    Schedules {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove a recurring job.
    Unschedule {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint; its signing secret is shown once.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        url: String,
        /// An event it receives (repeat for more); all events when none is given.
        #[arg(long = "event")]
        events: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's endpoints.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop deliveries to an endpoint (pending ones end as dead).
    Disable {
        #[arg(long)]
        tenant: String,
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Resume deliveries to an endpoint.
    Enable {
        #[arg(long)]
        tenant: String,
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Remove an endpoint.
    Delete {
        #[arg(long)]
        tenant: String,
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Replace an endpoint's signing secret; the new one is shown once.
    Rotate {
        #[arg(long)]
        tenant: String,
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// An endpoint's latest delivery attempts.
    Deliveries {
        #[arg(long)]
        tenant: String,
        id: uuid::Uuid,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Send a delivered message again (same webhook-id and body).
    Redeliver {
        #[arg(long)]
        tenant: String,
        /// The delivery id (from `deliveries`).
        delivery: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Rebuild a tenant's search terms from its records (after a crash mid-migration, or to
    /// repair an index written by an older version).
    Reindex {
        /// Tenant slug or id.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Display name.
        name: String,
        /// Short unique name used on the command line (default: derived from the name).
        #[arg(long)]
        slug: Option<String>,
        /// IANA time zone (default Asia/Ho_Chi_Minh).
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set the tenant's document settings: `key=value` pairs (an empty value removes a key):
    /// seller_name, seller_address, tax_code, phone, email, website, bank_bin, bank_account,
    /// bank_account_name, bank_name, logo (`logo=@file.png`), footer.
    Set {
        /// Tenant slug or id.
        #[arg(long)]
        tenant: String,
        /// `key=value`, e.g. `seller_name="Cửa hàng Hoa Sen"` or `bank_bin=970436`.
        #[arg(required = true)]
        settings: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show a tenant and its document settings.
    Show {
        /// Tenant slug or id.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff user who may sign in to the console (or give an existing staff user of
    /// the directory a role and a new password). The password is read from standard input
    /// unless `--password` gives it.
    Create {
        /// Tenant slug or id.
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long)]
        username: String,
        /// `admin`, `sales`, `marketing` or `viewer`.
        #[arg(long)]
        role: String,
        /// The name shown, family name first (`Nguyễn Văn Đức`).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create an API client; its secret is shown once.
    Create {
        /// Tenant slug or id.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// A label for the client.
        #[arg(long, default_value = "api")]
        name: String,
        /// What it may do: `all`, or comma-separated `read` (read-only), the APIs it may
        /// reach (`crmtop`, `nextx`, `vbot`, `omi`, `crm` for our own endpoints) and the
        /// records (`customers`, `leads`, `sales`, `marketing`, `support`, `activities`,
        /// `admin`).
        #[arg(long, default_value = "all")]
        scope: String,
        #[arg(long)]
        json: bool,
    },
    /// List the API clients of a tenant.
    List {
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API client and every token it holds.
    Revoke {
        /// The client id (as sent in `clientId` / `client_id`).
        client_id: String,
        #[arg(long)]
        json: bool,
    },
}
