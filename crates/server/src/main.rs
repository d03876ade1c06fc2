//! `crm`: runs the server (default) or the administrative commands.

use std::io::IsTerminal;

use clap::Parser;
use crm_server::app::{shutdown_signal, App};
use crm_server::cli;
use crm_server::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    let filter = EnvFilter::try_new(&args.config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.config.log_format == "json" {
        logs.json().with_current_span(true).init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Cli) -> anyhow::Result<()> {
    let config = args.config;
    let app = App::connect(&config).await?;
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            crm_server::net::raise_fd_limit();
            let listener = tokio::net::TcpListener::bind(&config.listen).await?;
            let addr = listener.local_addr()?;
            cli::first_run(&app.state.auth, &addr.to_string()).await?;
            tracing::info!(%addr, backend = app.db.backend_name(), "listening");
            app.serve(listener, shutdown_signal()).await
        }
        Command::Tenant(cmd) => {
            let result = cli::tenant(&app, cmd).await;
            app.db.close().await;
            result
        }
        Command::Search(cmd) => {
            let result = cli::search(&app, cmd).await;
            app.db.close().await;
            result
        }
        Command::Jobs(cmd) => {
            let result = cli::jobs(&app, cmd).await;
            app.db.close().await;
            result
        }
        Command::Webhook(cmd) => {
            let result = cli::webhook(&app, cmd).await;
            app.db.close().await;
            result
        }
        Command::Channel(cmd) => {
            let result = cli::channel(&app, cmd).await;
            app.db.close().await;
            result
        }
        Command::Import(args) => {
            let result = crm_server::transfer_cli::import(&app, args).await;
            app.db.close().await;
            result
        }
        Command::Export(args) => {
            let result = crm_server::transfer_cli::export(&app, args).await;
            app.db.close().await;
            result
        }
        Command::Client(cmd) => {
            let result = cli::client(&app.state.auth, cmd).await;
            app.db.close().await;
            result
        }
    }
}
