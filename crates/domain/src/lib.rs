//! The domain core of the CRM server: entities, newtypes, the filter tree, services and the
//! repository traits the store implements. It knows no HTTP, no SQL and no vendor's field names.

pub mod activity;
pub mod audit;
pub mod auth;
pub mod automation;
pub mod campaign;
pub mod clock;
pub mod common;
pub mod console;
pub mod contact;
pub mod customer;
pub mod error;
pub mod files;
pub mod idempotency;
pub mod ids;
pub mod inventory;
pub mod jobs;
pub mod lead;
pub mod list;
pub mod marketing;
pub mod messaging;
pub mod money;
pub mod opportunity;
pub mod printout;
pub mod repo;
pub mod sales;
pub mod scope;
pub mod search;
pub mod service;
pub mod settings;
pub mod sheet;
pub mod stock;
pub mod template;
pub mod text;
mod throttle;
pub mod ticket;
pub mod transfer;
pub mod vietqr;
pub mod vocab;
pub mod webhooks;
pub mod words;
pub mod work;

pub use common::Actor;
pub use error::{DomainError, DomainResult};
