//! Users as members of an account: list, read, add, edit, deactivate and reactivate.
//! A user is global (one Chatwoot person may belong to several accounts); role and
//! activity belong to the membership.

pub mod store;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::Response,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{AccountScope, Role};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    entitlements::{self, Resource},
    platform::{
        db::Tx,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
        validate::Validator,
    },
    realtime::Recheck,
};
use store::Identity;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(activate_user))
}

/// A user as a member of one account.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Member {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub avatar_url: Option<String>,
    pub chatwoot_user_id: Option<i64>,
    /// `admin`, `supervisor` or `agent`.
    pub role: String,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A person, independent of any account.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub avatar_url: Option<String>,
    pub chatwoot_user_id: Option<i64>,
    pub is_super_admin: bool,
}

/// An account the user belongs to, with their role there.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Membership {
    pub account_id: Uuid,
    pub account_name: String,
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// `admin`, `supervisor` or `agent` (default).
    pub role: Option<Role>,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    pub role: Option<Role>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only active (`true`) or deactivated (`false`) members.
    pub active: Option<bool>,
}

fn check_role(v: &mut Validator, role: Option<Role>) {
    v.check(
        role != Some(Role::SuperAdmin),
        "role",
        "must be admin, supervisor or agent",
    );
}

/// Members of the account.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/users", tag = "users",
    params(("accountId" = Uuid, Path), UserFilter, PageParams),
    responses((status = 200, body = Page<Member>), (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 404, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(filter): ApiQuery<UserFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
    uri: Uri,
    headers: HeaderMap,
) -> AppResult<Response> {
    let page = page.parse()?;
    let build = async {
        let rows = store::list(&state.db, scope.account_id, filter.active, page).await?;
        Ok(Page::from_rows(rows, page, |m| m.id))
    };
    state
        .lists
        .respond(&scope, &uri.to_string(), &headers, build)
        .await
}

/// Adds a person to the account (admins); counts against `max_agents`. The person is the
/// account's own, found again by email within it alone: people from Chatwoot join by
/// signing in or through the agent sync, and nobody of another account is ever reached.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/users", tag = "users",
    params(("accountId" = Uuid, Path)), request_body = CreateUser,
    responses((status = 201, body = Member), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<(StatusCode, ApiJson<Member>)> {
    scope.require(Role::Admin)?;
    let email = body.email.trim().to_lowercase();
    let mut v = Validator::default();
    v.email("email", &email).text("name", &body.name, 120);
    if let Some(url) = &body.avatar_url {
        v.url("avatar_url", url);
    }
    check_role(&mut v, body.role);
    v.finish()?;

    let identity = Identity::AddedIn(scope.account_id);
    let mut tx = state.db.begin().await?;
    if store::find(&mut tx, identity, &email).await?.is_some() {
        return Err(already_member());
    }
    entitlements::ensure_capacity(
        &mut tx,
        &state.config.plan_defaults,
        scope.account_id,
        Resource::Agents,
    )
    .await?;
    let new_user = store::NewUser {
        identity,
        email: &email,
        name: body.name.trim(),
        avatar_url: body.avatar_url.as_deref(),
        is_super_admin: false,
    };
    let user_id = store::insert_user(&mut tx, &new_user).await?;
    let role = body.role.unwrap_or(Role::Agent);
    if !store::insert_membership(&mut tx, scope.account_id, user_id, role.as_str()).await? {
        return Err(already_member());
    }
    let member = member_in(&mut tx, &scope, user_id).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "user.created", "user", user_id)
            .changes(None::<&Member>, Some(&member)),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(member)))
}

fn already_member() -> AppError {
    AppError::Conflict {
        code: "already_member",
        message: "This person is already a member of the account (activate them if deactivated)."
            .into(),
    }
}

async fn member_in(tx: &mut Tx, scope: &AccountScope, user_id: Uuid) -> AppResult<Member> {
    store::get(&mut *tx, scope.account_id, user_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// One member of the account.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/users/{userId}", tag = "users",
    params(("accountId" = Uuid, Path), ("userId" = Uuid, Path)),
    responses((status = 200, body = Member), (status = 404, body = Problem)))]
async fn get_user(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Member>> {
    let user_id = path.1;
    store::get(&state.db, scope.account_id, user_id)
        .await?
        .map(ApiJson)
        .ok_or(AppError::NotFound)
}

/// Changes a member's role (admins), and the name and avatar of a person the account added
/// itself. The last active admin keeps the role.
#[utoipa::path(put, path = "/api/v1/accounts/{accountId}/users/{userId}", tag = "users",
    params(("accountId" = Uuid, Path), ("userId" = Uuid, Path)), request_body = UpdateUser,
    responses((status = 200, body = Member), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_user(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> AppResult<ApiJson<Member>> {
    let user_id = path.1;
    scope.require(Role::Admin)?;
    let mut v = Validator::default();
    if let Some(name) = &body.name {
        v.text("name", name, 120);
    }
    if let Some(url) = &body.avatar_url {
        v.url("avatar_url", url);
    }
    check_role(&mut v, body.role);
    v.finish()?;

    let mut tx = state.db.begin().await?;
    tx.lock_account(scope.account_id).await?;
    let before = member_in(&mut tx, &scope, user_id).await?;
    let role = body.role.map(Role::as_str).unwrap_or(&before.role);
    if before.role == "admin" && role != "admin" {
        keep_an_admin(&mut tx, &scope, user_id).await?;
    }
    let name = body.name.as_deref().map(str::trim).unwrap_or(&before.name);
    let avatar_url = body.avatar_url.as_deref().or(before.avatar_url.as_deref());
    if (name != before.name || avatar_url != before.avatar_url.as_deref())
        && scope.role != Role::SuperAdmin
        && store::added_in(&mut tx, user_id).await? != Some(scope.account_id)
    {
        // A person's profile is theirs (or Chatwoot's, by sync); an account manages only
        // their membership, unless it added the person itself.
        return Err(AppError::Forbidden {
            code: "profile_not_editable",
            message: "This person's name and avatar are their own; an account admin changes their role and access.",
        });
    }
    store::update_profile(&mut tx, user_id, name, avatar_url).await?;
    store::update_membership(&mut tx, scope.account_id, user_id, role, before.active).await?;
    let after = member_in(&mut tx, &scope, user_id).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "user.updated", "user", user_id)
            .changes(Some(&before), Some(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(ApiJson(after))
}

async fn keep_an_admin(tx: &mut Tx, scope: &AccountScope, leaving: Uuid) -> AppResult<()> {
    if store::other_active_admins_in(tx, scope.account_id, leaving).await? == 0 {
        return Err(AppError::Conflict {
            code: "last_admin",
            message: "The account needs at least one active admin.".into(),
        });
    }
    Ok(())
}

/// Deactivates a member (admins): they lose access to this account at once.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/users/{userId}/deactivate", tag = "users",
    params(("accountId" = Uuid, Path), ("userId" = Uuid, Path)),
    responses((status = 200, body = Member), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn deactivate_user(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Member>> {
    let user_id = path.1;
    set_active(&state, &scope, user_id, false).await
}

/// Reactivates a member (admins); counts against `max_agents`.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/users/{userId}/activate", tag = "users",
    params(("accountId" = Uuid, Path), ("userId" = Uuid, Path)),
    responses((status = 200, body = Member), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn activate_user(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Member>> {
    let user_id = path.1;
    set_active(&state, &scope, user_id, true).await
}

async fn set_active(
    state: &AppState,
    scope: &AccountScope,
    user_id: Uuid,
    active: bool,
) -> AppResult<ApiJson<Member>> {
    scope.require(Role::Admin)?;
    let mut tx = state.db.begin().await?;
    tx.lock_account(scope.account_id).await?;
    let before = member_in(&mut tx, scope, user_id).await?;
    if before.active == active {
        tx.rollback().await?;
        return Ok(ApiJson(before));
    }
    if active {
        entitlements::ensure_capacity(
            &mut tx,
            &state.config.plan_defaults,
            scope.account_id,
            Resource::Agents,
        )
        .await?;
    } else if before.role == "admin" {
        keep_an_admin(&mut tx, scope, user_id).await?;
    }
    store::update_membership(&mut tx, scope.account_id, user_id, &before.role, active).await?;
    if !active {
        // Losing the membership ends the user's sessions in this account at once.
        crate::auth::sessions::store::revoke_all(
            &mut tx,
            user_id,
            None,
            Some(scope.account_id),
            "user_deactivated",
        )
        .await?;
    }
    let after = member_in(&mut tx, scope, user_id).await?;
    let action = if active {
        "user.activated"
    } else {
        "user.deactivated"
    };
    audit::record(
        &mut tx,
        AuditEntry::new(scope, action, "user", user_id).changes(Some(&before), Some(&after)),
    )
    .await?;
    tx.commit().await?;
    if !active {
        state.realtime.recheck(Recheck::User(user_id));
    }
    Ok(ApiJson(after))
}
