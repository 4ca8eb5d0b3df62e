//! API keys for machine clients: one account each, scoped per resource and action, shown
//! once, stored as a hash, revocable, optionally expiring, with `last_used_at`.

mod store;

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{opaque, scopes};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
        validate::Validator,
    },
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// The key's first characters, to recognise it; never enough to use it.
    pub prefix: String,
    #[sqlx(json)]
    pub scopes: Vec<String>,
    pub created_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// A new key: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The secret. Store it now; it cannot be shown again.
    pub key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    /// For example `["kanban:read", "users:read"]`.
    pub scopes: Vec<String>,
    /// RFC 3339; the key stops working then.
    #[serde(default, deserialize_with = "crate::platform::time_input::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
}

/// Writes `last_used_at` at most once a minute per key, so busy keys cost no write per call.
#[derive(Default)]
pub struct UsageTracker(Mutex<HashMap<Uuid, Instant>>);

impl UsageTracker {
    fn due(&self, key_id: Uuid) -> bool {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        match seen.get(&key_id) {
            Some(last) if now.duration_since(*last) < Duration::from_secs(60) => false,
            _ => {
                seen.insert(key_id, now);
                true
            }
        }
    }
}

/// Checks a presented key against the account and the scope the route needs (`None`:
/// keys may not call it). Answers the key id and the account's revision.
pub async fn authorize(
    state: &AppState,
    key_hash: &[u8],
    account_id: Uuid,
    needed: Option<&str>,
) -> AppResult<(Uuid, i64)> {
    let found = store::grant(&state.db, key_hash).await?;
    let grant = match found {
        Some(grant)
            if grant.revoked_at.is_none()
                && grant.expires_at.is_none_or(|at| at > clock::now()) =>
        {
            state.rate_limits.key_verified(key_hash);
            grant
        }
        refused => {
            state.rate_limits.key_refused(key_hash);
            return Err(match refused {
                None => super::invalid_token(),
                Some(grant) if grant.revoked_at.is_some() => AppError::Unauthorized {
                    code: "api_key_revoked",
                    message: "This API key was revoked.",
                },
                Some(_) => AppError::Unauthorized {
                    code: "api_key_expired",
                    message: "This API key has expired.",
                },
            });
        }
    };
    if grant.account_id != account_id {
        return Err(AppError::NotFound);
    }
    if grant.account_status != "active" {
        return Err(AppError::Forbidden {
            code: "account_suspended",
            message: "This account is suspended.",
        });
    }
    if !needed.is_some_and(|scope| grant.scopes.0.iter().any(|held| held == scope)) {
        return Err(AppError::Forbidden {
            code: "insufficient_scope",
            message: "This API key's scopes do not allow this endpoint.",
        });
    }
    if state.api_key_usage.due(grant.id) {
        store::touch(&state.db, grant.id).await?;
    }
    Ok((grant.id, grant.account_revision))
}

/// The account's API keys, without secrets (admins).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/api-keys", tag = "api-keys",
    params(("accountId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<ApiKey>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_api_keys(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(page): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<ApiKey>>> {
    scope.require_person()?;
    scope.require(Role::Admin)?;
    let page = page.parse()?;
    let rows = store::list(&state.db, scope.account_id, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |k| k.id)))
}

/// Creates a key (admins). The secret is in the answer's `key`, once.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/api-keys", tag = "api-keys",
    params(("accountId" = Uuid, Path)), request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_api_key(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> AppResult<(StatusCode, ApiJson<CreatedApiKey>)> {
    let creator = scope.require_person()?;
    scope.require(Role::Admin)?;
    let mut scopes_held: Vec<String> = body.scopes.iter().map(|s| s.trim().to_string()).collect();
    scopes_held.sort();
    scopes_held.dedup();
    let mut v = Validator::default();
    v.text("name", &body.name, 80)
        .check(
            !scopes_held.is_empty(),
            "scopes",
            "must list at least one scope",
        )
        .check(
            scopes_held
                .iter()
                .all(|s| scopes::ALL.contains(&s.as_str())),
            "scopes",
            &format!("must be among: {}", scopes::ALL.join(", ")),
        )
        .check(
            body.expires_at.is_none_or(|at| at > clock::now()),
            "expires_at",
            "must be in the future",
        );
    v.finish()?;

    let (secret, prefix) = opaque::new_api_key();
    let api_key = ApiKey {
        id: Uuid::now_v7(),
        name: body.name.trim().to_string(),
        prefix,
        scopes: scopes_held,
        created_by: Some(creator),
        created_at: clock::now(),
        expires_at: body.expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, scope.account_id, &api_key, &opaque::hash(&secret)).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "api_key.created", "api_key", api_key.id)
            .changes(None::<&ApiKey>, Some(&api_key)),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedApiKey {
            api_key,
            key: secret,
        }),
    ))
}

/// Revokes a key at once (admins). Revoking twice is harmless.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/api-keys/{keyId}", tag = "api-keys",
    params(("accountId" = Uuid, Path), ("keyId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    scope.require_person()?;
    scope.require(Role::Admin)?;
    let key_id = path.1;
    let mut tx = state.db.begin().await?;
    let before = store::get_in(&mut tx, scope.account_id, key_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if before.revoked_at.is_none() {
        store::revoke(&mut tx, scope.account_id, key_id).await?;
        audit::record(
            &mut tx,
            AuditEntry::new(&scope, "api_key.revoked", "api_key", key_id)
                .changes(Some(&before), None::<&ApiKey>),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
