use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Cycle, Plan};
use crate::{
    entitlements::Entitlements,
    on_conn, on_tx,
    platform::{
        db::{Conn, Tx},
        error::{AppError, AppResult, conflict_on_unique},
    },
};

macro_rules! plan_columns {
    () => {
        "id, code, name, description, price_cents, currency, cycle, trial_days,
                       entitlements, active, position, created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    code: String,
    name: String,
    description: String,
    price_cents: i64,
    currency: String,
    cycle: String,
    trial_days: i32,
    entitlements: Json<Entitlements>,
    active: bool,
    position: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<Row> for Plan {
    type Error = AppError;
    fn try_from(row: Row) -> AppResult<Plan> {
        let cycle = Cycle::parse(&row.cycle).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("plan {} has cycle {}", row.id, row.cycle))
        })?;
        Ok(Plan {
            id: row.id,
            code: row.code,
            name: row.name,
            description: row.description,
            price: crate::billing::money::format(row.price_cents),
            price_cents: row.price_cents,
            currency: row.currency,
            cycle,
            trial_days: row.trial_days,
            entitlements: row.entitlements.0,
            active: row.active,
            position: row.position,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Plans in their order; archived ones too with `archived`.
pub async fn list(conn: impl Into<Conn<'_>>, archived: bool) -> AppResult<Vec<Plan>> {
    let sql = concat!(
        "SELECT ",
        plan_columns!(),
        " FROM plans WHERE active OR $1 ORDER BY position, price_cents, code"
    );
    let rows: Vec<Row> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(archived).fetch_all(pool).await?);
    rows.into_iter().map(Plan::try_from).collect()
}

pub async fn get(conn: impl Into<Conn<'_>>, id: Uuid) -> AppResult<Option<Plan>> {
    let sql = concat!("SELECT ", plan_columns!(), " FROM plans WHERE id = $1");
    let row: Option<Row> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(id).fetch_optional(pool).await?);
    row.map(Plan::try_from).transpose()
}

const TAKEN: &str = "A plan with this code exists.";

pub async fn insert(tx: &mut Tx, plan: &Plan) -> AppResult<()> {
    let sql = concat!(
        "INSERT INTO plans (",
        plan_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    on_tx!(tx, c => sqlx::query(sql)
        .bind(plan.id).bind(&plan.code).bind(&plan.name).bind(&plan.description)
        .bind(plan.price_cents).bind(&plan.currency).bind(plan.cycle.as_str())
        .bind(plan.trial_days).bind(Json(&plan.entitlements)).bind(plan.active)
        .bind(plan.position).bind(plan.created_at).bind(plan.updated_at)
        .execute(c).await.map_err(conflict_on_unique("plan_code_taken", TAKEN))?.rows_affected());
    Ok(())
}

pub async fn update(tx: &mut Tx, plan: &Plan) -> AppResult<()> {
    let sql = "UPDATE plans SET code = $2, name = $3, description = $4, price_cents = $5,
                   currency = $6, cycle = $7, trial_days = $8, entitlements = $9, active = $10,
                   position = $11, updated_at = $12
               WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(plan.id).bind(&plan.code).bind(&plan.name).bind(&plan.description)
        .bind(plan.price_cents).bind(&plan.currency).bind(plan.cycle.as_str())
        .bind(plan.trial_days).bind(Json(&plan.entitlements)).bind(plan.active)
        .bind(plan.position).bind(plan.updated_at)
        .execute(c).await.map_err(conflict_on_unique("plan_code_taken", TAKEN))?.rows_affected());
    Ok(())
}

/// Whether a subscription not canceled names the plan (now or as its next).
pub async fn has_subscribers(tx: &mut Tx, id: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM subscriptions
               WHERE (plan_id = $1 OR pending_plan_id = $1) AND status <> 'canceled'";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(id).fetch_one(c).await?);
    Ok(n > 0)
}

/// Deletes a plan no subscription ever named; `false` when one did (archive it instead).
pub async fn delete_unused(tx: &mut Tx, id: Uuid) -> AppResult<bool> {
    let sql = "DELETE FROM plans WHERE id = $1
               AND NOT EXISTS (SELECT 1 FROM subscriptions
                               WHERE plan_id = $1 OR pending_plan_id = $1)";
    let deleted = on_tx!(tx, c => sqlx::query(sql).bind(id).execute(c).await?.rows_affected());
    Ok(deleted == 1)
}

pub async fn archive(tx: &mut Tx, id: Uuid, now: OffsetDateTime) -> AppResult<()> {
    let sql = "UPDATE plans SET active = FALSE, updated_at = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(())
}
