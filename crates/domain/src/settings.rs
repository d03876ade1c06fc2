//! A tenant's settings, kept per scope (a message channel, its sales documents): `key=value`
//! pairs from the scope's known keys, each checked as it is set; secrets never shown.

use std::collections::BTreeMap;

use crate::error::{DomainError, DomainResult};

/// Longest setting value accepted, unless the scope says otherwise.
pub const MAX_SETTING: usize = 2_000;

/// What a group of settings is: its name, its keys, how a value is checked.
pub trait Scope: Copy {
    /// The name the settings are stored under.
    fn name(self) -> &'static str;
    /// The keys it takes: (key, secret).
    fn keys(self) -> &'static [(&'static str, bool)];
    /// Checks a non-empty value of a known key.
    fn check(self, key: &str, value: &str) -> DomainResult<()>;
    /// Longest value of `key`, in characters.
    fn max_len(self, _key: &str) -> usize {
        MAX_SETTING
    }
    fn is_secret(self, key: &str) -> bool {
        self.keys().iter().any(|(k, secret)| *k == key && *secret)
    }
}

/// The settings of one scope for one tenant: only the scope's known keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    pub values: BTreeMap<String, String>,
}

impl Settings {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Sets `key=value` pairs after checking each; an empty value removes the key.
    pub fn apply<S: Scope>(&mut self, scope: S, pairs: &[(String, String)]) -> DomainResult<()> {
        if pairs.len() > 32 {
            return Err(DomainError::validation("settings", "at most 32 at once"));
        }
        for (key, value) in pairs {
            let key = key.trim();
            if !scope.keys().iter().any(|(k, _)| *k == key) {
                let known: Vec<&str> = scope.keys().iter().map(|(k, _)| *k).collect();
                return Err(DomainError::validation(
                    key,
                    format!("is not a {} setting ({})", scope.name(), known.join(", ")),
                ));
            }
            let value = value.trim();
            let max = scope.max_len(key);
            if value.len() > max && value.chars().count() > max {
                return Err(DomainError::validation(
                    key,
                    format!("must be at most {max} characters"),
                ));
            }
            if value.is_empty() {
                self.values.remove(key);
            } else {
                scope.check(key, value)?;
                self.values.insert(key.to_owned(), value.to_owned());
            }
        }
        Ok(())
    }

    /// What may be shown: the scope's own keys (not the server's bookkeeping), secrets as
    /// `"set"`, never their value.
    pub fn redacted<S: Scope>(&self, scope: S) -> BTreeMap<String, String> {
        self.values
            .iter()
            .filter(|(k, _)| scope.keys().iter().any(|(known, _)| known == k))
            .map(|(k, v)| {
                let shown = if scope.is_secret(k) {
                    "set".to_owned()
                } else {
                    v.clone()
                };
                (k.clone(), shown)
            })
            .collect()
    }
}

/// The keys whose values differ between `before` and `after`, as the audit trail keeps them:
/// `{"key": {"before": …, "after": …}}`, `null` for an absent value, `set` for a secret's, and
/// a long value (a logo) by its length.
pub fn changes<S: Scope>(
    scope: S,
    before: &Settings,
    after: &Settings,
) -> serde_json::Map<String, serde_json::Value> {
    let shown = |k: &str, v: Option<&String>| -> serde_json::Value {
        match v {
            None => serde_json::Value::Null,
            Some(_) if scope.is_secret(k) => "set".into(),
            Some(v) if v.chars().count() > 200 => {
                format!("({} characters)", v.chars().count()).into()
            }
            Some(v) => v.as_str().into(),
        }
    };
    let keys: std::collections::BTreeSet<&String> =
        before.values.keys().chain(after.values.keys()).collect();
    keys.into_iter()
        .filter(|k| before.values.get(*k) != after.values.get(*k))
        .map(|k| {
            (
                k.clone(),
                serde_json::json!({
                    "before": shown(k, before.values.get(k)),
                    "after": shown(k, after.values.get(k)),
                }),
            )
        })
        .collect()
}
