//! The unit of work: every use case that writes runs its reads-for-checks and its writes in one
//! database transaction, and commits once or leaves nothing behind.
//!
//! The store opens the transaction ([`Transactions::begin`]) and hands the domain an opaque
//! [`Work`]; every repository method that writes takes it, and reads that a check depends on
//! take it too ([`At::Work`]), so they see the transaction's own writes and, under the
//! serialisation described below, no concurrent ones. Dropping a `Work` without
//! [`Work::commit`] undoes everything written in it.
//!
//! Serialisation: on SQLite a unit of work is `BEGIN IMMEDIATE` on the single writer
//! connection, so units of work run one at a time and every check sees everything committed
//! before it. On PostgreSQL (read committed) a check that must see concurrent writers takes an
//! explicit lock first: a row lock on the record it changes ([`crate::repo::Repository::lock`],
//! `FOR UPDATE`), or a tenant-wide advisory lock on a [`Lock`] scope, held until commit.
//!
//! Later steps of a use case (enqueueing a job, appending an audit record) are further
//! repository calls on the same `Work`; [`Work::on_commit`] runs code only once the writes are
//! durable (waking a job runner, say).

use std::any::Any;

use async_trait::async_trait;

use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;

/// A tenant-wide scope that use cases serialise on, beyond the rows they lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lock {
    /// The stock ledger: sales, returns and received goods check what is on hand.
    Stock,
    /// Matching incoming records against stored ones (OMI `refId`, a web form's phone or
    /// e-mail) before inserting: two callers bringing the same one must not both insert.
    Dedup,
    /// A tenant's API clients, counted against their cap before one is added.
    Clients,
    /// A channel's provider credentials, claimed by one node to refresh them.
    Credentials,
}

impl Lock {
    /// A stable number per scope, for the store's lock key.
    pub fn code(self) -> i64 {
        match self {
            Lock::Stock => 1,
            Lock::Dedup => 2,
            Lock::Clients => 3,
            Lock::Credentials => 4,
        }
    }
}

/// A store's open write transaction, behind the domain's [`Work`].
#[async_trait]
pub trait Transaction: Send {
    /// Writes the unit of work's audit entries, then commits.
    async fn commit(self: Box<Self>, audit: Vec<crate::audit::Entry>) -> DomainResult<()>;
    /// Takes the tenant-wide lock until the transaction ends.
    async fn lock(&mut self, tenant: TenantId, lock: Lock) -> DomainResult<()>;
    /// For the store that opened it, to reach its own transaction type.
    fn as_any(&mut self) -> &mut dyn Any;
}

/// Active automations (their ids and flows) one trigger starts, as a unit of work read them.
pub(crate) type FlowsRead = std::sync::Arc<Vec<(i64, crate::automation::Flow)>>;

/// One use case's transaction.
pub struct Work {
    tx: Box<dyn Transaction>,
    after: Vec<Box<dyn FnOnce() + Send>>,
    /// The tenant's webhook endpoints, read once per unit of work however many records it
    /// writes (a batch of 1,000 creates fans out from one read).
    pub(crate) endpoints: Option<(
        crate::ids::TenantId,
        std::sync::Arc<Vec<crate::webhooks::Endpoint>>,
    )>,
    /// The active automations each trigger starts, read once per unit of work and tenant
    /// (a batch of 1,000 creates enrolls from one read).
    pub(crate) flows: std::collections::HashMap<(crate::ids::TenantId, String), FlowsRead>,
    /// Set while an automation step changes records: their events start no automation (so no
    /// automation feeds itself or another in a loop); webhooks are still sent.
    pub(crate) automating: bool,
    /// The audit entries of this unit of work, written with its commit.
    audit: Vec<crate::audit::Entry>,
    /// The fields each record's update changed (by record id), for its audit entry.
    changes: std::collections::HashMap<uuid::Uuid, serde_json::Value>,
    /// What a batch's records refer to, read for the whole batch before each is checked.
    pub(crate) known: Known,
}

/// The records a batch refers to, read in one query per kind before its records are checked
/// one by one (`Crm::create_many`), so that a batch of orders reads its customers and products
/// once, not once per order. A reference not found here is read as usual (and refused when it
/// does not exist).
#[derive(Default)]
pub(crate) struct Known {
    /// Display names of linked records, by kind and id.
    pub(crate) names: std::collections::HashMap<(crate::common::RecordKind, uuid::Uuid), String>,
    pub(crate) products: std::collections::HashMap<crate::ids::ProductId, crate::sales::Product>,
}

impl std::fmt::Debug for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Work").finish_non_exhaustive()
    }
}

impl Work {
    pub fn new(tx: impl Transaction + 'static) -> Self {
        Self {
            tx: Box::new(tx),
            after: Vec::new(),
            endpoints: None,
            flows: std::collections::HashMap::new(),
            automating: false,
            audit: Vec::new(),
            changes: std::collections::HashMap::new(),
            known: Known::default(),
        }
    }

    /// Makes every write durable, with the audit entries, then runs the `on_commit` hooks.
    pub async fn commit(self) -> DomainResult<()> {
        self.tx.commit(self.audit).await?;
        for hook in self.after {
            hook();
        }
        Ok(())
    }

    /// Serialises the rest of this unit of work with every other one that takes the same lock
    /// in the same tenant.
    pub async fn lock(&mut self, tenant: TenantId, lock: Lock) -> DomainResult<()> {
        self.tx.lock(tenant, lock).await
    }

    /// Runs `hook` after a successful commit (never when the work is dropped).
    pub fn on_commit(&mut self, hook: impl FnOnce() + Send + 'static) {
        self.after.push(Box::new(hook));
    }

    /// The store's transaction, when it is of type `T`.
    pub fn downcast<T: 'static>(&mut self) -> DomainResult<&mut T> {
        self.tx.as_any().downcast_mut::<T>().ok_or_else(|| {
            DomainError::Internal(anyhow::anyhow!(
                "a unit of work from another store was passed in"
            ))
        })
    }

    /// Appends an audit entry, written with the commit.
    pub fn audit(&mut self, entry: crate::audit::Entry) {
        self.audit.push(entry);
    }

    /// Notes the fields an update of `record` changed (the store's update knows them), for
    /// the entry that records the update.
    pub fn note_changes(&mut self, record: uuid::Uuid, changes: Option<serde_json::Value>) {
        match changes {
            Some(c) => {
                self.changes.insert(record, c);
            }
            None => {
                self.changes.remove(&record);
            }
        }
    }

    /// The changes noted for `record`, once.
    pub(crate) fn take_changes(&mut self, record: uuid::Uuid) -> Option<serde_json::Value> {
        self.changes.remove(&record)
    }

    /// Reads inside this unit of work.
    pub fn at(&mut self) -> At<'_> {
        At::Work(self)
    }
}

/// Where a read looks.
#[derive(Debug)]
pub enum At<'a> {
    /// What is committed (a pooled read connection): for answers, not for checks.
    Committed,
    /// Inside a unit of work: sees its own writes, serialised as the work is.
    Work(&'a mut Work),
}

/// Opens units of work.
#[async_trait]
pub trait Transactions: Send + Sync {
    async fn begin(&self) -> DomainResult<Work>;
    /// Lets the store catch up after many writes (PostgreSQL refreshes the planner's
    /// statistics of tables that changed much: a table grown from empty in one import is
    /// otherwise planned as if it were still tiny, scanned whole per lookup).
    async fn settle(&self) -> DomainResult<()> {
        Ok(())
    }
    /// Whether units of work run one at a time (SQLite's single writer): concurrent single
    /// creates are then written in groups (`Managed::GROUPED`), since they would queue anyway.
    /// Where they run side by side (PostgreSQL), each is written on its own.
    fn one_at_a_time(&self) -> bool {
        false
    }
}
