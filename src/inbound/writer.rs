//! Group commit for received deliveries. A request hands its delivery to the writer and
//! waits until a commit holds it; the writer stores every delivery that arrived while the
//! previous group was being written in one transaction (on PostgreSQL one statement), so
//! under load many acknowledgements share one commit, one WAL flush and one writer turn,
//! and when idle a delivery is written at once, alone.
//!
//! A delivery is still stored before it is acknowledged: the request answers only after
//! its group's commit. A request that goes away meanwhile does not take the group down
//! with it (groups are written by a task of their own), and a group that fails is written
//! again one delivery at a time, so one delivery that cannot be stored fails alone; unless
//! the database is unavailable, when the whole group is refused at once (503).

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::store::{self, NewDelivery};
use crate::platform::{
    db::{Db, Engine},
    error::{AppError, AppResult},
};

/// Deliveries one group takes at most.
const GROUP: usize = 128;
/// The rows' bytes after which a group on PostgreSQL takes no more deliveries. sqlx
/// 0.9.0 leaves Nagle's algorithm on (transact-rs/sqlx#4335): a statement that spans more
/// than one TLS record waits about 40 ms for the server's delayed ACK, while one that fits
/// in a record (16 KiB) goes at once. SQLite, in process, has no such limit.
const PG_GROUP_BYTES: usize = 12 * 1024;
/// Deliveries waiting for a group before a request waits for room.
const QUEUE: usize = 1024;

struct Waiting {
    delivery: NewDelivery,
    stored: oneshot::Sender<AppResult<bool>>,
}

/// Stores received deliveries in groups; see the module's documentation.
pub struct DeliveryWriter {
    queue: mpsc::Sender<Waiting>,
}

impl DeliveryWriter {
    /// Starts the writer on `db`; it stops when the writer is dropped, after writing what
    /// it was given.
    pub fn start(db: Db) -> DeliveryWriter {
        // PostgreSQL commits one group while the next is read and sent; SQLite has one
        // writer at a time anyway.
        let (groups_at_once, group_bytes) = match db.engine() {
            Engine::Postgres => (2, PG_GROUP_BYTES),
            Engine::Sqlite => (1, usize::MAX),
        };
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(db, waiting, groups_at_once, group_bytes));
        DeliveryWriter { queue }
    }

    /// Stores `delivery` unless one with its key is already stored; `false` for a
    /// duplicate. Answers once the delivery is committed.
    pub async fn store(&self, delivery: NewDelivery) -> AppResult<bool> {
        let (stored, answer) = oneshot::channel();
        self.queue
            .send(Waiting { delivery, stored })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> AppError {
    AppError::Internal(anyhow::anyhow!("the webhook delivery writer has stopped"))
}

async fn write_groups(
    db: Db,
    mut waiting: mpsc::Receiver<Waiting>,
    groups_at_once: usize,
    group_bytes: usize,
) {
    let turns = Arc::new(Semaphore::new(groups_at_once));
    let outage = Arc::new(Outage::default());
    loop {
        // The turn first: while a group is written the next one gathers in the queue.
        let Ok(turn) = turns.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = waiting.recv().await else {
            return;
        };
        let mut bytes = first.delivery.wire_bytes();
        let mut group = vec![first];
        while group.len() < GROUP && bytes < group_bytes {
            match waiting.try_recv() {
                Ok(next) => {
                    bytes += next.delivery.wire_bytes();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        if let Some(reason) = outage.admit() {
            refuse(group, &reason);
            continue;
        }
        let (db, outage) = (db.clone(), outage.clone());
        tokio::spawn(async move {
            outage.ended(write(&db, group).await);
            drop(turn);
        });
    }
}

/// How long after a group found the database unavailable the next groups are refused
/// without trying it; then one group tries again. Without it, every group waited out the
/// pool's timeout in turn, and deliveries queued behind them went unanswered for longer
/// than Chatwoot waits.
const OUTAGE_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// The database found unavailable: since when, why, and whether a group is trying it again.
#[derive(Default)]
struct Outage(std::sync::Mutex<Option<Unavailable>>);

struct Unavailable {
    since: std::time::Instant,
    reason: String,
    probing: bool,
}

impl Outage {
    /// `Some(reason)` to refuse a group now: during the pause, and while one group tries the
    /// database again; otherwise the group may write (the first after a pause is the probe).
    fn admit(&self) -> Option<String> {
        let mut outage = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let down = outage.as_mut()?;
        if down.probing || down.since.elapsed() < OUTAGE_PAUSE {
            return Some(down.reason.clone());
        }
        down.probing = true;
        None
    }

    /// What a write found: the database back, or still unavailable (the pause starts again).
    fn ended(&self, outcome: Result<(), String>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) =
            outcome.err().map(|reason| Unavailable {
                since: std::time::Instant::now(),
                reason,
                probing: false,
            });
    }
}

fn refuse(group: Vec<Waiting>, reason: &str) {
    for waiting in group {
        let reason = reason.to_string();
        let _ = waiting.stored.send(Err(AppError::Unavailable { reason }));
    }
}

/// Writes a group and answers each of its requests; `Err` with the reason when the database
/// was unavailable.
async fn write(db: &Db, group: Vec<Waiting>) -> Result<(), String> {
    let (deliveries, answers): (Vec<_>, Vec<_>) =
        group.into_iter().map(|w| (w.delivery, w.stored)).unzip();
    match store::insert_all(db, &deliveries).await {
        Ok(stored) => {
            for (answer, fresh) in answers.into_iter().zip(stored) {
                // The request may have gone; its delivery is stored all the same.
                let _ = answer.send(Ok(fresh));
            }
        }
        // The database is out of reach (or out of room): every delivery of the group would
        // wait for it again, one after another; all are refused at once instead (503: not
        // acknowledged, so not lost).
        Err(AppError::Unavailable { reason }) => {
            for answer in answers {
                let reason = reason.clone();
                let _ = answer.send(Err(AppError::Unavailable { reason }));
            }
            return Err(reason);
        }
        Err(err) => {
            tracing::warn!(deliveries = deliveries.len(), error = %err,
                "storing a group of webhook deliveries failed; storing them one by one");
            for (delivery, answer) in deliveries.iter().zip(answers) {
                let alone = store::insert(db, delivery).await;
                let _ = answer.send(alone);
            }
        }
    }
    Ok(())
}
