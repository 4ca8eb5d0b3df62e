//! The Kanban CRM: boards, their stages, cards and each card's history. Boards count
//! against the plan's `max_boards`; the whole module answers 403 `feature_disabled` when
//! the plan turns `kanban_enabled` off. Structure (boards, stages) is for supervisors and
//! admins; every member works cards.

pub mod boards;
pub mod cards;
pub mod follow;
mod links;
mod lock;
pub mod metrics;
pub mod reconcile;
pub mod stages;
pub mod writeback;

use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::{
    app::state::AppState,
    platform::{
        db::{Conn, Tx},
        error::{AppError, AppResult},
    },
    realtime::Changed,
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(boards::router())
        .merge(stages::router())
        .merge(cards::router())
        .merge(metrics::router())
        .merge(reconcile::router())
}

/// Refuses the Kanban to accounts whose plan does not include it.
pub async fn ensure_enabled(
    conn: impl Into<Conn<'_>>,
    state: &AppState,
    scope: &AccountScope,
) -> AppResult<()> {
    let plan = state
        .plans
        .effective(conn, &state.config.plan_defaults, scope)
        .await?;
    if plan.features.kanban_enabled {
        Ok(())
    } else {
        Err(AppError::FeatureDisabled { feature: "kanban" })
    }
}

/// A stale `version` in an update: someone changed the resource since it was read.
pub fn version_conflict(current: i64) -> AppError {
    AppError::Conflict {
        code: "version_conflict",
        message: format!(
            "This was changed by someone else (now at version {current}); reload and try again."
        ),
    }
}

/// Commits a change to a board, moving its revision on in the same transaction, and
/// announces it to every open copy of the board. Answers the board's new revision.
pub async fn commit(
    state: &AppState,
    mut tx: Tx,
    account_id: Uuid,
    board_id: Uuid,
    what: Changed,
) -> AppResult<i64> {
    let change = boards::store::touch(&mut tx, account_id, board_id, what).await?;
    let revision = change.revision;
    tx.commit().await?;
    state.realtime.announce(change);
    Ok(revision)
}
