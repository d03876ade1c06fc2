//! What every console answer shares: cookies, CSRF checks, headers, error pages, assets.

use askama::Template;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crm_domain::DomainError;
use rand::RngCore;
use subtle::ConstantTimeEq;

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

/// A random token for a cookie or a form.
pub(crate) fn random_token() -> String {
    let mut b = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
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
    title: &'a str,
    message: &'a str,
}

/// The page for a refusal or a failure. A missing or expired session goes to the sign-in page.
pub(crate) fn problem(e: DomainError) -> Response {
    let (status, title, message) = match &e {
        DomainError::Unauthorized => return Redirect::to("/app/login").into_response(),
        DomainError::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            "Không tìm thấy",
            "Không có bản ghi này trong không gian làm việc của bạn.".to_owned(),
        ),
        DomainError::Forbidden { message } => (
            StatusCode::FORBIDDEN,
            "Không được phép",
            format!("Vai trò của bạn không cho phép thao tác này ({message})."),
        ),
        DomainError::Validation { field, message } => (
            StatusCode::BAD_REQUEST,
            "Dữ liệu chưa hợp lệ",
            format!("{field}: {message}"),
        ),
        DomainError::Conflict { message, .. } | DomainError::InUse { message, .. } => {
            (StatusCode::CONFLICT, "Xung đột", message.clone())
        }
        DomainError::Throttled { message, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Thử lại sau",
            message.clone(),
        ),
        DomainError::Internal(err) => {
            tracing::error!(error = %err, "console request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi máy chủ",
                "Đã có lỗi; vui lòng thử lại.".to_owned(),
            )
        }
    };
    page(
        status,
        Problem {
            title,
            message: &message,
        }
        .render(),
    )
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
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abd", "abc"));
        assert!(!same_token("", ""));
        assert!(!same_token("ab", "abc"));
    }
}
