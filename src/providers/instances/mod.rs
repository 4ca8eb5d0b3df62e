//! WhatsApp numbers (sessions) on an account's provider servers: created on the server,
//! connected by QR or pairing code, their status read from it and every change kept
//! (changes in quick succession fold into one entry that counts them).

pub mod live;
mod routes;
mod session;
pub mod store;

mod behaviour;
mod inbox_link;
mod making;
mod observe;

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use behaviour::Behaviour;
pub use making::make_on_server;
pub use observe::{announce, observe};
pub use routes::router;

use crate::platform::{
    crypto::Vault,
    error::{AppError, AppResult},
};

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
