//! Our channel settings and send records: `/crm/v1/channels/{email|zns|sms}` (secrets are
//! shown as `"set"`, never their value) and `/crm/v1/messages` (what was sent, to whom, with
//! what outcome). See `docs/messaging.md`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use crm_domain::messaging::{Channel, Message, MessageFilter, SendState};
use crm_domain::search::PageRequest;
use crm_domain::DomainError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{id_of, Caller, OwnError};
use crate::body::parse_ci;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/crm/v1/channels/{channel}", get(show).put(set))
        .route("/crm/v1/messages", get(list))
        .route("/crm/v1/messages/{id}", get(one))
}

#[derive(Debug, Serialize)]
struct ChannelOut {
    channel: &'static str,
    settings: BTreeMap<String, String>,
}

fn channel_of(raw: &str) -> Result<Channel, OwnError> {
    Ok(Channel::parse(raw)?)
}

async fn show(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(channel): Path<String>,
) -> Result<Json<ChannelOut>, OwnError> {
    let channel = channel_of(&channel)?;
    Ok(Json(ChannelOut {
        channel: channel.as_str(),
        settings: s.crm.channel(&actor, channel).await?,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBody {
    /// `key: value`; an empty value removes the key.
    settings: BTreeMap<String, String>,
}

async fn set(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(channel): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ChannelOut>, OwnError> {
    let channel = channel_of(&channel)?;
    let b: SetBody = parse_ci(&body?)?;
    let pairs: Vec<(String, String)> = b.settings.into_iter().collect();
    Ok(Json(ChannelOut {
        channel: channel.as_str(),
        settings: s.crm.set_channel(&actor, channel, &pairs).await?,
    }))
}

/// A send record as our endpoints show it.
#[derive(Debug, Serialize)]
pub struct MessageOut {
    pub id: Uuid,
    pub channel: &'static str,
    pub campaign: String,
    pub recipient: String,
    /// What was (or is to be) sent, as the channel takes it.
    pub content: Value,
    /// `queued`, `sent`, `failed` or `skipped`.
    pub state: &'static str,
    pub provider_id: Option<String>,
    pub reason: Option<String>,
    /// The provider's last answer, as received.
    pub provider_answer: Option<String>,
    pub attempts: i32,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id,
            channel: m.channel.as_str(),
            campaign: m.campaign.clone(),
            recipient: m.recipient.clone(),
            content: serde_json::from_str(&m.content).unwrap_or(Value::Null),
            state: m.state.as_str(),
            provider_id: m.provider_id.clone(),
            reason: m.reason.clone(),
            provider_answer: m.answer.clone(),
            attempts: m.attempts,
            created_at: m.created_at.to_rfc3339(),
            sent_at: m.sent_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    channel: Option<String>,
    campaign: Option<String>,
    state: Option<String>,
    page: Option<u32>,
    size: Option<u32>,
}

#[derive(Debug, Serialize)]
struct Listed {
    data: Vec<MessageOut>,
}

async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Listed>, OwnError> {
    let filter = MessageFilter {
        channel: q.channel.as_deref().map(Channel::parse).transpose()?,
        campaign: q.campaign.filter(|c| !c.is_empty()),
        state: q
            .state
            .as_deref()
            .map(|st| {
                SendState::parse(st).ok_or_else(|| {
                    DomainError::validation("state", "must be queued, sent, failed or skipped")
                })
            })
            .transpose()?,
    };
    let page = PageRequest::new(q.page.unwrap_or(1), q.size.unwrap_or(50))?;
    let found = s.crm.messages(&actor, &filter, page).await?;
    Ok(Json(Listed {
        data: found.iter().map(MessageOut::from).collect(),
    }))
}

async fn one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, OwnError> {
    let m = s.crm.message(&actor, id_of(&id)?).await?;
    Ok(Json((&m).into()))
}
