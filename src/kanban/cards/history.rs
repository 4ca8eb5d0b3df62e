//! A card's history: created, moved (from, to, by whom, when), updated, archived, won, lost
//! (with the reason), reopened. Append-only; the SLA and flow metrics are computed from it.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    on_conn, on_tx,
    platform::{
        clock,
        db::{Conn, Tx},
        error::AppResult,
    },
    tenancy::{AccountScope, Principal},
};

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CardEvent {
    pub id: Uuid,
    pub card_id: Uuid,
    /// `created`, `moved`, `updated`, `archived`, `won`, `lost` or `reopened`.
    pub kind: String,
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Option<Uuid>,
    /// `user`, `api_key` or `chatwoot`.
    pub actor_type: String,
    pub actor_user_id: Option<Uuid>,
    pub reason: Option<String>,
    /// For `updated`: the fields that changed, before and after.
    #[sqlx(json(nullable))]
    #[schema(value_type = Option<Object>)]
    pub changes: Option<Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Who caused an event.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    kind: &'static str,
    user_id: Option<Uuid>,
}

impl Actor {
    /// Chatwoot, through its webhooks.
    pub fn chatwoot() -> Actor {
        Actor {
            kind: "chatwoot",
            user_id: None,
        }
    }
}

impl From<&AccountScope> for Actor {
    fn from(scope: &AccountScope) -> Self {
        match scope.principal {
            Principal::User { user_id, .. } => Actor {
                kind: "user",
                user_id: Some(user_id),
            },
            Principal::ApiKey { .. } => Actor {
                kind: "api_key",
                user_id: None,
            },
        }
    }
}

/// One event about to be written.
pub struct Event<'a> {
    pub account_id: Uuid,
    pub board_id: Uuid,
    pub card_id: Uuid,
    pub kind: &'static str,
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Option<Uuid>,
    pub actor: Actor,
    pub reason: Option<&'a str>,
    pub changes: Option<Value>,
}

pub async fn record(tx: &mut Tx, event: Event<'_>) -> AppResult<()> {
    record_all(tx, &[event]).await
}

/// Events written per statement at most.
const RECORD_ROWS: usize = 200;

/// Writes events in the order given, in one statement per [`RECORD_ROWS`].
pub async fn record_all(tx: &mut Tx, events: &[Event<'_>]) -> AppResult<()> {
    let at = clock::now();
    for chunk in events.chunks(RECORD_ROWS) {
        on_tx!(&mut *tx, c => {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO card_events (id, account_id, board_id, card_id, kind, from_stage_id,
                   to_stage_id, actor_type, actor_user_id, reason, changes, created_at) ",
            );
            insert.push_values(chunk, |mut row, event| {
                row.push_bind(Uuid::now_v7()).push_bind(event.account_id)
                    .push_bind(event.board_id).push_bind(event.card_id).push_bind(event.kind)
                    .push_bind(event.from_stage_id).push_bind(event.to_stage_id)
                    .push_bind(event.actor.kind).push_bind(event.actor.user_id)
                    .push_bind(event.reason.map(str::to_string))
                    .push_bind(event.changes.clone().map(sqlx::types::Json)).push_bind(at);
            });
            // One row is always the same statement; every other length would crowd the
            // connection's statement cache.
            insert.build().persistent(chunk.len() == 1).execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

/// The card's events, oldest first.
pub async fn list(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    card_id: Uuid,
) -> AppResult<Vec<CardEvent>> {
    let sql = "SELECT id, card_id, kind, from_stage_id, to_stage_id, actor_type, actor_user_id,
                      reason, changes, created_at
               FROM card_events WHERE account_id = $1 AND card_id = $2 ORDER BY id";
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(card_id).fetch_all(c).await?))
}
