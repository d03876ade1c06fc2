//! The `crm` binary as a process: started on a test database, read until it listens.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use serde_json::Value;

use super::TestDb;

pub const BIN: &str = env!("CARGO_BIN_EXE_crm");

pub fn crm(db: &TestDb) -> Command {
    let mut c = Command::new(BIN);
    c.env("CRM_DATABASE_URL", &db.url)
        .env("CRM_LISTEN", "127.0.0.1:0")
        .env("CRM_AUTH_CACHE_SECS", "0")
        .env("CRM_LOG", "info")
        // Uploads go to the system's temporary directory, not into the source tree.
        .env("CRM_FILES_DIR", std::env::temp_dir().join("crm-test-files"))
        .kill_on_drop(true);
    c
}

pub async fn run_json(db: &TestDb, args: &[&str]) -> Value {
    let out = crm(db).args(args).output().await.unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)))
}

/// Starts `crm` (serve) and reads stdout and stderr until it listens; returns its printed
/// lines and base URL.
pub async fn serve(db: &TestDb) -> (Child, Vec<String>, String) {
    serve_with(crm(db)).await
}

/// [`serve`] with a command set up by the caller (more `CRM_` variables).
pub async fn serve_with(mut cmd: Command) -> (Child, Vec<String>, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = super::listening(&mut child).await;
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_millis(300), stdout.next_line()).await
    {
        printed.push(line);
    }
    (child, printed, base)
}

/// The value printed after `label` on one of the lines.
pub fn printed_value(lines: &[String], label: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no '{label}' in {lines:?}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}
