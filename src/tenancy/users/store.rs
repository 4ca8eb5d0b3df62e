use uuid::Uuid;

use super::{Member, Membership, Profile};
use crate::{
    on_conn, on_db, on_tx,
    platform::{
        clock,
        db::{Conn, Db, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
};

macro_rules! member_select {
    () => {
        "SELECT u.id, u.email, u.name, u.avatar_url, u.chatwoot_user_id, m.role, m.active,
                m.created_at, m.updated_at
         FROM account_users m JOIN users u ON u.id = m.user_id "
    };
}

/// `Some(is_super_admin)` for an existing user.
pub async fn super_admin_flag(db: &Db, user_id: Uuid) -> AppResult<Option<bool>> {
    let sql = "SELECT is_super_admin FROM users WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).bind(user_id).fetch_optional(pool).await?))
}

pub async fn id_by_email(conn: impl Into<Conn<'_>>, email: &str) -> AppResult<Option<Uuid>> {
    let sql = "SELECT id FROM users WHERE email = $1";
    Ok(
        on_conn!(conn.into(), pool => sqlx::query_scalar(sql).bind(email).fetch_optional(pool).await?),
    )
}

pub async fn list(
    db: &Db,
    account_id: Uuid,
    active: Option<bool>,
    page: PageRequest,
) -> AppResult<Vec<Member>> {
    let sql = concat!(
        member_select!(),
        "WHERE m.account_id = $1 AND ($2 IS NULL OR m.active = $2) AND ($3 IS NULL OR m.user_id > $3)
         ORDER BY m.user_id LIMIT $4"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(account_id).bind(active).bind(page.after).bind(page.fetch_limit())
        .fetch_all(pool).await?))
}

pub async fn get(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<Member>> {
    let sql = concat!(
        member_select!(),
        "WHERE m.account_id = $1 AND m.user_id = $2"
    );
    Ok(
        on_conn!(conn.into(), pool => sqlx::query_as(sql).bind(account_id).bind(user_id).fetch_optional(pool).await?),
    )
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub avatar_url: Option<&'a str>,
    pub chatwoot_user_id: Option<i64>,
    pub is_super_admin: bool,
}

/// Creates the user, or answers the id of the user another transaction just created with
/// the same email (two accounts adding one new person at once get one user).
pub async fn insert_user(tx: &mut Tx, user: &NewUser<'_>) -> Result<Uuid, sqlx::Error> {
    let sql = "INSERT INTO users (id, chatwoot_user_id, email, name, avatar_url, is_super_admin, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
               ON CONFLICT (email) DO NOTHING";
    on_tx!(tx, conn => {
        sqlx::query(sql)
            .bind(Uuid::now_v7())
            .bind(user.chatwoot_user_id)
            .bind(user.email)
            .bind(user.name)
            .bind(user.avatar_url)
            .bind(user.is_super_admin)
            .bind(clock::now())
            .execute(&mut *conn)
            .await?;
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(user.email).fetch_one(&mut *conn).await
    })
}

pub async fn set_super_admin(tx: &mut Tx, user_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE users SET is_super_admin = $2, updated_at = $3 WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(user_id).bind(true).bind(clock::now()).execute(conn).await?.rows_affected());
    Ok(())
}

pub async fn update_profile(
    tx: &mut Tx,
    user_id: Uuid,
    name: &str,
    avatar_url: Option<&str>,
) -> AppResult<()> {
    let sql = "UPDATE users SET name = $2, avatar_url = $3, updated_at = $4 WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(user_id).bind(name).bind(avatar_url).bind(clock::now()).execute(conn).await?.rows_affected());
    crate::tenancy::accounts::store::bump_revisions_of_member(tx, user_id).await?;
    Ok(())
}

/// Whether the user has a membership (active or not) in the account.
pub async fn membership_exists_in(tx: &mut Tx, account_id: Uuid, user_id: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM account_users WHERE account_id = $1 AND user_id = $2";
    let count: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql).bind(account_id).bind(user_id).fetch_one(conn).await?);
    Ok(count > 0)
}

pub async fn insert_membership(
    tx: &mut Tx,
    account_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> AppResult<()> {
    let sql =
        "INSERT INTO account_users (account_id, user_id, role, active, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $5)";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(account_id).bind(user_id).bind(role).bind(true).bind(clock::now()).execute(conn).await?.rows_affected());
    Ok(())
}

pub async fn update_membership(
    tx: &mut Tx,
    account_id: Uuid,
    user_id: Uuid,
    role: &str,
    active: bool,
) -> AppResult<()> {
    let sql = "UPDATE account_users SET role = $3, active = $4, updated_at = $5
               WHERE account_id = $1 AND user_id = $2";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(account_id).bind(user_id).bind(role).bind(active).bind(clock::now()).execute(conn).await?.rows_affected());
    Ok(())
}

pub async fn chatwoot_user_in_account(
    tx: &mut Tx,
    account_id: Uuid,
    chatwoot_user_id: i64,
) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM account_users m JOIN users u ON u.id = m.user_id
               WHERE m.account_id = $1 AND u.chatwoot_user_id = $2";
    let n: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(account_id).bind(chatwoot_user_id).fetch_one(conn).await?);
    Ok(n > 0)
}

/// The account's active member who is this Chatwoot user.
pub async fn member_by_chatwoot_id(
    tx: &mut Tx,
    account_id: Uuid,
    chatwoot_user_id: i64,
) -> AppResult<Option<Uuid>> {
    let sql = "SELECT u.id FROM users u JOIN account_users m ON m.user_id = u.id
               WHERE m.account_id = $1 AND m.active AND u.chatwoot_user_id = $2 LIMIT 1";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(account_id).bind(chatwoot_user_id).fetch_optional(conn).await?))
}

/// Active members who came from Chatwoot (they have a Chatwoot identity): id and role.
pub async fn active_chatwoot_members_in(
    tx: &mut Tx,
    account_id: Uuid,
) -> AppResult<Vec<(Uuid, String)>> {
    let sql = "SELECT u.id, m.role FROM account_users m JOIN users u ON u.id = m.user_id
               WHERE m.account_id = $1 AND m.active AND u.chatwoot_user_id IS NOT NULL
                 AND NOT u.is_super_admin";
    Ok(on_tx!(tx, conn => sqlx::query_as(sql).bind(account_id).fetch_all(conn).await?))
}

/// Active admins of the account other than `except`.
pub async fn other_active_admins_in(tx: &mut Tx, account_id: Uuid, except: Uuid) -> AppResult<i64> {
    let sql = "SELECT COUNT(*) FROM account_users
               WHERE account_id = $1 AND user_id <> $2 AND role = 'admin' AND active";
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(account_id).bind(except).fetch_one(conn).await?),
    )
}

pub async fn profile(db: &Db, user_id: Uuid) -> AppResult<Option<Profile>> {
    let sql = "SELECT id, email, name, avatar_url, chatwoot_user_id, is_super_admin FROM users WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(user_id).fetch_optional(pool).await?))
}

pub async fn memberships(db: &Db, user_id: Uuid) -> AppResult<Vec<Membership>> {
    let sql = "SELECT a.id AS account_id, a.name AS account_name, m.role
               FROM account_users m JOIN accounts a ON a.id = m.account_id
               WHERE m.user_id = $1 AND m.active ORDER BY a.name, a.id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(user_id).fetch_all(pool).await?))
}

/// The hub user for a Chatwoot user: by Chatwoot id first, then by email.
pub async fn id_for_chatwoot_in(
    tx: &mut Tx,
    chatwoot_user_id: i64,
    email: &str,
) -> AppResult<Option<Uuid>> {
    let sql = "SELECT id FROM users WHERE chatwoot_user_id = $1 OR (chatwoot_user_id IS NULL AND email = $2)
               ORDER BY chatwoot_user_id NULLS LAST LIMIT 1";
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(chatwoot_user_id).bind(email).fetch_optional(conn).await?),
    )
}

/// Brings a user's identity in line with Chatwoot's profile.
pub async fn update_identity(
    tx: &mut Tx,
    user_id: Uuid,
    chatwoot_user_id: i64,
    email: &str,
    name: &str,
    avatar_url: Option<&str>,
) -> AppResult<()> {
    let sql = "UPDATE users SET chatwoot_user_id = $2, email = $3, name = $4, avatar_url = $5, updated_at = $6
               WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(user_id).bind(chatwoot_user_id).bind(email).bind(name).bind(avatar_url).bind(clock::now())
        .execute(conn).await?.rows_affected());
    crate::tenancy::accounts::store::bump_revisions_of_member(tx, user_id).await?;
    Ok(())
}

/// Memberships (active or not) the user has in accounts other than `account_id`.
pub async fn memberships_elsewhere_in(
    tx: &mut Tx,
    user_id: Uuid,
    account_id: Uuid,
) -> AppResult<i64> {
    let sql = "SELECT COUNT(*) FROM account_users WHERE user_id = $1 AND account_id <> $2";
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(user_id).bind(account_id).fetch_one(conn).await?),
    )
}
