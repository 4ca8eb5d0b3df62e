//! Team chat, first slice (ADR 23): direct rooms (one per set of people) and channels,
//! messages numbered per room with a sender-chosen `client_id` that makes a retried send
//! harmless, and a read marker per member. The whole module answers 403 `feature_disabled`
//! when the plan turns `internal_chat_enabled` off.

pub mod attachments;
mod badge;
mod conversations;
pub mod events;
pub mod live;
mod members;
mod messages;
mod moderation;
mod personal;
mod presence;
pub mod retention;
mod routes;
pub mod search;
pub mod store;
pub mod team_rooms;

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::{
    app::state::AppState,
    entitlements::{self, Entitlements},
    platform::{
        db::Conn,
        error::{AppError, AppResult},
    },
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    routes::router()
        .merge(members::router())
        .merge(moderation::router())
        .merge(personal::router())
        .merge(presence::router())
        .merge(messages::router())
        .merge(retention::router())
        .merge(badge::router())
        .merge(search::router())
        .merge(attachments::router())
        .merge(conversations::router())
}

/// Refuses the chat to accounts whose plan does not include it.
pub async fn ensure_enabled(
    conn: impl Into<Conn<'_>>,
    state: &AppState,
    scope: &AccountScope,
) -> AppResult<()> {
    let plan = state
        .plans
        .effective(conn, &state.config.plan_defaults, scope)
        .await?;
    included(&plan)
}

/// [`ensure_enabled`] where no person's request names the account's revision (a signed
/// link, an instance token): read from the database each time.
pub async fn ensure_enabled_for(state: &AppState, account_id: Uuid) -> AppResult<()> {
    let defaults = &state.config.plan_defaults;
    included(&entitlements::store::effective(&state.db, defaults, account_id).await?)
}

fn included(plan: &Entitlements) -> AppResult<()> {
    if plan.features.internal_chat_enabled {
        Ok(())
    } else {
        Err(AppError::FeatureDisabled {
            feature: "internal_chat",
        })
    }
}

/// A room as the caller sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Room {
    pub id: Uuid,
    /// `direct`, `channel` or `team`.
    pub kind: String,
    /// A channel's name; `null` for a direct room.
    pub name: Option<String>,
    pub topic: String,
    /// A private channel (and every direct room) is seen only by its members.
    pub private: bool,
    pub team_id: Option<Uuid>,
    pub member_ids: Vec<Uuid>,
    /// The `seq` of the room's latest message (0 before the first).
    pub last_seq: i64,
    /// The number of the room's latest event (realtime frames carry it; resume from it).
    pub event_seq: i64,
    /// Messages after the caller's read marker (0 when they are not in the room).
    pub unread_count: i64,
    /// Messages after the caller's read marker that mention them (or `@room`).
    pub unread_mentions: i64,
    pub archived: bool,
    /// The caller's role in the room (`owner`, `moderator`, `member`), `null` when not in it.
    pub role: Option<String>,
    /// The caller muted the room: it stays out of their badge and notifications.
    pub muted: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_message_at: Option<OffsetDateTime>,
}

impl Room {
    /// Fields that differ from one member to the next.
    pub const PERSONAL: &[&str] = &["unread_count", "unread_mentions", "role", "muted"];
}

/// The caller's unread totals over the rooms they are in (for the sidebar badge).
#[derive(Debug, Serialize, ToSchema)]
pub struct Unread {
    /// The dashboard script's badge reads `count` (the same as `unread_count`).
    pub count: i64,
    pub unread_count: i64,
    pub unread_mentions: i64,
    /// Rooms with at least one unread message.
    pub rooms: i64,
}

impl From<(i64, i64, i64)> for Unread {
    /// From `store::unread`'s (unread messages, rooms with some, unread mentions).
    fn from((unread_count, rooms, unread_mentions): (i64, i64, i64)) -> Unread {
        Unread {
            count: unread_count,
            unread_count,
            unread_mentions,
            rooms,
        }
    }
}
