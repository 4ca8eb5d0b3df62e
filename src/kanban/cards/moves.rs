//! Placing cards: every write to a position runs under the board's lock (taken by the
//! caller), so a stage's positions stay 0..n-1 whatever runs concurrently.

use std::cmp::Ordering;

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
    let count = store::next_position(tx, account_id, stage_id).await?;
    let position = wanted.map_or(count, |p| p.clamp(0, count));
    if position < count {
        store::shift(tx, account_id, stage_id, (position, None), 1).await?;
    }
    Ok(position)
}

/// Takes a card out of its stage's order: the cards below it move up one. The caller then
/// places it elsewhere or archives it.
pub async fn take_out(tx: &mut Tx, account_id: Uuid, card: &Card) -> AppResult<()> {
    store::shift(tx, account_id, card.stage_id, (card.position + 1, None), -1).await
}

/// Where `card` goes in `to` at `wanted` (clamped to the stage; the bottom when `None`):
/// its new position, with the cards between its old and new place shifted by one. Within
/// a stage only the cards in between move, in one statement.
pub async fn relocate(
    tx: &mut Tx,
    account_id: Uuid,
    card: &Card,
    to: Uuid,
    wanted: Option<i32>,
) -> AppResult<i32> {
    if card.stage_id != to {
        take_out(tx, account_id, card).await?;
        return make_room(tx, account_id, to, wanted).await;
    }
    let last = store::next_position(tx, account_id, to).await? - 1;
    let position = wanted.map_or(last, |p| p.clamp(0, last));
    let old = card.position;
    match position.cmp(&old) {
        Ordering::Less => store::shift(tx, account_id, to, (position, Some(old - 1)), 1).await?,
        Ordering::Greater => {
            store::shift(tx, account_id, to, (old + 1, Some(position)), -1).await?;
        }
        Ordering::Equal => {}
    }
    Ok(position)
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
    let offset = store::next_position(tx, scope.account_id, to.id).await?;
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
