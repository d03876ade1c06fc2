//! Repository traits the store implements; the domain and the dialects see only these.

use async_trait::async_trait;
use uuid::Uuid;

use crate::activity::{Activity, ActivityData};
use crate::common::Actor;
use crate::contact::{Contact, ContactData};
use crate::customer::{Customer, CustomerData, CustomerGroup, CustomerGroupData};
use crate::error::DomainResult;
use crate::ids::{
    ActivityId, ContactId, CustomerGroupId, CustomerId, LeadId, OpportunityId, TemplateId, TenantId,
};
use crate::lead::{Lead, LeadConversion, LeadData};
use crate::opportunity::{Opportunity, OpportunityData};
use crate::search::{Filter, Page, PageRequest};
use crate::template::{Template, TemplateData};

/// A kind of stored record.
pub trait Entity: Sized + Send + Sync + 'static {
    type Id: Copy + Send + Sync + Into<Uuid> + From<Uuid> + 'static;
    type Data: Send + Sync + 'static;
    /// Singular name used in messages ("customer not found").
    const NAME: &'static str;
    /// The record's attributes.
    fn data(&self) -> &Self::Data;
}

macro_rules! entity {
    ($entity:ty, $id:ty, $data:ty, $name:literal) => {
        impl Entity for $entity {
            type Id = $id;
            type Data = $data;
            const NAME: &'static str = $name;
            fn data(&self) -> &$data {
                &self.data
            }
        }
        impl From<$id> for Uuid {
            fn from(id: $id) -> Uuid {
                id.0
            }
        }
    };
}

entity!(Customer, CustomerId, CustomerData, "customer");
entity!(
    CustomerGroup,
    CustomerGroupId,
    CustomerGroupData,
    "customer group"
);
entity!(Contact, ContactId, ContactData, "contact");
entity!(Lead, LeadId, LeadData, "lead");
entity!(Activity, ActivityId, ActivityData, "activity");
entity!(Opportunity, OpportunityId, OpportunityData, "opportunity");
entity!(Template, TemplateId, TemplateData, "template");

/// Storage of one kind of record, always scoped to one tenant; deleted records are invisible.
#[async_trait]
pub trait Repository<E: Entity>: Send + Sync {
    /// Stores a new record and returns its id.
    async fn insert(&self, actor: &Actor, data: E::Data) -> DomainResult<E::Id>;
    /// Stores many new records in one transaction (all or none); ids in input order.
    async fn insert_many(&self, actor: &Actor, data: Vec<E::Data>) -> DomainResult<Vec<E::Id>>;
    /// Replaces the attributes; `NotFound` when the record is missing or deleted.
    async fn update(&self, actor: &Actor, id: E::Id, data: E::Data) -> DomainResult<()>;
    async fn get(&self, tenant: TenantId, id: E::Id) -> DomainResult<Option<E>>;
    /// Soft delete; `false` when there was nothing to delete.
    async fn delete(&self, actor: &Actor, id: E::Id) -> DomainResult<bool>;
    /// Newest first.
    async fn search(
        &self,
        tenant: TenantId,
        filter: &Filter,
        page: PageRequest,
    ) -> DomainResult<Page<E>>;
}

/// The atomic part of converting a lead: create both records and mark the lead, or nothing.
#[async_trait]
pub trait LeadConverter: Send + Sync {
    /// `Conflict` when the lead was converted already, `NotFound` when it does not exist.
    /// `customer_id` is the id the new customer gets; `contact` already points at it.
    async fn convert(
        &self,
        actor: &Actor,
        lead: LeadId,
        customer_id: CustomerId,
        customer: CustomerData,
        contact: ContactData,
    ) -> DomainResult<LeadConversion>;
}
