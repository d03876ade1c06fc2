//! Sends `message` jobs: one send record, through its channel, recorded after every attempt.
//! A message that already reached an end (sent, failed, skipped) is never sent again.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use async_trait::async_trait;
use crm_domain::ids::TenantId;
use crm_domain::jobs::Job;
use crm_domain::messaging::{Channel, Message, MessageJob, Outcome, SendState, Settings};
use crm_domain::service::Crm;
use serde_json::Value;

use crate::email::{Mailer, Outgoing, Server};
use crate::outbound::Outbound;
use crate::runner::{Handler, JobError};
use crate::zns::{self, Sent};

/// Server-wide provider bases, used where a tenant's channel names none.
#[derive(Debug, Clone)]
pub struct ProviderDefaults {
    pub zns_api: String,
    pub zns_oauth: String,
    pub sms_api: String,
    /// This server's address as recipients reach it (unsubscribe links).
    pub public_url: String,
}

impl Default for ProviderDefaults {
    fn default() -> Self {
        Self {
            zns_api: zns::DEFAULT_API.to_owned(),
            zns_oauth: zns::DEFAULT_OAUTH.to_owned(),
            sms_api: crate::sms::DEFAULT_API.to_owned(),
            public_url: "http://localhost:8080".to_owned(),
        }
    }
}

/// A channel's rate and the limiter that keeps to it.
type Pacer = (NonZeroU32, Arc<DefaultDirectRateLimiter>);

pub struct SendMessage {
    crm: Crm,
    outbound: Arc<Outbound>,
    defaults: ProviderDefaults,
    mailer: Mailer,
    /// One token refresh at a time per tenant on this node (a refresh token is spent by use).
    refreshing: Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<()>>>>,
    /// Each tenant's channels' `rate` (messages per second) on this node, with its limiter.
    pacers: Mutex<HashMap<(TenantId, Channel), Pacer>>,
}

impl SendMessage {
    pub fn new(crm: Crm, outbound: Arc<Outbound>, defaults: ProviderDefaults) -> Self {
        Self {
            crm,
            outbound,
            defaults,
            mailer: Mailer::default(),
            refreshing: Mutex::new(HashMap::new()),
            pacers: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for the message's turn under its channel's `rate`, when the channel sets one.
    async fn pace(&self, m: &Message, s: &Settings) {
        let Some(rate) = s
            .get("rate")
            .and_then(|r| r.parse::<u32>().ok())
            .and_then(NonZeroU32::new)
        else {
            return;
        };
        let limiter = {
            let mut map = self.pacers.lock().unwrap_or_else(|p| p.into_inner());
            let entry = map
                .entry((m.tenant_id, m.channel))
                .or_insert_with(|| (rate, Arc::new(RateLimiter::direct(Quota::per_second(rate)))));
            if entry.0 != rate {
                *entry = (rate, Arc::new(RateLimiter::direct(Quota::per_second(rate))));
            }
            entry.1.clone()
        };
        limiter.until_ready().await;
    }

    fn refresh_lock(&self, tenant: TenantId) -> Arc<tokio::sync::Mutex<()>> {
        self.refreshing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(tenant)
            .or_default()
            .clone()
    }

    /// A usable access token, in the tenant's turn: the stored one unless it is `failed` (then
    /// another send may have refreshed it already), else a refreshed one.
    async fn access_token(&self, tenant: TenantId, failed: Option<&str>) -> Result<String, String> {
        let lock = self.refresh_lock(tenant);
        let _turn = lock.lock().await;
        let s = self
            .crm
            .channel_secrets(tenant, Channel::Zns)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(current) = s.get("access_token") {
            if Some(current) != failed {
                return Ok(current.to_owned());
            }
        }
        let (Some(app_id), Some(secret), Some(refresh)) =
            (s.get("app_id"), s.get("secret_key"), s.get("refresh_token"))
        else {
            return Err(
                "the zns channel's access token was refused and it has no app_id, secret_key \
                 and refresh_token to refresh it"
                    .to_owned(),
            );
        };
        let oauth = s.get("oauth_url").unwrap_or(&self.defaults.zns_oauth);
        let (access, refresh) =
            zns::refresh(&self.outbound, oauth, app_id, secret, refresh).await?;
        self.crm
            .update_channel(
                tenant,
                Channel::Zns,
                &[
                    ("access_token".to_owned(), access.clone()),
                    ("refresh_token".to_owned(), refresh),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = %tenant.0, "refreshed the Zalo OA access token");
        Ok(access)
    }

    /// A message's stored content and its channel's settings.
    async fn load(&self, m: &Message) -> Result<(Value, Settings), Sent> {
        let content: Value = serde_json::from_str(&m.content)
            .map_err(|e| Sent::never(format!("bad stored content: {e}")))?;
        let s = self
            .crm
            .channel_secrets(m.tenant_id, m.channel)
            .await
            .map_err(|e| Sent::later(e.to_string()))?;
        self.pace(m, &s).await;
        Ok((content, s))
    }

    async fn send_email(&self, m: &Message) -> Sent {
        let (content, s) = match self.load(m).await {
            Ok(loaded) => loaded,
            Err(sent) => return sent,
        };
        let (Some(url), Some(from)) = (s.get("smtp_url"), s.get("from")) else {
            return Sent::never("the email channel has no smtp_url or from");
        };
        let server = match Server::parse(url, s.get("tls")) {
            Ok(server) => server,
            Err(e) => return Sent::never(e),
        };
        let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        let out = Outgoing {
            from,
            from_name: s.get("from_name"),
            to: &m.recipient,
            content: &content,
            message_id: format!("<{}@{domain}>", m.id.simple()),
            unsubscribe: Some(format!(
                "{}/crm/v1/unsubscribe/{}",
                self.defaults.public_url.trim_end_matches('/'),
                m.id
            )),
        };
        self.mailer.send(&server, out).await
    }

    async fn send_sms(&self, m: &Message) -> Sent {
        let (content, s) = match self.load(m).await {
            Ok(loaded) => loaded,
            Err(sent) => return sent,
        };
        let (Some(api_key), Some(secret_key), Some(brandname)) =
            (s.get("api_key"), s.get("secret_key"), s.get("brandname"))
        else {
            return Sent::never("the sms channel has no api_key, secret_key or brandname");
        };
        let sms = crate::sms::Sms {
            api_key,
            secret_key,
            brandname,
            sms_type: s.get("sms_type").unwrap_or("2"),
            phone: &m.recipient,
            text: content
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            unicode: content
                .get("unicode")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            request_id: m.id.simple().to_string(),
        };
        let url = s.get("api_url").unwrap_or(&self.defaults.sms_api);
        crate::sms::send(&self.outbound, url, &sms).await
    }

    async fn send_zns(&self, m: &Message) -> Sent {
        let (content, s) = match self.load(m).await {
            Ok(loaded) => loaded,
            Err(sent) => return sent,
        };
        let api = s.get("api_url").unwrap_or(&self.defaults.zns_api);
        // The stored token as loaded; the refresh lock only when there is none or Zalo refuses it.
        let token = match s.get("access_token") {
            Some(t) => t.to_owned(),
            None => match self.access_token(m.tenant_id, None).await {
                Ok(t) => t,
                Err(e) => return Sent::later(e),
            },
        };
        match zns::send(&self.outbound, api, &token, &m.recipient, &content).await {
            Sent::TokenRefused { answer } => {
                match self.access_token(m.tenant_id, Some(&token)).await {
                    Ok(fresh) => {
                        match zns::send(&self.outbound, api, &fresh, &m.recipient, &content).await {
                            Sent::TokenRefused { answer } => Sent::Later {
                                reason: "Zalo refused the refreshed access token too".to_owned(),
                                answer,
                            },
                            other => other,
                        }
                    }
                    Err(reason) => Sent::Later { reason, answer },
                }
            }
            other => other,
        }
    }
}

#[async_trait]
impl Handler for SendMessage {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let p: MessageJob = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad message payload: {e}")))?;
        let m = self
            .crm
            .message_for_job(p.message_id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .filter(|m| m.tenant_id == job.tenant_id)
            .ok_or_else(|| JobError::Permanent("the message is gone".to_owned()))?;
        if m.state.is_final() {
            return Ok(());
        }
        let sent = match m.channel {
            Channel::Zns => self.send_zns(&m).await,
            Channel::Email => self.send_email(&m).await,
            Channel::Sms => self.send_sms(&m).await,
        };
        let last = job.attempts >= job.max_attempts;
        let (outcome, result) = match sent {
            Sent::Ok { msg_id } => (
                Outcome {
                    state: SendState::Sent,
                    provider_id: Some(msg_id),
                    reason: None,
                    answer: None,
                },
                Ok(()),
            ),
            Sent::Later { reason, answer } => (
                Outcome {
                    state: if last {
                        SendState::Failed
                    } else {
                        SendState::Queued
                    },
                    provider_id: None,
                    reason: Some(if last {
                        format!("{reason} (after {} attempts)", job.attempts)
                    } else {
                        reason.clone()
                    }),
                    answer: Some(answer),
                },
                Err(JobError::Retry(reason)),
            ),
            Sent::TokenRefused { answer } => (
                Outcome {
                    state: SendState::Failed,
                    provider_id: None,
                    reason: Some("Zalo refused the access token".to_owned()),
                    answer: Some(answer),
                },
                Err(JobError::Permanent("token refused".to_owned())),
            ),
            Sent::Never { reason, answer } => (
                Outcome {
                    state: SendState::Failed,
                    provider_id: None,
                    reason: Some(reason.clone()),
                    answer: Some(answer),
                },
                Err(JobError::Permanent(reason)),
            ),
        };
        if let Err(e) = self.crm.record_send(m.id, &outcome).await {
            // The send happened (or not) either way; a retry finds the record still queued.
            tracing::warn!(error = %e, message = %m.id, "recording a send failed");
            return Err(JobError::Retry(e.to_string()));
        }
        result
    }
}
