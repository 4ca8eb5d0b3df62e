//! `/api/v1/accounts/{accountId}/chatwoot/…`: connect, status, disconnect (admins).

use axum::extract::State;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ConnectReport, ConnectionStatus, DisconnectReport, TokenSource};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    platform::{
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        validate::Validator,
    },
    tenancy::{AccountScope, Role, accounts},
};

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(connect))
        .routes(utoipa_axum::routes!(status))
        .routes(utoipa_axum::routes!(disconnect))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    /// A personal access token of an administrator of the Chatwoot account.
    pub chatwoot_api_token: Option<String>,
    /// Use the installation's platform-app token instead (the default without a token).
    pub use_platform_token: Option<bool>,
}

async fn account(state: &AppState, scope: &AccountScope) -> AppResult<accounts::Account> {
    accounts::store::get(&state.db, scope.account_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Connects the account to its Chatwoot account (admins); safe to repeat.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chatwoot/connect", tag = "chatwoot",
    params(("accountId" = Uuid, Path)), request_body = ConnectRequest,
    responses((status = 200, body = ConnectReport), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn connect(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<ConnectRequest>,
) -> AppResult<ApiJson<ConnectReport>> {
    scope.require(Role::Admin)?;
    let source = match (body.chatwoot_api_token, body.use_platform_token) {
        (Some(token), None | Some(false)) => {
            Validator::default()
                .text("chatwoot_api_token", &token, 200)
                .finish()?;
            TokenSource::AccessToken(SecretString::from(token.trim().to_string()))
        }
        (None, None | Some(true)) => TokenSource::Platform,
        _ => {
            return Err(AppError::validation(
                "chatwoot_api_token",
                "send chatwoot_api_token or use_platform_token, not both",
            ));
        }
    };
    let account = account(&state, &scope).await?;
    let report = super::connect(&state, &account, source).await?;
    audit::record_alone(
        &state.db,
        AuditEntry::new(
            &scope,
            "chatwoot.connected",
            "chatwoot_connection",
            scope.account_id,
        )
        .changes(None::<&ConnectReport>, Some(&report)),
    )
    .await?;
    Ok(ApiJson(report))
}

/// The connection's health, its registrations in Chatwoot and the last sync (admins).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chatwoot/status", tag = "chatwoot",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = ConnectionStatus), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn status(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<ConnectionStatus>> {
    scope.require(Role::Admin)?;
    let account = account(&state, &scope).await?;
    Ok(ApiJson(super::status(&state, &account).await?))
}

/// Removes the hub's webhook and Dashboard App from Chatwoot (admins); safe to repeat.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chatwoot/disconnect", tag = "chatwoot",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = DisconnectReport), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn disconnect(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<DisconnectReport>> {
    scope.require(Role::Admin)?;
    let account = account(&state, &scope).await?;
    let report = super::disconnect(&state, &account).await?;
    audit::record_alone(
        &state.db,
        AuditEntry::new(
            &scope,
            "chatwoot.disconnected",
            "chatwoot_connection",
            scope.account_id,
        )
        .changes(None::<&DisconnectReport>, Some(&report)),
    )
    .await?;
    Ok(ApiJson(report))
}
