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
use serde::{Deserialize, Serialize};
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

/// A time range: `created_date` (the default) or `last_updated_date`, in epoch milliseconds.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct RangeIn {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

/// The search filters, combined with AND.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SearchIn {
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
) -> Result<Payload<ContactPage>, OmiError> {
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
    let page = PageRequest::typed(number, size)?;
    let found = s.crm.search::<Customer>(&actor, &filter, page).await?;
    let ctx = Context::load(&s, &actor).await?;
    let total_pages = found.total_pages();
    let current = u64::from(number);
    Ok(Payload(ContactPage {
        next_page: if current < total_pages {
            current + 1
        } else {
            current
        },
        page_number: current,
        has_previous: current > 1,
        has_next: current < total_pages,
        total_pages,
        previous_page: if current > 1 { current - 1 } else { current },
        total_items: found.total,
        page_size: size,
        items: found.items.iter().map(|c| ctx.item(c)).collect(),
    }))
}

/// A page of contacts; `next_page`/`previous_page` are the current page at the ends.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct ContactPage {
    next_page: u64,
    page_number: u64,
    has_previous: bool,
    has_next: bool,
    total_pages: u64,
    previous_page: u64,
    total_items: u64,
    page_size: u32,
    items: Vec<ContactItem>,
}

/// Who made or last changed a contact.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct By {
    name: Option<String>,
}

/// One value of an attribute: `data_type` is the sent `type`, `value_type` the `valueType`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Shown {
    display_value: String,
    data_type: Option<String>,
    value_type: Option<String>,
}

/// An attribute of a contact with its values (`attribute_structure`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct AttributeValues {
    identify: bool,
    field_code: String,
    field_type: String,
    value: Vec<Shown>,
}

impl AttributeValues {
    fn new(code: &str, kind: &str, value: Vec<Shown>) -> Self {
        Self {
            identify: false,
            field_code: code.to_owned(),
            field_type: kind.to_owned(),
            value,
        }
    }

    /// A built-in attribute of one value, or none.
    fn one(code: &str, kind: &str, value: Option<&str>) -> Self {
        let value = value.map(|v| Shown {
            display_value: v.to_owned(),
            data_type: None,
            value_type: None,
        });
        Self::new(code, kind, value.into_iter().collect())
    }
}

/// A contact's place in a funnel (0-based stage positions).
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct PlaceOut {
    id: Uuid,
    index: i32,
    #[serde(rename = "secondLevelIndex")]
    second_level_index: Option<i32>,
}

/// A contact as search items and `get/{id}` show it; from `business` on, ours.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct ContactItem {
    public_id: Uuid,
    create_by: By,
    last_update_by: By,
    /// Epoch milliseconds.
    created_date: i64,
    /// Epoch milliseconds.
    last_updated_date: i64,
    /// `contact`.
    contact_type: &'static str,
    tags_view: Option<()>,
    is_deleted: bool,
    tags: Vec<String>,
    attribute_structure: Vec<AttributeValues>,
    business: Vec<String>,
    categories: Vec<String>,
    ref_id: Option<String>,
    ref_code: Option<String>,
    ref_type: Option<String>,
    avatar_url: Option<String>,
    user_owner_email: Option<String>,
    /// The core customer code (`KH…`).
    code: Option<String>,
    filter_contacts: Vec<PlaceOut>,
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
    fn item(&self, c: &Customer) -> ContactItem {
        let d = &c.data;
        let default = CustomerExt::default();
        let e = d.ext.as_ref().unwrap_or(&default);
        let shown = |v: &str, t: &Option<String>, l: &Option<String>| Shown {
            display_value: v.to_owned(),
            data_type: t.clone(),
            value_type: l.clone(),
        };
        let mut attributes = vec![
            AttributeValues::one("full_name", "single_text", Some(&d.name)),
            AttributeValues::one("job_title", "single_text", e.job_title.as_deref()),
            AttributeValues::one("gender", "radio", e.gender.as_deref()),
            AttributeValues::new(
                "phone_number",
                "phone",
                e.phones
                    .iter()
                    .map(|p| shown(p.value.as_str(), &p.kind, &p.label))
                    .collect(),
            ),
            AttributeValues::new(
                "mail",
                "email",
                e.emails
                    .iter()
                    .map(|m| shown(m.value.as_str(), &m.kind, &m.label))
                    .collect(),
            ),
            AttributeValues::one("address", "single_text", d.address.as_deref()),
            AttributeValues::one("passport", "single_text", e.passport.as_deref()),
            AttributeValues::one("note", "multi_text", d.note.as_deref()),
        ];
        for (field, values) in &e.custom {
            if let Some(def) = self.fields.iter().find(|f| f.id.0 == *field) {
                attributes.push(AttributeValues::new(
                    &def.data.code,
                    def.data.field_type.as_deref().unwrap_or("single_text"),
                    values
                        .iter()
                        .map(|v| shown(&v.data, &v.kind, &v.label))
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
        ContactItem {
            public_id: c.id.0,
            create_by: By {
                name: c.audit.created_by_name.clone(),
            },
            last_update_by: By {
                name: c.audit.updated_by_name.clone(),
            },
            created_date: c.audit.created_at.timestamp_millis(),
            last_updated_date: c.audit.updated_at.timestamp_millis(),
            contact_type: "contact",
            tags_view: None,
            is_deleted: false,
            tags: labels(LabelKind::Tag),
            attribute_structure: attributes,
            business: labels(LabelKind::Business),
            categories: labels(LabelKind::Category),
            ref_id: e.ref_id.clone(),
            ref_code: e.ref_code.clone(),
            ref_type: e.ref_type.clone(),
            avatar_url: e.avatar_url.clone(),
            user_owner_email: e.owner_email.as_ref().map(|m| m.as_str().to_owned()),
            code: d.code.clone(),
            filter_contacts: e
                .funnels
                .iter()
                .map(|f| PlaceOut {
                    id: f.funnel_id,
                    index: f.index,
                    second_level_index: f.second_index,
                })
                .collect(),
        }
    }
}

pub(super) async fn get_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Payload<ContactItem>, OmiError> {
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

/// An attribute definition, as `layout/list` lists them.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct Attribute {
    field_code: String,
    field_name: String,
    field_type: String,
    identify: bool,
    /// Built in (`true`) or defined through VBot's `field/create` (`false`).
    is_default: bool,
    options: Vec<String>,
    description: Option<String>,
}

pub(super) async fn layout(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Payload<Vec<Attribute>>, OmiError> {
    let fields = s.crm.vocab_of(&actor, VocabKind::Field).await?;
    let mut out: Vec<Attribute> = BUILT_IN
        .iter()
        .map(|(code, name, kind)| Attribute {
            field_code: (*code).to_owned(),
            field_name: (*name).to_owned(),
            field_type: (*kind).to_owned(),
            identify: false,
            is_default: true,
            options: if *code == "gender" {
                ["male", "female", "other"].map(str::to_owned).to_vec()
            } else {
                Vec::new()
            },
            description: None,
        })
        .collect();
    let mut seen = HashSet::new();
    for f in fields {
        // The same code in two VBot projects is one attribute here: the oldest definition.
        if !seen.insert(f.data.code.clone()) {
            continue;
        }
        out.push(Attribute {
            field_code: f.data.code,
            field_name: f.data.name,
            field_type: f
                .data
                .field_type
                .unwrap_or_else(|| "single_text".to_owned()),
            identify: false,
            is_default: false,
            options: Vec::new(),
            description: f.data.description,
        });
    }
    Ok(Payload(out))
}

/// A level-2 stage.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ChildOut {
    index: usize,
    name: String,
}

/// A level-1 stage and its level-2 stages (0-based positions).
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct StageOut {
    index: usize,
    name: String,
    children: Vec<ChildOut>,
}

/// A funnel with its stages.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct FunnelOut {
    id: Uuid,
    name: String,
    statuses: Vec<StageOut>,
}

pub(super) async fn funnels(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Payload<Vec<FunnelOut>>, OmiError> {
    let funnels = s.crm.funnels(&actor).await?;
    Ok(Payload(
        funnels
            .into_iter()
            .map(|f| FunnelOut {
                id: f.id,
                name: f.name,
                statuses: f
                    .stages
                    .into_iter()
                    .enumerate()
                    .map(|(i, st)| StageOut {
                        index: i,
                        name: st.name,
                        children: st
                            .children
                            .into_iter()
                            .enumerate()
                            .map(|(j, name)| ChildOut { index: j, name })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// A level-1 stage to define, with its level-2 stages' names.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct StageIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    children: Vec<String>,
}

/// A funnel to define: a name and at least one stage.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(super) struct FunnelIn {
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
