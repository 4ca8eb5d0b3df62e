use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    on_db, on_tx, on_writer,
    platform::{
        db::{Db, Tx},
        error::AppResult,
    },
};

pub struct NewInstanceToken<'a> {
    pub token_hash: &'a [u8],
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub origin: &'a str,
    pub scopes: &'a [&'a str],
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn insert(tx: &mut Tx, token: &NewInstanceToken<'_>) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    let sql = "INSERT INTO instance_tokens (id, token_hash, account_id, user_id, origin, scopes,
                   created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(id).bind(token.token_hash).bind(token.account_id).bind(token.user_id)
        .bind(token.origin).bind(Json(token.scopes)).bind(token.created_at).bind(token.expires_at)
        .execute(conn).await?.rows_affected());
    Ok(id)
}

#[derive(sqlx::FromRow)]
pub struct InstanceTokenRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub origin: String,
    pub scopes: Json<Vec<String>>,
    pub expires_at: OffsetDateTime,
    pub exchanged_at: Option<OffsetDateTime>,
}

pub async fn find(db: &Db, token_hash: &[u8]) -> AppResult<Option<InstanceTokenRow>> {
    let sql = "SELECT id, account_id, user_id, origin, scopes, expires_at, exchanged_at
               FROM instance_tokens WHERE token_hash = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(token_hash).fetch_optional(pool).await?))
}

/// Marks the token exchanged if it is still unused and unexpired; `None` otherwise. One
/// statement, so two concurrent exchanges cannot both win.
pub async fn consume(
    tx: &mut Tx,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> AppResult<Option<InstanceTokenRow>> {
    let sql = "UPDATE instance_tokens SET exchanged_at = $2
               WHERE token_hash = $1 AND exchanged_at IS NULL AND expires_at > $2
               RETURNING id, account_id, user_id, origin, scopes, expires_at, exchanged_at";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(sql).bind(token_hash).bind(now).fetch_optional(conn).await?),
    )
}

/// Forgets tokens that expired more than a day ago (kept that long for the audit trail of
/// late reuse attempts).
pub async fn purge_expired(db: &Db, before: OffsetDateTime) -> AppResult<u64> {
    let sql = "DELETE FROM instance_tokens WHERE expires_at < $1";
    let mut writer = db.writer().await?;
    Ok(
        on_writer!(&mut writer, c => sqlx::query(sql).bind(before).execute(c).await?.rows_affected()),
    )
}
