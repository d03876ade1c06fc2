//! Sends `message` jobs (one send record, through its channel, recorded after every attempt) and
//! `messages` batch jobs (a campaign's page: up to [`IN_FLIGHT`] sends at once, their outcomes
//! recorded a group per unit of work). A message that already reached an end (sent, failed,
//! skipped) is never sent again; one a batch attempted and may retry leaves it for a job of its
//! own.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use async_trait::async_trait;
use crm_domain::ids::TenantId;
use crm_domain::jobs::Job;
use crm_domain::messaging::{
    Attempt, Channel, Message, MessageBatch, MessageJob, Outcome, SendState, Settings,
    MESSAGE_BATCH_JOB,
};
use crm_domain::service::{Crm, TokenTurn, REFRESH_CLAIM_TTL};
use serde_json::Value;

use crate::email::{Mailer, Outgoing, Server};
use crate::outbound::Outbound;
use crate::runner::{Handler, JobError, RunnerConfig};
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

/// Sends of one batch job in flight at once.
pub const IN_FLIGHT: usize = 8;
/// Most sends of one batch job not yet recorded (in flight, or done and waiting for a write):
/// at most this many are sent again after a crash.
pub const UNRECORDED: usize = 4 * IN_FLIGHT;

/// Most outcomes one group write carries.
const GROUP_MAX: usize = 1_000;

/// The answer to outcomes handed to the [`Recorder`]: whether their write committed.
type Written = tokio::sync::oneshot::Receiver<Result<(), String>>;

/// Outcomes of one batch waiting for a group write, with whom to tell how it went.
type Recording = (
    TenantId,
    Vec<Attempt>,
    tokio::sync::oneshot::Sender<Result<(), String>>,
);

/// Writes batches' outcomes as group commits: while one write runs, what other batches finish
/// queues up and goes in the next write, together (one unit of work, one statement per chunk).
/// Each batch has at most one write waiting, so the queue holds at most one per running batch.
struct Recorder {
    queue: tokio::sync::mpsc::UnboundedSender<Recording>,
}

impl Recorder {
    fn start(crm: Crm) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::unbounded_channel::<Recording>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut size = first.1.len();
                let mut waiting = vec![first];
                while size < GROUP_MAX {
                    let Ok(next) = rx.try_recv() else { break };
                    size += next.1.len();
                    waiting.push(next);
                }
                let (groups, tell): (Vec<_>, Vec<_>) =
                    waiting.into_iter().map(|(t, a, r)| ((t, a), r)).unzip();
                let started = Instant::now();
                let result = crm
                    .record_send_groups(&groups)
                    .await
                    .map_err(|e| e.to_string());
                tracing::trace!(batches = groups.len(), outcomes = size, took = ?started.elapsed(), "group write");
                for reply in tell {
                    // A batch that stopped waiting finds its messages still queued.
                    let _ = reply.send(result.clone());
                }
            }
        });
        Self { queue }
    }

    /// Queues `attempts` for the next group write; the answer comes when it committed.
    fn record(&self, tenant: TenantId, attempts: Vec<Attempt>) -> Written {
        let (reply, answer) = tokio::sync::oneshot::channel();
        // A stopped recorder drops `reply`: the batch sees the write fail.
        let _ = self.queue.send((tenant, attempts, reply));
        answer
    }
}

/// The handler of both sending kinds (`message` and `messages`).
#[derive(Clone)]
pub struct SendMessage(Arc<Sender>);

struct Sender {
    crm: Crm,
    outbound: Arc<Outbound>,
    defaults: ProviderDefaults,
    mailer: Mailer,
    /// How long a batch run sends before it hands the rest to a new job.
    budget: Duration,
    /// The first retry's delay of a message a batch attempted, and the cap.
    backoff: (Duration, Duration),
    /// A node's senders take turns per tenant to claim a token refresh (a refresh token is spent
    /// by use; the claim coordinates the nodes).
    refreshing: Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<()>>>>,
    /// The newest ZNS access token this node knows per tenant (after a refresh).
    tokens: Mutex<HashMap<TenantId, String>>,
    /// Each tenant's channels' `rate` (messages per second) on this node, with its limiter.
    pacers: Mutex<HashMap<(TenantId, Channel), Pacer>>,
    /// The group writer of batches' outcomes, started by the first batch.
    recorder: std::sync::OnceLock<Recorder>,
}

impl SendMessage {
    /// A batch run stays well inside the job lease (a third of it, two seconds at most), and
    /// retries follow the runner's backoff.
    pub fn new(
        crm: Crm,
        outbound: Arc<Outbound>,
        defaults: ProviderDefaults,
        runner: &RunnerConfig,
    ) -> Self {
        Self(Arc::new(Sender {
            crm,
            outbound,
            defaults,
            mailer: Mailer::default(),
            budget: (runner.lease / 3).min(crate::campaigns::BUDGET),
            backoff: (runner.backoff_base, runner.backoff_max),
            refreshing: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            pacers: Mutex::new(HashMap::new()),
            recorder: std::sync::OnceLock::new(),
        }))
    }
}

impl Sender {
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

    /// A usable access token: the stored one unless it is `failed` (then another send, on this
    /// node or another, may have refreshed it already), else a refreshed one. The senders of a
    /// node take turns here; across nodes the refresh is claimed in the store
    /// ([`Crm::claim_token_refresh`]), and a node that finds another's claim waits for the
    /// token it stores.
    async fn access_token(&self, tenant: TenantId, failed: Option<&str>) -> Result<String, String> {
        let lock = self.refresh_lock(tenant);
        let _turn = lock.lock().await;
        let deadline = Instant::now() + REFRESH_CLAIM_TTL;
        let s = loop {
            match self.crm.claim_token_refresh(tenant, failed).await {
                Ok(TokenTurn::Current(token)) => {
                    self.remember(tenant, &token);
                    return Ok(token);
                }
                Ok(TokenTurn::Refresh(s)) => break s,
                Ok(TokenTurn::Busy) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(TokenTurn::Busy) => {
                    return Err("another node's refresh of the Zalo OA token did not end".into())
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        let refreshed = match (s.get("app_id"), s.get("secret_key"), s.get("refresh_token")) {
            (Some(app_id), Some(secret), Some(refresh)) => {
                let oauth = s.get("oauth_url").unwrap_or(&self.defaults.zns_oauth);
                zns::refresh(&self.outbound, oauth, app_id, secret, refresh).await
            }
            _ => Err(
                "the zns channel's access token was refused and it has no app_id, \
                      secret_key and refresh_token to refresh it"
                    .to_owned(),
            ),
        };
        let pair = refreshed.as_ref().ok().cloned();
        self.crm
            .finish_token_refresh(tenant, pair)
            .await
            .map_err(|e| e.to_string())?;
        let (access, _) = refreshed?;
        tracing::info!(tenant = %tenant.0, "refreshed the Zalo OA access token");
        self.remember(tenant, &access);
        Ok(access)
    }

    fn remember(&self, tenant: TenantId, token: &str) {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant, token.to_owned());
    }

    /// The channel's settings for sending `m`, with what an unreadable setting comes to.
    async fn settings(&self, m: &Message) -> Result<Settings, Sent> {
        self.crm
            .settings_secrets(m.tenant_id, m.channel)
            .await
            .map_err(|e| Sent::later(e.to_string()))
    }

    /// One attempt at sending `m` with its channel's settings, in its turn under the rate.
    async fn send(&self, m: &Message, s: &Settings) -> Sent {
        let content: Value = match serde_json::from_str(&m.content) {
            Ok(c) => c,
            Err(e) => return Sent::never(format!("bad stored content: {e}")),
        };
        self.pace(m, s).await;
        match m.channel {
            Channel::Zns => self.send_zns(m, &content, s).await,
            Channel::Email => self.send_email(m, &content, s).await,
            Channel::Sms => self.send_sms(m, &content, s).await,
        }
    }

    async fn send_email(&self, m: &Message, content: &Value, s: &Settings) -> Sent {
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
            content,
            message_id: format!("<{}@{domain}>", m.id.simple()),
            unsubscribe: Some(format!(
                "{}/crm/v1/unsubscribe/{}",
                self.defaults.public_url.trim_end_matches('/'),
                m.id
            )),
        };
        self.mailer.send(&server, out).await
    }

    async fn send_sms(&self, m: &Message, content: &Value, s: &Settings) -> Sent {
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

    async fn send_zns(&self, m: &Message, content: &Value, s: &Settings) -> Sent {
        let api = s.get("api_url").unwrap_or(&self.defaults.zns_api);
        // The newest token known, else the stored one; the refresh lock only when there is
        // none or Zalo refuses it.
        let known = self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&m.tenant_id)
            .cloned();
        let token = match known.as_deref().or(s.get("access_token")) {
            Some(t) => t.to_owned(),
            None => match self.access_token(m.tenant_id, None).await {
                Ok(t) => t,
                Err(e) => return Sent::later(e),
            },
        };
        match zns::send(&self.outbound, api, &token, &m.recipient, content).await {
            Sent::TokenRefused { answer } => {
                match self.access_token(m.tenant_id, Some(&token)).await {
                    Ok(fresh) => {
                        match zns::send(&self.outbound, api, &fresh, &m.recipient, content).await {
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

/// What an attempt comes to: the outcome to record, and the job's result.
fn settle(sent: Sent, attempts: i32, last: bool) -> (Outcome, Result<(), JobError>) {
    let ended = |reason: String, answer: String| Outcome {
        state: SendState::Failed,
        provider_id: None,
        reason: Some(reason),
        answer: Some(answer),
    };
    match sent {
        Sent::Ok { msg_id } => (
            Outcome {
                state: SendState::Sent,
                provider_id: Some(msg_id),
                reason: None,
                answer: None,
            },
            Ok(()),
        ),
        Sent::Later { reason, answer } if last => (
            ended(format!("{reason} (after {attempts} attempts)"), answer),
            Err(JobError::Permanent(reason)),
        ),
        Sent::Later { reason, answer } => (
            Outcome {
                state: SendState::Queued,
                provider_id: None,
                reason: Some(reason.clone()),
                answer: Some(answer),
            },
            Err(JobError::Retry(reason)),
        ),
        Sent::TokenRefused { answer } => (
            ended("Zalo refused the access token".to_owned(), answer),
            Err(JobError::Permanent("token refused".to_owned())),
        ),
        Sent::Never { reason, answer } => (
            ended(reason.clone(), answer),
            Err(JobError::Permanent(reason)),
        ),
    }
}

impl Sender {
    /// A `message` job: one message, its outcome recorded before the job ends.
    async fn run_one(&self, job: &Job) -> Result<(), JobError> {
        let p: MessageJob = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad message payload: {e}")))?;
        let m = self
            .crm
            .messages_for_job(&[p.message_id])
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .pop()
            .filter(|m| m.tenant_id == job.tenant_id)
            .ok_or_else(|| JobError::Permanent("the message is gone".to_owned()))?;
        if m.state.is_final() {
            return Ok(());
        }
        let sent = match self.settings(&m).await {
            Ok(s) => self.send(&m, &s).await,
            Err(sent) => sent,
        };
        let (outcome, result) = settle(sent, job.attempts, job.attempts >= job.max_attempts);
        let attempt = Attempt {
            message: m.id,
            outcome,
            retry_at: None,
        };
        if let Err(e) = self.crm.record_sends(m.tenant_id, &[attempt], &[]).await {
            // The send happened (or not) either way; a retry finds the record still queued.
            tracing::warn!(error = %e, message = %m.id, "recording a send failed");
            return Err(JobError::Retry(e.to_string()));
        }
        result
    }

    /// A `messages` job: each message still queued and never attempted, [`IN_FLIGHT`] at once,
    /// for the run's budget; what it did not start goes on in a new batch job. One worth
    /// retrying gets a `message` job of its own, due after the first backoff.
    async fn run_batch(self: Arc<Self>, job: &Job) -> Result<(), JobError> {
        let p: MessageBatch = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad batch payload: {e}")))?;
        let retry = |e: crm_domain::DomainError| JobError::Retry(e.to_string());
        let loading = Instant::now();
        let mut todo: Vec<Message> = self
            .crm
            .messages_for_job(&p.message_ids)
            .await
            .map_err(retry)?
            .into_iter()
            .filter(|m| m.tenant_id == job.tenant_id && !m.state.is_final() && m.attempts == 0)
            .collect();
        // In the order queued, so that a cut-off run leaves the last ones.
        todo.sort_by_key(|m| std::cmp::Reverse(m.seq));
        let started = Instant::now();
        let loaded = started - loading;
        let (mut writes, mut write_wait) = (0, Duration::ZERO);
        let mut settings: HashMap<Channel, Arc<Settings>> = HashMap::new();
        let mut running = tokio::task::JoinSet::new();
        let mut attempted = 0;
        let recorder = self
            .recorder
            .get_or_init(|| Recorder::start(self.crm.clone()));
        // Outcomes handed to the recorder and not yet committed, oldest first (the recorder
        // answers in the order it was given them).
        let mut writing: VecDeque<Written> = VecDeque::new();
        loop {
            // Each run sends at least one round, so that the rest it leaves is always less.
            while running.len() < IN_FLIGHT
                && running.len() + writing.len() < UNRECORDED
                && (started.elapsed() < self.budget || attempted < IN_FLIGHT)
            {
                let Some(m) = todo.pop() else { break };
                let s = match settings.get(&m.channel) {
                    Some(s) => s.clone(),
                    None => {
                        let s = Arc::new(self.settings(&m).await.map_err(|sent| match sent {
                            Sent::Later { reason, .. } => JobError::Retry(reason),
                            other => JobError::Retry(format!("{other:?}")),
                        })?);
                        settings.insert(m.channel, s.clone());
                        s
                    }
                };
                attempted += 1;
                let me = self.clone();
                running.spawn(async move {
                    let sent = me.send(&m, &s).await;
                    (m.id, sent)
                });
            }
            if running.is_empty() && writing.is_empty() {
                break;
            }
            let waiting = Instant::now();
            let blocked = running.is_empty();
            tokio::select! {
                Some(ended) = running.join_next(), if !running.is_empty() => {
                    let (id, sent) =
                        ended.map_err(|e| JobError::Retry(format!("a send stopped: {e}")))?;
                    let (outcome, result) = settle(sent, 1, false);
                    let retry_at = matches!(result, Err(JobError::Retry(_))).then(|| {
                        let delay = crate::runner::backoff(self.backoff.0, self.backoff.1, 1);
                        crm_domain::clock::now()
                            + chrono::Duration::from_std(delay)
                                .unwrap_or(chrono::Duration::hours(1))
                    });
                    // Handed over at once: the recorder writes it with whatever else is
                    // waiting when the writer is next free. What a crash can lose (and so
                    // send again) is what is in flight and what waits for a write.
                    let attempt = Attempt { message: id, outcome, retry_at };
                    writing.push_back(recorder.record(job.tenant_id, vec![attempt]));
                }
                wrote = async {
                    match writing.front_mut() {
                        Some(w) => w.await,
                        None => std::future::pending().await,
                    }
                }, if !writing.is_empty() => {
                    writing.pop_front();
                    writes += 1;
                    if blocked {
                        write_wait += waiting.elapsed();
                    }
                    wrote
                        .map_err(|e| JobError::Retry(format!("recording stopped: {e}")))?
                        .map_err(JobError::Retry)?;
                }
            }
        }
        let rest: Vec<uuid::Uuid> = todo.iter().rev().map(|m| m.id).collect();
        if !rest.is_empty() {
            self.crm
                .record_sends(job.tenant_id, &[], &rest)
                .await
                .map_err(retry)?;
        }
        tracing::debug!(
            attempted,
            left = rest.len(),
            ?loaded,
            took = ?started.elapsed(),
            writes,
            ?write_wait,
            "batch ran"
        );
        Ok(())
    }
}

#[async_trait]
impl Handler for SendMessage {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        if job.kind == MESSAGE_BATCH_JOB {
            self.0.clone().run_batch(job).await
        } else {
            self.0.run_one(job).await
        }
    }
}
