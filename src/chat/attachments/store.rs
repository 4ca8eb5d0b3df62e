//! The queries of attachments.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    on_conn, on_tx,
    platform::{
        db::{Conn, Tx},
        error::AppResult,
    },
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub room_id: Uuid,
    pub uploader_id: Uuid,
    pub message_id: Option<Uuid>,
    pub position: i32,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub kind: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub storage_key: String,
    pub thumbnail_key: Option<String>,
    pub thumbnail_type: Option<String>,
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "SELECT id, account_id, room_id, uploader_id, message_id, position, filename,
        content_type, size, kind, width, height, storage_key, thumbnail_key, thumbnail_type,
        created_at
    FROM chat_attachments";

pub async fn insert(tx: &mut Tx, a: &AttachmentRow) -> AppResult<()> {
    let sql = "INSERT INTO chat_attachments (id, account_id, room_id, uploader_id, message_id,
                   position, filename, content_type, size, kind, width, height, storage_key,
                   thumbnail_key, thumbnail_type, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(a.id).bind(a.account_id).bind(a.room_id).bind(a.uploader_id).bind(a.message_id)
        .bind(a.position).bind(&a.filename).bind(&a.content_type).bind(a.size).bind(&a.kind)
        .bind(a.width).bind(a.height).bind(&a.storage_key).bind(&a.thumbnail_key)
        .bind(&a.thumbnail_type).bind(a.created_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// The attachment `id`, whatever its account: only a link signed for it leads here.
pub async fn get(conn: impl Into<Conn<'_>>, id: Uuid) -> AppResult<Option<AttachmentRow>> {
    let sql = format!("{COLUMNS} WHERE id = $1");
    Ok(
        on_conn!(conn.into(), c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(c).await?),
    )
}

/// The attachments of these messages, each message's in the order sent.
pub async fn of_messages(conn: Conn<'_>, ids: &[Uuid]) -> AppResult<Vec<AttachmentRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "{COLUMNS} WHERE message_id IN ({}) ORDER BY message_id, position",
        marks.join(", ")
    );
    Ok(on_conn!(conn, c => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await?
    }))
}

pub struct Claim {
    pub account_id: Uuid,
    pub room_id: Uuid,
    pub uploader_id: Uuid,
    pub message_id: Uuid,
    pub id: Uuid,
    pub position: i32,
}

/// Gives an unsent upload of the uploader's in the room to the message; `false` when there
/// is no such upload.
pub async fn claim(tx: &mut Tx, c: Claim) -> AppResult<bool> {
    let sql = "UPDATE chat_attachments SET message_id = $1, position = $2
               WHERE id = $3 AND account_id = $4 AND room_id = $5 AND uploader_id = $6
                 AND message_id IS NULL";
    let n = on_tx!(tx, conn => sqlx::query(sql)
        .bind(c.message_id).bind(c.position).bind(c.id).bind(c.account_id).bind(c.room_id)
        .bind(c.uploader_id).execute(conn).await?.rows_affected());
    Ok(n == 1)
}

/// Up to `limit` uploads never sent, made before `before`, oldest first.
pub async fn unsent_before(
    conn: impl Into<Conn<'_>>,
    before: OffsetDateTime,
    limit: i64,
) -> AppResult<Vec<Uuid>> {
    let sql = "SELECT id FROM chat_attachments WHERE message_id IS NULL AND created_at < $1
               ORDER BY created_at LIMIT $2";
    Ok(on_conn!(conn.into(), c => sqlx::query_scalar(sql)
        .bind(before).bind(limit).fetch_all(c).await?))
}

/// Deletes the upload if it is still unsent (a send may have claimed it meanwhile);
/// answers its stored files' keys.
pub async fn delete_unsent(tx: &mut Tx, id: Uuid) -> AppResult<Vec<String>> {
    let sql = "DELETE FROM chat_attachments WHERE id = $1 AND message_id IS NULL
               RETURNING storage_key, thumbnail_key";
    let rows: Vec<(String, Option<String>)> = on_tx!(tx, c => sqlx::query_as(sql)
        .bind(id).fetch_all(c).await?);
    Ok(keys(rows))
}

/// Deletes the message's attachments; answers their stored files' keys.
pub async fn release(tx: &mut Tx, message_id: Uuid) -> AppResult<Vec<String>> {
    let sql = "DELETE FROM chat_attachments WHERE message_id = $1
               RETURNING storage_key, thumbnail_key";
    let rows: Vec<(String, Option<String>)> = on_tx!(tx, c => sqlx::query_as(sql)
        .bind(message_id).fetch_all(c).await?);
    Ok(keys(rows))
}

/// The stored files' keys of deleted rows: each file's, and its thumbnail's.
fn keys(rows: Vec<(String, Option<String>)>) -> Vec<String> {
    rows.into_iter()
        .flat_map(|(key, thumb)| std::iter::once(key).chain(thumb))
        .collect()
}
