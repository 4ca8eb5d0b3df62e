//! Tenancy is a type: an account-scoped handler cannot run without an [`AccountScope`],
//! which exists only after the caller's right to act in `:accountId` was checked — a
//! member's live session, or a live API key of that account holding the route's scope.

use std::collections::HashMap;

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    app::state::AppState,
    auth::{self, Authentication, api_keys, scopes},
    platform::{client::ClientMeta, error::AppError},
};

/// A role inside one account, ordered by power. `SuperAdmin` is global and never stored
/// on a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
    SuperAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::SuperAdmin => "super_admin",
        }
    }

    /// Parses a membership role as stored (never `super_admin`).
    pub fn from_membership(raw: &str) -> Option<Role> {
        match raw {
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// What may refuse a write in an account for a reason tenancy does not know (billing: an
/// account that has not paid). Registered at start-up; asked on the authorisation of every
/// write (any method but GET, HEAD and OPTIONS) by anyone but a super admin.
pub trait WriteGate: Send + Sync {
    fn check<'a>(
        &'a self,
        state: &'a AppState,
        scope: &'a AccountScope,
        method: &'a axum::http::Method,
        path: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), AppError>>;
}

/// Who acts in the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    User { user_id: Uuid, session_id: Uuid },
    ApiKey { key_id: Uuid },
}

/// Proof that `principal` may act in `account_id` with `role`.
#[derive(Clone, Debug)]
pub struct AccountScope {
    pub account_id: Uuid,
    /// The account's revision when this request was authorised.
    pub revision: i64,
    pub principal: Principal,
    pub role: Role,
    pub client: ClientMeta,
}

impl AccountScope {
    /// Refuses callers below `minimum`. Only members reach this point, so a 403 reveals
    /// nothing they could not already see.
    pub fn require(&self, minimum: Role) -> Result<(), AppError> {
        if self.role >= minimum {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Refuses API keys on routes that act for a person (managing keys, for example).
    pub fn require_person(&self) -> Result<Uuid, AppError> {
        match self.principal {
            Principal::User { user_id, .. } => Ok(user_id),
            Principal::ApiKey { .. } => Err(AppError::Forbidden {
                code: "user_token_required",
                message: "This endpoint acts for a person and needs a user's access token, not an API key.",
            }),
        }
    }
}

impl FromRequestParts<AppState> for AccountScope {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let credential = auth::authentication(parts)?.clone();
        let client = ClientMeta::from_request_parts(parts, state).await?;
        let Path(ids) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        // A malformed id is simply not found, like an id of another tenant.
        let account_id = ids
            .get("accountId")
            .and_then(|raw| Uuid::parse_str(raw).ok())
            .ok_or(AppError::NotFound)?;
        let (principal, role, revision) = match credential {
            Authentication::Session(claims) => {
                let (role, revision) =
                    member_role(state, account_id, claims.sub, claims.sid).await?;
                let principal = Principal::User {
                    user_id: claims.sub,
                    session_id: claims.sid,
                };
                (principal, role, revision)
            }
            Authentication::ApiKey { hash } => {
                let needed = scopes::required(parts.uri.path(), &parts.method);
                let (key_id, revision) =
                    api_keys::authorize(state, &hash, account_id, needed.as_deref()).await?;
                (Principal::ApiKey { key_id }, Role::Admin, revision)
            }
            Authentication::Rejected(_) | Authentication::InstanceToken { .. } => {
                return Err(auth::invalid_token());
            }
        };
        let scope = AccountScope {
            account_id,
            revision,
            principal,
            role,
            client,
        };
        let reads = matches!(
            parts.method,
            axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
        );
        if !reads && role != Role::SuperAdmin {
            state
                .write_gate
                .check(state, &scope, &parts.method, parts.uri.path())
                .await?;
        }
        Ok(scope)
    }
}

/// The role of a signed-in user in the account and the account's revision, checking their
/// session in the same query.
pub(crate) async fn member_role(
    state: &AppState,
    account_id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<(Role, i64), AppError> {
    let access = super::accounts::store::access(&state.db, account_id, user_id, session_id)
        .await?
        .ok_or_else(auth::invalid_token)?;
    auth::ensure_session_live(access.session_revoked_at, access.session_expires_at)?;
    // A session opened for one account acts only there.
    if access
        .session_account
        .is_some_and(|bound| bound != account_id)
    {
        return Err(AppError::NotFound);
    }
    let account_active = access.account_active().ok_or(AppError::NotFound)?;
    let role = if access.is_super_admin && access.session_account.is_none() {
        Role::SuperAdmin
    } else {
        access.role().ok_or(AppError::NotFound)?
    };
    if !account_active && role != Role::SuperAdmin {
        return Err(AppError::Forbidden {
            code: "account_suspended",
            message: "This account is suspended.",
        });
    }
    Ok((role, access.revision.unwrap_or_default()))
}
