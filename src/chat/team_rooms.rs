//! Team rooms: one per team of the account (teams the Chatwoot sync keeps in step with
//! Chatwoot's), private, whose people are the team's members. Whoever changes a team's
//! members calls [`follow`] in the same transaction; a deleted team's room is archived
//! (its history stays readable to the people it had).

use time::OffsetDateTime;
use uuid::Uuid;

use axum::http::StatusCode;

use super::{
    Room,
    events::{self, Happened},
    store,
};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    on_tx,
    platform::{
        clock,
        db::Tx,
        error::{AppError, AppResult},
    },
    realtime::RoomNote,
    tenancy::{AccountScope, Role},
};

/// The key that makes a team's room one of a kind (in the column direct rooms key on).
pub fn key(team_id: Uuid) -> String {
    format!("team:{team_id}")
}

/// Whether the team is live in the account.
pub async fn team_is_live(tx: &mut Tx, account_id: Uuid, team_id: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM teams
               WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(account_id).bind(team_id).fetch_one(c).await?);
    Ok(n == 1)
}

/// Whether `user_id` is in the team.
pub async fn in_team(
    tx: &mut Tx,
    account_id: Uuid,
    team_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM team_members
               WHERE account_id = $1 AND team_id = $2 AND user_id = $3";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(account_id).bind(team_id).bind(user_id).fetch_one(c).await?);
    Ok(n == 1)
}

/// Opens the team's room (200 with it when it exists): account admins and the team's
/// members may; its people are the team's, the opener its owner.
pub async fn open(
    state: &AppState,
    scope: &AccountScope,
    caller: Uuid,
    team_id: Uuid,
) -> AppResult<(StatusCode, Room)> {
    let now = clock::now();
    let mut tx = state.db.begin().await?;
    if !team_is_live(&mut tx, scope.account_id, team_id).await? {
        return Err(AppError::validation(
            "team_id",
            "is not a team of this account",
        ));
    }
    let member = in_team(&mut tx, scope.account_id, team_id, caller).await?;
    if !member && scope.role < Role::Admin {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "Only the team's members and the account's admins open its room.",
        });
    }
    let name: String = {
        let sql = "SELECT name FROM teams WHERE account_id = $1 AND id = $2";
        on_tx!(&mut tx, c => sqlx::query_scalar(sql)
            .bind(scope.account_id).bind(team_id).fetch_one(c).await?)
    };
    let key = key(team_id);
    let id = Uuid::now_v7();
    let new = store::NewRoom {
        id,
        account_id: scope.account_id,
        kind: "team",
        name: Some(&name),
        topic: "",
        private: true,
        direct_key: Some(&key),
        created_by: Some(caller),
        now,
    };
    if !store::insert_room(&mut tx, &new).await? {
        let existing = store::direct_room(&mut tx, scope.account_id, &key)
            .await?
            .ok_or(AppError::NotFound)?;
        let room = store::room_view(&mut tx, scope.account_id, caller, existing).await?;
        // Answered once the room is there for every reader (it may be another's, just made).
        tx.rollback().await?;
        return Ok((StatusCode::OK, room));
    }
    store::set_team(&mut tx, id, team_id).await?;
    let mut notes = follow(&mut tx, scope.account_id, team_id, now).await?;
    if member {
        store::set_role(&mut tx, id, caller, "owner").await?;
    }
    if notes.is_empty() {
        let what = Happened::RoomUpdated;
        notes.push(events::record(&mut tx, scope.account_id, id, what, now).await?);
    }
    let room = store::room_view(&mut tx, scope.account_id, caller, id).await?;
    let entry = AuditEntry::new(scope, "chat.room_created", "chat_room", id)
        .changes(None::<&Room>, Some(&room));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    for note in notes {
        events::announce(state, note);
    }
    Ok((StatusCode::CREATED, room))
}

/// Brings the team's room (if it has one) in step with the team: its members in, everyone
/// else out, archived once the team is deleted. Answers the events to announce after commit.
pub async fn follow(
    tx: &mut Tx,
    account_id: Uuid,
    team_id: Uuid,
    now: OffsetDateTime,
) -> AppResult<Vec<RoomNote>> {
    let sql = "SELECT id, last_seq FROM chat_rooms
               WHERE account_id = $1 AND team_id = $2 AND kind = 'team'";
    let room: Option<(Uuid, i64)> = on_tx!(tx, c => sqlx::query_as(sql)
        .bind(account_id).bind(team_id).fetch_optional(c).await?);
    let Some((room_id, last_seq)) = room else {
        return Ok(Vec::new());
    };
    let mut notes = Vec::new();
    if !team_is_live(tx, account_id, team_id).await? {
        if store::set_archived(tx, room_id, Some(now)).await? {
            let what = Happened::RoomUpdated;
            notes.push(events::record(tx, account_id, room_id, what, now).await?);
        }
        return Ok(notes);
    }
    let sql = "SELECT user_id FROM team_members WHERE account_id = $1 AND team_id = $2";
    let team: Vec<Uuid> = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(account_id).bind(team_id).fetch_all(c).await?);
    let sql = "SELECT user_id FROM chat_members WHERE room_id = $1";
    let room_people: Vec<Uuid> =
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(room_id).fetch_all(c).await?);
    let mut joined = false;
    for user_id in team.iter().filter(|u| !room_people.contains(u)) {
        joined |=
            store::add_member(tx, account_id, room_id, *user_id, "member", last_seq, now).await?;
    }
    if joined {
        let what = Happened::RoomUpdated;
        notes.push(events::record(tx, account_id, room_id, what, now).await?);
    }
    for user_id in room_people.iter().filter(|u| !team.contains(u)) {
        store::remove_member(tx, room_id, *user_id).await?;
        let what = Happened::MemberRemoved(*user_id);
        notes.push(events::record(tx, account_id, room_id, what, now).await?);
    }
    Ok(notes)
}
