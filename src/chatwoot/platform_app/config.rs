use axum::{Extension, extract::State, http::HeaderMap};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    app::state::AppState,
    auth::{
        Authentication,
        instance_tokens::{self, request_origin},
        invalid_token,
    },
    entitlements,
    platform::{
        error::{AppError, AppResult, Problem},
        json::ApiJson,
    },
    tenancy::{accounts, users},
};

/// Bumped when the dashboard script's behaviour changes; part of its URL's cache key.
pub const SCRIPT_VERSION: &str = "1";

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(config))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MenuEntry {
    /// `kanban` or `chat`.
    pub key: &'static str,
    pub label: &'static str,
    pub url: String,
    /// Where the script reads this entry's unread count (`{"count": n}`); `null` when the
    /// entry has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_count_url: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    pub id: Uuid,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformAppConfig {
    pub hub_origin: String,
    /// `PUBLIC_URL`: the hub's origin plus the path it is mounted under.
    pub hub_base_url: String,
    pub script_version: &'static str,
    pub account_id: Uuid,
    pub chatwoot_account_id: Option<i64>,
    pub user: UserSummary,
    /// The entries the account's plan and feature flags enable.
    pub menu: Vec<MenuEntry>,
    /// The conversation tab registered as a Chatwoot Dashboard App.
    pub dashboard_app_url: String,
    /// Chatwoot origins allowed to frame the UI and talk to it.
    pub allowed_origins: Vec<String>,
}

/// Whom the dashboard script's instance token speaks for: an active account and an active
/// member of it (401 without a usable token, from another origin included; 404 otherwise).
pub async fn token_holder(
    state: &AppState,
    headers: &HeaderMap,
    authentication: Option<Extension<Authentication>>,
) -> AppResult<(accounts::Account, users::Member)> {
    let Some(Extension(Authentication::InstanceToken { hash })) = authentication else {
        return Err(AppError::Unauthorized {
            code: "unauthenticated",
            message: "Send the instance token as `Authorization: Bearer wphi_…`.",
        });
    };
    let origin = request_origin(headers)?;
    let row = instance_tokens::store::find(&state.db, &hash)
        .await?
        .filter(|row| instance_tokens::is_usable(row, origin))
        .ok_or_else(invalid_token)?;
    let account = accounts::store::get(&state.db, row.account_id)
        .await?
        .filter(|a| a.status == "active")
        .ok_or(AppError::NotFound)?;
    let member = users::store::get(&state.db, row.account_id, row.user_id)
        .await?
        .filter(|m| m.active)
        .ok_or(AppError::NotFound)?;
    Ok((account, member))
}

/// What the dashboard script needs for this account and user.
#[utoipa::path(get, path = "/api/v1/platform-app/config", tag = "chatwoot",
    responses((status = 200, body = PlatformAppConfig), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn config(
    State(state): State<AppState>,
    headers: HeaderMap,
    authentication: Option<Extension<Authentication>>,
) -> AppResult<ApiJson<PlatformAppConfig>> {
    let (account, member) = token_holder(&state, &headers, authentication).await?;
    let account_id = account.id;
    let features =
        entitlements::store::effective(&state.db, &state.config.plan_defaults, account_id)
            .await?
            .features;

    let base = state.config.public_url.clone();
    let mut menu = Vec::new();
    if features.kanban_enabled {
        menu.push(MenuEntry {
            key: "kanban",
            label: "Kanban",
            url: format!("{base}/embedded/kanban"),
            unread_count_url: None,
        });
    }
    if features.internal_chat_enabled {
        menu.push(MenuEntry {
            key: "chat",
            label: "Team chat",
            url: format!("{base}/embedded/chat"),
            unread_count_url: Some(Some(format!("{base}/api/v1/platform-app/chat/unread"))),
        });
    }
    let allowed_origins = account
        .chatwoot_installation_id
        .and_then(|id| state.installations.by_id(id))
        .map(|known| known.installation.origins.clone())
        .unwrap_or_default();
    Ok(ApiJson(PlatformAppConfig {
        hub_origin: state.config.public_origin(),
        hub_base_url: base.clone(),
        script_version: SCRIPT_VERSION,
        account_id,
        chatwoot_account_id: account.chatwoot_account_id,
        user: UserSummary {
            id: member.id,
            name: member.name,
            role: member.role,
        },
        menu,
        dashboard_app_url: format!("{base}/embedded/conversation"),
        allowed_origins,
    }))
}
