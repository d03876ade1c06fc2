//! Campaign sends: a plan stored with its campaign, then fanned out page by page into one send
//! record per recipient (`crate::campaign`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::messaging::{email_content, new_message, sms_content, zns_content};
use super::*;
use crate::campaign::{
    fill, Audience, Blast, BlastContent, BlastJob, BlastPlan, BlastState, Recipient, BLAST_JOB,
    PAGE,
};
use crate::ids::TenantId;
use crate::jobs::NewJob;
use crate::messaging::{provider_phone, Channel, Message, SendState, Settings, Totals};
use crate::search::Value;

/// Attempts of a fan-out job (each resumes where the last one stopped).
const BLAST_ATTEMPTS: i32 = 20;

/// One part of an audience, walked in turn.
enum Part {
    Others,
    Customers(Filter),
    Leads,
    Members(ListKind, Uuid),
    File,
}

/// The last few recipient lists read, by file.
#[derive(Clone, Default)]
pub(crate) struct SheetCache(Arc<std::sync::Mutex<Vec<Sheet>>>);

/// A file's rows.
type Sheet = (crate::ids::FileId, Arc<crate::sheet::Sheet>);

/// Lists kept: one per campaign being fanned out at once on this node, about.
const SHEETS_KEPT: usize = 4;

impl SheetCache {
    fn get(&self, id: crate::ids::FileId) -> Option<Arc<crate::sheet::Sheet>> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|(f, _)| *f == id)
            .map(|(_, rows)| rows.clone())
    }

    fn put(&self, id: crate::ids::FileId, rows: Arc<crate::sheet::Sheet>) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|(f, _)| *f != id);
        if kept.len() >= SHEETS_KEPT {
            kept.remove(0);
        }
        kept.push((id, rows));
    }
}

/// A campaign's send as callers see it: its blast and its messages' totals.
#[derive(Debug, Clone)]
pub struct BlastView {
    pub blast: Blast,
    pub totals: Totals,
}

impl Crm {
    /// Plans a campaign's send in the caller's unit of work: stored with the job that fans it
    /// out at the plan's time. A campaign sends once: re-planning one that has started changes
    /// nothing (`false`); one still waiting takes the new plan and time.
    pub(crate) async fn plan_blast_in(
        &self,
        w: &mut Work,
        actor: &Actor,
        campaign: String,
        plan: &BlastPlan,
    ) -> DomainResult<bool> {
        plan.validate()?;
        let channel = plan.content.channel();
        self.require_channel(actor.tenant_id, channel).await?;
        self.check_audience(w, actor, &plan.audience).await?;
        let existing = self
            .blasts
            .lock_blast(w, actor.tenant_id, &campaign)
            .await?;
        if let Some(b) = existing
            .as_ref()
            .filter(|b| matches!(b.state, BlastState::Running | BlastState::Done))
        {
            self.follow_blast(w, actor.tenant_id, &campaign, b.state)
                .await?;
            return Ok(false);
        }
        let now = crate::auth::now();
        let run_at = plan.at.filter(|t| *t > now).unwrap_or(now);
        let version = existing.as_ref().map_or(1, |b| b.version + 1);
        let blast = Blast {
            tenant_id: actor.tenant_id,
            campaign: campaign.clone(),
            name: plan.name.clone(),
            channel,
            state: BlastState::Scheduled,
            plan: serde_json::to_string(plan).map_err(|e| DomainError::Internal(e.into()))?,
            version,
            run_at,
            cursor_part: 0,
            cursor_pos: 0,
            recipients: 0,
            duplicates: 0,
            started_at: None,
            finished_at: None,
            created_at: existing.map_or(now, |b| b.created_at),
            updated_at: now,
        };
        self.blasts.save_blast(w, &blast).await?;
        self.enqueue_blast(w, &blast, format!("{campaign}:v{version}"), run_at)
            .await?;
        self.follow_blast(w, actor.tenant_id, &campaign, BlastState::Scheduled)
            .await?;
        Ok(true)
    }

    async fn enqueue_blast(
        &self,
        w: &mut Work,
        b: &Blast,
        key: String,
        at: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<()> {
        let payload = serde_json::to_string(&BlastJob {
            campaign: b.campaign.clone(),
            version: b.version,
        })
        .map_err(|e| DomainError::Internal(e.into()))?;
        let mut job = NewJob::new(b.tenant_id, BLAST_JOB, payload);
        job.key = Some(key);
        job.run_at = Some(at);
        job.max_attempts = BLAST_ATTEMPTS;
        self.enqueue_in(w, job).await?;
        Ok(())
    }

    /// Refuses an audience naming groups or sales campaigns the tenant does not have.
    async fn check_audience(&self, w: &mut Work, actor: &Actor, a: &Audience) -> DomainResult<()> {
        if !a.groups.is_empty() {
            let found = self.group_ids(w, actor.tenant_id, &a.groups).await?;
            if found.len() < a.groups.len() {
                return Err(DomainError::validation(
                    "customer_groups",
                    "names a customer group that does not exist",
                ));
            }
        }
        if !a.lists.is_empty() {
            let f = Filter::In {
                field: Field::Seq,
                values: a.lists.iter().map(|s| Value::Int(*s)).collect(),
            };
            let n = self.count_at::<Campaign>(w.at(), actor, &f).await?;
            if n < a.lists.len() as u64 {
                return Err(DomainError::validation(
                    "campaign",
                    "names a campaign that does not exist",
                ));
            }
        }
        for id in &a.segments {
            if self
                .segments
                .get(w.at(), actor.tenant_id, *id)
                .await?
                .is_none()
            {
                return Err(DomainError::validation(
                    "segment_id",
                    format!("segment {id} does not exist"),
                ));
            }
        }
        Ok(())
    }

    async fn group_ids(
        &self,
        w: &mut Work,
        tenant: TenantId,
        seqs: &[i64],
    ) -> DomainResult<Vec<Value>> {
        let f = Filter::In {
            field: Field::Seq,
            values: seqs.iter().map(|s| Value::Int(*s)).collect(),
        };
        let page = PageRequest::new(1, crate::search::MAX_PAGE_SIZE)?;
        let mut out = Vec::new();
        let found = self.groups.search(w.at(), tenant, &f, page).await?;
        out.extend(found.items.iter().map(|g| Value::Id(g.id.0)));
        Ok(out)
    }

    /// Stops a campaign's send that has not started (its campaign is deleted).
    pub(crate) async fn cancel_blast_in(
        &self,
        w: &mut Work,
        tenant: TenantId,
        campaign: &str,
    ) -> DomainResult<()> {
        if let Some(mut b) = self.blasts.lock_blast(w, tenant, campaign).await? {
            if b.state == BlastState::Scheduled {
                b.state = BlastState::Cancelled;
                b.updated_at = crate::auth::now();
                self.blasts.save_blast(w, &b).await?;
                self.follow_blast(w, tenant, campaign, b.state).await?;
            }
        }
        Ok(())
    }

    /// Campaign sends with their messages' totals, by campaign key (those that have one).
    pub async fn blasts(
        &self,
        actor: &Actor,
        campaigns: &[String],
    ) -> DomainResult<Vec<BlastView>> {
        let found = self.blasts.blasts(actor.tenant_id, campaigns).await?;
        self.with_totals(actor, found).await
    }

    /// The tenant's last `limit` campaign sends, the latest planned first, with their totals.
    pub async fn latest_blasts(&self, actor: &Actor, limit: u32) -> DomainResult<Vec<BlastView>> {
        let found = self
            .blasts
            .latest_blasts(actor.tenant_id, limit.min(crate::search::MAX_PAGE_SIZE))
            .await?;
        self.with_totals(actor, found).await
    }

    async fn with_totals(&self, actor: &Actor, found: Vec<Blast>) -> DomainResult<Vec<BlastView>> {
        let keys: Vec<&str> = found.iter().map(|b| b.campaign.as_str()).collect();
        let mut totals = self.messages.totals(actor.tenant_id, &keys).await?;
        Ok(found
            .into_iter()
            .map(|blast| BlastView {
                totals: totals.remove(&blast.campaign).unwrap_or_default(),
                blast,
            })
            .collect())
    }

    /// The campaign keys whose name contains `text`.
    pub async fn campaigns_named(&self, actor: &Actor, text: &str) -> DomainResult<Vec<String>> {
        self.blasts
            .campaigns_named(
                actor.tenant_id,
                text,
                crate::search::MAX_FILTER_VALUES as u32,
            )
            .await
    }

    /// Fans a campaign out, one page of recipients per unit of work, for about `budget`; then,
    /// if recipients remain, leaves a job to go on. A page commits with the blast's cursor, so a
    /// run cut off anywhere resumes after the last page that committed.
    pub async fn run_blast(
        &self,
        tenant: TenantId,
        job: &BlastJob,
        budget: Duration,
    ) -> DomainResult<()> {
        let started = Instant::now();
        loop {
            let page_started = Instant::now();
            let mut w = self.begin().await?;
            let Some(mut b) = self
                .blasts
                .lock_blast(&mut w, tenant, &job.campaign)
                .await?
            else {
                return Ok(());
            };
            if b.version != job.version
                || matches!(b.state, BlastState::Done | BlastState::Cancelled)
            {
                return Ok(());
            }
            let plan: BlastPlan = serde_json::from_str(&b.plan)
                .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored plan: {e}")))?;
            let now = crate::auth::now();
            let was = b.state;
            if b.state == BlastState::Scheduled {
                b.state = BlastState::Running;
                b.started_at = Some(now);
            }
            let settings = self.settings_secrets(tenant, b.channel).await?;
            let parts = self.parts(&mut w, tenant, &plan.audience).await?;
            let mut finished = false;
            match parts.get(b.cursor_part as usize) {
                None => finished = true,
                Some(part) => {
                    let (recipients, next) = self
                        .read_part(&mut w, tenant, &plan.audience, part, b.cursor_pos)
                        .await?;
                    let mut page = Vec::with_capacity(recipients.len());
                    for mut r in recipients.iter().cloned() {
                        for (k, v) in &plan.defaults {
                            if r.value(k).is_none() && !v.trim().is_empty() {
                                r.set(k, v.clone());
                            }
                        }
                        page.push(render(tenant, &b.campaign, &plan.content, &settings, &r));
                    }
                    self.skip_unsubscribed(&mut w, tenant, b.channel, &mut page)
                        .await?;
                    let stored = self.stage_messages(&mut w, &page).await?;
                    b.duplicates += (page.len() - stored) as i64;
                    b.recipients += recipients.len() as i64;
                    match next {
                        Some(pos) => b.cursor_pos = pos,
                        None => {
                            b.cursor_part += 1;
                            b.cursor_pos = 0;
                            finished = b.cursor_part as usize >= parts.len();
                        }
                    }
                }
            }
            b.updated_at = now;
            // Decided once: a run that stops must have left the job that goes on.
            let hand_over = !finished && started.elapsed() >= budget;
            if finished {
                b.state = BlastState::Done;
                b.finished_at = Some(now);
            } else if hand_over {
                // The key names the cursor: a page repeated after a crash finds it queued.
                let key = format!(
                    "{}:v{}:{}:{}",
                    b.campaign, b.version, b.cursor_part, b.cursor_pos
                );
                // Due as of the campaign's start: the run that goes on is claimed before the
                // sending batches this one queued, so that sending never runs dry meanwhile.
                let due = b.started_at.unwrap_or(now).min(now);
                self.enqueue_blast(&mut w, &b, key, due).await?;
            }
            self.blasts.save_blast(&mut w, &b).await?;
            if b.state != was {
                self.follow_blast(&mut w, tenant, &b.campaign, b.state)
                    .await?;
            }
            w.commit().await?;
            tracing::debug!(campaign = %b.campaign, recipients = b.recipients, took = ?page_started.elapsed(), "fanned out a page");
            if finished || hand_over {
                return Ok(());
            }
            // Let the writes waiting for the writer (the sends' outcomes) go before the next
            // page takes it again.
            tokio::task::yield_now().await;
        }
    }

    /// The audience's parts, in the order they are walked.
    async fn parts(&self, w: &mut Work, tenant: TenantId, a: &Audience) -> DomainResult<Vec<Part>> {
        let mut parts = vec![Part::Others];
        if !a.customers.is_empty() {
            parts.push(Part::Customers(Filter::In {
                field: Field::Seq,
                values: a.customers.iter().map(|s| Value::Int(*s)).collect(),
            }));
        }
        if !a.groups.is_empty() {
            let ids = self.group_ids(w, tenant, &a.groups).await?;
            parts.push(Part::Customers(Filter::In {
                field: Field::Group,
                values: ids,
            }));
        }
        if a.all_leads {
            parts.push(Part::Leads);
        }
        for s in &a.segments {
            parts.push(Part::Members(ListKind::Segment, s.0));
        }
        if !a.lists.is_empty() {
            let f = Filter::In {
                field: Field::Seq,
                values: a.lists.iter().map(|s| Value::Int(*s)).collect(),
            };
            let page = PageRequest::new(1, crate::search::MAX_PAGE_SIZE)?;
            let mut found = self.campaigns.search(w.at(), tenant, &f, page).await?.items;
            found.sort_by_key(|c| c.seq);
            parts.extend(
                found
                    .iter()
                    .map(|c| Part::Members(ListKind::Campaign, c.id.0)),
            );
        }
        if a.file.is_some() {
            parts.push(Part::File);
        }
        Ok(parts)
    }

    /// Up to a page of a part's recipients from `pos`, and where the next page starts (`None`
    /// when the part is done).
    async fn read_part(
        &self,
        w: &mut Work,
        tenant: TenantId,
        a: &Audience,
        part: &Part,
        pos: i64,
    ) -> DomainResult<(Vec<Recipient>, Option<i64>)> {
        let size = PAGE as usize;
        let page = PageRequest::new(1, PAGE)?;
        // Records are walked newest first by integer id, each page below the last one read.
        let below = |f: Filter| {
            if pos > 0 {
                f.and(Some(Filter::SeqBelow(pos)))
            } else {
                f
            }
        };
        let more = |n: usize, next: i64| (n == size).then_some(next);
        Ok(match part {
            Part::Others => {
                let start = (pos.max(0) as usize).min(a.others.len());
                let end = (start + size).min(a.others.len());
                let rows: Vec<Recipient> = a.others[start..end]
                    .iter()
                    .enumerate()
                    .map(|(i, r)| Recipient {
                        source: format!("other:{}", start + i + 1),
                        ..r.clone()
                    })
                    .collect();
                (rows, (end < a.others.len()).then_some(end as i64))
            }
            Part::Customers(f) => {
                let found = self
                    .customers
                    .search(w.at(), tenant, &below(f.clone()), page)
                    .await?
                    .items;
                let next = found.last().map_or(0, |c| c.seq);
                let n = found.len();
                (
                    found.iter().map(customer_recipient).collect(),
                    more(n, next),
                )
            }
            Part::Leads => {
                let found = self
                    .leads
                    .search(w.at(), tenant, &below(Filter::all()), page)
                    .await?
                    .items;
                let next = found.last().map_or(0, |l| l.seq);
                let n = found.len();
                (found.iter().map(lead_recipient).collect(), more(n, next))
            }
            Part::Members(list, id) => {
                let number = u32::try_from(pos.max(0) + 1).unwrap_or(u32::MAX);
                let found = self
                    .members
                    .search_members(
                        tenant,
                        *list,
                        *id,
                        None,
                        None,
                        PageRequest::new(number, PAGE)?,
                    )
                    .await?
                    .items;
                let n = found.len();
                let rows = found
                    .iter()
                    .map(|m| Recipient {
                        source: format!("{}:{}", m.kind.name(), m.id.0),
                        name: m.name.clone(),
                        phone: m.phone.clone(),
                        email: m.email.clone(),
                        ..Recipient::default()
                    })
                    .collect();
                (rows, more(n, pos + 1))
            }
            Part::File => {
                let sheet = self.file_rows(tenant, a).await?;
                let start = (pos.max(0) as usize).min(sheet.len());
                let end = (start + size).min(sheet.len());
                let page = recipients_of(&sheet, &a.columns, start..end);
                (page, (end < sheet.len()).then_some(end as i64))
            }
        })
    }

    /// The rows of the campaign's uploaded list: its newest file, read once per campaign on
    /// this node, off the async threads.
    async fn file_rows(
        &self,
        tenant: TenantId,
        a: &Audience,
    ) -> DomainResult<Arc<crate::sheet::Sheet>> {
        let Some((owner, owner_id)) = a.file else {
            return Ok(Arc::default());
        };
        let files = self.files.list(tenant, owner, &[owner_id]).await?;
        let Some(newest) = files.iter().max_by_key(|f| f.created_at) else {
            return Ok(Arc::default());
        };
        if let Some(rows) = self.sheets.get(newest.id) {
            return Ok(rows);
        }
        let Some((meta, bytes)) = self.files.read(tenant, newest.id).await? else {
            return Ok(Arc::default());
        };
        let rows = match crate::sheet::read_blocking(meta.name.clone(), bytes).await {
            Ok(sheet) => Arc::new(sheet),
            // An e-mail campaign's file may be something else than a list (it was not checked).
            Err(e) => {
                tracing::warn!(file = %meta.name, error = %e, "a campaign's file is not a recipient list");
                Arc::default()
            }
        };
        self.sheets.put(newest.id, rows.clone());
        Ok(rows)
    }

    /// Marks the page's queued messages to addresses that unsubscribed as skipped.
    pub(crate) async fn skip_unsubscribed(
        &self,
        w: &mut Work,
        tenant: TenantId,
        channel: Channel,
        page: &mut [Message],
    ) -> DomainResult<()> {
        let queued: Vec<&str> = page
            .iter()
            .filter(|m| m.state == SendState::Queued)
            .map(|m| m.recipient.as_str())
            .collect();
        if queued.is_empty() {
            return Ok(());
        }
        let gone = self
            .messages
            .unsubscribed(w.at(), tenant, channel, &queued)
            .await?;
        for m in page.iter_mut() {
            if m.state == SendState::Queued && gone.contains(&m.recipient) {
                m.state = SendState::Skipped;
                m.reason = Some("unsubscribed".to_owned());
            }
        }
        Ok(())
    }
}

/// One recipient's send record of `campaign`: the content filled in for them, or why they get
/// none.
pub(crate) fn render(
    tenant: TenantId,
    campaign: &str,
    content: &BlastContent,
    settings: &Settings,
    r: &Recipient,
) -> Message {
    render_to(tenant, campaign, content, settings, r, r)
}

/// [`render`] with the placeholders filled from `r` and the message addressed to `to` (a
/// staff user told about a customer).
pub(crate) fn render_to(
    tenant: TenantId,
    campaign: &str,
    content: &BlastContent,
    settings: &Settings,
    r: &Recipient,
    to: &Recipient,
) -> Message {
    let record = |recipient: String, body: String, state: SendState, reason: Option<&str>| {
        new_message(
            tenant,
            content.channel(),
            campaign.to_owned(),
            recipient,
            body,
            state,
            reason,
        )
    };
    // No usable address: recorded against where the recipient came from.
    let (address, missing) = match content {
        BlastContent::Email { .. } => {
            match to
                .email
                .as_deref()
                .map(|e| crate::text::Email::parse("email", e))
            {
                Some(Ok(e)) => (Some(e.key().to_owned()), "no valid e-mail address"),
                _ => (None, "no valid e-mail address"),
            }
        }
        BlastContent::Sms { .. } | BlastContent::Zns { .. } => (
            to.phone
                .as_deref()
                .and_then(|p| provider_phone("phone", p).ok()),
            "no valid Vietnamese mobile number",
        ),
    };
    let Some(address) = address else {
        let shown = to
            .phone
            .as_deref()
            .or(to.email.as_deref())
            .map(|a| format!("{missing} ('{a}')"))
            .unwrap_or_else(|| missing.to_owned());
        return record(
            to.source.clone(),
            about(r, "{}".to_owned()),
            SendState::Skipped,
            Some(&shown),
        );
    };
    let mut m = record(address, String::new(), SendState::Queued, None);
    // The message's own id is Zalo's tracking id: the same on every attempt.
    let tracking = m.id.simple().to_string();
    let filled = match content {
        BlastContent::Email {
            subject,
            html,
            text,
            from_name,
            reply_to,
        } => fill(subject, r).and_then(|subject| {
            let html = fill(html, r)?;
            let text = match text {
                Some(t) => fill(t, r)?,
                None => String::new(),
            };
            Ok(email_content(
                &subject,
                &text,
                &html,
                from_name.as_deref(),
                reply_to.as_deref(),
            ))
        }),
        BlastContent::Sms { text } => fill(text, r).map(|t| sms_content(settings, &t)),
        BlastContent::Zns {
            template_id,
            params,
        } => params
            .iter()
            .map(|(k, v)| fill(v, r).map(|v| (k.clone(), v)))
            .collect::<Result<_, _>>()
            .map(|data| zns_content(template_id, &data, &tracking)),
    };
    match filled {
        Err(reason) => {
            m.state = SendState::Failed;
            m.reason = Some(reason);
            m.content = about(r, "{}".to_owned());
        }
        Ok(content) => m.content = about(r, content),
    }
    m
}

/// A sheet's rows as recipients: each cell under its header (a placeholder by that name, and
/// the recipient's own field when the header names one), and under the field `columns` maps
/// to that header.
fn recipients_of(
    sheet: &crate::sheet::Sheet,
    columns: &std::collections::BTreeMap<String, String>,
    rows: std::ops::Range<usize>,
) -> Vec<Recipient> {
    let mapped: Vec<(String, String)> = columns
        .iter()
        .map(|(field, header)| {
            (
                crate::campaign::field_key(header),
                crate::campaign::field_key(field),
            )
        })
        .collect();
    let headers: Vec<String> = sheet
        .header
        .iter()
        .map(|h| crate::campaign::field_key(h))
        .collect();
    rows.map(|i| {
        let mut r = Recipient {
            source: format!("row:{}", i + 2),
            ..Recipient::default()
        };
        for (key, cell) in headers.iter().zip(sheet.row(i)) {
            let value = cell.trim();
            if value.is_empty() {
                continue;
            }
            if let Some((_, field)) = mapped.iter().find(|(h, _)| h == key) {
                r.set(field, value.to_owned());
            }
            r.set(key, value.to_owned());
        }
        r
    })
    .collect()
}

/// The content with who it is for (`to_name`, `source`), which send history shows; the jobs
/// sending it read only their own keys.
fn about(r: &Recipient, content: String) -> String {
    match serde_json::from_str::<serde_json::Value>(&content) {
        Ok(mut v @ serde_json::Value::Object(_)) => {
            if let Some(name) = &r.name {
                v["to_name"] = name.clone().into();
            }
            v["source"] = r.source.clone().into();
            // The address as given, for a record that has no usable one.
            if let Some(given) = r.phone.as_ref().or(r.email.as_ref()) {
                v["given"] = given.clone().into();
            }
            v.to_string()
        }
        _ => content,
    }
}

pub(crate) fn customer_recipient(c: &Customer) -> Recipient {
    let d = &c.data;
    Recipient {
        source: format!("customer:{}", c.seq),
        name: Some(d.name.clone()),
        phone: d.phone.as_ref().map(|p| p.as_str().to_owned()),
        email: d.email.as_ref().map(|e| e.as_str().to_owned()),
        address: d.address.clone(),
        code: d.code.clone(),
        birthday: d
            .ext
            .as_ref()
            .and_then(|e| e.party.as_ref())
            .and_then(|p| p.birthday)
            .map(|b| b.format("%d/%m/%Y").to_string()),
        fields: Default::default(),
    }
}

pub(crate) fn lead_recipient(l: &Lead) -> Recipient {
    let d = &l.data;
    let mut r = Recipient {
        source: format!("lead:{}", l.seq),
        name: Some(d.full_name.clone()),
        phone: d.phone.as_ref().map(|p| p.as_str().to_owned()),
        email: d.email.as_ref().map(|e| e.as_str().to_owned()),
        ..Recipient::default()
    };
    if let Some(company) = &d.company {
        r.set("company", company.clone());
    }
    r
}
