//! NextX E38 `POST /api/common/send-zns-message`: one Zalo ZNS template message, really sent
//! through the tenant's zns channel. The doc's answer is its request model; ours is that
//! model with the outcome beside it (`status`, `msg_id`, `reason`), after waiting a moment for
//! the send (`CRM_SEND_WAIT_MS`). Decisions: `docs/dialects/nextx.md`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::{Json, Router};
use crm_domain::messaging::{Message, SendState};
use crm_domain::service::ZnsRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kit::api::*;
use super::kit::{bad, Caller, NxError};
use crate::body::parse_ci;
use crate::AppState;

pub(super) fn router(spec: &mut Spec) -> Router<AppState> {
    Api::new(spec)
        .route::<ZnsIn, ZnsOut, _, _>(
            M::POST,
            "/api/common/send-zns-message",
            Op::bearer("Messages", "Send one Zalo ZNS template message"),
            send_zns,
        )
        .router
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct ZnsIn {
    #[serde(default)]
    phone: Option<Value>,
    #[serde(default)]
    template_id: Option<Value>,
    #[serde(default)]
    tracking_id: Option<Value>,
    #[serde(default)]
    template_data: Option<Value>,
}

/// A string or a number, as the doc's string fields arrive from PHP and JS clients.
fn text(field: &str, v: Option<Value>) -> Result<Option<String>, NxError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(bad(field, "must be a string")),
    }
}

/// The ZNS answer: the request model, and what became of the message.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ZnsOut {
    phone: String,
    template_id: String,
    tracking_id: String,
    template_data: BTreeMap<String, String>,
    /// 0 when sent or still being sent, 1 when it failed.
    status_code: u16,
    message: String,
    /// `sent`, `queued` (still trying) or `failed`.
    status: &'static str,
    /// Zalo's message id, once sent.
    msg_id: Option<String>,
    /// Why it failed, or why it is still being tried.
    reason: Option<String>,
    /// Our record of the message (`GET /crm/v1/messages/{id}`).
    id: uuid::Uuid,
}

async fn send_zns(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<ZnsOut>, NxError> {
    let b: ZnsIn = parse_ci(&body)?;
    let phone = text("phone", b.phone)?.ok_or_else(|| bad("phone", "is required"))?;
    let template_id =
        text("template_id", b.template_id)?.ok_or_else(|| bad("template_id", "is required"))?;
    let tracking_id = text("tracking_id", b.tracking_id)?;
    let mut data = BTreeMap::new();
    match b.template_data {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let field = format!("template_data.{k}");
                let value = match v {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(bad(&field, "must be a string or a number")),
                };
                data.insert(k, value);
            }
        }
        Some(_) => return Err(bad("template_data", "must be an object")),
    }
    let queued = s
        .crm
        .send_zns(
            &actor,
            ZnsRequest {
                phone: phone.clone(),
                template_id: template_id.clone(),
                template_data: data.clone(),
                tracking_id,
            },
        )
        .await?;
    let m: Message = s.crm.wait_message(&actor, queued.id, s.send_wait).await?;
    let content: Value = serde_json::from_str(&m.content).unwrap_or(Value::Null);
    let tracking_id = content
        .get("tracking_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let (status_code, message) = match m.state {
        SendState::Sent => (0, "Sent".to_owned()),
        SendState::Queued => (0, "Queued: the message is still being sent".to_owned()),
        _ => (
            1,
            m.reason
                .clone()
                .unwrap_or_else(|| "the message could not be sent".to_owned()),
        ),
    };
    Ok(Json(ZnsOut {
        phone,
        template_id,
        tracking_id,
        template_data: data,
        status_code,
        message,
        status: m.state.as_str(),
        msg_id: m.provider_id.clone(),
        reason: m.reason.clone(),
        id: m.id,
    }))
}
