//! The raw baselines measured in the same run: a minimal axum handler returning fixed JSON,
//! one primary-key select per request through the same driver (sqlx), and a batched insert.

use std::net::SocketAddr;

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use crm_store::Db;
use serde_json::json;
use uuid::Uuid;

use crate::gen::Person;

/// Starts the raw HTTP server on its own runtime (two worker threads, like the server on a
/// two-core machine) and returns its address.
pub fn serve(db: Db, tenant: Uuid) -> anyhow::Result<SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("raw-server".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(anyhow::Error::new(e)));
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = tx.send(Err(e.into()));
                        return;
                    }
                };
                let _ = tx.send(listener.local_addr().map_err(Into::into));
                let app = Router::new()
                    .route("/raw/json", get(fixed))
                    .route("/raw/customer/{id}", get(by_pk))
                    .with_state((db, tenant));
                let _ = axum::serve(listener, app).await;
            });
        })?;
    rx.recv().context("raw server thread")?
}

async fn fixed() -> impl IntoResponse {
    Json(
        json!({"success": true, "code": 200, "message": null, "data": "00000000-0000-0000-0000-000000000000", "errors": null, "meta": null}),
    )
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    code: String,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
}

async fn by_pk(State((db, tenant)): State<(Db, Uuid)>, Path(id): Path<Uuid>) -> impl IntoResponse {
    const COLS: &str = "id, code, name, phone, email, address";
    let row: Result<Option<Row>, sqlx::Error> = match &db {
        Db::Sqlite { read, .. } => {
            sqlx::query_as(&format!(
                "SELECT {COLS} FROM customers WHERE tenant_id = ? AND id = ?"
            ))
            .bind(tenant)
            .bind(id)
            .fetch_optional(read)
            .await
        }
        Db::Postgres(pool, ..) => {
            sqlx::query_as(&format!(
                "SELECT {COLS} FROM customers WHERE tenant_id = $1 AND id = $2"
            ))
            .bind(tenant)
            .bind(id)
            .fetch_optional(pool)
            .await
        }
    };
    match row {
        Ok(Some(r)) => Json(json!({"id": r.id, "code": r.code, "name": r.name, "phone": r.phone, "email": r.email, "address": r.address})).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

const RAW_TABLE: &str = "bench_raw_customers";
const RAW_COLS: [&str; 9] = [
    "id",
    "tenant_id",
    "code",
    "name",
    "phone",
    "email",
    "address",
    "created_at",
    "updated_at",
];

/// Inserts `people` into a scratch table with the customers table's key, in multi-row
/// statements of `batch` rows, one transaction each; returns rows per second.
pub async fn batched_insert(
    db: &Db,
    tenant: Uuid,
    people: &[Person],
    batch: usize,
) -> anyhow::Result<f64> {
    let (ty_id, ty_time) = match db {
        Db::Sqlite { .. } => ("BLOB", "TEXT"),
        Db::Postgres(..) => ("UUID", "TIMESTAMPTZ"),
    };
    let ddl = format!(
        "CREATE TABLE {RAW_TABLE} (id {ty_id} NOT NULL, tenant_id {ty_id} NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, \
         phone TEXT, email TEXT, address TEXT, created_at {ty_time} NOT NULL, updated_at {ty_time} NOT NULL, \
         PRIMARY KEY (tenant_id, id))"
    );
    exec(db, &format!("DROP TABLE IF EXISTS {RAW_TABLE}")).await?;
    exec(db, &ddl).await?;
    let start = std::time::Instant::now();
    for (b, chunk) in people.chunks(batch).enumerate() {
        let sql = insert_sql(db, chunk.len());
        let now = Utc::now();
        macro_rules! bind_all {
            ($q:expr) => {{
                let mut q = $q;
                for (i, p) in chunk.iter().enumerate() {
                    q = q
                        .bind(Uuid::now_v7())
                        .bind(tenant)
                        .bind(format!("RAW{:07}", b * batch + i))
                        .bind(&p.name)
                        .bind(&p.phone)
                        .bind(&p.email)
                        .bind(&p.address)
                        .bind(now)
                        .bind(now);
                }
                q
            }};
        }
        match db {
            Db::Sqlite { write, .. } => {
                let mut tx = write.begin().await?;
                bind_all!(sqlx::query(&sql)).execute(&mut *tx).await?;
                tx.commit().await?;
            }
            Db::Postgres(pool, ..) => {
                let mut tx = pool.begin().await?;
                bind_all!(sqlx::query(&sql)).execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }
    }
    let rate = people.len() as f64 / start.elapsed().as_secs_f64();
    exec(db, &format!("DROP TABLE {RAW_TABLE}")).await?;
    Ok(rate)
}

fn insert_sql(db: &Db, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {RAW_TABLE} ({}) VALUES ", RAW_COLS.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..RAW_COLS.len() {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            match db {
                Db::Sqlite { .. } => sql.push('?'),
                Db::Postgres(..) => sql.push_str(&format!("${n}")),
            }
        }
        sql.push(')');
    }
    sql
}

async fn exec(db: &Db, sql: &str) -> anyhow::Result<()> {
    match db {
        Db::Sqlite { write, .. } => sqlx::query(sql).execute(write).await.map(|_| ())?,
        Db::Postgres(pool, ..) => sqlx::query(sql).execute(pool).await.map(|_| ())?,
    }
    Ok(())
}
