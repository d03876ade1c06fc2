//! E-mail over SMTP (`lettre`): plain, STARTTLS or TLS, with AUTH when the URL carries a user.
//! Each message is MIME `multipart/alternative` (a UTF-8 text part and an HTML part), its
//! Message-ID made from the send record's id (the same on every retry), and a one-click
//! `List-Unsubscribe` (RFC 8058) pointing at our unsubscribe endpoint.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};
use serde_json::Value;

use crate::zns::Sent;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// What a tenant's e-mail channel says about its SMTP server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `none`, `starttls` or `tls`.
    pub tls: String,
}

impl Server {
    /// From `smtp_url` (`smtp://user:pass@host:port`, `smtps://…`) and `tls`.
    pub fn parse(smtp_url: &str, tls: Option<&str>) -> Result<Self, String> {
        let url = reqwest::Url::parse(smtp_url).map_err(|e| format!("smtp_url: {e}"))?;
        let secure = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(format!("smtp_url: '{other}' is not smtp or smtps")),
        };
        let host = url
            .host_str()
            .ok_or_else(|| "smtp_url names no host".to_owned())?
            .to_owned();
        let tls = tls
            .map(str::to_owned)
            .unwrap_or_else(|| if secure { "tls" } else { "starttls" }.to_owned());
        let port = url.port().unwrap_or(match tls.as_str() {
            "tls" => 465,
            "starttls" => 587,
            _ => 25,
        });
        let decode = |s: &str| percent_decode(s).filter(|v| !v.is_empty());
        Ok(Self {
            host,
            port,
            user: decode(url.username()),
            password: url.password().and_then(decode),
            tls,
        })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// SMTP connections, kept per server so that consecutive messages reuse them.
#[derive(Default)]
pub struct Mailer {
    transports: Mutex<HashMap<Server, Transport>>,
}

/// One e-mail to send.
pub struct Outgoing<'a> {
    pub from: &'a str,
    pub from_name: Option<&'a str>,
    pub to: &'a str,
    /// `{subject, text, html}`.
    pub content: &'a Value,
    /// `<…@…>`, the same on every attempt.
    pub message_id: String,
    /// The one-click unsubscribe URL.
    pub unsubscribe: Option<String>,
}

impl Mailer {
    fn transport(&self, s: &Server) -> Result<Transport, String> {
        let mut map = self.transports.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = map.get(s) {
            return Ok(t.clone());
        }
        let tls = match s.tls.as_str() {
            "none" => Tls::None,
            mode => {
                let params = TlsParameters::new(s.host.clone()).map_err(|e| e.to_string())?;
                if mode == "tls" {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut b = Transport::builder_dangerous(s.host.clone())
            .port(s.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&s.user, &s.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        let t = b.build();
        if map.len() > 1_000 {
            map.clear();
        }
        map.insert(s.clone(), t.clone());
        Ok(t)
    }

    /// Sends one e-mail; the SMTP server's permanent refusals are final, the rest retried.
    pub async fn send(&self, server: &Server, m: Outgoing<'_>) -> Sent {
        let never = |reason: String| Sent::Never {
            reason,
            answer: String::new(),
        };
        let text = |k: &str| {
            m.content
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let from: lettre::Address = match m.from.parse() {
            Ok(a) => a,
            Err(e) => return never(format!("the channel's from address: {e}")),
        };
        let to: lettre::Address = match m.to.parse() {
            Ok(a) => a,
            Err(e) => return never(format!("the recipient's address: {e}")),
        };
        // A campaign's own sender name and reply address, over the channel's.
        let from_name = m
            .content
            .get("from_name")
            .and_then(Value::as_str)
            .or(m.from_name);
        let mut builder = Mail::builder()
            .from(Mailbox::new(from_name.map(str::to_owned), from))
            .to(Mailbox::new(None, to))
            .subject(text("subject"))
            .message_id(Some(m.message_id.clone()));
        if let Some(reply) = m.content.get("reply_to").and_then(Value::as_str) {
            if let Ok(a) = reply.parse::<lettre::Address>() {
                builder = builder.reply_to(Mailbox::new(None, a));
            }
        }
        if let Some(url) = &m.unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let mail = match builder.multipart(MultiPart::alternative_plain_html(
            text("text"),
            text("html"),
        )) {
            Ok(mail) => mail,
            Err(e) => return never(format!("building the message: {e}")),
        };
        let transport = match self.transport(server) {
            Ok(t) => t,
            Err(e) => return never(e),
        };
        match transport.send(mail).await {
            // The provider id of an e-mail is its Message-ID.
            Ok(_) => Sent::Ok {
                msg_id: m.message_id.clone(),
            },
            // A 5xx, or what no retry changes (no common AUTH mechanism, a bad address).
            Err(e) if e.is_permanent() || e.is_client() => Sent::Never {
                reason: format!("the SMTP server refused the message: {e}"),
                answer: e.to_string(),
            },
            Err(e) => Sent::Later {
                reason: format!("SMTP: {e}"),
                answer: e.to_string(),
            },
        }
    }
}
