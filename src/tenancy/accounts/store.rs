use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Account;
use crate::{
    on_conn, on_db, on_tx,
    platform::{
        db::{Conn, Db, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
    tenancy::Role,
};

macro_rules! columns {
    () => {
        "id, chatwoot_installation_id, chatwoot_account_id, name, locale, status, settings, created_at, updated_at"
    };
}

/// What a user holds in an account, and the state of their session, read in one query
/// per request.
#[derive(sqlx::FromRow)]
pub struct Access {
    pub is_super_admin: bool,
    /// `None` when the account does not exist.
    pub account_status: Option<String>,
    /// `None` without an active membership.
    pub role: Option<String>,
    pub session_account: Option<Uuid>,
    pub session_revoked_at: Option<OffsetDateTime>,
    pub session_expires_at: OffsetDateTime,
    /// The account's revision (0 when the account does not exist).
    pub revision: Option<i64>,
}

impl Access {
    pub fn account_active(&self) -> Option<bool> {
        self.account_status
            .as_deref()
            .map(|status| status == "active")
    }

    pub fn role(&self) -> Option<Role> {
        self.role.as_deref().and_then(Role::from_membership)
    }
}

/// `None` when the user or the session does not exist.
pub async fn access(
    db: &Db,
    account_id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
) -> AppResult<Option<Access>> {
    let sql = "SELECT u.is_super_admin, a.status AS account_status, m.role, s.account_id AS session_account,
                      s.revoked_at AS session_revoked_at, s.absolute_expires_at AS session_expires_at,
                      a.revision
               FROM users u
               JOIN sessions s ON s.id = $3 AND s.user_id = u.id
               LEFT JOIN accounts a ON a.id = $1
               LEFT JOIN account_users m ON m.account_id = a.id AND m.user_id = u.id AND m.active
               WHERE u.id = $2";
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(account_id).bind(user_id).bind(session_id).fetch_optional(pool).await?))
}

pub async fn get(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Option<Account>> {
    let sql = concat!("SELECT ", columns!(), " FROM accounts WHERE id = $1");
    Ok(on_conn!(conn.into(), pool => sqlx::query_as(sql)
        .bind(account_id).fetch_optional(pool).await?))
}

/// All accounts (super admins) or those where `member` has an active membership.
/// Accounts, by id: those `member` belongs to (every one when `None`), and only `only`
/// when a session is bound to one account.
pub async fn list(
    db: &Db,
    member: Option<Uuid>,
    only: Option<Uuid>,
    page: PageRequest,
) -> AppResult<Vec<Account>> {
    let sql = concat!(
        "SELECT ", columns!(), " FROM accounts
         WHERE ($1 IS NULL OR id IN (SELECT account_id FROM account_users WHERE user_id = $1 AND active))
           AND ($4 IS NULL OR id = $4)
           AND ($2 IS NULL OR id > $2)
         ORDER BY id LIMIT $3"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(member).bind(page.after).bind(page.fetch_limit()).bind(only).fetch_all(pool).await?))
}

/// Inserts the account unless one already mirrors its Chatwoot account (a racing insert
/// included): whether this call made it.
pub async fn insert(tx: &mut Tx, account: &Account) -> Result<bool, sqlx::Error> {
    let sql = concat!(
        "INSERT INTO accounts (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
    );
    let inserted = on_tx!(tx, conn => sqlx::query(sql)
        .bind(account.id)
        .bind(account.chatwoot_installation_id)
        .bind(account.chatwoot_account_id)
        .bind(&account.name)
        .bind(&account.locale)
        .bind(&account.status)
        .bind(Json(&account.settings))
        .bind(account.created_at)
        .bind(account.updated_at)
        .execute(conn)
        .await?.rows_affected());
    Ok(inserted == 1)
}

pub async fn update(tx: &mut Tx, account: &Account) -> AppResult<()> {
    let sql =
        "UPDATE accounts SET name = $2, locale = $3, status = $4, settings = $5, updated_at = $6
               WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(account.id)
        .bind(&account.name)
        .bind(&account.locale)
        .bind(&account.status)
        .bind(Json::<&Value>(&account.settings))
        .bind(account.updated_at)
        .execute(conn)
        .await?.rows_affected());
    Ok(())
}

/// The hub account linked to a Chatwoot account of one installation.
pub async fn by_chatwoot_id(
    conn: impl Into<Conn<'_>>,
    installation_id: Uuid,
    chatwoot_account_id: i64,
) -> AppResult<Option<Account>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM accounts WHERE chatwoot_installation_id = $1 AND chatwoot_account_id = $2"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql)
        .bind(installation_id).bind(chatwoot_account_id).fetch_optional(c).await?))
}

/// Moves the account's revision on (inside the writing transaction).
pub async fn bump_revision(tx: &mut Tx, account_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE accounts SET revision = revision + 1 WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(account_id).execute(conn).await?.rows_affected());
    Ok(())
}

/// Moves on the revision of every account `user_id` belongs to: their profile shows in all.
pub async fn bump_revisions_of_member(tx: &mut Tx, user_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE accounts SET revision = revision + 1
               WHERE id IN (SELECT account_id FROM account_users WHERE user_id = $1)";
    on_tx!(tx, conn => sqlx::query(sql).bind(user_id).execute(conn).await?.rows_affected());
    Ok(())
}
