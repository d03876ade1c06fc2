//! Names of linked records: a link is checked against the tenant and its record's name filled in.

use super::*;

/// What a batch's records refer to ([`Managed::references`]).
#[derive(Debug, Default)]
pub struct References {
    pub links: Vec<(RecordKind, uuid::Uuid)>,
    pub products: Vec<crate::ids::ProductId>,
}

/// `Filter::Ids` over `ids`, a page of [`crate::search::MAX_PAGE_SIZE`] at a time.
pub(super) fn id_pages(ids: &[uuid::Uuid]) -> impl Iterator<Item = Filter> + '_ {
    ids.chunks(crate::search::MAX_PAGE_SIZE as usize)
        .map(|c| Filter::Ids {
            ids: c.to_vec(),
            negate: false,
        })
}

/// The records of kind `E` each filter finds (a page of at most
/// [`crate::search::MAX_PAGE_SIZE`] each), read in the work with one query per filter and no
/// count of the matches.
pub(super) async fn in_pages<E: Entity>(
    repo: &dyn Repository<E>,
    w: &mut Work,
    tenant: crate::ids::TenantId,
    filters: impl Iterator<Item = Filter>,
) -> DomainResult<Vec<E>> {
    let mut out = Vec::new();
    for f in filters {
        let size = crate::search::MAX_PAGE_SIZE;
        out.extend(repo.scan(w.at(), tenant, &f, size).await?);
    }
    Ok(out)
}

/// `(id, name)` of the records of kind `E` among `ids`: one read by id for one, else one query
/// per page of them.
async fn names_of<E: Entity>(
    repo: &dyn Repository<E>,
    w: &mut Work,
    tenant: crate::ids::TenantId,
    ids: &[uuid::Uuid],
    name: fn(E) -> Option<String>,
) -> DomainResult<Vec<(uuid::Uuid, String)>> {
    let found = match ids {
        [id] => repo
            .get(w.at(), tenant, (*id).into())
            .await?
            .into_iter()
            .collect(),
        _ => in_pages(repo, w, tenant, id_pages(ids)).await?,
    };
    Ok(found
        .into_iter()
        .filter_map(|r| {
            let id = r.record_id().into();
            name(r).map(|n| (id, n))
        })
        .collect())
}

impl Crm {
    /// `(id, display name)` of the tenant's records of `kind` among `ids` (those that exist).
    async fn names(
        &self,
        w: &mut Work,
        tenant: crate::ids::TenantId,
        kind: RecordKind,
        ids: &[uuid::Uuid],
    ) -> DomainResult<Vec<(uuid::Uuid, String)>> {
        let t = tenant;
        match kind {
            RecordKind::Customer => {
                names_of(self.customers.as_ref(), w, t, ids, |r| Some(r.data.name)).await
            }
            RecordKind::Contact => {
                names_of(self.contacts.as_ref(), w, t, ids, |r| {
                    Some(r.data.full_name)
                })
                .await
            }
            RecordKind::Lead => {
                names_of(self.leads.as_ref(), w, t, ids, |r| Some(r.data.full_name)).await
            }
            RecordKind::Order => names_of(self.orders.as_ref(), w, t, ids, |r| r.data.code).await,
            RecordKind::Ticket => {
                names_of(self.tickets.as_ref(), w, t, ids, |r| Some(r.data.subject)).await
            }
            RecordKind::Campaign => {
                names_of(self.campaigns.as_ref(), w, t, ids, |r| Some(r.data.name)).await
            }
            RecordKind::Opportunity => {
                names_of(self.opportunities.as_ref(), w, t, ids, |r| {
                    Some(r.data.name)
                })
                .await
            }
        }
    }

    /// Reads what a batch refers to into the work ([`crate::work::Known`]): the names of its
    /// linked records, one query per kind (and page of 500), and its products.
    pub(super) async fn read_references(
        &self,
        w: &mut Work,
        actor: &Actor,
        mut refs: References,
    ) -> DomainResult<()> {
        refs.links.sort_unstable_by_key(|(k, id)| (k.code(), *id));
        refs.links.dedup();
        let mut kinds: Vec<RecordKind> = refs.links.iter().map(|(k, _)| *k).collect();
        kinds.dedup();
        for kind in kinds {
            let ids: Vec<uuid::Uuid> = refs
                .links
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| *id)
                .collect();
            let found = self.names(w, actor.tenant_id, kind, &ids).await?;
            w.known
                .names
                .extend(found.into_iter().map(|(id, name)| ((kind, id), name)));
        }
        if !refs.products.is_empty() {
            let found = self.products_by_id(w, actor, &refs.products).await?;
            w.known.products.extend(found);
        }
        Ok(())
    }

    /// The display name of a record of the tenant (as the work's batch read it, if it did), or
    /// `None` when it does not exist.
    async fn link_name(
        &self,
        w: &mut Work,
        actor: &Actor,
        kind: RecordKind,
        id: uuid::Uuid,
    ) -> DomainResult<Option<String>> {
        if let Some(name) = w.known.names.get(&(kind, id)) {
            return Ok(Some(name.clone()));
        }
        let found = self.names(w, actor.tenant_id, kind, &[id]).await?;
        Ok(found.into_iter().next().map(|(_, name)| name))
    }

    /// Checks that a link points at an existing record and fills in its name.
    pub(super) async fn resolve_link(
        &self,
        w: &mut Work,
        actor: &Actor,
        field: &str,
        link: &mut Option<Link>,
    ) -> DomainResult<()> {
        if let Some(link) = link {
            match self.link_name(w, actor, link.kind, link.id).await? {
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
    pub(super) async fn ref_name(
        &self,
        w: &mut Work,
        actor: &Actor,
        field: &str,
        kind: RecordKind,
        id: Option<uuid::Uuid>,
    ) -> DomainResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        self.link_name(w, actor, kind, id)
            .await?
            .map(Some)
            .ok_or_else(|| {
                DomainError::validation(field, format!("{} {id} does not exist", kind.name()))
            })
    }
}
