//! Repository traits the store implements; the domain and the dialects see only these.

use async_trait::async_trait;
use uuid::Uuid;

use crate::activity::{Activity, ActivityData};
use crate::common::{Actor, RecordKind};
use crate::contact::{Contact, ContactData};
use crate::customer::{Customer, CustomerData, CustomerGroup, CustomerGroupData};
use crate::error::DomainResult;
use crate::files::{FileOwner, StoredFile, Upload};
use crate::ids::{
    ActivityId, CampaignId, CategoryId, ContactId, CustomerGroupId, CustomerId, DefinitionId,
    DocId, DocLineId, EmailCampaignId, FileId, LeadId, MemberId, OpportunityId, OrderId, PlaceId,
    ProductId, SegmentId, StaffId, TemplateId, TenantId, TicketId, TicketTypeId, UnitId, VocabId,
    ZaloCampaignId,
};
use crate::lead::{Lead, LeadConversion, LeadData};
use crate::list::{Campaign, CampaignData, ListKind, Member, Segment, SegmentData};
use crate::marketing::{EmailCampaign, EmailCampaignData, ZaloCampaign, ZaloCampaignData};
use crate::opportunity::{Opportunity, OpportunityData};
use crate::sales::{Approval, Order, OrderData, Product, ProductData, ProductUnit, Unit};
use crate::search::{Filter, Page, PageRequest};
use crate::template::{Template, TemplateData};
use crate::ticket::{Comment, Ticket, TicketData, TicketType};
use crate::vocab::{Funnel, Stage, Vocab, VocabData};
use crate::work::{At, Work};

/// A kind of stored record.
pub trait Entity: Sized + Send + Sync + 'static {
    type Id: Copy + Send + Sync + Into<Uuid> + From<Uuid> + 'static;
    type Data: Clone + Send + Sync + 'static;
    /// Singular name used in messages ("customer not found").
    const NAME: &'static str;
    /// The record's attributes.
    fn data(&self) -> &Self::Data;
    /// The record's id.
    fn record_id(&self) -> Self::Id;
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
            fn record_id(&self) -> $id {
                self.id
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
entity!(Segment, SegmentId, SegmentData, "segment");
entity!(Campaign, CampaignId, CampaignData, "campaign");
entity!(Product, ProductId, ProductData, "product");
entity!(Order, OrderId, OrderData, "order");
entity!(Ticket, TicketId, TicketData, "ticket");
entity!(Vocab, VocabId, VocabData, "vocabulary entry");
entity!(
    EmailCampaign,
    EmailCampaignId,
    EmailCampaignData,
    "email marketing campaign"
);
entity!(
    ZaloCampaign,
    ZaloCampaignId,
    ZaloCampaignData,
    "zalo marketing campaign"
);

/// Storage of one kind of record, always scoped to one tenant; deleted records are invisible.
#[async_trait]
pub trait Repository<E: Entity>: Send + Sync {
    /// Stores a new record and returns its id.
    async fn insert(&self, w: &mut Work, actor: &Actor, data: E::Data) -> DomainResult<E::Id>;
    /// Stores many new records; ids in input order.
    async fn insert_many(
        &self,
        w: &mut Work,
        actor: &Actor,
        data: Vec<E::Data>,
    ) -> DomainResult<Vec<E::Id>>;
    /// Replaces the attributes; `NotFound` when the record is missing or deleted.
    async fn update(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: E::Id,
        data: E::Data,
    ) -> DomainResult<()>;
    async fn get(&self, at: At<'_>, tenant: TenantId, id: E::Id) -> DomainResult<Option<E>>;
    /// Reads the record and holds it until the work ends: concurrent units of work that lock
    /// it take turns (`FOR UPDATE` on PostgreSQL; SQLite's writer is single already).
    async fn lock(&self, w: &mut Work, tenant: TenantId, id: E::Id) -> DomainResult<Option<E>>;
    /// Soft delete; `false` when there was nothing to delete.
    async fn delete(&self, w: &mut Work, actor: &Actor, id: E::Id) -> DomainResult<bool>;
    /// Undoes a soft delete (the record is found and its search terms written again);
    /// `false` when no deleted record has that id.
    async fn restore(&self, w: &mut Work, actor: &Actor, id: E::Id) -> DomainResult<bool>;
    /// Removes the record for good, deleted or not, with its search terms; `false` when there
    /// is none. `InUse` when other records still point at it.
    async fn erase(&self, w: &mut Work, actor: &Actor, id: E::Id) -> DomainResult<bool>;
    /// Newest first.
    async fn search(
        &self,
        at: At<'_>,
        tenant: TenantId,
        filter: &Filter,
        page: PageRequest,
    ) -> DomainResult<Page<E>>;
    /// The records that have any of `terms` (whole index terms: phone keys, e-mail keys, whole
    /// codes) in `field`: index lookups only, whatever the planner knows of the tables.
    async fn with_terms(
        &self,
        at: At<'_>,
        tenant: TenantId,
        field: crate::search::TextField,
        terms: &[String],
    ) -> DomainResult<Vec<E>>;
    /// The first `size` records the filter finds, newest first, without counting every match:
    /// one page of a walk (with `Filter::SeqBelow`), whose cost does not grow with its depth.
    async fn scan(
        &self,
        at: At<'_>,
        tenant: TenantId,
        filter: &Filter,
        size: u32,
    ) -> DomainResult<Vec<E>>;
}

/// A lead's conversion mark.
#[async_trait]
pub trait LeadStore: Send + Sync {
    /// Records the conversion on the lead (the caller holds the lead's lock).
    async fn mark_converted(
        &self,
        w: &mut Work,
        actor: &Actor,
        lead: LeadId,
        conversion: &LeadConversion,
    ) -> DomainResult<()>;
}

/// Declares [`Store`] as every listed repository trait together, with its blanket impl: the
/// list is written once.
macro_rules! store {
    ($($bound:path),+ $(,)?) => {
        /// Every repository, over one database: what [`crate::service::Crm::new`] is built from.
        pub trait Store: $($bound +)+ {}
        impl<T: $($bound +)+> Store for T {}
    };
}

store!(
    crate::work::Transactions,
    crate::automation::AutomationStore,
    Repository<Customer>,
    Repository<CustomerGroup>,
    Repository<Contact>,
    Repository<Lead>,
    Repository<Activity>,
    Repository<Opportunity>,
    Repository<Template>,
    Repository<Segment>,
    Repository<Campaign>,
    Repository<Product>,
    Repository<Order>,
    Repository<Ticket>,
    Repository<EmailCampaign>,
    Repository<ZaloCampaign>,
    Repository<Vocab>,
    LeadStore,
    MemberStore,
    SalesStore,
    TicketStore,
    FileStore,
    Registry,
    InventoryStore,
    crate::jobs::JobStore,
    crate::webhooks::WebhookStore,
    crate::messaging::MessageStore,
    crate::campaign::BlastStore,
    crate::transfer::TransferStore,
    crate::idempotency::IdempotencyStore,
    crate::audit::AuditStore,
);

/// Membership rows of segments and campaigns.
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// The ids among `ids` that are live records of `kind` in the tenant.
    async fn existing(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: RecordKind,
        ids: &[Uuid],
    ) -> DomainResult<Vec<Uuid>>;
    /// Adds records to a list; those already in it are skipped. Returns how many were added.
    async fn add_members(
        &self,
        w: &mut Work,
        actor: &Actor,
        list: ListKind,
        list_id: Uuid,
        kind: RecordKind,
        ids: &[Uuid],
    ) -> DomainResult<u64>;
    /// Removes member rows by id, all or none: `false` (nothing removed) when one of them is
    /// not a row of this kind of list (of `list_id`, when given) in the tenant.
    async fn remove_members(
        &self,
        w: &mut Work,
        actor: &Actor,
        list: ListKind,
        list_id: Option<Uuid>,
        ids: &[MemberId],
    ) -> DomainResult<bool>;
    /// Newest first; `text` matches the member's name, phone or e-mail.
    async fn search_members(
        &self,
        tenant: TenantId,
        list: ListKind,
        list_id: Uuid,
        kind: Option<RecordKind>,
        text: Option<&Filter>,
        page: PageRequest,
    ) -> DomainResult<Page<Member>>;
}

/// Units of measure, products' extra units, and order decisions.
#[async_trait]
pub trait SalesStore: Send + Sync {
    /// Creates a unit (`id` `None`) or renames one; `NotFound` when `id` is not the tenant's.
    async fn save_unit(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: Option<UnitId>,
        name: String,
        note: Option<String>,
    ) -> DomainResult<UnitId>;
    /// The tenant's unit with this name (case-insensitive), if any.
    async fn unit_named(
        &self,
        at: At<'_>,
        tenant: TenantId,
        name: &str,
    ) -> DomainResult<Option<Unit>>;
    /// The tenant's units among `ids`.
    async fn units(&self, at: At<'_>, tenant: TenantId, ids: &[UnitId]) -> DomainResult<Vec<Unit>>;
    /// The extra units of the given products, in the order they were saved.
    async fn product_units(
        &self,
        at: At<'_>,
        tenant: TenantId,
        products: &[ProductId],
    ) -> DomainResult<Vec<ProductUnit>>;
    /// Makes `units` the product's complete set of extra units.
    async fn replace_product_units(
        &self,
        w: &mut Work,
        actor: &Actor,
        product: ProductId,
        units: &[ProductUnit],
    ) -> DomainResult<()>;
    /// How many live orders, rejected ones aside, were placed in `[from, to)`, and their total.
    async fn order_totals(
        &self,
        at: At<'_>,
        tenant: TenantId,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<(u64, crate::money::Money)>;
    /// Records the decision on an order unless one was recorded already (`false` then).
    async fn decide_order(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: OrderId,
        approval: &Approval,
    ) -> DomainResult<bool>;
}

/// Ticket types and ticket comments.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Creates a type (`id` `None`) or renames one; `NotFound` when `id` is not the tenant's.
    async fn save_type(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: Option<TicketTypeId>,
        name: String,
        note: Option<String>,
    ) -> DomainResult<TicketTypeId>;
    async fn get_type(
        &self,
        at: At<'_>,
        tenant: TenantId,
        id: TicketTypeId,
    ) -> DomainResult<Option<TicketType>>;
    /// `text` is folded and matched anywhere in the name.
    async fn search_types(
        &self,
        tenant: TenantId,
        text: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<TicketType>>;
    async fn delete_type(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: TicketTypeId,
    ) -> DomainResult<bool>;
    async fn add_comment(&self, w: &mut Work, actor: &Actor, comment: &Comment)
        -> DomainResult<()>;
    /// Oldest first; `text` is folded and matched anywhere in the message.
    async fn search_comments(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        text: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<Comment>>;
}

/// Uploaded files: bytes kept by the server, described in the database.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Largest file accepted, in bytes.
    fn max_bytes(&self) -> usize;
    async fn save(
        &self,
        w: &mut Work,
        actor: &Actor,
        owner: FileOwner,
        owner_id: Uuid,
        upload: Upload,
    ) -> DomainResult<StoredFile>;
    /// The files of the given owners, oldest first.
    async fn list(
        &self,
        tenant: TenantId,
        owner: FileOwner,
        owner_ids: &[Uuid],
    ) -> DomainResult<Vec<StoredFile>>;
    async fn read(
        &self,
        tenant: TenantId,
        id: FileId,
    ) -> DomainResult<Option<(StoredFile, Vec<u8>)>>;
    /// Removes an owner's files, rows and bytes.
    async fn remove_owned(
        &self,
        w: &mut Work,
        actor: &Actor,
        owner: FileOwner,
        owner_id: Uuid,
    ) -> DomainResult<()>;
}

/// VBot projects and OMI funnels.
#[async_trait]
pub trait Registry: Send + Sync {
    /// The id of the tenant's project with this code, created on first use.
    async fn project(&self, w: &mut Work, actor: &Actor, code: &str) -> DomainResult<Uuid>;
    async fn create_funnel(
        &self,
        w: &mut Work,
        actor: &Actor,
        name: String,
        stages: Vec<Stage>,
    ) -> DomainResult<Uuid>;
    /// Oldest first.
    async fn funnels(&self, tenant: TenantId) -> DomainResult<Vec<Funnel>>;
    /// Stores a web form with a fresh key.
    async fn create_webform(
        &self,
        w: &mut Work,
        actor: &Actor,
        name: String,
        fields: Vec<String>,
    ) -> DomainResult<crate::vocab::Webform>;
    /// Creates (`id` `None`) or replaces a stored definition; `NotFound` for an unknown id.
    async fn save_definition(
        &self,
        w: &mut Work,
        actor: &Actor,
        kind: &str,
        id: Option<DefinitionId>,
        name: String,
        body: String,
    ) -> DomainResult<DefinitionId>;
    /// Newest first; `search` is folded and matched anywhere in the name.
    async fn definitions(
        &self,
        tenant: TenantId,
        kind: &str,
        search: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Vec<crate::vocab::Definition>>;
    async fn definition(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: &str,
        id: DefinitionId,
    ) -> DomainResult<Option<crate::vocab::Definition>>;
    /// The web form with this key, in any tenant.
    async fn webform(&self, key: &str) -> DomainResult<Option<crate::vocab::Webform>>;
}

/// Branches, stores, categories, documents, the stock ledger and staff: one store of three
/// parts, implemented together for any type that implements them all.
pub trait InventoryStore: PlaceStore + DocStore + StaffStore {}

impl<T: PlaceStore + DocStore + StaffStore> InventoryStore for T {}

/// Branches, stores and product categories.
#[async_trait]
pub trait PlaceStore: Send + Sync {
    /// Creates a branch (`store` false) or a store; returns its id.
    async fn create_place(
        &self,
        w: &mut Work,
        actor: &Actor,
        store: bool,
        place: crate::inventory::Place,
    ) -> DomainResult<PlaceId>;
    /// Branches, or stores (of one branch when given), oldest first.
    async fn places(
        &self,
        at: At<'_>,
        tenant: TenantId,
        store: bool,
        branch: Option<PlaceId>,
    ) -> DomainResult<Vec<crate::inventory::Place>>;
    /// Creates (`id` 0) or replaces a category; `NotFound` for an unknown id.
    async fn save_category(
        &self,
        w: &mut Work,
        actor: &Actor,
        category: crate::inventory::Category,
    ) -> DomainResult<CategoryId>;
    async fn categories(
        &self,
        at: At<'_>,
        tenant: TenantId,
    ) -> DomainResult<Vec<crate::inventory::Category>>;
}

/// Purchase, sale and return documents, and the stock ledger they move.
#[async_trait]
pub trait DocStore: Send + Sync {
    /// Base units on hand per product, in a branch (and store when given).
    async fn stock(
        &self,
        at: At<'_>,
        tenant: TenantId,
        products: &[ProductId],
        branch: Option<PlaceId>,
        store: Option<PlaceId>,
    ) -> DomainResult<Vec<(ProductId, f64)>>;
    /// Appends stock moves (opening stock, goods received).
    async fn add_moves(
        &self,
        w: &mut Work,
        actor: &Actor,
        moves: Vec<crate::inventory::Move>,
    ) -> DomainResult<()>;
    /// Stores a document (a new one when `doc.id` is 0, else replacing it with its lines,
    /// payments and moves) and its moves.
    async fn save_doc(
        &self,
        w: &mut Work,
        actor: &Actor,
        doc: crate::inventory::Doc,
        moves: Vec<crate::inventory::Move>,
    ) -> DomainResult<crate::inventory::Doc>;
    /// One document of kind `kind`, found by `key`.
    async fn doc_by(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: crate::inventory::DocKind,
        key: crate::inventory::DocKey<'_>,
    ) -> DomainResult<Option<crate::inventory::Doc>>;
    async fn doc(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: crate::inventory::DocKind,
        id: DocId,
    ) -> DomainResult<Option<crate::inventory::Doc>> {
        self.doc_by(at, tenant, kind, crate::inventory::DocKey::Seq(id))
            .await
    }
    async fn doc_by_invoice(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: crate::inventory::DocKind,
        invoice: &str,
    ) -> DomainResult<Option<crate::inventory::Doc>> {
        self.doc_by(at, tenant, kind, crate::inventory::DocKey::Invoice(invoice))
            .await
    }
    /// Newest first.
    async fn docs(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: crate::inventory::DocKind,
        filter: &crate::inventory::DocFilter,
        page: PageRequest,
    ) -> DomainResult<Vec<crate::inventory::Doc>>;
    /// The sale lines among `lines`, each with the sale (id) it belongs to; unknown ids are
    /// left out.
    async fn sell_lines(
        &self,
        at: At<'_>,
        tenant: TenantId,
        lines: &[DocLineId],
    ) -> DomainResult<Vec<(DocId, crate::inventory::DocLine)>>;
    /// Base quantity already returned per sale line, leaving out one return (being replaced).
    async fn returned(
        &self,
        at: At<'_>,
        tenant: TenantId,
        lines: &[DocLineId],
        except: Option<DocId>,
    ) -> DomainResult<Vec<(DocLineId, f64)>>;
    /// Sets a purchase's shipping status; with `receive`, records the goods' moves (once).
    async fn set_shipping(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: DocId,
        status: &str,
        receive: Option<Vec<crate::inventory::Move>>,
    ) -> DomainResult<bool>;
    /// What a customer owes: sales' unpaid totals less returns' unrefunded totals.
    /// Per customer, in one query, in the order of `customers` (0 for one with no documents).
    async fn customer_dues(
        &self,
        tenant: TenantId,
        customers: &[CustomerId],
    ) -> DomainResult<Vec<(CustomerId, crate::money::Money)>>;
}

/// The staff directory (users and employees).
#[async_trait]
pub trait StaffStore: Send + Sync {
    /// Creates (`id` 0) or replaces a staff user; `NotFound` for an unknown id, a conflict on
    /// a taken username.
    async fn save_user(
        &self,
        w: &mut Work,
        actor: &Actor,
        user: crate::inventory::StaffUser,
    ) -> DomainResult<StaffId>;
    /// Live users, oldest first.
    async fn users(
        &self,
        at: At<'_>,
        tenant: TenantId,
    ) -> DomainResult<Vec<crate::inventory::StaffUser>>;
    async fn delete_user(&self, w: &mut Work, actor: &Actor, id: StaffId) -> DomainResult<bool>;
}
