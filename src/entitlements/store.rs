use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Entitlements, PlanDefaults, Resource, apply};
use crate::{
    on_conn, on_tx,
    platform::{
        clock,
        db::{Conn, Tx},
        error::{AppError, AppResult},
    },
};

const OVERRIDES: &str = "SELECT overrides FROM account_entitlements WHERE account_id = $1";

fn count_sql(resource: Resource) -> &'static str {
    match resource {
        Resource::Agents => "SELECT COUNT(*) FROM account_users WHERE account_id = $1 AND active",
        Resource::Boards => {
            "SELECT COUNT(*) FROM boards WHERE account_id = $1 AND archived_at IS NULL"
        }
        Resource::Inboxes => {
            "SELECT COUNT(*) FROM inboxes WHERE account_id = $1 AND enabled AND removed_at IS NULL"
        }
        Resource::Teams => {
            "SELECT COUNT(*) FROM teams WHERE account_id = $1 AND deleted_at IS NULL"
        }
        Resource::Providers => {
            "SELECT COUNT(*) FROM providers WHERE account_id = $1 AND deleted_at IS NULL"
        }
        Resource::Instances => {
            "SELECT COUNT(*) FROM instances WHERE account_id = $1 AND deleted_at IS NULL"
        }
    }
}

/// What the plan in force grants and the super admin's overrides, in one read: the plan is
/// the subscription's while it is trialing, active, past due or suspended (a pending one
/// has not been paid; a canceled one is over; one Asaas never heard of grants nothing),
/// else none (the defaults).
const IN_FORCE: &str = "SELECT
        (SELECT p.entitlements FROM subscriptions s JOIN plans p ON p.id = s.plan_id
         WHERE s.account_id = $1
           AND s.status IN ('trialing', 'active', 'past_due', 'suspended')
           AND s.asaas_id IS NOT NULL),
        (SELECT overrides FROM account_entitlements WHERE account_id = $1)";

/// What the account may have: its plan (the defaults without one), with its stored
/// overrides laid over it.
pub async fn effective(
    conn: impl Into<Conn<'_>>,
    defaults: &PlanDefaults,
    account_id: Uuid,
) -> AppResult<Entitlements> {
    let (plan, overrides): (Option<Json<Entitlements>>, Option<Json<Value>>) = on_conn!(
        conn.into(), pool => sqlx::query_as(IN_FORCE).bind(account_id).fetch_one(pool).await?);
    let base = plan.map_or_else(|| defaults.0.clone(), |p| p.0);
    let overrides = overrides.map_or_else(|| Value::Object(Default::default()), |o| o.0);
    apply(&base, &overrides)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored entitlement overrides: {e}")))
}

pub async fn count(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    resource: Resource,
) -> AppResult<i64> {
    let sql = count_sql(resource);
    Ok(
        on_conn!(conn.into(), pool => sqlx::query_scalar(sql).bind(account_id).fetch_one(pool).await?),
    )
}

/// Stored overrides of one account (an empty object when none).
pub async fn overrides(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Value> {
    let row: Option<(Json<Value>,)> = on_conn!(conn.into(), pool =>
        sqlx::query_as(OVERRIDES).bind(account_id).fetch_optional(pool).await?);
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
