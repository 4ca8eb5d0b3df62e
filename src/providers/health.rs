//! Health that tells the truth. Every `INSTANCE_CHECK_SECONDS` each live number is read
//! back from its provider; a number said connected but silent for `INSTANCE_STALE_MINUTES`
//! is `stale`, not believed. A server that answers none of its numbers' checks is one
//! fact (its provider turns `unreachable`, once), not a change on every number it holds.
//!
//! Checks are claimed by moving a number's `check_due_at` forward in the statement that
//! picks it (`SKIP LOCKED` on PostgreSQL), so replicas share the work without checking a
//! number twice, and each next check is jittered so numbers made together drift apart.

use std::{collections::BTreeMap, time::Duration};

use futures_util::{StreamExt, stream};
use serde_json::json;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    adapters::{Connection, Status},
    http::ProviderError,
    instances::{self, live::Live, store},
    store as servers,
};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    platform::{clock, error::AppResult},
    realtime::AccountNews,
};

/// Numbers claimed at a time.
const BATCH: i64 = 200;
/// Checks in flight at once, across servers.
const IN_FLIGHT: usize = 16;

/// A provider's status after a call to its server.
pub fn server_status(outcome: &Result<(), ProviderError>) -> &'static str {
    match outcome {
        Ok(()) => "ok",
        Err(ProviderError::CredentialsRefused) => "credentials_invalid",
        Err(_) => "unreachable",
    }
}

/// Records a provider's status; a change is audited and announced on the account's stream.
pub async fn record_server(
    state: &AppState,
    actor: Actor,
    account_id: Uuid,
    provider_id: Uuid,
    status: &'static str,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let before = servers::checked(&mut tx, account_id, provider_id, status, clock::now()).await?;
    if let Some(before) = &before {
        let entry = AuditEntry::by(
            actor,
            Some(account_id),
            "provider.status_changed",
            "provider",
            provider_id,
        )
        .changes(
            Some(&json!({"status": before})),
            Some(&json!({"status": status})),
        );
        audit::record(&mut tx, entry).await?;
    }
    tx.commit().await?;
    if before.is_some() {
        state.realtime.tell(AccountNews {
            account_id,
            kind: "provider.status_changed".into(),
            data: json!({"provider_id": provider_id, "status": status}),
        });
    }
    Ok(())
}

/// Until `shutdown`: checks whatever is due, looking every few seconds.
pub async fn watch(state: AppState, shutdown: CancellationToken) {
    let Some(every) = state.config.providers.check_every else {
        return;
    };
    let mut tick =
        tokio::time::interval((every / 12).clamp(Duration::from_secs(1), Duration::from_secs(5)));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(err) = check_due(&state, every).await {
                    tracing::warn!(error = %err, "instance health checks failed");
                }
            }
            () = shutdown.cancelled() => return,
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub checked: usize,
    pub changed: usize,
    /// Servers that answered none of their numbers.
    pub unreachable: usize,
}

/// Checks every number due now; `every` is the time to the next check of each.
pub async fn check_due(state: &AppState, every: Duration) -> AppResult<Pass> {
    let mut pass = Pass::default();
    loop {
        let now = clock::now();
        let lease = now + every;
        let due = store::claim_checks(&state.db, now, lease, BATCH).await?;
        if due.is_empty() {
            break;
        }
        let mut by_server: BTreeMap<(Uuid, Uuid), Vec<store::Due>> = BTreeMap::new();
        for number in due {
            by_server
                .entry((number.account_id, number.provider_id))
                .or_default()
                .push(number);
        }
        let outcomes: Vec<AppResult<Pass>> = stream::iter(by_server)
            .map(|((account_id, provider_id), numbers)| {
                check_server(state, account_id, provider_id, numbers, every)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        for outcome in outcomes {
            let server = outcome?;
            pass.checked += server.checked;
            pass.changed += server.changed;
            pass.unreachable += server.unreachable;
        }
    }
    count_by_status(state).await?;
    Ok(pass)
}

/// Checks the due numbers of one server.
async fn check_server(
    state: &AppState,
    account_id: Uuid,
    provider_id: Uuid,
    numbers: Vec<store::Due>,
    every: Duration,
) -> AppResult<Pass> {
    let read: Vec<(store::Due, Result<Connection, ProviderError>)> = stream::iter(numbers)
        .map(|number| async move {
            let outcome = read_back(state, account_id, number.id).await;
            (number, outcome)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let dead = read
        .iter()
        .all(|(_, outcome)| matches!(outcome, Err(ProviderError::Unreachable(_))));
    let mut pass = Pass {
        checked: read.len(),
        ..Pass::default()
    };
    if dead {
        // One fact about the server; its numbers keep their last known status.
        record_server(
            state,
            Actor::system(),
            account_id,
            provider_id,
            "unreachable",
        )
        .await?;
        pass.unreachable = 1;
        for (number, _) in &read {
            reschedule(state, number, every).await?;
        }
        return Ok(pass);
    }
    record_server(state, Actor::system(), account_id, provider_id, "ok").await?;
    let stale_after = state.config.providers.stale_after;
    for (number, outcome) in read {
        let connection = match outcome {
            Ok(connection) => believed(connection, &number, stale_after),
            Err(ProviderError::CredentialsRefused) => {
                Connection::bare(Status::Failed, "credentials_refused")
            }
            // A number the server no longer knows, or one call that failed: told next time.
            Err(_) => {
                reschedule(state, &number, every).await?;
                continue;
            }
        };
        if note(state, account_id, &number, &connection, every).await? {
            pass.changed += 1;
        }
    }
    Ok(pass)
}

async fn read_back(
    state: &AppState,
    account_id: Uuid,
    id: Uuid,
) -> Result<Connection, ProviderError> {
    let started = std::time::Instant::now();
    let live = Live::of(state, account_id, id)
        .await
        .map_err(|_| ProviderError::Rejected("the number is gone".into()))?;
    let kind = live.opened.kind.as_str();
    let outcome = live
        .opened
        .adapter
        .status(&live.opened.server(), &live.session())
        .await;
    metrics::histogram!("instance_check_duration_seconds", "type" => kind)
        .record(started.elapsed().as_secs_f64());
    outcome
}

/// A connected number silent for longer than `stale_after` is not believed.
fn believed(connection: Connection, number: &store::Due, stale_after: Duration) -> Connection {
    let heard = number.last_event_at.unwrap_or(number.created_at);
    let silent = clock::now() - heard > stale_after;
    match (connection.status, silent) {
        (Status::Connected, true) => Connection {
            status: Status::Stale,
            ..connection
        },
        _ => connection,
    }
}

/// Records a checked number and when it is due next; answers whether its status changed.
async fn note(
    state: &AppState,
    account_id: Uuid,
    number: &store::Due,
    connection: &Connection,
    every: Duration,
) -> AppResult<bool> {
    let seen = store::Seen {
        status: connection.status.as_str(),
        raw: &connection.raw,
        phone: connection.phone.as_deref(),
        seen_at: connection.seen_at,
        reason: "scheduled_check",
        source: "check",
    };
    let now = clock::now();
    let mut tx = state.db.begin().await?;
    let changed =
        instances::observe(&mut tx, Actor::system(), account_id, number.id, &seen, now).await?;
    store::due_at(&mut tx, number.id, next_due(now, every)).await?;
    tx.commit().await?;
    if changed {
        instances::announce(state, account_id, number.id, connection.status);
    }
    Ok(changed)
}

async fn reschedule(state: &AppState, number: &store::Due, every: Duration) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    store::due_at(&mut tx, number.id, next_due(clock::now(), every)).await?;
    tx.commit().await?;
    Ok(())
}

/// `every` from now, give or take a tenth.
fn next_due(now: OffsetDateTime, every: Duration) -> OffsetDateTime {
    let tenth = (every.as_millis() / 10).max(1) as i64;
    let jitter = rand::random_range(-tenth..=tenth);
    now + every + time::Duration::milliseconds(jitter)
}

/// `whatpro_instances{status}`: the live numbers by status, every status present.
async fn count_by_status(state: &AppState) -> AppResult<()> {
    let counts = store::count_by_status(&state.db).await?;
    for status in [
        Status::Disconnected,
        Status::Connecting,
        Status::QrPending,
        Status::Connected,
        Status::Stale,
        Status::Failed,
    ] {
        let n = counts
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        metrics::gauge!("whatpro_instances", "status" => status.as_str()).set(n as f64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_checks_spread_around_the_interval() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let every = Duration::from_secs(60);
        let due: Vec<_> = (0..200).map(|_| next_due(now, every)).collect();
        assert!(due.iter().all(|at| {
            let after = *at - now;
            after >= time::Duration::seconds(54) && after <= time::Duration::seconds(66)
        }));
        assert!(due.iter().any(|at| *at != due[0]), "jittered");
    }

    #[test]
    fn a_dead_server_is_told_from_a_refusal() {
        assert_eq!(server_status(&Ok(())), "ok");
        assert_eq!(
            server_status(&Err(ProviderError::CredentialsRefused)),
            "credentials_invalid"
        );
        assert_eq!(
            server_status(&Err(ProviderError::Unreachable("x"))),
            "unreachable"
        );
    }
}
