//! Placing cards: every write to a position runs under the board's lock (taken by the
//! caller), so a stage's positions stay 0..n-1 whatever runs concurrently.

use uuid::Uuid;

use super::{
    Card,
    history::{self, Actor, Event},
    store,
};
use crate::{
    kanban::stages::{Kind, Stage},
    platform::{clock, db::Tx, error::AppResult},
    tenancy::AccountScope,
};

/// Where a new card of `stage` goes: `wanted`, clamped to the stage, or the end; the cards
/// below it move down one.
pub async fn make_room(
    tx: &mut Tx,
    account_id: Uuid,
    stage_id: Uuid,
    wanted: Option<i32>,
) -> AppResult<i32> {
    let count = store::count_in_stage(tx, account_id, stage_id).await? as i32;
    let position = wanted.map_or(count, |p| p.clamp(0, count));
    store::shift(tx, account_id, stage_id, position, 1).await?;
    Ok(position)
}

/// Takes a card out of its stage's order (its place closes up); it is then at -1 until
/// placed again or archived.
pub async fn take_out(tx: &mut Tx, account_id: Uuid, card: &Card) -> AppResult<()> {
    store::shift(tx, account_id, card.stage_id, card.position + 1, -1).await
}

/// What a move means for the card's history.
pub fn move_kind(from: Kind, to: Kind) -> &'static str {
    match (from, to) {
        (Kind::Won, Kind::Won) | (Kind::Lost, Kind::Lost) | (Kind::Open, Kind::Open) => "moved",
        (_, Kind::Won) => "won",
        (_, Kind::Lost) => "lost",
        (_, Kind::Open) => "reopened",
    }
}

/// Moves every card of `from` to the end of `to` (a stage being deleted), with a history
/// event for each.
pub async fn append_stage(
    tx: &mut Tx,
    scope: &AccountScope,
    from: &Stage,
    to: &Stage,
) -> AppResult<()> {
    let moving = store::ids_in_stage(tx, scope.account_id, from.id).await?;
    let offset = store::count_in_stage(tx, scope.account_id, to.id).await?;
    store::append_stage(
        tx,
        scope.account_id,
        from.id,
        to.id,
        offset,
        to.kind,
        clock::now(),
    )
    .await?;
    for card_id in moving {
        let event = Event {
            account_id: scope.account_id,
            board_id: from.board_id,
            card_id,
            kind: move_kind(from.kind, to.kind),
            from_stage_id: Some(from.id),
            to_stage_id: Some(to.id),
            actor: Actor::from(scope),
            reason: None,
            changes: None,
        };
        history::record(tx, event).await?;
    }
    Ok(())
}
