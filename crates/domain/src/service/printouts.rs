//! Sales documents to print: the seller from the tenant's document settings, a CRMTOP order or
//! a NextX sale as a [`Printout`]. Reads only.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::*;
use crate::customer::Customer;
use crate::ids::{DocId, OrderId, ProductId};
use crate::inventory::DocKind;
use crate::printout::{Documents, Printout, Seller};
use crate::sales::{Order, Product};

impl Crm {
    /// Who sells, from the tenant's document settings.
    pub async fn seller(&self, actor: &Actor) -> DomainResult<Seller> {
        let s = self.settings_secrets(actor.tenant_id, Documents).await?;
        Ok(Seller::from_settings(&s))
    }

    /// CRMTOP orders of the tenant, in the order asked; an unknown one is not found.
    pub async fn order_printouts(
        &self,
        actor: &Actor,
        ids: &[OrderId],
    ) -> DomainResult<Vec<Printout>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let order: Order = self.get(actor, *id).await?;
            out.push(Printout::of_order(&order, actor.time_zone));
        }
        Ok(out)
    }

    /// A NextX sale of the tenant, its lines named from their products and units.
    pub async fn sale_printout(&self, actor: &Actor, id: DocId) -> DomainResult<Printout> {
        let doc = self
            .find_doc(actor, DocKind::Sell, id)
            .await?
            .ok_or_else(|| DomainError::not_found("sale"))?;
        let mut products: HashMap<ProductId, (Product, Vec<crate::sales::ProductUnit>)> =
            HashMap::new();
        let mut names = Vec::with_capacity(doc.lines.len());
        for l in &doc.lines {
            let (p, units) = match products.entry(l.product_id) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let p: Product = self.get(actor, l.product_id).await?;
                    let units = self.product_units(actor, l.product_id).await?;
                    e.insert((p, units))
                }
            };
            let unit = match l.unit_id.filter(|u| Some(*u) != p.data.unit_id) {
                Some(u) => units
                    .iter()
                    .find(|x| x.unit_id == u)
                    .and_then(|x| x.unit_name.clone()),
                None => p.data.unit_name.clone(),
            };
            names.push((p.data.code.clone(), p.data.name.clone(), unit));
        }
        let customer: Option<Customer> = match doc.customer_id {
            Some(c) => self.try_get(actor, c).await?,
            None => None,
        };
        Ok(Printout::of_sale(&doc, names, customer.as_ref()))
    }
}
