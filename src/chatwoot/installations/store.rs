use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Installation;
use crate::{
    on_db, on_tx,
    platform::{
        clock,
        db::{Db, Tx},
        error::AppResult,
    },
};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    base_url: String,
    origins: Json<Vec<String>>,
    has_platform_token: bool,
    signs_webhooks: bool,
    from_env: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<Row> for Installation {
    fn from(row: Row) -> Self {
        Installation {
            id: row.id,
            name: row.name,
            base_url: row.base_url,
            origins: row.origins.0,
            has_platform_token: row.has_platform_token,
            signs_webhooks: row.signs_webhooks,
            from_env: row.from_env,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

macro_rules! select {
    () => {
        "SELECT id, name, base_url, origins, platform_token IS NOT NULL AS has_platform_token,
            signs_webhooks, from_env, created_at, updated_at FROM chatwoot_installations "
    };
}

pub async fn list(db: &Db) -> AppResult<Vec<Installation>> {
    let sql = concat!(select!(), "ORDER BY created_at, id");
    let rows: Vec<Row> = on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?);
    Ok(rows.into_iter().map(Installation::from).collect())
}

pub async fn get_in(tx: &mut Tx, id: Uuid) -> AppResult<Option<Installation>> {
    let sql = concat!(select!(), "WHERE id = $1");
    let row: Option<Row> =
        on_tx!(tx, conn => sqlx::query_as(sql).bind(id).fetch_optional(conn).await?);
    Ok(row.map(Installation::from))
}

/// Sealed secrets of one installation.
#[derive(sqlx::FromRow)]
pub struct Secrets {
    pub platform_token: Option<String>,
    pub app_secret: Option<String>,
}

pub async fn secrets(db: &Db, id: Uuid) -> AppResult<Option<Secrets>> {
    let sql = "SELECT platform_token, app_secret FROM chatwoot_installations WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await?))
}

pub struct EnvInstallation<'a> {
    pub base_url: &'a str,
    pub origins: &'a [String],
    pub platform_token: Option<String>,
    pub app_secret: Option<String>,
    pub signs_webhooks: bool,
}

/// Makes the environment's installation match `env`; an API-made row with the same URL
/// becomes the environment's. Returns its id.
pub async fn upsert_env(
    tx: &mut Tx,
    env: &EnvInstallation<'_>,
    now: OffsetDateTime,
) -> AppResult<Uuid> {
    let find = "SELECT id FROM chatwoot_installations WHERE from_env OR base_url = $1
                ORDER BY from_env DESC LIMIT 1";
    let existing: Option<Uuid> =
        on_tx!(tx, conn => sqlx::query_scalar(find).bind(env.base_url).fetch_optional(conn).await?);
    // A row that stops being the environment's must not keep the URL the new one needs.
    let release = "UPDATE chatwoot_installations SET from_env = FALSE WHERE from_env AND id <> $1";
    let id = existing.unwrap_or_else(Uuid::now_v7);
    on_tx!(tx, conn => sqlx::query(release).bind(id).execute(conn).await?.rows_affected());
    let sql = match existing {
        Some(_) => {
            "UPDATE chatwoot_installations SET base_url = $2, origins = $3, platform_token = $4,
                app_secret = $5, signs_webhooks = $6, from_env = TRUE, updated_at = $7 WHERE id = $1"
        }
        None => {
            "INSERT INTO chatwoot_installations (id, base_url, origins, platform_token, app_secret,
                signs_webhooks, from_env, updated_at, created_at, name)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7, 'Chatwoot')"
        }
    };
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(id).bind(env.base_url).bind(Json(env.origins)).bind(&env.platform_token)
        .bind(&env.app_secret).bind(env.signs_webhooks).bind(now)
        .execute(conn).await?.rows_affected());
    Ok(id)
}

/// Without `CHATWOOT_URL` the former environment installation stays, managed by the API.
pub async fn release_env(tx: &mut Tx) -> AppResult<()> {
    let sql = "UPDATE chatwoot_installations SET from_env = FALSE, updated_at = $1 WHERE from_env";
    on_tx!(tx, conn => sqlx::query(sql).bind(clock::now()).execute(conn).await?.rows_affected());
    Ok(())
}

/// Accounts signed into before installations existed came from the environment's.
pub async fn adopt_unlinked_accounts(tx: &mut Tx, installation_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE accounts SET chatwoot_installation_id = $1
               WHERE chatwoot_installation_id IS NULL AND chatwoot_account_id IS NOT NULL";
    on_tx!(tx, conn => sqlx::query(sql).bind(installation_id).execute(conn).await?.rows_affected());
    Ok(())
}

pub struct NewInstallation<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub base_url: &'a str,
    pub origins: &'a [String],
    pub platform_token: Option<String>,
    pub app_secret: String,
    pub signs_webhooks: bool,
}

pub async fn insert(tx: &mut Tx, new: &NewInstallation<'_>) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO chatwoot_installations (id, name, base_url, origins, platform_token,
                   app_secret, signs_webhooks, from_env, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $8)";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(new.id).bind(new.name).bind(new.base_url).bind(Json(new.origins))
        .bind(&new.platform_token).bind(&new.app_secret).bind(new.signs_webhooks).bind(clock::now())
        .execute(conn).await?.rows_affected());
    Ok(())
}

pub struct Changes<'a> {
    pub name: &'a str,
    pub origins: &'a [String],
    /// `Some(None)` removes the token.
    pub platform_token: Option<Option<String>>,
    pub signs_webhooks: bool,
}

pub async fn update(tx: &mut Tx, id: Uuid, changes: &Changes<'_>) -> AppResult<()> {
    let keep_token = changes.platform_token.is_none();
    let token = changes.platform_token.clone().flatten();
    let sql = "UPDATE chatwoot_installations SET name = $2, origins = $3, signs_webhooks = $4,
                   platform_token = CASE WHEN $5 THEN platform_token ELSE $6 END, updated_at = $7
               WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(id).bind(changes.name).bind(Json(changes.origins)).bind(changes.signs_webhooks)
        .bind(keep_token).bind(token).bind(clock::now())
        .execute(conn).await?.rows_affected());
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: Uuid) -> AppResult<()> {
    let sql = "DELETE FROM chatwoot_installations WHERE id = $1 AND NOT from_env";
    on_tx!(tx, conn => sqlx::query(sql).bind(id).execute(conn).await?.rows_affected());
    Ok(())
}
