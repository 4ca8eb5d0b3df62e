//! Chatwoot's webhooks: received at one URL per account, checked (signature and a
//! 5-minute window, or explicitly unsigned for Chatwoot before 4.11.2), stored with a
//! de-duplication key before they are acknowledged, and processed by a worker with
//! retries, backoff and a dead-letter state.
//!
//! Inbox events keep the inbox mirror current; conversation, message and contact events
//! move the Kanban's cards (`kanban::follow`).

mod intake;
mod queries;
mod receivers;
pub mod store;
pub mod worker;
mod writer;

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use intake::router;

/// `source` of deliveries received from Chatwoot.
pub const FROM_CHATWOOT: &str = "chatwoot";
/// `source` of the hub's own jobs (write-backs), queued only by the hub's code.
pub const FROM_HUB: &str = "hub";
pub use receivers::Receivers;
pub use writer::DeliveryWriter;

/// A stored delivery as admins see it (without its body).
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Delivery {
    pub id: Uuid,
    pub event: String,
    /// `sig:` and what Chatwoot signed; unsigned (Chatwoot before 4.11.2), its
    /// `X-Chatwoot-Delivery`, or a hash of event, id and update time when it sent none.
    pub dedupe_key: String,
    /// `pending`, `processing`, `done` or `dead`.
    pub status: String,
    pub attempts: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub processed_at: Option<OffsetDateTime>,
}
