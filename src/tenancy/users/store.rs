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

/// Who a person is, which decides how they are found again. Identities are never merged:
/// the same email under two kinds (or two installations) is two people (ADR 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// A user of one Chatwoot installation; Chatwoot numbers users from 1 in each.
    Chatwoot { installation_id: Uuid, user_id: i64 },
    /// Someone an account's admin added in the hub: that account's alone, by email.
    AddedIn(Uuid),
    /// An operator made with `whatpro-hub create-admin`, by email.
    Operator,
}

impl Identity {
    fn columns(self) -> (Option<Uuid>, Option<i64>, Option<Uuid>) {
        match self {
            Identity::Chatwoot {
                installation_id,
                user_id,
            } => (Some(installation_id), Some(user_id), None),
            Identity::AddedIn(account_id) => (None, None, Some(account_id)),
            Identity::Operator => (None, None, None),
        }
    }
}

pub struct NewUser<'a> {
    pub identity: Identity,
    pub email: &'a str,
    pub name: &'a str,
    pub avatar_url: Option<&'a str>,
    pub is_super_admin: bool,
}

/// The person with this identity (`email` names them unless they come from Chatwoot).
pub async fn find(
    conn: impl Into<Conn<'_>>,
    identity: Identity,
    email: &str,
) -> AppResult<Option<Uuid>> {
    let sql = "SELECT id FROM users
               WHERE CASE WHEN $1 IS NOT NULL
                          THEN chatwoot_installation_id = $1 AND chatwoot_user_id = $2
                          WHEN $3 IS NOT NULL THEN home_account_id = $3 AND email = $4
                          ELSE chatwoot_installation_id IS NULL AND home_account_id IS NULL
                               AND email = $4 END";
    let (installation_id, chatwoot_user_id, home_account_id) = identity.columns();
    Ok(on_conn!(conn.into(), pool => sqlx::query_scalar(sql)
        .bind(installation_id).bind(chatwoot_user_id).bind(home_account_id).bind(email)
        .fetch_optional(pool).await?))
}

/// Creates the person, or answers the id of the one another transaction just created with
/// the same identity (two sign-ins or syncs at once get one person, never two).
pub async fn insert_user(tx: &mut Tx, user: &NewUser<'_>) -> AppResult<Uuid> {
    let sql = "INSERT INTO users (id, chatwoot_installation_id, chatwoot_user_id, home_account_id,
                                  email, name, avatar_url, is_super_admin, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
               ON CONFLICT DO NOTHING";
    let (installation_id, chatwoot_user_id, home_account_id) = user.identity.columns();
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(Uuid::now_v7())
        .bind(installation_id)
        .bind(chatwoot_user_id)
        .bind(home_account_id)
        .bind(user.email)
        .bind(user.name)
        .bind(user.avatar_url)
        .bind(user.is_super_admin)
        .bind(clock::now())
        .execute(conn)
        .await?
        .rows_affected());
    find(&mut *tx, user.identity, user.email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a person neither inserted nor found").into())
}

/// The account that added this person in the hub, if one did: only it may change their
/// name and avatar; everyone else's profile is their own (or Chatwoot's).
pub async fn added_in(tx: &mut Tx, user_id: Uuid) -> AppResult<Option<Uuid>> {
    let sql = "SELECT home_account_id FROM users WHERE id = $1";
    let home: Option<Option<Uuid>> =
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(user_id).fetch_optional(conn).await?);
    Ok(home.flatten())
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

/// Adds the membership unless it exists (a racing insert of the same one included):
/// whether this call made it.
pub async fn insert_membership(
    tx: &mut Tx,
    account_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> AppResult<bool> {
    let sql =
        "INSERT INTO account_users (account_id, user_id, role, active, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $5)
               ON CONFLICT DO NOTHING";
    let inserted = on_tx!(tx, conn => sqlx::query(sql)
        .bind(account_id).bind(user_id).bind(role).bind(true).bind(clock::now()).execute(conn).await?.rows_affected());
    Ok(inserted == 1)
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

/// The account's active member who is this Chatwoot user.
pub async fn member_by_chatwoot_id(
    tx: &mut Tx,
    account_id: Uuid,
    chatwoot_user_id: i64,
) -> AppResult<Option<Uuid>> {
    let sql = "SELECT u.id FROM users u JOIN account_users m ON m.user_id = u.id
               JOIN accounts a ON a.id = m.account_id
               WHERE m.account_id = $1 AND m.active AND u.chatwoot_user_id = $2
                 AND u.chatwoot_installation_id = a.chatwoot_installation_id";
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

/// The person's active memberships; only the one in `only` for a session bound to it.
pub async fn memberships(db: &Db, user_id: Uuid, only: Option<Uuid>) -> AppResult<Vec<Membership>> {
    let sql = "SELECT a.id AS account_id, a.name AS account_name, m.role
               FROM account_users m JOIN accounts a ON a.id = m.account_id
               WHERE m.user_id = $1 AND m.active AND ($2 IS NULL OR a.id = $2)
               ORDER BY a.name, a.id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(user_id).bind(only).fetch_all(pool).await?))
}

/// Brings a Chatwoot person's profile in line with what Chatwoot says of them.
pub async fn update_from_chatwoot(
    tx: &mut Tx,
    user_id: Uuid,
    email: &str,
    name: &str,
    avatar_url: Option<&str>,
) -> AppResult<()> {
    let sql = "UPDATE users SET email = $2, name = $3, avatar_url = $4, updated_at = $5
               WHERE id = $1 AND chatwoot_installation_id IS NOT NULL";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(user_id).bind(email).bind(name).bind(avatar_url).bind(clock::now())
        .execute(conn).await?.rows_affected());
    crate::tenancy::accounts::store::bump_revisions_of_member(tx, user_id).await?;
    Ok(())
}
