use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    on_db, on_tx, on_writer,
    platform::{
        clock,
        db::{Db, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
};

use super::{Delivery, queries};

/// A delivery as received, to be stored.
pub struct NewDelivery {
    /// `None` for a source that posts every account's events to one URL (Asaas): the
    /// handler finds the account, and the key alone identifies a second delivery.
    pub account_id: Option<Uuid>,
    /// Which door it came through ([`super::FROM_CHATWOOT`], …): what will process it.
    pub source: &'static str,
    pub event: String,
    /// What identifies a second delivery of the same one (see the intake).
    pub dedupe_key: String,
    pub body: String,
    pub received_at: OffsetDateTime,
}

impl NewDelivery {
    /// About what the row weighs in an INSERT on the wire: its text, and for the ids,
    /// timestamps and each bound value's header a fixed allowance. A provider's event keeps
    /// a body of a hundred bytes but a key and ids as long again, so the body alone
    /// undercounts a group of them by half.
    pub fn wire_bytes(&self) -> usize {
        const FIXED: usize = 96;
        FIXED + self.source.len() + self.event.len() + self.dedupe_key.len() + self.body.len()
    }
}

/// Stores a delivery unless one with the same key is already stored; `false` for a duplicate.
pub async fn insert(db: &Db, new: &NewDelivery) -> AppResult<bool> {
    Ok(insert_all(db, std::slice::from_ref(new)).await?[0])
}

/// Stores deliveries in one transaction, each unless one with its key is already stored
/// (or comes earlier in `new`). Answers, in order, whether each was stored. PostgreSQL
/// takes them all in one statement; SQLite, in process, one statement each.
pub async fn insert_all(db: &Db, new: &[NewDelivery]) -> AppResult<Vec<bool>> {
    let ids: Vec<Uuid> = new.iter().map(|_| Uuid::now_v7()).collect();
    match db {
        Db::Postgres(pool) => {
            let sql = "INSERT INTO webhook_deliveries (id, account_id, source, event, dedupe_key,
                           body, status, attempts, next_attempt_at, received_at)
                       SELECT id, account_id, source, event, dedupe_key, body, 'pending', 0,
                              received_at, received_at
                       FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                                   $6::timestamptz[], $7::text[])
                            AS d (id, account_id, event, dedupe_key, body, received_at, source)
                       ON CONFLICT DO NOTHING
                       RETURNING id";
            let column = |f: fn(&NewDelivery) -> &str| new.iter().map(f).collect::<Vec<_>>();
            let stored: Vec<Uuid> = sqlx::query_scalar(sql)
                .bind(&ids)
                .bind(new.iter().map(|d| d.account_id).collect::<Vec<_>>())
                .bind(column(|d| &d.event))
                .bind(column(|d| &d.dedupe_key))
                .bind(column(|d| &d.body))
                .bind(new.iter().map(|d| d.received_at).collect::<Vec<_>>())
                .bind(column(|d| d.source))
                .fetch_all(pool)
                .await?;
            Ok(ids.iter().map(|id| stored.contains(id)).collect())
        }
        Db::Sqlite(_) => {
            let sql = "INSERT INTO webhook_deliveries (id, account_id, source, event, dedupe_key,
                           body, status, attempts, next_attempt_at, received_at)
                       VALUES ($1, $2, $7, $3, $4, $5, 'pending', 0, $6, $6)
                       ON CONFLICT DO NOTHING";
            let mut tx = db.begin().await?;
            let mut stored = Vec::with_capacity(new.len());
            for (id, d) in ids.iter().zip(new) {
                let inserted = on_tx!(&mut tx, c => sqlx::query(sql)
                    .bind(id).bind(d.account_id).bind(&d.event).bind(&d.dedupe_key)
                    .bind(&d.body).bind(d.received_at).bind(d.source)
                    .execute(c).await?.rows_affected());
                stored.push(inserted == 1);
            }
            tx.commit().await?;
            Ok(stored)
        }
    }
}

/// A delivery taken by a worker, with its raw body. `attempts` counts this attempt and
/// identifies the claim: [`finish`], [`fail`] and [`release`] change the row only while it
/// is still this claim's (a worker that outlived its lease cannot overwrite another's).
#[derive(sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    /// `None` until its handler finds the account (see [`NewDelivery::account_id`]).
    pub account_id: Option<Uuid>,
    /// Who queued it (`chatwoot` or `hub`): what may run it, whatever its body says.
    pub source: String,
    pub event: String,
    pub body: String,
    pub attempts: i32,
    pub next_attempt_at: OffsetDateTime,
}

impl Claimed {
    /// The account of a delivery its source always gives one to.
    pub fn account(&self) -> AppResult<Uuid> {
        self.account_id.ok_or_else(|| {
            crate::platform::error::AppError::Internal(anyhow::anyhow!(
                "a {} delivery of {} belongs to no account",
                self.source,
                self.event
            ))
        })
    }
}

/// Takes the oldest due delivery (pending, or processing by a worker that died) and leases
/// it for `lease`.
pub async fn claim(
    db: &Db,
    now: OffsetDateTime,
    lease: time::Duration,
) -> AppResult<Option<Claimed>> {
    Ok(claim_batch(db, now, lease, 1).await?.into_iter().next())
}

/// Takes up to `limit` due deliveries, oldest first: those a dead worker left `processing`
/// past their lease, then pending ones, and leases them all for `lease`. On PostgreSQL
/// `SKIP LOCKED` lets replicas take different rows; SQLite has one writer at a time, so the
/// statement alone is enough.
pub async fn claim_batch(
    db: &Db,
    now: OffsetDateTime,
    lease: time::Duration,
    limit: i64,
) -> AppResult<Vec<Claimed>> {
    let sql = queries::claim(db.engine());
    let mut writer = db.writer().await?;
    let mut claimed: Vec<Claimed> = on_writer!(&mut writer, c => sqlx::query_as(sql)
        .bind(now).bind(now + lease).bind(limit).fetch_all(c).await?);
    claimed.sort_by_key(|d| (d.next_attempt_at, d.id));
    Ok(claimed)
}

pub async fn finish(db: &Db, claimed: &Claimed, now: OffsetDateTime) -> AppResult<bool> {
    let sql =
        "UPDATE webhook_deliveries SET status = 'done', processed_at = $3, locked_until = NULL,
                   last_error = NULL
         WHERE id = $1 AND status = 'processing' AND attempts = $2";
    let mut writer = db.writer().await?;
    let changed = on_writer!(&mut writer, c => sqlx::query(sql)
        .bind(claimed.id).bind(claimed.attempts).bind(now).execute(c).await?.rows_affected());
    Ok(changed == 1)
}

/// Deliveries [`finish_all`] records per statement.
const FINISH_SLOTS: usize = 32;

/// Records deliveries processed together as done, [`finish`]'s claim check for each, in
/// one statement per attempt number and [`FINISH_SLOTS`] deliveries (usually one in all).
/// Answers the ids recorded; a delivery missing is one that outlived its lease.
pub async fn finish_all(db: &Db, claimed: &[Claimed], now: OffsetDateTime) -> AppResult<Vec<Uuid>> {
    // The same text on both engines: a fixed list of slots, the unused ones NULL (which
    // match no id).
    let sql = concat!(
        "UPDATE webhook_deliveries SET status = 'done', processed_at = $1, locked_until = NULL,
                last_error = NULL
         WHERE status = 'processing' AND attempts = $2 AND id IN (",
        "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, ",
        "$19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34",
        ") RETURNING id"
    );
    let mut attempts: Vec<i32> = claimed.iter().map(|d| d.attempts).collect();
    attempts.sort_unstable();
    attempts.dedup();
    let mut finished = Vec::with_capacity(claimed.len());
    for attempt in attempts {
        let ids: Vec<Uuid> = claimed
            .iter()
            .filter(|d| d.attempts == attempt)
            .map(|d| d.id)
            .collect();
        for chunk in ids.chunks(FINISH_SLOTS) {
            let slots = (0..FINISH_SLOTS).map(|i| chunk.get(i).copied());
            let mut writer = db.writer().await?;
            let done: Vec<Uuid> = on_writer!(&mut writer, c => {
                let mut query = sqlx::query_scalar(sql).bind(now).bind(attempt);
                for slot in slots {
                    query = query.bind(slot);
                }
                query.fetch_all(c).await?
            });
            finished.extend(done);
        }
    }
    Ok(finished)
}

/// Records a failure: back to pending at `retry_at`, or dead when there is none.
pub async fn fail(
    db: &Db,
    claimed: &Claimed,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> AppResult<bool> {
    let sql = "UPDATE webhook_deliveries
               SET status = CASE WHEN $4 IS NULL THEN 'dead' ELSE 'pending' END,
                   next_attempt_at = COALESCE($4, next_attempt_at), locked_until = NULL,
                   last_error = $3
               WHERE id = $1 AND status = 'processing' AND attempts = $2";
    let mut writer = db.writer().await?;
    let changed = on_writer!(&mut writer, c => sqlx::query(sql)
        .bind(claimed.id).bind(claimed.attempts).bind(error).bind(retry_at)
        .execute(c).await?.rows_affected());
    Ok(changed == 1)
}

/// Gives back claimed deliveries not started (shutdown, or too little lease left): pending
/// again, due at once, and this attempt not counted.
pub async fn release(db: &Db, claimed: &[Claimed]) -> AppResult<()> {
    let sql = "UPDATE webhook_deliveries
               SET status = 'pending', attempts = attempts - 1, locked_until = NULL
               WHERE id = $1 AND status = 'processing' AND attempts = $2";
    let mut writer = db.writer().await?;
    for delivery in claimed {
        on_writer!(&mut writer, c => sqlx::query(sql).bind(delivery.id).bind(delivery.attempts)
            .execute(c).await?.rows_affected());
    }
    Ok(())
}

/// The account's deliveries (of one status, when given), newest first. Each shape has its
/// own statement, so each reads its own index from the page's cursor on (a statement that
/// takes `NULL` for "any status" is planned once for both, and reads neither).
pub async fn list(
    db: &Db,
    account_id: Uuid,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<Vec<Delivery>> {
    macro_rules! list_sql {
        ($status:literal) => {
            concat!(
                "SELECT id, source, event, dedupe_key, status, attempts, next_attempt_at,
                        last_error, ignored, received_at, processed_at
                 FROM webhook_deliveries
                 WHERE account_id = $1 AND id < $2 ",
                $status,
                "
                 ORDER BY id DESC LIMIT $3"
            )
        };
    }
    let before = page.after.unwrap_or(Uuid::max());
    Ok(on_db!(db, pool => match status {
        Some(status) => sqlx::query_as(list_sql!("AND status = $4"))
            .bind(account_id).bind(before).bind(page.fetch_limit()).bind(status)
            .fetch_all(pool).await?,
        None => sqlx::query_as(list_sql!(""))
            .bind(account_id).bind(before).bind(page.fetch_limit())
            .fetch_all(pool).await?,
    }))
}

/// Deliveries that belong to no account (Asaas's), newest first, of one status when given.
pub async fn list_unowned(
    db: &Db,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<Vec<Delivery>> {
    let sql = "SELECT id, source, event, dedupe_key, status, attempts, next_attempt_at,
                      last_error, ignored, received_at, processed_at
               FROM webhook_deliveries
               WHERE account_id IS NULL AND id < $1 AND ($3 IS NULL OR status = $3)
               ORDER BY id DESC LIMIT $2";
    let before = page.after.unwrap_or(Uuid::max());
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(before).bind(page.fetch_limit()).bind(status).fetch_all(pool).await?))
}

/// Deliveries the cleanup deletes in one statement: few enough that the single SQLite
/// writer is given back within milliseconds.
const PURGE_BATCH: i64 = 100;
/// After each batch the cleanup rests this many times as long as the batch took, so it
/// holds the writer a fifth of the time at most and acknowledgements barely wait behind it.
const PURGE_REST: u32 = 4;
/// While other writers queue for SQLite's writer, the cleanup waits for them, a step at a
/// time, for at most [`PURGE_PATIENCE`] before it takes one turn anyway: under a sustained
/// load it deletes a batch every five seconds, and catches up once the load is gone.
const PURGE_STEP: std::time::Duration = std::time::Duration::from_millis(10);
const PURGE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Forgets processed deliveries received before `before` (dead ones stay for an operator),
/// a batch at a time, each its own turn at the writer and after the writers waiting for it,
/// for at most `budget`; what is left goes at the next call.
pub async fn purge_done(
    db: &Db,
    before: OffsetDateTime,
    budget: std::time::Duration,
) -> AppResult<u64> {
    let sql = queries::purge(db.engine());
    let started = std::time::Instant::now();
    let mut purged = 0;
    loop {
        let waited = std::time::Instant::now();
        while db.writers_waiting() > 0 && waited.elapsed() < PURGE_PATIENCE {
            tokio::time::sleep(PURGE_STEP).await;
        }
        let batch = std::time::Instant::now();
        let deleted = {
            let mut writer = db.writer().await?;
            on_writer!(&mut writer, c => sqlx::query(sql).bind(before).bind(PURGE_BATCH)
                .execute(c).await?.rows_affected())
        };
        purged += deleted;
        if deleted < PURGE_BATCH as u64 || started.elapsed() >= budget {
            return Ok(purged);
        }
        tokio::time::sleep(batch.elapsed() * PURGE_REST).await;
    }
}

/// Puts deliveries back in the queue as if just received: one (`delivery`), or every dead
/// one of the account, or (neither) every dead one anywhere. Returns how many.
pub async fn replay(
    db: &Db,
    account_id: Option<Uuid>,
    delivery: Option<Uuid>,
    now: OffsetDateTime,
) -> AppResult<u64> {
    let mut writer = db.writer().await?;
    let replayed = match delivery {
        Some(id) => on_writer!(&mut writer, c => sqlx::query(queries::REPLAY_ONE)
            .bind(account_id).bind(now).bind(id).execute(c).await?.rows_affected()),
        None => on_writer!(&mut writer, c => sqlx::query(queries::replay_dead(db.engine()))
            .bind(account_id).bind(now).execute(c).await?.rows_affected()),
    };
    Ok(replayed)
}

/// Records why a delivery changed nothing (it stays `done`: an unknown event or a payment
/// of no subscription of ours is not an error to retry).
pub async fn mark_ignored(db: &Db, delivery: Uuid, reason: &str) -> AppResult<()> {
    let sql = "UPDATE webhook_deliveries SET ignored = $2 WHERE id = $1";
    let mut writer = db.writer().await?;
    on_writer!(&mut writer, c => sqlx::query(sql).bind(delivery).bind(reason)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn exists(db: &Db, account_id: Uuid, delivery: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM webhook_deliveries WHERE account_id = $1 AND id = $2";
    let n: i64 = on_db!(db, pool => sqlx::query_scalar(sql).bind(account_id).bind(delivery)
        .fetch_one(pool).await?);
    Ok(n > 0)
}

/// The consumers that already applied `delivery`: recorded when a later one failed, so
/// its retry skips them.
pub async fn consumers_done(db: &Db, delivery: Uuid) -> AppResult<Vec<String>> {
    let sql = "SELECT consumer FROM inbound_progress WHERE delivery_id = $1";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).bind(delivery).fetch_all(pool).await?))
}

/// Records that `consumer` applied each of `deliveries`.
pub async fn record_consumed(db: &Db, deliveries: &[Uuid], consumer: &str) -> AppResult<()> {
    let sql = "INSERT INTO inbound_progress (delivery_id, consumer, done_at) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING";
    let now = clock::now();
    let mut writer = db.writer().await?;
    for delivery in deliveries {
        on_writer!(&mut writer, c => sqlx::query(sql).bind(delivery).bind(consumer).bind(now)
            .execute(c).await?.rows_affected());
    }
    Ok(())
}

/// Queues work of the hub's own (`source = 'hub'`, the only door to it: a delivery from
/// outside is always `chatwoot`, whatever event it names) in the caller's transaction, with the
/// same lease, retries and dead letter as deliveries. A job still waiting in the same
/// `group` is superseded: only the newest one of a group matters.
pub async fn enqueue_job(
    tx: &mut Tx,
    account_id: Uuid,
    event: &str,
    group: &str,
    body: &str,
) -> AppResult<()> {
    let now = clock::now();
    let superseded = queries::supersede_jobs(tx.engine());
    let pattern = format!("{group}:%");
    on_tx!(tx, c => sqlx::query(superseded).bind(account_id).bind(event).bind(&pattern)
        .bind(now).execute(c).await?.rows_affected());
    let insert = "INSERT INTO webhook_deliveries (id, account_id, source, event, dedupe_key, body,
                   status, attempts, next_attempt_at, received_at)
               VALUES ($1, $2, 'hub', $3, $4, $5, 'pending', 0, $6, $6)";
    let id = Uuid::now_v7();
    on_tx!(tx, c => sqlx::query(insert).bind(id).bind(account_id).bind(event)
        .bind(format!("{group}:{id}")).bind(body).bind(now).execute(c).await?.rows_affected());
    Ok(())
}
