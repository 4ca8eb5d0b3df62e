use time::OffsetDateTime;
use uuid::Uuid;

use super::Room;
use crate::{
    on_conn, on_tx,
    platform::{
        db::{Conn, Tx, placeholders},
        error::AppResult,
    },
};

/// A room as one caller sees it: `last_read_seq` is `None` when they are not in it.
#[derive(sqlx::FromRow)]
pub struct RoomRow {
    pub id: Uuid,
    pub kind: String,
    pub name: Option<String>,
    pub topic: String,
    pub private: bool,
    pub team_id: Option<Uuid>,
    pub last_seq: i64,
    pub event_seq: i64,
    pub archived_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
    pub last_read_seq: Option<i64>,
    pub role: Option<String>,
    pub muted: Option<bool>,
    /// The caller's mentions after their marker.
    pub unread_mentions: i64,
}

impl RoomRow {
    pub fn is_member(&self) -> bool {
        self.last_read_seq.is_some()
    }

    /// Anyone in the account may see a public channel; other rooms only their members.
    pub fn visible(&self) -> bool {
        self.is_member() || (self.kind == "channel" && !self.private)
    }

    pub fn view(&self, member_ids: Vec<Uuid>) -> Room {
        Room {
            id: self.id,
            kind: self.kind.clone(),
            name: self.name.clone(),
            topic: self.topic.clone(),
            private: self.private,
            team_id: self.team_id,
            member_ids,
            last_seq: self.last_seq,
            event_seq: self.event_seq,
            unread_count: self
                .last_read_seq
                .map_or(0, |read| (self.last_seq - read).max(0)),
            unread_mentions: self.unread_mentions,
            archived: self.archived_at.is_some(),
            role: self.role.clone(),
            muted: self.muted.unwrap_or(false),
            // A room's row moves on with each message (and not with settings changes).
            last_message_at: (self.last_seq > 0).then_some(self.updated_at),
        }
    }

    /// The room as every member sees it alike (realtime `room.updated`): without the
    /// fields that belong to one person (their unread counts).
    pub fn shared_view(&self, member_ids: Vec<Uuid>) -> serde_json::Value {
        let mut room = serde_json::to_value(self.view(member_ids)).unwrap_or_default();
        if let Some(fields) = room.as_object_mut() {
            for personal in super::Room::PERSONAL {
                fields.remove(*personal);
            }
        }
        room
    }
}

macro_rules! room_columns {
    () => {
        "SELECT r.id, r.kind, r.name, r.topic, r.private, r.team_id, r.last_seq, r.event_seq,
                r.archived_at, r.updated_at, m.last_read_seq, m.role, m.muted,
                (SELECT COUNT(*) FROM chat_mentions cm
                 WHERE cm.room_id = r.id AND cm.user_id = $2 AND cm.seq > m.last_read_seq)
                    AS unread_mentions
         FROM chat_rooms r LEFT JOIN chat_members m ON m.room_id = r.id AND m.user_id = $2
         WHERE r.account_id = $1"
    };
}

/// Which rooms a listing shows besides the viewer's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The account's public channels.
    Public,
    /// Every room but other people's direct ones (account admins, to moderate).
    Moderated,
}

/// The rooms `viewer` is in and the others `listing` adds, latest activity first. `viewer`
/// is `None` for an API key.
pub async fn rooms(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    viewer: Option<Uuid>,
    listing: Listing,
) -> AppResult<Vec<RoomRow>> {
    // `private = false OR private = $4`: public rooms only, or every room when $4 is true.
    let sql = concat!(
        room_columns!(),
        " AND (m.user_id IS NOT NULL
               OR (r.kind <> 'direct' AND (r.private = $3 OR r.private = $4)))
         ORDER BY r.updated_at DESC, r.id"
    );
    let viewer = viewer.unwrap_or(Uuid::nil());
    let moderated = listing == Listing::Moderated;
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(viewer).bind(false).bind(moderated).fetch_all(c).await?))
}

/// One room of the account with `viewer`'s marker, visible to them or not.
pub async fn room(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    viewer: Option<Uuid>,
    id: Uuid,
) -> AppResult<Option<RoomRow>> {
    let sql = concat!(room_columns!(), " AND r.id = $3");
    let viewer = viewer.unwrap_or(Uuid::nil());
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(viewer).bind(id).fetch_optional(c).await?))
}

/// The account's rooms among `ids` with `viewer`'s marker, visible to them or not (those that
/// do not exist, or are another account's, are left out).
pub async fn rooms_by_ids(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    viewer: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<RoomRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{} AND r.id IN ({})",
        room_columns!(),
        placeholders(3, ids.len())
    );
    Ok(on_conn!(conn.into(), c => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account_id).bind(viewer);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await?
    }))
}

/// Only people still active in the account count as a room's members: a deactivated one
/// drops out of every room at once (and is back if reactivated).
macro_rules! active_members {
    () => {
        "chat_members cm JOIN account_users au
             ON au.account_id = cm.account_id AND au.user_id = cm.user_id AND au.active = TRUE"
    };
}

/// The people in a room, in the order they joined.
pub async fn member_ids(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    room_id: Uuid,
) -> AppResult<Vec<Uuid>> {
    let sql = concat!(
        "SELECT cm.user_id FROM ",
        active_members!(),
        " WHERE cm.account_id = $1 AND cm.room_id = $2 ORDER BY cm.joined_at, cm.user_id"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_scalar(sql)
        .bind(account_id).bind(room_id).fetch_all(c).await?))
}

/// The members of every room of a listing (see [`rooms`]), as (room, user) pairs.
pub async fn members_of_listed(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    viewer: Option<Uuid>,
    listing: Listing,
) -> AppResult<Vec<(Uuid, Uuid)>> {
    let sql = concat!(
        "SELECT cm.room_id, cm.user_id FROM ",
        active_members!(),
        " JOIN chat_rooms r ON r.id = cm.room_id
          LEFT JOIN chat_members m ON m.room_id = r.id AND m.user_id = $2
          WHERE r.account_id = $1
            AND (m.user_id IS NOT NULL
                 OR (r.kind <> 'direct' AND (r.private = $3 OR r.private = $4)))
          ORDER BY cm.joined_at, cm.user_id"
    );
    let viewer = viewer.unwrap_or(Uuid::nil());
    let moderated = listing == Listing::Moderated;
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(viewer).bind(false).bind(moderated).fetch_all(c).await?))
}

/// Whether `user_id` is an active member of the account.
pub async fn is_active_member(tx: &mut Tx, account_id: Uuid, user_id: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM account_users
               WHERE account_id = $1 AND user_id = $2 AND active = $3";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(account_id).bind(user_id).bind(true).fetch_one(c).await?);
    Ok(n == 1)
}

pub struct NewRoom<'a> {
    pub id: Uuid,
    pub account_id: Uuid,
    pub kind: &'a str,
    pub name: Option<&'a str>,
    pub topic: &'a str,
    pub private: bool,
    pub direct_key: Option<&'a str>,
    pub created_by: Option<Uuid>,
    pub now: OffsetDateTime,
}

/// Inserts a room; `false` when it is a direct room whose people already have one.
pub async fn insert_room(tx: &mut Tx, r: &NewRoom<'_>) -> AppResult<bool> {
    let sql = "INSERT INTO chat_rooms (id, account_id, kind, name, topic, private, team_id,
                   direct_key, last_seq, archived_at, created_by, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, 0, NULL, $8, $9, $9)
               ON CONFLICT (account_id, direct_key) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(r.id).bind(r.account_id).bind(r.kind).bind(r.name).bind(r.topic).bind(r.private)
        .bind(r.direct_key).bind(r.created_by).bind(r.now)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Binds a room to its team.
pub async fn set_team(tx: &mut Tx, room_id: Uuid, team_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE chat_rooms SET team_id = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(room_id).bind(team_id).execute(c).await?.rows_affected());
    Ok(())
}

/// The direct (or team) room of a key.
pub async fn direct_room(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    direct_key: &str,
) -> AppResult<Option<Uuid>> {
    let sql = "SELECT id FROM chat_rooms WHERE account_id = $1 AND direct_key = $2";
    Ok(on_conn!(conn.into(), c => sqlx::query_scalar(sql)
        .bind(account_id).bind(direct_key).fetch_optional(c).await?))
}

/// Adds `user_id` to a room with nothing read before `read_seq`; a member already in it
/// stays as they were.
pub async fn add_member(
    tx: &mut Tx,
    account_id: Uuid,
    room_id: Uuid,
    user_id: Uuid,
    role: &str,
    read_seq: i64,
    now: OffsetDateTime,
) -> AppResult<bool> {
    let sql = "INSERT INTO chat_members (room_id, user_id, account_id, role, last_read_seq,
                   muted, joined_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (room_id, user_id) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(room_id).bind(user_id).bind(account_id).bind(role).bind(read_seq).bind(false)
        .bind(now).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// The room as `viewer` sees it now, with its members (inside a transaction, for the
/// answer of a change).
pub async fn room_view(
    tx: &mut Tx,
    account_id: Uuid,
    viewer: Uuid,
    room_id: Uuid,
) -> AppResult<super::Room> {
    let row = room(&mut *tx, account_id, Some(viewer), room_id)
        .await?
        .ok_or(crate::platform::error::AppError::NotFound)?;
    let members = member_ids(&mut *tx, account_id, room_id).await?;
    Ok(row.view(members))
}

/// The person's role in the room (`owner`, `moderator`, `member`), if they are in it.
pub async fn role_of(tx: &mut Tx, room_id: Uuid, user_id: Uuid) -> AppResult<Option<String>> {
    let sql = "SELECT role FROM chat_members WHERE room_id = $1 AND user_id = $2";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(room_id).bind(user_id).fetch_optional(c).await?),
    )
}

/// Renames a room or changes its topic (`None` keeps what it has).
pub async fn set_name_topic(
    tx: &mut Tx,
    room_id: Uuid,
    name: Option<&str>,
    topic: Option<&str>,
) -> AppResult<()> {
    let sql = "UPDATE chat_rooms SET name = COALESCE($2, name), topic = COALESCE($3, topic)
               WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(room_id).bind(name).bind(topic)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Archives a room (`Some(when)`) or brings it back (`None`); `false` when it already was.
pub async fn set_archived(
    tx: &mut Tx,
    room_id: Uuid,
    archived_at: Option<OffsetDateTime>,
) -> AppResult<bool> {
    let sql = "UPDATE chat_rooms SET archived_at = $2
               WHERE id = $1 AND (archived_at IS NULL) <> ($2 IS NULL)";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(room_id).bind(archived_at)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Gives a member of the room another role.
pub async fn set_role(tx: &mut Tx, room_id: Uuid, user_id: Uuid, role: &str) -> AppResult<()> {
    let sql = "UPDATE chat_members SET role = $3 WHERE room_id = $1 AND user_id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(room_id).bind(user_id).bind(role)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// How many owners the room has.
pub async fn owners(tx: &mut Tx, room_id: Uuid) -> AppResult<i64> {
    let sql = "SELECT COUNT(*) FROM chat_members WHERE room_id = $1 AND role = $2";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(room_id).bind("owner").fetch_one(c).await?))
}

/// Mutes or unmutes the room for one member.
pub async fn set_muted(tx: &mut Tx, room_id: Uuid, user_id: Uuid, muted: bool) -> AppResult<()> {
    let sql = "UPDATE chat_members SET muted = $3 WHERE room_id = $1 AND user_id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(room_id).bind(user_id).bind(muted)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Puts `user_id`'s marker at `seq` exactly ("mark unread from here" moves it back).
pub async fn set_read(tx: &mut Tx, room_id: Uuid, user_id: Uuid, seq: i64) -> AppResult<()> {
    let sql = "UPDATE chat_members SET last_read_seq = $3 WHERE room_id = $1 AND user_id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(room_id).bind(user_id).bind(seq)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Takes `user_id` out of the room; `false` when they were not in it.
pub async fn remove_member(tx: &mut Tx, room_id: Uuid, user_id: Uuid) -> AppResult<bool> {
    let sql = "DELETE FROM chat_members WHERE room_id = $1 AND user_id = $2";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(room_id).bind(user_id).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Moves `user_id`'s marker in the room forward to `seq` (never back).
pub async fn mark_read(tx: &mut Tx, room_id: Uuid, user_id: Uuid, seq: i64) -> AppResult<()> {
    let sql = "UPDATE chat_members SET last_read_seq = $3
               WHERE room_id = $1 AND user_id = $2 AND last_read_seq < $3";
    on_tx!(tx, c => sqlx::query(sql).bind(room_id).bind(user_id).bind(seq)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Unread messages over the live, unmuted rooms `user_id` is in, how many rooms have
/// some, and how many of them mention `user_id`.
pub async fn unread(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    user_id: Uuid,
) -> AppResult<(i64, i64, i64)> {
    let sql = "SELECT CAST(COALESCE(SUM(r.last_seq - m.last_read_seq), 0) AS BIGINT),
                      COUNT(CASE WHEN r.last_seq > m.last_read_seq THEN 1 END),
                      CAST(COALESCE(SUM((SELECT COUNT(*) FROM chat_mentions cm
                          WHERE cm.room_id = m.room_id AND cm.user_id = m.user_id
                            AND cm.seq > m.last_read_seq)), 0) AS BIGINT)
               FROM chat_members m JOIN chat_rooms r ON r.id = m.room_id
               WHERE m.account_id = $1 AND m.user_id = $2 AND m.muted = $3
                 AND r.archived_at IS NULL AND r.last_seq > m.last_read_seq";
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(user_id).bind(false).fetch_one(c).await?))
}
