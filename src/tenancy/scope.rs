//! Tenancy is a type: an account-scoped handler cannot run without an [`AccountScope`],
//! which exists only after the caller's membership and role in `:accountId` were checked.

use std::collections::HashMap;

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth,
    platform::{client::ClientMeta, error::AppError, state::AppState},
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

/// Proof that `user_id` may act in `account_id` with `role`.
#[derive(Clone, Debug)]
pub struct AccountScope {
    pub account_id: Uuid,
    pub user_id: Uuid,
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
}

impl FromRequestParts<AppState> for AccountScope {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user_id = auth::claims(parts)?.sub;
        let client = ClientMeta::from_request_parts(parts, state).await?;
        let Path(ids) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        // A malformed id is simply not found, like an id of another tenant.
        let account_id = ids
            .get("accountId")
            .and_then(|raw| Uuid::parse_str(raw).ok())
            .ok_or(AppError::NotFound)?;
        let access = super::accounts::store::access(&state.db, account_id, user_id)
            .await?
            .ok_or_else(auth::unknown_user)?;
        let account_active = access.account_active.ok_or(AppError::NotFound)?;
        let role = if access.is_super_admin {
            Role::SuperAdmin
        } else {
            access.role.ok_or(AppError::NotFound)?
        };
        if !account_active && role != Role::SuperAdmin {
            return Err(AppError::Forbidden {
                code: "account_suspended",
                message: "This account is suspended.",
            });
        }
        Ok(AccountScope {
            account_id,
            user_id,
            role,
            client,
        })
    }
}
