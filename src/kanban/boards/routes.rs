//! `/api/v1/accounts/{accountId}/boards`.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Board, BoardDetail, CustomField, Draft, Rules, Settings, store};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    entitlements::{self, Resource},
    kanban::{
        self, ensure_enabled,
        lock::{self, Hold},
        stages::{self, NewStage},
        version_conflict,
    },
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
        validate::Validator,
    },
    realtime::Changed,
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_boards, create_board))
        .routes(routes!(get_board, update_board, archive_board))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBoard {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Default `BRL`.
    pub currency: Option<String>,
    #[serde(default)]
    pub inbox_ids: Vec<i64>,
    #[serde(default)]
    pub custom_fields: Vec<CustomField>,
    /// The pipeline, in order; by default New, In progress, Waiting, Won and Lost.
    pub stages: Option<Vec<NewStage>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardUpdate {
    /// The version this change was based on; a stale one answers 409 `version_conflict`.
    pub version: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub currency: Option<String>,
    pub inbox_ids: Option<Vec<i64>>,
    pub custom_fields: Option<Vec<CustomField>>,
    /// How Chatwoot's events move cards; stage ids must be this board's.
    pub rules: Option<Rules>,
}

/// The account's boards.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/boards", tag = "kanban",
    params(("accountId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<Board>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_boards(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(page): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<Board>>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let page = page.parse()?;
    let rows = store::list(&state.db, scope.account_id, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |b| b.id)))
}

/// Creates a board with its stages (supervisors and admins); counts against `max_boards`.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/boards", tag = "kanban",
    params(("accountId" = Uuid, Path)), request_body = NewBoard,
    responses((status = 201, body = BoardDetail), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn create_board(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<NewBoard>,
) -> AppResult<(StatusCode, ApiJson<BoardDetail>)> {
    scope.require(Role::Supervisor)?;
    let currency = body.currency.unwrap_or_else(|| "BRL".into());
    let new_stages = body.stages.unwrap_or_else(super::default_stages);
    let mut v = Validator::default();
    let settings = Settings {
        name: &body.name,
        description: &body.description,
        currency: &currency,
        inbox_ids: &body.inbox_ids,
        custom_fields: &body.custom_fields,
    };
    settings.check(&mut v);
    v.check(
        (1..=20).contains(&new_stages.len()),
        "stages",
        "a board has 1 to 20 stages",
    );
    for stage in &new_stages {
        stage.check(&mut v);
    }
    v.finish()?;

    let mut tx = state.db.begin().await?;
    ensure_enabled(&mut tx, &state, &scope).await?;
    entitlements::ensure_capacity(
        &mut tx,
        &state.config.plan_defaults,
        scope.account_id,
        Resource::Boards,
    )
    .await?;
    let draft = Draft {
        name: body.name.trim().into(),
        description: body.description.trim().into(),
        currency,
        inbox_ids: body.inbox_ids,
        custom_fields: body.custom_fields,
        stages: new_stages,
    };
    let detail = super::create(&mut tx, scope.account_id, draft).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "board.created", "board", detail.board.id)
            .changes(None::<&BoardDetail>, Some(&detail)),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(detail)))
}

/// One board with its stages.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/boards/{boardId}", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path)),
    responses((status = 200, body = BoardDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_board(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<BoardDetail>> {
    let board_id = path.1;
    ensure_enabled(&state.db, &state, &scope).await?;
    let board = store::get(&state.db, scope.account_id, board_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let stages = stages::store::list(&state.db, scope.account_id, board_id).await?;
    Ok(ApiJson(BoardDetail { board, stages }))
}

/// Changes a board (supervisors and admins).
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/boards/{boardId}", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path)), request_body = BoardUpdate,
    responses((status = 200, body = Board), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_board(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<BoardUpdate>,
) -> AppResult<ApiJson<Board>> {
    let board_id = path.1;
    scope.require(Role::Supervisor)?;
    let mut tx = state.db.begin().await?;
    ensure_enabled(&mut tx, &state, &scope).await?;
    if !lock::board(&mut tx, scope.account_id, board_id, Hold::Structure).await? {
        return Err(AppError::NotFound);
    }
    let before = store::get(&mut tx, scope.account_id, board_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if body.version.is_some_and(|v| v != before.version) {
        return Err(version_conflict(before.version));
    }
    let mut after = Board {
        name: body
            .name
            .map_or_else(|| before.name.clone(), |n| n.trim().to_string()),
        description: body
            .description
            .map_or_else(|| before.description.clone(), |d| d.trim().to_string()),
        currency: body.currency.unwrap_or_else(|| before.currency.clone()),
        inbox_ids: body.inbox_ids.unwrap_or_else(|| before.inbox_ids.clone()),
        custom_fields: body
            .custom_fields
            .unwrap_or_else(|| before.custom_fields.clone()),
        rules: body.rules.unwrap_or_else(|| before.rules.clone()),
        version: before.version + 1,
        updated_at: clock::now(),
        ..before.clone()
    };
    let mut v = Validator::default();
    let settings = Settings {
        name: &after.name,
        description: &after.description,
        currency: &after.currency,
        inbox_ids: &after.inbox_ids,
        custom_fields: &after.custom_fields,
    };
    settings.check(&mut v);
    let stages = stages::store::list(&mut tx, scope.account_id, board_id).await?;
    after.rules.check(&mut v, &stages);
    v.finish()?;
    store::update(&mut tx, scope.account_id, &after).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "board.updated", "board", board_id)
            .changes(Some(&before), Some(&after)),
    )
    .await?;
    after.revision =
        kanban::commit(&state, tx, scope.account_id, board_id, Changed::Structure).await?;
    Ok(ApiJson(after))
}

/// Archives a board and its cards (admins); it stops counting against `max_boards`.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/boards/{boardId}", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn archive_board(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    let board_id = path.1;
    scope.require(Role::Admin)?;
    let mut tx = state.db.begin().await?;
    ensure_enabled(&mut tx, &state, &scope).await?;
    if !lock::board(&mut tx, scope.account_id, board_id, Hold::Structure).await? {
        return Err(AppError::NotFound);
    }
    store::archive(&mut tx, scope.account_id, board_id, clock::now()).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "board.archived", "board", board_id),
    )
    .await?;
    kanban::commit(&state, tx, scope.account_id, board_id, Changed::Structure).await?;
    Ok(StatusCode::NO_CONTENT)
}
