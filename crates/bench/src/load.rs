//! A closed-loop load generator: a fixed number of workers, each sending its next request as
//! soon as the previous one is answered, for a bounded time, over loopback only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::Method;
use serde::Serialize;

/// One request to send.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

/// Builds a request from a worker's RNG.
pub type MakeReq = Arc<dyn Fn(&mut StdRng) -> Req + Send + Sync>;

/// What one scenario measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// The body of the first failed answer, for diagnosis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .build()
        .unwrap_or_default()
}

/// Runs `concurrency` workers against `base` for `duration`, with a bearer token if given.
pub async fn drive(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    concurrency: usize,
    duration: Duration,
    seed: u64,
    make: MakeReq,
) -> Stats {
    let auth = token.map(|t| ("Authorization", format!("Bearer {t}")));
    drive_with(http, base, auth, concurrency, duration, seed, make).await
}

/// [`drive`] with any credential header (a session cookie, say) on every request.
pub async fn drive_with(
    http: &reqwest::Client,
    base: &str,
    credential: Option<(&'static str, String)>,
    concurrency: usize,
    duration: Duration,
    seed: u64,
    make: MakeReq,
) -> Stats {
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let http = http.clone();
        let base = base.to_owned();
        let auth = credential.clone();
        let make = make.clone();
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(w as u64 * 7919));
            let mut latencies: Vec<u32> = Vec::with_capacity(1 << 14);
            let mut errors = 0u64;
            let mut first_error = None;
            while Instant::now() < deadline {
                let req = make(&mut rng);
                match send(&http, &base, auth.as_ref(), req, &mut first_error).await {
                    Some(micros) => latencies.push(micros),
                    None => errors += 1,
                }
            }
            (latencies, errors, first_error)
        }));
    }
    summarize(workers, start).await
}

type Worker = tokio::task::JoinHandle<(Vec<u32>, u64, Option<String>)>;

/// Sends one request; its latency in µs when it succeeded, else the error (kept if first).
async fn send(
    http: &reqwest::Client,
    base: &str,
    auth: Option<&(&'static str, String)>,
    req: Req,
    first_error: &mut Option<String>,
) -> Option<u32> {
    let mut b = http.request(req.method, format!("{base}{}", req.path));
    if let Some((name, value)) = auth {
        b = b.header(*name, value);
    }
    if let Some(body) = &req.body {
        b = b.json(body);
    }
    let sent = Instant::now();
    let ok = match b.send().await {
        Ok(resp) => {
            let status = resp.status();
            let body = resp.bytes().await.unwrap_or_default();
            if !status.is_success() && first_error.is_none() {
                *first_error = Some(format!("{status}: {}", String::from_utf8_lossy(&body)));
            }
            status.is_success()
        }
        Err(e) => {
            if first_error.is_none() {
                *first_error = Some(e.to_string());
            }
            false
        }
    };
    ok.then(|| sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32)
}

/// Runs `concurrency` workers against `base` for `duration`, offering `rate` requests a second
/// in all (an open loop: each worker sends on its own schedule, whether or not answers are
/// slow; a worker that falls behind sends at once, without bursting to catch up).
#[allow(clippy::too_many_arguments)]
pub async fn drive_paced(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    concurrency: usize,
    rate: f64,
    duration: Duration,
    seed: u64,
    make: MakeReq,
) -> Stats {
    let start = Instant::now();
    let deadline = start + duration;
    let every = Duration::from_secs_f64(concurrency as f64 / rate.max(0.001));
    let mut workers = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let http = http.clone();
        let base = base.to_owned();
        let auth = token.map(|t| ("Authorization", format!("Bearer {t}")));
        let make = make.clone();
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(w as u64 * 7919));
            let mut latencies: Vec<u32> = Vec::with_capacity(1 << 12);
            let (mut errors, mut first_error) = (0u64, None);
            let mut next = start + every.mul_f64(w as f64 / concurrency as f64);
            while next < deadline {
                tokio::time::sleep_until(next.into()).await;
                let req = make(&mut rng);
                match send(&http, &base, auth.as_ref(), req, &mut first_error).await {
                    Some(micros) => latencies.push(micros),
                    None => errors += 1,
                }
                next = (next + every).max(Instant::now());
            }
            (latencies, errors, first_error)
        }));
    }
    summarize(workers, start).await
}

/// The workers' latencies and errors as one [`Stats`].
async fn summarize(workers: Vec<Worker>, start: Instant) -> Stats {
    let mut all = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for w in workers {
        if let Ok((l, e, f)) = w.await {
            all.extend(l);
            errors += e;
            first_error = first_error.or(f);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        f64::from(all[i]) / 1000.0
    };
    Stats {
        requests: all.len() as u64,
        errors,
        seconds,
        per_second: all.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        first_error,
    }
}
