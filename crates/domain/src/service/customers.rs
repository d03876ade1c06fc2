//! Customers, customer groups, contacts and leads: their rules.

use super::*;

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
