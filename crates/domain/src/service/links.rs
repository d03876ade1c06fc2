//! Names of linked records: a link is checked against the tenant and its record's name filled in.

use super::*;

impl Crm {
    /// The display name of a record of the tenant, or `None` when it does not exist.
    pub async fn link_name(
        &self,
        at: At<'_>,
        actor: &Actor,
        kind: RecordKind,
        id: uuid::Uuid,
    ) -> DomainResult<Option<String>> {
        let t = actor.tenant_id;
        Ok(match kind {
            RecordKind::Customer => self
                .customers
                .get(at, t, id.into())
                .await?
                .map(|r| r.data.name),
            RecordKind::Contact => self
                .contacts
                .get(at, t, id.into())
                .await?
                .map(|r| r.data.full_name),
            RecordKind::Lead => self
                .leads
                .get(at, t, id.into())
                .await?
                .map(|r| r.data.full_name),
            RecordKind::Order => self
                .orders
                .get(at, t, id.into())
                .await?
                .and_then(|r| r.data.code),
            RecordKind::Ticket => self
                .tickets
                .get(at, t, id.into())
                .await?
                .map(|r| r.data.subject),
            RecordKind::Campaign => self
                .campaigns
                .get(at, t, id.into())
                .await?
                .map(|r| r.data.name),
            RecordKind::Opportunity => self
                .opportunities
                .get(at, t, id.into())
                .await?
                .map(|r| r.data.name),
        })
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
            match self.link_name(w.at(), actor, link.kind, link.id).await? {
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
        self.link_name(w.at(), actor, kind, id)
            .await?
            .map(Some)
            .ok_or_else(|| {
                DomainError::validation(field, format!("{} {id} does not exist", kind.name()))
            })
    }
}
