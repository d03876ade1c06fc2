//! Support tickets: listed and searched, a ticket with its details, its thread of comments
//! (one added from the page), the files on it and on its comments, and its status changed.

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crm_domain::console::Session;
use crm_domain::files::{FileOwner, Upload};
use crm_domain::ids::{FileId, TicketId};
use crm_domain::search::PageRequest;
use crm_domain::ticket::{Ticket, MAX_MESSAGE};
use crm_domain::DomainError;
use serde::Deserialize;

use crate::customer::ticket_status;
use crate::i18n::{Lang, Texts};
use crate::pages::{checked, list, meta, session, uuid_of, when, ListQuery, Listing, Row, Shell};
use crate::web::{page, problem, same_token, Form, Query};
use crate::Console;

/// Comments a ticket's page shows (the oldest first, as a thread reads).
const THREAD: u32 = 100;

pub(crate) async fn tickets(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let listing = Listing {
        section: "tickets",
        base: "/app/tickets",
        words: |t| (t.tickets, t.ticket_one, t.tickets_counted),
        customer_filters: false,
        row: |x: Ticket, t: &Texts| Row {
            id: x.id.0,
            meta: meta(&[
                x.data.code.as_deref(),
                x.data.customer_name.as_deref(),
                Some(ticket_status(t, x.data.status)),
            ]),
            name: x.data.subject,
        },
    };
    list(&c, &headers, query, listing).await
}

/// A file as the page links it.
struct FileView {
    id: uuid::Uuid,
    name: String,
    size: String,
}

struct CommentView {
    by: String,
    at: String,
    message: Option<String>,
    files: Vec<FileView>,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    t: &'static Texts,
    shell: Shell,
    id: uuid::Uuid,
    code: String,
    subject: String,
    description: Option<String>,
    status: i32,
    status_word: &'static str,
    customer: Option<(uuid::Uuid, String)>,
    facts: Vec<(&'static str, String)>,
    files: Vec<FileView>,
    comments: Vec<CommentView>,
    statuses: Vec<(i32, &'static str)>,
    may_change: bool,
}

fn size(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / 1024.0 / 1024.0)
    }
}

fn file_view(f: crm_domain::files::StoredFile) -> FileView {
    FileView {
        id: f.id.0,
        size: size(f.size),
        name: f.name,
    }
}

async fn ticket_page(
    c: &Console,
    s: &Session,
    t: &'static Texts,
    id: &str,
) -> Result<TicketPage, DomainError> {
    let actor = s.actor();
    let id = TicketId(uuid_of(id, "ticket")?);
    let x: Ticket = c.crm.get(&actor, id).await?;
    let thread = c
        .crm
        .search_comments(&actor, id, None, PageRequest::new(1, THREAD)?)
        .await?;
    let mut comments = thread.items;
    comments.sort_by_key(|m| m.created_at);
    let comment_ids: Vec<uuid::Uuid> = comments.iter().map(|m| m.id.0).collect();
    let mut comment_files = c
        .crm
        .files_of(&actor, FileOwner::Comment, &comment_ids)
        .await?;
    let files = c.crm.files_of(&actor, FileOwner::Ticket, &[id.0]).await?;
    let d = x.data;
    let mut facts = Vec::new();
    if let Some(v) = d.type_name {
        facts.push((t.ticket_type, v));
    }
    if let Some(v) = d.contact_name {
        facts.push((t.contact, v));
    }
    if let Some(v) = d.product_name {
        facts.push((t.product, v));
    }
    if let Some(v) = d.order_code {
        facts.push((t.order_one, v));
    }
    if let Some(v) = d.ownership.owner_name {
        facts.push((t.owner, v));
    }
    facts.push((
        t.created,
        when(d.reported_at.unwrap_or(x.audit.created_at), s),
    ));
    Ok(TicketPage {
        t,
        id: id.0,
        code: d.code.unwrap_or_default(),
        subject: d.subject,
        description: d.description,
        status: d.status,
        status_word: ticket_status(t, d.status),
        customer: d
            .customer_id
            .map(|c| (c.0, d.customer_name.unwrap_or_default())),
        facts,
        files: files.into_iter().map(file_view).collect(),
        comments: comments
            .into_iter()
            .map(|m| {
                let (mine, rest) = comment_files.drain(..).partition(|f| f.owner_id == m.id.0);
                comment_files = rest;
                CommentView {
                    by: m.user_name.unwrap_or_default(),
                    at: when(m.created_at, s),
                    message: m.message,
                    files: mine.into_iter().map(file_view).collect(),
                }
            })
            .collect(),
        statuses: (1..).zip(t.ticket_statuses.iter().copied()).collect(),
        may_change: s.login.role.may_change("support"),
        shell: Shell::of(s, "tickets"),
    })
}

pub(crate) async fn ticket(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match ticket_page(&c, &s, lang.t(), &id).await {
        Ok(p) => page(StatusCode::OK, p.render()),
        Err(e) => problem(lang, e),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct CommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    message: String,
}

/// Reads a comment's multipart form: its text fields (1 KiB for the token, the message's bound
/// for the message), and at most one file (`CRM_MAX_UPLOAD_BYTES`), read only after the token
/// was checked. A file input left empty sends a part without a name: no file.
async fn comment_parts(
    mut form: Multipart,
    s: &Session,
    max: usize,
) -> Result<(CommentForm, Option<Upload>), DomainError> {
    let bad = |field: &str, m: String| DomainError::validation(field, m);
    let forbidden = || DomainError::Forbidden {
        message: "the form's CSRF token is missing or stale; reload the page".to_owned(),
    };
    let mut f = CommentForm::default();
    let mut file = None;
    while let Some(mut part) = form
        .next_field()
        .await
        .map_err(|e| bad("message", format!("malformed form: {e}")))?
    {
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part.file_name().map(str::to_owned);
        let bound = match (name.as_str(), &file_name) {
            ("file", Some(_)) => {
                if !same_token(&f.csrf, &s.csrf) {
                    return Err(forbidden());
                }
                if file.is_some() {
                    return Err(bad("file", "one file per comment".to_owned()));
                }
                max
            }
            ("message", None) => MAX_MESSAGE * 4,
            _ => 1024,
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part
            .chunk()
            .await
            .map_err(|e| bad(&name, format!("the form was cut short: {e}")))?
        {
            if bytes.len() + chunk.len() > bound {
                return Err(bad(&name, format!("at most {bound} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        match (name.as_str(), file_name) {
            ("file", Some(n)) if n.is_empty() && bytes.is_empty() => {}
            ("file", Some(n)) => file = Some(Upload::check(&n, bytes, max, "file")?),
            ("csrf", None) => f.csrf = String::from_utf8_lossy(&bytes).trim().to_owned(),
            ("message", None) => {
                f.message = String::from_utf8(bytes)
                    .map_err(|_| bad("message", "is not UTF-8 text".to_owned()))?
            }
            _ => {}
        }
    }
    if !same_token(&f.csrf, &s.csrf) {
        return Err(forbidden());
    }
    Ok((f, file))
}

/// Adds a comment to the ticket's thread as the staff member (roles that may change support),
/// with a file when one is chosen (the page's form is multipart; a plain form adds text).
pub(crate) async fn comment(
    State(c): State<Console>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let lang = Lang::of(&headers);
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (s, f, file) = if multipart {
        let s = match session(&c, &headers).await {
            Ok(s) => s,
            Err(r) => return r,
        };
        let read = async {
            let form = Multipart::from_request(req, &())
                .await
                .map_err(|e| DomainError::validation("file", format!("malformed form: {e}")))?;
            comment_parts(form, &s, c.crm.max_file_bytes()).await
        };
        match read.await {
            Ok((f, file)) => (s, f, file),
            Err(e) => return problem(lang, e),
        }
    } else {
        let Form(f) = match Form::<CommentForm>::from_request(req, &()).await {
            Ok(f) => f,
            Err(r) => return r,
        };
        match checked(&c, &headers, &f.csrf).await {
            Ok(s) => (s, f, None),
            Err(r) => return r,
        }
    };
    let added = async {
        s.may_change("support")?;
        let id = TicketId(uuid_of(&id, "ticket")?);
        let message = f.message.trim();
        if message.chars().count() > MAX_MESSAGE || (message.is_empty() && file.is_none()) {
            return Err(DomainError::validation(
                "message",
                format!("a comment has 1 to {MAX_MESSAGE} characters, or a file"),
            ));
        }
        c.crm
            .add_comment(
                &s.actor(),
                id,
                None,
                None,
                (!message.is_empty()).then(|| message.to_owned()),
                file.into_iter().collect(),
            )
            .await?;
        Ok(id)
    };
    match added.await {
        Ok(id) => Redirect::to(&format!("/app/tickets/{}", id.0)).into_response(),
        Err(e) => problem(lang, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
}

/// Changes the ticket's status (1 received … 4 cancelled), as CRMTOP's status change does.
pub(crate) async fn set_status(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match checked(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let changed = async {
        s.may_change("support")?;
        let id = TicketId(uuid_of(&id, "ticket")?);
        let status = f
            .status
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|x| crm_domain::ticket::STATUSES.contains(x))
            .ok_or_else(|| DomainError::validation("status", "must be 1-4"))?;
        c.crm
            .change::<Ticket>(&s.actor(), id, |d| {
                d.status = status;
                Ok(())
            })
            .await?;
        Ok(id)
    };
    match changed.await {
        Ok(id) => Redirect::to(&format!("/app/tickets/{}", id.0)).into_response(),
        Err(e) => problem(lang, e),
    }
}

/// A file of the tenant's tickets and comments, downloaded (never shown inline: a file is
/// whatever was uploaded).
pub(crate) async fn file(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let read = async {
        let id = uuid_of(&id, "file")?;
        c.crm.read_file(&s.actor(), FileId(id)).await
    };
    let (f, bytes) = match read.await {
        Ok(x) => x,
        Err(e) => return problem(lang, e),
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Ok(v) = HeaderValue::from_str(&crm_domain::files::attachment(&f.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
