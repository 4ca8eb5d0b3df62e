//! Who may write to a board at once. Card writers share the board: a card's place is its
//! own rank (see `cards::moves`), so moves on one board run side by side and meet only
//! at the end, on the board's revision; runs of Chatwoot's events also take turns among
//! themselves. Structure writers (stages, rules, renumbering a stage) have the board to
//! themselves. On PostgreSQL this is a transaction-scoped
//! advisory lock, shared or exclusive, taken before anything else of the board (so no
//! two writers wait on each other in opposite orders); SQLite has one writer anyway.

use uuid::Uuid;

use crate::{
    on_tx,
    platform::{db::Tx, error::AppResult},
};

/// What a transaction is about to change on a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Cards: their fields and their places.
    Cards,
    /// Cards, from a run of Chatwoot's events: like `Cards`, and one run at a time, since a
    /// run must see the cards an earlier run made (two runs making one conversation's card
    /// would collide on it).
    Events,
    /// Stages, the board itself, or every card of a stage at once.
    Structure,
}

/// Holds the board for the rest of the transaction, waiting for writers it excludes.
pub async fn hold(tx: &mut Tx, board_id: Uuid, hold: Hold) -> AppResult<()> {
    if let Tx::Postgres(conn) = tx {
        let sql = match hold {
            Hold::Cards => "SELECT pg_advisory_xact_lock_shared($1)",
            // The runs' own turn first, so a run waiting for it holds nothing a structure
            // writer waits for (only runs take this key: no order to keep with others).
            Hold::Events => {
                "SELECT pg_advisory_xact_lock($1 # 1), pg_advisory_xact_lock_shared($1)"
            }
            Hold::Structure => "SELECT pg_advisory_xact_lock($1)",
        };
        sqlx::query(sql)
            .bind(key(board_id))
            .execute(&mut **conn)
            .await?;
    }
    Ok(())
}

/// Holds a board of the account and answers whether it is live (`false`: no such board).
pub async fn board(tx: &mut Tx, account_id: Uuid, board_id: Uuid, how: Hold) -> AppResult<bool> {
    hold(tx, board_id, how).await?;
    let sql = "SELECT id FROM boards WHERE account_id = $1 AND id = $2 AND archived_at IS NULL";
    let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(account_id).bind(board_id).fetch_optional(conn).await?);
    Ok(found.is_some())
}

/// The board's advisory lock key, even (its runs of events take the odd one after it). Two
/// boards folding to one key only wait for each other.
fn key(board_id: Uuid) -> i64 {
    let (high, low) = board_id.as_u64_pair();
    ((high ^ low) & !1) as i64
}
