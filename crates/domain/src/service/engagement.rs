//! Activities, tickets with their types and comments, and attached files.

use super::*;
use crate::ids::TicketTypeId;

/// Ticket types, comments and files.
impl Crm {
    /// Saves uploads for an owner record (checked already by [`Upload::check`]).
    pub async fn attach(
        &self,
        actor: &Actor,
        owner: FileOwner,
        owner_id: uuid::Uuid,
        uploads: Vec<Upload>,
    ) -> DomainResult<Vec<StoredFile>> {
        let mut w = self.begin().await?;
        let out = self
            .attach_in(&mut w, actor, owner, owner_id, uploads)
            .await?;
        w.commit().await?;
        Ok(out)
    }

    pub(crate) async fn attach_in(
        &self,
        w: &mut Work,
        actor: &Actor,
        owner: FileOwner,
        owner_id: uuid::Uuid,
        uploads: Vec<Upload>,
    ) -> DomainResult<Vec<StoredFile>> {
        let mut out = Vec::with_capacity(uploads.len());
        for upload in uploads {
            out.push(self.files.save(w, actor, owner, owner_id, upload).await?);
        }
        Ok(out)
    }

    /// Removes an owner's files (an e-mail campaign's attachment being replaced).
    pub async fn remove_files(
        &self,
        actor: &Actor,
        owner: FileOwner,
        owner_id: uuid::Uuid,
    ) -> DomainResult<()> {
        let mut w = self.begin().await?;
        self.files
            .remove_owned(&mut w, actor, owner, owner_id)
            .await?;
        w.commit().await
    }

    /// The largest upload accepted, in bytes.
    pub fn max_file_bytes(&self) -> usize {
        self.files.max_bytes()
    }

    pub async fn files_of(
        &self,
        actor: &Actor,
        owner: FileOwner,
        owner_ids: &[uuid::Uuid],
    ) -> DomainResult<Vec<StoredFile>> {
        self.files.list(actor.tenant_id, owner, owner_ids).await
    }

    /// A file of the caller's tenant, with its bytes.
    pub async fn read_file(
        &self,
        actor: &Actor,
        id: crate::ids::FileId,
    ) -> DomainResult<(StoredFile, Vec<u8>)> {
        self.files
            .read(actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found("file"))
    }

    pub async fn save_ticket_type(
        &self,
        actor: &Actor,
        id: Option<TicketTypeId>,
        name: Option<String>,
        note: Option<String>,
    ) -> DomainResult<TicketTypeId> {
        let name = crate::common::required("name", name, crate::common::SHORT)?;
        let note = crate::common::text("note", note, crate::common::LONG)?;
        let mut w = self.begin().await?;
        let id = self
            .ticket_store
            .save_type(
                &mut w,
                actor,
                id.and_then(TicketTypeId::nonzero),
                name,
                note,
            )
            .await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn search_ticket_types(
        &self,
        actor: &Actor,
        text: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<TicketType>> {
        let folded = text.map(crate::text::fold).filter(|t| !t.trim().is_empty());
        self.ticket_store
            .search_types(actor.tenant_id, folded.as_deref().map(str::trim), page)
            .await
    }

    /// Deletes a ticket type no live ticket uses.
    pub async fn delete_ticket_type(&self, actor: &Actor, id: TicketTypeId) -> DomainResult<()> {
        let mut w = self.begin().await?;
        let of_type = Filter::Eq {
            field: Field::TicketType,
            value: crate::search::Value::Int(id.0),
        };
        let used = self.count_at::<Ticket>(w.at(), actor, &of_type).await?;
        if used > 0 {
            return Err(DomainError::in_use(
                Some("id"),
                format!("the ticket type is used by {used} ticket(s)"),
            ));
        }
        if self.ticket_store.delete_type(&mut w, actor, id).await? {
            w.commit().await
        } else {
            Err(DomainError::not_found("ticket type"))
        }
    }

    /// Adds a message (and files) to a ticket's thread.
    pub async fn add_comment(
        &self,
        actor: &Actor,
        ticket: crate::ids::TicketId,
        user_id: Option<uuid::Uuid>,
        user_name: Option<String>,
        message: Option<String>,
        uploads: Vec<Upload>,
    ) -> DomainResult<crate::ids::CommentId> {
        let message = crate::common::text("message", message, MAX_MESSAGE)?;
        if message.is_none() && uploads.is_empty() {
            return Err(DomainError::validation(
                "message",
                "is required without a file",
            ));
        }
        let comment = Comment {
            id: crate::ids::CommentId::new(),
            ticket_id: ticket,
            user_id: user_id.or(Some(actor.id)),
            user_name: crate::common::text("user_name", user_name, crate::common::SHORT)?
                .or_else(|| Some(actor.name.clone())),
            message,
            created_at: crate::auth::now(),
        };
        let mut w = self.begin().await?;
        let _: Ticket = self.get_at(w.at(), actor, ticket).await?;
        self.ticket_store
            .add_comment(&mut w, actor, &comment)
            .await?;
        let files = uploads.len();
        self.attach_in(&mut w, actor, FileOwner::Comment, comment.id.0, uploads)
            .await?;
        // On the ticket's own trail: a comment is a change of its thread.
        let mut entry = crate::audit::Entry::by_actor(actor, "ticket", "commented", ticket.0);
        entry.changes = Some(serde_json::json!({
            "comment": {"before": null, "after": {"id": comment.id.0, "files": files}},
        }));
        w.audit(entry);
        w.commit().await?;
        Ok(comment.id)
    }

    pub async fn search_comments(
        &self,
        actor: &Actor,
        ticket: crate::ids::TicketId,
        text: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<Comment>> {
        let _: Ticket = self.get(actor, ticket).await?;
        let folded = text.map(crate::text::fold).filter(|t| !t.trim().is_empty());
        self.ticket_store
            .search_comments(
                actor.tenant_id,
                ticket,
                folded.as_deref().map(str::trim),
                page,
            )
            .await
    }
}

#[async_trait]
impl Managed for Activity {
    const EVENT: Option<&'static str> = Some("activity");
    type Input = ActivityData;
    fn validate(input: ActivityData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.activities.as_ref()
    }
    fn references(data: &Self::Data, refs: &mut References) {
        refs.links.extend(
            data.primary
                .iter()
                .chain(&data.related)
                .map(|l| (l.kind, l.id)),
        );
    }
    async fn check_refs(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        data: &mut Self::Data,
    ) -> DomainResult<()> {
        crm.resolve_link(w, actor, "primary", &mut data.primary)
            .await?;
        crm.resolve_link(w, actor, "related", &mut data.related)
            .await
    }
}

#[async_trait]
impl Managed for Ticket {
    const EVENT: Option<&'static str> = Some("ticket");
    type Input = TicketData;
    fn validate(input: TicketData) -> DomainResult<Self::Data> {
        input.validate()
    }
    const FILES: Option<FileOwner> = Some(FileOwner::Ticket);
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.tickets.as_ref()
    }
    async fn check_refs(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        data: &mut Self::Data,
    ) -> DomainResult<()> {
        if let Some(id) = data.type_id {
            let found = crm
                .ticket_store
                .get_type(w.at(), actor.tenant_id, id)
                .await?;
            data.type_name = Some(
                found
                    .ok_or_else(|| {
                        DomainError::validation(
                            "type_id",
                            format!("ticket type {id} does not exist"),
                        )
                    })?
                    .name,
            );
        }
        data.customer_name = crm
            .ref_name(
                w,
                actor,
                "customer_id",
                RecordKind::Customer,
                data.customer_id.map(|i| i.0),
            )
            .await?;
        data.contact_name = crm
            .ref_name(
                w,
                actor,
                "contact_id",
                RecordKind::Contact,
                data.contact_id.map(|i| i.0),
            )
            .await?;
        data.order_code = crm
            .ref_name(
                w,
                actor,
                "order_id",
                RecordKind::Order,
                data.order_id.map(|i| i.0),
            )
            .await?;
        if let Some(product) = data.product_id {
            data.product_name = Some(
                crm.products
                    .get(w.at(), actor.tenant_id, product)
                    .await?
                    .ok_or_else(|| {
                        DomainError::validation(
                            "product_id",
                            format!("product {product} does not exist"),
                        )
                    })?
                    .data
                    .name,
            );
        }
        Ok(())
    }
}
