//! Branches and stores, product categories, the staff directory, stored definitions and web
//! forms: what NextX keeps beside the records, each write one unit of work.

use super::*;
use crate::ids::{CategoryId, DefinitionId, DocId, PlaceId, StaffId};
use crate::inventory::{Category, Doc, DocKind, Place, StaffUser};
use crate::search::Value;
use crate::vocab::{Definition, Webform};
use crate::work::Lock;

impl Crm {
    /// Branches (`store` false) or stores (of one branch when given), oldest first.
    pub async fn places(
        &self,
        actor: &Actor,
        store: bool,
        branch: Option<PlaceId>,
    ) -> DomainResult<Vec<Place>> {
        self.inventory
            .places(At::Committed, actor.tenant_id, store, branch)
            .await
    }

    pub async fn categories(&self, actor: &Actor) -> DomainResult<Vec<Category>> {
        self.inventory
            .categories(At::Committed, actor.tenant_id)
            .await
    }

    /// Creates (`id` 0) or replaces a category. Its parent (0 for none) must be another
    /// category of the tenant, and not one below it.
    pub async fn save_category(
        &self,
        actor: &Actor,
        category: Category,
    ) -> DomainResult<CategoryId> {
        let category = category.validate()?;
        let mut w = self.begin().await?;
        let all = self.inventory.categories(w.at(), actor.tenant_id).await?;
        if !category.id.is_zero() && !all.iter().any(|c| c.id == category.id) {
            return Err(DomainError::not_found("category"));
        }
        let mut parent = category.parent_id;
        let mut steps = 0;
        while !parent.is_zero() {
            if parent == category.id {
                return Err(DomainError::validation(
                    "parent_id",
                    "a category cannot be its own parent or below itself",
                ));
            }
            let Some(up) = all.iter().find(|c| c.id == parent) else {
                return Err(DomainError::validation(
                    "parent_id",
                    format!("category {parent} does not exist"),
                ));
            };
            parent = up.parent_id;
            steps += 1;
            if steps > all.len() {
                break;
            }
        }
        let id = self
            .inventory
            .save_category(&mut w, actor, category)
            .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Live staff users, oldest first.
    pub async fn users(&self, actor: &Actor) -> DomainResult<Vec<StaffUser>> {
        self.inventory.users(At::Committed, actor.tenant_id).await
    }

    /// Creates (`id` 0) or replaces a staff user; its branch, when set, must exist.
    pub async fn save_user(&self, actor: &Actor, user: StaffUser) -> DomainResult<StaffId> {
        let user = user.validate()?;
        let mut w = self.begin().await?;
        if let Some(branch) = user.branch_id {
            let branches = self
                .inventory
                .places(w.at(), actor.tenant_id, false, None)
                .await?;
            if !branches.iter().any(|b| b.id == branch) {
                return Err(DomainError::validation(
                    "branch_id",
                    format!("branch {branch} does not exist"),
                ));
            }
        }
        let id = self.inventory.save_user(&mut w, actor, user).await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn delete_user(&self, actor: &Actor, id: StaffId) -> DomainResult<()> {
        let mut w = self.begin().await?;
        if !self.inventory.delete_user(&mut w, actor, id).await? {
            return Err(DomainError::not_found("user"));
        }
        w.commit().await
    }

    /// What each customer owes, in the order given.
    pub async fn customer_dues(
        &self,
        actor: &Actor,
        customers: &[CustomerId],
    ) -> DomainResult<Vec<(CustomerId, crate::money::Money)>> {
        self.inventory
            .customer_dues(actor.tenant_id, customers)
            .await
    }

    /// A document by its id, if the tenant has it.
    pub async fn find_doc(
        &self,
        actor: &Actor,
        kind: DocKind,
        id: DocId,
    ) -> DomainResult<Option<Doc>> {
        self.inventory
            .doc(At::Committed, actor.tenant_id, kind, id)
            .await
    }

    pub async fn doc_by_invoice(
        &self,
        actor: &Actor,
        kind: DocKind,
        invoice: &str,
    ) -> DomainResult<Option<Doc>> {
        self.inventory
            .doc_by_invoice(At::Committed, actor.tenant_id, kind, invoice)
            .await
    }

    /// A record if the tenant has it (`None` rather than an error).
    pub async fn try_get<E: Managed>(&self, actor: &Actor, id: E::Id) -> DomainResult<Option<E>> {
        E::repo(self).get(At::Committed, actor.tenant_id, id).await
    }

    /// Stored definitions of a kind (automations, campaigns), newest first.
    pub async fn definitions(
        &self,
        actor: &Actor,
        kind: &str,
        search: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Vec<Definition>> {
        self.registry
            .definitions(actor.tenant_id, kind, search, page)
            .await
    }

    pub async fn definition(
        &self,
        actor: &Actor,
        kind: &str,
        id: DefinitionId,
    ) -> DomainResult<Option<Definition>> {
        self.registry
            .definition(At::Committed, actor.tenant_id, kind, id)
            .await
    }

    /// Creates (`id` `None`) or replaces a stored definition.
    pub async fn save_definition(
        &self,
        actor: &Actor,
        kind: &str,
        id: Option<DefinitionId>,
        name: String,
        body: String,
    ) -> DomainResult<DefinitionId> {
        self.save_definition_sending(actor, kind, id, name, body, None)
            .await
    }

    /// Creates or replaces a stored definition that is a campaign (its key is `<prefix>:<id>`)
    /// and, with a plan, plans its send, in one unit of work; without one (a draft), a send
    /// still waiting is cancelled.
    pub async fn save_definition_sending(
        &self,
        actor: &Actor,
        kind: &str,
        id: Option<DefinitionId>,
        name: String,
        body: String,
        send: Option<(&str, Option<crate::campaign::BlastPlan>)>,
    ) -> DomainResult<DefinitionId> {
        let mut w = self.begin().await?;
        let id = self
            .registry
            .save_definition(&mut w, actor, kind, id, name, body)
            .await?;
        if let Some((prefix, plan)) = send {
            let key = format!("{prefix}:{id}");
            match plan {
                Some(plan) => {
                    self.plan_blast_in(&mut w, actor, key, &plan).await?;
                }
                None => self.cancel_blast_in(&mut w, actor.tenant_id, &key).await?,
            }
        }
        w.commit().await?;
        Ok(id)
    }

    /// The web form with this key, in any tenant (an anonymous submission names it).
    pub async fn webform(&self, key: &str) -> DomainResult<Option<Webform>> {
        self.registry.webform(key).await
    }
}

/// Records by integer id; branches and stores.
impl Crm {
    /// A record by its integer id.
    pub async fn by_seq<E: crate::service::Managed>(
        &self,
        actor: &Actor,
        seq: i64,
    ) -> DomainResult<Option<E>> {
        self.by_seq_at(At::Committed, actor, seq).await
    }

    pub(crate) async fn by_seq_at<E: crate::service::Managed>(
        &self,
        at: At<'_>,
        actor: &Actor,
        seq: i64,
    ) -> DomainResult<Option<E>> {
        let f = Filter::Eq {
            field: Field::Seq,
            value: Value::Int(seq),
        };
        self.find_at(at, actor, &f).await
    }

    /// Creates a branch with its first store ("Kho mặc định"), or a store of a branch.
    pub async fn create_place(
        &self,
        actor: &Actor,
        store: bool,
        place: Place,
    ) -> DomainResult<PlaceId> {
        let place = place.validate()?;
        let mut w = self.begin().await?;
        if store {
            let branch = place
                .branch_id
                .ok_or_else(|| DomainError::validation("branch_id", "is required"))?;
            self.branch_at(w.at(), actor, branch).await?;
            let id = self
                .inventory
                .create_place(&mut w, actor, true, place)
                .await?;
            w.commit().await?;
            return Ok(id);
        }
        let id = self
            .inventory
            .create_place(&mut w, actor, false, place.clone())
            .await?;
        let default = Place {
            branch_id: Some(id),
            code: format!("{}-KHO", place.code),
            name: "Kho mặc định".to_owned(),
            ..Place::default()
        };
        self.inventory
            .create_place(&mut w, actor, true, default)
            .await?;
        w.commit().await?;
        Ok(id)
    }

    pub async fn branch(&self, actor: &Actor, id: PlaceId) -> DomainResult<Place> {
        self.branch_at(At::Committed, actor, id).await
    }

    pub(crate) async fn branch_at(
        &self,
        at: At<'_>,
        actor: &Actor,
        id: PlaceId,
    ) -> DomainResult<Place> {
        self.inventory
            .places(at, actor.tenant_id, false, None)
            .await?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| {
                DomainError::validation("branch_id", format!("branch {id} does not exist"))
            })
    }

    /// The store to move stock in: the one named (it must be the branch's), or the branch's first.
    pub async fn store_of(
        &self,
        actor: &Actor,
        branch: PlaceId,
        store: Option<PlaceId>,
    ) -> DomainResult<PlaceId> {
        self.store_at(At::Committed, actor, branch, store).await
    }

    pub(crate) async fn store_at(
        &self,
        at: At<'_>,
        actor: &Actor,
        branch: PlaceId,
        store: Option<PlaceId>,
    ) -> DomainResult<PlaceId> {
        let stores = self
            .inventory
            .places(at, actor.tenant_id, true, Some(branch))
            .await?;
        match store.and_then(PlaceId::nonzero) {
            Some(s) if stores.iter().any(|p| p.id == s) => Ok(s),
            Some(s) => Err(DomainError::validation(
                "store_id",
                format!("store {s} is not a store of branch {branch}"),
            )),
            None => stores.first().map(|p| p.id).ok_or_else(|| {
                DomainError::validation("store_id", format!("branch {branch} has no store"))
            }),
        }
    }
}

/// Web forms.
impl Crm {
    pub async fn create_webform(
        &self,
        actor: &Actor,
        name: Option<String>,
        fields: Vec<String>,
    ) -> DomainResult<crate::vocab::Webform> {
        let name = crate::common::required("name", name, crate::common::SHORT)?;
        let fields = if fields.is_empty() {
            crate::vocab::WEBFORM_FIELDS
                .iter()
                .map(|f| (*f).to_owned())
                .collect()
        } else {
            for f in &fields {
                if !crate::vocab::WEBFORM_FIELDS.contains(&f.as_str()) {
                    return Err(DomainError::validation(
                        "fields",
                        format!(
                            "'{f}' is not one of {}",
                            crate::vocab::WEBFORM_FIELDS.join(", ")
                        ),
                    ));
                }
            }
            fields
        };
        let mut w = self.begin().await?;
        let form = self
            .registry
            .create_webform(&mut w, actor, name, fields)
            .await?;
        w.commit().await?;
        Ok(form)
    }

    /// A submission: updates the lead with the same phone or e-mail (filling what it lacks
    /// and adding the message to its notes), or creates one. Returns the lead and whether
    /// it was new.
    pub async fn submit_webform(
        &self,
        actor: &Actor,
        form: &crate::vocab::Webform,
        input: crate::lead::LeadInput,
        message: Option<String>,
    ) -> DomainResult<(crate::ids::LeadId, bool)> {
        let data = input.clone().validate()?;
        let mut same = Vec::new();
        if let Some(p) = &data.phone {
            same.push(Filter::Text {
                field: Some(crate::search::TextField::Phone),
                terms: vec![p.key().to_owned()],
            });
        }
        if let Some(e) = &data.email {
            same.push(Filter::Text {
                field: Some(crate::search::TextField::Email),
                terms: vec![e.key().to_owned()],
            });
        }
        if same.is_empty() {
            return Err(DomainError::validation(
                "mobile",
                "a phone number or an e-mail is required",
            ));
        }
        let mut w = self.begin().await?;
        // Two submissions from one person at once must make one lead.
        w.lock(actor.tenant_id, Lock::Dedup).await?;
        let found: Option<crate::lead::Lead> =
            self.find_at(w.at(), actor, &Filter::Any(same)).await?;
        let note = |old: Option<String>| -> Option<String> {
            match (old, message.clone()) {
                (Some(o), Some(m)) => Some(format!("{o}\n[{}] {m}", form.name)),
                (None, Some(m)) => Some(format!("[{}] {m}", form.name)),
                (o, None) => o,
            }
        };
        match found {
            Some(lead) => {
                let d = lead.data.clone();
                let mut ext = d.ext.clone().unwrap_or_default();
                let new_ext = input.ext.clone().unwrap_or_default();
                ext.website = ext.website.or(new_ext.website);
                ext.address = ext.address.or(new_ext.address);
                ext.sex = ext.sex.or(new_ext.sex);
                let merged = crate::lead::LeadInput {
                    source: d.source,
                    status: d.status,
                    full_name: Some(d.full_name.clone()),
                    email: d
                        .email
                        .as_ref()
                        .map(|e| e.as_str().to_owned())
                        .or(input.email.clone()),
                    phone: d
                        .phone
                        .as_ref()
                        .map(|p| p.as_str().to_owned())
                        .or(input.phone.clone()),
                    company: d.company.clone(),
                    position: d.position.clone(),
                    industry: d.industry,
                    rating: d.rating,
                    probability: d.probability,
                    notes: note(d.notes.clone()),
                    assigned_to: d.assigned_to,
                    ownership: d.ownership.clone(),
                    ext: Some(ext),
                };
                self.update_in::<crate::lead::Lead>(&mut w, actor, lead.id, merged)
                    .await?;
                w.commit().await?;
                Ok((lead.id, false))
            }
            None => {
                let mut input = input;
                input.notes = note(input.notes.take());
                let mut ext = input.ext.take().unwrap_or_default();
                ext.origin = Some(format!("web form {}", form.name));
                input.ext = Some(ext);
                let id = self
                    .create_in::<crate::lead::Lead>(&mut w, actor, input)
                    .await?;
                w.commit().await?;
                Ok((id, true))
            }
        }
    }
}
