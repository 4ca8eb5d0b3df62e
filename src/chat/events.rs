//! The room's event log (ADR 24). Whatever changes what a room's people see takes the
//! room's next `event_seq` in the transaction that makes the change and leaves a row naming
//! it, so realtime frames are numbered per room without gaps and a socket that reconnects is
//! replayed exactly what it missed. Call [`announce`] once the transaction is committed.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    app::state::AppState,
    on_tx,
    platform::{db::Tx, error::AppResult},
    realtime::RoomNote,
};

/// What happened, as the log keeps it (a new message's `message.created` is logged by the
/// write that stores it, `messages::post`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    /// Edited, deleted, reacted to, or its thread moved on.
    MessageUpdated(Uuid),
    /// Renamed, archived or unarchived, or people joined.
    RoomUpdated,
    /// `user` left or was taken out.
    MemberRemoved(Uuid),
}

impl Happened {
    fn parts(self) -> (&'static str, Option<Uuid>, Option<Uuid>) {
        match self {
            Happened::MessageUpdated(id) => ("message.updated", Some(id), None),
            Happened::RoomUpdated => ("room.updated", None, None),
            Happened::MemberRemoved(user) => ("member.removed", None, Some(user)),
        }
    }
}

/// Logs `what` as the room's next event and answers the note to announce after commit.
pub async fn record(
    tx: &mut Tx,
    account_id: Uuid,
    room_id: Uuid,
    what: Happened,
    now: OffsetDateTime,
) -> AppResult<RoomNote> {
    // Holds the room's row until commit, so events commit in the order of their numbers.
    let sql = "UPDATE chat_rooms SET event_seq = event_seq + 1
               WHERE account_id = $1 AND id = $2 RETURNING event_seq";
    let seq: i64 = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(account_id).bind(room_id).fetch_one(c).await?);
    let (kind, message_id, user_id) = what.parts();
    let sql = "INSERT INTO chat_events (room_id, seq, account_id, kind, message_id, user_id,
                   created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(room_id).bind(seq).bind(account_id).bind(kind).bind(message_id).bind(user_id)
        .bind(now).execute(c).await?.rows_affected());
    Ok(RoomNote::Event {
        account_id,
        room_id,
        seq,
    })
}

/// The notes of the room's events `first` to `last`, logged by a write that took their
/// numbers, to announce after commit.
pub fn notes(account_id: Uuid, room_id: Uuid, first: i64, last: i64) -> Vec<RoomNote> {
    (first..=last)
        .map(|seq| RoomNote::Event {
            account_id,
            room_id,
            seq,
        })
        .collect()
}

/// Tells every replica's sockets about a committed event.
pub fn announce(state: &AppState, note: RoomNote) {
    state.realtime.room(note);
}

/// Tells every replica's sockets about committed events.
pub fn announce_all(state: &AppState, notes: Vec<RoomNote>) {
    for note in notes {
        announce(state, note);
    }
}

/// A logged event, as the replay and the live relay read it.
#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub room_id: Uuid,
    pub seq: i64,
    pub kind: String,
    pub message_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}
