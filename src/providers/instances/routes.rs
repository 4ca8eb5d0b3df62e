use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Behaviour, Instance, StatusChange, live::Live, store};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
        validate::Validator,
    },
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_instances, create_instance))
        .routes(routes!(get_instance, update_instance, delete_instance))
        .routes(routes!(instance_history))
        .merge(super::session::router())
        .merge(super::inbox_link::router())
}

async fn found(state: &AppState, scope: &AccountScope, id: Uuid) -> AppResult<Instance> {
    store::get(&state.db, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The account's WhatsApp numbers (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/instances", tag = "providers",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = Vec<Instance>), (status = 404, body = Problem)))]
async fn list_instances(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<Vec<Instance>>> {
    Ok(ApiJson(store::list(&state.db, scope.account_id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstanceInput {
    pub provider_id: Uuid,
    /// Its name on the provider server (for types whose instances are registered, the
    /// hub's own label): letters, digits, `-` and `_`.
    pub name: String,
    /// For types whose instances are made in the provider's panel: Z-API `{instance_id,
    /// instance_token}`, Cloud API `{phone_number_id}`. Left out for the others.
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<serde_json::Value>,
    /// Behaviour settings to apply at once.
    pub settings: Option<Behaviour>,
    /// The number it is for, digits with country code: shown until its session tells
    /// (never sent to the provider: Evolution's `number` would switch it to pairing).
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceChanges {
    /// The whole set of behaviour settings (what is left out is off).
    pub settings: Behaviour,
}

/// Creates a number on a provider server (admins), within `max_instances`.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/instances", tag = "providers",
    params(("accountId" = Uuid, Path)), request_body = NewInstanceInput,
    responses((status = 201, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn create_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<NewInstanceInput>,
) -> AppResult<(StatusCode, ApiJson<Instance>)> {
    scope.require(Role::Admin)?;
    let mut v = Validator::default();
    let name_ok = (1..=64).contains(&body.name.len())
        && body
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    v.check(
        name_ok,
        "name",
        "must be 1 to 64 of letters, digits, - and _",
    );
    let phone = super::session::phone_digits(body.phone.as_deref());
    if body.phone.is_some() {
        v.check(
            phone.is_some(),
            "phone",
            "must be the number with country code",
        );
    }
    v.finish()?;
    let settings = body.settings.unwrap_or_default();
    settings.validate()?;
    let number = super::making::Number {
        provider_id: body.provider_id,
        name: &body.name,
        phone: phone.as_deref(),
        credentials: body.credentials.as_ref(),
        settings: &settings,
    };
    let instance = super::making::make(&state, &scope, &number).await?;
    Ok((StatusCode::CREATED, ApiJson(instance)))
}

/// One number (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/instances/{instanceId}", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Instance), (status = 404, body = Problem)))]
async fn get_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Instance>> {
    Ok(ApiJson(found(&state, &scope, path.1).await?))
}

/// Changes how the number behaves (admins): applied by the provider first, kept only once
/// it took them; 409 `not_supported_by_provider` for a setting its type lacks.
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/instances/{instanceId}", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)), request_body = InstanceChanges,
    responses((status = 200, body = Instance), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn update_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<InstanceChanges>,
) -> AppResult<ApiJson<Instance>> {
    scope.require(Role::Admin)?;
    body.settings.validate()?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    let (opened, session) = (&live.opened, live.session());
    body.settings
        .ensure_supported(opened.adapter.capabilities().settings)?;
    if body.settings != live.instance.settings {
        opened
            .adapter
            .apply_settings(&opened.server(), &session, &body.settings)
            .await?;
    }
    let mut tx = state.db.begin().await?;
    store::set_settings(
        &mut tx,
        scope.account_id,
        path.1,
        &body.settings,
        clock::now(),
    )
    .await?;
    let after = store::get(&mut tx, scope.account_id, path.1)
        .await?
        .ok_or(AppError::NotFound)?;
    let entry = AuditEntry::new(&scope, "instance.updated", "instance", path.1)
        .changes(Some(&live.instance), Some(&after));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(ApiJson(after))
}

/// Deletes the number from its provider server and from the hub (admins); its slot is free
/// at once.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/instances/{instanceId}", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 502, body = Problem)))]
async fn delete_instance(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    scope.require(Role::Admin)?;
    let live = Live::of(&state, scope.account_id, path.1).await?;
    let (opened, session) = (&live.opened, live.session());
    opened.adapter.delete(&opened.server(), &session).await?;
    let mut tx = state.db.begin().await?;
    store::delete(&mut tx, scope.account_id, path.1, clock::now()).await?;
    let entry = AuditEntry::new(&scope, "instance.deleted", "instance", path.1)
        .changes(Some(&live.instance), None::<&Instance>);
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The number's changes of status, newest first (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/instances/{instanceId}/history", tag = "providers",
    params(("accountId" = Uuid, Path), ("instanceId" = Uuid, Path)),
    responses((status = 200, body = Vec<StatusChange>), (status = 404, body = Problem)))]
async fn instance_history(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Vec<StatusChange>>> {
    found(&state, &scope, path.1).await?;
    Ok(ApiJson(
        store::history(&state.db, scope.account_id, path.1).await?,
    ))
}
