//! The one write that stores a new message: it takes the room's next message number and
//! event numbers, inserts the message and the conversations it refers to, logs its events
//! and moves the author's read marker, as a single request to the database (ADR 28). A send holds the room's row on PostgreSQL
//! and the process's one writer on SQLite while it writes, so each round trip saved there
//! is time every other sender of the room (of the process, on SQLite) waits less.
//!
//! The two engines get one text each, because neither takes the other's form: PostgreSQL
//! runs the steps as data-modifying `WITH` clauses of one statement (it prepares one
//! statement per request), SQLite (which has no data-modifying `WITH`) as one request of
//! several statements sharing the `$n` arguments. Both do the same steps under the same
//! conditions; the API suite runs on both.

use std::sync::LazyLock;

use time::OffsetDateTime;
use uuid::Uuid;

use super::MessageRow;
use sqlx::types::Json;

use crate::{
    chat::events,
    on_conn,
    platform::{
        db::{Conn, Db, Engine, Tx, is_unique_violation},
        error::AppResult,
    },
    realtime::RoomNote,
    tenancy::{Grant, GrantParams, still_holds},
};

/// A message to store; its `seq` is the room's next.
pub struct NewMessage<'a> {
    pub id: Uuid,
    pub account_id: Uuid,
    pub room_id: Uuid,
    pub author_id: Uuid,
    pub body: &'a str,
    pub html: &'a str,
    pub mentions_room: bool,
    pub client_id: &'a str,
    pub parent_id: Option<Uuid>,
    /// The Chatwoot conversations (display ids) it refers to, in order.
    pub conversations: &'a [i64],
    pub now: OffsetDateTime,
    /// What the author's session must still hold in the account for the write to store it,
    /// when their access was taken from memory rather than read in this request.
    pub grant: Option<Grant>,
}

/// What storing a message took: its row and the room's last event number after it (the
/// message's `message.created`, then its parent's `message.updated` for a reply).
pub struct Posted {
    pub row: MessageRow,
    pub last_event: i64,
}

impl Posted {
    /// The notes of the events the message logged, to announce after commit.
    pub fn notes(&self, account_id: Uuid) -> Vec<RoomNote> {
        let first = self.last_event - events(self.row.parent_id) + 1;
        events::notes(account_id, self.row.room_id, first, self.last_event)
    }
}

fn events(parent_id: Option<Uuid>) -> i64 {
    1 + i64::from(parent_id.is_some())
}

// $1 account, $2 room, $3 author, $4 events logged, $5 now, $6 message id, $7 body,
// $8 html, $9 mentions_room, $10 client_id, $11 parent_id, $12 the conversations (a JSON
// array), $13 the author's session, $14 their role, $15 the account's revision (the grant).
// A `client_id` sent before fails the message's insert on its unique index: the request
// stops there and the caller rolls back (PostgreSQL's one statement undoes itself).
const GRANT: GrantParams = GrantParams {
    account: "$1",
    user: "$3",
    now: "$5",
    session: "$13",
    role: "$14",
    revision: "$15",
};

/// Which room row takes the message: this account's, not archived, with the author in it,
/// and only while the author's grant (if any) holds.
fn room_takes_it() -> String {
    format!(
        "account_id = $1 AND id = $2 AND archived_at IS NULL
  AND EXISTS (SELECT 1 FROM chat_members m WHERE m.room_id = $2 AND m.user_id = $3)
  AND ($13 IS NULL OR {})",
        still_holds(&GRANT)
    )
}

static POSTGRES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
WITH taken AS (
    UPDATE chat_rooms SET last_seq = last_seq + 1, event_seq = event_seq + $4, updated_at = $5
    WHERE {room}
    RETURNING last_seq, event_seq),
stored AS (
    INSERT INTO chat_messages (id, account_id, room_id, seq, author_id, body, html,
        mentions_room, client_id, parent_id, reply_count, created_at)
    SELECT $6, $1, $2, t.last_seq, $3, $7, $8, $9, $10, $11, 0, $5 FROM taken t
    RETURNING seq),
referred AS (
    INSERT INTO chat_conversation_refs (message_id, account_id, room_id, position,
        conversation_id)
    SELECT $6, $1, $2, CAST(j.position - 1 AS INTEGER), CAST(j.value AS BIGINT)
    FROM stored, jsonb_array_elements_text($12) WITH ORDINALITY AS j (value, position)),
logged AS (
    INSERT INTO chat_events (room_id, seq, account_id, kind, message_id, user_id, created_at)
    SELECT $2, t.event_seq - $4 + 1, $1, 'message.created', $6, CAST(NULL AS UUID), $5
    FROM taken t, stored
    UNION ALL
    SELECT $2, t.event_seq, $1, 'message.updated', $11, NULL, $5
    FROM taken t, stored WHERE $11 IS NOT NULL),
marked AS (
    UPDATE chat_members SET last_read_seq = s.seq FROM stored s
    WHERE room_id = $2 AND user_id = $3 AND last_read_seq < s.seq)
SELECT s.seq, t.event_seq FROM stored s, taken t",
        room = room_takes_it()
    )
});

// Each statement after the first finds what the one before did by the same conditions (the
// writer's lock keeps everything else out meanwhile): the room by the same row conditions,
// the message by its new id.
static SQLITE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
UPDATE chat_rooms SET last_seq = last_seq + 1, event_seq = event_seq + $4, updated_at = $5
WHERE {room};
INSERT INTO chat_messages (id, account_id, room_id, seq, author_id, body, html,
    mentions_room, client_id, parent_id, reply_count, created_at)
SELECT $6, $1, $2, last_seq, $3, $7, $8, $9, $10, $11, 0, $5 FROM chat_rooms
WHERE {room};
INSERT INTO chat_conversation_refs (message_id, account_id, room_id, position,
    conversation_id)
SELECT $6, $1, $2, CAST(j.key AS INTEGER), CAST(j.value AS INTEGER)
FROM chat_messages m, json_each($12) j WHERE m.id = $6;
INSERT INTO chat_events (room_id, seq, account_id, kind, message_id, user_id, created_at)
SELECT $2, r.event_seq - $4 + 1, $1, 'message.created', $6, NULL, $5
FROM chat_rooms r JOIN chat_messages m ON m.id = $6 WHERE r.id = $2
UNION ALL
SELECT $2, r.event_seq, $1, 'message.updated', $11, NULL, $5
FROM chat_rooms r JOIN chat_messages m ON m.id = $6 WHERE r.id = $2 AND $11 IS NOT NULL;
UPDATE chat_members SET last_read_seq = (SELECT seq FROM chat_messages WHERE id = $6)
WHERE room_id = $2 AND user_id = $3
  AND last_read_seq < (SELECT seq FROM chat_messages WHERE id = $6);
SELECT m.seq, r.event_seq FROM chat_messages m JOIN chat_rooms r ON r.id = m.room_id
WHERE m.id = $6",
        room = room_takes_it()
    )
});

/// Stores `m` as the room's next message, logs its events and marks it read by its author,
/// in the transaction `conn`. `None` when nothing was stored: the room is gone or archived,
/// its author is not in it (any more), the author's remembered grant no longer holds, or
/// they sent its `client_id` in the room before. The transaction is then to be rolled back
/// (the room's numbers may have moved).
pub async fn post(tx: &mut Tx, m: &NewMessage<'_>) -> AppResult<Option<Posted>> {
    request(tx.into(), "", m).await
}

/// [`post`] for a message that needs nothing else written (its author already in the room;
/// no files, mentions or thread), committed: one request under the writers' turn on SQLite,
/// its transaction's opening riding on it; one statement on PostgreSQL, atomic alone, so no
/// `BEGIN` and `COMMIT` round trips while it holds the room's row.
pub async fn post_alone(db: &Db, m: &NewMessage<'_>) -> AppResult<Option<Posted>> {
    if db.engine() == Engine::Postgres {
        return request(db.into(), "", m).await;
    }
    let (mut tx, opening) = db.begin_deferred().await?;
    let posted = request((&mut tx).into(), opening, m).await?;
    match posted {
        Some(_) => tx.commit().await?,
        None => tx.rollback().await?,
    }
    Ok(posted)
}

/// The write, `opening` first in the same request.
async fn request(conn: Conn<'_>, opening: &str, m: &NewMessage<'_>) -> AppResult<Option<Posted>> {
    let sql: &str = match conn.engine() {
        Engine::Postgres => &POSTGRES,
        Engine::Sqlite => &SQLITE,
    };
    let sql = sqlx::AssertSqlSafe(format!("{opening}{sql}"));
    // Every row is fetched: SQLite runs the statements of a request as its rows are read.
    let numbers: Result<Vec<(i64, i64)>, sqlx::Error> = on_conn!(conn, c => sqlx::query_as(sql)
        .bind(m.account_id).bind(m.room_id).bind(m.author_id).bind(events(m.parent_id))
        .bind(m.now).bind(m.id).bind(m.body).bind(m.html).bind(m.mentions_room)
        .bind(m.client_id).bind(m.parent_id).bind(Json(m.conversations))
        .bind(m.grant.map(|g| g.session_id)).bind(m.grant.map(|g| g.role.as_str()))
        .bind(m.grant.map(|g| g.revision))
        .fetch_all(c).await);
    let numbers = match numbers {
        Err(err) if is_unique_violation(&err) => return Ok(None),
        numbers => numbers?,
    };
    Ok(numbers.first().map(|&(seq, last_event)| Posted {
        row: MessageRow {
            id: m.id,
            room_id: m.room_id,
            seq,
            author_id: Some(m.author_id),
            body: m.body.to_string(),
            html: m.html.to_string(),
            mentions_room: m.mentions_room,
            client_id: m.client_id.to_string(),
            parent_id: m.parent_id,
            reply_count: 0,
            last_reply_at: None,
            edited_at: None,
            deleted_at: None,
            created_at: m.now,
        },
        last_event,
    }))
}
