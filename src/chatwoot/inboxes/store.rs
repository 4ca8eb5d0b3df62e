use time::OffsetDateTime;
use uuid::Uuid;

use super::Inbox;
use crate::{
    on_conn, on_tx,
    platform::{
        db::{Conn, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
};

macro_rules! select {
    () => {
        "SELECT id, chatwoot_inbox_id, name, channel_type, phone_number, enabled, disabled_reason,
                removed_at, synced_at, created_at, updated_at,
                (SELECT n.id FROM instances n WHERE n.account_id = inboxes.account_id
                   AND n.chatwoot_inbox_id = inboxes.chatwoot_inbox_id
                   AND n.deleted_at IS NULL) AS whatsapp_instance_id
         FROM inboxes "
    };
}

pub async fn list(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    page: PageRequest,
) -> AppResult<Vec<Inbox>> {
    let sql = concat!(
        select!(),
        "WHERE account_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(account_id).bind(page.after).bind(page.fetch_limit()).fetch_all(c).await?))
}

/// Every inbox of the account, removed ones included (for a sync to compare against).
pub async fn all_in(tx: &mut Tx, account_id: Uuid) -> AppResult<Vec<Inbox>> {
    let sql = concat!(select!(), "WHERE account_id = $1 ORDER BY id");
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(account_id).fetch_all(c).await?))
}

/// Whether the inbox with this Chatwoot id is enabled in the hub (`None`: not mirrored).
pub async fn enabled(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    chatwoot_inbox_id: i64,
) -> AppResult<Option<bool>> {
    let sql = "SELECT enabled FROM inboxes WHERE account_id = $1 AND chatwoot_inbox_id = $2";
    Ok(on_conn!(conn.into(), c => sqlx::query_scalar(sql)
        .bind(account_id).bind(chatwoot_inbox_id).fetch_optional(c).await?))
}

pub async fn get_in(tx: &mut Tx, account_id: Uuid, inbox_id: Uuid) -> AppResult<Option<Inbox>> {
    let sql = concat!(select!(), "WHERE account_id = $1 AND id = $2");
    Ok(
        on_tx!(tx, c => sqlx::query_as(sql).bind(account_id).bind(inbox_id).fetch_optional(c).await?),
    )
}

pub async fn count_enabled(tx: &mut Tx, account_id: Uuid) -> AppResult<i64> {
    let sql =
        "SELECT COUNT(*) FROM inboxes WHERE account_id = $1 AND enabled AND removed_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(account_id).fetch_one(c).await?))
}

pub async fn insert(tx: &mut Tx, account_id: Uuid, inbox: &Inbox) -> AppResult<()> {
    let sql =
        "INSERT INTO inboxes (id, account_id, chatwoot_inbox_id, name, channel_type, phone_number,
                   enabled, disabled_reason, removed_at, synced_at, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(inbox.id).bind(account_id).bind(inbox.chatwoot_inbox_id).bind(&inbox.name)
        .bind(&inbox.channel_type).bind(&inbox.phone_number).bind(inbox.enabled)
        .bind(&inbox.disabled_reason).bind(inbox.removed_at).bind(inbox.synced_at)
        .bind(inbox.created_at).bind(inbox.updated_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn update(tx: &mut Tx, account_id: Uuid, inbox: &Inbox) -> AppResult<()> {
    let sql = "UPDATE inboxes SET name = $3, channel_type = $4, phone_number = $5, enabled = $6,
                   disabled_reason = $7, removed_at = $8, synced_at = $9, updated_at = $10
               WHERE account_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(account_id).bind(inbox.id).bind(&inbox.name).bind(&inbox.channel_type)
        .bind(&inbox.phone_number).bind(inbox.enabled).bind(&inbox.disabled_reason)
        .bind(inbox.removed_at).bind(inbox.synced_at).bind(inbox.updated_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Records when a sync last touched the account's inboxes, even when nothing changed.
pub async fn mark_synced(tx: &mut Tx, account_id: Uuid, at: OffsetDateTime) -> AppResult<()> {
    let sql = "UPDATE inboxes SET synced_at = $2 WHERE account_id = $1 AND removed_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(at).execute(c).await?.rows_affected());
    Ok(())
}

/// The name of the inbox with this Chatwoot id, as last mirrored (`None`: not mirrored).
pub async fn name(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    chatwoot_inbox_id: i64,
) -> AppResult<Option<String>> {
    let sql = "SELECT name FROM inboxes WHERE account_id = $1 AND chatwoot_inbox_id = $2";
    Ok(on_conn!(conn.into(), c => sqlx::query_scalar(sql)
        .bind(account_id).bind(chatwoot_inbox_id).fetch_optional(c).await?))
}
