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

/// What happened, as the log keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    MessageCreated(Uuid),
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
            Happened::MessageCreated(id) => ("message.created", Some(id), None),
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
    let mut notes = log(tx, account_id, room_id, seq, &[what], now).await?;
    Ok(notes.remove(0))
}

/// Logs `what` under event numbers already taken from the room's row, the last of them
/// `last` (one after another, in order), and answers their notes to announce after commit.
pub async fn log(
    tx: &mut Tx,
    account_id: Uuid,
    room_id: Uuid,
    last: i64,
    what: &[Happened],
    now: OffsetDateTime,
) -> AppResult<Vec<RoomNote>> {
    const COLUMNS: usize = 7;
    let first = last - what.len() as i64 + 1;
    let rows = (0..what.len())
        .map(|row| {
            let values: Vec<String> = (1..=COLUMNS)
                .map(|column| format!("${}", row * COLUMNS + column))
                .collect();
            format!("({})", values.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO chat_events (room_id, seq, account_id, kind, message_id, user_id,
             created_at) VALUES {rows}"
    );
    on_tx!(tx, c => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, happened) in (first..).zip(what) {
            let (kind, message_id, user_id) = happened.parts();
            query = query.bind(room_id).bind(seq).bind(account_id).bind(kind)
                .bind(message_id).bind(user_id).bind(now);
        }
        query.execute(c).await?.rows_affected()
    });
    Ok((first..=last)
        .map(|seq| RoomNote::Event {
            account_id,
            room_id,
            seq,
        })
        .collect())
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
