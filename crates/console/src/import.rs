//! Import from a spreadsheet: the file uploaded (streamed to disk, never held whole), the
//! import run as a job, its progress followed on its page (refreshed every second until it is
//! done), its rejected rows listed and the report downloaded.

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crm_domain::console::Session;
use crm_domain::transfer::{Direction, Format, ImportOptions, Kind, OnDuplicate, Transfer};
use crm_domain::DomainError;
use tokio::io::AsyncWriteExt;

use crate::i18n::{Lang, Texts};
use crate::pages::{session, uuid_of, when, Shell};
use crate::web::{page, problem, same_token};
use crate::Console;

/// Imports the page lists (the newest), and rejected rows an import's page shows.
const RECENT: u32 = 20;
const FAILURES: u32 = 100;

/// What the roles may import, by the resource they must be allowed to change.
fn resource(kind: Kind) -> &'static str {
    match kind {
        Kind::Leads => "leads",
        Kind::Products => "sales",
        _ => "customers",
    }
}

struct TransferView {
    id: uuid::Uuid,
    kind: &'static str,
    file: String,
    state: &'static str,
    finished: bool,
    progress: String,
    percent: u32,
    done: i64,
    total: Option<i64>,
    created: i64,
    updated: i64,
    skipped: i64,
    failed: i64,
    dry_run: bool,
    error: Option<String>,
    report: bool,
    at: String,
}

fn view(t: &Texts, x: &Transfer, s: &Session) -> TransferView {
    use crm_domain::transfer::State as St;
    let p = x.progress();
    TransferView {
        id: x.id,
        kind: kind_name(t, x.kind),
        file: x.file_name.clone(),
        state: match x.state {
            St::Queued => t.import_queued,
            St::Running => t.import_running,
            St::Done => t.import_done,
            St::Failed => t.import_failed,
        },
        finished: matches!(x.state, St::Done | St::Failed),
        progress: format!("{p:.0}%"),
        percent: p.round().clamp(0.0, 100.0) as u32,
        done: x.done,
        total: (x.total >= 0).then_some(x.total),
        created: x.created,
        updated: x.updated,
        skipped: x.skipped,
        failed: x.failed,
        dry_run: x.plan().map(|p| p.import.dry_run).unwrap_or_default(),
        error: x.error.clone(),
        report: x.state == St::Done && x.failed + x.skipped > 0,
        at: when(x.created_at, s),
    }
}

fn kind_name(t: &Texts, k: Kind) -> &'static str {
    match k {
        Kind::Customers => t.customers,
        Kind::Contacts => t.contacts,
        Kind::Leads => t.leads,
        Kind::Products => t.products,
        Kind::Orders => t.orders,
        Kind::Messages => t.messages_sent,
    }
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    t: &'static Texts,
    shell: Shell,
    kinds: Vec<(&'static str, &'static str)>,
    imports: Vec<TransferView>,
}

/// `/app/import`: the form, and the tenant's last imports.
pub(crate) async fn imports(State(c): State<Console>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let t = lang.t();
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let found = match c.crm.transfers(&s.actor(), Direction::Import, RECENT).await {
        Ok(x) => x,
        Err(e) => return problem(lang, e),
    };
    page(
        StatusCode::OK,
        ImportsPage {
            t,
            kinds: Kind::ALL
                .into_iter()
                .filter(|k| k.importable() && s.login.role.may_change(resource(*k)))
                .map(|k| (k.as_str(), kind_name(t, k)))
                .collect(),
            imports: found.iter().map(|x| view(t, x, &s)).collect(),
            shell: Shell::of(&s, "import"),
        }
        .render(),
    )
}

/// The upload's fields; the session's CSRF token must come before the file.
#[derive(Default)]
struct Upload {
    csrf_ok: bool,
    kind: Option<String>,
    on_duplicate: Option<String>,
    dry_run: bool,
    file: Option<(String, Format)>,
}

/// Reads the form, streaming the file to the transfer's source (at most `max` bytes).
async fn receive(
    mut form: Multipart,
    s: &Session,
    paths: &crm_domain::transfer::Paths,
    max: u64,
) -> Result<Upload, DomainError> {
    let bad = |m: String| DomainError::validation("file", m);
    let internal = |e: std::io::Error| DomainError::Internal(e.into());
    let mut up = Upload::default();
    while let Some(mut part) = form
        .next_field()
        .await
        .map_err(|e| bad(format!("malformed form: {e}")))?
    {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            if !up.csrf_ok {
                return Err(DomainError::Forbidden {
                    message: "the form's CSRF token is missing or stale; reload the page"
                        .to_owned(),
                });
            }
            let file_name = part
                .file_name()
                .map(str::to_owned)
                .filter(|n| !n.trim().is_empty() && n.len() <= 255)
                .ok_or_else(|| bad("choose a .xlsx or .csv file".to_owned()))?;
            let format = Format::of_name(&file_name)?;
            let target = paths.source(format);
            let mut out = tokio::fs::File::create(&target).await.map_err(internal)?;
            let mut size = 0u64;
            while let Some(chunk) = part
                .chunk()
                .await
                .map_err(|e| bad(format!("the upload was cut short: {e}")))?
            {
                size += chunk.len() as u64;
                if size > max {
                    return Err(bad(format!("the file is larger than {max} bytes")));
                }
                out.write_all(&chunk).await.map_err(internal)?;
            }
            out.flush().await.map_err(internal)?;
            if size == 0 {
                return Err(bad("the file is empty".to_owned()));
            }
            up.file = Some((file_name, format));
            continue;
        }
        // A small field: at most 1 KiB read.
        let mut value = Vec::new();
        while let Some(chunk) = part
            .chunk()
            .await
            .map_err(|e| bad(format!("malformed form: {e}")))?
        {
            value.extend_from_slice(&chunk);
            if value.len() > 1024 {
                return Err(DomainError::validation(name, "at most 1 KiB"));
            }
        }
        let value = String::from_utf8_lossy(&value).trim().to_owned();
        match name.as_str() {
            "csrf" => up.csrf_ok = same_token(&value, &s.csrf),
            "kind" => up.kind = Some(value),
            "on_duplicate" => up.on_duplicate = Some(value),
            "dry_run" => up.dry_run = !value.is_empty(),
            _ => {}
        }
    }
    Ok(up)
}

/// Starts an import from the uploaded file, then shows its page.
pub(crate) async fn start(State(c): State<Console>, req: Request) -> Response {
    let headers = req.headers().clone();
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let actor = s.actor();
    let id = uuid::Uuid::now_v7();
    let started = async {
        let form = Multipart::from_request(req, &()).await.map_err(|e| {
            DomainError::validation("file", format!("a file upload is required: {e}"))
        })?;
        let paths = c.crm.transfer_paths(&actor, id)?;
        tokio::fs::create_dir_all(&paths.dir)
            .await
            .map_err(|e| DomainError::Internal(e.into()))?;
        let up = receive(form, &s, &paths, c.max_import_bytes).await?;
        if !up.csrf_ok {
            return Err(DomainError::Forbidden {
                message: "the form's CSRF token is missing or stale; reload the page".to_owned(),
            });
        }
        let kind = Kind::parse("kind", up.kind.as_deref().unwrap_or_default())?;
        s.may_change(resource(kind))?;
        let (file_name, _) = up
            .file
            .ok_or_else(|| DomainError::validation("file", "choose a .xlsx or .csv file"))?;
        let options = ImportOptions {
            on_duplicate: match up.on_duplicate.as_deref() {
                None | Some("") => OnDuplicate::default(),
                Some(d) => OnDuplicate::parse("on_duplicate", d)?,
            },
            dry_run: up.dry_run,
            ..ImportOptions::default()
        };
        c.crm
            .start_import(&actor, id, kind, &file_name, options, false)
            .await
    };
    match started.await {
        Ok(t) => Redirect::to(&format!("/app/import/{}", t.id)).into_response(),
        Err(e) => {
            // Nothing was recorded: the upload goes.
            if let Ok(paths) = c.crm.transfer_paths(&actor, id) {
                let _ = tokio::fs::remove_dir_all(&paths.dir).await;
            }
            problem(lang, e)
        }
    }
}

/// A rejected or skipped row.
struct FailureView {
    row: i64,
    column: Option<String>,
    reason: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    t: &'static Texts,
    shell: Shell,
    x: TransferView,
    failures: Vec<FailureView>,
}

async fn import_page(
    c: &Console,
    s: &Session,
    t: &'static Texts,
    id: &str,
) -> Result<ImportPage, DomainError> {
    let actor = s.actor();
    let id = uuid_of(id, "import")?;
    let x = c.crm.transfer(&actor, id).await?;
    if x.direction != Direction::Import {
        return Err(DomainError::not_found("import"));
    }
    let failures = c.crm.transfer_failures(&actor, id, 0, FAILURES).await?;
    Ok(ImportPage {
        t,
        x: view(t, &x, s),
        failures: failures
            .into_iter()
            .map(|f| FailureView {
                row: f.row,
                column: f.column,
                reason: f.reason,
            })
            .collect(),
        shell: Shell::of(s, "import"),
    })
}

/// `/app/import/{id}`: where the import stands (the page refreshes itself until it is done).
pub(crate) async fn import(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match import_page(&c, &s, lang.t(), &id).await {
        Ok(p) => page(StatusCode::OK, p.render()),
        Err(e) => problem(lang, e),
    }
}

/// The report: the rejected and skipped rows with their original columns and why.
pub(crate) async fn report(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let actor = s.actor();
    let opened = async {
        let id = uuid_of(&id, "import")?;
        let x = c.crm.transfer(&actor, id).await?;
        if x.direction != Direction::Import {
            return Err(DomainError::not_found("import"));
        }
        let (path, name) = c.crm.transfer_output(&actor, id).await?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| DomainError::Internal(e.into()))?;
        Ok((file, name, x.format))
    };
    let (file, name, format) = match opened.await {
        Ok(x) => x,
        Err(e) => return problem(lang, e),
    };
    let mut r = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(match format {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&crm_domain::files::attachment(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
