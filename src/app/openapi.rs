//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the API
//! reference page served from the binary (no CDN).

use axum::{Router, http::HeaderValue, http::header};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};
use utoipa_swagger_ui::SwaggerUi;

use crate::{app::state::AppState, platform::error::Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Whatpro Hub API",
        description = "Kanban CRM, WhatsApp instances, team chat and billing beside Chatwoot. \
            Errors are RFC 9457 problem+json with a stable `code`.",
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Swagger UI at `/docs` and the document at `/api/openapi.json`. Swagger UI sets inline
/// styles, so its pages get a CSP that allows them (and still forbids framing).
pub fn docs(api: utoipa::openapi::OpenApi) -> Router<AppState> {
    const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
        img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
    Router::from(SwaggerUi::new("/docs").url("/api/openapi.json", api)).layer(
        SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        ),
    )
}
