//! What NextX's SMS and e-mail campaigns send (E53–E63): a campaign body that says to send
//! (`send_now` 1, or a `send_time`) becomes a send plan stored with it; its send history
//! (E57, E62) and totals (E54, E59, E63) come from the send records.

use axum::extract::{RawQuery, State};
use axum::Json;
use chrono::{DateTime, Utc};
use crm_domain::campaign::{Audience, BlastContent, BlastPlan, BlastState, Recipient};
use crm_domain::messaging::{Channel, Message, MessageFilter, SendState};
use crm_domain::service::BlastView;
use crm_domain::Actor;
use serde::Serialize;
use serde_json::{Map, Value};

use super::kit::{bad, Caller, NxError, Params};
use crate::AppState;

/// The campaign key prefixes of NextX's SMS and e-mail campaigns (`nextx-sms:12`).
pub(super) const SMS_PREFIX: &str = "nextx-sms";
pub(super) const EMAIL_PREFIX: &str = "nextx-email";

/// `1`, `"1"` or `true`.
fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => matches!(s.trim(), "1" | "true"),
        _ => false,
    }
}

/// A list of integer ids as NextX writes them: numbers, digit strings (`["26"]`), or records
/// with an `id`.
fn ints(m: &Map<String, Value>, key: &str) -> Result<Vec<i64>, NxError> {
    let Some(v) = m.get(key).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = v else {
        return Err(bad(key, "must be a list of ids"));
    };
    if items.len() > crm_domain::campaign::MAX_LISTED {
        return Err(bad(
            key,
            format!("at most {} ids", crm_domain::campaign::MAX_LISTED),
        ));
    }
    items
        .iter()
        .map(|item| {
            let id = match item {
                Value::Object(o) => o.get("id"),
                other => Some(other),
            };
            match id {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| bad(key, format!("{item} is not an id")))
        })
        .collect()
}

/// Ad-hoc recipients (`sms_others`, `email_others`): objects whose keys fill placeholders
/// (`mobile`, `name`, `email`, `address`, `param_01`…); a bare string is a number or address.
fn others(m: &Map<String, Value>, key: &str) -> Result<Vec<Recipient>, NxError> {
    let Some(v) = m.get(key).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = v else {
        return Err(bad(key, "must be a list of recipients"));
    };
    if items.len() > crm_domain::campaign::MAX_OTHERS {
        return Err(bad(
            key,
            format!("at most {} recipients", crm_domain::campaign::MAX_OTHERS),
        ));
    }
    items
        .iter()
        .map(|item| {
            let mut r = Recipient::default();
            match item {
                Value::String(s) if s.contains('@') => r.email = Some(s.clone()),
                Value::String(s) => r.phone = Some(s.clone()),
                Value::Object(o) => {
                    for (k, v) in o {
                        let value = match v {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => continue,
                        };
                        if !matches!(k.as_str(), "id" | "email_id" | "sms_id") {
                            r.set(k, value);
                        }
                    }
                }
                _ => return Err(bad(key, "each recipient is an object or a string")),
            }
            Ok(r)
        })
        .collect()
}

fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The campaign key prefix of an SMS (`sms`) or e-mail campaign, and its send plan when the
/// body says to send: `send_now` 1 sends at once, a `send_time` then (the tenant's zone);
/// neither is a draft (`None`).
pub(super) fn plan(
    kind: &str,
    m: &Map<String, Value>,
    actor: &Actor,
) -> Result<(&'static str, Option<BlastPlan>), NxError> {
    let sms = kind == super::marketing::SMS;
    let prefix = if sms { SMS_PREFIX } else { EMAIL_PREFIX };
    let send_time = super::tasks::when(
        "send_time",
        &m.get("send_time")
            .and_then(Value::as_str)
            .map(str::to_owned),
        actor.time_zone,
    )?;
    let now = flag(m.get("send_now"));
    if !now && send_time.is_none() {
        return Ok((prefix, None));
    }
    let content = if sms {
        BlastContent::Sms {
            text: text(m, "sms_content").unwrap_or_default(),
        }
    } else {
        BlastContent::Email {
            subject: text(m, "mail_subject").unwrap_or_default(),
            html: text(m, "mail_content").unwrap_or_default(),
            text: None,
            from_name: text(m, "from_name"),
            reply_to: text(m, "mail_from"),
        }
    };
    // The sales campaigns whose members it goes to: `campaign` (e-mail), or the SMS body's
    // machine-translated key.
    let mut lists = ints(m, "campaign")?;
    lists.extend(ints(m, "To get the list of")?);
    lists.extend(ints(m, "campaigns")?);
    let audience = Audience {
        others: others(m, if sms { "sms_others" } else { "email_others" })?,
        customers: ints(m, "customers")?,
        groups: ints(m, "customer_groups")?,
        all_leads: flag(m.get("send_all_contact")),
        lists,
        ..Audience::default()
    };
    let defaults = match m.get("params") {
        Some(Value::Object(p)) => p
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .take(crm_domain::campaign::MAX_FIELDS)
            .collect(),
        _ => Default::default(),
    };
    Ok((
        prefix,
        Some(BlastPlan {
            name: text(m, "name").unwrap_or_default(),
            content,
            audience,
            at: if now { None } else { send_time },
            defaults,
        }),
    ))
}

/// A campaign's totals and status as E53/E54 and E58/E59 show them.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub(super) struct Sends {
    /// `Chưa gửi` (not sent) until every recipient has a send record, then `Đã gửi`.
    status: &'static str,
    time_run: Option<String>,
    total_send: i64,
    total_not_send: i64,
    total_success: i64,
    total_fail: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_sms: Option<i64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(super) mail: Option<MailTotals>,
}

#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub(super) struct MailTotals {
    total_emails: i64,
    /// Opens are not tracked (`is_track_mail` is stored, not acted on): 0.
    total_open: i64,
    total_read: i64,
    total_not_read: i64,
    /// The statistic endpoint's own total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) total_email: Option<i64>,
}

impl MailTotals {
    pub(super) fn total_emails(&self) -> i64 {
        self.total_emails
    }
}

/// Microseconds and `Z`, as Laravel writes an instant.
fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Sends {
    pub(super) fn new(sms: bool, view: Option<&BlastView>) -> Self {
        let t = view.map(|v| v.totals).unwrap_or_default();
        let done = view.is_some_and(|v| v.blast.state == BlastState::Done);
        Sends {
            status: if done { "Đã gửi" } else { "Chưa gửi" },
            time_run: view.map(|v| iso(v.blast.started_at.unwrap_or(v.blast.run_at))),
            total_send: t.sent + t.failed,
            total_not_send: t.queued + t.skipped,
            total_success: t.sent,
            total_fail: t.failed,
            total_sms: sms.then_some(t.all()),
            mail: (!sms).then_some(MailTotals {
                total_emails: t.all(),
                total_open: 0,
                total_read: 0,
                total_not_read: t.sent,
                total_email: None,
            }),
        }
    }
}

/// 1 sent, 0 failed or skipped, 2 waiting to be sent.
fn status(m: &Message) -> i32 {
    match m.state {
        SendState::Sent => 1,
        SendState::Queued => 2,
        SendState::Failed | SendState::Skipped => 0,
    }
}

fn local(actor: &Actor, t: DateTime<Utc>) -> String {
    t.with_timezone(&actor.time_zone)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The campaign (definition) id of a NextX campaign's message.
fn campaign_id(m: &Message, prefix: &str) -> Option<i64> {
    m.campaign
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|id| id.parse().ok())
}

/// Who a message went to, as its content records it: the model and integer id NextX names,
/// and the name.
fn causer(content: &Value) -> (Option<&'static str>, Option<i64>, Option<String>) {
    let source = content.get("source").and_then(Value::as_str).unwrap_or("");
    let (kind, id) = source.split_once(':').unwrap_or_default();
    let model = match kind {
        "customer" => Some("App\\Models\\Customer\\Customer"),
        "lead" => Some("App\\Models\\Contact\\Contact"),
        _ => None,
    };
    let name = content
        .get("to_name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (model, model.and(id.parse().ok()), name)
}

fn outcome(m: &Message) -> String {
    match m.state {
        SendState::Sent => "Gửi thành công".to_owned(),
        SendState::Queued => "Đang chờ gửi".to_owned(),
        _ => m.reason.clone().unwrap_or_default(),
    }
}

/// A phone as NextX shows it: `0912345678`.
fn national(recipient: &str) -> String {
    match recipient.strip_prefix("84") {
        Some(rest) if rest.len() == 9 => format!("0{rest}"),
        _ => recipient.to_owned(),
    }
}

/// Where a message went: a number as NextX writes it (`0912345678`), an e-mail address, or,
/// for a record without a usable one, what the record has.
fn address(m: &Message, content: &Value) -> String {
    if m.recipient.contains(':') {
        content
            .get("given")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    } else {
        national(&m.recipient)
    }
}

/// One E57 row.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct SmsLog {
    id: i64,
    sms_id: Option<i64>,
    content: String,
    phone: String,
    status: i32,
    message: String,
    date_send: String,
    sms_type: &'static str,
    causer_type: Option<&'static str>,
    causer_id: Option<i64>,
    /// The record is not expanded here.
    causer: (),
    causer_name: String,
}

/// One E62 row.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct EmailLog {
    id: i64,
    subject: String,
    body: String,
    email: String,
    status: i32,
    date_send: String,
    causer_type: Option<&'static str>,
    causer_id: Option<i64>,
    error_message: String,
    email_id: Option<i64>,
    email_from: Option<String>,
    is_read: i32,
    time_read: (),
    causer: (),
}

/// The filter of a history request: channel, dates (either spelling), the recipient.
async fn filter(
    s: &AppState,
    actor: &Actor,
    p: &Params,
    channel: Channel,
) -> Result<Option<MessageFilter>, NxError> {
    let mut f = MessageFilter {
        channel: Some(channel),
        ..MessageFilter::default()
    };
    for (from, to) in [("fromDate", "toDate"), ("from_date", "to_date")] {
        if let Some(range) = p.created(actor, from, &[to])? {
            set_range(&mut f, range);
        }
    }
    // `strSearch` on the SMS log: a phone number (any notation), else a campaign's name.
    let to = match channel {
        Channel::Email => p.get("mail_to").map(|e| e.trim().to_lowercase()),
        _ => p
            .search()
            .and_then(|q| crm_domain::messaging::provider_phone("strSearch", &q).ok()),
    };
    f.recipient = to.filter(|t| !t.is_empty());
    let name = match channel {
        Channel::Email => p.get_owned("campaign_name"),
        _ => p.search().filter(|_| f.recipient.is_none()),
    };
    if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
        let keys = s.crm.campaigns_named(actor, &name).await?;
        if keys.is_empty() {
            return Ok(None);
        }
        f.campaigns = Some(keys);
    }
    if channel == Channel::Sms && p.get("search[sms_type]").is_some_and(|t| t != "sms") {
        return Ok(None);
    }
    Ok(Some(f))
}

fn set_range(f: &mut MessageFilter, filter: crm_domain::search::Filter) {
    if let crm_domain::search::Filter::Range { from, to, .. } = filter {
        f.from = from.or(f.from);
        f.to = to.or(f.to);
    }
}

/// E57: the tenant's SMS, newest first.
pub(super) async fn sms_history(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<SmsLog>>, NxError> {
    let p = Params::parse(q)?;
    let page = p.crm_page()?;
    let Some(f) = filter(&s, &actor, &p, Channel::Sms).await? else {
        return Ok(Json(Vec::new()));
    };
    let found = s.crm.messages(&actor, &f, page).await?;
    let rows = found
        .iter()
        .map(|m| {
            let content: Value = serde_json::from_str(&m.content).unwrap_or(Value::Null);
            let (causer_type, causer_id, name) = causer(&content);
            let phone = address(m, &content);
            SmsLog {
                id: m.seq,
                sms_id: campaign_id(m, SMS_PREFIX),
                content: content
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                causer_name: name.unwrap_or_else(|| phone.clone()),
                phone,
                status: status(m),
                message: outcome(m),
                date_send: local(&actor, m.sent_at.unwrap_or(m.updated_at)),
                sms_type: "sms",
                causer_type,
                causer_id,
                causer: (),
            }
        })
        .collect();
    Ok(Json(rows))
}

/// E62: the tenant's e-mails, newest first.
pub(super) async fn email_history(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<EmailLog>>, NxError> {
    let p = Params::parse(q)?;
    let page = p.crm_page()?;
    let from = s.crm.settings(&actor, Channel::Email).await?.remove("from");
    if let Some(asked) = p.get("mail_from").filter(|a| !a.trim().is_empty()) {
        if from
            .as_deref()
            .is_none_or(|f| !f.eq_ignore_ascii_case(asked.trim()))
        {
            return Ok(Json(Vec::new()));
        }
    }
    let Some(f) = filter(&s, &actor, &p, Channel::Email).await? else {
        return Ok(Json(Vec::new()));
    };
    let found = s.crm.messages(&actor, &f, page).await?;
    let rows = found
        .iter()
        .map(|m| {
            let content: Value = serde_json::from_str(&m.content).unwrap_or(Value::Null);
            let (causer_type, causer_id, _) = causer(&content);
            let part = |k: &str| {
                content
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            EmailLog {
                id: m.seq,
                subject: part("subject"),
                body: part("html"),
                email: address(m, &content),
                status: status(m),
                date_send: local(&actor, m.sent_at.unwrap_or(m.updated_at)),
                causer_type,
                causer_id,
                error_message: outcome(m),
                email_id: campaign_id(m, EMAIL_PREFIX),
                email_from: from.clone(),
                is_read: 0,
                time_read: (),
                causer: (),
            }
        })
        .collect();
    Ok(Json(rows))
}
