//! `GET /api/v1/platform-app/chat/unread`: the Team chat entry's badge inside Chatwoot. The
//! dashboard script holds no hub session, only instance tokens, so this is the one chat
//! route that takes one: it reads the token holder's own totals and nothing else.

use axum::{Extension, extract::State, http::HeaderMap};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Unread, store};
use crate::{
    app::state::AppState,
    auth::Authentication,
    chatwoot::platform_app::token_holder,
    platform::{
        error::{AppResult, Problem},
        json::ApiJson,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(badge))
}

/// The unread totals of the person an instance token speaks for (`unread_count_url` of the
/// platform-app config's chat entry).
#[utoipa::path(get, path = "/api/v1/platform-app/chat/unread", tag = "chat",
    responses((status = 200, body = Unread), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "feature_disabled"), (status = 404, body = Problem)))]
async fn badge(
    State(state): State<AppState>,
    headers: HeaderMap,
    authentication: Option<Extension<Authentication>>,
) -> AppResult<ApiJson<Unread>> {
    let (account, member) = token_holder(&state, &headers, authentication).await?;
    super::ensure_enabled_for(&state, account.id).await?;
    let totals = store::unread(&state.db, account.id, member.id).await?;
    Ok(ApiJson(Unread::from(totals)))
}
