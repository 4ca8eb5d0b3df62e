use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    on_conn, on_db, on_tx, on_writer,
    platform::{
        db::{Conn, Db, Tx},
        error::AppResult,
    },
};

/// An account's link to Chatwoot, secrets still sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionRow {
    pub status: String,
    pub token_source: String,
    pub api_token: Option<String>,
    pub webhook_id: Option<i64>,
    pub webhook_secret: Option<String>,
    pub dashboard_app_id: Option<i64>,
    pub last_error: Option<String>,
    pub connected_at: Option<OffsetDateTime>,
    pub last_sync_at: Option<OffsetDateTime>,
    pub last_sync_report: Option<Json<serde_json::Value>>,
    pub last_reconciled_at: Option<OffsetDateTime>,
    pub last_reconcile_report: Option<Json<serde_json::Value>>,
    pub updated_at: OffsetDateTime,
}

pub async fn get(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Option<ConnectionRow>> {
    let sql =
        "SELECT status, token_source, api_token, webhook_id, webhook_secret, dashboard_app_id,
                      last_error, connected_at, last_sync_at, last_sync_report, last_reconciled_at,
                      last_reconcile_report, updated_at
               FROM chatwoot_connections WHERE account_id = $1";
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql).bind(account_id).fetch_optional(c).await?))
}

pub async fn save(tx: &mut Tx, account_id: Uuid, row: &ConnectionRow) -> AppResult<()> {
    let sql =
        "INSERT INTO chatwoot_connections (account_id, status, token_source, api_token, webhook_id,
                   webhook_secret, dashboard_app_id, last_error, connected_at, last_sync_at,
                   last_sync_report, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               ON CONFLICT (account_id) DO UPDATE SET status = excluded.status,
                   token_source = excluded.token_source, api_token = excluded.api_token,
                   webhook_id = excluded.webhook_id, webhook_secret = excluded.webhook_secret,
                   dashboard_app_id = excluded.dashboard_app_id, last_error = excluded.last_error,
                   connected_at = excluded.connected_at, last_sync_at = excluded.last_sync_at,
                   last_sync_report = excluded.last_sync_report, updated_at = excluded.updated_at";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(account_id).bind(&row.status).bind(&row.token_source).bind(&row.api_token)
        .bind(row.webhook_id).bind(&row.webhook_secret).bind(row.dashboard_app_id)
        .bind(&row.last_error).bind(row.connected_at).bind(row.last_sync_at)
        .bind(&row.last_sync_report).bind(row.updated_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn record_sync(
    tx: &mut Tx,
    account_id: Uuid,
    at: OffsetDateTime,
    report: &serde_json::Value,
) -> AppResult<()> {
    let sql = "UPDATE chatwoot_connections SET last_sync_at = $2, last_sync_report = $3
               WHERE account_id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(at).bind(Json(report))
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn record_reconcile(
    db: &Db,
    account_id: Uuid,
    at: OffsetDateTime,
    report: &serde_json::Value,
) -> AppResult<()> {
    let sql = "UPDATE chatwoot_connections SET last_reconciled_at = $2, last_reconcile_report = $3
               WHERE account_id = $1";
    let mut writer = db.writer().await?;
    on_writer!(&mut writer, c => sqlx::query(sql).bind(account_id).bind(at).bind(Json(report))
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Accounts whose Chatwoot connection is live.
pub async fn connected_accounts(db: &Db) -> AppResult<Vec<Uuid>> {
    let sql = "SELECT account_id FROM chatwoot_connections WHERE status = 'connected' ORDER BY account_id";
    Ok(on_db!(db, c => sqlx::query_scalar(sql).fetch_all(c).await?))
}
