//! Sign-in and refresh attempts, counted in the database so that every replica counts the
//! same ones (in memory, N replicas allowed N times the attempts): per client IP and per
//! presented credential, a burst of [`BURST`] and then one every [`INTERVAL_MS`] (10 a
//! minute). Each key keeps the moment its budget is whole again (GCRA's theoretical arrival
//! time): an attempt is let in while that moment is at most a burst's worth ahead of now,
//! and moves it on by one interval.

use std::net::IpAddr;

use crate::{
    on_tx, on_writer,
    platform::{
        clock,
        db::Db,
        error::{AppError, AppResult},
    },
};

const BURST: i64 = 10;
const INTERVAL_MS: i64 = 6_000;
/// How far ahead of now a key's refill may be and still let an attempt in.
const TOLERANCE_MS: i64 = INTERVAL_MS * (BURST - 1);

/// Counts an attempt against the client IP and the credential; refuses it (429) when either
/// has spent its budget.
pub async fn count(db: &Db, ip: IpAddr, credential: &[u8]) -> AppResult<()> {
    let now = now_ms();
    let keys = [
        [b"ip:".as_slice(), ip.to_string().as_bytes()].concat(),
        [b"credential:".as_slice(), credential].concat(),
    ];
    let read = "SELECT MAX(refilled_at) FROM auth_attempts WHERE attempt_key IN ($1, $2)";
    let spend = "INSERT INTO auth_attempts (attempt_key, refilled_at) VALUES ($1, $3), ($2, $3)
                 ON CONFLICT (attempt_key) DO UPDATE SET refilled_at =
                     CASE WHEN auth_attempts.refilled_at > $4 THEN auth_attempts.refilled_at
                          ELSE $4 END + $5";
    let mut tx = db.begin().await?;
    let refilled: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(read)
        .bind(&keys[0]).bind(&keys[1]).fetch_one(&mut *c).await?);
    let ahead = refilled.unwrap_or(now).max(now) - now;
    if ahead > TOLERANCE_MS {
        let wait_ms = ahead - TOLERANCE_MS;
        return Err(AppError::RateLimited {
            retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1),
        });
    }
    on_tx!(&mut tx, c => sqlx::query(spend).bind(&keys[0]).bind(&keys[1])
        .bind(now + INTERVAL_MS).bind(now).bind(INTERVAL_MS).execute(&mut *c).await?.rows_affected());
    tx.commit().await?;
    Ok(())
}

/// Forgets keys whose budget is whole again: they would let the next attempt in anyway.
pub async fn purge(db: &Db) -> AppResult<u64> {
    let sql = "DELETE FROM auth_attempts WHERE refilled_at < $1";
    let mut writer = db.writer().await?;
    Ok(
        on_writer!(&mut writer, c => sqlx::query(sql).bind(now_ms()).execute(c).await?.rows_affected()),
    )
}

fn now_ms() -> i64 {
    clock::now().unix_timestamp() * 1000
}
