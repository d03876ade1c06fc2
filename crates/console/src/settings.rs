//! Settings, for admins: the tenant's API clients (made, with the secret shown once, and
//! revoked), its sending channels (e-mail, Zalo ZNS, SMS; secrets never shown) and its webhook
//! endpoints (added, with the signing secret shown once, and removed).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crm_domain::console::{Role, Session};
use crm_domain::messaging::Channel;
use crm_domain::scope::Scope;
use crm_domain::DomainError;
use serde::Deserialize;

use crate::customer::channel_name;
use crate::i18n::{Lang, Texts};
use crate::pages::{checked, session, uuid_of, when, Shell};
use crate::web::{page, problem, Form};
use crate::Console;

/// Longest text of a channel's settings form.
const MAX_PAIRS_TEXT: usize = 8 * 1024;

struct ClientView {
    name: String,
    client_id: String,
    scope: String,
    created: String,
    revoked: Option<String>,
}

struct ChannelView {
    code: &'static str,
    name: &'static str,
    pairs: Vec<(String, String)>,
}

struct WebhookView {
    id: uuid::Uuid,
    url: String,
    events: String,
    disabled: bool,
}

/// A secret made by the last action, shown this once.
struct Revealed {
    what: String,
    id: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    t: &'static Texts,
    shell: Shell,
    clients: Vec<ClientView>,
    channels: Vec<ChannelView>,
    webhooks: Vec<WebhookView>,
    revealed: Option<Revealed>,
}

/// The session of an admin; `Forbidden` for the other roles.
fn admin(s: &Session) -> Result<(), DomainError> {
    if s.login.role == Role::Admin {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            message: format!(
                "the {} role cannot open the settings",
                s.login.role.as_str()
            ),
        })
    }
}

async fn settings_page(
    c: &Console,
    s: &Session,
    t: &'static Texts,
    revealed: Option<Revealed>,
) -> Result<SettingsPage, DomainError> {
    admin(s)?;
    let actor = s.actor();
    let clients = c.auth.api().clients_of(&actor).await?;
    let mut channels = Vec::with_capacity(Channel::ALL.len());
    for ch in Channel::ALL {
        channels.push(ChannelView {
            code: ch.as_str(),
            name: channel_name(t, ch),
            pairs: c.crm.settings(&actor, ch).await?.into_iter().collect(),
        });
    }
    let webhooks = c.crm.webhooks(&actor).await?;
    Ok(SettingsPage {
        t,
        clients: clients
            .into_iter()
            .map(|x| ClientView {
                name: x.name,
                client_id: x.client_id,
                scope: x.scope.to_string(),
                created: when(x.created_at, s),
                revoked: x.revoked_at.map(|at| when(at, s)),
            })
            .collect(),
        channels,
        webhooks: webhooks
            .into_iter()
            .map(|w| WebhookView {
                id: w.id,
                url: w.url,
                events: if w.events.is_empty() {
                    t.all_events.to_owned()
                } else {
                    w.events.join(", ")
                },
                disabled: w.disabled,
            })
            .collect(),
        revealed,
        shell: Shell::of(s, "settings"),
    })
}

async fn show(c: &Console, s: &Session, lang: Lang, revealed: Option<Revealed>) -> Response {
    match settings_page(c, s, lang.t(), revealed).await {
        Ok(p) => page(StatusCode::OK, p.render()),
        Err(e) => problem(lang, e),
    }
}

pub(crate) async fn settings(State(c): State<Console>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    match session(&c, &headers).await {
        Ok(s) => show(&c, &s, lang, None).await,
        Err(r) => r,
    }
}

/// The session of an admin's form whose CSRF token is right.
async fn admin_form(c: &Console, headers: &HeaderMap, csrf: &str) -> Result<Session, Response> {
    let s = checked(c, headers, csrf).await?;
    admin(&s).map_err(|e| problem(Lang::of(headers), e))?;
    Ok(s)
}

#[derive(Deserialize)]
pub(crate) struct ClientForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
}

/// Makes an API client; the page then shows its secret, once.
pub(crate) async fn add_client(
    State(c): State<Console>,
    headers: HeaderMap,
    Form(f): Form<ClientForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match admin_form(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let made = async {
        let scope = match f.scope.trim() {
            "" => Scope::ALL,
            text => Scope::parse(text)?,
        };
        c.auth
            .api()
            .add_client(&s.actor(), Scope::ALL, &f.name, scope)
            .await
    };
    match made.await {
        Ok(issued) => {
            let revealed = Revealed {
                what: issued.client.name,
                id: issued.client.client_id,
                secret: issued.secret.0,
            };
            show(&c, &s, lang, Some(revealed)).await
        }
        Err(e) => problem(lang, e),
    }
}

pub(crate) async fn revoke_client(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    Form(f): Form<crate::pages::CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match admin_form(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match c.auth.api().revoke_client_of(&s.actor(), &client_id).await {
        Ok(()) => Redirect::to("/app/settings").into_response(),
        Err(e) => problem(lang, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct ChannelForm {
    #[serde(default)]
    csrf: String,
    /// `key=value`, one a line; an empty value removes the key.
    #[serde(default)]
    pairs: String,
}

/// Sets `key=value` pairs of a channel, as `crm channel set` does.
pub(crate) async fn set_channel(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(f): Form<ChannelForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match admin_form(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let set = async {
        let channel = Channel::ALL
            .into_iter()
            .find(|ch| ch.as_str() == code)
            .ok_or_else(|| DomainError::not_found("channel"))?;
        if f.pairs.len() > MAX_PAIRS_TEXT {
            return Err(DomainError::validation(
                "pairs",
                format!("at most {MAX_PAIRS_TEXT} bytes"),
            ));
        }
        let mut pairs = Vec::new();
        for line in f.pairs.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (k, v) = line.split_once('=').ok_or_else(|| {
                DomainError::validation("pairs", format!("'{line}' is not key=value"))
            })?;
            pairs.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        if pairs.is_empty() {
            return Err(DomainError::validation(
                "pairs",
                "give at least one key=value",
            ));
        }
        c.crm.set_settings(&s.actor(), channel, &pairs).await
    };
    match set.await {
        Ok(_) => Redirect::to("/app/settings").into_response(),
        Err(e) => problem(lang, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct WebhookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
    /// Comma-separated; empty for every event.
    #[serde(default)]
    events: String,
}

/// Adds a webhook endpoint; the page then shows its signing secret, once.
pub(crate) async fn add_webhook(
    State(c): State<Console>,
    headers: HeaderMap,
    Form(f): Form<WebhookForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match admin_form(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let events: Vec<String> = f
        .events
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    match c.crm.add_webhook(&s.actor(), &f.url, events).await {
        Ok(e) => {
            let revealed = Revealed {
                what: e.url,
                id: e.id.to_string(),
                secret: e.secret,
            };
            show(&c, &s, lang, Some(revealed)).await
        }
        Err(e) => problem(lang, e),
    }
}

pub(crate) async fn delete_webhook(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<crate::pages::CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match admin_form(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let deleted = async {
        let id = uuid_of(&id, "webhook endpoint")?;
        c.crm.delete_webhook(&s.actor(), id).await
    };
    match deleted.await {
        Ok(()) => Redirect::to("/app/settings").into_response(),
        Err(e) => problem(lang, e),
    }
}
