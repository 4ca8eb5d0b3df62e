//! Realtime frames of the rooms (ADR 24, protocol in docs/chat.md): built from the event
//! log and the rooms' current state, for the live relay (once per replica per event) and for
//! a socket that resumes (its person's missed events, in order).

use std::collections::{HashMap, HashSet, hash_map::Entry};

use serde_json::json;
use uuid::Uuid;

use super::{attachments::Files, events::EventRow, messages, store};
use crate::{
    on_conn,
    platform::{
        db::{Conn, Db},
        error::AppResult,
    },
    realtime::{RoomFrame, RoomNote, encode},
};

/// Events a resuming socket is replayed per room before it is told to reload the room.
pub const REPLAY_MAX: i64 = 500;

/// The frames the notes name, in order. Notes of rooms or messages gone since are skipped.
pub async fn frames(db: &Db, files: &Files, notes: &[RoomNote]) -> AppResult<Vec<RoomFrame>> {
    let mut members: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    let mut frames = Vec::with_capacity(notes.len());
    for note in notes {
        let (account_id, room_id) = match *note {
            RoomNote::Event {
                account_id,
                room_id,
                ..
            }
            | RoomNote::Read {
                account_id,
                room_id,
                ..
            }
            | RoomNote::Typing {
                account_id,
                room_id,
                ..
            } => (account_id, room_id),
        };
        if let Entry::Vacant(vacant) = members.entry(room_id) {
            let ids = store::member_ids(db, account_id, room_id).await?;
            vacant.insert(ids.into_iter().collect());
        }
        let audience = &members[&room_id];
        let frame = match *note {
            RoomNote::Event { seq, .. } => {
                let Some(event) = event(db, account_id, room_id, seq).await? else {
                    continue;
                };
                let Some((text, removed)) = render(db, files, account_id, &event).await? else {
                    continue;
                };
                RoomFrame {
                    account_id,
                    room_id,
                    seq: Some(seq),
                    audience: audience.clone(),
                    text: text.into(),
                    removed: event.user_id.zip(removed.map(Into::into)),
                }
            }
            RoomNote::Read { user_id, .. } => {
                let Some(row) = store::room(db, account_id, Some(user_id), room_id).await? else {
                    continue;
                };
                let room = row.view(Vec::new());
                let data = json!({
                    "last_read_seq": row.last_read_seq,
                    "unread_count": room.unread_count,
                    "unread_mentions": room.unread_mentions,
                });
                RoomFrame {
                    account_id,
                    room_id,
                    seq: None,
                    audience: HashSet::from([user_id]),
                    text: encode("read", Some(room_id), None, &data).into(),
                    removed: None,
                }
            }
            RoomNote::Typing { user_id, .. } => {
                if !audience.contains(&user_id) {
                    continue;
                }
                let mut others = audience.clone();
                others.remove(&user_id);
                let data = json!({ "user_id": user_id });
                RoomFrame {
                    account_id,
                    room_id,
                    seq: None,
                    audience: others,
                    text: encode("typing", Some(room_id), None, &data).into(),
                    removed: None,
                }
            }
        };
        frames.push(frame);
    }
    Ok(frames)
}

/// What a socket that resumes a room is sent.
#[derive(Debug)]
pub enum Replay {
    /// The missed frames with their numbers, in order, and the number of the last one
    /// (`after` when none).
    Missed {
        frames: Vec<(i64, String)>,
        last: i64,
    },
    /// Too much was missed: one `resync` frame carrying the room's current number.
    TooFar { frame: String, last: i64 },
    /// The person is not in the room (any more): one `room.removed` frame.
    Gone { frame: String },
}

/// The events of a room `user_id` is in after `after` (up to `upto` when given).
pub async fn replay(
    db: &Db,
    files: &Files,
    account_id: Uuid,
    user_id: Uuid,
    room_id: Uuid,
    after: i64,
    upto: Option<i64>,
) -> AppResult<Replay> {
    let row = store::room(db, account_id, Some(user_id), room_id)
        .await?
        .filter(store::RoomRow::is_member);
    let Some(row) = row else {
        let frame = encode("room.removed", Some(room_id), None, &json!({}));
        return Ok(Replay::Gone { frame });
    };
    let upto = upto.unwrap_or(row.event_seq);
    if upto - after > REPLAY_MAX {
        let frame = encode("resync", Some(room_id), Some(row.event_seq), &json!({}));
        return Ok(Replay::TooFar {
            frame,
            last: row.event_seq,
        });
    }
    let sql = "SELECT room_id, seq, kind, message_id, user_id FROM chat_events
               WHERE account_id = $1 AND room_id = $2 AND seq > $3 AND seq <= $4
               ORDER BY seq";
    let events: Vec<EventRow> = on_conn!(Conn::from(db), c => sqlx::query_as(sql)
        .bind(account_id).bind(room_id).bind(after).bind(upto).fetch_all(c).await?);
    let mut frames = Vec::with_capacity(events.len());
    let mut last = after;
    for event in &events {
        last = event.seq;
        if let Some((text, removed)) = render(db, files, account_id, event).await? {
            let mine = removed.filter(|_| event.user_id == Some(user_id));
            frames.push((event.seq, mine.unwrap_or(text)));
        }
    }
    Ok(Replay::Missed { frames, last })
}

async fn event(db: &Db, account_id: Uuid, room_id: Uuid, seq: i64) -> AppResult<Option<EventRow>> {
    let sql = "SELECT room_id, seq, kind, message_id, user_id FROM chat_events
               WHERE account_id = $1 AND room_id = $2 AND seq = $3";
    Ok(on_conn!(Conn::from(db), c => sqlx::query_as(sql)
        .bind(account_id).bind(room_id).bind(seq).fetch_optional(c).await?))
}

/// The event's frame for the room's people and, for a removal, the removed person's.
async fn render(
    db: &Db,
    files: &Files,
    account_id: Uuid,
    event: &EventRow,
) -> AppResult<Option<(String, Option<String>)>> {
    let (room_id, seq) = (Some(event.room_id), Some(event.seq));
    match (event.kind.as_str(), event.message_id) {
        (kind @ ("message.created" | "message.updated"), Some(message_id)) => {
            let Some(row) = messages::store::get(db, event.room_id, message_id).await? else {
                return Ok(None);
            };
            let message = messages::views(db, files, account_id, vec![row]).await?;
            Ok(Some((encode(kind, room_id, seq, &message[0]), None)))
        }
        ("room.updated" | "member.removed", _) => {
            let Some(row) = store::room(db, account_id, None, event.room_id).await? else {
                return Ok(None);
            };
            let members = store::member_ids(db, account_id, event.room_id).await?;
            let room = row.shared_view(members);
            let text = encode("room.updated", room_id, seq, &room);
            let removed = encode("room.removed", room_id, seq, &json!({}));
            Ok(Some((text, Some(removed))))
        }
        _ => Ok(None),
    }
}
