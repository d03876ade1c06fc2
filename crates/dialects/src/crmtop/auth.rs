//! CRMTOP `auth/get-token-for-develop` (seed 000, line 9) and our refresh extension.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::{Deserialize, Serialize};

use super::envelope::{Body, CrmtopError, Data, Envelope};
use crate::guard::throttled;
use crate::AppState;
use axum::http::StatusCode;
use crm_domain::auth::TokenPair;
use crm_domain::DomainError;

const TOKEN_PATH: &str = "/api/v1/auth/get-token-for-develop";

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    use crate::openapi::{Api, Op};
    use axum::routing::MethodFilter;
    Api::new(spec)
        .route::<TokenIn, Envelope<TokenOut>, _, _>(
            MethodFilter::POST,
            TOKEN_PATH,
            Op::anonymous("Auth", "A token pair for a client id and secret"),
            token,
        )
        .route::<RefreshIn, Envelope<TokenOut>, _, _>(
            MethodFilter::POST,
            "/api/v1/auth/refresh-token",
            Op::anonymous(
                "Auth",
                "A new token pair for a refresh token (ours; it works once)",
            ),
            refresh,
        )
        .router
}

/// `GetTokenForPublicApiRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TokenIn {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RefreshIn {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `TokenForPublicApiDto`. `expiration` is the access token's expiry as Unix time in seconds.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TokenOut {
    access_token: String,
    refresh_token: String,
    expiration: i64,
}

impl From<TokenPair> for TokenOut {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            expiration: p.access_expires_at.timestamp(),
        }
    }
}

fn credentials_error(e: DomainError) -> CrmtopError {
    match e {
        DomainError::Unauthorized => {
            CrmtopError::new(StatusCode::UNAUTHORIZED, "Invalid client credentials")
        }
        other => other.into(),
    }
}

fn required(field: &str, value: Option<String>) -> Result<String, CrmtopError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| CrmtopError::field(field, "is required"))
}

async fn token(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<TokenIn>,
) -> Result<Data<TokenOut>, Response> {
    let id = required("clientId", body.client_id).map_err(IntoResponse::into_response)?;
    let secret =
        required("clientSecret", body.client_secret).map_err(IntoResponse::into_response)?;
    match s.auth.issue(&id, &secret, peer.ip()).await {
        Ok(pair) => Ok(Data(pair.into())),
        Err(DomainError::Throttled {
            retry_after,
            busy,
            message,
        }) => Err(throttled(TOKEN_PATH, retry_after, busy, &message)),
        Err(e) => Err(credentials_error(e).into_response()),
    }
}

async fn refresh(
    State(s): State<AppState>,
    Body(body): Body<RefreshIn>,
) -> Result<Data<TokenOut>, CrmtopError> {
    let token = required("refreshToken", body.refresh_token)?;
    let pair = s.auth.refresh(&token).await.map_err(|e| match e {
        DomainError::Unauthorized => CrmtopError::new(
            StatusCode::UNAUTHORIZED,
            "Invalid, expired or already used refresh token",
        ),
        other => other.into(),
    })?;
    Ok(Data(pair.into()))
}
