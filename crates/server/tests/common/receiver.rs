//! A local webhook receiver: records every request (headers and body) and answers with a
//! scripted status per path; checks signatures as a receiver would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::post;
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: Value,
    pub raw: String,
    pub at: Instant,
}

#[derive(Default)]
struct Inbox {
    got: Vec<Got>,
    /// Statuses to answer per path, in order; 200 once a script runs out.
    script: std::collections::HashMap<String, VecDeque<u16>>,
}

#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    inbox: Arc<Mutex<Inbox>>,
}

async fn record(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> AxStatus {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut inbox = inbox.lock().unwrap();
    let path = uri.path().to_owned();
    inbox.got.push(Got {
        path: path.clone(),
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp").parse().unwrap_or_default(),
        signature: h("webhook-signature"),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        raw: body,
        at: Instant::now(),
    });
    let status = inbox
        .script
        .get_mut(&path)
        .and_then(VecDeque::pop_front)
        .unwrap_or(200);
    AxStatus::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start() -> Self {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let app = axum::Router::new()
            .route("/{*path}", post(record))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, inbox }
    }

    pub fn script(&self, path: &str, statuses: &[u16]) {
        self.inbox
            .lock()
            .unwrap()
            .script
            .insert(path.to_owned(), statuses.iter().copied().collect());
    }

    pub fn got(&self, path: &str) -> Vec<Got> {
        let inbox = self.inbox.lock().unwrap();
        inbox
            .got
            .iter()
            .filter(|g| g.path == path)
            .cloned()
            .collect()
    }

    /// Waits until `path` has received `n` requests (or fails after 10 s).
    pub async fn wait(&self, path: &str, n: usize) -> Vec<Got> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.got(path);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: {} of {n} deliveries: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Checks the signature as a receiver would, with the secret it was shown.
pub fn verify(g: &Got, secret: &str) {
    let expected = crm_jobs::webhook::sign(secret, &g.id, g.timestamp, &g.raw).unwrap();
    assert_eq!(g.signature, expected, "signature of {g:?}");
    assert!(g.id.starts_with("msg_"), "{g:?}");
    assert!((chrono::Utc::now().timestamp() - g.timestamp).abs() < 60);
}

impl Receiver {
    /// Requests to `path` so far, and how many distinct `webhook-id`s they carried.
    pub fn counts(&self, path: &str) -> (usize, usize) {
        let inbox = self.inbox.lock().unwrap();
        let ids: std::collections::HashSet<&str> = inbox
            .got
            .iter()
            .filter(|g| g.path == path)
            .map(|g| g.id.as_str())
            .collect();
        let total = inbox.got.iter().filter(|g| g.path == path).count();
        (total, ids.len())
    }
}
