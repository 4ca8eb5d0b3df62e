//! Who is calling. The middleware verifies a bearer token once per request (no database),
//! and extractors turn the result into a known user.

pub mod tokens;

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, request::Parts},
    middleware::Next,
    response::Response,
};
use uuid::Uuid;

use crate::platform::{client::ClientMeta, error::AppError, state::AppState};
use tokens::{AccessClaims, TokenError};

/// The result of reading the `Authorization` header, left in request extensions.
#[derive(Clone, Debug)]
pub enum Authentication {
    Valid(AccessClaims),
    Rejected(TokenError),
}

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    if let Some(token) = bearer {
        let outcome = match state.tokens.verify_access(token) {
            Ok(claims) => Authentication::Valid(claims),
            Err(err) => Authentication::Rejected(err),
        };
        req.extensions_mut().insert(outcome);
    }
    next.run(req).await
}

/// A caller with a valid access token whose user still exists.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user_id: Uuid,
    pub is_super_admin: bool,
    pub client: ClientMeta,
}

/// The verified claims, or the 401 that explains why there are none.
pub fn claims(parts: &Parts) -> Result<&AccessClaims, AppError> {
    match parts.extensions.get::<Authentication>() {
        Some(Authentication::Valid(claims)) => Ok(claims),
        Some(Authentication::Rejected(TokenError::Expired)) => Err(AppError::Unauthorized {
            code: "token_expired",
            message: "The access token has expired.",
        }),
        Some(Authentication::Rejected(TokenError::Invalid)) => Err(AppError::Unauthorized {
            code: "invalid_token",
            message: "The access token is not valid.",
        }),
        None => Err(AppError::Unauthorized {
            code: "unauthenticated",
            message: "This endpoint needs a bearer access token.",
        }),
    }
}

/// A token whose user no longer exists is as good as a forged one.
pub fn unknown_user() -> AppError {
    AppError::Unauthorized {
        code: "invalid_token",
        message: "The access token is not valid.",
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user_id = claims(parts)?.sub;
        let client = ClientMeta::from_request_parts(parts, state).await?;
        let is_super_admin = crate::tenancy::users::store::super_admin_flag(&state.db, user_id)
            .await?
            .ok_or_else(unknown_user)?;
        Ok(CurrentUser {
            user_id,
            is_super_admin,
            client,
        })
    }
}
