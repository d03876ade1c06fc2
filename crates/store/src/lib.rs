//! Storage on SQLite (embedded default) or PostgreSQL, behind the domain's repository traits.
//!
//! Every statement is built with sea-query and rendered for the connected backend; DDL lives
//! in per-backend migrations because column types differ (UUID/BLOB, TIMESTAMPTZ/TEXT).

mod audit;
mod auth;
mod automations;
mod blasts;
mod common;
mod console;
mod contacts;
mod counts;
mod customers;
pub mod db;
mod error;
mod ext;
mod files;
mod idempotency;
mod inventory;
mod jobs;
mod leads;
mod lists;
mod marketing;
mod messages;
mod pipeline;
mod sales;
mod table;
mod tickets;
mod transfers;
mod vocab;
mod webhooks;

use std::sync::Arc;

use crm_domain::service::Crm;

pub use db::{Db, PoolSettings};
pub use files::FileSettings;

/// Creates a directory and its missing parents owner-only (`0700`).
pub fn files_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    files::private_dir(dir)
}

/// The repositories over one database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub db: Db,
    pub files: FileSettings,
}

impl SqlStore {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            files: FileSettings::default(),
        }
    }

    pub fn with_files(mut self, files: FileSettings) -> Self {
        self.files = files;
        self
    }

    /// Rebuilds every search term of `tenant` from its records in one transaction (`crm search
    /// reindex`), and marks its index as of [`TERMS_VERSION`]; returns how many records of each
    /// kind were indexed.
    pub async fn reindex_search(
        &self,
        tenant: crm_domain::ids::TenantId,
    ) -> crm_domain::DomainResult<Vec<(&'static str, u64)>> {
        let mut tx = self.db.begin().await.map_err(error::db_error)?;
        mark_search_version(&mut tx, tenant).await?;
        let counts = reindex_all(&mut tx, tenant).await?;
        tx.commit().await.map_err(error::db_error)?;
        Ok(counts)
    }

    /// Rebuilds the search index of every tenant whose terms an older build wrote (the server
    /// runs this before it serves; `docs/search.md`). Nodes starting at once: the first marks a
    /// tenant and rebuilds it in the same transaction; the others wait on its row, then find it
    /// current. Returns the tenants rebuilt and how many records each had.
    pub async fn upgrade_search(
        &self,
    ) -> crm_domain::DomainResult<Vec<(crm_domain::ids::TenantId, u64)>> {
        use sea_query::{Expr, Query};
        #[derive(sqlx::FromRow)]
        struct Outdated {
            id: uuid::Uuid,
        }
        let q = Query::select()
            .column(table::al("id"))
            .from(table::al("tenants"))
            .and_where(Expr::col(table::al("search_version")).lt(TERMS_VERSION))
            .to_owned();
        let mut tx = self.db.begin().await.map_err(error::db_error)?;
        let outdated: Vec<Outdated> = tx.exec().fetch_all(&q).await.map_err(error::db_error)?;
        drop(tx);
        let mut done = Vec::new();
        for t in outdated {
            let tenant = crm_domain::ids::TenantId(t.id);
            let mut tx = self.db.begin().await.map_err(error::db_error)?;
            if mark_search_version(&mut tx, tenant).await? == 0 {
                continue;
            }
            let counts = reindex_all(&mut tx, tenant).await?;
            tx.commit().await.map_err(error::db_error)?;
            done.push((tenant, counts.iter().map(|(_, n)| n).sum()));
        }
        Ok(done)
    }

    /// The CRM service wired to this store.
    pub fn crm(self: &Arc<Self>) -> Crm {
        Crm::new(self.clone())
    }
}

#[async_trait::async_trait]
impl crm_domain::work::Transactions for SqlStore {
    async fn begin(&self) -> crm_domain::DomainResult<crm_domain::work::Work> {
        let tx = self.db.begin().await.map_err(error::db_error)?;
        Ok(crm_domain::work::Work::new(tx))
    }

    async fn settle(&self) -> crm_domain::DomainResult<()> {
        self.db
            .refresh_statistics()
            .await
            .map(|_| ())
            .map_err(crm_domain::DomainError::Internal)
    }

    fn one_at_a_time(&self) -> bool {
        matches!(self.db, db::Db::Sqlite { .. })
    }
}

/// The format of the search terms this build writes: 0 was word suffixes, 1 word rotations
/// with phone tails and e-mail parts (`crm_domain::search`). A tenant whose index is older is
/// rebuilt before the server serves.
pub const TERMS_VERSION: i32 = 1;

/// Marks a tenant's index as of [`TERMS_VERSION`] unless it already is; returns whether it
/// was marked (taking the tenant's row until the transaction ends).
async fn mark_search_version(
    tx: &mut db::Tx,
    tenant: crm_domain::ids::TenantId,
) -> crm_domain::DomainResult<u64> {
    use sea_query::{Expr, Query};
    let q = Query::update()
        .table(table::al("tenants"))
        .value(table::al("search_version"), TERMS_VERSION)
        .and_where(Expr::col(table::al("id")).eq(tenant.0))
        .and_where(Expr::col(table::al("search_version")).lt(TERMS_VERSION))
        .to_owned();
    tx.exec().execute(&q).await.map_err(error::db_error)
}

/// Rebuilds each searchable kind's terms of `tenant` in `tx`.
async fn reindex_all(
    tx: &mut db::Tx,
    tenant: crm_domain::ids::TenantId,
) -> crm_domain::DomainResult<Vec<(&'static str, u64)>> {
    use crm_domain::repo::Entity;
    use table::reindex;
    Ok(vec![
        (
            crm_domain::customer::Customer::NAME,
            reindex::<crm_domain::customer::Customer>(tx, tenant).await?,
        ),
        (
            crm_domain::customer::CustomerGroup::NAME,
            reindex::<crm_domain::customer::CustomerGroup>(tx, tenant).await?,
        ),
        (
            crm_domain::contact::Contact::NAME,
            reindex::<crm_domain::contact::Contact>(tx, tenant).await?,
        ),
        (
            crm_domain::lead::Lead::NAME,
            reindex::<crm_domain::lead::Lead>(tx, tenant).await?,
        ),
        (
            crm_domain::list::Segment::NAME,
            reindex::<crm_domain::list::Segment>(tx, tenant).await?,
        ),
        (
            crm_domain::list::Campaign::NAME,
            reindex::<crm_domain::list::Campaign>(tx, tenant).await?,
        ),
        (
            crm_domain::marketing::EmailCampaign::NAME,
            reindex::<crm_domain::marketing::EmailCampaign>(tx, tenant).await?,
        ),
        (
            crm_domain::marketing::ZaloCampaign::NAME,
            reindex::<crm_domain::marketing::ZaloCampaign>(tx, tenant).await?,
        ),
        (
            crm_domain::activity::Activity::NAME,
            reindex::<crm_domain::activity::Activity>(tx, tenant).await?,
        ),
        (
            crm_domain::opportunity::Opportunity::NAME,
            reindex::<crm_domain::opportunity::Opportunity>(tx, tenant).await?,
        ),
        (
            crm_domain::template::Template::NAME,
            reindex::<crm_domain::template::Template>(tx, tenant).await?,
        ),
        (
            crm_domain::sales::Product::NAME,
            reindex::<crm_domain::sales::Product>(tx, tenant).await?,
        ),
        (
            crm_domain::sales::Order::NAME,
            reindex::<crm_domain::sales::Order>(tx, tenant).await?,
        ),
        (
            crm_domain::ticket::Ticket::NAME,
            reindex::<crm_domain::ticket::Ticket>(tx, tenant).await?,
        ),
        (
            crm_domain::vocab::Vocab::NAME,
            reindex::<crm_domain::vocab::Vocab>(tx, tenant).await?,
        ),
    ])
}
