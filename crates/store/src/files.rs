//! Uploaded files: bytes under `<dir>/<tenant>/<file id>`, descriptions in `files`.

use crate::db::tx;
use crm_domain::work::Work;
use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::files::{FileOwner, StoredFile, Upload};
use crm_domain::ids::{FileId, TenantId};
use crm_domain::repo::FileStore;
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Condition, Expr, Order, Query};
use uuid::Uuid;

use crate::error::db_error;
use crate::table::{al, v};
use crate::SqlStore;

/// Where uploaded files are kept and how large one may be.
#[derive(Debug, Clone)]
pub struct FileSettings {
    pub dir: PathBuf,
    pub max_bytes: usize,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data/files"),
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct FileRow {
    id: Uuid,
    owner_id: Uuid,
    name: String,
    content_type: String,
    size: i64,
    created_at: DateTime<Utc>,
}

impl From<FileRow> for StoredFile {
    fn from(r: FileRow) -> Self {
        Self {
            id: FileId(r.id),
            owner_id: r.owner_id,
            name: r.name,
            content_type: r.content_type,
            size: r.size,
            created_at: r.created_at,
        }
    }
}

const COLUMNS: [&str; 6] = [
    "id",
    "owner_id",
    "name",
    "content_type",
    "size",
    "created_at",
];

impl SqlStore {
    fn file_path(&self, tenant: TenantId, id: Uuid) -> PathBuf {
        self.files
            .dir
            .join(tenant.0.to_string())
            .join(id.to_string())
    }
}

fn io(e: std::io::Error) -> DomainError {
    DomainError::Internal(anyhow::anyhow!("file storage: {e}"))
}

#[async_trait]
impl FileStore for SqlStore {
    fn max_bytes(&self) -> usize {
        self.files.max_bytes
    }

    async fn save(
        &self,
        w: &mut Work,
        actor: &Actor,
        owner: FileOwner,
        owner_id: Uuid,
        upload: Upload,
    ) -> DomainResult<StoredFile> {
        let id = Uuid::now_v7();
        let path = self.file_path(actor.tenant_id, id);
        if let Some(dir) = path.parent() {
            let dir = dir.to_owned();
            tokio::task::spawn_blocking(move || private_dir(&dir))
                .await
                .map_err(|e| DomainError::Internal(e.into()))?
                .map_err(io)?;
        }
        let size = upload.bytes.len() as i64;
        // The bytes move to the writing thread (`tokio::fs::write` would copy them).
        let (to, bytes) = (path.clone(), upload.bytes);
        tokio::task::spawn_blocking(move || std::fs::write(to, bytes))
            .await
            .map_err(|e| DomainError::Internal(e.into()))?
            .map_err(io)?;
        let file = StoredFile {
            id: FileId(id),
            owner_id,
            name: upload.name,
            content_type: upload.content_type,
            size,
            created_at: crm_domain::auth::now(),
        };
        let q = Query::insert()
            .into_table(al("files"))
            .columns(
                [
                    "id",
                    "tenant_id",
                    "owner_kind",
                    "owner_id",
                    "name",
                    "content_type",
                    "size",
                    "created_at",
                    "created_by",
                ]
                .map(al),
            )
            .values_panic([
                v(id),
                v(actor.tenant_id.0),
                v(owner.code()),
                v(owner_id),
                v(file.name.clone()),
                v(file.content_type.clone()),
                v(file.size),
                v(file.created_at),
                v(actor.id),
            ])
            .to_owned();
        let tx = tx(w)?;
        if let Err(e) = tx.exec().execute(&q).await {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(db_error(e));
        }
        Ok(file)
    }

    async fn list(
        &self,
        tenant: TenantId,
        owner: FileOwner,
        owner_ids: &[Uuid],
    ) -> DomainResult<Vec<StoredFile>> {
        if owner_ids.is_empty() {
            return Ok(Vec::new());
        }
        let q = Query::select()
            .columns(COLUMNS.map(al))
            .from(al("files"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("owner_kind")).eq(owner.code()))
            .and_where(Expr::col(al("owner_id")).is_in(owner_ids.iter().copied()))
            .order_by(al("id"), Order::Asc)
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows = conn
            .exec()
            .fetch_all::<FileRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn read(
        &self,
        tenant: TenantId,
        id: FileId,
    ) -> DomainResult<Option<(StoredFile, Vec<u8>)>> {
        let q = Query::select()
            .columns(COLUMNS.map(al))
            .from(al("files"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("id")).eq(id.0))
            .to_owned();
        let row = {
            let mut conn = self.db.read().await.map_err(db_error)?;
            conn.exec()
                .fetch_optional::<FileRow, _>(&q)
                .await
                .map_err(db_error)?
        };
        let Some(row) = row else { return Ok(None) };
        let bytes = tokio::fs::read(self.file_path(tenant, row.id))
            .await
            .map_err(io)?;
        Ok(Some((row.into(), bytes)))
    }

    async fn remove_owned(
        &self,
        w: &mut Work,
        actor: &Actor,
        owner: FileOwner,
        owner_id: Uuid,
    ) -> DomainResult<()> {
        let tenant = actor.tenant_id;
        // A ticket's comments' files go with it.
        let mut owners = Condition::any().add(
            Condition::all()
                .add(Expr::col(al("owner_kind")).eq(owner.code()))
                .add(Expr::col(al("owner_id")).eq(owner_id)),
        );
        if owner == FileOwner::Ticket {
            let comments = Query::select()
                .column(al("id"))
                .from(al("ticket_comments"))
                .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
                .and_where(Expr::col(al("ticket_id")).eq(owner_id))
                .to_owned();
            owners = owners.add(
                Condition::all()
                    .add(Expr::col(al("owner_kind")).eq(FileOwner::Comment.code()))
                    .add(Expr::col(al("owner_id")).in_subquery(comments)),
            );
        }
        let cond = Condition::all()
            .add(Expr::col(al("tenant_id")).eq(tenant.0))
            .add(owners);
        let q = Query::select()
            .columns(COLUMNS.map(al))
            .from(al("files"))
            .cond_where(cond.clone())
            .to_owned();
        let tx = tx(w)?;
        let rows = tx
            .exec()
            .fetch_all::<FileRow, _>(&q)
            .await
            .map_err(db_error)?;
        let del = Query::delete()
            .from_table(al("files"))
            .cond_where(cond)
            .to_owned();
        tx.exec().execute(&del).await.map_err(db_error)?;
        // The bytes go only once the rows' removal is durable; a rolled-back work keeps both.
        let paths: Vec<_> = rows
            .iter()
            .map(|r| (r.id, self.file_path(tenant, r.id)))
            .collect();
        w.on_commit(move || {
            for (id, path) in paths {
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(error = %e, file = %id, "could not remove a deleted record's file");
                }
            }
        });
        Ok(())
    }
}

/// Creates `dir` and its missing parents readable by the server's user only (`0700`): what
/// is under it (uploads, imports, exports) is out of other users' reach whatever its own mode.
pub(crate) fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the empty file `path` readable and writable by the server's user only (`0600`),
/// unless it exists.
pub(crate) fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
