//! One shared HTTP client for everything the server sends out: timeouts, no redirects, a
//! concurrency limit per host, and (unless allowed) no private, loopback or link-local
//! targets, checked on every address a name resolves to, at the moment of sending.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::Semaphore;

/// How outbound requests behave.
#[derive(Debug, Clone)]
pub struct OutboundSettings {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Webhook requests in flight to one host at once; further ones wait their turn.
    pub per_host: usize,
    /// Requests in flight to one messaging provider's host at once (ZNS, SMS gateways): their
    /// pace is set by each channel's rate limit, this only bounds the connections.
    pub provider_per_host: usize,
    /// Allow private, loopback and link-local targets (`CRM_WEBHOOK_ALLOW_PRIVATE=1`).
    pub allow_private: bool,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            per_host: 8,
            provider_per_host: 64,
            allow_private: false,
        }
    }
}

/// Whether `ip` is an address a tenant must not make the server call by default.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                // Carrier-grade NAT 100.64.0.0/10 and 0.0.0.0/8.
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local fc00::/7 and link-local fe80::/10.
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Resolves names, dropping internal addresses unless they are allowed.
struct Guarded {
    allow_private: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow || !is_internal(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no address we may call").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Whom a request goes to: each kind has its own bound of requests in flight per host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// A tenant's webhook endpoint.
    Webhook,
    /// A messaging provider's API (ZNS, SMS gateway, OAuth).
    Provider,
}

/// An answer to an outbound request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub latency: Duration,
    /// The first `MAX_BODY` bytes of the answer's body, as text (lossy).
    pub body: String,
}

/// How much of an answer's body is read.
pub const MAX_BODY: usize = 64 * 1024;

/// What a request carries.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A JSON text.
    Json(String),
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
}

/// Why no answer came.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    /// Refused before sending (a bad or internal target): sending again cannot help.
    pub permanent: bool,
    pub latency: Duration,
}

/// The shared client.
pub struct Outbound {
    client: reqwest::Client,
    hosts: Mutex<HashMap<(Lane, String), Arc<Semaphore>>>,
    settings: OutboundSettings,
}

impl Outbound {
    pub fn new(settings: OutboundSettings) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("crm-server/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(Guarded {
                allow_private: settings.allow_private,
            }))
            .build()?;
        Ok(Self {
            client,
            hosts: Mutex::new(HashMap::new()),
            settings,
        })
    }

    fn slot(&self, lane: Lane, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.len() > 10_000 {
            hosts.retain(|_, s| Arc::strong_count(s) > 1);
        }
        let bound = match lane {
            Lane::Webhook => self.settings.per_host,
            Lane::Provider => self.settings.provider_per_host,
        };
        hosts
            .entry((lane, host.to_owned()))
            .or_insert_with(|| Arc::new(Semaphore::new(bound.max(1))))
            .clone()
    }

    /// POSTs `payload` with `headers` on `lane`; the first `MAX_BODY` bytes of the answer are
    /// kept.
    pub async fn post(
        &self,
        lane: Lane,
        url: &str,
        headers: &[(&str, String)],
        payload: Payload,
    ) -> Result<Answer, Failure> {
        let started = Instant::now();
        let refuse = |message: String| Failure {
            message,
            permanent: true,
            latency: started.elapsed(),
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| refuse(format!("bad URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refuse("only http and https URLs are called".to_owned()));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| refuse("the URL names no host".to_owned()))?
            .to_owned();
        // A literal address never reaches the resolver: check it here.
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            if !self.settings.allow_private && is_internal(ip) {
                return Err(refuse(format!(
                    "{ip} is a private, loopback or link-local address"
                )));
            }
        } else if !self.settings.allow_private {
            // A name that resolves only inward will not change by retrying: refuse it now.
            // (The client's resolver checks again when it connects, against rebinding.)
            let port = parsed.port_or_known_default().unwrap_or(443);
            if let Ok(addrs) = tokio::net::lookup_host((literal, port)).await {
                let addrs: Vec<SocketAddr> = addrs.collect();
                if !addrs.is_empty() && addrs.iter().all(|a| is_internal(a.ip())) {
                    return Err(refuse(format!(
                        "{host} resolves only to private, loopback or link-local addresses"
                    )));
                }
            }
        }
        let slot = self.slot(lane, &host);
        let _permit = slot.acquire_owned().await.map_err(|_| Failure {
            message: "shutting down".to_owned(),
            permanent: false,
            latency: started.elapsed(),
        })?;
        let mut req = match payload {
            Payload::Json(body) => self
                .client
                .post(parsed)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
            Payload::Form(pairs) => self.client.post(parsed).form(&pairs),
        };
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                // Read (a bounded part of) the answer; the rest is dropped with the connection.
                let body = tokio::time::timeout(Duration::from_secs(5), bounded_body(resp))
                    .await
                    .unwrap_or_default();
                Ok(Answer {
                    status,
                    latency: started.elapsed(),
                    body,
                })
            }
            Err(e) => Err(Failure {
                message: error_chain(&e),
                permanent: false,
                latency: started.elapsed(),
            }),
        }
    }
}

async fn bounded_body(mut resp: reqwest::Response) -> String {
    let mut out: Vec<u8> = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = MAX_BODY - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= MAX_BODY {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                is_internal(ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                "{ip}"
            );
        }
        for ip in ["8.8.8.8", "203.113.1.1", "2001:4860::8888"] {
            assert!(
                !is_internal(ip.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))),
                "{ip}"
            );
        }
    }
}
