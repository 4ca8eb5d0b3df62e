//! WhatsApp provider servers an account registers (Evolution API, WAHA, UazAPI, Z-API,
//! Meta's Cloud API): their credentials sealed at rest, checked against the server before
//! they are kept, and never answered. See ADR 22.

pub mod adapters;
pub mod address;
pub mod credentials;
pub mod health;
pub mod http;
pub mod instances;
mod routes;
pub mod store;
pub mod webhooks;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use http::ProviderClient;
/// Providers' and instances' routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::app::state::AppState> {
    routes::router()
        .merge(instances::router())
        .merge(webhooks::router())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Evolution,
    Waha,
    Uazapi,
    Zapi,
    CloudApi,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Evolution => "evolution",
            ProviderKind::Waha => "waha",
            ProviderKind::Uazapi => "uazapi",
            ProviderKind::Zapi => "zapi",
            ProviderKind::CloudApi => "cloud_api",
        }
    }

    pub fn parse(raw: &str) -> Option<ProviderKind> {
        [
            ProviderKind::Evolution,
            ProviderKind::Waha,
            ProviderKind::Uazapi,
            ProviderKind::Zapi,
            ProviderKind::CloudApi,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }

    /// The keys of the server's own credentials (an instance's go on the instance).
    pub fn credential_keys(self) -> &'static [&'static str] {
        match self {
            ProviderKind::Evolution | ProviderKind::Waha => &["api_key"],
            ProviderKind::Uazapi => &["admin_token"],
            ProviderKind::Zapi => &["client_token"],
            ProviderKind::CloudApi => &["access_token", "app_secret"],
        }
    }
}

/// A provider as the API shows it: never its credentials.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Provider {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: ProviderKind,
    /// What numbers on this type of server can do (the UI offers nothing else).
    #[schema(value_type = adapters::Capabilities)]
    pub capabilities: &'static adapters::Capabilities,
    pub name: String,
    pub base_url: String,
    /// `ok`, `unreachable` or `credentials_invalid`, from the last check.
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_checked_at: Option<OffsetDateTime>,
    /// Always true: a provider is kept only with credentials its server took.
    pub has_credentials: bool,
    /// The last four characters of the main credential, e.g. `…a1b2`.
    pub credentials_hint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}
