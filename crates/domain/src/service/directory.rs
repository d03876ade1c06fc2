//! Branches and stores, product categories, the staff directory, stored definitions and web
//! forms: what NextX keeps beside the records, each write one unit of work.

use super::*;
use crate::inventory::{Category, Doc, DocKind, Place, StaffUser};
use crate::vocab::{Definition, Webform};

impl Crm {
    /// Branches (`store` false) or stores (of one branch when given), oldest first.
    pub async fn places(
        &self,
        actor: &Actor,
        store: bool,
        branch: Option<i64>,
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
    pub async fn save_category(&self, actor: &Actor, category: Category) -> DomainResult<i64> {
        let category = category.validate()?;
        let mut w = self.begin().await?;
        let all = self.inventory.categories(w.at(), actor.tenant_id).await?;
        if category.id != 0 && !all.iter().any(|c| c.id == category.id) {
            return Err(DomainError::not_found("category"));
        }
        let mut parent = category.parent_id;
        let mut steps = 0;
        while parent != 0 {
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
    pub async fn save_user(&self, actor: &Actor, user: StaffUser) -> DomainResult<i64> {
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

    pub async fn delete_user(&self, actor: &Actor, id: i64) -> DomainResult<()> {
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
        id: i64,
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
        id: i64,
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
        id: Option<i64>,
        name: String,
        body: String,
    ) -> DomainResult<i64> {
        let mut w = self.begin().await?;
        let id = self
            .registry
            .save_definition(&mut w, actor, kind, id, name, body)
            .await?;
        w.commit().await?;
        Ok(id)
    }

    /// The web form with this key, in any tenant (an anonymous submission names it).
    pub async fn webform(&self, key: &str) -> DomainResult<Option<Webform>> {
        self.registry.webform(key).await
    }
}
