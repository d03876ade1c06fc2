//! Each importable kind's rules: what a row's cells become, what it is matched on (customers,
//! contacts and leads by phone in any notation or e-mail, customers and contacts by code too,
//! products by code), and what it names (a customer group by name, created when missing; a
//! contact's company by code or name; a product's stores by name).

mod people;
mod products;
pub(crate) use people::{Contacts, Customers, Leads};
pub(crate) use products::Products;

use crate::customer::Channel;
use crate::search::{whole_term, TextField};
use crate::text::Phone;

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
