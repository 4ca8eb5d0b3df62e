use time::OffsetDateTime;
use uuid::Uuid;

use super::{Provider, ProviderKind};
use crate::{
    on_conn, on_tx,
    platform::{
        db::{Conn, Tx},
        error::{AppError, AppResult, conflict_on_unique},
    },
};

#[derive(sqlx::FromRow)]
pub struct Row {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub base_url: String,
    /// Sealed (see `credentials`).
    pub credentials: String,
    pub credentials_hint: String,
    pub status: String,
    pub last_checked_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Row {
    pub fn kind(&self) -> AppResult<ProviderKind> {
        ProviderKind::parse(&self.kind).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "provider {} is of kind {}",
                self.id,
                self.kind
            ))
        })
    }

    pub fn view(&self) -> AppResult<Provider> {
        let kind = self.kind()?;
        Ok(Provider {
            id: self.id,
            kind,
            capabilities: super::adapters::of(kind).capabilities(),
            name: self.name.clone(),
            base_url: self.base_url.clone(),
            status: self.status.clone(),
            last_checked_at: self.last_checked_at,
            has_credentials: true,
            credentials_hint: self.credentials_hint.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

macro_rules! columns {
    () => {
        "id, kind, name, base_url, credentials, credentials_hint, status, last_checked_at,
         created_at, updated_at"
    };
}

pub async fn list(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Vec<Row>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM providers WHERE account_id = $1 AND deleted_at IS NULL ORDER BY name, id"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql).bind(account_id).fetch_all(c).await?))
}

pub async fn get(conn: impl Into<Conn<'_>>, account_id: Uuid, id: Uuid) -> AppResult<Option<Row>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM providers WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
    Ok(
        on_conn!(conn.into(), c => sqlx::query_as(sql).bind(account_id).bind(id).fetch_optional(c).await?),
    )
}

const NAME_TAKEN: &str = "The account has a provider with this name.";

pub struct NewProvider<'a> {
    pub id: Uuid,
    pub account_id: Uuid,
    pub kind: ProviderKind,
    pub name: &'a str,
    pub base_url: &'a str,
    pub sealed: &'a str,
    pub hint: &'a str,
    pub now: OffsetDateTime,
}

pub async fn insert(tx: &mut Tx, p: &NewProvider<'_>) -> AppResult<()> {
    let sql = "INSERT INTO providers (id, account_id, kind, name, base_url, credentials,
                   credentials_hint, status, last_checked_at, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 'ok', $8, $8, $8)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(p.id).bind(p.account_id).bind(p.kind.as_str()).bind(p.name).bind(p.base_url)
        .bind(p.sealed).bind(p.hint).bind(p.now)
        .execute(c).await.map_err(conflict_on_unique("provider_name_taken", NAME_TAKEN))?.rows_affected());
    Ok(())
}

/// Saves a provider's name, server and credentials (checked just now).
pub async fn update(
    tx: &mut Tx,
    account_id: Uuid,
    row: &Row,
    now: OffsetDateTime,
) -> AppResult<()> {
    let sql = "UPDATE providers SET name = $3, base_url = $4, credentials = $5,
                   credentials_hint = $6, status = $7, last_checked_at = $8, updated_at = $8
               WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(account_id).bind(row.id).bind(&row.name).bind(&row.base_url).bind(&row.credentials)
        .bind(&row.credentials_hint).bind(&row.status).bind(now)
        .execute(c).await.map_err(conflict_on_unique("provider_name_taken", NAME_TAKEN))?.rows_affected());
    Ok(())
}

/// Records a check's outcome; answers the status it replaced, when it changed.
pub async fn checked(
    tx: &mut Tx,
    account_id: Uuid,
    id: Uuid,
    status: &str,
    at: OffsetDateTime,
) -> AppResult<Option<String>> {
    let before: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT status FROM providers WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(account_id).bind(id).fetch_optional(c).await?);
    let sql = "UPDATE providers SET status = $3, last_checked_at = $4
               WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(id).bind(status).bind(at)
        .execute(c).await?.rows_affected());
    Ok(before.filter(|before| before != status))
}

/// Deletes a provider (kept for the audit trail, out of every list and count); `false`
/// when there was none.
pub async fn delete(
    tx: &mut Tx,
    account_id: Uuid,
    id: Uuid,
    now: OffsetDateTime,
) -> AppResult<bool> {
    let sql = "UPDATE providers SET deleted_at = $3, credentials = '', updated_at = $3
               WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(id).bind(now)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}
