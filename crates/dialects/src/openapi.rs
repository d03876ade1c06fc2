//! OpenAPI 3.0 documents built by the routers themselves: a route is added with
//! [`Api::route`], which routes it and documents it from the handler's own request and response
//! types (their JSON Schemas, by `schemars`), so that a document cannot drift from what is
//! served. `docs/openapi.md` says what is documented and how.

use std::collections::BTreeMap;

use axum::handler::Handler;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::AppState;

/// How a document's operations are authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// None (a token endpoint, a public form).
    Anonymous,
    /// `Authorization: Bearer <access token>`.
    Bearer,
    /// `X-Client-Key: <key>` (NextX's web forms).
    ClientKey,
    /// A bearer token from OAuth 2.0's client-credentials grant at this token URL.
    OAuth(&'static str),
}

/// The JSON type of a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Str,
    /// A day, `YYYY-MM-DD`.
    Date,
    /// Repeated (`key[]=a&key[]=b`).
    Strs,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// A query parameter an operation reads.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

/// `p`, required.
pub const fn needed(p: Param) -> Param {
    Param {
        required: true,
        ..p
    }
}

pub const fn int(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Int,
        required: false,
    }
}
pub const fn text(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Str,
        required: false,
    }
}
pub const fn day(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Date,
        required: false,
    }
}
pub const fn texts(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Strs,
        required: false,
    }
}

/// One of `values`.
pub const fn one_of(name: &'static str, values: &'static [&'static str]) -> Param {
    Param {
        name,
        kind: Kind::OneOf(values),
        required: false,
    }
}

impl Param {
    fn to_json(self) -> Value {
        let schema = match self.kind {
            Kind::Int => json!({"type": "integer", "format": "int64"}),
            Kind::Str => json!({"type": "string"}),
            Kind::Date => json!({"type": "string", "format": "date"}),
            Kind::Strs => json!({"type": "array", "items": {"type": "string"}}),
            Kind::OneOf(values) => json!({"type": "string", "enum": values}),
        };
        let mut p = json!({"name": self.name, "in": "query", "required": self.required,
                           "schema": schema});
        if self.kind == Kind::Strs {
            p["style"] = json!("form");
            p["explode"] = json!(true);
        }
        p
    }
}

/// One document: its operations by path and method, and the schemas they refer to.
pub struct Spec {
    title: String,
    description: String,
    generator: SchemaGenerator,
    paths: BTreeMap<String, Map<String, Value>>,
    /// The error answer of every operation (the dialect's failure envelope).
    error: Value,
    /// The authorisations its operations use.
    schemes: Map<String, Value>,
    /// Routes served but not documented, and why (listed as `x-undocumented-routes`).
    undocumented: Vec<Value>,
    /// The vendor doc's request examples: method, path, name, body.
    examples: Vec<(String, String, String, Value)>,
}

/// The request examples of the vendors' docs, taken from the catalogs of `../shared/catalog/`
/// (`crates/server/tests/openapi.rs` keeps this file equal to them): `[{doc, method, path,
/// name, value}]`, each under the path it is documented at here.
const EXAMPLES: &str = include_str!("examples.json");

impl Spec {
    pub fn new(title: &str, description: &str) -> Self {
        Self {
            title: title.to_owned(),
            description: description.to_owned(),
            generator: SchemaGenerator::new(SchemaSettings::openapi3()),
            paths: BTreeMap::new(),
            error: json!({}),
            schemes: Map::new(),
            undocumented: Vec::new(),
            examples: Vec::new(),
        }
    }

    /// Adds the vendor doc's request examples of document `doc` (`crmtop`, `nextx`, `vbot`,
    /// `omi`) to the JSON bodies of the operations they belong to.
    pub fn doc_examples(&mut self, doc: &str) {
        let all: Vec<Value> = serde_json::from_str(EXAMPLES).unwrap_or_default();
        for e in all.into_iter().filter(|e| e["doc"] == doc) {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            self.examples.push((
                text("method").to_lowercase(),
                text("path"),
                text("name"),
                e["value"].clone(),
            ));
        }
    }

    /// The schema of type `T`, by reference where it is a named type, with the document's
    /// transforms applied (OpenAPI 3.0's `nullable`).
    fn schema<T: JsonSchema + ?Sized>(&mut self) -> Value {
        let mut s: Schema = self.generator.subschema_for::<T>();
        for t in self.generator.transforms_mut() {
            t.transform(&mut s);
        }
        s.to_value()
    }

    /// Every operation answers failures with `E` (the dialect's error envelope).
    pub fn errors<E: JsonSchema>(&mut self) {
        self.error = self.schema::<E>();
    }

    /// Documents one operation: `In` is its JSON body (`()` for none), `Out` its answer (`()`
    /// for none).
    pub fn operation<In: JsonSchema + 'static, Out: JsonSchema + 'static>(
        &mut self,
        method: &str,
        path: &str,
        op: &Op,
    ) {
        let mut o = Map::new();
        o.insert("summary".into(), json!(op.summary));
        o.insert("tags".into(), json!([op.tag]));
        o.insert(
            "operationId".into(),
            json!(format!(
                "{method}{}",
                path.replace(['/', '{', '}', '-'], "_")
            )),
        );
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                let schema = match name {
                    "id" if op.id == IdKind::Int => json!({"type": "integer", "format": "int64"}),
                    "id" if op.id == IdKind::Text => json!({"type": "string"}),
                    "status" => json!({"type": "integer", "format": "int32"}),
                    "id" | "productId" => json!({"type": "string", "format": "uuid"}),
                    _ => json!({"type": "string"}),
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .chain(op.query.iter().map(|q| q.to_json()))
            // Every write of every dialect takes one (`crate::idempotency`).
            .chain(matches!(method, "post" | "put" | "patch" | "delete").then(|| {
                json!({"name": "Idempotency-Key", "in": "header", "required": false,
                       "description": "Runs the write once: the same key and request replay its answer for 24 h (docs/operations.md)",
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}})
            }))
            .collect();
        if !params.is_empty() {
            o.insert("parameters".into(), Value::Array(params));
        }
        if let Some(part) = op.upload {
            o.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": [part],
                    "properties": {part: {"type": "string", "format": "binary"}}
                }}}}),
            );
        } else if std::any::TypeId::of::<In>() != std::any::TypeId::of::<()>() {
            let body = self.schema::<In>();
            let mut content = json!({"application/json": {"schema": body}});
            if op.urlencoded {
                content["application/x-www-form-urlencoded"] = content["application/json"].clone();
            }
            o.insert(
                "requestBody".into(),
                json!({"required": true, "content": content}),
            );
        }
        let ok = if op.media == Media::Html {
            json!({"description": "A page", "content": {"text/html": {"schema": {"type": "string"}}}})
        } else if op.media == Media::Text {
            json!({"description": "Text", "content": {"text/plain": {"schema": {"type": "string"}}}})
        } else if op.media == Media::Bytes {
            json!({"description": "The file's bytes, with its content type and name",
                   "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
        } else if op.media == Media::HtmlOrPdf {
            json!({"description": "The document (format=html or format=pdf)", "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}})
        } else if op.media == Media::JsonOrPdf {
            let ok = self.schema::<Out>();
            json!({"description": "OK: the envelope, or with format=pdf the PDF itself", "content": {
                "application/json": {"schema": ok},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}})
        } else if std::any::TypeId::of::<Out>() == std::any::TypeId::of::<()>() {
            json!({"description": "Done; no content"})
        } else {
            let ok = self.schema::<Out>();
            json!({"description": "OK", "content": {"application/json": {"schema": ok}}})
        };
        let mut responses = Map::new();
        responses.insert(op.status.to_string(), ok);
        responses.insert(
            "default".into(),
            json!({"description": "A failure, in the dialect's envelope",
                   "content": {"application/json": {"schema": self.error.clone()}}}),
        );
        o.insert("responses".into(), Value::Object(responses));
        let scheme = match op.auth {
            Auth::Anonymous => None,
            Auth::Bearer => Some(("bearer", json!({"type": "http", "scheme": "bearer"}))),
            Auth::ClientKey => Some((
                "clientKey",
                json!({"type": "apiKey", "in": "header", "name": "X-Client-Key"}),
            )),
            Auth::OAuth(url) => Some((
                "oauth2",
                json!({"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": url, "scopes": {}}}}),
            )),
        };
        match scheme {
            Some((name, s)) => {
                o.insert("security".into(), json!([{ name: [] }]));
                self.schemes.insert(name.to_owned(), s);
            }
            None => {
                o.insert("security".into(), json!([]));
            }
        }
        self.paths
            .entry(path.to_owned())
            .or_default()
            .insert(method.to_owned(), Value::Object(o));
    }

    /// Documents another answer `T` with HTTP `status` of an operation already documented.
    pub fn response<T: JsonSchema>(
        &mut self,
        method: &str,
        path: &str,
        status: u16,
        description: &str,
    ) {
        let schema = self.schema::<T>();
        if let Some(Value::Object(o)) = self.paths.get_mut(path).and_then(|ops| ops.get_mut(method))
        {
            o["responses"][status.to_string()] = json!({"description": description,
                "content": {"application/json": {"schema": schema}}});
        }
    }

    /// Documents a multipart operation: `Fields` are query parameters (in PascalCase, as the
    /// vendor's doc shows them; also accepted as text parts), `files` the form's file part.
    pub fn form_operation<Fields: JsonSchema, Out: JsonSchema + 'static>(
        &mut self,
        method: &str,
        path: &str,
        op: &Op,
        files: &str,
    ) {
        self.operation::<(), Out>(method, path, op);
        let fields = self.schema::<Fields>();
        let name = fields["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        let properties = self
            .generator
            .definitions()
            .get(&name)
            .and_then(|d| d.get("properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut params = Vec::with_capacity(properties.len());
        for (field, schema) in properties {
            // The definitions are kept as generated: OpenAPI 3.0's transforms go on each.
            let mut schema = Schema::try_from(schema).unwrap_or_default();
            for t in self.generator.transforms_mut() {
                t.transform(&mut schema);
            }
            let mut chars = field.chars();
            let pascal: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            params.push(json!({"name": pascal, "in": "query", "required": false,
                               "schema": schema.to_value()}));
        }
        if let Some(Value::Object(o)) = self.paths.get_mut(path).and_then(|ops| ops.get_mut(method))
        {
            o.insert("parameters".into(), Value::Array(params));
            o.insert(
                "requestBody".into(),
                json!({"required": false, "content": {"multipart/form-data": {"schema": {
                    "type": "object",
                    "properties": {files: {"type": "array", "items": {"type": "string", "format": "binary"}}}
                }}}}),
            );
        }
    }

    /// The document.
    pub fn into_json(mut self) -> Value {
        for (method, path, name, value) in std::mem::take(&mut self.examples) {
            let body = self
                .paths
                .get_mut(&path)
                .and_then(|ops| ops.get_mut(&method))
                .and_then(|op| op.get_mut("requestBody"))
                .and_then(|b| b.get_mut("content"))
                .and_then(|c| c.get_mut("application/json"));
            if let Some(Value::Object(body)) = body {
                let examples = body.entry("examples").or_insert_with(|| json!({}));
                examples[name.as_str()] = json!({"summary": name, "value": value});
            }
        }
        let schemas = self.generator.take_definitions(true);
        let paths: Map<String, Value> = self
            .paths
            .into_iter()
            .map(|(p, ops)| (p, Value::Object(ops)))
            .collect();
        let mut doc = json!({
            "openapi": "3.0.3",
            "info": {"title": self.title, "description": self.description, "version": "1.0"},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": self.schemes
            }
        });
        if !self.undocumented.is_empty() {
            doc["x-undocumented-routes"] = Value::Array(self.undocumented);
        }
        doc
    }
}

/// What a path's `{id}` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Guid,
    Int,
    Text,
}

/// What an operation is: its summary, the group it is listed under, its authorisation.
pub struct Op {
    pub summary: &'static str,
    pub tag: &'static str,
    pub auth: Auth,
    /// What the path's `{id}` is.
    pub id: IdKind,
    /// The query parameters it reads.
    pub query: Vec<Param>,
    /// The body may also be form-encoded (an OAuth token request).
    pub urlencoded: bool,
    /// The HTTP status of success.
    pub status: u16,
    /// What success answers.
    pub media: Media,
    /// The body is `multipart/form-data` with a file in this part.
    pub upload: Option<&'static str>,
    /// A POST that changes nothing (a printout; searches are known by their path): a
    /// read-only client may call it.
    pub reads: bool,
}

/// What the scope check of every dialect's `Caller` (`crate::caller`) needs of a routed
/// operation: whether it changes anything (a GET, a POST `…/search` and an [`Op::reads`] do
/// not), and the resource it serves ([`resource_of`] its tag).
#[derive(Debug, Clone, Copy)]
pub struct RouteAccess {
    pub writes: bool,
    pub resource: Option<&'static str>,
}

impl RouteAccess {
    fn of(method: MethodFilter, path: &str, op: &Op) -> Self {
        RouteAccess {
            writes: method != MethodFilter::GET && !op.reads && !path.ends_with("/search"),
            resource: resource_of(op.tag),
        }
    }
}

/// The resource an undocumented route serves ([`Api::undocumented`]); whether it writes is
/// judged by its method and path.
#[derive(Debug, Clone, Copy)]
pub struct RouteResource(pub &'static str);

/// The resource ([`crm_domain::scope::RESOURCES`]) an operation's tag serves, in every
/// dialect; `None` for a tag of no resource (the server's own probes), which a client limited to
/// some resources cannot call. The test suite checks that every documented tag has one.
pub fn resource_of(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "Customer" | "Customers" | "Customer group" | "Contact" | "Contacts" | "Group"
        | "Field" | "Status" | "Type" => "customers",
        "Lead" | "Leads" | "Web forms" => "leads",
        "Opportunity"
        | "Opportunities"
        | "Funnels"
        | "Order"
        | "Product"
        | "Products"
        | "Sales"
        | "Sell returns"
        | "Purchase orders"
        | "Product categories"
        | "Branches and stores"
        | "Sales documents" => "sales",
        "Campaign" | "Campaigns" | "E-mail marketing" | "Zalo marketing" | "Segment"
        | "Template" | "E-mail campaigns" | "SMS campaigns" | "Messages" | "Automations"
        | "Channels" => "marketing",
        "Ticket" => "support",
        "Activity" | "Tasks" => "activities",
        "Tenant and API clients"
        | "Webhooks"
        | "Audit"
        | "Users and staff"
        | "Imports"
        | "Exports" => "admin",
        _ => return None,
    })
}

/// What an operation's success answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// Its `Out` type, as JSON.
    Json,
    /// An HTML page (for people, not programs).
    Html,
    /// A stored file's bytes.
    Bytes,
    /// Plain text (Prometheus's exposition format).
    Text,
    /// Its `Out` type as JSON, or a PDF when asked for one.
    JsonOrPdf,
    /// A printable document: an HTML page, or a PDF when asked for one.
    HtmlOrPdf,
}

impl Op {
    pub const fn bearer(tag: &'static str, summary: &'static str) -> Self {
        Self {
            summary,
            tag,
            auth: Auth::Bearer,
            id: IdKind::Guid,
            query: Vec::new(),
            urlencoded: false,
            status: 200,
            media: Media::Json,
            upload: None,
            reads: false,
        }
    }
    /// Authorised by NextX's `X-Client-Key` header.
    pub fn client_key(tag: &'static str, summary: &'static str) -> Self {
        Self {
            auth: Auth::ClientKey,
            ..Self::bearer(tag, summary)
        }
    }
    /// The query parameters it reads.
    pub fn query(mut self, query: &[Param]) -> Self {
        self.query.extend_from_slice(query);
        self
    }
    /// Authorised by a bearer token of OAuth 2.0's client-credentials grant at `token_url`.
    pub fn oauth(tag: &'static str, summary: &'static str, token_url: &'static str) -> Self {
        Self {
            auth: Auth::OAuth(token_url),
            ..Self::bearer(tag, summary)
        }
    }
    /// The body may also be sent form-encoded.
    pub fn urlencoded(self) -> Self {
        Self {
            urlencoded: true,
            ..self
        }
    }
    /// The path's `{id}` is an integer.
    pub fn int_id(self) -> Self {
        Self {
            id: IdKind::Int,
            ..self
        }
    }
    /// Success is `status` (201 for a creation, 202 for work queued, 204 for none).
    pub fn status(self, status: u16) -> Self {
        Self { status, ..self }
    }
    /// Success is an HTML page.
    pub fn html(self) -> Self {
        Self {
            media: Media::Html,
            ..self
        }
    }
    /// The body is a multipart form with a file in part `part`.
    pub fn upload(self, part: &'static str) -> Self {
        Self {
            upload: Some(part),
            ..self
        }
    }
    /// Success is plain text.
    pub fn text(self) -> Self {
        Self {
            media: Media::Text,
            ..self
        }
    }
    /// Success is its `Out` as JSON, or a PDF (`format=pdf`).
    pub fn or_pdf(self) -> Self {
        Self {
            media: Media::JsonOrPdf,
            ..self
        }
    }
    /// Success is an HTML page or a PDF (`format`).
    pub fn document(self) -> Self {
        Self {
            media: Media::HtmlOrPdf,
            ..self
        }
    }
    /// Changes nothing though it is not a GET (a read-only client may call it).
    pub fn reads(self) -> Self {
        Self {
            reads: true,
            ..self
        }
    }
    /// Success is a file's bytes.
    pub fn bytes(self) -> Self {
        Self {
            media: Media::Bytes,
            ..self
        }
    }
    /// The path's `{id}` is any text (an id of ours, or a partner's).
    pub fn text_id(self) -> Self {
        Self {
            id: IdKind::Text,
            ..self
        }
    }
    pub const fn anonymous(tag: &'static str, summary: &'static str) -> Self {
        Self {
            summary,
            tag,
            auth: Auth::Anonymous,
            id: IdKind::Guid,
            query: Vec::new(),
            urlencoded: false,
            status: 200,
            media: Media::Json,
            upload: None,
            reads: false,
        }
    }
}

/// A router whose routes are documented as they are added.
pub struct Api<'a> {
    pub router: Router<AppState>,
    pub spec: &'a mut Spec,
}

impl<'a> Api<'a> {
    pub fn new(spec: &'a mut Spec) -> Self {
        Self {
            router: Router::new(),
            spec,
        }
    }

    /// Routes `method path` to `handler` and documents it with body `In` and answer `Out`.
    pub fn route<In: JsonSchema + 'static, Out: JsonSchema + 'static, H, T>(
        mut self,
        method: MethodFilter,
        path: &str,
        op: Op,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let name = method_name(method);
        self.spec.operation::<In, Out>(name, path, &op);
        let writes = axum::Extension(RouteAccess::of(method, path, &op));
        self.router = self.router.route(path, on(method, handler).layer(writes));
        self
    }

    /// Routes a multipart operation and documents it ([`Spec::form_operation`]).
    pub fn form_route<Fields: JsonSchema, Out: JsonSchema + 'static, H, T>(
        mut self,
        method: MethodFilter,
        path: &str,
        op: Op,
        files: &str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.spec
            .form_operation::<Fields, Out>(method_name(method), path, &op, files);
        let writes = axum::Extension(RouteAccess::of(method, path, &op));
        self.router = self.router.route(path, on(method, handler).layer(writes));
        self
    }

    /// Routes `path`, serving `resource` ([`resource_of`]), without documenting it, because
    /// `why` (a doc's misspelt path served as well, other letter cases of documented paths);
    /// the document lists it under `x-undocumented-routes`, so that every routed path is
    /// accounted for.
    pub fn undocumented(
        mut self,
        path: &str,
        methods: &[&str],
        resource: &'static str,
        route: MethodRouter<AppState>,
        why: &str,
    ) -> Self {
        self.spec
            .undocumented
            .push(json!({"path": path, "methods": methods, "why": why}));
        let resource = axum::Extension(RouteResource(resource));
        self.router = self.router.route(path, route.layer(resource));
        self
    }

    /// Adds the routes of another router (built through its own [`Api`] on the same spec, so
    /// already documented: a layer that must cover only some routes, say).
    pub fn merge(mut self, other: Router<AppState>) -> Self {
        self.router = self.router.merge(other);
        self
    }
}

fn method_name(m: MethodFilter) -> &'static str {
    if m == MethodFilter::GET {
        "get"
    } else if m == MethodFilter::POST {
        "post"
    } else if m == MethodFilter::PUT {
        "put"
    } else if m == MethodFilter::DELETE {
        "delete"
    } else if m == MethodFilter::PATCH {
        "patch"
    } else {
        "options"
    }
}

/// An answer of one of two shapes (in documents only: a handler that answers either).
#[derive(schemars::JsonSchema)]
#[schemars(untagged, rename = "{A}_or_{B}")]
pub enum Either<A, B> {
    A(A),
    B(B),
}

#[cfg(test)]
mod tests {
    /// Every route of the dialects is added through [`super::Api`] (documented, or listed as
    /// undocumented with its reason): no module calls the router's own `route` or `nest`.
    #[test]
    fn no_route_bypasses_the_documents() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).expect("the crate's sources") {
                let p = e.expect("a directory entry").path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 20, "{files:?}");
        let mut found = Vec::new();
        for f in files.iter().filter(|f| !f.ends_with("openapi.rs")) {
            let text = std::fs::read_to_string(f).expect("a source file");
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for call in [".route(", ".nest(", ".route_service(", ".nest_service("] {
                    if code.contains(call) {
                        found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                    }
                }
            }
        }
        assert!(found.is_empty(), "routed outside Api: {found:#?}");
    }
}
