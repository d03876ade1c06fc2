//! The `crm` server: configuration, CLI and wiring of the layers.

pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod net;
pub mod observe;
pub mod openapi;
pub mod transfer_cli;

pub use app::App;
pub use config::Config;
