//! What an API client may do: read only or read and write, in every dialect or in some, on
//! every resource or on some.
//!
//! Written as a comma-separated list of words (the command line's `--scope`, the database's
//! `api_clients.scope`): `read` makes it read-only (`write`, the default, lifts that); dialect
//! names (`crmtop`, `nextx`, `vbot`, `omi`, `crm` for our own endpoints) limit it to those APIs,
//! and resource names ([`RESOURCES`]) to those records, in whichever APIs it reaches; no dialect
//! named means every one, and likewise for resources. The empty text is full access.

use std::fmt;

use crate::error::{DomainError, DomainResult};

/// The APIs a scope can name, in the order its text lists them.
pub const DIALECTS: [&str; 5] = ["crmtop", "nextx", "vbot", "omi", "crm"];

/// The kinds of records a scope can name; every route serves one (its documentation's tag
/// decides which, `crm_dialects::openapi::resource_of`):
/// - `customers`: customers, their contacts and groups, and the vocabularies that describe them;
/// - `leads`: leads and web forms;
/// - `sales`: opportunities and pipelines, products, orders, returns, purchase orders, stores,
///   sales documents;
/// - `marketing`: campaigns, segments, templates, messages, automations, channels;
/// - `support`: tickets;
/// - `activities`: activities and tasks;
/// - `admin`: API clients, staff, webhooks, the audit trail, imports and exports.
pub const RESOURCES: [&str; 7] = [
    "customers",
    "leads",
    "sales",
    "marketing",
    "support",
    "activities",
    "admin",
];

/// Longest scope text accepted (every word once is far shorter).
pub const MAX_TEXT: usize = 100;

/// A bit no dialect has: a scope limited to it reaches none.
const NO_DIALECT: u8 = 1 << 7;

/// An API client's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope {
    /// Reads only: every write is refused.
    pub read_only: bool,
    /// A bit per entry of [`DIALECTS`]; 0 is every dialect.
    dialects: u8,
    /// A bit per entry of [`RESOURCES`]; 0 is every resource.
    resources: u8,
}

impl Scope {
    /// Full access.
    pub const ALL: Scope = Scope {
        read_only: false,
        dialects: 0,
        resources: 0,
    };

    /// Nothing at all: what a stored scope that no longer parses grants (`none`).
    pub const NOTHING: Scope = Scope {
        read_only: true,
        dialects: NO_DIALECT,
        resources: 0,
    };

    /// Parses the comma-separated words (see the module); unknown words are an error naming
    /// what is known.
    pub fn parse(text: &str) -> DomainResult<Scope> {
        if text.len() > MAX_TEXT {
            return Err(DomainError::validation(
                "scope",
                format!("is longer than {MAX_TEXT} characters"),
            ));
        }
        let mut scope = Scope::ALL;
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word.to_ascii_lowercase().as_str() {
                "read" | "read-only" | "readonly" => scope.read_only = true,
                "write" | "all" => {}
                "none" => return Ok(Scope::NOTHING),
                other => match (
                    DIALECTS.iter().position(|d| *d == other),
                    RESOURCES.iter().position(|r| *r == other),
                ) {
                    (Some(i), _) => scope.dialects |= 1 << i,
                    (None, Some(i)) => scope.resources |= 1 << i,
                    (None, None) => {
                        return Err(DomainError::validation(
                            "scope",
                            format!(
                                "unknown word '{}': use read, write, dialect names ({}) or \
                                 resource names ({})",
                                word.chars().take(40).collect::<String>(),
                                DIALECTS.join(", "),
                                RESOURCES.join(", ")
                            ),
                        ))
                    }
                },
            }
        }
        Ok(scope)
    }

    /// The dialects it is limited to; empty when it is not limited.
    pub fn dialects(&self) -> Vec<&'static str> {
        DIALECTS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.dialects & (1 << i) != 0)
            .map(|(_, d)| *d)
            .collect()
    }

    /// The resources it is limited to; empty when it is not limited.
    pub fn resources(&self) -> Vec<&'static str> {
        RESOURCES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.resources & (1 << i) != 0)
            .map(|(_, r)| *r)
            .collect()
    }

    /// Whether it may reach `resource` (one of [`RESOURCES`]; `None`, a route that serves none
    /// known, only when it is not limited to some).
    pub fn reaches_resource(&self, resource: Option<&str>) -> bool {
        self.resources == 0
            || resource
                .and_then(|r| RESOURCES.iter().position(|known| *known == r))
                .is_some_and(|i| self.resources & (1 << i) != 0)
    }

    /// Whether it may reach `dialect` (one of [`DIALECTS`]).
    pub fn reaches(&self, dialect: &str) -> bool {
        self.dialects == 0
            || DIALECTS
                .iter()
                .position(|d| *d == dialect)
                .is_some_and(|i| self.dialects & (1 << i) != 0)
    }

    /// Refuses a request to `dialect` about `resource` (`write` when it changes anything) that
    /// the scope does not allow.
    pub fn allow(&self, dialect: &str, resource: Option<&str>, write: bool) -> DomainResult<()> {
        if !self.reaches(dialect) {
            return Err(DomainError::Forbidden {
                message: format!(
                    "this API client's scope ({self}) does not include the {dialect} API"
                ),
            });
        }
        if !self.reaches_resource(resource) {
            return Err(DomainError::Forbidden {
                message: format!(
                    "this API client's scope ({self}) does not include {}",
                    resource.unwrap_or("this route")
                ),
            });
        }
        if write && self.read_only {
            return Err(DomainError::Forbidden {
                message: format!("this API client's scope ({self}) is read-only"),
            });
        }
        Ok(())
    }

    /// Whether everything `other` allows, this allows too (a client may make clients no
    /// stronger than itself).
    pub fn covers(&self, other: &Scope) -> bool {
        let within = |mine: u8, theirs: u8| mine == 0 || (theirs != 0 && theirs & !mine == 0);
        (!self.read_only || other.read_only)
            && within(self.dialects, other.dialects)
            && (other.dialects & NO_DIALECT != 0 || within(self.resources, other.resources))
    }
}

/// The canonical text: `read` first when read-only, then the dialects in [`DIALECTS`]'s
/// order, then the resources in [`RESOURCES`]'s; `all` for full access (parsed back as such).
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dialects & NO_DIALECT != 0 {
            return f.write_str("none");
        }
        let mut words = Vec::new();
        if self.read_only {
            words.push("read");
        }
        words.extend(self.dialects());
        words.extend(self.resources());
        if words.is_empty() {
            f.write_str("all")
        } else {
            f.write_str(&words.join(","))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_back() {
        for (text, shown) in [
            ("", "all"),
            ("write", "all"),
            ("read", "read"),
            ("OMI, read,crmtop", "read,crmtop,omi"),
            ("crm", "crm"),
            ("none", "none"),
            ("sales, read, customers,nextx", "read,nextx,customers,sales"),
        ] {
            let s = Scope::parse(text).unwrap();
            assert_eq!(s.to_string(), shown);
            assert_eq!(Scope::parse(shown).unwrap(), s);
        }
        let e = Scope::parse("read,owner").unwrap_err().to_string();
        assert!(e.contains("unknown word 'owner'"), "{e}");
    }

    #[test]
    fn allows_what_it_names() {
        let s = Scope::parse("read,crmtop").unwrap();
        assert!(s.allow("crmtop", Some("sales"), false).is_ok());
        assert!(matches!(
            s.allow("crmtop", Some("sales"), true),
            Err(DomainError::Forbidden { .. })
        ));
        assert!(matches!(
            s.allow("nextx", Some("sales"), false),
            Err(DomainError::Forbidden { .. })
        ));
        assert!(Scope::ALL.allow("omi", None, true).is_ok());
        for d in DIALECTS {
            assert!(Scope::NOTHING.allow(d, Some("customers"), false).is_err());
        }
        let c = Scope::parse("customers,leads").unwrap();
        assert!(c.allow("omi", Some("customers"), true).is_ok());
        assert!(c.allow("nextx", Some("leads"), false).is_ok());
        let e = c
            .allow("crmtop", Some("sales"), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not include sales"), "{e}");
        assert!(c.allow("crmtop", None, false).is_err());
    }

    #[test]
    fn covers_only_weaker_scopes() {
        let p = |t| Scope::parse(t).unwrap();
        assert!(Scope::ALL.covers(&p("read,omi")));
        assert!(p("crmtop,omi").covers(&p("omi")));
        assert!(p("crmtop,omi").covers(&p("read,crmtop")));
        assert!(!p("crmtop").covers(&Scope::ALL));
        assert!(!p("crmtop").covers(&p("omi")));
        assert!(!p("read").covers(&p("crmtop")));
        assert!(p("read").covers(&p("read,nextx")));
        assert!(p("customers,sales").covers(&p("read,omi,customers")));
        assert!(!p("customers").covers(&p("customers,sales")));
        assert!(!p("customers").covers(&p("omi")));
        assert!(p("customers").covers(&Scope::NOTHING));
    }
}
