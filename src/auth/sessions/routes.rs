use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Issued, SessionView, refresh_cookie, refresh_from_cookie, store};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    auth::CurrentUser,
    platform::{
        client::ClientMeta,
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
    },
    realtime::Recheck,
    tenancy::{AccountScope, Role, users},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_sessions, end_other_sessions))
        .routes(routes!(end_session))
}

/// Routes inside an account: an admin ends a member's sessions.
pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(end_member_sessions))
}

/// A token pair, as single sign-on, exchange and refresh answer it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
    pub session_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<users::Profile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::tenancy::accounts::Account>)]
    pub account: Option<crate::tenancy::accounts::Account>,
}

impl TokenResponse {
    pub fn new(issued: Issued) -> (Self, u64) {
        let response = TokenResponse {
            access_token: issued.access.token,
            token_type: "Bearer",
            expires_in: issued.access.expires_in,
            refresh_token: issued.refresh_token,
            session_id: issued.session_id,
            user: None,
            account: None,
        };
        (response, issued.refresh_expires_in)
    }

    /// The JSON body plus the refresh cookie for same-site browsers.
    pub fn into_response_with_cookie(self, cookie_max_age: u64) -> Response {
        let cookie = refresh_cookie(Some((&self.refresh_token, cookie_max_age)));
        let mut response = ApiJson(self).into_response();
        response.headers_mut().insert(header::SET_COOKIE, cookie);
        response
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Rotates a refresh token (from the body, or the `__Host-whatpro_refresh` cookie).
/// Presenting a used token ends its session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", security(()),
    request_body(content = Option<RefreshRequest>, description = "Omit to use the refresh cookie"),
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem)))]
async fn refresh(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let presented = if body.iter().all(u8::is_ascii_whitespace) {
        refresh_from_cookie(&headers)
    } else {
        let parsed: RefreshRequest = serde_json::from_slice(&body).map_err(|e| {
            AppError::validation(
                "refresh_token",
                format!("send {{\"refresh_token\": \"…\"}} or the refresh cookie ({e})"),
            )
        })?;
        Some(parsed.refresh_token)
    };
    let presented = presented.ok_or(AppError::Unauthorized {
        code: "invalid_refresh_token",
        message: "No refresh token was presented.",
    })?;
    let presented_hash = crate::auth::opaque::hash(&presented);
    crate::auth::attempts::count(&state.db, client.ip, &presented_hash).await?;
    let issued = super::refresh(&state, &presented, &client).await?;
    let (body, max_age) = TokenResponse::new(issued);
    Ok(body.into_response_with_cookie(max_age))
}

/// Ends the current session: its access and refresh tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = Problem)))]
async fn logout(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    store::revoke(&mut tx, user.user_id, user.session_id, "logout").await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            Actor::from(&user),
            user.session_account,
            "auth.logout",
            "session",
            user.session_id,
        ),
    )
    .await?;
    tx.commit().await?;
    state.realtime.recheck(Recheck::User(user.user_id));
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, refresh_cookie(None));
    response
        .headers_mut()
        .insert("clear-site-data", HeaderValue::from_static("\"cookies\""));
    Ok(response)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: users::Profile,
    pub session_id: Uuid,
    /// The account this session was opened for (absent for operator sessions).
    pub account_id: Option<Uuid>,
    /// Accounts where the user is an active member.
    pub memberships: Vec<users::Membership>,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(State(state): State<AppState>, user: CurrentUser) -> AppResult<ApiJson<Me>> {
    let profile = users::store::profile(&state.db, user.user_id)
        .await?
        .ok_or_else(crate::auth::invalid_token)?;
    let memberships =
        users::store::memberships(&state.db, user.user_id, user.session_account).await?;
    Ok(ApiJson(Me {
        user: profile,
        session_id: user.session_id,
        account_id: user.session_account,
        memberships,
    }))
}

/// The caller's live sessions, newest first; `current` marks this one.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", params(PageParams),
    responses((status = 200, body = Page<SessionView>), (status = 401, body = Problem)))]
async fn list_sessions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(page): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<SessionView>>> {
    let page = page.parse()?;
    let idle_cutoff = clock::now() - state.config.session_idle_timeout;
    let rows = store::list_live(&state.db, user.user_id, idle_cutoff, page).await?;
    let mut page = Page::from_rows(rows, page, |s| s.id);
    for session in &mut page.items {
        session.current = session.id == user.session_id;
    }
    Ok(ApiJson(page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    /// How many sessions were ended.
    pub ended: u64,
}

/// Ends every session of the caller except the current one.
#[utoipa::path(delete, path = "/api/v1/auth/sessions", tag = "auth",
    responses((status = 200, body = Ended), (status = 401, body = Problem)))]
async fn end_other_sessions(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<ApiJson<Ended>> {
    let mut tx = state.db.begin().await?;
    let ended = store::revoke_all(
        &mut tx,
        user.user_id,
        Some(user.session_id),
        None,
        "ended_by_user",
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            Actor::from(&user),
            user.session_account,
            "auth.sessions_ended",
            "user",
            user.user_id,
        )
        .changes(None::<&()>, Some(&serde_json::json!({ "ended": ended }))),
    )
    .await?;
    tx.commit().await?;
    state.realtime.recheck(Recheck::User(user.user_id));
    Ok(ApiJson(Ended { ended }))
}

/// Ends one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{sessionId}", tag = "auth",
    params(("sessionId" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn end_session(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(session_id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    if !store::revoke(&mut tx, user.user_id, session_id, "ended_by_user").await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        AuditEntry::by(
            Actor::from(&user),
            user.session_account,
            "auth.session_ended",
            "session",
            session_id,
        ),
    )
    .await?;
    tx.commit().await?;
    state.realtime.recheck(Recheck::User(user.user_id));
    Ok(StatusCode::NO_CONTENT)
}

/// Ends a member's sessions in this account (admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/users/{userId}/sessions", tag = "users",
    params(("accountId" = Uuid, Path), ("userId" = Uuid, Path)),
    responses((status = 200, body = Ended), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn end_member_sessions(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Ended>> {
    scope.require(Role::Admin)?;
    let user_id = path.1;
    let mut tx = state.db.begin().await?;
    users::store::get(&mut tx, scope.account_id, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ended = store::revoke_all(
        &mut tx,
        user_id,
        None,
        Some(scope.account_id),
        "ended_by_admin",
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "user.sessions_ended", "user", user_id)
            .changes(None::<&()>, Some(&serde_json::json!({ "ended": ended }))),
    )
    .await?;
    tx.commit().await?;
    state.realtime.recheck(Recheck::User(user_id));
    Ok(ApiJson(Ended { ended }))
}
