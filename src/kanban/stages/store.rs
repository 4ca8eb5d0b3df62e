use uuid::Uuid;

use super::Stage;
use crate::{
    on_conn, on_tx,
    platform::{
        db::{Conn, Tx},
        error::AppResult,
    },
};

macro_rules! select {
    () => {
        "SELECT id, board_id, name, color, position, sla_hours, kind, created_at, updated_at
         FROM stages "
    };
}

/// The board's stages in order (the board's account is checked in the same query).
pub async fn list(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    board_id: Uuid,
) -> AppResult<Vec<Stage>> {
    let sql = concat!(
        select!(),
        "WHERE account_id = $1 AND board_id = $2 ORDER BY position, id"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(board_id).fetch_all(c).await?))
}

pub async fn get(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    board_id: Uuid,
    stage_id: Uuid,
) -> AppResult<Option<Stage>> {
    let sql = concat!(
        select!(),
        "WHERE account_id = $1 AND board_id = $2 AND id = $3"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(board_id).bind(stage_id).fetch_optional(c).await?))
}

pub async fn insert(tx: &mut Tx, account_id: Uuid, stage: &Stage) -> AppResult<()> {
    let sql =
        "INSERT INTO stages (id, account_id, board_id, name, color, position, sla_hours, kind,
                   created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(stage.id).bind(account_id).bind(stage.board_id).bind(&stage.name).bind(&stage.color)
        .bind(stage.position).bind(stage.sla_hours).bind(stage.kind).bind(stage.created_at)
        .bind(stage.updated_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn update(tx: &mut Tx, account_id: Uuid, stage: &Stage) -> AppResult<()> {
    let sql = "UPDATE stages SET name = $3, color = $4, position = $5, sla_hours = $6, kind = $7,
                   updated_at = $8
               WHERE account_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(account_id).bind(stage.id).bind(&stage.name).bind(&stage.color).bind(stage.position)
        .bind(stage.sla_hours).bind(stage.kind).bind(stage.updated_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn delete(tx: &mut Tx, account_id: Uuid, stage_id: Uuid) -> AppResult<()> {
    let sql = "DELETE FROM stages WHERE account_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(stage_id).execute(c).await?.rows_affected());
    Ok(())
}
