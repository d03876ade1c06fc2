//! NextX tasks (`/api/task/task`, seed 003 E64-E67) over the core activity: a task is an
//! activity of type 3, the same record CRMTOP's `activity/*` shows.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use chrono::{NaiveDate, NaiveDateTime};
use crm_domain::activity::{
    Activity, ActivityData, STATUS_DONE, STATUS_IN_PROGRESS, STATUS_PLANNED,
};
use crm_domain::common::{Link, RecordKind};
use crm_domain::customer::Customer;
use crm_domain::lead::Lead;
use crm_domain::search::{Field, Filter, Value as FilterValue};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kit::api::*;
use super::kit::{
    bad, fail, id_of, staff, user_ref, Caller, IdOnly, Known, Meta, NoData, NxError, Params,
    UserRefOut, NO_DATA,
};
use crate::body::{lenient_int, parse_ci};
use crate::AppState;
use crm_domain::ids::StaffId;
use crm_domain::inventory::StaffUser;

/// The activity type of a task.
pub const TASK: i32 = 3;

pub fn router(spec: &mut Spec) -> Router<AppState> {
    const T: &str = "Tasks";
    Api::new(spec)
        .route::<(), Vec<TaskOut>, _, _>(
            M::GET,
            "/api/task/task",
            Op::bearer(T, "Tasks, a page").query(&[
                int("page"),
                int("pageLimit"),
                text("strSreach"),
                text("start"),
                text("end"),
                int("search[status]"),
            ]),
            list,
        )
        .route::<TaskIn, Meta<'static, NewTask>, _, _>(
            M::POST,
            "/api/task/task",
            Op::bearer(T, "Add a task"),
            add,
        )
        .route::<(), TaskOut, _, _>(
            M::GET,
            "/api/task/task/{id}",
            Op::bearer(T, "A task").int_id(),
            one,
        )
        // The doc's PUT is a POST in its samples: both are served.
        .route::<TaskIn, Meta<'static, ()>, _, _>(
            M::PUT,
            "/api/task/task/{id}",
            Op::bearer(T, "Update a task").int_id(),
            update,
        )
        .route::<TaskIn, Meta<'static, ()>, _, _>(
            M::POST,
            "/api/task/task/{id}",
            Op::bearer(T, "Update a task (as the doc's samples send it)").int_id(),
            update,
        )
        .router
}

/// Priority display names (the doc shows "Ưu tiên" and "Cao") and their codes.
const PRIORITIES: [(i32, &str); 4] = [(1, "Thấp"), (2, "Trung bình"), (3, "Cao"), (4, "Ưu tiên")];

fn priority(raw: &Option<Value>) -> Result<Option<i32>, NxError> {
    match raw {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_i64().map(|n| n as i32)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            if let Ok(n) = s.trim().parse::<i32>() {
                return Ok(Some(n));
            }
            let key = crm_domain::text::fold(s.trim());
            PRIORITIES
                .iter()
                .find(|(_, name)| crm_domain::text::fold(name) == key)
                .map(|(n, _)| Some(*n))
                .ok_or_else(|| {
                    bad(
                        "priority",
                        format!("'{s}' is not one of Thấp, Trung bình, Cao, Ưu tiên"),
                    )
                })
        }
        Some(other) => Err(bad("priority", format!("{other} is not a priority"))),
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct TaskIn {
    #[serde(default)]
    task: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    priority: Option<Value>,
    #[serde(default, deserialize_with = "lenient_int")]
    progress: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    is_complete: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    category_id: Option<i64>,
    #[serde(default)]
    color: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    assigned_to: Option<crm_domain::ids::StaffId>,
    #[serde(default, deserialize_with = "lenient_int")]
    parent_id: Option<i64>,
    /// Ours: the record the task is about (a customer or a lead, by integer id).
    #[serde(default, deserialize_with = "lenient_int")]
    customer_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    contact_id: Option<i64>,
}

/// A time as NextX writes it (`Y-m-d H:i:s` in the tenant's zone, or `Y-m-d`), or with an
/// offset (`2024-09-23T07:37:19.000000Z`).
pub(super) fn when(
    field: &str,
    raw: &Option<String>,
    tz: chrono_tz::Tz,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, NxError> {
    let Some(raw) = raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&chrono::Utc)));
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .ok_or_else(|| bad(field, format!("'{raw}' is not Y-m-d H:i:s")))?;
    Ok(crm_domain::common::local_instant(tz, local))
}

async fn data(
    s: &AppState,
    actor: &Actor,
    b: TaskIn,
    old: Option<&Activity>,
) -> Result<ActivityData, NxError> {
    let tz = actor.time_zone;
    let base = old.map(|a| a.data.clone());
    let mut ext = base
        .as_ref()
        .and_then(|d| d.ext.clone())
        .unwrap_or_default();
    if let Some(p) = b.progress {
        if !(0..=100).contains(&p) {
            return Err(bad("progress", "must be between 0 and 100"));
        }
        ext.progress = p;
    }
    ext.category_id = b.category_id.or(ext.category_id);
    ext.color = b.color.clone().or(ext.color);
    ext.assigned_to = b.assigned_to.or(ext.assigned_to);
    ext.parent_id = b.parent_id.filter(|p| *p != 0).or(ext.parent_id);
    let done = b.is_complete == Some(1) || ext.progress >= 100;
    if done {
        ext.progress = 100;
    }
    let status = if done {
        STATUS_DONE
    } else if b.is_complete == Some(0) && old.is_some_and(|a| a.data.status == STATUS_DONE) {
        if ext.progress > 0 {
            STATUS_IN_PROGRESS
        } else {
            STATUS_PLANNED
        }
    } else if ext.progress > 0 {
        STATUS_IN_PROGRESS
    } else {
        base.as_ref().map_or(STATUS_PLANNED, |d| d.status)
    };
    let primary = match (
        b.customer_id.filter(|c| *c != 0),
        b.contact_id.filter(|c| *c != 0),
    ) {
        (Some(c), _) => {
            let found: Customer = s
                .crm
                .by_seq(actor, c)
                .await?
                .ok_or_else(|| bad("customer_id", format!("customer {c} does not exist")))?;
            Some(Link {
                kind: RecordKind::Customer,
                id: found.id.0,
                name: None,
            })
        }
        (None, Some(l)) => {
            let found: Lead = s
                .crm
                .by_seq(actor, l)
                .await?
                .ok_or_else(|| bad("contact_id", format!("lead {l} does not exist")))?;
            Some(Link {
                kind: RecordKind::Lead,
                id: found.id.0,
                name: None,
            })
        }
        (None, None) => base.as_ref().and_then(|d| d.primary.clone()),
    };
    Ok(ActivityData {
        kind: TASK,
        subject: b
            .task
            .clone()
            .or_else(|| base.as_ref().map(|d| d.subject.clone()))
            .unwrap_or_default(),
        description: b
            .description
            .clone()
            .or_else(|| base.as_ref().and_then(|d| d.description.clone())),
        status,
        priority: priority(&b.priority)?.or_else(|| base.as_ref().and_then(|d| d.priority)),
        start_time: when("start", &b.start, tz)?
            .or_else(|| base.as_ref().and_then(|d| d.start_time)),
        end_time: when("end", &b.end, tz)?.or_else(|| base.as_ref().and_then(|d| d.end_time)),
        due_date: base.as_ref().and_then(|d| d.due_date),
        is_all_day: base.as_ref().is_some_and(|d| d.is_all_day),
        extra_data: base.as_ref().and_then(|d| d.extra_data.clone()),
        primary,
        related: base.as_ref().and_then(|d| d.related.clone()),
        ownership: base.map(|d| d.ownership).unwrap_or_default(),
        ext: Some(ext),
    })
}

/// The task's creator: an API client, not a staff user, so only its name is known.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "TaskCreator")]
struct Creator {
    id: (),
    name: Option<String>,
    email: (),
    firstname: (),
    lastname: (),
    picture: (),
    designation: (),
}

/// The record a task is about.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct About {
    #[serde(rename = "type")]
    kind: &'static str,
    name: Option<String>,
}

/// The task in NextX's shape.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct TaskOut {
    id: i64,
    task: String,
    code: String,
    parent_id: i64,
    parent: (),
    created_at: String,
    start: Option<String>,
    end: Option<String>,
    progress: i32,
    priority: Option<&'static str>,
    stage_status: (),
    color: Option<String>,
    attachments: (),
    description: String,
    location: (),
    assigned_to: Option<StaffId>,
    project_id: (),
    category_id: Option<i64>,
    user: Creator,
    assigned: Option<Known<UserRefOut>>,
    category: Option<IdOnly<i64>>,
    project: (),
    correlative: NoData,
    project_stage_status: (),
    project_stage_status_name: (),
    status_text: &'static str,
    status: i32,
    is_complete: i32,
    sub_tasks: NoData,
    tags: NoData,
    model_name: &'static str,
    view_type: (),
    favourite: (),
    index: i32,
    is_important: (),
    is_urgent: (),
    result: (),
    result_note: (),
    result_id: (),
    about: Option<About>,
}

/// A created task's number and code.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct NewTask {
    id: i64,
    code: String,
}

/// The task in NextX's shape; `users` is the staff directory its references are filled from.
fn task_out(a: &Activity, actor: &Actor, users: &[StaffUser]) -> TaskOut {
    let tz = actor.time_zone;
    let d = &a.data;
    let e = d.ext.clone().unwrap_or_default();
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
    };
    let status_text = match d.status {
        STATUS_DONE => "Hoàn thành",
        STATUS_IN_PROGRESS => "Đang thực hiện",
        4 => "Huỷ",
        _ => "Chưa thực hiện",
    };
    TaskOut {
        id: a.seq,
        task: d.subject.clone(),
        code: format!("CV{:07}", a.seq),
        parent_id: e.parent_id.unwrap_or(0),
        parent: (),
        created_at: a
            .audit
            .created_at
            .with_timezone(&tz)
            .format("%d/%m/%Y")
            .to_string(),
        start: fmt(d.start_time),
        end: fmt(d.end_time),
        progress: e.progress,
        priority: d
            .priority
            .and_then(|p| PRIORITIES.iter().find(|(n, _)| *n == p))
            .map(|(_, name)| *name),
        stage_status: (),
        color: e.color,
        attachments: (),
        description: d.description.clone().unwrap_or_default(),
        location: (),
        assigned_to: e.assigned_to,
        project_id: (),
        category_id: e.category_id,
        user: Creator {
            id: (),
            name: a.audit.created_by_name.clone(),
            email: (),
            firstname: (),
            lastname: (),
            picture: (),
            designation: (),
        },
        assigned: user_ref(users, e.assigned_to),
        category: e.category_id.map(|id| IdOnly { id }),
        project: (),
        correlative: NO_DATA,
        project_stage_status: (),
        project_stage_status_name: (),
        status_text,
        status: d.status,
        is_complete: i32::from(d.status == STATUS_DONE),
        sub_tasks: NO_DATA,
        tags: NO_DATA,
        model_name: "App\\Models\\Task\\Task",
        view_type: (),
        favourite: (),
        index: 0,
        is_important: (),
        is_urgent: (),
        result: (),
        result_note: (),
        result_id: (),
        about: d.primary.as_ref().map(|l| About {
            kind: l.kind.name(),
            name: l.name.clone(),
        }),
    }
}

async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<TaskOut>>, NxError> {
    let p = Params::parse(q)?;
    let tz = actor.time_zone;
    let mut filter = Filter::all()
        .and(Some(Filter::Eq {
            field: Field::Kind,
            value: FilterValue::Int(i64::from(TASK)),
        }))
        .and(p.search().and_then(|t| Filter::text(None, &t)));
    if let Some(st) = p.int("status")? {
        filter = filter.and(Some(Filter::Eq {
            field: Field::Status,
            value: FilterValue::Int(st),
        }));
    }
    let from = when("start", &p.get_owned("start"), tz)?;
    let to = when("end", &p.get_owned("end"), tz)?;
    if from.is_some() || to.is_some() {
        filter = filter.and(Some(Filter::Range {
            field: Field::StartTime,
            from,
            to,
        }));
    }
    let page = p.crm_page()?;
    let users = staff(&s, &actor).await?;
    let found = s.crm.search::<Activity>(&actor, &filter, page).await?;
    Ok(Json(
        found
            .items
            .iter()
            .map(|a| task_out(a, &actor, &users))
            .collect(),
    ))
}

async fn by_seq(s: &AppState, actor: &Actor, raw: &str) -> Result<Activity, NxError> {
    let seq = id_of(raw, "task")?;
    let a: Activity = s
        .crm
        .by_seq(actor, seq)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "task not found"))?;
    if a.data.kind != TASK {
        return Err(fail(StatusCode::NOT_FOUND, "task not found"));
    }
    Ok(a)
}

async fn one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<TaskOut>, NxError> {
    let users = staff(&s, &actor).await?;
    Ok(Json(task_out(
        &by_seq(&s, &actor, &id).await?,
        &actor,
        &users,
    )))
}

async fn add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Meta<'static, NewTask>>, NxError> {
    let b: TaskIn = parse_ci(&body)?;
    if b.task.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(bad("task", "is required"));
    }
    let input = data(&s, &actor, b, None).await?;
    let id = s.crm.create::<Activity>(&actor, input).await?;
    let a: Activity = s.crm.get(&actor, id).await?;
    Ok(Json(Meta::ok(
        "Successfully",
        NewTask {
            id: a.seq,
            code: format!("CV{:07}", a.seq),
        },
    )))
}

async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Meta<'static, ()>>, NxError> {
    let old = by_seq(&s, &actor, &id).await?;
    let b: TaskIn = parse_ci(&body)?;
    let input = data(&s, &actor, b, Some(&old)).await?;
    s.crm.update::<Activity>(&actor, old.id, input).await?;
    Ok(Json(Meta::ok("Successfully", ())))
}
