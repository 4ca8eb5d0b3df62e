//! `/api/v1/accounts/{accountId}/boards/{boardId}/stages` (supervisors and admins change them).

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Kind, NewStage, Stage, check_color, check_sla, store};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    kanban::{
        self, cards, ensure_enabled,
        lock::{self, Hold},
    },
    platform::{
        clock,
        db::Tx,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::{ApiPath, ApiQuery},
        validate::Validator,
    },
    realtime::Changed,
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stages, create_stage))
        .routes(routes!(update_stage, delete_stage))
        .routes(routes!(move_stage))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageUpdate {
    pub name: Option<String>,
    pub color: Option<String>,
    /// `null` removes the SLA.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>)]
    pub sla_hours: Option<Option<i32>>,
    /// Changing it re-labels the stage's cards (open, won or lost).
    pub kind: Option<Kind>,
}

/// Tells "absent" (`None`) from "null" (`Some(None)`).
fn present<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Option<i32>>, D::Error> {
    Option::<i32>::deserialize(de).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageMove {
    /// The stage's new place, 0 for the first column (clamped to the last).
    pub position: i32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteStage {
    /// Where the stage's cards go; needed when it has any.
    pub move_cards_to: Option<Uuid>,
}

/// Holds the board to itself (stages change) and reads its stages, or 404.
async fn locked_stages(tx: &mut Tx, scope: &AccountScope, board_id: Uuid) -> AppResult<Vec<Stage>> {
    if !lock::board(tx, scope.account_id, board_id, Hold::Structure).await? {
        return Err(AppError::NotFound);
    }
    store::list(&mut *tx, scope.account_id, board_id).await
}

/// Writes positions 0..n-1 in the order given, where they changed.
async fn renumber(tx: &mut Tx, scope: &AccountScope, stages: &mut [Stage]) -> AppResult<()> {
    let now = clock::now();
    for (position, stage) in stages.iter_mut().enumerate() {
        let position = position as i32;
        if stage.position != position {
            stage.position = position;
            stage.updated_at = now;
            store::update(tx, scope.account_id, stage).await?;
        }
    }
    Ok(())
}

/// Rules that pointed at a deleted stage go with it.
async fn forget_in_rules(
    tx: &mut Tx,
    scope: &AccountScope,
    board_id: Uuid,
    stage_id: Uuid,
) -> AppResult<()> {
    let boards = crate::kanban::boards::store::get(&mut *tx, scope.account_id, board_id).await?;
    if let Some(board) = boards {
        let rules = board.rules.clone().without_stage(stage_id);
        if rules != board.rules {
            let board = crate::kanban::boards::Board {
                rules,
                version: board.version + 1,
                updated_at: clock::now(),
                ..board
            };
            crate::kanban::boards::store::update(tx, scope.account_id, &board).await?;
        }
    }
    Ok(())
}

/// The board's stages, in order.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/boards/{boardId}/stages", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path)),
    responses((status = 200, body = Vec<Stage>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_stages(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Vec<Stage>>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let board = crate::kanban::boards::store::get(&state.db, scope.account_id, path.1).await?;
    board.ok_or(AppError::NotFound)?;
    Ok(ApiJson(
        store::list(&state.db, scope.account_id, path.1).await?,
    ))
}

/// Adds a stage (at `position`, or last).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/boards/{boardId}/stages", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path)), request_body = NewStage,
    responses((status = 201, body = Stage), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_stage(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<NewStage>,
) -> AppResult<(StatusCode, ApiJson<Stage>)> {
    scope.require(Role::Supervisor)?;
    let mut v = Validator::default();
    body.check(&mut v);
    v.finish()?;
    let mut tx = state.db.begin().await?;
    ensure_enabled(&mut tx, &state, &scope).await?;
    let mut stages = locked_stages(&mut tx, &scope, path.1).await?;
    if stages.len() >= 20 {
        return Err(AppError::Conflict {
            code: "too_many_stages",
            message: "A board has at most 20 stages.".into(),
        });
    }
    let at = body
        .position
        .map_or(stages.len(), |p| (p as usize).min(stages.len()));
    let stage = body.build(path.1, at as i32, clock::now());
    store::insert(&mut tx, scope.account_id, &stage).await?;
    stages.insert(at, stage.clone());
    renumber(&mut tx, &scope, &mut stages).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "stage.created", "stage", stage.id)
            .changes(None::<&Stage>, Some(&stage)),
    )
    .await?;
    kanban::commit(&state, tx, scope.account_id, path.1, Changed::Structure).await?;
    Ok((StatusCode::CREATED, ApiJson(stage)))
}

/// Renames, recolours, sets the SLA or the kind of a stage.
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/boards/{boardId}/stages/{stageId}", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), ("stageId" = Uuid, Path)),
    request_body = StageUpdate,
    responses((status = 200, body = Stage), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update_stage(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
    ApiJson(body): ApiJson<StageUpdate>,
) -> AppResult<ApiJson<Stage>> {
    scope.require(Role::Supervisor)?;
    let (board_id, stage_id) = (path.1, path.2);
    let mut tx = state.db.begin().await?;
    ensure_enabled(&mut tx, &state, &scope).await?;
    let stages = locked_stages(&mut tx, &scope, board_id).await?;
    let before = stages
        .into_iter()
        .find(|s| s.id == stage_id)
        .ok_or(AppError::NotFound)?;
    let after = Stage {
        name: body
            .name
            .map_or_else(|| before.name.clone(), |n| n.trim().to_string()),
        color: body
            .color
            .map_or_else(|| before.color.clone(), |c| c.to_lowercase()),
        sla_hours: body.sla_hours.unwrap_or(before.sla_hours),
        kind: body.kind.unwrap_or(before.kind),
        updated_at: clock::now(),
        ..before.clone()
    };
    let mut v = Validator::default();
    v.text("name", &after.name, 80);
    check_color(&mut v, &after.color);
    check_sla(&mut v, after.sla_hours);
    v.finish()?;
    store::update(&mut tx, scope.account_id, &after).await?;
    if after.kind != before.kind {
        cards::store::set_status_in_stage(&mut tx, scope.account_id, stage_id, after.kind).await?;
    }
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "stage.updated", "stage", stage_id)
            .changes(Some(&before), Some(&after)),
    )
    .await?;
    kanban::commit(&state, tx, scope.account_id, board_id, Changed::Structure).await?;
    Ok(ApiJson(after))
}

/// Removes a stage; its cards first go to `move_cards_to` (appended there).
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/boards/{boardId}/stages/{stageId}", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), ("stageId" = Uuid, Path), DeleteStage),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn delete_stage(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
    ApiQuery(query): ApiQuery<DeleteStage>,
) -> AppResult<StatusCode> {
    scope.require(Role::Supervisor)?;
    let (board_id, stage_id) = (path.1, path.2);
    let mut tx = state.db.begin().await?;
    ensure_enabled(&mut tx, &state, &scope).await?;
    let mut stages = locked_stages(&mut tx, &scope, board_id).await?;
    let index = stages
        .iter()
        .position(|s| s.id == stage_id)
        .ok_or(AppError::NotFound)?;
    if stages.len() == 1 {
        return Err(AppError::Conflict {
            code: "last_stage",
            message: "A board keeps at least one stage.".into(),
        });
    }
    let has_cards = cards::store::top_rank(&mut tx, scope.account_id, stage_id).await?;
    if has_cards.is_some() {
        let target = query
            .move_cards_to
            .filter(|t| *t != stage_id)
            .and_then(|t| stages.iter().find(|s| s.id == t))
            .ok_or_else(|| AppError::Conflict {
                code: "stage_not_empty",
                message: "The stage has cards; say where they go with ?move_cards_to=<stageId>."
                    .into(),
            })?;
        cards::moves::append_stage(&mut tx, &scope, &stages[index], target).await?;
    }
    let removed = stages.remove(index);
    store::delete(&mut tx, scope.account_id, stage_id).await?;
    forget_in_rules(&mut tx, &scope, board_id, stage_id).await?;
    renumber(&mut tx, &scope, &mut stages).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "stage.deleted", "stage", stage_id)
            .changes(Some(&removed), None::<&Stage>),
    )
    .await?;
    kanban::commit(&state, tx, scope.account_id, board_id, Changed::Structure).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a stage to another place in the board's order (dragging a column).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/boards/{boardId}/stages/{stageId}/move", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), ("stageId" = Uuid, Path)),
    request_body = StageMove,
    responses((status = 200, body = Vec<Stage>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn move_stage(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
    ApiJson(body): ApiJson<StageMove>,
) -> AppResult<ApiJson<Vec<Stage>>> {
    scope.require(Role::Supervisor)?;
    if body.position < 0 {
        return Err(AppError::validation("position", "must not be negative"));
    }
    let (board_id, stage_id) = (path.1, path.2);
    let mut tx = state.db.begin().await?;
    ensure_enabled(&mut tx, &state, &scope).await?;
    let mut stages = locked_stages(&mut tx, &scope, board_id).await?;
    let from = stages
        .iter()
        .position(|s| s.id == stage_id)
        .ok_or(AppError::NotFound)?;
    let before: Vec<Uuid> = stages.iter().map(|s| s.id).collect();
    let stage = stages.remove(from);
    let to = (body.position as usize).min(stages.len());
    stages.insert(to, stage);
    renumber(&mut tx, &scope, &mut stages).await?;
    let after: Vec<Uuid> = stages.iter().map(|s| s.id).collect();
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "stage.moved", "stage", stage_id)
            .changes(Some(&before), Some(&after)),
    )
    .await?;
    kanban::commit(&state, tx, scope.account_id, board_id, Changed::Structure).await?;
    Ok(ApiJson(stages))
}
