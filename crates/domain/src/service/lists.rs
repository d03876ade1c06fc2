//! Segments and campaigns: their rules and their members.

use super::*;

/// Segment and campaign members.
impl Crm {
    async fn check_list(
        &self,
        at: At<'_>,
        actor: &Actor,
        list: ListKind,
        id: uuid::Uuid,
    ) -> DomainResult<()> {
        let t = actor.tenant_id;
        let found = match list {
            ListKind::Segment => self.segments.get(at, t, id.into()).await?.is_some(),
            ListKind::Campaign => self.campaigns.get(at, t, id.into()).await?.is_some(),
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
        let mut w = self.begin().await?;
        self.check_list(w.at(), actor, list, list_id).await?;
        ids.sort_unstable();
        ids.dedup();
        let found = self
            .members
            .existing(w.at(), actor.tenant_id, kind, &ids)
            .await?;
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
        let added = self
            .members
            .add_members(&mut w, actor, list, list_id, kind, &ids)
            .await?;
        // On the list's trail: which records were named, and how many were new.
        let mut entry = crate::audit::Entry::by_actor(actor, list.name(), "members_added", list_id);
        entry.changes = Some(serde_json::json!({
            "members": {"before": null, "after": {"kind": kind.name(), "ids": ids, "added": added}},
        }));
        w.audit(entry);
        w.commit().await?;
        Ok(added)
    }

    /// Removes member rows; all must belong to the list (when given), else none is removed.
    pub async fn remove_members(
        &self,
        actor: &Actor,
        list: ListKind,
        list_id: Option<uuid::Uuid>,
        ids: &[crate::ids::MemberId],
    ) -> DomainResult<()> {
        if ids.is_empty() {
            return Err(DomainError::validation(
                "ids",
                "must name at least one member",
            ));
        }
        let mut w = self.begin().await?;
        if let Some(id) = list_id {
            self.check_list(w.at(), actor, list, id).await?;
        }
        if self
            .members
            .remove_members(&mut w, actor, list, list_id, ids)
            .await?
        {
            // On the list's trail (or the kind's, when no list was named): the member rows.
            let rows: Vec<i64> = ids.iter().map(|m| m.0).collect();
            w.audit(crate::audit::Entry::new(
                actor.tenant_id,
                &crate::audit::By::actor(actor),
                list.name(),
                "members_removed",
                list_id,
                Some(serde_json::json!({"members": {"before": {"rows": rows}, "after": null}})),
            ));
            w.commit().await
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
        self.check_list(At::Committed, actor, list, list_id).await?;
        self.members
            .search_members(actor.tenant_id, list, list_id, kind, text, page)
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
    async fn check_delete(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: Self::Id,
    ) -> DomainResult<()> {
        crm.refuse_if_marketing_uses(w, actor, Field::Segment, id.0, "segment")
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
