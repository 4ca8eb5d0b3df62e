use std::collections::BTreeMap;

use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Card, Priority};
use crate::{
    kanban::stages::Kind,
    on_conn, on_db, on_tx, on_writer,
    platform::{
        db::{Conn, Db, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
};

/// A card's columns, its position being `$position` (the default counts the live cards of
/// its stage ranked before it: fine for a few cards, where a list numbers them in one pass).
macro_rules! columns {
    () => {
        columns!(
            "CAST((SELECT COUNT(*) FROM cards p WHERE p.account_id = c.account_id
               AND p.stage_id = c.stage_id AND p.archived_at IS NULL
               AND p.id <> c.id AND (p.rank, p.id) < (c.rank, c.id)) AS INTEGER)"
        )
    };
    ($position:literal) => {
        concat!(
            "c.id, c.board_id, c.stage_id, ",
            $position,
            " AS position, c.rank,
         c.stage_entered_at, c.title, c.chatwoot_conversation_id,
         c.chatwoot_contact_id, c.chatwoot_inbox_id, c.contact_name, c.contact_avatar_url,
         c.last_message, c.last_message_at, c.value_minor, c.currency, c.priority, c.due_at,
         c.assignee_id, c.labels, c.custom_fields, c.status, c.lost_reason, c.version,
         c.created_at, c.updated_at"
        )
    };
}

/// A live card of the board (archived cards are gone for the API).
pub async fn get(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    board_id: Uuid,
    card_id: Uuid,
) -> AppResult<Option<Card>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM cards c WHERE c.account_id = $1 AND c.board_id = $2 AND c.id = $3
           AND c.archived_at IS NULL"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(board_id).bind(card_id).fetch_optional(c).await?))
}

/// Whether a read counts a card's position or leaves it at -1, for a caller about to
/// give the card a new one (counting reads the stage's cards above it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Counted,
    Unread,
}

/// A live card of a live board, locked until the transaction ends on PostgreSQL (SQLite's
/// writer is alone anyway): two moves of one card take turns rather than one failing on
/// the other's version. With the board's structure version (see `boards::Layouts`).
pub async fn get_to_write(
    tx: &mut Tx,
    account_id: Uuid,
    board_id: Uuid,
    card_id: Uuid,
    position: Position,
) -> AppResult<Option<(Card, i64)>> {
    macro_rules! select {
        ($columns:expr, $lock:literal) => {
            concat!(
                "SELECT ",
                $columns,
                ", b.structure_version
                 FROM cards c JOIN boards b ON b.account_id = c.account_id AND b.id = c.board_id
                 WHERE c.account_id = $1 AND c.board_id = $2 AND c.id = $3
                   AND c.archived_at IS NULL AND b.archived_at IS NULL",
                $lock
            )
        };
    }
    let sql = match (&tx, position) {
        (Tx::Sqlite(_), Position::Counted) => select!(columns!(), ""),
        (Tx::Sqlite(_), Position::Unread) => select!(columns!("-1"), ""),
        (Tx::Postgres(_), Position::Counted) => select!(columns!(), " FOR UPDATE OF c"),
        (Tx::Postgres(_), Position::Unread) => select!(columns!("-1"), " FOR UPDATE OF c"),
    };
    let found: Option<ToWrite> = on_tx!(tx, c => sqlx::query_as(sql)
        .bind(account_id).bind(board_id).bind(card_id).fetch_optional(c).await?);
    Ok(found.map(|row| (row.card, row.structure_version)))
}

#[derive(sqlx::FromRow)]
struct ToWrite {
    #[sqlx(flatten)]
    card: Card,
    structure_version: i64,
}

pub async fn insert(tx: &mut Tx, account_id: Uuid, card: &Card) -> Result<(), sqlx::Error> {
    insert_all(tx, account_id, &[(card, None)]).await
}

/// Cards inserted per statement at most (SQLite takes 32,766 parameters, PostgreSQL 65,535).
const INSERT_ROWS: usize = 100;

/// Inserts new cards, each with the state of its conversation (µs, status) when it
/// follows one, in one statement per [`INSERT_ROWS`].
pub async fn insert_all(
    tx: &mut Tx,
    account_id: Uuid,
    cards: &[(&Card, Option<(i64, &str)>)],
) -> Result<(), sqlx::Error> {
    for chunk in cards.chunks(INSERT_ROWS) {
        on_tx!(&mut *tx, c => {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO cards (id, account_id, board_id, stage_id, rank, title,
                   chatwoot_conversation_id, chatwoot_contact_id, chatwoot_inbox_id, contact_name,
                   contact_avatar_url, last_message, last_message_at, value_minor, currency,
                   priority, due_at, assignee_id, labels, custom_fields, status, lost_reason,
                   version, created_at, updated_at, stage_entered_at, chatwoot_updated_micros,
                   chatwoot_status) ",
            );
            insert.push_values(chunk, |mut row, (card, state)| {
                row.push_bind(card.id).push_bind(account_id).push_bind(card.board_id)
                    .push_bind(card.stage_id).push_bind(card.rank).push_bind(card.title.clone())
                    .push_bind(card.chatwoot_conversation_id).push_bind(card.chatwoot_contact_id)
                    .push_bind(card.chatwoot_inbox_id).push_bind(card.contact_name.clone())
                    .push_bind(card.contact_avatar_url.clone()).push_bind(card.last_message.clone())
                    .push_bind(card.last_message_at).push_bind(card.value_minor)
                    .push_bind(card.currency.clone()).push_bind(card.priority)
                    .push_bind(card.due_at).push_bind(card.assignee_id).push_bind(Json(card.labels.clone()))
                    .push_bind(Json(card.custom_fields.clone())).push_bind(card.status)
                    .push_bind(card.lost_reason.clone()).push_bind(card.version)
                    .push_bind(card.created_at).push_bind(card.updated_at)
                    .push_bind(card.stage_entered_at).push_bind(state.map(|s| s.0))
                    .push_bind(state.map(|s| s.1.to_string()));
            });
            // One row is always the same statement; every other length would crowd the
            // connection's statement cache.
            insert.build().persistent(chunk.len() == 1).execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

/// Writes every field of `card` if the stored version is still `expected`; `false` when
/// another writer got there first.
pub async fn update(
    tx: &mut Tx,
    account_id: Uuid,
    card: &Card,
    expected: i64,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE cards SET stage_id = $4, rank = $5, title = $6,
                   chatwoot_conversation_id = $7, chatwoot_contact_id = $8, chatwoot_inbox_id = $9,
                   contact_name = $10, contact_avatar_url = $11, last_message = $12,
                   last_message_at = $13, value_minor = $14, currency = $15, priority = $16,
                   due_at = $17, assignee_id = $18, labels = $19, custom_fields = $20, status = $21,
                   lost_reason = $22, version = $23, updated_at = $24, stage_entered_at = $25
               WHERE account_id = $1 AND id = $2 AND version = $3";
    let updated = on_tx!(tx, c => sqlx::query(sql)
        .bind(account_id).bind(card.id).bind(expected).bind(card.stage_id).bind(card.rank)
        .bind(&card.title).bind(card.chatwoot_conversation_id).bind(card.chatwoot_contact_id)
        .bind(card.chatwoot_inbox_id).bind(&card.contact_name).bind(&card.contact_avatar_url)
        .bind(&card.last_message).bind(card.last_message_at).bind(card.value_minor)
        .bind(&card.currency).bind(card.priority).bind(card.due_at).bind(card.assignee_id)
        .bind(Json(&card.labels)).bind(Json(&card.custom_fields)).bind(card.status)
        .bind(&card.lost_reason).bind(card.version).bind(card.updated_at)
        .bind(card.stage_entered_at).execute(c).await?.rows_affected());
    Ok(updated == 1)
}

pub async fn archive(
    tx: &mut Tx,
    account_id: Uuid,
    card_id: Uuid,
    at: OffsetDateTime,
) -> AppResult<()> {
    let sql = "UPDATE cards SET archived_at = $3, updated_at = $3, version = version + 1
               WHERE account_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(card_id).bind(at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Ids of the stage's live cards, top first.
pub async fn ids_in_stage(tx: &mut Tx, account_id: Uuid, stage_id: Uuid) -> AppResult<Vec<Uuid>> {
    let sql = "SELECT id FROM cards WHERE account_id = $1 AND stage_id = $2 AND archived_at IS NULL
               ORDER BY rank, id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(account_id).bind(stage_id).fetch_all(c).await?))
}

/// The ranks at `offset` and after it (`limit` of them) among the stage's live cards
/// other than `moving`, in order.
pub async fn ranks_from(
    tx: &mut Tx,
    account_id: Uuid,
    stage_id: Uuid,
    moving: Option<Uuid>,
    (offset, limit): (i32, i32),
) -> AppResult<Vec<i64>> {
    let sql = "SELECT rank FROM cards
               WHERE account_id = $1 AND stage_id = $2 AND archived_at IS NULL
                 AND ($3 IS NULL OR id <> $3)
               ORDER BY rank, id LIMIT $5 OFFSET $4";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(account_id).bind(stage_id).bind(moving)
        .bind(offset).bind(limit).fetch_all(c).await?),
    )
}

/// The stage's highest rank and how many live cards it has, `moving` left out.
pub async fn bottom(
    tx: &mut Tx,
    account_id: Uuid,
    stage_id: Uuid,
    moving: Option<Uuid>,
) -> AppResult<(Option<i64>, i64)> {
    let sql = "SELECT MAX(rank), COUNT(*) FROM cards
               WHERE account_id = $1 AND stage_id = $2 AND archived_at IS NULL
                 AND ($3 IS NULL OR id <> $3)";
    Ok(
        on_tx!(tx, c => sqlx::query_as(sql).bind(account_id).bind(stage_id).bind(moving)
        .fetch_one(c).await?),
    )
}

/// The stage's highest rank (`None`: no live card).
pub async fn last_rank(tx: &mut Tx, account_id: Uuid, stage_id: Uuid) -> AppResult<Option<i64>> {
    let sql = "SELECT MAX(rank) FROM cards
               WHERE account_id = $1 AND stage_id = $2 AND archived_at IS NULL";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(account_id).bind(stage_id)
        .fetch_one(c).await?),
    )
}

/// The stage's lowest rank (`None`: no live card).
pub async fn top_rank(tx: &mut Tx, account_id: Uuid, stage_id: Uuid) -> AppResult<Option<i64>> {
    let sql = "SELECT MIN(rank) FROM cards
               WHERE account_id = $1 AND stage_id = $2 AND archived_at IS NULL";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(account_id).bind(stage_id)
        .fetch_one(c).await?),
    )
}

/// Spreads the stage's live cards `gap` apart again, in the same order.
pub async fn renumber(tx: &mut Tx, account_id: Uuid, stage_id: Uuid, gap: i64) -> AppResult<()> {
    let sql = "UPDATE cards SET rank = ranked.n * $3
               FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY rank, id) AS n FROM cards
                     WHERE account_id = $1 AND stage_id = $2 AND archived_at IS NULL) AS ranked
               WHERE cards.id = ranked.id";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(stage_id).bind(gap)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Moves every live card of one stage to the end of another, keeping their order.
pub async fn append_stage(
    tx: &mut Tx,
    account_id: Uuid,
    from: Uuid,
    to: Uuid,
    offset: i64,
    status: Kind,
    at: OffsetDateTime,
) -> AppResult<()> {
    let sql = "UPDATE cards SET stage_id = $3, rank = rank + $4, status = $5,
                   version = version + 1, updated_at = $6, stage_entered_at = $6
               WHERE account_id = $1 AND stage_id = $2 AND archived_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(from).bind(to).bind(offset)
        .bind(status).bind(at).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn set_status_in_stage(
    tx: &mut Tx,
    account_id: Uuid,
    stage_id: Uuid,
    status: Kind,
) -> AppResult<()> {
    let sql = "UPDATE cards SET status = $3, version = version + 1
               WHERE account_id = $1 AND stage_id = $2 AND archived_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(stage_id).bind(status)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// What a card list may be narrowed by.
#[derive(Debug, Default)]
pub struct Filter {
    pub stage_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub label: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<Kind>,
    pub inbox_id: Option<i64>,
    pub conversation_id: Option<i64>,
    /// Lower-cased `%text%` matched against title and contact name.
    pub text: Option<String>,
    /// Due in `[due_from, due_to)`.
    pub due_from: Option<OffsetDateTime>,
    pub due_to: Option<OffsetDateTime>,
}

macro_rules! list_sql {
    ($has_label:literal) => {
        concat!(
            "SELECT ", columns!("c.position"), "
             FROM (SELECT c.*, CAST(ROW_NUMBER() OVER (PARTITION BY c.stage_id
                                     ORDER BY c.rank, c.id) - 1 AS INTEGER) AS position
                   FROM cards c
                   WHERE c.account_id = $1 AND c.board_id = $2 AND c.archived_at IS NULL) c
             JOIN stages s ON s.id = c.stage_id
             WHERE ($3 IS NULL OR c.stage_id = $3)
               AND ($4 IS NULL OR c.assignee_id = $4)
               AND ($5 IS NULL OR ", $has_label, ")
               AND ($6 IS NULL OR c.priority = $6)
               AND ($7 IS NULL OR c.status = $7)
               AND ($8 IS NULL OR c.chatwoot_inbox_id = $8)
               AND ($9 IS NULL OR LOWER(c.title) LIKE $9 OR LOWER(COALESCE(c.contact_name, '')) LIKE $9)
               AND ($10 IS NULL OR c.due_at >= $10)
               AND ($11 IS NULL OR c.due_at < $11)
               AND ($12 IS NULL OR (s.position, c.rank, c.id) >
                    (SELECT s2.position, c2.rank, c2.id FROM cards c2
                     JOIN stages s2 ON s2.id = c2.stage_id
                     WHERE c2.id = $12 AND c2.account_id = $1 AND c2.board_id = $2))
               AND ($14 IS NULL OR c.chatwoot_conversation_id = $14)
             ORDER BY s.position, c.rank, c.id LIMIT $13"
        )
    };
}

/// The board's live cards in board order (stage, then position), filtered.
pub async fn list(
    db: &Db,
    account_id: Uuid,
    board_id: Uuid,
    filter: &Filter,
    page: PageRequest,
) -> AppResult<Vec<Card>> {
    let sql = match db {
        Db::Sqlite(_) => {
            list_sql!("EXISTS (SELECT 1 FROM json_each(c.labels) WHERE json_each.value = $5)")
        }
        Db::Postgres(_) => list_sql!("c.labels @> jsonb_build_array($5::text)"),
    };
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(account_id).bind(board_id).bind(filter.stage_id).bind(filter.assignee_id)
        .bind(&filter.label).bind(filter.priority).bind(filter.status).bind(filter.inbox_id)
        .bind(&filter.text).bind(filter.due_from).bind(filter.due_to).bind(page.after)
        .bind(page.fetch_limit()).bind(filter.conversation_id)
        .fetch_all(pool).await?))
}

/// A card as Chatwoot's events see it.
#[derive(sqlx::FromRow)]
pub struct Followed {
    #[sqlx(flatten)]
    pub card: Card,
    /// `updated_at` (µs) of the newest conversation state applied to the card.
    pub chatwoot_updated_micros: Option<i64>,
    /// The conversation status the card last saw, or last wrote back.
    pub chatwoot_status: Option<String>,
    /// Conversation states up to this time (µs) are echoes of a write-back.
    pub chatwoot_quiet_until_micros: Option<i64>,
    pub archived: bool,
}

/// A board's cards for Chatwoot conversations (display ids), live or archived, in one
/// statement, their positions left unread (-1: counting one reads the stage's cards above
/// it, thousands in a busy entry stage, and Chatwoot's events never show it). Keyed by
/// board as well as account: with no statistics yet on `cards` (a board filling up in its
/// first minute), PostgreSQL plans account-only keys through `cards_contact` and reads every
/// card of the account.
pub async fn by_conversations(
    tx: &mut Tx,
    account_id: Uuid,
    board_id: Uuid,
    conversation_ids: &[i64],
) -> AppResult<Vec<Followed>> {
    macro_rules! select {
        ($among:literal) => {
            concat!(
                "SELECT ",
                columns!("-1"),
                ", c.chatwoot_updated_micros, c.chatwoot_status, c.chatwoot_quiet_until_micros,
                 c.archived_at IS NOT NULL AS archived
                 FROM cards c
                 WHERE c.account_id = $1 AND c.board_id = $2 AND c.chatwoot_conversation_id ",
                $among
            )
        };
    }
    Ok(match tx {
        Tx::Sqlite(t) => {
            sqlx::query_as(select!("IN (SELECT value FROM json_each($3))"))
                .bind(account_id)
                .bind(board_id)
                .bind(Json(conversation_ids))
                .fetch_all(t.conn())
                .await?
        }
        Tx::Postgres(t) => {
            sqlx::query_as(select!("= ANY($3)"))
                .bind(account_id)
                .bind(board_id)
                .bind(conversation_ids)
                .fetch_all(&mut **t)
                .await?
        }
    })
}

/// Writes what a conversation drives on its card (place, labels, priority, assignee,
/// contact, inbox, last message), with the conversation's state (µs, status) when given,
/// if the card is still at version `expected`; `false` when someone wrote it meanwhile.
pub async fn follow_conversation(
    tx: &mut Tx,
    account_id: Uuid,
    card: &Card,
    expected: i64,
    state: Option<(i64, &str)>,
) -> AppResult<bool> {
    let sql = "UPDATE cards SET stage_id = $5, rank = $6, stage_entered_at = $7, status = $8,
                   lost_reason = $9, labels = $10, priority = $11, assignee_id = $12,
                   chatwoot_inbox_id = $13, chatwoot_contact_id = $14, contact_name = $15,
                   contact_avatar_url = $16, last_message = $17, last_message_at = $18,
                   version = $19, updated_at = $20,
                   chatwoot_updated_micros = COALESCE($21, chatwoot_updated_micros),
                   chatwoot_status = COALESCE($22, chatwoot_status)
               WHERE account_id = $1 AND board_id = $2 AND id = $3 AND version = $4";
    let written = on_tx!(tx, c => sqlx::query(sql)
        .bind(account_id).bind(card.board_id).bind(card.id).bind(expected).bind(card.stage_id)
        .bind(card.rank).bind(card.stage_entered_at).bind(card.status)
        .bind(&card.lost_reason).bind(Json(&card.labels)).bind(card.priority)
        .bind(card.assignee_id).bind(card.chatwoot_inbox_id).bind(card.chatwoot_contact_id)
        .bind(&card.contact_name).bind(&card.contact_avatar_url).bind(&card.last_message)
        .bind(card.last_message_at).bind(card.version).bind(card.updated_at)
        .bind(state.map(|s| s.0)).bind(state.map(|s| s.1)).execute(c).await?.rows_affected());
    Ok(written == 1)
}

/// Records the newest conversation state applied to a card and the status then, if the
/// card is still at version `expected`: a person who moved it meanwhile also recorded the
/// state as of the move, which an older event must not overwrite.
pub async fn mark_chatwoot_state(
    tx: &mut Tx,
    account_id: Uuid,
    (card_id, expected): (Uuid, i64),
    micros: i64,
    status: &str,
) -> AppResult<()> {
    let sql = "UPDATE cards SET chatwoot_updated_micros = $3, chatwoot_status = $4
               WHERE account_id = $1 AND id = $2 AND version = $5";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(card_id).bind(micros).bind(status)
        .bind(expected).execute(c).await?.rows_affected());
    Ok(())
}

/// What a move by hand tells the card about its conversation.
pub struct MovedByHand<'a> {
    /// When (µs): conversation states from before (events still in flight) no longer apply.
    pub at_micros: i64,
    /// The status a write-back is about to give the conversation: already known, so its
    /// echo is no change.
    pub status: Option<&'a str>,
    /// Until when states are echoes of the write-back, if one is queued.
    pub quiet_until_micros: Option<i64>,
}

pub async fn moved_by_hand(
    tx: &mut Tx,
    account_id: Uuid,
    card_id: Uuid,
    moved: MovedByHand<'_>,
) -> AppResult<()> {
    let sql = "UPDATE cards SET chatwoot_status = COALESCE($4, chatwoot_status),
                   chatwoot_updated_micros = CASE
                       WHEN chatwoot_updated_micros IS NULL OR chatwoot_updated_micros < $3 THEN $3
                       ELSE chatwoot_updated_micros END,
                   chatwoot_quiet_until_micros = COALESCE($5, chatwoot_quiet_until_micros)
               WHERE account_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(card_id).bind(moved.at_micros)
        .bind(moved.status).bind(moved.quiet_until_micros).execute(c).await?.rows_affected());
    Ok(())
}

/// A write-back finished: its echoes are the states up to `micros`.
pub async fn quiet_until(db: &Db, account_id: Uuid, card_id: Uuid, micros: i64) -> AppResult<()> {
    let sql = "UPDATE cards SET chatwoot_quiet_until_micros = $3 WHERE account_id = $1 AND id = $2";
    let mut writer = db.writer().await?;
    on_writer!(&mut writer, c => sqlx::query(sql).bind(account_id).bind(card_id).bind(micros)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Brings a Chatwoot contact's name and picture onto every card of theirs; answers the
/// cards that changed, by board.
pub async fn update_contact(
    tx: &mut Tx,
    account_id: Uuid,
    contact_id: i64,
    name: &str,
    avatar_url: Option<&str>,
    at: OffsetDateTime,
) -> AppResult<BTreeMap<Uuid, Vec<Uuid>>> {
    let sql = "UPDATE cards SET contact_name = $3, contact_avatar_url = $4, version = version + 1,
                   updated_at = $5
               WHERE account_id = $1 AND chatwoot_contact_id = $2 AND archived_at IS NULL
                 AND (contact_name IS DISTINCT FROM $3 OR contact_avatar_url IS DISTINCT FROM $4)
               RETURNING board_id, id";
    let rows: Vec<(Uuid, Uuid)> = on_tx!(tx, c => sqlx::query_as(sql).bind(account_id)
        .bind(contact_id).bind(name).bind(avatar_url).bind(at).fetch_all(c).await?);
    let mut by_board: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (board_id, card_id) in rows {
        by_board.entry(board_id).or_default().push(card_id);
    }
    Ok(by_board)
}
