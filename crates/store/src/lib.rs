//! Storage on SQLite (embedded default) or PostgreSQL, behind the domain's repository traits.
//!
//! Every statement is built with sea-query and rendered for the connected backend; DDL lives
//! in per-backend migrations because column types differ (UUID/BLOB, TIMESTAMPTZ/TEXT).

mod auth;
mod common;
mod contacts;
mod customers;
pub mod db;
mod error;
mod ext;
mod files;
mod inventory;
mod leads;
mod lists;
mod marketing;
mod pipeline;
mod sales;
mod table;
mod tickets;
mod vocab;

use std::sync::Arc;

use crm_domain::service::Crm;

pub use db::{Db, PoolSettings};
pub use files::FileSettings;

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

    /// The CRM service wired to this store.
    pub fn crm(self: &Arc<Self>) -> Crm {
        Crm {
            customers: self.clone(),
            groups: self.clone(),
            contacts: self.clone(),
            leads: self.clone(),
            activities: self.clone(),
            opportunities: self.clone(),
            templates: self.clone(),
            segments: self.clone(),
            campaigns: self.clone(),
            members: self.clone(),
            products: self.clone(),
            orders: self.clone(),
            sales: self.clone(),
            tickets: self.clone(),
            ticket_store: self.clone(),
            files: self.clone(),
            email_campaigns: self.clone(),
            zalo_campaigns: self.clone(),
            vocab: self.clone(),
            registry: self.clone(),
            inventory: self.clone(),
            converter: self.clone(),
        }
    }
}
