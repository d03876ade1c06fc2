//! OMI writes: `add`, `addMany` (per-item outcomes) and `update`, from the contact body to the
//! core customer.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use crm_domain::customer::{
    Channel, Customer, CustomerData, CustomerExt, CustomerInput, FieldValue, FunnelPlace, LabelKind,
};
use crm_domain::ids::CustomerId;
use crm_domain::search::{Filter, TextField};
use crm_domain::text::{Email, Phone};
use crm_domain::vocab::VocabKind;
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::body::parse_ci;
use crate::AppState;

use super::*;

/// `{data, type, valueType}`: a phone, an e-mail or a dynamic attribute's value.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ValueIn {
    /// A number or other JSON value is taken as its text.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    data: Option<Value>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    value_type: Option<String>,
}

impl ValueIn {
    fn text(&self) -> String {
        match &self.data {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(other) => other.to_string(),
        }
    }
}

/// A place in a funnel: its id, the 0-based level-1 and level-2 stage positions.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct PlaceIn {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    index: Option<i32>,
    #[serde(default)]
    second_level_index: Option<i32>,
}

/// A dynamic attribute's values (`fieldCode` as `layout/list` names it).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct DynamicIn {
    #[serde(default)]
    field_code: Option<String>,
    #[serde(default)]
    values: Vec<ValueIn>,
}

/// The contact body of add, addMany items and update (`fullName` is required on add; `_id`
/// or `refId` names the contact to update).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ContactIn {
    #[serde(default, rename = "_id")]
    id: Option<String>,
    /// The partner's id: a string or a number.
    #[serde(default)]
    #[schemars(with = "Option<crate::openapi::Either<String, i64>>")]
    ref_id: Option<Value>,
    #[serde(default)]
    ref_code: Option<String>,
    #[serde(default)]
    ref_type: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    business: Option<Vec<String>>,
    #[serde(default)]
    categories: Option<Vec<String>>,
    #[serde(default)]
    tag_removes: Option<Vec<String>>,
    #[serde(default)]
    business_removes: Option<Vec<String>>,
    #[serde(default)]
    categories_removes: Option<Vec<String>>,
    #[serde(default)]
    user_owner_email: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    gender: Option<String>,
    #[serde(default)]
    passport: Option<String>,
    /// The add doc spells it `jobTitlte`.
    #[serde(default, alias = "jobTitlte")]
    job_title: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    phones: Option<Vec<ValueIn>>,
    #[serde(default)]
    emails: Option<Vec<ValueIn>>,
    #[serde(default)]
    filter_contacts: Option<Vec<PlaceIn>>,
    #[serde(default)]
    other_dynamic_updates: Option<Vec<DynamicIn>>,
}

pub(super) fn ref_id(raw: &Option<Value>) -> Result<Option<String>, OmiError> {
    match raw {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(bad("refId", format!("expected a string, got {other}"))),
    }
}

/// Applies the body to a customer's data: present fields replace, absent ones stay; labels
/// are added (and removed with `…Removes`).
/// The dynamic attribute definitions a contact body refers to (none when it names none).
async fn fields_for(
    s: &AppState,
    actor: &Actor,
    c: &ContactIn,
) -> Result<Vec<crm_domain::vocab::Vocab>, OmiError> {
    Ok(match c.other_dynamic_updates {
        Some(_) => s.crm.vocab_of(actor, VocabKind::Field).await?,
        None => Vec::new(),
    })
}

/// The customer input a contact body makes, over the stored customer when updating.
fn apply(
    fields: &[crm_domain::vocab::Vocab],
    c: ContactIn,
    base: Option<CustomerData>,
) -> Result<CustomerInput, OmiError> {
    let creating = base.is_none();
    let base = base.unwrap_or(CustomerData {
        code: None,
        name: String::new(),
        kind: crm_domain::customer::KIND_INDIVIDUAL,
        tax_code: None,
        business_type: None,
        group_id: None,
        phone: None,
        email: None,
        website: None,
        address: None,
        note: None,
        ownership: Default::default(),
        ext: None,
    });
    let mut ext: CustomerExt = base.ext.clone().unwrap_or_default();
    if let Some(phones) = &c.phones {
        let mut out = Vec::new();
        for (i, p) in phones.iter().enumerate() {
            let text = p.text();
            if text.is_empty() {
                continue;
            }
            out.push(Channel {
                value: Phone::parse(&format!("phones[{i}].data"), &text)?,
                kind: p.kind.clone(),
                label: p.value_type.clone(),
            });
        }
        ext.phones = out;
    }
    if let Some(emails) = &c.emails {
        let mut out = Vec::new();
        for (i, e) in emails.iter().enumerate() {
            let text = e.text();
            if text.is_empty() {
                continue;
            }
            out.push(Channel {
                value: Email::parse(&format!("emails[{i}].data"), &text)?,
                kind: e.kind.clone(),
                label: e.value_type.clone(),
            });
        }
        ext.emails = out;
    }
    for (kind, add, remove) in [
        (LabelKind::Tag, &c.tags, &c.tag_removes),
        (LabelKind::Business, &c.business, &c.business_removes),
        (LabelKind::Category, &c.categories, &c.categories_removes),
    ] {
        for name in add.iter().flatten() {
            ext.add_label(kind, name);
        }
        for name in remove.iter().flatten() {
            ext.remove_label(kind, name);
        }
    }
    if let Some(v) = &c.user_owner_email {
        ext.owner_email = match v.trim() {
            "" => None,
            e => Some(Email::parse("userOwnerEmail", e)?),
        };
    }
    for (slot, value) in [
        (&mut ext.avatar_url, &c.avatar_url),
        (&mut ext.gender, &c.gender),
        (&mut ext.passport, &c.passport),
        (&mut ext.job_title, &c.job_title),
        (&mut ext.ref_code, &c.ref_code),
        (&mut ext.ref_type, &c.ref_type),
    ] {
        if let Some(v) = value {
            *slot = Some(v.clone()).filter(|v| !v.trim().is_empty());
        }
    }
    if creating {
        ext.ref_id = ref_id(&c.ref_id)?;
    }
    if let Some(places) = &c.filter_contacts {
        let mut out = Vec::new();
        for (i, p) in places.iter().enumerate() {
            let id =
                p.id.as_deref()
                    .and_then(|id| id.trim().parse::<Uuid>().ok())
                    .ok_or_else(|| bad(&format!("filterContacts[{i}].id"), "is not a funnel id"))?;
            out.push(FunnelPlace {
                funnel_id: id,
                index: p.index.unwrap_or(0),
                second_index: p.second_level_index,
            });
        }
        ext.funnels = out;
    }
    if let Some(updates) = &c.other_dynamic_updates {
        for (i, u) in updates.iter().enumerate() {
            let code = u.field_code.as_deref().map(str::trim).unwrap_or_default();
            let def = fields.iter().find(|f| f.data.code == code).ok_or_else(|| {
                bad(
                    &format!("otherDynamicUpdates[{i}].fieldCode"),
                    format!("no dynamic attribute '{code}' (see layout/list)"),
                )
            })?;
            let values: Vec<FieldValue> = u
                .values
                .iter()
                .map(|v| FieldValue {
                    data: v.text(),
                    kind: v.kind.clone(),
                    label: v.value_type.clone(),
                })
                .filter(|v| !v.data.is_empty())
                .collect();
            ext.custom.retain(|(f, _)| *f != def.id.0);
            if !values.is_empty() {
                ext.custom.push((def.id.0, values));
            }
        }
    }
    let name = match &c.full_name {
        Some(n) => Some(n.clone()),
        None => Some(base.name.clone()).filter(|n| !n.is_empty()),
    };
    let address = match &c.address {
        Some(a) => Some(a.clone()),
        None => base.address.clone(),
    };
    let note = match &c.note {
        Some(n) => Some(n.clone()),
        None => base.note.clone(),
    };
    Ok(CustomerInput {
        code: base.code.clone(),
        name,
        kind: Some(base.kind),
        tax_code: base.tax_code.clone(),
        business_type: base.business_type.clone(),
        group_id: base.group_id,
        phone: ext.phones.first().map(|p| p.value.as_str().to_owned()),
        email: ext.emails.first().map(|e| e.value.as_str().to_owned()),
        website: base.website.clone(),
        address,
        note,
        ownership: base.ownership.clone(),
        ext: Some(ext),
    })
}

pub(super) async fn add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Payload<bool>, OmiError> {
    let c: ContactIn = parse_ci(&body)?;
    let fields = fields_for(&s, &actor, &c).await?;
    let input = apply(&fields, c, None)?;
    // One item through the batch path: the same partner-id rule, under the same lock.
    let mut results = s.crm.create_customers(&actor, vec![input]).await?;
    results
        .pop()
        .unwrap_or(Err(DomainError::not_found("customer")))?;
    Ok(Payload(true))
}

/// `addMany`'s body: 1 to 1,000 contacts.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(super) struct ManyIn {
    /// Each item is parsed on its own, so that one bad item fails alone.
    #[serde(default)]
    #[schemars(with = "Vec<ContactIn>")]
    data: Vec<Value>,
}

/// `addMany`'s answer: how many were stored, and each item's outcome.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct ManyOut {
    /// Every item was stored.
    success: bool,
    created: usize,
    failed: usize,
    /// Item index → message, for the items that failed.
    error: BTreeMap<String, String>,
    items: Vec<ItemOutcome>,
}

/// One item's outcome in `addMany`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ItemOutcome {
    index: usize,
    #[serde(rename = "refId")]
    ref_id: Option<String>,
    /// `created` or `error`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl ItemOutcome {
    fn failed(&mut self, e: OmiError) {
        self.status = "error";
        self.error = Some(e.error);
        self.message = Some(e.message);
    }
}

pub(super) async fn add_many(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Payload<ManyOut>, OmiError> {
    let many: ManyIn = parse_ci(&body)?;
    if many.data.is_empty() {
        return Err(bad("data", "must hold at least one contact"));
    }
    if many.data.len() > MAX_BATCH {
        return Err(bad(
            "data",
            format!("at most {MAX_BATCH} contacts per call"),
        ));
    }
    let parsed: Vec<(Option<String>, Result<ContactIn, OmiError>)> = many
        .data
        .iter()
        .map(|raw| {
            let rid = raw.get("refId").and_then(|r| {
                r.as_str()
                    .map(str::to_owned)
                    .or_else(|| r.as_i64().map(|n| n.to_string()))
            });
            (
                rid,
                parse_ci(&Bytes::from(raw.to_string())).map_err(OmiError::from),
            )
        })
        .collect();
    // The dynamic attribute definitions, read once for the whole batch when an item needs them.
    let fields = match parsed.iter().find_map(|(_, c)| {
        c.as_ref()
            .ok()
            .filter(|c| c.other_dynamic_updates.is_some())
    }) {
        Some(c) => fields_for(&s, &actor, c).await?,
        None => Vec::new(),
    };
    let mut outcomes: Vec<ItemOutcome> = Vec::with_capacity(parsed.len());
    let mut ready = Vec::new();
    for (index, (rid, contact)) in parsed.into_iter().enumerate() {
        outcomes.push(ItemOutcome {
            index,
            ref_id: rid,
            status: "error",
            public_id: None,
            error: None,
            message: None,
        });
        let mapped = contact.and_then(|c| {
            let rid = ref_id(&c.ref_id)?;
            Ok((rid, apply(&fields, c, None)?))
        });
        match mapped {
            Ok((rid, input)) => {
                outcomes[index].ref_id = rid;
                ready.push((index, input));
            }
            Err(e) => outcomes[index].failed(e),
        }
    }
    // Checks, the partner-id rule and the inserts are one unit of work in the domain; each
    // item gets its own outcome.
    let (slots, inputs): (Vec<usize>, Vec<_>) = ready.into_iter().unzip();
    let results = s.crm.create_customers(&actor, inputs).await?;
    for (slot, result) in slots.into_iter().zip(results) {
        match result {
            Ok(id) => {
                outcomes[slot].status = "created";
                outcomes[slot].public_id = Some(id.0);
            }
            Err(e) => outcomes[slot].failed(e.into()),
        }
    }
    let created = outcomes.iter().filter(|o| o.status == "created").count();
    let errors: BTreeMap<String, String> = outcomes
        .iter()
        .filter(|o| o.status == "error")
        .map(|o| (o.index.to_string(), o.message.clone().unwrap_or_default()))
        .collect();
    Ok(Payload(ManyOut {
        success: errors.is_empty(),
        created,
        failed: outcomes.len() - created,
        error: errors,
        items: outcomes,
    }))
}

/// A contact by OMI id (`_id`, `public_id`) or, failing that, by the partner's `refId`.
pub(super) async fn locate(
    s: &AppState,
    actor: &Actor,
    id: Option<&str>,
    rid: Option<&str>,
) -> Result<Customer, OmiError> {
    if let Some(id) = id.map(str::trim).filter(|i| !i.is_empty()) {
        if let Ok(uuid) = id.parse::<Uuid>() {
            return Ok(s.crm.get::<Customer>(actor, CustomerId(uuid)).await?);
        }
        return Err(fail(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no contact with id '{id}'"),
        ));
    }
    let Some(rid) = rid else {
        return Err(bad("refId", "refId or _id is required"));
    };
    s.crm
        .find::<Customer>(actor, &Filter::whole(TextField::RefId, rid))
        .await?
        .ok_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no contact with refId '{rid}'"),
            )
        })
}

pub(super) async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Payload<bool>, OmiError> {
    let c: ContactIn = parse_ci(&body)?;
    let rid = ref_id(&c.ref_id)?;
    let found = locate(&s, &actor, c.id.as_deref(), rid.as_deref()).await?;
    let fields = fields_for(&s, &actor, &c).await?;
    // Merged over the customer as it is when locked: concurrent updates keep each other's.
    s.crm
        .modify::<Customer, OmiError>(&actor, found.id, |stored| {
            apply(&fields, c, Some(stored.data.clone()))
        })
        .await?;
    Ok(Payload(true))
}
