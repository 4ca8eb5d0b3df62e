use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    on_db,
    platform::{db::Db, error::AppResult, pagination::PageRequest},
};

use super::Delivery;

pub struct NewDelivery<'a> {
    pub account_id: Uuid,
    pub event: &'a str,
    pub dedupe_key: &'a str,
    pub body: &'a str,
    pub received_at: OffsetDateTime,
}

/// Stores a delivery unless one with the same key is already stored; `false` for a duplicate.
pub async fn insert(db: &Db, new: &NewDelivery<'_>) -> AppResult<bool> {
    let sql =
        "INSERT INTO webhook_deliveries (id, account_id, source, event, dedupe_key, body, status,
                   attempts, next_attempt_at, received_at)
               VALUES ($1, $2, 'chatwoot', $3, $4, $5, 'pending', 0, $6, $6)
               ON CONFLICT (account_id, source, dedupe_key) DO NOTHING";
    let inserted = on_db!(db, pool => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(new.account_id).bind(new.event).bind(new.dedupe_key)
        .bind(new.body).bind(new.received_at)
        .execute(pool).await?.rows_affected());
    Ok(inserted == 1)
}

/// A delivery taken by a worker, with its raw body.
#[derive(sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub account_id: Uuid,
    pub event: String,
    pub body: String,
    pub attempts: i32,
}

/// Takes the oldest due delivery (pending, or processing by a worker that died) and leases
/// it for `lease`. On PostgreSQL `SKIP LOCKED` lets replicas take different rows; SQLite
/// has one writer at a time, so the statement alone is enough.
pub async fn claim(
    db: &Db,
    now: OffsetDateTime,
    lease: time::Duration,
) -> AppResult<Option<Claimed>> {
    macro_rules! claim_sql {
        ($lock:literal) => {
            concat!(
                "UPDATE webhook_deliveries SET status = 'processing', locked_until = $2,
                     attempts = attempts + 1
                 WHERE id = (SELECT id FROM webhook_deliveries
                             WHERE (status = 'pending' AND next_attempt_at <= $1)
                                OR (status = 'processing' AND locked_until < $1)
                             ORDER BY next_attempt_at, id LIMIT 1",
                $lock,
                ") RETURNING id, account_id, event, body, attempts"
            )
        };
    }
    let sql = match db {
        Db::Sqlite(_) => claim_sql!(""),
        Db::Postgres(_) => claim_sql!(" FOR UPDATE SKIP LOCKED"),
    };
    let claimed = on_db!(db, pool => sqlx::query_as(sql)
        .bind(now).bind(now + lease).fetch_optional(pool).await?);
    Ok(claimed)
}

pub async fn finish(db: &Db, id: Uuid, now: OffsetDateTime) -> AppResult<()> {
    let sql =
        "UPDATE webhook_deliveries SET status = 'done', processed_at = $2, locked_until = NULL,
                   last_error = NULL WHERE id = $1";
    on_db!(db, pool => sqlx::query(sql).bind(id).bind(now).execute(pool).await?.rows_affected());
    Ok(())
}

/// Records a failure: back to pending at `retry_at`, or dead when there is none.
pub async fn fail(
    db: &Db,
    id: Uuid,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> AppResult<()> {
    let sql = "UPDATE webhook_deliveries
               SET status = CASE WHEN $3 IS NULL THEN 'dead' ELSE 'pending' END,
                   next_attempt_at = COALESCE($3, next_attempt_at), locked_until = NULL,
                   last_error = $2
               WHERE id = $1";
    on_db!(db, pool => sqlx::query(sql).bind(id).bind(error).bind(retry_at)
        .execute(pool).await?.rows_affected());
    Ok(())
}

pub async fn list(
    db: &Db,
    account_id: Uuid,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<Vec<Delivery>> {
    let sql = "SELECT id, event, dedupe_key, status, attempts, next_attempt_at, last_error,
                      received_at, processed_at
               FROM webhook_deliveries
               WHERE account_id = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR id < $3)
               ORDER BY id DESC LIMIT $4";
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(account_id).bind(status).bind(page.after).bind(page.fetch_limit())
        .fetch_all(pool).await?))
}

/// Forgets processed deliveries received before `before` (dead ones stay for an operator).
pub async fn purge_done(db: &Db, before: OffsetDateTime) -> AppResult<u64> {
    let sql = "DELETE FROM webhook_deliveries WHERE status = 'done' AND received_at < $1";
    Ok(on_db!(db, pool => sqlx::query(sql).bind(before).execute(pool).await?.rows_affected()))
}

/// Puts deliveries back in the queue as if just received: one (`delivery`), or every dead
/// one of the account, or (neither) every dead one anywhere. Returns how many.
pub async fn replay(
    db: &Db,
    account_id: Option<Uuid>,
    delivery: Option<Uuid>,
    now: OffsetDateTime,
) -> AppResult<u64> {
    let sql = "UPDATE webhook_deliveries
               SET status = 'pending', attempts = 0, next_attempt_at = $3, locked_until = NULL,
                   last_error = NULL, processed_at = NULL
               WHERE ($1 IS NULL OR account_id = $1)
                 AND (($2 IS NULL AND status = 'dead') OR id = $2)
                 AND status <> 'processing'";
    Ok(
        on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(delivery).bind(now)
        .execute(pool).await?.rows_affected()),
    )
}

pub async fn exists(db: &Db, account_id: Uuid, delivery: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM webhook_deliveries WHERE account_id = $1 AND id = $2";
    let n: i64 = on_db!(db, pool => sqlx::query_scalar(sql).bind(account_id).bind(delivery)
        .fetch_one(pool).await?);
    Ok(n > 0)
}
