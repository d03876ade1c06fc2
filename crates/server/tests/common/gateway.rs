//! A local server playing a brandname SMS gateway (eSMS's JSON API shape): records every call
//! and answers `CodeResult` 100 unless a code was scripted for the number.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::Json;
use serde_json::{json, Value};

#[derive(Default)]
struct Inbox {
    calls: Vec<Value>,
    script: HashMap<String, VecDeque<&'static str>>,
}

#[derive(Clone)]
pub struct FakeGateway {
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
}

async fn send(State(inbox): State<Arc<Mutex<Inbox>>>, Json(body): Json<Value>) -> Json<Value> {
    let mut inbox = inbox.lock().unwrap();
    inbox.calls.push(body.clone());
    let phone = body["Phone"].as_str().unwrap_or_default().to_owned();
    let code = inbox
        .script
        .get_mut(&phone)
        .and_then(VecDeque::pop_front)
        .unwrap_or("100");
    let n = inbox.calls.len();
    if code == "100" {
        Json(json!({"CodeResult": "100", "CountRegenerate": 0, "SMSID": format!("sms-{n}")}))
    } else {
        Json(json!({"CodeResult": code, "ErrorMessage": format!("scripted {code}")}))
    }
}

impl FakeGateway {
    pub async fn start() -> Self {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let app = axum::Router::new()
            .route("/send", post(send))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, inbox }
    }

    /// The codes to answer for `phone` (`84…`), in order; 100 afterwards.
    pub fn script(&self, phone: &str, codes: &[&'static str]) {
        self.inbox
            .lock()
            .unwrap()
            .script
            .insert(phone.to_owned(), codes.iter().copied().collect());
    }

    pub fn calls(&self) -> Vec<Value> {
        self.inbox.lock().unwrap().calls.clone()
    }

    pub async fn wait(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.calls();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
