//! Accounts (tenants), users and their memberships, teams; and the scope every
//! account-level handler needs.

pub mod accounts;
mod grants;
pub mod list_cache;
mod scope;
pub mod teams;
pub mod users;

use utoipa_axum::router::OpenApiRouter;

use crate::app::state::AppState;

pub use grants::{Grant, GrantParams, Grants, still_holds};
pub(crate) use scope::member_role;
pub use scope::{AccountScope, Principal, RecalledScope, Role, WriteGate};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(accounts::router())
        .merge(users::router())
        .merge(teams::router())
}
