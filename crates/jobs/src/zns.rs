//! Zalo ZNS: one template message to one phone through the ZNS HTTP API, and the OA token
//! refresh when Zalo says the access token is no longer valid.
//!
//! `POST {api_url}/message/template`, header `access_token`, body
//! `{phone, template_id, template_data, tracking_id}`, answered
//! `{error, message, data: {msg_id, sent_time, quota}}` (`error` 0 is success).
//! `POST {oauth_url}/v4/oa/access_token`, header `secret_key`, form
//! `grant_type=refresh_token&app_id&refresh_token`, answered `{access_token, refresh_token,
//! expires_in}` (both tokens are new; the old refresh token is spent).

use serde::Deserialize;
use serde_json::Value;

use crate::outbound::{Answer, Failure, Lane, Outbound, Payload};

/// What one ZNS call came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// Zalo took it: its message id.
    Ok { msg_id: String },
    /// The access token is invalid or expired: refresh it and send again.
    TokenRefused { answer: String },
    /// Worth another try later (Zalo's own error, quota, sending hours, 429, 5xx, no answer).
    Later { reason: String, answer: String },
    /// Will fail the same way again (a bad number, template or data; no Zalo account).
    Never { reason: String, answer: String },
}

impl Sent {
    pub fn never(reason: impl Into<String>) -> Self {
        Sent::Never {
            reason: reason.into(),
            answer: String::new(),
        }
    }

    /// A provider's refusal with its answer: retried when `retry`, else final.
    pub fn refused(retry: bool, reason: String, answer: String) -> Self {
        if retry {
            Sent::Later { reason, answer }
        } else {
            Sent::Never { reason, answer }
        }
    }

    pub fn later(reason: impl Into<String>) -> Self {
        Sent::Later {
            reason: reason.into(),
            answer: String::new(),
        }
    }
}

/// A provider's answer worth reading, or what the call comes to without one: a refused target
/// is final; no answer, HTTP 429 and 5xx are retried.
pub fn answered(got: Result<Answer, Failure>, provider: &str) -> Result<Answer, Sent> {
    match got {
        Err(f) if f.permanent => Err(Sent::never(f.message)),
        Err(f) => Err(Sent::later(f.message)),
        Ok(a) if a.status == 429 || a.status >= 500 => Err(Sent::Later {
            reason: format!("{provider} answered HTTP {}", a.status),
            answer: a.body,
        }),
        Ok(a) => Ok(a),
    }
}

/// Zalo error codes that mean the access token must be refreshed.
pub const TOKEN_ERRORS: [i64; 2] = [-124, -216];
/// Zalo error codes worth retrying: an unknown error on Zalo's side, the OA's quota, and
/// messages outside the hours a template may be sent in. Every other code is final.
pub const RETRY_ERRORS: [i64; 4] = [-100, -117, -133, -144];

#[derive(Debug, Deserialize)]
struct ZnsAnswer {
    error: Option<i64>,
    message: Option<String>,
    data: Option<Value>,
}

/// The default bases (Zalo's production hosts).
pub const DEFAULT_API: &str = "https://business.openapi.zalo.me";
pub const DEFAULT_OAUTH: &str = "https://oauth.zaloapp.com";

fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Sends one template message. `content` is `{template_id, template_data, tracking_id}`.
pub async fn send(
    out: &Outbound,
    api_url: &str,
    access_token: &str,
    phone: &str,
    content: &Value,
) -> Sent {
    let body = serde_json::json!({
        "phone": phone,
        "template_id": content.get("template_id"),
        "template_data": content.get("template_data"),
        "tracking_id": content.get("tracking_id"),
    })
    .to_string();
    let headers = [("access_token", access_token.to_owned())];
    let url = join(api_url, "message/template");
    let a = match answered(
        out.post(Lane::Provider, &url, &headers, Payload::Json(body))
            .await,
        "Zalo",
    ) {
        Ok(a) => a,
        Err(sent) => return sent,
    };
    let parsed: Option<ZnsAnswer> = serde_json::from_str(&a.body).ok();
    let Some(z) = parsed else {
        return Sent::Later {
            reason: format!("Zalo answered HTTP {} without a JSON body", a.status),
            answer: a.body,
        };
    };
    let code = z.error.unwrap_or(if (200..300).contains(&a.status) {
        0
    } else {
        -1
    });
    let message = z.message.clone().unwrap_or_default();
    if code == 0 {
        let msg_id = z
            .data
            .as_ref()
            .and_then(|d| d.get("msg_id"))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        return Sent::Ok { msg_id };
    }
    let reason = format!("Zalo error {code}: {message}");
    if TOKEN_ERRORS.contains(&code) || a.status == 401 {
        Sent::TokenRefused { answer: a.body }
    } else {
        Sent::refused(RETRY_ERRORS.contains(&code), reason, a.body)
    }
}

/// A new token pair, or why none came.
pub async fn refresh(
    out: &Outbound,
    oauth_url: &str,
    app_id: &str,
    secret_key: &str,
    refresh_token: &str,
) -> Result<(String, String), String> {
    let url = join(oauth_url, "v4/oa/access_token");
    let form = vec![
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("app_id".to_owned(), app_id.to_owned()),
        ("refresh_token".to_owned(), refresh_token.to_owned()),
    ];
    let headers = [("secret_key", secret_key.to_owned())];
    let a = out
        .post(Lane::Provider, &url, &headers, Payload::Form(form))
        .await
        .map_err(|f| format!("refreshing the OA token: {}", f.message))?;
    let v: Value = serde_json::from_str(&a.body)
        .map_err(|_| format!("refreshing the OA token: HTTP {} without JSON", a.status))?;
    match (
        v.get("access_token").and_then(Value::as_str),
        v.get("refresh_token").and_then(Value::as_str),
    ) {
        (Some(at), Some(rt)) if !at.is_empty() && !rt.is_empty() => {
            Ok((at.to_owned(), rt.to_owned()))
        }
        _ => Err(format!(
            "Zalo refused the OA refresh token: {}",
            v.get("error_description")
                .or_else(|| v.get("error_name"))
                .or_else(|| v.get("message"))
                .map_or_else(|| format!("HTTP {}", a.status), Value::to_string)
        )),
    }
}
