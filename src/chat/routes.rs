use std::collections::{BTreeSet, HashMap};

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Room, Unread, ensure_enabled,
    events::{self, Happened},
    store::{self, Listing},
    team_rooms,
};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    platform::{
        clock,
        db::Tx,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::{ApiPath, ApiQuery},
        validate::Validator,
    },
    realtime::RoomNote,
    tenancy::{AccountScope, Principal, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rooms, create_room))
        .routes(routes!(get_room))
        .routes(routes!(mark_read))
        .routes(routes!(unread))
}

/// People in a direct room, the caller included.
const DIRECT_MAX: usize = 8;
/// People named in one create.
const MEMBERS_MAX: usize = 500;

/// The person behind the call; `None` for an API key.
fn viewer(scope: &AccountScope) -> Option<Uuid> {
    match scope.principal {
        Principal::User { user_id, .. } => Some(user_id),
        Principal::ApiKey { .. } => None,
    }
}

/// The room's view with its members.
async fn view(state: &AppState, scope: &AccountScope, row: &store::RoomRow) -> AppResult<Room> {
    let members = store::member_ids(&state.db, scope.account_id, row.id).await?;
    Ok(row.view(members))
}

/// A room the caller may see: 404 for any other (no existence leak).
pub(super) async fn visible(
    state: &AppState,
    scope: &AccountScope,
    id: Uuid,
) -> AppResult<store::RoomRow> {
    store::room(&state.db, scope.account_id, viewer(scope), id)
        .await?
        .filter(store::RoomRow::visible)
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomQuery {
    /// Account admins: every room but other people's direct ones, private channels included
    /// (to moderate them; reading their messages still means joining, which their people see).
    pub all: Option<bool>,
}

/// The rooms the caller is in and the account's public channels, latest activity first.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chat/rooms", tag = "chat",
    params(("accountId" = Uuid, Path), RoomQuery),
    responses((status = 200, body = Vec<Room>), (status = 403, body = Problem, description = "feature_disabled"),
        (status = 404, body = Problem)))]
async fn list_rooms(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(query): ApiQuery<RoomQuery>,
) -> AppResult<ApiJson<Vec<Room>>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let listing = if query.all.unwrap_or(false) {
        if scope.role < Role::Admin {
            return Err(AppError::Forbidden {
                code: "forbidden",
                message: "Only the account's admins list every room.",
            });
        }
        Listing::Moderated
    } else {
        Listing::Public
    };
    let who = viewer(&scope);
    let rows = store::rooms(&state.db, scope.account_id, who, listing).await?;
    let mut members: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let pairs = store::members_of_listed(&state.db, scope.account_id, who, listing).await?;
    for (room, user) in pairs {
        members.entry(room).or_default().push(user);
    }
    Ok(ApiJson(
        rows.iter()
            .map(|row| row.view(members.remove(&row.id).unwrap_or_default()))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "channel", "name": "general", "member_ids": []}))]
pub struct NewRoomInput {
    /// `direct` (2 to 8 people, the caller included; one room per set of people),
    /// `channel` (a name required), or `team` (`team_id` required: the team's room, its
    /// people the team's members; account admins and the team's members open it).
    pub kind: String,
    pub name: Option<String>,
    pub topic: Option<String>,
    /// Channels only (direct rooms are always private); default false.
    pub private: Option<bool>,
    pub team_id: Option<Uuid>,
    /// Active members of the account; the caller joins anyway.
    pub member_ids: Vec<Uuid>,
}

/// Opens a direct room (200 with the existing one when these people already have one) or
/// creates a channel, the caller as its owner (members of the account; a person's token).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/rooms", tag = "chat",
    params(("accountId" = Uuid, Path)), request_body = NewRoomInput,
    responses((status = 201, body = Room), (status = 200, body = Room, description = "The direct room these people already have"),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required"), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn create_room(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<NewRoomInput>,
) -> AppResult<(StatusCode, ApiJson<Room>)> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    let mut v = Validator::default();
    v.check(
        matches!(body.kind.as_str(), "direct" | "channel" | "team"),
        "kind",
        "must be direct, channel or team",
    );
    v.check(
        body.member_ids.len() <= MEMBERS_MAX,
        "member_ids",
        &format!("must name at most {MEMBERS_MAX} people"),
    );
    if let Some(topic) = &body.topic {
        v.check(
            topic.chars().count() <= 250 && !topic.chars().any(char::is_control),
            "topic",
            "must be at most 250 characters, without control characters",
        );
    }
    let mut people: BTreeSet<Uuid> = body.member_ids.iter().copied().collect();
    match body.kind.as_str() {
        "channel" => match &body.name {
            Some(name) => {
                v.text("name", name, 80);
            }
            None => {
                v.check(false, "name", "is required for a channel");
            }
        },
        "direct" => {
            people.insert(caller);
            v.check(
                (2..=DIRECT_MAX).contains(&people.len()),
                "member_ids",
                &format!("a direct room has 2 to {DIRECT_MAX} people, the caller included"),
            )
            .check(
                body.name.is_none() && body.private.is_none() && body.team_id.is_none(),
                "kind",
                "a direct room takes no name, private flag or team",
            );
        }
        "team" => {
            v.check(
                body.team_id.is_some(),
                "team_id",
                "is required for a team room",
            )
            .check(
                body.member_ids.is_empty() && body.name.is_none() && body.private.is_none(),
                "kind",
                "a team room's name and people are its team's",
            );
        }
        _ => {}
    }
    v.finish()?;
    if let (Some(team_id), "team") = (body.team_id, body.kind.as_str()) {
        let (status, room) = team_rooms::open(&state, &scope, caller, team_id).await?;
        return Ok((status, ApiJson(room)));
    }
    let now = clock::now();
    let mut tx = state.db.begin().await?;
    for person in &people {
        if !store::is_active_member(&mut tx, scope.account_id, *person).await? {
            return Err(AppError::validation(
                "member_ids",
                format!("{person} is not an active member of the account"),
            ));
        }
    }
    let direct = body.kind == "direct";
    let direct_key = direct.then(|| {
        people
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",")
    });
    let id = Uuid::now_v7();
    let name = body.name.as_deref().map(str::trim);
    let new = store::NewRoom {
        id,
        account_id: scope.account_id,
        kind: &body.kind,
        name: if direct { None } else { name },
        topic: body.topic.as_deref().map(str::trim).unwrap_or_default(),
        private: direct || body.private.unwrap_or(false),
        direct_key: direct_key.as_deref(),
        created_by: Some(caller),
        now,
    };
    if !store::insert_room(&mut tx, &new).await? {
        tx.rollback().await?;
        let key = direct_key.as_deref().unwrap_or_default();
        let existing = store::direct_room(&state.db, scope.account_id, key)
            .await?
            .ok_or(AppError::NotFound)?;
        let row = visible(&state, &scope, existing).await?;
        return Ok((StatusCode::OK, ApiJson(view(&state, &scope, &row).await?)));
    }
    // The creator owns a channel when they are in the account (a super admin who is not
    // creates it for the people named).
    if direct || store::is_active_member(&mut tx, scope.account_id, caller).await? {
        store::add_member(&mut tx, scope.account_id, id, caller, "owner", 0, now).await?;
    }
    for person in people.iter().filter(|p| **p != caller) {
        let role = if direct { "owner" } else { "member" };
        store::add_member(&mut tx, scope.account_id, id, *person, role, 0, now).await?;
    }
    let created = events::record(&mut tx, scope.account_id, id, Happened::RoomUpdated, now).await?;
    let room = store::room_view(&mut tx, scope.account_id, caller, id).await?;
    let entry = AuditEntry::new(&scope, "chat.room_created", "chat_room", id)
        .changes(None::<&Room>, Some(&room));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    events::announce(&state, created);
    Ok((StatusCode::CREATED, ApiJson(room)))
}

/// One room (its members, or anyone in the account for a public channel; 404 otherwise).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)),
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "feature_disabled"),
        (status = 404, body = Problem)))]
async fn get_room(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let row = visible(&state, &scope, path.1).await?;
    Ok(ApiJson(view(&state, &scope, &row).await?))
}

/// A room the caller is in now, and the note to announce when getting in joined them.
pub(super) struct Entered {
    pub room: store::RoomRow,
    pub joined: Option<RoomNote>,
}

/// The room, which the caller may see, with the caller in it: taking part in a public
/// channel (sending, reacting, reading) joins it. 404 for a room they may not see.
pub(super) async fn member_of(
    tx: &mut Tx,
    scope: &AccountScope,
    caller: Uuid,
    room_id: Uuid,
) -> AppResult<Entered> {
    let room = store::room(&mut *tx, scope.account_id, Some(caller), room_id)
        .await?
        .filter(store::RoomRow::visible)
        .ok_or(AppError::NotFound)?;
    let joined = join(tx, scope, caller, &room).await?;
    Ok(Entered { room, joined })
}

/// Adds the caller to `room`, a public channel they are not in (nothing when they are in
/// it), audited; answers the note of their joining.
pub(super) async fn join(
    tx: &mut Tx,
    scope: &AccountScope,
    caller: Uuid,
    room: &store::RoomRow,
) -> AppResult<Option<RoomNote>> {
    if room.is_member() {
        return Ok(None);
    }
    let now = clock::now();
    store::add_member(
        tx,
        scope.account_id,
        room.id,
        caller,
        "member",
        room.last_seq,
        now,
    )
    .await?;
    let entry = AuditEntry::new(scope, "chat.member_joined", "chat_room", room.id)
        .changes(None::<&Uuid>, Some(&caller));
    audit::record(tx, entry).await?;
    let note = events::record(tx, scope.account_id, room.id, Happened::RoomUpdated, now).await?;
    Ok(Some(note))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadInput {
    /// The last message read; the marker never moves back, nor past the room's last_seq.
    pub seq: i64,
}

/// Moves the caller's read marker forward (reading a public channel joins it); answers the
/// room with its unread count.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/read", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)), request_body = ReadInput,
    responses((status = 200, body = Room), (status = 403, body = Problem, description = "feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 422, body = Problem, description = "validation_failed")))]
async fn mark_read(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ReadInput>,
) -> AppResult<ApiJson<Room>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    Validator::default()
        .check(body.seq >= 0, "seq", "must be 0 or more")
        .finish()?;
    let mut tx = state.db.begin().await?;
    let Entered { room, joined } = member_of(&mut tx, &scope, caller, path.1).await?;
    store::mark_read(&mut tx, room.id, caller, body.seq.min(room.last_seq)).await?;
    let view = store::room_view(&mut tx, scope.account_id, caller, room.id).await?;
    tx.commit().await?;
    let (account_id, room_id) = (scope.account_id, room.id);
    events::announce_all(&state, joined.into_iter().collect());
    state.realtime.room(RoomNote::Read {
        account_id,
        room_id,
        user_id: caller,
    });
    Ok(ApiJson(view))
}

/// The caller's unread totals over the live, unmuted rooms they are in (the sidebar
/// badge's `unread_count_url`); zero for an API key.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chat/unread", tag = "chat",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = Unread), (status = 403, body = Problem, description = "feature_disabled"),
        (status = 404, body = Problem)))]
async fn unread(State(state): State<AppState>, scope: AccountScope) -> AppResult<ApiJson<Unread>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let totals = match viewer(&scope) {
        Some(user) => store::unread(&state.db, scope.account_id, user).await?,
        None => (0, 0, 0),
    };
    Ok(ApiJson(Unread::from(totals)))
}
