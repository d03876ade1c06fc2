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
mod leads;
mod lists;
mod pipeline;
mod table;

use std::sync::Arc;

use crm_domain::service::Crm;

pub use db::{Db, PoolSettings};

/// The repositories over one database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub db: Db,
}

impl SqlStore {
    pub fn new(db: Db) -> Self {
        Self { db }
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
            converter: self.clone(),
        }
    }
}
