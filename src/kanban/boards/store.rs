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

macro_rules! select {
    () => {
        "SELECT id, name, description, currency, inbox_ids, custom_fields, rules, version,
                revision, created_at, updated_at FROM boards "
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

/// Like [`get`], locking the board's row for the rest of the transaction (PostgreSQL; on
/// SQLite the transaction already excludes other writers): one statement where a lock
/// then a read would be two, inside the board's critical section.
pub async fn get_locked(tx: &mut Tx, account_id: Uuid, board_id: Uuid) -> AppResult<Option<Board>> {
    let sql = match tx {
        Tx::Sqlite(_) => concat!(
            select!(),
            "WHERE account_id = $1 AND id = $2 AND archived_at IS NULL"
        ),
        Tx::Postgres(_) => concat!(
            select!(),
            "WHERE account_id = $1 AND id = $2 AND archived_at IS NULL FOR UPDATE"
        ),
    };
    Ok(
        on_tx!(tx, c => sqlx::query_as(sql).bind(account_id).bind(board_id)
        .fetch_optional(c).await?),
    )
}

/// The account's live boards (for Chatwoot events, which may concern any of them).
pub async fn all_live(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Vec<Board>> {
    let sql = concat!(
        select!(),
        "WHERE account_id = $1 AND archived_at IS NULL ORDER BY id"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql).bind(account_id).fetch_all(c).await?))
}

/// Moves the board's revision on (in the transaction making the change) and says what to
/// announce once it commits.
pub async fn touch(
    tx: &mut Tx,
    account_id: Uuid,
    board_id: Uuid,
    what: Changed,
) -> AppResult<BoardChange> {
    let sql = "UPDATE boards SET revision = revision + 1 WHERE account_id = $1 AND id = $2
               RETURNING revision";
    let revision: i64 = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(account_id).bind(board_id).fetch_one(c).await?);
    Ok(BoardChange::new(account_id, board_id, revision, what))
}
