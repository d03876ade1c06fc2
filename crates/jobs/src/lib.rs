//! Durable jobs and outbound channels.
//!
//! [`Runner`] claims due jobs from the job table (`crm_domain::jobs`) and runs each with
//! the [`Handler`] of its kind; [`webhook::Deliver`] is the first handler. Outbound HTTP
//! goes through one shared [`outbound::Outbound`] client. See `docs/jobs.md`.

pub mod automations;
pub mod campaigns;
pub mod email;
pub mod messages;
pub mod outbound;
pub mod runner;
pub mod sms;
pub mod transfers;
pub mod webhook;
pub mod zns;

pub use outbound::Outbound;
pub use runner::{backoff, Handler, JobError, Runner, RunnerConfig};
