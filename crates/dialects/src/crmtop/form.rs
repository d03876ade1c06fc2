//! The seven multipart endpoints: scalar fields as (PascalCase) query parameters, as the doc
//! shows them, or as text parts of the form; files as parts with a file name (`FormFile`,
//! `FormFiles`, any spelling). A JSON body is read as the fields too.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use crm_domain::files::{StoredFile, Upload};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::envelope::{local_time, CrmtopError};
use crate::body::parse_ci;
use crate::AppState;

/// Most files one request may carry.
pub const MAX_FILES: usize = 10;
/// Most bytes of scalar fields (form text parts, or a JSON body) one request may carry.
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// The fields of a multipart request, bound like a JSON body, and its checked files.
pub struct FormWithFiles<T> {
    pub fields: T,
    pub files: Vec<Upload>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for FormWithFiles<T> {
    type Rejection = CrmtopError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let mut fields = Map::new();
        if let Some(query) = req.uri().query() {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
                CrmtopError::new(
                    StatusCode::BAD_REQUEST,
                    format!("malformed query string: {e}"),
                )
            })?;
            for (k, v) in pairs {
                fields.insert(k, Value::String(v));
            }
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut files = Vec::new();
        if content_type.starts_with("multipart/form-data") {
            let max = state.crm.max_file_bytes();
            // The declared length, to size the first file's buffer at once (never past `max`).
            let declared = req
                .headers()
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
                .min(max);
            let mut multipart = Multipart::from_request(req, state).await.map_err(|e| {
                CrmtopError::new(
                    StatusCode::BAD_REQUEST,
                    format!("malformed multipart body: {e}"),
                )
            })?;
            let mut parts = 0;
            let mut text_bytes = 0;
            loop {
                let mut part = match multipart.next_field().await {
                    Ok(Some(part)) => part,
                    Ok(None) => break,
                    // A form with no parts at all (just the closing boundary) is an empty form.
                    Err(_) if parts == 0 => break,
                    Err(e) => {
                        return Err(CrmtopError::new(
                            StatusCode::BAD_REQUEST,
                            format!("malformed multipart body: {e}"),
                        ))
                    }
                };
                parts += 1;
                let name = part.name().unwrap_or("file").to_owned();
                match part.file_name().map(str::to_owned) {
                    Some(file_name) => {
                        if files.len() == MAX_FILES {
                            return Err(CrmtopError::field(
                                &name,
                                format!("at most {MAX_FILES} files per request"),
                            ));
                        }
                        let mut bytes =
                            Vec::with_capacity(if files.is_empty() { declared } else { 0 });
                        while let Some(chunk) = part.chunk().await.map_err(|e| {
                            CrmtopError::new(
                                StatusCode::BAD_REQUEST,
                                format!("malformed multipart body: {e}"),
                            )
                        })? {
                            if bytes.len() + chunk.len() > max {
                                return Err(CrmtopError::field(
                                    &name,
                                    format!("'{file_name}' is larger than {max} bytes"),
                                ));
                            }
                            bytes.extend_from_slice(&chunk);
                        }
                        bytes.shrink_to_fit();
                        files.push(Upload::check(&file_name, bytes, max, &name)?);
                    }
                    None => {
                        let mut raw = Vec::new();
                        while let Some(chunk) = part
                            .chunk()
                            .await
                            .map_err(|e| CrmtopError::field(&name, format!("unreadable: {e}")))?
                        {
                            text_bytes += chunk.len();
                            if text_bytes > MAX_TEXT_BYTES {
                                return Err(CrmtopError::new(
                                    StatusCode::PAYLOAD_TOO_LARGE,
                                    "the form's text fields are too large",
                                ));
                            }
                            raw.extend_from_slice(&chunk);
                        }
                        let text = String::from_utf8(raw)
                            .map_err(|_| CrmtopError::field(&name, "is not UTF-8 text"))?;
                        fields.insert(name, Value::String(text));
                    }
                }
            }
        } else if content_type.starts_with("application/json") {
            let bytes = axum::body::to_bytes(req.into_body(), MAX_TEXT_BYTES)
                .await
                .map_err(|_| {
                    CrmtopError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large")
                })?;
            if let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&bytes) {
                fields.extend(body);
            } else if !bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(CrmtopError::new(
                    StatusCode::BAD_REQUEST,
                    "the request body must be a JSON object",
                ));
            }
        }
        let bytes = axum::body::Bytes::from(Value::Object(fields).to_string());
        Ok(Self {
            fields: parse_ci(&bytes)?,
            files,
        })
    }
}

/// A stored file as CRMTOP objects list it; `url` downloads it with the same token.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileDto {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub url: String,
    pub created_on: String,
}

impl FileDto {
    pub fn new(f: &StoredFile, tz: chrono_tz::Tz) -> Self {
        Self {
            id: f.id.0,
            file_name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            url: file_url(f),
            created_on: local_time(f.created_at, tz),
        }
    }
}

pub fn file_url(f: &StoredFile) -> String {
    format!("/api/v1/file/{}", f.id.0)
}
