//! OMI reads: `search` with its filters and paging, `get`, the attribute layout, and funnels
//! (listed, and defined through our `filterContact/add`).

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use crm_domain::customer::{Customer, CustomerExt, LabelKind};
use crm_domain::search::{Field, Filter, PageRequest, TextField};
use crm_domain::vocab::{Stage, Vocab, VocabKind};
use crm_domain::Actor;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::body::parse_ci;
use crate::AppState;

use super::write::locate;
use super::*;

#[derive(Debug, Deserialize)]
pub(super) struct PageIn {
    page: Option<String>,
    size: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RangeIn {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchIn {
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    business: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    ranges: Vec<RangeIn>,
    #[serde(default)]
    include_ids: Vec<String>,
    #[serde(default)]
    exclude_ids: Vec<String>,
}

fn ms(at: i64, field: &str) -> Result<DateTime<Utc>, OmiError> {
    DateTime::from_timestamp_millis(at)
        .ok_or_else(|| bad(field, format!("{at} is not an epoch-millisecond time")))
}

/// Ids that are not ours match no contact (include) or exclude nothing.
pub(super) fn ids(raw: &[String]) -> Vec<Uuid> {
    raw.iter()
        .filter_map(|i| i.trim().parse::<Uuid>().ok())
        .collect()
}

pub(super) async fn search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(p): Query<PageIn>,
    body: Bytes,
) -> Result<Payload<Value>, OmiError> {
    let number = match p.page.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => 1,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("page", "must be a whole number from 1"))?,
    };
    let size = match p.size.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => 50,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_SIZE).contains(n))
            .ok_or_else(|| bad("size", format!("must be between 1 and {MAX_SIZE}")))?,
    };
    let q: SearchIn = parse_ci(&body)?;
    let mut filter = Filter::all().and(q.keyword.as_deref().and_then(|k| Filter::text(None, k)));
    for (field, names) in [
        (TextField::Tag, &q.tags),
        (TextField::Business, &q.business),
        (TextField::Category, &q.categories),
    ] {
        filter = filter.and(Filter::any_whole(field, names.iter().map(String::as_str)));
    }
    if q.ranges.len() > MAX_RANGES {
        return Err(bad(
            "ranges",
            format!("at most {MAX_RANGES} ranges may be given"),
        ));
    }
    for (i, r) in q.ranges.iter().enumerate() {
        let field = match r.field.as_deref().map(str::trim) {
            Some("created_date") | None => Field::CreatedAt,
            Some("last_updated_date") => Field::UpdatedAt,
            Some(other) => {
                return Err(bad(
                    &format!("ranges[{i}].field"),
                    format!("'{other}' is not created_date or last_updated_date"),
                ))
            }
        };
        let from = r.from.map(|v| ms(v, "ranges.from")).transpose()?;
        let to = r.to.map(|v| ms(v, "ranges.to")).transpose()?;
        filter = filter.and(Some(Filter::Range { field, from, to }));
    }
    if !q.include_ids.is_empty() {
        filter = filter.and(Some(Filter::Ids {
            ids: ids(&q.include_ids),
            negate: false,
        }));
    }
    if !q.exclude_ids.is_empty() {
        filter = filter.and(Some(Filter::Ids {
            ids: ids(&q.exclude_ids),
            negate: true,
        }));
    }
    let page = PageRequest::new(number, size)?;
    let found = s.crm.search::<Customer>(&actor, &filter, page).await?;
    let ctx = Context::load(&s, &actor).await?;
    let total_pages = found.total_pages();
    let current = u64::from(number);
    Ok(Payload(json!({
        "next_page": if current < total_pages { current + 1 } else { current },
        "page_number": current,
        "has_previous": current > 1,
        "has_next": current < total_pages,
        "total_pages": total_pages,
        "previous_page": if current > 1 { current - 1 } else { current },
        "total_items": found.total,
        "page_size": size,
        "items": found.items.iter().map(|c| ctx.item(c)).collect::<Vec<_>>(),
    })))
}

/// What items are rendered with: the tenant's dynamic attribute definitions.
struct Context {
    fields: Vec<Vocab>,
}

impl Context {
    async fn load(s: &AppState, actor: &Actor) -> Result<Self, OmiError> {
        Ok(Self {
            fields: s.crm.vocab_of(actor, VocabKind::Field).await?,
        })
    }

    /// A contact in OMI's item shape: `attribute_structure` holds every attribute value.
    fn item(&self, c: &Customer) -> Value {
        let d = &c.data;
        let default = CustomerExt::default();
        let e = d.ext.as_ref().unwrap_or(&default);
        let one = |code: &str, kind: &str, value: Option<&str>| {
            json!({
                "identify": false,
                "field_code": code,
                "field_type": kind,
                "value": value.map(|v| vec![json!({"display_value": v, "data_type": null, "value_type": null})]).unwrap_or_default(),
            })
        };
        let channels =
            |code: &str, kind: &str, list: Vec<(String, Option<String>, Option<String>)>| {
                json!({
                    "identify": false,
                    "field_code": code,
                    "field_type": kind,
                    "value": list.into_iter().map(|(v, t, l)| json!({"display_value": v, "data_type": t, "value_type": l})).collect::<Vec<_>>(),
                })
            };
        let mut attributes = vec![
            one("full_name", "single_text", Some(&d.name)),
            one("job_title", "single_text", e.job_title.as_deref()),
            one("gender", "radio", e.gender.as_deref()),
            channels(
                "phone_number",
                "phone",
                e.phones
                    .iter()
                    .map(|p| (p.value.as_str().to_owned(), p.kind.clone(), p.label.clone()))
                    .collect(),
            ),
            channels(
                "mail",
                "email",
                e.emails
                    .iter()
                    .map(|m| (m.value.as_str().to_owned(), m.kind.clone(), m.label.clone()))
                    .collect(),
            ),
            one("address", "single_text", d.address.as_deref()),
            one("passport", "single_text", e.passport.as_deref()),
            one("note", "multi_text", d.note.as_deref()),
        ];
        for (field, values) in &e.custom {
            if let Some(def) = self.fields.iter().find(|f| f.id.0 == *field) {
                attributes.push(channels(
                    &def.data.code,
                    def.data.field_type.as_deref().unwrap_or("single_text"),
                    values
                        .iter()
                        .map(|v| (v.data.clone(), v.kind.clone(), v.label.clone()))
                        .collect(),
                ));
            }
        }
        let labels = |kind: LabelKind| {
            e.labels
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| n.clone())
                .collect::<Vec<_>>()
        };
        json!({
            "public_id": c.id.0,
            "create_by": {"name": c.audit.created_by_name},
            "last_update_by": {"name": c.audit.updated_by_name},
            "created_date": c.audit.created_at.timestamp_millis(),
            "last_updated_date": c.audit.updated_at.timestamp_millis(),
            "contact_type": "contact",
            "tags_view": null,
            "is_deleted": false,
            "tags": labels(LabelKind::Tag),
            "attribute_structure": attributes,
            "business": labels(LabelKind::Business),
            "categories": labels(LabelKind::Category),
            "ref_id": e.ref_id,
            "ref_code": e.ref_code,
            "ref_type": e.ref_type,
            "avatar_url": e.avatar_url,
            "user_owner_email": e.owner_email.as_ref().map(|m| m.as_str()),
            "code": d.code,
            "filter_contacts": e.funnels.iter().map(|f| json!({"id": f.funnel_id, "index": f.index, "secondLevelIndex": f.second_index})).collect::<Vec<_>>(),
        })
    }
}

pub(super) async fn get_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Payload<Value>, OmiError> {
    let c = match id.trim().parse::<Uuid>() {
        Ok(_) => locate(&s, &actor, Some(&id), None).await?,
        // Not an OMI id: the partner's refId.
        Err(_) => locate(&s, &actor, None, Some(id.trim())).await?,
    };
    let ctx = Context::load(&s, &actor).await?;
    Ok(Payload(ctx.item(&c)))
}

/// The built-in attributes every contact has, as `layout/list` describes them.
const BUILT_IN: [(&str, &str, &str); 8] = [
    ("full_name", "Họ và tên", "single_text"),
    ("job_title", "Nghề nghiệp", "single_text"),
    ("gender", "Giới tính", "radio"),
    ("phone_number", "Số điện thoại", "phone"),
    ("mail", "Email", "email"),
    ("address", "Địa chỉ", "single_text"),
    ("passport", "Hộ chiếu / CMND", "single_text"),
    ("note", "Ghi chú", "multi_text"),
];

pub(super) async fn layout(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Payload<Value>, OmiError> {
    let fields = s.crm.vocab_of(&actor, VocabKind::Field).await?;
    let mut out: Vec<Value> = BUILT_IN
        .iter()
        .map(|(code, name, kind)| {
            let options = if *code == "gender" { json!(["male", "female", "other"]) } else { json!([]) };
            json!({"field_code": code, "field_name": name, "field_type": kind, "identify": false, "is_default": true, "options": options, "description": null})
        })
        .collect();
    let mut seen = HashSet::new();
    for f in fields {
        // The same code in two VBot projects is one attribute here: the oldest definition.
        if !seen.insert(f.data.code.clone()) {
            continue;
        }
        out.push(json!({
            "field_code": f.data.code,
            "field_name": f.data.name,
            "field_type": f.data.field_type.unwrap_or_else(|| "single_text".to_owned()),
            "identify": false,
            "is_default": false,
            "options": [],
            "description": f.data.description,
        }));
    }
    Ok(Payload(Value::Array(out)))
}

pub(super) async fn funnels(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Payload<Value>, OmiError> {
    let funnels = s.crm.funnels(&actor).await?;
    Ok(Payload(Value::Array(
        funnels
            .into_iter()
            .map(|f| {
                json!({
                    "id": f.id,
                    "name": f.name,
                    "statuses": f.stages.iter().enumerate().map(|(i, st)| json!({
                        "index": i,
                        "name": st.name,
                        "children": st.children.iter().enumerate().map(|(j, c)| json!({"index": j, "name": c})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )))
}

#[derive(Debug, Deserialize)]
struct StageIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    children: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct FunnelIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    statuses: Vec<StageIn>,
}

/// Ours: defines a funnel `{name, statuses: [{name, children: [name]}]}`; answers its id.
pub(super) async fn funnel_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Payload<Uuid>, OmiError> {
    let f: FunnelIn = parse_ci(&body)?;
    let stages = f
        .statuses
        .into_iter()
        .map(|st| Stage {
            name: st.name,
            children: st.children,
        })
        .collect();
    Ok(Payload(s.crm.create_funnel(&actor, &f.name, stages).await?))
}
