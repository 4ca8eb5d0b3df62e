//! Placing cards. A stage's cards are ordered by rank (then id), and the position the API
//! shows is counted from that order, so positions are 0..n-1 by construction and placing
//! a card writes that card alone: writers share the board (ADR 13). A place between two
//! cards takes a rank in the middle half of the room between theirs, at random, so writers
//! racing for one spot seldom take the same rank; when there is no room left (after 15 to
//! 77 placements at one spot, about 30 on average), the caller gives up its transaction,
//! the stage is spread `GAP` apart again with the board to itself, and the caller tries
//! once more.

use uuid::Uuid;

use super::{
    history::{self, Actor, Event},
    store,
};
use crate::{
    kanban::{
        lock::{self, Hold},
        stages::{Kind, Stage},
    },
    platform::{
        clock,
        db::{Db, Tx},
        error::{AppError, AppResult},
    },
    tenancy::AccountScope,
};

/// The distance between neighbouring ranks when a stage is (re)numbered or a card goes to
/// either end.
pub const GAP: i64 = 1 << 32;

/// How many times a write tries to place a card before it gives up (each failed try
/// spreads the stage first).
const ATTEMPTS: usize = 5;

/// Where a card goes in a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub rank: i64,
    pub position: i32,
}

/// A stage with no rank left between the two cards around the wanted place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crowded(pub Uuid);

/// The slot at `wanted` in a stage (clamped to it; the bottom when `None`), among the
/// stage's live cards other than `moving`.
pub async fn slot(
    tx: &mut Tx,
    account_id: Uuid,
    stage_id: Uuid,
    wanted: Option<i32>,
    moving: Option<Uuid>,
) -> AppResult<Result<Slot, Crowded>> {
    let Some(wanted) = wanted.map(|p| p.max(0)) else {
        return Ok(Ok(bottom(tx, account_id, stage_id, moving).await?));
    };
    let (offset, limit) = if wanted == 0 { (0, 1) } else { (wanted - 1, 2) };
    let around = store::ranks_from(tx, account_id, stage_id, moving, (offset, limit)).await?;
    let rank = match (wanted, around.as_slice()) {
        (0, [first]) => first.checked_sub(step()),
        (_, [before, after]) => between(*before, *after),
        (_, [last]) if wanted > 0 => last.checked_add(step()),
        // An empty stage, or a place past its end.
        _ => return Ok(Ok(bottom(tx, account_id, stage_id, moving).await?)),
    };
    Ok(rank
        .map(|rank| Slot {
            rank,
            position: wanted,
        })
        .ok_or(Crowded(stage_id)))
}

/// The slot after the stage's last live card other than `moving`.
pub async fn bottom(
    tx: &mut Tx,
    account_id: Uuid,
    stage_id: Uuid,
    moving: Option<Uuid>,
) -> AppResult<Slot> {
    let (last, count) = store::bottom(tx, account_id, stage_id, moving).await?;
    Ok(Slot {
        rank: below(last),
        position: i32::try_from(count).unwrap_or(i32::MAX),
    })
}

/// The rank below the stage's last live card, without counting the cards (what Chatwoot's
/// events use: they never show a position).
pub async fn bottom_rank(tx: &mut Tx, account_id: Uuid, stage_id: Uuid) -> AppResult<i64> {
    let last = store::last_rank(tx, account_id, stage_id).await?;
    Ok(below(last))
}

/// The rank below `last` (an empty stage starts at `GAP`). Saturating: a stage appended to
/// 2^32 times keeps its order by id at the end.
fn below(last: Option<i64>) -> i64 {
    last.map_or(GAP, |r| r.saturating_add(step()))
}

/// How far past either end of a stage a card goes: about `GAP`, never the same twice in a
/// row, so cards appended at once still have room between them.
fn step() -> i64 {
    rand::random_range(GAP / 2..=GAP)
}

/// A rank strictly between two neighbours, in the middle half of the room between them,
/// if there is any room.
fn between(before: i64, after: i64) -> Option<i64> {
    let distance = after.checked_sub(before)?;
    if distance < 2 {
        return None;
    }
    let margin = (distance / 4).max(1);
    Some(rand::random_range(before + margin..=after - margin))
}

/// Spreads a crowded stage `GAP` apart, with the board to itself, in a transaction of its
/// own: the caller's, which held the board shared, has ended. Positions do not change,
/// so the board's revision does not either.
async fn spread(
    db: &Db,
    account_id: Uuid,
    board_id: Uuid,
    Crowded(stage_id): Crowded,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    lock::hold(&mut tx, board_id, Hold::Structure).await?;
    store::renumber(&mut tx, account_id, stage_id, GAP).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs `attempt` (a whole transaction placing a card) until it finds room, spreading the
/// stage it found crowded before each new try.
pub async fn with_room<T, F, Fut>(
    db: &Db,
    account_id: Uuid,
    board_id: Uuid,
    mut attempt: F,
) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AppResult<Result<T, Crowded>>>,
{
    for _ in 0..ATTEMPTS {
        match attempt().await? {
            Ok(done) => return Ok(done),
            Err(crowded) => spread(db, account_id, board_id, crowded).await?,
        }
    }
    // Other writers kept filling the same spot.
    Err(AppError::Conflict {
        code: "stage_busy",
        message: "Too many cards are being placed at this spot right now; try again.".into(),
    })
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

/// Moves every card of `from` to the end of `to` (a stage being deleted), keeping their
/// order, with a history event for each. The caller holds the board's structure.
pub async fn append_stage(
    tx: &mut Tx,
    scope: &AccountScope,
    from: &Stage,
    to: &Stage,
) -> AppResult<()> {
    let moving = store::ids_in_stage(tx, scope.account_id, from.id).await?;
    let Some(first) = store::top_rank(tx, scope.account_id, from.id).await? else {
        return Ok(());
    };
    let end = bottom_rank(tx, scope.account_id, to.id).await?;
    store::append_stage(
        tx,
        scope.account_id,
        from.id,
        to.id,
        end.saturating_sub(first),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn between_stays_strictly_inside_or_gives_nothing() {
        for (before, after) in [
            (0, GAP),
            (-GAP, GAP),
            (4, 6),
            (4, 7),
            (i64::MAX - 9, i64::MAX),
        ] {
            for _ in 0..100 {
                let rank = between(before, after).expect("room");
                assert!(before < rank && rank < after, "{before} < {rank} < {after}");
            }
        }
        assert_eq!(between(4, 6), Some(5));
        assert_eq!(between(4, 5), None);
        assert_eq!(between(7, 7), None);
        assert_eq!(between(i64::MIN, i64::MAX), None);
    }

    #[test]
    fn a_gap_takes_at_least_fifteen_cards_at_one_spot() {
        // Each placement keeps at least a quarter of the room: 2^32 / 4^15 is still 4.
        for _ in 0..100 {
            let (mut before, after) = (GAP, 2 * GAP);
            for _ in 0..15 {
                before = between(before, after).expect("room left");
            }
        }
    }
}
