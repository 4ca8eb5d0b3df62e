//! Tenancy is a type: an account-scoped handler cannot run without an [`AccountScope`],
//! which exists only after the caller's right to act in `:accountId` was checked — a
//! member's live session, or a live API key of that account holding the route's scope.

use std::collections::HashMap;

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::grants::Grant;
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
        Ok(authorize(parts, state, false).await?.scope)
    }
}

/// An [`AccountScope`] for a person's hot write, taken from this replica's memory of their
/// session's last authorisation in the account when it has one (no database read), else
/// authorised as [`AccountScope`] is. Only for a write that requires
/// [`RecalledScope::to_check`] to hold in its own statement ([`super::still_holds`]) and,
/// when it stores nothing, goes on with [`RecalledScope::confirm`].
pub struct RecalledScope {
    pub scope: AccountScope,
    grant: Option<Grant>,
    /// Set when the grant came from memory (the write gate and the plan were then judged at a
    /// remembered revision): the request's method and path, to ask the write gate again.
    recalled: Option<(axum::http::Method, String)>,
}

impl FromRequestParts<AppState> for RecalledScope {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        authorize(parts, state, true).await
    }
}

impl RecalledScope {
    /// What the session holds in the account; API keys act for no person and hold none.
    pub fn grant(&self) -> Result<Grant, AppError> {
        self.scope.require_person()?;
        self.grant.ok_or_else(auth::invalid_token)
    }

    /// The grant the write must check itself: the remembered one; none when the database was
    /// read for this request.
    pub fn to_check(&self) -> Option<Grant> {
        self.grant.filter(|_| self.recalled.is_some())
    }

    /// The scope as the database says now, for a request whose write stored nothing or that
    /// a remembered revision refused: a recalled grant is forgotten and the caller authorised
    /// again (a revoked session, a lost membership or a suspended account answers as on any
    /// route). A scope read from the database already is given back as it is.
    pub async fn confirm(self, state: &AppState) -> Result<RecalledScope, AppError> {
        let (Some(grant), Some((method, path))) = (self.grant, &self.recalled) else {
            return Ok(self);
        };
        let account_id = self.scope.account_id;
        state.grants.forget(account_id, grant.session_id);
        let (fresh, expires_at) =
            authorized(state, account_id, grant.user_id, grant.session_id).await?;
        let scope = AccountScope {
            role: fresh.role,
            revision: fresh.revision,
            ..self.scope
        };
        gate(state, &scope, method, path).await?;
        state.grants.remember(account_id, fresh, expires_at);
        Ok(RecalledScope {
            scope,
            grant: Some(fresh),
            recalled: None,
        })
    }
}

/// Checks the caller's right to act in `:accountId`; with `recall`, a session's grant may come
/// from memory (a refusal of the write gate at a remembered revision is confirmed from the
/// database: the revision may have moved on).
async fn authorize(
    parts: &mut Parts,
    state: &AppState,
    recall: bool,
) -> Result<RecalledScope, AppError> {
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
    let (principal, role, revision, grant, recalled) = match credential {
        Authentication::Session(claims) => {
            let principal = Principal::User {
                user_id: claims.sub,
                session_id: claims.sid,
            };
            let remembered = recall
                .then(|| state.grants.recall(account_id, claims.sid, claims.sub))
                .flatten();
            let (grant, recalled) = match remembered {
                Some(grant) => (grant, true),
                None => {
                    let (grant, expires_at) =
                        authorized(state, account_id, claims.sub, claims.sid).await?;
                    if recall {
                        state.grants.remember(account_id, grant, expires_at);
                    }
                    (grant, false)
                }
            };
            (principal, grant.role, grant.revision, Some(grant), recalled)
        }
        Authentication::ApiKey { hash } => {
            let needed = scopes::required(parts.uri.path(), &parts.method);
            let (key_id, revision) =
                api_keys::authorize(state, &hash, account_id, needed.as_deref()).await?;
            (
                Principal::ApiKey { key_id },
                Role::Admin,
                revision,
                None,
                false,
            )
        }
        Authentication::Rejected(_) | Authentication::InstanceToken { .. } => {
            return Err(auth::invalid_token());
        }
    };
    let scope = RecalledScope {
        scope: AccountScope {
            account_id,
            revision,
            principal,
            role,
            client,
        },
        grant,
        recalled: recalled.then(|| (parts.method.clone(), parts.uri.path().to_owned())),
    };
    match gate(state, &scope.scope, &parts.method, parts.uri.path()).await {
        Ok(()) => Ok(scope),
        Err(_) if recalled => scope.confirm(state).await,
        Err(refused) => Err(refused),
    }
}

/// Asks the write gate about any write (any method but GET, HEAD and OPTIONS) by anyone but a
/// super admin.
async fn gate(
    state: &AppState,
    scope: &AccountScope,
    method: &axum::http::Method,
    path: &str,
) -> Result<(), AppError> {
    let reads = matches!(
        *method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if reads || scope.role == Role::SuperAdmin {
        return Ok(());
    }
    state.write_gate.check(state, scope, method, path).await
}

/// The role of a signed-in user in the account and the account's revision, checking their
/// session in the same query.
pub(crate) async fn member_role(
    state: &AppState,
    account_id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<(Role, i64), AppError> {
    let (grant, _) = authorized(state, account_id, user_id, session_id).await?;
    Ok((grant.role, grant.revision))
}

/// What the session holds in the account, read from the database, and when the session
/// expires.
async fn authorized(
    state: &AppState,
    account_id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<(Grant, OffsetDateTime), AppError> {
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
    let grant = Grant {
        session_id,
        user_id,
        role,
        revision: access.revision.unwrap_or_default(),
    };
    Ok((grant, access.session_expires_at))
}
