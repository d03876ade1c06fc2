//! Durable jobs and outbound channels (SMTP e-mail, Zalo ZNS, SMS, webhooks).
//!
//! Nothing is sent yet: the first outbound feature (marketing sends, automations) brings the
//! job table, the `SKIP LOCKED` worker and the channels. The crate exists so the layering
//! (dialects -> domain <- store, jobs -> domain) is fixed from the start.
