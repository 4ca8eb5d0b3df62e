use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Provider, ProviderKind,
    adapters::{self, Server},
    credentials::Credentials,
    store::{self, NewProvider},
};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    entitlements::{self, Resource},
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
        .routes(routes!(list_providers, create_provider))
        .routes(routes!(get_provider, update_provider, delete_provider))
        .routes(routes!(check_provider))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProviderInput {
    /// `evolution`, `waha`, `uazapi`, `zapi` or `cloud_api`.
    #[serde(rename = "type")]
    #[schema(example = "evolution")]
    pub kind: String,
    pub name: String,
    /// The server's root URL, e.g. `https://evolution.example.com`.
    #[schema(example = "https://evolution.example.com")]
    pub base_url: String,
    /// The type's own keys: evolution and waha `{api_key}`, uazapi `{admin_token}`, zapi
    /// `{client_token}`, cloud_api `{access_token, app_secret}`.
    #[schema(value_type = Object)]
    pub credentials: Value,
}

/// `base_url` as kept: http(s), a host, no credentials, query or fragment, no trailing `/`.
fn checked_base_url(v: &mut Validator, raw: &str) -> String {
    let trimmed = raw.trim().trim_end_matches('/').to_string();
    let ok = reqwest::Url::parse(&trimmed).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
    }) && trimmed.len() <= 2048;
    v.check(
        ok,
        "base_url",
        "must be an http(s) URL without credentials, query or fragment",
    );
    trimmed
}

/// Checks the server takes the credentials; `kind`'s adapter must exist.
async fn verify(kind: ProviderKind, server: &Server<'_>) -> AppResult<()> {
    Ok(adapters::of(kind).verify(server).await?)
}

/// The account's provider servers (any member: no credentials are shown).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/providers", tag = "providers",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = Vec<Provider>), (status = 404, body = Problem)))]
async fn list_providers(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<Vec<Provider>>> {
    let rows = store::list(&state.db, scope.account_id).await?;
    Ok(ApiJson(
        rows.iter()
            .map(store::Row::view)
            .collect::<AppResult<_>>()?,
    ))
}

/// Registers a provider server (admins): its credentials are checked against it first, and
/// nothing is kept when it refuses them.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/providers", tag = "providers",
    params(("accountId" = Uuid, Path)), request_body = NewProviderInput,
    responses((status = 201, body = Provider), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "provider_name_taken"),
        (status = 422, body = Problem, description = "validation_failed, provider_credentials_invalid, provider_rejected, provider_type_unsupported"),
        (status = 502, body = Problem, description = "provider_unreachable")))]
async fn create_provider(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<NewProviderInput>,
) -> AppResult<(StatusCode, ApiJson<Provider>)> {
    scope.require(Role::Admin)?;
    let mut v = Validator::default();
    let kind = ProviderKind::parse(&body.kind);
    v.check(
        kind.is_some(),
        "type",
        "must be evolution, waha, uazapi, zapi or cloud_api",
    )
    .text("name", &body.name, 80);
    let base_url = checked_base_url(&mut v, &body.base_url);
    v.finish()?;
    let kind = kind.unwrap_or(ProviderKind::Evolution);
    let credentials = Credentials::from_input(kind, &body.credentials)?;
    verify(
        kind,
        &Server {
            http: &state.providers,
            base_url: &base_url,
            credentials: &credentials,
        },
    )
    .await?;
    let id = Uuid::now_v7();
    let now = clock::now();
    let sealed = credentials.seal(&state.vault, id);
    let mut tx = state.db.begin().await?;
    let defaults = &state.config.plan_defaults;
    entitlements::ensure_capacity(&mut tx, defaults, scope.account_id, Resource::Providers).await?;
    let new = NewProvider {
        id,
        account_id: scope.account_id,
        kind,
        name: body.name.trim(),
        base_url: &base_url,
        sealed: &sealed,
        hint: &credentials.hint(),
        now,
    };
    store::insert(&mut tx, &new).await?;
    let provider = store::get(&mut tx, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)?
        .view()?;
    let entry = AuditEntry::new(&scope, "provider.created", "provider", id)
        .changes(None::<&Provider>, Some(&provider));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(provider)))
}

async fn found(state: &AppState, scope: &AccountScope, id: Uuid) -> AppResult<store::Row> {
    store::get(&state.db, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// One provider server (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/providers/{providerId}", tag = "providers",
    params(("accountId" = Uuid, Path), ("providerId" = Uuid, Path)),
    responses((status = 200, body = Provider), (status = 404, body = Problem)))]
async fn get_provider(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Provider>> {
    Ok(ApiJson(found(&state, &scope, path.1).await?.view()?))
}

/// What a provider change may carry; a new server or credentials are checked first.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderChange {
    pub name: Option<String>,
    pub base_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<Value>,
}

/// Renames a provider, or moves it to another server or credentials (admins).
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/providers/{providerId}", tag = "providers",
    params(("accountId" = Uuid, Path), ("providerId" = Uuid, Path)), request_body = ProviderChange,
    responses((status = 200, body = Provider), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn update_provider(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ProviderChange>,
) -> AppResult<ApiJson<Provider>> {
    scope.require(Role::Admin)?;
    let mut row = found(&state, &scope, path.1).await?;
    let before = row.view()?;
    let kind = row.kind()?;
    let mut v = Validator::default();
    if let Some(name) = &body.name {
        v.text("name", name, 80);
    }
    let base_url = body
        .base_url
        .as_deref()
        .map(|u| checked_base_url(&mut v, u));
    v.finish()?;
    let credentials = match &body.credentials {
        Some(given) => Credentials::from_input(kind, given)?,
        None => Credentials::open(&state.vault, row.id, &row.credentials)?,
    };
    if base_url.is_some() || body.credentials.is_some() {
        let url = base_url.clone().unwrap_or_else(|| row.base_url.clone());
        verify(
            kind,
            &Server {
                http: &state.providers,
                base_url: &url,
                credentials: &credentials,
            },
        )
        .await?;
        row.base_url = url;
        row.credentials = credentials.seal(&state.vault, row.id);
        row.credentials_hint = credentials.hint();
        row.status = "ok".into();
    }
    if let Some(name) = body.name {
        row.name = name.trim().to_string();
    }
    let mut tx = state.db.begin().await?;
    store::update(&mut tx, scope.account_id, &row, clock::now()).await?;
    let after = store::get(&mut tx, scope.account_id, row.id)
        .await?
        .ok_or(AppError::NotFound)?
        .view()?;
    let entry = AuditEntry::new(&scope, "provider.updated", "provider", row.id)
        .changes(Some(&before), Some(&after));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(ApiJson(after))
}

/// Deletes a provider without numbers (admins; 409 `provider_has_instances` otherwise); its
/// slot is free at once.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/providers/{providerId}", tag = "providers",
    params(("accountId" = Uuid, Path), ("providerId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_provider(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    scope.require(Role::Admin)?;
    let before = found(&state, &scope, path.1).await?.view()?;
    let mut tx = state.db.begin().await?;
    if super::instances::store::any_on(&mut tx, path.1).await? {
        return Err(AppError::Conflict {
            code: "provider_has_instances",
            message: "Delete the provider's WhatsApp numbers first.".into(),
        });
    }
    if !store::delete(&mut tx, scope.account_id, path.1, clock::now()).await? {
        return Err(AppError::NotFound);
    }
    let entry = AuditEntry::new(&scope, "provider.deleted", "provider", path.1)
        .changes(Some(&before), None::<&Provider>);
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the server now (admins): whether it answers and takes the stored credentials.
/// The outcome is the provider's `status`; the call itself succeeds either way.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/providers/{providerId}/check", tag = "providers",
    params(("accountId" = Uuid, Path), ("providerId" = Uuid, Path)),
    responses((status = 200, body = Provider), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn check_provider(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Provider>> {
    scope.require(Role::Admin)?;
    let row = found(&state, &scope, path.1).await?;
    let credentials = Credentials::open(&state.vault, row.id, &row.credentials)?;
    let server = Server {
        http: &state.providers,
        base_url: &row.base_url,
        credentials: &credentials,
    };
    let outcome = adapters::of(row.kind()?).verify(&server).await;
    let status = super::health::server_status(&outcome);
    let actor = audit::Actor::from(&scope);
    super::health::record_server(&state, actor, scope.account_id, row.id, status).await?;
    Ok(ApiJson(found(&state, &scope, row.id).await?.view()?))
}
