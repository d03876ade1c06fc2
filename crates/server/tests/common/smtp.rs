//! A real SMTP server for the tests: `tests/fixtures/smtp_sink.py` (aiosmtpd), which stores
//! each message it receives as JSON (envelope, decoded headers, text and HTML parts).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncBufReadExt;

pub struct Smtp {
    pub port: u16,
    dir: tempfile::TempDir,
    child: tokio::process::Child,
}

/// aiosmtpd is installed from PyPI on first use when the machine lacks it (once per run).
fn ensure_aiosmtpd() {
    static READY: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    READY.get_or_init(|| {
        let have = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !have {
            let ok = std::process::Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "aiosmtpd",
                ])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "installing aiosmtpd from PyPI failed");
        }
    });
}

impl Smtp {
    pub async fn start() -> Self {
        tokio::task::spawn_blocking(ensure_aiosmtpd).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp_sink.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the test SMTP server (aiosmtpd; .ci/run installs it)");
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP server starts")
            .unwrap()
            .expect("the SMTP server prints its port (is aiosmtpd installed?)")
            .trim()
            .parse()
            .unwrap();
        Self { port, dir, child }
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits until `n` messages arrived (or 10 s passed).
    pub async fn wait(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
