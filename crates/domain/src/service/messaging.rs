//! Channels and messages: a tenant's channel settings, and messages queued for sending in the
//! unit of work that decides them (the send record and its job commit together).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use super::*;
use crate::ids::TenantId;
use crate::jobs::NewJob;
use crate::messaging::{
    provider_phone, Attempt, Channel, Message, MessageBatch, MessageFilter, MessageJob, SendState,
    Settings, Totals, BATCH, MESSAGE_ATTEMPTS, MESSAGE_BATCH_JOB, MESSAGE_JOB,
};
use crate::settings::Scope;

/// The settings key holding until when a node's claim to refresh the ZNS token runs (never
/// shown: [`Settings::redacted`] shows a scope's own keys only).
const REFRESH_CLAIM: &str = "refresh_claimed_until";
/// How long a claim to refresh the ZNS token holds: longer than the provider call may take
/// (the outbound client's timeout), so a node that died mid-refresh frees it soon.
pub const REFRESH_CLAIM_TTL: Duration = Duration::from_secs(30);

/// Whose turn it is to refresh the ZNS access token ([`Crm::claim_token_refresh`]).
#[derive(Debug)]
pub enum TokenTurn {
    /// A token other than the refused one is stored: use it.
    Current(String),
    /// Another node is refreshing now: ask again shortly.
    Busy,
    /// This caller refreshes, with these settings, and reports back.
    Refresh(Settings),
}

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

/// One e-mail asked for (our `POST /crm/v1/messages`).
#[derive(Debug, Clone, Default)]
pub struct EmailRequest {
    pub to: String,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// What the e-mail belongs to: one e-mail per recipient and campaign. A fresh one when
    /// `None`.
    pub campaign: Option<String>,
}

/// One SMS asked for (our `POST /crm/v1/messages`).
#[derive(Debug, Clone, Default)]
pub struct SmsRequest {
    pub to: String,
    pub text: String,
    pub campaign: Option<String>,
}

/// Longest SMS text accepted, in characters (ten Unicode segments and more).
pub const MAX_SMS: usize = 1_000;

/// Longest e-mail subject, and body (text and HTML together), accepted.
pub const MAX_SUBJECT: usize = 500;
pub const MAX_EMAIL_BODY: usize = 512 * 1024;

/// Largest template data accepted: keys, and characters per value.
pub const MAX_TEMPLATE_KEYS: usize = 50;
pub const MAX_TEMPLATE_VALUE: usize = 1_000;

impl Crm {
    /// A scope's settings (a channel's, the documents') with secrets hidden.
    pub async fn settings<S: Scope>(
        &self,
        actor: &Actor,
        scope: S,
    ) -> DomainResult<BTreeMap<String, String>> {
        let s = self.settings_secrets(actor.tenant_id, scope).await?;
        Ok(s.redacted(scope))
    }

    /// Sets `key=value` pairs of a scope (an empty value removes a key); answers the settings
    /// with secrets hidden.
    pub async fn set_settings<S: Scope>(
        &self,
        actor: &Actor,
        scope: S,
        pairs: &[(String, String)],
    ) -> DomainResult<BTreeMap<String, String>> {
        let s = self
            .change_settings(actor.tenant_id, Some(actor), scope, pairs)
            .await?;
        Ok(s.redacted(scope))
    }

    /// Sets pairs of a tenant's scope in one unit of work: what a job stores (a refreshed
    /// Zalo token), recorded by nobody.
    pub async fn update_settings<S: Scope>(
        &self,
        tenant: TenantId,
        scope: S,
        pairs: &[(String, String)],
    ) -> DomainResult<Settings> {
        self.change_settings(tenant, None, scope, pairs).await
    }

    /// Sets pairs of a scope; a change by someone (`by`) is recorded in the audit trail as
    /// `<scope>_settings.updated` with the keys it changed (secrets only as `set`).
    async fn change_settings<S: Scope>(
        &self,
        tenant: TenantId,
        by: Option<&Actor>,
        scope: S,
        pairs: &[(String, String)],
    ) -> DomainResult<Settings> {
        let mut w = self.begin().await?;
        let before = self.messages.settings(w.at(), tenant, scope.name()).await?;
        let mut s = before.clone();
        s.apply(scope, pairs)?;
        self.messages
            .save_settings(&mut w, tenant, scope.name(), &s)
            .await?;
        if let Some(actor) = by {
            let changes = crate::settings::changes(scope, &before, &s);
            if !changes.is_empty() {
                w.audit(crate::audit::Entry::new(
                    tenant,
                    &crate::audit::By::actor(actor),
                    &format!("{}_settings", scope.name()),
                    "updated",
                    None,
                    Some(serde_json::Value::Object(changes)),
                ));
            }
        }
        w.commit().await?;
        Ok(s)
    }

    /// A scope's settings with their secrets (for the job that sends through a channel).
    pub async fn settings_secrets<S: Scope>(
        &self,
        tenant: TenantId,
        scope: S,
    ) -> DomainResult<Settings> {
        self.messages
            .settings(At::Committed, tenant, scope.name())
            .await
    }

    /// A unit of work holding the tenant's credentials lock, with the ZNS settings read in it.
    async fn zns_credentials(&self, tenant: TenantId) -> DomainResult<(Work, Settings)> {
        let mut w = self.begin().await?;
        w.lock(tenant, crate::work::Lock::Credentials).await?;
        let s = self
            .messages
            .settings(w.at(), tenant, Channel::Zns.name())
            .await?;
        Ok((w, s))
    }

    /// Whose turn it is to refresh the tenant's Zalo OA token, across every node: in one unit
    /// of work under the tenant's credentials lock, the stored token is read again. A token other
    /// than the refused one (`failed`) was stored by another sender meanwhile and is answered; a
    /// refresh claimed by another node and not yet expired answers [`TokenTurn::Busy`];
    /// otherwise the caller claims it for [`REFRESH_CLAIM_TTL`] and must report with
    /// [`Crm::finish_token_refresh`]. No transaction is held while the provider is called, and a
    /// refresh token (spent by use) is used by one node at a time.
    pub async fn claim_token_refresh(
        &self,
        tenant: TenantId,
        failed: Option<&str>,
    ) -> DomainResult<TokenTurn> {
        let (mut w, mut s) = self.zns_credentials(tenant).await?;
        if let Some(current) = s.get("access_token") {
            if Some(current) != failed {
                return Ok(TokenTurn::Current(current.to_owned()));
            }
        }
        let now = crate::auth::now();
        let claimed = s
            .get(REFRESH_CLAIM)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        if claimed.is_some_and(|until| until > now) {
            return Ok(TokenTurn::Busy);
        }
        let until = now + chrono::Duration::from_std(REFRESH_CLAIM_TTL).unwrap_or_default();
        s.values
            .insert(REFRESH_CLAIM.to_owned(), until.to_rfc3339());
        self.messages
            .save_settings(&mut w, tenant, Channel::Zns.name(), &s)
            .await?;
        w.commit().await?;
        s.values.remove(REFRESH_CLAIM);
        Ok(TokenTurn::Refresh(s))
    }

    /// Ends a refresh claimed with [`Crm::claim_token_refresh`]: stores the new token pair when
    /// there is one, and releases the claim either way.
    pub async fn finish_token_refresh(
        &self,
        tenant: TenantId,
        pair: Option<(String, String)>,
    ) -> DomainResult<()> {
        let (mut w, mut s) = self.zns_credentials(tenant).await?;
        s.values.remove(REFRESH_CLAIM);
        if let Some((access, refresh)) = pair {
            s.values.insert("access_token".to_owned(), access);
            s.values.insert("refresh_token".to_owned(), refresh);
        }
        self.messages
            .save_settings(&mut w, tenant, Channel::Zns.name(), &s)
            .await?;
        w.commit().await
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
        self.require_channel(actor.tenant_id, Channel::Zns).await?;
        let content = zns_content(&template_id, &req.template_data, &tracking);
        let campaign = format!("zns:{tracking}");
        self.queue_message(actor, Channel::Zns, campaign, phone, content, None)
            .await
    }

    /// Queues one e-mail through the tenant's e-mail channel; an address that unsubscribed is
    /// recorded as skipped and not sent.
    pub async fn send_email(&self, actor: &Actor, req: EmailRequest) -> DomainResult<Message> {
        let to = crate::text::Email::parse("to", &req.to)?;
        let subject = crate::common::required("subject", Some(req.subject), MAX_SUBJECT)?;
        let text = req.text.unwrap_or_default();
        let html = req.html.unwrap_or_default();
        if text.trim().is_empty() && html.trim().is_empty() {
            return Err(DomainError::validation(
                "text",
                "a text or an HTML body is required",
            ));
        }
        if text.len() + html.len() > MAX_EMAIL_BODY {
            return Err(DomainError::validation(
                "html",
                format!("the body is larger than {MAX_EMAIL_BODY} bytes"),
            ));
        }
        let campaign = crate::common::text("campaign", req.campaign, 200)?
            .unwrap_or_else(|| format!("email:{}", Uuid::now_v7().simple()));
        self.require_channel(actor.tenant_id, Channel::Email)
            .await?;
        let content = email_content(&subject, &text, &html, None, None);
        let recipient = to.key().to_owned();
        let skipped = self
            .is_unsubscribed(actor.tenant_id, Channel::Email, &recipient)
            .await?
            .then_some("unsubscribed");
        self.queue_message(actor, Channel::Email, campaign, recipient, content, skipped)
            .await
    }

    /// Queues one brandname SMS through the tenant's sms channel: without diacritics unless
    /// the channel sends Unicode (`unicode=1`); its segments are counted and recorded.
    pub async fn send_sms(&self, actor: &Actor, req: SmsRequest) -> DomainResult<Message> {
        let phone = provider_phone("to", &req.to)?;
        let text = crate::common::required("text", Some(req.text), MAX_SMS)?;
        let campaign = crate::common::text("campaign", req.campaign, 200)?
            .unwrap_or_else(|| format!("sms:{}", Uuid::now_v7().simple()));
        let settings = self.require_channel(actor.tenant_id, Channel::Sms).await?;
        let content = sms_content(&settings, &text);
        let skipped = self
            .is_unsubscribed(actor.tenant_id, Channel::Sms, &phone)
            .await?
            .then_some("unsubscribed");
        self.queue_message(actor, Channel::Sms, campaign, phone, content, skipped)
            .await
    }

    /// Records an opt-out from a message's link (one click, no sign-in): its recipient gets
    /// no more messages of that channel from the tenant.
    pub async fn unsubscribe(&self, message: Uuid) -> DomainResult<Message> {
        let m = self
            .messages
            .messages_by_id(&[message])
            .await?
            .pop()
            .ok_or(DomainError::not_found("message"))?;
        self.messages
            .unsubscribe(m.tenant_id, m.channel, &m.recipient)
            .await?;
        Ok(m)
    }

    /// The channel's settings, refused when they lack what sending needs.
    pub(crate) async fn require_channel(
        &self,
        tenant: TenantId,
        channel: Channel,
    ) -> DomainResult<Settings> {
        let s = self.settings_secrets(tenant, channel).await?;
        let missing = match channel {
            Channel::Zns if s.get("access_token").is_none() && s.get("refresh_token").is_none() => {
                Some("an access token")
            }
            Channel::Email if s.get("smtp_url").is_none() => Some("smtp_url"),
            Channel::Email if s.get("from").is_none() => Some("from"),
            Channel::Sms => ["api_key", "secret_key", "brandname"]
                .into_iter()
                .find(|k| s.get(k).is_none()),
            _ => None,
        };
        match missing {
            Some(what) => Err(DomainError::validation(
                "channel",
                format!(
                    "the {c} channel needs {what}: set it first (crm channel set … {c})",
                    c = channel.as_str()
                ),
            )),
            None => Ok(s),
        }
    }

    /// Stores a message and enqueues its job, unless the campaign already has one for the
    /// recipient (then that one is answered). With `skip`, the message is stored as skipped
    /// for that reason and no job is queued.
    async fn queue_message(
        &self,
        actor: &Actor,
        channel: Channel,
        campaign: String,
        recipient: String,
        content: String,
        skip: Option<&str>,
    ) -> DomainResult<Message> {
        let state = if skip.is_some() {
            SendState::Skipped
        } else {
            SendState::Queued
        };
        let m = new_message(
            actor.tenant_id,
            channel,
            campaign,
            recipient,
            content,
            state,
            skip,
        );
        let mut w = self.begin().await?;
        if !self.stage_message(&mut w, &m).await? {
            let first = self
                .messages
                .message_to(w.at(), m.tenant_id, channel, &m.campaign, &m.recipient)
                .await?
                .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("message vanished")))?;
            return Ok(first);
        }
        w.commit().await?;
        Ok(m)
    }

    /// Whether `address` unsubscribed from the tenant's `channel`.
    async fn is_unsubscribed(
        &self,
        tenant: TenantId,
        channel: Channel,
        address: &str,
    ) -> DomainResult<bool> {
        Ok(!self
            .messages
            .unsubscribed(At::Committed, tenant, channel, &[address])
            .await?
            .is_empty())
    }

    /// Stores a message and, unless it is final already, the job that sends it, in the caller's
    /// unit of work; `false` (nothing stored) when its campaign has one for the recipient.
    pub(crate) async fn stage_message(&self, w: &mut Work, m: &Message) -> DomainResult<bool> {
        Ok(self.stage_messages(w, std::slice::from_ref(m)).await? == 1)
    }

    /// Stores messages and the jobs that send those not final yet, in the caller's unit of
    /// work: a `MESSAGE_JOB` for a lone message, batch jobs of up to [`BATCH`] for more. Answers
    /// how many were stored: a message whose campaign has one for its recipient is not.
    pub(crate) async fn stage_messages(
        &self,
        w: &mut Work,
        list: &[Message],
    ) -> DomainResult<usize> {
        let stored = self.messages.add_messages(w, list).await?;
        let to_send: Vec<&Message> = list
            .iter()
            .filter(|m| stored.contains(&m.id) && !m.state.is_final())
            .collect();
        for chunk in to_send.chunks(BATCH) {
            let (kind, payload) = match chunk {
                [one] => (
                    MESSAGE_JOB,
                    serde_json::to_string(&MessageJob { message_id: one.id }),
                ),
                // A batch's own retries resend nothing that was attempted: each message is
                // attempted once by it, then has a job of its own.
                _ => (
                    MESSAGE_BATCH_JOB,
                    serde_json::to_string(&MessageBatch {
                        message_ids: chunk.iter().map(|m| m.id).collect(),
                    }),
                ),
            };
            let payload = payload.map_err(|e| DomainError::Internal(e.into()))?;
            let mut job = NewJob::new(chunk[0].tenant_id, kind, payload);
            job.key = Some(chunk[0].id.to_string());
            job.max_attempts = MESSAGE_ATTEMPTS;
            self.enqueue_in(w, job).await?;
        }
        Ok(stored.len())
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
        Ok(self
            .messages
            .totals(actor.tenant_id, &[campaign])
            .await?
            .remove(campaign)
            .unwrap_or_default())
    }

    /// Messages by id alone, for the job sending them.
    pub async fn messages_for_job(&self, ids: &[Uuid]) -> DomainResult<Vec<Message>> {
        self.messages.messages_by_id(ids).await
    }

    /// Records what attempts to send came to, in one unit of work: each message still queued
    /// takes its outcome, and one to retry gets a `MESSAGE_JOB` of its own; `rest` (messages of
    /// a batch not attempted in its run) go on in a new batch job. Wakes whoever waits for a
    /// message that reached its end.
    pub async fn record_sends(
        &self,
        tenant: TenantId,
        attempts: &[Attempt],
        rest: &[Uuid],
    ) -> DomainResult<()> {
        let mut w = self.begin().await?;
        let recorded = self.messages.record(&mut w, attempts).await?;
        self.retry_later(&mut w, tenant, attempts, &recorded)
            .await?;
        if let Some(first) = rest.first() {
            let payload = serde_json::to_string(&MessageBatch {
                message_ids: rest.to_vec(),
            })
            .map_err(|e| DomainError::Internal(e.into()))?;
            let mut job = NewJob::new(tenant, MESSAGE_BATCH_JOB, payload);
            job.key = Some(format!("{first}:rest"));
            job.max_attempts = MESSAGE_ATTEMPTS;
            self.enqueue_in(&mut w, job).await?;
        }
        w.commit().await?;
        self.signal_ended(attempts);
        Ok(())
    }

    /// [`Crm::record_sends`] for the outcomes of several tenants' sends at once (a group commit:
    /// what concurrent batches finished meanwhile), in one unit of work and one statement per
    /// chunk.
    pub async fn record_send_groups(
        &self,
        groups: &[(TenantId, Vec<Attempt>)],
    ) -> DomainResult<()> {
        let all: Vec<Attempt> = groups.iter().flat_map(|(_, a)| a.iter().cloned()).collect();
        // The usual group (outcomes only, no retry to enqueue) is one statement.
        if all.iter().all(|a| a.retry_at.is_none())
            && self.messages.record_alone(&all).await?.is_some()
        {
            self.signal_ended(&all);
            return Ok(());
        }
        let mut w = self.begin().await?;
        let recorded = self.messages.record(&mut w, &all).await?;
        for (tenant, attempts) in groups {
            self.retry_later(&mut w, *tenant, attempts, &recorded)
                .await?;
        }
        w.commit().await?;
        self.signal_ended(&all);
        Ok(())
    }

    /// Enqueues a `MESSAGE_JOB` for each recorded attempt to retry.
    async fn retry_later(
        &self,
        w: &mut Work,
        tenant: TenantId,
        attempts: &[Attempt],
        recorded: &HashSet<Uuid>,
    ) -> DomainResult<()> {
        for a in attempts {
            if let (true, Some(at)) = (recorded.contains(&a.message), a.retry_at) {
                let payload = serde_json::to_string(&MessageJob {
                    message_id: a.message,
                })
                .map_err(|e| DomainError::Internal(e.into()))?;
                let mut job = NewJob::new(tenant, MESSAGE_JOB, payload);
                job.key = Some(a.message.to_string());
                job.run_at = Some(at);
                // The batch's attempt counts.
                job.max_attempts = MESSAGE_ATTEMPTS - 1;
                self.enqueue_in(w, job).await?;
            }
        }
        Ok(())
    }

    fn signal_ended(&self, attempts: &[Attempt]) {
        if self.message_done.receiver_count() == 0 {
            return;
        }
        for a in attempts.iter().filter(|a| a.outcome.state.is_final()) {
            // Nobody waiting is not an error.
            let _ = self.message_done.send(a.message);
        }
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

/// A new send record, not yet stored.
pub(crate) fn new_message(
    tenant: TenantId,
    channel: Channel,
    campaign: String,
    recipient: String,
    content: String,
    state: SendState,
    reason: Option<&str>,
) -> Message {
    let now = crate::auth::now();
    Message {
        seq: 0,
        id: Uuid::now_v7(),
        tenant_id: tenant,
        channel,
        campaign,
        recipient,
        content,
        state,
        provider_id: None,
        reason: reason.map(str::to_owned),
        answer: None,
        attempts: 0,
        created_at: now,
        updated_at: now,
        sent_at: None,
    }
}

/// What a ZNS job sends: the template, its data, and the id Zalo is given for the message.
pub(crate) fn zns_content(
    template_id: &str,
    data: &BTreeMap<String, String>,
    tracking: &str,
) -> String {
    serde_json::json!({
        "template_id": template_id,
        "template_data": data,
        "tracking_id": tracking,
    })
    .to_string()
}

/// What an e-mail job sends. Without a text part, the HTML's text stands in (mail clients show
/// one or the other).
pub(crate) fn email_content(
    subject: &str,
    text: &str,
    html: &str,
    from_name: Option<&str>,
    reply_to: Option<&str>,
) -> String {
    let text = if text.trim().is_empty() {
        crate::text::html_to_text(html)
    } else {
        text.to_owned()
    };
    let mut v = serde_json::json!({"subject": subject, "text": text, "html": html});
    if let Some(name) = from_name {
        v["from_name"] = name.into();
    }
    if let Some(to) = reply_to {
        v["reply_to"] = to.into();
    }
    v.to_string()
}

/// What an SMS job sends: without diacritics unless the channel sends Unicode (`unicode=1`),
/// with its segments counted.
pub(crate) fn sms_content(settings: &Settings, text: &str) -> String {
    let unicode = matches!(settings.get("unicode"), Some("1" | "true"));
    let body = if unicode {
        text.to_owned()
    } else {
        crate::text::strip_diacritics(text)
    };
    let (segments, ucs2) = crate::text::sms_segments(&body);
    serde_json::json!({"text": body, "segments": segments, "unicode": ucs2}).to_string()
}
