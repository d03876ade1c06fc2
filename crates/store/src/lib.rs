//! Storage on SQLite (embedded default) or PostgreSQL, behind the domain's repository traits.
//!
//! Every statement is built with sea-query and rendered for the connected backend; DDL lives
//! in per-backend migrations because column types differ (UUID/BLOB, TIMESTAMPTZ/TEXT).

mod audit;
mod auth;
mod automations;
mod blasts;
mod common;
mod contacts;
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

    /// Rebuilds every search term of `tenant` from its records (`crm search reindex`); returns
    /// how many records of each kind were indexed.
    pub async fn reindex_search(
        &self,
        tenant: crm_domain::ids::TenantId,
    ) -> crm_domain::DomainResult<Vec<(&'static str, u64)>> {
        use crm_domain::repo::Entity;
        use table::reindex;
        let db = &self.db;
        Ok(vec![
            (
                crm_domain::customer::Customer::NAME,
                reindex::<crm_domain::customer::Customer>(db, tenant).await?,
            ),
            (
                crm_domain::customer::CustomerGroup::NAME,
                reindex::<crm_domain::customer::CustomerGroup>(db, tenant).await?,
            ),
            (
                crm_domain::contact::Contact::NAME,
                reindex::<crm_domain::contact::Contact>(db, tenant).await?,
            ),
            (
                crm_domain::lead::Lead::NAME,
                reindex::<crm_domain::lead::Lead>(db, tenant).await?,
            ),
            (
                crm_domain::list::Segment::NAME,
                reindex::<crm_domain::list::Segment>(db, tenant).await?,
            ),
            (
                crm_domain::list::Campaign::NAME,
                reindex::<crm_domain::list::Campaign>(db, tenant).await?,
            ),
            (
                crm_domain::marketing::EmailCampaign::NAME,
                reindex::<crm_domain::marketing::EmailCampaign>(db, tenant).await?,
            ),
            (
                crm_domain::marketing::ZaloCampaign::NAME,
                reindex::<crm_domain::marketing::ZaloCampaign>(db, tenant).await?,
            ),
            (
                crm_domain::activity::Activity::NAME,
                reindex::<crm_domain::activity::Activity>(db, tenant).await?,
            ),
            (
                crm_domain::opportunity::Opportunity::NAME,
                reindex::<crm_domain::opportunity::Opportunity>(db, tenant).await?,
            ),
            (
                crm_domain::template::Template::NAME,
                reindex::<crm_domain::template::Template>(db, tenant).await?,
            ),
            (
                crm_domain::sales::Product::NAME,
                reindex::<crm_domain::sales::Product>(db, tenant).await?,
            ),
            (
                crm_domain::sales::Order::NAME,
                reindex::<crm_domain::sales::Order>(db, tenant).await?,
            ),
            (
                crm_domain::ticket::Ticket::NAME,
                reindex::<crm_domain::ticket::Ticket>(db, tenant).await?,
            ),
            (
                crm_domain::vocab::Vocab::NAME,
                reindex::<crm_domain::vocab::Vocab>(db, tenant).await?,
            ),
        ])
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
}
