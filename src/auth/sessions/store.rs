use time::OffsetDateTime;
use uuid::Uuid;

use super::SessionView;
use crate::{
    on_db, on_tx,
    platform::{
        clock,
        db::{Db, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
};

pub struct NewSessionRow<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub account_id: Option<Uuid>,
    pub method: &'a str,
    pub device: Option<&'a str>,
    pub ip: Option<String>,
    pub user_agent: Option<&'a str>,
    pub absolute_expires_at: OffsetDateTime,
}

pub async fn insert(tx: &mut Tx, row: &NewSessionRow<'_>) -> AppResult<()> {
    let sql =
        "INSERT INTO sessions (id, user_id, account_id, method, device, ip, user_agent, created_at,
                                     last_seen_at, absolute_expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(row.id)
        .bind(row.user_id)
        .bind(row.account_id)
        .bind(row.method)
        .bind(row.device)
        .bind(row.ip.as_deref())
        .bind(row.user_agent)
        .bind(clock::now())
        .bind(row.absolute_expires_at)
        .execute(conn)
        .await?.rows_affected());
    Ok(())
}

pub async fn insert_refresh(
    tx: &mut Tx,
    session_id: Uuid,
    token_hash: &[u8],
    parent: Option<Uuid>,
) -> AppResult<()> {
    let sql = "INSERT INTO refresh_tokens (id, session_id, token_hash, parent_id, created_at)
               VALUES ($1, $2, $3, $4, $5)";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(session_id).bind(token_hash).bind(parent).bind(clock::now())
        .execute(conn).await?.rows_affected());
    Ok(())
}

/// A presented refresh token with the state of its session.
#[derive(sqlx::FromRow)]
pub struct RefreshRow {
    pub id: Uuid,
    pub session_id: Uuid,
    pub used_at: Option<OffsetDateTime>,
    pub user_id: Uuid,
    pub account_id: Option<Uuid>,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_seen_at: OffsetDateTime,
    pub absolute_expires_at: OffsetDateTime,
}

pub async fn find_refresh(tx: &mut Tx, token_hash: &[u8]) -> AppResult<Option<RefreshRow>> {
    let sql = "SELECT r.id, r.session_id, r.used_at, s.user_id, s.account_id, s.revoked_at, s.last_seen_at,
                      s.absolute_expires_at
               FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
               WHERE r.token_hash = $1";
    Ok(on_tx!(tx, conn => sqlx::query_as(sql).bind(token_hash).fetch_optional(conn).await?))
}

/// Marks a refresh token used; false when another request used it first.
pub async fn mark_used(tx: &mut Tx, refresh_id: Uuid) -> AppResult<bool> {
    let sql = "UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL";
    let rows = on_tx!(tx, conn => sqlx::query(sql).bind(refresh_id).bind(clock::now())
        .execute(conn).await?.rows_affected());
    Ok(rows == 1)
}

pub async fn touch(tx: &mut Tx, session_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE sessions SET last_seen_at = $2 WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(session_id).bind(clock::now())
        .execute(conn).await?.rows_affected());
    Ok(())
}

/// Revokes one live session of `user_id`; false when there is none.
pub async fn revoke(tx: &mut Tx, user_id: Uuid, session_id: Uuid, reason: &str) -> AppResult<bool> {
    let sql = "UPDATE sessions SET revoked_at = $3, revoked_reason = $4
               WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
    let rows = on_tx!(tx, conn => sqlx::query(sql)
        .bind(session_id).bind(user_id).bind(clock::now()).bind(reason)
        .execute(conn).await?.rows_affected());
    Ok(rows == 1)
}

/// Revokes the user's live sessions, except `keep`; limited to sessions opened for
/// `account` when given. Answers how many ended.
pub async fn revoke_all(
    tx: &mut Tx,
    user_id: Uuid,
    keep: Option<Uuid>,
    account: Option<Uuid>,
    reason: &str,
) -> AppResult<u64> {
    let sql = "UPDATE sessions SET revoked_at = $4, revoked_reason = $5
               WHERE user_id = $1 AND revoked_at IS NULL
                 AND ($2 IS NULL OR id <> $2) AND ($3 IS NULL OR account_id = $3)";
    Ok(on_tx!(tx, conn => sqlx::query(sql)
        .bind(user_id).bind(keep).bind(account).bind(clock::now()).bind(reason)
        .execute(conn).await?.rows_affected()))
}

/// The user's sessions that are still alive (not revoked, not past either lifetime),
/// newest first. `idle_cutoff` is the oldest `last_seen_at` an idle session may have.
pub async fn list_live(
    db: &Db,
    user_id: Uuid,
    idle_cutoff: OffsetDateTime,
    page: PageRequest,
) -> AppResult<Vec<SessionView>> {
    let sql = "SELECT id, account_id, method, device, ip, user_agent, created_at, last_seen_at,
                      absolute_expires_at AS expires_at, FALSE AS current
               FROM sessions
               WHERE user_id = $1 AND revoked_at IS NULL AND absolute_expires_at > $2 AND last_seen_at > $3
                 AND ($4 IS NULL OR id < $4)
               ORDER BY id DESC LIMIT $5";
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(user_id).bind(clock::now()).bind(idle_cutoff).bind(page.after)
        .bind(page.fetch_limit()).fetch_all(pool).await?))
}

/// The user and session behind an access token, read once per request.
#[derive(sqlx::FromRow)]
pub struct Principal {
    pub is_super_admin: bool,
    pub account_id: Option<Uuid>,
    pub revoked_at: Option<OffsetDateTime>,
    pub absolute_expires_at: OffsetDateTime,
}

pub async fn principal(db: &Db, user_id: Uuid, session_id: Uuid) -> AppResult<Option<Principal>> {
    let sql = "SELECT u.is_super_admin, s.account_id, s.revoked_at, s.absolute_expires_at
               FROM users u JOIN sessions s ON s.id = $2 AND s.user_id = u.id
               WHERE u.id = $1";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(user_id).bind(session_id).fetch_optional(pool).await?),
    )
}
