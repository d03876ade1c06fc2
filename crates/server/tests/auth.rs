//! Every vendor's token flow: issue, use on every dialect, refresh (rotating), revoke, expire.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_crmtop_err, assert_crmtop_ok, Backend, Creds, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn can_search(app: &TestApp, token: &str) -> StatusCode {
    app.post("/api/v1/customer/search", token, json!({}))
        .await
        .0
}

async fn nextx_post(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.call(Method::POST, "/api/auth/token", None, Some(body))
        .await
}

async fn vbot_form(app: &TestApp, form: &str) -> (StatusCode, Value) {
    app.raw(
        Method::POST,
        "/token",
        None,
        "application/x-www-form-urlencoded",
        form.to_owned(),
    )
    .await
}

async fn crmtop_token_and_its_failures(app: &TestApp) {
    let a = app.tenant("crmtop").await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": a.client_id, "clientSecret": a.secret})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_crmtop_ok(&body);
    let data = body["data"].as_object().unwrap();
    assert_eq!(data.len(), 3, "{body}");
    assert!(data["accessToken"].as_str().unwrap().len() >= 40);
    assert!(data["refreshToken"].as_str().unwrap().len() >= 40);
    let expiration = data["expiration"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (expiration - now - 3600).abs() < 60,
        "expiration is Unix time of expiry: {expiration}"
    );

    let wrong_secret = json!({"clientId": a.client_id, "clientSecret": "nope"});
    let unknown_client = json!({"clientId": "nobody", "clientSecret": a.secret});
    let (s1, b1) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(wrong_secret),
        )
        .await;
    let (s2, b2) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(unknown_client),
        )
        .await;
    assert_eq!(
        assert_crmtop_err(s1, &b1, StatusCode::UNAUTHORIZED),
        "Invalid client credentials"
    );
    assert_eq!(s1, s2);
    assert_eq!(b1, b2, "no hint of which half was wrong");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["clientSecret"].is_array(), "{body}");
}

async fn nextx_token_in_every_documented_form(app: &TestApp) {
    let a = app.tenant("nextx").await;
    let params = json!({
        "grant_type": "client_credentials", "client_id": a.client_id,
        "client_secret": a.secret, "scope": "public.api"
    });
    let (status, body) = nextx_post(app, params.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["meta"],
        json!({"message": "Successfully", "status_code": 0})
    );
    assert_eq!(body["data"]["token_type"], json!("Bearer"));
    assert_eq!(body["data"]["expires_in"], json!(3600));
    assert_eq!(body["data"]["scope"], json!("public.api"));
    let token = body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        can_search(app, &token).await,
        StatusCode::OK,
        "a NextX token works on CRMTOP"
    );

    let (status, body) = nextx_post(app, json!([params])).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "array-wrapped body, as in the doc's example: {body}"
    );

    let query = format!(
        "/api/auth/token?grant_type=client_credentials&client_id={}&client_secret={}&scope=public.api",
        a.client_id, a.secret
    );
    let (status, body) = app.call(Method::GET, &query, None, None).await;
    assert_eq!(status, StatusCode::OK, "GET with query parameters: {body}");
    assert!(body["data"]["access_token"].is_string());

    let mut wrong = params.clone();
    wrong["client_secret"] = json!("wrong");
    let (status, body) = nextx_post(app, wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"meta": {"message": "Incorrect credentials", "status_code": 1}, "data": []})
    );
    let mut unknown = params.clone();
    unknown["client_id"] = json!("nobody");
    let (_, body2) = nextx_post(app, unknown).await;
    assert_eq!(body, body2);

    let mut bad_scope = params.clone();
    bad_scope["scope"] = json!("admin");
    let (status, body) = nextx_post(app, bad_scope).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["meta"]["status_code"], json!(1));
    let (status, body) = nextx_post(app, json!({"client_id": a.client_id})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["data"], json!([]));

    let refresh = body_refresh(app, &params).await;
    let (status, body) = nextx_post(
        app,
        json!({"grant_type": "refresh_token", "refresh_token": refresh}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = nextx_post(
        app,
        json!({"grant_type": "refresh_token", "refresh_token": refresh}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a refresh token works once"
    );
}

async fn body_refresh(app: &TestApp, params: &Value) -> String {
    let (_, body) = nextx_post(app, params.clone()).await;
    body["data"]["refresh_token"].as_str().unwrap().to_owned()
}

async fn vbot_oauth_token(app: &TestApp) {
    let a = app.tenant("vbot").await;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        a.client_id, a.secret
    );
    let (status, body) = vbot_form(app, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], json!("bearer"));
    assert_eq!(body["expires_in"], json!(3600));
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        can_search(app, &token).await,
        StatusCode::OK,
        "a VBot token works on CRMTOP"
    );

    let basic = reqwest::Client::new()
        .post(format!("{}/token", app.base))
        .basic_auth(&a.client_id, Some(&a.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        basic.status(),
        StatusCode::OK,
        "client credentials in HTTP Basic auth"
    );

    let (status, body) = vbot_form(
        app,
        &format!(
            "grant_type=client_credentials&client_id={}&client_secret=x",
            a.client_id
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], json!("invalid_client"));
    let (_, unknown) = vbot_form(
        app,
        &format!(
            "grant_type=client_credentials&client_id=nobody&client_secret={}",
            a.secret
        ),
    )
    .await;
    assert_eq!(body, unknown, "no hint of which half was wrong");
    let (status, body) = vbot_form(app, "grant_type=password&username=a&password=b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], json!("unsupported_grant_type"));

    let refresh = {
        let (_, b) = vbot_form(app, &form).await;
        b["refresh_token"].as_str().unwrap().to_owned()
    };
    let (status, body) = vbot_form(
        app,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string());
}

async fn refresh_rotates_and_tokens_stay_in_their_tenant(app: &TestApp) {
    let a = app.tenant("rotate").await;
    let b: Creds = app.tenant("rotate-b").await;
    let (_, first) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": a.client_id, "clientSecret": a.secret})),
        )
        .await;
    let refresh = first["data"]["refreshToken"].as_str().unwrap().to_owned();
    let (status, second) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh-token",
            None,
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_crmtop_ok(&second);
    let rotated = second["data"]["refreshToken"].as_str().unwrap();
    assert_ne!(rotated, refresh, "the refresh token rotates");
    let new_access = second["data"]["accessToken"].as_str().unwrap();
    assert_eq!(can_search(app, new_access).await, StatusCode::OK);
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh-token",
            None,
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::UNAUTHORIZED);

    let id = app
        .create(
            "/api/v1/customer/create",
            new_access,
            json!({"name": "Chỉ của A"}),
        )
        .await;
    let (status, body) = app
        .get(&format!("/api/v1/customer/get/{id}"), &b.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
}

async fn revoking_a_client_kills_its_tokens(app: &TestApp) {
    let a = app.tenant("revoke").await;
    let keep = app.tenant("keep").await;
    assert_eq!(can_search(app, &a.token).await, StatusCode::OK);
    app.app
        .state
        .auth
        .revoke_client(&a.client_id)
        .await
        .unwrap();
    let (status, body) = app
        .post("/api/v1/customer/search", &a.token, json!({}))
        .await;
    assert_crmtop_err(status, &body, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": a.client_id, "clientSecret": a.secret})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked client gets no new token"
    );
    assert_eq!(can_search(app, &keep.token).await, StatusCode::OK);
}

async fn expired_tokens_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.access_token_ttl = 1).await else {
        return;
    };
    let a = app.tenant("expiry").await;
    assert_eq!(can_search(&app, &a.token).await, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (status, body) = app
        .post("/api/v1/customer/search", &a.token, json!({}))
        .await;
    assert_crmtop_err(status, &body, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused_sqlite() {
    expired_tokens_are_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused_postgres() {
    expired_tokens_are_refused(Backend::Postgres).await;
}

on_both_backends!(
    crmtop_token_and_its_failures,
    nextx_token_in_every_documented_form,
    vbot_oauth_token,
    refresh_rotates_and_tokens_stay_in_their_tenant,
    revoking_a_client_kills_its_tokens,
);
