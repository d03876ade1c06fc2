//! VBot's customer API: `POST /api/crm/{entity}/{action}` for entity `customer`, `status`,
//! `type`, `group`, `field` and action `create`, `update`, `updateNo` (`updateNO`), `delete`
//! (seed 004, seed 001). Every body names the account (`vbot_id`) and the project
//! (`project_code`); records are addressed by their business code within the project.
//! Envelope `{status, error, message, data}`. Decisions: `docs/dialects/vbot.md`.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use crm_domain::customer::{
    Channel, Customer, CustomerGroup, CustomerGroupInput, CustomerInput, FieldValue,
};
use crm_domain::search::{Field, Filter, TextField, Value as FilterValue};
use crm_domain::text::fold;
use crm_domain::vocab::{Vocab, VocabData, VocabKind};
use crm_domain::{Actor, DomainError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::body::{parse_ci, BodyError};
use crate::AppState;

/// VBot's error codes (the doc has no table; ours, in `docs/dialects/vbot.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Invalid = 1,
    Unauthorized = 2,
    WrongAccount = 3,
    NotFound = 4,
    Duplicate = 5,
    UnknownReference = 6,
    InUse = 7,
    TooLarge = 8,
    Internal = 9,
    /// Too many requests from this caller: retry after the `Retry-After` header's seconds.
    Throttled = 10,
    /// The server is at capacity or the request took too long: retry later.
    Busy = 11,
    /// The API client's scope does not allow this (read-only, or not the VBot API).
    Forbidden = 12,
}

impl Code {
    fn status(self) -> StatusCode {
        match self {
            Code::Invalid | Code::UnknownReference => StatusCode::BAD_REQUEST,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::WrongAccount | Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Duplicate | Code::InUse => StatusCode::CONFLICT,
            Code::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Code::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// `{status, error, message, data}`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Envelope_{T}")]
pub struct Envelope<T> {
    status: i32,
    error: i32,
    message: String,
    data: Option<T>,
}

pub struct Success<T>(T);

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        Json(Envelope {
            status: 1,
            error: 0,
            message: "success".to_owned(),
            data: Some(self.0),
        })
        .into_response()
    }
}

#[derive(Debug)]
pub struct VbotError {
    code: Code,
    message: String,
}

fn fail(code: Code, message: impl Into<String>) -> VbotError {
    VbotError {
        code,
        message: message.into(),
    }
}

impl IntoResponse for VbotError {
    fn into_response(self) -> Response {
        (
            self.code.status(),
            Json(Envelope::<()> {
                status: 0,
                error: self.code as i32,
                message: self.message,
                data: None,
            }),
        )
            .into_response()
    }
}

/// A failure with HTTP `status` in VBot's envelope (the code that status stands for).
pub fn reject(status: StatusCode, message: String) -> Response {
    let code = match status {
        StatusCode::UNAUTHORIZED => Code::Unauthorized,
        StatusCode::FORBIDDEN => Code::WrongAccount,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::CONFLICT => Code::Duplicate,
        StatusCode::PAYLOAD_TOO_LARGE => Code::TooLarge,
        StatusCode::TOO_MANY_REQUESTS => Code::Throttled,
        s if s.is_server_error() && s != StatusCode::INTERNAL_SERVER_ERROR => Code::Busy,
        s if s.is_server_error() => Code::Internal,
        _ => Code::Invalid,
    };
    let mut r = fail(code, message).into_response();
    *r.status_mut() = status;
    r
}

/// VBot's snake_case name of a domain field.
fn wire(field: &str) -> String {
    match field {
        "name" => "customer_name".to_owned(),
        "code" => "customer_no".to_owned(),
        "phone" => "customer_phones".to_owned(),
        "email" => "customer_email".to_owned(),
        "address" => "customer_address".to_owned(),
        "custom_fields" => "fields".to_owned(),
        other => other.to_owned(),
    }
}

impl From<DomainError> for VbotError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound { entity } => fail(Code::NotFound, format!("{entity} not found")),
            DomainError::Validation { field, message } => {
                fail(Code::Invalid, format!("{}: {message}", wire(&field)))
            }
            DomainError::Conflict { message, .. } => fail(Code::Duplicate, message),
            DomainError::InUse { message, .. } => fail(Code::InUse, message),
            DomainError::Unauthorized => fail(
                Code::Unauthorized,
                "the access token is missing, invalid or expired",
            ),
            DomainError::Forbidden { message } => fail(Code::Forbidden, message),
            DomainError::Throttled { busy, message, .. } => {
                fail(if busy { Code::Busy } else { Code::Throttled }, message)
            }
            DomainError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                fail(Code::Internal, "internal server error")
            }
        }
    }
}

impl From<BodyError> for VbotError {
    fn from(e: BodyError) -> Self {
        if e.status == StatusCode::PAYLOAD_TOO_LARGE {
            fail(Code::TooLarge, e.message)
        } else {
            fail(Code::Invalid, e.message)
        }
    }
}

/// The authenticated caller.
pub struct Caller(pub(super) Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = VbotError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let missing = || {
            fail(
                Code::Unauthorized,
                "an Authorization: Bearer token is required",
            )
        };
        Ok(Caller(crate::caller(parts, state, missing).await?))
    }
}

/// One `fields` item.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct FieldIn {
    #[serde(default)]
    field_key: Option<String>,
    #[serde(default)]
    field_value: Option<Value>,
}

/// Every key any VBot body uses (the endpoints share one vocabulary); all optional here,
/// required ones are checked per action.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "VBotBody")]
pub struct VbotBody {
    vbot_id: Option<String>,
    project_code: Option<String>,
    customer_no: Option<String>,
    customer_name: Option<String>,
    /// One phone, several separated by `,` or `;`, or a list.
    #[serde(default)]
    #[schemars(with = "Option<crate::openapi::Either<String, Vec<String>>>")]
    customer_phones: Option<Value>,
    customer_address: Option<String>,
    customer_email: Option<String>,
    customer_status_code: Option<String>,
    customer_type_code: Option<String>,
    customer_group_name: Option<String>,
    /// The table's `fields`; the examples send `files`, and `fileds` is a common slip.
    #[serde(alias = "files", alias = "fileds")]
    fields: Option<Vec<FieldIn>>,
    customer_no_old: Option<String>,
    customer_no_new: Option<String>,
    customer_name_new: Option<String>,
    status_no: Option<String>,
    status_name: Option<String>,
    status_no_old: Option<String>,
    status_no_new: Option<String>,
    type_no: Option<String>,
    type_name: Option<String>,
    type_no_old: Option<String>,
    type_no_new: Option<String>,
    group_no: Option<String>,
    group_name: Option<String>,
    group_description: Option<String>,
    group_no_old: Option<String>,
    group_no_new: Option<String>,
    field_no: Option<String>,
    field_name: Option<String>,
    field_type: Option<Value>,
    field_description: Option<String>,
    field_no_old: Option<String>,
    field_no_new: Option<String>,
}

fn need(value: &Option<String>, name: &str) -> Result<String, VbotError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| fail(Code::Invalid, format!("{name}: is required")))
}

/// The first present of several spellings.
fn first(values: &[&Option<String>]) -> Option<String> {
    values.iter().find_map(|v| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    })
}

enum Data {
    Code(String),
    Done,
}

/// Any `entity/action`: the documented ones in another letter case, or a VBot not-found.
pub async fn dispatch(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((entity, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, VbotError> {
    run(s, actor, &entity, &action, body).await
}

pub(super) async fn run(
    s: AppState,
    actor: Actor,
    entity: &str,
    action: &str,
    body: Bytes,
) -> Result<Response, VbotError> {
    let s = &s;
    let actor = &actor;
    let b: VbotBody = parse_ci(&body)?;
    let account = need(&b.vbot_id, "vbot_id")?;
    if account != actor.account {
        return Err(fail(
            Code::WrongAccount,
            format!("vbot_id '{account}' is not the account of this access token"),
        ));
    }
    let project = s.crm.project(actor, b.project_code.clone()).await?;
    let action = action.to_ascii_lowercase();
    let data = match (entity, action.as_str()) {
        ("customer", "create") => customer_save(s, actor, project, b, true).await?,
        ("customer", "update") => customer_save(s, actor, project, b, false).await?,
        ("customer", "updateno") => customer_rename(s, actor, &b).await?,
        ("customer", "delete") => customer_delete(s, actor, &b).await?,
        ("status", a) => vocab(s, actor, project, VocabKind::Status, a, &b).await?,
        ("type", a) => vocab(s, actor, project, VocabKind::Type, a, &b).await?,
        ("field", a) => vocab(s, actor, project, VocabKind::Field, a, &b).await?,
        ("group", a) => group(s, actor, project, a, &b).await?,
        _ => {
            return Err(fail(
                Code::NotFound,
                format!("no such endpoint: {entity}/{action}"),
            ))
        }
    };
    Ok(match data {
        Data::Code(code) => Success(code).into_response(),
        Data::Done => Success(true).into_response(),
    })
}

async fn find_customer(s: &AppState, actor: &Actor, code: &str) -> Result<Customer, VbotError> {
    let f = Filter::Eq {
        field: Field::Code,
        value: FilterValue::Text(code.to_owned()),
    };
    s.crm.find::<Customer>(actor, &f).await?.ok_or_else(|| {
        fail(
            Code::NotFound,
            format!("no customer with customer_no '{code}'"),
        )
    })
}

async fn vocab_id(
    s: &AppState,
    actor: &Actor,
    project: Uuid,
    kind: VocabKind,
    code: &str,
    name: &str,
) -> Result<Vocab, VbotError> {
    s.crm
        .find_vocab(actor, project, kind, code)
        .await?
        .ok_or_else(|| {
            fail(
                Code::UnknownReference,
                format!(
                    "{name}: no {} with code '{code}' in the project",
                    kind.name()
                ),
            )
        })
}

/// A group by its name (case and accents ignored), as the customer body refers to it.
async fn group_by_name(
    s: &AppState,
    actor: &Actor,
    name: &str,
) -> Result<CustomerGroup, VbotError> {
    let key = fold(name).split_whitespace().collect::<Vec<_>>().join(" ");
    let filter = Filter::text(Some(TextField::Name), name).unwrap_or(Filter::Nothing);
    let page = s
        .crm
        .search::<CustomerGroup>(actor, &filter, crm_domain::search::PageRequest::of(1, 50))
        .await?;
    page.items
        .into_iter()
        .find(|g| {
            fold(&g.data.name)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                == key
        })
        .ok_or_else(|| {
            fail(
                Code::UnknownReference,
                format!("customer_group_name: no customer group named '{name}'"),
            )
        })
}

fn phones(raw: &Option<Value>) -> Result<Vec<String>, VbotError> {
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_owned()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(fail(
                    Code::Invalid,
                    format!("customer_phones: {other} is not a phone number"),
                )),
            })
            .filter(|p| !matches!(p, Ok(s) if s.is_empty()))
            .collect(),
        Some(other) => Err(fail(
            Code::Invalid,
            format!("customer_phones: expected a list of phone numbers, got {other}"),
        )),
    }
}

async fn customer_save(
    s: &AppState,
    actor: &Actor,
    project: Uuid,
    b: VbotBody,
    creating: bool,
) -> Result<Data, VbotError> {
    let code = need(&b.customer_no, "customer_no")?;
    let name = need(&b.customer_name, "customer_name")?;
    let phone_list = phones(&b.customer_phones)?;
    if phone_list.is_empty() {
        return Err(fail(
            Code::Invalid,
            "customer_phones: is required (at least one phone number)",
        ));
    }
    let status = vocab_id(
        s,
        actor,
        project,
        VocabKind::Status,
        &need(&b.customer_status_code, "customer_status_code")?,
        "customer_status_code",
    )
    .await?;
    let kind = vocab_id(
        s,
        actor,
        project,
        VocabKind::Type,
        &need(&b.customer_type_code, "customer_type_code")?,
        "customer_type_code",
    )
    .await?;
    let group = group_by_name(
        s,
        actor,
        &need(&b.customer_group_name, "customer_group_name")?,
    )
    .await?;
    let mut values: Vec<(Uuid, Vec<FieldValue>)> = Vec::new();
    for (i, f) in b.fields.unwrap_or_default().into_iter().enumerate() {
        let key = need(&f.field_key, &format!("fields[{i}].field_key"))?;
        let def = vocab_id(
            s,
            actor,
            project,
            VocabKind::Field,
            &key,
            &format!("fields[{i}].field_key"),
        )
        .await?;
        let data = match f.field_value {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(v)) => v,
            Some(other) => other.to_string(),
        };
        values.retain(|(id, _)| *id != def.id.0);
        values.push((
            def.id.0,
            vec![FieldValue {
                data,
                kind: None,
                label: None,
            }],
        ));
    }
    let old = if creating {
        None
    } else {
        Some(find_customer(s, actor, &code).await?)
    };
    // The input is built over the stored customer as it is when locked (on update), so
    // concurrent saves of one customer keep what the other wrote.
    let build = |old: Option<&Customer>| -> Result<CustomerInput, VbotError> {
        let mut ext = old
            .as_ref()
            .and_then(|c| c.data.ext.clone())
            .unwrap_or_default();
        let mut parsed = Vec::with_capacity(phone_list.len());
        for (i, p) in phone_list.iter().enumerate() {
            let phone = crm_domain::text::Phone::parse(&format!("customer_phones[{i}]"), p)?;
            // Keep the kind and label a phone already had.
            let known = ext.phones.iter().find(|c| c.value == phone).cloned();
            parsed.push(known.unwrap_or_else(|| Channel::plain(phone)));
        }
        ext.phones = parsed;
        let email = b
            .customer_email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| crm_domain::text::Email::parse("customer_email", e))
            .transpose()?;
        crm_domain::customer::put_primary(&mut ext.emails, email);
        ext.status_id = Some(status.id.0);
        ext.type_id = Some(kind.id.0);
        for (id, v) in values {
            ext.custom.retain(|(f, _)| *f != id);
            ext.custom.push((id, v));
        }
        let base = old.map(|c| c.data.clone());
        Ok(CustomerInput {
            code: Some(code.clone()),
            name: Some(name),
            kind: base.as_ref().map(|d| d.kind),
            tax_code: base.as_ref().and_then(|d| d.tax_code.clone()),
            business_type: base.as_ref().and_then(|d| d.business_type.clone()),
            group_id: Some(group.id),
            phone: Some(phone_list[0].clone()),
            email: b.customer_email.clone().filter(|e| !e.trim().is_empty()),
            website: base.as_ref().and_then(|d| d.website.clone()),
            address: b.customer_address.clone(),
            note: base.as_ref().and_then(|d| d.note.clone()),
            ownership: base
                .as_ref()
                .map(|d| d.ownership.clone())
                .unwrap_or_default(),
            ext: Some(ext),
        })
    };
    match old {
        None => {
            s.crm.create::<Customer>(actor, build(None)?).await?;
        }
        Some(c) => {
            s.crm
                .modify::<Customer, VbotError>(actor, c.id, |stored| build(Some(stored)))
                .await?
        }
    }
    Ok(Data::Code(code))
}

async fn customer_rename(s: &AppState, actor: &Actor, b: &VbotBody) -> Result<Data, VbotError> {
    let old = need(&b.customer_no_old, "customer_no_old")?;
    let new = need(&b.customer_no_new, "customer_no_new")?;
    let c = find_customer(s, actor, &old).await?;
    let code = new.clone();
    s.crm
        .change::<Customer>(actor, c.id, move |d| {
            d.code = Some(code);
            Ok(())
        })
        .await?;
    Ok(Data::Code(new))
}

async fn customer_delete(s: &AppState, actor: &Actor, b: &VbotBody) -> Result<Data, VbotError> {
    let c = find_customer(s, actor, &need(&b.customer_no, "customer_no")?).await?;
    s.crm.delete::<Customer>(actor, c.id).await?;
    Ok(Data::Done)
}

/// The body's keys for one vocabulary kind: code, name, old code, new code.
fn keys(
    kind: VocabKind,
    b: &VbotBody,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    &'static str,
) {
    match kind {
        VocabKind::Status => (
            first(&[&b.status_no]),
            b.status_name.clone(),
            first(&[&b.status_no_old]),
            first(&[&b.status_no_new]),
            "status_no",
        ),
        // The doc's type/delete example sends `status_no`.
        VocabKind::Type => (
            first(&[&b.type_no, &b.status_no]),
            b.type_name.clone(),
            first(&[&b.type_no_old]),
            first(&[&b.type_no_new]),
            "type_no",
        ),
        VocabKind::Field => (
            first(&[&b.field_no]),
            b.field_name.clone(),
            first(&[&b.field_no_old]),
            first(&[&b.field_no_new]),
            "field_no",
        ),
    }
}

async fn vocab(
    s: &AppState,
    actor: &Actor,
    project: Uuid,
    kind: VocabKind,
    action: &str,
    b: &VbotBody,
) -> Result<Data, VbotError> {
    let (code, name, old, new, code_key) = keys(kind, b);
    let name_key = code_key.replace("_no", "_name");
    let field_type = match &b.field_type {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.clone()),
        // Typed `List` in the doc: a list's first entry.
        Some(Value::Array(items)) => items.first().and_then(|v| v.as_str()).map(str::to_owned),
        Some(other) => Some(other.to_string()),
    };
    let existing = |code: String| async move {
        s.crm
            .find_vocab(actor, project, kind, &code)
            .await?
            .ok_or_else(|| {
                fail(
                    Code::NotFound,
                    format!("no {} with code '{code}' in the project", kind.name()),
                )
            })
    };
    match action {
        "create" => {
            let code = need(&code, code_key)?;
            let data = VocabData {
                project_id: project,
                kind,
                code: code.clone(),
                name: need(&name, &name_key)?,
                description: b.field_description.clone(),
                field_type,
            };
            s.crm.create::<Vocab>(actor, data).await?;
            Ok(Data::Code(code))
        }
        "update" => {
            let code = need(&code, code_key)?;
            let entry = existing(code.clone()).await?;
            let data = VocabData {
                name: need(&name, &name_key)?,
                description: b.field_description.clone(),
                field_type: field_type.or(entry.data.field_type.clone()),
                ..entry.data.clone()
            };
            s.crm.update::<Vocab>(actor, entry.id, data).await?;
            Ok(Data::Code(code))
        }
        "updateno" => {
            let old = need(&old, &format!("{code_key}_old"))?;
            let new = need(&new, &format!("{code_key}_new"))?;
            let entry = existing(old).await?;
            let data = VocabData {
                code: new.clone(),
                ..entry.data.clone()
            };
            s.crm.update::<Vocab>(actor, entry.id, data).await?;
            Ok(Data::Code(new))
        }
        "delete" => {
            let entry = existing(need(&code, code_key)?).await?;
            s.crm.delete::<Vocab>(actor, entry.id).await?;
            Ok(Data::Done)
        }
        other => Err(fail(Code::NotFound, format!("no such endpoint: {other}"))),
    }
}

async fn find_group(
    s: &AppState,
    actor: &Actor,
    project: Uuid,
    code: &str,
) -> Result<CustomerGroup, VbotError> {
    let f = Filter::all()
        .and(Some(Filter::id(Field::Project, project)))
        .and(Some(Filter::Eq {
            field: Field::Code,
            value: FilterValue::Text(code.to_owned()),
        }));
    s.crm
        .find::<CustomerGroup>(actor, &f)
        .await?
        .ok_or_else(|| {
            fail(
                Code::NotFound,
                format!("no customer group with code '{code}' in the project"),
            )
        })
}

async fn group(
    s: &AppState,
    actor: &Actor,
    project: Uuid,
    action: &str,
    b: &VbotBody,
) -> Result<Data, VbotError> {
    // The doc's group/delete example sends `status_no`.
    let code = first(&[&b.group_no, &b.status_no]);
    match action {
        "create" => {
            let code = need(&code, "group_no")?;
            let input = CustomerGroupInput {
                name: Some(need(&b.group_name, "group_name")?),
                note: b.group_description.clone(),
                project: Some((project, code.clone())),
            };
            s.crm.create::<CustomerGroup>(actor, input).await?;
            Ok(Data::Code(code))
        }
        "update" => {
            let code = need(&code, "group_no")?;
            let g = find_group(s, actor, project, &code).await?;
            let input = CustomerGroupInput {
                name: Some(need(&b.group_name, "group_name")?),
                note: b.group_description.clone(),
                project: Some((project, code.clone())),
            };
            s.crm.update::<CustomerGroup>(actor, g.id, input).await?;
            Ok(Data::Code(code))
        }
        "updateno" => {
            // The table names the keys `customer_no_old`/`customer_name_new`; the example
            // `group_no_old`/`group_no_new`. Both are read.
            let old = first(&[&b.group_no_old, &b.customer_no_old]);
            let new = first(&[&b.group_no_new, &b.customer_name_new, &b.customer_no_new]);
            let old = need(&old, "group_no_old")?;
            let new = need(&new, "group_no_new")?;
            let g = find_group(s, actor, project, &old).await?;
            let input = CustomerGroupInput {
                name: Some(g.data.name.clone()),
                note: g.data.note.clone(),
                project: Some((project, new.clone())),
            };
            s.crm.update::<CustomerGroup>(actor, g.id, input).await?;
            Ok(Data::Code(new))
        }
        "delete" => {
            let g = find_group(s, actor, project, &need(&code, "group_no")?).await?;
            s.crm.delete::<CustomerGroup>(actor, g.id).await?;
            Ok(Data::Done)
        }
        other => Err(fail(Code::NotFound, format!("no such endpoint: {other}"))),
    }
}
