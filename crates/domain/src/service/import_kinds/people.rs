//! Customers, contacts and leads: people matched by phone in any notation or e-mail, customers
//! and contacts by code too.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::common::Actor;
use crate::contact::{Contact, ContactInput};
use crate::customer::{
    Channel, Customer, CustomerExt, CustomerGroup, CustomerGroupInput, CustomerInput, Party,
};
use crate::error::DomainResult;
use crate::ids::{CustomerGroupId, CustomerId};
use crate::lead::{Lead, LeadExt, LeadInput};
use crate::search::{whole_term, Filter, PageRequest, TextField};
use crate::service::imports::Importer;
use crate::service::Crm;
use crate::text::{fold, Email, Phone};
use crate::transfer::rows::{customer_kind, Cells};
use crate::work::Work;

use super::{channels, code_key, labelled, over, phone_keys, set};

// ---------------------------------------------------------------------------------- customers

#[derive(Debug, Clone, Default)]
pub(crate) struct CustomerRow {
    code: Option<String>,
    name: Option<String>,
    phones: Vec<Phone>,
    email: Option<Email>,
    address: Option<String>,
    group: Option<String>,
    group_id: Option<CustomerGroupId>,
    birthday: Option<NaiveDate>,
    gender: Option<&'static str>,
    tax_code: Option<String>,
    website: Option<String>,
    note: Option<String>,
    kind: Option<i32>,
    job_title: Option<String>,
}

pub(crate) struct Customers;

#[async_trait]
impl Importer for Customers {
    type E = Customer;
    type Row = CustomerRow;

    fn read(&self, c: &mut Cells) -> CustomerRow {
        let kind = c.text("kind").and_then(|k| {
            let kind = customer_kind(&k);
            if kind.is_none() {
                c.fail("kind", format!("'{k}' is not Cá nhân or Doanh nghiệp"));
            }
            kind
        });
        CustomerRow {
            code: c.text("code"),
            name: c.text("name"),
            phones: c.phones("phone"),
            email: c.email("email"),
            address: c.text("address"),
            group: c.text("group"),
            group_id: None,
            birthday: c.date("birthday"),
            gender: c.gender("gender"),
            tax_code: c.text("tax_code"),
            website: c.text("website"),
            note: c.text("note"),
            kind,
            job_title: c.text("job_title"),
        }
    }

    fn keys(&self, r: &CustomerRow) -> Vec<(TextField, String)> {
        phone_keys(&r.phones)
            .chain(
                r.email
                    .iter()
                    .map(|e| (TextField::Email, e.key().to_owned())),
            )
            .chain(code_key(&r.code))
            .collect()
    }

    fn record_keys(&self, c: &Customer) -> Vec<(TextField, String)> {
        let d = &c.data;
        let mut out: Vec<(TextField, String)> = Vec::new();
        out.extend(
            d.phone
                .iter()
                .map(|p| (TextField::Phone, p.key().to_owned())),
        );
        out.extend(
            d.email
                .iter()
                .map(|e| (TextField::Email, e.key().to_owned())),
        );
        if let Some(ext) = &d.ext {
            out.extend(
                ext.phones
                    .iter()
                    .map(|p| (TextField::Phone, p.value.key().to_owned())),
            );
            out.extend(
                ext.emails
                    .iter()
                    .map(|e| (TextField::Email, e.value.key().to_owned())),
            );
        }
        out.extend(code_key(&d.code));
        out
    }

    fn label(&self, c: &Customer) -> String {
        labelled(c.data.code.as_deref(), &c.data.name)
    }

    async fn resolve(
        &self,
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        rows: &mut [CustomerRow],
    ) -> DomainResult<Vec<(usize, String, String)>> {
        let mut ids: HashMap<String, CustomerGroupId> = HashMap::new();
        for r in rows.iter_mut() {
            let Some(name) = r.group.clone() else {
                continue;
            };
            let key = fold(&name);
            if let Some(id) = ids.get(&key) {
                r.group_id = Some(*id);
                continue;
            }
            let found = match Filter::text(Some(TextField::Name), &name) {
                Some(f) => {
                    crm.groups
                        .search(w.at(), actor.tenant_id, &f, PageRequest::new(1, 50)?)
                        .await?
                        .items
                }
                None => Vec::new(),
            };
            let id = match found.iter().find(|g| fold(&g.data.name) == key) {
                Some(g) => g.id,
                None => {
                    crm.create_in::<CustomerGroup>(
                        w,
                        actor,
                        CustomerGroupInput {
                            name: Some(name.clone()),
                            note: None,
                            project: None,
                        },
                    )
                    .await?
                }
            };
            ids.insert(key, id);
            r.group_id = Some(id);
        }
        Ok(Vec::new())
    }

    fn input(&self, r: &CustomerRow, stored: Option<&Customer>) -> CustomerInput {
        let mut i = stored
            .map(|s| CustomerInput::from(&s.data))
            .unwrap_or_default();
        set(&mut i.code, &r.code);
        set(&mut i.name, &r.name);
        set(&mut i.address, &r.address);
        set(&mut i.tax_code, &r.tax_code);
        set(&mut i.website, &r.website);
        set(&mut i.note, &r.note);
        set(&mut i.kind, &r.kind);
        if r.group_id.is_some() {
            i.group_id = r.group_id;
        }
        let mut ext: CustomerExt = i.ext.take().unwrap_or_default();
        if !r.phones.is_empty() {
            ext.phones = channels(&r.phones, &ext.phones);
        }
        if let Some(e) = &r.email {
            let rest = std::mem::take(&mut ext.emails);
            ext.emails = vec![Channel::plain(e.clone())];
            ext.emails
                .extend(rest.into_iter().filter(|x| x.value.key() != e.key()));
        }
        i.phone = ext.phones.first().map(|p| p.value.as_str().to_owned());
        i.email = ext.emails.first().map(|e| e.value.as_str().to_owned());
        if let Some(g) = r.gender {
            ext.gender = Some(g.to_owned());
        }
        set(&mut ext.job_title, &r.job_title);
        if r.birthday.is_some() {
            let party = ext.party.get_or_insert_with(|| Party {
                kind: "customer".to_owned(),
                ..Party::default()
            });
            party.birthday = r.birthday;
        }
        i.ext = Some(ext);
        i
    }

    fn merge(&self, into: &mut CustomerRow, later: CustomerRow) {
        over(&mut into.code, later.code);
        over(&mut into.name, later.name);
        for p in later.phones {
            if !into.phones.iter().any(|x| x.key() == p.key()) {
                into.phones.push(p);
            }
        }
        over(&mut into.email, later.email);
        over(&mut into.address, later.address);
        over(&mut into.group, later.group);
        over(&mut into.group_id, later.group_id);
        over(&mut into.birthday, later.birthday);
        over(&mut into.gender, later.gender);
        over(&mut into.tax_code, later.tax_code);
        over(&mut into.website, later.website);
        over(&mut into.note, later.note);
        over(&mut into.kind, later.kind);
        over(&mut into.job_title, later.job_title);
    }

    fn field_of(&self, f: &str) -> Option<&'static str> {
        Some(match f.split(['.', '[']).next().unwrap_or(f) {
            "code" => "code",
            "name" => "name",
            "phone" | "phones" => "phone",
            "email" | "emails" => "email",
            "address" => "address",
            "group_id" => "group",
            "tax_code" => "tax_code",
            "website" => "website",
            "note" => "note",
            "kind" => "kind",
            "gender" => "gender",
            "job_title" => "job_title",
            _ => return None,
        })
    }
}

// ----------------------------------------------------------------------------------- contacts

#[derive(Debug, Clone, Default)]
pub(crate) struct ContactRow {
    code: Option<String>,
    name: Option<String>,
    customer: Option<String>,
    customer_id: Option<CustomerId>,
    position: Option<String>,
    department: Option<String>,
    phones: Vec<Phone>,
    email: Option<Email>,
    gender: Option<i32>,
    birthday: Option<NaiveDate>,
    address: Option<String>,
    note: Option<String>,
}

pub(crate) struct Contacts;

/// The customer a contact names, by its code, else by its whole name.
async fn customer_named(
    crm: &Crm,
    w: &mut Work,
    actor: &Actor,
    text: &str,
) -> DomainResult<Option<CustomerId>> {
    let page = PageRequest::new(1, 50)?;
    let by_code = crm
        .customers
        .search(
            w.at(),
            actor.tenant_id,
            &Filter::whole(TextField::Code, text),
            page,
        )
        .await?;
    let key = whole_term(text);
    if let Some(c) = by_code
        .items
        .iter()
        .find(|c| c.data.code.as_deref().map(whole_term).as_deref() == Some(key.as_str()))
    {
        return Ok(Some(c.id));
    }
    let Some(f) = Filter::text(Some(TextField::Name), text) else {
        return Ok(None);
    };
    let by_name = crm
        .customers
        .search(w.at(), actor.tenant_id, &f, page)
        .await?;
    Ok(by_name
        .items
        .iter()
        .find(|c| fold(&c.data.name) == fold(text))
        .map(|c| c.id))
}

#[async_trait]
impl Importer for Contacts {
    type E = Contact;
    type Row = ContactRow;

    fn read(&self, c: &mut Cells) -> ContactRow {
        ContactRow {
            code: c.text("code"),
            name: c.text("name"),
            customer: c.text("customer"),
            customer_id: None,
            position: c.text("position"),
            department: c.text("department"),
            phones: c.phones("phone"),
            email: c.email("email"),
            gender: c.gender("gender").map(|g| match g {
                "male" => 1,
                "female" => 2,
                _ => 3,
            }),
            birthday: c.date("birthday"),
            address: c.text("address"),
            note: c.text("note"),
        }
    }

    fn keys(&self, r: &ContactRow) -> Vec<(TextField, String)> {
        phone_keys(&r.phones)
            .chain(
                r.email
                    .iter()
                    .map(|e| (TextField::Email, e.key().to_owned())),
            )
            .chain(code_key(&r.code))
            .collect()
    }

    fn record_keys(&self, c: &Contact) -> Vec<(TextField, String)> {
        let d = &c.data;
        d.phone
            .iter()
            .map(|p| (TextField::Phone, p.key().to_owned()))
            .chain(
                d.email
                    .iter()
                    .map(|e| (TextField::Email, e.key().to_owned())),
            )
            .chain(code_key(&d.code))
            .collect()
    }

    fn label(&self, c: &Contact) -> String {
        labelled(c.data.code.as_deref(), &c.data.full_name)
    }

    async fn resolve(
        &self,
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        rows: &mut [ContactRow],
    ) -> DomainResult<Vec<(usize, String, String)>> {
        let mut known: HashMap<String, Option<CustomerId>> = HashMap::new();
        let mut missing = Vec::new();
        for (i, r) in rows.iter_mut().enumerate() {
            let Some(text) = r.customer.clone() else {
                continue;
            };
            let id = match known.get(&fold(&text)) {
                Some(id) => *id,
                None => {
                    let id = customer_named(crm, w, actor, &text).await?;
                    known.insert(fold(&text), id);
                    id
                }
            };
            match id {
                Some(id) => r.customer_id = Some(id),
                None => missing.push((
                    i,
                    "customer".to_owned(),
                    format!("no customer has the code or name '{text}'"),
                )),
            }
        }
        Ok(missing)
    }

    fn input(&self, r: &ContactRow, stored: Option<&Contact>) -> ContactInput {
        let mut i = stored
            .map(|s| ContactInput::from(&s.data))
            .unwrap_or_default();
        set(&mut i.code, &r.code);
        set(&mut i.full_name, &r.name);
        set(&mut i.customer_id, &r.customer_id);
        set(&mut i.position, &r.position);
        set(&mut i.department, &r.department);
        if let Some(p) = r.phones.first() {
            i.phone = Some(p.as_str().to_owned());
        }
        if let Some(e) = &r.email {
            i.email = Some(e.as_str().to_owned());
        }
        set(&mut i.gender, &r.gender);
        set(&mut i.birthday, &r.birthday);
        set(&mut i.address, &r.address);
        set(&mut i.note, &r.note);
        i
    }

    fn merge(&self, into: &mut ContactRow, later: ContactRow) {
        over(&mut into.code, later.code);
        over(&mut into.name, later.name);
        over(&mut into.customer, later.customer);
        over(&mut into.customer_id, later.customer_id);
        over(&mut into.position, later.position);
        over(&mut into.department, later.department);
        if !later.phones.is_empty() {
            into.phones = later.phones;
        }
        over(&mut into.email, later.email);
        over(&mut into.gender, later.gender);
        over(&mut into.birthday, later.birthday);
        over(&mut into.address, later.address);
        over(&mut into.note, later.note);
    }

    fn field_of(&self, f: &str) -> Option<&'static str> {
        Some(match f {
            "code" => "code",
            "full_name" => "name",
            "customer_id" => "customer",
            "position" => "position",
            "department" => "department",
            "phone" => "phone",
            "email" => "email",
            "gender" => "gender",
            "address" => "address",
            "note" => "note",
            _ => return None,
        })
    }
}

// -------------------------------------------------------------------------------------- leads

#[derive(Debug, Clone, Default)]
pub(crate) struct LeadRow {
    name: Option<String>,
    phones: Vec<Phone>,
    email: Option<Email>,
    company: Option<String>,
    position: Option<String>,
    address: Option<String>,
    website: Option<String>,
    birthday: Option<NaiveDate>,
    gender: Option<&'static str>,
    source: Option<i32>,
    note: Option<String>,
}

pub(crate) struct Leads;

#[async_trait]
impl Importer for Leads {
    type E = Lead;
    type Row = LeadRow;

    fn read(&self, c: &mut Cells) -> LeadRow {
        // A source is CRMTOP's number; a name (`Facebook`) goes to the notes.
        let (source, source_name) = match c.text("source") {
            Some(s) => match s.parse::<i32>() {
                Ok(n) if n >= 0 => (Some(n), None),
                _ => (None, Some(s)),
            },
            None => (None, None),
        };
        let note = match (c.text("note"), source_name) {
            (Some(n), Some(s)) => Some(format!("{n}\nNguồn: {s}")),
            (None, Some(s)) => Some(format!("Nguồn: {s}")),
            (n, None) => n,
        };
        LeadRow {
            name: c.text("name"),
            phones: c.phones("phone"),
            email: c.email("email"),
            company: c.text("company"),
            position: c.text("position"),
            address: c.text("address"),
            website: c.text("website"),
            birthday: c.date("birthday"),
            gender: c.gender("gender"),
            source,
            note,
        }
    }

    fn keys(&self, r: &LeadRow) -> Vec<(TextField, String)> {
        phone_keys(&r.phones)
            .chain(
                r.email
                    .iter()
                    .map(|e| (TextField::Email, e.key().to_owned())),
            )
            .collect()
    }

    fn record_keys(&self, l: &Lead) -> Vec<(TextField, String)> {
        let d = &l.data;
        d.phone
            .iter()
            .map(|p| (TextField::Phone, p.key().to_owned()))
            .chain(
                d.email
                    .iter()
                    .map(|e| (TextField::Email, e.key().to_owned())),
            )
            .collect()
    }

    fn label(&self, l: &Lead) -> String {
        format!("lead {} ({})", l.seq, l.data.full_name)
    }

    fn input(&self, r: &LeadRow, stored: Option<&Lead>) -> LeadInput {
        let mut i = stored.map(|s| LeadInput::from(&s.data)).unwrap_or_default();
        set(&mut i.full_name, &r.name);
        if let Some(p) = r.phones.first() {
            i.phone = Some(p.as_str().to_owned());
        }
        if let Some(e) = &r.email {
            i.email = Some(e.as_str().to_owned());
        }
        set(&mut i.company, &r.company);
        set(&mut i.position, &r.position);
        set(&mut i.source, &r.source);
        set(&mut i.notes, &r.note);
        let mut ext: LeadExt = i.ext.take().unwrap_or_default();
        set(&mut ext.address, &r.address);
        set(&mut ext.website, &r.website);
        set(&mut ext.birthday, &r.birthday);
        if let Some(g) = r.gender {
            ext.sex = Some(g.to_owned());
        }
        i.ext = Some(ext);
        i
    }

    fn merge(&self, into: &mut LeadRow, later: LeadRow) {
        over(&mut into.name, later.name);
        if !later.phones.is_empty() {
            into.phones = later.phones;
        }
        over(&mut into.email, later.email);
        over(&mut into.company, later.company);
        over(&mut into.position, later.position);
        over(&mut into.address, later.address);
        over(&mut into.website, later.website);
        over(&mut into.birthday, later.birthday);
        over(&mut into.gender, later.gender);
        over(&mut into.source, later.source);
        over(&mut into.note, later.note);
    }

    fn field_of(&self, f: &str) -> Option<&'static str> {
        Some(match f {
            "full_name" => "name",
            "phone" => "phone",
            "email" => "email",
            "company" => "company",
            "position" => "position",
            "source" => "source",
            "notes" => "note",
            _ => return None,
        })
    }
}
