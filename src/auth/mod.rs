//! Who is calling. The middleware reads the bearer credential once per request without the
//! database (a JWT is verified; an API key is only checked for shape and checksum), and
//! the extractors turn it into a live user session or a live API key.

pub mod api_keys;
pub mod attempts;
pub mod instance_tokens;
pub mod opaque;
pub mod rate_limit;
pub mod scopes;
pub mod sessions;
pub mod sso;
pub mod tokens;

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, request::Parts},
    middleware::Next,
    response::Response,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    app::state::AppState,
    platform::{client::ClientMeta, clock, error::AppError},
};
use tokens::{AccessClaims, TokenError};

/// The bearer credential as read by the middleware, left in request extensions.
#[derive(Clone, Debug)]
pub enum Authentication {
    Session(AccessClaims),
    /// A well-formed API key, kept only as its hash.
    ApiKey {
        hash: Vec<u8>,
    },
    /// An instance token, kept only as its hash; only the embedding endpoints accept it.
    InstanceToken {
        hash: Vec<u8>,
    },
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
        let outcome = if token.starts_with(opaque::INSTANCE_TOKEN_PREFIX) {
            Authentication::InstanceToken {
                hash: opaque::hash(token),
            }
        } else if token.starts_with(opaque::API_KEY_PREFIX) {
            if opaque::is_well_formed_api_key(token) {
                Authentication::ApiKey {
                    hash: opaque::hash(token),
                }
            } else {
                Authentication::Rejected(TokenError::Invalid)
            }
        } else {
            match state.tokens.verify_access(token) {
                Ok(claims) => Authentication::Session(claims),
                Err(err) => Authentication::Rejected(err),
            }
        };
        req.extensions_mut().insert(outcome);
    }
    crate::auth::rate_limit::middleware(State(state), req, next).await
}

/// The credential of this request, or the 401 that explains why there is none.
pub fn authentication(parts: &Parts) -> Result<&Authentication, AppError> {
    match parts.extensions.get::<Authentication>() {
        Some(Authentication::Rejected(TokenError::Expired)) => Err(AppError::Unauthorized {
            code: "token_expired",
            message: "The access token has expired.",
        }),
        Some(Authentication::Rejected(TokenError::Invalid)) => Err(invalid_token()),
        Some(found) => Ok(found),
        None => Err(AppError::Unauthorized {
            code: "unauthenticated",
            message: "This endpoint needs a bearer access token.",
        }),
    }
}

/// A token whose user, session or key no longer exists is as good as a forged one.
pub fn invalid_token() -> AppError {
    AppError::Unauthorized {
        code: "invalid_token",
        message: "The access token is not valid.",
    }
}

/// Refuses a session that was ended or outlived its absolute lifetime.
pub fn ensure_session_live(
    revoked_at: Option<OffsetDateTime>,
    absolute_expires_at: OffsetDateTime,
) -> Result<(), AppError> {
    if revoked_at.is_some() {
        return Err(AppError::Unauthorized {
            code: "session_revoked",
            message: "The session has ended; sign in again.",
        });
    }
    if absolute_expires_at <= clock::now() {
        return Err(AppError::Unauthorized {
            code: "session_expired",
            message: "The session has expired; sign in again.",
        });
    }
    Ok(())
}

/// A person with a live session (API keys are refused: these routes act for a person).
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// The account the session was opened for; `None` for operator sessions.
    pub session_account: Option<Uuid>,
    pub is_super_admin: bool,
    pub client: ClientMeta,
}

/// `Option<CurrentUser>`: `None` for a request without a bearer credential (public routes
/// that show more to a super admin); a credential that does not hold is still refused.
impl axum::extract::OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        if parts.extensions.get::<Authentication>().is_none() {
            return Ok(None);
        }
        <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let claims = match authentication(parts)? {
            Authentication::Session(claims) => claims.clone(),
            _ => {
                return Err(AppError::Forbidden {
                    code: "user_token_required",
                    message: "This endpoint acts for a person and needs a user's access token, not an API key or instance token.",
                });
            }
        };
        let client = ClientMeta::from_request_parts(parts, state).await?;
        let session = sessions::store::principal(&state.db, claims.sub, claims.sid)
            .await?
            .ok_or_else(invalid_token)?;
        ensure_session_live(session.revoked_at, session.absolute_expires_at)?;
        Ok(CurrentUser {
            user_id: claims.sub,
            session_id: claims.sid,
            session_account: session.account_id,
            // Super-admin powers come with operator sessions only, never with a session
            // that single sign-on opened for one account.
            is_super_admin: session.is_super_admin && session.account_id.is_none(),
            client,
        })
    }
}
