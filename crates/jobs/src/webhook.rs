//! Webhook delivery, signed as Standard Webhooks prescribes: headers `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
//! keyed with the endpoint secret (the base64 after `whsec_`).

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use crm_domain::jobs::Job;
use crm_domain::service::Crm;
use crm_domain::webhooks::{Delivery, DeliveryJob};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::outbound::{Lane, Outbound, Payload};
use crate::runner::{Handler, JobError};

/// `v1,<signature>` of one message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| format!("the endpoint secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Whether a receiver's status asks for another try: timeouts, throttling and server errors.
pub fn retryable(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// Delivers `webhook` jobs.
pub struct Deliver {
    pub crm: Crm,
    pub outbound: Arc<Outbound>,
}

#[async_trait]
impl Handler for Deliver {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let d: DeliveryJob = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad delivery payload: {e}")))?;
        let endpoint = self
            .crm
            .webhook_for_delivery(d.endpoint_id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .filter(|e| e.tenant_id == job.tenant_id)
            .ok_or_else(|| JobError::Permanent("the endpoint was deleted".to_owned()))?;
        if endpoint.disabled {
            return Err(JobError::Permanent("the endpoint is disabled".to_owned()));
        }
        let ts = crm_domain::clock::now().timestamp();
        let signature =
            sign(&endpoint.secret, &d.msg_id, ts, &d.body).map_err(JobError::Permanent)?;
        let headers = [
            ("webhook-id", d.msg_id.clone()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature),
        ];
        let sent = self
            .outbound
            .post(
                Lane::Webhook,
                &endpoint.url,
                &headers,
                Payload::Json(d.body.clone()),
            )
            .await;
        let (status, latency, error, result) = match sent {
            Ok(a) if (200..300).contains(&a.status) => (Some(a.status), a.latency, None, Ok(())),
            Ok(a) => {
                let msg = format!("the receiver answered {}", a.status);
                let r = if retryable(a.status) {
                    JobError::Retry(msg.clone())
                } else {
                    JobError::Permanent(msg.clone())
                };
                (Some(a.status), a.latency, Some(msg), Err(r))
            }
            Err(f) => {
                let r = if f.permanent {
                    JobError::Permanent(f.message.clone())
                } else {
                    JobError::Retry(f.message.clone())
                };
                (None, f.latency, Some(f.message), Err(r))
            }
        };
        let log = Delivery {
            id: Uuid::now_v7(),
            tenant_id: job.tenant_id,
            endpoint_id: endpoint.id,
            job_id: job.id,
            msg_id: d.msg_id,
            event: d.event,
            attempt: job.attempts,
            status: status.map(i32::from),
            latency_ms: i64::try_from(latency.as_millis()).unwrap_or(i64::MAX),
            error,
            at: crm_domain::clock::now(),
        };
        if let Err(e) = self.crm.log_delivery(&log).await {
            tracing::warn!(error = %e, "recording a webhook delivery failed");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn signs_like_the_specification() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn which_statuses_retry() {
        for s in [408, 429, 500, 502, 503] {
            assert!(retryable(s));
        }
        for s in [400, 401, 404, 410, 301] {
            assert!(!retryable(s));
        }
    }
}
