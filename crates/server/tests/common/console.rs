//! Helpers for the console's tests: a browser-like client with cookies carried by hand,
//! sign-in through the form with its CSRF cookie, pages and forms as a signed-in user.

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use super::TestApp;
use crm_domain::console::Role;

/// A browser-like client that does not follow redirects; cookies are carried by hand.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `Set-Cookie` line for `name`.
pub fn set_cookie<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

pub fn cookie_value(line: &str) -> String {
    line.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

/// The value of the hidden `csrf` input of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// Signs in; the session cookie, or the failed answer's status and body.
pub async fn sign_in(
    app: &TestApp,
    workspace: &str,
    username: &str,
    password: &str,
) -> Result<String, (StatusCode, String)> {
    sign_in_at(&app.base, workspace, username, password).await
}

/// [`sign_in`] on the server at `base`.
pub async fn sign_in_at(
    base: &str,
    workspace: &str,
    username: &str,
    password: &str,
) -> Result<String, (StatusCode, String)> {
    let http = client();
    let r = http
        .get(format!("{}/app/login", base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let login_cookie = cookie_value(set_cookie(r.headers(), "crm_login").unwrap());
    let csrf = csrf_of(&r.text().await.unwrap());
    let r = http
        .post(format!("{}/app/login", base))
        .header("Cookie", format!("crm_login={login_cookie}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("workspace", workspace),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::SEE_OTHER {
        let status = r.status();
        return Err((status, r.text().await.unwrap()));
    }
    assert_eq!(r.headers()[LOCATION], "/app/dashboard");
    let line = set_cookie(r.headers(), "crm_session").unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/app", "Max-Age=43200"] {
        assert!(line.contains(flag), "{flag} in {line}");
    }
    assert!(!line.contains("Secure"), "not behind TLS: {line}");
    Ok(cookie_value(&line))
}

pub async fn page(app: &TestApp, session: &str, path: &str) -> (StatusCode, HeaderMap, String) {
    page_at(&app.base, session, path).await
}

/// [`page`] of the server at `base`.
pub async fn page_at(base: &str, session: &str, path: &str) -> (StatusCode, HeaderMap, String) {
    let r = client()
        .get(format!("{base}{path}"))
        .header("Cookie", format!("crm_session={session}"))
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

pub async fn post_form(
    app: &TestApp,
    session: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let r = client()
        .post(format!("{}{path}", app.base))
        .header("Cookie", format!("crm_session={session}"))
        .form(form)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

/// A staff user of `tenant` with `role` and the password `mật khẩu dài`.
pub async fn staff(app: &TestApp, tenant: &str, username: &str, role: Role, name: &str) {
    let t = app.app.state.auth.find_tenant(tenant).await.unwrap();
    crm_server::cli::create_user(&app.app, &t, username, role, Some(name), "mật khẩu dài")
        .await
        .unwrap();
}

pub const PASSWORD: &str = "mật khẩu dài";
