//! WhatsApp numbers (sessions) on an account's provider servers: created on the server,
//! connected by QR or pairing code, their status read from it and every change kept
//! (changes in quick succession fold into one entry that counts them).

pub mod live;
mod routes;
mod session;
pub mod store;

mod behaviour;

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use behaviour::Behaviour;
pub use routes::router;

use super::{
    adapters::{Adapter, NewSession, Server, Webhook},
    credentials::Credentials,
};
use crate::platform::{
    crypto::Vault,
    error::{AppError, AppResult},
};

/// What a new instance is made with: its id, and the secret its provider sends back with
/// every webhook (32 random characters).
pub struct Made {
    pub id: Uuid,
    pub token: String,
    pub secret: String,
}

/// Makes instance `name` on `server` (or registers the one `given` names), its webhook
/// pointing at the hub.
pub async fn make_on_server(
    public_url: &str,
    adapter: &dyn Adapter,
    server: &Server<'_>,
    name: &str,
    given: &Credentials,
) -> AppResult<Made> {
    use rand::distr::{Alphanumeric, SampleString};
    let id = Uuid::now_v7();
    let secret = Alphanumeric.sample_string(&mut rand::rng(), 32);
    let url = format!("{public_url}/api/v1/webhooks/providers/{id}");
    let webhook = Webhook {
        url: &url,
        secret: &secret,
    };
    let new = NewSession {
        name,
        given,
        webhook: &webhook,
    };
    let token = adapter.create(server, &new).await?;
    Ok(Made { id, token, secret })
}

/// An instance's own credential, sealed like a provider's, under the instance's id.
pub fn seal(vault: &Vault, id: Uuid, token: &str) -> String {
    vault.seal(&format!("instance_credentials:{id}"), token)
}

/// The webhook secret, sealed apart from the credential.
pub fn seal_secret(vault: &Vault, id: Uuid, secret: &str) -> String {
    vault.seal(&format!("instance_webhook:{id}"), secret)
}

pub fn open_secret(vault: &Vault, id: Uuid, sealed: &str) -> AppResult<String> {
    vault
        .open(&format!("instance_webhook:{id}"), sealed)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("instance {id} webhook secret: {e}")))
}

pub fn open(vault: &Vault, id: Uuid, sealed: &str) -> AppResult<String> {
    vault
        .open(&format!("instance_credentials:{id}"), sealed)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("instance {id} credentials: {e}")))
}

/// An instance as the API shows it: never its credential.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Instance {
    pub id: Uuid,
    pub provider_id: Uuid,
    /// Its name on the provider server.
    pub name: String,
    /// The number, once connected.
    pub phone: Option<String>,
    /// `disconnected`, `connecting`, `qr_pending`, `connected`, `stale` or `failed`.
    pub status: String,
    /// The provider's own value (Evolution: `close`, `connecting`, `open`).
    pub provider_status: Option<String>,
    /// How the number behaves, as pushed to its provider.
    #[sqlx(try_from = "String")]
    pub settings: Behaviour,
    /// The Chatwoot inbox the number is bridged to.
    pub chatwoot_inbox_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_event_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One change of status (or several in quick succession, counted).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct StatusChange {
    pub id: Uuid,
    pub from_status: String,
    pub to_status: String,
    /// The provider's value when it changed.
    pub raw: Option<String>,
    /// Why: `created`, `connect`, `check`, `logout`.
    pub reason: String,
    /// Who saw it: `user`, `check` or `webhook`.
    pub source: String,
    /// How many changes this entry stands for.
    pub changes: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub first_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_at: OffsetDateTime,
}
