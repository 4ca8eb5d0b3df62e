//! The queries of messages, their mentions and reactions. Every lookup by id is scoped by
//! the room (itself found within the account), so an id from elsewhere finds nothing.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Message, Reaction, render};
use crate::{
    on_conn, on_tx,
    platform::{
        db::{Conn, Db, Tx, placeholders},
        error::AppResult,
    },
};

#[derive(sqlx::FromRow)]
pub struct MessageRow {
    pub id: Uuid,
    pub room_id: Uuid,
    pub seq: i64,
    pub author_id: Option<Uuid>,
    pub body: String,
    pub html: String,
    pub mentions_room: bool,
    pub client_id: String,
    pub parent_id: Option<Uuid>,
    pub reply_count: i64,
    pub last_reply_at: Option<OffsetDateTime>,
    pub edited_at: Option<OffsetDateTime>,
    pub deleted_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

impl MessageRow {
    pub fn deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// The stored HTML (a message from before it was kept is rendered now, without
    /// mentions).
    pub fn html(&self) -> String {
        if self.html.is_empty() && !self.deleted() {
            render::render(&self.body, &HashSet::new(), &[]).html
        } else {
            self.html.clone()
        }
    }

    /// The message as clients see it, with its `html` names filled in.
    pub fn view(self, html: String, mentions: Vec<Uuid>, reactions: Vec<Reaction>) -> Message {
        let deleted = self.deleted();
        Message {
            id: self.id,
            room_id: self.room_id,
            seq: self.seq,
            author_id: self.author_id,
            body: if deleted { String::new() } else { self.body },
            html: if deleted { String::new() } else { html },
            client_id: self.client_id,
            parent_id: self.parent_id,
            reply_count: self.reply_count,
            last_reply_at: self.last_reply_at,
            reactions: if deleted { Vec::new() } else { reactions },
            mentions: if deleted { Vec::new() } else { mentions },
            mentions_room: self.mentions_room && !deleted,
            conversation_refs: Vec::new(),
            edited_at: self.edited_at,
            deleted,
            created_at: self.created_at,
            attachments: Vec::new(),
        }
    }
}

/// `conn` again, for one more query through it.
pub fn again<'b>(conn: &'b mut Conn<'_>) -> Conn<'b> {
    match conn {
        Conn::Pool(db) => Conn::Pool(db),
        Conn::Tx(tx) => Conn::Tx(tx),
    }
}

macro_rules! message_columns {
    () => {
        "SELECT id, room_id, seq, author_id, body, html, mentions_room, client_id, parent_id,
                reply_count, last_reply_at, edited_at, deleted_at, created_at
         FROM chat_messages"
    };
}

/// The message `id` of the room.
pub async fn get(
    conn: impl Into<Conn<'_>>,
    room_id: Uuid,
    id: Uuid,
) -> AppResult<Option<MessageRow>> {
    let sql = concat!(message_columns!(), " WHERE room_id = $1 AND id = $2");
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(room_id).bind(id).fetch_optional(c).await?))
}

/// The account's messages among `ids`, in no order.
pub async fn by_ids(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<MessageRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{} WHERE account_id = $1 AND id IN ({})",
        message_columns!(),
        placeholders(2, ids.len())
    );
    Ok(on_conn!(conn.into(), c => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account_id);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await?
    }))
}

/// The message a sender already made with `client_id` in the room.
pub async fn by_client_id(
    conn: impl Into<Conn<'_>>,
    room_id: Uuid,
    author_id: Uuid,
    client_id: &str,
) -> AppResult<Option<MessageRow>> {
    let sql = concat!(
        message_columns!(),
        " WHERE room_id = $1 AND author_id = $2 AND client_id = $3"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(room_id).bind(author_id).bind(client_id).fetch_optional(c).await?))
}

/// Counts a reply in its parent's row; `false` when the parent is gone (removed by the
/// retention meanwhile).
pub async fn count_reply(tx: &mut Tx, parent_id: Uuid, now: OffsetDateTime) -> AppResult<bool> {
    let sql = "UPDATE chat_messages SET reply_count = reply_count + 1, last_reply_at = $2
               WHERE id = $1";
    let counted = on_tx!(tx, c => sqlx::query(sql).bind(parent_id).bind(now)
        .execute(c).await?.rows_affected());
    Ok(counted == 1)
}

/// Replaces a live message's body; `None` when it was deleted meanwhile.
pub async fn edit(
    tx: &mut Tx,
    id: Uuid,
    body: &str,
    html: &str,
    mentions_room: bool,
    now: OffsetDateTime,
) -> AppResult<Option<MessageRow>> {
    let sql = concat!(
        "UPDATE chat_messages SET body = $2, html = $3, mentions_room = $4, edited_at = $5
         WHERE id = $1 AND deleted_at IS NULL
         RETURNING ",
        "id, room_id, seq, author_id, body, html, mentions_room, client_id, parent_id,
         reply_count, last_reply_at, edited_at, deleted_at, created_at"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sql)
        .bind(id).bind(body).bind(html).bind(mentions_room).bind(now)
        .fetch_optional(c).await?))
}

/// Makes the message a tombstone (body, HTML, mentions and reactions gone; row, seq and
/// thread kept); `false` when it already was one.
pub async fn tombstone(tx: &mut Tx, id: Uuid, now: OffsetDateTime) -> AppResult<bool> {
    let sql = "UPDATE chat_messages SET body = '', html = '', mentions_room = $2, deleted_at = $3
               WHERE id = $1 AND deleted_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(false).bind(now)
        .execute(c).await?.rows_affected());
    if n == 0 {
        return Ok(false);
    }
    clear_mentions(tx, id).await?;
    clear_conversation_refs(tx, id).await?;
    let sql = "DELETE FROM chat_reactions WHERE message_id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).execute(c).await?.rows_affected());
    Ok(true)
}

/// What a page lists: the room's top-level messages, or one thread's replies.
#[derive(Clone, Copy)]
pub enum Listing {
    Timeline { room_id: Uuid },
    Thread { parent_id: Uuid },
}

/// Queries over one listing, `$1` its key: newer than `$2`, older than `$2` (newest
/// first), whether any is at `$2` or newer, whether any is at `$2` or older.
macro_rules! listing_sql {
    ($filter:literal) => {
        [
            concat!(
                message_columns!(),
                " WHERE ",
                $filter,
                " AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            concat!(
                message_columns!(),
                " WHERE ",
                $filter,
                " AND seq < $2 ORDER BY seq DESC LIMIT $3"
            ),
            concat!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM chat_messages WHERE ",
                $filter,
                " AND seq >= $2 LIMIT 1) x"
            ),
            concat!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM chat_messages WHERE ",
                $filter,
                " AND seq <= $2 LIMIT 1) x"
            ),
        ]
    };
}

const TIMELINE: [&str; 4] = listing_sql!("room_id = $1 AND parent_id IS NULL");
const THREAD: [&str; 4] = listing_sql!("parent_id = $1");

impl Listing {
    fn sql(self) -> (&'static [&'static str; 4], Uuid) {
        match self {
            Listing::Timeline { room_id } => (&TIMELINE, room_id),
            Listing::Thread { parent_id } => (&THREAD, parent_id),
        }
    }
}

/// Where a page starts.
pub enum Cursor {
    Latest,
    Before(i64),
    After(i64),
    Around(i64),
}

pub struct Page {
    pub rows: Vec<MessageRow>,
    pub has_older: bool,
    pub has_newer: bool,
}

/// A page of `limit` messages of the listing in `seq` order. `Around(seq)` holds that
/// message, up to `limit / 2` before it and the rest after it.
pub async fn page(db: &Db, listing: Listing, cursor: Cursor, limit: i64) -> AppResult<Page> {
    Ok(match cursor {
        Cursor::Latest => {
            let (rows, has_older) = older(db, listing, i64::MAX, limit).await?;
            Page {
                rows,
                has_older,
                has_newer: false,
            }
        }
        Cursor::Before(seq) => {
            let (rows, has_older) = older(db, listing, seq, limit).await?;
            let has_newer = any(db, listing, seq, 2).await?;
            Page {
                rows,
                has_older,
                has_newer,
            }
        }
        Cursor::After(seq) => {
            let (rows, has_newer) = newer(db, listing, seq, limit).await?;
            let has_older = any(db, listing, seq, 3).await?;
            Page {
                rows,
                has_older,
                has_newer,
            }
        }
        Cursor::Around(seq) => {
            let before = limit / 2;
            let (mut rows, has_older) = older(db, listing, seq + 1, before + 1).await?;
            let (after, has_newer) = newer(db, listing, seq, limit - before - 1).await?;
            rows.extend(after);
            Page {
                rows,
                has_older,
                has_newer,
            }
        }
    })
}

/// Up to `limit` messages just below `before`, oldest first, and whether more lie below.
async fn older(
    db: &Db,
    listing: Listing,
    before: i64,
    limit: i64,
) -> AppResult<(Vec<MessageRow>, bool)> {
    let (mut rows, more) = beyond(db, listing, 1, before, limit).await?;
    rows.reverse();
    Ok((rows, more))
}

/// Up to `limit` messages just above `after`, and whether more lie above.
async fn newer(
    db: &Db,
    listing: Listing,
    after: i64,
    limit: i64,
) -> AppResult<(Vec<MessageRow>, bool)> {
    beyond(db, listing, 0, after, limit).await
}

/// Query `which` of the listing from `seq`, `limit` rows, and whether more lie beyond.
async fn beyond(
    db: &Db,
    listing: Listing,
    which: usize,
    seq: i64,
    limit: i64,
) -> AppResult<(Vec<MessageRow>, bool)> {
    let (sql, key) = listing.sql();
    let mut rows: Vec<MessageRow> = on_conn!(Conn::from(db), c => sqlx::query_as(sql[which])
        .bind(key).bind(seq).bind(limit + 1).fetch_all(c).await?);
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Whether the listing has a message at `seq` or beyond it (`which`: 2 newer, 3 older).
async fn any(db: &Db, listing: Listing, seq: i64, which: usize) -> AppResult<bool> {
    let (sql, key) = listing.sql();
    let n: i64 = on_conn!(Conn::from(db), c => sqlx::query_scalar(sql[which])
        .bind(key).bind(seq).fetch_one(c).await?);
    Ok(n > 0)
}

/// Which of `ids` are in the room.
pub async fn members_among(
    conn: impl Into<Conn<'_>>,
    room_id: Uuid,
    ids: &[Uuid],
) -> AppResult<HashSet<Uuid>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "SELECT user_id FROM chat_members WHERE room_id = $1 AND user_id IN ({})",
        placeholders(2, ids.len())
    );
    let found: Vec<Uuid> = on_conn!(conn.into(), c => {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(room_id);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await?
    });
    Ok(found.into_iter().collect())
}

/// The mentions of a message.
pub struct Mentions<'a> {
    pub message_id: Uuid,
    pub account_id: Uuid,
    pub room_id: Uuid,
    pub seq: i64,
    pub author_id: Uuid,
    /// The members named.
    pub people: &'a [Uuid],
    /// `@room`: every member.
    pub room: bool,
}

/// Records who a message mentions (never its author), for their unread mentions.
pub async fn add_mentions(tx: &mut Tx, m: &Mentions<'_>) -> AppResult<()> {
    if m.room {
        let sql = "INSERT INTO chat_mentions (message_id, user_id, room_id, account_id, seq)
                   SELECT $1, user_id, room_id, account_id, $2 FROM chat_members
                   WHERE room_id = $3 AND user_id <> $4
                   ON CONFLICT (message_id, user_id) DO NOTHING";
        on_tx!(tx, c => sqlx::query(sql)
            .bind(m.message_id).bind(m.seq).bind(m.room_id).bind(m.author_id)
            .execute(c).await?.rows_affected());
    }
    let sql = "INSERT INTO chat_mentions (message_id, user_id, room_id, account_id, seq)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (message_id, user_id) DO NOTHING";
    for person in m.people.iter().filter(|p| **p != m.author_id) {
        on_tx!(tx, c => sqlx::query(sql)
            .bind(m.message_id).bind(*person).bind(m.room_id).bind(m.account_id).bind(m.seq)
            .execute(c).await?.rows_affected());
    }
    Ok(())
}

pub async fn clear_mentions(tx: &mut Tx, message_id: Uuid) -> AppResult<()> {
    let sql = "DELETE FROM chat_mentions WHERE message_id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(message_id).execute(c).await?.rows_affected());
    Ok(())
}

/// Records the conversations (display ids, in order) a message of `room_id` refers to (it
/// refers to none yet).
pub async fn add_conversation_refs(
    tx: &mut Tx,
    (account_id, room_id): (Uuid, Uuid),
    message_id: Uuid,
    numbers: &[i64],
) -> AppResult<()> {
    let sql = "INSERT INTO chat_conversation_refs
                   (message_id, account_id, room_id, position, conversation_id)
               VALUES ($1, $2, $3, $4, $5)";
    for (position, number) in numbers.iter().enumerate() {
        on_tx!(tx, c => sqlx::query(sql)
            .bind(message_id).bind(account_id).bind(room_id).bind(position as i32).bind(*number)
            .execute(c).await?.rows_affected());
    }
    Ok(())
}

pub async fn clear_conversation_refs(tx: &mut Tx, message_id: Uuid) -> AppResult<()> {
    let sql = "DELETE FROM chat_conversation_refs WHERE message_id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(message_id).execute(c).await?.rows_affected());
    Ok(())
}

/// The conversations `ids` refer to as (message, display id), each message's in order.
pub async fn conversation_refs(conn: Conn<'_>, ids: &[Uuid]) -> AppResult<Vec<(Uuid, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT message_id, conversation_id FROM chat_conversation_refs
         WHERE message_id IN ({}) ORDER BY message_id, position",
        placeholders(1, ids.len())
    );
    Ok(on_conn!(conn, c => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await?
    }))
}

/// The reactions to `ids` as (message, emoji, person), earliest first.
pub async fn reactions(conn: Conn<'_>, ids: &[Uuid]) -> AppResult<Vec<(Uuid, String, Uuid)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT message_id, emoji, user_id FROM chat_reactions WHERE message_id IN ({})
         ORDER BY created_at, emoji, user_id",
        placeholders(1, ids.len())
    );
    Ok(on_conn!(conn, c => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await?
    }))
}

/// Adds `user_id`'s `emoji` to the message; `false` when it was there already.
pub async fn react(
    tx: &mut Tx,
    account_id: Uuid,
    message_id: Uuid,
    emoji: &str,
    user_id: Uuid,
    now: OffsetDateTime,
) -> AppResult<bool> {
    let sql = "INSERT INTO chat_reactions (message_id, emoji, user_id, account_id, created_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (message_id, emoji, user_id) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(message_id).bind(emoji).bind(user_id).bind(account_id).bind(now)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Takes `user_id`'s `emoji` off the message; `false` when it was not there.
pub async fn unreact(tx: &mut Tx, message_id: Uuid, emoji: &str, user_id: Uuid) -> AppResult<bool> {
    let sql = "DELETE FROM chat_reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(message_id).bind(emoji).bind(user_id).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// The current names of those of `ids` who belong to the account.
pub async fn names(
    conn: Conn<'_>,
    account_id: Uuid,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, String>> {
    let sql = format!(
        "SELECT u.id, u.name FROM users u
         JOIN account_users au ON au.user_id = u.id AND au.account_id = $1
         WHERE u.id IN ({})",
        placeholders(2, ids.len())
    );
    let rows: Vec<(Uuid, String)> = on_conn!(conn, c => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account_id);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await?
    });
    Ok(rows.into_iter().collect())
}
