use sqlx::types::Json;
use uuid::Uuid;

use super::Board;
use crate::{
    on_conn, on_tx,
    platform::{
        db::{Conn, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
    realtime::{BoardChange, Changed},
};

/// The board's revision: its column and its shards (see [`touch`]).
macro_rules! revision {
    ($board:literal) => {
        concat!(
            "CAST(",
            $board,
            ".revision + COALESCE((SELECT SUM(r.revision) FROM board_revisions r
                                      WHERE r.board_id = ",
            $board,
            ".id), 0) AS BIGINT)"
        )
    };
}

macro_rules! select {
    () => {
        concat!(
            "SELECT id, name, description, currency, inbox_ids, custom_fields, rules, version, ",
            revision!("boards"),
            " AS revision, created_at, updated_at FROM boards "
        )
    };
}

pub async fn list(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    page: PageRequest,
) -> AppResult<Vec<Board>> {
    let sql = concat!(
        select!(),
        "WHERE account_id = $1 AND archived_at IS NULL AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(page.after).bind(page.fetch_limit()).fetch_all(c).await?))
}

pub async fn get(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    board_id: Uuid,
) -> AppResult<Option<Board>> {
    let sql = concat!(
        select!(),
        "WHERE account_id = $1 AND id = $2 AND archived_at IS NULL"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(board_id).fetch_optional(c).await?))
}

pub async fn insert(tx: &mut Tx, account_id: Uuid, board: &Board) -> AppResult<()> {
    let sql = "INSERT INTO boards (id, account_id, name, description, currency, inbox_ids,
                   custom_fields, rules, version, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(board.id).bind(account_id).bind(&board.name).bind(&board.description)
        .bind(&board.currency).bind(Json(&board.inbox_ids)).bind(Json(&board.custom_fields))
        .bind(Json(&board.rules)).bind(board.version).bind(board.created_at).bind(board.updated_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn update(tx: &mut Tx, account_id: Uuid, board: &Board) -> AppResult<()> {
    let sql = "UPDATE boards SET name = $3, description = $4, currency = $5, inbox_ids = $6,
                   custom_fields = $7, rules = $8, version = $9, updated_at = $10
               WHERE account_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(account_id).bind(board.id).bind(&board.name).bind(&board.description)
        .bind(&board.currency).bind(Json(&board.inbox_ids)).bind(Json(&board.custom_fields))
        .bind(Json(&board.rules)).bind(board.version).bind(board.updated_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn archive(
    tx: &mut Tx,
    account_id: Uuid,
    board_id: Uuid,
    at: time::OffsetDateTime,
) -> AppResult<()> {
    let sql = "UPDATE boards SET archived_at = $3, updated_at = $3, version = version + 1
               WHERE account_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(board_id).bind(at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// The structure version of a live board of the account (see `layouts`).
pub async fn structure_version(
    tx: &mut Tx,
    account_id: Uuid,
    board_id: Uuid,
) -> AppResult<Option<i64>> {
    let sql = "SELECT structure_version FROM boards
               WHERE account_id = $1 AND id = $2 AND archived_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(account_id).bind(board_id).fetch_optional(c).await?))
}

/// The account's live boards (for Chatwoot events, which may concern any of them).
pub async fn all_live(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Vec<Board>> {
    let sql = concat!(
        select!(),
        "WHERE account_id = $1 AND archived_at IS NULL ORDER BY id"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql).bind(account_id).fetch_all(c).await?))
}

/// How many counters a board's revision is spread over on PostgreSQL: writers of one board
/// bump one each, at random, so they seldom wait for one another's commit.
const REVISION_SHARDS: i32 = 16;

/// Moves the board's revision on (in the transaction making the change, as late as
/// possible: what it bumps stays locked until the commit), and its structure version too
/// when the board's settings or stages changed; says what to announce once it commits.
pub async fn touch(
    tx: &mut Tx,
    account_id: Uuid,
    board_id: Uuid,
    what: Changed,
) -> AppResult<BoardChange> {
    let structure = what == Changed::Structure;
    let revision: i64 = match tx {
        // A shard at random. The read beside the bump does not see it (one snapshot), so the
        // revision announced is the one this transaction saw plus its step: writers
        // committing side by side may announce the same number, and the board then reads
        // one past it. Only structure writers, who have the board to themselves, update its
        // row.
        Tx::Postgres(t) => {
            let sql = concat!(
                "WITH bump AS (
                     INSERT INTO board_revisions (board_id, shard, revision) VALUES ($2, $3, 1)
                     ON CONFLICT (board_id, shard)
                     DO UPDATE SET revision = board_revisions.revision + 1 RETURNING 1),
                 reshaped AS (
                     UPDATE boards SET structure_version = structure_version + 1
                     WHERE $4 AND account_id = $1 AND id = $2 RETURNING 1)
                 SELECT ",
                revision!("b"),
                " + 1 FROM boards b WHERE b.account_id = $1 AND b.id = $2"
            );
            sqlx::query_scalar(sql)
                .bind(account_id)
                .bind(board_id)
                .bind(rand::random_range(0..REVISION_SHARDS))
                .bind(structure)
                .fetch_one(&mut **t)
                .await?
        }
        // One writer at a time: the board's own column, and the revision is exact.
        Tx::Sqlite(t) => {
            let sql = concat!(
                "UPDATE boards SET revision = revision + 1,
                     structure_version = structure_version + CASE WHEN $3 THEN 1 ELSE 0 END
                 WHERE account_id = $1 AND id = $2 RETURNING ",
                revision!("boards")
            );
            sqlx::query_scalar(sql)
                .bind(account_id)
                .bind(board_id)
                .bind(structure)
                .fetch_one(t.conn())
                .await?
        }
    };
    Ok(BoardChange::new(account_id, board_id, revision, what))
}
