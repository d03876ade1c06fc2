//! The shape of input, bounded before any handler runs, and failures answered in the envelope
//! of the vendor whose path was called.
//!
//! [`guard`] is a middleware in front of every dialect. It refuses, with a 4xx naming the
//! place: a path or query with a NUL character; more query parameters, or more repeats of one
//! parameter, than allowed; and a JSON or form body that nests too deep, has too many items in
//! one array or keys in one object, a string that is too long, or a NUL character anywhere.
//! The JSON is walked once with serde's streaming visitor (no tree is built), so the check is
//! linear in the body whatever its shape; malformed JSON is left to the handler, whose message
//! says what is wrong. Every limit is in [`Limits`] and in `docs/limits.md`.

use std::cell::RefCell;
use std::fmt;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::json;

/// Bounds on the shape of a request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body read (multipart uploads have their own limits).
    pub max_body_bytes: usize,
    /// Deepest nesting of arrays and objects in a JSON body.
    pub max_depth: usize,
    /// Most items in one JSON array.
    pub max_items: usize,
    /// Most keys in one JSON object.
    pub max_keys: usize,
    /// Longest string (key or value), in characters.
    pub max_string_chars: usize,
    /// Most parameters in a query string or form body.
    pub max_params: usize,
    /// Most values of one parameter (`type[]=a&type[]=b…` counts each).
    pub max_repeats: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_depth: 32,
            max_items: 1000,
            max_keys: 256,
            max_string_chars: 256 * 1024,
            max_params: 256,
            max_repeats: 100,
        }
    }
}

/// Why a request was refused before it reached a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub status: StatusCode,
    /// The offending place (`tags[1000]`, `strSearch`), when there is one.
    pub field: Option<String>,
    pub message: String,
}

impl Violation {
    fn bad(field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            field,
            message: message.into(),
        }
    }
}

/// The middleware: checks the path, the query and (except multipart) the body, then passes the
/// request on with its body buffered.
pub async fn guard(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if let Err(v) = check_uri(req.uri(), &limits) {
        return reject(&path, v.status, v.field.as_deref(), &v.message);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limits.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => {
            let too_large = error_chain(&e).contains("length limit");
            return if too_large {
                reject(
                    &path,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    &format!(
                        "request body is too large (at most {} bytes)",
                        limits.max_body_bytes
                    ),
                )
            } else {
                reject(
                    &path,
                    StatusCode::BAD_REQUEST,
                    None,
                    "could not read the request body",
                )
            };
        }
    };
    if let Err(v) = check_body(&bytes, &content_type, &limits) {
        return reject(&path, v.status, v.field.as_deref(), &v.message);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// NUL characters and invalid UTF-8 in the path, and the size of the query.
pub fn check_uri(uri: &axum::http::Uri, limits: &Limits) -> Result<(), Violation> {
    if has_nul(uri.path()) {
        return Err(Violation::bad(
            None,
            "the path contains a NUL character (%00)",
        ));
    }
    if percent_encoding::percent_decode_str(uri.path())
        .decode_utf8()
        .is_err()
    {
        return Err(Violation::bad(None, "the path is not valid UTF-8"));
    }
    if let Some(q) = uri.query() {
        if percent_encoding::percent_decode_str(q)
            .decode_utf8()
            .is_err()
        {
            return Err(Violation::bad(None, "the query string is not valid UTF-8"));
        }
        check_pairs(q.as_bytes(), limits)?;
    }
    Ok(())
}

/// A body that is JSON (by its type, or by its first character when no type is sent) or a form.
pub fn check_body(bytes: &Bytes, content_type: &str, limits: &Limits) -> Result<(), Violation> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return check_pairs(bytes, limits);
    }
    let json_like = content_type.contains("json") || matches!(first, Some(b'{' | b'['));
    if json_like && first.is_some() {
        return check_json(bytes, limits);
    }
    Ok(())
}

/// `%00` in any case, or a raw NUL.
fn has_nul(s: &str) -> bool {
    s.contains('\0') || s.as_bytes().windows(3).any(|w| w == b"%00")
}

/// Query strings and form bodies: parameter count, repeats per name, string length, NUL.
fn check_pairs(raw: &[u8], limits: &Limits) -> Result<(), Violation> {
    let mut total = 0usize;
    let mut repeats: std::collections::HashMap<String, usize> = Default::default();
    for (k, v) in form_urlencoded::parse(raw) {
        total += 1;
        if total > limits.max_params {
            return Err(Violation::bad(
                None,
                format!("more than {} query parameters", limits.max_params),
            ));
        }
        let name = k.trim_end_matches("[]").to_owned();
        if k.contains('\0') || v.contains('\0') {
            return Err(Violation::bad(
                Some(name),
                "contains a NUL character, which cannot be stored",
            ));
        }
        if v.chars().count() > limits.max_string_chars {
            return Err(Violation::bad(
                Some(name),
                format!("is longer than {} characters", limits.max_string_chars),
            ));
        }
        let n = repeats.entry(name.clone()).or_default();
        *n += 1;
        if *n > limits.max_repeats {
            return Err(Violation::bad(
                Some(name),
                format!("is repeated more than {} times", limits.max_repeats),
            ));
        }
    }
    Ok(())
}

/// Walks a JSON document once, checking every limit; `Ok` also for malformed JSON (the handler
/// reports that itself, in its own words).
pub fn check_json(bytes: &[u8], limits: &Limits) -> Result<(), Violation> {
    let walker = Walker {
        limits,
        path: RefCell::new(Vec::new()),
        found: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let _ = (&walker).deserialize(&mut de);
    match walker.found.into_inner() {
        Some(v) => Err(v),
        None => Ok(()),
    }
}

enum Seg {
    Key(String),
    Index(usize),
}

struct Walker<'a> {
    limits: &'a Limits,
    path: RefCell<Vec<Seg>>,
    found: RefCell<Option<Violation>>,
}

impl Walker<'_> {
    fn place(&self) -> Option<String> {
        let path = self.path.borrow();
        if path.is_empty() {
            return None;
        }
        let mut out = String::new();
        for seg in path.iter() {
            match seg {
                Seg::Key(k) if out.is_empty() => out.push_str(k),
                Seg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        Some(out)
    }

    /// Records the violation and returns the error that stops the walk.
    fn stop<E: serde::de::Error>(&self, message: String) -> E {
        *self.found.borrow_mut() = Some(Violation::bad(self.place(), message));
        E::custom("limit")
    }

    fn text<E: serde::de::Error>(&self, s: &str) -> Result<(), E> {
        if s.contains('\0') {
            return Err(self.stop("contains a NUL character, which cannot be stored".to_owned()));
        }
        if s.len() > self.limits.max_string_chars
            && s.chars().count() > self.limits.max_string_chars
        {
            return Err(self.stop(format!(
                "is longer than {} characters",
                self.limits.max_string_chars
            )));
        }
        Ok(())
    }

    fn enter<E: serde::de::Error>(&self) -> Result<(), E> {
        if self.path.borrow().len() >= self.limits.max_depth {
            return Err(self.stop(format!(
                "nests deeper than {} levels",
                self.limits.max_depth
            )));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for &Walker<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &Walker<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<(), E> {
        self.text(s)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.enter()?;
        let mut i = 0usize;
        loop {
            if i >= self.limits.max_items {
                // One more item is one too many.
                self.path.borrow_mut().push(Seg::Index(i));
                if seq.next_element_seed(Skip)?.is_some() {
                    return Err(self.stop(format!(
                        "the list has more than {} items",
                        self.limits.max_items
                    )));
                }
                self.path.borrow_mut().pop();
                return Ok(());
            }
            self.path.borrow_mut().push(Seg::Index(i));
            let more = seq.next_element_seed(self)?.is_some();
            self.path.borrow_mut().pop();
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.enter()?;
        let mut n = 0usize;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            n += 1;
            self.path.borrow_mut().push(Seg::Key(key.into_owned()));
            if n > self.limits.max_keys {
                self.path.borrow_mut().pop();
                return Err(self.stop(format!(
                    "the object has more than {} properties",
                    self.limits.max_keys
                )));
            }
            if let Some(Seg::Key(k)) = self.path.borrow().last() {
                self.text::<A::Error>(k)?;
            }
            map.next_value_seed(self)?;
            self.path.borrow_mut().pop();
        }
        Ok(())
    }
}

/// Reads one value and ignores it (the item past a list's limit).
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| ())
    }
}

use serde::Deserialize as _;

/// Which vendor's envelope a path answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Crmtop,
    Nextx,
    /// VBot's `POST /token` (OAuth error shape).
    VbotToken,
    Vbot,
    Omi,
    /// Our own endpoints and unknown paths.
    Other,
}

impl Dialect {
    /// Its name in an API client's scope (`crm_domain::scope::DIALECTS`).
    pub fn scope_name(self) -> &'static str {
        match self {
            Dialect::Crmtop => "crmtop",
            Dialect::Nextx => "nextx",
            Dialect::Vbot | Dialect::VbotToken => "vbot",
            Dialect::Omi => "omi",
            Dialect::Other => "crm",
        }
    }
}

/// The dialect a path belongs to.
pub fn dialect_of(path: &str) -> Dialect {
    if path.starts_with("/api/v1/") {
        return Dialect::Crmtop;
    }
    if path.starts_with("/api/v2/contact/") {
        return Dialect::Omi;
    }
    if path == "/token" {
        return Dialect::VbotToken;
    }
    if let Some(rest) = path.strip_prefix("/api/crm/") {
        let entity = rest.split('/').next().unwrap_or_default();
        if ["customer", "status", "type", "group", "field"].contains(&entity) {
            return Dialect::Vbot;
        }
    }
    if path.starts_with("/api/") {
        return Dialect::Nextx;
    }
    Dialect::Other
}

/// A failure for `path` in its vendor's envelope, with the HTTP `status`.
pub fn reject(path: &str, status: StatusCode, field: Option<&str>, message: &str) -> Response {
    let full = match field {
        Some(f) => format!("{f}: {message}"),
        None => message.to_owned(),
    };
    match dialect_of(path) {
        Dialect::Crmtop => {
            let mut e = crate::crmtop::envelope::CrmtopError::new(status, full);
            if let Some(f) = field {
                e.errors = Some([(f.to_owned(), vec![message.to_owned()])].into());
            }
            e.into_response()
        }
        Dialect::Nextx => crate::nextx::reject(status, full),
        Dialect::VbotToken => {
            let error = match status {
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    "temporarily_unavailable"
                }
                s if s.is_server_error() => "server_error",
                _ => "invalid_request",
            };
            (
                status,
                Json(json!({"error": error, "error_description": full})),
            )
                .into_response()
        }
        Dialect::Vbot => crate::vbot::reject(status, full),
        Dialect::Omi => crate::omi::reject(status, field.is_some(), full),
        Dialect::Other => (status, Json(json!({"message": full}))).into_response(),
    }
}

/// The status of a `DomainError::Throttled`: 503 when the server is busy, else 429.
pub fn throttle_status(busy: bool) -> StatusCode {
    if busy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::TOO_MANY_REQUESTS
    }
}

/// A refusal that the client should retry later: 429 or 503 with `Retry-After`.
pub fn throttled(path: &str, retry_after: u64, busy: bool, message: &str) -> Response {
    let status = throttle_status(busy);
    let mut r = reject(path, status, None, message);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<(), Violation> {
        check_json(body.as_bytes(), &Limits::default())
    }

    #[test]
    fn names_the_place_of_each_violation() {
        let many = format!("{{\"tags\": [{}]}}", vec!["\"a\""; 1001].join(","));
        let v = check(&many).expect_err("too many items");
        assert_eq!(v.field.as_deref(), Some("tags[1000]"));
        let nul = r#"{"a": {"b": [1, "x\u0000y"]}}"#;
        assert_eq!(
            check(nul).expect_err("nul").field.as_deref(),
            Some("a.b[1]")
        );
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(check(&deep).expect_err("deep").message.contains("deeper"));
        let keys: Vec<String> = (0..300).map(|i| format!("\"k{i}\": 1")).collect();
        let wide = format!("{{{}}}", keys.join(","));
        assert!(check(&wide)
            .expect_err("wide")
            .message
            .contains("properties"));
    }

    #[test]
    fn passes_what_fits_and_leaves_malformed_json_to_the_handler() {
        let ok = format!("{{\"tags\": [{}]}}", vec!["\"a\""; 1000].join(","));
        assert_eq!(check(&ok), Ok(()));
        assert_eq!(check("{\"a\": "), Ok(()));
        assert_eq!(check(r#"{"name": "Nguyễn Văn An"}"#), Ok(()));
    }

    #[test]
    fn bounds_query_parameters() {
        let l = Limits::default();
        let repeated = vec!["type[]=a"; 101].join("&");
        let v = check_pairs(repeated.as_bytes(), &l).expect_err("repeats");
        assert_eq!(v.field.as_deref(), Some("type"));
        assert!(check_pairs(b"strSearch=a%00b", &l).is_err());
        assert!(check_pairs(b"strSearch=abc&page=1", &l).is_ok());
    }

    #[test]
    fn sorts_paths_by_vendor() {
        assert_eq!(dialect_of("/api/v1/customer/search"), Dialect::Crmtop);
        assert_eq!(dialect_of("/api/crm/customer/create"), Dialect::Vbot);
        assert_eq!(dialect_of("/api/crm/campaign"), Dialect::Nextx);
        assert_eq!(dialect_of("/api/v2/contact/search"), Dialect::Omi);
        assert_eq!(dialect_of("/token"), Dialect::VbotToken);
        assert_eq!(dialect_of("/health"), Dialect::Other);
    }
}
