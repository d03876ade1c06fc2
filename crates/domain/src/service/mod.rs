//! The CRM service: validation, cross-record rules, then the repositories.
//!
//! Operations are generic over [`Managed`] record kinds so that every kind gets the same
//! create/update/get/delete/search behaviour, with per-kind hooks for its rules. Each area's
//! operations and its kinds' hooks live in a file of their own: `customers`, `sales`,
//! `engagement`, `lists`, `marketing`, `registry`, and `links` for naming linked records.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::activity::{Activity, ActivityData};
use crate::common::{Actor, Link, RecordKind};
use crate::contact::{Contact, ContactInput};
use crate::customer::{Customer, CustomerGroup, CustomerGroupInput, CustomerInput};
use crate::error::{DomainError, DomainResult};
use crate::files::{FileOwner, StoredFile, Upload};
use crate::ids::{CustomerId, LeadId};
use crate::lead::{Lead, LeadConversion, LeadInput};
use crate::list::{
    Campaign, CampaignData, ListKind, Member, Segment, SegmentData, MAX_MEMBERS_PER_CALL,
};
use crate::marketing::{EmailCampaign, EmailCampaignInput, ZaloCampaign, ZaloCampaignData};
use crate::opportunity::{Opportunity, OpportunityData};
use crate::repo::{
    Entity, FileStore, LeadStore, MemberStore, Registry, Repository, SalesStore, Store, TicketStore,
};
use crate::sales::{Approval, Order, OrderData, OrderInput, Product, ProductData, ProductUnit};
use crate::search::{Field, Filter, Page, PageRequest};
use crate::template::{Template, TemplateData};
use crate::ticket::{Comment, Ticket, TicketData, TicketType, MAX_MESSAGE};
use crate::vocab::{Vocab, VocabData, VocabKind};
use crate::work::{At, Transactions, Work};

mod customers;
mod directory;
mod engagement;
mod events;
mod grouped;
mod links;
pub use links::References;
mod lists;
mod marketing;
mod messaging;
mod printouts;
pub use messaging::{
    EmailRequest, SmsRequest, TokenTurn, ZnsRequest, MAX_EMAIL_BODY, MAX_SMS, MAX_SUBJECT,
    MAX_TEMPLATE_KEYS, REFRESH_CLAIM_TTL,
};
mod automation_actions;
mod automation_dates;
mod automations;
pub use automations::AUTOMATION_KIND;
mod campaigns;
pub use campaigns::BlastView;
pub use marketing::{email_campaign_key, param_map, zalo_campaign_key};
mod exports;
mod import_kinds;
mod imports;
mod transfers;
pub use transfers::TransferJob;
mod registry;
mod sales;

/// The CRM service. Its repositories are private: every read and write goes through a use case
/// here, which checks and writes inside one unit of work ([`crate::work`]).
#[derive(Clone)]
pub struct Crm {
    pub(crate) work: Arc<dyn Transactions>,
    pub(crate) customers: Arc<dyn Repository<Customer>>,
    pub(crate) groups: Arc<dyn Repository<CustomerGroup>>,
    pub(crate) contacts: Arc<dyn Repository<Contact>>,
    pub(crate) leads: Arc<dyn Repository<Lead>>,
    pub(crate) lead_store: Arc<dyn LeadStore>,
    pub(crate) activities: Arc<dyn Repository<Activity>>,
    pub(crate) opportunities: Arc<dyn Repository<Opportunity>>,
    pub(crate) templates: Arc<dyn Repository<Template>>,
    pub(crate) segments: Arc<dyn Repository<Segment>>,
    pub(crate) campaigns: Arc<dyn Repository<Campaign>>,
    pub(crate) members: Arc<dyn MemberStore>,
    pub(crate) products: Arc<dyn Repository<Product>>,
    pub(crate) orders: Arc<dyn Repository<Order>>,
    pub(crate) sales: Arc<dyn SalesStore>,
    pub(crate) tickets: Arc<dyn Repository<Ticket>>,
    pub(crate) ticket_store: Arc<dyn TicketStore>,
    pub(crate) files: Arc<dyn FileStore>,
    pub(crate) email_campaigns: Arc<dyn Repository<EmailCampaign>>,
    pub(crate) zalo_campaigns: Arc<dyn Repository<ZaloCampaign>>,
    pub(crate) vocab: Arc<dyn Repository<Vocab>>,
    pub(crate) registry: Arc<dyn Registry>,
    pub(crate) inventory: Arc<dyn crate::repo::InventoryStore>,
    pub(crate) jobs: Arc<dyn crate::jobs::JobStore>,
    pub(crate) webhooks: Arc<dyn crate::webhooks::WebhookStore>,
    pub(crate) messages: Arc<dyn crate::messaging::MessageStore>,
    pub(crate) blasts: Arc<dyn crate::campaign::BlastStore>,
    pub(crate) automations: Arc<dyn crate::automation::AutomationStore>,
    pub(crate) transfers: Arc<dyn crate::transfer::TransferStore>,
    pub(crate) idempotency: Arc<dyn crate::idempotency::IdempotencyStore>,
    pub(crate) audit: Arc<dyn crate::audit::AuditStore>,
    /// Ids of messages whose send came to an end on this node (for answers that wait).
    pub(crate) message_done: tokio::sync::broadcast::Sender<Uuid>,
    /// Woken after a commit that enqueued jobs, so that a runner claims them at once.
    pub(crate) job_signal: Arc<tokio::sync::Notify>,
    /// The recipient lists read last by campaign fan-outs, so that a list is read once per
    /// campaign rather than once per page.
    pub(crate) sheets: campaigns::SheetCache,
    /// Single creates waiting to be written in a group (`grouped`).
    pub(crate) queued: grouped::Groups,
}

impl Crm {
    /// The service over one store that implements every repository.
    pub fn new<S: Store + 'static>(store: Arc<S>) -> Self {
        Self {
            work: store.clone(),
            customers: store.clone(),
            groups: store.clone(),
            contacts: store.clone(),
            leads: store.clone(),
            lead_store: store.clone(),
            activities: store.clone(),
            opportunities: store.clone(),
            templates: store.clone(),
            segments: store.clone(),
            campaigns: store.clone(),
            members: store.clone(),
            products: store.clone(),
            orders: store.clone(),
            sales: store.clone(),
            tickets: store.clone(),
            ticket_store: store.clone(),
            files: store.clone(),
            email_campaigns: store.clone(),
            zalo_campaigns: store.clone(),
            vocab: store.clone(),
            registry: store.clone(),
            inventory: store.clone(),
            jobs: store.clone(),
            webhooks: store.clone(),
            messages: store.clone(),
            blasts: store.clone(),
            transfers: store.clone(),
            idempotency: store.clone(),
            audit: store.clone(),
            automations: store,
            message_done: tokio::sync::broadcast::channel(1024).0,
            job_signal: Arc::new(tokio::sync::Notify::new()),
            sheets: campaigns::SheetCache::default(),
            queued: grouped::Groups::default(),
        }
    }

    /// Opens a unit of work: the caller checks and writes through it, then commits.
    pub async fn begin(&self) -> DomainResult<Work> {
        self.work.begin().await
    }
}

/// A record kind the service manages, with its input type and rules.
#[async_trait]
pub trait Managed: Entity {
    type Input: Send + 'static;
    fn validate(input: Self::Input) -> DomainResult<Self::Data>;
    fn repo(crm: &Crm) -> &dyn Repository<Self>;
    /// Checks that ids the record refers to exist in the caller's tenant, and fills in what
    /// follows from them (the display names of linked records). Reads inside the work.
    async fn check_refs(
        _crm: &Crm,
        _w: &mut Work,
        _actor: &Actor,
        _data: &mut Self::Data,
    ) -> DomainResult<()> {
        Ok(())
    }
    /// The records `data` refers to, read for a whole batch at once before
    /// [`Managed::check_refs`] checks each record (which still refuses a missing one).
    fn references(_data: &Self::Data, _refs: &mut References) {}
    /// Refuses a delete that would leave other records dangling; runs after the record is
    /// locked, inside the work.
    async fn check_delete(
        _crm: &Crm,
        _w: &mut Work,
        _actor: &Actor,
        _id: Self::Id,
    ) -> DomainResult<()> {
        Ok(())
    }
    /// Runs after the record is stored (created or updated), inside the same work: what
    /// follows from its new state (a campaign's send). It reads the record if it needs it.
    async fn after_save(
        _crm: &Crm,
        _w: &mut Work,
        _actor: &Actor,
        _id: Self::Id,
    ) -> DomainResult<()> {
        Ok(())
    }
    /// The owner kind of the files a record of this kind may carry; they go with it.
    const FILES: Option<FileOwner> = None;
    /// The name its webhook events carry (`customer` → `customer.created`); `None` for kinds
    /// that send none.
    const EVENT: Option<&'static str> = None;
    /// Whether concurrent single creates of this kind are written in groups (`grouped`), where
    /// the store runs units of work one at a time: for kinds created often, one at a time, by
    /// integrations.
    const GROUPED: bool = false;
}

/// Generic record operations: each public one is one unit of work; the `_in` forms are its
/// steps, for use cases that write more than one record.
impl Crm {
    pub async fn create<E: Managed>(&self, actor: &Actor, input: E::Input) -> DomainResult<E::Id> {
        // Validation needs no transaction: a bad input never waits for the writer.
        let data = E::validate(input)?;
        if E::GROUPED && self.work.one_at_a_time() {
            return self.create_grouped::<E>(actor, data).await;
        }
        self.create_alone::<E>(actor, data).await
    }

    /// One validated record in a unit of work of its own.
    async fn create_alone<E: Managed>(&self, actor: &Actor, data: E::Data) -> DomainResult<E::Id> {
        let mut w = self.begin().await?;
        let id = self.insert_checked::<E>(&mut w, actor, data).await?;
        w.commit().await?;
        Ok(id)
    }

    /// Validates, checks references and stores one record inside a unit of work.
    pub async fn create_in<E: Managed>(
        &self,
        w: &mut Work,
        actor: &Actor,
        input: E::Input,
    ) -> DomainResult<E::Id> {
        let data = E::validate(input)?;
        self.insert_checked::<E>(w, actor, data).await
    }

    async fn insert_checked<E: Managed>(
        &self,
        w: &mut Work,
        actor: &Actor,
        mut data: E::Data,
    ) -> DomainResult<E::Id> {
        E::check_refs(self, w, actor, &mut data).await?;
        let id = E::repo(self).insert(w, actor, data).await?;
        E::after_save(self, w, actor, id).await?;
        self.emit_kind::<E>(w, actor, "created", id.into()).await?;
        Ok(id)
    }

    /// The batch path: validates every input (an error names the item, `[3].phone`), checks
    /// references, then stores all in one unit of work (all or none).
    pub async fn create_many<E: Managed>(
        &self,
        actor: &Actor,
        inputs: Vec<E::Input>,
    ) -> DomainResult<Vec<E::Id>> {
        let mut data = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            data.push(E::validate(input).map_err(|e| at_index(i, e))?);
        }
        let mut w = self.begin().await?;
        let ids = self
            .insert_batch::<E>(&mut w, actor, data, Vec::new())
            .await?;
        w.commit().await?;
        Ok(ids)
    }

    /// The batch path's steps inside a unit of work: what the records refer to read once,
    /// each record checked (an error names its index, `[3].customer_id`), all stored in
    /// multi-row statements, then each one's `after_save` and event. `origins`, when given,
    /// are the requests the records came from (a group of single creates), one per record, for
    /// their audit entries; otherwise the running request's.
    pub(super) async fn insert_batch<E: Managed>(
        &self,
        w: &mut Work,
        actor: &Actor,
        mut data: Vec<E::Data>,
        origins: Vec<Option<crate::audit::Origin>>,
    ) -> DomainResult<Vec<E::Id>> {
        if data.is_empty() {
            return Ok(Vec::new());
        }
        if data.len() > 1 {
            let mut refs = References::default();
            for item in &data {
                E::references(item, &mut refs);
            }
            self.read_references(w, actor, refs).await?;
        }
        for (i, item) in data.iter_mut().enumerate() {
            E::check_refs(self, w, actor, item)
                .await
                .map_err(|e| at_index(i, e))?;
        }
        let ids = E::repo(self).insert_many(w, actor, data).await?;
        let mut origins = origins.into_iter();
        for id in &ids {
            let created = async {
                E::after_save(self, w, actor, *id).await?;
                self.emit_kind::<E>(w, actor, "created", (*id).into()).await
            };
            crate::audit::within_if(origins.next().flatten(), created).await?;
        }
        Ok(ids)
    }

    pub async fn update<E: Managed>(
        &self,
        actor: &Actor,
        id: E::Id,
        input: E::Input,
    ) -> DomainResult<()> {
        let data = E::validate(input)?;
        let mut w = self.begin().await?;
        self.update_checked::<E>(&mut w, actor, id, data).await?;
        w.commit().await
    }

    pub async fn update_in<E: Managed>(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: E::Id,
        input: E::Input,
    ) -> DomainResult<()> {
        let data = E::validate(input)?;
        self.update_checked::<E>(w, actor, id, data).await
    }

    async fn update_checked<E: Managed>(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: E::Id,
        mut data: E::Data,
    ) -> DomainResult<()> {
        E::check_refs(self, w, actor, &mut data).await?;
        E::repo(self).update(w, actor, id, data).await?;
        E::after_save(self, w, actor, id).await?;
        self.emit_kind::<E>(w, actor, "updated", id.into()).await
    }

    /// Read-modify-write: locks the record, turns it into a new input (`f` sees the stored
    /// record; its error type is the caller's), then validates, checks and stores it, in one
    /// unit of work. Concurrent edits of one record take turns, so none is lost.
    pub async fn modify<E: Managed, X: From<DomainError> + Send>(
        &self,
        actor: &Actor,
        id: E::Id,
        f: impl FnOnce(&E) -> Result<E::Input, X> + Send,
    ) -> Result<(), X> {
        let mut w = self.begin().await?;
        let record = self.lock_in::<E>(&mut w, actor, id).await?;
        let input = f(&record)?;
        self.update_in::<E>(&mut w, actor, id, input).await?;
        w.commit().await?;
        Ok(())
    }

    /// Changes part of a stored record (a status, a flag) without re-checking its links.
    pub async fn change<E: Managed>(
        &self,
        actor: &Actor,
        id: E::Id,
        f: impl FnOnce(&mut E::Data) -> DomainResult<()> + Send,
    ) -> DomainResult<()>
    where
        E::Data: Clone,
    {
        let mut w = self.begin().await?;
        self.change_in::<E>(&mut w, actor, id, f).await?;
        w.commit().await
    }

    /// [`Crm::change`] inside a unit of work.
    pub(crate) async fn change_in<E: Managed>(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: E::Id,
        f: impl FnOnce(&mut E::Data) -> DomainResult<()> + Send,
    ) -> DomainResult<()>
    where
        E::Data: Clone,
    {
        let record = self.lock_in::<E>(w, actor, id).await?;
        let mut data = record.data().clone();
        f(&mut data)?;
        E::repo(self).update(w, actor, id, data).await?;
        self.emit_kind::<E>(w, actor, "updated", id.into()).await
    }

    /// The record as committed.
    pub async fn get<E: Managed>(&self, actor: &Actor, id: E::Id) -> DomainResult<E> {
        self.get_at(At::Committed, actor, id).await
    }

    pub(crate) async fn get_at<E: Managed>(
        &self,
        at: At<'_>,
        actor: &Actor,
        id: E::Id,
    ) -> DomainResult<E> {
        E::repo(self)
            .get(at, actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found(E::NAME))
    }

    /// The record, held by this unit of work until it ends.
    pub async fn lock_in<E: Managed>(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: E::Id,
    ) -> DomainResult<E> {
        E::repo(self)
            .lock(w, actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found(E::NAME))
    }

    pub async fn delete<E: Managed>(&self, actor: &Actor, id: E::Id) -> DomainResult<()> {
        let mut w = self.begin().await?;
        self.lock_in::<E>(&mut w, actor, id).await?;
        E::check_delete(self, &mut w, actor, id).await?;
        if !E::repo(self).delete(&mut w, actor, id).await? {
            return Err(DomainError::not_found(E::NAME));
        }
        if let Some(owner) = E::FILES {
            self.files
                .remove_owned(&mut w, actor, owner, id.into())
                .await?;
        }
        self.emit_kind::<E>(&mut w, actor, "deleted", id.into())
            .await?;
        w.commit().await
    }

    pub async fn search<E: Managed>(
        &self,
        actor: &Actor,
        filter: &Filter,
        page: PageRequest,
    ) -> DomainResult<Page<E>> {
        E::repo(self)
            .search(At::Committed, actor.tenant_id, filter, page)
            .await
    }

    /// How many records match, read where `at` says.
    pub(crate) async fn count_at<E: Managed>(
        &self,
        at: At<'_>,
        actor: &Actor,
        filter: &Filter,
    ) -> DomainResult<u64> {
        Ok(E::repo(self)
            .search(at, actor.tenant_id, filter, PageRequest::of(1, 1))
            .await?
            .total)
    }

    /// Turns a lead into a customer (the company it names, else the person) with the person
    /// as primary contact, and marks the lead converted. Once only: the lead is locked first,
    /// so of concurrent conversions one creates the records and the others see it converted.
    pub async fn convert_lead(&self, actor: &Actor, id: LeadId) -> DomainResult<LeadConversion> {
        let mut w = self.begin().await?;
        let lead: Lead = self.lock_in(&mut w, actor, id).await?;
        if lead.conversion.is_some() {
            return Err(DomainError::conflict(
                None,
                "lead has already been converted",
            ));
        }
        let customer_id = self
            .customers
            .insert(&mut w, actor, lead.data.to_customer())
            .await?;
        let contact_id = self
            .contacts
            .insert(&mut w, actor, lead.data.to_contact(customer_id))
            .await?;
        let conversion = LeadConversion {
            customer_id,
            contact_id,
            converted_at: crate::auth::now(),
        };
        self.lead_store
            .mark_converted(&mut w, actor, id, &conversion)
            .await?;
        self.emit(&mut w, actor, "customer", "created", customer_id.0)
            .await?;
        self.emit(&mut w, actor, "contact", "created", contact_id.0)
            .await?;
        self.emit(&mut w, actor, "lead", "converted", id.0).await?;
        w.commit().await?;
        Ok(conversion)
    }
}

fn at_index(i: usize, e: DomainError) -> DomainError {
    match e {
        DomainError::Validation { field, message } => DomainError::Validation {
            field: format!("[{i}].{field}"),
            message,
        },
        other => other,
    }
}
