//! `GET …/chat/presence`: who in the account has the chat open right now (ADR 27). A socket
//! is sent the same when it connects, then the changes; this serves a page without one.

use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::ensure_enabled;
use crate::{
    app::state::AppState,
    platform::{
        error::{AppResult, Problem},
        json::ApiJson,
    },
    realtime::PresenceSnapshot,
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(presence))
}

/// The account's people online and away (everyone else is offline), ids sorted.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chat/presence", tag = "chat",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = PresenceSnapshot),
        (status = 403, body = Problem, description = "feature_disabled"), (status = 404, body = Problem)))]
async fn presence(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<PresenceSnapshot>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    Ok(ApiJson(
        state.realtime.presence().snapshot(scope.account_id),
    ))
}
