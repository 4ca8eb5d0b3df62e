//! `/api/v1/accounts/{accountId}/boards/{boardId}/metrics` (every member reads them).

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{BoardMetrics, History, Window, compute, store};
use crate::{
    app::state::AppState,
    kanban::{boards, ensure_enabled, stages},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::{ApiPath, ApiQuery},
    },
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(board_metrics))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Start of the window, RFC 3339 (default: 30 days before `to`).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// End of the window, exclusive, RFC 3339 (default: now, the current second included); at
    /// most 366 days after `from`.
    #[param(format = DateTime)]
    pub to: Option<String>,
}

/// The board's flow and SLA metrics over a window, computed from the cards' history.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/boards/{boardId}/metrics", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), MetricsQuery),
    responses((status = 200, body = BoardMetrics), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn board_metrics(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> AppResult<ApiJson<BoardMetrics>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let board_id = path.1;
    let board = boards::store::get(&state.db, scope.account_id, board_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = clock::now();
    let window = Window::parse(query.from.as_deref(), query.to.as_deref(), now)?;
    let history = History {
        stages: stages::store::list(&state.db, scope.account_id, board_id).await?,
        cards: store::cards(&state.db, scope.account_id, board_id, window.from).await?,
        events: store::events(&state.db, scope.account_id, board_id, window.from).await?,
    };
    Ok(ApiJson(compute(
        board_id,
        &board.currency,
        &history,
        window,
        now,
    )))
}
