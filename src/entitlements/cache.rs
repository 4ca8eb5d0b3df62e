//! Each account's effective entitlements, kept as of the account's revision. Every change
//! to them is audited, and an audit record moves the revision on in the same transaction
//! (`audit::record`), so what is kept for the revision a request authenticated at is what
//! the database holds. Saves a query on every Kanban request, which checks the plan first.

use std::sync::Arc;

use super::{Entitlements, PlanDefaults, store};
use crate::{
    platform::{db::Conn, error::AppResult, kept::Kept},
    tenancy::AccountScope,
};

#[derive(Default)]
pub struct PlanCache(Kept<i64, Entitlements>);

impl PlanCache {
    /// The account's entitlements as of `scope`'s revision (or later).
    pub async fn effective(
        &self,
        conn: impl Into<Conn<'_>>,
        defaults: &PlanDefaults,
        scope: &AccountScope,
    ) -> AppResult<Arc<Entitlements>> {
        let account_id = scope.account_id;
        if let Some(plan) = self.0.get(account_id, |kept| kept == scope.revision) {
            return Ok(plan);
        }
        // Read after the revision was: never older than it.
        let plan = store::effective(conn, defaults, account_id).await?;
        Ok(self.0.put(account_id, scope.revision, plan))
    }
}
