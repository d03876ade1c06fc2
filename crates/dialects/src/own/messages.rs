//! Our channel settings and send records: `/crm/v1/channels/{email|zns|sms}` (secrets are
//! shown as `"set"`, never their value) and `/crm/v1/messages` (what was sent, to whom, with
//! what outcome). See `docs/messaging.md`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::MethodFilter as M;
use axum::Json;
use crm_domain::messaging::{Channel, Message, MessageFilter, SendState};
use crm_domain::search::PageRequest;
use crm_domain::service::{EmailRequest, SmsRequest};
use crm_domain::DomainError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{id_of, Caller, Listed, OwnError, OwnQuery};
use crate::body::parse_ci;
use crate::openapi::{int, text, Api, Op};
use crate::AppState;

pub(super) fn routes(api: Api<'_>) -> Api<'_> {
    const C: &str = "Channels";
    const S: &str = "Messages";
    api.route::<(), ChannelOut, _, _>(
        M::GET,
        "/crm/v1/channels/{channel}",
        Op::bearer(
            C,
            "A channel's settings (email, zns or sms; secrets shown as \"set\")",
        ),
        show,
    )
    .route::<SetBody, ChannelOut, _, _>(
        M::PUT,
        "/crm/v1/channels/{channel}",
        Op::bearer(C, "Set a channel's settings (an empty value removes a key)"),
        set,
    )
    .route::<(), Listed<MessageOut>, _, _>(
        M::GET,
        "/crm/v1/messages",
        Op::bearer(S, "Send records, newest first").query(&[
            text("channel"),
            text("campaign"),
            text("state"),
            int("page"),
            int("size"),
        ]),
        list,
    )
    .route::<SendBody, MessageOut, _, _>(
        M::POST,
        "/crm/v1/messages",
        Op::bearer(S, "Send one e-mail or SMS (queued; follow its record)").status(202),
        send,
    )
    .route::<(), MessageOut, _, _>(
        M::GET,
        "/crm/v1/messages/{id}",
        Op::bearer(S, "One send record"),
        one,
    )
    .route::<(), (), _, _>(
        M::GET,
        "/crm/v1/unsubscribe/{id}",
        Op::anonymous(S, "The unsubscribe page an e-mail links to").html(),
        unsubscribe_page,
    )
    .route::<(), (), _, _>(
        M::POST,
        "/crm/v1/unsubscribe/{id}",
        Op::anonymous(S, "One-click unsubscribe (RFC 8058)").html(),
        unsubscribe,
    )
}

/// A channel's settings.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ChannelOut {
    /// `email`, `zns` or `sms`.
    channel: &'static str,
    /// `key: value`; a secret's value is `"set"`.
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
        settings: s.crm.settings(&actor, channel).await?,
    }))
}

/// Settings to change.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
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
        settings: s.crm.set_settings(&actor, channel, &pairs).await?,
    }))
}

/// A send record as our endpoints show it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
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

async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    OwnQuery(q): OwnQuery<ListQuery>,
) -> Result<Json<Listed<MessageOut>>, OwnError> {
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
        ..MessageFilter::default()
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

/// One message to send.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SendBody {
    /// `email` or `sms` (ZNS is sent through NextX's E38 endpoint).
    channel: String,
    to: String,
    subject: Option<String>,
    text: Option<String>,
    html: Option<String>,
    /// One message per recipient and campaign: sending again answers the first.
    campaign: Option<String>,
}

/// Queues one message; answers its record (`202`, `queued`, or `skipped` for an address that
/// unsubscribed). Follow it with `GET /crm/v1/messages/{id}`.
async fn send(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<MessageOut>), OwnError> {
    let b: SendBody = parse_ci(&body?)?;
    let m = match channel_of(&b.channel)? {
        Channel::Email => {
            s.crm
                .send_email(
                    &actor,
                    EmailRequest {
                        to: b.to,
                        subject: b.subject.unwrap_or_default(),
                        text: b.text,
                        html: b.html,
                        campaign: b.campaign,
                    },
                )
                .await?
        }
        Channel::Sms => {
            if b.subject.is_some() || b.html.is_some() {
                return Err(DomainError::validation("subject", "an SMS has only a text").into());
            }
            s.crm
                .send_sms(
                    &actor,
                    SmsRequest {
                        to: b.to,
                        text: b.text.unwrap_or_default(),
                        campaign: b.campaign,
                    },
                )
                .await?
        }
        Channel::Zns => {
            return Err(DomainError::validation(
                "channel",
                "ZNS is sent with POST /api/common/send-zns-message",
            )
            .into())
        }
    };
    Ok((StatusCode::ACCEPTED, Json((&m).into())))
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:32em;margin:4em auto\">{body}</body></html>"
    ))
}

/// The link in an e-mail: a page with a button (a GET alone never unsubscribes, so that link
/// scanners cannot do it for the reader).
async fn unsubscribe_page(Path(id): Path<String>) -> Result<Html<String>, OwnError> {
    let id = id_of(&id)?;
    Ok(page(
        "Hủy đăng ký",
        &format!(
            "<h1>Hủy đăng ký nhận thư</h1><p>Bạn sẽ không nhận thêm thư từ người gửi này.</p>\
             <form method=\"post\" action=\"/crm/v1/unsubscribe/{id}\">\
             <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\">Hủy đăng ký</button></form>"
        ),
    ))
}

/// One-click unsubscribe (RFC 8058): the mail client POSTs `List-Unsubscribe=One-Click`.
async fn unsubscribe(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Html<String>, OwnError> {
    s.crm.unsubscribe(id_of(&id)?).await?;
    Ok(page(
        "Đã hủy đăng ký",
        "<h1>Đã hủy đăng ký</h1><p>Bạn sẽ không nhận thêm thư từ người gửi này.</p>",
    ))
}
