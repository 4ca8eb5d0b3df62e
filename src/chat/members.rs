//! A room's people: `POST …/chat/rooms/:roomId/members` adds active members of the account,
//! `DELETE …/members/:userId` removes one. Anyone leaves a room; the room's owner and
//! moderators, and the account's admins (who moderate every room but direct ones), manage the
//! others; any member adds people to a public channel. A direct room's people are fixed (a
//! new set of people is a new direct room): 409 `direct_room_fixed`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Room, ensure_enabled,
    events::{self, Happened},
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
        .routes(routes!(add_members))
        .routes(routes!(remove_member))
}

/// People added in one call.
const ADD_MAX: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_ids": []}))]
pub struct NewMembers {
    /// Active members of the account.
    pub user_ids: Vec<Uuid>,
}

/// The room as the caller sees it, and whether they may manage it: its owner and
/// moderators, and the account's admins, who moderate private channels they are not in too
/// (other people's direct rooms stay 404 to everyone).
pub(super) async fn managed(
    tx: &mut Tx,
    scope: &AccountScope,
    caller: Uuid,
    room_id: Uuid,
) -> AppResult<(store::RoomRow, bool)> {
    let admin = scope.role >= Role::Admin;
    let room = store::room(&mut *tx, scope.account_id, Some(caller), room_id)
        .await?
        .filter(|room| room.visible() || (admin && room.kind != "direct"))
        .ok_or(AppError::NotFound)?;
    if room.kind == "direct" {
        return Err(AppError::Conflict {
            code: "direct_room_fixed",
            message: "A direct conversation keeps its people: open a new one.".into(),
        });
    }
    let manages = matches!(room.role.as_deref(), Some("owner" | "moderator")) || admin;
    Ok((room, manages))
}

/// A team room's people are its team's: change the team instead (409
/// `team_room_follows_team`).
fn people_set_by_hand(room: &store::RoomRow) -> AppResult<()> {
    if room.kind == "team" {
        return Err(AppError::Conflict {
            code: "team_room_follows_team",
            message: "A team room's people are the team's members: change the team.".into(),
        });
    }
    Ok(())
}

/// Adds people to a channel (its owner, moderators and the account's admins; any member
/// for a public channel). People already in it stay as they were; naming nobody changes
/// nothing.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/members", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)), request_body = NewMembers,
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "forbidden, feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "direct_room_fixed"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn add_members(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<NewMembers>,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    Validator::default()
        .check(
            body.user_ids.len() <= ADD_MAX,
            "user_ids",
            "must name at most 100 people",
        )
        .finish()?;
    let mut tx = state.db.begin().await?;
    let (room, manages) = managed(&mut tx, &scope, caller, path.1).await?;
    people_set_by_hand(&room)?;
    let member = room.is_member();
    if !(manages || (member && !room.private)) {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "Only the channel's owner and moderators add people to it.",
        });
    }
    let mut v = Validator::default();
    for (i, user_id) in body.user_ids.iter().enumerate() {
        let active = store::is_active_member(&mut tx, scope.account_id, *user_id).await?;
        v.check(
            active,
            &format!("user_ids[{i}]"),
            "is not an active member of this account",
        );
    }
    v.finish()?;
    let now = clock::now();
    let mut added = Vec::new();
    for user_id in &body.user_ids {
        if store::add_member(
            &mut tx,
            scope.account_id,
            room.id,
            *user_id,
            "member",
            room.last_seq,
            now,
        )
        .await?
        {
            added.push(*user_id);
        }
    }
    let mut note = None;
    if !added.is_empty() {
        let entry = AuditEntry::new(&scope, "chat.members_added", "chat_room", room.id)
            .changes(None::<&()>, Some(&added));
        audit::record(&mut tx, entry).await?;
        let what = Happened::RoomUpdated;
        note = Some(events::record(&mut tx, scope.account_id, room.id, what, now).await?);
    }
    let view = store::room_view(&mut tx, scope.account_id, caller, room.id).await?;
    tx.commit().await?;
    if let Some(note) = note {
        events::announce(&state, note);
    }
    Ok(ApiJson(view))
}

/// Removes someone from a channel: themselves (leaving), or anyone for its owner,
/// moderators and the account's admins. Someone not in it is already out (200).
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/members/{userId}", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path), ("userId" = Uuid, Path)),
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "forbidden, feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "direct_room_fixed")))]
async fn remove_member(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    let (_, room_id, user_id) = path;
    let mut tx = state.db.begin().await?;
    let (room, manages) = managed(&mut tx, &scope, caller, room_id).await?;
    people_set_by_hand(&room)?;
    if user_id != caller && !manages {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "Only the channel's owner and moderators remove other people.",
        });
    }
    // Someone not in the room is already out of it.
    let mut note = None;
    if store::remove_member(&mut tx, room.id, user_id).await? {
        let entry = AuditEntry::new(&scope, "chat.member_removed", "chat_room", room.id)
            .changes(Some(&user_id), None::<&()>);
        audit::record(&mut tx, entry).await?;
        let what = Happened::MemberRemoved(user_id);
        let now = clock::now();
        note = Some(events::record(&mut tx, scope.account_id, room.id, what, now).await?);
    }
    let view = store::room_view(&mut tx, scope.account_id, caller, room.id).await?;
    tx.commit().await?;
    if let Some(note) = note {
        events::announce(&state, note);
    }
    Ok(ApiJson(view))
}
