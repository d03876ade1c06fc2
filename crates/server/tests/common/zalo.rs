//! A local server playing Zalo: the ZNS send API and the OA token refresh, recording every
//! call. Only the current access token is accepted (others get error -124, as Zalo answers an
//! expired one); a refresh spends the refresh token and issues a new pair.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Json;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

#[derive(Debug)]
struct Zalo {
    calls: Vec<Call>,
    access_token: String,
    refresh_token: String,
    generation: u32,
    /// Phone numbers answered with a Zalo error code instead of success.
    refuse: HashMap<String, i64>,
}

#[derive(Clone)]
pub struct FakeZalo {
    pub base: String,
    state: Arc<Mutex<Zalo>>,
}

fn headers_of(h: &HeaderMap) -> HashMap<String, String> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn template(
    State(z): State<Arc<Mutex<Zalo>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut z = z.lock().unwrap();
    let token = headers
        .get("access_token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    z.calls.push(Call {
        path: "/message/template".to_owned(),
        headers: headers_of(&headers),
        body: body.clone(),
    });
    if token != z.access_token {
        return Json(json!({"error": -124, "message": "Access token is invalid"}));
    }
    let phone = body["phone"].as_str().unwrap_or_default().to_owned();
    if let Some(code) = z.refuse.get(&phone) {
        return Json(json!({"error": code, "message": "Refused by the fake"}));
    }
    let n = z.calls.len();
    Json(json!({
        "error": 0,
        "message": "Success",
        "data": {"msg_id": format!("zmsg-{n}"), "sent_time": "1733112000000",
                 "quota": {"dailyQuota": "500", "remainingQuota": "499"}},
    }))
}

async fn refresh(
    State(z): State<Arc<Mutex<Zalo>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Json<Value> {
    let mut z = z.lock().unwrap();
    z.calls.push(Call {
        path: "/v4/oa/access_token".to_owned(),
        headers: headers_of(&headers),
        body: json!(form),
    });
    let ok = headers.get("secret_key").and_then(|v| v.to_str().ok()) == Some("zalo-secret")
        && form.get("grant_type").map(String::as_str) == Some("refresh_token")
        && form.get("app_id").map(String::as_str) == Some("app-1")
        && form.get("refresh_token") == Some(&z.refresh_token);
    if !ok {
        return Json(
            json!({"error": -14014, "error_name": "Invalid refresh token",
                           "error_description": "the refresh token is invalid or spent"}),
        );
    }
    z.generation += 1;
    z.access_token = format!("access-{}", z.generation);
    z.refresh_token = format!("refresh-{}", z.generation);
    Json(
        json!({"access_token": z.access_token, "refresh_token": z.refresh_token, "expires_in": "90000"}),
    )
}

impl FakeZalo {
    /// Accepts `access-1`; the first refresh token is `refresh-0`.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(Zalo {
            calls: Vec::new(),
            access_token: "access-1".to_owned(),
            refresh_token: "refresh-0".to_owned(),
            generation: 1,
            refuse: HashMap::new(),
        }));
        let app = axum::Router::new()
            .route("/message/template", post(template))
            .route("/v4/oa/access_token", post(refresh))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, state }
    }

    /// Answers sends to `phone` (`84…`) with Zalo error `code`.
    pub fn refuse(&self, phone: &str, code: i64) {
        self.state
            .lock()
            .unwrap()
            .refuse
            .insert(phone.to_owned(), code);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The sends Zalo accepted (answered with error 0).
    pub fn tokens(&self) -> (String, String) {
        let z = self.state.lock().unwrap();
        (z.access_token.clone(), z.refresh_token.clone())
    }

    /// Waits until `n` calls to `path` arrived (or 10 s passed).
    pub async fn wait(&self, path: &str, n: usize) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got: Vec<Call> = self
                .calls()
                .into_iter()
                .filter(|c| c.path == path)
                .collect();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
