//! Teams inside an account and their members. Supervisors and admins manage them.

pub mod store;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::Response,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{AccountScope, Role, users};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    chat,
    entitlements::{self, Resource},
    platform::{
        clock,
        error::{AppError, AppResult, Problem, conflict_on_unique},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
        validate::Validator,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_teams, create_team))
        .routes(routes!(get_team, update_team, delete_team))
        .routes(routes!(list_team_members, add_team_member))
        .routes(routes!(remove_team_member))
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub chatwoot_team_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeamMember {
    pub user_id: Uuid,
}

const NAME_TAKEN: (&str, &str) = ("team_name_taken", "A team with this name already exists.");

fn check_team(v: &mut Validator, name: Option<&str>, description: Option<&str>) {
    if let Some(name) = name {
        v.text("name", name, 80);
    }
    if let Some(description) = description {
        v.check(
            description.chars().count() <= 500,
            "description",
            "must be at most 500 characters",
        );
    }
}

async fn team_or_404(state: &AppState, scope: &AccountScope, team_id: Uuid) -> AppResult<Team> {
    store::get(&state.db, scope.account_id, team_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Teams of the account.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/teams", tag = "teams",
    params(("accountId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<Team>), (status = 304, description = "Unchanged since the ETag sent in If-None-Match"), (status = 404, body = Problem)))]
async fn list_teams(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(page): ApiQuery<PageParams>,
    uri: Uri,
    headers: HeaderMap,
) -> AppResult<Response> {
    let page = page.parse()?;
    let build = async {
        let rows = store::list(&state.db, scope.account_id, page).await?;
        Ok(Page::from_rows(rows, page, |t| t.id))
    };
    state
        .lists
        .respond(&scope, &uri.to_string(), &headers, build)
        .await
}

/// Creates a team (supervisors and admins); counts against `max_teams`.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/teams", tag = "teams",
    params(("accountId" = Uuid, Path)), request_body = TeamInput,
    responses((status = 201, body = Team), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn create_team(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<TeamInput>,
) -> AppResult<(StatusCode, ApiJson<Team>)> {
    scope.require(Role::Supervisor)?;
    let mut v = Validator::default();
    check_team(&mut v, Some(&body.name), Some(&body.description));
    v.finish()?;

    let now = clock::now();
    let team = Team {
        id: Uuid::now_v7(),
        name: body.name.trim().to_string(),
        description: body.description.trim().to_string(),
        chatwoot_team_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.db.begin().await?;
    entitlements::ensure_capacity(
        &mut tx,
        &state.config.plan_defaults,
        scope.account_id,
        Resource::Teams,
    )
    .await?;
    store::insert(&mut tx, scope.account_id, &team)
        .await
        .map_err(conflict_on_unique(NAME_TAKEN.0, NAME_TAKEN.1))?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "team.created", "team", team.id)
            .changes(None::<&Team>, Some(&team)),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(team)))
}

/// One team.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/teams/{teamId}", tag = "teams",
    params(("accountId" = Uuid, Path), ("teamId" = Uuid, Path)),
    responses((status = 200, body = Team), (status = 404, body = Problem)))]
async fn get_team(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Team>> {
    let team_id = path.1;
    team_or_404(&state, &scope, team_id).await.map(ApiJson)
}

/// Renames or re-describes a team (supervisors and admins).
#[utoipa::path(put, path = "/api/v1/accounts/{accountId}/teams/{teamId}", tag = "teams",
    params(("accountId" = Uuid, Path), ("teamId" = Uuid, Path)), request_body = TeamUpdate,
    responses((status = 200, body = Team), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_team(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<TeamUpdate>,
) -> AppResult<ApiJson<Team>> {
    let team_id = path.1;
    scope.require(Role::Supervisor)?;
    let mut v = Validator::default();
    check_team(&mut v, body.name.as_deref(), body.description.as_deref());
    v.finish()?;

    let mut tx = state.db.begin().await?;
    // Serialised with the Chatwoot team sync, which checks names before it writes them.
    tx.lock_account(scope.account_id).await?;
    let before = store::get(&mut tx, scope.account_id, team_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut after = before.clone();
    if let Some(name) = body.name {
        after.name = name.trim().to_string();
    }
    if let Some(description) = body.description {
        after.description = description.trim().to_string();
    }
    after.updated_at = clock::now();
    store::update(&mut tx, scope.account_id, &after)
        .await
        .map_err(conflict_on_unique(NAME_TAKEN.0, NAME_TAKEN.1))?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "team.updated", "team", team_id)
            .changes(Some(&before), Some(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(ApiJson(after))
}

/// Deletes a team, its memberships, and archives its chat room. Answers the room's events
/// to announce after commit (a caller without the bus leaves them to the sockets' next
/// resume).
pub async fn delete(
    tx: &mut crate::platform::db::Tx,
    account_id: Uuid,
    team_id: Uuid,
    now: OffsetDateTime,
) -> AppResult<Vec<crate::realtime::RoomNote>> {
    store::delete(tx, account_id, team_id).await?;
    chat::team_rooms::follow(tx, account_id, team_id, now).await
}

/// Deletes a team and its memberships (supervisors and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/teams/{teamId}", tag = "teams",
    params(("accountId" = Uuid, Path), ("teamId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_team(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    let team_id = path.1;
    scope.require(Role::Supervisor)?;
    let mut tx = state.db.begin().await?;
    // Serialised with the Chatwoot team sync, which checks names before it writes them.
    tx.lock_account(scope.account_id).await?;
    let before = store::get(&mut tx, scope.account_id, team_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let notes = delete(&mut tx, scope.account_id, team_id, clock::now()).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "team.deleted", "team", team_id)
            .changes(Some(&before), None::<&Team>),
    )
    .await?;
    tx.commit().await?;
    chat::events::announce_all(&state, notes);
    Ok(StatusCode::NO_CONTENT)
}

/// Members of a team.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/teams/{teamId}/members", tag = "teams",
    params(("accountId" = Uuid, Path), ("teamId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<users::Member>), (status = 304, description = "Unchanged since the ETag sent in If-None-Match"), (status = 404, body = Problem)))]
async fn list_team_members(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiQuery(page): ApiQuery<PageParams>,
    uri: Uri,
    headers: HeaderMap,
) -> AppResult<Response> {
    let team_id = path.1;
    let page = page.parse()?;
    let build = async {
        team_or_404(&state, &scope, team_id).await?;
        let rows = store::members(&state.db, scope.account_id, team_id, page).await?;
        Ok(Page::from_rows(rows, page, |m| m.id))
    };
    state
        .lists
        .respond(&scope, &uri.to_string(), &headers, build)
        .await
}

/// Adds an active member of the account to the team (supervisors and admins); idempotent.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/teams/{teamId}/members", tag = "teams",
    params(("accountId" = Uuid, Path), ("teamId" = Uuid, Path)), request_body = NewTeamMember,
    responses((status = 201, body = users::Member), (status = 200, body = users::Member),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_team_member(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<NewTeamMember>,
) -> AppResult<(StatusCode, ApiJson<users::Member>)> {
    let team_id = path.1;
    scope.require(Role::Supervisor)?;
    let mut tx = state.db.begin().await?;
    store::get(&mut tx, scope.account_id, team_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let member = users::store::get(&mut tx, scope.account_id, body.user_id)
        .await?
        .filter(|m| m.active)
        .ok_or_else(|| {
            AppError::validation("user_id", "is not an active member of this account")
        })?;
    let added = store::add_member(&mut tx, scope.account_id, team_id, body.user_id).await?;
    if added {
        audit::record(
            &mut tx,
            AuditEntry::new(&scope, "team.member_added", "team", team_id).changes(
                None::<&()>,
                Some(&serde_json::json!({ "user_id": body.user_id })),
            ),
        )
        .await?;
    }
    let notes = chat::team_rooms::follow(&mut tx, scope.account_id, team_id, clock::now()).await?;
    tx.commit().await?;
    chat::events::announce_all(&state, notes);
    Ok((
        if added {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        ApiJson(member),
    ))
}

/// Removes a user from the team (supervisors and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/teams/{teamId}/members/{userId}", tag = "teams",
    params(("accountId" = Uuid, Path), ("teamId" = Uuid, Path), ("userId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_team_member(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    let (team_id, user_id) = (path.1, path.2);
    scope.require(Role::Supervisor)?;
    let mut tx = state.db.begin().await?;
    if !store::remove_member(&mut tx, scope.account_id, team_id, user_id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "team.member_removed", "team", team_id).changes(
            Some(&serde_json::json!({ "user_id": user_id })),
            None::<&()>,
        ),
    )
    .await?;
    let notes = chat::team_rooms::follow(&mut tx, scope.account_id, team_id, clock::now()).await?;
    tx.commit().await?;
    chat::events::announce_all(&state, notes);
    Ok(StatusCode::NO_CONTENT)
}
