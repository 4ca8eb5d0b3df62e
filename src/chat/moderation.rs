//! A channel's settings, for its owner and moderators and the account's admins: its name and
//! topic, archiving (an archived room keeps its messages and takes no new ones) and its
//! people's roles. Each change is audited and is one of the room's events.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Room, ensure_enabled,
    events::{self, Happened},
    members::managed,
    store,
};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    platform::{
        clock,
        db::Tx,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
        validate::Validator,
    },
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_room))
        .routes(routes!(archive))
        .routes(routes!(unarchive))
        .routes(routes!(set_role))
}

const NAME_MAX: usize = 80;
const TOPIC_MAX: usize = 250;

/// The room, when the caller may change it (403 `forbidden` otherwise).
async fn changeable(tx: &mut Tx, scope: &AccountScope, room_id: Uuid) -> AppResult<store::RoomRow> {
    let caller = scope.require_person()?;
    let (room, manages) = managed(tx, scope, caller, room_id).await?;
    if !manages {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "Only the room's owner and moderators, and the account's admins, change it.",
        });
    }
    Ok(room)
}

/// Records the change as an audit entry and a room event, commits, announces, and answers
/// the room as the caller sees it.
async fn finish(
    state: &AppState,
    scope: &AccountScope,
    mut tx: Tx,
    room_id: Uuid,
    entry: AuditEntry,
) -> AppResult<ApiJson<Room>> {
    let caller = scope.require_person()?;
    audit::record(&mut tx, entry).await?;
    let now = clock::now();
    let what = Happened::RoomUpdated;
    let note = events::record(&mut tx, scope.account_id, room_id, what, now).await?;
    let view = store::room_view(&mut tx, scope.account_id, caller, room_id).await?;
    tx.commit().await?;
    events::announce(state, note);
    Ok(ApiJson(view))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"topic": "Deals closing this week"}))]
pub struct RoomChanges {
    /// 1 to 80 characters.
    pub name: Option<String>,
    /// Up to 250 characters (empty clears it).
    pub topic: Option<String>,
}

/// Renames a channel or changes its topic.
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)), request_body = RoomChanges,
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "forbidden, feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "direct_room_fixed"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn update_room(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<RoomChanges>,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let name = body.name.as_deref().map(str::trim);
    let topic = body.topic.as_deref().map(str::trim);
    let mut v = Validator::default();
    v.check(
        name.is_none_or(|n| !n.is_empty() && n.chars().count() <= NAME_MAX),
        "name",
        &format!("must be 1 to {NAME_MAX} characters"),
    )
    .check(
        topic.is_none_or(|t| t.chars().count() <= TOPIC_MAX),
        "topic",
        &format!("must be at most {TOPIC_MAX} characters"),
    );
    v.finish()?;
    let mut tx = state.db.begin().await?;
    let room = changeable(&mut tx, &scope, path.1).await?;
    store::set_name_topic(&mut tx, room.id, name, topic).await?;
    let before = RoomChanges {
        name: room.name.clone(),
        topic: Some(room.topic.clone()),
    };
    let after = RoomChanges {
        name: name.map(str::to_string).or(room.name),
        topic: Some(topic.map_or(room.topic, str::to_string)),
    };
    let entry = AuditEntry::new(&scope, "chat.room_updated", "chat_room", room.id)
        .changes(Some(&before), Some(&after));
    finish(&state, &scope, tx, room.id, entry).await
}

/// Archives a room: it keeps its messages, takes no new ones (409 `room_archived`) and
/// leaves its people's badges.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/archive", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)),
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "forbidden, feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "direct_room_fixed")))]
async fn archive(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Room>> {
    set_archived(state, scope, path.1, true).await
}

/// Brings an archived room back.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/unarchive", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)),
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "forbidden, feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "direct_room_fixed")))]
async fn unarchive(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Room>> {
    set_archived(state, scope, path.1, false).await
}

async fn set_archived(
    state: AppState,
    scope: AccountScope,
    room_id: Uuid,
    archived: bool,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let mut tx = state.db.begin().await?;
    let room = changeable(&mut tx, &scope, room_id).await?;
    let when = archived.then(clock::now);
    if !store::set_archived(&mut tx, room.id, when).await? {
        // Already so: nothing to record.
        let caller = scope.require_person()?;
        let view = store::room_view(&mut tx, scope.account_id, caller, room.id).await?;
        tx.rollback().await?;
        return Ok(ApiJson(view));
    }
    let action = if archived {
        "chat.room_archived"
    } else {
        "chat.room_unarchived"
    };
    let entry = AuditEntry::new(&scope, action, "chat_room", room.id)
        .changes(Some(&!archived), Some(&archived));
    finish(&state, &scope, tx, room.id, entry).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "moderator"}))]
pub struct RoleInput {
    /// `owner`, `moderator` or `member`.
    pub role: String,
}

/// Gives someone in a channel another role (owners, moderators and admins; only an owner
/// or an admin makes or unmakes owners, and a channel keeps at least one owner).
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/members/{userId}", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path), ("userId" = Uuid, Path)), request_body = RoleInput,
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "forbidden, feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "direct_room_fixed, last_owner"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn set_role(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
    ApiJson(body): ApiJson<RoleInput>,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let (_, room_id, user_id) = path;
    let role = body.role.as_str();
    Validator::default()
        .check(
            matches!(role, "owner" | "moderator" | "member"),
            "role",
            "must be owner, moderator or member",
        )
        .finish()?;
    let mut tx = state.db.begin().await?;
    let room = changeable(&mut tx, &scope, room_id).await?;
    let before = store::role_of(&mut tx, room.id, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let owners_change = before == "owner" || role == "owner";
    if owners_change && room.role.as_deref() != Some("owner") && scope.role < Role::Admin {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "Only an owner or an admin of the account makes or unmakes owners.",
        });
    }
    store::set_role(&mut tx, room.id, user_id, role).await?;
    if before == "owner" && store::owners(&mut tx, room.id).await? == 0 {
        return Err(AppError::Conflict {
            code: "last_owner",
            message: "A channel keeps at least one owner: make someone else owner first.".into(),
        });
    }
    let entry = AuditEntry::new(&scope, "chat.member_role_changed", "chat_room", room.id).changes(
        Some(&json!({ "user_id": user_id, "role": before })),
        Some(&json!({ "user_id": user_id, "role": role })),
    );
    finish(&state, &scope, tx, room.id, entry).await
}
