//! What every console answer shares: cookies, CSRF checks, headers, error pages, assets.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crm_domain::DomainError;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::i18n::{Lang, Texts, LANG_COOKIE};

pub(crate) const SESSION_COOKIE: &str = "crm_session";
pub(crate) const LOGIN_COOKIE: &str = "crm_login";

/// The value of cookie `name`, if the request has it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for the console's path; `max_age` 0 removes the cookie.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/app; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether a submitted CSRF token is the expected one (constant time; an empty one never is).
pub(crate) fn same_token(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// A rendered page with the console's headers: not cached, not framed, nothing from another
/// origin.
pub(crate) fn page(status: StatusCode, html: Result<String, askama::Error>) -> Response {
    let html = match html {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

#[derive(Template)]
#[template(path = "problem.html")]
struct Problem<'a> {
    t: &'static Texts,
    title: &'a str,
    message: &'a str,
}

/// The page for a refusal or a failure, in the browser's language. A missing or expired
/// session goes to the sign-in page.
pub(crate) fn problem(lang: Lang, e: DomainError) -> Response {
    let t = lang.t();
    let (status, title, message) = match &e {
        DomainError::Unauthorized => return Redirect::to("/app/login").into_response(),
        DomainError::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            t.not_found_title,
            t.not_found.to_owned(),
        ),
        DomainError::Forbidden { message } => (
            StatusCode::FORBIDDEN,
            t.forbidden_title,
            format!("{} ({message}).", t.forbidden),
        ),
        DomainError::Validation { field, message } => (
            StatusCode::BAD_REQUEST,
            t.invalid_title,
            format!("{field}: {message}"),
        ),
        DomainError::Conflict { message, .. } | DomainError::InUse { message, .. } => {
            (StatusCode::CONFLICT, t.conflict_title, message.clone())
        }
        DomainError::Throttled { message, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            t.retry_title,
            message.clone(),
        ),
        DomainError::Internal(err) => {
            tracing::error!(error = %err, "console request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                t.server_error_title,
                t.server_error.to_owned(),
            )
        }
    };
    page(
        status,
        Problem {
            t,
            title,
            message: &message,
        }
        .render(),
    )
}

/// The console's page for a form or query string that cannot be read (a field given twice,
/// a body over the limit, not a form at all), with the status axum gives it.
fn unreadable(lang: Lang, status: StatusCode, reason: String) -> Response {
    let mut r = problem(lang, DomainError::validation("form", reason));
    *r.status_mut() = status;
    r
}

/// A form body (`axum::Form`) whose refusal is a console page.
pub(crate) struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let lang = Lang::of(req.headers());
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| Form(v))
            .map_err(|e| unreadable(lang, e.status(), e.body_text()))
    }
}

/// A query string (`axum::extract::Query`) whose refusal is a console page.
pub(crate) struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let lang = Lang::of(&parts.headers);
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| unreadable(lang, e.status(), e.body_text()))
    }
}

/// `/app/lang/{code}`: remembers the language for a year and goes back to the page the link
/// was on (when it was a console page), or to the customers.
pub(crate) async fn language(
    State(c): State<crate::Console>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return problem(Lang::of(&headers), DomainError::not_found("language"));
    };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(console_path)
        .unwrap_or("/app/dashboard");
    let mut r = Redirect::to(back).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LANG_COOKIE, lang.code(), 365 * 24 * 3600, c.secure_cookies),
    );
    r
}

/// The path and query of a console URL (`http://host/app/...`), never another site's.
fn console_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let path = &rest[rest.find('/')?..];
    (path.starts_with("/app/") && !path.starts_with("/app/lang/") && !path.contains(['\r', '\n']))
        .then_some(path)
}

/// The embedded stylesheet and script, cached for a day.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind): (&'static str, &'static str) = match name.as_str() {
        "console.css" => (
            include_str!("../assets/console.css"),
            "text/css; charset=utf-8",
        ),
        "htmx.min.js" => (
            include_str!("../assets/htmx.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "board.js" => (
            include_str!("../assets/board.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; crm_session=tok; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn only_console_pages_are_gone_back_to() {
        assert_eq!(
            console_path("http://127.0.0.1:8080/app/customers?q=duc"),
            Some("/app/customers?q=duc")
        );
        assert_eq!(console_path("https://evil.example/phish"), None);
        assert_eq!(console_path("http://x/app/lang/en"), None);
        assert_eq!(console_path("//evil.example/app/"), None);
        assert_eq!(console_path("/app/customers"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abd", "abc"));
        assert!(!same_token("", ""));
        assert!(!same_token("ab", "abc"));
    }
}
