//! The inbound queue: deliveries from every source (Chatwoot's webhooks, the hub's own
//! jobs; payment and provider events next) stored before they are acknowledged, with a
//! de-duplication key per account and source, then processed by a leased worker with
//! retries, backoff, dead letters and replay. What a delivery does is decided by its
//! source's [`Handler`], registered at start-up, never by its body.

mod queries;
mod routes;
pub mod store;
pub mod worker;
mod writer;

use std::{collections::HashMap, sync::Arc};

use futures_util::future::BoxFuture;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;
pub use store::Claimed;
pub use writer::DeliveryWriter;

use crate::{app::state::AppState, platform::error::AppResult};

/// `source` of deliveries received from Chatwoot.
pub const FROM_CHATWOOT: &str = "chatwoot";
/// `source` of Asaas's events (billing), which belong to no account when received.
pub const FROM_ASAAS: &str = "asaas";
/// `source` of WhatsApp provider servers' events (one instance each, of any type).
pub const FROM_PROVIDERS: &str = "providers";
/// `source` of the hub's own jobs (write-backs), queued only by the hub's code.
pub const FROM_HUB: &str = "hub";

/// What identifies a second delivery of a body that carries no id of its own: its bytes.
pub fn key_of_bytes(body: &[u8]) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use sha2::{Digest, Sha256};
    format!("sha256:{}", URL_SAFE_NO_PAD.encode(Sha256::digest(body)))
}

/// What processes the deliveries of one source.
pub trait Handler: Send + Sync {
    /// Whether deliveries of `event` of one account, next to each other in the queue, may
    /// be applied together by [`Handler::handle_group`].
    fn groups(&self, _event: &str) -> bool {
        false
    }

    /// Applies one delivery; an error retries it later (or makes it dead).
    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        delivery: &'a Claimed,
    ) -> BoxFuture<'a, AppResult<()>>;

    /// Applies deliveries that [`Handler::groups`] together, in order; an error hands each
    /// back to be handled alone, so whatever was applied must be safe to apply again.
    fn handle_group<'a>(
        &'a self,
        state: &'a AppState,
        group: &'a [Claimed],
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            for delivery in group {
                self.handle(state, delivery).await?;
            }
            Ok(())
        })
    }
}

/// The handler of each source, assembled at start-up.
#[derive(Clone, Default)]
pub struct Handlers(HashMap<&'static str, Arc<dyn Handler>>);

impl Handlers {
    pub fn with(mut self, source: &'static str, handler: impl Handler + 'static) -> Self {
        self.0.insert(source, Arc::new(handler));
        self
    }

    pub fn of(&self, source: &str) -> Option<&dyn Handler> {
        self.0.get(source).map(|handler| handler.as_ref())
    }
}

/// A stored delivery as admins see it (without its body).
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Delivery {
    pub id: Uuid,
    /// Which door it came through: `chatwoot`, `asaas` or `hub`.
    pub source: String,
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
    /// Why it was done without changing anything, when it was.
    pub ignored: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub processed_at: Option<OffsetDateTime>,
}
