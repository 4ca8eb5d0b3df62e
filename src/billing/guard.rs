//! An account whose grace period is over is read-only: it can sign in, read, export, pay
//! and change its plan, and every other write answers 402 `subscription_suspended`.
//! Checked on every write's authorisation (so a grace period ends on time even between the
//! scheduled passes that record it), from the account's status kept per revision: every
//! transition is audited, which moves the revision on, so a payment lifts the suspension
//! at the next request on every replica.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use time::OffsetDateTime;

use super::subscriptions::Status;
use crate::{
    app::state::AppState,
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

/// What a suspended account may still write: its billing (to pay or change plan) and
/// tickets for its realtime stream (a read).
const STILL_WRITABLE: [&str; 2] = ["billing", "realtime"];

impl WriteGate for SuspendedWrites {
    fn check<'a>(
        &'a self,
        state: &'a AppState,
        scope: &'a AccountScope,
        path: &'a str,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            // …/accounts/{id}/<section>/…
            let mut segments = path.split('/').skip_while(|s| *s != "accounts").skip(2);
            let section = segments.next().unwrap_or_default();
            if STILL_WRITABLE.contains(&section) {
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
