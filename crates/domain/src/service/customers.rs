//! Customers, customer groups, contacts and leads: their rules.

use super::*;

#[async_trait]
impl Managed for Customer {
    const EVENT: Option<&'static str> = Some("customer");
    const GROUPED: bool = true;
    type Input = CustomerInput;
    fn validate(input: CustomerInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.customers.as_ref()
    }
    /// A customer with orders or tickets is kept: its history must not dangle.
    async fn check_delete(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: Self::Id,
    ) -> DomainResult<()> {
        let theirs = Filter::id(Field::Customer, id.0);
        let one = PageRequest::of(1, 1);
        let orders = crm.count_at::<Order>(w.at(), actor, &theirs).await?;
        let tickets = crm.count_at::<Ticket>(w.at(), actor, &theirs).await?;
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
                .docs(w.at(), actor.tenant_id, kind, &filter, one)
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
    async fn check_refs(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        data: &mut Self::Data,
    ) -> DomainResult<()> {
        if let Some(ext) = &data.ext {
            crm.check_ext(w, actor, ext).await?;
        }
        if let Some(group) = data.group_id {
            if crm
                .groups
                .get(w.at(), actor.tenant_id, group)
                .await?
                .is_none()
            {
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
    async fn check_delete(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: Self::Id,
    ) -> DomainResult<()> {
        let members = Filter::id(Field::Group, id.0);
        let used = crm.count_at::<Customer>(w.at(), actor, &members).await?;
        if used > 0 {
            return Err(DomainError::in_use(
                Some("id"),
                format!(
                    "customer group is used by {} customer(s); move them first",
                    used
                ),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Managed for Contact {
    const GROUPED: bool = true;
    const EVENT: Option<&'static str> = Some("contact");
    type Input = ContactInput;
    fn validate(input: ContactInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.contacts.as_ref()
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
        crm.ref_name(w, actor, "customer_id", RecordKind::Customer, customer)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Managed for Lead {
    const GROUPED: bool = true;
    const EVENT: Option<&'static str> = Some("lead");
    type Input = LeadInput;
    fn validate(input: LeadInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.leads.as_ref()
    }
}

/// Customers in batches, each standing or falling on its own.
impl Crm {
    /// Creates each customer that passes its checks, in one unit of work, and reports every
    /// input's outcome in input order. A partner id (`ref_id`) is unique among live customers:
    /// the batch holds the tenant's dedup lock from its check to its commit, so of two batches
    /// bringing the same partner id one creates the customer and the other reports a conflict
    /// for that item alone.
    pub async fn create_customers(
        &self,
        actor: &Actor,
        inputs: Vec<CustomerInput>,
    ) -> DomainResult<Vec<DomainResult<CustomerId>>> {
        // Validation needs no transaction; references are checked inside it.
        let validated: Vec<DomainResult<_>> = inputs.into_iter().map(Customer::validate).collect();
        let mut w = self.begin().await?;
        w.lock(actor.tenant_id, crate::work::Lock::Dedup).await?;
        let mut prepared = Vec::with_capacity(validated.len());
        for item in validated {
            prepared.push(match item {
                Ok(mut data) => Customer::check_refs(self, &mut w, actor, &mut data)
                    .await
                    .map(|()| data),
                Err(e) => Err(e),
            });
        }
        let refs: Vec<&str> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok().and_then(ref_id_of))
            .collect();
        let taken = self.taken_ref_ids(&mut w, actor, &refs).await?;
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<DomainResult<CustomerId>> = Vec::with_capacity(prepared.len());
        let mut ready = Vec::new();
        for p in prepared {
            let checked = p.and_then(|data| match ref_id_of(&data) {
                Some(r) => {
                    let key = crate::search::whole_term(r);
                    if taken.contains(&key) || !seen.insert(key) {
                        Err(DomainError::conflict(
                            Some("ref_id"),
                            format!("'{r}' is used by another customer"),
                        ))
                    } else {
                        Ok(data)
                    }
                }
                None => Ok(data),
            });
            match checked {
                Ok(data) => {
                    ready.push((out.len(), data));
                    out.push(Ok(CustomerId(uuid::Uuid::nil())));
                }
                Err(e) => out.push(Err(e)),
            }
        }
        if !ready.is_empty() {
            let (slots, data): (Vec<usize>, Vec<_>) = ready.into_iter().unzip();
            let ids = self.customers.insert_many(&mut w, actor, data).await?;
            for (slot, id) in slots.into_iter().zip(ids) {
                self.emit(&mut w, actor, "customer", "created", id.0)
                    .await?;
                out[slot] = Ok(id);
            }
        }
        w.commit().await?;
        Ok(out)
    }

    /// The folded partner ids among `refs` that live customers use, read in the work.
    async fn taken_ref_ids(
        &self,
        w: &mut Work,
        actor: &Actor,
        refs: &[&str],
    ) -> DomainResult<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        let size = crate::search::MAX_PAGE_SIZE;
        for chunk in refs.chunks(size as usize) {
            let Some(any) =
                Filter::any_whole(crate::search::TextField::RefId, chunk.iter().copied())
            else {
                continue;
            };
            let page = self
                .customers
                .search(w.at(), actor.tenant_id, &any, PageRequest::of(1, size))
                .await?;
            out.extend(
                page.items
                    .iter()
                    .filter_map(|c| ref_id_of(&c.data))
                    .map(crate::search::whole_term),
            );
        }
        Ok(out)
    }
}

fn ref_id_of(data: &crate::customer::CustomerData) -> Option<&str> {
    data.ext.as_ref().and_then(|e| e.ref_id.as_deref())
}
