//! Messages the server sends for a tenant (e-mail, Zalo ZNS, SMS): each channel's settings, and
//! one send record per message (queued, sent with the provider's id, failed with its reason), the
//! only source of send history and statistics. Sending itself is a job: `MESSAGE_BATCH_JOB` for
//! the messages of a campaign's page, `MESSAGE_JOB` for a single message and for each retry.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::search::PageRequest;
pub use crate::settings::{Scope, Settings, MAX_SETTING};
use crate::work::{At, Work};

/// The job kind that sends one message.
pub const MESSAGE_JOB: &str = "message";
/// The job kind that sends a batch of a campaign's messages, each once; a message whose attempt
/// is worth retrying leaves the batch for a `MESSAGE_JOB` of its own.
pub const MESSAGE_BATCH_JOB: &str = "messages";
/// Attempts of a send before it is given up (retryable provider answers only).
pub const MESSAGE_ATTEMPTS: i32 = 8;
/// Most messages in one batch job.
pub const BATCH: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Email,
    Zns,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Zns, Channel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Zns => "zns",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| DomainError::validation("channel", "must be email, zns or sms"))
    }

    /// The settings a channel takes: (key, secret).
    pub fn keys(self) -> &'static [(&'static str, bool)] {
        match self {
            Channel::Email => &[
                ("smtp_url", true),
                ("tls", false),
                ("from", false),
                ("from_name", false),
                ("rate", false),
            ],
            Channel::Zns => &[
                ("api_url", false),
                ("oauth_url", false),
                ("app_id", false),
                ("secret_key", true),
                ("access_token", true),
                ("refresh_token", true),
                ("rate", false),
            ],
            Channel::Sms => &[
                ("api_url", false),
                ("api_key", true),
                ("secret_key", true),
                ("brandname", false),
                ("sms_type", false),
                ("unicode", false),
                ("rate", false),
            ],
        }
    }
}

impl Scope for Channel {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn keys(self) -> &'static [(&'static str, bool)] {
        Channel::keys(self)
    }
    fn check(self, key: &str, value: &str) -> DomainResult<()> {
        check_value(self, key, value)
    }
}

fn check_value(channel: Channel, key: &str, value: &str) -> DomainResult<()> {
    if value.is_empty() {
        return Ok(());
    }
    let url = |v: &str, schemes: &[&str]| {
        let scheme = v.split_once("://").map(|(s, _)| s).unwrap_or_default();
        if schemes.contains(&scheme) && v.len() > scheme.len() + 3 {
            Ok(())
        } else {
            Err(DomainError::validation(
                key,
                format!("must be a {} URL", schemes.join(" or ")),
            ))
        }
    };
    match (channel, key) {
        (Channel::Email, "smtp_url") => url(value, &["smtp", "smtps"]),
        (Channel::Email, "tls") if !["none", "starttls", "tls"].contains(&value) => Err(
            DomainError::validation(key, "must be none, starttls or tls"),
        ),
        (Channel::Email, "from") => crate::text::Email::parse(key, value).map(|_| ()),
        (_, "api_url" | "oauth_url") => url(value, &["http", "https"]),
        (Channel::Sms, "unicode") if !["0", "1", "true", "false"].contains(&value) => {
            Err(DomainError::validation(key, "must be 0 or 1"))
        }
        (_, "rate") => match value.parse::<u32>() {
            Ok(1..=10_000) => Ok(()),
            _ => Err(DomainError::validation(
                key,
                "must be messages per second, 1 to 10000",
            )),
        },
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendState {
    Queued,
    Sent,
    Failed,
    /// Not sent on purpose: unsubscribed, an invalid address, a duplicate in its campaign.
    Skipped,
}

impl SendState {
    pub fn as_str(self) -> &'static str {
        match self {
            SendState::Queued => "queued",
            SendState::Sent => "sent",
            SendState::Failed => "failed",
            SendState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Sent, Self::Failed, Self::Skipped]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        self != SendState::Queued
    }
}

/// One message to one recipient: what to send, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The integer id the store assigns (0 before the message is stored).
    pub seq: i64,
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub channel: Channel,
    /// What the message belongs to (`zns:<tracking id>`, `sms-campaign:12`…): a recipient is sent
    /// one message per campaign.
    pub campaign: String,
    /// The address as the provider takes it (`84912345678`, an e-mail address).
    pub recipient: String,
    /// What the channel sends, as JSON (a ZNS template and its data, a subject and body…).
    pub content: String,
    pub state: SendState,
    /// The provider's id for the message, once sent.
    pub provider_id: Option<String>,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// The provider's last answer, as received (bounded).
    pub answer: Option<String>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// What became of one attempt, as the sending job records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub state: SendState,
    pub provider_id: Option<String>,
    pub reason: Option<String>,
    pub answer: Option<String>,
}

/// Which messages a list shows.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub channel: Option<Channel>,
    pub campaign: Option<String>,
    /// One of these campaigns.
    pub campaigns: Option<Vec<String>>,
    pub state: Option<SendState>,
    /// To this address, as the provider takes it (`84912345678`, a lower-cased e-mail).
    pub recipient: Option<String>,
    /// Queued at or after / at or before.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Below this integer id (the next page of a walk newest first).
    pub below_seq: Option<i64>,
}

/// How many messages of a campaign are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
}

impl Totals {
    pub fn all(&self) -> i64 {
        self.queued + self.sent + self.failed + self.skipped
    }
}

/// What a sending job carries: the message to send.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MessageJob {
    pub message_id: Uuid,
}

/// What a batch job carries: the messages to send, each unless it was sent, ended or handed to
/// a job of its own (an attempt was made) meanwhile.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MessageBatch {
    pub message_ids: Vec<Uuid>,
}

/// One attempt's outcome as a sending job records it; with `retry_at`, the message (still
/// queued) gets a `MESSAGE_JOB` of its own due then.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub message: Uuid,
    pub outcome: Outcome,
    pub retry_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// A tenant's settings of one scope ([`Scope::name`]: a channel, `documents`).
    async fn settings(&self, at: At<'_>, tenant: TenantId, scope: &str) -> DomainResult<Settings>;
    async fn save_settings(
        &self,
        w: &mut Work,
        tenant: TenantId,
        scope: &str,
        settings: &Settings,
    ) -> DomainResult<()>;
    /// Stores new messages; answers the ids of those stored (a message is not stored when its
    /// campaign already has one for the recipient).
    async fn add_messages(&self, w: &mut Work, list: &[Message]) -> DomainResult<HashSet<Uuid>>;
    /// The campaign's message to a recipient.
    async fn message_to(
        &self,
        at: At<'_>,
        tenant: TenantId,
        channel: Channel,
        campaign: &str,
        recipient: &str,
    ) -> DomainResult<Option<Message>>;
    async fn message(&self, tenant: TenantId, id: Uuid) -> DomainResult<Option<Message>>;
    /// Messages by id alone, for the job sending them (in no particular order).
    async fn messages_by_id(&self, ids: &[Uuid]) -> DomainResult<Vec<Message>>;
    /// Records attempts' outcomes (counting each attempt) on messages still queued; answers
    /// the ids recorded (not those that had reached an end already).
    async fn record(&self, w: &mut Work, attempts: &[Attempt]) -> DomainResult<HashSet<Uuid>>;
    /// [`MessageStore::record`] as one statement that commits on its own (as durable as a
    /// unit of work, without its round trips), when the attempts fit in one; `None` when they
    /// do not (then record them in a unit of work).
    async fn record_alone(&self, attempts: &[Attempt]) -> DomainResult<Option<HashSet<Uuid>>>;
    /// Newest first.
    async fn messages(
        &self,
        tenant: TenantId,
        filter: &MessageFilter,
        page: PageRequest,
    ) -> DomainResult<Vec<Message>>;
    /// Each campaign's totals (campaigns without messages are absent), in one read.
    async fn totals(
        &self,
        tenant: TenantId,
        campaigns: &[&str],
    ) -> DomainResult<BTreeMap<String, Totals>>;
    /// Records that `address` wants no more messages of `channel` from the tenant; `false`
    /// when it was recorded already.
    async fn unsubscribe(
        &self,
        tenant: TenantId,
        channel: Channel,
        address: &str,
    ) -> DomainResult<bool>;
    /// Which of `addresses` unsubscribed from the tenant's `channel`.
    async fn unsubscribed(
        &self,
        at: At<'_>,
        tenant: TenantId,
        channel: Channel,
        addresses: &[&str],
    ) -> DomainResult<HashSet<String>>;
}

/// A Vietnamese mobile number as Zalo and SMS gateways take it: `84` and nine digits, from any
/// notation (`0912 345 678`, `+84 912…`, old 11-digit prefixes mapped).
pub fn provider_phone(field: &str, input: &str) -> DomainResult<String> {
    let phone = crate::text::Phone::parse(field, input)?;
    let key = phone.key();
    match key.strip_prefix('0') {
        Some(rest) if rest.len() == 9 && rest.starts_with(['3', '5', '7', '8', '9']) => {
            Ok(format!("84{rest}"))
        }
        _ => Err(DomainError::validation(
            field,
            format!("'{input}' is not a Vietnamese mobile number"),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn phones_for_providers() {
        for (input, want) in [
            ("0912345678", "84912345678"),
            ("0912 345 678", "84912345678"),
            ("+84 912.345.678", "84912345678"),
            ("84912345678", "84912345678"),
            ("01682345678", "84382345678"),
        ] {
            assert_eq!(provider_phone("phone", input).unwrap(), want, "{input}");
        }
        for bad in ["0241234567", "12345", "abc", "02838123456"] {
            assert!(provider_phone("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_are_checked_and_secrets_hidden() {
        let mut s = Settings::default();
        s.apply(
            Channel::Zns,
            &[
                ("api_url".into(), "http://127.0.0.1:9/zns".into()),
                ("access_token".into(), "tok".into()),
            ],
        )
        .unwrap();
        let shown = s.redacted(Channel::Zns);
        assert_eq!(shown["access_token"], "set");
        assert_eq!(shown["api_url"], "http://127.0.0.1:9/zns");
        assert!(s
            .apply(Channel::Zns, &[("smtp_url".into(), "x".into())])
            .is_err());
        assert!(s
            .apply(Channel::Zns, &[("api_url".into(), "ftp://x".into())])
            .is_err());
        s.apply(Channel::Zns, &[("access_token".into(), String::new())])
            .unwrap();
        assert!(s.get("access_token").is_none());
    }
}
