//! A customer's page: its details, the records related to it, its activities (a note added),
//! the messages sent to it and its change history.

use crate::i18n::{Lang, Texts};
use crate::pages::{checked, meta, owners, session, uuid_of, when, Shell};
use crate::web::{page, problem, Form};
use crate::Console;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crm_domain::activity::{Activity, ActivityData};
use crm_domain::common::{Link, RecordKind};
use crm_domain::console::Session;
use crm_domain::customer::Customer;
use crm_domain::ids::CustomerId;
use crm_domain::search::{Field, Filter, PageRequest};
use crm_domain::service::Managed;
use crm_domain::DomainError;
use serde::Deserialize;

/// Longest note, in characters.
const MAX_NOTE: usize = 4000;

/// A customer as the list and the page show it.
struct CustomerView {
    id: uuid::Uuid,
    code: String,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    group: Option<String>,
    owner: Option<String>,
    owner_id: Option<uuid::Uuid>,
    created: String,
}

impl CustomerView {
    fn of(c: Customer, s: &Session) -> Self {
        let d = c.data;
        Self {
            id: c.id.0,
            code: d.code.unwrap_or_default(),
            name: d.name,
            phone: d.phone.map(|p| p.as_str().to_owned()),
            email: d.email.map(|e| e.as_str().to_owned()),
            address: d.address,
            group: c.group_name,
            owner: d.ownership.owner_name,
            owner_id: d.ownership.owner_id,
            created: when(c.audit.created_at, s),
        }
    }
}

/// An activity as a customer's page lists it.
struct ActivityView {
    subject: String,
    description: Option<String>,
    kind: &'static str,
    when: String,
    by: String,
}

/// A line of one of a customer's related lists: a link (when the record has a page), a title
/// and what else is worth a glance.
pub(crate) struct Related {
    pub(crate) href: Option<String>,
    pub(crate) title: String,
    pub(crate) meta: String,
}

/// A change of the customer's history.
struct ChangeView {
    at: String,
    by: String,
    action: String,
    fields: String,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    t: &'static Texts,
    shell: Shell,
    c: CustomerView,
    contacts: Vec<Related>,
    deals: Vec<Related>,
    orders: Vec<Related>,
    tickets: Vec<Related>,
    messages: Vec<Related>,
    activities: Vec<ActivityView>,
    history: Vec<ChangeView>,
    may_add_note: bool,
    /// The staff it may be assigned to, for a role that may change customers.
    owners: Option<Vec<(uuid::Uuid, String)>>,
}

pub(crate) fn kind_name(t: &Texts, kind: i32) -> &'static str {
    match kind {
        1..=5 => t.kinds[(kind - 1) as usize],
        _ => t.kinds[5],
    }
}

/// Records of each related kind a customer's page lists (the newest).
const RELATED: u32 = 10;

/// The newest records of kind `E` whose `field` is the customer.
async fn of_customer<E: Managed>(
    c: &Console,
    actor: &crm_domain::Actor,
    field: Field,
    id: uuid::Uuid,
) -> Result<Vec<E>, DomainError> {
    let page = PageRequest::new(1, RELATED)?;
    Ok(c.crm
        .search::<E>(actor, &Filter::id(field, id), page)
        .await?
        .items)
}

/// The messages sent to the customer's phone and e-mail, newest first.
async fn messages_to(
    c: &Console,
    actor: &crm_domain::Actor,
    customer: &Customer,
) -> Result<Vec<(crm_domain::messaging::Message, Option<String>)>, DomainError> {
    let mut recipients = Vec::new();
    if let Some(p) = &customer.data.phone {
        if let Ok(r) = crm_domain::messaging::provider_phone("phone", p.as_str()) {
            recipients.push(r);
        }
    }
    if let Some(e) = &customer.data.email {
        recipients.push(e.as_str().to_lowercase());
    }
    let mut out = Vec::new();
    for r in recipients {
        let filter = crm_domain::messaging::MessageFilter {
            recipient: Some(r),
            ..Default::default()
        };
        out.extend(
            c.crm
                .messages(actor, &filter, PageRequest::new(1, RELATED)?)
                .await?,
        );
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.created_at));
    out.truncate(RELATED as usize);
    // Named by their campaign where a campaign sent them.
    let mut keys: Vec<String> = out.iter().map(|m| m.campaign.clone()).collect();
    keys.sort();
    keys.dedup();
    let names: std::collections::HashMap<String, String> = c
        .crm
        .blasts(actor, &keys)
        .await?
        .into_iter()
        .map(|v| (v.blast.campaign, v.blast.name))
        .collect();
    Ok(out
        .into_iter()
        .map(|m| {
            let name = names.get(&m.campaign).cloned();
            (m, name)
        })
        .collect())
}

async fn customer_page(
    c: &Console,
    s: &Session,
    t: &'static Texts,
    id: uuid::Uuid,
) -> Result<CustomerPage, DomainError> {
    use crm_domain::contact::Contact;
    use crm_domain::opportunity::Opportunity;
    use crm_domain::sales::Order;
    use crm_domain::ticket::Ticket;

    let actor = s.actor();
    let customer = c.crm.get::<Customer>(&actor, CustomerId(id)).await?;
    let contacts = of_customer::<Contact>(c, &actor, Field::Customer, id).await?;
    let deals = of_customer::<Opportunity>(c, &actor, Field::Customer, id).await?;
    let orders = of_customer::<Order>(c, &actor, Field::Customer, id).await?;
    let tickets = of_customer::<Ticket>(c, &actor, Field::Customer, id).await?;
    let activities = c
        .crm
        .search::<Activity>(
            &actor,
            &Filter::id(Field::Primary, id),
            PageRequest::new(1, 50)?,
        )
        .await?
        .items;
    let messages = messages_to(c, &actor, &customer).await?;
    let history = c
        .crm
        .audit_trail(
            &actor,
            crm_domain::audit::AuditQuery {
                record: Some(id),
                limit: 20,
                ..Default::default()
            },
        )
        .await?;
    Ok(CustomerPage {
        t,
        may_add_note: s.login.role.may_change("activities"),
        owners: if s.login.role.may_change("customers") {
            Some(owners(c, s, t).await?)
        } else {
            None
        },
        contacts: contacts
            .into_iter()
            .map(|x| Related {
                href: None,
                meta: meta(&[
                    x.data.position.as_deref(),
                    x.data.phone.as_ref().map(|p| p.as_str()),
                    x.data.email.as_ref().map(|e| e.as_str()),
                    x.data.is_primary.then_some("★"),
                ]),
                title: x.data.full_name,
            })
            .collect(),
        deals: deals
            .into_iter()
            .map(|x| Related {
                href: None,
                meta: meta(&[
                    Some(&x.data.amount.vnd()),
                    x.data
                        .stage
                        .filter(|st| (1..=6).contains(st))
                        .map(|st| t.stages[(st - 1) as usize]),
                ]),
                title: x.data.name,
            })
            .collect(),
        orders: orders
            .into_iter()
            .map(|o| Related {
                href: Some(format!("/app/orders/{}", o.id.0)),
                meta: meta(&[
                    o.data.order_date.map(|d| when(d, s)).as_deref(),
                    Some(&o.data.total_amount.vnd()),
                    Some(match &o.data.approval {
                        None => t.pending,
                        Some(a) if a.approved => t.approved,
                        Some(_) => t.rejected,
                    }),
                ]),
                title: o.data.code.unwrap_or_default(),
            })
            .collect(),
        tickets: tickets
            .into_iter()
            .map(|x| Related {
                href: Some(format!("/app/tickets/{}", x.id.0)),
                meta: meta(&[
                    x.data.code.as_deref(),
                    Some(ticket_status(t, x.data.status)),
                    Some(&when(x.audit.created_at, s)),
                ]),
                title: x.data.subject,
            })
            .collect(),
        messages: messages
            .into_iter()
            .map(|(m, campaign)| Related {
                href: None,
                meta: meta(&[
                    Some(&when(m.created_at, s)),
                    Some(send_state(t, m.state)),
                    m.reason.as_deref(),
                ]),
                title: format!(
                    "{} · {}",
                    channel_name(t, m.channel),
                    campaign.unwrap_or(m.campaign)
                ),
            })
            .collect(),
        activities: activities
            .into_iter()
            .map(|a| ActivityView {
                kind: kind_name(t, a.data.kind),
                when: when(a.audit.created_at, s),
                by: a.audit.created_by_name.unwrap_or_default(),
                subject: a.data.subject,
                description: a.data.description,
            })
            .collect(),
        history: history
            .into_iter()
            .map(|e| ChangeView {
                at: when(e.at, s),
                by: e.client_name.unwrap_or_default(),
                fields: e
                    .changes
                    .as_ref()
                    .and_then(|c| c.as_object())
                    .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
                action: action_word(t, &e.action),
            })
            .collect(),
        c: CustomerView::of(customer, s),
        shell: Shell::of(s, "customers"),
    })
}

/// A ticket status (CRMTOP's 1-4) in words.
pub(crate) fn ticket_status(t: &Texts, status: i32) -> &'static str {
    match status {
        1..=4 => t.ticket_statuses[(status - 1) as usize],
        _ => "—",
    }
}

/// A message's state in words.
fn send_state(t: &Texts, state: crm_domain::messaging::SendState) -> &'static str {
    use crm_domain::messaging::SendState;
    match state {
        SendState::Queued => t.waiting,
        SendState::Sent => t.sent,
        SendState::Failed => t.failed,
        SendState::Skipped => t.skipped,
    }
}

/// An audit action in words (created, updated, deleted; others as recorded).
fn action_word(t: &Texts, action: &str) -> String {
    match action {
        "created" => t.actions[0].to_owned(),
        "updated" => t.actions[1].to_owned(),
        "deleted" => t.actions[2].to_owned(),
        other => other.to_owned(),
    }
}

/// A channel's name.
pub(crate) fn channel_name(t: &Texts, c: crm_domain::messaging::Channel) -> &'static str {
    match c {
        crm_domain::messaging::Channel::Email => t.email,
        crm_domain::messaging::Channel::Zns => "Zalo ZNS",
        crm_domain::messaging::Channel::Sms => "SMS",
    }
}

pub(crate) async fn customer(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match uuid_of(&id, "customer") {
        Ok(id) => id,
        Err(e) => return problem(lang, e),
    };
    match customer_page(&c, &s, lang.t(), id).await {
        Ok(p) => page(StatusCode::OK, p.render()),
        Err(e) => problem(lang, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct OwnerForm {
    #[serde(default)]
    csrf: String,
    /// A staff login's actor id; empty for nobody.
    #[serde(default)]
    owner: String,
}

/// Puts a customer in the charge of one of the tenant's staff (or of nobody).
pub(crate) async fn assign(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<OwnerForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match checked(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = s.may_change("customers") {
        return problem(lang, e);
    }
    let id = match uuid_of(&id, "customer") {
        Ok(id) => id,
        Err(e) => return problem(lang, e),
    };
    let owner = match f.owner.trim() {
        "" => None,
        raw => {
            // An id that does not read as one is nobody on the staff either.
            let actor = uuid::Uuid::parse_str(raw).unwrap_or(uuid::Uuid::nil());
            match c.auth.staff_member(s.tenant.id, actor, "owner").await {
                Ok(l) => Some((l.actor_id, l.display_name)),
                Err(e) => return problem(lang, e),
            }
        }
    };
    let changed = c
        .crm
        .change::<Customer>(&s.actor(), CustomerId(id), |d| {
            d.ownership.owner_id = owner.as_ref().map(|o| o.0);
            d.ownership.owner_name = owner.map(|o| o.1);
            Ok(())
        })
        .await;
    match changed {
        Ok(()) => Redirect::to(&format!("/app/customers/{id}")).into_response(),
        Err(e) => problem(lang, e),
    }
}

#[derive(Deserialize)]
pub(crate) struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

pub(crate) async fn add_note(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match checked(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = s.may_change("activities") {
        return problem(lang, e);
    }
    let id = match uuid_of(&id, "customer") {
        Ok(id) => id,
        Err(e) => return problem(lang, e),
    };
    let text = f.text.trim();
    if text.is_empty() || text.chars().count() > MAX_NOTE {
        return problem(
            lang,
            DomainError::validation("text", format!("a note has 1 to {MAX_NOTE} characters")),
        );
    }
    let subject: String = text
        .lines()
        .next()
        .unwrap_or(text)
        .chars()
        .take(200)
        .collect();
    let note = ActivityData {
        kind: 5,
        subject,
        description: Some(text.to_owned()),
        status: crm_domain::activity::STATUS_DONE,
        primary: Some(Link {
            kind: RecordKind::Customer,
            id,
            name: None,
        }),
        ..ActivityData::default()
    };
    match c.crm.create::<Activity>(&s.actor(), note).await {
        Ok(_) => Redirect::to(&format!("/app/customers/{id}")).into_response(),
        Err(e) => problem(lang, e),
    }
}
