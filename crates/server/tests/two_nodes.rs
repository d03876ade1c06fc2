//! Two `crm serve` processes on one PostgreSQL share the job table: every job runs, and runs
//! once while both live; when one is killed (-9) halfway its leased jobs run again on the
//! other, and only those may arrive twice.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::receiver::Receiver;
use common::{Backend, TestDb};
use crm_domain::jobs::NewJob;
use crm_domain::webhooks::{DeliveryJob, DELIVERY_JOB};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_crm");
const JOBS: usize = 10_000;
const WORKERS: usize = 8;

async fn node(db: &str) -> Child {
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("CRM_DATABASE_URL", db)
        .env("CRM_LISTEN", "127.0.0.1:0")
        .env("CRM_WORKERS", WORKERS.to_string())
        .env("CRM_JOB_POLL_MS", "50")
        .env("CRM_JOB_LEASE_SECS", "3")
        .env("CRM_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("CRM_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    common::listening(&mut child).await;
    child
}

/// Enqueues `JOBS` deliveries to `url`, 1,000 per unit of work.
async fn enqueue(
    app: &crm_server::App,
    actor: &crm_domain::Actor,
    endpoint: uuid::Uuid,
    tag: &str,
) {
    let crm = &app.state.crm;
    for chunk in 0..JOBS / 1_000 {
        let mut w = crm.begin().await.unwrap();
        for i in 0..1_000 {
            let n = chunk * 1_000 + i;
            let payload = DeliveryJob {
                endpoint_id: endpoint,
                msg_id: format!("msg_{tag}_{n}"),
                event: "test.load".to_owned(),
                body: format!("{{\"type\":\"test.load\",\"n\":{n}}}"),
            };
            crm.enqueue_in(
                &mut w,
                NewJob::new(
                    actor.tenant_id,
                    DELIVERY_JOB,
                    serde_json::to_string(&payload).unwrap(),
                ),
            )
            .await
            .unwrap();
        }
        w.commit().await.unwrap();
    }
}

async fn until(rx: &Receiver, path: &str, distinct: usize, limit: Duration) -> (usize, usize) {
    let deadline = Instant::now() + limit;
    loop {
        let (total, seen) = rx.counts(path);
        if seen >= distinct || Instant::now() > deadline {
            return (total, seen);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn terminate(mut child: Child) {
    let pid = child.id().unwrap().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("node did not stop within 30 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_the_jobs_and_survive_a_kill() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let config = {
        let mut c = crm_server::Config::with_database(&db.url);
        c.workers = 0;
        c
    };
    let app = crm_server::App::connect(&config).await.unwrap();
    let tenant = app
        .state
        .auth
        .create_tenant("Nodes", Some("nodes"), None)
        .await
        .unwrap();
    let actor = tenant.actor(uuid::Uuid::nil(), "test");
    let rx = Receiver::start().await;
    let endpoint = app
        .state
        .crm
        .add_webhook(&actor, &format!("{}/load", rx.base), vec![])
        .await
        .unwrap();

    // Both nodes live throughout: every job once.
    enqueue(&app, &actor, endpoint.id, "a").await;
    let started = Instant::now();
    let (a, b) = (node(&db.url).await, node(&db.url).await);
    let (total, seen) = until(&rx, "/load", JOBS, Duration::from_secs(180)).await;
    let took = started.elapsed();
    println!(
        "two nodes, {JOBS} jobs: {seen} distinct deliveries, {} duplicates, {:.0} jobs/s",
        total - seen,
        seen as f64 / took.as_secs_f64()
    );
    assert_eq!(seen, JOBS);
    assert_eq!(total, JOBS, "no webhook-id twice while both nodes live");
    terminate(a).await;
    terminate(b).await;

    // One node killed -9 halfway: every job still arrives; only jobs in flight may repeat.
    enqueue(&app, &actor, endpoint.id, "b").await;
    let mut a = node(&db.url).await;
    let b = node(&db.url).await;
    let before = rx.counts("/load");
    until(&rx, "/load", before.1 + JOBS / 2, Duration::from_secs(180)).await;
    a.start_kill().unwrap();
    a.wait().await.unwrap();
    let (total, seen) = until(&rx, "/load", 2 * JOBS, Duration::from_secs(180)).await;
    let repeated = (total - before.0) - (seen - before.1);
    println!("one node killed -9 halfway: {} distinct deliveries of {JOBS}, {repeated} duplicates (at most {WORKERS} were in flight)", seen - before.1);
    assert_eq!(seen, 2 * JOBS, "every job ran");
    assert!(repeated <= WORKERS, "{repeated} duplicates");
    // Jobs the killed node delivered but never marked done come back to the survivor once
    // their lease lapses: it runs them again before it stops.
    let deadline = Instant::now() + Duration::from_secs(60);
    let stats = loop {
        let stats = app.state.crm.job_stats().await.unwrap();
        let open = stats.iter().map(|s| s.due + s.running).sum::<i64>();
        if open == 0 || Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    terminate(b).await;

    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].done, (2 * JOBS) as i64, "{stats:?}");
    assert_eq!((stats[0].due, stats[0].running, stats[0].dead), (0, 0, 0));
    app.db.close().await;
    db.drop_db().await;
}
