//! How long an account keeps its team chat, and erasing one person's messages on request
//! (LGPD). Messages past the retention are removed by a scheduled pass ([`apply_all`]),
//! audited per account; a thread never loses a message while a newer reply remains — the
//! old one stays as a tombstone until its whole thread is past the limit. An erasure turns
//! every message of the person into a tombstone (threads keep their shape) and takes their
//! reactions away, in one audited transaction.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    ensure_enabled,
    events::{self, Happened},
    messages,
};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    on_conn, on_tx,
    platform::{
        clock,
        db::{Conn, Db, Tx},
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        validate::Validator,
    },
    realtime::RoomNote,
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(settings, set_settings))
        .routes(routes!(erase))
}

/// The longest retention one may set (about ten years).
const RETENTION_MAX_DAYS: i32 = 3650;

/// The account's chat settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"retention_days": 365}))]
pub struct ChatSettings {
    /// Days messages are kept; `null` keeps them forever (the default).
    pub retention_days: Option<i32>,
}

async fn read(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<ChatSettings> {
    let sql = "SELECT retention_days FROM chat_settings WHERE account_id = $1";
    let days: Option<Option<i32>> = on_conn!(conn.into(), c => sqlx::query_scalar(sql)
        .bind(account_id).fetch_optional(c).await?);
    Ok(ChatSettings {
        retention_days: days.flatten(),
    })
}

/// The account's chat settings (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chat/settings", tag = "chat",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = ChatSettings), (status = 403, body = Problem, description = "feature_disabled"),
        (status = 404, body = Problem)))]
async fn settings(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<ChatSettings>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    Ok(ApiJson(read(&state.db, scope.account_id).await?))
}

/// Sets how long the account keeps its chat (account admins; audited). Shortening it
/// takes effect at the next pass, within the hour.
#[utoipa::path(put, path = "/api/v1/accounts/{accountId}/chat/settings", tag = "chat",
    params(("accountId" = Uuid, Path)), request_body = ChatSettings,
    responses((status = 200, body = ChatSettings), (status = 403, body = Problem, description = "forbidden, feature_disabled"),
        (status = 404, body = Problem), (status = 422, body = Problem, description = "validation_failed")))]
async fn set_settings(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<ChatSettings>,
) -> AppResult<ApiJson<ChatSettings>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    scope.require_person()?;
    scope.require(Role::Admin)?;
    Validator::default()
        .check(
            body.retention_days
                .is_none_or(|d| (1..=RETENTION_MAX_DAYS).contains(&d)),
            "retention_days",
            &format!("must be null (forever) or 1 to {RETENTION_MAX_DAYS} days"),
        )
        .finish()?;
    let mut tx = state.db.begin().await?;
    let before = read(&mut tx, scope.account_id).await?;
    let sql = "INSERT INTO chat_settings (account_id, retention_days, updated_at)
               VALUES ($1, $2, $3)
               ON CONFLICT (account_id) DO UPDATE SET retention_days = $2, updated_at = $3";
    on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(scope.account_id).bind(body.retention_days).bind(clock::now())
        .execute(c).await?.rows_affected());
    let entry = AuditEntry::new(&scope, "chat.settings_updated", "account", scope.account_id)
        .changes(Some(&before), Some(&body));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(ApiJson(body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureInput {
    /// Whose messages to erase: a member of the account, active or not.
    pub user_id: Uuid,
}

/// What an erasure did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Erasure {
    pub user_id: Uuid,
    pub messages_erased: u64,
    pub reactions_removed: u64,
}

/// Erases a person's chat messages on request (LGPD): each becomes a tombstone — empty,
/// `deleted: true`, its place in its room and thread kept — and their reactions go (account
/// admins; audited).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/erasures", tag = "chat",
    params(("accountId" = Uuid, Path)), request_body = ErasureInput,
    responses((status = 200, body = Erasure), (status = 403, body = Problem, description = "forbidden, feature_disabled"),
        (status = 404, body = Problem), (status = 422, body = Problem, description = "validation_failed")))]
async fn erase(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<ErasureInput>,
) -> AppResult<ApiJson<Erasure>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    scope.require_person()?;
    scope.require(Role::Admin)?;
    let now = clock::now();
    let mut tx = state.db.begin().await?;
    let sql = "SELECT COUNT(*) FROM account_users WHERE account_id = $1 AND user_id = $2";
    let known: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(sql)
        .bind(scope.account_id).bind(body.user_id).fetch_one(c).await?);
    if known == 0 {
        return Err(AppError::validation(
            "user_id",
            "is not a member of this account",
        ));
    }
    let sql = "SELECT id, room_id FROM chat_messages
               WHERE account_id = $1 AND author_id = $2 AND deleted_at IS NULL";
    let theirs: Vec<(Uuid, Uuid)> = on_tx!(&mut tx, c => sqlx::query_as(sql)
        .bind(scope.account_id).bind(body.user_id).fetch_all(c).await?);
    let mut notes = Vec::with_capacity(theirs.len());
    for (id, room_id) in &theirs {
        messages::store::tombstone(&mut tx, *id, now).await?;
        let what = Happened::MessageUpdated(*id);
        notes.push(events::record(&mut tx, scope.account_id, *room_id, what, now).await?);
    }
    let sql = "DELETE FROM chat_reactions WHERE account_id = $1 AND user_id = $2";
    let reactions = on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(scope.account_id).bind(body.user_id).execute(c).await?.rows_affected());
    let erasure = Erasure {
        user_id: body.user_id,
        messages_erased: theirs.len() as u64,
        reactions_removed: reactions,
    };
    let entry = AuditEntry::new(&scope, "chat.user_erased", "user", body.user_id)
        .changes(None::<&()>, Some(&erasure));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    announce_erased(&state, notes);
    Ok(ApiJson(erasure))
}

/// Announces an erasure's events: each room's last one (sockets fetch the rest as a gap).
fn announce_erased(state: &AppState, notes: Vec<RoomNote>) {
    let mut last: std::collections::HashMap<Uuid, RoomNote> = Default::default();
    for note in notes {
        if let RoomNote::Event { room_id, .. } = note {
            last.insert(room_id, note);
        }
    }
    for note in last.into_values() {
        events::announce(state, note);
    }
}

/// Applies every account's retention (the scheduled pass). An account's failure is logged
/// and the others go on.
pub async fn apply_all(db: &Db) -> AppResult<()> {
    let sql = "SELECT account_id, retention_days FROM chat_settings
               WHERE retention_days IS NOT NULL";
    let accounts: Vec<(Uuid, i32)> =
        on_conn!(Conn::from(db), c => sqlx::query_as(sql).fetch_all(c).await?);
    for (account_id, days) in accounts {
        if let Err(err) = apply(db, account_id, days, clock::now()).await {
            tracing::warn!(error = %err, %account_id, "applying chat retention failed");
        }
    }
    Ok(())
}

/// Removes the account's messages older than `days` (whole threads only; a thread with a
/// newer reply keeps its old messages as tombstones) and their events, in one audited
/// transaction. Answers how many messages went.
pub async fn apply(db: &Db, account_id: Uuid, days: i32, now: OffsetDateTime) -> AppResult<u64> {
    let cutoff = now - Duration::days(i64::from(days));
    let mut tx = db.begin().await?;
    // Old messages lose their text at once, whatever their thread.
    let sql = "SELECT id FROM chat_messages
               WHERE account_id = $1 AND created_at < $2 AND deleted_at IS NULL";
    let old: Vec<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(sql)
        .bind(account_id).bind(cutoff).fetch_all(c).await?);
    for id in &old {
        messages::store::tombstone(&mut tx, *id, now).await?;
    }
    // Then rows go where the whole thread is old: replies first (they name their parent).
    let removed = remove_old_threads(&mut tx, account_id, cutoff).await?;
    let sql = "DELETE FROM chat_events WHERE account_id = $1 AND created_at < $2";
    on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(account_id).bind(cutoff).execute(c).await?.rows_affected());
    if removed > 0 || !old.is_empty() {
        let summary = json!({
            "retention_days": days,
            "before": cutoff,
            "messages_removed": removed,
            "messages_emptied": old.len(),
        });
        let entry = AuditEntry::by(
            Actor::system(),
            Some(account_id),
            "chat.retention_applied",
            "account",
            account_id,
        )
        .changes(None::<&()>, Some(&summary));
        audit::record(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(removed)
}

async fn remove_old_threads(
    tx: &mut Tx,
    account_id: Uuid,
    cutoff: OffsetDateTime,
) -> AppResult<u64> {
    // A thread is old when its first message and its last reply are. Their mentions and
    // reactions went when they became tombstones.
    let replies = "DELETE FROM chat_messages WHERE account_id = $1 AND parent_id IN (
                       SELECT p.id FROM chat_messages p
                       WHERE p.account_id = $1 AND p.parent_id IS NULL AND p.created_at < $2
                         AND (p.last_reply_at IS NULL OR p.last_reply_at < $2))";
    let gone_replies = on_tx!(tx, c => sqlx::query(replies)
        .bind(account_id).bind(cutoff).execute(c).await?.rows_affected());
    let parents = "DELETE FROM chat_messages
                   WHERE account_id = $1 AND parent_id IS NULL AND created_at < $2
                     AND (last_reply_at IS NULL OR last_reply_at < $2)";
    let gone_parents = on_tx!(tx, c => sqlx::query(parents)
        .bind(account_id).bind(cutoff).execute(c).await?.rows_affected());
    Ok(gone_replies + gone_parents)
}
