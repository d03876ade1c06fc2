//! The OpenAPI documents and the Swagger UI, served offline: the UI's files are in the binary
//! (`utoipa-swagger-ui`'s `vendored` feature), nothing is fetched at build or run time.
//! CRMTOP's document is at the URL CRMTOP's doc gives (`/swagger/v1/swagger.json`), each other
//! at `/swagger/v1/<name>.json`; `/swagger/index.html` lists them all in its picker.

use axum::Router;
use crm_dialects::Document;
use utoipa_swagger_ui::{SwaggerUi, Url};

pub fn swagger(documents: Vec<Document>) -> Router {
    let mut ui = SwaggerUi::new("/swagger");
    for d in documents {
        ui = ui.external_url_unchecked(Url::new(d.title, d.url), d.json);
    }
    ui.into()
}
