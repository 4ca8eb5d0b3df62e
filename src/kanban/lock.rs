use uuid::Uuid;

use crate::{
    on_tx,
    platform::{db::Tx, error::AppResult},
};

/// Locks a live board of the account for the rest of the transaction, so positions change
/// one writer at a time (PostgreSQL row lock; SQLite's single writer already). `false`
/// when there is no such board.
pub async fn board(tx: &mut Tx, account_id: Uuid, board_id: Uuid) -> AppResult<bool> {
    let sql = match tx {
        Tx::Sqlite(_) => {
            "SELECT id FROM boards WHERE account_id = $1 AND id = $2 AND archived_at IS NULL"
        }
        Tx::Postgres(_) => {
            "SELECT id FROM boards WHERE account_id = $1 AND id = $2 AND archived_at IS NULL FOR UPDATE"
        }
    };
    let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(account_id).bind(board_id).fetch_optional(conn).await?);
    Ok(found.is_some())
}
