//! The CRM service: validation, cross-record rules, then the repositories.
//!
//! Operations are generic over [`Managed`] record kinds so that every kind gets the same
//! create/update/get/delete/search behaviour, with per-kind hooks for its rules.

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

impl Crm {
    /// The display name of a record of the tenant, or `None` when it does not exist.
    pub async fn link_name(
        &self,
        actor: &Actor,
        kind: RecordKind,
        id: uuid::Uuid,
    ) -> DomainResult<Option<String>> {
        let t = actor.tenant_id;
        Ok(match kind {
            RecordKind::Customer => self.customers.get(t, id.into()).await?.map(|r| r.data.name),
            RecordKind::Contact => self
                .contacts
                .get(t, id.into())
                .await?
                .map(|r| r.data.full_name),
            RecordKind::Lead => self
                .leads
                .get(t, id.into())
                .await?
                .map(|r| r.data.full_name),
            RecordKind::Order => self
                .orders
                .get(t, id.into())
                .await?
                .and_then(|r| r.data.code),
            RecordKind::Ticket => self
                .tickets
                .get(t, id.into())
                .await?
                .map(|r| r.data.subject),
            RecordKind::Campaign => self.campaigns.get(t, id.into()).await?.map(|r| r.data.name),
            RecordKind::Opportunity => self
                .opportunities
                .get(t, id.into())
                .await?
                .map(|r| r.data.name),
        })
    }

    /// Checks that a link points at an existing record and fills in its name.
    async fn resolve_link(
        &self,
        actor: &Actor,
        field: &str,
        link: &mut Option<Link>,
    ) -> DomainResult<()> {
        if let Some(link) = link {
            match self.link_name(actor, link.kind, link.id).await? {
                Some(name) => link.name = Some(name),
                None => {
                    return Err(DomainError::validation(
                        format!("{field}_id"),
                        format!("{} {} does not exist", link.kind.name(), link.id),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Checks an optional reference and returns the referenced record's name.
    async fn ref_name(
        &self,
        actor: &Actor,
        field: &str,
        kind: RecordKind,
        id: Option<uuid::Uuid>,
    ) -> DomainResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        self.link_name(actor, kind, id)
            .await?
            .map(Some)
            .ok_or_else(|| {
                DomainError::validation(field, format!("{} {id} does not exist", kind.name()))
            })
    }
}

/// Segment and campaign members.
impl Crm {
    async fn check_list(&self, actor: &Actor, list: ListKind, id: uuid::Uuid) -> DomainResult<()> {
        let t = actor.tenant_id;
        let found = match list {
            ListKind::Segment => self.segments.get(t, id.into()).await?.is_some(),
            ListKind::Campaign => self.campaigns.get(t, id.into()).await?.is_some(),
        };
        if found {
            Ok(())
        } else {
            Err(DomainError::not_found(list.name()))
        }
    }

    /// Adds existing customers, contacts or leads to a list; ones already in it stay once.
    /// Every id must exist in the tenant, else nothing is added.
    pub async fn add_members(
        &self,
        actor: &Actor,
        list: ListKind,
        list_id: uuid::Uuid,
        kind: RecordKind,
        mut ids: Vec<uuid::Uuid>,
    ) -> DomainResult<u64> {
        if ids.is_empty() {
            return Err(DomainError::validation(
                "ids",
                "must name at least one record",
            ));
        }
        if ids.len() > MAX_MEMBERS_PER_CALL {
            return Err(DomainError::validation(
                "ids",
                format!("at most {MAX_MEMBERS_PER_CALL} per call"),
            ));
        }
        self.check_list(actor, list, list_id).await?;
        ids.sort_unstable();
        ids.dedup();
        let found = self.members.existing(actor.tenant_id, kind, &ids).await?;
        if found.len() != ids.len() {
            let missing: Vec<String> = ids
                .iter()
                .filter(|id| !found.contains(id))
                .take(5)
                .map(ToString::to_string)
                .collect();
            return Err(DomainError::validation(
                "ids",
                format!("no {} with id {}", kind.name(), missing.join(", ")),
            ));
        }
        self.members
            .add_members(actor, list, list_id, kind, &ids)
            .await
    }

    /// Removes member rows; all must belong to the list (when given), else none is removed.
    pub async fn remove_members(
        &self,
        actor: &Actor,
        list: ListKind,
        list_id: Option<uuid::Uuid>,
        ids: &[i64],
    ) -> DomainResult<()> {
        if ids.is_empty() {
            return Err(DomainError::validation(
                "ids",
                "must name at least one member",
            ));
        }
        if let Some(id) = list_id {
            self.check_list(actor, list, id).await?;
        }
        if self
            .members
            .remove_members(actor, list, list_id, ids)
            .await?
        {
            Ok(())
        } else {
            Err(DomainError::NotFound {
                entity: match list {
                    ListKind::Segment => "segment member",
                    ListKind::Campaign => "campaign member",
                },
            })
        }
    }

    pub async fn search_members(
        &self,
        actor: &Actor,
        list: ListKind,
        list_id: uuid::Uuid,
        kind: Option<RecordKind>,
        text: Option<&Filter>,
        page: PageRequest,
    ) -> DomainResult<Page<Member>> {
        self.check_list(actor, list, list_id).await?;
        self.members
            .search_members(actor.tenant_id, list, list_id, kind, text, page)
            .await
    }
}

/// Units, multi-unit prices and order approval.
impl Crm {
    /// Creates (`id` `None`) or renames a unit of measure; returns its id.
    pub async fn save_unit(
        &self,
        actor: &Actor,
        id: Option<i64>,
        name: Option<String>,
        note: Option<String>,
    ) -> DomainResult<i64> {
        let name = crate::common::required("name", name, crate::common::SHORT)?;
        let note = crate::common::text("note", note, crate::common::LONG)?;
        self.sales
            .save_unit(actor, id.filter(|i| *i != 0), name, note)
            .await
    }

    async fn unit_name(&self, actor: &Actor, field: &str, id: i64) -> DomainResult<String> {
        self.sales
            .units(actor.tenant_id, &[id])
            .await?
            .pop()
            .map(|u| u.name)
            .ok_or_else(|| DomainError::validation(field, format!("unit {id} does not exist")))
    }

    /// A product's extra units.
    pub async fn product_units(
        &self,
        actor: &Actor,
        product: crate::ids::ProductId,
    ) -> DomainResult<Vec<ProductUnit>> {
        let _: Product = self.get(actor, product).await?;
        self.sales.product_units(actor.tenant_id, &[product]).await
    }

    /// Saves products' extra units. `items` are `(unit, keep)`: for every product named, the
    /// kept items become its complete set (the others are removed).
    pub async fn save_product_units(
        &self,
        actor: &Actor,
        items: Vec<(ProductUnit, bool)>,
    ) -> DomainResult<()> {
        if items.is_empty() {
            return Err(DomainError::validation(
                "units",
                "must hold at least one unit",
            ));
        }
        let mut by_product: Vec<(Product, Vec<ProductUnit>)> = Vec::new();
        for (i, (unit, keep)) in items.into_iter().enumerate() {
            let slot = match by_product.iter().position(|(p, _)| p.id == unit.product_id) {
                Some(at) => at,
                None => {
                    let product = self
                        .products
                        .get(actor.tenant_id, unit.product_id)
                        .await?
                        .ok_or_else(|| {
                            DomainError::validation(
                                format!("units[{i}].product_id"),
                                format!("product {} does not exist", unit.product_id),
                            )
                        })?;
                    by_product.push((product, Vec::new()));
                    by_product.len() - 1
                }
            };
            if !keep {
                continue;
            }
            let mut unit = unit.validate(i)?;
            let field = format!("units[{i}].unit_id");
            unit.unit_name = Some(self.unit_name(actor, &field, unit.unit_id).await?);
            let (product, list) = &mut by_product[slot];
            if product.data.unit_id == Some(unit.unit_id) {
                return Err(DomainError::validation(
                    field,
                    "is the product's base unit already",
                ));
            }
            if list.iter().any(|u| u.unit_id == unit.unit_id) {
                return Err(DomainError::validation(
                    field,
                    "appears twice for the product",
                ));
            }
            list.push(unit);
        }
        for (product, units) in by_product {
            self.sales
                .replace_product_units(actor, product.id, &units)
                .await?;
        }
        Ok(())
    }

    /// Approves (or rejects) an order, once.
    pub async fn approve_order(
        &self,
        actor: &Actor,
        id: crate::ids::OrderId,
        approve: bool,
        note: Option<String>,
    ) -> DomainResult<()> {
        let order: Order = self.get(actor, id).await?;
        let already = || {
            DomainError::conflict(
                Some("id"),
                "the order has been approved or rejected already",
            )
        };
        if order.data.approval.is_some() {
            return Err(already());
        }
        let approval = Approval {
            approved: approve,
            at: crate::auth::now(),
            by: Some(actor.id),
            by_name: Some(actor.name.clone()),
            note: crate::common::text("note", note, crate::common::LONG)?,
        };
        if self.sales.decide_order(actor, id, &approval).await? {
            Ok(())
        } else {
            Err(already())
        }
    }

    /// Checks an order's customer and lines, fills names and default prices, computes amounts.
    async fn resolve_order(&self, actor: &Actor, data: &mut OrderData) -> DomainResult<()> {
        let customer = data.customer_id.map(|c| c.0);
        data.customer_name = self
            .ref_name(actor, "customer_id", RecordKind::Customer, customer)
            .await?;
        for (i, line) in data.lines.iter_mut().enumerate() {
            let product: Product = self
                .products
                .get(actor.tenant_id, line.product_id.into())
                .await?
                .ok_or_else(|| {
                    DomainError::validation(
                        format!("products[{i}].product_id"),
                        format!("product {} does not exist", line.product_id),
                    )
                })?;
            line.product_code.clone_from(&product.data.code);
            line.product_name = Some(product.data.name.clone());
            let mut price = product.data.retail_price;
            match line.unit_id {
                None => {
                    line.unit_id = product.data.unit_id;
                    line.unit_name.clone_from(&product.data.unit_name);
                }
                Some(unit) if Some(unit) == product.data.unit_id => {
                    line.unit_name.clone_from(&product.data.unit_name);
                }
                Some(unit) => {
                    let extra = self
                        .sales
                        .product_units(actor.tenant_id, &[product.id])
                        .await?
                        .into_iter()
                        .find(|u| u.unit_id == unit)
                        .ok_or_else(|| {
                            DomainError::validation(
                                format!("products[{i}].unit_id"),
                                format!("the product is not sold in unit {unit}"),
                            )
                        })?;
                    line.unit_name = extra.unit_name;
                    price = extra.retail_price;
                }
            }
            line.price = Some(line.price.unwrap_or(price));
        }
        data.compute_amounts()
    }
}

/// Ticket types, comments and files.
impl Crm {
    /// Saves uploads for an owner record (checked already by [`Upload::check`]).
    pub async fn attach(
        &self,
        actor: &Actor,
        owner: FileOwner,
        owner_id: uuid::Uuid,
        uploads: Vec<Upload>,
    ) -> DomainResult<Vec<StoredFile>> {
        let mut out = Vec::with_capacity(uploads.len());
        for upload in uploads {
            out.push(self.files.save(actor, owner, owner_id, upload).await?);
        }
        Ok(out)
    }

    pub async fn files_of(
        &self,
        actor: &Actor,
        owner: FileOwner,
        owner_ids: &[uuid::Uuid],
    ) -> DomainResult<Vec<StoredFile>> {
        self.files.list(actor.tenant_id, owner, owner_ids).await
    }

    /// A file of the caller's tenant, with its bytes.
    pub async fn read_file(
        &self,
        actor: &Actor,
        id: crate::ids::FileId,
    ) -> DomainResult<(StoredFile, Vec<u8>)> {
        self.files
            .read(actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found("file"))
    }

    pub async fn save_ticket_type(
        &self,
        actor: &Actor,
        id: Option<i64>,
        name: Option<String>,
        note: Option<String>,
    ) -> DomainResult<i64> {
        let name = crate::common::required("name", name, crate::common::SHORT)?;
        let note = crate::common::text("note", note, crate::common::LONG)?;
        self.ticket_store
            .save_type(actor, id.filter(|i| *i != 0), name, note)
            .await
    }

    pub async fn search_ticket_types(
        &self,
        actor: &Actor,
        text: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<TicketType>> {
        let folded = text.map(crate::text::fold).filter(|t| !t.trim().is_empty());
        self.ticket_store
            .search_types(actor.tenant_id, folded.as_deref().map(str::trim), page)
            .await
    }

    /// Deletes a ticket type no live ticket uses.
    pub async fn delete_ticket_type(&self, actor: &Actor, id: i64) -> DomainResult<()> {
        let used = self
            .tickets
            .search(
                actor.tenant_id,
                &Filter::Eq {
                    field: Field::TicketType,
                    value: crate::search::Value::Int(id),
                },
                PageRequest { number: 1, size: 1 },
            )
            .await?
            .total;
        if used > 0 {
            return Err(DomainError::in_use(
                Some("id"),
                format!("the ticket type is used by {used} ticket(s)"),
            ));
        }
        if self.ticket_store.delete_type(actor, id).await? {
            Ok(())
        } else {
            Err(DomainError::not_found("ticket type"))
        }
    }

    /// Adds a message (and files) to a ticket's thread.
    pub async fn add_comment(
        &self,
        actor: &Actor,
        ticket: crate::ids::TicketId,
        user_id: Option<uuid::Uuid>,
        user_name: Option<String>,
        message: Option<String>,
        uploads: Vec<Upload>,
    ) -> DomainResult<crate::ids::CommentId> {
        let _: Ticket = self.get(actor, ticket).await?;
        let message = crate::common::text("message", message, MAX_MESSAGE)?;
        if message.is_none() && uploads.is_empty() {
            return Err(DomainError::validation(
                "message",
                "is required without a file",
            ));
        }
        let comment = Comment {
            id: crate::ids::CommentId::new(),
            ticket_id: ticket,
            user_id: user_id.or(Some(actor.id)),
            user_name: crate::common::text("user_name", user_name, crate::common::SHORT)?
                .or_else(|| Some(actor.name.clone())),
            message,
            created_at: crate::auth::now(),
        };
        self.ticket_store.add_comment(actor, &comment).await?;
        self.attach(actor, FileOwner::Comment, comment.id.0, uploads)
            .await?;
        Ok(comment.id)
    }

    pub async fn search_comments(
        &self,
        actor: &Actor,
        ticket: crate::ids::TicketId,
        text: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<Comment>> {
        let _: Ticket = self.get(actor, ticket).await?;
        let folded = text.map(crate::text::fold).filter(|t| !t.trim().is_empty());
        self.ticket_store
            .search_comments(
                actor.tenant_id,
                ticket,
                folded.as_deref().map(str::trim),
                page,
            )
            .await
    }
}

/// Marketing campaigns.
impl Crm {
    /// Refuses to delete a segment or template a marketing campaign still uses.
    async fn refuse_if_marketing_uses(
        &self,
        actor: &Actor,
        field: Field,
        id: uuid::Uuid,
        what: &str,
    ) -> DomainResult<()> {
        let f = Filter::id(field, id);
        let one = PageRequest { number: 1, size: 1 };
        let used = self
            .email_campaigns
            .search(actor.tenant_id, &f, one)
            .await?
            .total
            + self
                .zalo_campaigns
                .search(actor.tenant_id, &f, one)
                .await?
                .total;
        if used > 0 {
            return Err(DomainError::in_use(
                Some("id"),
                format!("the {what} is used by {used} marketing campaign(s)"),
            ));
        }
        Ok(())
    }

    /// Checks a template reference: it exists and is of the expected kind; returns its name.
    async fn template_name(
        &self,
        actor: &Actor,
        field: &str,
        id: Option<crate::ids::TemplateId>,
        kind: i32,
    ) -> DomainResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        let t = self
            .templates
            .get(actor.tenant_id, id)
            .await?
            .ok_or_else(|| {
                DomainError::validation(field, format!("template {id} does not exist"))
            })?;
        if t.data.kind != kind {
            return Err(DomainError::validation(
                field,
                format!("template {id} is of type {}, expected {kind}", t.data.kind),
            ));
        }
        Ok(Some(t.data.name))
    }

    async fn segment_name(
        &self,
        actor: &Actor,
        id: Option<crate::ids::SegmentId>,
    ) -> DomainResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        Ok(Some(
            self.segments
                .get(actor.tenant_id, id)
                .await?
                .ok_or_else(|| {
                    DomainError::validation("segment_id", format!("segment {id} does not exist"))
                })?
                .data
                .name,
        ))
    }
}

/// Vocabularies, projects, funnels and lookups by business key.
impl Crm {
    /// The first record matching `filter`, if any.
    pub async fn find<E: Managed>(
        &self,
        actor: &Actor,
        filter: &Filter,
    ) -> DomainResult<Option<E>> {
        Ok(E::repo(self)
            .search(actor.tenant_id, filter, PageRequest { number: 1, size: 1 })
            .await?
            .items
            .pop())
    }

    /// A vocabulary entry by its code in a project.
    pub async fn find_vocab(
        &self,
        actor: &Actor,
        project: uuid::Uuid,
        kind: VocabKind,
        code: &str,
    ) -> DomainResult<Option<Vocab>> {
        let f = Filter::all()
            .and(Some(Filter::id(Field::Project, project)))
            .and(Some(Filter::Eq {
                field: Field::Kind,
                value: crate::search::Value::Int(i64::from(kind.code())),
            }))
            .and(Some(Filter::Eq {
                field: Field::Code,
                value: crate::search::Value::Text(code.trim().to_owned()),
            }));
        self.find(actor, &f).await
    }

    /// Every entry of a kind, in all projects, oldest first.
    pub async fn vocab_of(&self, actor: &Actor, kind: VocabKind) -> DomainResult<Vec<Vocab>> {
        let f = Filter::Eq {
            field: Field::Kind,
            value: crate::search::Value::Int(i64::from(kind.code())),
        };
        let mut out = Vec::new();
        let mut number = 1;
        loop {
            let page = self
                .vocab
                .search(
                    actor.tenant_id,
                    &f,
                    PageRequest {
                        number,
                        size: crate::search::MAX_PAGE_SIZE,
                    },
                )
                .await?;
            let done = page.items.len() < crate::search::MAX_PAGE_SIZE as usize;
            out.extend(page.items);
            if done {
                break;
            }
            number += 1;
        }
        out.reverse();
        Ok(out)
    }

    async fn vocab_entry(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        kind: VocabKind,
        field: &str,
    ) -> DomainResult<Vocab> {
        match self.vocab.get(actor.tenant_id, id.into()).await? {
            Some(v) if v.data.kind == kind => Ok(v),
            _ => Err(DomainError::validation(
                field,
                format!("{} {id} does not exist", kind.name()),
            )),
        }
    }

    /// Checks what the extension points at: status, type, custom fields (and their values'
    /// types) and funnel placements.
    async fn check_ext(
        &self,
        actor: &Actor,
        ext: &crate::customer::CustomerExt,
    ) -> DomainResult<()> {
        if let Some(id) = ext.status_id {
            self.vocab_entry(actor, id, VocabKind::Status, "status_id")
                .await?;
        }
        if let Some(id) = ext.type_id {
            self.vocab_entry(actor, id, VocabKind::Type, "type_id")
                .await?;
        }
        for (id, values) in &ext.custom {
            let def = self
                .vocab_entry(actor, *id, VocabKind::Field, "custom_fields")
                .await?;
            for v in values {
                def.data.check_value("custom_fields", v)?;
            }
        }
        if !ext.funnels.is_empty() {
            let funnels = self.registry.funnels(actor.tenant_id).await?;
            for place in &ext.funnels {
                let funnel = funnels
                    .iter()
                    .find(|f| f.id == place.funnel_id)
                    .ok_or_else(|| {
                        DomainError::validation(
                            "filter_contacts",
                            format!("funnel {} does not exist", place.funnel_id),
                        )
                    })?;
                funnel.check(place.index, place.second_index)?;
            }
        }
        Ok(())
    }

    pub async fn project(&self, actor: &Actor, code: Option<String>) -> DomainResult<uuid::Uuid> {
        let code = crate::common::required("project_code", code, crate::common::SHORT)?;
        self.registry.project(actor, &code).await
    }

    pub async fn create_funnel(
        &self,
        actor: &Actor,
        name: &str,
        stages: Vec<crate::vocab::Stage>,
    ) -> DomainResult<uuid::Uuid> {
        let (name, stages) = crate::vocab::funnel(name, stages)?;
        self.registry.create_funnel(actor, name, stages).await
    }

    pub async fn funnels(&self, actor: &Actor) -> DomainResult<Vec<crate::vocab::Funnel>> {
        self.registry.funnels(actor.tenant_id).await
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

#[async_trait]
impl Managed for Customer {
    type Input = CustomerInput;
    fn validate(input: CustomerInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.customers.as_ref()
    }
    /// A customer with orders or tickets is kept: its history must not dangle.
    async fn check_delete(crm: &Crm, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        let theirs = Filter::id(Field::Customer, id.0);
        let one = PageRequest { number: 1, size: 1 };
        let orders = crm
            .orders
            .search(actor.tenant_id, &theirs, one)
            .await?
            .total;
        let tickets = crm
            .tickets
            .search(actor.tenant_id, &theirs, one)
            .await?
            .total;
        // NextX sales, purchases and returns count as orders.
        let filter = crate::inventory::DocFilter {
            customer_id: Some(id),
            ..Default::default()
        };
        let mut orders = orders;
        for kind in [
            crate::inventory::DocKind::Sell,
            crate::inventory::DocKind::Purchase,
            crate::inventory::DocKind::SellReturn,
        ] {
            orders += crm
                .inventory
                .docs(actor.tenant_id, kind, &filter, one)
                .await?
                .len() as u64;
        }
        if orders + tickets > 0 {
            return Err(DomainError::in_use(
                Some("id"),
                format!(
                    "the customer has {orders} order(s) and {tickets} ticket(s); \
                     delete or reassign them first"
                ),
            ));
        }
        Ok(())
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        if let Some(ext) = &data.ext {
            crm.check_ext(actor, ext).await?;
        }
        if let Some(group) = data.group_id {
            if crm.groups.get(actor.tenant_id, group).await?.is_none() {
                return Err(DomainError::validation(
                    "group_id",
                    format!("customer group {group} does not exist"),
                ));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Managed for CustomerGroup {
    type Input = CustomerGroupInput;
    fn validate(input: CustomerGroupInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.groups.as_ref()
    }
    async fn check_delete(crm: &Crm, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        let members = Filter::id(Field::Group, id.0);
        let page = crm
            .customers
            .search(
                actor.tenant_id,
                &members,
                PageRequest { number: 1, size: 1 },
            )
            .await?;
        if page.total > 0 {
            return Err(DomainError::in_use(
                Some("id"),
                format!(
                    "customer group is used by {} customer(s); move them first",
                    page.total
                ),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Managed for Contact {
    type Input = ContactInput;
    fn validate(input: ContactInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.contacts.as_ref()
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        if let Some(customer) = data.customer_id {
            if crm
                .customers
                .get(actor.tenant_id, customer)
                .await?
                .is_none()
            {
                return Err(DomainError::validation(
                    "customer_id",
                    format!("customer {customer} does not exist"),
                ));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Managed for Lead {
    type Input = LeadInput;
    fn validate(input: LeadInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.leads.as_ref()
    }
}

#[async_trait]
impl Managed for Activity {
    type Input = ActivityData;
    fn validate(input: ActivityData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.activities.as_ref()
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        crm.resolve_link(actor, "primary", &mut data.primary)
            .await?;
        crm.resolve_link(actor, "related", &mut data.related).await
    }
}

#[async_trait]
impl Managed for Opportunity {
    type Input = OpportunityData;
    fn validate(input: OpportunityData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.opportunities.as_ref()
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        let customer = data.customer_id.map(|c| c.0);
        data.customer_name = crm
            .ref_name(actor, "customer_id", RecordKind::Customer, customer)
            .await?;
        if let Some(contact) = data.contact_id {
            let found = crm
                .contacts
                .get(actor.tenant_id, contact)
                .await?
                .ok_or_else(|| {
                    DomainError::validation(
                        "contact_id",
                        format!("contact {contact} does not exist"),
                    )
                })?;
            if let (Some(want), Some(has)) = (data.customer_id, found.data.customer_id) {
                if want != has {
                    return Err(DomainError::validation(
                        "contact_id",
                        "the contact belongs to another customer",
                    ));
                }
            }
            data.contact_name = Some(found.data.full_name);
        }
        let lead = data.lead_id.map(|l| l.0);
        data.lead_name = crm
            .ref_name(actor, "lead_id", RecordKind::Lead, lead)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Managed for Template {
    type Input = TemplateData;
    fn validate(input: TemplateData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.templates.as_ref()
    }
    async fn check_delete(crm: &Crm, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        crm.refuse_if_marketing_uses(actor, Field::Template, id.0, "template")
            .await
    }
}

#[async_trait]
impl Managed for Segment {
    type Input = SegmentData;
    fn validate(input: SegmentData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.segments.as_ref()
    }
    async fn check_delete(crm: &Crm, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        crm.refuse_if_marketing_uses(actor, Field::Segment, id.0, "segment")
            .await
    }
}

#[async_trait]
impl Managed for Campaign {
    type Input = CampaignData;
    fn validate(input: CampaignData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.campaigns.as_ref()
    }
}

#[async_trait]
impl Managed for Product {
    type Input = ProductData;
    fn validate(input: ProductData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.products.as_ref()
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        if let Some(unit) = data.unit_id {
            data.unit_name = Some(crm.unit_name(actor, "unit_id", unit).await?);
        }
        Ok(())
    }
}

#[async_trait]
impl Managed for Order {
    type Input = OrderInput;
    fn validate(input: OrderInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.orders.as_ref()
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        crm.resolve_order(actor, data).await
    }
}

#[async_trait]
impl Managed for Ticket {
    type Input = TicketData;
    fn validate(input: TicketData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.tickets.as_ref()
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        if let Some(id) = data.type_id {
            let found = crm.ticket_store.get_type(actor.tenant_id, id).await?;
            data.type_name = Some(
                found
                    .ok_or_else(|| {
                        DomainError::validation(
                            "type_id",
                            format!("ticket type {id} does not exist"),
                        )
                    })?
                    .name,
            );
        }
        data.customer_name = crm
            .ref_name(
                actor,
                "customer_id",
                RecordKind::Customer,
                data.customer_id.map(|i| i.0),
            )
            .await?;
        data.contact_name = crm
            .ref_name(
                actor,
                "contact_id",
                RecordKind::Contact,
                data.contact_id.map(|i| i.0),
            )
            .await?;
        data.order_code = crm
            .ref_name(
                actor,
                "order_id",
                RecordKind::Order,
                data.order_id.map(|i| i.0),
            )
            .await?;
        if let Some(product) = data.product_id {
            data.product_name = Some(
                crm.products
                    .get(actor.tenant_id, product)
                    .await?
                    .ok_or_else(|| {
                        DomainError::validation(
                            "product_id",
                            format!("product {product} does not exist"),
                        )
                    })?
                    .data
                    .name,
            );
        }
        Ok(())
    }
    async fn after_delete(crm: &Crm, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        crm.files.remove_owned(actor, FileOwner::Ticket, id.0).await
    }
}

#[async_trait]
impl Managed for EmailCampaign {
    type Input = EmailCampaignInput;
    fn validate(input: EmailCampaignInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.email_campaigns.as_ref()
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        data.template_name = crm
            .template_name(
                actor,
                "template_id",
                data.template_id,
                crate::template::KIND_EMAIL,
            )
            .await?;
        data.segment_name = crm.segment_name(actor, data.segment_id).await?;
        Ok(())
    }
    async fn after_delete(crm: &Crm, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        crm.files
            .remove_owned(actor, FileOwner::EmailCampaign, id.0)
            .await
    }
}

#[async_trait]
impl Managed for ZaloCampaign {
    type Input = ZaloCampaignData;
    fn validate(input: ZaloCampaignData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.zalo_campaigns.as_ref()
    }
    async fn check_refs(crm: &Crm, actor: &Actor, data: &mut Self::Data) -> DomainResult<()> {
        data.sms_template_name = crm
            .template_name(
                actor,
                "sms_template_id",
                data.sms_template_id,
                crate::template::KIND_SMS,
            )
            .await?;
        data.segment_name = crm.segment_name(actor, data.segment_id).await?;
        Ok(())
    }
    async fn after_delete(crm: &Crm, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        crm.files
            .remove_owned(actor, FileOwner::ZaloCampaign, id.0)
            .await
    }
}

#[async_trait]
impl Managed for Vocab {
    type Input = VocabData;
    fn validate(input: VocabData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.vocab.as_ref()
    }
    /// A status or type customers still have cannot go.
    async fn check_delete(crm: &Crm, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        let entry: Vocab = crm.get(actor, id).await?;
        let field = match entry.data.kind {
            VocabKind::Status => Field::CustomerStatus,
            VocabKind::Type => Field::CustomerType,
            VocabKind::Field => return Ok(()),
        };
        let used = crm
            .customers
            .search(
                actor.tenant_id,
                &Filter::id(field, id.0),
                PageRequest { number: 1, size: 1 },
            )
            .await?
            .total;
        if used > 0 {
            return Err(DomainError::in_use(
                Some("code"),
                format!(
                    "the {} is used by {used} customer(s)",
                    entry.data.kind.name()
                ),
            ));
        }
        Ok(())
    }
}
