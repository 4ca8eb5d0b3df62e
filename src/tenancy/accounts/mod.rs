//! Accounts: the tenants. Super admins create them; members read theirs; admins edit.

pub mod store;

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{AccountScope, Role};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    auth::CurrentUser,
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::ApiQuery,
        validate::Validator,
    },
    realtime::Recheck,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(get_account, update_account))
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Account {
    pub id: Uuid,
    /// The Chatwoot installation the account lives in, when it is linked to one.
    pub chatwoot_installation_id: Option<Uuid>,
    pub chatwoot_account_id: Option<i64>,
    pub name: String,
    /// Chatwoot-style locale, for example `en` or `pt_BR`.
    pub locale: String,
    /// `active` or `suspended`.
    pub status: String,
    #[sqlx(json)]
    #[schema(value_type = Object)]
    pub settings: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    pub name: String,
    pub locale: Option<String>,
    /// With `chatwoot_account_id`: the installation (default: the environment's).
    pub chatwoot_installation_id: Option<Uuid>,
    pub chatwoot_account_id: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub name: Option<String>,
    pub locale: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
    /// `active` or `suspended` (super admins only).
    pub status: Option<String>,
}

fn valid_locale(locale: &str) -> bool {
    let mut parts = locale.splitn(2, ['_', '-']);
    let language = parts.next().unwrap_or_default();
    let region_ok = parts
        .next()
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()));
    (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_lowercase())
        && region_ok
}

fn check_settings(v: &mut Validator, settings: Option<&Value>) {
    if let Some(settings) = settings {
        v.check(settings.is_object(), "settings", "must be a JSON object")
            .check(
                settings.to_string().len() <= 16 * 1024,
                "settings",
                "must be at most 16 KiB",
            );
    }
}

/// Accounts the caller can see: all of them for super admins, their own for others, and
/// only its account for a session opened for one.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", params(PageParams),
    responses((status = 200, body = Page<Account>), (status = 401, body = Problem)))]
async fn list_accounts(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(page): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<Account>>> {
    let page = page.parse()?;
    let member = (!user.is_super_admin).then_some(user.user_id);
    // A session opened for one account sees that account alone (ADR 5).
    let rows = store::list(&state.db, member, user.session_account, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |a| a.id)))
}

/// Creates an account (super admin).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = CreateAccount,
    responses((status = 201, body = Account), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn create_account(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CreateAccount>,
) -> AppResult<(StatusCode, ApiJson<Account>)> {
    if !user.is_super_admin {
        return Err(AppError::forbidden());
    }
    let locale = body.locale.unwrap_or_else(|| "en".into());
    let mut v = Validator::default();
    v.text("name", &body.name, 120).check(
        valid_locale(&locale),
        "locale",
        "must look like en or pt_BR",
    );
    v.check(
        body.chatwoot_account_id.is_none_or(|id| id > 0),
        "chatwoot_account_id",
        "must be positive",
    );
    check_settings(&mut v, body.settings.as_ref());
    v.finish()?;

    let chatwoot_installation_id = match (body.chatwoot_account_id, body.chatwoot_installation_id) {
        (None, _) => None,
        (Some(_), Some(id)) => Some(
            state
                .installations
                .by_id(id)
                .ok_or_else(|| {
                    AppError::validation("chatwoot_installation_id", "no such installation")
                })?
                .installation
                .id,
        ),
        (Some(_), None) => Some(
            state
                .installations
                .default_installation()
                .ok_or_else(|| {
                    AppError::validation(
                        "chatwoot_installation_id",
                        "name the installation: no default one is configured",
                    )
                })?
                .installation
                .id,
        ),
    };
    let now = clock::now();
    let account = Account {
        id: Uuid::now_v7(),
        chatwoot_installation_id,
        chatwoot_account_id: body.chatwoot_account_id,
        name: body.name.trim().to_string(),
        locale,
        status: "active".into(),
        settings: body
            .settings
            .unwrap_or_else(|| Value::Object(Default::default())),
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.db.begin().await?;
    if !store::insert(&mut tx, &account).await? {
        return Err(AppError::Conflict {
            code: "chatwoot_account_taken",
            message: "Another account is already linked to this Chatwoot account.".into(),
        });
    }
    audit::record(
        &mut tx,
        AuditEntry::by(
            Actor::from(&user),
            Some(account.id),
            "account.created",
            "account",
            account.id,
        )
        .changes(None::<&Account>, Some(&account)),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(account)))
}

/// One account (any member).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}", tag = "accounts",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = Account), (status = 404, body = Problem)))]
async fn get_account(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<Account>> {
    store::get(&state.db, scope.account_id)
        .await?
        .map(ApiJson)
        .ok_or(AppError::NotFound)
}

/// Changes name, locale or settings (admins); status (super admins).
#[utoipa::path(put, path = "/api/v1/accounts/{accountId}", tag = "accounts",
    params(("accountId" = Uuid, Path)), request_body = UpdateAccount,
    responses((status = 200, body = Account), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update_account(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<UpdateAccount>,
) -> AppResult<ApiJson<Account>> {
    scope.require(Role::Admin)?;
    if body.status.is_some() {
        scope.require(Role::SuperAdmin)?;
    }
    let mut v = Validator::default();
    if let Some(name) = &body.name {
        v.text("name", name, 120);
    }
    if let Some(locale) = &body.locale {
        v.check(valid_locale(locale), "locale", "must look like en or pt_BR");
    }
    if let Some(status) = &body.status {
        v.check(
            matches!(status.as_str(), "active" | "suspended"),
            "status",
            "must be active or suspended",
        );
    }
    check_settings(&mut v, body.settings.as_ref());
    v.finish()?;

    let mut tx = state.db.begin().await?;
    let before = store::get(&mut tx, scope.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut after = before.clone();
    if let Some(name) = body.name {
        after.name = name.trim().to_string();
    }
    after.locale = body.locale.unwrap_or(after.locale);
    after.settings = body.settings.unwrap_or(after.settings);
    after.status = body.status.unwrap_or(after.status);
    after.updated_at = clock::now();
    store::update(&mut tx, &after).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "account.updated", "account", after.id)
            .changes(Some(&before), Some(&after)),
    )
    .await?;
    tx.commit().await?;
    if after.status != before.status {
        state.realtime.recheck(Recheck::Account(after.id));
    }
    Ok(ApiJson(after))
}

#[cfg(test)]
mod tests {
    use super::valid_locale;

    #[test]
    fn locales_look_like_chatwoots() {
        for ok in ["en", "pt_BR", "zh-CN", "fil"] {
            assert!(valid_locale(ok), "{ok}");
        }
        for bad in ["", "E", "english", "pt_", "en_B R", "../x"] {
            assert!(!valid_locale(bad), "{bad}");
        }
    }
}
