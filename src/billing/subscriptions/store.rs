use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{Payment, Status, Subscription};
use crate::{
    billing::money,
    on_conn, on_tx,
    platform::{
        db::{Conn, Tx},
        error::{AppError, AppResult},
        pagination::PageRequest,
    },
};

macro_rules! subscription_columns {
    () => {
        "id, account_id, plan_id, pending_plan_id, status, billing_type, asaas_id,
                       trial_ends_at, current_period_end, next_due_date, grace_until,
                       cancel_at_period_end, change_at, canceled_at, created_at"
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    account_id: Uuid,
    plan_id: Uuid,
    pending_plan_id: Option<Uuid>,
    status: String,
    billing_type: String,
    asaas_id: Option<String>,
    trial_ends_at: Option<OffsetDateTime>,
    current_period_end: Option<OffsetDateTime>,
    next_due_date: Option<Date>,
    grace_until: Option<OffsetDateTime>,
    cancel_at_period_end: bool,
    change_at: Option<OffsetDateTime>,
    canceled_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

impl TryFrom<Row> for Subscription {
    type Error = AppError;
    fn try_from(row: Row) -> AppResult<Subscription> {
        let status = Status::parse(&row.status).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("subscription {} is {}", row.id, row.status))
        })?;
        Ok(Subscription {
            id: row.id,
            account_id: row.account_id,
            plan_id: row.plan_id,
            pending_plan_id: row.pending_plan_id,
            status,
            billing_type: row.billing_type,
            asaas_id: row.asaas_id,
            trial_ends_at: row.trial_ends_at,
            current_period_end: row.current_period_end,
            next_due_date: row.next_due_date,
            grace_until: row.grace_until,
            cancel_at_period_end: row.cancel_at_period_end,
            change_at: row.change_at,
            canceled_at: row.canceled_at,
            created_at: row.created_at,
        })
    }
}

/// The account's subscription that is not canceled (at most one).
pub async fn live(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Option<Subscription>> {
    let sql = concat!(
        "SELECT ",
        subscription_columns!(),
        " FROM subscriptions WHERE account_id = $1 AND status <> 'canceled'"
    );
    let row: Option<Row> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(account_id).fetch_optional(pool).await?);
    row.map(Subscription::try_from).transpose()
}

/// The account's newest subscription, canceled or not.
pub async fn latest(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
) -> AppResult<Option<Subscription>> {
    let sql = concat!(
        "SELECT ",
        subscription_columns!(),
        " FROM subscriptions WHERE account_id = $1 ORDER BY id DESC LIMIT 1"
    );
    let row: Option<Row> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(account_id).fetch_optional(pool).await?);
    row.map(Subscription::try_from).transpose()
}

pub async fn by_asaas_id(
    conn: impl Into<Conn<'_>>,
    asaas_id: &str,
) -> AppResult<Option<Subscription>> {
    let sql = concat!(
        "SELECT ",
        subscription_columns!(),
        " FROM subscriptions WHERE asaas_id = $1"
    );
    let row: Option<Row> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(asaas_id).fetch_optional(pool).await?);
    row.map(Subscription::try_from).transpose()
}

pub async fn get(conn: impl Into<Conn<'_>>, id: Uuid) -> AppResult<Option<Subscription>> {
    let sql = concat!(
        "SELECT ",
        subscription_columns!(),
        " FROM subscriptions WHERE id = $1"
    );
    let row: Option<Row> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(id).fetch_optional(pool).await?);
    row.map(Subscription::try_from).transpose()
}

/// Subscriptions in `statuses`, oldest first, after `after` (a page of a pass over them).
pub async fn in_status(
    conn: impl Into<Conn<'_>>,
    statuses: &[Status],
    after: Uuid,
    limit: i64,
) -> AppResult<Vec<Subscription>> {
    let wanted: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    // One statement for both engines: a fixed list of six slots, the unused ones NULL.
    let sql = concat!(
        "SELECT ",
        subscription_columns!(),
        " FROM subscriptions
         WHERE status IN ($1, $2, $3, $4, $5, $6) AND id > $7 ORDER BY id LIMIT $8"
    );
    let slot = |i: usize| wanted.get(i).copied();
    let rows: Vec<Row> = on_conn!(conn.into(), pool => sqlx::query_as(sql)
        .bind(slot(0)).bind(slot(1)).bind(slot(2)).bind(slot(3)).bind(slot(4)).bind(slot(5))
        .bind(after).bind(limit).fetch_all(pool).await?);
    rows.into_iter().map(Subscription::try_from).collect()
}

/// Stores a new subscription; `false` when the account already has a live one.
pub async fn insert(
    tx: &mut Tx,
    sub: &Subscription,
    attempt_until: OffsetDateTime,
) -> AppResult<bool> {
    let sql = concat!(
        "INSERT INTO subscriptions (",
        subscription_columns!(),
        ", attempt_until, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $15)
         ON CONFLICT DO NOTHING"
    );
    let inserted = on_tx!(tx, c => sqlx::query(sql)
        .bind(sub.id).bind(sub.account_id).bind(sub.plan_id).bind(sub.pending_plan_id)
        .bind(sub.status.as_str()).bind(&sub.billing_type).bind(&sub.asaas_id)
        .bind(sub.trial_ends_at).bind(sub.current_period_end).bind(sub.next_due_date)
        .bind(sub.grace_until).bind(sub.cancel_at_period_end).bind(sub.change_at)
        .bind(sub.canceled_at).bind(sub.created_at).bind(attempt_until)
        .execute(c).await?.rows_affected());
    Ok(inserted == 1)
}

/// Saves everything that changes after creation (a subscribe attempt's hold apart).
pub async fn save(tx: &mut Tx, sub: &Subscription, now: OffsetDateTime) -> AppResult<()> {
    let sql = "UPDATE subscriptions SET plan_id = $2, pending_plan_id = $3, status = $4,
                   billing_type = $5, asaas_id = $6, trial_ends_at = $7, current_period_end = $8,
                   next_due_date = $9, grace_until = $10, cancel_at_period_end = $11,
                   change_at = $12, canceled_at = $13, updated_at = $14
               WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(sub.id).bind(sub.plan_id).bind(sub.pending_plan_id).bind(sub.status.as_str())
        .bind(&sub.billing_type).bind(&sub.asaas_id).bind(sub.trial_ends_at)
        .bind(sub.current_period_end).bind(sub.next_due_date).bind(sub.grace_until)
        .bind(sub.cancel_at_period_end).bind(sub.change_at).bind(sub.canceled_at).bind(now)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Takes the subscribe attempt's hold on the subscription until `until`.
pub async fn hold(tx: &mut Tx, id: Uuid, until: OffsetDateTime) -> AppResult<()> {
    let sql = "UPDATE subscriptions SET attempt_until = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(until).execute(c).await?.rows_affected());
    Ok(())
}

/// Ends the hold taken until `until`, if it is still that one (a later attempt's stays).
pub async fn release_hold(
    db: &crate::platform::db::Db,
    id: Uuid,
    until: OffsetDateTime,
) -> AppResult<()> {
    let sql = "UPDATE subscriptions SET attempt_until = NULL WHERE id = $1 AND attempt_until = $2";
    let mut writer = db.writer().await?;
    crate::on_writer!(&mut writer, c => sqlx::query(sql).bind(id).bind(until).execute(c).await?.rows_affected());
    Ok(())
}

/// Whether the account had a subscription Asaas charged before (a trial is for the first).
pub async fn subscribed_before(tx: &mut Tx, account_id: Uuid) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM subscriptions WHERE account_id = $1 AND asaas_id IS NOT NULL";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(account_id).fetch_one(c).await?);
    Ok(n > 0)
}

/// Until when a subscribe attempt holds the subscription.
pub async fn attempt_until(
    conn: impl Into<Conn<'_>>,
    id: Uuid,
) -> AppResult<Option<OffsetDateTime>> {
    let sql = "SELECT attempt_until FROM subscriptions WHERE id = $1";
    Ok(on_conn!(conn.into(), c => sqlx::query_scalar(sql).bind(id).fetch_one(c).await?))
}

/// Moves on the revision of every account subscribed to `plan_id`: their entitlements
/// follow the plan, and what is kept of them follows revisions.
pub async fn bump_subscribers(tx: &mut Tx, plan_id: Uuid) -> AppResult<()> {
    let sql = "UPDATE accounts SET revision = revision + 1
               WHERE id IN (SELECT account_id FROM subscriptions
                            WHERE plan_id = $1 AND status <> 'canceled')";
    on_tx!(tx, c => sqlx::query(sql).bind(plan_id).execute(c).await?.rows_affected());
    Ok(())
}

/// A payment as Asaas last described it.
pub struct PaymentUpdate<'a> {
    pub account_id: Uuid,
    pub subscription_id: Uuid,
    pub asaas_id: &'a str,
    pub value_cents: i64,
    pub status: &'a str,
    pub billing_type: &'a str,
    pub due_date: Date,
    pub paid_at: Option<OffsetDateTime>,
    pub invoice_url: Option<&'a str>,
    /// When it was read from Asaas (`clock::now_micros`, taken before the request).
    pub fetched_at: i64,
}

/// Records a payment's state, creating it the first time; a read older than the one
/// stored changes nothing (two workers, or a reconciliation racing a webhook).
pub async fn upsert_payment(
    tx: &mut Tx,
    p: &PaymentUpdate<'_>,
    now: OffsetDateTime,
) -> AppResult<()> {
    let sql = "INSERT INTO payments (id, account_id, subscription_id, asaas_id, value_cents,
                   status, billing_type, due_date, paid_at, invoice_url, deleted, fetched_at,
                   created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $12, $11, $11)
               ON CONFLICT (asaas_id) DO UPDATE SET value_cents = excluded.value_cents,
                   status = excluded.status, billing_type = excluded.billing_type,
                   due_date = excluded.due_date, paid_at = excluded.paid_at,
                   invoice_url = excluded.invoice_url, deleted = FALSE,
                   fetched_at = excluded.fetched_at, updated_at = excluded.updated_at
               WHERE payments.subscription_id = excluded.subscription_id
                 AND payments.fetched_at <= excluded.fetched_at";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(Uuid::now_v7()).bind(p.account_id).bind(p.subscription_id).bind(p.asaas_id)
        .bind(p.value_cents).bind(p.status).bind(p.billing_type).bind(p.due_date)
        .bind(p.paid_at).bind(p.invoice_url).bind(now).bind(p.fetched_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Marks the subscription's payments `gone` as deleted: Asaas no longer had them when
/// asked at `fetched_at`; a payment stored from a later read is left as it is.
pub async fn delete_payments(
    tx: &mut Tx,
    subscription_id: Uuid,
    gone: &[String],
    fetched_at: i64,
) -> AppResult<()> {
    let sql = "UPDATE payments SET deleted = TRUE, fetched_at = $3, updated_at = $4
               WHERE subscription_id = $1 AND asaas_id = $2 AND NOT deleted
                 AND fetched_at <= $3";
    let now = crate::platform::clock::now();
    for asaas_id in gone {
        on_tx!(tx, c => sqlx::query(sql).bind(subscription_id).bind(asaas_id).bind(fetched_at).bind(now)
            .execute(c).await?.rows_affected());
    }
    Ok(())
}

macro_rules! payment_columns {
    () => {
        "id, asaas_id, value_cents, status, billing_type, due_date,
                               paid_at, invoice_url, subscription_id"
    };
}

fn with_value(mut payment: Payment) -> Payment {
    payment.value = money::format(payment.value_cents);
    payment
}

/// The subscription's payments Asaas still has, oldest due first.
pub async fn payments_of(
    conn: impl Into<Conn<'_>>,
    subscription_id: Uuid,
) -> AppResult<Vec<Payment>> {
    let sql = concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE subscription_id = $1 AND NOT deleted
         ORDER BY due_date, id"
    );
    let rows: Vec<Payment> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(subscription_id).fetch_all(pool).await?);
    Ok(rows.into_iter().map(with_value).collect())
}

/// The account's payments, newest first, a page at a time.
pub async fn payments_page(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    page: PageRequest,
) -> AppResult<Vec<Payment>> {
    let sql = concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE account_id = $1 AND id < $2 AND NOT deleted
         ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<Payment> = on_conn!(conn.into(), pool => sqlx::query_as(sql)
        .bind(account_id).bind(page.after.unwrap_or(Uuid::max())).bind(page.fetch_limit())
        .fetch_all(pool).await?);
    Ok(rows.into_iter().map(with_value).collect())
}

pub async fn payment(
    conn: impl Into<Conn<'_>>,
    account_id: Uuid,
    id: Uuid,
) -> AppResult<Option<Payment>> {
    let sql = concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments WHERE account_id = $1 AND id = $2 AND NOT deleted"
    );
    let row: Option<Payment> = on_conn!(conn.into(), pool =>
        sqlx::query_as(sql).bind(account_id).bind(id).fetch_optional(pool).await?);
    Ok(row.map(with_value))
}

/// The account's Asaas customer.
pub async fn customer(conn: impl Into<Conn<'_>>, account_id: Uuid) -> AppResult<Option<String>> {
    let sql = "SELECT asaas_id FROM billing_customers WHERE account_id = $1";
    Ok(on_conn!(conn.into(), pool =>
        sqlx::query_scalar(sql).bind(account_id).fetch_optional(pool).await?))
}

pub struct CustomerRecord<'a> {
    pub account_id: Uuid,
    pub asaas_id: &'a str,
    pub name: &'a str,
    pub cpf_cnpj: &'a str,
    pub email: &'a str,
    pub mobile_phone: Option<&'a str>,
}

pub async fn save_customer(
    tx: &mut Tx,
    c: &CustomerRecord<'_>,
    now: OffsetDateTime,
) -> AppResult<()> {
    let sql = "INSERT INTO billing_customers (account_id, asaas_id, name, cpf_cnpj, email,
                   mobile_phone, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
               ON CONFLICT (account_id) DO UPDATE SET asaas_id = excluded.asaas_id,
                   name = excluded.name, cpf_cnpj = excluded.cpf_cnpj, email = excluded.email,
                   mobile_phone = excluded.mobile_phone, updated_at = excluded.updated_at";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(c.account_id).bind(c.asaas_id).bind(c.name).bind(c.cpf_cnpj).bind(c.email)
        .bind(c.mobile_phone).bind(now).execute(conn).await?.rows_affected());
    Ok(())
}

/// The subscription a payment of ours belongs to.
pub async fn payment_subscription(
    conn: impl Into<Conn<'_>>,
    asaas_id: &str,
) -> AppResult<Option<Uuid>> {
    let sql = "SELECT subscription_id FROM payments WHERE asaas_id = $1";
    Ok(on_conn!(conn.into(), pool =>
        sqlx::query_scalar(sql).bind(asaas_id).fetch_optional(pool).await?))
}
