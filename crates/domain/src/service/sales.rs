//! Products and their units, orders and their approval, opportunities.

use super::*;
use crate::ids::UnitId;

/// Units, multi-unit prices and order approval.
impl Crm {
    /// Creates (`id` `None`) or renames a unit of measure; returns its id.
    pub async fn save_unit(
        &self,
        actor: &Actor,
        id: Option<UnitId>,
        name: Option<String>,
        note: Option<String>,
    ) -> DomainResult<UnitId> {
        let name = crate::common::required("name", name, crate::common::SHORT)?;
        let note = crate::common::text("note", note, crate::common::LONG)?;
        let mut w = self.begin().await?;
        let id = self
            .sales
            .save_unit(&mut w, actor, id.and_then(UnitId::nonzero), name, note)
            .await?;
        w.commit().await?;
        Ok(id)
    }

    async fn unit_name(
        &self,
        w: &mut Work,
        actor: &Actor,
        field: &str,
        id: UnitId,
    ) -> DomainResult<String> {
        self.sales
            .units(w.at(), actor.tenant_id, &[id])
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
        self.sales
            .product_units(At::Committed, actor.tenant_id, &[product])
            .await
    }

    /// Saves products' extra units. `items` are `(unit, keep)`: for every product named, the
    /// kept items become its complete set (the others are removed).
    pub async fn save_product_units(
        &self,
        actor: &Actor,
        items: Vec<(ProductUnit, bool)>,
    ) -> DomainResult<()> {
        let mut w = self.begin().await?;
        self.save_product_units_in(&mut w, actor, items).await?;
        w.commit().await
    }

    pub(crate) async fn save_product_units_in(
        &self,
        w: &mut Work,
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
                        .get(w.at(), actor.tenant_id, unit.product_id)
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
            unit.unit_name = Some(self.unit_name(w, actor, &field, unit.unit_id).await?);
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
                .replace_product_units(w, actor, product.id, &units)
                .await?;
        }
        Ok(())
    }

    /// An opportunity, with a new lead it belongs to when `new_lead` is given: both or neither.
    pub async fn create_opportunity(
        &self,
        actor: &Actor,
        new_lead: Option<crate::lead::LeadInput>,
        mut data: OpportunityData,
    ) -> DomainResult<(crate::ids::OpportunityId, Option<LeadId>)> {
        let mut w = self.begin().await?;
        let lead = match new_lead {
            Some(input) => {
                let id = self.create_in::<Lead>(&mut w, actor, input).await?;
                data.lead_id = Some(id);
                Some(id)
            }
            None => {
                self.refuse_duplicate_opportunity(&mut w, actor, &data, None)
                    .await?;
                None
            }
        };
        let id = self.create_in::<Opportunity>(&mut w, actor, data).await?;
        w.commit().await?;
        Ok((id, lead))
    }

    /// Replaces an opportunity, under the same campaign rule as a new one.
    pub async fn update_opportunity(
        &self,
        actor: &Actor,
        id: crate::ids::OpportunityId,
        data: OpportunityData,
    ) -> DomainResult<()> {
        let mut w = self.begin().await?;
        self.refuse_duplicate_opportunity(&mut w, actor, &data, Some(id))
            .await?;
        self.update_in::<Opportunity>(&mut w, actor, id, data)
            .await?;
        w.commit().await
    }

    /// Moves an opportunity to stage type `stage` (1 customer info, 2 needs analysis,
    /// 3 quotation, 4 negotiation, 5 won, 6 lost), as the console's board does. In a NextX sales
    /// campaign it goes to the campaign's first stage of that type (a campaign without one
    /// refuses); a won or lost stage closes the deal, another one reopens it. Moving to the stage
    /// it is in changes nothing.
    pub async fn move_opportunity(
        &self,
        actor: &Actor,
        id: crate::ids::OpportunityId,
        stage: i32,
    ) -> DomainResult<()> {
        if !(1..=6).contains(&stage) {
            return Err(DomainError::validation(
                "stage",
                "must be 1-6 (customer info, needs analysis, quotation, negotiation, won, lost)",
            ));
        }
        let mut w = self.begin().await?;
        let opp: Opportunity = self.lock_in(&mut w, actor, id).await?;
        if opp.data.stage == Some(stage) {
            return Ok(());
        }
        let mut data = opp.data;
        let mut ext = data.ext.take().unwrap_or_default();
        if let Some(seq) = ext.campaign_seq {
            let c: crate::list::Campaign = self
                .by_seq_at(w.at(), actor, seq)
                .await?
                .ok_or(DomainError::not_found("campaign"))?;
            let order = c
                .data
                .ext
                .as_ref()
                .and_then(|e| e.stages.iter().find(|s| s.kind == stage))
                .map(|s| s.order)
                .ok_or_else(|| {
                    DomainError::conflict(
                        Some("stage"),
                        format!(
                            "campaign {} has no stage of type {stage} ({})",
                            c.data.name,
                            crate::list::STAGE_TYPES[(stage - 1) as usize]
                        ),
                    )
                })?;
            ext.stage_order = Some(order);
        }
        let now = crate::auth::now();
        ext.stage_changed_at = Some(now);
        data.ext = Some(ext);
        data.stage = Some(stage);
        data.actual_close_date = if matches!(stage, 5 | 6) {
            data.actual_close_date.or(Some(now))
        } else {
            None
        };
        self.opportunities.update(&mut w, actor, id, data).await?;
        self.emit_kind::<Opportunity>(&mut w, actor, "updated", id.0)
            .await?;
        w.commit().await
    }

    /// A campaign that does not allow duplicates holds one opportunity per lead. The lead is
    /// locked first, so two opportunities of one lead are checked one after the other.
    async fn refuse_duplicate_opportunity(
        &self,
        w: &mut Work,
        actor: &Actor,
        data: &OpportunityData,
        me: Option<crate::ids::OpportunityId>,
    ) -> DomainResult<()> {
        let (Some(lead), Some(campaign)) =
            (data.lead_id, data.ext.as_ref().and_then(|e| e.campaign_seq))
        else {
            return Ok(());
        };
        let c: crate::list::Campaign = self
            .by_seq_at(w.at(), actor, campaign)
            .await?
            .ok_or(DomainError::not_found("campaign"))?;
        if c.data
            .ext
            .as_ref()
            .is_some_and(|e| e.allow_duplicate_opportunity)
        {
            return Ok(());
        }
        self.lock_in::<Lead>(w, actor, lead).await?;
        let theirs = self
            .opportunities
            .search(
                w.at(),
                actor.tenant_id,
                &Filter::id(Field::Lead, lead.0),
                PageRequest::of(1, crate::search::MAX_PAGE_SIZE),
            )
            .await?;
        if theirs.items.iter().any(|o| {
            Some(o.id) != me && o.data.ext.as_ref().and_then(|e| e.campaign_seq) == Some(campaign)
        }) {
            return Err(DomainError::conflict(
                Some("campaign_id"),
                format!(
                    "the lead already has an opportunity in campaign {campaign}, \
                     which does not allow duplicates"
                ),
            ));
        }
        Ok(())
    }

    /// How many orders were placed in `[from, to)` and what they total, rejected ones aside.
    pub async fn order_totals(
        &self,
        actor: &Actor,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<(u64, crate::money::Money)> {
        self.sales
            .order_totals(At::Committed, actor.tenant_id, from, to)
            .await
    }

    /// Approves (or rejects) an order, once.
    pub async fn approve_order(
        &self,
        actor: &Actor,
        id: crate::ids::OrderId,
        approve: bool,
        note: Option<String>,
    ) -> DomainResult<()> {
        let mut w = self.begin().await?;
        let order: Order = self.lock_in(&mut w, actor, id).await?;
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
        if self
            .sales
            .decide_order(&mut w, actor, id, &approval)
            .await?
        {
            let action = if approve { "approved" } else { "rejected" };
            self.emit(&mut w, actor, "order", action, id.0).await?;
            w.commit().await
        } else {
            Err(already())
        }
    }

    /// The tenant's products among `ids`, read in the work with one query per page of ids.
    pub(crate) async fn products_by_id(
        &self,
        w: &mut Work,
        actor: &Actor,
        ids: &[crate::ids::ProductId],
    ) -> DomainResult<std::collections::HashMap<crate::ids::ProductId, Product>> {
        let mut known = std::collections::HashMap::new();
        let mut ids: Vec<uuid::Uuid> = ids
            .iter()
            .filter(|p| match w.known.products.get(p) {
                Some(product) => {
                    known.insert(**p, product.clone());
                    false
                }
                None => true,
            })
            .map(|p| p.0)
            .collect();
        if ids.is_empty() {
            return Ok(known);
        }
        ids.sort_unstable();
        ids.dedup();
        let t = actor.tenant_id;
        let found = links::in_pages(self.products.as_ref(), w, t, links::id_pages(&ids)).await?;
        known.extend(found.into_iter().map(|p| (p.id, p)));
        Ok(known)
    }

    /// The tenant's products among the integer ids `seqs`, read in the work likewise.
    pub(crate) async fn products_by_seq(
        &self,
        w: &mut Work,
        actor: &Actor,
        seqs: &[i64],
    ) -> DomainResult<std::collections::HashMap<i64, Product>> {
        let mut seqs = seqs.to_vec();
        seqs.sort_unstable();
        seqs.dedup();
        let chunks = seqs
            .chunks(crate::search::MAX_PAGE_SIZE as usize)
            .map(|c| Filter::In {
                field: Field::Seq,
                values: c.iter().map(|s| crate::search::Value::Int(*s)).collect(),
            });
        let t = actor.tenant_id;
        let found = links::in_pages(self.products.as_ref(), w, t, chunks).await?;
        Ok(found.into_iter().map(|p| (p.seq, p)).collect())
    }

    /// The extra units of `products`, in one query (none for no products).
    pub(crate) async fn extra_units(
        &self,
        w: &mut Work,
        actor: &Actor,
        products: &[crate::ids::ProductId],
    ) -> DomainResult<Vec<ProductUnit>> {
        if products.is_empty() {
            return Ok(Vec::new());
        }
        self.sales
            .product_units(w.at(), actor.tenant_id, products)
            .await
    }

    /// Checks an order's customer and lines, fills names and default prices, computes amounts.
    async fn resolve_order(
        &self,
        w: &mut Work,
        actor: &Actor,
        data: &mut OrderData,
    ) -> DomainResult<()> {
        let customer = data.customer_id.map(|c| c.0);
        data.customer_name = self
            .ref_name(w, actor, "customer_id", RecordKind::Customer, customer)
            .await?;
        let ids: Vec<crate::ids::ProductId> =
            data.lines.iter().map(|l| l.product_id.into()).collect();
        let products = self.products_by_id(w, actor, &ids).await?;
        // Lines sold in a unit other than their product's base unit need its extra units.
        let other_unit: Vec<crate::ids::ProductId> = data
            .lines
            .iter()
            .filter_map(|l| {
                let p = products.get(&l.product_id.into())?;
                (l.unit_id.is_some() && l.unit_id != p.data.unit_id).then_some(p.id)
            })
            .collect();
        let extra = self.extra_units(w, actor, &other_unit).await?;
        for (i, line) in data.lines.iter_mut().enumerate() {
            let product = products.get(&line.product_id.into()).ok_or_else(|| {
                DomainError::validation(
                    format!("lines[{i}].product_id"),
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
                    let extra = extra
                        .iter()
                        .find(|u| u.product_id == product.id && u.unit_id == unit)
                        .ok_or_else(|| {
                            DomainError::validation(
                                format!("lines[{i}].unit_id"),
                                format!("the product is not sold in unit {unit}"),
                            )
                        })?;
                    line.unit_name.clone_from(&extra.unit_name);
                    price = extra.retail_price;
                }
            }
            line.price = Some(line.price.unwrap_or(price));
        }
        data.compute_amounts()
    }
}

#[async_trait]
impl Managed for Product {
    const EVENT: Option<&'static str> = Some("product");
    type Input = ProductData;
    fn validate(input: ProductData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.products.as_ref()
    }
    async fn check_refs(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        data: &mut Self::Data,
    ) -> DomainResult<()> {
        match (data.unit_id, data.unit_name.clone()) {
            (Some(unit), _) => {
                data.unit_name = Some(crm.unit_name(w, actor, "unit_id", unit).await?);
            }
            (None, Some(name)) => data.unit_id = Some(crm.unit_for_name_in(w, actor, &name).await?),
            (None, None) => {}
        }
        let Some(ext) = &data.ext else { return Ok(()) };
        if let Some(category) = ext.category_id {
            let all = crm.inventory.categories(w.at(), actor.tenant_id).await?;
            if !all.iter().any(|c| c.id == category) {
                return Err(DomainError::validation(
                    "category_id",
                    format!("category {category} does not exist"),
                ));
            }
        }
        let parts: Vec<i64> = ext.components.iter().map(|c| c.0).collect();
        if !parts.is_empty() {
            let found = crm.products_by_seq(w, actor, &parts).await?;
            if let Some((i, (seq, ..))) = ext
                .components
                .iter()
                .enumerate()
                .find(|(_, c)| !found.contains_key(&c.0))
            {
                return Err(DomainError::validation(
                    format!("components[{i}].product_id"),
                    format!("product {seq} does not exist"),
                ));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Managed for Order {
    const EVENT: Option<&'static str> = Some("order");
    type Input = OrderInput;
    fn validate(input: OrderInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.orders.as_ref()
    }
    fn references(data: &Self::Data, refs: &mut References) {
        if let Some(customer) = data.customer_id {
            refs.links.push((RecordKind::Customer, customer.0));
        }
        refs.products.extend(
            data.lines
                .iter()
                .map(|l| crate::ids::ProductId::from(l.product_id)),
        );
    }
    async fn check_refs(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        data: &mut Self::Data,
    ) -> DomainResult<()> {
        crm.resolve_order(w, actor, data).await
    }
}

#[async_trait]
impl Managed for Opportunity {
    const EVENT: Option<&'static str> = Some("opportunity");
    type Input = OpportunityData;
    fn validate(input: OpportunityData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.opportunities.as_ref()
    }
    fn references(data: &Self::Data, refs: &mut References) {
        if let Some(customer) = data.customer_id {
            refs.links.push((RecordKind::Customer, customer.0));
        }
    }
    async fn check_refs(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        data: &mut Self::Data,
    ) -> DomainResult<()> {
        let customer = data.customer_id.map(|c| c.0);
        data.customer_name = crm
            .ref_name(w, actor, "customer_id", RecordKind::Customer, customer)
            .await?;
        if let Some(contact) = data.contact_id {
            let found = crm
                .contacts
                .get(w.at(), actor.tenant_id, contact)
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
            .ref_name(w, actor, "lead_id", RecordKind::Lead, lead)
            .await?;
        Ok(())
    }
}
