use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    AuditEntry,
    routes::{AuditFilter, AuditLog},
};
use crate::{
    on_db, on_tx,
    platform::{
        clock,
        db::{Db, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
};

pub async fn insert(tx: &mut Tx, entry: &AuditEntry) -> AppResult<()> {
    let sql =
        "INSERT INTO audit_logs (id, account_id, actor_type, actor_user_id, action, resource_type,
                   resource_id, before, after, ip, user_agent, request_id, created_at, actor_api_key_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
    let client = entry.actor.client.as_ref();
    let before = entry.before.as_ref().map(Json);
    let after = entry.after.as_ref().map(Json);
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(Uuid::now_v7())
        .bind(entry.account_id)
        .bind(entry.actor.kind)
        .bind(entry.actor.user_id)
        .bind(entry.action)
        .bind(entry.resource_type)
        .bind(&entry.resource_id)
        .bind(before)
        .bind(after)
        .bind(client.map(|c| c.ip.to_string()))
        .bind(client.and_then(|c| c.user_agent.as_deref()))
        .bind(client.and_then(|c| c.request_id.as_deref()))
        .bind(clock::now())
        .bind(entry.actor.api_key_id)
        .execute(conn)
        .await?.rows_affected());
    Ok(())
}

/// Newest first; the cursor is the last id seen (ids are time-ordered UUIDv7).
pub async fn list(
    db: &Db,
    account_id: Uuid,
    filter: &AuditFilter,
    page: PageRequest,
) -> AppResult<Vec<AuditLog>> {
    let sql =
        "SELECT id, account_id, actor_type, actor_user_id, actor_api_key_id, action, resource_type, resource_id,
                      before, after, ip, user_agent, request_id, created_at
               FROM audit_logs
               WHERE account_id = $1
                 AND ($2 IS NULL OR actor_user_id = $2)
                 AND ($3 IS NULL OR action = $3)
                 AND ($4 IS NULL OR resource_type = $4)
                 AND ($5 IS NULL OR resource_id = $5)
                 AND ($6 IS NULL OR created_at >= $6)
                 AND ($7 IS NULL OR created_at < $7)
                 AND id < $8
               ORDER BY id DESC
               LIMIT $9";
    let from = filter.from.map(utc_seconds);
    let to = filter.to.map(utc_seconds);
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(account_id)
        .bind(filter.actor)
        .bind(filter.action.as_deref())
        .bind(filter.resource_type.as_deref())
        .bind(filter.resource_id.as_deref())
        .bind(from)
        .bind(to)
        .bind(page.after.unwrap_or(Uuid::max()))
        .bind(page.fetch_limit())
        .fetch_all(pool)
        .await?))
}

/// Filters compare with stored values, which are UTC whole seconds.
fn utc_seconds(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0).unwrap_or(at)
}
