//! Storage of segments, campaigns and their members (one `list_members` table for both).

use crate::db::tx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::common::RecordKind;
use crm_domain::ids::{CampaignId, MemberId, SegmentId, TenantId};
use crm_domain::list::{Campaign, CampaignData, ListKind, Member, Segment, SegmentData};
use crm_domain::repo::MemberStore;
use crm_domain::search::{Field, Filter, Page, PageRequest, TextField};
use crm_domain::work::{At, Work};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{
    Alias, Condition, Expr, Func, JoinType, OnConflict, Order, Query, SelectStatement, SimpleExpr,
};
use uuid::Uuid;

use crate::common::{ownership_values, OwnershipRow, OWNERSHIP_COLUMNS};
use crate::db::{Exec, Scalar};
use crate::error::db_error;
use crate::table::{al, term_matches, v, vm, AuditRow, Table, T};
use crate::SqlStore;
use crm_domain::money::Money;

/// Where the records a list can hold live: table, name column, search-term entity code.
fn member_table(kind: RecordKind) -> Option<(&'static str, &'static str, i16)> {
    match kind {
        RecordKind::Customer => Some(("customers", "name", 1)),
        RecordKind::Contact => Some(("contacts", "full_name", 3)),
        RecordKind::Lead => Some(("leads", "full_name", 4)),
        _ => None,
    }
}

/// Selects the list's live member count as `total_members`.
fn total_members(q: &mut SelectStatement, list: ListKind) {
    let count = Query::select()
        .expr(Func::count(Expr::col(sea_query::Asterisk)))
        .from_as(al("list_members"), al("m"))
        .and_where(Expr::col((al("m"), al("tenant_id"))).equals((al(T), al("tenant_id"))))
        .and_where(Expr::col((al("m"), al("list_kind"))).eq(list.code()))
        .and_where(Expr::col((al("m"), al("list_id"))).equals((al(T), al("id"))))
        .to_owned();
    q.expr_as(
        SimpleExpr::SubQuery(None, Box::new(count.into_sub_query_statement())),
        al("total_members"),
    );
}

/// Removes a deleted record from every list it was in.
pub(crate) async fn drop_memberships(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    kind: RecordKind,
    id: Uuid,
) -> DomainResult<()> {
    let q = Query::delete()
        .from_table(al("list_members"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("member_id")).eq(id))
        .and_where(Expr::col(al("member_kind")).eq(kind.code()))
        .to_owned();
    exec.execute(&q).await.map_err(db_error)?;
    Ok(())
}

/// A deleted list takes its member rows with it.
async fn drop_list(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    list: ListKind,
    id: Uuid,
) -> DomainResult<()> {
    let q = Query::delete()
        .from_table(al("list_members"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("list_kind")).eq(list.code()))
        .and_where(Expr::col(al("list_id")).eq(id))
        .to_owned();
    exec.execute(&q).await.map_err(db_error)?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SegmentRow {
    seq: i64,
    id: Uuid,
    name: String,
    description: Option<String>,
    total_members: i64,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[async_trait]
impl Table for Segment {
    const TABLE: &'static str = "segments";
    const ENTITY_CODE: i16 = 8;
    const COLUMNS: &'static [&'static str] = &["name", "description"];
    type Row = SegmentRow;

    fn joins(q: &mut SelectStatement) {
        total_members(q, ListKind::Segment);
    }
    fn from_row(r: SegmentRow) -> DomainResult<Self> {
        Ok(Segment {
            id: SegmentId(r.id),
            seq: r.seq,
            data: SegmentData {
                name: r.name,
                description: r.description,
            },
            total_members: r.total_members,
            audit: r.audit.into(),
        })
    }
    fn values(d: &SegmentData) -> Vec<SimpleExpr> {
        vec![v(d.name.clone()), v(d.description.clone())]
    }
    fn terms(d: &SegmentData) -> Vec<(TextField, String)> {
        d.terms()
    }
    async fn after_delete(exec: &mut Exec<'_>, tenant: TenantId, id: Uuid) -> DomainResult<()> {
        drop_list(exec, tenant, ListKind::Segment, id).await
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CampaignRow {
    seq: i64,
    id: Uuid,
    code: String,
    name: String,
    kind: Option<i32>,
    status: Option<i32>,
    start_date: Option<DateTime<Utc>>,
    end_date: Option<DateTime<Utc>>,
    expected_revenue: f64,
    budgeted_cost: f64,
    actual_cost: f64,
    expected_response_rate: f64,
    actual_response_rate: f64,
    note: Option<String>,
    total_members: i64,
    ext_json: Option<String>,
    #[sqlx(flatten)]
    ownership: OwnershipRow,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StageJson {
    name: String,
    value: Option<String>,
    order: i32,
    kind: i32,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct CampaignExtJson {
    objective: Option<String>,
    stages: Vec<StageJson>,
    assigned_to: Option<crm_domain::ids::StaffId>,
    branch_id: Option<crm_domain::ids::PlaceId>,
    allow_duplicate_opportunity: bool,
    divide_opportunity_auto: bool,
    hide_opportunity_info: bool,
    correlatives: Vec<(i64, i64)>,
    #[serde(default)]
    type_id: Option<i64>,
    #[serde(default)]
    status_id: Option<i64>,
}

fn campaign_ext(raw: Option<String>) -> DomainResult<Option<crm_domain::list::CampaignExt>> {
    let Some(raw) = raw else { return Ok(None) };
    let j: CampaignExtJson = serde_json::from_str(&raw)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored campaign: {e}")))?;
    Ok(Some(crm_domain::list::CampaignExt {
        objective: j.objective,
        stages: j
            .stages
            .into_iter()
            .map(|s| crm_domain::list::Stage {
                name: s.name,
                value: s.value,
                order: s.order,
                kind: s.kind,
            })
            .collect(),
        assigned_to: j.assigned_to,
        branch_id: j.branch_id,
        allow_duplicate_opportunity: j.allow_duplicate_opportunity,
        divide_opportunity_auto: j.divide_opportunity_auto,
        hide_opportunity_info: j.hide_opportunity_info,
        correlatives: j.correlatives,
        type_id: j.type_id,
        status_id: j.status_id,
    }))
}

fn campaign_ext_json(e: &crm_domain::list::CampaignExt) -> String {
    serde_json::to_string(&CampaignExtJson {
        objective: e.objective.clone(),
        stages: e
            .stages
            .iter()
            .map(|s| StageJson {
                name: s.name.clone(),
                value: s.value.clone(),
                order: s.order,
                kind: s.kind,
            })
            .collect(),
        assigned_to: e.assigned_to,
        branch_id: e.branch_id,
        allow_duplicate_opportunity: e.allow_duplicate_opportunity,
        divide_opportunity_auto: e.divide_opportunity_auto,
        hide_opportunity_info: e.hide_opportunity_info,
        correlatives: e.correlatives.clone(),
        type_id: e.type_id,
        status_id: e.status_id,
    })
    .unwrap_or_else(|_| "{}".to_owned())
}

#[async_trait]
impl Table for Campaign {
    const TABLE: &'static str = "campaigns";
    const ENTITY_CODE: i16 = 9;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another campaign already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "kind",
        "status",
        "start_date",
        "end_date",
        "expected_revenue",
        "budgeted_cost",
        "actual_cost",
        "expected_response_rate",
        "actual_response_rate",
        "note",
        "ext_json",
        OWNERSHIP_COLUMNS[0],
        OWNERSHIP_COLUMNS[1],
        OWNERSHIP_COLUMNS[2],
        OWNERSHIP_COLUMNS[3],
    ];
    type Row = CampaignRow;

    fn joins(q: &mut SelectStatement) {
        total_members(q, ListKind::Campaign);
    }
    fn from_row(r: CampaignRow) -> DomainResult<Self> {
        Ok(Campaign {
            id: CampaignId(r.id),
            seq: r.seq,
            data: CampaignData {
                code: Some(r.code),
                name: r.name,
                kind: r.kind,
                status: r.status,
                start_date: r.start_date,
                end_date: r.end_date,
                expected_revenue: Money::from_f64(r.expected_revenue),
                budgeted_cost: Money::from_f64(r.budgeted_cost),
                actual_cost: Money::from_f64(r.actual_cost),
                expected_response_rate: r.expected_response_rate,
                actual_response_rate: r.actual_response_rate,
                note: r.note,
                ownership: r.ownership.into(),
                ext: campaign_ext(r.ext_json)?,
            },
            total_members: r.total_members,
            audit: r.audit.into(),
        })
    }
    fn values(d: &CampaignData) -> Vec<SimpleExpr> {
        let mut out = vec![
            v(d.code.clone()),
            v(d.name.clone()),
            v(d.kind),
            v(d.status),
            v(d.start_date),
            v(d.end_date),
            vm(d.expected_revenue),
            vm(d.budgeted_cost),
            vm(d.actual_cost),
            v(d.expected_response_rate),
            v(d.actual_response_rate),
            v(d.note.clone()),
            v(d.ext.as_ref().map(campaign_ext_json)),
        ];
        out.extend(ownership_values(&d.ownership));
        out
    }
    fn terms(d: &CampaignData) -> Vec<(TextField, String)> {
        d.terms()
    }
    fn column(field: Field) -> Option<&'static str> {
        Some(match field {
            Field::Kind => "kind",
            Field::Status => "status",
            Field::OrgUnit => "org_unit_id",
            Field::StartTime => "start_date",
            Field::EndTime => "end_date",
            Field::Seq => "seq",
            _ => return None,
        })
    }
    const CODE: Option<&'static str> = Some("CD");
    fn code_slot(data: &mut CampaignData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }
    fn keep_on_update(old: &Self, data: &mut CampaignData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
        if data.ext.is_none() {
            data.ext.clone_from(&old.data.ext);
        }
    }
    async fn after_delete(exec: &mut Exec<'_>, tenant: TenantId, id: Uuid) -> DomainResult<()> {
        drop_list(exec, tenant, ListKind::Campaign, id).await
    }
}

#[derive(Debug, sqlx::FromRow)]
struct MemberRow {
    seq: i64,
    list_id: Uuid,
    member_kind: i32,
    member_id: Uuid,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    created_at: DateTime<Utc>,
    created_by: Option<Uuid>,
    created_by_name: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct IdRow {
    id: Uuid,
}

fn m(column: &str) -> Expr {
    Expr::col((al("m"), al(column)))
}

/// `COALESCE(j1.col, j2.col, j3.col)` over the joined member tables.
fn coalesce(columns: [&str; 3]) -> SimpleExpr {
    Func::coalesce([
        Expr::col((al("j1"), al(columns[0]))).into(),
        Expr::col((al("j2"), al(columns[1]))).into(),
        Expr::col((al("j3"), al(columns[2]))).into(),
    ])
    .into()
}

#[async_trait]
impl MemberStore for SqlStore {
    async fn existing(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: RecordKind,
        ids: &[Uuid],
    ) -> DomainResult<Vec<Uuid>> {
        let (table, _, _) = member_table(kind).ok_or_else(|| {
            DomainError::validation("type", format!("a {} cannot be a list member", kind.name()))
        })?;
        let mut conn = self.db.reader(at).await?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let q = Query::select()
                .column(al("id"))
                .from(al(table))
                .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
                .and_where(Expr::col(al("id")).is_in(chunk.iter().copied()))
                .and_where(Expr::col(al("deleted_at")).is_null())
                .to_owned();
            let rows = conn
                .exec()
                .fetch_all::<IdRow, _>(&q)
                .await
                .map_err(db_error)?;
            out.extend(rows.into_iter().map(|r| r.id));
        }
        Ok(out)
    }

    async fn add_members(
        &self,
        w: &mut Work,
        actor: &Actor,
        list: ListKind,
        list_id: Uuid,
        kind: RecordKind,
        ids: &[Uuid],
    ) -> DomainResult<u64> {
        let at = crm_domain::auth::now();
        let tx = tx(w)?;
        let mut added = 0;
        for chunk in ids.chunks(2000) {
            let mut q = Query::insert();
            q.into_table(al("list_members")).columns(
                [
                    "tenant_id",
                    "list_kind",
                    "list_id",
                    "member_kind",
                    "member_id",
                    "created_at",
                    "created_by",
                    "created_by_name",
                ]
                .map(al),
            );
            for id in chunk {
                q.values_panic([
                    v(actor.tenant_id.0),
                    v(list.code()),
                    v(list_id),
                    v(kind.code()),
                    v(*id),
                    v(at),
                    v(actor.id),
                    v(actor.name.clone()),
                ]);
            }
            q.on_conflict(
                OnConflict::columns(
                    [
                        "tenant_id",
                        "list_kind",
                        "list_id",
                        "member_kind",
                        "member_id",
                    ]
                    .map(al),
                )
                .do_nothing()
                .to_owned(),
            );
            added += tx.exec().execute(&q).await.map_err(db_error)?;
        }
        Ok(added)
    }

    async fn remove_members(
        &self,
        w: &mut Work,
        actor: &Actor,
        list: ListKind,
        list_id: Option<Uuid>,
        ids: &[MemberId],
    ) -> DomainResult<bool> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut cond = Condition::all()
            .add(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
            .add(Expr::col(al("list_kind")).eq(list.code()))
            .add(Expr::col(al("seq")).is_in(ids.iter().map(|m| m.0)));
        if let Some(list_id) = list_id {
            cond = cond.add(Expr::col(al("list_id")).eq(list_id));
        }
        let tx = tx(w)?;
        let q = Query::delete()
            .from_table(al("list_members"))
            .cond_where(cond)
            .to_owned();
        let removed = tx.exec().execute(&q).await.map_err(db_error)?;
        if removed as usize != ids.len() {
            // Dropping the transaction rolls the partial delete back.
            return Ok(false);
        }
        Ok(true)
    }

    async fn search_members(
        &self,
        tenant: TenantId,
        list: ListKind,
        list_id: Uuid,
        kind: Option<RecordKind>,
        text: Option<&Filter>,
        page: PageRequest,
    ) -> DomainResult<Page<Member>> {
        let mut cond = Condition::all()
            .add(m("tenant_id").eq(tenant.0))
            .add(m("list_kind").eq(list.code()))
            .add(m("list_id").eq(list_id));
        if let Some(kind) = kind {
            cond = cond.add(m("member_kind").eq(kind.code()));
        }
        if let Some(f) = text {
            f.check()?;
        }
        if let Some(f) = text {
            cond = cond.add(member_text(tenant, f, page.term_matches_up_to));
        }
        let count = Query::select()
            .expr_as(Func::count(Expr::col(sea_query::Asterisk)), al("value"))
            .from_as(al("list_members"), al("m"))
            .cond_where(cond.clone())
            .to_owned();
        let mut q = Query::select();
        q.from_as(al("list_members"), al("m")).columns(
            [
                "seq",
                "list_id",
                "member_kind",
                "member_id",
                "created_at",
                "created_by",
                "created_by_name",
            ]
            .map(|c| (al("m"), al(c))),
        );
        for (alias, kind) in ["j1", "j2", "j3"]
            .into_iter()
            .zip(crm_domain::list::MEMBER_KINDS)
        {
            let (table, _, _) = member_table(kind).unwrap_or(("customers", "", 0));
            q.join_as(
                JoinType::LeftJoin,
                al(table),
                Alias::new(alias),
                Expr::col((al(alias), al("tenant_id")))
                    .equals((al("m"), al("tenant_id")))
                    .and(Expr::col((al(alias), al("id"))).equals((al("m"), al("member_id"))))
                    .and(m("member_kind").eq(kind.code())),
            );
        }
        q.expr_as(coalesce(["name", "full_name", "full_name"]), al("name"))
            .expr_as(coalesce(["phone", "phone", "phone"]), al("phone"))
            .expr_as(coalesce(["email", "email", "email"]), al("email"))
            .cond_where(cond)
            .order_by((al("m"), al("seq")), Order::Desc)
            .limit(u64::from(page.size))
            .offset(page.offset());
        let mut conn = self.db.read().await.map_err(db_error)?;
        let mut exec = conn.exec();
        let total = exec
            .fetch_optional::<Scalar, _>(&count)
            .await
            .map_err(db_error)?
            .map_or(0, |s| s.value);
        let rows = exec.fetch_all::<MemberRow, _>(&q).await.map_err(db_error)?;
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(Member {
                    id: MemberId(r.seq),
                    list_id: r.list_id,
                    kind: RecordKind::from_code("type", r.member_kind).map_err(|e| {
                        DomainError::Internal(anyhow::anyhow!("stored member: {e}"))
                    })?,
                    record_id: r.member_id,
                    name: r.name,
                    phone: r.phone,
                    email: r.email,
                    added_at: r.created_at,
                    added_by: r.created_by,
                    added_by_name: r.created_by_name,
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        Ok(Page {
            items,
            total: total.max(0) as u64,
            request: page,
        })
    }
}

/// A typed query over a list's members: each text term matched in the member's own kind (a
/// phone query is a choice between the whole number and its last digits).
fn member_text(tenant: TenantId, f: &Filter, cap: Option<u64>) -> Condition {
    match f {
        Filter::Text { field, terms } => {
            let mut all = Condition::all();
            for term in terms {
                let mut any = Condition::any();
                for kind in crm_domain::list::MEMBER_KINDS {
                    let (_, _, entity) = member_table(kind).unwrap_or(("", "", 0));
                    any = any.add(Condition::all().add(m("member_kind").eq(kind.code())).add(
                        m("member_id").in_subquery(term_matches(tenant, entity, *field, term, cap)),
                    ));
                }
                all = all.add(any);
            }
            all
        }
        Filter::Any(children) => children
            .iter()
            .fold(Condition::any(), |c, f| c.add(member_text(tenant, f, cap))),
        Filter::All(children) => children
            .iter()
            .fold(Condition::all(), |c, f| c.add(member_text(tenant, f, cap))),
        // Only typed text reaches here; anything else narrows nothing.
        Filter::Nothing => Condition::all().add(Expr::value(1).eq(0)),
        _ => Condition::all(),
    }
}
