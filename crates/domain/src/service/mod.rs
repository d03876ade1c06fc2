//! The CRM service: validation, cross-record rules, then the repositories.
//!
//! Operations are generic over [`Managed`] record kinds so that every kind gets the same
//! create/update/get/delete/search behaviour, with per-kind hooks for its rules. Each area's
//! operations and its kinds' hooks live in a file of their own: `customers`, `sales`,
//! `engagement`, `lists`, `marketing`, `registry`, and `links` for naming linked records.

use std::sync::Arc;

use async_trait::async_trait;

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
    Entity, FileStore, LeadConverter, MemberStore, Registry, Repository, SalesStore, TicketStore,
};
use crate::sales::{Approval, Order, OrderData, OrderInput, Product, ProductData, ProductUnit};
use crate::search::{Field, Filter, Page, PageRequest};
use crate::template::{Template, TemplateData};
use crate::ticket::{Comment, Ticket, TicketData, TicketType, MAX_MESSAGE};
use crate::vocab::{Vocab, VocabData, VocabKind};

mod customers;
mod engagement;
mod links;
mod lists;
mod marketing;
mod registry;
mod sales;

/// The repositories the service works on.
#[derive(Clone)]
pub struct Crm {
    pub customers: Arc<dyn Repository<Customer>>,
    pub groups: Arc<dyn Repository<CustomerGroup>>,
    pub contacts: Arc<dyn Repository<Contact>>,
    pub leads: Arc<dyn Repository<Lead>>,
    pub activities: Arc<dyn Repository<Activity>>,
    pub opportunities: Arc<dyn Repository<Opportunity>>,
    pub templates: Arc<dyn Repository<Template>>,
    pub segments: Arc<dyn Repository<Segment>>,
    pub campaigns: Arc<dyn Repository<Campaign>>,
    pub members: Arc<dyn MemberStore>,
    pub products: Arc<dyn Repository<Product>>,
    pub orders: Arc<dyn Repository<Order>>,
    pub sales: Arc<dyn SalesStore>,
    pub tickets: Arc<dyn Repository<Ticket>>,
    pub ticket_store: Arc<dyn TicketStore>,
    pub files: Arc<dyn FileStore>,
    pub email_campaigns: Arc<dyn Repository<EmailCampaign>>,
    pub zalo_campaigns: Arc<dyn Repository<ZaloCampaign>>,
    pub vocab: Arc<dyn Repository<Vocab>>,
    pub registry: Arc<dyn Registry>,
    pub inventory: Arc<dyn crate::repo::InventoryStore>,
    pub converter: Arc<dyn LeadConverter>,
}

/// A record kind the service manages, with its input type and rules.
#[async_trait]
pub trait Managed: Entity {
    type Input: Send + 'static;
    fn validate(input: Self::Input) -> DomainResult<Self::Data>;
    fn repo(crm: &Crm) -> &dyn Repository<Self>;
    /// Checks that ids the record refers to exist in the caller's tenant, and fills in what
    /// follows from them (the display names of linked records).
    async fn check_refs(_crm: &Crm, _actor: &Actor, _data: &mut Self::Data) -> DomainResult<()> {
        Ok(())
    }
    /// Refuses a delete that would leave other records dangling.
    async fn check_delete(_crm: &Crm, _actor: &Actor, _id: Self::Id) -> DomainResult<()> {
        Ok(())
    }
    /// Cleans up after a delete (files kept outside the database).
    async fn after_delete(_crm: &Crm, _actor: &Actor, _id: Self::Id) -> DomainResult<()> {
        Ok(())
    }
}

impl Crm {
    pub async fn create<E: Managed>(&self, actor: &Actor, input: E::Input) -> DomainResult<E::Id> {
        let mut data = E::validate(input)?;
        E::check_refs(self, actor, &mut data).await?;
        E::repo(self).insert(actor, data).await
    }

    /// Validates an input and checks its references without storing it: the first half of
    /// a batch where each item stands or falls on its own.
    pub async fn prepare<E: Managed>(
        &self,
        actor: &Actor,
        input: E::Input,
    ) -> DomainResult<E::Data> {
        let mut data = E::validate(input)?;
        E::check_refs(self, actor, &mut data).await?;
        Ok(data)
    }

    /// Stores prepared records in one transaction (all or none); ids in input order.
    pub async fn insert_prepared<E: Managed>(
        &self,
        actor: &Actor,
        data: Vec<E::Data>,
    ) -> DomainResult<Vec<E::Id>> {
        if data.is_empty() {
            return Ok(Vec::new());
        }
        E::repo(self).insert_many(actor, data).await
    }

    /// The batch path: validates every input (an error names the item, `[3].phone`), checks
    /// references, then stores all in one transaction.
    pub async fn create_many<E: Managed>(
        &self,
        actor: &Actor,
        inputs: Vec<E::Input>,
    ) -> DomainResult<Vec<E::Id>> {
        let mut data = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let mut item = E::validate(input).map_err(|e| at_index(i, e))?;
            E::check_refs(self, actor, &mut item)
                .await
                .map_err(|e| at_index(i, e))?;
            data.push(item);
        }
        E::repo(self).insert_many(actor, data).await
    }

    pub async fn update<E: Managed>(
        &self,
        actor: &Actor,
        id: E::Id,
        input: E::Input,
    ) -> DomainResult<()> {
        let mut data = E::validate(input)?;
        E::check_refs(self, actor, &mut data).await?;
        E::repo(self).update(actor, id, data).await
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
        let record: E = self.get(actor, id).await?;
        let mut data = record.data().clone();
        f(&mut data)?;
        E::repo(self).update(actor, id, data).await
    }

    pub async fn get<E: Managed>(&self, actor: &Actor, id: E::Id) -> DomainResult<E> {
        E::repo(self)
            .get(actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found(E::NAME))
    }

    pub async fn delete<E: Managed>(&self, actor: &Actor, id: E::Id) -> DomainResult<()> {
        E::check_delete(self, actor, id).await?;
        if E::repo(self).delete(actor, id).await? {
            E::after_delete(self, actor, id).await
        } else {
            Err(DomainError::not_found(E::NAME))
        }
    }

    pub async fn search<E: Managed>(
        &self,
        actor: &Actor,
        filter: &Filter,
        page: PageRequest,
    ) -> DomainResult<Page<E>> {
        E::repo(self).search(actor.tenant_id, filter, page).await
    }

    /// Turns a lead into a customer (the company it names, else the person) with the person
    /// as primary contact, and marks the lead converted. Once only.
    pub async fn convert_lead(&self, actor: &Actor, id: LeadId) -> DomainResult<LeadConversion> {
        let lead: Lead = self.get(actor, id).await?;
        if lead.conversion.is_some() {
            return Err(DomainError::conflict(
                None,
                "lead has already been converted",
            ));
        }
        let customer_id = CustomerId::new();
        let contact = lead.data.to_contact(customer_id);
        self.converter
            .convert(actor, id, customer_id, lead.data.to_customer(), contact)
            .await
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
