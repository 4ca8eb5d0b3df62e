//! Processes stored deliveries: taken in batches, leased so a crashed worker's deliveries
//! are taken again after the lease, retried with exponential backoff, and dead after
//! [`MAX_ATTEMPTS`]. Each delivery of a batch is processed and recorded on its own, in
//! the order received; the batch shares only the claim (one query) and the lease.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::store::{self, Claimed};
use crate::{
    chatwoot::connection,
    kanban::writeback,
    platform::{
        clock,
        db::Engine,
        error::{AppError, AppResult},
        state::AppState,
    },
    tenancy::accounts,
};

pub const MAX_ATTEMPTS: i32 = 8;
/// Deliveries one claim takes.
const BATCH: i64 = 32;
/// Workers per hub on PostgreSQL.
const PG_WORKERS: usize = 2;
/// How often the worker looks for due retries when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);

/// Runs until `shutdown`; woken early by [`AppState::deliveries`] when a delivery arrives.
/// On PostgreSQL several workers claim side by side (`SKIP LOCKED` gives each its own
/// rows, as it does across replicas), so one's round trips and commits overlap another's;
/// SQLite has a single writer, so one worker.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let workers = match state.db.engine() {
        Engine::Postgres => PG_WORKERS,
        Engine::Sqlite => 1,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        tasks.spawn(work(state.clone(), shutdown.clone()));
    }
    while tasks.join_next().await.is_some() {}
}

async fn work(state: AppState, shutdown: CancellationToken) {
    let lease = lease(&state);
    loop {
        loop {
            let taken_at = clock::now();
            match store::claim_batch(&state.db, taken_at, lease, BATCH).await {
                Ok(batch) if batch.is_empty() => break,
                Ok(batch) => {
                    // A full batch means a backlog: wake another worker to share it.
                    if batch.len() as i64 == BATCH {
                        state.deliveries.notify_one();
                    }
                    work_through(&state, batch, taken_at + lease / 2, &shutdown).await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "claiming webhook deliveries failed");
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

/// `WEBHOOK_LEASE_SECONDS`, as the store takes it.
pub fn lease(state: &AppState) -> time::Duration {
    time::Duration::try_from(state.config.webhook_lease).unwrap_or(time::Duration::minutes(2))
}

/// Settles a batch in order. A delivery is started only before `start_by` (half the lease),
/// so each one has at least half a lease to finish before another worker may take it; the
/// deliveries not started by then, or when the hub shuts down, go back to the queue.
async fn work_through(
    state: &AppState,
    batch: Vec<Claimed>,
    start_by: time::OffsetDateTime,
    shutdown: &CancellationToken,
) {
    let mut batch = batch.into_iter();
    while let Some(delivery) = batch.next() {
        if shutdown.is_cancelled() || clock::now() >= start_by {
            let rest: Vec<Claimed> = std::iter::once(delivery).chain(batch).collect();
            if let Err(err) = store::release(&state.db, &rest).await {
                tracing::warn!(error = %err, "giving back webhook deliveries failed");
            }
            return;
        }
        settle(state, delivery).await;
    }
}

async fn settle(state: &AppState, delivery: Claimed) {
    let outcome = match process(state, &delivery).await {
        Ok(()) => store::finish(&state.db, &delivery, clock::now()).await,
        Err(err) => {
            let retry_at = (delivery.attempts < MAX_ATTEMPTS).then(|| {
                let backoff = 2i64
                    .saturating_pow(delivery.attempts.unsigned_abs())
                    .min(3600);
                clock::now() + time::Duration::seconds(backoff)
            });
            tracing::warn!(delivery = %delivery.id, event = delivery.event, attempts = delivery.attempts,
                error = %err, dead = retry_at.is_none(), "webhook delivery failed");
            store::fail(&state.db, &delivery, &err.to_string(), retry_at).await
        }
    };
    match outcome {
        Ok(true) => {}
        Ok(false) => tracing::warn!(delivery = %delivery.id, attempts = delivery.attempts,
            "a webhook delivery outlived its lease and was taken again; its outcome is not recorded"),
        Err(err) => {
            tracing::warn!(delivery = %delivery.id, error = %err, "recording a delivery's outcome failed")
        }
    }
}

/// What an event does. Inbox events carry no inbox id (Chatwoot sends the settings and
/// the channel), so they are a signal to pull the account's inboxes again. The hub's own
/// jobs (write-backs) share the queue.
async fn process(state: &AppState, delivery: &Claimed) -> AppResult<()> {
    match delivery.event.as_str() {
        writeback::EVENT => writeback::perform(state, delivery.account_id, &delivery.body).await,
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
