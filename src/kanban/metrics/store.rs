//! The rows the metrics read: the cards that matter to a window or to the present, and
//! their whole history. Both queries confine themselves to one account and board.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{CardRow, EventRow};
use crate::{
    on_conn,
    platform::{db::Conn, error::AppResult},
};

/// The board's cards that are live, or have an event at or after `$3` (the window's
/// start, floored to the second: a superset, which the computation narrows exactly).
macro_rules! relevant_cards {
    () => {
        "SELECT c.id FROM cards c
         WHERE c.account_id = $1 AND c.board_id = $2
           AND (c.archived_at IS NULL OR EXISTS (
                SELECT 1 FROM card_events w
                WHERE w.account_id = $1 AND w.card_id = c.id AND w.created_at >= $3))"
    };
}

/// Stored timestamps are whole seconds in UTC (`clock::now`), so on SQLite their text
/// compares like the time only against a bound of the same form.
fn bound(since: OffsetDateTime) -> OffsetDateTime {
    let utc = since.to_offset(time::UtcOffset::UTC);
    utc.replace_nanosecond(0).unwrap_or(utc)
}

pub async fn cards(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    board_id: Uuid,
    since: OffsetDateTime,
) -> AppResult<Vec<CardRow>> {
    let sql = concat!(
        "SELECT id, stage_id, value_minor, currency, created_at, archived_at FROM cards
         WHERE account_id = $1 AND board_id = $2 AND id IN (",
        relevant_cards!(),
        ")"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(board_id).bind(bound(since)).fetch_all(c).await?))
}

/// Every event of the cards [`cards`] returns, per card in the order they happened.
pub async fn events(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    board_id: Uuid,
    since: OffsetDateTime,
) -> AppResult<Vec<EventRow>> {
    let sql = concat!(
        "SELECT id, card_id, kind, from_stage_id, to_stage_id, created_at FROM card_events
         WHERE account_id = $1 AND board_id = $2 AND card_id IN (",
        relevant_cards!(),
        ") ORDER BY card_id, created_at, id"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(board_id).bind(bound(since)).fetch_all(c).await?))
}
