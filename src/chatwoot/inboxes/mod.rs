//! Inboxes mirrored from Chatwoot. Chatwoot owns them; the hub records each one and
//! whether it is enabled here (fed into boards, counted against the plan's `max_inboxes`).
//! A sync records every inbox, and past the limit leaves the extra ones disabled with the
//! reason; enabling one more is refused with `quota_exceeded`.

mod routes;
pub mod store;
pub mod sync;

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;

/// Why an inbox is disabled when the plan has no room for it.
pub const OVER_QUOTA: &str = "over_quota";

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Inbox {
    pub id: Uuid,
    pub chatwoot_inbox_id: i64,
    pub name: String,
    /// Chatwoot's channel type, e.g. `Channel::Whatsapp`.
    pub channel_type: String,
    pub phone_number: Option<String>,
    /// Whether the hub uses this inbox (boards, automation).
    pub enabled: bool,
    /// Why a disabled inbox is disabled: `over_quota` (the plan's `max_inboxes`) or
    /// `disabled_by_admin`.
    pub disabled_reason: Option<String>,
    /// When the inbox disappeared from Chatwoot; it stays for history, disabled.
    #[serde(with = "time::serde::rfc3339::option")]
    pub removed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub synced_at: OffsetDateTime,
    /// The hub's WhatsApp number bridged into this inbox (one at most).
    pub whatsapp_instance_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}
