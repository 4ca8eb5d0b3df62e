use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Behaviour, Instance, StatusChange};
use crate::{
    on_conn, on_tx, on_writer,
    platform::{
        db::{Conn, Db, Engine, Tx},
        error::{AppResult, conflict_on_unique},
    },
};

/// Changes closer together than this fold into one history entry.
const FLAPPING: Duration = Duration::minutes(2);

macro_rules! columns {
    () => {
        "id, provider_id, name, phone, status, provider_status, settings, chatwoot_inbox_id,
         last_event_at, created_at, updated_at"
    };
}

pub async fn list(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Vec<Instance>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM instances WHERE account_id = $1 AND deleted_at IS NULL ORDER BY name, id"
    );
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql).bind(account_id).fetch_all(c).await?))
}

pub async fn get(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    id: Uuid,
) -> AppResult<Option<Instance>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM instances WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
    Ok(
        on_conn!(conn.into(), c => sqlx::query_as(sql).bind(account_id).bind(id).fetch_optional(c).await?),
    )
}

/// The instance's sealed credential.
pub async fn credentials(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    id: Uuid,
) -> AppResult<String> {
    let sql = "SELECT credentials FROM instances WHERE account_id = $1 AND id = $2";
    Ok(
        on_conn!(conn.into(), c => sqlx::query_scalar(sql).bind(account_id).bind(id).fetch_one(c).await?),
    )
}

pub struct NewInstance<'a> {
    pub id: Uuid,
    pub account_id: Uuid,
    pub provider_id: Uuid,
    pub name: &'a str,
    /// The number it is expected to be, until its session tells.
    pub phone: Option<&'a str>,
    pub sealed: &'a str,
    pub sealed_secret: &'a str,
    pub now: OffsetDateTime,
}

pub async fn insert(tx: &mut Tx, new: &NewInstance<'_>) -> AppResult<()> {
    let sql = "INSERT INTO instances (id, account_id, provider_id, name, status, provider_status,
                   credentials, webhook_secret, created_at, updated_at, phone)
               VALUES ($1, $2, $3, $4, 'disconnected', 'close', $5, $7, $6, $6, $8)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(new.id).bind(new.account_id).bind(new.provider_id).bind(new.name)
        .bind(new.sealed).bind(new.now).bind(new.sealed_secret).bind(new.phone)
        .execute(c).await
        .map_err(conflict_on_unique("instance_name_taken", "The provider has an instance with this name."))?
        .rows_affected());
    Ok(())
}

pub async fn delete(tx: &mut Tx, account_id: Uuid, id: Uuid, now: OffsetDateTime) -> AppResult<()> {
    let sql = "UPDATE instances SET deleted_at = $3, credentials = '', webhook_secret = '',
                   updated_at = $3
               WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(())
}

/// Whether the provider has instances (not deleted).
pub async fn any_on(tx: &mut Tx, provider_id: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM instances WHERE provider_id = $1 AND deleted_at IS NULL";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(provider_id).fetch_one(c).await?);
    Ok(n > 0)
}

/// A status as seen now.
pub struct Seen<'a> {
    pub status: &'a str,
    pub raw: &'a str,
    /// The session's number, when the provider told it.
    pub phone: Option<&'a str>,
    /// When the provider said it (microseconds).
    pub seen_at: i64,
    pub reason: &'a str,
    pub source: &'a str,
}

/// What recording a status did.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Unchanged,
    /// Changed soon after the last change: counted in that history entry.
    Folded,
    /// Changed from this status, in a history entry of its own.
    New(String),
}

/// Records the instance's status; a change goes into its history, folded into the latest
/// entry when that one is recent.
pub async fn record(
    tx: &mut Tx,
    account_id: Uuid,
    id: Uuid,
    seen: &Seen<'_>,
    now: OffsetDateTime,
) -> AppResult<Recorded> {
    // Claims the row for this look first: a look older than the one recorded changes
    // nothing (on PostgreSQL a writer waiting on the row checks again once it is free).
    let newer = on_tx!(tx, c => sqlx::query(
        "UPDATE instances SET status_seen_at = $3
         WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL
           AND (status_seen_at IS NULL OR status_seen_at <= $3)")
        .bind(account_id).bind(id).bind(seen.seen_at).execute(c).await?.rows_affected());
    if newer == 0 {
        return Ok(Recorded::Unchanged);
    }
    let current: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT status FROM instances WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(account_id).bind(id).fetch_optional(c).await?);
    let Some(from) = current else {
        return Ok(Recorded::Unchanged);
    };
    let phone = seen.phone.map(|phone| {
        phone
            .chars()
            .filter(char::is_ascii_digit)
            .take(20)
            .collect::<String>()
    });
    on_tx!(tx, c => sqlx::query(
        "UPDATE instances SET status = $3, provider_status = $4, updated_at = $5,
             phone = COALESCE($6, phone)
         WHERE account_id = $1 AND id = $2")
        .bind(account_id).bind(id).bind(seen.status).bind(seen.raw).bind(now).bind(phone)
        .execute(c).await?.rows_affected());
    if from == seen.status {
        return Ok(Recorded::Unchanged);
    }
    let folded = on_tx!(tx, c => sqlx::query(
        "UPDATE instance_status_history SET to_status = $3, raw = $4, changes = changes + 1,
             last_at = $5
         WHERE id = (SELECT id FROM instance_status_history WHERE instance_id = $2
                     ORDER BY id DESC LIMIT 1)
           AND account_id = $1 AND last_at > $6")
        .bind(account_id).bind(id).bind(seen.status).bind(seen.raw).bind(now).bind(now - FLAPPING)
        .execute(c).await?.rows_affected());
    if folded > 0 {
        return Ok(Recorded::Folded);
    }
    {
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO instance_status_history (id, account_id, instance_id, from_status,
                 to_status, raw, reason, source, changes, first_at, last_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)")
            .bind(Uuid::now_v7()).bind(account_id).bind(id).bind(&from).bind(seen.status)
            .bind(seen.raw).bind(seen.reason).bind(seen.source).bind(now)
            .execute(c).await?.rows_affected());
    }
    Ok(Recorded::New(from))
}

pub async fn history(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    id: Uuid,
) -> AppResult<Vec<StatusChange>> {
    let sql = "SELECT id, from_status, to_status, raw, reason, source, changes, first_at, last_at
               FROM instance_status_history WHERE account_id = $1 AND instance_id = $2
               ORDER BY id DESC LIMIT 200";
    Ok(
        on_conn!(conn.into(), c => sqlx::query_as(sql).bind(account_id).bind(id).fetch_all(c).await?),
    )
}

/// What a webhook of a live instance is checked against, whatever its account (the
/// webhook names only the instance).
#[derive(sqlx::FromRow)]
pub struct WebhookKey {
    pub account_id: Uuid,
    pub provider_id: Uuid,
    /// The provider's type.
    pub kind: String,
    /// Sealed.
    pub webhook_secret: String,
}

pub async fn webhook_key(conn: impl Into<Conn<'_>>, id: Uuid) -> AppResult<Option<WebhookKey>> {
    let sql = "SELECT i.account_id, i.provider_id, p.kind, i.webhook_secret
               FROM instances i JOIN providers p ON p.id = i.provider_id
               WHERE i.id = $1 AND i.deleted_at IS NULL";
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql).bind(id).fetch_optional(c).await?))
}

/// Notes that the provider said something of the instance.
pub async fn heard(tx: &mut Tx, account_id: Uuid, id: Uuid, at: OffsetDateTime) -> AppResult<()> {
    let sql = "UPDATE instances SET last_event_at = $3 WHERE account_id = $1 AND id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(id).bind(at).execute(c).await?.rows_affected());
    Ok(())
}

/// Keeps the settings the provider took.
pub async fn set_settings(
    tx: &mut Tx,
    account_id: Uuid,
    id: Uuid,
    settings: &Behaviour,
    now: OffsetDateTime,
) -> AppResult<()> {
    let sql = "UPDATE instances SET settings = $3, updated_at = $4
               WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL";
    let json = settings.to_json();
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(id).bind(json).bind(now).execute(c).await?.rows_affected());
    Ok(())
}

/// A number due for its health check.
#[derive(sqlx::FromRow)]
pub struct Due {
    pub id: Uuid,
    pub account_id: Uuid,
    pub provider_id: Uuid,
    pub last_event_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// Takes up to `limit` numbers due at `now`, leased until `lease` (their next check when
/// the checker dies half way). The due condition is asked again on the rows updated, so
/// a replica that waited for another's lock takes none of its numbers.
pub async fn claim_checks(
    db: &Db,
    now: OffsetDateTime,
    lease: OffsetDateTime,
    limit: i64,
) -> AppResult<Vec<Due>> {
    macro_rules! claim {
        ($lock:literal) => {
            concat!(
                "UPDATE instances SET check_due_at = $2
                 WHERE id IN (SELECT id FROM instances
                              WHERE deleted_at IS NULL
                                AND (check_due_at IS NULL OR check_due_at <= $1)
                              ORDER BY check_due_at LIMIT $3",
                $lock,
                ")
                   AND deleted_at IS NULL AND (check_due_at IS NULL OR check_due_at <= $1)
                 RETURNING id, account_id, provider_id, last_event_at, created_at"
            )
        };
    }
    let sql = match db.engine() {
        Engine::Sqlite => claim!(""),
        Engine::Postgres => claim!(" FOR UPDATE SKIP LOCKED"),
    };
    let mut writer = db.writer().await?;
    Ok(on_writer!(&mut writer, c => sqlx::query_as(sql)
        .bind(now).bind(lease).bind(limit).fetch_all(c).await?))
}

/// When the number is checked next.
pub async fn due_at(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> AppResult<()> {
    let sql = "UPDATE instances SET check_due_at = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(at).execute(c).await?.rows_affected());
    Ok(())
}

/// Live numbers by status, across accounts.
pub async fn count_by_status(conn: impl Into<Conn<'_>>) -> AppResult<Vec<(String, i64)>> {
    let sql = "SELECT status, COUNT(*) FROM instances WHERE deleted_at IS NULL GROUP BY status";
    Ok(on_conn!(conn.into(), c => sqlx::query_as(sql).fetch_all(c).await?))
}

/// The number feeding Chatwoot inbox `chatwoot_inbox_id`, if any.
pub async fn linked_to(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    chatwoot_inbox_id: i64,
) -> AppResult<Option<Uuid>> {
    let sql = "SELECT id FROM instances
               WHERE account_id = $1 AND chatwoot_inbox_id = $2 AND deleted_at IS NULL";
    Ok(on_conn!(conn.into(), c => sqlx::query_scalar(sql)
        .bind(account_id).bind(chatwoot_inbox_id).fetch_optional(c).await?))
}

/// Links the number to a Chatwoot inbox; 409 when another number feeds it already.
pub async fn link_inbox(
    tx: &mut Tx,
    account_id: Uuid,
    id: Uuid,
    chatwoot_inbox_id: i64,
    now: OffsetDateTime,
) -> AppResult<()> {
    let sql = "UPDATE instances SET chatwoot_inbox_id = $3, updated_at = $4
               WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(account_id).bind(id).bind(chatwoot_inbox_id).bind(now)
        .execute(c).await
        .map_err(conflict_on_unique("inbox_already_linked", "Another number already feeds this inbox."))?
        .rows_affected());
    Ok(())
}
