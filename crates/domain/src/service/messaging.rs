//! Channels and messages: a tenant's channel settings, and messages queued for sending in the
//! unit of work that decides them (the send record and its job commit together).

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::ids::TenantId;
use crate::jobs::NewJob;
use crate::messaging::{
    provider_phone, Channel, Message, MessageFilter, MessageJob, Outcome, SendState, Settings,
    Totals, MESSAGE_ATTEMPTS, MESSAGE_JOB,
};

/// A Zalo ZNS message asked for (NextX E38).
#[derive(Debug, Clone, Default)]
pub struct ZnsRequest {
    pub phone: String,
    pub template_id: String,
    /// The template's parameters; values are sent as strings.
    pub template_data: BTreeMap<String, String>,
    /// The caller's id for the message: sending the same one again sends nothing more.
    pub tracking_id: Option<String>,
}

/// Largest template data accepted: keys, and characters per value.
pub const MAX_TEMPLATE_KEYS: usize = 50;
pub const MAX_TEMPLATE_VALUE: usize = 1_000;

impl Crm {
    /// A channel's settings with secrets hidden.
    pub async fn channel(
        &self,
        actor: &Actor,
        channel: Channel,
    ) -> DomainResult<BTreeMap<String, String>> {
        let s = self
            .messages
            .settings(At::Committed, actor.tenant_id, channel)
            .await?;
        Ok(s.redacted(channel))
    }

    /// Sets `key=value` pairs of a channel (an empty value removes a key); answers the settings
    /// with secrets hidden.
    pub async fn set_channel(
        &self,
        actor: &Actor,
        channel: Channel,
        pairs: &[(String, String)],
    ) -> DomainResult<BTreeMap<String, String>> {
        let s = self.update_channel(actor.tenant_id, channel, pairs).await?;
        Ok(s.redacted(channel))
    }

    /// Sets pairs of a tenant's channel in one unit of work (also what a token refresh stores).
    pub async fn update_channel(
        &self,
        tenant: TenantId,
        channel: Channel,
        pairs: &[(String, String)],
    ) -> DomainResult<Settings> {
        let mut w = self.begin().await?;
        let mut s = self.messages.settings(w.at(), tenant, channel).await?;
        s.apply(channel, pairs)?;
        self.messages
            .save_settings(&mut w, tenant, channel, &s)
            .await?;
        w.commit().await?;
        Ok(s)
    }

    /// A channel's settings with their secrets, for the job that sends through it.
    pub async fn channel_secrets(
        &self,
        tenant: TenantId,
        channel: Channel,
    ) -> DomainResult<Settings> {
        self.messages.settings(At::Committed, tenant, channel).await
    }

    /// Queues one ZNS message (its send record and its job, in one unit of work). The same
    /// tracking id to the same number answers the first message and sends nothing more.
    pub async fn send_zns(&self, actor: &Actor, req: ZnsRequest) -> DomainResult<Message> {
        let phone = provider_phone("phone", &req.phone)?;
        let template_id = crate::common::required("template_id", Some(req.template_id), 64)?;
        if req.template_data.len() > MAX_TEMPLATE_KEYS {
            return Err(DomainError::validation(
                "template_data",
                format!("at most {MAX_TEMPLATE_KEYS} parameters"),
            ));
        }
        for (k, v) in &req.template_data {
            if k.is_empty() || k.len() > 64 || v.chars().count() > MAX_TEMPLATE_VALUE {
                return Err(DomainError::validation(
                    format!("template_data.{k}"),
                    format!("keys are 1 to 64 characters, values at most {MAX_TEMPLATE_VALUE}"),
                ));
            }
        }
        let tracking = crate::common::text("tracking_id", req.tracking_id, 64)?
            .unwrap_or_else(|| Uuid::now_v7().simple().to_string());
        let settings = self.channel_secrets(actor.tenant_id, Channel::Zns).await?;
        if settings.get("access_token").is_none() && settings.get("refresh_token").is_none() {
            return Err(DomainError::validation(
                "channel",
                "the zns channel has no access token: set it first (crm channel set … zns)",
            ));
        }
        let content = serde_json::json!({
            "template_id": template_id,
            "template_data": req.template_data,
            "tracking_id": tracking,
        })
        .to_string();
        let campaign = format!("zns:{tracking}");
        self.queue_message(actor, Channel::Zns, campaign, phone, content)
            .await
    }

    /// Stores a message and enqueues its job, unless the campaign already has one for the
    /// recipient (then that one is answered).
    async fn queue_message(
        &self,
        actor: &Actor,
        channel: Channel,
        campaign: String,
        recipient: String,
        content: String,
    ) -> DomainResult<Message> {
        let now = crate::auth::now();
        let m = Message {
            id: Uuid::now_v7(),
            tenant_id: actor.tenant_id,
            channel,
            campaign,
            recipient,
            content,
            state: SendState::Queued,
            provider_id: None,
            reason: None,
            answer: None,
            attempts: 0,
            created_at: now,
            updated_at: now,
            sent_at: None,
        };
        let mut w = self.begin().await?;
        if !self.messages.add_message(&mut w, &m).await? {
            let first = self
                .messages
                .message_to(w.at(), m.tenant_id, channel, &m.campaign, &m.recipient)
                .await?
                .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("message vanished")))?;
            return Ok(first);
        }
        let payload = serde_json::to_string(&MessageJob { message_id: m.id })
            .map_err(|e| DomainError::Internal(e.into()))?;
        let mut job = NewJob::new(actor.tenant_id, MESSAGE_JOB, payload);
        job.key = Some(m.id.to_string());
        job.max_attempts = MESSAGE_ATTEMPTS;
        self.enqueue_in(&mut w, job).await?;
        w.commit().await?;
        Ok(m)
    }

    pub async fn message(&self, actor: &Actor, id: Uuid) -> DomainResult<Message> {
        self.messages
            .message(actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found("message"))
    }

    /// Newest first.
    pub async fn messages(
        &self,
        actor: &Actor,
        filter: &MessageFilter,
        page: PageRequest,
    ) -> DomainResult<Vec<Message>> {
        self.messages.messages(actor.tenant_id, filter, page).await
    }

    /// How many of a campaign's messages are in each state.
    pub async fn message_totals(&self, actor: &Actor, campaign: &str) -> DomainResult<Totals> {
        self.messages.totals(actor.tenant_id, campaign).await
    }

    /// A message by id alone, for the job sending it.
    pub async fn message_for_job(&self, id: Uuid) -> DomainResult<Option<Message>> {
        self.messages.message_by_id(id).await
    }

    /// Records what an attempt to send a message came to, and wakes whoever waits for it.
    pub async fn record_send(&self, id: Uuid, outcome: &Outcome) -> DomainResult<()> {
        self.messages.record(id, outcome).await?;
        if outcome.state.is_final() {
            // Nobody waiting is not an error.
            let _ = self.message_done.send(id);
        }
        Ok(())
    }

    /// The message once it is sent, failed or skipped, or as it stands after `wait`.
    pub async fn wait_message(
        &self,
        actor: &Actor,
        id: Uuid,
        wait: Duration,
    ) -> DomainResult<Message> {
        let mut done = self.message_done.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let m = self.message(actor, id).await?;
            if m.state.is_final() {
                return Ok(m);
            }
            // Another node may send it: look again now and then even without a signal.
            let step = tokio::time::Instant::now() + Duration::from_millis(500);
            let until = step.min(deadline);
            loop {
                match tokio::time::timeout_at(until, done.recv()).await {
                    Ok(Ok(got)) if got == id => break,
                    Ok(Ok(_)) => continue,
                    // Lagged or closed: look at the record.
                    Ok(Err(_)) | Err(_) => break,
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return self.message(actor, id).await;
            }
        }
    }
}
