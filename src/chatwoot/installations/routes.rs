//! `/api/v1/chatwoot/installations`: the installations beyond the environment's, managed
//! by super admins.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{APP_SECRET, Installation, PLATFORM_TOKEN, store};
use crate::{
    app::{config::origin_of, state::AppState},
    audit::{self, Actor, AuditEntry},
    auth::{CurrentUser, opaque},
    platform::{
        db::Tx,
        error::{AppError, AppResult, Problem, conflict_on_unique},
        json::ApiJson,
        params::ApiPath,
        validate::Validator,
    },
};

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(
            list_installations,
            create_installation
        ))
        .routes(utoipa_axum::routes!(
            update_installation,
            delete_installation
        ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstallation {
    pub name: String,
    /// Where Chatwoot's API answers, e.g. `https://chat.example.com`.
    pub base_url: String,
    /// Browser origins of its dashboard (default: the origin of `base_url`).
    pub origins: Option<Vec<String>>,
    pub platform_token: Option<String>,
    /// `false` for Chatwoot before 4.11.2 (default `true`).
    pub signs_webhooks: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstallation {
    pub name: Option<String>,
    pub origins: Option<Vec<String>>,
    /// A new token, or `""` to remove it.
    pub platform_token: Option<String>,
    pub signs_webhooks: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInstallation {
    #[serde(flatten)]
    pub installation: Installation,
    /// Signs platform-app events for this installation. Shown once.
    pub app_secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstallationList {
    pub items: Vec<Installation>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct InstallationPath {
    #[serde(rename = "installationId")]
    installation_id: Uuid,
}

fn super_admin(user: &CurrentUser) -> AppResult<()> {
    if user.is_super_admin {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

fn check_origins(v: &mut Validator, origins: &[String]) {
    v.check(
        (1..=10).contains(&origins.len()),
        "origins",
        "must list 1 to 10 origins",
    );
    for origin in origins {
        v.check(
            origin_of(origin).as_deref() == Some(origin.as_str()),
            "origins",
            "must be exact origins like https://chat.example.com",
        );
    }
}

/// Lists the Chatwoot installations (super admin).
#[utoipa::path(get, path = "/api/v1/chatwoot/installations", tag = "chatwoot",
    responses((status = 200, body = InstallationList), (status = 403, body = Problem)))]
async fn list_installations(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<ApiJson<InstallationList>> {
    super_admin(&user)?;
    Ok(ApiJson(InstallationList {
        items: store::list(&state.db).await?,
    }))
}

/// Adds a Chatwoot installation (super admin). The answer shows its app secret once.
#[utoipa::path(post, path = "/api/v1/chatwoot/installations", tag = "chatwoot",
    request_body = CreateInstallation,
    responses((status = 201, body = CreatedInstallation), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_installation(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CreateInstallation>,
) -> AppResult<(StatusCode, ApiJson<CreatedInstallation>)> {
    super_admin(&user)?;
    let base_url = body.base_url.trim().trim_end_matches('/').to_string();
    let origins = match body.origins {
        Some(origins) => origins,
        None => origin_of(&base_url).into_iter().collect(),
    };
    let mut v = Validator::default();
    v.text("name", &body.name, 120).url("base_url", &base_url);
    check_origins(&mut v, &origins);
    if let Some(token) = &body.platform_token {
        v.text("platform_token", token, 200);
    }
    v.finish()?;

    let app_secret = opaque::new_shared_secret();
    let id = Uuid::now_v7();
    let new = store::NewInstallation {
        id,
        name: body.name.trim(),
        base_url: &base_url,
        origins: &origins,
        platform_token: body
            .platform_token
            .as_deref()
            .map(|t| state.vault.seal(PLATFORM_TOKEN, t.trim())),
        app_secret: state.vault.seal(APP_SECRET, &app_secret),
        signs_webhooks: body.signs_webhooks.unwrap_or(true),
    };
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, &new)
        .await
        .map_err(conflict_on_unique(
            "installation_exists",
            "An installation with this base URL exists.",
        ))?;
    let installation = store::get_in(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            Actor::from(&user),
            None,
            "chatwoot_installation.created",
            "chatwoot_installation",
            id,
        )
        .changes(None::<&Installation>, Some(&installation)),
    )
    .await?;
    tx.commit().await?;
    state.installations.reload(&state.db).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedInstallation {
            installation,
            app_secret,
        }),
    ))
}

/// Changes an installation (super admin); the environment's is managed by `CHATWOOT_*`.
#[utoipa::path(patch, path = "/api/v1/chatwoot/installations/{installationId}", tag = "chatwoot",
    params(InstallationPath), request_body = UpdateInstallation,
    responses((status = 200, body = Installation), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_installation(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(path): ApiPath<InstallationPath>,
    ApiJson(body): ApiJson<UpdateInstallation>,
) -> AppResult<ApiJson<Installation>> {
    super_admin(&user)?;
    let mut tx = state.db.begin().await?;
    let before = editable(&mut tx, path.installation_id).await?;
    let name = body.name.unwrap_or_else(|| before.name.clone());
    let origins = body.origins.unwrap_or_else(|| before.origins.clone());
    let mut v = Validator::default();
    v.text("name", &name, 120);
    check_origins(&mut v, &origins);
    v.finish()?;
    let changes = store::Changes {
        name: name.trim(),
        origins: &origins,
        platform_token: body.platform_token.map(|t| {
            Some(t.trim())
                .filter(|t| !t.is_empty())
                .map(|t| state.vault.seal(PLATFORM_TOKEN, t))
        }),
        signs_webhooks: body.signs_webhooks.unwrap_or(before.signs_webhooks),
    };
    store::update(&mut tx, path.installation_id, &changes).await?;
    let after = store::get_in(&mut tx, path.installation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            Actor::from(&user),
            None,
            "chatwoot_installation.updated",
            "chatwoot_installation",
            after.id,
        )
        .changes(Some(&before), Some(&after)),
    )
    .await?;
    tx.commit().await?;
    state.installations.reload(&state.db).await?;
    Ok(ApiJson(after))
}

/// Removes an installation (super admin); its accounts stay, unlinked from Chatwoot.
#[utoipa::path(delete, path = "/api/v1/chatwoot/installations/{installationId}", tag = "chatwoot",
    params(InstallationPath),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn delete_installation(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(path): ApiPath<InstallationPath>,
) -> AppResult<StatusCode> {
    super_admin(&user)?;
    let mut tx = state.db.begin().await?;
    let before = editable(&mut tx, path.installation_id).await?;
    store::delete(&mut tx, before.id).await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            Actor::from(&user),
            None,
            "chatwoot_installation.deleted",
            "chatwoot_installation",
            before.id,
        )
        .changes(Some(&before), None::<&Installation>),
    )
    .await?;
    tx.commit().await?;
    state.installations.reload(&state.db).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An installation the API may change: it exists and the environment does not own it.
async fn editable(tx: &mut Tx, id: Uuid) -> AppResult<Installation> {
    let installation = store::get_in(tx, id).await?.ok_or(AppError::NotFound)?;
    if installation.from_env {
        return Err(AppError::Conflict {
            code: "installation_managed_by_env",
            message:
                "This installation is configured by CHATWOOT_* variables; change them instead."
                    .into(),
        });
    }
    Ok(installation)
}
