//! Products and their units, orders and their approval, opportunities.

use super::*;

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
        let mut w = self.begin().await?;
        let id = self
            .sales
            .save_unit(&mut w, actor, id.filter(|i| *i != 0), name, note)
            .await?;
        w.commit().await?;
        Ok(id)
    }

    async fn unit_name(
        &self,
        w: &mut Work,
        actor: &Actor,
        field: &str,
        id: i64,
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
            None => None,
        };
        let id = self.create_in::<Opportunity>(&mut w, actor, data).await?;
        w.commit().await?;
        Ok((id, lead))
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
            w.commit().await
        } else {
            Err(already())
        }
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
        for (i, line) in data.lines.iter_mut().enumerate() {
            let product: Product = self
                .products
                .get(w.at(), actor.tenant_id, line.product_id.into())
                .await?
                .ok_or_else(|| {
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
                    let extra = self
                        .sales
                        .product_units(w.at(), actor.tenant_id, &[product.id])
                        .await?
                        .into_iter()
                        .find(|u| u.unit_id == unit)
                        .ok_or_else(|| {
                            DomainError::validation(
                                format!("lines[{i}].unit_id"),
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

#[async_trait]
impl Managed for Product {
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
        if let Some(unit) = data.unit_id {
            data.unit_name = Some(crm.unit_name(w, actor, "unit_id", unit).await?);
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
    type Input = OpportunityData;
    fn validate(input: OpportunityData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.opportunities.as_ref()
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
