//! The connected accounts' receivers, kept for a few seconds: reading an account's
//! connection for every delivery was a database round trip per acknowledgement, about a
//! fifth of its cost under load.
//!
//! What a kept receiver may get wrong, and why that is safe:
//! - a new webhook secret (a reconnection): a delivery that fails its check against a kept
//!   receiver is checked again against the stored one, so no valid delivery is refused;
//! - a disconnection on another replica: for at most [`FRESH_FOR`], that replica still takes
//!   the account's deliveries (signed with the secret that was valid until then). The
//!   replica that disconnects forgets the receiver at once.
//!
//! Unknown and disconnected accounts are not kept: each of their deliveries reads the
//! database, as before, and answers 404.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use uuid::Uuid;

use crate::{
    chatwoot::signature::SignatureError,
    on_db,
    platform::{
        db::Db,
        error::{AppError, AppResult},
        kept::Kept,
    },
};

/// How long a receiver read from the database is used without reading it again.
const FRESH_FOR: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct Receivers(Kept<Instant, Receiver>);

impl Receivers {
    /// Runs `check` on the account's receiver: a kept one, and when that refuses the
    /// delivery, the one stored now (a kept receiver may predate a reconnection). 404 unless
    /// the account is connected.
    pub async fn admit<T>(
        &self,
        db: &Db,
        account_id: Uuid,
        check: impl Fn(&Receiver) -> AppResult<Result<T, SignatureError>>,
    ) -> AppResult<Result<T, SignatureError>> {
        let fresh = |read_at: Instant| read_at.elapsed() < FRESH_FOR;
        if let Some(kept) = self.0.get(account_id, fresh) {
            let verdict = check(&kept)?;
            if verdict.is_ok() {
                return Ok(verdict);
            }
        }
        let stored = self.read(db, account_id).await?.ok_or(AppError::NotFound)?;
        check(&stored)
    }

    /// The account's receiver as stored now, kept from here on.
    async fn read(&self, db: &Db, account_id: Uuid) -> AppResult<Option<Arc<Receiver>>> {
        let stored = receiver(db, account_id).await?;
        Ok(match stored {
            Some(receiver) => Some(self.0.put(account_id, Instant::now(), receiver)),
            None => {
                self.0.forget(account_id);
                None
            }
        })
    }

    /// Drops what is kept of the account (its connection changed).
    pub fn forget(&self, account_id: Uuid) {
        self.0.forget(account_id);
    }
}

/// What taking a delivery for an account needs to know: its connection's sealed webhook
/// secret and the account's Chatwoot installation.
#[derive(sqlx::FromRow)]
pub struct Receiver {
    pub webhook_secret: Option<String>,
    pub installation_id: Option<Uuid>,
}

/// The account's receiver, read in one statement; `None` unless the account exists and is
/// connected to Chatwoot.
pub async fn receiver(db: &Db, account_id: Uuid) -> AppResult<Option<Receiver>> {
    let sql = "SELECT c.webhook_secret, a.chatwoot_installation_id AS installation_id
               FROM chatwoot_connections c JOIN accounts a ON a.id = c.account_id
               WHERE c.account_id = $1 AND c.status = 'connected'";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(account_id).fetch_optional(pool).await?))
}
