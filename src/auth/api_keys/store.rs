use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiKey;
use crate::{
    on_db, on_tx, on_writer,
    platform::{
        clock,
        db::{Db, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
};

macro_rules! key_select {
    () => {
        "SELECT id, name, prefix, scopes, created_by, created_at, expires_at, last_used_at, revoked_at FROM api_keys "
    };
}

/// A presented key with what authorising it needs.
#[derive(sqlx::FromRow)]
pub struct KeyGrant {
    pub id: Uuid,
    pub account_id: Uuid,
    pub scopes: Json<Vec<String>>,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub account_status: String,
    pub account_revision: i64,
}

pub async fn grant(db: &Db, key_hash: &[u8]) -> AppResult<Option<KeyGrant>> {
    let sql = "SELECT k.id, k.account_id, k.scopes, k.expires_at, k.revoked_at, a.status AS account_status,
                      a.revision AS account_revision
               FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(key_hash).fetch_optional(pool).await?))
}

pub async fn touch(db: &Db, key_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE api_keys SET last_used_at = $2 WHERE id = $1";
    let mut writer = db.writer().await?;
    on_writer!(&mut writer, c => sqlx::query(sql).bind(key_id).bind(clock::now()).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn list(db: &Db, account_id: Uuid, page: PageRequest) -> AppResult<Vec<ApiKey>> {
    let sql = concat!(
        key_select!(),
        "WHERE account_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(account_id).bind(page.after).bind(page.fetch_limit()).fetch_all(pool).await?))
}

pub async fn get_in(tx: &mut Tx, account_id: Uuid, key_id: Uuid) -> AppResult<Option<ApiKey>> {
    let sql = concat!(key_select!(), "WHERE account_id = $1 AND id = $2");
    Ok(
        on_tx!(tx, conn => sqlx::query_as(sql).bind(account_id).bind(key_id).fetch_optional(conn).await?),
    )
}

pub async fn insert(tx: &mut Tx, account_id: Uuid, key: &ApiKey, key_hash: &[u8]) -> AppResult<()> {
    let sql = "INSERT INTO api_keys (id, account_id, name, prefix, key_hash, scopes, created_by, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(key.id)
        .bind(account_id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(key_hash)
        .bind(Json(&key.scopes))
        .bind(key.created_by)
        .bind(key.created_at)
        .bind(key.expires_at)
        .execute(conn)
        .await?.rows_affected());
    Ok(())
}

pub async fn revoke(tx: &mut Tx, account_id: Uuid, key_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE api_keys SET revoked_at = $3 WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL";
    on_tx!(tx, conn => sqlx::query(sql).bind(account_id).bind(key_id).bind(clock::now())
        .execute(conn).await?.rows_affected());
    Ok(())
}
