//! Templates and e-mail and Zalo campaigns: what they refer to, and what refers to them.

use super::*;

/// Marketing campaigns.
impl Crm {
    /// Refuses to delete a segment or template a marketing campaign still uses.
    pub(super) async fn refuse_if_marketing_uses(
        &self,
        w: &mut Work,
        actor: &Actor,
        field: Field,
        id: uuid::Uuid,
        what: &str,
    ) -> DomainResult<()> {
        let f = Filter::id(field, id);
        let used = self.count_at::<EmailCampaign>(w.at(), actor, &f).await?
            + self.count_at::<ZaloCampaign>(w.at(), actor, &f).await?;
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
        w: &mut Work,
        actor: &Actor,
        field: &str,
        id: Option<crate::ids::TemplateId>,
        kind: i32,
    ) -> DomainResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        let t = self
            .templates
            .get(w.at(), actor.tenant_id, id)
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
        w: &mut Work,
        actor: &Actor,
        id: Option<crate::ids::SegmentId>,
    ) -> DomainResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        Ok(Some(
            self.segments
                .get(w.at(), actor.tenant_id, id)
                .await?
                .ok_or_else(|| {
                    DomainError::validation("segment_id", format!("segment {id} does not exist"))
                })?
                .data
                .name,
        ))
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
    async fn check_delete(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: Self::Id,
    ) -> DomainResult<()> {
        crm.refuse_if_marketing_uses(w, actor, Field::Template, id.0, "template")
            .await
    }
}

#[async_trait]
impl Managed for EmailCampaign {
    type Input = EmailCampaignInput;
    fn validate(input: EmailCampaignInput) -> DomainResult<Self::Data> {
        input.validate()
    }
    const FILES: Option<FileOwner> = Some(FileOwner::EmailCampaign);
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.email_campaigns.as_ref()
    }
    async fn check_refs(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        data: &mut Self::Data,
    ) -> DomainResult<()> {
        data.template_name = crm
            .template_name(
                w,
                actor,
                "template_id",
                data.template_id,
                crate::template::KIND_EMAIL,
            )
            .await?;
        data.segment_name = crm.segment_name(w, actor, data.segment_id).await?;
        Ok(())
    }
}

#[async_trait]
impl Managed for ZaloCampaign {
    type Input = ZaloCampaignData;
    fn validate(input: ZaloCampaignData) -> DomainResult<Self::Data> {
        input.validate()
    }
    const FILES: Option<FileOwner> = Some(FileOwner::ZaloCampaign);
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.zalo_campaigns.as_ref()
    }
    async fn check_refs(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        data: &mut Self::Data,
    ) -> DomainResult<()> {
        data.sms_template_name = crm
            .template_name(
                w,
                actor,
                "sms_template_id",
                data.sms_template_id,
                crate::template::KIND_SMS,
            )
            .await?;
        data.segment_name = crm.segment_name(w, actor, data.segment_id).await?;
        Ok(())
    }
}
