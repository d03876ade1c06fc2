//! Every vendor's token flow: issue, use on every dialect, refresh (rotating), revoke, expire;
//! and a tenant's API clients managed over HTTP (`/crm/v1/tenant`, `/crm/v1/clients`).

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

    // A refresh token works once.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh-token",
            None,
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::UNAUTHORIZED);

    // The spent refresh token was presented again above: its whole family is revoked, the
    // pair it was exchanged for included; the client's other grants are not.
    assert_eq!(can_search(app, new_access).await, StatusCode::UNAUTHORIZED);
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh-token",
            None,
            Some(json!({"refreshToken": rotated})),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::UNAUTHORIZED);
    assert_eq!(can_search(app, &a.token).await, StatusCode::OK);
    let (_, audit) = app.get("/crm/v1/audit?object=token", &a.token).await;
    let reused: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == json!("reused"))
        .collect();
    // The spent token, then its revoked successor: each presentation is recorded.
    assert_eq!(reused.len(), 2, "{audit}");
    assert_eq!(reused[0]["client"], json!(a.client_id));
    assert_eq!(reused[0]["changes"]["revoked"], json!(true));
    // Expired tokens are purged by the maintenance: none is a day past its expiry yet.
    assert_eq!(app.app.state.auth.purge_expired_tokens().await.unwrap(), 0);
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

/// A token from the CRMTOP flow, or the failure's status.
async fn token_of(app: &TestApp, id: &str, secret: &str) -> Result<String, StatusCode> {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": id, "clientSecret": secret})),
        )
        .await;
    match status {
        StatusCode::OK => Ok(body["data"]["accessToken"].as_str().unwrap().to_owned()),
        other => Err(other),
    }
}

async fn clients_are_managed_over_http(app: &TestApp) {
    let a = app.tenant("acme").await;
    let b = app.tenant("other").await;

    let (status, t) = app.get("/crm/v1/tenant", &a.token).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["slug"], "acme");
    assert_eq!(t["name"], "acme");
    assert_eq!(t["time_zone"], "Asia/Ho_Chi_Minh");
    assert!(t["id"].as_str().unwrap().len() == 36, "{t}");
    assert!(t["created_at"].is_string(), "{t}");

    let (status, list) = app.get("/crm/v1/clients", &a.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    assert_eq!(data[0]["client_id"], json!(a.client_id));
    assert_eq!(data[0]["current"], json!(true));
    assert_eq!(data[0]["revoked_at"], Value::Null);
    assert!(data[0].get("client_secret").is_none(), "{list}");

    // A new client: its secret once, and it gets tokens of this tenant.
    let (status, made) = app
        .post("/crm/v1/clients", &a.token, json!({"name": "erp"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["name"], "erp");
    let (id, secret) = (
        made["client_id"].as_str().unwrap().to_owned(),
        made["client_secret"].as_str().unwrap().to_owned(),
    );
    assert!(secret.len() >= 32, "{made}");
    let erp = token_of(app, &id, &secret).await.unwrap();
    let (_, t) = app.get("/crm/v1/tenant", &erp).await;
    assert_eq!(t["slug"], "acme");
    let (_, list) = app.get("/crm/v1/clients", &erp).await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{list}");
    assert_eq!(data[1]["client_id"], json!(id));
    assert_eq!(data[1]["current"], json!(true));
    assert_eq!(data[0]["current"], json!(false));
    // The other tenant sees only its own.
    let (_, other) = app.get("/crm/v1/clients", &b.token).await;
    assert_eq!(other["data"].as_array().unwrap().len(), 1, "{other}");
    assert_eq!(other["data"][0]["client_id"], json!(b.client_id));

    // Bad input: our envelope, a 4xx, nothing made.
    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(300)}), "name"),
        (json!({"name": 7}), "name"),
        (json!({"name": "x", "scope": "owner"}), "scope"),
    ] {
        let (status, err) = app.post("/crm/v1/clients", &a.token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert!(err["message"].is_string(), "{err}");
        assert!(
            err["message"].as_str().unwrap().contains(field) || err["field"] == field,
            "{body}: {err}"
        );
    }
    let (status, err) = app
        .raw(
            Method::POST,
            "/crm/v1/clients",
            Some(&a.token),
            "application/json",
            "{\"name\": ".to_owned(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (_, list) = app.get("/crm/v1/clients", &a.token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "{list}");

    // A client does not revoke itself.
    let (status, err) = app.delete(&format!("/crm/v1/clients/{id}"), &erp).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["field"], "client_id");
    assert!(err["message"].as_str().unwrap().contains("itself"), "{err}");
    // Another tenant cannot revoke it; its own tenant can, and its tokens stop working.
    let (status, err) = app.delete(&format!("/crm/v1/clients/{id}"), &b.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    assert_eq!(err["message"], "api client not found");
    assert_eq!(can_search(app, &erp).await, StatusCode::OK);
    let r = app
        .http
        .delete(format!("{}/crm/v1/clients/{id}", app.base))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(can_search(app, &erp).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        token_of(app, &id, &secret).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let (status, _) = app.delete(&format!("/crm/v1/clients/{id}"), &a.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/crm/v1/clients", &a.token).await;
    assert!(list["data"][1]["revoked_at"].is_string(), "{list}");
    assert_eq!(can_search(app, &a.token).await, StatusCode::OK);
}

/// At most 50 live clients per tenant, also when many callers add at once: the count and the
/// insert are one unit of work under the tenant's lock.
async fn the_client_cap_holds_under_a_race(app: &TestApp) {
    let a = app.tenant("capped").await;
    let auth = &app.app.state.auth;
    let tenant = auth.find_tenant("capped").await.unwrap();
    // 1 (the test's) + 46 = 47 live; 8 callers race for the last 3 places.
    for i in 0..46 {
        auth.create_client(&tenant, &format!("c{i}"), crm_domain::scope::Scope::ALL)
            .await
            .unwrap();
    }
    let answers = common::at_once(8, |i| {
        app.http
            .post(format!("{}/crm/v1/clients", app.base))
            .bearer_auth(&a.token)
            .json(&json!({"name": format!("race {i}")}))
    })
    .await;
    let made = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(made, 3, "{answers:?}");
    for (status, body) in &answers {
        if *status != StatusCode::CREATED {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert!(
                body["message"].as_str().unwrap().contains("at most 50"),
                "{body}"
            );
        }
    }
    let (_, list) = app.get("/crm/v1/clients", &a.token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 50, "{list}");
    // A place freed is a place to fill.
    let last = list["data"][49]["client_id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .post("/crm/v1/clients", &a.token, json!({"name": "one more"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let r = app
        .http
        .delete(format!("{}/crm/v1/clients/{last}", app.base))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, body) = app
        .post("/crm/v1/clients", &a.token, json!({"name": "one more"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
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
    clients_are_managed_over_http,
    the_client_cap_holds_under_a_race,
);
