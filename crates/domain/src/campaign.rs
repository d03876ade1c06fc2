//! Campaigns that send: a plan (a channel's content with `{{placeholders}}`, an audience, a
//! time) fanned out into one send record per recipient.
//!
//! A dialect turns its vendor's campaign into a [`BlastPlan`]; the plan is stored with the
//! campaign's [`Blast`] row in the unit of work that saves the campaign, with the job that will
//! fan it out (`BLAST_JOB`, due at the plan's time). The fan-out walks the audience page by
//! page; each page (its messages, their send jobs and the blast's cursor) commits as one unit
//! of work, so a crash repeats no page and loses none.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::files::FileOwner;
use crate::ids::{SegmentId, TenantId};
use crate::messaging::Channel;
use crate::work::{At, Work};

/// The job kind that fans a campaign out into messages.
pub const BLAST_JOB: &str = "campaign";

/// Most ad-hoc recipients a plan may carry (as many as a request body's list may hold).
pub const MAX_OTHERS: usize = 1_000;
/// Most record ids (customers, groups, segments, campaigns) a plan may list.
pub const MAX_LISTED: usize = crate::search::MAX_FILTER_VALUES;
/// Recipients read and queued per unit of work of the fan-out.
pub const PAGE: u32 = 500;
/// Longest placeholder name, and most values one recipient may carry beside its fields.
pub const MAX_FIELD_NAME: usize = 64;
pub const MAX_FIELDS: usize = 64;

/// One person a campaign goes to, with the values its placeholders may take.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    /// Where the recipient came from (`customer:12`, `lead:3`, `other:1`, `file:7`), which
    /// names a send record when the recipient has no usable address.
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `dd/mm/yyyy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// Other values by placeholder name (NextX `param_01`, a file's columns), names folded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// Placeholder names (folded) that stand for a recipient's own fields.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "name",
        &[
            "name",
            "cus_name",
            "customer_name",
            "contact_name",
            "full_name",
            "fullname",
            "ho_ten",
            "ho_va_ten",
            "ten",
            "ten_khach_hang",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "mobile",
            "so_dien_thoai",
            "sdt",
            "di_dong",
            "dien_thoai",
        ],
    ),
    ("email", &["email", "mail", "e_mail"]),
    ("address", &["address", "dia_chi"]),
    ("code", &["code", "ma_kh", "ma_khach_hang", "customer_code"]),
    ("birthday", &["birthday", "ngay_sinh", "dob"]),
];

/// A placeholder or column name as matched: folded, words joined by `_`.
pub fn field_key(name: &str) -> String {
    let folded = crate::text::fold(name.trim());
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Which of the recipient's own fields a name stands for, if any.
pub fn own_field(key: &str) -> Option<&'static str> {
    ALIASES
        .iter()
        .find(|(_, names)| names.contains(&key))
        .map(|(field, _)| *field)
}

impl Recipient {
    /// The value a placeholder takes for this recipient; blank values count as none.
    pub fn value(&self, placeholder: &str) -> Option<&str> {
        let key = field_key(placeholder);
        let own = match own_field(&key) {
            Some("name") => self.name.as_deref(),
            Some("phone") => self.phone.as_deref(),
            Some("email") => self.email.as_deref(),
            Some("address") => self.address.as_deref(),
            Some("code") => self.code.as_deref(),
            Some("birthday") => self.birthday.as_deref(),
            _ => None,
        };
        own.or_else(|| self.fields.get(&key).map(String::as_str))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// Sets a value by name: one of the recipient's own fields, or another field.
    pub fn set(&mut self, name: &str, value: String) {
        let key = field_key(name);
        let slot = match own_field(&key) {
            Some("name") => &mut self.name,
            Some("phone") => &mut self.phone,
            Some("email") => &mut self.email,
            Some("address") => &mut self.address,
            Some("code") => &mut self.code,
            Some("birthday") => &mut self.birthday,
            _ => {
                if !key.is_empty() && key.len() <= MAX_FIELD_NAME && self.fields.len() < MAX_FIELDS
                {
                    self.fields.insert(key, value);
                }
                return;
            }
        };
        *slot = Some(value);
    }
}

/// Checks that every `{{` of a template is closed, and that names are of a bounded length.
pub fn check_template(field: &str, template: &str) -> DomainResult<()> {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(DomainError::validation(
                field,
                "has an unclosed {{placeholder}}",
            ));
        };
        if after[..end].trim().len() > MAX_FIELD_NAME {
            return Err(DomainError::validation(
                field,
                format!("has a placeholder longer than {MAX_FIELD_NAME} characters"),
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Fills a template's `{{placeholders}}` from the recipient, in one pass. A placeholder
/// without a value is an error naming it: a campaign never sends a blank.
pub fn fill(template: &str, r: &Recipient) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("the content has an unclosed {{placeholder}}".to_owned());
        };
        let name = after[..end].trim();
        match r.value(name) {
            Some(v) => out.push_str(v),
            None => return Err(format!("{{{{{name}}}}} has no value for this recipient")),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What a campaign sends, with placeholders still in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "lowercase")]
pub enum BlastContent {
    Email {
        subject: String,
        html: String,
        #[serde(default)]
        text: Option<String>,
        /// The campaign's own sender name, over the channel's.
        #[serde(default)]
        from_name: Option<String>,
        /// The campaign's sender address: answers go there (`Reply-To`); the channel's `from`
        /// stays the sender, as SMTP relays accept only their own.
        #[serde(default)]
        reply_to: Option<String>,
    },
    Sms {
        text: String,
    },
    Zns {
        template_id: String,
        /// Each template parameter, as a template of its own (`{{name}}`, `Đơn {{code}}`).
        params: BTreeMap<String, String>,
    },
}

impl BlastContent {
    pub fn channel(&self) -> Channel {
        match self {
            BlastContent::Email { .. } => Channel::Email,
            BlastContent::Sms { .. } => Channel::Sms,
            BlastContent::Zns { .. } => Channel::Zns,
        }
    }
}

/// Who a campaign goes to. Every part is read when the campaign runs, not when it is saved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Audience {
    /// Recipients given with the campaign (NextX `sms_others`, `email_others`).
    #[serde(default)]
    pub others: Vec<Recipient>,
    /// Customers by integer id.
    #[serde(default)]
    pub customers: Vec<i64>,
    /// Every customer of these groups (integer ids).
    #[serde(default)]
    pub groups: Vec<i64>,
    /// Every lead (NextX's contacts).
    #[serde(default)]
    pub all_leads: bool,
    #[serde(default)]
    pub segments: Vec<SegmentId>,
    /// The members of these sales campaigns (integer ids).
    #[serde(default)]
    pub lists: Vec<i64>,
    /// The recipient list uploaded with the campaign (CSV or Excel): its newest file.
    #[serde(default)]
    pub file: Option<(FileOwner, Uuid)>,
    /// Which file column holds which field (`phone` → `Số ĐT`), beside the headers recognised.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

impl Audience {
    pub fn is_empty(&self) -> bool {
        self.others.is_empty()
            && self.customers.is_empty()
            && self.groups.is_empty()
            && !self.all_leads
            && self.segments.is_empty()
            && self.lists.is_empty()
            && self.file.is_none()
    }
}

/// A campaign's send, as a dialect describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlastPlan {
    /// The campaign's name (history rows show it, and are filtered by it).
    pub name: String,
    pub content: BlastContent,
    pub audience: Audience,
    /// When to send; now when `None`.
    pub at: Option<DateTime<Utc>>,
    /// Values every recipient's placeholders take unless the recipient has its own (NextX's
    /// campaign `params`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaults: BTreeMap<String, String>,
}

impl BlastPlan {
    pub fn validate(&self) -> DomainResult<()> {
        let a = &self.audience;
        if a.others.len() > MAX_OTHERS {
            return Err(DomainError::validation(
                "others",
                format!("at most {MAX_OTHERS} recipients"),
            ));
        }
        for (field, n) in [
            ("customers", a.customers.len()),
            ("groups", a.groups.len()),
            ("segments", a.segments.len()),
            ("campaigns", a.lists.len()),
            ("columns", a.columns.len()),
        ] {
            if n > MAX_LISTED {
                return Err(DomainError::validation(
                    field,
                    format!("at most {MAX_LISTED} entries"),
                ));
            }
        }
        if a.is_empty() {
            return Err(DomainError::validation(
                "recipients",
                "the campaign names no recipients (customers, groups, contacts, a segment or a file)",
            ));
        }
        match &self.content {
            BlastContent::Email {
                subject,
                html,
                text,
                ..
            } => {
                check_template("subject", subject)?;
                check_template("content", html)?;
                if let Some(t) = text {
                    check_template("content", t)?;
                }
                if subject.trim().is_empty() {
                    return Err(DomainError::validation("subject", "is required"));
                }
                let body = html.len() + text.as_ref().map_or(0, String::len);
                if subject.chars().count() > crate::service::MAX_SUBJECT
                    || body > crate::service::MAX_EMAIL_BODY
                {
                    return Err(DomainError::validation(
                        "content",
                        format!(
                            "the subject is at most {} characters and the body {} bytes",
                            crate::service::MAX_SUBJECT,
                            crate::service::MAX_EMAIL_BODY
                        ),
                    ));
                }
                if html.trim().is_empty() && text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    return Err(DomainError::validation("content", "is required"));
                }
            }
            BlastContent::Sms { text } => {
                check_template("content", text)?;
                if text.trim().is_empty() {
                    return Err(DomainError::validation("content", "is required"));
                }
                if text.chars().count() > crate::service::MAX_SMS {
                    return Err(DomainError::validation(
                        "content",
                        format!("at most {} characters", crate::service::MAX_SMS),
                    ));
                }
            }
            BlastContent::Zns {
                template_id,
                params,
            } => {
                if template_id.trim().is_empty() {
                    return Err(DomainError::validation("template_id", "is required"));
                }
                if params.len() > crate::service::MAX_TEMPLATE_KEYS {
                    return Err(DomainError::validation(
                        "template_data",
                        format!("at most {} parameters", crate::service::MAX_TEMPLATE_KEYS),
                    ));
                }
                for (k, v) in params {
                    check_template(k, v)?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlastState {
    /// Waiting for its time.
    Scheduled,
    /// Being fanned out into messages.
    Running,
    /// Every recipient has its message (each then sends on its own).
    Done,
    /// Stopped before it ran (its campaign was deleted).
    Cancelled,
}

impl BlastState {
    pub fn as_str(self) -> &'static str {
        match self {
            BlastState::Scheduled => "scheduled",
            BlastState::Running => "running",
            BlastState::Done => "done",
            BlastState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Scheduled, Self::Running, Self::Done, Self::Cancelled]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A campaign's send: its plan, where the fan-out stands, and what it met on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Blast {
    pub tenant_id: TenantId,
    /// The campaign key its messages carry (`nextx-sms:12`, `crmtop-email:<uuid>`).
    pub campaign: String,
    pub name: String,
    pub channel: Channel,
    pub state: BlastState,
    /// The plan, as JSON.
    pub plan: String,
    /// Bumped by every re-plan: a job of an older version does nothing.
    pub version: i32,
    pub run_at: DateTime<Utc>,
    /// The audience part the fan-out is in, and where in it.
    pub cursor_part: i32,
    pub cursor_pos: i64,
    /// Recipients met so far, and how many were the same address again (not sent twice).
    pub recipients: i64,
    pub duplicates: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a fan-out job carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlastJob {
    pub campaign: String,
    pub version: i32,
}

#[async_trait]
pub trait BlastStore: Send + Sync {
    /// Stores a blast, replacing the campaign's previous one.
    async fn save_blast(&self, w: &mut Work, blast: &Blast) -> DomainResult<()>;
    async fn blast(
        &self,
        at: At<'_>,
        tenant: TenantId,
        campaign: &str,
    ) -> DomainResult<Option<Blast>>;
    /// Reads the blast and holds it until the work ends (one fan-out page at a time).
    async fn lock_blast(
        &self,
        w: &mut Work,
        tenant: TenantId,
        campaign: &str,
    ) -> DomainResult<Option<Blast>>;
    /// The blasts of these campaigns.
    async fn blasts(&self, tenant: TenantId, campaigns: &[String]) -> DomainResult<Vec<Blast>>;
    /// The tenant's last `limit` blasts, the latest planned first.
    async fn latest_blasts(&self, tenant: TenantId, limit: u32) -> DomainResult<Vec<Blast>>;
    /// The campaign keys whose name contains `text` (folded), at most `limit`.
    async fn campaigns_named(
        &self,
        tenant: TenantId,
        text: &str,
        limit: u32,
    ) -> DomainResult<Vec<String>>;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn anh() -> Recipient {
        let mut r = Recipient {
            name: Some("Nguyễn Văn Đức".into()),
            phone: Some("0912345678".into()),
            ..Recipient::default()
        };
        r.set("Mã đơn", "DH01".into());
        r.set("param_01", "10%".into());
        r
    }

    #[test]
    fn placeholders_take_the_recipients_values() {
        let r = anh();
        assert_eq!(
            fill("Chào {{cus_name}}, đơn {{ma_don}} giảm {{ param_01 }}", &r).unwrap(),
            "Chào Nguyễn Văn Đức, đơn DH01 giảm 10%"
        );
        assert_eq!(fill("{{Họ và tên}}", &r).unwrap(), "Nguyễn Văn Đức");
        assert_eq!(fill("{{contact_name}}", &r).unwrap(), "Nguyễn Văn Đức");
        assert_eq!(fill("{{Số điện thoại}}", &r).unwrap(), "0912345678");
        let e = fill("Dear {{email}}", &r).unwrap_err();
        assert!(e.contains("{{email}}"), "{e}");
        assert!(fill("{{name", &r).is_err());
        assert_eq!(fill("no placeholder", &r).unwrap(), "no placeholder");
    }

    #[test]
    fn keys_fold_vietnamese_headers() {
        assert_eq!(field_key("Số điện thoại"), "so_dien_thoai");
        assert_eq!(field_key(" Mã KH "), "ma_kh");
        assert_eq!(own_field(&field_key("Tên khách hàng")), Some("name"));
        assert_eq!(own_field(&field_key("Di động")), Some("phone"));
        assert!(check_template("c", "{{ok}} {{").is_err());
        assert!(check_template("c", &format!("{{{{{}}}}}", "x".repeat(65))).is_err());
    }
}
