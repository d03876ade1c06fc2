//! Vocabularies (statuses, types, fields), projects, funnels and lookups by value.

use super::*;

/// Vocabularies, projects, funnels and lookups by business key.
impl Crm {
    /// The first committed record matching `filter`, if any.
    pub async fn find<E: Managed>(
        &self,
        actor: &Actor,
        filter: &Filter,
    ) -> DomainResult<Option<E>> {
        self.find_at(At::Committed, actor, filter).await
    }

    /// The first record matching `filter`, read where `at` says.
    pub(crate) async fn find_at<E: Managed>(
        &self,
        at: At<'_>,
        actor: &Actor,
        filter: &Filter,
    ) -> DomainResult<Option<E>> {
        Ok(E::repo(self)
            .search(at, actor.tenant_id, filter, PageRequest::of(1, 1))
            .await?
            .items
            .pop())
    }

    /// A vocabulary entry by its code in a project.
    pub async fn find_vocab(
        &self,
        actor: &Actor,
        project: uuid::Uuid,
        kind: VocabKind,
        code: &str,
    ) -> DomainResult<Option<Vocab>> {
        let f = Filter::all()
            .and(Some(Filter::id(Field::Project, project)))
            .and(Some(Filter::Eq {
                field: Field::Kind,
                value: crate::search::Value::Int(i64::from(kind.code())),
            }))
            .and(Some(Filter::Eq {
                field: Field::Code,
                value: crate::search::Value::Text(code.trim().to_owned()),
            }));
        self.find(actor, &f).await
    }

    /// Every entry of a kind, in all projects, oldest first.
    pub async fn vocab_of(&self, actor: &Actor, kind: VocabKind) -> DomainResult<Vec<Vocab>> {
        let f = Filter::Eq {
            field: Field::Kind,
            value: crate::search::Value::Int(i64::from(kind.code())),
        };
        let mut out = Vec::new();
        let mut number = 1;
        loop {
            let page = self
                .vocab
                .search(
                    At::Committed,
                    actor.tenant_id,
                    &f,
                    PageRequest::of(number, crate::search::MAX_PAGE_SIZE),
                )
                .await?;
            let done = page.items.len() < crate::search::MAX_PAGE_SIZE as usize;
            out.extend(page.items);
            if done {
                break;
            }
            number += 1;
        }
        out.reverse();
        Ok(out)
    }

    async fn vocab_entry(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: uuid::Uuid,
        kind: VocabKind,
        field: &str,
    ) -> DomainResult<Vocab> {
        match self.vocab.get(w.at(), actor.tenant_id, id.into()).await? {
            Some(v) if v.data.kind == kind => Ok(v),
            _ => Err(DomainError::validation(
                field,
                format!("{} {id} does not exist", kind.name()),
            )),
        }
    }

    /// Checks what the extension points at: status, type, custom fields (and their values'
    /// types) and funnel placements.
    pub(super) async fn check_ext(
        &self,
        w: &mut Work,
        actor: &Actor,
        ext: &crate::customer::CustomerExt,
    ) -> DomainResult<()> {
        if let Some(id) = ext.status_id {
            self.vocab_entry(w, actor, id, VocabKind::Status, "status_id")
                .await?;
        }
        if let Some(id) = ext.type_id {
            self.vocab_entry(w, actor, id, VocabKind::Type, "type_id")
                .await?;
        }
        for (id, values) in &ext.custom {
            let def = self
                .vocab_entry(w, actor, *id, VocabKind::Field, "custom_fields")
                .await?;
            for v in values {
                def.data.check_value("custom_fields", v)?;
            }
        }
        if !ext.funnels.is_empty() {
            let funnels = self.registry.funnels(actor.tenant_id).await?;
            for place in &ext.funnels {
                let funnel = funnels
                    .iter()
                    .find(|f| f.id == place.funnel_id)
                    .ok_or_else(|| {
                        DomainError::validation(
                            "funnels",
                            format!("funnel {} does not exist", place.funnel_id),
                        )
                    })?;
                funnel.check(place.index, place.second_index)?;
            }
        }
        Ok(())
    }

    pub async fn project(&self, actor: &Actor, code: Option<String>) -> DomainResult<uuid::Uuid> {
        let code = crate::common::required("project_code", code, crate::common::SHORT)?;
        let mut w = self.begin().await?;
        let id = self.registry.project(&mut w, actor, &code).await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn create_funnel(
        &self,
        actor: &Actor,
        name: &str,
        stages: Vec<crate::vocab::Stage>,
    ) -> DomainResult<uuid::Uuid> {
        let (name, stages) = crate::vocab::funnel(name, stages)?;
        let mut w = self.begin().await?;
        let id = self
            .registry
            .create_funnel(&mut w, actor, name, stages)
            .await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn funnels(&self, actor: &Actor) -> DomainResult<Vec<crate::vocab::Funnel>> {
        self.registry.funnels(actor.tenant_id).await
    }
}

#[async_trait]
impl Managed for Vocab {
    type Input = VocabData;
    fn validate(input: VocabData) -> DomainResult<Self::Data> {
        input.validate()
    }
    fn repo(crm: &Crm) -> &dyn Repository<Self> {
        crm.vocab.as_ref()
    }
    /// A status or type customers still have cannot go.
    async fn check_delete(
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: Self::Id,
    ) -> DomainResult<()> {
        let entry: Vocab = crm.get_at(w.at(), actor, id).await?;
        let field = match entry.data.kind {
            VocabKind::Status => Field::CustomerStatus,
            VocabKind::Type => Field::CustomerType,
            VocabKind::Field => return Ok(()),
        };
        let used = crm
            .count_at::<Customer>(w.at(), actor, &Filter::id(field, id.0))
            .await?;
        if used > 0 {
            return Err(DomainError::in_use(
                Some("code"),
                format!(
                    "the {} is used by {used} customer(s)",
                    entry.data.kind.name()
                ),
            ));
        }
        Ok(())
    }
}
