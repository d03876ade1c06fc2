//! Request bodies: JSON read the way ASP.NET Core's web defaults read it (property names
//! case-insensitive, numbers also accepted as numeric strings), with errors that name the field.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyError {
    pub status: StatusCode,
    /// The offending property, as the client spelled it.
    pub field: Option<String>,
    pub message: String,
}

impl BodyError {
    pub fn from_rejection(r: BytesRejection) -> Self {
        let status = r.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "request body is too large".to_owned()
        } else {
            format!("could not read the request body: {}", r.body_text())
        };
        Self {
            status,
            field: None,
            message,
        }
    }
}

/// Parses a JSON object body into a `camelCase` DTO. The first letter of every top-level key
/// is lower-cased first, so the PascalCase that .NET clients often send (`GroupId`) binds like
/// `groupId`. An empty body reads as `{}`.
pub fn parse_ci<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, BodyError> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(bytes).map_err(|e| BodyError {
            status: StatusCode::BAD_REQUEST,
            field: None,
            message: format!("malformed JSON: {e}"),
        })?
    };
    let Value::Object(map) = value else {
        return Err(BodyError {
            status: StatusCode::BAD_REQUEST,
            field: None,
            message: "the request body must be a JSON object".to_owned(),
        });
    };
    let mut spelled = HashMap::new();
    let lowered: serde_json::Map<String, Value> = map
        .into_iter()
        .map(|(k, v)| {
            let mut chars = k.chars();
            let low: String = match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => String::new(),
            };
            spelled.insert(low.clone(), k);
            (low, v)
        })
        .collect();
    let object = Value::Object(lowered);
    serde_path_to_error::deserialize(&object).map_err(|e| {
        let path = e.path().to_string();
        let mut top = path.split(['.', '[']).next().unwrap_or_default().to_owned();
        if top.is_empty() || top == "?" {
            // A flattened part (`#[serde(flatten)]`) hides the path: find the property whose
            // removal lets the body bind.
            top = culprit::<T>(&object).unwrap_or_default();
        }
        let field = spelled.get(&top).cloned().unwrap_or(top.clone());
        // The message names the exact place (`products[0].quantity`), `field` the property.
        let place = if path.starts_with(&top) && !top.is_empty() {
            format!("{field}{}", &path[top.len()..])
        } else {
            field.clone()
        };
        let detail = e.into_inner();
        BodyError {
            status: StatusCode::BAD_REQUEST,
            message: if field.is_empty() {
                format!("the request body does not bind: {detail}")
            } else {
                format!("{place}: {detail}")
            },
            field: Some(field).filter(|f| !f.is_empty()),
        }
    })
}

/// The top-level property of `object` that keeps it from binding as `T`.
///
/// Each property is bound on its own (`{key: value}`): a property that fails alone with
/// anything but a missing field is the culprit. Every value is read once, so the search is
/// linear in the size of the body, however many keys it has.
fn culprit<T: DeserializeOwned>(object: &Value) -> Option<String> {
    let map = object.as_object()?;
    map.iter()
        .find(|(key, value)| {
            let alone = Value::Object(serde_json::Map::from_iter([(
                (*key).clone(),
                (*value).clone(),
            )]));
            match T::deserialize(&alone) {
                Ok(_) => false,
                Err(e) => !e.to_string().starts_with("missing field"),
            }
        })
        .map(|(key, _)| key.clone())
}

/// An `int` property that also accepts a numeric string and treats `null` as absent.
pub fn lenient_int<'de, D: Deserializer<'de>, N>(d: D) -> Result<Option<N>, D::Error>
where
    N: TryFrom<i64>,
{
    let n = match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {n}")))?,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| serde::de::Error::custom(format!("expected an integer, got \"{s}\"")))?,
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "expected an integer, got {other}"
            )))
        }
    };
    N::try_from(n)
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("{n} is out of range")))
}

/// A `double` property that also accepts a numeric string and treats `null` as absent.
pub fn lenient_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a number, got \"{s}\""))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a number, got {other}"
        ))),
    }
}

/// An amount of money, read as [`lenient_num`] reads a number.
pub fn lenient_money<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<crm_domain::money::Money>, D::Error> {
    Ok(lenient_num(d)?.map(crm_domain::money::Money::from_f64))
}

/// A GUID property where the empty GUID (`00000000-…`, what .NET clients send for "none")
/// and `null` mean absent.
pub fn guid<'de, D: Deserializer<'de>>(d: D) -> Result<Option<uuid::Uuid>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => {
            let id = s
                .parse::<uuid::Uuid>()
                .map_err(|_| serde::de::Error::custom(format!("'{s}' is not a GUID")))?;
            Ok((!id.is_nil()).then_some(id))
        }
    }
}

/// A form-encoded body (`a=1&b=2`), or `None` when it is not one.
pub fn form<T: DeserializeOwned>(bytes: &Bytes) -> Option<T> {
    serde_urlencoded::from_bytes(bytes).ok()
}

/// A `Content-Disposition` that downloads a file as `name` ([`crm_domain::files::attachment`]).
pub fn disposition(name: &str) -> String {
    crm_domain::files::attachment(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default, deserialize_with = "guid")]
        group_id: Option<uuid::Uuid>,
        #[serde(default, deserialize_with = "lenient_int")]
        r#type: Option<i32>,
    }

    #[test]
    fn binds_case_insensitively_and_reads_numeric_strings() {
        let p: Probe = parse_ci(&Bytes::from_static(
            br#"{"GroupId":"00000000-0000-0000-0000-000000000000","Type":"2"}"#,
        ))
        .expect("valid");
        assert_eq!(p.group_id, None);
        assert_eq!(p.r#type, Some(2));
    }

    #[test]
    fn names_the_field_as_spelled() {
        let e = parse_ci::<Probe>(&Bytes::from_static(br#"{"Type":"abc"}"#)).expect_err("bad");
        assert_eq!(e.field.as_deref(), Some("Type"));
        assert!(e.message.starts_with("Type: "), "{}", e.message);
    }

    #[test]
    fn malformed_and_non_object_bodies_are_errors() {
        assert!(parse_ci::<Probe>(&Bytes::from_static(b"{")).is_err());
        assert!(parse_ci::<Probe>(&Bytes::from_static(b"[]")).is_err());
        assert!(parse_ci::<Probe>(&Bytes::from_static(b"")).is_ok());
    }
}
