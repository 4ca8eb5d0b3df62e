//! A member's own settings of a room: muting it, and "mark unread from here" (the read
//! marker moved back to just before a message). Both touch only the caller's row; the
//! caller's other screens hear of the marker over the socket.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Room, ensure_enabled, store};
use crate::{
    app::state::AppState,
    platform::{
        db::Tx,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
        validate::Validator,
    },
    realtime::RoomNote,
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(mute))
        .routes(routes!(mark_unread))
}

/// The room, when the caller is in it (404 when they cannot see it, 409 `not_a_member`
/// for a public channel they have not joined).
async fn own_room(
    tx: &mut Tx,
    scope: &AccountScope,
    caller: Uuid,
    room_id: Uuid,
) -> AppResult<store::RoomRow> {
    let room = store::room(&mut *tx, scope.account_id, Some(caller), room_id)
        .await?
        .filter(store::RoomRow::visible)
        .ok_or(AppError::NotFound)?;
    if !room.is_member() {
        return Err(AppError::Conflict {
            code: "not_a_member",
            message: "Join the channel first.".into(),
        });
    }
    Ok(room)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"muted": true}))]
pub struct MuteInput {
    pub muted: bool,
}

/// Mutes the room for the caller (out of their badge and desktop notifications) or unmutes
/// it.
#[utoipa::path(put, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/mute", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)), request_body = MuteInput,
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "not_a_member")))]
async fn mute(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<MuteInput>,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    let mut tx = state.db.begin().await?;
    let room = own_room(&mut tx, &scope, caller, path.1).await?;
    store::set_muted(&mut tx, room.id, caller, body.muted).await?;
    let view = store::room_view(&mut tx, scope.account_id, caller, room.id).await?;
    tx.commit().await?;
    Ok(ApiJson(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"seq": 1}))]
pub struct UnreadFrom {
    /// The first message to show as unread (1 to the room's `last_seq`).
    pub seq: i64,
}

/// "Mark unread from here": the caller's marker goes back to just before `seq` (the one
/// way it moves back).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/unread", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)), request_body = UnreadFrom,
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "not_a_member"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn mark_unread(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<UnreadFrom>,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    let mut tx = state.db.begin().await?;
    let room = own_room(&mut tx, &scope, caller, path.1).await?;
    Validator::default()
        .check(
            (1..=room.last_seq).contains(&body.seq),
            "seq",
            &format!("must be a message of the room (1 to {})", room.last_seq),
        )
        .finish()?;
    store::set_read(&mut tx, room.id, caller, body.seq - 1).await?;
    let view = store::room_view(&mut tx, scope.account_id, caller, room.id).await?;
    tx.commit().await?;
    state.realtime.room(RoomNote::Read {
        account_id: scope.account_id,
        room_id: room.id,
        user_id: caller,
    });
    Ok(ApiJson(view))
}
