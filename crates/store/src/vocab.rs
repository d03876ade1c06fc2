//! Storage of vocabulary entries (statuses, types, custom fields), projects and funnels.

use crate::db::tx;
use async_trait::async_trait;
use crm_domain::ids::{DefinitionId, TenantId, VocabId, WebformId};
use crm_domain::repo::Registry;
use crm_domain::search::{Field, TextField};
use crm_domain::vocab::{Funnel, Stage, Vocab, VocabData, VocabKind};
use crm_domain::work::{At, Work};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Expr, OnConflict, Order, Query, SimpleExpr};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::like_text;
use crate::error::db_error;
use crate::table::{al, v, AuditRow, Table};
use crate::SqlStore;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct VocabRow {
    seq: i64,
    id: Uuid,
    project_id: Uuid,
    kind: i32,
    code: String,
    name: String,
    description: Option<String>,
    field_type: Option<String>,
    #[sqlx(flatten)]
    audit: AuditRow,
}

impl Table for Vocab {
    const TABLE: &'static str = "vocab";
    const ENTITY_CODE: i16 = 15;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another entry of the project already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "project_id",
        "kind",
        "code",
        "name",
        "description",
        "field_type",
    ];
    type Row = VocabRow;

    fn from_row(r: VocabRow) -> DomainResult<Self> {
        Ok(Vocab {
            id: VocabId(r.id),
            seq: r.seq,
            data: VocabData {
                project_id: r.project_id,
                kind: VocabKind::from_code(r.kind).ok_or_else(|| {
                    DomainError::Internal(anyhow::anyhow!("vocab kind {}", r.kind))
                })?,
                code: r.code,
                name: r.name,
                description: r.description,
                field_type: r.field_type,
            },
            audit: r.audit.into(),
        })
    }
    fn values(d: &VocabData) -> Vec<SimpleExpr> {
        vec![
            v(d.project_id),
            v(d.kind.code()),
            v(d.code.clone()),
            v(d.name.clone()),
            v(d.description.clone()),
            v(d.field_type.clone()),
        ]
    }
    fn terms(d: &VocabData) -> Vec<(TextField, String)> {
        d.terms()
    }
    fn column(field: Field) -> Option<&'static str> {
        Some(match field {
            Field::Project => "project_id",
            Field::Kind => "kind",
            Field::Code => "code",
            _ => return None,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct IdRow {
    id: Uuid,
}

#[derive(Debug, sqlx::FromRow)]
struct FunnelRow {
    id: Uuid,
    name: String,
    stages: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StageJson {
    name: String,
    #[serde(default)]
    children: Vec<String>,
}

#[async_trait]
impl Registry for SqlStore {
    async fn project(&self, w: &mut Work, actor: &Actor, code: &str) -> DomainResult<Uuid> {
        let tx = tx(w)?;
        let insert = Query::insert()
            .into_table(al("projects"))
            .columns(["id", "tenant_id", "code", "created_at"].map(al))
            .values_panic([
                v(Uuid::now_v7()),
                v(actor.tenant_id.0),
                v(code.to_owned()),
                v(crm_domain::auth::now()),
            ])
            .on_conflict(
                OnConflict::columns(["tenant_id", "code"].map(al))
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        tx.exec().execute(&insert).await.map_err(db_error)?;
        let q = Query::select()
            .column(al("id"))
            .from(al("projects"))
            .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
            .and_where(Expr::col(al("code")).eq(code))
            .to_owned();
        let row = tx
            .exec()
            .fetch_optional::<IdRow, _>(&q)
            .await
            .map_err(db_error)?
            .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("project {code} vanished")))?;
        Ok(row.id)
    }

    async fn create_funnel(
        &self,
        w: &mut Work,
        actor: &Actor,
        name: String,
        stages: Vec<Stage>,
    ) -> DomainResult<Uuid> {
        let id = Uuid::now_v7();
        let stages: Vec<StageJson> = stages
            .into_iter()
            .map(|s| StageJson {
                name: s.name,
                children: s.children,
            })
            .collect();
        let q = Query::insert()
            .into_table(al("funnels"))
            .columns(["id", "tenant_id", "name", "stages", "created_at"].map(al))
            .values_panic([
                v(id),
                v(actor.tenant_id.0),
                v(name),
                v(serde_json::to_string(&stages).unwrap_or_else(|_| "[]".to_owned())),
                v(crm_domain::auth::now()),
            ])
            .to_owned();
        let tx = tx(w)?;
        tx.exec().execute(&q).await.map_err(db_error)?;
        Ok(id)
    }

    async fn create_webform(
        &self,
        w: &mut Work,
        actor: &Actor,
        name: String,
        fields: Vec<String>,
    ) -> DomainResult<crm_domain::vocab::Webform> {
        self.insert_webform(w, actor, name, fields).await
    }

    async fn save_definition(
        &self,
        w: &mut Work,
        actor: &Actor,
        kind: &str,
        id: Option<DefinitionId>,
        name: String,
        body: String,
    ) -> DomainResult<DefinitionId> {
        self.put_definition(w, actor, kind, id, name, body).await
    }

    async fn definitions(
        &self,
        tenant: TenantId,
        kind: &str,
        search: Option<&str>,
        page: crm_domain::search::PageRequest,
    ) -> DomainResult<Vec<crm_domain::vocab::Definition>> {
        self.list_definitions(tenant, kind, search, page).await
    }

    async fn definition(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: &str,
        id: DefinitionId,
    ) -> DomainResult<Option<crm_domain::vocab::Definition>> {
        self.get_definition(at, tenant, kind, id).await
    }

    async fn webform(&self, key: &str) -> DomainResult<Option<crm_domain::vocab::Webform>> {
        self.find_webform(key).await
    }

    async fn funnels(&self, tenant: TenantId) -> DomainResult<Vec<Funnel>> {
        let q = Query::select()
            .columns(["id", "name", "stages"].map(al))
            .from(al("funnels"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .order_by(al("id"), Order::Asc)
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows = conn
            .exec()
            .fetch_all::<FunnelRow, _>(&q)
            .await
            .map_err(db_error)?;
        rows.into_iter()
            .map(|r| {
                let stages: Vec<StageJson> = serde_json::from_str(&r.stages)
                    .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored funnel: {e}")))?;
                Ok(Funnel {
                    id: r.id,
                    name: r.name,
                    stages: stages
                        .into_iter()
                        .map(|s| Stage {
                            name: s.name,
                            children: s.children,
                        })
                        .collect(),
                })
            })
            .collect()
    }
}

#[derive(Debug, sqlx::FromRow)]
struct WebformRow {
    seq: i64,
    tenant_id: Uuid,
    name: String,
    key: String,
    fields_json: String,
}

impl SqlStore {
    pub(crate) async fn insert_webform(
        &self,
        w: &mut Work,
        actor: &Actor,
        name: String,
        fields: Vec<String>,
    ) -> DomainResult<crm_domain::vocab::Webform> {
        let key = format!("wf_{}", Uuid::new_v4().simple());
        let q = Query::insert()
            .into_table(al("webforms"))
            .columns(["tenant_id", "name", "key", "fields_json", "created_at"].map(al))
            .values_panic([
                v(actor.tenant_id.0),
                v(name.clone()),
                v(key.clone()),
                v(serde_json::to_string(&fields).unwrap_or_else(|_| "[]".to_owned())),
                v(crm_domain::auth::now()),
            ])
            .returning_col(al("seq"))
            .to_owned();
        #[derive(sqlx::FromRow)]
        struct Seq {
            seq: i64,
        }
        let id = tx(w)?
            .exec()
            .fetch_optional::<Seq, _>(&q)
            .await
            .map_err(db_error)?
            .map_or(0, |r| r.seq);
        Ok(crm_domain::vocab::Webform {
            id: WebformId(id),
            tenant_id: actor.tenant_id,
            name,
            key,
            fields,
        })
    }

    pub(crate) async fn find_webform(
        &self,
        key: &str,
    ) -> DomainResult<Option<crm_domain::vocab::Webform>> {
        let q = Query::select()
            .columns(["seq", "tenant_id", "name", "key", "fields_json"].map(al))
            .from(al("webforms"))
            .and_where(Expr::col(al("key")).eq(key.trim()))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row = conn
            .exec()
            .fetch_optional::<WebformRow, _>(&q)
            .await
            .map_err(db_error)?;
        row.map(|r| {
            Ok(crm_domain::vocab::Webform {
                id: WebformId(r.seq),
                tenant_id: TenantId(r.tenant_id),
                name: r.name,
                key: r.key,
                fields: serde_json::from_str(&r.fields_json)
                    .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored web form: {e}")))?,
            })
        })
        .transpose()
    }
}

#[derive(Debug, sqlx::FromRow)]
struct DefinitionRow {
    seq: i64,
    kind: String,
    name: String,
    body_json: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    created_by_name: Option<String>,
}

impl From<DefinitionRow> for crm_domain::vocab::Definition {
    fn from(r: DefinitionRow) -> Self {
        Self {
            id: DefinitionId(r.seq),
            kind: r.kind,
            name: r.name,
            body: r.body_json,
            created_at: r.created_at,
            updated_at: r.updated_at,
            created_by_name: r.created_by_name,
        }
    }
}

const DEFINITION_COLUMNS: [&str; 7] = [
    "seq",
    "kind",
    "name",
    "body_json",
    "created_at",
    "updated_at",
    "created_by_name",
];

fn name_key(name: &str) -> String {
    crm_domain::text::fold(name)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl SqlStore {
    pub(crate) async fn put_definition(
        &self,
        w: &mut Work,
        actor: &Actor,
        kind: &str,
        id: Option<DefinitionId>,
        name: String,
        body: String,
    ) -> DomainResult<DefinitionId> {
        let at = crm_domain::auth::now();
        let tx = tx(w)?;
        let id = match id {
            None => {
                let q = Query::insert()
                    .into_table(al("definitions"))
                    .columns(
                        [
                            "tenant_id",
                            "kind",
                            "name",
                            "name_key",
                            "body_json",
                            "created_at",
                            "updated_at",
                            "created_by_name",
                        ]
                        .map(al),
                    )
                    .values_panic([
                        v(actor.tenant_id.0),
                        v(kind),
                        v(name.clone()),
                        v(name_key(&name)),
                        v(body),
                        v(at),
                        v(at),
                        v(actor.name.clone()),
                    ])
                    .returning_col(al("seq"))
                    .to_owned();
                #[derive(sqlx::FromRow)]
                struct Seq {
                    seq: i64,
                }
                tx.exec()
                    .fetch_optional::<Seq, _>(&q)
                    .await
                    .map_err(db_error)?
                    .map_or(DefinitionId(0), |r| DefinitionId(r.seq))
            }
            Some(id) => {
                let q = Query::update()
                    .table(al("definitions"))
                    .value(al("name"), name.clone())
                    .value(al("name_key"), name_key(&name))
                    .value(al("body_json"), body)
                    .value(al("updated_at"), at)
                    .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
                    .and_where(Expr::col(al("kind")).eq(kind))
                    .and_where(Expr::col(al("seq")).eq(id.0))
                    .to_owned();
                if tx.exec().execute(&q).await.map_err(db_error)? == 0 {
                    return Err(DomainError::not_found("definition"));
                }
                id
            }
        };
        Ok(id)
    }

    pub(crate) async fn list_definitions(
        &self,
        tenant: TenantId,
        kind: &str,
        search: Option<&str>,
        page: crm_domain::search::PageRequest,
    ) -> DomainResult<Vec<crm_domain::vocab::Definition>> {
        let mut q = Query::select();
        q.columns(DEFINITION_COLUMNS.map(al))
            .from(al("definitions"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("kind")).eq(kind))
            .order_by(al("seq"), Order::Desc)
            .limit(u64::from(page.size))
            .offset(page.offset());
        if let Some(s) = search.map(name_key).filter(|s| !s.is_empty()) {
            q.and_where(like_text("name_key", &s, false));
        }
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows = conn
            .exec()
            .fetch_all::<DefinitionRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn get_definition(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: &str,
        id: DefinitionId,
    ) -> DomainResult<Option<crm_domain::vocab::Definition>> {
        let q = Query::select()
            .columns(DEFINITION_COLUMNS.map(al))
            .from(al("definitions"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("kind")).eq(kind))
            .and_where(Expr::col(al("seq")).eq(id.0))
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        Ok(conn
            .exec()
            .fetch_optional::<DefinitionRow, _>(&q)
            .await
            .map_err(db_error)?
            .map(Into::into))
    }
}
