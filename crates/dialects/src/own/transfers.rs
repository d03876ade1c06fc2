//! Imports and exports over HTTP (`docs/import-export.md`): `POST /crm/v1/imports` takes a
//! spreadsheet as a multipart upload (streamed to disk, never held whole) and answers the
//! import at once (202); it runs as a job, followed with `GET /crm/v1/imports/{id}`, its
//! rejected rows at `…/errors` and as a file at `…/report`. `POST /crm/v1/exports` starts an
//! export, downloaded from `…/file` once done.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter as M;
use axum::Json;
use chrono::{DateTime, Utc};
use crm_domain::transfer::{
    Direction, ExportFilter, Format, ImportOptions, Kind, OnDuplicate, RowFailure, Transfer,
};
use crm_domain::DomainError;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::{id_of, Caller, Listed, OwnError, OwnQuery};
use crate::body::parse_ci;
use crate::openapi::{int, needed, text, Api, Op};
use crate::AppState;

const I: &str = "Imports";
const E: &str = "Exports";

pub(super) fn routes(api: Api<'_>) -> Api<'_> {
    // The upload is streamed to disk under its own limit (`CRM_MAX_IMPORT_BYTES`).
    let upload = Api::new(&mut *api.spec).route::<(), TransferOut, _, _>(
        M::POST,
        "/crm/v1/imports",
        Op::bearer(
            I,
            "Import customers, contacts, leads or products from a .xlsx or .csv file",
        )
        .upload("file")
        .status(202)
        .query(&[
            needed(text("kind")),
            text("on_duplicate"),
            text("dry_run"),
            text("all_or_nothing"),
            text("mapping"),
        ]),
        import,
    );
    let upload = upload.router.layer(DefaultBodyLimit::disable());
    api.merge(upload)
        .route::<(), Listed<TransferOut>, _, _>(
            M::GET,
            "/crm/v1/imports",
            Op::bearer(I, "The tenant's imports, newest first").query(&[int("limit")]),
            imports,
        )
        .route::<(), TransferOut, _, _>(
            M::GET,
            "/crm/v1/imports/{id}",
            Op::bearer(I, "An import: where it stands, its counts"),
            import_one,
        )
        .route::<(), Listed<FailureOut>, _, _>(
            M::GET,
            "/crm/v1/imports/{id}/errors",
            Op::bearer(I, "An import's rejected and skipped rows, in row order")
                .query(&[int("after"), int("limit")]),
            errors,
        )
        .route::<(), (), _, _>(
            M::GET,
            "/crm/v1/imports/{id}/report",
            Op::bearer(
                I,
                "The report: the rejected rows with their original columns and why",
            )
            .bytes(),
            report,
        )
        .route::<ExportIn, TransferOut, _, _>(
            M::POST,
            "/crm/v1/exports",
            Op::bearer(E, "Export records to a .xlsx or .csv file")
                .status(202)
                .reads(),
            export,
        )
        .route::<(), Listed<TransferOut>, _, _>(
            M::GET,
            "/crm/v1/exports",
            Op::bearer(E, "The tenant's exports, newest first").query(&[int("limit")]),
            exports,
        )
        .route::<(), TransferOut, _, _>(
            M::GET,
            "/crm/v1/exports/{id}",
            Op::bearer(E, "An export: where it stands"),
            export_one,
        )
        .route::<(), (), _, _>(
            M::GET,
            "/crm/v1/exports/{id}/file",
            Op::bearer(E, "The exported file, once done").bytes(),
            export_file,
        )
}

/// An import or export.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TransferOut {
    id: Uuid,
    /// `import` or `export`.
    direction: &'static str,
    /// `customers`, `contacts`, `leads`, `products`, `orders` or `messages`.
    kind: &'static str,
    /// `csv` or `xlsx`.
    format: &'static str,
    /// `queued`, `running`, `done` or `failed`.
    state: &'static str,
    file_name: String,
    /// Rows in the file (or to export); `null` until known.
    total: Option<i64>,
    /// Rows dealt with so far.
    done: i64,
    /// Percent done.
    progress: f64,
    created: i64,
    updated: i64,
    skipped: i64,
    failed: i64,
    dry_run: bool,
    error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    /// Where the file is, once there is one: the report of an import with rejected or
    /// skipped rows, the sheet of an export.
    download: Option<String>,
}

impl From<&Transfer> for TransferOut {
    fn from(t: &Transfer) -> Self {
        let plan = t.plan().unwrap_or_default();
        let done = t.state == crm_domain::transfer::State::Done;
        let download = match t.direction {
            Direction::Import if done && t.failed + t.skipped > 0 => {
                Some(format!("/crm/v1/imports/{}/report", t.id))
            }
            Direction::Export if done => Some(format!("/crm/v1/exports/{}/file", t.id)),
            _ => None,
        };
        Self {
            id: t.id,
            direction: t.direction.as_str(),
            kind: t.kind.as_str(),
            format: t.format.as_str(),
            state: t.state.as_str(),
            file_name: t.file_name.clone(),
            total: (t.total >= 0).then_some(t.total),
            done: t.done,
            progress: (t.progress() * 10.0).round() / 10.0,
            created: t.created,
            updated: t.updated,
            skipped: t.skipped,
            failed: t.failed,
            dry_run: plan.import.dry_run,
            error: t.error.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            finished_at: t.finished_at,
            download,
        }
    }
}

/// A rejected or skipped row.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FailureOut {
    /// Its number in the file, as a spreadsheet shows it.
    row: i64,
    /// The header of the column at fault, when one is.
    column: Option<String>,
    reason: String,
}

impl From<RowFailure> for FailureOut {
    fn from(f: RowFailure) -> Self {
        Self {
            row: f.row,
            column: f.column,
            reason: f.reason,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    kind: Option<String>,
    on_duplicate: Option<String>,
    dry_run: Option<String>,
    all_or_nothing: Option<String>,
    /// A JSON object: header → field.
    mapping: Option<String>,
}

fn flag(field: &str, v: &Option<String>) -> Result<bool, OwnError> {
    match v.as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(DomainError::validation(field, "must be true or false").into()),
    }
}

fn options(q: &ImportQuery) -> Result<(Kind, ImportOptions), OwnError> {
    let kind = Kind::parse(
        "kind",
        q.kind
            .as_deref()
            .ok_or_else(|| DomainError::validation("kind", "is required"))?,
    )?;
    let mapping: BTreeMap<String, String> = match q.mapping.as_deref() {
        None | Some("") => BTreeMap::new(),
        Some(m) => serde_json::from_str(m).map_err(|_| {
            DomainError::validation(
                "mapping",
                "must be a JSON object of header → field, such as {\"Cột A\": \"name\"}",
            )
        })?,
    };
    Ok((
        kind,
        ImportOptions {
            on_duplicate: match q.on_duplicate.as_deref() {
                None | Some("") => OnDuplicate::default(),
                Some(d) => OnDuplicate::parse("on_duplicate", d)?,
            },
            dry_run: flag("dry_run", &q.dry_run)?,
            all_or_nothing: flag("all_or_nothing", &q.all_or_nothing)?,
            mapping,
        },
    ))
}

fn upload_error(message: impl Into<String>) -> OwnError {
    DomainError::validation("file", message).into()
}

/// Streams the `file` part to `path` (at most `max` bytes); answers the file's name.
async fn receive(
    mut form: Multipart,
    path: &std::path::Path,
    max: u64,
) -> Result<String, OwnError> {
    let internal = |e: std::io::Error| OwnError::from(DomainError::Internal(e.into()));
    while let Some(mut part) = form
        .next_field()
        .await
        .map_err(|e| upload_error(format!("malformed multipart body: {e}")))?
    {
        if part.name() != Some("file") {
            continue;
        }
        let name = part
            .file_name()
            .map(str::to_owned)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| upload_error("the file part has no file name (.xlsx or .csv)"))?;
        if name.len() > 255 {
            return Err(upload_error("the file name is longer than 255 bytes"));
        }
        let format = Format::of_name(&name)?;
        let target = path.with_extension(format.as_str());
        let mut file = tokio::fs::File::create(&target).await.map_err(internal)?;
        let mut size = 0u64;
        while let Some(chunk) = part
            .chunk()
            .await
            .map_err(|e| upload_error(format!("the upload was cut short: {e}")))?
        {
            size += chunk.len() as u64;
            if size > max {
                drop(file);
                let _ = tokio::fs::remove_file(&target).await;
                return Err(OwnError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    field: Some("file".to_owned()),
                    message: format!("the file is larger than {max} bytes"),
                });
            }
            file.write_all(&chunk).await.map_err(internal)?;
        }
        file.flush().await.map_err(internal)?;
        if size == 0 {
            return Err(upload_error("the file is empty"));
        }
        return Ok(name);
    }
    Err(upload_error("a multipart part named 'file' is required"))
}

async fn import(
    State(s): State<AppState>,
    Caller(actor): Caller,
    OwnQuery(q): OwnQuery<ImportQuery>,
    req: Request,
) -> Result<(StatusCode, Json<TransferOut>), OwnError> {
    let (kind, options) = options(&q)?;
    let form = Multipart::from_request(req, &s)
        .await
        .map_err(|e| upload_error(format!("a multipart/form-data body is required: {e}")))?;
    let id = Uuid::now_v7();
    let paths = s.crm.transfer_paths(&actor, id)?;
    let received = receive(form, &paths.dir.join("source"), s.max_import_bytes).await;
    let name = match received {
        Ok(n) => n,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&paths.dir).await;
            return Err(e);
        }
    };
    let t = s
        .crm
        .start_import(&actor, id, kind, &name, options, false)
        .await?;
    Ok((StatusCode::ACCEPTED, Json((&t).into())))
}

#[derive(Debug, Deserialize)]
struct LimitQuery {
    limit: Option<u32>,
}

async fn listed(
    s: &AppState,
    actor: &crm_domain::Actor,
    direction: Direction,
    limit: Option<u32>,
) -> Result<Json<Listed<TransferOut>>, OwnError> {
    let list = s
        .crm
        .transfers(actor, direction, limit.unwrap_or(50))
        .await?;
    Ok(Json(Listed {
        data: list.iter().map(TransferOut::from).collect(),
    }))
}

async fn imports(
    State(s): State<AppState>,
    Caller(actor): Caller,
    OwnQuery(q): OwnQuery<LimitQuery>,
) -> Result<Json<Listed<TransferOut>>, OwnError> {
    listed(&s, &actor, Direction::Import, q.limit).await
}

async fn exports(
    State(s): State<AppState>,
    Caller(actor): Caller,
    OwnQuery(q): OwnQuery<LimitQuery>,
) -> Result<Json<Listed<TransferOut>>, OwnError> {
    listed(&s, &actor, Direction::Export, q.limit).await
}

/// A transfer of the caller's tenant in that direction.
async fn one(
    s: &AppState,
    actor: &crm_domain::Actor,
    id: &str,
    direction: Direction,
) -> Result<Transfer, OwnError> {
    let t = s.crm.transfer(actor, id_of(id)?).await?;
    if t.direction != direction {
        return Err(DomainError::not_found(direction.as_str()).into());
    }
    Ok(t)
}

async fn import_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<TransferOut>, OwnError> {
    Ok(Json(
        (&one(&s, &actor, &id, Direction::Import).await?).into(),
    ))
}

async fn export_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<TransferOut>, OwnError> {
    Ok(Json(
        (&one(&s, &actor, &id, Direction::Export).await?).into(),
    ))
}

#[derive(Debug, Deserialize)]
struct ErrorsQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

async fn errors(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    OwnQuery(q): OwnQuery<ErrorsQuery>,
) -> Result<Json<Listed<FailureOut>>, OwnError> {
    let t = one(&s, &actor, &id, Direction::Import).await?;
    let list = s
        .crm
        .transfer_failures(&actor, t.id, q.after.unwrap_or(0), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(Listed {
        data: list.into_iter().map(FailureOut::from).collect(),
    }))
}

/// A file, streamed from disk.
async fn send_file(
    path: std::path::PathBuf,
    name: &str,
    format: Format,
) -> Result<Response, OwnError> {
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| OwnError::from(DomainError::Internal(e.into())))?;
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    Ok((
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (CONTENT_DISPOSITION, crate::body::disposition(name)),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}

async fn report(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Response, OwnError> {
    let t = one(&s, &actor, &id, Direction::Import).await?;
    let (path, name) = s.crm.transfer_output(&actor, t.id).await?;
    send_file(path, &name, t.format).await
}

async fn export_file(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Response, OwnError> {
    let t = one(&s, &actor, &id, Direction::Export).await?;
    let (path, name) = s.crm.transfer_output(&actor, t.id).await?;
    send_file(path, &name, t.format).await
}

/// An export to make: a kind, a format, and the search's filters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ExportIn {
    /// `customers`, `contacts`, `leads`, `products`, `orders` or `messages`.
    kind: String,
    /// `xlsx` (the default) or `csv`.
    #[serde(default)]
    format: Option<String>,
    /// Words, a phone in any notation or an e-mail, as searches read them.
    #[serde(default)]
    search: Option<String>,
    /// Created at or after / at or before (RFC 3339).
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
    /// Messages only: one campaign's send records (`sms-campaign:12`, …).
    #[serde(default)]
    campaign: Option<String>,
}

async fn export(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<TransferOut>), OwnError> {
    let b: ExportIn = parse_ci(&body)?;
    let kind = Kind::parse("kind", &b.kind)?;
    let format = match b.format.as_deref() {
        None | Some("") => Format::Xlsx,
        Some(f) => Format::parse("format", f)?,
    };
    let filter = ExportFilter {
        search: b.search.filter(|s| !s.trim().is_empty()),
        from: b.from,
        to: b.to,
        campaign: b.campaign.filter(|c| !c.is_empty()),
    };
    let t = s
        .crm
        .start_export(&actor, kind, format, filter, false)
        .await?;
    Ok((StatusCode::ACCEPTED, Json((&t).into())))
}
