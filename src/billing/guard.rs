//! An account whose grace period is over is read-only: it can sign in, read, export, pay
//! and change its plan, and every other write answers 402 `subscription_suspended`.
//! Checked on every write's authorisation (so a grace period ends on time even between the
//! scheduled passes that record it), from the account's status kept per revision: every
//! transition is audited, which moves the revision on, so a payment lifts the suspension
//! at the next request on every replica.

use std::sync::Arc;

use axum::http::Method;
use futures_util::future::BoxFuture;
use time::OffsetDateTime;

use super::subscriptions::Status;
use crate::{
    app::state::AppState,
    auth::scopes::section_of,
    on_db,
    platform::{clock, db::Db, error::AppError, error::AppResult, kept::Kept},
    tenancy::{AccountScope, WriteGate},
};

/// What access the account's subscription leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub status: Option<Status>,
    pub grace_until: Option<OffsetDateTime>,
}

impl Standing {
    /// Suspended, or past due with the grace over (before the schedule records it).
    pub fn suspended(&self, now: OffsetDateTime) -> bool {
        match self.status {
            Some(Status::Suspended) => true,
            Some(Status::PastDue) => self.grace_until.is_some_and(|g| g <= now),
            _ => false,
        }
    }
}

#[derive(Default)]
pub struct Standings(Kept<i64, Standing>);

impl Standings {
    pub async fn of(&self, db: &Db, scope: &AccountScope) -> AppResult<Arc<Standing>> {
        if let Some(kept) = self.0.get(scope.account_id, |rev| rev == scope.revision) {
            return Ok(kept);
        }
        let sql = "SELECT status, grace_until FROM subscriptions
                   WHERE account_id = $1 AND status <> 'canceled'";
        let row: Option<(String, Option<OffsetDateTime>)> = on_db!(db, pool =>
            sqlx::query_as(sql).bind(scope.account_id).fetch_optional(pool).await?);
        let standing = Standing {
            status: row.as_ref().and_then(|(s, _)| Status::parse(s)),
            grace_until: row.and_then(|(_, g)| g),
        };
        Ok(self.0.put(scope.account_id, scope.revision, standing))
    }
}

/// The write gate billing registers: refuses writes of suspended accounts.
pub struct SuspendedWrites;

/// What a suspended account may still write: what ends access (revoking sessions and API
/// keys, deactivating a member, disconnecting Chatwoot), what shrinks it to fit a cheaper
/// plan (any DELETE does both), its billing (to pay or change plan) and realtime tickets
/// (a read).
fn still_writable(method: &Method, path: &str) -> bool {
    let section = section_of(path).unwrap_or_default();
    *method == Method::DELETE
        || matches!(section, "billing" | "realtime")
        || path.ends_with("/deactivate")
        || path.ends_with("/chatwoot/disconnect")
}

impl WriteGate for SuspendedWrites {
    fn check<'a>(
        &'a self,
        state: &'a AppState,
        scope: &'a AccountScope,
        method: &'a Method,
        path: &'a str,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            if still_writable(method, path) {
                return Ok(());
            }
            let standing = state.billing.standings.of(&state.db, scope).await?;
            if standing.suspended(clock::now()) {
                return Err(AppError::PaymentRequired {
                    code: "subscription_suspended",
                    message: "The subscription is suspended for an unpaid charge: the account is read-only until it is paid.",
                    link: format!("{}/settings/billing", state.config.public_url),
                });
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspended_account_can_still_pay_shrink_and_lock_itself_down() {
        let account = "/api/v1/accounts/0190f0e6-0000-7000-8000-000000000000";
        let writable =
            |method: Method, rest: &str| still_writable(&method, &format!("{account}{rest}"));
        assert!(writable(Method::POST, "/billing/subscription"));
        assert!(writable(Method::PUT, "/billing/subscription"));
        assert!(writable(Method::DELETE, "/boards/x"));
        assert!(writable(Method::DELETE, "/users/x/sessions"));
        assert!(writable(Method::POST, "/users/x/deactivate"));
        assert!(writable(Method::POST, "/chatwoot/disconnect"));
        assert!(writable(Method::POST, "/realtime/tickets"));
        assert!(!writable(Method::POST, "/boards"));
        assert!(!writable(Method::PUT, "/users/x"));
        assert!(!writable(Method::POST, "/users/x/activate"));
        assert!(!writable(Method::PATCH, "/boards/x/cards/y"));
        assert!(!writable(Method::POST, "/chatwoot/connect"));
    }
}
