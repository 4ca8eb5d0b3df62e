//! Processes stored deliveries: one at a time per worker, leased so a crashed worker's
//! delivery is taken again after the lease, retried with exponential backoff, and dead
//! after [`MAX_ATTEMPTS`].

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::store::{self, Claimed};
use crate::{
    chatwoot::connection,
    platform::{
        clock,
        error::{AppError, AppResult},
        state::AppState,
    },
    tenancy::accounts,
};

pub const MAX_ATTEMPTS: i32 = 8;
const LEASE: time::Duration = time::Duration::minutes(2);
/// How often the worker looks for due retries when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);

/// Runs until `shutdown`; woken early by [`AppState::deliveries`] when a delivery arrives.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        loop {
            match store::claim(&state.db, clock::now(), LEASE).await {
                Ok(Some(delivery)) => settle(&state, delivery).await,
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!(error = %err, "claiming a webhook delivery failed");
                    break;
                }
            }
            if shutdown.is_cancelled() {
                return;
            }
        }
        tokio::select! {
            () = state.deliveries.notified() => {},
            () = tokio::time::sleep(POLL) => {},
            () = shutdown.cancelled() => return,
        }
    }
}

async fn settle(state: &AppState, delivery: Claimed) {
    let outcome = match process(state, &delivery).await {
        Ok(()) => store::finish(&state.db, delivery.id, clock::now()).await,
        Err(err) => {
            let retry_at = (delivery.attempts < MAX_ATTEMPTS).then(|| {
                let backoff = 2i64
                    .saturating_pow(delivery.attempts.unsigned_abs())
                    .min(3600);
                clock::now() + time::Duration::seconds(backoff)
            });
            tracing::warn!(delivery = %delivery.id, event = delivery.event, attempts = delivery.attempts,
                error = %err, dead = retry_at.is_none(), "webhook delivery failed");
            store::fail(&state.db, delivery.id, &err.to_string(), retry_at).await
        }
    };
    if let Err(err) = outcome {
        tracing::warn!(delivery = %delivery.id, error = %err, "recording a delivery's outcome failed");
    }
}

/// What an event does. Inbox events carry no inbox id (Chatwoot sends the settings and
/// the channel), so they are a signal to pull the account's inboxes again.
async fn process(state: &AppState, delivery: &Claimed) -> AppResult<()> {
    match delivery.event.as_str() {
        "inbox_created" | "inbox_updated" => {
            let account = accounts::store::get(&state.db, delivery.account_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let (link, credential) = connection::credential(state, &account).await?;
            connection::pull(state, account.id, &link, &credential).await?;
            Ok(())
        }
        other => {
            let body: serde_json::Value = serde_json::from_str(&delivery.body)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored body is not JSON: {e}")))?;
            crate::kanban::follow::apply(state, delivery.account_id, other, &body).await
        }
    }
}
