use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::store;
use crate::{
    app::state::AppState,
    platform::{
        error::AppResult,
        json::ApiJson,
        pagination::{Page, PageParams},
        params::ApiQuery,
        time_input,
    },
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_logs))
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditLog {
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    /// `user`, `api_key`, `cli` or `anonymous`.
    pub actor_type: String,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    #[sqlx(json(nullable))]
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[sqlx(json(nullable))]
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only entries by this user id.
    pub actor: Option<Uuid>,
    /// Exact action, for example `team.created`.
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// RFC 3339; entries at or after this time.
    #[serde(default, deserialize_with = "time_input::option")]
    pub from: Option<OffsetDateTime>,
    /// RFC 3339; entries before this time.
    #[serde(default, deserialize_with = "time_input::option")]
    pub to: Option<OffsetDateTime>,
}

/// The account's audit log, newest first (admins).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/audit-logs", tag = "audit",
    params(("accountId" = Uuid, Path), AuditFilter, PageParams),
    responses((status = 200, body = Page<AuditLog>), (status = 403, body = crate::platform::error::Problem)))]
async fn list_audit_logs(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(filter): ApiQuery<AuditFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<AuditLog>>> {
    scope.require(Role::Admin)?;
    let page = page.parse()?;
    let rows = store::list(&state.db, scope.account_id, &filter, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |row| row.id)))
}
