use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Entitlements, PlanDefaults, Resource, apply};
use crate::{
    on_db, on_tx,
    platform::{
        clock,
        db::{Db, Tx},
        error::{AppError, AppResult},
    },
};

const OVERRIDES: &str = "SELECT overrides FROM account_entitlements WHERE account_id = $1";

fn count_sql(resource: Resource) -> &'static str {
    match resource {
        Resource::Agents => "SELECT COUNT(*) FROM account_users WHERE account_id = $1 AND active",
        Resource::Teams => {
            "SELECT COUNT(*) FROM teams WHERE account_id = $1 AND deleted_at IS NULL"
        }
    }
}

fn effective(defaults: &PlanDefaults, overrides: Option<Json<Value>>) -> AppResult<Entitlements> {
    match overrides {
        None => Ok(defaults.0.clone()),
        Some(Json(value)) => apply(&defaults.0, &value)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored entitlement overrides: {e}"))),
    }
}

pub async fn effective_in(
    tx: &mut Tx,
    defaults: &PlanDefaults,
    account_id: Uuid,
) -> AppResult<Entitlements> {
    let row: Option<(Json<Value>,)> = on_tx!(tx, conn =>
        sqlx::query_as(OVERRIDES).bind(account_id).fetch_optional(conn).await?);
    effective(defaults, row.map(|r| r.0))
}

pub async fn effective_for(
    db: &Db,
    defaults: &PlanDefaults,
    account_id: Uuid,
) -> AppResult<Entitlements> {
    let row: Option<(Json<Value>,)> = on_db!(db, pool =>
        sqlx::query_as(OVERRIDES).bind(account_id).fetch_optional(pool).await?);
    effective(defaults, row.map(|r| r.0))
}

pub async fn count_in(tx: &mut Tx, account_id: Uuid, resource: Resource) -> AppResult<i64> {
    let sql = count_sql(resource);
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql).bind(account_id).fetch_one(conn).await?))
}

pub async fn count(db: &Db, account_id: Uuid, resource: Resource) -> AppResult<i64> {
    let sql = count_sql(resource);
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).bind(account_id).fetch_one(pool).await?))
}

/// Stored overrides of one account (empty object when none), read inside `tx`.
pub async fn overrides_in(tx: &mut Tx, account_id: Uuid) -> AppResult<Value> {
    let row: Option<(Json<Value>,)> = on_tx!(tx, conn =>
        sqlx::query_as(OVERRIDES).bind(account_id).fetch_optional(conn).await?);
    Ok(row
        .map(|r| r.0.0)
        .unwrap_or_else(|| Value::Object(Default::default())))
}

pub async fn save_overrides(tx: &mut Tx, account_id: Uuid, overrides: &Value) -> AppResult<()> {
    let sql = "INSERT INTO account_entitlements (account_id, overrides, updated_at) VALUES ($1, $2, $3)
               ON CONFLICT (account_id) DO UPDATE SET overrides = excluded.overrides, updated_at = excluded.updated_at";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(account_id)
        .bind(Json(overrides))
        .bind(clock::now())
        .execute(conn)
        .await?.rows_affected());
    Ok(())
}
