//! The console's pages: sign-in and sign-out, customers (search as one types, a customer with
//! its activities, adding a note).

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::{DateTime, Utc};
use crm_domain::console::{Session, SESSION_TTL};
use crm_domain::customer::{Customer, CustomerGroup};
use crm_domain::ids::LeadId;
use crm_domain::lead::Lead;
use crm_domain::search::{Field, Filter, PageRequest, TextField};
use crm_domain::service::Managed;
use crm_domain::DomainError;
use serde::Deserialize;

use crate::i18n::{Lang, Texts};
use crate::web::{
    cookie, page, problem, same_token, set_cookie, Form, Query, LOGIN_COOKIE, SESSION_COOKIE,
};
use crate::Console;

/// Customers per page of the list.
const PAGE_SIZE: u32 = 20;

/// What the navigation bar shows.
pub(crate) struct Shell {
    pub(crate) workspace: String,
    pub(crate) user: String,
    pub(crate) role: &'static str,
    pub(crate) csrf: String,
    pub(crate) section: &'static str,
}

impl Shell {
    pub(crate) fn of(s: &Session, section: &'static str) -> Self {
        Self {
            workspace: s.tenant.name.clone(),
            user: s.login.display_name.clone(),
            role: s.login.role.as_str(),
            csrf: s.csrf.clone(),
            section,
        }
    }
}

/// The signed-in staff member of a request.
pub(crate) async fn session(c: &Console, headers: &HeaderMap) -> Result<Session, Response> {
    let lang = Lang::of(headers);
    let token = cookie(headers, SESSION_COOKIE).unwrap_or_default();
    c.auth.session(token).await.map_err(|e| problem(lang, e))
}

/// The session of a form submission whose CSRF token is the session's.
pub(crate) async fn checked(
    c: &Console,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Session, Response> {
    let lang = Lang::of(headers);
    let s = session(c, headers).await?;
    if same_token(csrf, &s.csrf) {
        Ok(s)
    } else {
        Err(problem(
            lang,
            DomainError::Forbidden {
                message: "the form's CSRF token is missing or stale; reload the page".to_owned(),
            },
        ))
    }
}

pub(crate) fn when(at: DateTime<Utc>, s: &Session) -> String {
    at.with_timezone(&s.tenant.tz())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

pub(crate) async fn home() -> Redirect {
    Redirect::to("/app/dashboard")
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    t: &'static Texts,
    csrf: &'a str,
    workspace: &'a str,
    username: &'a str,
    message: Option<&'a str>,
}

fn login_page(
    c: &Console,
    lang: Lang,
    status: StatusCode,
    workspace: &str,
    username: &str,
    message: Option<&str>,
) -> Response {
    let csrf = crm_domain::auth::random_token();
    let mut r = page(
        status,
        LoginPage {
            t: lang.t(),
            csrf: &csrf,
            workspace,
            username,
            message,
        }
        .render(),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &csrf, 3600, c.secure_cookies),
    );
    r
}

pub(crate) async fn login_form(State(c): State<Console>, headers: HeaderMap) -> Response {
    if session(&c, &headers).await.is_ok() {
        return Redirect::to("/app/dashboard").into_response();
    }
    login_page(&c, Lang::of(&headers), StatusCode::OK, "default", "", None)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    workspace: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn login(
    State(c): State<Console>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let t = lang.t();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same_token(&f.csrf, expected) {
        return login_page(
            &c,
            lang,
            StatusCode::FORBIDDEN,
            &f.workspace,
            &f.username,
            Some(t.sign_in_expired),
        );
    }
    let from = peer
        .map(|Extension(ConnectInfo(a))| a.ip())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    match c
        .auth
        .sign_in(&f.workspace, &f.username, &f.password, from)
        .await
    {
        Ok((token, _)) => {
            let mut r = Redirect::to("/app/dashboard").into_response();
            let h = r.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &token,
                    SESSION_TTL.as_secs(),
                    c.secure_cookies,
                ),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(LOGIN_COOKIE, "", 0, c.secure_cookies),
            );
            r
        }
        Err(DomainError::Unauthorized) => login_page(
            &c,
            lang,
            StatusCode::UNAUTHORIZED,
            &f.workspace,
            &f.username,
            Some(t.wrong_credentials),
        ),
        Err(DomainError::Throttled { retry_after, .. }) => login_page(
            &c,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &f.workspace,
            &f.username,
            Some(&format!(
                "{} {retry_after} {}.",
                t.too_many_attempts, t.seconds
            )),
        ),
        Err(e) => problem(lang, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

pub(crate) async fn logout(
    State(c): State<Console>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    if let Err(r) = checked(&c, &headers, &f.csrf).await {
        return r;
    }
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    if let Err(e) = c.auth.sign_out(token).await {
        return problem(lang, e);
    }
    let mut r = Redirect::to("/app/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, c.secure_cookies),
    );
    r
}

/// A row of a list page.
pub(crate) struct Row {
    pub(crate) id: uuid::Uuid,
    pub(crate) name: String,
    pub(crate) meta: String,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    t: &'static Texts,
    shell: Shell,
    title: &'static str,
    base: &'static str,
    one: &'static str,
    many: &'static str,
    q: String,
    /// The query string of the list's other pages (its search and filters).
    query_url: String,
    filters: Option<CustomerFilters>,
    rows: Vec<Row>,
    total: u64,
    /// `total` as shown (`hơn 10.000` past the cap).
    count: String,
    page: u32,
    pages: u64,
    previous: Option<u32>,
    next: Option<u32>,
}

/// The list's query string; a page that is not a number reads as the first.
#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    /// Customers only: a group's id, an owner's (a staff login's actor id), and a label (tag).
    #[serde(default)]
    group: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    label: String,
}

/// The customers' filters: the tenant's groups to pick from, what is picked.
pub(crate) struct CustomerFilters {
    groups: Vec<(uuid::Uuid, String)>,
    group: Option<uuid::Uuid>,
    /// The staff who may be in charge of a customer, the signed-in one marked.
    owners: Vec<(uuid::Uuid, String)>,
    owner: Option<uuid::Uuid>,
    label: String,
}

/// Customer groups the filter offers (the first ones by name).
const MAX_GROUPS: u32 = 200;
/// Longest label filtered by, in characters.
const MAX_LABEL: usize = 100;

/// What one list page shows of its records.
pub(crate) struct Listing<E> {
    pub(crate) section: &'static str,
    pub(crate) base: &'static str,
    /// Its title, and the words after a count of one and of several.
    pub(crate) words: fn(&Texts) -> (&'static str, &'static str, &'static str),
    pub(crate) row: fn(E, &Texts) -> Row,
    /// Offer the customers' filters (group, label).
    pub(crate) customer_filters: bool,
}

/// A page of records of kind `E`, newest first or ranked by what was typed, 20 a page.
pub(crate) async fn list<E: Managed>(
    c: &Console,
    headers: &HeaderMap,
    query: ListQuery,
    listing: Listing<E>,
) -> Response {
    let lang = Lang::of(headers);
    let s = match session(c, headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ListQuery {
        q,
        page: number,
        group,
        owner,
        label,
    } = query;
    let last_page = (LIST_COUNT_CAP / u64::from(PAGE_SIZE)) as u32;
    let number = number
        .trim()
        .parse::<u32>()
        .unwrap_or(1)
        .clamp(1, last_page);
    let mut filter = Filter::text(None, &q).unwrap_or_else(Filter::all);
    let mut filters = None;
    if listing.customer_filters {
        let groups = match PageRequest::new(1, MAX_GROUPS) {
            Ok(p) => {
                c.crm
                    .search::<CustomerGroup>(&s.actor(), &Filter::all(), p)
                    .await
            }
            Err(e) => Err(e),
        };
        let mut groups: Vec<(uuid::Uuid, String)> = match groups {
            Ok(p) => p.items.into_iter().map(|g| (g.id.0, g.data.name)).collect(),
            Err(e) => return problem(lang, e),
        };
        groups.sort_by(|a, b| a.1.cmp(&b.1));
        let owners = match owners(c, &s, lang.t()).await {
            Ok(o) => o,
            Err(e) => return problem(lang, e),
        };
        let group = uuid::Uuid::parse_str(group.trim()).ok();
        let owner = uuid::Uuid::parse_str(owner.trim()).ok();
        let label: String = label.trim().chars().take(MAX_LABEL).collect();
        filter = filter
            .and(group.map(|g| Filter::id(Field::Group, g)))
            .and(owner.map(|o| Filter::id(Field::Owner, o)))
            .and(Filter::any_whole(
                TextField::Tag,
                [label.as_str()].into_iter().filter(|l| !l.is_empty()),
            ));
        filters = Some(CustomerFilters {
            groups,
            group,
            owners,
            owner,
            label,
        });
    }
    let request = match PageRequest::typed(number, PAGE_SIZE) {
        Ok(r) => r.counting_up_to(LIST_COUNT_CAP),
        Err(e) => return problem(lang, e),
    };
    let found = match c.crm.search::<E>(&s.actor(), &filter, request).await {
        Ok(p) => p,
        Err(e) => return problem(lang, e),
    };
    let pages = found.total_pages().min(u64::from(last_page));
    let count = counted(lang.t(), &found);
    let more = found.more_than_counted();
    let (title, one, many) = (listing.words)(lang.t());
    page(
        StatusCode::OK,
        ListPage {
            t: lang.t(),
            shell: Shell::of(&s, listing.section),
            title,
            base: listing.base,
            one,
            many,
            previous: (number > 1).then(|| number - 1),
            next: (u64::from(number) < pages).then(|| number + 1),
            total: found.total,
            count,
            rows: found
                .items
                .into_iter()
                .map(|e| (listing.row)(e, lang.t()))
                .collect(),
            page: number,
            // Past the cap the last page is not known.
            pages: if more { 0 } else { pages },
            query_url: {
                let mut url = form_urlencoded::Serializer::new(String::new());
                url.append_pair("q", &q);
                if let Some(f) = &filters {
                    if let Some(g) = f.group {
                        url.append_pair("group", &g.to_string());
                    }
                    if let Some(o) = f.owner {
                        url.append_pair("owner", &o.to_string());
                    }
                    if !f.label.is_empty() {
                        url.append_pair("label", &f.label);
                    }
                }
                url.finish()
            },
            q,
            filters,
        }
        .render(),
    )
}

/// The staff a customer may be put in charge of (its owner): the tenant's staff who may sign
/// in, the signed-in one first and marked.
pub(crate) async fn owners(
    c: &Console,
    s: &crm_domain::console::Session,
    t: &Texts,
) -> Result<Vec<(uuid::Uuid, String)>, DomainError> {
    let mut owners: Vec<(uuid::Uuid, String)> = c
        .auth
        .logins(s.tenant.id)
        .await?
        .into_iter()
        .map(|l| {
            if l.actor_id == s.login.actor_id {
                (l.actor_id, format!("{} ({})", l.display_name, t.me))
            } else {
                (l.actor_id, l.display_name)
            }
        })
        .collect();
    owners.sort_by_key(|(id, _)| *id != s.login.actor_id);
    Ok(owners)
}

/// Rows a list counts exactly; past this it says "more than" (and pages no further).
pub(crate) const LIST_COUNT_CAP: u64 = 10_000;

/// A page's count as a person reads it: `1.234`, or `hơn 10.000` when it was counted only so
/// far.
pub(crate) fn counted<T>(t: &Texts, p: &crm_domain::search::Page<T>) -> String {
    match p.request.count_up_to {
        Some(cap) if p.more_than_counted() => {
            format!("{} {}", t.more_than, crm_domain::money::grouped(cap))
        }
        _ => crm_domain::money::grouped(p.total),
    }
}

/// The id in a console URL; one that is not an id is `what` not found, as an unknown one is.
pub(crate) fn uuid_of(raw: &str, what: &'static str) -> Result<uuid::Uuid, DomainError> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| DomainError::not_found(what))
}

/// `code · phone · e-mail`, the parts there are.
pub(crate) fn meta(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(crate) async fn customers(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let listing = Listing {
        section: "customers",
        base: "/app/customers",
        words: |t| (t.customers, t.customer_one, t.customers_counted),
        customer_filters: true,
        row: |c: Customer, _| Row {
            id: c.id.0,
            meta: meta(&[
                c.data.code.as_deref(),
                c.data.phone.as_ref().map(|p| p.as_str()),
                c.data.email.as_ref().map(|e| e.as_str()),
            ]),
            name: c.data.name,
        },
    };
    list(&c, &headers, query, listing).await
}

pub(crate) async fn leads(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let listing = Listing {
        section: "leads",
        base: "/app/leads",
        words: |t| (t.leads, t.lead_one, t.leads_counted),
        customer_filters: false,
        row: |l: Lead, _| Row {
            id: l.id.0,
            meta: meta(&[
                l.data.company.as_deref(),
                l.data.phone.as_ref().map(|p| p.as_str()),
                l.data.email.as_ref().map(|e| e.as_str()),
                l.conversion.as_ref().map(|_| "✓"),
            ]),
            name: l.data.full_name,
        },
    };
    list(&c, &headers, query, listing).await
}

/// A lead as its page shows it.
struct LeadView {
    id: uuid::Uuid,
    name: String,
    company: Option<String>,
    position: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    notes: Option<String>,
    created: String,
    customer: Option<uuid::Uuid>,
}

#[derive(Template)]
#[template(path = "lead.html")]
struct LeadPage {
    t: &'static Texts,
    shell: Shell,
    l: LeadView,
    may_convert: bool,
}

pub(crate) async fn lead(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return problem(lang, DomainError::not_found("lead"));
    };
    let l = match c.crm.get::<Lead>(&s.actor(), LeadId(id)).await {
        Ok(l) => l,
        Err(e) => return problem(lang, e),
    };
    let d = l.data;
    page(
        StatusCode::OK,
        LeadPage {
            t: lang.t(),
            may_convert: s.login.role.may_change("leads") && s.login.role.may_change("customers"),
            l: LeadView {
                id,
                name: d.full_name,
                company: d.company,
                position: d.position,
                phone: d.phone.map(|p| p.as_str().to_owned()),
                email: d.email.map(|e| e.as_str().to_owned()),
                notes: d.notes,
                created: when(l.audit.created_at, &s),
                customer: l.conversion.map(|c| c.customer_id.0),
            },
            shell: Shell::of(&s, "leads"),
        }
        .render(),
    )
}

/// Converts a lead into a customer and a contact (as CRMTOP's convert does), then shows the
/// customer.
pub(crate) async fn convert_lead(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match checked(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = s
        .may_change("leads")
        .and_then(|()| s.may_change("customers"))
    {
        return problem(lang, e);
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return problem(lang, DomainError::not_found("lead"));
    };
    match c.crm.convert_lead(&s.actor(), LeadId(id)).await {
        Ok(done) => Redirect::to(&format!("/app/customers/{}", done.customer_id.0)).into_response(),
        Err(e) => problem(lang, e),
    }
}
