use uuid::Uuid;

use super::Team;
use crate::{
    on_conn, on_db, on_tx,
    platform::{
        clock,
        db::{Conn, Db, Tx},
        error::AppResult,
        pagination::PageRequest,
    },
    tenancy::users::Member,
};

/// The case-folded name that uniqueness is checked on (Unicode-aware, same on both engines).
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

macro_rules! team_select {
    () => {
        "SELECT id, name, description, chatwoot_team_id, created_at, updated_at FROM teams "
    };
}

pub async fn list(db: &Db, account_id: Uuid, page: PageRequest) -> AppResult<Vec<Team>> {
    let sql = concat!(
        team_select!(),
        "WHERE account_id = $1 AND deleted_at IS NULL AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    );
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(account_id).bind(page.after).bind(page.fetch_limit()).fetch_all(pool).await?))
}

/// Every live team of the account (a Chatwoot sync compares against all of them).
pub async fn all_live_in(tx: &mut Tx, account_id: Uuid) -> AppResult<Vec<Team>> {
    let sql = concat!(
        team_select!(),
        "WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(sql).bind(account_id).fetch_all(conn).await?))
}

pub async fn get(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    team_id: Uuid,
) -> AppResult<Option<Team>> {
    let sql = concat!(
        team_select!(),
        "WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
    Ok(
        on_conn!(conn.into(), pool => sqlx::query_as(sql).bind(account_id).bind(team_id).fetch_optional(pool).await?),
    )
}

pub async fn insert(tx: &mut Tx, account_id: Uuid, team: &Team) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO teams (id, account_id, name, description, chatwoot_team_id, created_at, updated_at, name_key)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(team.id)
        .bind(account_id)
        .bind(&team.name)
        .bind(&team.description)
        .bind(team.chatwoot_team_id)
        .bind(team.created_at)
        .bind(team.updated_at)
        .bind(name_key(&team.name))
        .execute(conn)
        .await?.rows_affected());
    Ok(())
}

/// Whether a live team of the account other than `except` already has this name (names are
/// unique ignoring case among live teams).
pub async fn name_taken(
    tx: &mut Tx,
    account_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM teams
               WHERE account_id = $1 AND name_key = $2 AND deleted_at IS NULL
                 AND ($3 IS NULL OR id <> $3)";
    let count: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(account_id).bind(name_key(name)).bind(except).fetch_one(conn).await?);
    Ok(count > 0)
}

pub async fn update(tx: &mut Tx, account_id: Uuid, team: &Team) -> Result<(), sqlx::Error> {
    let sql = "UPDATE teams SET name = $3, description = $4, updated_at = $5, name_key = $6,
                   chatwoot_team_id = $7
               WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(account_id).bind(team.id).bind(&team.name).bind(&team.description).bind(team.updated_at)
        .bind(name_key(&team.name)).bind(team.chatwoot_team_id)
        .execute(conn).await?.rows_affected());
    Ok(())
}

/// Soft-deletes the team (it stops counting against `max_teams`) and drops its members.
pub async fn delete(tx: &mut Tx, account_id: Uuid, team_id: Uuid) -> AppResult<()> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE teams SET deleted_at = $3 WHERE account_id = $1 AND id = $2")
            .bind(account_id).bind(team_id).bind(clock::now()).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM team_members WHERE account_id = $1 AND team_id = $2")
            .bind(account_id).bind(team_id).execute(&mut *conn).await?;
    });
    Ok(())
}

pub async fn members(
    db: &Db,
    account_id: Uuid,
    team_id: Uuid,
    page: PageRequest,
) -> AppResult<Vec<Member>> {
    let sql = "SELECT u.id, u.email, u.name, u.avatar_url, u.chatwoot_user_id, m.role, m.active,
                      m.created_at, m.updated_at
               FROM team_members t
               JOIN account_users m ON m.account_id = t.account_id AND m.user_id = t.user_id
               JOIN users u ON u.id = t.user_id
               WHERE t.account_id = $1 AND t.team_id = $2 AND ($3 IS NULL OR t.user_id > $3)
               ORDER BY t.user_id LIMIT $4";
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(account_id).bind(team_id).bind(page.after).bind(page.fetch_limit()).fetch_all(pool).await?))
}

/// Adds a member; answers whether the row is new (adding twice is harmless).
pub async fn add_member(
    tx: &mut Tx,
    account_id: Uuid,
    team_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    let sql = "INSERT INTO team_members (team_id, account_id, user_id, created_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (team_id, user_id) DO NOTHING";
    let result = on_tx!(tx, conn => sqlx::query(sql)
        .bind(team_id).bind(account_id).bind(user_id).bind(clock::now()).execute(conn).await?.rows_affected());
    Ok(result == 1)
}

pub async fn remove_member(
    tx: &mut Tx,
    account_id: Uuid,
    team_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    let sql = "DELETE FROM team_members WHERE account_id = $1 AND team_id = $2 AND user_id = $3";
    let result = on_tx!(tx, conn => sqlx::query(sql)
        .bind(account_id).bind(team_id).bind(user_id).execute(conn).await?.rows_affected());
    Ok(result == 1)
}
