//! Sign-in and refresh attempts, counted in the database so that every replica counts the
//! same ones (in memory, N replicas allowed N times the attempts): per client IP and per
//! presented credential, at most [`PER_MINUTE`] in any minute. Each key has a counter per
//! calendar minute; the last minute's counter, weighted by how much of it still lies
//! within the past sixty seconds, is added to this minute's (a sliding window), so a burst
//! across a minute's end is counted whole.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::{
    on_tx, on_writer,
    platform::{
        clock,
        db::Db,
        error::{AppError, AppResult},
    },
};

pub const PER_MINUTE: f64 = 10.0;

/// Counts an attempt against the client IP and the credential; refuses it (429) when either
/// went over the limit.
pub async fn count(db: &Db, ip: IpAddr, credential: &[u8]) -> AppResult<()> {
    let now = clock::now();
    let minute = now - Duration::seconds(i64::from(now.second()));
    let keys = [
        [b"ip:".as_slice(), ip.to_string().as_bytes()].concat(),
        [b"credential:".as_slice(), credential].concat(),
    ];
    let add = "INSERT INTO auth_attempts (attempt_key, window_start, attempts)
               VALUES ($1, $3, 1), ($2, $3, 1)
               ON CONFLICT (attempt_key, window_start)
               DO UPDATE SET attempts = auth_attempts.attempts + 1";
    let read = "SELECT attempt_key, window_start, attempts FROM auth_attempts
                WHERE attempt_key IN ($1, $2) AND window_start >= $3";
    let mut tx = db.begin().await?;
    let rows: Vec<(Vec<u8>, OffsetDateTime, i32)> = on_tx!(&mut tx, c => {
        sqlx::query(add).bind(&keys[0]).bind(&keys[1]).bind(minute).execute(&mut *c).await?;
        sqlx::query_as(read).bind(&keys[0]).bind(&keys[1]).bind(minute - Duration::minutes(1))
            .fetch_all(&mut *c).await?
    });
    tx.commit().await?;
    let into_last = f64::from(now.second()) / 60.0;
    let over = keys.iter().any(|key| {
        let seen: f64 = rows
            .iter()
            .filter(|(k, ..)| k == key)
            .map(|(_, start, n)| {
                let weight = if *start == minute {
                    1.0
                } else {
                    1.0 - into_last
                };
                f64::from(*n) * weight
            })
            .sum();
        seen > PER_MINUTE
    });
    if over {
        return Err(AppError::RateLimited {
            retry_after_secs: u64::from(60 - now.second()).max(1),
        });
    }
    Ok(())
}

/// Forgets counters no window reads any more.
pub async fn purge(db: &Db) -> AppResult<u64> {
    let sql = "DELETE FROM auth_attempts WHERE window_start < $1";
    let before = clock::now() - Duration::minutes(2);
    let mut writer = db.writer().await?;
    Ok(
        on_writer!(&mut writer, c => sqlx::query(sql).bind(before).execute(c).await?.rows_affected()),
    )
}
