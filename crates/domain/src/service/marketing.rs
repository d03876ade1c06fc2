//! Templates and e-mail and Zalo campaigns: what they refer to, what refers to them, and how
//! they send (a plan for `crate::campaign`).

use std::collections::BTreeMap;

use super::*;
use crate::campaign::{field_key, Audience, BlastContent, BlastPlan};
use crate::marketing::{
    EmailCampaignData, SEND_SCHEDULED, STATUS_CANCELLED, STATUS_SCHEDULED, STATUS_SENDING,
    STATUS_SENT,
};

/// Zalo campaign channels (ours; the doc names `MaktZaloChannel` without values).
pub const ZALO_CHANNEL_ZNS: i32 = 1;
pub const ZALO_CHANNEL_SMS: i32 = 2;

/// The campaign key of an e-mail or a Zalo marketing campaign's messages.
pub fn email_campaign_key(id: crate::ids::EmailCampaignId) -> String {
    format!("email-campaign:{id}")
}
pub fn zalo_campaign_key(id: crate::ids::ZaloCampaignId) -> String {
    format!("zalo-campaign:{id}")
}

/// Who changes a campaign's status as its send moves on.
pub(crate) fn sender(tenant: crate::ids::TenantId) -> Actor {
    Actor {
        tenant_id: tenant,
        id: Uuid::nil(),
        name: "campaign sender".to_owned(),
        account: String::new(),
        time_zone: chrono_tz::UTC,
    }
}

/// A `{param: source}` mapping as callers write it: a JSON object (a source is a template
/// such as `Đơn {{code}}`, or a field name), or names separated by `,` or `;`, each filled from
/// the recipient's field of the same name.
pub fn param_map(text: Option<&str>) -> BTreeMap<String, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return BTreeMap::new();
    };
    let as_template = |v: &str| {
        if v.contains("{{") {
            v.to_owned()
        } else {
            format!("{{{{{}}}}}", v.trim())
        }
    };
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(text) {
        return m
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) if !s.trim().is_empty() => s.clone(),
                    serde_json::Value::String(_) | serde_json::Value::Null => k.clone(),
                    other => other.to_string(),
                };
                (k.clone(), as_template(&v))
            })
            .collect();
    }
    text.split([',', ';'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| (n.to_owned(), as_template(n)))
        .collect()
}

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

    /// A template's content, read in the work.
    async fn template_content(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: Option<crate::ids::TemplateId>,
    ) -> DomainResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        Ok(self
            .templates
            .get(w.at(), actor.tenant_id, id)
            .await?
            .map(|t| t.data.content))
    }

    /// Creates (`id` `None`) or updates a record and replaces its file, in one unit of work
    /// (so that a campaign that sends at once sends to the list uploaded with it); `path`
    /// records the stored file on the record (its download path).
    pub async fn save_with_file<E: Managed>(
        &self,
        actor: &Actor,
        id: Option<E::Id>,
        input: E::Input,
        file: Option<Upload>,
        path: impl FnOnce(&StoredFile, &mut E::Data) + Send,
    ) -> DomainResult<E::Id>
    where
        E::Data: Clone,
    {
        let data = E::validate(input)?;
        let mut w = self.begin().await?;
        let id = match id {
            None => self.insert_checked::<E>(&mut w, actor, data).await?,
            Some(id) => {
                self.update_checked::<E>(&mut w, actor, id, data).await?;
                id
            }
        };
        if let (Some(owner), Some(file)) = (E::FILES, file) {
            self.files
                .remove_owned(&mut w, actor, owner, id.into())
                .await?;
            let stored = self
                .files
                .save(&mut w, actor, owner, id.into(), file)
                .await?;
            let record = self.lock_in::<E>(&mut w, actor, id).await?;
            let mut data = record.data().clone();
            path(&stored, &mut data);
            E::repo(self).update(&mut w, actor, id, data).await?;
            // Again, now that the record has its file.
            E::after_save(self, &mut w, actor, id).await?;
        }
        w.commit().await?;
        Ok(id)
    }

    /// Plans an e-mail campaign's send when it says to send (now or at its appointment) and
    /// has an e-mail template and recipients (its segment, its uploaded list, read when it runs).
    async fn plan_email_campaign(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: crate::ids::EmailCampaignId,
    ) -> DomainResult<()> {
        let Some(c) = self
            .email_campaigns
            .get(w.at(), actor.tenant_id, id)
            .await?
        else {
            return Ok(());
        };
        let d: &EmailCampaignData = &c.data;
        let Some(html) = self.template_content(w, actor, d.template_id).await? else {
            return Ok(());
        };
        let audience = Audience {
            segments: d.segment_id.into_iter().collect(),
            file: d
                .file_path
                .is_some()
                .then_some((FileOwner::EmailCampaign, id.0)),
            ..Audience::default()
        };
        if audience.is_empty() {
            return Ok(());
        }
        let plan = BlastPlan {
            name: d.name.clone(),
            content: BlastContent::Email {
                subject: d.subject.clone().unwrap_or_else(|| d.name.clone()),
                html,
                text: None,
                from_name: d.display_name.clone(),
                reply_to: d.from.as_ref().map(|e| e.as_str().to_owned()),
            },
            audience,
            at: (d.send_type == SEND_SCHEDULED)
                .then_some(d.appointment_date)
                .flatten(),
            defaults: BTreeMap::new(),
        };
        self.plan_blast_in(w, actor, email_campaign_key(id), &plan)
            .await?;
        Ok(())
    }

    /// Plans a Zalo campaign's send: a ZNS template with its parameters mapped from the
    /// recipient's fields (channel 1), or the SMS template through the SMS channel (2).
    async fn plan_zalo_campaign(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: crate::ids::ZaloCampaignId,
    ) -> DomainResult<()> {
        let Some(c) = self.zalo_campaigns.get(w.at(), actor.tenant_id, id).await? else {
            return Ok(());
        };
        let d: &ZaloCampaignData = &c.data;
        let content = match d.channel.unwrap_or(ZALO_CHANNEL_ZNS) {
            ZALO_CHANNEL_SMS => match self.template_content(w, actor, d.sms_template_id).await? {
                Some(text) => BlastContent::Sms { text },
                None => return Ok(()),
            },
            _ => match &d.zns_template_id {
                Some(template_id) => BlastContent::Zns {
                    template_id: template_id.clone(),
                    params: param_map(d.zns_template_param.as_deref()),
                },
                None => return Ok(()),
            },
        };
        // `excelHeader` maps fields to the file's columns, written like the parameters.
        let columns = param_map(d.excel_header.as_deref())
            .into_iter()
            .map(|(field, source)| (field, source.trim_matches(['{', '}']).to_owned()))
            .filter(|(field, _)| !field_key(field).is_empty())
            .collect();
        let audience = Audience {
            segments: d.segment_id.into_iter().collect(),
            file: d
                .file_path
                .is_some()
                .then_some((FileOwner::ZaloCampaign, id.0)),
            columns,
            ..Audience::default()
        };
        if audience.is_empty() {
            return Ok(());
        }
        let plan = BlastPlan {
            name: d.name.clone(),
            content,
            audience,
            at: (d.send_type == SEND_SCHEDULED)
                .then_some(d.appointment_date)
                .flatten(),
            defaults: BTreeMap::new(),
        };
        self.plan_blast_in(w, actor, zalo_campaign_key(id), &plan)
            .await?;
        Ok(())
    }

    /// Sets a marketing campaign's status to follow its send (a campaign key of another kind
    /// changes nothing).
    pub(crate) async fn follow_blast(
        &self,
        w: &mut Work,
        tenant: crate::ids::TenantId,
        campaign: &str,
        state: crate::campaign::BlastState,
    ) -> DomainResult<()> {
        use crate::campaign::BlastState;
        let status = match state {
            BlastState::Scheduled => STATUS_SCHEDULED,
            BlastState::Running => STATUS_SENDING,
            BlastState::Done => STATUS_SENT,
            BlastState::Cancelled => STATUS_CANCELLED,
        };
        let (kind, id) = campaign.split_once(':').unwrap_or_default();
        let Ok(id) = id.parse::<Uuid>() else {
            return Ok(());
        };
        let actor = sender(tenant);
        match kind {
            "email-campaign" => {
                let id = crate::ids::EmailCampaignId(id);
                if let Some(c) = self.email_campaigns.get(w.at(), tenant, id).await? {
                    if c.data.status != status {
                        let mut d = c.data;
                        d.status = status;
                        self.email_campaigns.update(w, &actor, id, d).await?;
                    }
                }
            }
            "zalo-campaign" => {
                let id = crate::ids::ZaloCampaignId(id);
                if let Some(c) = self.zalo_campaigns.get(w.at(), tenant, id).await? {
                    if c.data.status != status {
                        let mut d = c.data;
                        d.status = status;
                        self.zalo_campaigns.update(w, &actor, id, d).await?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
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
    async fn after_save(crm: &Crm, w: &mut Work, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        crm.plan_email_campaign(w, actor, id).await
    }
    async fn check_delete(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: Self::Id,
    ) -> DomainResult<()> {
        crm.cancel_blast_in(w, actor.tenant_id, &email_campaign_key(id))
            .await
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
    async fn after_save(crm: &Crm, w: &mut Work, actor: &Actor, id: Self::Id) -> DomainResult<()> {
        crm.plan_zalo_campaign(w, actor, id).await
    }
    async fn check_delete(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: Self::Id,
    ) -> DomainResult<()> {
        crm.cancel_blast_in(w, actor.tenant_id, &zalo_campaign_key(id))
            .await
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
