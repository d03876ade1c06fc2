//! Each importable kind's rules: what a row's cells become, what it is matched on (customers,
//! contacts and leads by phone in any notation or e-mail, customers and contacts by code too,
//! products by code), and what it names (a customer group by name, created when missing; a
//! contact's company by code or name; a product's stores by name).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::imports::Importer;
use super::Crm;
use crate::common::Actor;
use crate::contact::{Contact, ContactInput};
use crate::customer::{
    Channel, Customer, CustomerExt, CustomerGroup, CustomerGroupInput, CustomerInput, Party,
};
use crate::error::DomainResult;
use crate::ids::{CustomerGroupId, CustomerId, PlaceId, ProductId};
use crate::lead::{Lead, LeadExt, LeadInput};
use crate::money::Money;
use crate::sales::{Product, ProductData};
use crate::search::{whole_term, Filter, PageRequest, TextField};
use crate::stock::NamedUnit;
use crate::text::{fold, Email, Phone};
use crate::transfer::rows::{customer_kind, parse_number, Cells};
use crate::work::{At, Work};

/// Keeps `later` where it has a value.
fn over<T>(into: &mut Option<T>, later: Option<T>) {
    if later.is_some() {
        *into = later;
    }
}

/// Sets `slot` where the row has a value.
fn set<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
    if value.is_some() {
        slot.clone_from(value);
    }
}

fn phone_keys(phones: &[Phone]) -> impl Iterator<Item = (TextField, String)> + '_ {
    phones
        .iter()
        .map(|p| (TextField::Phone, p.key().to_owned()))
}

fn code_key(code: &Option<String>) -> Option<(TextField, String)> {
    code.as_deref()
        .map(whole_term)
        .filter(|t| !t.is_empty())
        .map(|t| (TextField::Code, t))
}

/// A record's label: `KH000123 (Nguyễn Văn Đức)`.
fn labelled(code: Option<&str>, name: &str) -> String {
    match code {
        Some(c) => format!("{c} ({name})"),
        None => name.to_owned(),
    }
}

/// The phones of a list: `first` first, then the others without repeats.
fn channels(first: &[Phone], then: &[Channel<Phone>]) -> Vec<Channel<Phone>> {
    let mut out: Vec<Channel<Phone>> = first.iter().cloned().map(Channel::plain).collect();
    for c in then {
        if !out.iter().any(|o| o.value.key() == c.value.key()) {
            out.push(c.clone());
        }
    }
    out
}

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

// ----------------------------------------------------------------------------------- products

#[derive(Debug, Clone, Default)]
pub(crate) struct ProductRow {
    code: Option<String>,
    name: Option<String>,
    unit: Option<String>,
    price: Option<Money>,
    purchase_price: Option<Money>,
    units: Vec<NamedUnit>,
    category: Option<String>,
    description: Option<String>,
    /// Opening stock: the store as the header names it (empty: the first store), quantity.
    stock: Vec<(String, f64)>,
    /// The stores resolved: (branch, store, quantity).
    places: Vec<(PlaceId, PlaceId, f64)>,
}

pub(crate) struct Products;

/// `Thùng=24:200000; Lốc=6` → (Thùng, 24 base units, 200,000 ₫), (Lốc, 6, 0).
fn named_units(c: &mut Cells, text: &str) -> Vec<NamedUnit> {
    let mut out = Vec::new();
    for part in text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let parsed = part.split_once('=').and_then(|(name, rest)| {
            let (rate, price) = match rest.split_once(':') {
                Some((r, p)) => (parse_number(r)?, parse_number(p)?),
                None => (parse_number(rest)?, 0.0),
            };
            (rate > 0.0 && price >= 0.0 && !name.trim().is_empty()).then(|| NamedUnit {
                name: name.trim().to_owned(),
                rate,
                retail_price: Money::from_f64(price),
            })
        });
        match parsed {
            Some(u) => out.push(u),
            None => c.fail(
                "units",
                format!("'{part}' is not 'unit=base units' or 'unit=base units:price'"),
            ),
        }
    }
    out
}

#[async_trait]
impl Importer for Products {
    type E = Product;
    type Row = ProductRow;

    fn read(&self, c: &mut Cells) -> ProductRow {
        let units = match c.text("units") {
            Some(t) => named_units(c, &t),
            None => Vec::new(),
        };
        let mut stock = c.stock();
        for (store, q) in &stock {
            if *q < 0.0 {
                c.fail(&format!("stock:{store}"), "must not be negative");
            }
        }
        stock.retain(|(_, q)| *q > 0.0);
        ProductRow {
            code: c.text("code"),
            name: c.text("name"),
            unit: c.text("unit"),
            price: c.money("price"),
            purchase_price: c.money("purchase_price"),
            units,
            category: c.text("category"),
            description: c.text("description"),
            stock,
            places: Vec::new(),
        }
    }

    fn keys(&self, r: &ProductRow) -> Vec<(TextField, String)> {
        code_key(&r.code).into_iter().collect()
    }

    fn record_keys(&self, p: &Product) -> Vec<(TextField, String)> {
        code_key(&p.data.code).into_iter().collect()
    }

    fn label(&self, p: &Product) -> String {
        labelled(p.data.code.as_deref(), &p.data.name)
    }

    async fn resolve(
        &self,
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        rows: &mut [ProductRow],
    ) -> DomainResult<Vec<(usize, String, String)>> {
        if rows.iter().all(|r| r.stock.is_empty()) {
            return Ok(Vec::new());
        }
        let stores = crm
            .inventory
            .places(At::Work(w), actor.tenant_id, true, None)
            .await?;
        let mut missing = Vec::new();
        for (i, r) in rows.iter_mut().enumerate() {
            for (name, q) in &r.stock {
                let found = if name.is_empty() {
                    stores.first()
                } else {
                    stores
                        .iter()
                        .find(|s| fold(&s.name) == fold(name) || fold(&s.code) == fold(name))
                };
                match found.and_then(|s| s.branch_id.map(|b| (b, s.id))) {
                    Some((branch, store)) => r.places.push((branch, store, *q)),
                    None => {
                        missing.push((
                            i,
                            format!("stock:{name}"),
                            if name.is_empty() {
                                "there is no store to put opening stock in".to_owned()
                            } else {
                                format!("no store is named '{name}'")
                            },
                        ));
                        break;
                    }
                }
            }
        }
        Ok(missing)
    }

    fn input(&self, r: &ProductRow, stored: Option<&Product>) -> ProductData {
        let mut d = match stored {
            Some(p) => p.data.clone(),
            None => ProductData {
                code: None,
                name: String::new(),
                group_id: None,
                group_name: None,
                unit_id: None,
                unit_name: None,
                import_price: Money::ZERO,
                retail_price: Money::ZERO,
                wholesale_price: Money::ZERO,
                config: None,
                note: None,
                image: None,
                ext: None,
            },
        };
        set(&mut d.code, &r.code);
        if let Some(n) = &r.name {
            d.name.clone_from(n);
        }
        if stored.is_none() {
            d.unit_name.clone_from(&r.unit);
        }
        if let Some(p) = r.price {
            d.retail_price = p;
        }
        if let Some(p) = r.purchase_price {
            d.import_price = p;
        }
        set(&mut d.group_name, &r.category);
        set(&mut d.note, &r.description);
        d
    }

    fn merge(&self, into: &mut ProductRow, later: ProductRow) {
        over(&mut into.code, later.code);
        over(&mut into.name, later.name);
        over(&mut into.unit, later.unit);
        over(&mut into.price, later.price);
        over(&mut into.purchase_price, later.purchase_price);
        if !later.units.is_empty() {
            into.units = later.units;
        }
        over(&mut into.category, later.category);
        over(&mut into.description, later.description);
        into.stock.extend(later.stock);
        into.places.extend(later.places);
    }

    /// A new product's extra units and opening stock per store; an updated one keeps its
    /// units and stock (stock moves only through documents).
    async fn after(
        &self,
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: ProductId,
        row: &ProductRow,
        created: bool,
    ) -> DomainResult<()> {
        if !created {
            return Ok(());
        }
        crm.add_named_units_in(w, actor, id, row.units.clone())
            .await?;
        for (branch, store, q) in &row.places {
            crm.opening_stock_in(w, actor, id, *branch, Some(*store), *q)
                .await?;
        }
        Ok(())
    }

    fn field_of(&self, f: &str) -> Option<&'static str> {
        Some(match f {
            "code" => "code",
            "name" => "name",
            "unit_name" | "unit" => "unit",
            "retail_price" => "price",
            "import_price" => "purchase_price",
            "group_name" => "category",
            "note" => "description",
            _ if f.starts_with("units") => "units",
            _ => return None,
        })
    }
}
