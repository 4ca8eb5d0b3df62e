use std::collections::BTreeMap;

use uuid::Uuid;

use super::Metered;
use crate::{
    on_conn, on_tx, on_writer,
    platform::{
        db::{Conn, Db, Tx},
        error::AppResult,
    },
};

/// Counts the messages (and their agents) not counted before; answers each month's message
/// total after it.
pub async fn record(
    tx: &mut Tx,
    account_id: Uuid,
    messages: &[Metered],
) -> AppResult<BTreeMap<String, i64>> {
    let message = "INSERT INTO metered_messages (account_id, chatwoot_message_id, month)
                   VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
    let agent = "INSERT INTO metered_agents (account_id, month, chatwoot_user_id)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
    let mut added: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for m in messages {
        let new = on_tx!(tx, c => sqlx::query(message).bind(account_id).bind(m.message_id)
            .bind(&m.month).execute(c).await?.rows_affected());
        if new == 0 {
            continue;
        }
        let slot = added.entry(m.month.clone()).or_default();
        slot.0 += 1;
        if let Some(agent_id) = m.agent_id {
            slot.1 += on_tx!(tx, c => sqlx::query(agent).bind(account_id).bind(&m.month)
                .bind(agent_id).execute(c).await?.rows_affected()) as i64;
        }
    }
    let upsert =
        "INSERT INTO usage_months (account_id, month, messages, active_agents, announced_percent)
                  VALUES ($1, $2, $3, $4, 0)
                  ON CONFLICT (account_id, month) DO UPDATE
                  SET messages = usage_months.messages + excluded.messages,
                      active_agents = usage_months.active_agents + excluded.active_agents
                  RETURNING messages";
    let mut totals = BTreeMap::new();
    for (month, (messages, agents)) in added {
        let total: i64 = on_tx!(tx, c => sqlx::query_scalar(upsert).bind(account_id).bind(&month)
            .bind(messages).bind(agents).fetch_one(c).await?);
        totals.insert(month, total);
    }
    Ok(totals)
}

/// Records that the account was told of `percent` this month; `false` when it already was
/// (of it or of more).
pub async fn announce_once(
    tx: &mut Tx,
    account_id: Uuid,
    month: &str,
    percent: i64,
) -> AppResult<bool> {
    let sql = "UPDATE usage_months SET announced_percent = $3
               WHERE account_id = $1 AND month = $2 AND announced_percent < $3";
    let changed = on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(month).bind(percent as i32)
        .execute(c).await?.rows_affected());
    Ok(changed == 1)
}

/// The month's messages and active agents (zero before the first).
pub async fn month(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    month: &str,
) -> AppResult<(i64, i64)> {
    let sql =
        "SELECT messages, active_agents FROM usage_months WHERE account_id = $1 AND month = $2";
    let row: Option<(i64, i64)> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(account_id).bind(month).fetch_optional(pool).await?);
    Ok(row.unwrap_or((0, 0)))
}

/// Forgets which messages were counted in months before `month` (their totals stay): a
/// redelivery that late is long past Chatwoot's retries.
pub async fn purge_before(db: &Db, month: &str) -> AppResult<u64> {
    let sql = "DELETE FROM metered_messages WHERE month < $1";
    let mut writer = db.writer().await?;
    Ok(on_writer!(&mut writer, c =>
        sqlx::query(sql).bind(month).execute(c).await?.rows_affected()))
}
