//! Brandname SMS through an HTTP gateway of the kind Vietnamese businesses use, in the shape of
//! eSMS's `SendMultipleMessage_V4_post_json`: JSON in (`ApiKey`, `SecretKey`, `Phone`,
//! `Content`, `Brandname`, `SmsType`, `IsUnicode`, `RequestId`), a result code out
//! (`{"CodeResult": "100", "SMSID": "…", "ErrorMessage": "…"}`, 100 is success).

use serde_json::Value;

use crate::outbound::{Lane, Outbound, Payload};
use crate::zns::{answered, Sent};

/// The gateway's endpoint where a tenant's sms channel names none.
pub const DEFAULT_API: &str =
    "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/";

/// Result codes worth retrying: the gateway's own error (99) and a balance to top up (103).
/// Every other code but 100 is final (bad key or secret, locked account, unknown brandname or
/// SMS type, a refused number or content).
pub const RETRY_CODES: [&str; 2] = ["99", "103"];

/// What one SMS carries.
pub struct Sms<'a> {
    pub api_key: &'a str,
    pub secret_key: &'a str,
    pub brandname: &'a str,
    /// The gateway's SMS type (`2`: customer care by brandname, the default).
    pub sms_type: &'a str,
    pub phone: &'a str,
    pub text: &'a str,
    pub unicode: bool,
    /// Our message id: the gateway refuses a repeated request id, so a retry sends nothing twice.
    pub request_id: String,
}

pub async fn send(out: &Outbound, url: &str, m: &Sms<'_>) -> Sent {
    let body = serde_json::json!({
        "ApiKey": m.api_key,
        "SecretKey": m.secret_key,
        "Phone": m.phone,
        "Content": m.text,
        "Brandname": m.brandname,
        "SmsType": m.sms_type,
        "IsUnicode": if m.unicode { "1" } else { "0" },
        "RequestId": m.request_id,
    })
    .to_string();
    let a = match answered(
        out.post(Lane::Provider, url, &[], Payload::Json(body))
            .await,
        "the SMS gateway",
    ) {
        Ok(a) => a,
        Err(sent) => return sent,
    };
    let v: Value = match serde_json::from_str(&a.body) {
        Ok(v) => v,
        Err(_) => {
            return Sent::Later {
                reason: format!("the SMS gateway answered HTTP {} without JSON", a.status),
                answer: a.body,
            }
        }
    };
    let text = |k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let code = text("CodeResult");
    if code == "100" {
        return Sent::Ok {
            msg_id: text("SMSID"),
        };
    }
    let reason = format!("SMS gateway code {code}: {}", text("ErrorMessage"));
    Sent::refused(RETRY_CODES.contains(&code.as_str()), reason, a.body)
}
