//! Sales documents: the tenant's document settings (`/crm/v1/settings/documents`: seller,
//! tax code, bank account for VietQR, logo) and printouts of a NextX sale or a CRMTOP order as
//! an 80 mm receipt or an A4 invoice, HTML or PDF. See `docs/printouts.md`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::MethodFilter as M;
use axum::Json;
use crm_domain::ids::{DocId, OrderId};
use crm_domain::printout::{Documents, Printout};
use serde::{Deserialize, Serialize};

use super::{id_of, Caller, OwnError, OwnQuery};
use crate::body::parse_ci;
use crate::openapi::{one_of, Api, Op};
use crate::printout::{self, Format, Paper};
use crate::AppState;

pub(super) fn routes(api: Api<'_>) -> Api<'_> {
    const D: &str = "Sales documents";
    const PRINT: [crate::openapi::Param; 2] = [
        one_of("format", &["html", "pdf"]),
        one_of("paper", &["a4", "80mm"]),
    ];
    api.route::<(), DocumentsOut, _, _>(
        M::GET,
        "/crm/v1/settings/documents",
        Op::bearer(
            D,
            "The tenant's document settings: seller, tax code, bank account, logo",
        ),
        show,
    )
    .route::<SetBody, DocumentsOut, _, _>(
        M::PUT,
        "/crm/v1/settings/documents",
        Op::bearer(D, "Set document settings (an empty value removes a key)"),
        set,
    )
    .route::<(), (), _, _>(
        M::GET,
        "/crm/v1/sales/{id}/print",
        Op::bearer(
            D,
            "A NextX sale as an A4 invoice or 80 mm receipt, HTML or PDF",
        )
        .int_id()
        .query(&PRINT)
        .document(),
        print_sale,
    )
    .route::<(), (), _, _>(
        M::GET,
        "/crm/v1/orders/{id}/print",
        Op::bearer(
            D,
            "A CRMTOP order as an A4 invoice or 80 mm receipt, HTML or PDF",
        )
        .query(&PRINT)
        .document(),
        print_order,
    )
}

/// The document settings.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct DocumentsOut {
    /// `key: value`: `seller_name`, `seller_address`, `tax_code`, `phone`, `email`,
    /// `website`, `bank_bin`, `bank_account`, `bank_account_name`, `bank_name`, `logo` (a
    /// `data:image/png;base64,…` URI), `footer`.
    settings: BTreeMap<String, String>,
}

/// Settings to change.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SetBody {
    /// `key: value`; an empty value removes the key.
    settings: BTreeMap<String, String>,
}

async fn show(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<DocumentsOut>, OwnError> {
    Ok(Json(DocumentsOut {
        settings: s.crm.settings(&actor, Documents).await?,
    }))
}

async fn set(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DocumentsOut>, OwnError> {
    let b: SetBody = parse_ci(&body?)?;
    let pairs: Vec<(String, String)> = b.settings.into_iter().collect();
    Ok(Json(DocumentsOut {
        settings: s.crm.set_settings(&actor, Documents, &pairs).await?,
    }))
}

#[derive(Debug, Default, Deserialize)]
struct PrintQuery {
    format: Option<String>,
    paper: Option<String>,
}

fn choice<T>(
    field: &str,
    raw: Option<&str>,
    default: T,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<T, OwnError> {
    match raw {
        None => Ok(default),
        Some(v) => parse(v).ok_or_else(|| OwnError {
            status: StatusCode::BAD_REQUEST,
            field: Some(field.to_owned()),
            message: format!("must be {allowed}"),
        }),
    }
}

async fn answer(
    s: &AppState,
    actor: &crm_domain::Actor,
    q: PrintQuery,
    p: Printout,
) -> Result<Response, OwnError> {
    let format = choice(
        "format",
        q.format.as_deref(),
        Format::Pdf,
        Format::parse,
        "html or pdf",
    )?;
    let paper = choice(
        "paper",
        q.paper.as_deref(),
        Paper::A4,
        Paper::parse,
        "a4 or 80mm",
    )?;
    let seller = s.crm.seller(actor).await?;
    let name = format!(
        "hoa-don-{}.pdf",
        crm_domain::vietqr::purpose(&p.code).replace(' ', "-")
    );
    Ok(match format {
        Format::Html => Html(printout::html::render(&seller, &[p], paper)).into_response(),
        Format::Pdf => {
            printout::pdf_response(printout::render_pdf(seller, vec![p], paper).await?, &name)
        }
    })
}

async fn print_sale(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    OwnQuery(q): OwnQuery<PrintQuery>,
) -> Result<Response, OwnError> {
    let id = id.trim().parse::<i64>().map_err(|_| OwnError {
        status: StatusCode::NOT_FOUND,
        field: Some("id".to_owned()),
        message: format!("'{id}' is not a sale id"),
    })?;
    let p = s.crm.sale_printout(&actor, DocId(id)).await?;
    answer(&s, &actor, q, p).await
}

async fn print_order(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    OwnQuery(q): OwnQuery<PrintQuery>,
) -> Result<Response, OwnError> {
    let id = OrderId(id_of(&id)?);
    let mut list = s.crm.order_printouts(&actor, &[id]).await?;
    let p = list
        .pop()
        .ok_or_else(|| OwnError::from(crm_domain::DomainError::not_found("order")))?;
    answer(&s, &actor, q, p).await
}
