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
    // A restore writes the database before anything opens (and migrates) it.
    if let Some(Command::Restore { file, json }) = &args.command {
        let done = crm_server::backup::restore(&config, file).await?;
        if *json {
            println!(
                "{}",
                serde_json::json!({"restored": file, "backend": done.backend, "files": done.files})
            );
        } else {
            println!(
                "restored {} ({}, {} files); start the server to migrate it if it is older",
                file.display(),
                done.backend,
                done.files
            );
        }
        return Ok(());
    }
    let app = App::connect(&config).await?;
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            // Before anything that can be signalled: a SIGTERM from now on shuts down gracefully.
            let shutdown = shutdown_signal();
            crm_server::net::raise_fd_limit();
            let listener = tokio::net::TcpListener::bind(&config.listen).await?;
            let addr = listener.local_addr()?;
            // Beside the SQLite database, or the files directory on PostgreSQL.
            let data_dir = match crm_store::db::sqlite_path(&config.database_url) {
                Ok(db) if !config.database_url.starts_with("postgres") => {
                    db.parent().map(|p| p.to_owned())
                }
                _ => config.files_dir.parent().map(|p| p.to_owned()),
            }
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| std::path::PathBuf::from("."));
            cli::first_run(&app.state.auth, &addr.to_string(), &data_dir).await?;
            tracing::info!(%addr, backend = app.db.backend_name(), "listening");
            app.serve(listener, shutdown).await
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
        Command::Backup { file, json } => {
            let result = crm_server::backup::backup(&config, &app.db, &file).await;
            app.db.close().await;
            let done = result?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"backup": file, "backend": done.backend,
                                       "bytes": done.bytes, "files": done.files})
                );
            } else {
                println!(
                    "wrote {} ({}, {} bytes, {} files)",
                    file.display(),
                    done.backend,
                    done.bytes,
                    done.files
                );
            }
            Ok(())
        }
        Command::Restore { .. } => Ok(()),
        Command::Record(cmd) => {
            let result = cli::record(&app, cmd).await;
            app.db.close().await;
            result
        }
        Command::Audit(args) => {
            let result = cli::audit(&app, args).await;
            app.db.close().await;
            result
        }
        Command::Client(cmd) => {
            let result = cli::client(&app.state.auth, cmd).await;
            app.db.close().await;
            result
        }
        Command::User(cmd) => {
            let result = cli::user(&app, cmd).await;
            app.db.close().await;
            result
        }
    }
}
