//! The OpenAPI documents and the Swagger UI: served offline at CRMTOP's own URLs, equal to the
//! files committed under `docs/openapi/` (`CRM_UPDATE_OPENAPI=1` rewrites them), every
//! documented operation routed, every route served but not documented listed in its document
//! (`x-undocumented-routes`, with the reason) and routed, and every endpoint of each vendor's
//! catalog documented except the ones listed below as not yet (a list that must only shrink:
//! a listed endpoint that gets documented fails the test until it is taken off). That no route
//! is added outside the documenting builder is checked in `crm_dialects::openapi`'s tests.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Catalog endpoints served but not yet in a document (none now).
const NOT_YET: &[&str] = &[];

fn repo_file(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

/// `(METHOD path)` of every operation of a document.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

/// One document under test: where it is served and committed, the catalog it must cover.
struct Case {
    name: &'static str,
    /// Its name in the Swagger UI's picker.
    picker: &'static str,
    url: &'static str,
    title: &'static str,
    catalog: &'static str,
    /// The catalog's entries of this vendor (a catalog may hold two).
    vendor: Option<&'static str>,
    /// Catalog paths that are documented under another path (a doc error the server also
    /// serves as written, say).
    aliases: &'static [(&'static str, &'static str)],
    /// Whether a body is the dialect's failure envelope.
    failed: fn(&Value) -> bool,
}

const CRMTOP: Case = Case {
    name: "crmtop",
    picker: "CRMTOP",
    url: "/swagger/v1/swagger.json",
    title: "CRMTOP public API",
    catalog: "catalog-000.json",
    vendor: None,
    aliases: &[],
    failed: |b| b["success"] == false && b["message"].is_string(),
};

const NEXTX: Case = Case {
    name: "nextx",
    picker: "NextX / NextCRM",
    url: "/swagger/v1/nextx.json",
    title: "NextX / NextCRM public API",
    catalog: "catalog-003.json",
    vendor: None,
    aliases: &[
        // The doc's machine-translated path, served but not documented.
        ("/api/sms/To get the list of", "/api/sms/campaign"),
        ("/api/sms/To get the list of/{id}", "/api/sms/campaign/{id}"),
        // The one kind of category list, a path parameter.
        (
            "/api/cate/category-list/product_category",
            "/api/cate/category-list/{kind}",
        ),
    ],
    failed: |b| b["meta"]["message"].is_string() || b["message"].is_string(),
};

const VBOT: Case = Case {
    name: "vbot",
    picker: "VBot CRM",
    url: "/swagger/v1/vbot.json",
    title: "VBot CRM public API",
    catalog: "catalog-vbot-omi.json",
    vendor: Some("vbot"),
    aliases: &[],
    // VBot's envelope, or OAuth's error at /token.
    failed: |b| (b["status"] == 0 && b["message"].is_string()) || b["error"].is_string(),
};

const OMI: Case = Case {
    name: "omi",
    picker: "OMI CRM",
    url: "/swagger/v1/omi.json",
    title: "OMI CRM contact API v2",
    catalog: "catalog-vbot-omi.json",
    vendor: Some("omi"),
    aliases: &[],
    failed: |b| b["status_code"] == -9999 && b["payload"].is_null() && b["message"].is_string(),
};

/// Our own endpoints: no vendor catalog (an empty one).
const OWN: Case = Case {
    name: "crm",
    picker: "crm-server (our own endpoints)",
    url: "/swagger/v1/crm.json",
    title: "crm-server's own API",
    catalog: "",
    vendor: None,
    aliases: &[],
    failed: |b| b["message"].is_string() && b.get("field").is_some(),
};

/// Every document, in the picker's order.
const ALL: [&Case; 5] = [&CRMTOP, &NEXTX, &VBOT, &OMI, &OWN];

/// Served, equal to its committed file, every operation routed, its catalog covered.
async fn check(app: &TestApp, case: &Case) -> Value {
    let served = get_json(app, case.url).await;
    assert_eq!(served["openapi"], "3.0.3");
    assert_eq!(served["info"]["title"], case.title);
    let schemes = &served["components"]["securitySchemes"];
    assert!(
        schemes["bearer"]["scheme"] == "bearer" || schemes["oauth2"]["type"] == "oauth2",
        "{schemes}"
    );

    // The committed file is what is served.
    let rel = format!("docs/openapi/{}.json", case.name);
    let file = repo_file(&rel);
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var("CRM_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&file, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == pretty,
        "{rel} differs from the served document; run the test with CRM_UPDATE_OPENAPI=1 and \
         commit the file"
    );

    // Every documented operation is routed: without its credential, an authorised operation
    // answers 401 and an anonymous one 400 (an empty body), in the dialect's envelope; never
    // 404 or 405.
    let ops = operations(&served);
    for (method, path) in &ops {
        let op = &served["paths"][path][method.to_lowercase()];
        let int_id = op["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["name"] == "id" && p["schema"]["type"] == "integer")
        });
        let id = if int_id {
            "7"
        } else {
            "0193a3c1-0000-7000-8000-000000000001"
        };
        let concrete = path
            .replace("{id}", id)
            .replace("{status}", "2")
            .replace("{productId}", "0193a3c1-0000-7000-8000-000000000002")
            .replace("{kind}", "product_category")
            .replace("{code}", "PO-1");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let anonymous = op["security"] == serde_json::json!([]);
        // Every operation behind a credential serves a resource a client's scope can name.
        let tag = op["tags"][0].as_str().unwrap_or_default();
        assert!(
            anonymous || crm_dialects::openapi::resource_of(tag).is_some(),
            "{method} {path}: tag '{tag}' serves no resource of crm_domain::scope::RESOURCES"
        );
        let page = op["responses"].as_object().unwrap().values().any(|r| {
            r["content"]["text/html"].is_object() || r["content"]["text/plain"].is_object()
        });
        if page {
            // A page for people (an unsubscribe link): served, as HTML.
            let r = app
                .http
                .request(method.clone(), format!("{}{concrete}", app.base))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            assert!(status != StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                text.starts_with("<!doctype html>") || !text.contains("no endpoint"),
                "{method} {path}: {status} {text}"
            );
            continue;
        }
        let (status, body) = app
            .call(
                method.clone(),
                &concrete,
                None,
                (method != Method::GET && method != Method::DELETE).then(|| serde_json::json!({})),
            )
            .await;
        if anonymous && status.is_success() {
            // Needs no input at all (`/health`).
            continue;
        }
        let expected = if anonymous {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert!((case.failed)(&body), "{method} {path}: {body}");
    }

    // What is routed but not documented is listed with its reason, and is routed.
    for r in served["x-undocumented-routes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let path = r["path"].as_str().unwrap();
        assert!(r["why"].as_str().unwrap().len() > 20, "{r}");
        let concrete = path
            .replace("{id}", "7")
            .replace("{entity}", "customer")
            .replace("{action}", "CREATE");
        for method in r["methods"].as_array().unwrap() {
            let method =
                Method::from_bytes(method.as_str().unwrap().to_uppercase().as_bytes()).unwrap();
            let (status, body) = app
                .call(method.clone(), &concrete, None, Some(serde_json::json!({})))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
            assert!((case.failed)(&body), "{method} {path}: {body}");
        }
    }

    // The catalog: each endpoint documented, or listed as not yet.
    if case.catalog.is_empty() {
        return served;
    }
    let catalog: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(repo_file(&format!(
            "crates/server/tests/fixtures/{}",
            case.catalog
        )))
        .unwrap(),
    )
    .unwrap();
    let documented: Vec<String> = ops.iter().map(|(m, p)| format!("{m} {p}")).collect();
    let mut missing = Vec::new();
    for e in catalog
        .iter()
        .filter(|e| case.vendor.is_none_or(|v| e["vendor"] == v))
    {
        let path = e["path"].as_str().unwrap();
        let path = case
            .aliases
            .iter()
            .find(|(doc, _)| *doc == path)
            .map_or(path, |(_, ours)| ours);
        let key = format!("{} {path}", e["method"].as_str().unwrap());
        let listed = NOT_YET.contains(&key.as_str());
        let done = documented.contains(&key);
        assert!(
            !(listed && done),
            "{key} is documented: take it off NOT_YET"
        );
        if !listed && !done {
            missing.push(key);
        }
    }
    assert!(
        missing.is_empty(),
        "{}: not documented: {missing:#?}",
        case.name
    );
    served
}

#[tokio::test]
async fn crmtop_document_is_served_committed_and_routed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let served = check(&app, &CRMTOP).await;
    assert!(operations(&served).len() >= 91);

    // The token operation: its body and its envelope, as the doc shows them.
    let token = &served["paths"]["/api/v1/auth/get-token-for-develop"]["post"];
    assert_eq!(token["security"], serde_json::json!([]));
    let body = schema_of(
        &served,
        &token["requestBody"]["content"]["application/json"],
    );
    assert!(body["properties"]["clientId"].is_object(), "{body}");
    assert!(body["properties"]["clientSecret"].is_object(), "{body}");
    let answer = schema_of(
        &served,
        &token["responses"]["200"]["content"]["application/json"],
    );
    for key in ["success", "code", "message", "data", "errors", "meta"] {
        assert!(answer["properties"][key].is_object(), "{key}: {answer}");
    }
    app.stop().await;
}

#[tokio::test]
async fn nextx_document_is_served_committed_and_routed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let served = check(&app, &NEXTX).await;
    assert!(operations(&served).len() >= 67);

    // The token flow: anonymous, the V1 envelope around the pair.
    let token = &served["paths"]["/api/auth/token"]["post"];
    assert_eq!(token["security"], serde_json::json!([]));
    let answer = schema_of(
        &served,
        &token["responses"]["200"]["content"]["application/json"],
    );
    assert!(answer["properties"]["meta"].is_object(), "{answer}");
    let pair = schema_of(&served, &answer["properties"]["data"]);
    for key in ["access_token", "token_type", "expires_in", "refresh_token"] {
        assert!(pair["properties"][key].is_object(), "{key}: {pair}");
    }
    // Web forms take the client key, not a token.
    let form = &served["paths"]["/api/common/send-webform-v2"]["post"];
    assert_eq!(form["security"], serde_json::json!([{"clientKey": []}]));
    assert_eq!(
        served["components"]["securitySchemes"]["clientKey"],
        serde_json::json!({"type": "apiKey", "in": "header", "name": "X-Client-Key"})
    );
    // Integer ids, and the paging parameters of a list.
    let lead = &served["paths"]["/api/contact/contact/{id}"]["get"];
    assert_eq!(lead["parameters"][0]["schema"]["type"], "integer");
    let list = &served["paths"]["/api/customer/customer"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["page", "pageLimit", "sttsearch", "from_date", "to_date"] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn vbot_document_is_served_committed_and_routed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let served = check(&app, &VBOT).await;
    assert_eq!(operations(&served).len(), 21);

    // The token endpoint: form-encoded (or JSON), anonymous, OAuth's answer.
    let token = &served["paths"]["/token"]["post"];
    assert_eq!(token["security"], serde_json::json!([]));
    let form = schema_of(
        &served,
        &token["requestBody"]["content"]["application/x-www-form-urlencoded"],
    );
    for key in ["grant_type", "client_id", "client_secret", "refresh_token"] {
        assert!(form["properties"][key].is_object(), "{key}: {form}");
    }
    let pair = schema_of(
        &served,
        &token["responses"]["200"]["content"]["application/json"],
    );
    for key in ["access_token", "token_type", "expires_in", "refresh_token"] {
        assert!(pair["properties"][key].is_object(), "{key}: {pair}");
    }
    // The API's operations take a client-credentials token from /token.
    assert_eq!(
        served["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"],
        "/token"
    );
    let create = &served["paths"]["/api/crm/customer/create"]["post"];
    assert_eq!(create["security"], serde_json::json!([{"oauth2": []}]));
    let answer = schema_of(
        &served,
        &create["responses"]["200"]["content"]["application/json"],
    );
    for key in ["status", "error", "message", "data"] {
        assert!(answer["properties"][key].is_object(), "{key}: {answer}");
    }
    let body = schema_of(
        &served,
        &create["requestBody"]["content"]["application/json"],
    );
    for key in [
        "vbot_id",
        "project_code",
        "customer_no",
        "customer_phones",
        "fields",
    ] {
        assert!(body["properties"][key].is_object(), "{key}: {body}");
    }
    // The doc's spellings are routed as written, and in any other letter case.
    let (status, b) = app
        .call(
            Method::POST,
            "/api/crm/customer/UPDATENO",
            None,
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");
    assert_eq!(b["status"], 0);
    app.stop().await;
}

#[tokio::test]
async fn omi_document_is_served_committed_and_routed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let served = check(&app, &OMI).await;
    // The doc's seven, and ours to define a funnel.
    assert_eq!(operations(&served).len(), 8);

    let search = &served["paths"]["/api/v2/contact/search"]["post"];
    assert_eq!(search["security"], serde_json::json!([{"bearer": []}]));
    let names: Vec<&str> = search["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["page", "size", "Idempotency-Key"]);
    let answer = schema_of(
        &served,
        &search["responses"]["200"]["content"]["application/json"],
    );
    for key in [
        "status_code",
        "instance_id",
        "instance_name",
        "payload",
        "key_enabled",
    ] {
        assert!(answer["properties"][key].is_object(), "{key}: {answer}");
    }
    let page = schema_of(&served, &answer["properties"]["payload"]);
    for key in ["page_number", "total_items", "has_next", "items"] {
        assert!(page["properties"][key].is_object(), "{key}: {page}");
    }
    let item = schema_of(&served, &page["properties"]["items"]["items"]);
    for key in ["public_id", "created_date", "attribute_structure", "tags"] {
        assert!(item["properties"][key].is_object(), "{key}: {item}");
    }
    // `get/{id}` takes an id of ours or the partner's refId: any text.
    let get = &served["paths"]["/api/v2/contact/get/{id}"]["get"];
    assert_eq!(
        get["parameters"][0]["schema"],
        serde_json::json!({"type": "string"})
    );
    // Failures: the envelope with `error` and `message`.
    let failure = schema_of(
        &served,
        &get["responses"]["default"]["content"]["application/json"],
    );
    for key in ["status_code", "payload", "error", "message"] {
        assert!(failure["properties"][key].is_object(), "{key}: {failure}");
    }
    let many = schema_of(
        &served,
        &served["paths"]["/api/v2/contact/addMany"]["post"]["requestBody"]["content"]
            ["application/json"],
    );
    let contact = schema_of(&served, &many["properties"]["data"]["items"]);
    for key in ["refId", "fullName", "phones", "otherDynamicUpdates"] {
        assert!(contact["properties"][key].is_object(), "{key}: {contact}");
    }
    app.stop().await;
}

#[tokio::test]
async fn own_document_is_served_committed_and_routed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let served = check(&app, &OWN).await;
    let ops: Vec<String> = operations(&served)
        .into_iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    for op in [
        "GET /health",
        "GET /crm/v1/tenant",
        "GET /crm/v1/clients",
        "POST /crm/v1/clients",
        "DELETE /crm/v1/clients/{id}",
        "POST /crm/v1/webhooks",
        "GET /crm/v1/webhooks/{id}/deliveries",
        "PUT /crm/v1/channels/{channel}",
        "POST /crm/v1/messages",
        "POST /crm/v1/unsubscribe/{id}",
        "GET /crm/v1/automations/{id}/runs",
    ] {
        assert!(ops.contains(&op.to_owned()), "{op}: {ops:#?}");
    }
    // Success statuses as served: 201 for what is made, 202 for work queued, 204 for none.
    let paths = &served["paths"];
    let made = &paths["/crm/v1/clients"]["post"]["responses"]["201"];
    let secret = schema_of(&served, &made["content"]["application/json"]);
    assert!(
        secret["properties"]["client_secret"].is_object(),
        "{secret}"
    );
    assert!(paths["/crm/v1/messages"]["post"]["responses"]["202"].is_object());
    let gone = &paths["/crm/v1/clients/{id}"]["delete"]["responses"]["204"];
    assert!(gone.is_object() && gone.get("content").is_none(), "{gone}");
    // A client is revoked by its client_id (text); an automation's id is an integer.
    assert_eq!(
        paths["/crm/v1/clients/{id}"]["delete"]["parameters"][0]["schema"]["type"],
        "string"
    );
    assert_eq!(
        paths["/crm/v1/automations/{id}/runs"]["get"]["parameters"][0]["schema"]["type"],
        "integer"
    );
    // The unsubscribe link is a page, for anyone who has it.
    let page = &paths["/crm/v1/unsubscribe/{id}"]["get"];
    assert_eq!(page["security"], serde_json::json!([]));
    assert!(page["responses"]["200"]["content"]["text/html"].is_object());
    // Health answers 503 in its own shape when the database does not.
    let health = &paths["/health"]["get"]["responses"];
    for status in ["200", "503"] {
        let h = schema_of(&served, &health[status]["content"]["application/json"]);
        assert!(h["properties"]["database"].is_object(), "{status}: {h}");
    }
    let failure = schema_of(
        &served,
        &paths["/crm/v1/tenant"]["get"]["responses"]["default"]["content"]["application/json"],
    );
    for key in ["message", "field"] {
        assert!(failure["properties"][key].is_object(), "{key}: {failure}");
    }
    app.stop().await;
}

/// The vendors' request examples, as `crates/dialects/src/examples.json` holds them: every JSON
/// request example of the catalogs, under the path and method the documents use.
fn catalog_examples() -> Vec<Value> {
    let read = |name: &str| -> Vec<Value> {
        serde_json::from_str(
            &std::fs::read_to_string(repo_file(&format!("crates/server/tests/fixtures/{name}")))
                .unwrap(),
        )
        .unwrap()
    };
    let mut out = Vec::new();
    let mut push = |doc: &str, method: &str, path: &str, name: String, value: &Value| {
        out.push(
            serde_json::json!({"doc": doc, "method": method, "path": path, "name": name,
                                     "value": value}),
        );
    };
    for e in read("catalog-000.json") {
        if e["request_example"].is_object() && e["request_content_type"] == "application/json" {
            let (m, p) = (e["method"].as_str().unwrap(), e["path"].as_str().unwrap());
            push(
                "crmtop",
                m,
                p,
                e["title_en"].as_str().unwrap().to_owned(),
                &e["request_example"],
            );
        }
    }
    for e in read("catalog-003.json") {
        let body = if e["request_example_repaired"].is_null() {
            &e["request_example"]
        } else {
            &e["request_example_repaired"]
        };
        if body.is_null() {
            continue;
        }
        let path = e["path"].as_str().unwrap();
        let path = NEXTX
            .aliases
            .iter()
            .find(|(doc, _)| *doc == path)
            .map_or(path, |(_, ours)| ours);
        // The token request: the doc says GET with query parameters; its samples POST the body.
        let method = if path == "/api/auth/token" {
            "POST"
        } else {
            e["method"].as_str().unwrap()
        };
        let name = format!(
            "E{:02} {}",
            e["id"].as_u64().unwrap(),
            e["title"].as_str().unwrap()
        );
        push("nextx", method, path, name, body);
    }
    for e in read("catalog-vbot-omi.json") {
        let (m, p) = (e["method"].as_str().unwrap(), e["path"].as_str().unwrap());
        let title = e["title_en"].as_str().unwrap();
        let seed = &e["seed"].as_str().unwrap()[..3];
        if e["vendor"] == "vbot" && e["request_example"].is_object() {
            push(
                "vbot",
                m,
                p,
                format!("{title} (seed {seed})"),
                &e["request_example"],
            );
        }
        if e["vendor"] == "omi" && e["request_example_synthesized"].is_object() {
            let name = format!("{title} (the doc's fields, as JSON)");
            push("omi", m, p, name, &e["request_example_synthesized"]);
        }
    }
    out
}

/// The documents carry every request example of the vendors' docs on its operation, from
/// `crates/dialects/src/examples.json`, which is kept equal to the catalogs here
/// (`CRM_UPDATE_OPENAPI=1` rewrites it).
#[tokio::test]
async fn documents_carry_the_vendors_request_examples() {
    let examples = catalog_examples();
    let file = repo_file("crates/dialects/src/examples.json");
    let pretty = serde_json::to_string_pretty(&examples).unwrap() + "\n";
    if std::env::var("CRM_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&file, &pretty).unwrap();
    }
    assert!(
        std::fs::read_to_string(&file).unwrap_or_default() == pretty,
        "crates/dialects/src/examples.json differs from the catalogs; run with \
         CRM_UPDATE_OPENAPI=1 and commit it"
    );
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut missing = Vec::new();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for case in [&CRMTOP, &NEXTX, &VBOT, &OMI] {
        let served = get_json(&app, case.url).await;
        for e in examples.iter().filter(|e| e["doc"] == case.name) {
            let method = e["method"].as_str().unwrap().to_lowercase();
            let at = &served["paths"][e["path"].as_str().unwrap()][method.as_str()]["requestBody"]
                ["content"]["application/json"]["examples"][e["name"].as_str().unwrap()];
            if at["value"] == e["value"] {
                *counts.entry(case.name).or_default() += 1;
            } else {
                missing.push(format!(
                    "{} {} {}: {}",
                    case.name, method, e["path"], e["name"]
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "examples not in a document: {missing:#?}"
    );
    // CRMTOP's JSON bodies, NextX's and VBot's examples, OMI's seven tables as JSON.
    assert_eq!(counts["crmtop"], 50, "{counts:?}");
    assert_eq!(counts["nextx"], 30, "{counts:?}");
    assert_eq!(counts["vbot"], 23, "{counts:?}");
    assert_eq!(counts["omi"], 4, "{counts:?}");
    app.stop().await;
}

/// The schema a `{schema: …}` (a content entry) or `{$ref}` names, resolved.
fn schema_of<'a>(doc: &'a Value, at: &'a Value) -> &'a Value {
    let s = if at["schema"].is_object() {
        &at["schema"]
    } else {
        at
    };
    match s["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => s,
    }
}

#[tokio::test]
async fn swagger_ui_is_served_offline() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let page = app
        .http
        .get(format!("{}/swagger/index.html", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Its assets come from the binary, not a CDN.
    assert!(!html.contains("https://"), "{html}");
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        let r = app
            .http
            .get(format!("{}/swagger/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        let text = r.text().await.unwrap();
        if asset == "swagger-initializer.js" {
            // The picker lists CRMTOP's document at CRMTOP's URL, and the others.
            for case in ALL {
                assert!(text.contains(&format!("\"{}\"", case.url)), "{text}");
                assert!(text.contains(&format!("\"{}\"", case.picker)), "{text}");
            }
        } else {
            assert!(text.len() > 10_000, "{asset}: {} bytes", text.len());
        }
    }
    app.stop().await;
}

/// The Swagger UI in a real browser (Debian's headless Chromium, installed by `.ci/run`): every
/// operation of CRMTOP's document is listed on the page once its script has run. A screenshot
/// is kept in `target/test-artifacts/swagger.png`.
#[tokio::test]
async fn swagger_ui_lists_every_operation_in_a_browser() {
    let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(browser) = browser else {
        assert!(
            std::env::var("CRM_TEST_REQUIRE_BROWSER").is_err(),
            "no Chromium, and CRM_TEST_REQUIRE_BROWSER is set"
        );
        eprintln!("skipped: no Chromium here (apt-get install chromium)");
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let chromium = |args: Vec<String>| {
        let browser = browser.to_owned();
        async move {
            let out = tokio::process::Command::new(browser)
                .args(["--headless", "--no-sandbox", "--disable-gpu"])
                .arg("--virtual-time-budget=15000")
                .args(args)
                .kill_on_drop(true)
                .output();
            tokio::time::timeout(std::time::Duration::from_secs(60), out)
                .await
                .expect("Chromium took over a minute")
                .unwrap()
        }
    };
    let shots = repo_file("target/test-artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    for case in ALL {
        let picker = case.picker;
        let served = get_json(&app, case.url).await;
        // Swagger UI opens the document its picker names in `urls.primaryName`.
        let page = format!(
            "{}/swagger/index.html?urls.primaryName={}",
            app.base,
            picker.replace(' ', "%20").replace('/', "%2F")
        );
        let out = chromium(vec!["--dump-dom".into(), page.clone()]).await;
        let dom = String::from_utf8_lossy(&out.stdout);
        assert!(dom.contains(case.title), "{}: {dom}", case.name);
        for (method, path) in operations(&served) {
            assert!(
                dom.contains(&format!("data-path=\"{path}\"")),
                "{}: {method} {path} is not listed",
                case.name
            );
        }
        let shot = shots.join(if case.name == "crmtop" {
            "swagger.png".to_owned()
        } else {
            format!("swagger-{}.png", case.name)
        });
        let out = chromium(vec![
            "--window-size=1280,2000".into(),
            format!("--screenshot={}", shot.display()),
            page,
        ])
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    }
    app.stop().await;
}
