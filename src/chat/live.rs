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
    let mut events = HashMap::new();
    for note in notes {
        let (account_id, room_id) = (note.account_id(), note.room_id());
        if let Entry::Vacant(vacant) = members.entry(room_id) {
            let ids = store::member_ids(db, account_id, room_id).await?;
            vacant.insert(ids.into_iter().collect());
        }
        if let RoomNote::Event { seq, .. } = *note
            && let Some(event) = event(db, account_id, room_id, seq).await?
        {
            events
                .entry(account_id)
                .or_insert_with(Vec::new)
                .push(event);
        }
    }
    let mut rendered = HashMap::new();
    for (account_id, events) in &events {
        for (event, frame) in events
            .iter()
            .zip(render(db, files, *account_id, events).await?)
        {
            rendered.insert((event.room_id, event.seq), (event.user_id, frame));
        }
    }
    let mut frames = Vec::with_capacity(notes.len());
    for note in notes {
        let (account_id, room_id) = (note.account_id(), note.room_id());
        let audience = &members[&room_id];
        let frame = match *note {
            RoomNote::Event { seq, .. } => {
                let Some((user_id, Some((text, removed)))) = rendered.remove(&(room_id, seq))
                else {
                    continue;
                };
                RoomFrame {
                    account_id,
                    room_id,
                    seq: Some(seq),
                    audience: audience.clone(),
                    text: text.into(),
                    removed: user_id.zip(removed.map(Into::into)),
                    ephemeral: false,
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
                    ephemeral: false,
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
                    ephemeral: true,
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

/// A room a socket resumes: the events after `after`, up to `upto` (else the room's last).
#[derive(Debug, Clone, Copy)]
pub struct Resumed {
    pub room_id: Uuid,
    pub after: i64,
    pub upto: Option<i64>,
}

/// What a socket of `user_id` resuming `rooms` is sent, room by room in the order given: one
/// read of the rooms, one of their missed events and one of what those name, however many
/// rooms (a person in 20 rooms reconnects with as many requests as one in one room).
pub async fn replay(
    db: &Db,
    files: &Files,
    account_id: Uuid,
    user_id: Uuid,
    rooms: &[Resumed],
) -> AppResult<Vec<(Uuid, Replay)>> {
    let ids: Vec<Uuid> = rooms.iter().map(|r| r.room_id).collect();
    let joined: HashMap<Uuid, store::RoomRow> = store::rooms_by_ids(db, account_id, user_id, &ids)
        .await?
        .into_iter()
        .filter(store::RoomRow::is_member)
        .map(|row| (row.id, row))
        .collect();
    let mut replays = Vec::with_capacity(rooms.len());
    let mut ranges = Vec::new();
    for wanted in rooms {
        let room_id = wanted.room_id;
        let Some(row) = joined.get(&room_id) else {
            let frame = encode("room.removed", Some(room_id), None, &json!({}));
            replays.push((room_id, Replay::Gone { frame }));
            continue;
        };
        let upto = wanted.upto.unwrap_or(row.event_seq);
        if upto - wanted.after > REPLAY_MAX {
            let frame = encode("resync", Some(room_id), Some(row.event_seq), &json!({}));
            let last = row.event_seq;
            replays.push((room_id, Replay::TooFar { frame, last }));
            continue;
        }
        if upto > wanted.after {
            ranges.push((room_id, wanted.after, upto));
        }
        let missed = Replay::Missed {
            frames: Vec::new(),
            last: wanted.after,
        };
        replays.push((room_id, missed));
    }
    let at: HashMap<Uuid, usize> = replays
        .iter()
        .enumerate()
        .map(|(i, (room_id, _))| (*room_id, i))
        .collect();
    for batch in batches(&ranges) {
        let events = missed_events(db, account_id, batch).await?;
        let rendered = render(db, files, account_id, &events).await?;
        for (event, frame) in events.iter().zip(rendered) {
            let Some((_, Replay::Missed { frames, last })) =
                at.get(&event.room_id).map(|i| &mut replays[*i])
            else {
                continue;
            };
            *last = event.seq;
            if let Some((text, removed)) = frame {
                let mine = removed.filter(|_| event.user_id == Some(user_id));
                frames.push((event.seq, mine.unwrap_or(text)));
            }
        }
    }
    Ok(replays)
}

/// `ranges` (room, after, upto) cut into runs of at most [`REPLAY_MAX`] events in all (one
/// room's never is more), so the reads of what the events name bind lists of ids within what
/// either engine takes, however many rooms resume.
fn batches(ranges: &[(Uuid, i64, i64)]) -> Vec<&[(Uuid, i64, i64)]> {
    let mut batches = Vec::new();
    let (mut start, mut events) = (0, 0);
    for (i, (_, after, upto)) in ranges.iter().enumerate() {
        let span = upto - after;
        if events + span > REPLAY_MAX && i > start {
            batches.push(&ranges[start..i]);
            (start, events) = (i, 0);
        }
        events += span;
    }
    if start < ranges.len() {
        batches.push(&ranges[start..]);
    }
    batches
}

/// The events of each `(room, after, upto)`, in order within each room. The ranges are a
/// `VALUES` list joined to the log (an `OR` of one condition per room would be refused by
/// SQLite past a few hundred rooms: its expression depth is bounded); `CROSS JOIN` keeps
/// SQLite looking the log up by each range rather than scanning it.
async fn missed_events(
    db: &Db,
    account_id: Uuid,
    ranges: &[(Uuid, i64, i64)],
) -> AppResult<Vec<EventRow>> {
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<String> = (0..ranges.len())
        .map(|i| {
            let n = 2 + 3 * i;
            format!("(${n}, ${}, ${})", n + 1, n + 2)
        })
        .collect();
    let sql = format!(
        "SELECT e.room_id, e.seq, e.kind, e.message_id, e.user_id
         FROM (VALUES {}) AS w CROSS JOIN chat_events e
         WHERE e.room_id = w.column1 AND e.seq > w.column2 AND e.seq <= w.column3
           AND e.account_id = $1
         ORDER BY e.room_id, e.seq",
        values.join(", ")
    );
    Ok(on_conn!(Conn::from(db), c => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account_id);
        for (room_id, after, upto) in ranges {
            query = query.bind(*room_id).bind(*after).bind(*upto);
        }
        query.fetch_all(c).await?
    }))
}

async fn event(db: &Db, account_id: Uuid, room_id: Uuid, seq: i64) -> AppResult<Option<EventRow>> {
    let sql = "SELECT room_id, seq, kind, message_id, user_id FROM chat_events
               WHERE account_id = $1 AND room_id = $2 AND seq = $3";
    Ok(on_conn!(Conn::from(db), c => sqlx::query_as(sql)
        .bind(account_id).bind(room_id).bind(seq).fetch_optional(c).await?))
}

/// Each event's frame for the room's people and, for a removal, the removed person's
/// (`None` for an event whose room or message is gone), from the current state: one read
/// of the messages and of each room however many events name them.
async fn render(
    db: &Db,
    files: &Files,
    account_id: Uuid,
    events: &[EventRow],
) -> AppResult<Vec<Option<(String, Option<String>)>>> {
    let mut ids: Vec<Uuid> = events
        .iter()
        .filter(|event| event.kind.starts_with("message."))
        .filter_map(|event| event.message_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = messages::store::by_ids(db, account_id, &ids).await?;
    let messages: HashMap<Uuid, messages::Message> = messages::views(db, files, account_id, rows)
        .await?
        .into_iter()
        .map(|message| (message.id, message))
        .collect();
    let mut rooms: HashMap<Uuid, Option<serde_json::Value>> = HashMap::new();
    let mut frames = Vec::with_capacity(events.len());
    for event in events {
        let (room_id, seq) = (Some(event.room_id), Some(event.seq));
        let frame = match (event.kind.as_str(), event.message_id) {
            (kind @ ("message.created" | "message.updated"), Some(message_id)) => messages
                .get(&message_id)
                .map(|message| (encode(kind, room_id, seq, message), None)),
            ("room.updated" | "member.removed", _) => {
                let room = match rooms.entry(event.room_id) {
                    Entry::Occupied(known) => known.into_mut(),
                    Entry::Vacant(vacant) => {
                        vacant.insert(shared_room(db, account_id, event.room_id).await?)
                    }
                };
                room.as_ref().map(|room| {
                    let text = encode("room.updated", room_id, seq, room);
                    let removed = encode("room.removed", room_id, seq, &json!({}));
                    (text, Some(removed))
                })
            }
            _ => None,
        };
        frames.push(frame);
    }
    Ok(frames)
}

/// The room as all its people see it alike; `None` when it is gone.
async fn shared_room(
    db: &Db,
    account_id: Uuid,
    room_id: Uuid,
) -> AppResult<Option<serde_json::Value>> {
    let Some(row) = store::room(db, account_id, None, room_id).await? else {
        return Ok(None);
    };
    let members = store::member_ids(db, account_id, room_id).await?;
    Ok(Some(row.shared_view(members)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_is_read_in_batches_of_at_most_replay_max_events() {
        let range = |span: i64| (Uuid::now_v7(), 10, 10 + span);
        let spans = |ranges: &[(Uuid, i64, i64)]| -> Vec<Vec<i64>> {
            batches(ranges)
                .iter()
                .map(|batch| batch.iter().map(|(_, a, u)| u - a).collect())
                .collect()
        };
        assert!(batches(&[]).is_empty());
        let few = [range(3), range(1), range(496)];
        assert_eq!(spans(&few), [vec![3, 1, 496]]);
        let more = [range(300), range(201), range(REPLAY_MAX), range(1)];
        assert_eq!(
            spans(&more),
            [vec![300], vec![201], vec![REPLAY_MAX], vec![1]]
        );
        let many: Vec<_> = (0..1000).map(|_| range(2)).collect();
        let cut = batches(&many);
        assert_eq!(cut.len(), 4);
        assert!(cut.iter().all(|batch| batch.len() <= 250));
    }
}
