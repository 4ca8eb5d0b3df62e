//! Each account's effective entitlements, kept as of the account's revision. Every change
//! to them is audited, and an audit record moves the revision on in the same transaction
//! (`audit::record`), so what is kept for the revision a request authenticated at is what
//! the database holds. Saves a query on every Kanban request, which checks the plan first.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use uuid::Uuid;

use super::{Entitlements, PlanDefaults, store};
use crate::{
    platform::{db::Conn, error::AppResult},
    tenancy::AccountScope,
};

#[derive(Default)]
pub struct PlanCache(Mutex<HashMap<Uuid, (i64, Arc<Entitlements>)>>);

impl PlanCache {
    /// The account's entitlements as of `scope`'s revision (or later).
    pub async fn effective(
        &self,
        conn: impl Into<Conn<'_>>,
        defaults: &PlanDefaults,
        scope: &AccountScope,
    ) -> AppResult<Arc<Entitlements>> {
        let kept = self
            .lock()
            .get(&scope.account_id)
            .filter(|(revision, _)| *revision == scope.revision)
            .map(|(_, plan)| plan.clone());
        if let Some(plan) = kept {
            return Ok(plan);
        }
        // Read after the revision was: never older than it.
        let plan = Arc::new(store::effective(conn, defaults, scope.account_id).await?);
        self.lock()
            .insert(scope.account_id, (scope.revision, plan.clone()));
        Ok(plan)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (i64, Arc<Entitlements>)>> {
        // Entries are replaced whole: a panic elsewhere cannot leave one half written.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
