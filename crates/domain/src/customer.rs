//! Customers (a person or an organisation the tenant sells to) and customer groups.

use crate::common::{int_in, required, text, Audit, Ownership, LONG, SHORT};
use crate::error::DomainResult;
use crate::ids::{CustomerGroupId, CustomerId};
use crate::search::{TermSet, TextField};
use crate::text::{Email, Phone};

/// Customer kind: 1 = individual (cá nhân), 2 = organisation (doanh nghiệp).
pub const KIND_INDIVIDUAL: i32 = 1;
pub const KIND_ORGANISATION: i32 = 2;

/// What a caller may set on a customer, as received.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<i32>,
    pub tax_code: Option<String>,
    pub business_type: Option<String>,
    pub group_id: Option<CustomerGroupId>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub note: Option<String>,
    pub ownership: Ownership,
    /// What other vendors add (phone lists, labels, partner ids…); `None` keeps the stored
    /// values (a dialect that does not know them), `Some` replaces them.
    pub ext: Option<CustomerExt>,
}

/// A customer's validated attributes. `code` is `None` only before the store assigns one.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerData {
    pub code: Option<String>,
    pub name: String,
    pub kind: i32,
    pub tax_code: Option<String>,
    pub business_type: Option<String>,
    pub group_id: Option<CustomerGroupId>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub note: Option<String>,
    pub ownership: Ownership,
    /// Always `Some` once stored; `None` only in an update that keeps the stored values.
    pub ext: Option<CustomerExt>,
}

impl CustomerInput {
    pub fn validate(self) -> DomainResult<CustomerData> {
        Ok(CustomerData {
            code: text("code", self.code, SHORT)?,
            name: required("name", self.name, SHORT)?,
            kind: int_in("kind", self.kind.filter(|k| *k != 0), 1..=2)?.unwrap_or(KIND_INDIVIDUAL),
            tax_code: text("tax_code", self.tax_code, SHORT)?,
            business_type: text("business_type", self.business_type, SHORT)?,
            group_id: self.group_id,
            phone: text("phone", self.phone, SHORT)?
                .map(|p| Phone::parse("phone", &p))
                .transpose()?,
            email: text("email", self.email, SHORT)?
                .map(|e| Email::parse("email", &e))
                .transpose()?,
            website: text("website", self.website, SHORT)?,
            address: text("address", self.address, LONG)?,
            note: text("note", self.note, LONG)?,
            ownership: self.ownership.validate()?,
            ext: self.ext.map(CustomerExt::validate).transpose()?,
        }
        .synced())
    }
}

impl From<&CustomerData> for CustomerInput {
    /// The input that stores `d` again as it is (a merge starts from it).
    fn from(d: &CustomerData) -> Self {
        Self {
            code: d.code.clone(),
            name: Some(d.name.clone()),
            kind: Some(d.kind),
            tax_code: d.tax_code.clone(),
            business_type: d.business_type.clone(),
            group_id: d.group_id,
            phone: d.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: d.email.as_ref().map(|e| e.as_str().to_owned()),
            website: d.website.clone(),
            address: d.address.clone(),
            note: d.note.clone(),
            ownership: d.ownership.clone(),
            ext: d.ext.clone(),
        }
    }
}

impl CustomerData {
    pub fn terms(&self) -> Vec<(TextField, String)> {
        let mut t = TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .words(TextField::Code, self.code.as_deref())
            .words(TextField::Code, self.tax_code.as_deref())
            .phone(self.phone.as_ref())
            .email(self.email.as_ref());
        if let Some(ext) = &self.ext {
            for p in ext.phones.iter().skip(1) {
                t = t.phone(Some(&p.value));
            }
            for e in ext.emails.iter().skip(1) {
                t = t.email(Some(&e.value));
            }
            for (kind, name) in &ext.labels {
                t = t.whole(kind.field(), Some(name));
            }
            t = t.whole(TextField::RefId, ext.ref_id.as_deref());
            let branch = ext.party.as_ref().and_then(|p| p.branch_id);
            t = t.whole(TextField::Branch, branch.map(|b| b.to_string()).as_deref());
        }
        t.finish()
    }

    /// Keeps the single `phone`/`email` and the lists in step: with lists given, the first of
    /// each is the primary; with lists kept, a changed primary replaces the first entry.
    pub fn synced(mut self) -> Self {
        if let Some(ext) = &mut self.ext {
            sync(&mut self.phone, &mut ext.phones);
            sync(&mut self.email, &mut ext.emails);
        }
        self
    }

    /// Gives a customer created without the extension an empty one, in step with the
    /// primary phone and e-mail.
    pub fn ensure_ext(&mut self) {
        if self.ext.is_none() {
            self.ext = Some(CustomerExt::default());
            self.sync_primary();
        }
    }

    /// After an update that kept the stored lists: the primary may have changed.
    pub fn sync_primary(&mut self) {
        if let Some(ext) = &mut self.ext {
            set_primary(&self.phone, &mut ext.phones);
            set_primary(&self.email, &mut ext.emails);
        }
    }
}

fn sync<T: Clone + PartialEq>(single: &mut Option<T>, list: &mut Vec<Channel<T>>) {
    match list.first() {
        Some(first) => *single = Some(first.value.clone()),
        None => {
            if let Some(v) = single.clone() {
                list.push(Channel::plain(v));
            }
        }
    }
}

fn set_primary<T: Clone + PartialEq>(single: &Option<T>, list: &mut Vec<Channel<T>>) {
    match (single, list.first_mut()) {
        (Some(v), Some(first)) if &first.value != v => first.value = v.clone(),
        (Some(v), None) => list.push(Channel::plain(v.clone())),
        (None, Some(_)) => {
            list.remove(0);
        }
        _ => {}
    }
}

/// A phone or e-mail with its kind (`home`, `personal`, `office`) and display label
/// (`Nhà`, `Cá nhân`, `Công ty`), as OMI sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel<T> {
    pub value: T,
    pub kind: Option<String>,
    pub label: Option<String>,
}

impl<T> Channel<T> {
    pub fn plain(value: T) -> Self {
        Self {
            value,
            kind: None,
            label: None,
        }
    }
}

/// Label dictionaries a customer can carry by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelKind {
    Tag = 1,
    Business = 2,
    Category = 3,
}

impl LabelKind {
    pub fn field(self) -> TextField {
        match self {
            LabelKind::Tag => TextField::Tag,
            LabelKind::Business => TextField::Business,
            LabelKind::Category => TextField::Category,
        }
    }
    pub fn code(self) -> i32 {
        self as i32
    }
    pub fn from_code(code: i32) -> Option<Self> {
        [LabelKind::Tag, LabelKind::Business, LabelKind::Category]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// One value of a custom field (OMI: `{data, type, valueType}`; VBot: just `data`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldValue {
    pub data: String,
    pub kind: Option<String>,
    pub label: Option<String>,
}

/// Where a customer stands in a funnel: level-1 stage `index`, level-2 `second_index`.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelPlace {
    pub funnel_id: uuid::Uuid,
    pub index: i32,
    pub second_index: Option<i32>,
}

/// Attributes the CRMTOP customer lacks and other vendors carry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerExt {
    /// Every phone, the primary (`CustomerData::phone`) first.
    pub phones: Vec<Channel<Phone>>,
    pub emails: Vec<Channel<Email>>,
    /// `male`, `female` or `other`.
    pub gender: Option<String>,
    pub job_title: Option<String>,
    pub avatar_url: Option<String>,
    pub passport: Option<String>,
    /// The staff member in charge, by e-mail (OMI `userOwnerEmail`).
    pub owner_email: Option<Email>,
    /// The partner's own id, code and type of the customer (OMI); `ref_id` is unique.
    pub ref_id: Option<String>,
    pub ref_code: Option<String>,
    pub ref_type: Option<String>,
    /// VBot's customer status and type (vocabulary entries).
    pub status_id: Option<uuid::Uuid>,
    pub type_id: Option<uuid::Uuid>,
    pub labels: Vec<(LabelKind, String)>,
    /// Custom field values by field definition id.
    pub custom: Vec<(uuid::Uuid, Vec<FieldValue>)>,
    pub funnels: Vec<FunnelPlace>,
    /// NextX's trading attributes (customer or supplier, balances, bank account).
    pub party: Option<Party>,
}

/// A NextX customer's or supplier's trading attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Party {
    /// `customer` or `supplier`.
    pub kind: String,
    pub opening_balance: crate::money::Money,
    pub credit_limit: crate::money::Money,
    pub birthday: Option<chrono::NaiveDate>,
    pub gender: Option<i32>,
    pub account_name: Option<String>,
    pub account_address: Option<String>,
    pub account_no: Option<String>,
    /// Acquisition sources `{id, name}`.
    pub resources: Vec<(i64, String)>,
    /// The branch the customer belongs to (NextX `branch_id`).
    pub branch_id: Option<crate::ids::PlaceId>,
}

/// Most labels, phones, e-mails or custom fields one customer may carry.
pub const MAX_LIST: usize = 100;

/// Makes `primary` the first of a channel list, in place of the previous first entry; the other
/// entries stay in order, without a second copy of `primary`. `None` drops the first entry.
pub fn put_primary<T: Clone + PartialEq>(list: &mut Vec<Channel<T>>, primary: Option<T>) {
    let mut rest: Vec<Channel<T>> = list
        .iter()
        .skip(1)
        .filter(|c| primary.as_ref() != Some(&c.value))
        .cloned()
        .collect();
    if let Some(value) = primary {
        rest.insert(0, Channel::plain(value));
    }
    *list = rest;
}

/// Whether two label names are the same label (compared folded: case and accents aside).
pub fn same_label(a: &str, b: &str) -> bool {
    crate::search::whole_term(a) == crate::search::whole_term(b)
}

impl CustomerExt {
    /// Adds a label unless the customer has it already (blank names are ignored).
    pub fn add_label(&mut self, kind: LabelKind, name: &str) {
        if !name.trim().is_empty()
            && !self
                .labels
                .iter()
                .any(|(k, n)| *k == kind && same_label(n, name))
        {
            self.labels.push((kind, name.trim().to_owned()));
        }
    }

    pub fn remove_label(&mut self, kind: LabelKind, name: &str) {
        self.labels
            .retain(|(k, n)| !(*k == kind && same_label(n, name)));
    }

    pub fn validate(self) -> DomainResult<Self> {
        for (name, len) in [
            ("phones", self.phones.len()),
            ("emails", self.emails.len()),
            ("labels", self.labels.len()),
            ("custom_fields", self.custom.len()),
            ("funnels", self.funnels.len()),
        ] {
            if len > MAX_LIST {
                return Err(crate::DomainError::validation(
                    name,
                    format!("at most {MAX_LIST} entries"),
                ));
            }
        }
        let gender = text("gender", self.gender, SHORT)?.map(|g| g.to_lowercase());
        if let Some(g) = &gender {
            if !["male", "female", "other"].contains(&g.as_str()) {
                return Err(crate::DomainError::validation(
                    "gender",
                    "must be male, female or other",
                ));
            }
        }
        let mut labels: Vec<(LabelKind, String)> = Vec::new();
        for (kind, name) in self.labels {
            let Some(name) = text("labels", Some(name), SHORT)? else {
                continue;
            };
            let key = crate::search::whole_term(&name);
            if !labels
                .iter()
                .any(|(k, n)| *k == kind && crate::search::whole_term(n) == key)
            {
                labels.push((kind, name));
            }
        }
        for f in &self.funnels {
            if f.index < 0 || f.second_index.is_some_and(|s| s < 0) {
                return Err(crate::DomainError::validation(
                    "funnels",
                    "stage indexes start at 0",
                ));
            }
        }
        let mut custom = Vec::with_capacity(self.custom.len());
        for (id, values) in self.custom {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(FieldValue {
                    data: text("custom_fields", Some(v.data), LONG)?.unwrap_or_default(),
                    kind: text("custom_fields", v.kind, SHORT)?,
                    label: text("custom_fields", v.label, SHORT)?,
                });
            }
            custom.push((id, out));
        }
        Ok(Self {
            gender,
            job_title: text("job_title", self.job_title, SHORT)?,
            avatar_url: text("avatar_url", self.avatar_url, LONG)?,
            passport: text("passport", self.passport, SHORT)?,
            ref_id: text("ref_id", self.ref_id, SHORT)?,
            ref_code: text("ref_code", self.ref_code, SHORT)?,
            ref_type: text("ref_type", self.ref_type, SHORT)?,
            labels,
            custom,
            ..self
        })
    }
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    /// Stable integer id, for vendors that expose integer ids.
    pub seq: i64,
    pub data: CustomerData,
    /// Name of the group `data.group_id` points at, when it still exists.
    pub group_name: Option<String>,
    pub audit: Audit,
}

/// What a caller may set on a customer group.
#[derive(Debug, Clone, Default)]
pub struct CustomerGroupInput {
    pub name: Option<String>,
    pub note: Option<String>,
    /// VBot's project and group code; `None` keeps the stored ones on update.
    pub project: Option<(uuid::Uuid, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerGroupData {
    pub name: String,
    pub note: Option<String>,
    pub project: Option<(uuid::Uuid, String)>,
}

impl CustomerGroupInput {
    pub fn validate(self) -> DomainResult<CustomerGroupData> {
        let project = match self.project {
            Some((p, code)) => Some((p, required("group_no", Some(code), SHORT)?)),
            None => None,
        };
        Ok(CustomerGroupData {
            name: required("name", self.name, SHORT)?,
            note: text("note", self.note, LONG)?,
            project,
        })
    }
}

impl CustomerGroupData {
    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .finish()
    }
}

/// A stored customer group.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerGroup {
    pub id: CustomerGroupId,
    pub seq: i64,
    pub data: CustomerGroupData,
    pub audit: Audit,
}
