//! Who is calling and what they may touch, with Chatwoot's status codes and error bodies:
//! bad credentials, non-membership and role denials are all 401 in Chatwoot; only a
//! missing record is 404.

use axum::{
    Json,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::model::Db;
use super::wire::Role;

/// A Chatwoot-style error answer.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    body: Value,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// `render_unauthorized(message)`.
    pub fn unauthorized(message: &str) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            body: json!({ "error": message }),
        }
    }

    /// devise_token_auth's answer when no valid session headers came.
    pub fn sign_in_required() -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            body: json!({ "errors": ["You need to sign in or sign up before continuing."] }),
        }
    }

    /// A Pundit denial.
    pub fn not_allowed() -> Self {
        Self::unauthorized("You are not authorized to do this action")
    }

    pub fn not_found() -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            body: json!({ "error": "Resource could not be found" }),
        }
    }

    pub fn bad_request(message: &str) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "error": message }),
        }
    }

    /// `render_record_invalid`.
    pub fn invalid(message: impl Into<String>, attribute: &str) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "message": message.into(), "attributes": [attribute] }),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// The user behind `api_access_token` or the devise session headers.
pub(super) fn current_user(db: &Db, headers: &HeaderMap) -> ApiResult<i64> {
    if let Some(token) = header(headers, "api_access_token") {
        if let Some(user) = db.users.values().find(|u| u.api_token == token) {
            return Ok(user.id);
        }
        // A platform app token is a valid token but not a user: Chatwoot's bot gate
        // turns it away.
        if db.platform_apps.values().any(|a| a.token == token) {
            return Err(ApiError::unauthorized(
                "Access to this endpoint is not authorized for bots",
            ));
        }
        return Err(ApiError::unauthorized("Invalid Access Token"));
    }
    let (Some(access_token), Some(client), Some(uid)) = (
        header(headers, "access-token"),
        header(headers, "client"),
        header(headers, "uid"),
    ) else {
        return Err(ApiError::sign_in_required());
    };
    let now = super::model::now().unix_timestamp();
    db.user_by_email(uid)
        .filter(|user| {
            user.sessions
                .iter()
                .any(|s| s.client == client && s.access_token == access_token && s.expiry > now)
        })
        .map(|user| user.id)
        .ok_or_else(ApiError::sign_in_required)
}

/// The caller and their role in `account_id` (`EnsureCurrentAccountHelper`).
pub(super) fn member(db: &Db, headers: &HeaderMap, account_id: i64) -> ApiResult<(i64, Role)> {
    let user_id = current_user(db, headers)?;
    let account = db
        .accounts
        .get(&account_id)
        .ok_or_else(ApiError::not_found)?;
    if account.status != "active" {
        return Err(ApiError::unauthorized("Account is suspended"));
    }
    let membership = db
        .member(account_id, user_id)
        .ok_or_else(|| ApiError::unauthorized("You are not authorized to access this account"))?;
    Ok((user_id, membership.role))
}

/// Like `member`, and the caller must be an administrator.
pub(super) fn admin(db: &Db, headers: &HeaderMap, account_id: i64) -> ApiResult<i64> {
    match member(db, headers, account_id)? {
        (user_id, Role::Administrator) => Ok(user_id),
        (_, Role::Agent) => Err(ApiError::not_allowed()),
    }
}

/// The platform app behind `api_access_token` (`PlatformController#set_platform_app`).
pub(super) fn platform_app(db: &Db, headers: &HeaderMap) -> ApiResult<i64> {
    let token = header(headers, "api_access_token");
    db.platform_apps
        .iter()
        .find(|(_, app)| Some(app.token.as_str()) == token)
        .map(|(id, _)| *id)
        .ok_or_else(|| ApiError::unauthorized("Invalid access_token"))
}

pub(super) fn non_permissible() -> ApiError {
    ApiError::unauthorized("Non permissible resource")
}
